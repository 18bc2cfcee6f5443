/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sampler/region-history.h"

static int dominant_other_node(const nv_region *rg, int target) {
        int best = -1;
        uint64_t most = 0;

        for (int n = 0; n < NV_MAX_NODES; n++)
                if (n != target && rg->node_bytes[n] > most) {
                        most = rg->node_bytes[n];
                        best = n;
                }
        return best;
}

bool nv_region_note_moved(nv_region *rg, int target, uint64_t bytes_moved, uint64_t epoch) {
        uint64_t off = 0, shifted = 0;
        bool ping_pong;
        int left;

        if (bytes_moved == 0 || target < 0 || target >= NV_MAX_NODES)
                return false;
        ping_pong = nv_region_move_is_back(rg, target);
        for (int n = 0; n < NV_MAX_NODES; n++)
                if (n != target)
                        off += rg->node_bytes[n];
        left = dominant_other_node(rg, target);
        for (int n = 0; n < NV_MAX_NODES && off > 0; n++) {
                uint64_t d;

                if (n == target)
                        continue;
                d = MIN(rg->node_bytes[n], (uint64_t)((double)bytes_moved * rg->node_bytes[n] / off));
                rg->node_bytes[n] -= d;
                shifted += d;
        }
        rg->node_bytes[target] += shifted;
        rg->moved_epoch = epoch;
        rg->moved_to = (int8_t)target;
        rg->left_node = (int8_t)left;
        return ping_pong;
}

void nv_region_note_streak(nv_region *rg, int8_t streak_target, uint16_t target_streak) {
        rg->streak_target = streak_target;
        rg->target_streak = target_streak;
}
