/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The per-VM, per-epoch collection of counters on the real host: perf events of the vCPU threads
 * (software always, hardware where the PMU has them), KVM's statistics from debugfs, where the
 * guest RAM sits per node (numa_maps) and the dirty rate (soft-dirty). Each source that cannot be
 * read says why, and the others go on. Opened when a VM is tracked, closed (every fd) when it is
 * forgotten: nothing here holds a duplicate of the VM's fd, which would keep the VM alive. */

#include <stdbool.h>
#include <sys/types.h>

#include "model/inventory.h"
#include "model/region.h"
#include "sampler/counters-perf.h"
#include "sampler/dirty-rate.h"
#include "sampler/kvm-stats.h"
#include "sampler/numa-maps.h"

struct json_object;

/* The kernel walks every page table of the VMM to produce numa_maps: 13 ms per GiB of a VMM's
 * resident memory here (a 1 GiB fake VMM, 6.18). So it is read at most this often. */
#define NV_NUMA_MAPS_INTERVAL (10 * USEC_PER_SEC)

typedef struct nv_meters_params {
        const char *proc_root; /* NULL: "/proc" */
        const char *debugfs;   /* NULL: "/sys/kernel/debug" */
        usec_t dirty_interval; /* how long each dirty-rate measurement runs; 0: none */
        int soft_dirty;        /* nv_soft_dirty_supported(), probed once by the caller */
} nv_meters_params;

typedef struct nv_meters {
        pid_t pid;
        nv_meters_params params;
        nv_perf_vm *perf;
        nv_perf_counts perf_counts; /* the last read */
        bool have_perf;
        nv_kvm_stats *kvm;
        nv_kvm_counts kvm_counts;
        int kvm_error; /* 0: kvm_counts holds the last read */
        nv_dirty_rate *dirty;
        usec_t dirty_started; /* USEC_INFINITY: no interval under way */
        nv_dirty_estimate dirty_last;
        bool dirty_moved; /* numavd moved pages of the VM during the interval under way */
        int dirty_error;  /* 0: dirty_last holds the last estimate; -EAGAIN: the first is under way */
        nv_numa_maps numa;
        int numa_error;   /* 0: numa holds the last read */
        usec_t numa_read; /* when, USEC_INFINITY: never */
        double pressure;  /* remote-access pressure of the last epoch, see nv_meters_pressure() */
} nv_meters;

/* Set up the counters of one VM; nothing is read yet. 0 or -ENOMEM. */
int nv_meters_new(const nv_meters_params *p, const nv_vm_info *vm, nv_meters **ret);
nv_meters *nv_meters_free(nv_meters *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_meters *, nv_meters_free);

/* Once per epoch: follow the vCPU threads, read every source, measure the dirty rate when its
 * interval is over (regions: the heat map's, to sample by region). Returns -ESRCH when the VMM
 * is gone, else 0: a source that fails is reported unavailable. now: CLOCK_MONOTONIC. */
int nv_meters_collect(nv_meters *c, const nv_vm_info *vm, const nv_region *regions, size_t n, usec_t now);

/* numavd moved pages of this VM: a moved page is soft-dirty in its new place, so the dirty-rate
 * interval under way would count the move as guest writes; its estimate is dropped (the last one
 * stays) and the next interval measures the guest alone. c may be NULL. */
void nv_meters_note_moved(nv_meters *c);

/* How much a VM suffers from remote memory, from the last epoch's counters, in [0, 1]: the share
 * of its node loads that missed the local node (node-load-misses / node-loads) where the PMU
 * counts them, else 0. Pure. */
double nv_meters_pressure(const nv_perf_counts *pc);

/* The weight of a VM's share of the byte budget: base (the VM's Weight=, 1 by default) times
 * 1 + pressure, so a VM whose loads miss its node more gets up to twice the moves of an equal one
 * that is already local, and a VM without node-load counters keeps its weight. Pure. */
double nv_meters_weight(double base, double pressure);

/* Add "counters" (cumulative counts: perf events, then KVM stats as "kvmExits", ...),
 * "countersUnavailable" (name -> why), "dirtyRate" (bytes/s, null until measured),
 * "dirtyRateUnavailable" and, where numa_maps was read, "memoryPerNode" (nr_nodes entries) to o. */
void nv_meters_json(const nv_meters *c, unsigned nr_nodes, struct json_object *o);

/* The epoch's calls (epoch.c). Open: when a VM is tracked on the real host (nothing on the
 * simulated one, whose VMs are not processes). Collect: once per epoch, after the heat map's. */
struct nv_manager;
struct nv_vm_state;
void nv_epoch_counters_open(const struct nv_manager *m, struct nv_vm_state *s);
void nv_epoch_meters_collect(const struct nv_manager *m, struct nv_vm_state *s);

/* The reason a source is unavailable, for people: "no such PMU event", "debugfs is not mounted"... */
const char *nv_meters_error_string(int error);
