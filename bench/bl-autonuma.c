/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AutoNUMA-like: Linux's automatic NUMA balancing, memory side (the vCPUs stay where the scenario
 * runs them: task placement is not modelled). Sources:
 *  - Documentation/scheduler/sched-debug.rst (numa_balancing/): "Every scan delay the task scans
 *    the next scan size number of pages in its address space"; scan_period_min_ms 1000,
 *    scan_period_max_ms 60000, scan_delay_ms 1000, scan_size_mb 256; scan_period_min/max are "the
 *    time to scan a task's virtual memory" (commit 598f0ec0bc99, 2013), so the delay between two
 *    windows is the period divided by the number of scan_size windows in the RSS, never below
 *    1000 ms / (2560 MB / scan_size) (MAX_SCAN_WINDOW, kernel/sched/fair.c task_scan_min()).
 *  - kernel/sched/fair.c update_task_scan_period(): after each full pass, with
 *    NUMA_PERIOD_SLOTS 10 and NUMA_PERIOD_THRESHOLD 7, the share of local hinting faults in tenths
 *    sets the next period: at or above 7, slower by (ratio - 7) slots (at least one); below,
 *    faster by (7 - ratio) slots; no faults at all doubles it. Clamped to [min, max].
 *  - kernel/sched/fair.c should_numa_migrate_memory(): the two-stage filter. A hinting fault
 *    swaps the page's last_cpupid; a misplaced page migrates only when the previous fault came
 *    from the same node (P(migrate) ~ P(node)^2), or when it had no previous fault (cpupid unset).
 *  - Locality of a fault: mm/memory.c numa_migrate_prep() sets TNF_FAULT_LOCAL when the page's
 *    node is the faulting CPU's at the time of the fault, and task_numa_fault() counts
 *    numa_faults_locality[local] from that flag alone; so a fault that migrates its page (the
 *    page was remote) counts as remote. A migration that fails sets TNF_MIGRATE_FAIL, counted in
 *    numa_faults_locality[2], and update_task_scan_period() then doubles the period ("we are
 *    migrating too quickly or the local node is overloaded").
 *  - No migration rate limit. mm/migrate.c numamigrate_update_ratelimit() capped migrations into
 *    a node at 128 MiB per 100 ms from Linux 3.8 to 4.19; Mel Gorman's "mm, numa: Remove
 *    rate-limiting of automatic numa balancing migration" removed it in 4.20. Linux 6.0 added
 *    numa_balancing_promote_rate_limit_MBps, which applies only to promotions in the memory
 *    tiering mode (NUMA_BALANCING_MEMORY_TIERING), not to this one. The kernels numavd runs on
 *    (Debian 12's 6.1, 6.12) therefore migrate every misplaced page that passes the filter.
 * Simplifications: a page's hinting fault is resolved when its window is unmapped (whether it
 * faults before the next pass is drawn from its access rate, the faulting CPU's node from the
 * per-node rates of nv_sim_page_info()); the private/shared ratio and numa_group heuristics
 * are not modelled (vCPU threads are one task); fault handling costs nothing. The free parameter
 * swept is scan_size_mb. */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/baselines.h"

#define SCAN_PERIOD_MIN_MS 1000.0
#define SCAN_PERIOD_MAX_MS 60000.0
#define SCAN_DELAY_MS      1000.0
#define MAX_SCAN_WINDOW_MB 2560.0
#define PERIOD_SLOTS       10
#define PERIOD_THRESHOLD   7

typedef struct an_vm {
        uint64_t id, hva;
        size_t nr_units;
        unsigned shift;
        int8_t *last_node; /* node of the last hinting fault, -1: none (cpupid unset) */
        size_t offset;     /* next unit to scan */
        double period_ms;  /* delay between two scan windows */
        usec_t next_scan;
        uint64_t pass;
        uint64_t local, remote; /* faults in this pass */
        uint64_t failed;        /* migrations that failed in this pass */
} an_vm;

typedef struct autonuma {
        bl_env env;
        double scan_mb;
        an_vm *vms;
        size_t nr_vms;
} autonuma;

static double windows(const autonuma *a, const an_vm *v) {
        double rss_mb = (double)(v->nr_units << v->shift) / (double)MIB;
        return MAX(1.0, ceil(rss_mb / a->scan_mb));
}

static double scan_min_ms(const autonuma *a, const an_vm *v) {
        double floor_ms = 1000.0 / MAX(1.0, MAX_SCAN_WINDOW_MB / a->scan_mb);
        return MAX(floor_ms, SCAN_PERIOD_MIN_MS / windows(a, v));
}

static double scan_max_ms(const autonuma *a, const an_vm *v) {
        return MAX(scan_min_ms(a, v), SCAN_PERIOD_MAX_MS / windows(a, v));
}

static void autonuma_free(void *st) {
        autonuma *a = st;

        if (!a)
                return;
        for (size_t i = 0; i < a->nr_vms; i++)
                free(a->vms[i].last_node);
        free(a->vms);
        free(a);
}

static int autonuma_new(const bl_env *env, const bl_params *p, const nv_inventory *inv, void **ret) {
        autonuma *a = calloc(1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        a->env = *env;
        a->scan_mb = p->v[0];
        a->vms = calloc(MAX(inv->nr_vms, (size_t)1), sizeof(an_vm));
        if (!a->vms) {
                autonuma_free(a);
                return -ENOMEM;
        }
        for (size_t i = 0; i < inv->nr_vms; i++) {
                const nv_vm_info *vm = &inv->vms[i];
                an_vm *v = &a->vms[a->nr_vms++];

                /* The sim lays a VM's ranges out back to back with one backing. */
                v->id = vm->id;
                v->hva = vm->ranges[0].hva;
                v->shift = nv_backing_page_shift(vm->ranges[0].backing);
                v->nr_units = nv_vm_ram_bytes(vm) >> v->shift;
                v->last_node = malloc(v->nr_units);
                if (!v->last_node) {
                        autonuma_free(a);
                        return -ENOMEM;
                }
                memset(v->last_node, -1, v->nr_units);
                v->period_ms = scan_min_ms(a, v);
                v->next_scan = (usec_t)(SCAN_DELAY_MS * 1000);
        }
        *ret = a;
        return 0;
}

static void end_pass(autonuma *a, an_vm *v) {
        double lo = scan_min_ms(a, v), hi = scan_max_ms(a, v), slot, diff;

        v->pass++;
        if (v->local + v->remote == 0 || v->failed > 0) {
                v->period_ms = MIN(hi, v->period_ms * 2);
                v->local = v->remote = v->failed = 0;
                return;
        }
        slot = ceil(v->period_ms / PERIOD_SLOTS);
        int ratio = (int)(v->local * PERIOD_SLOTS / (v->local + v->remote));
        if (ratio >= PERIOD_THRESHOLD)
                diff = MAX(1, ratio - PERIOD_THRESHOLD) * slot;
        else
                diff = -(double)(PERIOD_THRESHOLD - ratio) * slot;
        v->period_ms = MIN(hi, MAX(lo, v->period_ms + diff));
        v->local = v->remote = 0;
}

static void scan_window(autonuma *a, const nv_vm_info *vm, an_vm *v, usec_t now) {
        size_t count = MAX((size_t)1, (size_t)(a->scan_mb * (double)MIB) >> v->shift);
        /* A page unmapped now faults at its first access before the next pass unmaps it again. */
        double pass_sec = v->period_ms * windows(a, v) / 1000.0;
        uint64_t key = a->env.seed ^ (v->id * UINT64_C(0x9e3779b97f4a7c15));

        for (size_t k = 0; k < count; k++) {
                size_t u = v->offset;
                uint64_t addr = v->hva + ((uint64_t)u << v->shift);
                nv_sim_page pg;
                double sum = 0, x;
                int node, fnode = 0;

                if (++v->offset == v->nr_units) {
                        v->offset = 0;
                        end_pass(a, v);
                }
                if (nv_sim_page_info(a->env.sim, v->id, addr, &pg) < 0)
                        continue;
                node = pg.node;
                for (int n = 0; n < NV_MAX_NODES; n++)
                        sum += pg.rates[n];
                if (sum <= 0 || nv_uniform_at(key, u, v->pass * 2) >= -expm1(-sum * pass_sec))
                        continue;
                x = nv_uniform_at(key, u, v->pass * 2 + 1) * sum;
                for (fnode = 0; fnode < NV_MAX_NODES - 1 && x >= pg.rates[fnode]; fnode++)
                        x -= pg.rates[fnode];

                int last = v->last_node[u];
                v->last_node[u] = (int8_t)fnode;
                if (fnode == node) {
                        v->local++;
                        continue;
                }
                v->remote++;
                if (last >= 0 && last != fnode)
                        continue; /* the first stage of the two-stage filter */
                if (bl_move(&a->env, vm, &addr, 1, v->shift, fnode) == 0)
                        v->failed++; /* TNF_MIGRATE_FAIL: -ENOMEM at the min watermark, or -EBUSY */
        }
}

static void autonuma_step(void *st, const nv_inventory *inv, usec_t now) {
        autonuma *a = st;

        for (size_t i = 0; i < a->nr_vms; i++) {
                an_vm *v = &a->vms[i];
                const nv_vm_info *vm = nv_inventory_find(inv, v->id);

                if (!vm || now < v->next_scan)
                        continue;
                scan_window(a, vm, v, now);
                v->next_scan = now + (usec_t)(v->period_ms * 1000);
        }
}

static const bl_params autonuma_sweep[] = {
        { "scan_size_mb=256", { 256 } }, /* the default */
        { "scan_size_mb=1024", { 1024 } },
};

const bl_ops bl_autonuma = {
        .name = "autonuma",
        .step_usec = 10 * USEC_PER_MSEC,
        .sweep = autonuma_sweep,
        .nr_sweep = ARRAY_SIZE(autonuma_sweep),
        .new = autonuma_new,
        .free = autonuma_free,
        .step = autonuma_step,
};
