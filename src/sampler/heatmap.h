/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The region heat map of one VM: adaptive regions over its guest RAM (cut where heat differs,
 * merged where it is alike, a bounded count), EWMA heat with aging, and the node histogram of each
 * region. Cost follows the number of regions, not of pages: each sampling round probes one
 * randomly chosen page (or 2 MiB block for huge backings) per region through the access port, the
 * way DAMON does, and each epoch samples a few pages per region for their node. Unlike DAMON,
 * which splits every region at random points each interval, a region is cut only where the
 * samples of its eighths say heat differs (circular binary segmentation), so the count follows
 * how uneven the heat is, not max_regions: a VM with one hot set keeps about min_regions. */

#include "model/host.h"
#include "model/region.h"

typedef struct nv_heatmap_config {
        unsigned min_regions;      /* per VM, at least this many (default 32) */
        unsigned max_regions;      /* per VM, at most this many (default 1000) */
        double heat_alpha;         /* EWMA weight of the newest epoch, (0, 1] (default 0.5) */
        double merge_delta;        /* adjacent regions whose heat differs less merge (0.1) */
        unsigned locate_samples;   /* pages per region whose node is queried each epoch (8) */
        bool flush;                /* ask the access port to flush when clearing */
        uint64_t max_region_bytes; /* regions above this are split evenly (within max_regions); 0: no
                                    * limit. The daemon sets it to what may move in one epoch, so that
                                    * a region the budget moves in part is not planned again from its
                                    * head, which moved already */
} nv_heatmap_config;

void nv_heatmap_config_defaults(nv_heatmap_config *cfg);

typedef struct nv_heatmap nv_heatmap;

/* A heat map covering the VM's RAM ranges, initially split into min_regions regions of nearly
 * equal size, each aligned to its range's page size. seed makes the random choices repeatable. */
int nv_heatmap_new(const nv_vm_info *vm, const nv_heatmap_config *cfg, uint64_t seed, nv_heatmap **ret);
nv_heatmap *nv_heatmap_free(nv_heatmap *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_heatmap *, nv_heatmap_free);

/* Apply a new configuration (region bounds, alpha, flush); regions are kept, and split or merged
 * at the next epoch end to meet the new bounds. */
void nv_heatmap_set_config(nv_heatmap *h, const nv_heatmap_config *cfg);

/* The VM's ranges changed (hotplug, a new inventory): rebuild regions for ranges that changed,
 * keeping those that did not. */
int nv_heatmap_update_ranges(nv_heatmap *h, const nv_vm_info *vm);

/* One sampling round: check the pages chosen in the previous round (recording a hit or a miss
 * for each region), then choose and clear a new page per region. One harvest call per round.
 * Returns 0, or -errno from the access port (-ESRCH: the VM is gone). */
int nv_heatmap_sample(nv_heatmap *h, const nv_access_ops *ops, void *ops_ctx, const nv_vm_info *vm);

/* End of an epoch: fold this epoch's hits/samples into heat (EWMA; a region that was not sampled
 * ages toward cold), cut regions where their parts' samples differ (within max_regions), merge
 * alike neighbours, split evenly up to min_regions if it was raised, and refresh each region's
 * node histogram through the mover port's query (nodes == NULL). */
int nv_heatmap_end_epoch(nv_heatmap *h, const nv_mover_ops *mover, void *mover_ctx, const nv_vm_info *vm);

/* Adopt the heat measured by a backend that aggregates on its own (nv_access_ops.regions):
 * instead of this epoch's sampled counts, each region gets the byte-weighted mean heat of the
 * backend regions overlapping it, as if sampled HEATMAP_BACKEND_SAMPLES times; the epoch end then
 * folds, merges and splits as usual. A region no backend region overlaps gets no samples (it ages
 * toward cold). backend: n regions in address order, non-overlapping. */
#define NV_HEATMAP_BACKEND_SAMPLES 1000u
void nv_heatmap_apply_regions(nv_heatmap *h, const nv_access_region *backend, size_t n);

/* Mid-epoch: the regions that every sample of this epoch so far saw accessed, at least
 * min_samples of them, while their heat is below `below` (what the epochs before thought cold).
 * *ret_index gets their indices in nv_heatmap_regions() order (freed by the caller; NULL when
 * none), *ret_n their count. 0 or -ENOMEM. */
int nv_heatmap_turned_hot(const nv_heatmap *h, unsigned min_samples, double below, uint32_t **ret_index,
                          size_t *ret_n);

/* Cut regions at the given addresses (ascending, each aligned to its region's page size; those on
 * a region's edge are ignored), at most 8 pieces a region a call and within max_regions.
 * The pieces inherit heat and history, and node_bytes in proportion. The attribution sampler cuts
 * where the node that touches memory changes; regions whose faults came from different nodes
 * (vote_node) never merge back. 0, -EINVAL (not ascending) or -ENOMEM. */
int nv_heatmap_cut_at(nv_heatmap *h, const uint64_t *addrs, size_t n);

/* Treat every region as hot (no access backend: whole-VM placement, numad-like). */
void nv_heatmap_mark_all_hot(nv_heatmap *h);

/* The regions, in address order. Valid until the next call that changes the map. The caller may
 * write the placement-history fields (moved_epoch .. target_streak) and node_bytes. */
nv_region *nv_heatmap_regions(nv_heatmap *h, size_t *ret_n);

/* Summary: bytes of regions at or above the hot threshold, and of those, bytes on `node`
 * (node < 0: none). */
void nv_heatmap_hot_bytes(const nv_heatmap *h, double hot_threshold, const int8_t *region_target,
                          uint64_t *ret_hot, uint64_t *ret_hot_local);
