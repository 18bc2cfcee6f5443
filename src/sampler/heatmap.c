/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/log.h"
#include "sampler/heatmap-internal.h"

/* Caps on what a configuration may ask for: every resource a client controls has a cap. */
#define HM_REGIONS_CAP 100000u
#define HM_LOCATE_CAP  64u

void nv_heatmap_config_defaults(nv_heatmap_config *cfg) {
        *cfg = (nv_heatmap_config){
                .min_regions = 32,
                .max_regions = 1000,
                .heat_alpha = 0.5,
                .merge_delta = 0.1,
                .locate_samples = 8,
                .flush = false,
        };
}

static bool config_valid(const nv_heatmap_config *cfg) {
        return cfg->min_regions >= 1 && cfg->min_regions <= cfg->max_regions &&
               cfg->max_regions <= HM_REGIONS_CAP && cfg->heat_alpha > 0 && cfg->heat_alpha <= 1 &&
               cfg->merge_delta >= 0 && cfg->merge_delta <= 1 && cfg->locate_samples <= HM_LOCATE_CAP;
}

int hm_reserve_addrs(nv_heatmap *h, size_t n) {
        size_t cap = h->cap_addrs;
        int r;

        if (n <= h->cap_addrs)
                return 0;
        /* Grow accessed[] first to the size addrs[] will get, so that both keep one capacity. */
        n = MAX(n, cap * 2);
        r = nv_array_grow((void **)&h->accessed, &cap, n, sizeof(*h->accessed));
        if (r < 0)
                return r;
        return nv_array_grow((void **)&h->addrs, &h->cap_addrs, n, sizeof(*h->addrs));
}

int hm_reserve_status(nv_heatmap *h, size_t n) {
        return nv_array_grow((void **)&h->status, &h->cap_status, n, sizeof(*h->status));
}

int hm_reserve_regions(nv_heatmap *h, size_t n) {
        size_t cap = h->cap_regions;
        int r;

        if (n <= h->cap_regions)
                return 0;
        n = MAX(n, cap * 2);
        r = nv_array_grow((void **)&h->probe, &cap, n, sizeof(*h->probe));
        if (r < 0)
                return r;
        return nv_array_grow((void **)&h->regions, &h->cap_regions, n, sizeof(*h->regions));
}

nv_heatmap *nv_heatmap_free(nv_heatmap *h) {
        if (!h)
                return NULL;
        free(h->ranges);
        free(h->range_shift);
        free(h->regions);
        free(h->probe);
        free(h->addrs);
        free(h->accessed);
        free(h->status);
        free(h);
        return NULL;
}

static int compare_range_start(const void *a, const void *b, void *userdata) {
        const nv_ram_range *ranges = userdata;
        uint64_t x = ranges[*(const size_t *)a].hva, y = ranges[*(const size_t *)b].hva;

        return x < y ? -1 : x > y;
}

/* Fill order[] with the indices of vm's ranges by address, and check that each is aligned to its
 * page and that none overlap. 0 or -EINVAL. */
static int order_ranges(const nv_vm_info *vm, size_t *order) {
        uint64_t prev_end = 0;

        for (size_t i = 0; i < vm->nr_ranges; i++) {
                const nv_ram_range *rr = &vm->ranges[i];
                uint64_t page;

                if ((unsigned)rr->backing >= _NV_BACKING_MAX)
                        return -EINVAL;
                page = UINT64_C(1) << nv_backing_page_shift(rr->backing);
                if (rr->hva % page != 0 || rr->size % page != 0 || rr->hva + rr->size < rr->hva)
                        return -EINVAL;
                order[i] = i;
        }
        qsort_r(order, vm->nr_ranges, sizeof(*order), compare_range_start, vm->ranges);
        for (size_t k = 0; k < vm->nr_ranges; k++) {
                const nv_ram_range *rr = &vm->ranges[order[k]];

                if (rr->size == 0)
                        continue;
                if (k > 0 && rr->hva < prev_end)
                        return -EINVAL;
                prev_end = rr->hva + rr->size;
        }
        return 0;
}

/* Region counts for the ranges to lay out anew: one each, then one more at a time to the range
 * whose regions are largest, until `target` or every range is cut into single pages. */
static uint64_t plan_counts(const nv_vm_info *vm, const bool *rebuild, uint64_t target, uint64_t *count) {
        uint64_t sum = 0;

        for (size_t j = 0; j < vm->nr_ranges; j++) {
                count[j] = rebuild[j] && vm->ranges[j].size > 0;
                sum += count[j];
        }
        while (sum < target) {
                ssize_t best = -1;

                for (size_t j = 0; j < vm->nr_ranges; j++) {
                        uint64_t pages = vm->ranges[j].size >> nv_backing_page_shift(vm->ranges[j].backing);

                        if (!rebuild[j] || count[j] == 0 || count[j] >= pages)
                                continue;
                        /* size_j / count_j > size_best / count_best, without division. */
                        if (best < 0 || (unsigned __int128)vm->ranges[j].size * count[best] >
                                                (unsigned __int128)vm->ranges[best].size * count[j])
                                best = (ssize_t)j;
                }
                if (best < 0)
                        break;
                count[best]++;
                sum++;
        }
        return sum;
}

static void layout_range(const nv_ram_range *rr, uint32_t index, uint64_t count, nv_region *regions,
                         hm_probe *probe) {
        unsigned shift = nv_backing_page_shift(rr->backing);
        uint64_t pages = rr->size >> shift;

        for (uint64_t k = 0; k < count; k++) {
                uint64_t first = (uint64_t)((unsigned __int128)pages * k / count);
                uint64_t last = (uint64_t)((unsigned __int128)pages * (k + 1) / count);
                nv_region *r = &regions[k];

                *r = (nv_region){
                        .start = rr->hva + (first << shift),
                        .end = rr->hva + (last << shift),
                        .range = index,
                };
                nv_region_init_history(r);
                probe[k] = (hm_probe){ .chosen = HM_NO_PAGE };
        }
}

static bool range_same(const nv_ram_range *a, const nv_ram_range *b) {
        return a->hva == b->hva && a->size == b->size && a->backing == b->backing;
}

int nv_heatmap_update_ranges(nv_heatmap *h, const nv_vm_info *vm) {
        size_t n = vm->nr_ranges, old_n = h->nr_ranges, total = 0, cap, w = 0;
        _cleanup_free_ size_t *order = NULL, *old_first = NULL, *old_count = NULL;
        _cleanup_free_ ssize_t *kept_from = NULL;
        _cleanup_free_ bool *rebuild = NULL, *old_used = NULL;
        _cleanup_free_ uint64_t *count = NULL;
        _cleanup_free_ hm_probe *probe = NULL;
        _cleanup_free_ nv_region *regions = NULL;
        _cleanup_free_ nv_ram_range *ranges = NULL;
        _cleanup_free_ uint8_t *shift = NULL;
        uint64_t all_bytes = 0, new_bytes = 0, kept = 0, target = 0;
        int r;

        order = calloc(MAX(n, 1u), sizeof(*order));
        kept_from = calloc(MAX(n, 1u), sizeof(*kept_from));
        rebuild = calloc(MAX(n, 1u), sizeof(*rebuild));
        count = calloc(MAX(n, 1u), sizeof(*count));
        ranges = calloc(MAX(n, 1u), sizeof(*ranges));
        shift = calloc(MAX(n, 1u), sizeof(*shift));
        old_used = calloc(MAX(old_n, 1u), sizeof(*old_used));
        old_first = calloc(MAX(old_n, 1u), sizeof(*old_first));
        old_count = calloc(MAX(old_n, 1u), sizeof(*old_count));
        if (!order || !kept_from || !rebuild || !count || !ranges || !shift || !old_used || !old_first ||
            !old_count)
                return -ENOMEM;

        r = order_ranges(vm, order);
        if (r < 0)
                return log_debug_errno(r, "VM %s has misaligned or overlapping RAM ranges.",
                                       vm->name ?: "?");

        /* Where each old range's regions are: they are contiguous, the array being address ordered. */
        for (size_t i = h->nr_regions; i-- > 0;) {
                old_first[h->regions[i].range] = i;
                old_count[h->regions[i].range]++;
        }

        for (size_t j = 0; j < n; j++) {
                kept_from[j] = -1;
                for (size_t i = 0; i < old_n; i++)
                        if (!old_used[i] && range_same(&h->ranges[i], &vm->ranges[j])) {
                                old_used[i] = true;
                                kept_from[j] = (ssize_t)i;
                                kept += old_count[i];
                                break;
                        }
                rebuild[j] = kept_from[j] < 0;
                all_bytes += vm->ranges[j].size;
                if (rebuild[j])
                        new_bytes += vm->ranges[j].size;
                ranges[j] = vm->ranges[j];
                shift[j] = (uint8_t)nv_backing_page_shift(vm->ranges[j].backing);
        }

        /* New ranges get their share of min_regions, and together with the kept ones at least
         * min_regions; more than max_regions is merged away at the next epoch's end. */
        if (new_bytes > 0) {
                target = (uint64_t)ceil((double)h->cfg.min_regions * (double)new_bytes / (double)all_bytes);
                if (kept + target < h->cfg.min_regions)
                        target = h->cfg.min_regions - kept;
                if (kept + target > h->cfg.max_regions)
                        target = kept < h->cfg.max_regions ? h->cfg.max_regions - kept : 0;
        }
        total = kept + plan_counts(vm, rebuild, target, count);

        cap = MAX(total, (size_t)1);
        regions = calloc(cap, sizeof(*regions));
        probe = calloc(cap, sizeof(*probe));
        if (!regions || !probe)
                return -ENOMEM;

        for (size_t k = 0; k < n; k++) {
                size_t j = order[k];

                if (kept_from[j] >= 0) {
                        size_t i = (size_t)kept_from[j];

                        memcpy(regions + w, h->regions + old_first[i], old_count[i] * sizeof(*regions));
                        memcpy(probe + w, h->probe + old_first[i], old_count[i] * sizeof(*probe));
                        for (size_t c = 0; c < old_count[i]; c++)
                                regions[w + c].range = (uint32_t)j;
                        w += old_count[i];
                } else {
                        layout_range(&vm->ranges[j], (uint32_t)j, count[j], regions + w, probe + w);
                        w += count[j];
                }
        }

        free(h->regions);
        free(h->probe);
        free(h->ranges);
        free(h->range_shift);
        h->regions = TAKE_PTR(regions);
        h->probe = TAKE_PTR(probe);
        h->nr_regions = total;
        h->cap_regions = cap;
        h->ranges = TAKE_PTR(ranges);
        h->range_shift = TAKE_PTR(shift);
        h->nr_ranges = n;
        hm_refresh_probes(h);
        return 0;
}

int nv_heatmap_new(const nv_vm_info *vm, const nv_heatmap_config *cfg, uint64_t seed, nv_heatmap **ret) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        int r;

        if (cfg && !config_valid(cfg))
                return log_debug_errno(-EINVAL, "Invalid heat map configuration.");

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        if (cfg)
                h->cfg = *cfg;
        else
                nv_heatmap_config_defaults(&h->cfg);
        h->rng = seed;

        r = nv_heatmap_update_ranges(h, vm);
        if (r < 0)
                return r;
        /* Room for the first epoch's sampling up front; later rounds allocate nothing. */
        r = hm_reserve_addrs(h, 2 * h->nr_regions);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(h);
        return 0;
}

void nv_heatmap_set_config(nv_heatmap *h, const nv_heatmap_config *cfg) {
        if (!config_valid(cfg)) {
                log_warning("Invalid heat map configuration (regions %u..%u, alpha %g, merge delta %g, "
                            "locate samples %u), ignoring.",
                            cfg->min_regions, cfg->max_regions, cfg->heat_alpha, cfg->merge_delta,
                            cfg->locate_samples);
                return;
        }
        h->cfg = *cfg;
}

void hm_refresh_probes(nv_heatmap *h) {
        h->nr_by_shift[0] = h->nr_by_shift[1] = 0;
        for (size_t i = 0; i < h->nr_regions; i++) {
                const nv_region *r = &h->regions[i];
                hm_probe *p = &h->probe[i];

                p->start = r->start;
                p->shift = h->range_shift[r->range];
                p->pages = (r->end - r->start) >> p->shift;
                h->nr_by_shift[p->shift == NV_HUGE_SHIFT]++;
        }
}

/* One harvest call for the regions with pages of (1 << shift) bytes: each region's page chosen
 * last round is read (a hit or a miss), then a new page is chosen and read once to clear it, in
 * the same call and after it. */
static int sample_shift(nv_heatmap *h, const nv_access_ops *ops, void *ops_ctx, const nv_vm_info *vm,
                        unsigned shift) {
        hm_probe *probe = h->probe;
        uint64_t *addrs = h->addrs;
        uint8_t *accessed = h->accessed;
        size_t n = h->nr_regions, k = 0;
        uint64_t rng = h->rng;
        int r;

        if (h->nr_by_shift[shift == NV_HUGE_SHIFT] == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                const hm_probe *p = &probe[i];
                uint64_t chosen = p->chosen;

                if (p->shift != shift)
                        continue;
                if (chosen != HM_NO_PAGE)
                        addrs[k++] = chosen;
                addrs[k++] = p->start + (nv_random_below(&rng, p->pages) << shift);
        }
        h->rng = rng;

        r = ops->harvest(ops_ctx, vm, addrs, k, shift, h->cfg.flush ? NV_HARVEST_FLUSH : 0, accessed);
        if (r < 0)
                return log_debug_errno(r, "Harvesting %zu pages of VM %s failed: %m", k, vm->name ?: "?");

        k = 0;
        for (size_t i = 0; i < n; i++) {
                hm_probe *p = &probe[i];

                if (p->shift != shift)
                        continue;
                if (p->chosen != HM_NO_PAGE) {
                        if (p->samples < UINT16_MAX) {
                                unsigned b = hm_bucket_of((p->chosen - p->start) >> shift, p->pages);
                                bool hit = accessed[k] != 0;

                                p->samples++;
                                p->hits += hit;
                                p->bucket_samples[b]++;
                                p->bucket_hits[b] += hit;
                        }
                        k++;
                }
                p->chosen = addrs[k++];
        }
        return 0;
}

int nv_heatmap_sample(nv_heatmap *h, const nv_access_ops *ops, void *ops_ctx, const nv_vm_info *vm) {
        int r;

        if (!ops || !ops->harvest)
                return -EOPNOTSUPP;
        r = hm_reserve_addrs(h, 2 * h->nr_regions);
        if (r < 0)
                return r;
        r = sample_shift(h, ops, ops_ctx, vm, NV_PAGE_SHIFT);
        if (r < 0)
                return r;
        return sample_shift(h, ops, ops_ctx, vm, NV_HUGE_SHIFT);
}

/* The backend's heat by part of the region, as if each part had been sampled its share of
 * NV_HEATMAP_BACKEND_SAMPLES times; a part no backend region covers gets no samples. backend
 * starts at the first region that may overlap p's region. */
static void apply_buckets(hm_probe *p, const nv_access_region *backend, size_t n) {
        size_t j = 0;

        for (unsigned b = 0; b < HM_BUCKETS; b++) {
                uint64_t lo = p->start + (hm_bucket_start(b, p->pages) << p->shift),
                         hi = p->start + (hm_bucket_start(b + 1, p->pages) << p->shift);
                double weighted = 0, covered = 0;

                if (hi <= lo)
                        continue;
                while (j < n && backend[j].end <= lo)
                        j++;
                for (size_t k = j; k < n && backend[k].start < hi; k++) {
                        uint64_t a = MAX(lo, backend[k].start), z = MIN(hi, backend[k].end);

                        if (z <= a)
                                continue;
                        weighted += (double)(z - a) * CLAMP((double)backend[k].heat, 0.0, 1.0);
                        covered += (double)(z - a);
                }
                if (covered > 0) {
                        p->bucket_samples[b] = NV_HEATMAP_BACKEND_SAMPLES / HM_BUCKETS;
                        p->bucket_hits[b] = (uint16_t)lround(NV_HEATMAP_BACKEND_SAMPLES / HM_BUCKETS *
                                                             weighted / covered);
                }
        }
}

void nv_heatmap_apply_regions(nv_heatmap *h, const nv_access_region *backend, size_t n) {
        size_t j = 0;

        for (size_t i = 0; i < h->nr_regions; i++) {
                const nv_region *r = &h->regions[i];
                hm_probe *p = &h->probe[i];
                double weighted = 0, covered = 0;

                /* Both are in address order: skip backend regions that end before this one. */
                while (j < n && backend[j].end <= r->start)
                        j++;
                for (size_t k = j; k < n && backend[k].start < r->end; k++) {
                        uint64_t lo = MAX(r->start, backend[k].start), hi = MIN(r->end, backend[k].end);

                        if (hi <= lo)
                                continue;
                        weighted += (double)(hi - lo) * CLAMP((double)backend[k].heat, 0.0, 1.0);
                        covered += (double)(hi - lo);
                }
                p->hits = p->samples = 0;
                memset(p->bucket_hits, 0, sizeof(p->bucket_hits));
                memset(p->bucket_samples, 0, sizeof(p->bucket_samples));
                if (covered > 0) {
                        p->samples = NV_HEATMAP_BACKEND_SAMPLES;
                        p->hits = (uint16_t)lround(NV_HEATMAP_BACKEND_SAMPLES * weighted / covered);
                        apply_buckets(p, backend + j, n - j);
                }
        }
}

static bool turned_hot(const nv_heatmap *h, size_t i, unsigned min_samples, double below) {
        const hm_probe *p = &h->probe[i];

        return p->samples >= MAX(min_samples, 1u) && p->hits == p->samples && h->regions[i].heat < below;
}

int nv_heatmap_turned_hot(const nv_heatmap *h, unsigned min_samples, double below, uint32_t **ret_index,
                          size_t *ret_n) {
        uint32_t *index;
        size_t n = 0, k = 0;

        for (size_t i = 0; i < h->nr_regions; i++)
                n += turned_hot(h, i, min_samples, below);
        if (n == 0) {
                *ret_index = NULL;
                *ret_n = 0;
                return 0;
        }
        index = reallocarray(NULL, n, sizeof(*index));
        if (!index)
                return -ENOMEM;
        for (size_t i = 0; i < h->nr_regions; i++)
                if (turned_hot(h, i, min_samples, below))
                        index[k++] = (uint32_t)i;
        *ret_index = index;
        *ret_n = n;
        return 0;
}

void nv_heatmap_mark_all_hot(nv_heatmap *h) {
        for (size_t i = 0; i < h->nr_regions; i++)
                h->regions[i].heat = 1.0f;
}

nv_region *nv_heatmap_regions(nv_heatmap *h, size_t *ret_n) {
        for (size_t i = 0; i < h->nr_regions; i++) {
                h->regions[i].hits = h->probe[i].hits;
                h->regions[i].samples = h->probe[i].samples;
        }
        *ret_n = h->nr_regions;
        return h->regions;
}

void nv_heatmap_hot_bytes(const nv_heatmap *h, double hot_threshold, const int8_t *region_target,
                          uint64_t *ret_hot, uint64_t *ret_hot_local) {
        uint64_t hot = 0, local = 0;

        for (size_t i = 0; i < h->nr_regions; i++) {
                const nv_region *r = &h->regions[i];

                if (r->heat < hot_threshold)
                        continue;
                hot += nv_region_resident_bytes(r);
                if (region_target && region_target[i] >= 0 && region_target[i] < NV_MAX_NODES)
                        local += r->node_bytes[region_target[i]];
        }
        if (ret_hot)
                *ret_hot = hot;
        if (ret_hot_local)
                *ret_hot_local = local;
}
