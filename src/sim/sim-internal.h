/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The simulated host's internal model, shared by scenario*.c (building it), unit-access.c (rates,
 * accessed/dirty bits, harvest) and sim.c (time, inventory, moves, truth). */

#include <sys/types.h>

#include "model/inventory.h"
#include "sim/sim.h"

#define SIM_MAX_CPUS   1024
#define SIM_MAX_VCPUS  256
#define SIM_CPU_WORDS  (SIM_MAX_CPUS / 64)
#define SIM_VCPU_WORDS (SIM_MAX_VCPUS / 64)

/* Accessed/dirty windows are stored per unit as uint32 ticks of this many µs (~19 h in all). */
#define SIM_TICK_USEC 16u
/* Where that clock ends: no scenario time (an "at", a TLB lifetime) may lie beyond it. */
#define SIM_CLOCK_END_USEC ((usec_t)UINT32_MAX * SIM_TICK_USEC)
/* The backing pages (units) the sim keeps state for, all VMs together: 9 bytes each, so at most
 * 288 MiB (128 GiB of 4 KiB pages, or 64 TiB of 2 MiB pages). The fuzzer builds with far fewer,
 * so that every input runs in milliseconds. */
#ifndef SIM_MAX_UNITS
#define SIM_MAX_UNITS (UINT64_C(1) << 25)
#endif

#define SIM_MAX_HOT_RANGES 8

/* One piece of a hot set: [offset, offset + size) inside the workload's RAM. */
typedef struct sim_hot_range {
        uint64_t offset, size;
} sim_hot_range;

typedef struct sim_phase {
        usec_t t;
        /* The hot set: its ranges, which the workload sees as one set of `hot` bytes laid end to
         * end (shared part first, then the private slices); or, when sparse > 0, that many 4 KiB
         * pages scattered over those ranges, one at a fixed random place in each of `sparse` equal
         * strides. */
        sim_hot_range ranges[SIM_MAX_HOT_RANGES];
        unsigned nr_ranges;
        uint64_t hot;         /* bytes of the ranges, all together */
        uint64_t sparse;      /* hot 4 KiB pages scattered over them, 0: the ranges are hot */
        double skew;          /* share of accesses that go to the hot set */
        double rate;          /* accesses per second per vCPU */
        double private_share; /* share of the hot set private to one vCPU */
        double writes;        /* share of accesses that write */
} sim_phase;

/* A source of accesses: the VM's own workload, or an L2 guest's, mapped into the VM's GPA space. */
typedef struct sim_workload {
        char *name;        /* L2 name, NULL for the VM's own */
        unsigned depth;    /* 1: the VM itself, 2: an L2 guest inside it */
        uint64_t gpa_base; /* where the workload's RAM starts in the VM's guest-physical space */
        uint64_t size;     /* bytes */
        unsigned nr_vcpus;
        unsigned *vcpu_map; /* workload vCPU i runs on the VM's vCPU vcpu_map[i] */
        sim_phase *phases;  /* sorted by time; phases[0].t == 0 */
        size_t nr_phases;
} sim_workload;

typedef struct sim_run_event {
        usec_t t;
        uint64_t vcpus[SIM_VCPU_WORDS];
        double share[NV_MAX_NODES]; /* time share per node of each of those vCPUs */
} sim_run_event;

typedef struct sim_cell {
        uint64_t size;
        uint64_t vcpus[SIM_VCPU_WORDS];
        int first_touch; /* node, or -1: interleave */
} sim_cell;

/* A span of time during which every workload of a VM stays in one phase. */
typedef struct sim_segment {
        usec_t t;        /* start; the span ends where the next one starts */
        unsigned *phase; /* phase index per workload */
} sim_segment;

typedef struct sim_vm {
        char *name;
        char uuid[37];
        uint64_t id;
        uint64_t mem;
        unsigned nr_vcpus;
        nv_backing backing;
        int first_touch; /* node, or -1: interleave */
        usec_t tlb_lifetime;
        unsigned walk_depth; /* levels of virtualization of the VM's own accesses */

        sim_cell *cells;
        unsigned nr_cells;
        sim_run_event *runs;
        size_t nr_runs, next_run;
        sim_workload *workloads;
        size_t nr_workloads;
        sim_segment *segs;
        size_t nr_segs, cur_seg;

        /* Guest memory, in units of the backing page. */
        uint64_t hva;
        unsigned unit_shift;
        size_t nr_units;
        int8_t *node;     /* the node each unit serves accesses from */
        int8_t *dest;     /* where it is going: node, unless a copy is under way */
        uint32_t *a_from; /* accesses at or after this tick set A */
        uint32_t *d_from; /* writes at or after this tick set D */

        double (*vcpu_share)[NV_MAX_NODES];     /* where each vCPU runs now */
        double (*vcpu_time)[NV_MAX_NODES];      /* seconds per node since the last refresh */
        double (*vcpu_time_last)[NV_MAX_NODES]; /* the same for the epoch before */
        double *node_rate;                      /* [vcpu * NV_MAX_NODES + node]: accesses/s */
        double walk_rate;                       /* page walks per second (TLB misses) */
        double walk_refs_rate;                  /* memory references of those walks per second */
        bool has_last;

        /* Access accounting since the last refresh, and for the epoch before it. */
        double acc, acc_remote, acc_ns;
        double last_remote_fraction, last_mean_latency_ns;

        uint64_t bytes_moved, cold_bytes_moved;

        /* The attribution port (faults.c): units zapped and not yet touched, in unit order, and the
         * faults recorded but not yet drained. */
        struct sim_zap *zapped;
        size_t nr_zapped;
        nv_fault *faults;
        size_t nr_faults, cap_faults;
        uint64_t faults_dropped;
} sim_vm;

typedef struct sim_node {
        uint64_t total, free;
        uint64_t wmark_min, wmark_low, wmark_high; /* watermarks (sim/memory.c) */
        bool min_set, low_set, high_set;           /* given by the scenario, not computed */
        uint64_t other;                            /* bytes of memory that is not the VMs' */
        uint64_t other_dropped;                    /* growth that found no room above the min watermarks */
        uint64_t cpus[SIM_CPU_WORDS];
        double local_ns, remote_ns; /* remote_ns < 0: local_ns * distance / 10 */
} sim_node;

/* Memory that is not the VMs' grows on a node at a time. */
typedef struct sim_growth {
        usec_t t;
        unsigned node;
        uint64_t bytes;
        size_t order; /* file order, for a stable sort */
} sim_growth;

/* One page copy under way: the unit serves from vm->node until done, then from vm->dest. */
typedef struct sim_copy {
        usec_t done;
        uint32_t vm; /* index into nv_sim.vms */
        size_t unit;
} sim_copy;

/* Copies complete at most this late: the sim's time advances to copy completions in steps of
 * this size, not page by page. */
#define SIM_COPY_QUANTUM_USEC 1000u

struct nv_sim {
        char *name;
        uint64_t seed;
        usec_t now;
        unsigned nr_nodes;
        sim_node nodes[NV_MAX_NODES];
        uint8_t distance[NV_MAX_NODES][NV_MAX_NODES];
        bool nested;
        usec_t tlb_bare, tlb_nested;
        sim_vm *vms;
        size_t nr_vms;
        nv_sim_costs costs;
        sim_copy *copies; /* in completion order: [copies_head, nr_copies) are under way */
        size_t nr_copies, copies_head, copies_size;
        double copy_busy_ns; /* when the mover is free again: copies run one after another */
        sim_growth *growth;  /* sorted by time */
        size_t nr_growth, next_growth;
        double acc_total, acc_remote_total, walks_total;
};

static inline bool bitmap_test(const uint64_t *b, unsigned i) {
        return (b[i / 64] >> (i % 64)) & 1;
}
static inline void bitmap_set(uint64_t *b, unsigned i) {
        b[i / 64] |= UINT64_C(1) << (i % 64);
}
static inline bool bitmap_overlaps(const uint64_t *a, const uint64_t *b, unsigned words) {
        for (unsigned w = 0; w < words; w++)
                if (a[w] & b[w])
                        return true;
        return false;
}

static inline uint64_t sim_unit_size(const sim_vm *vm) {
        return UINT64_C(1) << vm->unit_shift;
}

/* scenario.c */
void sim_vm_done(sim_vm *vm);
/* sim.c: lay out and place guest memory, apply what happens at time 0. */
int sim_build(nv_sim *s);

/* memory.c */
/* Compute the watermarks the scenario did not set, from the nodes' sizes. */
void sim_setup_watermarks(nv_sim *s);
/* Whether node can give bytes and stay at or above its low (or min) watermark. */
bool sim_node_can_take(const nv_sim *s, unsigned node, uint64_t bytes, bool low);
/* Allocate on pref or the nearest node that can: returns the node, or -ENOMEM. */
int sim_alloc(nv_sim *s, unsigned pref, uint64_t size);
void sim_sort_growth(nv_sim *s);
/* Apply the growth due by now; the time of the next, USEC_INFINITY if none. */
void sim_apply_growth(nv_sim *s);
usec_t sim_next_growth(const nv_sim *s);

/* moves.c */
int sim_move_pages(void *ctx, const nv_vm_info *info, size_t n, const uint64_t *addrs, const int *nodes,
                   int *ret_status);
/* Finish the copies whose time has come (done <= now). */
void sim_complete_copies(nv_sim *s);
/* The next moment a copy completes, rounded up to SIM_COPY_QUANTUM_USEC; USEC_INFINITY if none. */
usec_t sim_next_copy_boundary(const nv_sim *s);

/* unit-access.c */
/* Accesses per second to unit u in segment seg: in all (writes_only false) or writes only. When
 * per_vcpu is given, it receives each of the VM's vCPUs' share (nr_vcpus doubles, added to).
 * only_wl >= 0 counts only that workload's accesses. */
double sim_unit_rate(const sim_vm *vm, size_t seg, size_t u, bool writes_only, ssize_t only_wl,
                     double *per_vcpu);
/* Bytes of unit u that lie in a hot set in segment seg. */
uint64_t sim_unit_hot_bytes(const sim_vm *vm, size_t seg, size_t u);
/* Whether unit u saw an access (or a write) in [t0, t1), decided lazily and deterministically. */
bool sim_unit_touched(const nv_sim *s, const sim_vm *vm, size_t u, bool writes, usec_t t0, usec_t t1);
/* Recompute vm->node_rate and vm->walk_rate for the current segment: O(units). */
void sim_vm_recompute_rates(const nv_sim *s, sim_vm *vm);
sim_vm *sim_find_vm(nv_sim *s, uint64_t id);
int sim_harvest(nv_sim *s, sim_vm *vm, const uint64_t *addrs, size_t n, unsigned shift, unsigned flags,
                bool dirty, uint8_t *ret);

/* faults.c */
/* Record as faults the zapped units of vm touched up to now, each by the vCPU its access rates
 * draw, on the node that vCPU runs on now. Called before the rates or the vCPUs' placement change,
 * and by drain. */
void sim_faults_resolve(nv_sim *s, sim_vm *vm);
void sim_faults_done(sim_vm *vm);
extern const nv_attribution_ops sim_attribution_ops;

static inline uint32_t sim_usec_to_tick(usec_t t) {
        uint64_t k = t / SIM_TICK_USEC;
        return k > UINT32_MAX ? UINT32_MAX : (uint32_t)k;
}
static inline usec_t sim_tick_to_usec(uint32_t k) {
        return (usec_t)k * SIM_TICK_USEC;
}
