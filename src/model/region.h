/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A region of one VM's guest RAM, as the sampler sees it and the policy reads it: a range of
 * the VMM's address space inside one RAM range, its heat, where its pages sit, and the
 * placement history the policy needs for hysteresis. */

#include <math.h>

#include "model/inventory.h"

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

        /* Attribution, from sampled faults (the attribution sampler; all zero without one): who
         * touches the region. votes[n] is the decayed count of faults taken on node n's CPUs.
         * vote_node is the node that took a clear majority of the region's faults in the last epoch
         * that had enough of them (-1: none did, the region is shared), and vote_streak how many
         * such epochs in a row it was that node. */
        float votes[NV_MAX_NODES];
        int8_t vote_node;
        uint8_t vote_streak;
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

/* A hot 4 KiB page the page scan proved hot on its own (src/sampler/pagescan.h), and where it
 * was sent (src/policy/hotpages.h). */
typedef struct nv_hotpage {
        uint64_t addr;          /* 4 KiB aligned, in the VMM's address space; the first field */
        uint64_t placed_epoch;  /* the epoch it last moved, 0 never */
        int8_t placed_to;       /* the node it was last sent to (moved, or found there), -1 never */
        int8_t streak_target;   /* a target other than placed_to, -1 none */
        uint16_t target_streak; /* epochs in a row streak_target was the target */
} nv_hotpage;

/* Reset history and counters; heat and location are kept. */
void nv_region_init_history(nv_region *r);

/* Votes name a node as the region's owner when it took at least this share of them, ... */
#define NV_VOTE_OWNER_SHARE 0.75
/* ... and only when there are this many (a few epochs of a few faults): fewer say nothing. */
#define NV_VOTE_MIN 4.0

/* The node owning votes[0..nr_nodes) (a node at least NV_VOTE_OWNER_SHARE of them), -1 when they
 * are spread (shared data), -2 when they sum to less than min_votes (nothing known). */
static inline int nv_votes_owner(const float *votes, unsigned nr_nodes, double min_votes) {
        double total = 0, best_votes = 0;
        int best = -1;

        for (unsigned n = 0; n < nr_nodes && n < NV_MAX_NODES; n++) {
                if (!(votes[n] > 0)) /* none, or not a count */
                        continue;
                total += votes[n];
                if (votes[n] > best_votes) {
                        best_votes = votes[n];
                        best = (int)n;
                }
        }
        if (!(total >= min_votes) || isinf(total))
                return -2;
        return best_votes >= NV_VOTE_OWNER_SHARE * total ? best : -1;
}
