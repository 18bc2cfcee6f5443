// SPDX-License-Identifier: GPL-2.0
/* Holds the scheduler's preempt-notifier static key on while it is loaded, as a KVM VM does
 * (kvm_create_vm calls preempt_notifier_inc). tests/lab/guest-init.sh loads it at boot, so that
 * the first and last VM of a lab test no longer switch the key: each switch patches __schedule on
 * every CPU through int3 breakpoints, and multi-threaded TCG can run a stale copy of such a
 * breakpoint (tests/lab/README.md, "TCG and the guest kernel's text patching"). */
#include <linux/module.h>
#include <linux/preempt.h>

static int __init nv_lab_hold_init(void)
{
	preempt_notifier_inc();
	return 0;
}

static void __exit nv_lab_hold_exit(void)
{
	preempt_notifier_dec();
}

module_init(nv_lab_hold_init);
module_exit(nv_lab_hold_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("numavd lab: holds the preempt-notifier static key on");
