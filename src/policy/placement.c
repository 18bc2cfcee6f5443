/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/string-table.h"
#include "common/macro.h"
#include "model/move-cost.h"
#include "policy/budget.h"
#include "policy/owner.h"
#include "policy/placement.h"

static const char *const nv_verdict_table[_NV_VERDICT_MAX] = {
        [NV_VERDICT_MOVE] = "move",
        [NV_VERDICT_LOCAL] = "local",
        [NV_VERDICT_COLD] = "cold",
        [NV_VERDICT_NO_DOMINANT_NODE] = "no-dominant-node",
        [NV_VERDICT_IDLE] = "idle",
        [NV_VERDICT_PINNED] = "pinned",
        [NV_VERDICT_RESIDENCY] = "residency",
        [NV_VERDICT_BUDGET] = "budget",
        [NV_VERDICT_NODE_FLOOR] = "node-floor",
        [NV_VERDICT_DISABLED] = "disabled",
        [NV_VERDICT_MAKE_ROOM] = "make-room",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(nv_verdict, nv_verdict);

/* Run times are measurements: a node counts as reaching dominance when it falls short of it by
 * no more than this fraction of the total (rounding in the sums, not a real shortfall). */
#define DOMINANCE_SLACK 1e-9

/* On success *ret_verdict is left alone; it is only written to say why there is no target. */
int nv_placement_dominant_node(const nv_node_time *t, unsigned nr_nodes, double dominance,
                               nv_verdict *ret_verdict) {
        double total = 0, best_sec = 0;
        int best = -1;

        nr_nodes = MIN(nr_nodes, (unsigned)NV_MAX_NODES);
        for (unsigned n = 0; n < nr_nodes; n++) {
                double s = t->sec[n];

                if (!(s > 0) || isinf(s)) /* negative, NaN or infinite: not a run time */
                        continue;
                total += s;
                if (s > best_sec) {
                        best_sec = s;
                        best = (int)n;
                }
        }

        if (best < 0) {
                if (ret_verdict)
                        *ret_verdict = NV_VERDICT_IDLE;
                return -1;
        }
        if (!(best_sec >= dominance * total - DOMINANCE_SLACK * total)) {
                if (ret_verdict)
                        *ret_verdict = NV_VERDICT_NO_DOMINANT_NODE;
                return -1;
        }
        return best;
}

static uint64_t region_size(const nv_region *r) {
        return r->end > r->start ? nv_region_bytes(r) : 0;
}

/* Bytes off the target node, rounded up to whole pages of the backing and never more than the
 * region. Of a located region only resident bytes count (none resident: nothing to move); a
 * region whose location is unknown counts whole unless its histogram says otherwise. */
static uint64_t off_target_bytes(const nv_region *r, int target, uint64_t page) {
        uint64_t size = region_size(r), all = 0, off;

        /* Each term clamped to the region: the sum cannot wrap for regions under 2^60 bytes. */
        for (unsigned n = 0; n < NV_MAX_NODES; n++)
                all += MIN(r->node_bytes[n], size);
        if (all == 0)
                return r->located ? 0 : ALIGN_DOWN(size, page);
        off = MIN(all - MIN(r->node_bytes[target], size), size);
        off = ALIGN_UP(off, page);
        if (off > size)
                off = ALIGN_DOWN(size, page);
        return off;
}

/* Rule 6's bookkeeping: how long the target has been a node other than the one of the last move. */
static void next_streak(const nv_region *r, int target, nv_region_plan *p) {
        if (r->moved_epoch == 0 || target < 0 || target == r->moved_to) {
                p->streak_target = -1;
                p->target_streak = 0;
        } else if (r->streak_target == target) {
                p->streak_target = (int8_t)target;
                p->target_streak = r->target_streak < UINT16_MAX ? r->target_streak + 1 : UINT16_MAX;
        } else {
                p->streak_target = (int8_t)target;
                p->target_streak = 1;
        }
}

static bool held_by_residency(const nv_placement_input *in, const nv_region *r, const nv_region_plan *p) {
        if (r->moved_epoch == 0 || p->target == r->moved_to)
                return false;
        if (in->cfg->min_residency != NV_RESIDENCY_FOREVER &&
            in->epoch >= r->moved_epoch + in->cfg->min_residency)
                return false;
        return p->target_streak < in->cfg->retarget_epochs;
}

/* Rule 4's second test: hot data can be sampled less often than hot_threshold and still be far
 * hotter than the rest of its VM (per-vCPU slices of a large hot set, say). A region is hot also
 * when its heat is at least RELATIVE_HOT_FACTOR times its VM's background, the byte-weighted
 * median heat of its regions, and at least RELATIVE_HOT_FLOOR, below which a sample or two more
 * makes the difference. Measured on bench/scenarios: backgrounds of 0.01 to 0.25, per-vCPU slices
 * and an L2 guest's memory at 0.2 to 0.35, stray regions of idle VMs up to 0.14; a factor of 4
 * moved some of the background of 512 MiB VMs (many.scn), a floor of 0.10 those stray regions. */
#define RELATIVE_HOT_FACTOR 6.0
#define RELATIVE_HOT_FLOOR  0.15
#define HEAT_BINS           256 /* the median's resolution */

/* The median is taken to the upper edge of its bin, which errs towards cold. */
double nv_placement_hot_heat(const nv_region *regions, size_t nr_regions, double hot_threshold) {
        uint64_t bytes[HEAT_BINS] = {}, total = 0, seen = 0;
        double relative = INFINITY;

        for (size_t j = 0; j < nr_regions; j++) {
                const nv_region *r = &regions[j];
                uint64_t size = region_size(r);

                if (!(r->heat >= 0)) /* negative or NaN: no measurement */
                        continue;
                bytes[r->heat < 1 ? (size_t)(r->heat * HEAT_BINS) : HEAT_BINS - 1] += size;
                total += size;
        }
        for (size_t b = 0; total > 0 && b < HEAT_BINS; b++) {
                seen += bytes[b];
                if (seen * 2 >= total) {
                        relative =
                                MAX(RELATIVE_HOT_FLOOR, RELATIVE_HOT_FACTOR * (double)(b + 1) / HEAT_BINS);
                        break;
                }
        }
        return MIN(hot_threshold, relative);
}

/* Rules 1 to 6 for one region. Returns its verdict, MOVE meaning "a candidate for rules 7 to 9";
 * fills *p and the placement unit of its backing. */
static nv_verdict evaluate_region(const nv_placement_input *in, const nv_placement_vm *vm,
                                  const nv_region *r, double hot_heat, nv_region_plan *p,
                                  uint64_t *ret_page) {
        const nv_vm_info *info = vm->info;
        const nv_ram_range *range = info && r->range < info->nr_ranges ? &info->ranges[r->range] : NULL;
        nv_verdict why = NV_VERDICT_IDLE;
        int target = -1;

        *ret_page = range ? UINT64_C(1) << nv_backing_page_shift(range->backing) : NV_PAGE_SIZE;

        if (info) {
                const nv_node_time *t = &info->vcpu_time;

                if (range && range->cell >= 0 && (unsigned)range->cell < info->nr_cells && info->cell_time)
                        t = &info->cell_time[range->cell];
                target = nv_placement_dominant_node(t, in->inv->nr_nodes, in->cfg->dominance, &why);
                /* Who faults on the region, when the attribution sampler knows, over where its VM runs. */
                target = nv_owner_target(r, in->inv->nr_nodes, target, in->cfg->dominance, &why);
        }

        *p = (nv_region_plan){
                .target = (int8_t)target,
                .bytes = target >= 0 ? off_target_bytes(r, target, *ret_page) : 0,
        };
        next_streak(r, target, p);

        if (!info || !vm->enabled || vm->frozen)
                return NV_VERDICT_DISABLED;
        /* A region outside the VM's known ranges cannot be identified: never move it. */
        if (!range || !nv_backing_movable(range->backing))
                return NV_VERDICT_PINNED;
        if (target < 0)
                return why;
        if (!(r->heat >= hot_heat))
                return NV_VERDICT_COLD;
        if (p->bytes == 0)
                return NV_VERDICT_LOCAL;
        if (held_by_residency(in, r, p))
                return NV_VERDICT_RESIDENCY;
        return NV_VERDICT_MOVE;
}

void nv_placement_plan_clear(nv_placement_plan *plan) {
        if (!plan)
                return;
        if (plan->regions)
                for (size_t i = 0; i < plan->nr_vms; i++)
                        free(plan->regions[i]);
        free(plan->regions);
        free(plan->moves);
        free(plan->spares);
        free(plan->bytes_by_verdict);
        *plan = (nv_placement_plan){};
}

static double vm_weight(const nv_placement_vm *vm) {
        /* Unset (0), negative or not a number: the default weight. */
        return vm->weight > 0 && !isinf(vm->weight) ? vm->weight : 1.0;
}

static int plan_alloc(const nv_placement_input *in, nv_placement_plan *plan) {
        plan->nr_vms = in->nr_vms;
        if (in->nr_vms == 0)
                return 0;
        plan->regions = calloc(in->nr_vms, sizeof(*plan->regions));
        plan->bytes_by_verdict = calloc(in->nr_vms, sizeof(*plan->bytes_by_verdict));
        if (!plan->regions || !plan->bytes_by_verdict)
                return -ENOMEM;
        for (size_t i = 0; i < in->nr_vms; i++) {
                if (in->vms[i].nr_regions == 0)
                        continue;
                plan->regions[i] = calloc(in->vms[i].nr_regions, sizeof(*plan->regions[i]));
                if (!plan->regions[i])
                        return -ENOMEM;
        }
        return 0;
}

/* Rule 7's ranking key: heat x the bytes off target that can move this epoch. A region larger
 * than the epoch's budget moves at most the budget's worth now (the bytes its pages' cost lets the
 * budget pay for), so ranking it by all of its bytes would put a large lukewarm region ahead of
 * the small hot ones the budget could move instead. */
static double benefit(const nv_region *r, uint64_t off_target, uint64_t page, uint64_t budget) {
        double movable = (double)budget * (double)page / (double)nv_move_page_cost(page);

        return (double)r->heat * MIN((double)off_target, movable);
}

/* Rule 10: the candidates' verdicts and bytes per verdict, and the moves in benefit order, each
 * after the victims that make room for it. */
static int plan_record(nv_placement_plan *plan, const nv_candidate *cand, size_t nr_cand,
                       const size_t *order, size_t nr_order, const nv_victim *victims, size_t nr_victims) {
        size_t nr_moves = 0;

        for (size_t k = 0; k < nr_victims; k++) {
                const nv_victim *v = &victims[k];
                nv_region_plan *p;
                uint64_t *by;

                if (v->planned == 0)
                        continue;
                p = &plan->regions[v->vm][v->index];
                by = plan->bytes_by_verdict[v->vm];
                by[p->verdict] -= MIN(by[p->verdict], v->planned);
                by[NV_VERDICT_MAKE_ROOM] += v->planned;
                p->verdict = NV_VERDICT_MAKE_ROOM;
                nr_moves++;
        }

        for (size_t k = 0; k < nr_cand; k++) {
                const nv_candidate *c = &cand[k];
                uint64_t *by = plan->bytes_by_verdict[c->vm];

                if (c->planned == 0) {
                        plan->regions[c->vm][c->index].verdict = c->limit;
                        by[c->limit] += c->size;
                } else if (c->planned >= c->want)
                        by[NV_VERDICT_MOVE] += c->size;
                else {
                        /* Partly planned: the rest counts under what stopped it. */
                        by[NV_VERDICT_MOVE] += c->planned;
                        by[c->limit] += c->size - c->planned;
                }
                if (c->planned > 0)
                        nr_moves++;
        }
        if (nr_moves == 0)
                return 0;

        plan->moves = malloc(nr_moves * sizeof(*plan->moves));
        if (!plan->moves)
                return -ENOMEM;
        for (size_t k = 0; k < nr_order; k++) {
                const nv_candidate *c = &cand[order[k]];

                for (size_t i = 0; i < nr_victims; i++) {
                        const nv_victim *v = &victims[i];

                        if (v->planned == 0 || v->before != k)
                                continue;
                        plan->moves[plan->nr_moves++] = (nv_move){
                                .vm = v->vm,
                                .region = v->index,
                                .target = v->dest,
                                .bytes = v->planned,
                                .page = v->page,
                        };
                        plan->planned_bytes += v->planned;
                        plan->planned_cost += nv_move_cost(v->planned, v->page);
                }
                if (c->planned == 0)
                        continue;
                plan->moves[plan->nr_moves++] = (nv_move){
                        .vm = c->vm,
                        .region = c->index,
                        .target = c->target,
                        .bytes = c->planned,
                        .page = c->page,
                        .benefit = c->benefit,
                };
                plan->planned_bytes += c->planned;
                plan->planned_cost += nv_move_cost(c->planned, c->page);
        }
        return 0;
}

/* The spares (placement.h), in benefit order. */
static int plan_spares(nv_placement_plan *plan, const nv_candidate *cand, const size_t *order,
                       size_t nr_order) {
        size_t n = 0;

        for (size_t k = 0; k < nr_order; k++)
                n += cand[order[k]].spare > 0;
        if (n == 0)
                return 0;
        plan->spares = malloc(n * sizeof(*plan->spares));
        if (!plan->spares)
                return -ENOMEM;
        for (size_t k = 0; k < nr_order; k++) {
                const nv_candidate *c = &cand[order[k]];

                if (c->spare == 0)
                        continue;
                plan->spares[plan->nr_spares++] = (nv_move){
                        .vm = c->vm,
                        .region = c->index,
                        .target = c->target,
                        .bytes = c->spare,
                        .page = c->page,
                        .benefit = c->benefit,
                };
        }
        return 0;
}

int nv_placement_plan_compute(const nv_placement_input *in, nv_placement_plan *ret_plan) {
        _cleanup_(nv_placement_plan_clear) nv_placement_plan plan = {};
        _cleanup_free_ nv_candidate *cand = NULL;
        _cleanup_free_ uint64_t *demand = NULL, *share = NULL, *shares = NULL;
        _cleanup_free_ nv_victim *victims = NULL;
        bool full[NV_MAX_NODES] = {}, any_full = false;
        size_t nr_victims = 0;
        _cleanup_free_ double *weight = NULL;
        _cleanup_free_ size_t *order = NULL;
        size_t nr_cand = 0, nr_order = 0, cand_size = 0;
        int r;

        r = plan_alloc(in, &plan);
        if (r < 0)
                return r;
        if (in->nr_vms > 0) {
                demand = calloc(in->nr_vms, sizeof(*demand));
                share = calloc(in->nr_vms, sizeof(*share));
                weight = calloc(in->nr_vms, sizeof(*weight));
                if (!demand || !share || !weight)
                        return -ENOMEM;
        }

        /* Rules 1-6: a verdict for every region, or a place among the candidates. */
        for (size_t i = 0; i < in->nr_vms; i++) {
                const nv_placement_vm *vm = &in->vms[i];
                double hot_heat = nv_placement_hot_heat(vm->regions, vm->nr_regions, in->cfg->hot_threshold);

                weight[i] = vm_weight(vm);
                for (size_t j = 0; j < vm->nr_regions; j++) {
                        const nv_region *reg = &vm->regions[j];
                        nv_region_plan *p = &plan.regions[i][j];
                        uint64_t page, cost;
                        nv_verdict v = evaluate_region(in, vm, reg, hot_heat, p, &page);

                        p->verdict = (uint8_t)v;
                        if (v != NV_VERDICT_MOVE) {
                                plan.bytes_by_verdict[i][v] += region_size(reg);
                                continue;
                        }
                        if (nr_cand == cand_size) {
                                /* Grown as needed: usually a small part of the regions moves. */
                                size_t n = MAX(cand_size * 2, (size_t)256);
                                nv_candidate *c = reallocarray(cand, n, sizeof(*cand));

                                if (!c)
                                        return -ENOMEM;
                                cand = c;
                                cand_size = n;
                        }
                        cand[nr_cand++] = (nv_candidate){
                                .region = reg,
                                .vm = (uint32_t)i,
                                .index = (uint32_t)j,
                                .target = p->target,
                                .page = page,
                                .size = region_size(reg),
                                .want = p->bytes,
                                .benefit = benefit(reg, p->bytes, page, in->cfg->budget_cost),
                        };
                        cost = nv_move_cost(p->bytes, page);
                        demand[i] = demand[i] + cost < demand[i] ? UINT64_MAX : demand[i] + cost;
                }
        }

        /* Rules 7-9: rank, share the budget, respect the floors. */
        r = nv_budget_shares(demand, weight, in->nr_vms, in->cfg->budget_cost, share);
        if (r < 0)
                return r;
        if (nr_cand > 0) {
                order = malloc(nr_cand * sizeof(*order));
                if (!order)
                        return -ENOMEM;
        }
        if (in->nr_vms > 0) {
                shares = malloc(in->nr_vms * sizeof(*shares));
                if (!shares)
                        return -ENOMEM;
                memcpy(shares, share, in->nr_vms * sizeof(*shares));
        }
        r = nv_budget_allocate(cand, nr_cand, share, in->nr_vms, in->cfg->budget_cost, in->inv,
                               in->cfg->node_floor_bytes, NULL, 0, order, &nr_order);
        if (r < 0)
                return r;

        /* Rule 11: where a floor stopped a candidate, plan again, making room on those nodes. */
        for (size_t k = 0; k < nr_cand; k++)
                if (cand[k].limit == NV_VERDICT_NODE_FLOOR && cand[k].target >= 0) {
                        full[cand[k].target] = true;
                        any_full = true;
                }
        if (any_full) {
                r = nv_room_victims(in, &plan, full, &victims, &nr_victims);
                if (r < 0)
                        return r;
        }
        if (nr_victims > 0) {
                memcpy(share, shares, in->nr_vms * sizeof(*shares));
                r = nv_budget_allocate(cand, nr_cand, share, in->nr_vms, in->cfg->budget_cost, in->inv,
                                       in->cfg->node_floor_bytes, victims, nr_victims, order, &nr_order);
                if (r < 0)
                        return r;
        }

        r = plan_record(&plan, cand, nr_cand, order, nr_order, victims, nr_victims);
        if (r < 0)
                return r;
        r = plan_spares(&plan, cand, order, nr_order);
        if (r < 0)
                return r;

        *ret_plan = plan;
        plan = (nv_placement_plan){};
        return 0;
}
