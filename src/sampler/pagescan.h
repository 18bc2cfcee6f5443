/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The page scan of one VM: hot 4 KiB pages that its regions cannot show. A region's heat is the
 * share of its pages accessed per sampling interval; a few hot pages among many cold ones (a
 * key-value cache) barely raise it, and its one sampled page per interval is rarely a hot one.
 * Each sampling round the scan reads the accessed bits of a window of consecutive pages that the
 * round before cleared, walking the VM's 4 KiB-backed RAM over and over at a bounded rate; a page
 * found accessed becomes a candidate, read again every round, dropped at its first miss, and
 * proven hot after a row of accessed intervals that a page accessed less often than a hot one
 * would not show by chance (nv_hotpage_rounds_needed()). A proven page stays proven until the scan comes by again
 * and finds it idle, so a VM whose vCPUs move finds its hot pages known.
 *
 * This needs an access port that reads any 4 KiB page's accessed bit: the numavd_ept module's
 * HARVEST (and the simulated host) can; DAMON reports only its own regions' heat, so with it the
 * scan does nothing. Memory backed by huge pages is left to the regions. */

#include "model/host.h"
#include "model/region.h"

/* A page is hot when it is accessed in at least hot_heat of the sampling intervals (as a region is
 * when that share of its sampled pages is). A page accessed in fewer shows n accessed intervals in
 * a row with a probability below hot_heat^n, so of the `pages` pages a pass of the scan tests (the
 * VM's), fewer than pages * hot_heat^n do by chance: a row that makes that less than one proves a
 * page hot. Whatever the heat of its region, whose pages need not all be alike (an estimate from a
 * few samples an epoch, too). At least 2 intervals (the one that found it and one more); 0 when no
 * row up to 255 does (hot_heat of 1 or more). */
unsigned nv_hotpage_rounds_needed(double hot_heat, uint64_t pages);

/* At most this many pages are watched per VM (candidates and proven), the bound of its memory. */
#define NV_PAGESCAN_MAX_PAGES (1u << 16)

typedef struct nv_pagescan nv_pagescan;

int nv_pagescan_new(nv_pagescan **ret);
nv_pagescan *nv_pagescan_free(nv_pagescan *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_pagescan *, nv_pagescan_free);

/* One sampling round, one harvest call: read the candidates and the window cleared last round,
 * and clear the next `window` pages. A candidate is made only in a region (of `regions`, in address
 * order, the heat map's) whose heat is below hot_heat (a hot region moves whole), and is proven by
 * the row nv_hotpage_rounds_needed(hot_heat, the pages a pass scans) asks for. Returns 0 or -errno
 * from the port (-ESRCH: the VM is gone). */
int nv_pagescan_round(nv_pagescan *p, const nv_access_ops *ops, void *ops_ctx, const nv_vm_info *vm,
                      const nv_region *regions, size_t nr_regions, double hot_heat, uint64_t window,
                      unsigned flags);

/* The proven hot pages, in address order; the caller may write their placement fields. Valid until
 * the next round. */
nv_hotpage *nv_pagescan_proven(nv_pagescan *p, size_t *ret_n);

/* The index of the region of `regions` (in address order) holding addr, or -1. */
ssize_t nv_pagescan_region_of(const nv_region *regions, size_t nr_regions, uint64_t addr);
