/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Hot pages that no region shows (sparse hot data: a few hot 4 KiB pages among many cold ones, so
 * that a region's one sampled page per interval is rarely a hot one), which the page scan
 * (src/sampler/pagescan.h) proved hot one by one: where each goes. Pure. */

#include "model/region.h"
#include "policy/placement.h"

/* Where a proven hot page goes this epoch, given the plan's verdict for the region holding it:
 * its region's target (rules 1-3: no target, or a pinned, disabled or frozen region, nothing; nor
 * for a region that hysteresis holds where it moved, rule 6),
 * unless that node is at its floor (rule 9), or the page was sent elsewhere within min_residency
 * epochs and its new target has not held for retarget_epochs in a row (rule 6, kept per page as
 * for regions: no ping-pong). A page already sent to that node is not sent again. Updates the
 * page's streak (call once an epoch); returns the node or -1. The caller sets placed_to when it
 * sends the page, and placed_epoch when the page did move (a page found on its node already was
 * not moved: nothing holds it there). */
int nv_hotpage_target(nv_hotpage *p, const nv_region_plan *rp, uint64_t epoch,
                      const nv_placement_config *cfg);
