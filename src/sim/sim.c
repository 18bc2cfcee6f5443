/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated host: layout and placement of guest memory, virtual time, the inventory, page
 * moves, ground truth, and the ports of model/host.h. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sim/costs.h"
#include "sim/sim-internal.h"

#define SIM_HVA_BASE UINT64_C(0x100000000000)
#define SIM_PID_BASE 10000

static double latency_ns(const nv_sim *s, unsigned cpu_node, unsigned mem_node) {
        const sim_node *n = &s->nodes[cpu_node];

        if (cpu_node == mem_node)
                return n->local_ns;
        if (n->remote_ns > 0)
                return n->remote_ns;
        return n->local_ns * s->distance[cpu_node][mem_node] / 10.0;
}

static void apply_runs(nv_sim *s, sim_vm *vm) {
        for (; vm->next_run < vm->nr_runs && vm->runs[vm->next_run].t <= s->now; vm->next_run++) {
                const sim_run_event *e = &vm->runs[vm->next_run];
                for (unsigned v = 0; v < vm->nr_vcpus; v++)
                        if (bitmap_test(e->vcpus, v))
                                memcpy(vm->vcpu_share[v], e->share, sizeof(e->share));
        }
}

static bool apply_phases(nv_sim *s, sim_vm *vm) {
        bool changed = false;

        while (vm->cur_seg + 1 < vm->nr_segs && vm->segs[vm->cur_seg + 1].t <= s->now) {
                vm->cur_seg++;
                changed = true;
        }
        return changed;
}

static int cmp_usec(const void *a, const void *b) {
        usec_t x = *(const usec_t *)a, y = *(const usec_t *)b;
        return x < y ? -1 : x > y;
}

static int build_segments(sim_vm *vm) {
        size_t nt = 1;
        _cleanup_free_ usec_t *times = NULL;

        for (size_t w = 0; w < vm->nr_workloads; w++)
                nt += vm->workloads[w].nr_phases;
        times = malloc(nt * sizeof(usec_t));
        if (!times)
                return -ENOMEM;
        nt = 0;
        times[nt++] = 0;
        for (size_t w = 0; w < vm->nr_workloads; w++)
                for (size_t i = 0; i < vm->workloads[w].nr_phases; i++)
                        times[nt++] = vm->workloads[w].phases[i].t;
        qsort(times, nt, sizeof(usec_t), cmp_usec);
        vm->segs = calloc(nt, sizeof(sim_segment));
        if (!vm->segs)
                return -ENOMEM;
        for (size_t i = 0; i < nt; i++) {
                sim_segment *g;
                if (i > 0 && times[i] == times[i - 1])
                        continue;
                g = &vm->segs[vm->nr_segs++];
                g->t = times[i];
                g->phase = calloc(MAX(vm->nr_workloads, (size_t)1), sizeof(unsigned));
                if (!g->phase)
                        return -ENOMEM;
                for (size_t w = 0; w < vm->nr_workloads; w++)
                        for (size_t k = 0; k < vm->workloads[w].nr_phases; k++)
                                if (vm->workloads[w].phases[k].t <= g->t)
                                        g->phase[w] = (unsigned)k;
        }
        return 0;
}

static void make_uuid(const nv_sim *s, const sim_vm *vm, char ret[static 37]) {
        uint64_t h = 1469598103934665603u;

        for (const char *p = vm->name; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211u;
        snprintf(ret, 37, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(h >> 32), (unsigned)(h >> 16) & 0xffff,
                 (unsigned)h & 0xfff, (unsigned)(vm->id & 0xfff),
                 (unsigned long long)((h * 31 + vm->id) & UINT64_C(0xffffffffffff)));
        (void)s;
}

static int build_vm(nv_sim *s, sim_vm *vm, uint64_t hva) {
        uint64_t ub;
        size_t u = 0;
        int r;

        if (!vm->uuid[0])
                make_uuid(s, vm, vm->uuid);
        if (vm->tlb_lifetime == 0)
                vm->tlb_lifetime = s->nested ? s->tlb_nested : s->tlb_bare;
        vm->tlb_lifetime = ALIGN_UP(vm->tlb_lifetime, (usec_t)SIM_TICK_USEC);
        vm->walk_depth = s->nested ? 2 : 1;
        vm->hva = hva;
        vm->unit_shift = nv_backing_page_shift(vm->backing);
        ub = sim_unit_size(vm);
        vm->nr_units = vm->mem >> vm->unit_shift;
        vm->node = malloc(vm->nr_units);
        vm->dest = malloc(vm->nr_units);
        vm->a_from = calloc(vm->nr_units, sizeof(uint32_t));
        vm->d_from = calloc(vm->nr_units, sizeof(uint32_t));
        vm->vcpu_share = calloc(vm->nr_vcpus, sizeof(*vm->vcpu_share));
        vm->vcpu_time = calloc(vm->nr_vcpus, sizeof(*vm->vcpu_time));
        vm->vcpu_time_last = calloc(vm->nr_vcpus, sizeof(*vm->vcpu_time_last));
        vm->node_rate = calloc((size_t)vm->nr_vcpus * NV_MAX_NODES, sizeof(double));
        if (!vm->node || !vm->dest || !vm->a_from || !vm->d_from || !vm->vcpu_share || !vm->vcpu_time ||
            !vm->vcpu_time_last || !vm->node_rate)
                return log_oom();

        /* First touch, cell by cell. */
        for (unsigned c = 0; c < MAX(vm->nr_cells, 1u); c++) {
                size_t end = vm->nr_cells ? u + (vm->cells[c].size >> vm->unit_shift) : vm->nr_units;
                int ft = vm->nr_cells ? vm->cells[c].first_touch : vm->first_touch;
                for (; u < end; u++) {
                        unsigned pref = ft >= 0 ? (unsigned)ft : (unsigned)(u % s->nr_nodes);
                        int n = sim_alloc(s, pref, ub);
                        if (n < 0)
                                return log_error_errno(-EINVAL,
                                                       "%s: vm %s does not fit in the host's free memory "
                                                       "above the min watermarks",
                                                       s->name, vm->name);
                        vm->node[u] = vm->dest[u] = (int8_t)n;
                }
        }

        /* vCPUs run on every node until a run line says otherwise. */
        for (unsigned v = 0; v < vm->nr_vcpus; v++)
                for (unsigned n = 0; n < s->nr_nodes; n++)
                        vm->vcpu_share[v][n] = 1.0 / s->nr_nodes;
        /* Stable insertion sort of run events by time. */
        for (size_t i = 1; i < vm->nr_runs; i++)
                for (size_t j = i; j > 0 && vm->runs[j - 1].t > vm->runs[j].t; j--) {
                        sim_run_event t = vm->runs[j];
                        vm->runs[j] = vm->runs[j - 1];
                        vm->runs[j - 1] = t;
                }
        apply_runs(s, vm);

        r = build_segments(vm);
        if (r < 0)
                return log_oom();
        apply_phases(s, vm);
        sim_vm_recompute_rates(s, vm);
        return 0;
}

int sim_build(nv_sim *s) {
        uint64_t hva = SIM_HVA_BASE;
        int r;

        sim_setup_watermarks(s);
        sim_sort_growth(s);
        sim_apply_growth(s); /* what is there at time 0, before the VMs touch their memory */
        for (size_t i = 0; i < s->nr_vms; i++) {
                sim_vm *vm = &s->vms[i];
                vm->id = i + 1;
                r = build_vm(s, vm, hva);
                if (r < 0)
                        return r;
                hva += ALIGN_UP(vm->mem, GIB) + GIB;
        }
        return 0;
}

nv_sim *nv_sim_free(nv_sim *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->nr_vms; i++)
                sim_vm_done(&s->vms[i]);
        free(s->vms);
        free(s->copies);
        free(s->growth);
        free(s->name);
        free(s);
        return NULL;
}

/* Let [now, now + dt) pass with nothing changing: vCPU run time and access accounting. */
static void step(nv_sim *s, usec_t dt) {
        double sec = (double)dt * 1e-6;

        for (size_t i = 0; i < s->nr_vms; i++) {
                sim_vm *vm = &s->vms[i];
                for (unsigned v = 0; v < vm->nr_vcpus; v++)
                        for (unsigned n = 0; n < s->nr_nodes; n++) {
                                double share = vm->vcpu_share[v][n];
                                if (share <= 0)
                                        continue;
                                vm->vcpu_time[v][n] += share * sec;
                                for (unsigned m = 0; m < s->nr_nodes; m++) {
                                        double a = vm->node_rate[v * NV_MAX_NODES + m] * share * sec;
                                        double ns = a * latency_ns(s, n, m);
                                        vm->acc += a;
                                        vm->acc_ns += ns;
                                        s->costs.access_ns += ns;
                                        s->acc_total += a;
                                        if (m != n) {
                                                vm->acc_remote += a;
                                                s->acc_remote_total += a;
                                        }
                                }
                        }
                s->walks_total += vm->walk_rate * sec;
                s->costs.walk_refs += vm->walk_refs_rate * sec;
        }
}

void nv_sim_advance(nv_sim *s, usec_t dt) {
        usec_t target = s->now + dt;

        while (s->now < target) {
                usec_t next = target;
                for (size_t i = 0; i < s->nr_vms; i++) {
                        const sim_vm *vm = &s->vms[i];
                        if (vm->next_run < vm->nr_runs)
                                next = MIN(next, vm->runs[vm->next_run].t);
                        if (vm->cur_seg + 1 < vm->nr_segs)
                                next = MIN(next, vm->segs[vm->cur_seg + 1].t);
                }
                next = MIN(next, sim_next_copy_boundary(s));
                next = MIN(next, sim_next_growth(s));
                next = MAX(next, s->now);
                step(s, next - s->now);
                s->now = next;
                sim_complete_copies(s);
                sim_apply_growth(s);
                for (size_t i = 0; i < s->nr_vms; i++) {
                        sim_vm *vm = &s->vms[i];
                        bool due = (vm->next_run < vm->nr_runs && vm->runs[vm->next_run].t <= s->now) ||
                                   (vm->cur_seg + 1 < vm->nr_segs && vm->segs[vm->cur_seg + 1].t <= s->now);

                        /* Faults so far are drawn from the rates and vCPU placement they happened under. */
                        if (due && vm->nr_zapped > 0)
                                sim_faults_resolve(s, vm);
                        apply_runs(s, vm);
                        if (apply_phases(s, vm))
                                sim_vm_recompute_rates(s, vm);
                }
        }
}

static int sim_refresh(void *ctx, nv_inventory *inv) {
        nv_sim *s = ctx;
        nv_inventory v = { .nr_nodes = s->nr_nodes, .nested = s->nested };

        for (unsigned n = 0; n < s->nr_nodes; n++) {
                v.nodes[n] = (nv_node_info){ .total_bytes = s->nodes[n].total,
                                             .free_bytes = s->nodes[n].free,
                                             .high_wmark_bytes = s->nodes[n].wmark_high };
                memcpy(v.distance[n], s->distance[n], sizeof(v.distance[n]));
        }
        v.vms = calloc(MAX(s->nr_vms, (size_t)1), sizeof(nv_vm_info));
        if (!v.vms)
                return -ENOMEM;
        v.nr_vms = s->nr_vms;
        for (size_t i = 0; i < s->nr_vms; i++) {
                const sim_vm *vm = &s->vms[i];
                nv_vm_info *info = &v.vms[i];
                uint64_t gpa = 0;

                info->id = vm->id;
                info->pid = (pid_t)(SIM_PID_BASE + vm->id);
                info->nr_vcpus = vm->nr_vcpus;
                memcpy(info->uuid, vm->uuid, sizeof(info->uuid));
                info->name = strdup(vm->name);
                info->nr_ranges = MAX(vm->nr_cells, 1u);
                info->ranges = calloc(info->nr_ranges, sizeof(nv_ram_range));
                info->nr_cells = vm->nr_cells;
                info->cell_time = vm->nr_cells ? calloc(vm->nr_cells, sizeof(nv_node_time)) : NULL;
                if (!info->name || !info->ranges || (vm->nr_cells && !info->cell_time)) {
                        nv_inventory_clear(&v);
                        return -ENOMEM;
                }
                for (size_t r = 0; r < info->nr_ranges; r++) {
                        uint64_t size = vm->nr_cells ? vm->cells[r].size : vm->mem;
                        info->ranges[r] = (nv_ram_range){ .hva = vm->hva + gpa,
                                                          .size = size,
                                                          .gpa = gpa,
                                                          .backing = vm->backing,
                                                          .cell = vm->nr_cells ? (int)r : -1 };
                        gpa += size;
                }
                for (unsigned cpu = 0; cpu < vm->nr_vcpus; cpu++)
                        for (unsigned n = 0; n < s->nr_nodes; n++) {
                                info->vcpu_time.sec[n] += vm->vcpu_time[cpu][n];
                                for (unsigned c = 0; c < vm->nr_cells; c++)
                                        if (bitmap_test(vm->cells[c].vcpus, cpu))
                                                info->cell_time[c].sec[n] += vm->vcpu_time[cpu][n];
                        }
        }

        /* The epoch ends here: what was accumulated becomes "the last epoch". */
        for (size_t i = 0; i < s->nr_vms; i++) {
                sim_vm *vm = &s->vms[i];
                size_t bytes = sizeof(*vm->vcpu_time) * vm->nr_vcpus;
                vm->last_remote_fraction = vm->acc > 0 ? vm->acc_remote / vm->acc : 0;
                vm->last_mean_latency_ns = vm->acc > 0 ? vm->acc_ns / vm->acc : 0;
                memcpy(vm->vcpu_time_last, vm->vcpu_time, bytes);
                memset(vm->vcpu_time, 0, bytes);
                vm->acc = vm->acc_remote = vm->acc_ns = 0;
                vm->has_last = true;
        }
        *inv = v;
        return 0;
}

int nv_sim_truth(nv_sim *s, uint64_t vm_id, nv_truth *ret) {
        sim_vm *vm = sim_find_vm(s, vm_id);
        double per_vcpu[SIM_MAX_VCPUS];
        nv_truth t = {};

        if (!vm)
                return -ENOENT;
        for (size_t u = 0; u < vm->nr_units; u++) {
                uint64_t hot = sim_unit_hot_bytes(vm, vm->cur_seg, u);
                double score[NV_MAX_NODES] = {}, all = 0;
                unsigned best = 0;

                if (hot == 0)
                        continue;
                t.hot_bytes += hot;
                memset(per_vcpu, 0, sizeof(double) * vm->nr_vcpus);
                sim_unit_rate(vm, vm->cur_seg, u, false, -1, per_vcpu);
                /* The node where the vCPUs that access the unit ran, weighted by their accesses. */
                for (unsigned v = 0; v < vm->nr_vcpus; v++)
                        for (unsigned n = 0; n < s->nr_nodes; n++)
                                score[n] += per_vcpu[v] *
                                            (vm->has_last ? vm->vcpu_time_last[v][n] : vm->vcpu_share[v][n]);
                for (unsigned n = 1; n < s->nr_nodes; n++)
                        if (score[n] > score[best])
                                best = n;
                for (unsigned n = 0; n < s->nr_nodes; n++)
                        all += score[n];
                if ((unsigned)vm->node[u] == best)
                        t.hot_local_bytes += hot;
                if (all > 0 && score[best] >= all * 2 / 3) {
                        t.owned_hot_bytes += hot;
                        if ((unsigned)vm->node[u] == best)
                                t.owned_local_bytes += hot;
                }
        }
        t.bytes_moved = vm->bytes_moved;
        t.cold_bytes_moved = vm->cold_bytes_moved;
        if (vm->has_last) {
                t.remote_fraction = vm->last_remote_fraction;
                t.mean_latency_ns = vm->last_mean_latency_ns;
        } else if (vm->acc > 0) {
                t.remote_fraction = vm->acc_remote / vm->acc;
                t.mean_latency_ns = vm->acc_ns / vm->acc;
        }
        *ret = t;
        return 0;
}

void nv_sim_get_costs(const nv_sim *s, nv_sim_costs *ret) {
        *ret = s->costs;
        ret->accesses = (uint64_t)llround(s->acc_total);
        ret->remote_accesses = (uint64_t)llround(s->acc_remote_total);
        ret->tlb_misses = (uint64_t)llround(s->walks_total);
}

int nv_sim_harvest_dirty(nv_sim *s, uint64_t vm_id, const uint64_t *addrs, size_t n, unsigned shift,
                         uint8_t *ret_dirty) {
        sim_vm *vm = sim_find_vm(s, vm_id);

        if (!vm)
                return -ESRCH;
        return sim_harvest(s, vm, addrs, n, shift, 0, true, ret_dirty);
}

/* The ports. */

static int port_attach(void *ctx, const nv_vm_info *vm) {
        return sim_find_vm(ctx, vm->id) ? 0 : -ESRCH;
}

static void port_detach(void *ctx, uint64_t vm_id) {
}

static int port_harvest(void *ctx, const nv_vm_info *info, const uint64_t *addrs, size_t n, unsigned shift,
                        unsigned flags, uint8_t *ret_accessed) {
        sim_vm *vm = sim_find_vm(ctx, info->id);

        if (!vm)
                return -ESRCH;
        return sim_harvest(ctx, vm, addrs, n, shift, flags, false, ret_accessed);
}

static void port_advance(void *ctx, usec_t dt) {
        nv_sim_advance(ctx, dt);
}

static int port_truth(void *ctx, uint64_t vm_id, nv_truth *ret) {
        return nv_sim_truth(ctx, vm_id, ret);
}

static void port_destroy(void *ctx) {
        nv_sim_free(ctx);
}

static const nv_vm_source_ops source_ops = { .refresh = sim_refresh };
static const nv_access_ops access_ops = {
        .name = "sim",
        .attach = port_attach,
        .detach = port_detach,
        .harvest = port_harvest,
};
static const nv_mover_ops mover_ops = { .move_pages = sim_move_pages };

void nv_sim_host(nv_sim *s, bool take_ownership, nv_host *ret) {
        *ret = (nv_host){
                .kind = "sim",
                .ctx = s,
                .source = &source_ops,
                .access = &access_ops,
                .access_ctx = s,
                .mover = &mover_ops,
                .mover_ctx = s,
                .attribution = &sim_attribution_ops,
                .attribution_ctx = s,
                .advance = port_advance,
                .truth = port_truth,
                .destroy = take_ownership ? port_destroy : NULL,
        };
}
