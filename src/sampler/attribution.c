/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attribution sampler: zap a sample of each region, drain who faulted, keep decayed per-node
 * votes per chunk of guest RAM (a grid that outlives the heat map's regions) and per region, and
 * cut regions where the chunks' owners change. */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/random.h"
#include "sampler/attribution.h"

/* The vote grid: at most this many chunks per VM, none smaller than a huge page (a 4 GiB VM has
 * 2 MiB chunks, a 1 TiB one 64 MiB chunks). It sets where regions can be cut by owner. */
#define CHUNKS_MAX      16384u
#define CHUNK_SHIFT_MIN NV_HUGE_SHIFT
/* A region's epoch counts toward vote_node only with this many faults in that epoch, or with one
 * fault per block (page, or 2 MiB block) of the region when it has fewer: a zapped block is
 * recorded once per vCPU at most, and a region is zapped at most once per block an interval
 * (nv_attribution_zap()), so a region of one or two 2 MiB blocks that one vCPU touches could
 * never gather more. */
#define EPOCH_MIN_FAULTS 3u
/* Faults read per drain call, and at most this many an epoch (the rest stay for the next). */
#define DRAIN_BATCH 4096u
#define DRAIN_MAX   (1u << 16)

struct nv_attribution {
        unsigned nr_nodes;
        unsigned chunk_shift;
        uint64_t rng;
        /* The VM's ranges, and the first chunk of each in votes. */
        nv_ram_range *ranges;
        size_t *first_chunk;
        size_t nr_ranges, nr_chunks;
        float *votes; /* [chunk * nr_nodes + node] */
        nv_fault *faults;
        size_t cap_faults;
        nv_attribution_stats stats;
};

nv_attribution *nv_attribution_free(nv_attribution *a) {
        if (!a)
                return NULL;
        free(a->ranges);
        free(a->first_chunk);
        free(a->votes);
        free(a->faults);
        free(a);
        return NULL;
}

int nv_attribution_new(const nv_vm_info *vm, unsigned nr_nodes, uint64_t seed, nv_attribution **ret) {
        _cleanup_(nv_attribution_freep) nv_attribution *a = NULL;
        uint64_t ram = nv_vm_ram_bytes(vm);

        if (nr_nodes == 0 || nr_nodes > NV_MAX_NODES || vm->nr_ranges == 0)
                return -EINVAL;
        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->nr_nodes = nr_nodes;
        a->rng = seed;
        a->chunk_shift = CHUNK_SHIFT_MIN;
        while ((ram >> a->chunk_shift) > CHUNKS_MAX)
                a->chunk_shift++;
        a->ranges = calloc(vm->nr_ranges, sizeof(*a->ranges));
        a->first_chunk = calloc(vm->nr_ranges + 1, sizeof(*a->first_chunk));
        if (!a->ranges || !a->first_chunk)
                return -ENOMEM;
        memcpy(a->ranges, vm->ranges, vm->nr_ranges * sizeof(*a->ranges));
        a->nr_ranges = vm->nr_ranges;
        for (size_t j = 0; j < vm->nr_ranges; j++)
                a->first_chunk[j + 1] =
                        a->first_chunk[j] + DIV_ROUND_UP(vm->ranges[j].size, UINT64_C(1) << a->chunk_shift);
        a->nr_chunks = a->first_chunk[vm->nr_ranges];
        a->votes = calloc(MAX(a->nr_chunks, (size_t)1) * nr_nodes, sizeof(float));
        a->cap_faults = DRAIN_BATCH;
        a->faults = calloc(a->cap_faults, sizeof(*a->faults));
        if (!a->votes || !a->faults)
                return -ENOMEM;
        *ret = TAKE_PTR(a);
        return 0;
}

void nv_attribution_get_stats(const nv_attribution *a, nv_attribution_stats *ret) {
        *ret = a->stats;
}

/* The chunk holding hva, or SIZE_MAX outside the ranges. */
static size_t chunk_of(const nv_attribution *a, uint64_t hva) {
        for (size_t j = 0; j < a->nr_ranges; j++) {
                const nv_ram_range *rr = &a->ranges[j];

                if (hva >= rr->hva && hva - rr->hva < rr->size)
                        return a->first_chunk[j] + ((hva - rr->hva) >> a->chunk_shift);
        }
        return SIZE_MAX;
}

/* The address where chunk c starts, for a chunk of range j. */
static uint64_t chunk_start(const nv_attribution *a, size_t j, size_t c) {
        return a->ranges[j].hva + ((uint64_t)(c - a->first_chunk[j]) << a->chunk_shift);
}

static bool config_valid(const nv_attribution_config *cfg) {
        return cfg->faults_per_sec > 0 && cfg->vote_alpha > 0 && cfg->vote_alpha <= 1 && cfg->interval > 0;
}

/* Zaps for a region of weight w (heat x bytes): half of the epoch's evenly over the n regions, half
 * by weight (all evenly while nothing is hot). */
static uint64_t zaps_for(nv_attribution *a, double total, size_t n, double w, double w_sum) {
        double x = w_sum > 0 ? total / 2 / (double)n + total / 2 * w / w_sum : total / (double)n;
        uint64_t k = (uint64_t)x;

        /* The fraction by a draw, so that small shares add up over epochs. */
        if (nv_uniform_at(nv_splitmix64(&a->rng), 0, 0) < x - (double)k)
                k++;
        return k;
}

int nv_attribution_zap(nv_attribution *a, const nv_attribution_ops *ops, void *ctx, const nv_vm_info *vm,
                       nv_heatmap *h, const nv_attribution_config *cfg) {
        _cleanup_free_ uint64_t *small = NULL, *huge = NULL;
        size_t n, nr_small = 0, nr_huge = 0;
        const nv_region *regions = nv_heatmap_regions(h, &n);
        double total, w_sum = 0;
        uint64_t cap;
        int r, zapped = 0;

        if (!config_valid(cfg))
                return -EINVAL;
        if (!ops || !ops->zap || n == 0)
                return 0;
        total = cfg->faults_per_sec * (double)cfg->interval / USEC_PER_SEC;
        cap = (uint64_t)total + n + 1;
        small = calloc(cap, sizeof(*small));
        huge = calloc(cap, sizeof(*huge));
        if (!small || !huge)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                w_sum += (double)regions[i].heat * (double)nv_region_bytes(&regions[i]);

        for (size_t i = 0; i < n; i++) {
                const nv_region *reg = &regions[i];
                const nv_ram_range *rr = reg->range < vm->nr_ranges ? &vm->ranges[reg->range] : NULL;
                unsigned shift;
                uint64_t pages, k;

                if (!rr || !nv_backing_movable(rr->backing))
                        continue; /* what can never move needs no owner */
                shift = nv_backing_page_shift(rr->backing);
                pages = nv_region_bytes(reg) >> shift;
                k = zaps_for(a, total, n, (double)reg->heat * (double)nv_region_bytes(reg), w_sum);
                k = MIN(MIN(k, pages), cap - nr_small - nr_huge);
                for (uint64_t j = 0; j < k; j++) {
                        /* Page j of k equal parts, one at random in each: the region is heard
                         * from all over, which is where its owners may change. */
                        uint64_t lo = pages * j / k, hi = pages * (j + 1) / k;
                        uint64_t at =
                                reg->start + ((lo + nv_random_below(&a->rng, MAX(hi - lo, 1))) << shift);

                        if (shift == NV_HUGE_SHIFT)
                                huge[nr_huge++] = at;
                        else
                                small[nr_small++] = at;
                }
        }
        if (nr_small > 0) {
                r = ops->zap(ctx, vm, small, nr_small, NV_PAGE_SHIFT);
                if (r < 0)
                        return r;
                zapped += r;
        }
        if (nr_huge > 0) {
                r = ops->zap(ctx, vm, huge, nr_huge, NV_HUGE_SHIFT);
                if (r < 0)
                        return r;
                zapped += r;
        }
        a->stats.zapped += (uint64_t)zapped;
        return zapped;
}

/* Drain up to DRAIN_MAX faults into a->faults; the count, or -errno. */
static ssize_t drain_all(nv_attribution *a, const nv_attribution_ops *ops, void *ctx, const nv_vm_info *vm) {
        size_t n = 0;

        for (;;) {
                uint64_t dropped = 0;
                int r;

                if (a->cap_faults - n < DRAIN_BATCH) {
                        size_t cap = a->cap_faults * 2;
                        nv_fault *f;

                        if (cap > DRAIN_MAX)
                                break;
                        f = reallocarray(a->faults, cap, sizeof(*f));
                        if (!f)
                                break; /* what was read so far is used; the rest waits */
                        a->faults = f;
                        a->cap_faults = cap;
                }
                r = ops->drain(ctx, vm, a->faults + n, DRAIN_BATCH, &dropped);
                if (r < 0)
                        return r;
                if ((size_t)r > DRAIN_BATCH)
                        return -EIO; /* more than asked for: a broken port, trust none of it */
                a->stats.dropped += dropped;
                n += (size_t)r;
                if ((size_t)r < DRAIN_BATCH)
                        break;
        }
        return (ssize_t)n;
}

static void fold_votes(nv_attribution *a, size_t nr_faults, double alpha) {
        float keep = (float)(1.0 - alpha), *votes = a->votes;
        size_t nr_votes = a->nr_chunks * a->nr_nodes;

        for (size_t i = 0; i < nr_votes; i++)
                votes[i] *= keep;
        for (size_t i = 0; i < nr_faults; i++) {
                const nv_fault *f = &a->faults[i];
                size_t c = chunk_of(a, f->hva);

                if (c == SIZE_MAX || f->node < 0 || (unsigned)f->node >= a->nr_nodes)
                        continue; /* outside the RAM we know, or an unknown node: no vote */
                a->votes[c * a->nr_nodes + (unsigned)f->node] += 1.0f;
        }
}

/* Binary segmentation of a region's chunks by their votes (as the heat map cuts by heat): the cut
 * where some node's share of the votes differs most surely between the two sides is kept when the
 * difference is large (CUT_DELTA) and sure (a two-proportion z of CUT_Z), each side holding
 * CUT_MIN_SIDE votes; then each side likewise. Sparse votes per chunk add up along a run of
 * chunks, so an edge shows long before any single chunk has an owner of its own. Where a range's
 * pages are as large as its chunks (huge_chunks()), a chunk one vCPU touches faults at most once
 * an interval, so its votes stay below 1 / vote_alpha (2 at the default 0.5): there a side needs
 * only CUT_MIN_SIDE_HUGE, more than a lone fault's vote and no more than one chunk that faulted in
 * two intervals in a row holds at the default weight (1 + 0.5), or the last chunk of a run could
 * never be cut off. A chunk of small pages gathers many faults an interval, and a side of a few of
 * them would cut shared memory by chance. Between two runs that differ wholly, z is the square
 * root of all their votes: CUT_Z is the guard against noise. */
#define CUT_DELTA         0.5
#define CUT_Z             3.0
#define CUT_MIN_SIDE      4.0
#define CUT_MIN_SIDE_HUGE 1.5
#define CUT_DEPTH         3 /* at most 7 cuts a region an epoch */

/* cum[k * nr_nodes + n]: the votes of node n in the region's chunks [0, k). */
static void segment(const double *cum, unsigned nr_nodes, size_t lo, size_t hi, unsigned depth,
                    double min_side, bool *cut) {
        double total[NV_MAX_NODES], all = 0, best_z = 0;
        unsigned voters = 0;
        size_t best = 0;

        if (depth == 0 || hi - lo < 2)
                return;
        for (unsigned n = 0; n < nr_nodes; n++) {
                total[n] = cum[hi * nr_nodes + n] - cum[lo * nr_nodes + n];
                all += total[n];
                voters += total[n] > 0;
        }
        /* One node's votes alone (its share 1, every other's 0) give no cut below. */
        if (all < 2 * min_side || voters < 2)
                return;
        for (size_t k = lo + 1; k < hi; k++) {
                double left = 0;

                for (unsigned n = 0; n < nr_nodes; n++)
                        left += cum[k * nr_nodes + n] - cum[lo * nr_nodes + n];
                if (left < min_side || all - left < min_side)
                        continue;
                for (unsigned n = 0; n < nr_nodes; n++) {
                        double l = cum[k * nr_nodes + n] - cum[lo * nr_nodes + n];
                        double pl = l / left, pr = (total[n] - l) / (all - left), p = total[n] / all;
                        double d = fabs(pl - pr), z;

                        if (d < CUT_DELTA || p <= 0 || p >= 1)
                                continue;
                        z = d / sqrt(p * (1 - p) * (1 / left + 1 / (all - left)));
                        if (z > best_z) {
                                best_z = z;
                                best = k;
                        }
                }
        }
        if (best_z < CUT_Z)
                return;
        cut[best] = true;
        segment(cum, nr_nodes, lo, best, depth - 1, min_side, cut);
        segment(cum, nr_nodes, best, hi, depth - 1, min_side, cut);
}

static int push_cut(uint64_t **cuts, size_t *nr, size_t *cap, uint64_t at) {
        if (*nr == *cap) {
                size_t k = MAX(*cap * 2, (size_t)64);
                uint64_t *p = reallocarray(*cuts, k, sizeof(*p));

                if (!p)
                        return -ENOMEM;
                *cuts = p;
                *cap = k;
        }
        (*cuts)[(*nr)++] = at;
        return 0;
}

/* The votes a chunk of a huge page holds after faulting on one node in CHUNK_OWNER_INTERVALS
 * intervals in a row (one fault each, decayed as fold_votes() does: 1 + (1 - alpha) + ...). Two in
 * a row happen by chance to half the chunks that two nodes share, three to a quarter, and a shared
 * chunk taken for owned is cut off and moved to one of its accessors. Three was checked on the
 * bench's spread-thp (shared and private huge pages) and the lab's t-l2-attrib (docs/bench.md). */
#define CHUNK_OWNER_INTERVALS 3
static double chunk_owner_votes(double alpha) {
        double v = 0, w = 1;

        for (int k = 0; k < CHUNK_OWNER_INTERVALS; k++, w *= 1 - alpha)
                v += w;
        return v * (1 - 1e-6); /* the float sums of fold_votes() may fall short by a rounding */
}

/* The node owning chunk c of a range of huge chunks by its own votes (nv_votes_owner(), with at
 * least min_votes of them), or < 0. */
static int chunk_owner(const nv_attribution *a, size_t c, double min_votes) {
        return nv_votes_owner(&a->votes[c * a->nr_nodes], a->nr_nodes, min_votes);
}

/* Whether range j's pages are as large as its chunks: each chunk is then recorded at most once an
 * interval for each vCPU. */
static bool huge_chunks(const nv_attribution *a, size_t j) {
        return nv_backing_page_shift(a->ranges[j].backing) >= a->chunk_shift;
}

/* Where, inside the regions, the node that touches memory changes, at chunk starts inside each
 * region, in address order: where segment() finds a run's edge, and, in ranges of huge chunks,
 * between two neighbouring chunks owned by different nodes. There a run of a few chunks holds too
 * few votes for segment()'s z (the votes of two wholly different runs give a z of the square root
 * of their sum, so a region needs 9 to be cut at all, and such a chunk holds less than 2), while
 * a chunk with an owner of its own has faulted on that node's CPUs in interval after interval
 * (chunk_owner_votes()). In
 * ranges of small pages a chunk's many faults serve segment(), and a chunk's own few would cut
 * shared memory by chance. *ret is freed by the caller. */
static int find_cuts(const nv_attribution *a, const nv_region *regions, size_t n, double alpha,
                     uint64_t **ret, size_t *ret_n) {
        _cleanup_free_ uint64_t *cuts = NULL;
        _cleanup_free_ double *cum = NULL;
        _cleanup_free_ bool *cut = NULL;
        size_t nr = 0, cap = 0, cap_chunks = 0;
        unsigned nodes = a->nr_nodes;
        double owner_votes = chunk_owner_votes(alpha);
        int r;

        for (size_t i = 0; i < n; i++) {
                const nv_region *reg = &regions[i];
                size_t j = reg->range, c0, c1;
                bool huge;

                if (j >= a->nr_ranges)
                        continue;
                c0 = chunk_of(a, reg->start);
                c1 = chunk_of(a, reg->end - 1) + 1;
                if (c0 == SIZE_MAX || c1 == 0 || c1 - c0 < 2)
                        continue;
                if (c1 - c0 > cap_chunks) {
                        size_t k = c1 - c0;
                        double *d = reallocarray(cum, (k + 1) * nodes, sizeof(*d));
                        bool *b;

                        if (!d)
                                return -ENOMEM;
                        cum = d;
                        b = reallocarray(cut, k + 1, sizeof(*b));
                        if (!b)
                                return -ENOMEM;
                        cut = b;
                        cap_chunks = k;
                }
                memset(cum, 0, nodes * sizeof(*cum));
                for (size_t c = c0; c < c1; c++)
                        for (unsigned nd = 0; nd < nodes; nd++)
                                cum[(c - c0 + 1) * nodes + nd] =
                                        cum[(c - c0) * nodes + nd] + a->votes[c * nodes + nd];
                memset(cut, 0, (c1 - c0 + 1) * sizeof(*cut));
                huge = huge_chunks(a, j);
                segment(cum, nodes, 0, c1 - c0, CUT_DEPTH, huge ? CUT_MIN_SIDE_HUGE : CUT_MIN_SIDE, cut);
                if (huge) {
                        int before = chunk_owner(a, c0, owner_votes);

                        for (size_t k = 1; k < c1 - c0; k++) {
                                int after = chunk_owner(a, c0 + k, owner_votes);

                                if (before >= 0 && after >= 0 && before != after)
                                        cut[k] = true;
                                before = after;
                        }
                }
                for (size_t k = 1; k < c1 - c0; k++) {
                        uint64_t at = chunk_start(a, j, c0 + k);

                        if (!cut[k] || at <= reg->start || at >= reg->end)
                                continue;
                        r = push_cut(&cuts, &nr, &cap, at);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(cuts);
        *ret_n = nr;
        return 0;
}

/* The region holding hva (regions in address order), or SIZE_MAX. */
static size_t region_of(const nv_region *regions, size_t n, uint64_t hva) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (regions[mid].end <= hva)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n && regions[lo].start <= hva ? lo : SIZE_MAX;
}

/* Each region's votes: the votes of the chunks it overlaps, in proportion to the overlap. */
static void region_votes(const nv_attribution *a, nv_region *reg) {
        size_t j = reg->range;

        memset(reg->votes, 0, sizeof(reg->votes));
        if (j >= a->nr_ranges)
                return;
        for (size_t c = chunk_of(a, reg->start); c < a->first_chunk[j + 1]; c++) {
                uint64_t c0 = chunk_start(a, j, c), c1 = c0 + (UINT64_C(1) << a->chunk_shift);
                uint64_t lo = MAX(c0, reg->start), hi = MIN(c1, reg->end);
                const float *votes = &a->votes[c * a->nr_nodes];
                float part;

                if (c0 >= reg->end)
                        break;
                if (hi <= lo)
                        continue;
                /* Only a region's first and last chunk can overlap it in part. */
                part = lo == c0 && hi == c1 ? 1.0f : (float)((double)(hi - lo) / (double)(c1 - c0));
                for (unsigned nd = 0; nd < a->nr_nodes; nd++)
                        reg->votes[nd] += part * votes[nd];
        }
}

/* The blocks a region is zapped in: pages of its range's backing (at least one). */
static uint64_t region_blocks(const nv_vm_info *vm, const nv_region *reg) {
        unsigned shift = reg->range < vm->nr_ranges ? nv_backing_page_shift(vm->ranges[reg->range].backing)
                                                    : NV_PAGE_SHIFT;

        return MAX(nv_region_bytes(reg) >> shift, (uint64_t)1);
}

/* The two-stage filter's bookkeeping: which node took a clear majority of the region's faults
 * this epoch, and for how many epochs in a row. An epoch with fewer than min_faults changes
 * nothing. */
static void note_epoch_owner(nv_region *reg, const uint32_t *count, unsigned nr_nodes, uint64_t min_faults) {
        float v[NV_MAX_NODES] = {};
        uint32_t total = 0;
        int owner;

        for (unsigned nd = 0; nd < nr_nodes; nd++) {
                v[nd] = (float)count[nd];
                total += count[nd];
        }
        if (total < min_faults)
                return;
        owner = nv_votes_owner(v, nr_nodes, 0);
        if (owner >= 0 && owner == reg->vote_node)
                reg->vote_streak = reg->vote_streak < UINT8_MAX ? reg->vote_streak + 1 : UINT8_MAX;
        else {
                reg->vote_node = (int8_t)MAX(owner, -1);
                reg->vote_streak = owner >= 0;
        }
}

int nv_attribution_collect(nv_attribution *a, const nv_attribution_ops *ops, void *ctx, const nv_vm_info *vm,
                           nv_heatmap *h, const nv_attribution_config *cfg, bool cut) {
        _cleanup_free_ uint64_t *cuts = NULL;
        _cleanup_free_ uint32_t *count = NULL;
        size_t n, nr_cuts = 0;
        nv_region *regions;
        ssize_t nr_faults;
        int r;

        if (!config_valid(cfg))
                return -EINVAL;
        if (!ops || !ops->drain)
                return 0;
        nr_faults = drain_all(a, ops, ctx, vm);
        if (nr_faults < 0)
                return (int)nr_faults;
        a->stats.faults += (uint64_t)nr_faults;
        a->stats.last_faults = (uint64_t)nr_faults;
        fold_votes(a, (size_t)nr_faults, cfg->vote_alpha);

        regions = nv_heatmap_regions(h, &n);
        r = cut ? find_cuts(a, regions, n, cfg->vote_alpha, &cuts, &nr_cuts) : 0;
        if (r >= 0 && nr_cuts > 0)
                r = nv_heatmap_cut_at(h, cuts, nr_cuts);
        if (r < 0)
                log_debug_errno(r, "Cannot cut the regions of VM %s by owner, ignoring: %m",
                                vm->name ?: "?");

        regions = nv_heatmap_regions(h, &n);
        count = calloc(MAX(n, (size_t)1) * a->nr_nodes, sizeof(*count));
        if (!count)
                return -ENOMEM;
        for (ssize_t i = 0; i < nr_faults; i++) {
                const nv_fault *f = &a->faults[i];
                size_t k = region_of(regions, n, f->hva);

                if (k != SIZE_MAX && f->node >= 0 && (unsigned)f->node < a->nr_nodes)
                        count[k * a->nr_nodes + (unsigned)f->node]++;
        }
        for (size_t k = 0; k < n; k++) {
                region_votes(a, &regions[k]);
                note_epoch_owner(&regions[k], &count[k * a->nr_nodes], a->nr_nodes,
                                 MIN((uint64_t)EPOCH_MIN_FAULTS, region_blocks(vm, &regions[k])));
        }
        return 0;
}

void nv_attribution_summary(const nv_region *regions, size_t n, unsigned nr_nodes,
                            uint64_t ret_private[static NV_MAX_NODES], uint64_t *ret_shared) {
        memset(ret_private, 0, sizeof(uint64_t) * NV_MAX_NODES);
        *ret_shared = 0;
        for (size_t i = 0; i < n; i++) {
                int owner = nv_votes_owner(regions[i].votes, nr_nodes, NV_VOTE_MIN);

                if (owner >= 0)
                        ret_private[owner] += nv_region_bytes(&regions[i]);
                else if (owner == -1)
                        *ret_shared += nv_region_bytes(&regions[i]);
        }
}
