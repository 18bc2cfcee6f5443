/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One epoch: refresh the inventory, (sampling runs during the epoch), fold the samples into heat,
 * ask the policy for a plan, carry it out, publish. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/attribution.h"
#include "daemon/hot-pages.h"
#include "daemon/manager.h"
#include "daemon/migration.h"
#include "model/move-cost.h"
#include "sampler/region-history.h"

static nv_vm_state *find_state(nv_manager *m, uint64_t id) {
        for (size_t i = 0; i < m->nr_vms; i++)
                if (m->vms[i]->info.id == id)
                        return m->vms[i];
        return NULL;
}

nv_heatmap_config nv_manager_heatmap_config(const nv_manager *m) {
        nv_heatmap_config c;

        nv_heatmap_config_defaults(&c);
        c.min_regions = m->config->min_regions;
        c.max_regions = m->config->max_regions;
        c.heat_alpha = m->config->heat_alpha;
        c.merge_delta = m->config->merge_delta;
        c.flush = m->flush;
        /* No region larger than one epoch's moves (of 4 KiB pages, the dearest per byte,
         * model/move-cost.h): a partial move would leave it planned from its head. */
        c.max_region_bytes = nv_config_epoch_bytes(m->config, m->config->max_move_rate);
        return c;
}

static void apply_overrides(const nv_manager *m, nv_vm_state *s) {
        nv_vm_override o = {};

        s->placement = m->config->placement;
        s->weight = 1.0;
        s->max_move_rate = 0;
        if (!nv_config_vm_override(m->config, s->info.name, s->info.uuid, &o))
                return;
        if (o.has_placement)
                s->placement = o.placement;
        if (o.has_weight)
                s->weight = o.weight;
        if (o.has_max_move_rate)
                s->max_move_rate = o.max_move_rate;
}

static bool ranges_equal(const nv_vm_info *a, const nv_vm_info *b) {
        return a->nr_ranges == b->nr_ranges &&
               (a->nr_ranges == 0 || memcmp(a->ranges, b->ranges, a->nr_ranges * sizeof(*a->ranges)) == 0);
}

static int track_vm(nv_manager *m, const nv_vm_info *vm) {
        _cleanup_(nv_vm_state_freep) nv_vm_state *s = NULL;
        nv_heatmap_config hc = nv_manager_heatmap_config(m);
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return log_oom();
        r = nv_vm_info_copy(&s->info, vm);
        if (r < 0)
                return log_oom();
        r = nv_heatmap_new(vm, &hc, vm->id * 0x9e3779b97f4a7c15ULL + 1, &s->heat);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the heat map of VM %s: %m", vm->name);
        if (m->access && m->access->attach) {
                r = m->access->attach(m->access_ctx, vm);
                if (r < 0)
                        log_warning_errno(r, "Cannot attach the %s sampler to VM %s, ignoring: %m",
                                          m->access->name, vm->name);
                else
                        s->attached = true;
        }
        nv_hot_pages_track(m, s);
        apply_overrides(m, s);
        s->counters.target_node = -1;
        s->seen = true;
        nv_epoch_counters_open(m, s); /* perf, KVM stats, numa_maps, dirty rate */
        nv_epoch_attribution(m, s);   /* attach, and zap the first sample */

        nv_vm_state **a = reallocarray(m->vms, m->nr_vms + 1, sizeof(*a));
        if (!a)
                return log_oom();
        m->vms = a;
        m->vms[m->nr_vms++] = TAKE_PTR(s);
        log_info("Tracking VM %s (pid %d, %u vCPUs, %zu RAM ranges).", vm->name, (int)vm->pid, vm->nr_vcpus,
                 vm->nr_ranges);
        return 0;
}

static void forget_vm(nv_manager *m, size_t i, bool gone) {
        nv_vm_state *s = m->vms[i];

        if (gone)
                log_info("VM %s is gone, forgetting it.", s->info.name);
        if (s->attached && m->access->detach)
                m->access->detach(m->access_ctx, s->info.id);
        nv_epoch_attribution_forget(m, s);
        nv_mover_forget_vm(m->mover, s->info.id);
        nv_vm_state_free(s);
        m->vms[i] = m->vms[--m->nr_vms];
}

static int update_vm(nv_manager *m, nv_vm_state *s, const nv_vm_info *vm) {
        bool same = ranges_equal(&s->info, vm);
        nv_vm_info copy;
        int r;

        r = nv_vm_info_copy(&copy, vm);
        if (r < 0)
                return log_oom();
        nv_vm_info_clear(&s->info);
        s->info = copy;
        if (!same) {
                r = nv_heatmap_update_ranges(s->heat, vm);
                if (r < 0)
                        return log_error_errno(r, "Cannot follow the RAM ranges of VM %s: %m", vm->name);
                nv_epoch_attribution_forget(m, s);     /* its votes are per range: start afresh */
                s->pages = nv_pagescan_free(s->pages); /* and its scan */
                nv_hot_pages_track(m, s);
        }
        apply_overrides(m, s);
        s->seen = true;
        return 0;
}

int nv_epoch_refresh(nv_manager *m) {
        nv_inventory inv = {};
        int r;

        r = m->host.source->refresh(m->host.ctx, &inv);
        if (r < 0) {
                nv_inventory_clear(&inv);
                return log_warning_errno(r, "Cannot refresh the VM inventory, keeping the last one: %m");
        }
        nv_inventory_clear(&m->inv);
        m->inv = inv;

        for (size_t i = 0; i < m->nr_vms; i++)
                m->vms[i]->seen = false;
        for (size_t i = 0; i < m->inv.nr_vms; i++) {
                const nv_vm_info *vm = &m->inv.vms[i];
                nv_vm_state *s = find_state(m, vm->id);

                r = s ? update_vm(m, s, vm) : track_vm(m, vm);
                if (r < 0) {
                        log_warning_errno(r, "Skipping VM %s this epoch: %m", vm->name);
                        continue;
                }
                nv_migration_follow(m, s ?: m->vms[m->nr_vms - 1]);
        }
        for (size_t i = m->nr_vms; i > 0; i--)
                if (!m->vms[i - 1]->seen)
                        forget_vm(m, i - 1, true);
        return 0;
}

void nv_epoch_forget_all(nv_manager *m) {
        while (m->nr_vms > 0)
                forget_vm(m, m->nr_vms - 1, false);
}

void nv_epoch_forget(nv_manager *m, uint64_t id) {
        for (size_t i = 0; i < m->nr_vms; i++)
                if (m->vms[i]->info.id == id) {
                        forget_vm(m, i, false);
                        return;
                }
}

/* A backend that aggregates on its own: adopt its regions' heat. <0 when it had none for the VM. */
static int nv_epoch_backend_regions(nv_manager *m, nv_vm_state *s) {
        _cleanup_free_ nv_access_region *regions = NULL;
        size_t n = 0;
        int r;

        r = m->access->regions(m->access_ctx, &s->info, &regions, &n);
        if (r == -EAGAIN)
                return 0; /* nothing aggregated yet: no samples this epoch, the heat ages */
        if (r < 0)
                return log_debug_errno(r, "No %s regions for VM %s this epoch, placing it whole: %m",
                                       m->access->name, s->info.name);
        nv_heatmap_apply_regions(s->heat, regions, n);
        return 0;
}

void nv_epoch_sample(nv_manager *m) {
        if (!m->access || !m->access->harvest)
                return;
        for (size_t i = 0; i < m->nr_vms; i++) {
                nv_vm_state *s = m->vms[i];
                int r;

                if (!s->seen)
                        continue;
                r = nv_heatmap_sample(s->heat, m->access, m->access_ctx, &s->info);
                if (r == -ESRCH)
                        s->seen = false; /* gone: forgotten at the next refresh */
                else if (r < 0)
                        log_debug_errno(r, "Sampling VM %s failed, ignoring: %m", s->info.name);
                if (s->seen)
                        nv_hot_pages_sample(m, s);
        }
}

uint64_t nv_epoch_vm_allowance(const nv_manager *m, const nv_vm_state *s, uint64_t max_bytes,
                               uint64_t page) {
        uint64_t cap;

        /* The VM's own MaxMoveRate=, counted as the host's: in cost (model/move-cost.h). */
        if (s->max_move_rate == 0)
                return max_bytes;
        cap = nv_config_epoch_bytes(m->config, s->max_move_rate);
        return s->epoch_cost >= cap ? 0 : MIN(max_bytes, nv_move_bytes_within(cap - s->epoch_cost, page));
}

uint64_t nv_epoch_note_moves(nv_manager *m, nv_vm_state *s, int r, const nv_move_result *res,
                             uint64_t page) {
        if (r == -ESRCH) {
                s->seen = false;
                return 0;
        }
        if (r < 0) {
                log_debug_errno(r, "Moving pages of VM %s failed, ignoring: %m", s->info.name);
                return 0;
        }
        s->epoch_moved += res->bytes_moved;
        s->epoch_cost += nv_move_cost(res->bytes_moved, page);
        s->counters.failed_bytes += res->bytes_failed;
        if (res->bytes_moved == 0)
                return 0;
        nv_meters_note_moved(s->meters);
        s->counters.migrated_bytes += res->bytes_moved;
        m->moved_bytes += res->bytes_moved;
        return res->bytes_moved;
}

/* A debug line per region moved, before its history records the move: where it was, its heat, who
 * faulted on it and whether it goes back to the node it left (ping-pong), so that a move can be
 * traced back to what the policy saw. */
static void log_region_move(const nv_vm_state *s, const nv_region *rg, int target, uint64_t moved,
                            uint64_t epoch, unsigned nr_nodes) {
        char where[96] = "", votes[96] = "";
        size_t w = 0, v = 0;

        if (log_get_max_level() < LOG_DEBUG)
                return;
        for (unsigned n = 0; n < MIN(nr_nodes, (unsigned)NV_MAX_NODES); n++) {
                /* snprintf returns what it would have written: w and v are clamped below to stay inside */
                w += (size_t)snprintf(where + w, sizeof(where) - w, "%s%" PRIu64, n ? "/" : "",
                                      rg->node_bytes[n] >> 10);
                v += (size_t)snprintf(votes + v, sizeof(votes) - v, "%s%.1f", n ? "/" : "",
                                      (double)rg->votes[n]);
                w = MIN(w, sizeof(where) - 1);
                v = MIN(v, sizeof(votes) - 1);
        }
        log_debug("VM %s, epoch %" PRIu64 ": region %#" PRIx64 "-%#" PRIx64 " (heat %.2f, KiB by node %s,"
                  " votes %s, vote node %d x%u) to node %d%s: %" PRIu64 " bytes.",
                  s->info.name, epoch, rg->start, rg->end, (double)rg->heat, where, votes, rg->vote_node,
                  (unsigned)rg->vote_streak, target,
                  nv_region_move_is_back(rg, target) ? ", back where it was" : "", moved);
}

/* Move up to max_bytes of one region to mv->target in epoch `epoch`, and record it in the
 * region's history. Returns the bytes moved. */
static uint64_t carry_out(nv_manager *m, nv_vm_state *s, nv_region *rg, const nv_move *mv,
                          uint64_t max_bytes, uint64_t epoch) {
        uint64_t page = mv->page;
        unsigned shift = (unsigned)__builtin_ctzll(page);
        nv_move_result res = {};
        uint64_t moved;
        int r;

        max_bytes = nv_epoch_vm_allowance(m, s, max_bytes, page);
        if (max_bytes == 0)
                return 0;
        /* The whole region: pages already on the target are skipped, so a region planned in part
         * moves on each epoch where it stopped. */
        r = nv_mover_move_range(m->mover, &s->info, rg->start, rg->end, shift, mv->target, max_bytes, &res);
        moved = nv_epoch_note_moves(m, s, r, &res, page);
        if (moved > 0) {
                log_region_move(s, rg, mv->target, moved, epoch, m->inv.nr_nodes);
                if (nv_region_note_moved(rg, mv->target, moved, epoch))
                        s->counters.ping_pong_bytes += moved;
        }
        return moved;
}

/* The region a move names, or NULL when its VM is gone or its regions changed. */
static nv_region *move_region(nv_manager *m, const nv_move *mv) {
        nv_vm_state *s = m->vms[mv->vm];
        size_t n;
        nv_region *regions = nv_heatmap_regions(s->heat, &n);

        return s->seen && mv->region < n ? &regions[mv->region] : NULL;
}

/* The moves, then the spares out of what the moves left unspent (a cost, model/move-cost.h): a
 * move's bytes are an estimate from sampled pages, and the pages it finds off target may be
 * fewer. */
static void apply_plan(nv_manager *m, const nv_placement_plan *plan, uint64_t epoch) {
        uint64_t unspent = 0;

        for (size_t i = 0; i < plan->nr_moves; i++) {
                const nv_move *mv = &plan->moves[i];
                nv_region *rg = move_region(m, mv);
                uint64_t moved = rg ? carry_out(m, m->vms[mv->vm], rg, mv, mv->bytes, epoch) : 0;

                unspent += nv_move_cost(mv->bytes - MIN(moved, mv->bytes), mv->page);
        }
        for (size_t i = 0; i < plan->nr_spares && unspent > 0; i++) {
                const nv_move *mv = &plan->spares[i];
                nv_region *rg = move_region(m, mv);
                uint64_t moved;

                if (!rg)
                        continue;
                moved = carry_out(m, m->vms[mv->vm], rg, mv,
                                  MIN(mv->bytes, nv_move_bytes_within(unspent, mv->page)), epoch);
                unspent -= MIN(unspent, nv_move_cost(moved, mv->page));
        }
}

/* The node on which a region's hot bytes count as local: its target, or, for a shared region (its
 * faults come from several nodes, so it has none), the node holding most of it when that node's
 * vCPUs make at least a quarter of its faults. */
static int8_t local_node(const nv_region *rg, const nv_region_plan *rp, unsigned nr_nodes) {
        uint64_t most = 0;
        double total = 0;
        int best = -1;

        if (rp->target >= 0 || nv_votes_owner(rg->votes, nr_nodes, NV_VOTE_MIN) != -1)
                return rp->target;
        for (unsigned n = 0; n < nr_nodes && n < NV_MAX_NODES; n++) {
                total += rg->votes[n];
                if (rg->node_bytes[n] > most) {
                        most = rg->node_bytes[n];
                        best = (int)n;
                }
        }
        return best >= 0 && rg->votes[best] >= (1 - NV_VOTE_OWNER_SHARE) * total ? (int8_t)best : -1;
}

static void record_verdicts(nv_manager *m, const nv_placement_plan *plan) {
        for (size_t v = 0; v < m->nr_vms; v++) {
                nv_vm_state *s = m->vms[v];
                size_t n;
                nv_region *regions = nv_heatmap_regions(s->heat, &n);
                int votes[NV_MAX_NODES] = {};

                if (n > s->nr_region_target) {
                        int8_t *t = realloc(s->region_target, n);
                        if (!t) {
                                log_oom();
                                break;
                        }
                        s->region_target = t;
                }
                s->nr_region_target = n;
                int8_t *targets = s->region_target;
                for (size_t i = 0; i < n; i++) {
                        const nv_region_plan *rp = &plan->regions[v][i];
                        nv_region_note_streak(&regions[i], rp->streak_target, rp->target_streak);
                        targets[i] = local_node(&regions[i], rp, m->inv.nr_nodes);
                        if (rp->target >= 0)
                                votes[rp->target]++;
                }
                memcpy(s->counters.bytes_by_verdict, plan->bytes_by_verdict[v],
                       sizeof(s->counters.bytes_by_verdict));
                s->counters.hot_heat = nv_placement_hot_heat(regions, n, m->config->hot_threshold);
                nv_heatmap_hot_bytes(s->heat, s->counters.hot_heat, targets, &s->counters.hot_bytes,
                                     &s->counters.hot_local_bytes);
                memset(s->counters.hot_node_bytes, 0, sizeof(s->counters.hot_node_bytes));
                for (size_t i = 0; i < n; i++)
                        if (regions[i].heat >= s->counters.hot_heat)
                                for (unsigned nd = 0; nd < NV_MAX_NODES; nd++)
                                        s->counters.hot_node_bytes[nd] += regions[i].node_bytes[nd];
                s->counters.target_node = -1;
                for (int nd = 0, best = 0; nd < NV_MAX_NODES; nd++)
                        if (votes[nd] > best) {
                                best = votes[nd];
                                s->counters.target_node = nd;
                        }
        }
}

uint64_t nv_epoch_node_floor(const nv_manager *m, unsigned n) {
        const nv_node_info *node = &m->inv.nodes[n];

        /* NodeFreeFloor as a percentage is a share of each node's own memory. A floor below the
         * node's high watermark would let moves wake kswapd, which would reclaim what they brought
         * (or the node's page cache): the floor is never lower than the watermark. */
        return MAX(size_or_percent_resolve(&m->config->node_floor, node->total_bytes),
                   node->high_wmark_bytes);
}

static nv_placement_config placement_config(const nv_manager *m) {
        const nv_config *c = m->config;
        nv_placement_config p = {
                /* MaxMoveRate= is a cost per second (model/move-cost.h), as the mover's bucket is. */
                .budget_cost = MIN(nv_config_epoch_bytes(c, c->max_move_rate), nv_mover_tokens(m->mover)),
                .hot_threshold = c->hot_threshold,
                .dominance = c->dominance,
                .min_residency = nv_config_residency_epochs(c),
                .retarget_epochs = c->retarget_epochs,
        };

        for (unsigned n = 0; n < MIN(m->inv.nr_nodes, (unsigned)NV_MAX_NODES); n++)
                p.node_floor_bytes[n] = nv_epoch_node_floor(m, n);
        return p;
}

/* On a host with one NUMA node every resident page is local: nothing is planned or moved (as numad
 * does, said once). Heat, hot bytes, statistics, balloons and KSM go on. */
static void idle_on_one_node(nv_manager *m) {
        if (!m->one_node_noted)
                log_info(
                        "The host has %s NUMA node: all memory is local, numavd places nothing (statistics, "
                        "balloons and KSM go on).",
                        m->inv.nr_nodes == 0 ? "no known" : "one");
        m->one_node_noted = true;
        for (size_t i = 0; i < m->nr_vms; i++) {
                nv_vm_state *s = m->vms[i];
                size_t n;
                const nv_region *regions = nv_heatmap_regions(s->heat, &n);

                memset(s->counters.bytes_by_verdict, 0, sizeof(s->counters.bytes_by_verdict));
                nv_heatmap_hot_bytes(s->heat, nv_placement_hot_heat(regions, n, m->config->hot_threshold),
                                     NULL, &s->counters.hot_bytes, NULL);
                s->counters.hot_local_bytes = s->counters.hot_bytes;
                s->counters.target_node = m->inv.nr_nodes == 1 ? 0 : -1;
                s->counters.epoch_moved_bytes = 0;
        }
}

static int plan_and_move(nv_manager *m) {
        nv_placement_vm *pvms = NULL;
        nv_placement_plan plan = {};
        int r;

        r = nv_mover_begin_epoch(m->mover, m->vclock, &m->inv);
        if (r < 0)
                log_debug_errno(r, "Retrying busy pages failed, ignoring: %m");

        pvms = calloc(MAX(m->nr_vms, 1u), sizeof(*pvms));
        if (!pvms)
                return log_oom();
        for (size_t i = 0; i < m->nr_vms; i++) {
                nv_vm_state *s = m->vms[i];
                size_t n;
                const nv_region *regions = nv_heatmap_regions(s->heat, &n);

                pvms[i] = (nv_placement_vm){
                        .info = &s->info,
                        .regions = regions,
                        .nr_regions = n,
                        .enabled = s->placement && s->seen,
                        .frozen = nv_vm_state_frozen(s, m->vclock),
                        /* remote-access pressure from the counters raises its share */
                        .weight = nv_meters_weight(s->weight, s->meters ? s->meters->pressure : 0),
                };
        }
        nv_placement_config pc = placement_config(m);
        nv_placement_input in = {
                .inv = &m->inv,
                .vms = pvms,
                .nr_vms = m->nr_vms,
                .epoch = m->epoch,
                .cfg = &pc,
        };
        r = nv_placement_plan_compute(&in, &plan);
        free(pvms);
        if (r < 0)
                return log_error_errno(r, "Cannot compute the placement plan: %m");

        if (!m->opts.dry_run) {
                apply_plan(m, &plan, m->epoch);
                nv_hot_pages_move(m, &plan, &pc);
        }
        record_verdicts(m, &plan);
        nv_placement_plan_clear(&plan);
        for (size_t i = 0; i < m->nr_vms; i++) {
                m->vms[i]->counters.epoch_moved_bytes = m->vms[i]->epoch_moved;
                m->vms[i]->epoch_moved = 0;
                m->vms[i]->epoch_cost = 0;
        }
        return 0;
}

int nv_epoch_finish(nv_manager *m) {
        int r;

        m->epoch++;
        (void)nv_epoch_refresh(m);

        for (size_t i = 0; i < m->nr_vms; i++) {
                nv_vm_state *s = m->vms[i];

                s->whole_vm = !m->access || !s->attached;
                if (m->access && m->access->regions && s->attached)
                        s->whole_vm = nv_epoch_backend_regions(m, s) < 0;
                r = nv_heatmap_end_epoch(s->heat, m->host.mover, m->host.mover_ctx, &s->info);
                if (r < 0 && r != -ESRCH)
                        log_debug_errno(r, "Locating the pages of VM %s failed, ignoring: %m", s->info.name);
                nv_epoch_attribution(m, s);
                nv_epoch_meters_collect(m, s);
                if (s->whole_vm)
                        nv_heatmap_mark_all_hot(s->heat);
        }

        if (m->inv.nr_nodes > 1) {
                m->one_node_noted = false;
                r = plan_and_move(m);
                if (r < 0)
                        return r;
        } else
                idle_on_one_node(m);

        nv_overcommit_epoch(m); /* balloon targets and KSM */

        nv_report_epoch(m);
        return 0;
}

/* A region that turned hot since the last epoch end (every sample so far saw an access, at least
 * EARLY_MIN_SAMPLES of them, while its heat says cold) need not wait for the epoch's end: the
 * policy plans those regions alone, as hot, with the inventory of the last epoch's end, and they
 * move at once. A hot set that shifts is then remote for a part of an epoch, not a whole one;
 * memory that is merely warm, and every other decision, waits for the epoch's end as before.
 * Five samples all accessed: a region accessed in fewer than half of the intervals passes in
 * fewer than 1 of 32 checks. */
#define EARLY_MIN_SAMPLES 5u

unsigned nv_epoch_early_rounds(const nv_manager *m) {
        return MAX(nv_manager_samples_per_epoch(m) / 4, EARLY_MIN_SAMPLES);
}

/* The early plan's input for one VM: copies of the regions that turned hot, as hot, and where
 * they are in the heat map. */
typedef struct early_vm {
        nv_region *regions;
        uint32_t *index;
        size_t n;
} early_vm;

static void early_vms_free(early_vm *e, size_t n) {
        for (size_t i = 0; e && i < n; i++) {
                free(e[i].regions);
                free(e[i].index);
        }
        free(e);
}

void nv_epoch_early_moves(nv_manager *m) {
        _cleanup_free_ nv_placement_vm *pvms = NULL;
        early_vm *early = NULL;
        nv_placement_plan plan = {};
        size_t marked = 0;
        int r;

        if (m->opts.dry_run || !m->access || !m->access->harvest || m->nr_vms == 0 || m->inv.nr_nodes <= 1)
                return;
        pvms = calloc(m->nr_vms, sizeof(*pvms));
        early = calloc(m->nr_vms, sizeof(*early));
        if (!pvms || !early) {
                log_oom();
                goto out;
        }
        for (size_t i = 0; i < m->nr_vms; i++) {
                nv_vm_state *s = m->vms[i];
                early_vm *e = &early[i];
                const nv_region *regions;
                size_t n;

                pvms[i] = (nv_placement_vm){ .info = &s->info };
                if (!s->seen || !s->placement || s->whole_vm)
                        continue;
                r = nv_heatmap_turned_hot(s->heat, EARLY_MIN_SAMPLES, m->config->hot_threshold, &e->index,
                                          &e->n);
                if (r < 0) {
                        log_oom();
                        goto out;
                }
                if (e->n == 0)
                        continue;
                e->regions = reallocarray(NULL, e->n, sizeof(*e->regions));
                if (!e->regions) {
                        log_oom();
                        goto out;
                }
                regions = nv_heatmap_regions(s->heat, &n);
                for (size_t k = 0; k < e->n; k++) {
                        e->regions[k] = regions[e->index[k]];
                        e->regions[k].heat = 1.0f;
                }
                pvms[i] = (nv_placement_vm){
                        .info = &s->info,
                        .regions = e->regions,
                        .nr_regions = e->n,
                        .enabled = true,
                        .frozen = nv_vm_state_frozen(s, m->vclock),
                        .weight = nv_meters_weight(s->weight, s->meters ? s->meters->pressure : 0),
                };
                marked += e->n;
        }
        if (marked == 0)
                goto out;

        nv_placement_config pc = placement_config(m);
        nv_placement_input in = {
                .inv = &m->inv,
                .vms = pvms,
                .nr_vms = m->nr_vms,
                .epoch = m->epoch + 1, /* the epoch under way */
                .cfg = &pc,
        };
        r = nv_placement_plan_compute(&in, &plan);
        if (r < 0) {
                log_debug_errno(r, "Cannot plan the early moves, ignoring: %m");
                goto out;
        }
        /* From the copies' order back to the heat maps'. */
        for (size_t k = 0; k < plan.nr_moves; k++)
                plan.moves[k].region = early[plan.moves[k].vm].index[plan.moves[k].region];
        for (size_t k = 0; k < plan.nr_spares; k++)
                plan.spares[k].region = early[plan.spares[k].vm].index[plan.spares[k].region];
        apply_plan(m, &plan, m->epoch + 1);
        nv_placement_plan_clear(&plan);
out:
        early_vms_free(early, m->nr_vms);
}
