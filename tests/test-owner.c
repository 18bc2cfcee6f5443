/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A region's target from who faults on it (src/policy/owner.c), alone and through the plan:
 * owners confirmed over epochs win over the VM's node, shared regions stay unless the VM's node
 * clearly leads, too few votes fall back to whole-VM placement, hysteresis still holds. */

#include "policy/owner.h"
#include "tap.h"

static nv_region region(float v0, float v1, int vote_node, unsigned streak) {
        nv_region r = { .start = 0x7f0000000000, .end = 0x7f0000000000 + 64 * MIB, .heat = 0.9f };

        nv_region_init_history(&r);
        r.votes[0] = v0;
        r.votes[1] = v1;
        r.vote_node = (int8_t)vote_node;
        r.vote_streak = (uint8_t)streak;
        r.node_bytes[0] = 64 * MIB;
        return r;
}

static void alone(void) {
        nv_verdict why = NV_VERDICT_IDLE;
        nv_region r;

        r = region(0, 0, -1, 0);
        is_int(nv_owner_target(&r, 2, 0, 0.6, &why), 0, "no votes: the VM's node");
        is_int(nv_owner_target(&r, 2, -1, 0.6, &why), -1, "no votes and no VM node: none");
        is_int(why, NV_VERDICT_IDLE, "... and the verdict is the caller's");
        r = region(2, 1, 0, 2);
        is_int(nv_owner_target(&r, 2, 0, 0.6, &why), 0,
               "fewer votes than NV_VOTE_MIN name no owner: the VM's node");
        r = region(1, 2, 1, 2);
        why = NV_VERDICT_IDLE;
        is_int(nv_owner_target(&r, 2, 0, 0.6, &why), -1, "... unless they mostly point elsewhere: it stays");
        is_int(why, NV_VERDICT_NO_DOMINANT_NODE, "... as having no dominant node");
        r = region(0, 2, 1, 4);
        is_int(nv_owner_target(&r, 2, -1, 0.6, &why), 1,
               "fewer votes than NV_VOTE_MIN, all from one node that took the faults four epochs in a row "
               "(a huge page): that node");
        r = region(0, 2, 1, 3);
        why = NV_VERDICT_IDLE;
        is_int(nv_owner_target(&r, 2, -1, 0.6, &why), -1, "... but not after three");
        r = region(1, 2, 1, 4);
        is_int(nv_owner_target(&r, 2, -1, 0.6, &why), -1, "... nor when the few votes are split");

        r = region(0.5f, 9, 1, 2);
        is_int(nv_owner_target(&r, 2, 0, 0.6, &why), 1,
               "an owner confirmed two epochs wins over the VM's node");
        r = region(0.5f, 9, 1, 1);
        why = NV_VERDICT_IDLE;
        is_int(nv_owner_target(&r, 2, 0, 0.6, &why), -1,
               "an owner seen in one epoch only: the region stays");
        is_int(why, NV_VERDICT_NO_DOMINANT_NODE, "... as having no dominant node");
        r = region(0.5f, 9, 0, 1);
        is_int(nv_owner_target(&r, 2, 0, 0.6, &why), 0,
               "this epoch's faults and the VM's run time agree: the VM's node at once");
        r = region(9, 0.5f, 0, 5);
        is_int(nv_owner_target(&r, 2, 1, 0.6, &why), 0,
               "an owner against the VM's node, confirmed: the owner");
        is_int(nv_owner_target(&r, 2, -1, 0.6, &why), 0, "an owner when the VM has no dominant node");

        r = region(5, 5, -1, 0);
        why = NV_VERDICT_IDLE;
        is_int(nv_owner_target(&r, 2, 0, 0.6, &why), -1, "shared half and half: stays");
        is_int(why, NV_VERDICT_NO_DOMINANT_NODE, "... as having no dominant node");
        r = region(6.5f, 3.5f, -1, 0);
        is_int(nv_owner_target(&r, 2, 0, 0.6, &why), 0,
               "shared, the VM's node has a clear majority: goes there");
        is_int(nv_owner_target(&r, 2, 1, 0.6, &why), -1, "shared, the VM's node in the minority: stays");
        is_int(nv_owner_target(&r, 2, 0, 0.7, &why), -1, "shared, the majority below dominance: stays");

        /* Shared between nodes 1 and 2, sitting on node 0 where neither runs. */
        r = region(0, 5, -1, 0);
        r.votes[2] = 4.5f;
        is_int(nv_owner_target(&r, 3, -1, 0.6, &why), 1,
               "shared, on a node none of its accessors run on: to the node with most of them");
        r.node_bytes[0] = 0;
        r.node_bytes[2] = 64 * MIB;
        is_int(nv_owner_target(&r, 3, -1, 0.6, &why), -1, "once on a node of its accessors, it stays");
        r.node_bytes[2] = 0;
        is_int(nv_owner_target(&r, 3, -1, 0.6, &why), -1, "where it sits unknown: it stays");

        /* Shared by four nodes alike (a vNUMA cell's memory every vCPU touches), sitting on node 0
         * whose vCPUs make a sixth of its faults; the cell runs on node 1. */
        r = region(4.8f, 8.1f, -1, 0);
        r.votes[2] = 8.2f;
        r.votes[3] = 8.5f;
        why = NV_VERDICT_IDLE;
        is_int(nv_owner_target(&r, 4, 1, 0.6, &why), -1,
               "shared by four nodes alike, no node with half of the faults: it stays");
        is_int(why, NV_VERDICT_NO_DOMINANT_NODE, "... as having no dominant node");
        r.votes[3] = 30;
        is_int(nv_owner_target(&r, 4, 1, 0.6, &why), 3,
               "... but to a node whose vCPUs make half of them, it goes");
        /* Moved to node 1 before, whose share has since fallen below a quarter by chance: moving on
         * to the node with most votes (node 0, the one it left) would be ping-pong. */
        r = region(10.1f, 6.7f, -1, 0);
        r.votes[2] = 6.5f;
        r.votes[3] = 6.8f;
        r.node_bytes[0] = 0;
        r.node_bytes[1] = 64 * MIB;
        r.moved_epoch = 13;
        r.moved_to = 1;
        r.left_node = 0;
        is_int(nv_owner_target(&r, 4, 1, 0.6, &why), -1,
               "moved to a node of four sharing alike: it does not go back to the one it left");

        /* Hysteresis: moved to node 0, which keeps 60% of the votes (shared by now). */
        r = region(6, 4, -1, 0);
        r.moved_epoch = 50;
        r.moved_to = 0;
        is_int(nv_owner_target(&r, 2, 1, 0.6, &why), 0,
               "a moved region stays while its node keeps half the votes");
        r = region(2, 8, 1, 2);
        r.moved_epoch = 50;
        r.moved_to = 0;
        is_int(nv_owner_target(&r, 2, -1, 0.6, &why), 1,
               "... and follows a confirmed owner once it does not");

        r = region(NAN, 9, 1, 3);
        is_int(nv_owner_target(&r, 2, 0, 0.6, &why), 1, "a vote that is not a number counts as none");
        r = region(INFINITY, 9, 0, 3);
        is_int(nv_owner_target(&r, 2, 1, 0.6, &why), 1, "infinite votes say nothing: the VM's node");
        r = region(0, 9, 1, 3);
        is_int(nv_owner_target(&r, 1, 0, 0.6, &why), 0, "votes for nodes the host lacks are not read");
        r = region(0, 9, 1, 3);
        is_int(nv_owner_target(&r, 2, 7, 0.6, &why), 1, "a VM node out of range never wins");
}

/* Through the plan: a VM on node 0 with a region whose faults come from node 1. */
static void planned(void) {
        nv_inventory inv = { .nr_nodes = 2 };
        nv_ram_range range = {
                .hva = 0x7f0000000000, .size = 4 * GIB, .backing = NV_BACKING_ANON, .cell = -1
        };
        nv_vm_info info = { .id = 1, .nr_vcpus = 8, .ranges = &range, .nr_ranges = 1 };
        nv_region regs[3];
        nv_placement_config cfg = {
                .budget_cost = GIB,
                .node_floor_bytes = { GIB, GIB },
                .hot_threshold = 0.5,
                .dominance = 0.6,
                .min_residency = 10,
                .retarget_epochs = 3,
        };
        nv_placement_vm vm = {
                .info = &info, .regions = regs, .nr_regions = 3, .enabled = true, .weight = 1
        };
        nv_placement_input in = { .inv = &inv, .vms = &vm, .nr_vms = 1, .epoch = 100, .cfg = &cfg };
        nv_placement_plan plan = {};

        for (unsigned n = 0; n < 2; n++)
                inv.nodes[n] = (nv_node_info){ .total_bytes = 64 * GIB, .free_bytes = 32 * GIB };
        info.vcpu_time.sec[0] = 6;
        info.vcpu_time.sec[1] = 2;
        regs[0] = region(0.2f, 12, 1, 2); /* owned by node 1, confirmed */
        regs[1] = region(0, 0, -1, 0);    /* no votes: whole-VM placement */
        regs[2] = region(0.2f, 12, 1, 3); /* owned by node 1, but it moved to node 0 lately */
        regs[0].node_bytes[0] = regs[2].node_bytes[0] = 64 * MIB;
        regs[1].node_bytes[0] = 0;
        regs[1].node_bytes[1] = 64 * MIB;
        for (unsigned i = 0; i < 3; i++) {
                regs[i].start = range.hva + i * 64 * MIB;
                regs[i].end = regs[i].start + 64 * MIB;
        }
        regs[2].moved_epoch = 98;
        regs[2].moved_to = 0;

        if (!ok(nv_placement_plan_compute(&in, &plan) == 0, "a plan"))
                return;
        ok(plan.regions[0][0].verdict == NV_VERDICT_MOVE && plan.regions[0][0].target == 1,
           "the region node 1's vCPUs fault on moves to node 1, though the VM runs on node 0");
        ok(plan.regions[0][1].verdict == NV_VERDICT_MOVE && plan.regions[0][1].target == 0,
           "a region without votes follows the VM to node 0");
        is_int(plan.regions[0][2].verdict, NV_VERDICT_RESIDENCY,
               "minimum residency still holds against votes");
        nv_placement_plan_clear(&plan);

        /* vNUMA: the cell runs on node 0, the votes say node 1 and win; without votes the cell's node. */
        nv_node_time cell = { .sec = { 4, 0 } };
        range.cell = 0;
        info.cell_time = &cell;
        info.nr_cells = 1;
        regs[2].moved_epoch = 0;
        regs[2].moved_to = -1;
        if (!ok(nv_placement_plan_compute(&in, &plan) == 0, "a plan with a vNUMA cell"))
                return;
        is_int(plan.regions[0][0].target, 1, "confirmed owners win over the cell's node");
        is_int(plan.regions[0][1].target, 0, "without votes the cell's node");
        nv_placement_plan_clear(&plan);
}

int main(void) {
        alone();
        planned();
        return tap_done();
}
