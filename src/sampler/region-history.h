/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A region's placement history, kept by the sampler: where its bytes sit after a move, the node
 * they left, and the policy's streak toward a new target. The daemon reports what it moved and
 * what the policy decided through these; it does not write the region's fields itself. */

#include <stdbool.h>

#include "model/region.h"

/* A move of the region to target takes its bytes back to the node the previous move had taken
 * them from (ping-pong). */
static inline bool nv_region_move_is_back(const nv_region *rg, int target) {
        return rg->left_node == target;
}

/* bytes_moved of the region went to target in this epoch: shift its estimated bytes per node to
 * target (from each other node in proportion), remember the node they mostly left and the move.
 * Returns true when the bytes went back to the node the previous move had taken them from
 * (ping-pong). Nothing changes when bytes_moved is 0. */
bool nv_region_note_moved(nv_region *rg, int target, uint64_t bytes_moved, uint64_t epoch);

/* The policy's streak for the region after this epoch: the target it keeps choosing (-1 none)
 * and for how many consecutive epochs. */
void nv_region_note_streak(nv_region *rg, int8_t streak_target, uint16_t target_streak);
