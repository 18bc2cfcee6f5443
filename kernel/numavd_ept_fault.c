// SPDX-License-Identifier: GPL-2.0
/*
 * ZAP and DRAIN: which vCPU touches which guest memory.
 *
 * ZAP makes host-virtual ranges of the attached VM non-present in its second-level page tables
 * through KVM's own MMU notifier callbacks (invalidate_range_start, then _end over the same
 * range), as the kernel does when it unmaps or migrates a page; the VMM's page tables are left
 * alone and no data moves. The next guest access to such a block exits to KVM, which maps it
 * again from the intact host page table, and fires the kvm_page_fault tracepoint in the thread of
 * the vCPU that made the access. A probe on that tracepoint records the first fault on each
 * zapped block (vCPU index, guest-physical block, CPU, time) in the file's ring; DRAIN copies the
 * records out. With NUMAVD_EPT_ZAP_REARM, a work item zaps each block once more right after its
 * first fault, and the probe records the second fault too when another vCPU makes it.
 *
 * The tracepoint is not in the installed headers (arch/x86/kvm/trace.h is not shipped), so it is
 * declared here with exactly KVM's prototype; register_trace_kvm_page_fault() then resolves to the
 * tracepoint kvm.ko exports. It fires in vmx.c handle_ept_violation and svm.c npf_interception
 * with the faulting guest-physical address, and in kvm_handle_page_fault (shadow paging) with a
 * guest-virtual one, which matches no zapped block but by chance. The probe runs in the vCPU's
 * thread with preemption disabled, for every VM on the host.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include "numavd_ept.h"

DECLARE_TRACE(kvm_page_fault, TP_PROTO(struct kvm_vcpu *vcpu, u64 fault_address, u64 error_code),
	      TP_ARGS(vcpu, fault_address, error_code));

/* The pending table: open addressing, one u64 per slot, twice as many slots as keys. A slot holds
 * a block's key in its low NV_KEY_BITS bits (gfn << 6 | shift: 40 + 6 bits for 52-bit
 * guest-physical addresses) and, above them, what re-arming needs: NV_SLOT_REARM while the block
 * is to be zapped again after its first fault, and from that fault on the vCPU that made it. */
#define NV_PENDING_BITS 16
#define NV_PENDING_SLOTS (1U << NV_PENDING_BITS)
#define NV_SLOT_EMPTY 0ULL
#define NV_SLOT_GONE 1ULL /* a key that was claimed: lookups go on past it */
#define NV_KEY_BITS 46
#define NV_KEY_MASK ((1ULL << NV_KEY_BITS) - 1)
#define NV_SLOT_VCPU_SHIFT NV_KEY_BITS /* 16 bits: index + 1 of the first fault's vCPU, 0 none */
#define NV_SLOT_VCPU_MAX 0xffffU
#define NV_SLOT_REARM (1ULL << 63)
/* Blocks waiting to be zapped again; a block that finds the queue full is not re-armed. */
#define NV_REARM_QUEUE 1024
#define NV_INSERT_BATCH 256 /* keys inserted per hold of the recorder's lock */
/* Bytes invalidated at once. While an invalidation runs, KVM makes every vCPU fault in its range
 * retry; in small steps each vCPU waits for one step at most, not for the whole range. */
#define NV_ZAP_CHUNK (2UL << 20)

/* The recording state of one file. lock is a raw spinlock: the probe takes it with preemption
 * disabled, in the vCPU thread; nothing takes it in interrupt context. */
struct nv_ept_recorder {
	struct list_head node; /* in nv_ept_recorders, under RCU */
	struct kvm *kvm;
	raw_spinlock_t lock;
	u64 *pending; /* NV_PENDING_SLOTS keys of zapped blocks waiting for a fault to record */
	u32 live; /* keys in pending */
	u32 used; /* slots not empty (keys and claimed ones) */
	struct numavd_ept_fault *ring;
	u32 ring_size, head, count;
	u64 dropped; /* since the last DRAIN */
	/* Keys of blocks to zap again, and rearm_work, which zaps them as soon as a worker runs:
	 * two vCPUs sweeping the same memory one behind the other touch each block a lag apart, and
	 * only a zap within that lag hears the second. The price: a zap that comes while the first
	 * fault is still under way makes that vCPU retry, its retry is its own (not recorded), and
	 * the block is not re-armed that time. */
	u64 rearm[NV_REARM_QUEUE];
	u32 nr_rearm;
	u64 rearm_hva[NV_REARM_QUEUE]; /* rearm_work's own copy, as host-virtual addresses */
	struct work_struct rearm_work;
};

static LIST_HEAD(nv_ept_recorders);
static DEFINE_MUTEX(nv_ept_recorders_mutex); /* registration and the list's writers */
static unsigned int nv_ept_nr_recorders;

/* A block's key: never NV_SLOT_EMPTY or NV_SLOT_GONE, since shift >= 12. */
static inline u64 nv_key(u64 gpa, unsigned int shift)
{
	return (gpa >> shift) << 6 | shift;
}

/* The slot holding key (the low NV_KEY_BITS of key), or NULL. Called with rec->lock held. */
static u64 *nv_pending_find(struct nv_ept_recorder *rec, u64 key)
{
	u32 i, n;

	key &= NV_KEY_MASK;
	for (n = 0, i = hash_64(key, NV_PENDING_BITS); n < NV_PENDING_SLOTS;
	     n++, i = (i + 1) & (NV_PENDING_SLOTS - 1)) {
		if ((rec->pending[i] & NV_KEY_MASK) == key)
			return &rec->pending[i];
		if (rec->pending[i] == NV_SLOT_EMPTY)
			return NULL;
	}
	return NULL;
}

/* Add the slot value v (a key and its re-arm state); a slot with the same key takes v's state.
 * The caller keeps used below NV_PENDING_SLOTS * 3 / 4, so there is always an empty slot. Called
 * with rec->lock held. */
static void nv_pending_insert(struct nv_ept_recorder *rec, u64 *table, u64 v)
{
	u64 key = v & NV_KEY_MASK, *reuse = NULL;
	u32 i = hash_64(key, NV_PENDING_BITS), n;

	for (n = 0; n < NV_PENDING_SLOTS; n++, i = (i + 1) & (NV_PENDING_SLOTS - 1)) {
		if ((table[i] & NV_KEY_MASK) == key) {
			table[i] = v;
			return;
		}
		if (table[i] == NV_SLOT_GONE && !reuse)
			reuse = &table[i];
		if (table[i] == NV_SLOT_EMPTY)
			break;
	}
	if (!reuse) {
		reuse = &table[i];
		rec->used++;
	}
	*reuse = v;
	rec->live++;
}

/* Append a record of vcpu's fault on the block of gpa at shift, or count it dropped. Called with
 * rec->lock held. */
static void nv_ept_ring_push(struct nv_ept_recorder *rec, struct kvm_vcpu *vcpu, u64 gpa,
			     unsigned int shift)
{
	if (rec->count < rec->ring_size) {
		struct numavd_ept_fault *e = &rec->ring[(rec->head + rec->count) % rec->ring_size];

		*e = (struct numavd_ept_fault){
			.gpa = gpa & ~((1ULL << shift) - 1),
			.time_ns = ktime_get_ns(),
			.vcpu = vcpu->vcpu_idx,
			.cpu = raw_smp_processor_id(),
			.shift = shift,
		};
		rec->count++;
	} else {
		rec->dropped++;
	}
}

/* A fault of vcpu at gpa: when gpa lies in a zapped block, record the fault unless the block's
 * first fault was vcpu's own (a re-armed block), then re-arm the block or forget it. */
static void nv_ept_record(struct nv_ept_recorder *rec, struct kvm_vcpu *vcpu, u64 gpa)
{
	static const unsigned int shifts[] = {NUMAVD_EPT_SHIFT_4K, NUMAVD_EPT_SHIFT_2M};
	u32 self = vcpu->vcpu_idx + 1;
	unsigned long flags;
	unsigned int i;
	u64 *slot = NULL, v;
	bool rearm = false;

	raw_spin_lock_irqsave(&rec->lock, flags);
	for (i = 0; i < ARRAY_SIZE(shifts) && !slot && rec->live; i++)
		slot = nv_pending_find(rec, nv_key(gpa, shifts[i]));
	if (slot) {
		v = *slot;
		rearm = (v & NV_SLOT_REARM) && self <= NV_SLOT_VCPU_MAX &&
			rec->nr_rearm < NV_REARM_QUEUE;
		if (rearm) {
			rec->rearm[rec->nr_rearm++] = v & NV_KEY_MASK;
			*slot = (v & NV_KEY_MASK) | (u64)self << NV_SLOT_VCPU_SHIFT;
		} else {
			*slot = NV_SLOT_GONE;
			rec->live--;
		}
		if (((v >> NV_SLOT_VCPU_SHIFT) & NV_SLOT_VCPU_MAX) != self)
			nv_ept_ring_push(rec, vcpu, gpa, shifts[i - 1]);
	}
	raw_spin_unlock_irqrestore(&rec->lock, flags);
	if (rearm) /* a no-op while the work is pending: it takes the whole queue */
		queue_work(system_wq, &rec->rearm_work);
}

static void nv_ept_fault_probe(void *data, struct kvm_vcpu *vcpu, u64 fault_address, u64 error_code)
{
	struct nv_ept_recorder *rec;

	rcu_read_lock();
	list_for_each_entry_rcu(rec, &nv_ept_recorders, node) if (rec->kvm == vcpu->kvm)
		nv_ept_record(rec, vcpu, fault_address);
	rcu_read_unlock();
}

static void nv_ept_recorder_free(struct nv_ept_recorder *rec)
{
	if (!rec)
		return;
	kvfree(rec->pending);
	kvfree(rec->ring);
	kvfree(rec);
}

static void nv_ept_rearm_work(struct work_struct *work);

/* Start recording the faults of f's VM; the probe is registered with the first recorder. */
static int nv_ept_record_start(struct nv_ept_file *f, u32 ring_size)
{
	struct nv_ept_recorder *rec;
	int r = 0;

	rec = kvzalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return -ENOMEM;
	raw_spin_lock_init(&rec->lock);
	INIT_WORK(&rec->rearm_work, nv_ept_rearm_work);
	rec->kvm = f->kvm;
	rec->ring_size = ring_size;
	rec->ring = kvcalloc(ring_size, sizeof(*rec->ring), GFP_KERNEL);
	rec->pending = kvcalloc(NV_PENDING_SLOTS, sizeof(*rec->pending), GFP_KERNEL);
	if (!rec->ring || !rec->pending) {
		nv_ept_recorder_free(rec);
		return -ENOMEM;
	}

	mutex_lock(&nv_ept_recorders_mutex);
	if (nv_ept_nr_recorders == 0)
		r = register_trace_kvm_page_fault(nv_ept_fault_probe, NULL);
	if (r == 0) {
		list_add_rcu(&rec->node, &nv_ept_recorders);
		nv_ept_nr_recorders++;
	}
	mutex_unlock(&nv_ept_recorders_mutex);
	if (r) {
		pr_warn("cannot register a probe on kvm_page_fault: %d\n", r);
		nv_ept_recorder_free(rec);
		return r;
	}
	f->rec = rec;
	return 0;
}

void nv_ept_record_stop(struct nv_ept_file *f)
{
	struct nv_ept_recorder *rec = f->rec;

	if (!rec)
		return;
	mutex_lock(&nv_ept_recorders_mutex);
	list_del_rcu(&rec->node);
	if (--nv_ept_nr_recorders == 0)
		unregister_trace_kvm_page_fault(nv_ept_fault_probe, NULL);
	mutex_unlock(&nv_ept_recorders_mutex);
	/* No probe runs any more, and none still walks the list past rec: none queues its work. */
	tracepoint_synchronize_unregister();
	cancel_work_sync(&rec->rearm_work);
	f->rec = NULL;
	nv_ept_recorder_free(rec);
}

/* Check the ranges of a ZAP; the total number of blocks, or -EINVAL. */
static long nv_ept_check_zap_ranges(const struct numavd_ept_range *rs, u32 nr)
{
	u64 total = 0;
	u32 i;

	for (i = 0; i < nr; i++) {
		const struct numavd_ept_range *rg = &rs[i];
		u64 end;

		if (rg->shift != NUMAVD_EPT_SHIFT_4K && rg->shift != NUMAVD_EPT_SHIFT_2M)
			return -EINVAL;
		if (rg->__pad[0] | rg->__pad[1] | rg->__pad[2])
			return -EINVAL;
		if (rg->blocks == 0 || rg->blocks > NUMAVD_EPT_MAX_ZAP_BLOCKS)
			return -EINVAL;
		if (rg->start & ((1ULL << rg->shift) - 1))
			return -EINVAL;
		if (check_add_overflow(rg->start, (u64)rg->blocks << rg->shift, &end) ||
		    end > TASK_SIZE_MAX)
			return -EINVAL;
		total += rg->blocks;
		if (total > NUMAVD_EPT_MAX_ZAP_BLOCKS)
			return -EINVAL;
	}
	return total;
}

/* The keys of the zapped blocks that lie in a memory slot, into keys (at most max: a block that
 * two address spaces map, as x86's SMM one does, counts once per slot); their number. A 2 MiB block
 * whose guest-physical address is not 2 MiB aligned (its slot is not) gets no key: KVM maps no huge
 * entry there, and its 4 KiB faults would match nothing. */
static u32 nv_ept_zap_keys(struct kvm *kvm, const struct numavd_ept_range *rs, u32 nr, u64 *keys,
			   u32 max)
{
	struct kvm_memory_slot *slot;
	u32 i, n = 0;
	int as, bkt, idx;

	idx = srcu_read_lock(&kvm->srcu);
	for (i = 0; i < nr; i++) {
		u64 start = rs[i].start, end = start + ((u64)rs[i].blocks << rs[i].shift);
		u64 bsize = 1ULL << rs[i].shift;

		for (as = 0; as < NV_NR_AS(kvm); as++) {
			kvm_for_each_memslot(slot, bkt, __kvm_memslots(kvm, as)) {
				u64 s_start = slot->userspace_addr;
				u64 s_end = s_start + ((u64)slot->npages << PAGE_SHIFT);
				u64 a = max(start, ALIGN(s_start, bsize));

				for (; a + bsize <= min(end, s_end) && n < max; a += bsize) {
					u64 gpa =
						((u64)slot->base_gfn << PAGE_SHIFT) + (a - s_start);

					if (gpa & (bsize - 1))
						continue;
					keys[n++] = nv_key(gpa, rs[i].shift);
				}
			}
		}
	}
	srcu_read_unlock(&kvm->srcu, idx);
	return n;
}

/* Add n (<= NUMAVD_EPT_MAX_PENDING) keys to the pending table. When the keys waiting already and
 * the new ones would exceed NUMAVD_EPT_MAX_PENDING, the waiting ones are forgotten first; when
 * claimed slots fill the table, it is rebuilt without them. Returns the number of keys
 * forgotten. A probe may claim keys meanwhile, never add one: the table keeps an empty slot. */
static u32 nv_ept_pending_add(struct nv_ept_recorder *rec, const u64 *keys, u32 n)
{
	u64 *fresh = NULL, *old = NULL;
	u32 forgotten = 0, fresh_keys = 0, live, i, j;
	bool rebuild;

	/* Keys waiting already cost no room: count the new ones. */
	for (i = 0; i < n; i += NV_INSERT_BATCH) {
		raw_spin_lock_irq(&rec->lock);
		for (j = i; j < min(n, i + NV_INSERT_BATCH); j++)
			fresh_keys += !nv_pending_find(rec, keys[j]);
		raw_spin_unlock_irq(&rec->lock);
	}
	raw_spin_lock_irq(&rec->lock);
	rebuild = rec->used + n > NV_PENDING_SLOTS / 4 * 3;
	raw_spin_unlock_irq(&rec->lock);
	if (rebuild) /* outside the lock; only ZAP (under f->lock) makes used grow */
		fresh = kvcalloc(NV_PENDING_SLOTS, sizeof(*fresh), GFP_KERNEL);

	raw_spin_lock_irq(&rec->lock);
	live = rec->live;
	if (live + fresh_keys > NUMAVD_EPT_MAX_PENDING || (rebuild && !fresh)) {
		memset(rec->pending, 0, NV_PENDING_SLOTS * sizeof(*rec->pending));
		rec->live = rec->used = 0;
		forgotten = live;
	} else if (rebuild) {
		old = rec->pending;
		rec->pending = fresh;
		fresh = NULL;
		rec->live = rec->used = 0;
		for (j = 0; j < NV_PENDING_SLOTS; j++)
			if (old[j] > NV_SLOT_GONE)
				nv_pending_insert(rec, rec->pending, old[j]);
	}
	raw_spin_unlock_irq(&rec->lock);
	kvfree(old);
	kvfree(fresh);

	for (i = 0; i < n; i += NV_INSERT_BATCH) {
		raw_spin_lock_irq(&rec->lock);
		for (j = i; j < min(n, i + NV_INSERT_BATCH); j++)
			nv_pending_insert(rec, rec->pending, keys[j]);
		raw_spin_unlock_irq(&rec->lock);
	}
	return forgotten;
}

/* Invalidate [start, end) in the VM's second-level page tables through KVM's own MMU notifier,
 * as the kernel's unmap and migration paths do; the caller holds a reference on mm. KVM takes its
 * own locks (srcu, mmu_lock, mn_invalidate_lock): the caller holds none of them. Between start and
 * end the vCPUs' faults in the range wait (and retry), so end follows at once. */
static int nv_ept_invalidate(struct kvm *kvm, struct mm_struct *mm, unsigned long start,
			     unsigned long end)
{
	struct mmu_notifier *mn = &kvm->mmu_notifier;
	struct mmu_notifier_range range;
	int r;

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, MMU_NOTIFIER_RANGE_BLOCKABLE, NULL, mm,
				start, end);
#else
	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, MMU_NOTIFIER_RANGE_BLOCKABLE, mm, start,
				end);
#endif
	r = mn->ops->invalidate_range_start(mn, &range);
	if (r)
		return r; /* KVM did not start: there is nothing to end */
	mn->ops->invalidate_range_end(mn, &range);
	return 0;
}

/* Zap the blocks of rec's re-arm queue once more. A block whose memory slot is gone meanwhile is
 * left alone; so is every block when the VMM's address space is. */
static void nv_ept_rearm_work(struct work_struct *work)
{
	struct nv_ept_recorder *rec = container_of(work, struct nv_ept_recorder, rearm_work);
	struct kvm *kvm = rec->kvm;
	u32 n, i;
	int idx;

	raw_spin_lock_irq(&rec->lock);
	n = rec->nr_rearm;
	memcpy(rec->rearm_hva, rec->rearm, n * sizeof(*rec->rearm));
	rec->nr_rearm = 0;
	raw_spin_unlock_irq(&rec->lock);
	if (n == 0 || !mmget_not_zero(kvm->mm))
		return;
	/* Keys to host-virtual addresses (aligned as their blocks are: nv_ept_zap_keys() keys only
	 * such blocks), the block's shift in the low bits. */
	idx = srcu_read_lock(&kvm->srcu);
	for (i = 0; i < n; i++) {
		unsigned int shift = rec->rearm_hva[i] & 63;
		unsigned long hva =
			gfn_to_hva(kvm, (rec->rearm_hva[i] >> 6) << (shift - PAGE_SHIFT));

		rec->rearm_hva[i] = kvm_is_error_hva(hva) ? 0 : hva | shift;
	}
	srcu_read_unlock(&kvm->srcu, idx);
	for (i = 0; i < n; i++) {
		unsigned long hva = rec->rearm_hva[i] & ~63UL;
		unsigned int shift = rec->rearm_hva[i] & 63;

		if (rec->rearm_hva[i])
			nv_ept_invalidate(kvm, kvm->mm, hva, hva + (1UL << shift));
		cond_resched();
	}
	mmput(kvm->mm);
}

/* What ZAP needs from the VM: KVM's invalidate callbacks, and memory that is not encrypted
 * (each invalidation of an SEV guest's memory flushes every CPU's caches). */
bool nv_ept_can_zap(struct kvm *kvm)
{
	const struct mmu_notifier_ops *ops = kvm->mmu_notifier.ops;

	return ops && ops->invalidate_range_start && ops->invalidate_range_end &&
	       !nv_ept_protected(kvm);
}

long nv_ept_zap(struct nv_ept_file *f, void __user *arg)
{
	struct numavd_ept_zap z;
	struct numavd_ept_range *rs = NULL;
	struct kvm *kvm = f->kvm;
	struct mm_struct *mm = kvm->mm;
	u64 *keys = NULL;
	u32 ring = 0, i, nkeys, forgotten;
	long total, r = 0;

	if (copy_from_user(&z, arg, sizeof(z)))
		return -EFAULT;
	if (z.__pad)
		return -EINVAL;
	if (z.flags == NUMAVD_EPT_ZAP_STOP) {
		if (z.nr_ranges || z.ranges || z.ring_size)
			return -EINVAL;
		nv_ept_record_stop(f);
		return 0;
	}
	if (z.flags & ~NUMAVD_EPT_ZAP_REARM)
		return -EINVAL;
	if (z.nr_ranges == 0 || z.nr_ranges > NUMAVD_EPT_MAX_RANGES)
		return -EINVAL;
	if (z.ring_size) {
		if (z.ring_size < NUMAVD_EPT_MIN_RING || z.ring_size > NUMAVD_EPT_MAX_RING)
			return -EINVAL;
		if (f->rec && f->rec->ring_size != z.ring_size)
			return -EINVAL;
	}
	if (!nv_ept_can_zap(kvm))
		return -EOPNOTSUPP;

	rs = vmemdup_user(u64_to_user_ptr(z.ranges), array_size(z.nr_ranges, sizeof(*rs)));
	if (IS_ERR(rs))
		return PTR_ERR(rs);
	total = nv_ept_check_zap_ranges(rs, z.nr_ranges);
	if (total < 0) {
		r = total;
		goto out;
	}
	keys = kvmalloc_array(total, sizeof(*keys), GFP_KERNEL);
	if (!keys) {
		r = -ENOMEM;
		goto out;
	}
	if (!f->rec) {
		ring = z.ring_size ?: NUMAVD_EPT_DEFAULT_RING;
		r = nv_ept_record_start(f, ring);
		if (r)
			goto out;
	}

	/* The VMM may have exited: its address space is gone, only struct kvm is left. */
	if (!mmget_not_zero(mm)) {
		r = -ESRCH;
		goto out;
	}
	/* Watch the blocks before zapping them, so that no first fault goes unseen. */
	nkeys = nv_ept_zap_keys(kvm, rs, z.nr_ranges, keys, total);
	if (z.flags & NUMAVD_EPT_ZAP_REARM)
		for (i = 0; i < nkeys; i++)
			keys[i] |= NV_SLOT_REARM;
	forgotten = nv_ept_pending_add(f->rec, keys, nkeys);
	for (i = 0; i < z.nr_ranges && !r; i++) {
		unsigned long start = rs[i].start;
		unsigned long end = start + ((unsigned long)rs[i].blocks << rs[i].shift);
		unsigned long chunk = max(NV_ZAP_CHUNK, 1UL << rs[i].shift), a, b;

		for (a = start; a < end && !r; a = b) {
			b = min(end, a + chunk);
			r = nv_ept_invalidate(kvm, mm, a, b);
			cond_resched();
			if (!r && fatal_signal_pending(current))
				r = -EINTR;
		}
	}
	mmput(mm);
	if (r)
		goto out;

	z.nr_blocks = total;
	z.nr_watched = nkeys;
	raw_spin_lock_irq(&f->rec->lock);
	z.nr_pending = f->rec->live;
	raw_spin_unlock_irq(&f->rec->lock);
	z.forgotten = forgotten;
	z.ring_size = f->rec->ring_size;
	if (copy_to_user(arg, &z, sizeof(z)))
		r = -EFAULT;
out:
	kvfree(keys);
	kvfree(rs);
	return r;
}

long nv_ept_drain(struct nv_ept_file *f, void __user *arg)
{
	struct numavd_ept_drain d;
	struct nv_ept_recorder *rec = f->rec;
	struct numavd_ept_fault *buf = NULL;
	u64 dropped = 0;
	u32 n = 0, i;
	long r = 0;

	if (copy_from_user(&d, arg, sizeof(d)))
		return -EFAULT;
	if (d.__pad || d.capacity > NUMAVD_EPT_MAX_RING)
		return -EINVAL;
	if (rec && d.capacity) {
		buf = kvcalloc(d.capacity, sizeof(*buf), GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
	}
	/* Copy first, remove after, so that a failed copy to user space loses nothing: only DRAIN
	 * (under f->lock) removes records, and the probe never overwrites one. */
	d.left = 0;
	if (rec) {
		raw_spin_lock_irq(&rec->lock);
		n = min(d.capacity, rec->count);
		for (i = 0; i < n; i++)
			buf[i] = rec->ring[(rec->head + i) % rec->ring_size];
		dropped = rec->dropped;
		d.left = rec->count - n;
		raw_spin_unlock_irq(&rec->lock);
	}
	if (n && copy_to_user(u64_to_user_ptr(d.faults), buf, array_size(n, sizeof(*buf)))) {
		r = -EFAULT;
		goto out;
	}
	d.nr = n;
	d.dropped = dropped;
	if (copy_to_user(arg, &d, sizeof(d))) {
		r = -EFAULT;
		goto out;
	}
	if (rec) {
		raw_spin_lock_irq(&rec->lock);
		rec->head = (rec->head + n) % rec->ring_size;
		rec->count -= n;
		rec->dropped -= dropped; /* the probe may have dropped more meanwhile */
		raw_spin_unlock_irq(&rec->lock);
	}
out:
	kvfree(buf);
	return r;
}
