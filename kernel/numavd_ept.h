/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NUMAVD_EPT_INTERNAL_H
#define NUMAVD_EPT_INTERNAL_H

#include <linux/kvm_host.h>
#include <linux/mutex.h>
#include <uapi/numavd_ept.h>

/* One open file of /dev/numavd_ept: at most one VM. */
struct nv_ept_file {
	struct mutex lock; /* serialises the ioctls of this file */
	struct kvm *kvm; /* a reference (kvm_get_kvm), or NULL before ATTACH */
	struct module *vendor; /* kvm_amd / kvm_intel (NULL before 6.4), held while kvm is held */
	u64 harvests;
	u64 blocks_young;
};

/* numavd_ept_ops.c; all called with f->lock held and f->kvm set. */
long nv_ept_info(struct nv_ept_file *f, void __user *arg);
long nv_ept_slots(struct nv_ept_file *f, void __user *arg);
long nv_ept_harvest(struct nv_ept_file *f, void __user *arg);

#endif
