/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Per-vCPU perf counters of one VM: perf_event_open(2) on each vCPU thread. Software events
 * always; hardware events where the PMU offers them, reported as unavailable (with the errno)
 * otherwise. Counts are scaled for multiplexing. Every fd is closed by nv_perf_vm_free(). */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/macro.h"

typedef enum nv_perf_event {
        NV_PERF_TASK_CLOCK, /* ns on a CPU */
        NV_PERF_PAGE_FAULTS,
        NV_PERF_CPU_MIGRATIONS,
        NV_PERF_CONTEXT_SWITCHES,
        NV_PERF_CYCLES,
        NV_PERF_INSTRUCTIONS,
        NV_PERF_LLC_MISSES,
        NV_PERF_NODE_LOADS,
        NV_PERF_NODE_LOAD_MISSES, /* loads served by another node's memory */
        _NV_PERF_MAX,
} nv_perf_event;

/* camelCase names for reports: "taskClockNs", "pageFaults", ... */
const char *nv_perf_event_to_string(nv_perf_event e);

typedef struct nv_perf_counts {
        int error[_NV_PERF_MAX];      /* 0: available; else -errno why not (-ENOENT: no such PMU event) */
        uint64_t delta[_NV_PERF_MAX]; /* since the previous read, all vCPUs */
        uint64_t total[_NV_PERF_MAX]; /* since the VM was first seen */
        unsigned nr_threads;          /* vCPU threads counted */
} nv_perf_counts;

typedef struct nv_perf_vm nv_perf_vm;

int nv_perf_vm_new(nv_perf_vm **ret);
nv_perf_vm *nv_perf_vm_free(nv_perf_vm *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_perf_vm *, nv_perf_vm_free);

/* Follow this set of vCPU threads: open counters for new ones, close those of threads that are
 * gone (their counts stay in the totals). 0 or -ENOMEM; a thread whose counters cannot be opened
 * is skipped. */
int nv_perf_vm_set_threads(nv_perf_vm *p, const pid_t *tids, size_t n);

/* Read every counter: deltas since the previous read, totals. */
void nv_perf_vm_read(nv_perf_vm *p, nv_perf_counts *ret);

/* The vCPU threads of process pid: threads named "CPU N/KVM" (or "/TCG") under
 * PROC_ROOT/PID/task. proc_root NULL: "/proc". *ret freed by the caller. 0 or -errno. */
int nv_vcpu_threads(const char *proc_root, pid_t pid, pid_t **ret, size_t *ret_n);
