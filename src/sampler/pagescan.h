/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The page scan of one VM: hot 4 KiB pages that its regions cannot show. A region's heat is the
 * share of its pages accessed per sampling interval; a few hot pages among many cold ones (a
 * key-value cache) barely raise it, and its one sampled page per interval is rarely a hot one.
 * Each sampling round the scan reads the accessed bits of a window of consecutive pages that the
 * round before cleared, walking the VM's 4 KiB-backed RAM over and over at a bounded rate; a page
 * found accessed becomes a candidate, read again every round, dropped at its first miss, and
 * proven hot after a row of accessed intervals that its region's background would not show by
 * chance (nv_hotpage_rounds_needed()). A proven page stays proven until the scan comes by again
 * and finds it idle, so a VM whose vCPUs move finds its hot pages known.
 *
 * This needs an access port that reads any 4 KiB page's accessed bit: the numavd_ept module's
 * HARVEST (and the simulated host) can; DAMON reports only its own regions' heat, so with it the
 * scan does nothing. Memory backed by huge pages is left to the regions. */

#include "model/host.h"
#include "model/region.h"

/* A page read accessed in a row of intervals is proven hot when no page of its region's background
 * would show that row by chance: a page of a region whose heat is h (the share of its pages found
 * accessed per sampling interval) shows n accessed intervals in a row with probability at most
 * h^n, so of the `pages` pages a pass of the scan tests (the VM's), at most pages * h^n are
 * expected to by chance; the row must make that less than one page a pass. cap is the samples a
 * region gets in an epoch (at most one a round): a heat below 1 / cap, which they cannot tell from
 * none, counts as 1 / cap. At least 2 intervals (the one that found it and one more); 0 when it
 * would take more than cap (a page of so warm a region is not proven alone: its region's heat
 * places it). */
unsigned nv_hotpage_rounds_needed(double heat, uint64_t pages, unsigned cap);

/* At most this many pages are watched per VM (candidates and proven), the bound of its memory. */
#define NV_PAGESCAN_MAX_PAGES (1u << 16)

typedef struct nv_pagescan nv_pagescan;

int nv_pagescan_new(nv_pagescan **ret);
nv_pagescan *nv_pagescan_free(nv_pagescan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_pagescan *, nv_pagescan_free);

/* One sampling round, one harvest call: read the candidates and the window cleared last round,
 * and clear the next `window` pages. A candidate is made only in a region (of `regions`, in address
 * order, the heat map's) whose heat is below hot_heat (a hot region moves whole) and whose
 * background lets a page be proven within max_rounds intervals. Returns 0 or -errno from the
 * port (-ESRCH: the VM is gone). */
int nv_pagescan_round(nv_pagescan *p, const nv_access_ops *ops, void *ops_ctx, const nv_vm_info *vm,
                      const nv_region *regions, size_t nr_regions, double hot_heat, uint64_t window,
                      unsigned max_rounds, unsigned flags);

/* The proven hot pages, in address order; the caller may write their placement fields. Valid until
 * the next round. */
nv_hotpage *nv_pagescan_proven(nv_pagescan *p, size_t *ret_n);

/* The index of the region of `regions` (in address order) holding addr, or -1. */
ssize_t nv_pagescan_region_of(const nv_region *regions, size_t nr_regions, uint64_t addr);
