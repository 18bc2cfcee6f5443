/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The epoch's side of the page scan (src/sampler/pagescan.h): each sampling round scans a window
 * of every VM's pages, and at the epoch's end the pages proven hot go to their region's target
 * (src/policy/hotpages.h) out of what the region moves left of the byte budget. */

#include "daemon/manager.h"

/* The scan's share of a round for one VM, in 4 KiB pages: together, the VMs' scans read pages as
 * fast as MaxMoveRate lets them move (finding hot pages faster than they can be moved buys
 * nothing); a page costs two accessed-bit probes (a clear, a read an interval later), far less than
 * its copy. */
uint64_t nv_hot_pages_window(const nv_manager *m);

/* Start the scan of a VM whose access port reads single pages; nothing otherwise. */
void nv_hot_pages_track(nv_manager *m, nv_vm_state *s);

/* One sampling round of the VM's scan. */
void nv_hot_pages_sample(nv_manager *m, nv_vm_state *s);

/* After the plan's moves: send the VMs' proven hot pages to their regions' targets, within what
 * is left of the budget and above the targets' floors. */
void nv_hot_pages_move(nv_manager *m, const nv_placement_plan *plan, const nv_placement_config *pc);
