// SPDX-License-Identifier: GPL-2.0
/*
 * numavd_ept: tells numavd which guest memory a KVM VM accessed, through the accessed bits of the
 * VM's second-level page tables (EPT/NPT). The kernel's own page aging reaches those bits through
 * the MMU notifier KVM registers on the VMM's mm (clear_young, clear_flush_young, test_young);
 * that path is not exported to modules, but KVM's callbacks are reachable from struct kvm, and
 * the VM fd the daemon hands over (pidfd_getfd) gives us the struct kvm and a reference on it.
 *
 * Device: /dev/numavd_ept (root only, CAP_SYS_ADMIN for every call). One VM per open file; the
 * reference on the VM and on KVM's vendor module are dropped when the file is closed. ZAP and
 * DRAIN (numavd_ept_fault.c) tell which vCPU touches which memory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "numavd_ept.h"

static int nv_ept_open(struct inode *inode, struct file *file)
{
	struct nv_ept_file *f;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	file->private_data = f;
	return 0;
}

static int nv_ept_release(struct inode *inode, struct file *file)
{
	struct nv_ept_file *f = file->private_data;

	nv_ept_record_stop(f);
	if (f->kvm) {
		kvm_put_kvm(f->kvm);
		module_put(f->vendor);
	}
	mutex_destroy(&f->lock);
	kfree(f);
	return 0;
}

/* Is this file a KVM VM (what KVM_CREATE_VM returned)? KVM exports exactly that test. */
static bool nv_ept_is_vm_file(struct file *vm_file)
{
	return file_is_kvm(vm_file) && vm_file->private_data;
}

static long nv_ept_attach(struct nv_ept_file *f, void __user *arg)
{
	struct numavd_ept_attach a;
	struct file *vm_file;
	struct module *vendor;
	long r = 0;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.flags)
		return -EINVAL;
	if (f->kvm)
		return -EBUSY;
	if (a.vm_fd < 0)
		return -EBADF;

	vm_file = fget(a.vm_fd);
	if (!vm_file)
		return -EBADF;
	if (!nv_ept_is_vm_file(vm_file)) {
		r = -EINVAL;
		goto out;
	}
	/* struct kvm pins KVM's vendor module itself (kvm_create_vm), so our reference on the VM
	 * keeps kvm_amd/kvm_intel loaded. Since 6.4 the VM file also names that module in
	 * f_op->owner (NULL before): we pin it too, and INFO reads its parameters. */
	vendor = vm_file->f_op->owner;
	if (!try_module_get(vendor)) {
		r = -ENODEV;
		goto out;
	}
	f->vendor = vendor;
	f->kvm = vm_file->private_data;
	kvm_get_kvm(f->kvm);
out:
	fput(vm_file);
	return r;
}

static long nv_ept_version(void __user *arg)
{
	struct numavd_ept_version v = {
		.major = NUMAVD_EPT_ABI_MAJOR,
		.minor = NUMAVD_EPT_ABI_MINOR,
		.max_ranges = NUMAVD_EPT_MAX_RANGES,
		.max_blocks = NUMAVD_EPT_MAX_BLOCKS,
	};

	return copy_to_user(arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long nv_ept_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	struct nv_ept_file *f = file->private_data;
	void __user *arg = (void __user *)uarg;
	long r;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (cmd == NUMAVD_EPT_IOC_VERSION)
		return nv_ept_version(arg);

	if (mutex_lock_killable(&f->lock))
		return -EINTR;
	switch (cmd) {
	case NUMAVD_EPT_IOC_ATTACH:
		r = nv_ept_attach(f, arg);
		break;
	case NUMAVD_EPT_IOC_INFO:
		r = f->kvm ? nv_ept_info(f, arg) : -ENOTCONN;
		break;
	case NUMAVD_EPT_IOC_SLOTS:
		r = f->kvm ? nv_ept_slots(f, arg) : -ENOTCONN;
		break;
	case NUMAVD_EPT_IOC_HARVEST:
		r = f->kvm ? nv_ept_harvest(f, arg) : -ENOTCONN;
		break;
	case NUMAVD_EPT_IOC_ZAP:
		r = f->kvm ? nv_ept_zap(f, arg) : -ENOTCONN;
		break;
	case NUMAVD_EPT_IOC_DRAIN:
		r = f->kvm ? nv_ept_drain(f, arg) : -ENOTCONN;
		break;
	default:
		r = -ENOTTY;
	}
	mutex_unlock(&f->lock);
	return r;
}

static const struct file_operations nv_ept_fops = {
	.owner = THIS_MODULE,
	.open = nv_ept_open,
	.release = nv_ept_release,
	.unlocked_ioctl = nv_ept_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice nv_ept_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "numavd_ept",
	.fops = &nv_ept_fops,
	.mode = 0600,
};

static int __init nv_ept_init(void)
{
	int r = misc_register(&nv_ept_dev);

	if (r)
		return r;
	pr_info("ABI %u.%u ready\n", NUMAVD_EPT_ABI_MAJOR, NUMAVD_EPT_ABI_MINOR);
	return 0;
}

static void __exit nv_ept_exit(void)
{
	misc_deregister(&nv_ept_dev);
}

module_init(nv_ept_init);
module_exit(nv_ept_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("numavd: KVM second-level page table access bits for NUMA placement");
MODULE_AUTHOR("numavd developers");
MODULE_VERSION("1.1");
