/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Private to src/policy/: sharing the epoch's move budget among the regions that want to move
 * (rule 8) without taking any node below its free-memory floor (rule 9). Pure. Budgets, shares and
 * demands are costs (model/move-cost.h: copy time, in bytes of 4 KiB pages); what a candidate
 * wants and is granted are bytes, in whole pages of its backing, each costing its page's cost. */

#include "model/inventory.h"
#include "model/region.h"
#include "policy/room.h"

/* One region that would move if budget and floors allow. */
typedef struct nv_candidate {
        const nv_region *region; /* read only; its node_bytes tell where the moved bytes come from */
        uint32_t vm, index;      /* index into the input VMs, and into that VM's regions */
        int8_t target;
        uint8_t limit;    /* nv_verdict: why planned < want (BUDGET or NODE_FLOOR), MOVE otherwise */
        uint64_t page;    /* placement unit of the backing: a move is a multiple of it */
        uint64_t size;    /* the region's bytes */
        uint64_t want;    /* bytes off target, a multiple of page */
        uint64_t planned; /* bytes granted, a multiple of page, <= want */
        uint64_t spare;   /* bytes beyond planned it may take from what the moves leave unspent */
        double benefit;   /* heat x want, want capped at the epoch's budget */
} nv_candidate;

/* Water-filling: split budget among VMs by weight, a VM never getting more than it demands and
 * what it leaves going to the others (all costs). weight[i] must be > 0. Writes
 * ret_share[0..nr_vms). Returns 0 or -ENOMEM. */
int nv_budget_shares(const uint64_t *demand, const double *weight, size_t nr_vms, uint64_t budget,
                     uint64_t *ret_share);

/* Grant bytes to candidates in benefit order (descending; ties by VM index, then region index,
 * which must be the order the candidates come in), each paid at its cost: from each VM's share
 * (consumed), then whatever the budget still holds, never bringing a node's projected free memory
 * below its floor[node].
 * Where a target's floor stops a candidate, victims (rule 11, may be NULL) leave that node first,
 * paid from the same share or budget; each planned victim's `before` is the position in
 * ret_order of the candidate it made room for. Sets planned
 * and limit of every candidate; writes to ret_order (room for n) the positions of the candidates
 * it considered, in benefit order: those not listed got nothing for lack of budget.
 * `want` is an estimate (node_bytes come from sampled pages), so the moves may find fewer bytes
 * off target than planned and leave budget unspent. Candidates the budget stopped (limit BUDGET)
 * get a spare: the rest of their want, in benefit order, all spares together costing at most
 * budget (the most the moves can leave unspent), each within its target's floor as projected after
 * the planned moves and the spares before it. They are listed in ret_order too.
 * Returns 0 or -ENOMEM. */
int nv_budget_allocate(nv_candidate *c, size_t n, uint64_t *share, size_t nr_vms, uint64_t budget,
                       const nv_inventory *inv, const uint64_t *floor, nv_victim *victims, size_t nr_victims,
                       size_t *ret_order, size_t *ret_nr_order);
