/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The heat map's insides, shared by heatmap.c (layout, sampling, summaries) and heatmap-epoch.c
 * (the epoch's fold, merge, split and node histogram). Not for other modules. */

#include "common/random.h"
#include "sampler/heatmap.h"

/* No page chosen for a region yet (no address is ever all ones: they are page aligned). */
#define HM_NO_PAGE UINT64_MAX

/* Each region's samples are also counted in HM_BUCKETS equal parts of it (part b holds the pages
 * [ceil(b * pages / B), ceil((b + 1) * pages / B))), so that the epoch's end can tell where in the
 * region heat changes and cut there, and only there. */
#define HM_BUCKETS 8

/* What sampling needs of a region, packed apart from the large nv_region so that the rounds,
 * which run many times an epoch, walk little memory (one cache line). probe[i] belongs to
 * regions[i]. */
typedef struct hm_probe {
        uint64_t start;         /* the region's start */
        uint64_t pages;         /* the region's size in pages of (1 << shift) bytes */
        uint64_t chosen;        /* the page read next round (cleared by the previous one), or HM_NO_PAGE */
        uint16_t hits, samples; /* this epoch's counts, copied into the regions when asked for */
        uint8_t shift;
        uint16_t bucket_hits[HM_BUCKETS], bucket_samples[HM_BUCKETS]; /* the same counts by part */
} hm_probe;

/* The part of a region of `pages` pages that page offset `off` falls in. */
static inline unsigned hm_bucket_of(uint64_t off, uint64_t pages) {
        return (unsigned)(off * HM_BUCKETS / pages);
}

/* The first page offset of part b (b == HM_BUCKETS: the end). */
static inline uint64_t hm_bucket_start(unsigned b, uint64_t pages) {
        return (b * pages + HM_BUCKETS - 1) / HM_BUCKETS;
}

struct nv_heatmap {
        nv_heatmap_config cfg;
        uint64_t rng; /* splitmix64 state */

        /* The ranges the regions were laid out for, in the VM's order, and their page shift. */
        nv_ram_range *ranges;
        uint8_t *range_shift;
        size_t nr_ranges;

        /* Regions in address order, and in parallel their sampling state. */
        nv_region *regions;
        hm_probe *probe;
        size_t nr_regions, cap_regions;
        size_t nr_by_shift[2]; /* regions with 4 KiB pages, with 2 MiB pages */

        /* Scratch buffers reused by every round and epoch, grown on demand. */
        uint64_t *addrs;
        uint8_t *accessed; /* same capacity as addrs */
        size_t cap_addrs;
        int *status;
        size_t cap_status;

        /* nv_heatmap_cut_at()'s addresses, while it runs. */
        const uint64_t *cut_addrs;
        size_t nr_cut_addrs;
};

static inline uint64_t hm_random_below(nv_heatmap *h, uint64_t n) {
        return nv_random_below(&h->rng, n);
}

static inline unsigned hm_region_shift(const nv_heatmap *h, const nv_region *r) {
        return h->range_shift[r->range];
}

/* Make room for n scratch addresses (and accessed bytes), or n statuses. 0 or -ENOMEM. */
int hm_reserve_addrs(nv_heatmap *h, size_t n);
int hm_reserve_status(nv_heatmap *h, size_t n);
/* Make room for n regions. 0 or -ENOMEM. */
int hm_reserve_regions(nv_heatmap *h, size_t n);
/* After the regions changed: refresh probe[].start, .pages, .shift and nr_by_shift. */
void hm_refresh_probes(nv_heatmap *h);
