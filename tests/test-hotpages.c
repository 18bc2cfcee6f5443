/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where a proven hot page goes (src/policy/hotpages.c): its region's target, never where the plan
 * would not move its region, once, and not back and forth. */

#include "policy/hotpages.h"
#include "tap.h"

static const nv_placement_config cfg = { .min_residency = 30, .retarget_epochs = 3 };

static nv_hotpage page(void) {
        return (nv_hotpage){ .addr = 0x7f0000000000, .placed_to = -1, .streak_target = -1 };
}

/* A page sent to node 1 in epoch 5. */
static nv_hotpage placed(void) {
        nv_hotpage p = page();

        p.placed_to = 1;
        p.placed_epoch = 5;
        return p;
}

static void target_of_region(void) {
        nv_region_plan rp = { .verdict = NV_VERDICT_COLD, .target = 1 };
        nv_hotpage p = page();

        is_int(nv_hotpage_target(&p, &rp, 5, &cfg), 1,
               "a page of a cold region goes to the region's target");
        rp.verdict = NV_VERDICT_BUDGET;
        is_int(nv_hotpage_target(&p, &rp, 5, &cfg), 1, "... and of a region the budget stopped");
        rp.target = -1;
        is_int(nv_hotpage_target(&p, &rp, 5, &cfg), -1, "no target: nowhere");
        rp.target = 1;
        for (nv_verdict v = 0; v < _NV_VERDICT_MAX; v++) {
                bool never = v == NV_VERDICT_PINNED || v == NV_VERDICT_DISABLED ||
                             v == NV_VERDICT_NODE_FLOOR || v == NV_VERDICT_IDLE ||
                             v == NV_VERDICT_NO_DOMINANT_NODE || v == NV_VERDICT_RESIDENCY;
                rp.verdict = (uint8_t)v;
                is_int(nv_hotpage_target(&p, &rp, 5, &cfg), never ? -1 : 1, "verdict %s: %s",
                       nv_verdict_to_string(v), never ? "the page stays" : "the page goes");
        }
}

static void once_and_no_ping_pong(void) {
        nv_region_plan rp = { .verdict = NV_VERDICT_COLD, .target = 1 };
        nv_hotpage p = placed();

        is_int(nv_hotpage_target(&p, &rp, 6, &cfg), -1, "a page sent to the target is not sent again");
        rp.target = 0;
        is_int(nv_hotpage_target(&p, &rp, 6, &cfg), -1, "a new target within min_residency: held");
        is_int(p.target_streak, 1, "... its streak starts");
        is_int(nv_hotpage_target(&p, &rp, 7, &cfg), -1, "... held the second epoch");
        is_int(nv_hotpage_target(&p, &rp, 8, &cfg), 0, "... goes once the new target held retarget_epochs");
        p = placed();
        is_int(nv_hotpage_target(&p, &rp, 6, &cfg), -1, "a target that flips ...");
        rp.target = 1;
        is_int(nv_hotpage_target(&p, &rp, 7, &cfg), -1, "... back to where the page is: stays");
        is_int(p.target_streak, 0, "... and the streak is reset");
        rp.target = 0;
        is_int(nv_hotpage_target(&p, &rp, 8, &cfg), -1, "flipping targets never move it");
        is_int(nv_hotpage_target(&p, &rp, 35, &cfg), 0, "after min_residency the new target holds at once");
        p = placed();
        p.placed_epoch = 0;
        is_int(nv_hotpage_target(&p, &rp, 6, &cfg), 0,
               "a page found on its node, never moved, follows at once");
        nv_placement_config forever = cfg;
        forever.min_residency = NV_RESIDENCY_FOREVER;
        p = placed();
        is_int(nv_hotpage_target(&p, &rp, 1000, &forever), -1, "MinResidency=infinity: held ...");
        is_int(nv_hotpage_target(&p, &rp, 1001, &forever), -1, "...");
        is_int(nv_hotpage_target(&p, &rp, 1002, &forever), 0,
               "... until the new target held retarget_epochs");
}

int main(void) {
        target_of_region();
        once_and_no_ping_pong();
        return tap_done();
}
