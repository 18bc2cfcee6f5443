/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A region's target from who touches it: pure. The attribution sampler's votes (nv_region.votes,
 * .vote_node, .vote_streak) name the node whose vCPUs fault on a region; this decides when they
 * overrule the node the VM's (or the vNUMA cell's) vCPUs run on, the target of whole-VM placement. */

#include "model/region.h"
#include "policy/placement.h"

/* Epochs in a row the same node must take a clear majority of a region's faults before the region
 * follows it there against the VM's node: a two-stage filter, as AutoNUMA's (a page migrates on a
 * fault from the node of the fault before it), so that one epoch's chance never moves memory. */
#define NV_OWNER_EPOCHS 2

/* The target of region r, given vm_node, the node its VM's (or cell's) vCPUs ran on (-1: none).
 * - Too few votes: vm_node (whole-VM placement; so too on a host without attribution), unless the
 *   few there are mostly name another node: then -1. Few votes that all but name one node count
 *   as that node owning them when it took the majority of the faults NV_VOTE_MIN epochs in a row
 *   (vote_streak): a region of a huge page or two faults at most once per block an epoch.
 * - Moved before, and the node it moved to still has half of the votes: that node (it stays).
 * - This epoch's faults came clearly from vm_node: vm_node (both measures agree).
 * - One node owns the votes (NV_VOTE_OWNER_SHARE of them) and took the majority of the faults
 *   NV_OWNER_EPOCHS epochs in a row: that node, whatever vm_node says.
 * - Shared (no owner): vm_node when it holds `dominance` of the votes; else, when the node holding
 *   most of the region has less than 1 - NV_VOTE_OWNER_SHARE of the votes (hardly any of its
 *   accessors run there), the node with the most votes if it has at least half of them; else -1.
 * - Otherwise (an owner not yet confirmed): -1.
 * On -1 with votes to go by, *ret_verdict is NV_VERDICT_NO_DOMINANT_NODE (the region stays); with
 * too few votes *ret_verdict is left alone. */
int nv_owner_target(const nv_region *r, unsigned nr_nodes, int vm_node, double dominance,
                    nv_verdict *ret_verdict);
