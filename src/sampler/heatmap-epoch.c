/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The end of an epoch for a heat map: fold the round's counts into heat, merge alike neighbours,
 * split to refine, and locate each region's pages. DAMON's adaptive regions (mm/damon/core.c:
 * kdamond_merge_regions, kdamond_split_regions), over the access and mover ports. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/log.h"
#include "sampler/heatmap-internal.h"

static void fold_heat(nv_heatmap *h) {
        float alpha = (float)h->cfg.heat_alpha, keep = 1.0f - alpha;

        for (size_t i = 0; i < h->nr_regions; i++) {
                nv_region *r = &h->regions[i];
                hm_probe *p = &h->probe[i];

                if (p->samples > 0)
                        r->heat = alpha * ((float)p->hits / (float)p->samples) + keep * r->heat;
                else
                        r->heat *= keep;
                r->heat = CLAMP(r->heat, 0.0f, 1.0f);
                r->hits = r->samples = p->hits = p->samples = 0;
                r->age++;
        }
}

/* Fold region b, the right neighbour, into a (after fold_heat: no counts to add). */
static void merge_into(nv_region *a, hm_probe *a_probe, const nv_region *b, const hm_probe *b_probe) {
        double ab = (double)nv_region_bytes(a), bb = (double)nv_region_bytes(b);

        a->heat = (float)((a->heat * ab + b->heat * bb) / (ab + bb));
        for (unsigned k = 0; k < NV_MAX_NODES; k++)
                a->node_bytes[k] += b->node_bytes[k];
        a->end = b->end;
        a->age = 0;
        if (b->moved_epoch > a->moved_epoch) {
                a->moved_epoch = b->moved_epoch;
                a->moved_to = b->moved_to;
                a->left_node = b->left_node;
        }
        a->streak_target = -1;
        a->target_streak = 0;
        if (a_probe->chosen == HM_NO_PAGE)
                a_probe->chosen = b_probe->chosen;
}

/* One left-to-right pass merging neighbours in the same range whose heat differs by less than
 * delta, into regions of at most size_limit bytes (0: any), never below floor regions. */
static void merge_pass(nv_heatmap *h, double delta, uint64_t size_limit, size_t floor) {
        nv_region *regions = h->regions;
        hm_probe *probe = h->probe;
        size_t n = h->nr_regions, w = 0;

        if (n == 0)
                return;
        /* w: the region being grown; i - 1 - w regions were merged away so far. */
        for (size_t i = 1; i < n; i++) {
                nv_region *a = &regions[w];
                const nv_region *b = &regions[i];

                if (n - (i - 1 - w) > floor && a->range == b->range && a->end == b->start &&
                    fabs((double)a->heat - (double)b->heat) < delta &&
                    (size_limit == 0 || nv_region_bytes(a) + nv_region_bytes(b) <= size_limit)) {
                        merge_into(a, &probe[w], b, &probe[i]);
                        continue;
                }
                w++;
                regions[w] = *b;
                probe[w] = probe[i];
        }
        h->nr_regions = w + 1;
}

static void merge_regions(nv_heatmap *h) {
        uint64_t total = 0;
        double delta = h->cfg.merge_delta;

        for (size_t i = 0; i < h->nr_regions; i++)
                total += nv_region_bytes(&h->regions[i]);

        /* As DAMON: alike neighbours merge, but not into regions above total / min_regions, so
         * that a uniform VM keeps about min_regions regions of similar size. */
        merge_pass(h, delta, MAX(total / h->cfg.min_regions, (uint64_t)1), h->cfg.min_regions);

        /* Over max_regions (the bounds were lowered, or ranges were added): merge the most alike
         * neighbours first, widening the tolerance until the count fits. */
        for (delta = MAX(delta, 1.0 / 64); h->nr_regions > h->cfg.max_regions; delta *= 2) {
                merge_pass(h, delta > 1.0 ? INFINITY : delta, 0, h->cfg.max_regions);
                if (delta > 1.0)
                        break; /* Only range boundaries are left: that many regions it takes. */
        }
}

/* Split region i into k pieces at random page boundaries, cut j drawn from the pages around
 * j * pages / k (disjoint windows, so pieces are never empty); the pieces land at dst.. dst + k - 1
 * and inherit heat and history, node_bytes shared in proportion. */
static void split_one(nv_heatmap *h, size_t i, size_t dst, uint64_t k) {
        const nv_region r = h->regions[i];
        uint64_t chosen = h->probe[i].chosen, bytes = nv_region_bytes(&r), start = r.start,
                 left[NV_MAX_NODES];
        unsigned shift = hm_region_shift(h, &r);
        uint64_t pages = bytes >> shift, two_k = 2 * k;
        /* Window j is (floor((2j - 1) pages / 2k), floor((2j + 1) pages / 2k)]; stepped, not divided. */
        uint64_t lo = pages / two_k, lo_rem = pages % two_k, step = pages / k,
                 step_rem = (2 * pages) % two_k;

        memcpy(left, r.node_bytes, sizeof(left));
        for (uint64_t j = 0; j < k; j++) {
                nv_region *piece = &h->regions[dst + j];
                uint64_t end = r.end;

                if (j + 1 < k) {
                        uint64_t hi = lo + step + (lo_rem + step_rem >= two_k);

                        end = r.start + ((lo + 1 + hm_random_below(h, hi - lo)) << shift);
                        lo = hi;
                        lo_rem = (lo_rem + step_rem) % two_k;
                }
                *piece = r;
                piece->start = start;
                piece->end = end;
                piece->age = 0;
                for (unsigned nd = 0; nd < NV_MAX_NODES; nd++)
                        if (r.node_bytes[nd] != 0) {
                                piece->node_bytes[nd] =
                                        j + 1 < k ? (uint64_t)((unsigned __int128)r.node_bytes[nd] *
                                                               (end - start) / bytes)
                                                  : left[nd];
                                left[nd] -= piece->node_bytes[nd];
                        }
                /* The page chosen last round is cleared already: the piece holding it keeps it. */
                h->probe[dst + j] = (hm_probe){
                        .chosen = chosen != HM_NO_PAGE && chosen >= start && chosen < end ? chosen
                                                                                          : HM_NO_PAGE,
                };
                start = end;
        }
}

/* How many pieces each region becomes: as many passes of splitting every region in two would
 * make, without the passes: the same number for each (a region of few pages fewer), the
 * remainder to a run of regions starting at a random one, so that no part of the VM is favoured. */
static size_t plan_pieces(nv_heatmap *h, int *pieces) {
        size_t n = h->nr_regions, total = n, max = h->cfg.max_regions;

        for (size_t i = 0; i < n; i++)
                pieces[i] = 1;
        while (total < max) {
                size_t open = 0, share, given = 0, first;

                for (size_t i = 0; i < n; i++)
                        open += (uint64_t)pieces[i] < h->probe[i].pages;
                if (open == 0)
                        break;
                share = (max - total) / open;
                if (share > 0) {
                        for (size_t i = 0; i < n; i++) {
                                uint64_t room = h->probe[i].pages - (uint64_t)pieces[i];

                                if (room > 0) {
                                        pieces[i] += (int)MIN(share, room);
                                        total += MIN(share, room);
                                }
                        }
                        continue;
                }
                first = (size_t)hm_random_below(h, n);
                for (size_t c = 0; c < n && given < max - total; c++) {
                        size_t i = (first + c) % n;

                        if ((uint64_t)pieces[i] < h->probe[i].pages) {
                                pieces[i]++;
                                given++;
                        }
                }
                total += given;
        }
        return total;
}

/* Split regions until max_regions, or until every region is a single page. */
static int split_regions(nv_heatmap *h) {
        size_t n = h->nr_regions, total, w;
        int r;

        if (n >= h->cfg.max_regions || n == 0)
                return 0;
        r = hm_reserve_regions(h, h->cfg.max_regions);
        if (r < 0)
                return r;
        r = hm_reserve_status(h, n);
        if (r < 0)
                return r;
        hm_refresh_probes(h); /* pages of the merged regions */
        total = plan_pieces(h, h->status);

        /* From the back, so that every region moves once, toward the end. */
        w = total;
        for (size_t i = n; i-- > 0;) {
                uint64_t k = (uint64_t)h->status[i];

                w -= k;
                if (k > 1)
                        split_one(h, i, w, k);
                else if (w != i) {
                        h->regions[w] = h->regions[i];
                        h->probe[w] = h->probe[i];
                }
        }
        h->nr_regions = total;
        return 0;
}

/* One query for the regions with pages of (1 << shift) bytes: m = min(locate_samples, pages) pages
 * each, spread evenly (page (2j + 1) * pages / 2m, the middle of m equal parts), then node_bytes
 * from the share of the answers on each node. */
static int locate_shift(nv_heatmap *h, const nv_mover_ops *mover, void *mover_ctx, const nv_vm_info *vm,
                        unsigned shift) {
        const hm_probe *probe = h->probe;
        uint64_t *addrs = h->addrs, samples = h->cfg.locate_samples;
        int *status = h->status;
        size_t n = h->nr_regions, k = 0;
        int r;

        if (h->nr_by_shift[shift == NV_HUGE_SHIFT] == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                const hm_probe *p = &probe[i];
                uint64_t m = MIN(samples, p->pages), two_m = 2 * m;
                /* (2j + 1) * pages / 2m, stepped without a division per page. */
                uint64_t q = p->pages / two_m, rem = p->pages % two_m;
                uint64_t q_step = p->pages / m, rem_step = (2 * p->pages) % two_m;

                if (p->shift != shift)
                        continue;
                for (uint64_t j = 0; j < m; j++) {
                        addrs[k++] = p->start + (q << shift);
                        q += q_step;
                        rem += rem_step;
                        if (rem >= two_m) {
                                rem -= two_m;
                                q++;
                        }
                }
        }

        r = mover->move_pages(mover_ctx, vm, k, addrs, NULL, status);
        if (r < 0)
                return log_debug_errno(r, "Locating %zu pages of VM %s failed: %m", k, vm->name ?: "?");

        k = 0;
        for (size_t i = 0; i < n; i++) {
                const hm_probe *p = &probe[i];
                nv_region *reg = &h->regions[i];
                unsigned on_node[NV_MAX_NODES];
                uint16_t seen = 0; /* bit mask of the nodes answered */
                uint64_t m, answered = 0, bytes;

                if (p->shift != shift)
                        continue;
                m = MIN(samples, p->pages);
                for (uint64_t j = 0; j < m; j++, k++) {
                        int nd = status[k];

                        if (nd < 0 || nd >= NV_MAX_NODES)
                                continue; /* not present, or an error: no answer */
                        if (!(seen & (1u << nd))) {
                                seen |= 1u << nd;
                                on_node[nd] = 0;
                        }
                        on_node[nd]++;
                        answered++;
                }
                bytes = p->pages << shift;
                memset(reg->node_bytes, 0, sizeof(reg->node_bytes));
                for (; seen; seen &= seen - 1) {
                        unsigned nd = (unsigned)__builtin_ctz(seen);

                        /* bytes * on / answered, exact and without overflow: on <= answered <= 64. */
                        reg->node_bytes[nd] =
                                bytes / answered * on_node[nd] + bytes % answered * on_node[nd] / answered;
                }
        }
        return 0;
}

static int locate_regions(nv_heatmap *h, const nv_mover_ops *mover, void *mover_ctx, const nv_vm_info *vm) {
        size_t need = h->nr_regions * h->cfg.locate_samples;
        int r;

        r = hm_reserve_addrs(h, need);
        if (r < 0)
                return r;
        r = hm_reserve_status(h, need);
        if (r < 0)
                return r;
        r = locate_shift(h, mover, mover_ctx, vm, NV_PAGE_SHIFT);
        if (r < 0)
                return r;
        return locate_shift(h, mover, mover_ctx, vm, NV_HUGE_SHIFT);
}

int nv_heatmap_end_epoch(nv_heatmap *h, const nv_mover_ops *mover, void *mover_ctx, const nv_vm_info *vm) {
        int r;

        fold_heat(h);
        merge_regions(h);
        r = split_regions(h);
        if (r < 0)
                log_debug_errno(r, "Cannot split the regions of VM %s, ignoring: %m", vm->name ?: "?");
        hm_refresh_probes(h);

        if (!mover || !mover->move_pages || h->cfg.locate_samples == 0)
                return 0;
        return locate_regions(h, mover, mover_ctx, vm);
}
