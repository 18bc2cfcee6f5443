/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/hotpages.h"

int nv_hotpage_target(nv_hotpage *p, const nv_region_plan *rp, uint64_t epoch,
                      const nv_placement_config *cfg) {
        int target = rp->target;
        bool held;

        if (target < 0 || target >= NV_MAX_NODES) {
                p->streak_target = -1;
                p->target_streak = 0;
                return -1;
        }
        /* Rule 6's bookkeeping, as next_streak() keeps it for regions. */
        if (p->placed_to < 0 || target == p->placed_to) {
                p->streak_target = -1;
                p->target_streak = 0;
        } else if (p->streak_target == target)
                p->target_streak = p->target_streak < UINT16_MAX ? p->target_streak + 1 : UINT16_MAX;
        else {
                p->streak_target = (int8_t)target;
                p->target_streak = 1;
        }
        switch ((nv_verdict)rp->verdict) {
        case NV_VERDICT_PINNED:
        case NV_VERDICT_DISABLED:
        case NV_VERDICT_NODE_FLOOR:
        case NV_VERDICT_IDLE:
        case NV_VERDICT_NO_DOMINANT_NODE:
        /* The region moved lately and hysteresis holds it: its hot pages moved with it, and going
         * where the region may not would be the ping-pong the hold prevents, page by page. */
        case NV_VERDICT_RESIDENCY:
                return -1;
        default:
                break;
        }
        if (p->placed_to == target)
                return -1;
        held = p->placed_to >= 0 && p->placed_epoch > 0 &&
               (cfg->min_residency == NV_RESIDENCY_FOREVER ||
                epoch < p->placed_epoch + cfg->min_residency) &&
               p->target_streak < cfg->retarget_epochs;
        return held ? -1 : target;
}
