/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The placement policy: pure. A snapshot of every VM's regions and vCPU placement goes in, a
 * plan comes out: which regions move to which node this epoch, and for every region that does
 * not move, why. No I/O, no clock, no globals; tests and benchmarks call it directly.
 *
 * The rules, in the order they apply (comments in src/policy cite them by number):
 *   1. A VM with placement disabled, or frozen by a live migration, plans nothing (DISABLED).
 *   2. A region outside the VM's known RAM ranges, or on a pinned backing, never moves (PINNED).
 *   3. The target is the node holding at least `dominance` of the accessors' run time (the vNUMA
 *      cell's vCPUs where the range belongs to a cell, else all vCPUs); none: IDLE or
 *      NO_DOMINANT_NODE.
 *   4. Only hot regions move: heat at least hot_threshold, or far above the VM's background
 *      (nv_placement_hot_heat()); else COLD.
 *   5. A region with no bytes off its target stays (LOCAL).
 *   6. Hysteresis: a region moved within min_residency epochs stays unless its new target held
 *      for retarget_epochs epochs in a row (RESIDENCY).
 *   7. The candidates are ranked by heat x the bytes off target this epoch's budget can move.
 *   8. The move budget is shared among VMs by weight, and unused shares go to the others (BUDGET).
 *      A move is charged its cost, not its bytes (model/move-cost.h): its copy time, counted in
 *      bytes of 4 KiB pages, so a 2 MiB page costs an eighth of its bytes.
 *      What the budget stopped gets spares: moved only out of what the moves leave unspent at
 *      run time, their bytes being estimates from sampled pages (nv_placement_plan.spares).
 *   9. No move takes a node below its own free-memory floor (NODE_FLOOR).
 *  10. Every region gets its verdict and bytes, and the moves come out in benefit order.
 *  11. Where a floor stops a candidate, colder memory leaves that node first (MAKE_ROOM): memory
 *      of VMs that do not live there, then the coldest, each to its own node or the nearest that
 *      stays above its floor, paid from the same budget, and only when the candidate gains at
 *      least NV_ROOM_HYSTERESIS times per byte (heat x latency saved) what the victim loses; a
 *      region moved within min_residency epochs never leaves for this (src/policy/room.h). */

#include "model/inventory.h"
#include "model/region.h"

/* min_residency: a moved region stays put for ever (MinResidency=infinity). */
#define NV_RESIDENCY_FOREVER UINT32_MAX

typedef struct nv_placement_config {
        uint64_t budget_cost; /* cost of the moves this epoch, all VMs together (model/move-cost.h) */
        uint64_t node_floor_bytes[NV_MAX_NODES]; /* free memory each node keeps; moves never cross it */
        double hot_threshold;                    /* heat at or above which a region counts as hot */
        double dominance;         /* share of the accessors' run time a node needs to be a target */
        uint32_t min_residency;   /* epochs a moved region stays put (NV_RESIDENCY_FOREVER) ... */
        uint32_t retarget_epochs; /* ... unless its target differed for this many epochs in a row */
} nv_placement_config;

/* Per-VM input. Regions are the sampler's, read only. */
typedef struct nv_placement_vm {
        const nv_vm_info *info;
        const nv_region *regions;
        size_t nr_regions;
        bool enabled;  /* false: placement disabled for this VM (config), nothing planned */
        bool frozen;   /* a live migration is under way: nothing planned */
        double weight; /* share of the budget relative to other VMs; 1.0 by default */
} nv_placement_vm;

typedef struct nv_placement_input {
        const nv_inventory *inv; /* nodes, free memory */
        const nv_placement_vm *vms;
        size_t nr_vms;
        uint64_t epoch; /* the current epoch, counting from 1 */
        const nv_placement_config *cfg;
} nv_placement_input;

typedef enum nv_verdict {
        NV_VERDICT_MOVE,             /* planned to move */
        NV_VERDICT_LOCAL,            /* already on its target node */
        NV_VERDICT_COLD,             /* below the hot threshold */
        NV_VERDICT_NO_DOMINANT_NODE, /* accessors spread over nodes, no vNUMA to tell them apart */
        NV_VERDICT_IDLE,             /* its accessors did not run this epoch */
        NV_VERDICT_PINNED,           /* pinned backing, never moved */
        NV_VERDICT_RESIDENCY,        /* moved recently; hysteresis holds it */
        NV_VERDICT_BUDGET,           /* out of budget this epoch */
        NV_VERDICT_NODE_FLOOR,       /* the target node is at its free-memory floor */
        NV_VERDICT_DISABLED,         /* placement disabled or frozen for this VM */
        NV_VERDICT_MAKE_ROOM,        /* planned to leave a full node to make room for hotter data */
        _NV_VERDICT_MAX,
} nv_verdict;

const char *nv_verdict_to_string(nv_verdict v);

/* The outcome for one region, in the same order as the input regions. */
typedef struct nv_region_plan {
        uint8_t verdict;        /* nv_verdict */
        int8_t target;          /* target node, -1 when none could be determined */
        int8_t streak_target;   /* the region's next streak_target */
        uint16_t target_streak; /* the region's next target_streak */
        uint64_t bytes;         /* bytes off the target node (what a move would move) */
} nv_region_plan;

/* One planned move, ordered in the plan by descending benefit. */
typedef struct nv_move {
        uint32_t vm;     /* index into input vms */
        uint32_t region; /* index into that VM's regions */
        int8_t target;
        uint64_t bytes; /* estimated bytes off the target node */
        uint64_t page;  /* the backing's page: bytes are whole pages, each costing its page's cost */
        double benefit; /* heat x bytes off target, at most the epoch's budget of them */
} nv_move;

typedef struct nv_placement_plan {
        nv_move *moves;
        size_t nr_moves;
        /* Regions the budget stopped, in benefit order, bytes: what each may still move, but only
         * out of the budget that the moves above leave unspent at run time (their bytes are
         * estimates from sampled pages: a move finds fewer pages off target than planned, or
         * fails). Within the floors, all of them together at most the epoch's budget. */
        nv_move *spares;
        size_t nr_spares;
        nv_region_plan **regions; /* regions[vm][region] */
        size_t nr_vms;
        uint64_t (*bytes_by_verdict)[_NV_VERDICT_MAX]; /* per VM: region bytes by verdict */
        uint64_t planned_bytes;                        /* sum of moves[].bytes */
        uint64_t planned_cost;                         /* their cost, within budget_cost */
} nv_placement_plan;

/* Compute the plan. Returns 0 or -ENOMEM (then *ret_plan is untouched). */
int nv_placement_plan_compute(const nv_placement_input *in, nv_placement_plan *ret_plan);
void nv_placement_plan_clear(nv_placement_plan *plan);

/* The heat at or above which a region of a VM (given all of its regions) counts as hot:
 * hot_threshold, or, when that is higher, several times the VM's background heat (the
 * byte-weighted median of its regions' heat) but never below a floor. So hot data sampled less
 * often than hot_threshold but far more than the rest of its VM counts as hot too. */
double nv_placement_hot_heat(const nv_region *regions, size_t nr_regions, double hot_threshold);

/* The target node for a set of accessors, from their run time per node: the node holding at
 * least `dominance` of the total, or -1 (*ret_verdict says why: NO_DOMINANT_NODE or IDLE). */
int nv_placement_dominant_node(const nv_node_time *t, unsigned nr_nodes, double dominance,
                               nv_verdict *ret_verdict);
