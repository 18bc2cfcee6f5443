/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Per-VM KVM statistics from KVM's debugfs directory of the VM, DEBUGFS/kvm/PID-FD/ (FD: the VMM's
 * anon_inode:kvm-vm fd), whose files sum each vCPU stat over the VM's vCPUs.
 *
 * Why not KVM_GET_STATS_FD on the VM fd duplicated with pidfd_getfd(2): KVM refuses every VM and
 * vCPU ioctl from a process other than the VM's creator (kvm_vm_ioctl: kvm->mm != current->mm
 * -> -EIO), which tests/test-kvm-stats.c shows. The debugfs files are opened, read and closed on
 * each read: an open file would hold a reference on the VM (kvm_debugfs_open). */

#include <stdint.h>
#include <sys/types.h>

#include "common/macro.h"

typedef enum nv_kvm_stat {
        NV_KVM_EXITS,              /* vCPU "exits" */
        NV_KVM_PAGE_FAULTS,        /* vCPU "pf_taken", else "pf_fixed" */
        NV_KVM_NESTED_RUNS,        /* vCPU "nested_run" */
        NV_KVM_HALT_EXITS,         /* vCPU "halt_exits" */
        NV_KVM_TLB_FLUSHES,        /* vCPU "tlb_flush" */
        NV_KVM_REMOTE_TLB_FLUSHES, /* VM "remote_tlb_flush" */
        _NV_KVM_STAT_MAX,
} nv_kvm_stat;

const char *nv_kvm_stat_to_string(nv_kvm_stat s); /* "exits", "pageFaults", ... */

typedef struct nv_kvm_counts {
        bool available[_NV_KVM_STAT_MAX];
        uint64_t value[_NV_KVM_STAT_MAX]; /* cumulative, all vCPUs */
        uint64_t delta[_NV_KVM_STAT_MAX]; /* since the previous read */
} nv_kvm_counts;

typedef struct nv_kvm_stats nv_kvm_stats;

/* proc_root NULL: "/proc"; debugfs NULL: "/sys/kernel/debug". -ESRCH: no such process; -ENOENT:
 * no KVM VM fd in that process; -ENODEV: debugfs (or its kvm directory for the VM) is not there. */
int nv_kvm_stats_open(const char *proc_root, const char *debugfs, pid_t pid, nv_kvm_stats **ret);
nv_kvm_stats *nv_kvm_stats_free(nv_kvm_stats *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_kvm_stats *, nv_kvm_stats_free);

/* Read every stat. 0 or -errno. */
int nv_kvm_stats_read(nv_kvm_stats *k, nv_kvm_counts *ret);
