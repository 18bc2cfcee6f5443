/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/owner.h"

int nv_owner_target(const nv_region *r, unsigned nr_nodes, int vm_node, double dominance,
                    nv_verdict *ret_verdict) {
        int owner;
        double total = 0;

        nr_nodes = MIN(nr_nodes, (unsigned)NV_MAX_NODES);
        owner = nv_votes_owner(r->votes, nr_nodes, NV_VOTE_MIN);
        if (owner == -2)
                return vm_node;
        if (vm_node >= 0 && (unsigned)vm_node < nr_nodes && r->vote_node == vm_node)
                return vm_node;
        if (owner >= 0 && r->vote_node == owner && r->vote_streak >= NV_OWNER_EPOCHS)
                return owner;
        if (owner == -1 && vm_node >= 0 && (unsigned)vm_node < nr_nodes) {
                for (unsigned n = 0; n < nr_nodes; n++)
                        if (r->votes[n] > 0)
                                total += r->votes[n];
                if (r->votes[vm_node] >= dominance * total)
                        return vm_node;
        }
        if (ret_verdict)
                *ret_verdict = NV_VERDICT_NO_DOMINANT_NODE;
        return -1;
}
