/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR LGPL-2.1-or-later */
#ifndef _UAPI_NUMAVD_EPT_H
#define _UAPI_NUMAVD_EPT_H

/* The ioctl ABI of /dev/numavd_ept, shared by the kernel module (kernel/) and numavd's `kmod`
 * sampler backend (src/sampler/backend-kmod.c).
 *
 * One open file tracks at most one KVM VM: NUMAVD_EPT_ATTACH hands over the VM's KVM fd (for
 * example obtained with pidfd_getfd(2) from the VMM); the module keeps a reference to the VM
 * until the file is closed. NUMAVD_EPT_HARVEST then tests and clears the accessed bits of the
 * VM's second-level page tables (EPT/NPT) for host-virtual ranges of the VMM, through KVM's own
 * MMU notifier callbacks. Since ABI 1.1 (INFO says so with NUMAVD_EPT_INFO_FAULTS), NUMAVD_EPT_ZAP
 * makes host-virtual ranges of the VM fault on their next access in the second-level page tables
 * (no data moves, the VMM's own page tables are untouched), and NUMAVD_EPT_DRAIN reads back which
 * vCPU took the first fault on each zapped block, on which CPU and when. Since ABI 1.2 (INFO
 * says so with NUMAVD_EPT_INFO_REARM), a ZAP with NUMAVD_EPT_ZAP_REARM also hears the vCPU that
 * touches each block after the first one. Every call needs CAP_SYS_ADMIN.
 *
 * Versioning: the major version changes when a structure or ioctl changes incompatibly; the
 * minor when something is added. User space checks major == NUMAVD_EPT_ABI_MAJOR. Every
 * structure has explicit padding, which must be zero on input. */

#include <linux/ioctl.h>
#include <linux/types.h>

#define NUMAVD_EPT_ABI_MAJOR 1
#define NUMAVD_EPT_ABI_MINOR 2

#define NUMAVD_EPT_DEVICE "/dev/numavd_ept"

/* Bounds of one HARVEST call. */
#define NUMAVD_EPT_MAX_RANGES 4096       /* ranges per call */
#define NUMAVD_EPT_MAX_BLOCKS (1U << 20) /* blocks (bitmap bits) per call */
#define NUMAVD_EPT_MAX_SLOTS  4096       /* slots one SLOTS call returns */

struct numavd_ept_version {
        __u32 major;      /* out: NUMAVD_EPT_ABI_MAJOR of the module */
        __u32 minor;      /* out */
        __u32 max_ranges; /* out: NUMAVD_EPT_MAX_RANGES */
        __u32 max_blocks; /* out: NUMAVD_EPT_MAX_BLOCKS */
};

struct numavd_ept_attach {
        __s32 vm_fd; /* in: a KVM VM file descriptor of the caller */
        __u32 flags; /* in: 0 */
};

/* INFO flags */
#define NUMAVD_EPT_INFO_TDP        (1U << 0) /* the VM's MMU uses two-dimensional paging (EPT/NPT) */
#define NUMAVD_EPT_INFO_AD_BITS    (1U << 1) /* the second-level tables have hardware accessed bits */
#define NUMAVD_EPT_INFO_HYPERVISOR (1U << 2) /* this host itself runs under a hypervisor */
#define NUMAVD_EPT_INFO_VM_ALIVE   (1U << 3) /* the VMM's address space still exists */
#define NUMAVD_EPT_INFO_AMD        (1U << 4) /* the VM runs on kvm_amd (NPT) */
#define NUMAVD_EPT_INFO_INTEL      (1U << 5) /* the VM runs on kvm_intel (EPT) */
#define NUMAVD_EPT_INFO_TDP_KNOWN  (1U << 6) /* TDP and AD_BITS are known (else both unknown) */
#define NUMAVD_EPT_INFO_FAULTS     (1U << 7) /* ZAP and DRAIN work on this VM (ABI 1.1) */
#define NUMAVD_EPT_INFO_PROTECTED  (1U << 8) /* the VM's memory is encrypted (SEV): no ZAP */
#define NUMAVD_EPT_INFO_REARM      (1U << 9) /* ZAP takes NUMAVD_EPT_ZAP_REARM (ABI 1.2) */

struct numavd_ept_info {
        __u32 flags;    /* out: NUMAVD_EPT_INFO_* */
        __u32 nr_slots; /* out: memory slots of the VM, all address spaces */
        __u32 nr_vcpus; /* out */
        __u32 __pad;
        __u64 harvests;     /* out: HARVEST calls on this file */
        __u64 blocks_young; /* out: blocks found accessed, on this file */
};

/* SLOTS flags (KVM_MEM_* of the slot, plus:) */
#define NUMAVD_EPT_SLOT_LOG_DIRTY (1U << 0)  /* KVM_MEM_LOG_DIRTY_PAGES */
#define NUMAVD_EPT_SLOT_READONLY  (1U << 1)  /* KVM_MEM_READONLY */
#define NUMAVD_EPT_SLOT_INTERNAL  (1U << 16) /* a slot KVM created itself (not user-visible) */

struct numavd_ept_slot {
        __u16 as_id; /* address space (x86: 0 normal, 1 SMM) */
        __u16 id;    /* slot id within the address space */
        __u32 flags; /* NUMAVD_EPT_SLOT_* */
        __u64 gpa;   /* guest-physical base */
        __u64 pages; /* number of 4 KiB pages */
        __u64 hva;   /* host-virtual base in the VMM */
};

struct numavd_ept_slots {
        __u32 capacity; /* in: entries available at slots */
        __u32 nr;       /* out: slots the VM has (may exceed capacity: then only capacity are filled) */
        __u64 slots;    /* in: user pointer to struct numavd_ept_slot[capacity] */
};

/* HARVEST */
#define NUMAVD_EPT_SHIFT_4K 12
#define NUMAVD_EPT_SHIFT_2M 21

struct numavd_ept_range {
        __u64 start;  /* host-virtual address, aligned to 1 << shift */
        __u32 blocks; /* number of consecutive blocks of 1 << shift bytes, >= 1 */
        __u8 shift;   /* NUMAVD_EPT_SHIFT_4K or NUMAVD_EPT_SHIFT_2M */
        __u8 __pad[3];
};

#define NUMAVD_EPT_HARVEST_FLUSH (1U << 0) /* clear_flush_young: also flush the VM's TLBs */
#define NUMAVD_EPT_HARVEST_TEST  (1U << 1) /* test_young only: report, clear nothing */

struct numavd_ept_harvest {
        __u32 flags;        /* in: NUMAVD_EPT_HARVEST_*; out: the variant that ran */
        __u32 nr_ranges;    /* in: 1 .. NUMAVD_EPT_MAX_RANGES */
        __u64 ranges;       /* in: user pointer to struct numavd_ept_range[nr_ranges] */
        __u64 bitmap;       /* in: user pointer to the bitmap, one bit per block, ranges in order,
                             * bit i in byte i / 8 at position i % 8 */
        __u32 bitmap_bytes; /* in: size of the bitmap buffer, >= DIV_ROUND_UP(total blocks, 8) */
        __u32 nr_blocks;    /* out: blocks processed (all of them on success) */
        __u32 nr_young;     /* out: blocks found accessed */
        __u32 __pad;
};

/* ZAP and DRAIN (ABI 1.1). The first ZAP on a file starts recording: from then on the first
 * fault of a vCPU on each zapped block is recorded in the file's ring, once; later faults on the
 * block (retries, other vCPUs) are not, but for the second one NUMAVD_EPT_ZAP_REARM asks for.
 * Blocks outside the VM's memory slots are zapped but not recorded. At most
 * NUMAVD_EPT_MAX_PENDING zapped blocks wait for their first fault; a ZAP that would exceed it
 * first forgets the waiting blocks of earlier ZAPs (zap.forgotten counts them).
 * Recording stops when the file is closed or with NUMAVD_EPT_ZAP_STOP. Zap 2 MiB blocks where
 * the memory is backed by huge pages: KVM maps and faults in whole 2 MiB entries there, so the
 * fault comes at whichever 4 KiB page the vCPU touched first. */
#define NUMAVD_EPT_MAX_ZAP_BLOCKS (1U << 15) /* blocks per ZAP call */
#define NUMAVD_EPT_MAX_PENDING    (1U << 15) /* zapped blocks waiting for their first fault */
#define NUMAVD_EPT_MIN_RING       64         /* records a file's fault ring holds, at least */
#define NUMAVD_EPT_MAX_RING       (1U << 16) /* ... and at most */
#define NUMAVD_EPT_DEFAULT_RING   4096       /* when the first ZAP passes ring_size 0 */

#define NUMAVD_EPT_ZAP_STOP (1U << 0) /* stop recording and drop the ring; no ranges */
/* Re-arm (ABI 1.2): right after a block's first fault the module zaps it once more, so that the
 * next access faults too, and records that second fault when another vCPU makes it. Two vCPUs
 * that touch a block in turn are both heard, whichever comes first after the ZAP: without it, two
 * vCPUs sweeping the same memory in step would have every block's fault taken by the one ahead.
 * A block faults at most twice per ZAP, and is recorded at most once per vCPU. */
#define NUMAVD_EPT_ZAP_REARM (1U << 1)

struct numavd_ept_zap {
        __u32 flags;      /* in: 0, NUMAVD_EPT_ZAP_REARM or NUMAVD_EPT_ZAP_STOP */
        __u32 nr_ranges;  /* in: 1 .. NUMAVD_EPT_MAX_RANGES (0 with NUMAVD_EPT_ZAP_STOP) */
        __u64 ranges;     /* in: user pointer to struct numavd_ept_range[nr_ranges]; blocks in all
                           * ranges together at most NUMAVD_EPT_MAX_ZAP_BLOCKS */
        __u32 ring_size;  /* in: records of the ring, MIN_RING .. MAX_RING, or 0 (the default);
                           * fixed by the first ZAP, later ones pass 0 or the same; out: it */
        __u32 nr_blocks;  /* out: blocks zapped (all of them on success) */
        __u32 nr_watched; /* out: of those, blocks in a memory slot, whose first fault is recorded */
        __u32 nr_pending; /* out: zapped blocks still waiting for their first fault */
        __u32 forgotten;  /* out: waiting blocks of earlier ZAPs forgotten to make room */
        __u32 __pad;
};

/* One recorded fault. */
struct numavd_ept_fault {
        __u64 gpa;     /* guest-physical address of the zapped block (aligned to 1 << shift) */
        __u64 time_ns; /* CLOCK_MONOTONIC */
        __u32 vcpu;    /* the vCPU's index in creation order (not the id user space chose) */
        __u32 cpu;     /* the host CPU the vCPU ran on when it faulted */
        __u8 shift;    /* the zapped block's size: NUMAVD_EPT_SHIFT_4K or NUMAVD_EPT_SHIFT_2M */
        __u8 __pad[7];
};

struct numavd_ept_drain {
        __u32 capacity; /* in: records available at faults, 0 .. NUMAVD_EPT_MAX_RING */
        __u32 nr;       /* out: records moved out of the ring, oldest first */
        __u64 faults;   /* in: user pointer to struct numavd_ept_fault[capacity] */
        __u64 dropped;  /* out: faults lost since the last DRAIN because the ring was full */
        __u32 left;     /* out: records still in the ring */
        __u32 __pad;
};

#define NUMAVD_EPT_IOC_MAGIC 0xE7

#define NUMAVD_EPT_IOC_VERSION _IOR(NUMAVD_EPT_IOC_MAGIC, 0x00, struct numavd_ept_version)
#define NUMAVD_EPT_IOC_ATTACH  _IOW(NUMAVD_EPT_IOC_MAGIC, 0x01, struct numavd_ept_attach)
#define NUMAVD_EPT_IOC_INFO    _IOR(NUMAVD_EPT_IOC_MAGIC, 0x02, struct numavd_ept_info)
#define NUMAVD_EPT_IOC_SLOTS   _IOWR(NUMAVD_EPT_IOC_MAGIC, 0x03, struct numavd_ept_slots)
#define NUMAVD_EPT_IOC_HARVEST _IOWR(NUMAVD_EPT_IOC_MAGIC, 0x04, struct numavd_ept_harvest)
#define NUMAVD_EPT_IOC_ZAP     _IOWR(NUMAVD_EPT_IOC_MAGIC, 0x05, struct numavd_ept_zap)
#define NUMAVD_EPT_IOC_DRAIN   _IOWR(NUMAVD_EPT_IOC_MAGIC, 0x06, struct numavd_ept_drain)

#endif
