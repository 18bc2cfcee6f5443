/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdlib.h>

#include "common/log.h"
#include "daemon/hot-pages.h"
#include "policy/hotpages.h"
#include "sampler/pagescan.h"

uint64_t nv_hot_pages_window(const nv_manager *m) {
        uint64_t bytes = nv_config_epoch_bytes(m->config, m->config->max_move_rate);

        return MAX(bytes / nv_manager_samples_per_epoch(m) / MAX(m->nr_vms, (size_t)1) >> NV_PAGE_SHIFT,
                   (uint64_t)1);
}

void nv_hot_pages_track(nv_manager *m, nv_vm_state *s) {
        int r;

        /* A backend that aggregates on its own (DAMON) reads no single pages. */
        if (!m->access || !m->access->harvest || m->access->regions || !s->attached)
                return;
        r = nv_pagescan_new(&s->pages);
        if (r < 0)
                log_debug_errno(r, "Cannot scan the pages of VM %s, ignoring: %m", s->info.name);
}

void nv_hot_pages_sample(nv_manager *m, nv_vm_state *s) {
        const nv_region *regions;
        size_t n;
        int r;

        /* Not before the VM's first plan: until then it has no hot threshold, and its regions no
         * heat to tell those hot as a whole. */
        if (!s->pages || !(s->counters.hot_heat > 0))
                return;
        regions = nv_heatmap_regions(s->heat, &n);
        r = nv_pagescan_round(s->pages, m->access, m->access_ctx, &s->info, regions, n, s->counters.hot_heat,
                              nv_hot_pages_window(m), m->flush ? NV_HARVEST_FLUSH : 0);
        if (r == -ESRCH)
                s->seen = false;
        else if (r < 0)
                log_debug_errno(r, "Scanning the pages of VM %s failed, ignoring: %m", s->info.name);
}

/* Send the VM's pages addrs[0..k) (proven[idx[j]]) to target within max_bytes; they are marked
 * sent only when the mover looked at all of them (else those it did not look at wait for the next
 * epoch, the others cost a query then). Returns the bytes moved. */
static uint64_t send(nv_manager *m, nv_vm_state *s, nv_hotpage *proven, const uint32_t *idx,
                     const uint64_t *addrs, size_t k, int target, uint64_t max_bytes) {
        nv_move_result res = {};
        int r;

        max_bytes = nv_epoch_vm_allowance(m, s, max_bytes, NV_PAGE_SIZE);
        if (max_bytes == 0)
                return 0;
        r = nv_mover_move_list(m->mover, &s->info, addrs, k, NV_PAGE_SHIFT, target, max_bytes, &res);
        /* Which of the pages moved the mover does not say: when some did, all count as moved now
         * (residency holds them all, erring against ping-pong). */
        if (r >= 0 && !res.budget_exhausted && !res.target_full)
                for (size_t j = 0; j < k; j++) {
                        proven[idx[j]].placed_to = (int8_t)target;
                        if (res.bytes_moved > 0)
                                proven[idx[j]].placed_epoch = m->epoch;
                }
        return nv_epoch_note_moves(m, s, r, &res, NV_PAGE_SIZE);
}

/* The VM's proven pages that go to `target` this epoch (the streaks of all of them are updated on
 * the first call, target 0), into addrs and idx. Returns how many. */
static size_t gather(nv_manager *m, nv_vm_state *s, size_t v, const nv_placement_plan *plan,
                     const nv_placement_config *pc, int8_t *where, int target, uint64_t *addrs,
                     uint32_t *idx) {
        size_t n, nr_regions, k = 0;
        nv_hotpage *proven = nv_pagescan_proven(s->pages, &n);
        const nv_region *regions = nv_heatmap_regions(s->heat, &nr_regions);

        for (size_t j = 0; j < n; j++) {
                if (target == 0) {
                        ssize_t ri = nv_pagescan_region_of(regions, nr_regions, proven[j].addr);
                        where[j] = ri < 0 ? -1
                                          : (int8_t)nv_hotpage_target(&proven[j], &plan->regions[v][ri],
                                                                      m->epoch, pc);
                }
                if (where[j] == target) {
                        addrs[k] = proven[j].addr;
                        idx[k++] = (uint32_t)j;
                }
        }
        return k;
}

void nv_hot_pages_move(nv_manager *m, const nv_placement_plan *plan, const nv_placement_config *pc) {
        uint64_t room[NV_MAX_NODES] = {};
        _cleanup_free_ uint64_t *addrs = NULL;
        _cleanup_free_ uint32_t *idx = NULL;
        _cleanup_free_ int8_t *where = NULL;

        /* What each node may still take above its floor, after the plan's moves into it. */
        for (unsigned nd = 0; nd < MIN(m->inv.nr_nodes, (unsigned)NV_MAX_NODES); nd++) {
                uint64_t free_bytes = m->inv.nodes[nd].free_bytes;
                room[nd] = free_bytes > pc->node_floor_bytes[nd] ? free_bytes - pc->node_floor_bytes[nd] : 0;
        }
        for (size_t i = 0; i < plan->nr_moves; i++) {
                int8_t t = plan->moves[i].target;
                if (t >= 0 && t < NV_MAX_NODES)
                        room[t] -= MIN(room[t], plan->moves[i].bytes);
        }

        for (size_t v = 0; v < m->nr_vms; v++) {
                nv_vm_state *s = m->vms[v];
                size_t n;

                if (!s->pages || !s->seen || s->whole_vm || v >= plan->nr_vms)
                        continue;
                (void)nv_pagescan_proven(s->pages, &n);
                if (n == 0)
                        continue;
                free(addrs);
                free(idx);
                free(where);
                addrs = reallocarray(NULL, n, sizeof(*addrs));
                idx = reallocarray(NULL, n, sizeof(*idx));
                where = reallocarray(NULL, n, sizeof(*where));
                if (!addrs || !idx || !where) {
                        log_oom();
                        return;
                }
                for (int t = 0; t < (int)MIN(m->inv.nr_nodes, (unsigned)NV_MAX_NODES); t++) {
                        nv_hotpage *proven = nv_pagescan_proven(s->pages, &n);
                        size_t k = gather(m, s, v, plan, pc, where, t, addrs, idx);
                        uint64_t budget = MIN(nv_mover_tokens(m->mover), room[t]);

                        if (k == 0 || budget < NV_PAGE_SIZE)
                                continue;
                        uint64_t moved = send(m, s, proven, idx, addrs, k, t, budget);

                        log_debug("VM %s: %zu proven hot pages go to node %d, %" PRIu64 " bytes moved.",
                                  s->info.name, k, t, moved);
                        room[t] -= MIN(room[t], moved);
                }
        }
}
