/* SPDX-License-Identifier: GPL-2.0 */
#ifndef NUMAVD_EPT_INTERNAL_H
#define NUMAVD_EPT_INTERNAL_H

#include <linux/kvm_host.h>
#include <linux/mutex.h>
#include <uapi/numavd_ept.h>

#ifdef KVM_MAX_NR_ADDRESS_SPACES /* 6.8+ */
#define NV_NR_AS(kvm) kvm_arch_nr_memslot_as_ids(kvm)
#else
#define NV_NR_AS(kvm) KVM_ADDRESS_SPACE_NUM
#endif

struct nv_ept_recorder;

/* One open file of /dev/numavd_ept: at most one VM. */
struct nv_ept_file {
	struct mutex lock; /* serialises the ioctls of this file */
	struct kvm *kvm; /* a reference (kvm_get_kvm), or NULL before ATTACH */
	struct module *vendor; /* kvm_amd / kvm_intel (NULL before 6.4), held while kvm is held */
	u64 harvests;
	u64 blocks_young;
	struct nv_ept_recorder *rec; /* faults of zapped blocks (numavd_ept_fault.c), or NULL */
};

/* numavd_ept_ops.c; all called with f->lock held and f->kvm set. */
long nv_ept_info(struct nv_ept_file *f, void __user *arg);
long nv_ept_slots(struct nv_ept_file *f, void __user *arg);
long nv_ept_harvest(struct nv_ept_file *f, void __user *arg);
/* The VM's memory is encrypted (SEV, SEV-ES, SNP), as far as a module can tell. */
bool nv_ept_protected(struct kvm *kvm);

/* numavd_ept_fault.c; ZAP and DRAIN with f->lock held and f->kvm set, stop with f->lock held or
 * from release. */
long nv_ept_zap(struct nv_ept_file *f, void __user *arg);
long nv_ept_drain(struct nv_ept_file *f, void __user *arg);
void nv_ept_record_stop(struct nv_ept_file *f);
bool nv_ept_can_zap(struct kvm *kvm);

#endif
