// SPDX-License-Identifier: GPL-2.0
/* INFO, SLOTS and HARVEST on an attached VM. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpufeature.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <asm/processor.h>

#include "numavd_ept.h"
#include "numavd_ept_param.h"

/* TDP and accessed bits: from the vendor module's parameters where the VM file names that module
 * (f_op->owner, set since 6.4; the module's name tells AMD from Intel, whatever the CPU's vendor
 * string says: kvm_intel also runs on Zhaoxin and Centaur). On older kernels from what struct kvm
 * shows (6.1: the TDP MMU is in use only with TDP), for NPT only: NPT always has accessed bits,
 * while whether EPT's are in use (kvm_intel's eptad) is not visible from here, so an Intel host
 * reports nothing rather than "no accessed bits". Without either, the TDP/AD flags stay clear and
 * TDP_KNOWN says so. */
static u32 nv_ept_paging_flags(struct nv_ept_file *f)
{
	bool amd = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
		   boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;
	u32 flags;

	if (f->vendor)
		amd = strcmp(module_name(f->vendor), "kvm_amd") == 0;
	flags = amd ? NUMAVD_EPT_INFO_AMD : NUMAVD_EPT_INFO_INTEL;
	if (f->vendor) {
		flags |= NUMAVD_EPT_INFO_TDP_KNOWN;
		if (amd && nv_ept_module_param_bool(f->vendor, NV_EPT_PARAM_AMD_NPT, false))
			flags |= NUMAVD_EPT_INFO_TDP | NUMAVD_EPT_INFO_AD_BITS;
		if (!amd && nv_ept_module_param_bool(f->vendor, NV_EPT_PARAM_INTEL_EPT, false)) {
			flags |= NUMAVD_EPT_INFO_TDP;
			if (nv_ept_module_param_bool(f->vendor, NV_EPT_PARAM_INTEL_EPTAD, false))
				flags |= NUMAVD_EPT_INFO_AD_BITS;
		}
		return flags;
	}
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
	if (amd && f->kvm->arch.tdp_mmu_enabled)
		flags |= NUMAVD_EPT_INFO_TDP | NUMAVD_EPT_INFO_TDP_KNOWN | NUMAVD_EPT_INFO_AD_BITS;
#endif
	return flags;
}

bool nv_ept_protected(struct kvm *kvm)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;

	/* 6.8+ names the VM types; a guest made SEV by the older KVM_SEV_INIT on a default VM
	 * is not told apart from here (a plain SEV guest has no other mark a module can read). */
#ifdef KVM_X86_SEV_VM
	if (kvm->arch.vm_type == KVM_X86_SEV_VM)
		return true;
#endif
#ifdef KVM_X86_SEV_ES_VM
	if (kvm->arch.vm_type == KVM_X86_SEV_ES_VM)
		return true;
#endif
#ifdef KVM_X86_SNP_VM
	if (kvm->arch.vm_type == KVM_X86_SNP_VM)
		return true;
#endif
	/* SEV-ES and SNP vCPUs, on every kernel */
	kvm_for_each_vcpu(i, vcpu, kvm) if (vcpu->arch.guest_state_protected) return true;
	return false;
}

long nv_ept_info(struct nv_ept_file *f, void __user *arg)
{
	struct numavd_ept_info info = {};
	struct kvm *kvm = f->kvm;
	struct kvm_memory_slot *slot;
	int as, bkt, idx;

	info.flags = nv_ept_paging_flags(f);
	if (boot_cpu_has(X86_FEATURE_HYPERVISOR))
		info.flags |= NUMAVD_EPT_INFO_HYPERVISOR;
	if (atomic_read(&kvm->mm->mm_users) > 0)
		info.flags |= NUMAVD_EPT_INFO_VM_ALIVE;
	info.nr_vcpus = atomic_read(&kvm->online_vcpus);
	if (nv_ept_protected(kvm))
		info.flags |= NUMAVD_EPT_INFO_PROTECTED;
	else if (nv_ept_can_zap(kvm))
		info.flags |= NUMAVD_EPT_INFO_FAULTS | NUMAVD_EPT_INFO_REARM;

	idx = srcu_read_lock(&kvm->srcu);
	for (as = 0; as < NV_NR_AS(kvm); as++)
		kvm_for_each_memslot(slot, bkt, __kvm_memslots(kvm, as))
			info.nr_slots++;
	srcu_read_unlock(&kvm->srcu, idx);

	info.harvests = f->harvests;
	info.blocks_young = f->blocks_young;
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

long nv_ept_slots(struct nv_ept_file *f, void __user *arg)
{
	struct numavd_ept_slots req;
	struct numavd_ept_slot *buf = NULL;
	struct kvm *kvm = f->kvm;
	struct kvm_memory_slot *slot;
	u32 cap, n = 0, total = 0;
	int as, bkt, idx;
	long r = 0;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	cap = min_t(u32, req.capacity, NUMAVD_EPT_MAX_SLOTS);
	if (cap) {
		buf = kvcalloc(cap, sizeof(*buf), GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
	}

	idx = srcu_read_lock(&kvm->srcu);
	for (as = 0; as < NV_NR_AS(kvm); as++) {
		kvm_for_each_memslot(slot, bkt, __kvm_memslots(kvm, as)) {
			total++;
			if (n >= cap)
				continue;
			buf[n] = (struct numavd_ept_slot){
				.as_id = as,
				.id = slot->id,
				.gpa = (u64)slot->base_gfn << PAGE_SHIFT,
				.pages = slot->npages,
				.hva = slot->userspace_addr,
			};
			if (slot->flags & KVM_MEM_LOG_DIRTY_PAGES)
				buf[n].flags |= NUMAVD_EPT_SLOT_LOG_DIRTY;
			if (slot->flags & KVM_MEM_READONLY)
				buf[n].flags |= NUMAVD_EPT_SLOT_READONLY;
			if (slot->id >= KVM_USER_MEM_SLOTS)
				buf[n].flags |= NUMAVD_EPT_SLOT_INTERNAL;
			n++;
		}
	}
	srcu_read_unlock(&kvm->srcu, idx);

	if (n && copy_to_user(u64_to_user_ptr(req.slots), buf, array_size(n, sizeof(*buf))))
		r = -EFAULT;
	req.nr = total;
	if (!r && copy_to_user(arg, &req, sizeof(req)))
		r = -EFAULT;
	kvfree(buf);
	return r;
}

/* Check every range; the total number of blocks, or -EINVAL. */
static long nv_ept_check_ranges(const struct numavd_ept_range *rs, u32 nr)
{
	u64 total = 0;
	u32 i;

	for (i = 0; i < nr; i++) {
		const struct numavd_ept_range *rg = &rs[i];
		u64 len, end;

		if (rg->shift != NUMAVD_EPT_SHIFT_4K && rg->shift != NUMAVD_EPT_SHIFT_2M)
			return -EINVAL;
		if (rg->__pad[0] | rg->__pad[1] | rg->__pad[2])
			return -EINVAL;
		if (rg->blocks == 0 || rg->blocks > NUMAVD_EPT_MAX_BLOCKS)
			return -EINVAL;
		if (rg->start & ((1ULL << rg->shift) - 1))
			return -EINVAL;
		len = (u64)rg->blocks << rg->shift;
		if (check_add_overflow(rg->start, len, &end) || end > TASK_SIZE_MAX)
			return -EINVAL;
		total += rg->blocks;
		if (total > NUMAVD_EPT_MAX_BLOCKS)
			return -EINVAL;
	}
	return total;
}

/* One block through KVM's MMU notifier callbacks: 1 if its accessed bits were set. */
static int nv_ept_age(struct kvm *kvm, struct mm_struct *mm, unsigned long start,
		      unsigned int shift, u32 flags)
{
	struct mmu_notifier *mn = &kvm->mmu_notifier;
	unsigned long end = start + (1UL << shift), a;

	if (flags & NUMAVD_EPT_HARVEST_TEST) {
		for (a = start; a < end; a += PAGE_SIZE)
			if (mn->ops->test_young(mn, mm, a))
				return 1;
		return 0;
	}
	if (flags & NUMAVD_EPT_HARVEST_FLUSH)
		return !!mn->ops->clear_flush_young(mn, mm, start, end);
	return !!mn->ops->clear_young(mn, mm, start, end);
}

long nv_ept_harvest(struct nv_ept_file *f, void __user *arg)
{
	const u32 known = NUMAVD_EPT_HARVEST_FLUSH | NUMAVD_EPT_HARVEST_TEST;
	struct numavd_ept_harvest h;
	struct numavd_ept_range *rs;
	const struct mmu_notifier_ops *ops;
	struct kvm *kvm = f->kvm;
	struct mm_struct *mm = kvm->mm;
	u8 *bits = NULL;
	u32 i, k, n = 0, young = 0, bytes;
	long total, r = 0;

	if (copy_from_user(&h, arg, sizeof(h)))
		return -EFAULT;
	if ((h.flags & ~known) || (h.flags & known) == known || h.__pad)
		return -EINVAL;
	if (h.nr_ranges == 0 || h.nr_ranges > NUMAVD_EPT_MAX_RANGES)
		return -EINVAL;

	ops = kvm->mmu_notifier.ops;
	if (!ops || !ops->test_young || !ops->clear_young || !ops->clear_flush_young)
		return -EOPNOTSUPP;

	rs = vmemdup_user(u64_to_user_ptr(h.ranges), array_size(h.nr_ranges, sizeof(*rs)));
	if (IS_ERR(rs))
		return PTR_ERR(rs);
	total = nv_ept_check_ranges(rs, h.nr_ranges);
	if (total < 0) {
		r = total;
		goto out;
	}
	bytes = DIV_ROUND_UP((u32)total, 8);
	if (h.bitmap_bytes < bytes) {
		r = -EINVAL;
		goto out;
	}
	bits = kvzalloc(bytes, GFP_KERNEL);
	if (!bits) {
		r = -ENOMEM;
		goto out;
	}

	/* The VMM may have exited: its address space is gone, only struct kvm is left. */
	if (!mmget_not_zero(mm)) {
		r = -ESRCH;
		goto out;
	}
	for (i = 0; i < h.nr_ranges && !r; i++) {
		for (k = 0; k < rs[i].blocks; k++, n++) {
			unsigned long start = rs[i].start + ((unsigned long)k << rs[i].shift);

			if (nv_ept_age(kvm, mm, start, rs[i].shift, h.flags)) {
				bits[n / 8] |= 1U << (n % 8);
				young++;
			}
			if ((n & 63) == 63) {
				cond_resched();
				if (fatal_signal_pending(current)) {
					r = -EINTR;
					break;
				}
			}
		}
	}
	mmput(mm);
	if (r)
		goto out;

	f->harvests++;
	f->blocks_young += young;
	if (copy_to_user(u64_to_user_ptr(h.bitmap), bits, bytes)) {
		r = -EFAULT;
		goto out;
	}
	h.nr_blocks = n;
	h.nr_young = young;
	h.flags &= known; /* the variant that ran */
	if (copy_to_user(arg, &h, sizeof(h)))
		r = -EFAULT;
out:
	kvfree(bits);
	kvfree(rs);
	return r;
}
