/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The end of an epoch for a heat map: fold the round's counts into heat, cut regions where their
 * parts' counts differ, merge alike neighbours, and locate each region's pages. DAMON's adaptive
 * regions (mm/damon/core.c: kdamond_merge_regions) over the access and mover ports, except that
 * regions are cut where the samples show an edge instead of at random points up to the cap
 * (kdamond_split_regions): the region count, and with it the cost, follows the heat's edges. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "common/log.h"
#include "sampler/heatmap-internal.h"

/* A cut is kept where the samples on its two sides differ this much (a two-proportion z test,
 * about 0.3% two-sided) and by at least merge_delta: noise rarely cuts, and a false cut merges
 * back at once, its pieces' heat being alike. */
#define HM_SPLIT_Z 3.0
/* Each side of a cut needs this many samples, and a piece's own rate is taken with this many
 * pseudo-samples at its region's rate: a piece that a few lucky samples made look hot is not
 * thought hot at once (Bayesian shrinkage); it merges back unless later samples agree. */
#define HM_SPLIT_MIN_SAMPLES 4
#define HM_PIECE_PRIOR       4

/* Circular binary segmentation (Olshen et al., Biostatistics 2004) of parts [lo, hi) of a region:
 * the run of parts [a, b) whose samples differ most surely from the rest's, if sure enough, is cut
 * out (a hot spot in the middle takes two cuts, which one-cut tests are too weak to find), then
 * each piece likewise. */
static void segment(const hm_probe *p, unsigned lo, unsigned hi, double delta, bool *cut) {
        unsigned best_a = lo, best_b = hi, all_h = 0, all_s = 0;
        double best_z = 0, pool;

        for (unsigned b = lo; b < hi; b++) {
                all_h += p->bucket_hits[b];
                all_s += p->bucket_samples[b];
        }
        if (all_s == 0 || all_h == 0 || all_h == all_s)
                return; /* no samples, or all alike */
        pool = (double)all_h / all_s;
        for (unsigned a = lo; a < hi; a++) {
                unsigned in_h = 0, in_s = 0;

                for (unsigned b = a + 1; b <= hi; b++) {
                        unsigned out_h, out_s;
                        double pi, po, z;

                        in_h += p->bucket_hits[b - 1];
                        in_s += p->bucket_samples[b - 1];
                        if (a == lo && b == hi)
                                break;
                        out_h = all_h - in_h;
                        out_s = all_s - in_s;
                        if (in_s < HM_SPLIT_MIN_SAMPLES || out_s < HM_SPLIT_MIN_SAMPLES)
                                continue;
                        pi = (double)in_h / in_s;
                        po = (double)out_h / out_s;
                        if (fabs(pi - po) < delta)
                                continue;
                        z = fabs(pi - po) / sqrt(pool * (1 - pool) * (1.0 / in_s + 1.0 / out_s));
                        if (z > best_z) {
                                best_z = z;
                                best_a = a;
                                best_b = b;
                        }
                }
        }
        if (best_z < HM_SPLIT_Z)
                return;
        if (best_a > lo) {
                cut[best_a] = true;
                segment(p, lo, best_a, delta, cut);
        }
        if (best_b < hi) {
                cut[best_b] = true;
                segment(p, best_b, hi, delta, cut);
        }
        segment(p, best_a, best_b, delta, cut);
}

static float fold_one(float alpha, float old, float hits, float samples) {
        float heat = samples > 0 ? alpha * (hits / samples) + (1.0f - alpha) * old : (1.0f - alpha) * old;
        return CLAMP(heat, 0.0f, 1.0f);
}

/* Where region i should be cut, from where its parts' samples differ: k pieces, piece j ending at
 * page offset ends[j] with heat heats[j] (the EWMA of the region's heat before this epoch and of
 * the piece's own samples). Returns k, 1 when the region stays whole. */
static unsigned plan_cuts(const nv_heatmap *h, size_t i, uint64_t ends[HM_BUCKETS],
                          float heats[HM_BUCKETS]) {
        const hm_probe *p = &h->probe[i];
        float alpha = (float)h->cfg.heat_alpha, old = h->regions[i].heat;
        bool cut[HM_BUCKETS] = {};
        unsigned k = 0, first = 0, all = 0, all_hits = 0;
        uint64_t prev = 0;
        float pool;

        for (unsigned b = 0; b < HM_BUCKETS; b++) {
                all += p->bucket_samples[b];
                all_hits += p->bucket_hits[b];
        }
        pool = all > 0 ? (float)all_hits / (float)all : 0;
        if (p->pages >= 2 && all >= 2 * HM_SPLIT_MIN_SAMPLES)
                segment(p, 0, HM_BUCKETS, h->cfg.merge_delta, cut);
        for (unsigned b = 1; b <= HM_BUCKETS; b++) {
                uint64_t at = hm_bucket_start(b, p->pages);
                unsigned hits = 0, samples = 0;

                if (b < HM_BUCKETS && (!cut[b] || at == prev || at >= p->pages))
                        continue; /* no cut, or an empty piece: its parts join the next piece */
                for (unsigned c = first; c < b; c++) {
                        hits += p->bucket_hits[c];
                        samples += p->bucket_samples[c];
                }
                ends[k] = at;
                heats[k] = samples > 0 ? fold_one(alpha, old, (float)hits + HM_PIECE_PRIOR * pool,
                                                  (float)samples + HM_PIECE_PRIOR)
                                       : fold_one(alpha, old, 0, 0);
                k++;
                first = b;
                prev = at;
        }
        return k;
}

/* Write the pieces of region r (probe rp) at dst.. dst + k - 1: pieces inherit history, node_bytes
 * is shared in proportion, and the page chosen last round stays with the piece holding it. */
static void write_pieces(nv_heatmap *h, const nv_region *r, const hm_probe *rp, size_t dst, unsigned k,
                         const uint64_t *ends, const float *heats) {
        uint64_t bytes = nv_region_bytes(r), start = r->start, left[NV_MAX_NODES];
        unsigned shift = hm_region_shift(h, r);

        memcpy(left, r->node_bytes, sizeof(left));
        for (unsigned j = 0; j < k; j++) {
                nv_region *piece = &h->regions[dst + j];
                uint64_t end = r->start + (ends[j] << shift);

                *piece = *r;
                piece->start = start;
                piece->end = end;
                piece->heat = heats[j];
                piece->hits = piece->samples = 0;
                piece->age = k > 1 ? 0 : r->age + 1;
                for (unsigned nd = 0; nd < NV_MAX_NODES; nd++)
                        if (r->node_bytes[nd] != 0) {
                                piece->node_bytes[nd] =
                                        j + 1 < k ? (uint64_t)((unsigned __int128)r->node_bytes[nd] *
                                                               (end - start) / bytes)
                                                  : left[nd];
                                left[nd] -= piece->node_bytes[nd];
                        }
                h->probe[dst + j] = (hm_probe){
                        .chosen = rp->chosen != HM_NO_PAGE && rp->chosen >= start && rp->chosen < end
                                          ? rp->chosen
                                          : HM_NO_PAGE,
                };
                /* A region left whole keeps half of its parts' counts: evidence of an edge inside
                 * it builds up over epochs when a few samples an epoch cannot show it (age-aware),
                 * and what it saw long ago fades. Pieces start afresh. */
                if (k == 1)
                        for (unsigned b = 0; b < HM_BUCKETS; b++) {
                                h->probe[dst].bucket_hits[b] = rp->bucket_hits[b] / 2;
                                h->probe[dst].bucket_samples[b] = rp->bucket_samples[b] / 2;
                        }
                start = end;
        }
}

/* A way of cutting regions into pieces: the epoch's cuts where heat differs (fold_and_cut) and the
 * cuts of regions above max_region_bytes (split_large). */
typedef struct hm_cutter {
        /* The pieces region i becomes: k (1: it stays whole), piece j ending at page offset ends[j]
         * with heat heats[j]. Asked twice for a region that is cut, before it changes: the same
         * answer both times. */
        unsigned (*plan)(const nv_heatmap *h, size_t i, uint64_t ends[HM_BUCKETS], float heats[HM_BUCKETS]);
        /* The heat of a region left whole (as planned, or for want of room under max_regions), which
         * then starts a new epoch as the pieces do (write_pieces()); NULL: it stays as it is. */
        float (*whole_heat)(const nv_heatmap *h, const nv_region *r, const hm_probe *p);
} hm_cutter;

/* Cut every region as the cutter plans, as long as max_regions allows: first count the pieces,
 * then write them in place from the back, so that every region moves once, toward the end. */
static int cut_regions(nv_heatmap *h, const hm_cutter *cutter) {
        size_t n = h->nr_regions, total = n, w;
        uint64_t ends[HM_BUCKETS];
        float heats[HM_BUCKETS];
        int r;

        r = hm_reserve_status(h, n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                unsigned k = cutter->plan(h, i, ends, heats);

                if (total + k - 1 > h->cfg.max_regions)
                        k = 1;
                h->status[i] = (int)k;
                total += k - 1;
        }
        if (total == n && !cutter->whole_heat)
                return 0; /* nothing changes */
        r = hm_reserve_regions(h, total);
        if (r < 0)
                return r;

        w = total;
        for (size_t i = n; i-- > 0;) {
                const nv_region reg = h->regions[i];
                const hm_probe probe = h->probe[i];
                unsigned k = (unsigned)h->status[i];

                w -= k;
                if (k > 1)
                        (void)cutter->plan(h, i, ends, heats);
                else if (cutter->whole_heat) {
                        ends[0] = probe.pages;
                        heats[0] = cutter->whole_heat(h, &reg, &probe);
                } else {
                        h->regions[w] = reg;
                        h->probe[w] = probe;
                        continue;
                }
                write_pieces(h, &reg, &probe, w, k, ends, heats);
        }
        h->nr_regions = total;
        return 0;
}

static float fold_whole(const nv_heatmap *h, const nv_region *r, const hm_probe *p) {
        return fold_one((float)h->cfg.heat_alpha, r->heat, p->hits, p->samples);
}

/* Fold this epoch's samples into heat (EWMA; a region not sampled ages toward cold), cutting each
 * region where its parts' samples say heat differs, as long as max_regions allows: regions
 * follow the heat's edges, and a region whose heat is even is left whole. */
static int fold_and_cut(nv_heatmap *h) {
        return cut_regions(h, &(const hm_cutter){ .plan = plan_cuts, .whole_heat = fold_whole });
}

/* Fold region b, the right neighbour, into a (after fold_and_cut: no counts to add). */
static void merge_into(nv_region *a, hm_probe *a_probe, const nv_region *b, const hm_probe *b_probe) {
        double ab = (double)nv_region_bytes(a), bb = (double)nv_region_bytes(b);

        a->heat = (float)((a->heat * ab + b->heat * bb) / (ab + bb));
        for (unsigned k = 0; k < NV_MAX_NODES; k++)
                a->node_bytes[k] += b->node_bytes[k];
        a->located = a->located && b->located;
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
        /* Its parts are not the old parts any more. */
        memset(a_probe->bucket_hits, 0, sizeof(a_probe->bucket_hits));
        memset(a_probe->bucket_samples, 0, sizeof(a_probe->bucket_samples));
}

/* One left-to-right pass merging neighbours in the same range whose heat differs by less than
 * delta, into regions of at most size_limit bytes (0: any), never below floor regions. With
 * by_owner, only neighbours whose faults came from the same node (vote_node) merge: attribution
 * cut them apart. */
static void merge_pass(nv_heatmap *h, double delta, uint64_t size_limit, size_t floor, bool by_owner) {
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
                    (!by_owner || a->vote_node == b->vote_node) &&
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
        uint64_t limit = MAX(total / h->cfg.min_regions, (uint64_t)1);
        if (h->cfg.max_region_bytes > 0)
                limit = MIN(limit, h->cfg.max_region_bytes);
        merge_pass(h, delta, limit, h->cfg.min_regions, true);

        /* Over max_regions (the bounds were lowered, or ranges were added): merge the most alike
         * neighbours first, widening the tolerance until the count fits. */
        for (delta = MAX(delta, 1.0 / 64); h->nr_regions > h->cfg.max_regions; delta *= 2) {
                merge_pass(h, delta > 1.0 ? INFINITY : delta, 0, h->cfg.max_regions, false);
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
static size_t plan_pieces(nv_heatmap *h, int *pieces, size_t max) {
        size_t n = h->nr_regions, total = n;

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

/* Split regions evenly until `target` (min_regions, when it was raised), or until every region is
 * a single page. */
static int split_regions(nv_heatmap *h, size_t target) {
        size_t n = h->nr_regions, total, w;
        int r;

        if (n >= target || n == 0)
                return 0;
        r = hm_reserve_regions(h, target);
        if (r < 0)
                return r;
        r = hm_reserve_status(h, n);
        if (r < 0)
                return r;
        hm_refresh_probes(h); /* pages of the merged regions */
        total = plan_pieces(h, h->status, target);

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
 * each, one at random in each of m equal parts (stratified: a region that moved in part is seen
 * in part, and a remainder between fixed sample points cannot hide for good, regions now living
 * long), then node_bytes from the share of the samples found on each node: a page that is not
 * resident (-ENOENT) is on no node, so node_bytes add up to the region's resident bytes. */
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
                uint64_t m = MIN(samples, p->pages);
                /* Part j is [j * pages / m, (j + 1) * pages / m), stepped without a division per page. */
                uint64_t lo = 0, step = p->pages / m, step_rem = p->pages % m, rem = 0;

                if (p->shift != shift)
                        continue;
                for (uint64_t j = 0; j < m; j++) {
                        uint64_t hi = lo + step + (rem + step_rem >= m);

                        rem = (rem + step_rem) % m;
                        addrs[k++] = p->start + ((lo + hm_random_below(h, hi - lo)) << shift);
                        lo = hi;
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
                uint64_t m, bytes;

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
                }
                bytes = p->pages << shift;
                memset(reg->node_bytes, 0, sizeof(reg->node_bytes));
                reg->located = true;
                for (; seen; seen &= seen - 1) {
                        unsigned nd = (unsigned)__builtin_ctz(seen);

                        /* bytes * on / m, exact and without overflow: on <= m <= locate_samples. */
                        reg->node_bytes[nd] = bytes / m * on_node[nd] + bytes % m * on_node[nd] / m;
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

/* Regions above max_region_bytes: equal pieces that carry their heat, at most HM_BUCKETS a region
 * an epoch (a very large one takes a few epochs). */
static unsigned plan_large(const nv_heatmap *h, size_t i, uint64_t ends[HM_BUCKETS],
                           float heats[HM_BUCKETS]) {
        const nv_region *reg = &h->regions[i];
        uint64_t cap = h->cfg.max_region_bytes, pages = h->probe[i].pages;
        unsigned k =
                (unsigned)MIN(MIN(DIV_ROUND_UP(nv_region_bytes(reg), cap), (uint64_t)HM_BUCKETS), pages);

        if (k < 2)
                return 1;
        for (unsigned j = 0; j < k; j++) {
                ends[j] = pages * (j + 1) / k;
                heats[j] = reg->heat;
        }
        return k;
}

/* Split regions above max_region_bytes into equal pieces that carry their heat, as long as
 * max_regions allows. */
static int split_large(nv_heatmap *h) {
        if (h->cfg.max_region_bytes == 0)
                return 0;
        hm_refresh_probes(h);
        return cut_regions(h, &(const hm_cutter){ .plan = plan_large });
}

/* The cuts nv_heatmap_cut_at() asked for that fall inside region i, at most HM_BUCKETS pieces;
 * the pieces carry the region's heat. */
static unsigned plan_asked(const nv_heatmap *h, size_t i, uint64_t ends[HM_BUCKETS],
                           float heats[HM_BUCKETS]) {
        const nv_region *reg = &h->regions[i];
        const uint64_t *a = h->cut_addrs;
        unsigned shift = hm_region_shift(h, reg), k = 0;
        size_t lo = 0, hi = h->nr_cut_addrs;

        while (lo < hi) { /* the first cut above the region's start */
                size_t mid = (lo + hi) / 2;
                if (a[mid] <= reg->start)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (; lo < h->nr_cut_addrs && a[lo] < reg->end && k + 1 < HM_BUCKETS; lo++) {
                uint64_t at = (a[lo] - reg->start) >> shift;

                if (at == 0 || (k > 0 && at <= ends[k - 1]))
                        continue;
                ends[k] = at;
                heats[k++] = reg->heat;
        }
        if (k == 0)
                return 1;
        ends[k] = h->probe[i].pages;
        heats[k++] = reg->heat;
        return k;
}

int nv_heatmap_cut_at(nv_heatmap *h, const uint64_t *addrs, size_t n) {
        int r;

        if (n == 0)
                return 0;
        for (size_t i = 1; i < n; i++)
                if (addrs[i] <= addrs[i - 1])
                        return -EINVAL;
        hm_refresh_probes(h);
        h->cut_addrs = addrs;
        h->nr_cut_addrs = n;
        r = cut_regions(h, &(const hm_cutter){ .plan = plan_asked });
        h->cut_addrs = NULL;
        h->nr_cut_addrs = 0;
        hm_refresh_probes(h);
        return r;
}

int nv_heatmap_end_epoch(nv_heatmap *h, const nv_mover_ops *mover, void *mover_ctx, const nv_vm_info *vm) {
        int r;

        r = fold_and_cut(h);
        if (r < 0) {
                /* No room for pieces: fold without cutting. */
                log_debug_errno(r, "Cannot cut the regions of VM %s, ignoring: %m", vm->name ?: "?");
                for (size_t i = 0; i < h->nr_regions; i++) {
                        nv_region *reg = &h->regions[i];
                        hm_probe *p = &h->probe[i];

                        reg->heat = fold_one((float)h->cfg.heat_alpha, reg->heat, p->hits, p->samples);
                        reg->hits = reg->samples = 0;
                        reg->age++;
                        *p = (hm_probe){ .chosen = p->chosen };
                }
        }
        merge_regions(h);
        r = split_regions(h, h->cfg.min_regions);
        for (unsigned pass = 0; r >= 0 && pass < 3; pass++) /* 8 pieces a pass: 512 in all */
                r = split_large(h);
        if (r < 0)
                log_debug_errno(r, "Cannot split the regions of VM %s, ignoring: %m", vm->name ?: "?");
        hm_refresh_probes(h);

        if (!mover || !mover->move_pages || h->cfg.locate_samples == 0)
                return 0;
        return locate_regions(h, mover, mover_ctx, vm);
}
