/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A region of one VM's guest RAM, as the sampler sees it and the policy reads it: a range of
 * the VMM's address space inside one RAM range, its heat, where its pages sit, and the
 * placement history the policy needs for hysteresis. */

#include "common/inventory.h"

typedef struct nv_region {
        uint64_t start, end; /* [start, end) in the VMM's address space, page aligned */
        uint32_t range;      /* index into the VM's ranges[] */

        /* Heat: EWMA over epochs of the fraction of samples that saw an access, in [0, 1]. */
        float heat;
        uint16_t hits, samples; /* this epoch's raw counts */
        uint32_t age;           /* epochs since the region was created or last split/merged */

        /* Location: estimated bytes on each node (a sampled histogram). Once located, bytes on no
         * node are not resident (never touched by the guest, or swapped out): there is nothing of
         * them to move. Before, the location is unknown. */
        uint64_t node_bytes[NV_MAX_NODES];
        bool located;

        /* Placement history, written by the caller of the policy from its verdicts. */
        uint64_t moved_epoch;   /* epoch of the last move; 0 = never moved */
        int8_t moved_to;        /* node of the last move, -1 none */
        int8_t left_node;       /* node its pages mostly left in the last move, -1 none */
        int8_t streak_target;   /* target that differs from moved_to, -1 none */
        uint16_t target_streak; /* consecutive epochs streak_target was the target */
} nv_region;

static inline uint64_t nv_region_bytes(const nv_region *r) {
        return r->end - r->start;
}

/* Bytes of the region on some node; all of it while its location is unknown. */
static inline uint64_t nv_region_resident_bytes(const nv_region *r) {
        uint64_t all = 0;

        if (!r->located)
                return nv_region_bytes(r);
        for (unsigned n = 0; n < NV_MAX_NODES; n++)
                all += MIN(r->node_bytes[n], nv_region_bytes(r));
        return MIN(all, nv_region_bytes(r));
}

/* Reset history and counters; heat and location are kept. */
void nv_region_init_history(nv_region *r);
