/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/owner.h"

int nv_owner_target(const nv_region *r, unsigned nr_nodes, int vm_node, double dominance,
                    nv_verdict *ret_verdict) {
        int owner, most = -1, home = -1;
        uint64_t home_bytes = 0;
        double total = 0;

        nr_nodes = MIN(nr_nodes, (unsigned)NV_MAX_NODES);
        owner = nv_votes_owner(r->votes, nr_nodes, NV_VOTE_MIN);
        /* Few votes, but they name one node, which took the region's faults NV_VOTE_MIN epochs in
         * a row: a region of a huge page or two faults at most once per block an epoch, so that its
         * decayed votes never reach NV_VOTE_MIN. The streak is the evidence instead: as many epochs
         * as NV_VOTE_MIN is faults, each with at least one of them. Memory whose accessors take
         * turns (an L2 kernel's) breaks the streak before that. */
        if (owner == -2 && r->vote_streak >= NV_VOTE_MIN && r->vote_node >= 0 &&
            nv_votes_owner(r->votes, nr_nodes, 0) == r->vote_node)
                owner = r->vote_node;
        if (owner == -2) {
                /* Too few to name an owner, but when what there is points away from vm_node, moving
                 * the region there blindly could take it from its accessors (and back later). */
                for (unsigned n = 0; n < nr_nodes; n++)
                        if (r->votes[n] > 0 && !isinf(r->votes[n]) &&
                            (most < 0 || r->votes[n] > r->votes[most]))
                                most = (int)n;
                if (vm_node < 0 || most < 0 || most == vm_node)
                        return vm_node;
                if (ret_verdict)
                        *ret_verdict = NV_VERDICT_NO_DOMINANT_NODE;
                return -1;
        }
        /* Hysteresis: a region moved to a node stays there while that node's vCPUs still make at
         * least half of its faults, so a region near the owner share does not flip at its edge. */
        if (r->moved_epoch > 0 && r->moved_to >= 0 && (unsigned)r->moved_to < nr_nodes) {
                for (unsigned n = 0; n < nr_nodes; n++)
                        if (r->votes[n] > 0)
                                total += r->votes[n];
                if (r->votes[r->moved_to] >= 0.5 * total)
                        return r->moved_to;
                total = 0;
        }
        if (vm_node >= 0 && (unsigned)vm_node < nr_nodes && r->vote_node == vm_node)
                return vm_node;
        if (owner >= 0 && r->vote_node == owner && r->vote_streak >= NV_OWNER_EPOCHS)
                return owner;
        if (owner == -1) {
                most = -1;
                for (unsigned n = 0; n < nr_nodes; n++) {
                        if (r->votes[n] > 0) {
                                total += r->votes[n];
                                if (most < 0 || r->votes[n] > r->votes[most])
                                        most = (int)n;
                        }
                        if (r->node_bytes[n] > home_bytes) {
                                home_bytes = r->node_bytes[n];
                                home = (int)n;
                        }
                }
                if (vm_node >= 0 && (unsigned)vm_node < nr_nodes && r->votes[vm_node] >= dominance * total)
                        return vm_node;
                /* Shared, but sitting where hardly any of its accessors run: it goes to the node
                 * whose vCPUs make at least half of its faults, nearer to most of them; there the
                 * hysteresis above holds it while they still do, and the test here while that node
                 * is not one where hardly any run. Without such a node (shared alike by three nodes
                 * or more), no node of theirs is much nearer to them than another: a move would
                 * trade one node's latency for another's, and the share of the node it went to,
                 * near 1 - NV_VOTE_OWNER_SHARE, would fall below it by chance in some epoch and
                 * send it on, back to the node it left too. */
                if (home >= 0 && most >= 0 && !(r->votes[home] >= (1 - NV_VOTE_OWNER_SHARE) * total) &&
                    r->votes[most] >= 0.5 * total)
                        return most;
        }
        if (ret_verdict)
                *ret_verdict = NV_VERDICT_NO_DOMINANT_NODE;
        return -1;
}
