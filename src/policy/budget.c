/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "model/move-cost.h"
#include "policy/budget.h"
#include "policy/placement.h"

/* Candidates are ranked by sorting small keys, not the candidates themselves: a stable LSD radix
 * sort on the benefit's bits, linear in their number (a comparison sort was most of the time of
 * a 64 VMs x 1000 regions plan). Candidates come in (VM, region) order and the sort is stable,
 * so ties stay in VM index, then region index order. */
typedef struct rank_key {
        uint64_t bits; /* ascending bits = descending benefit */
        size_t pos;
} rank_key;

static uint64_t rank_bits(double benefit) {
        uint64_t u;

        if (benefit == 0)
                benefit = 0; /* -0.0 ranks with +0.0 */
        memcpy(&u, &benefit, sizeof(u));
        /* IEEE 754 bits in the order of the values: flip negatives, set the sign of positives. */
        u = u >> 63 ? ~u : u | UINT64_C(1) << 63;
        return ~u;
}

/* Sort keys[0..n) by bits, stably; tmp has room for n keys. */
static void rank_sort(rank_key *keys, rank_key *tmp, size_t n) {
        size_t count[8][256] = {};
        rank_key *src = keys, *dst = tmp;

        for (size_t i = 0; i < n; i++)
                for (unsigned d = 0; d < 8; d++)
                        count[d][(keys[i].bits >> (8 * d)) & 0xff]++;

        for (unsigned d = 0; d < 8; d++) {
                size_t sum = 0;
                rank_key *t;

                if (n == 0 || count[d][(keys[0].bits >> (8 * d)) & 0xff] == n)
                        continue; /* every key has the same digit here */
                for (unsigned v = 0; v < 256; v++) {
                        size_t c = count[d][v];

                        count[d][v] = sum;
                        sum += c;
                }
                for (size_t i = 0; i < n; i++)
                        dst[count[d][(src[i].bits >> (8 * d)) & 0xff]++] = src[i];
                t = src;
                src = dst;
                dst = t;
        }
        if (src != keys)
                memcpy(keys, src, n * sizeof(*keys));
}

typedef struct vm_need {
        double key; /* demand per unit of weight */
        size_t vm;
} vm_need;

static int vm_need_compare(const void *a, const void *b) {
        const vm_need *x = a, *y = b;

        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        return x->vm < y->vm ? -1 : (x->vm > y->vm ? 1 : 0);
}

int nv_budget_shares(const uint64_t *demand, const double *weight, size_t nr_vms, uint64_t budget,
                     uint64_t *ret_share) {
        _cleanup_free_ vm_need *order = NULL;
        uint64_t left = budget;
        double weight_left = 0;
        size_t n = 0;

        if (nr_vms == 0)
                return 0;
        order = malloc(nr_vms * sizeof(*order));
        if (!order)
                return -ENOMEM;

        for (size_t i = 0; i < nr_vms; i++) {
                ret_share[i] = 0;
                if (demand[i] == 0)
                        continue;
                order[n++] = (vm_need){ .key = (double)demand[i] / weight[i], .vm = i };
                weight_left += weight[i];
        }
        qsort(order, n, sizeof(*order), vm_need_compare);

        /* Least demanding (per weight) first: who needs less than its share takes what it needs
         * and leaves the rest to those after it; once one cannot be satisfied, none after it
         * can, and each of them gets its weighted share of what is left. */
        for (size_t k = 0; k < n; k++) {
                size_t i = order[k].vm;
                uint64_t share;

                if (k == n - 1)
                        share = left;
                else {
                        double s = (double)left * (weight[i] / weight_left);
                        share = s >= (double)left ? left : (uint64_t)s;
                }
                share = MIN(share, demand[i]);
                ret_share[i] = share;
                left -= share;
                weight_left -= weight[i];
        }
        return 0;
}

/* Bytes a move of `bytes` to `target` may keep: node free memory stays at or above its floor. */
static uint64_t fit_to_floor(const uint64_t *free_bytes, int target, const uint64_t *floor, uint64_t bytes,
                             uint64_t page) {
        uint64_t room = free_bytes[target] > floor[target] ? free_bytes[target] - floor[target] : 0;

        if (bytes <= room)
                return bytes;
        return ALIGN_DOWN(room, page);
}

/* Project a move on free memory: the target loses the bytes, the source nodes get them back in
 * proportion to where the region's off-target bytes sit (nothing when that is unknown). */
static void project_move(uint64_t *free_bytes, unsigned nr_nodes, const nv_candidate *c, uint64_t bytes) {
        const uint64_t *nb = c->region->node_bytes;
        uint64_t off = 0;

        free_bytes[c->target] -= bytes;
        for (unsigned n = 0; n < NV_MAX_NODES; n++)
                if (n != (unsigned)c->target)
                        off += MIN(nb[n], c->size); /* clamped, as when the bytes were counted */
        if (off == 0)
                return;
        for (unsigned n = 0; n < nr_nodes; n++)
                if (n != (unsigned)c->target && nb[n] > 0)
                        free_bytes[n] += (uint64_t)((unsigned __int128)bytes * MIN(nb[n], c->size) / off);
}

typedef struct room {
        nv_victim *victims;
        size_t nr_victims;
        const nv_inventory *inv;
        size_t pos; /* the candidate's position in the order */
} room;

/* The node most of a region's off-target bytes sit on (-1: unknown). */
static int source_node(const nv_candidate *x) {
        int best = -1;

        for (int n = 0; n < NV_MAX_NODES; n++)
                if (n != x->target && x->region->node_bytes[n] > 0 &&
                    (best < 0 || x->region->node_bytes[n] > x->region->node_bytes[best]))
                        best = n;
        return best;
}

/* Rule 11: the target's floor stops x; evict colder memory off the target for the move, the
 * move and the evictions together within avail. The move of m bytes costs nv_move_cost(m), the
 * m - now bytes evicted for it at most as many (a small page costs its bytes, no page more), so
 * m (1 + page cost / page) <= avail + now. Returns the cost of the evictions. */
static uint64_t make_room(nv_candidate *x, uint64_t g, uint64_t avail, uint64_t *free_bytes,
                          const uint64_t *floor, room *rm) {
        uint64_t now =
                free_bytes[x->target] > floor[x->target] ? free_bytes[x->target] - floor[x->target] : 0;
        unsigned __int128 fits =
                ((unsigned __int128)avail + now) * x->page / (nv_move_page_cost(x->page) + x->page);
        uint64_t m = ALIGN_DOWN(fits < g ? (uint64_t)fits : g, x->page);
        double gain = (double)x->region->heat * nv_room_latency_saved(rm->inv, source_node(x), x->target);

        if (!rm->victims || m <= now)
                return 0;
        return nv_room_make(rm->victims, rm->nr_victims, x->target, m - now, gain,
                            avail - nv_move_cost(m, x->page), free_bytes, rm->inv, floor, rm->pos);
}

/* Grant as much of `want - planned` as the cost `avail` pays for and the target's floor allow,
 * making room where the floor stops it; returns the cost spent (granted and evicted), sets the
 * limit. */
static uint64_t grant(nv_candidate *x, uint64_t avail, uint64_t *free_bytes, unsigned nr_nodes,
                      const uint64_t *floor, room *rm) {
        uint64_t g = ALIGN_DOWN(MIN(x->want - x->planned, nv_move_bytes_within(avail, x->page)), x->page);
        uint64_t fit, evicted = 0;

        if (g == 0)
                return 0;
        fit = fit_to_floor(free_bytes, x->target, floor, g, x->page);
        if (fit < g) {
                evicted = make_room(x, g, avail, free_bytes, floor, rm);
                g = MIN(g, nv_move_bytes_within(avail - evicted, x->page));
                fit = fit_to_floor(free_bytes, x->target, floor, g, x->page);
        }
        if (fit == 0) {
                x->limit = NV_VERDICT_NODE_FLOOR;
                return evicted;
        }
        x->planned += fit;
        x->limit = fit < g ? NV_VERDICT_NODE_FLOOR
                           : (x->planned < x->want ? NV_VERDICT_BUDGET : NV_VERDICT_MOVE);
        project_move(free_bytes, nr_nodes, x, fit);
        return nv_move_cost(fit, x->page) + evicted;
}

int nv_budget_allocate(nv_candidate *c, size_t n, uint64_t *share, size_t nr_vms, uint64_t budget,
                       const nv_inventory *inv, const uint64_t *floor, nv_victim *victims, size_t nr_victims,
                       size_t *ret_order, size_t *ret_nr_order) {
        room rm = { .victims = victims, .nr_victims = nr_victims, .inv = inv };
        _cleanup_free_ rank_key *keys = NULL, *tmp = NULL;
        unsigned nr_nodes = MIN(inv->nr_nodes, (unsigned)NV_MAX_NODES);
        uint64_t free_bytes[NV_MAX_NODES] = {};
        uint64_t shares_left = 0, left = budget, spare_left = budget;
        size_t nr_order = 0;

        if (n > 0) {
                keys = malloc(n * sizeof(*keys));
                tmp = malloc(n * sizeof(*tmp));
                if (!keys || !tmp)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                keys[i] = (rank_key){ .bits = rank_bits(c[i].benefit), .pos = i };
                c[i].planned = 0;
                c[i].spare = 0;
                c[i].limit = NV_VERDICT_BUDGET;
        }
        rank_sort(keys, tmp, n);
        for (unsigned i = 0; i < nr_nodes; i++)
                free_bytes[i] = inv->nodes[i].free_bytes;
        for (size_t i = 0; i < nr_vms; i++)
                shares_left += share[i];

        /* First pass: each VM spends its fair share, its candidates in benefit order, until no
         * share pays for even one small page (which costs its bytes). */
        for (; nr_order < n && shares_left >= NV_PAGE_SIZE; nr_order++) {
                nv_candidate *x = &c[keys[nr_order].pos];
                uint64_t g;

                rm.pos = nr_order;
                g = grant(x, share[x->vm], free_bytes, nr_nodes, floor, &rm);

                share[x->vm] -= g;
                shares_left -= g;
                left -= MIN(left, g);
        }

        /* Second pass: what the shares left unspent (rounding to pages, floors) goes to what is
         * still wanted, in benefit order, so that the budget is not wasted. */
        for (size_t k = 0; k < n && left >= NV_PAGE_SIZE; k++) {
                rm.pos = k;
                left -= grant(&c[keys[k].pos], left, free_bytes, nr_nodes, floor, &rm);
                nr_order = MAX(nr_order, k + 1);
        }

        /* Spares, for what the moves may leave unspent (see budget.h). */
        for (size_t k = 0; k < n && spare_left >= NV_PAGE_SIZE; k++) {
                nv_candidate *x = &c[keys[k].pos];
                uint64_t s;

                if (x->limit != NV_VERDICT_BUDGET || x->planned >= x->want)
                        continue;
                s = MIN(x->want - x->planned, nv_move_bytes_within(spare_left, x->page));
                s = fit_to_floor(free_bytes, x->target, floor, ALIGN_DOWN(s, x->page), x->page);
                if (s == 0)
                        continue;
                x->spare = s;
                spare_left -= nv_move_cost(s, x->page);
                project_move(free_bytes, nr_nodes, x, s);
                nr_order = MAX(nr_order, k + 1);
        }

        for (size_t k = 0; k < nr_order; k++)
                ret_order[k] = keys[k].pos;
        *ret_nr_order = nr_order;
        return 0;
}
