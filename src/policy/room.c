/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "common/macro.h"
#include "model/move-cost.h"
#include "policy/room.h"

double nv_room_latency_saved(const nv_inventory *inv, int from, int to) {
        unsigned d;

        if (from < 0 || to < 0 || from == to || from >= NV_MAX_NODES || to >= NV_MAX_NODES)
                return 0;
        d = inv->distance[from][to];
        /* No distance known: the SLIT default between two nodes. */
        return (d > 10 ? d : 20) / 10.0 - 1;
}

/* What a victim loses per byte by leaving its node for dest: nothing when its accessors live
 * elsewhere (it is remote either way). */
static double victim_loss(const nv_victim *v, const nv_inventory *inv, int dest) {
        if (!v->lives_there)
                return 0;
        return v->density * nv_room_latency_saved(inv, dest, v->node);
}

static int victim_compare(const void *a, const void *b) {
        const nv_victim *x = a, *y = b;

        if (x->node != y->node)
                return x->node < y->node ? -1 : 1;
        if (x->lives_there != y->lives_there)
                return x->lives_there ? 1 : -1; /* memory of VMs that do not live there first */
        if (x->density != y->density)
                return x->density < y->density ? -1 : 1; /* then the coldest */
        if (x->vm != y->vm)
                return x->vm < y->vm ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

static bool evictable(const nv_placement_input *in, const nv_placement_vm *vm, const nv_region *r,
                      const nv_region_plan *p) {
        switch (p->verdict) {
        case NV_VERDICT_LOCAL:
        case NV_VERDICT_COLD:
        case NV_VERDICT_NO_DOMINANT_NODE:
        case NV_VERDICT_IDLE:
                break;
        default: /* candidates, pinned, disabled, held by residency */
                return false;
        }
        if (!vm->enabled || vm->frozen)
                return false;
        /* Hysteresis: memory moved lately stays where it was put. */
        return r->moved_epoch == 0 || in->epoch >= r->moved_epoch + in->cfg->min_residency;
}

int nv_room_victims(const nv_placement_input *in, const nv_placement_plan *plan, const bool *full,
                    nv_victim **ret, size_t *ret_n) {
        nv_victim *v = NULL;
        size_t n = 0, cap = 0;

        for (size_t i = 0; i < in->nr_vms; i++) {
                const nv_placement_vm *vm = &in->vms[i];
                const nv_vm_info *info = vm->info;

                for (size_t j = 0; info && j < vm->nr_regions; j++) {
                        const nv_region *r = &vm->regions[j];
                        const nv_region_plan *p = &plan->regions[i][j];
                        uint64_t all = 0, size = r->end > r->start ? nv_region_bytes(r) : 0, page;
                        int node = -1;

                        if (!evictable(in, vm, r, p) || r->range >= info->nr_ranges)
                                continue;
                        for (unsigned k = 0; k < NV_MAX_NODES; k++)
                                if (r->node_bytes[k] > 0) {
                                        all += MIN(r->node_bytes[k], size);
                                        node = node < 0 && k < in->inv->nr_nodes ? (int)k : NV_MAX_NODES;
                                }
                        /* Only regions wholly on one node: the mover moves whatever is off its
                         * target, so a victim must not have bytes elsewhere. */
                        if (node < 0 || node >= (int)in->inv->nr_nodes || !full[node])
                                continue;
                        page = UINT64_C(1) << nv_backing_page_shift(info->ranges[r->range].backing);
                        if (ALIGN_DOWN(all, page) == 0)
                                continue;
                        if (n == cap) {
                                size_t c = MAX(cap * 2, (size_t)64);
                                nv_victim *t = reallocarray(v, c, sizeof(*v));
                                if (!t) {
                                        free(v);
                                        return -ENOMEM;
                                }
                                v = t;
                                cap = c;
                        }
                        v[n++] = (nv_victim){
                                .vm = (uint32_t)i,
                                .index = (uint32_t)j,
                                .node = (int8_t)node,
                                .home = p->target >= 0 && p->target != node ? p->target : -1,
                                .page = page,
                                .bytes = ALIGN_DOWN(all, page),
                                .density = r->heat > 0 ? r->heat : 0,
                                .lives_there = p->target < 0 || p->target == node,
                                .dest = -1,
                        };
                }
        }
        if (n > 0)
                qsort(v, n, sizeof(*v), victim_compare);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Where a victim goes: its home if that stays above its floor, else the nearest node that does. */
static int victim_dest(const nv_victim *v, const uint64_t *free_bytes, const nv_inventory *inv,
                       const uint64_t *floor, uint64_t bytes) {
        int best = -1;

        if (v->home >= 0 && free_bytes[v->home] >= floor[v->home] + bytes)
                return v->home;
        for (unsigned k = 0; k < MIN(inv->nr_nodes, (unsigned)NV_MAX_NODES); k++) {
                if ((int)k == v->node || free_bytes[k] < floor[k] + bytes)
                        continue;
                if (best < 0 || inv->distance[v->node][k] < inv->distance[v->node][best])
                        best = (int)k;
        }
        return best;
}

uint64_t nv_room_make(nv_victim *v, size_t n, int node, uint64_t need, double gain, uint64_t avail,
                      uint64_t *free_bytes, const nv_inventory *inv, const uint64_t *floor, size_t before) {
        uint64_t freed = 0, spent = 0;

        for (size_t i = 0; i < n && freed < need && spent < avail; i++) {
                nv_victim *x = &v[i];
                uint64_t take;
                int dest;

                if (x->node != node || x->planned >= x->bytes)
                        continue;
                take = MIN(ALIGN_UP(need - freed, x->page), x->bytes - x->planned);
                take = MIN(take, nv_move_bytes_within(avail - spent, x->page));
                if (take == 0)
                        continue;
                /* A victim already leaving goes on to the same node, if that still has room. */
                dest = x->planned > 0 ? (free_bytes[x->dest] >= floor[x->dest] + take ? x->dest : -1)
                                      : victim_dest(x, free_bytes, inv, floor, take);
                if (dest < 0)
                        continue;
                if (!(gain > 0) || gain < NV_ROOM_HYSTERESIS * victim_loss(x, inv, dest))
                        continue;
                if (x->planned == 0)
                        x->before = before;
                x->dest = (int8_t)dest;
                x->planned += take;
                free_bytes[dest] -= take;
                free_bytes[node] += take;
                freed += take;
                spent += nv_move_cost(take, x->page);
        }
        return spent;
}
