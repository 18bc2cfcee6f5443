/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to src/policy/: making room on a node at its floor (rule 11). When a region's target
 * cannot take it above its floor, colder memory leaves that node first, within the same move
 * budget and never below any node's floor: first memory of VMs that do not live there, then cold
 * memory, then hot memory worth less there than what comes in. Pure. */

#include "model/inventory.h"
#include "model/region.h"
#include "policy/placement.h"

/* A victim only leaves when what comes in gains this many times more per byte than the victim
 * loses: the margin that keeps two VMs from trading the same room back and forth. */
#define NV_ROOM_HYSTERESIS 2.0

/* Memory that may leave a node to make room: a region whose bytes all sit on one node. */
typedef struct nv_victim {
        uint32_t vm, index; /* into the input VMs, and that VM's regions */
        int8_t node;        /* the node it sits on */
        int8_t home;        /* its own target when that is another node, else -1 */
        uint64_t page;      /* placement unit of its backing */
        uint64_t bytes;     /* on node, a multiple of page */
        double density;     /* its heat: accesses per byte, as sampled */
        bool lives_there;   /* its accessors run on node (or on no single node) */
        /* Set when it is planned to leave: */
        int8_t dest;
        uint64_t planned;
        size_t before; /* the position in the plan's order of the move it makes room for */
} nv_victim;

/* Collect the victims of the nodes flagged in `full`, coldest first per node. Regions that are
 * candidates to move, pinned, disabled or moved within min_residency epochs are not victims.
 * Returns 0 or -ENOMEM; *ret is NULL when there are none. */
int nv_room_victims(const nv_placement_input *in, const nv_placement_plan *plan, const bool *full,
                    nv_victim **ret, size_t *ret_n);

/* The latency saved per access by moving data from node `from` to node `to`, as the share of a
 * local access that the remote one costs more (SLIT distance / 10 - 1): 0 for the same node. */
double nv_room_latency_saved(const nv_inventory *inv, int from, int to);

/* Free at least `need` bytes on `node` for data gaining `gain` per byte there, evicting victims
 * in order while each loses less than gain / NV_ROOM_HYSTERESIS per byte, each to its home or to
 * the nearest node that stays above its floor. The evictions cost at most `avail`
 * (model/move-cost.h). Updates free_bytes, marks the victims planned (before = `before`). Returns
 * the cost of the evictions. */
uint64_t nv_room_make(nv_victim *v, size_t n, int node, uint64_t need, double gain, uint64_t avail,
                      uint64_t *free_bytes, const nv_inventory *inv, const uint64_t *floor, size_t before);
