/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Node memory: the min, low and high watermarks as Linux computes them, allocations that fall back
 * along the distances as the page allocator's zonelist does, and memory that is not the VMs'
 * (page cache, other processes) growing over time. No reclaim and no swap are modelled: what
 * cannot be placed above a node's min watermark is not placed. */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sim/sim-internal.h"

/* mm/page_alloc.c (Linux 6.1), init_per_zone_wmark_min(): min_free_kbytes is
 * int_sqrt(lowmem_kbytes * 16), clamped to [128, 262144] KiB. __setup_per_zone_wmarks() gives each
 * zone its share of it in proportion to its managed pages (WMARK_MIN), and adds
 * max(min / 4, managed * watermark_scale_factor / 10000) for WMARK_LOW (and again for WMARK_HIGH),
 * watermark_scale_factor being 10 by default. The sim has one zone per node. Allocations and moves
 * look at min and low; high is what the node tells the daemon (no kswapd is modelled). */
#define WMARK_MIN_FREE_KB_MIN   128u
#define WMARK_MIN_FREE_KB_MAX   262144u
#define WMARK_SCALE_FACTOR      10u
#define WMARK_SCALE_FACTOR_BASE 10000u

void sim_setup_watermarks(nv_sim *s) {
        uint64_t total = 0, kb, min_free;

        for (unsigned n = 0; n < s->nr_nodes; n++)
                total += s->nodes[n].total;
        kb = total >> 10;
        min_free = (uint64_t)sqrt((double)kb * 16);
        min_free = CLAMP(min_free, (uint64_t)WMARK_MIN_FREE_KB_MIN, (uint64_t)WMARK_MIN_FREE_KB_MAX) << 10;
        for (unsigned n = 0; n < s->nr_nodes; n++) {
                sim_node *node = &s->nodes[n];
                uint64_t min = (uint64_t)((unsigned __int128)min_free * node->total / total);
                uint64_t step = MAX(min / 4, node->total / WMARK_SCALE_FACTOR_BASE * WMARK_SCALE_FACTOR);
                uint64_t cap = node->low_set ? node->wmark_low : node->high_set ? node->wmark_high : min;

                if (!node->min_set)
                        node->wmark_min = MIN(min, cap);
                if (!node->low_set)
                        node->wmark_low =
                                MIN(node->wmark_min + step, node->high_set ? node->wmark_high : UINT64_MAX);
                if (!node->high_set)
                        node->wmark_high =
                                MIN(node->wmark_low + (node->wmark_low - node->wmark_min), node->total);
        }
}

bool sim_node_can_take(const nv_sim *s, unsigned node, uint64_t bytes, bool low) {
        const sim_node *n = &s->nodes[node];
        uint64_t mark = low ? n->wmark_low : n->wmark_min;

        return n->free >= bytes && n->free - bytes >= mark;
}

/* The page allocator's order: the preferred node, then the others by distance from it; a first
 * pass stops at each node's low watermark, the slow path at its min. */
int sim_alloc(nv_sim *s, unsigned pref, uint64_t size) {
        for (int pass = 0; pass < 2; pass++) {
                int best = -1;

                for (unsigned n = 0; n < s->nr_nodes; n++) {
                        if (!sim_node_can_take(s, n, size, pass == 0))
                                continue;
                        if (best < 0 || s->distance[pref][n] < s->distance[pref][best])
                                best = (int)n;
                }
                if (best >= 0) {
                        s->nodes[best].free -= size;
                        return best;
                }
        }
        return -ENOMEM;
}

/* Memory that is not the VMs' grows on a node: what the node holds above its low watermark, then
 * the nearest nodes' in the same way, then down to the min watermarks. */
static void grow_other(nv_sim *s, unsigned pref, uint64_t bytes) {
        for (int pass = 0; pass < 2 && bytes > 0; pass++)
                for (unsigned d = 10; d <= UINT8_MAX && bytes > 0; d++)
                        for (unsigned n = 0; n < s->nr_nodes && bytes > 0; n++) {
                                sim_node *node = &s->nodes[n];
                                uint64_t mark = pass == 0 ? node->wmark_low : node->wmark_min, take;

                                if (s->distance[pref][n] != d || node->free <= mark)
                                        continue;
                                take = MIN(bytes, node->free - mark);
                                node->free -= take;
                                node->other += take;
                                bytes -= take;
                        }
        s->nodes[pref].other_dropped += bytes;
}

void sim_apply_growth(nv_sim *s) {
        for (; s->next_growth < s->nr_growth && s->growth[s->next_growth].t <= s->now; s->next_growth++)
                grow_other(s, s->growth[s->next_growth].node, s->growth[s->next_growth].bytes);
}

usec_t sim_next_growth(const nv_sim *s) {
        return s->next_growth < s->nr_growth ? s->growth[s->next_growth].t : USEC_INFINITY;
}

static int cmp_growth(const void *a, const void *b) {
        const sim_growth *x = a, *y = b;

        if (x->t != y->t)
                return x->t < y->t ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

void sim_sort_growth(nv_sim *s) {
        if (s->nr_growth > 0)
                qsort(s->growth, s->nr_growth, sizeof(*s->growth), cmp_growth);
}

int nv_sim_get_node_memory(const nv_sim *s, unsigned node, nv_sim_node_memory *ret) {
        const sim_node *n;

        if (node >= s->nr_nodes)
                return -EINVAL;
        n = &s->nodes[node];
        *ret = (nv_sim_node_memory){
                .total = n->total,
                .free = n->free,
                .wmark_min = n->wmark_min,
                .wmark_low = n->wmark_low,
                .wmark_high = n->wmark_high,
                .other = n->other,
                .other_dropped = n->other_dropped,
        };
        return 0;
}
