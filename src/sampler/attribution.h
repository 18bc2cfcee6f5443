/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The attribution sampler of one VM: each epoch it zaps a sample of every region's pages through
 * the attribution port (model/host.h), so that the next access to each faults, drains who faulted
 * (the vCPU, and the node it ran on), and keeps per-node votes: decayed counts of those faults, per
 * chunk of guest RAM and per region. Heat (accessed bits) says how hot a region is; votes say whose
 * it is. Where the node that touches memory changes inside a region, the region is cut there, and
 * regions touched from different nodes never merge back. The policy reads nv_region.votes,
 * .vote_node and .vote_streak. */

#include "model/host.h"
#include "sampler/heatmap.h"

typedef struct nv_attribution_config {
        double faults_per_sec; /* pages zapped per second per VM, which bounds its faults (> 0) */
        double vote_alpha;     /* weight of the newest epoch's faults against the older votes, (0, 1] */
        usec_t interval;       /* time from one collection to the next */
} nv_attribution_config;

typedef struct nv_attribution_stats {
        uint64_t zapped;      /* pages (or 2 MiB blocks) zapped since the VM was attached */
        uint64_t faults;      /* faults drained since then */
        uint64_t dropped;     /* faults the port lost (its ring was full) since then */
        uint64_t last_faults; /* faults drained by the last collection */
} nv_attribution_stats;

typedef struct nv_attribution nv_attribution;

/* A sampler for the VM's RAM ranges on a host of nr_nodes nodes; seed makes its random choices
 * repeatable. 0, -EINVAL or -ENOMEM. */
int nv_attribution_new(const nv_vm_info *vm, unsigned nr_nodes, uint64_t seed, nv_attribution **ret);
nv_attribution *nv_attribution_free(nv_attribution *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_attribution *, nv_attribution_free);

/* Zap a sample of the heat map's regions for the interval that starts: about faults_per_sec x
 * interval pages in all, half spread evenly over the regions and half by heat x size, so that
 * every region is heard from and the hot ones most. Returns the pages zapped, or -errno from the port
 * (-ESRCH: the VM is gone). */
int nv_attribution_zap(nv_attribution *a, const nv_attribution_ops *ops, void *ctx, const nv_vm_info *vm,
                       nv_heatmap *h, const nv_attribution_config *cfg);

/* The end of an interval: drain the faults, fold them into the votes, and write every region's
 * votes, vote_node and vote_streak (one stage of the two-stage filter per interval). With cut (at
 * an epoch's end, after nv_heatmap_end_epoch(); never within an epoch, whose heat counts a cut
 * would lose), first cut the heat map's regions where the node that touches memory changes.
 * 0 or -errno from the port. */
int nv_attribution_collect(nv_attribution *a, const nv_attribution_ops *ops, void *ctx, const nv_vm_info *vm,
                           nv_heatmap *h, const nv_attribution_config *cfg, bool cut);

void nv_attribution_get_stats(const nv_attribution *a, nv_attribution_stats *ret);

/* What the votes say of a VM's regions: bytes of regions owned by each node, and bytes of shared
 * regions (votes from several nodes). Regions without enough votes count in neither. */
void nv_attribution_summary(const nv_region *regions, size_t n, unsigned nr_nodes,
                            uint64_t ret_private[static NV_MAX_NODES], uint64_t *ret_shared);
