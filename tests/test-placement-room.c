/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Rule 11 of the placement policy: making room on a node at its floor. One group per rule: who
 * leaves first, the coldest first, the shared move budget, every node's floor, the densest data
 * winning a scarce node, and the hysteresis that keeps two VMs from trading room. */

#include <stdlib.h>
#include <string.h>

#include "policy/placement.h"
#include "tap.h"

#define MAX_VMS     4
#define MAX_REGIONS 8

typedef struct fixture {
        nv_inventory inv;
        nv_vm_info info[MAX_VMS];
        nv_ram_range ranges[MAX_VMS];
        nv_region regions[MAX_VMS][MAX_REGIONS];
        nv_placement_vm vms[MAX_VMS];
        nv_placement_config cfg;
        nv_placement_input in;
} fixture;

/* Node 1 is the scarce node: 1 GiB above its floor is all it has, and 0 bytes here. */
static void fixture_init(fixture *f, unsigned nr_nodes) {
        *f = (fixture){};
        f->inv.nr_nodes = nr_nodes;
        for (unsigned n = 0; n < nr_nodes; n++) {
                f->inv.nodes[n] = (nv_node_info){ .total_bytes = 64 * GIB, .free_bytes = 32 * GIB };
                for (unsigned m = 0; m < nr_nodes; m++)
                        f->inv.distance[n][m] = n == m ? 10 : (n + m == 3 ? 31 : 21);
        }
        f->inv.nodes[1].free_bytes = 1 * GIB;
        f->cfg = (nv_placement_config){
                .budget_cost = 256 * MIB,
                .node_floor_bytes = { [0 ... NV_MAX_NODES - 1] = 1 * GIB },
                .hot_threshold = 0.4,
                .dominance = 0.75,
                .min_residency = 10,
                .retarget_epochs = 3,
        };
        f->in = (nv_placement_input){ .inv = &f->inv, .vms = f->vms, .epoch = 100, .cfg = &f->cfg };
}

static unsigned add_vm(fixture *f, int node) {
        unsigned i = (unsigned)f->in.nr_vms++;

        f->ranges[i] = (nv_ram_range){ .hva = 0x7f0000000000 + (uint64_t)i * 0x10000000000,
                                       .size = 64 * GIB,
                                       .cell = -1 };
        f->info[i] = (nv_vm_info){ .id = i + 1, .nr_vcpus = 4, .ranges = &f->ranges[i], .nr_ranges = 1 };
        f->info[i].vcpu_time.sec[node] = 1.0;
        f->vms[i] = (nv_placement_vm){
                .info = &f->info[i], .regions = f->regions[i], .enabled = true, .weight = 1
        };
        return i;
}

static unsigned add_region(fixture *f, unsigned vm, uint64_t size, float heat, int node) {
        unsigned j = (unsigned)f->vms[vm].nr_regions++;
        nv_region *r = &f->regions[vm][j];
        uint64_t start = j > 0 ? f->regions[vm][j - 1].end : f->ranges[vm].hva;

        *r = (nv_region){ .start = start, .end = start + size, .heat = heat };
        r->node_bytes[node] = size;
        nv_region_init_history(r);
        return j;
}

/* The planned move of a region, NULL if none. */
static const nv_move *move_of(const nv_placement_plan *p, unsigned vm, unsigned region, size_t *ret_pos) {
        for (size_t i = 0; i < p->nr_moves; i++)
                if (p->moves[i].vm == vm && p->moves[i].region == region) {
                        if (ret_pos)
                                *ret_pos = i;
                        return &p->moves[i];
                }
        return NULL;
}

static uint8_t verdict(const nv_placement_plan *p, unsigned vm, unsigned region) {
        return p->regions[vm][region].verdict;
}

/* Memory of a VM that does not live on the full node leaves first, even hot, and goes home. */
static void test_others_first(void) {
        nv_placement_plan p = {};
        const nv_move *m;
        size_t pos_victim = 0, pos_move = 0;
        fixture f;

        fixture_init(&f, 3);
        unsigned a = add_vm(&f, 1), other = add_vm(&f, 2);
        add_region(&f, a, 128 * MIB, 0.9, 0);      /* hot, wants node 1 */
        add_region(&f, a, 128 * MIB, 0.05, 1);     /* a's own cold memory on node 1 */
        add_region(&f, other, 128 * MIB, 0.30, 1); /* lukewarm, of a VM living on node 2 */
        f.cfg.hot_threshold = 0.5;
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "others first: plan computed");
        m = move_of(&p, other, 0, &pos_victim);
        ok(m && m->target == 2, "others first: the other VM's memory leaves node 1, for its own node 2");
        is_int(verdict(&p, other, 0), NV_VERDICT_MAKE_ROOM, "others first: its verdict is make-room");
        ok(!move_of(&p, a, 1, NULL), "others first: a's own cold memory stays while that suffices");
        m = move_of(&p, a, 0, &pos_move);
        ok(m && m->target == 1 && m->bytes > 0, "others first: the hot region moves into the room");
        ok(pos_victim < pos_move, "others first: the eviction comes first in the plan");
        nv_placement_plan_clear(&p);
}

/* Then cold memory, the coldest first. */
static void test_coldest_first(void) {
        nv_placement_plan p = {};
        fixture f;

        fixture_init(&f, 2);
        unsigned a = add_vm(&f, 1), b = add_vm(&f, 1);
        add_region(&f, a, 128 * MIB, 0.9, 0);
        add_region(&f, b, 128 * MIB, 0.20, 1); /* cold, but warmer */
        add_region(&f, b, 128 * MIB, 0.02, 1); /* the coldest */
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "coldest first: plan computed");
        ok(move_of(&p, b, 1, NULL) && !move_of(&p, b, 0, NULL),
           "coldest first: the coldest region leaves, not the warmer");
        ok(move_of(&p, a, 0, NULL), "coldest first: the hot region moves in");
        nv_placement_plan_clear(&p);
}

/* The evictions and the move share the epoch's move budget, each paid at its cost
 * (model/move-cost.h). */
static void test_budget(void) {
        nv_placement_plan p = {};
        fixture f;

        fixture_init(&f, 2);
        unsigned a = add_vm(&f, 1), b = add_vm(&f, 1);
        add_region(&f, a, 512 * MIB, 0.9, 0);
        add_region(&f, b, 512 * MIB, 0.01, 1);
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "budget: plan computed");
        ok(p.planned_cost <= f.cfg.budget_cost,
           "budget: evictions and moves within %" PRIu64 " MiB (%" PRIu64 ")", f.cfg.budget_cost / MIB,
           p.planned_cost / MIB);
        ok(move_of(&p, a, 0, NULL) && move_of(&p, b, 0, NULL),
           "budget: both an eviction and a move are planned");
        is_u64(move_of(&p, a, 0, NULL)->bytes, move_of(&p, b, 0, NULL)->bytes,
               "budget: the room made is the room used (half the budget each)");
        nv_placement_plan_clear(&p);

        /* A huge-page move costs an eighth of its bytes, its 4 KiB room all of them: the room
         * takes 8/9 of the budget, the move the rest, and the move still fills the room. */
        f.ranges[a].backing = NV_BACKING_THP;
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "budget: huge-page plan computed");
        ok(p.planned_cost <= f.cfg.budget_cost, "budget: huge pages: within the budget (%" PRIu64 " MiB)",
           p.planned_cost / MIB);
        ok(move_of(&p, a, 0, NULL) && move_of(&p, b, 0, NULL),
           "budget: huge pages: both an eviction and a move are planned");
        if (move_of(&p, a, 0, NULL) && move_of(&p, b, 0, NULL)) {
                is_u64(move_of(&p, a, 0, NULL)->bytes, move_of(&p, b, 0, NULL)->bytes,
                       "budget: huge pages: the room made is the room used");
                is_u64(move_of(&p, a, 0, NULL)->bytes, ALIGN_DOWN(256 * MIB * 8 / 9, NV_HUGE_SIZE),
                       "budget: huge pages: 8/9 of the budget's bytes move in, whole huge pages");
        }
        nv_placement_plan_clear(&p);
}

/* Never below any floor: a victim needs a node with room above its own floor. */
static void test_floors(void) {
        nv_placement_plan p = {};
        fixture f;

        fixture_init(&f, 2);
        f.inv.nodes[0].free_bytes = f.cfg.node_floor_bytes[0] + 16 * MIB;
        unsigned a = add_vm(&f, 1), b = add_vm(&f, 1);
        add_region(&f, a, 128 * MIB, 0.9, 0);
        add_region(&f, b, 128 * MIB, 0.01, 1);
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "floors: plan computed");
        const nv_move *m = move_of(&p, b, 0, NULL);
        ok(!m || m->bytes <= 16 * MIB, "floors: at most the destination's room above its floor is evicted");
        ok(p.planned_bytes <= 2 * 16 * MIB,
           "floors: what moves in is no more than what left (%" PRIu64 " MiB)", p.planned_bytes / MIB);
        nv_placement_plan_clear(&p);

        f.inv.nodes[0].free_bytes = f.cfg.node_floor_bytes[0];
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "floors: second plan computed");
        is_int(p.nr_moves, 0, "floors: no node with room above its floor, nothing moves");
        is_int(verdict(&p, a, 0), NV_VERDICT_NODE_FLOOR, "floors: the hot region waits at the floor");
        nv_placement_plan_clear(&p);
}

/* Benefit per byte ranks across VMs: denser hot data takes the room from sparser hot data. */
static void test_density(void) {
        nv_placement_plan p = {};
        fixture f;

        fixture_init(&f, 2);
        unsigned sparse = add_vm(&f, 1), dense = add_vm(&f, 1);
        add_region(&f, sparse, 128 * MIB, 0.25, 1); /* hot for its VM, already on node 1 */
        add_region(&f, sparse, 128 * MIB, 0.25, 1);
        add_region(&f, dense, 128 * MIB, 1.0, 0); /* four times denser, stuck on node 0 */
        f.cfg.hot_threshold = 0.2;
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "density: plan computed");
        ok(move_of(&p, dense, 0, NULL), "density: the denser hot data moves onto the scarce node");
        ok(move_of(&p, sparse, 0, NULL) || move_of(&p, sparse, 1, NULL), "density: the sparser makes room");
        nv_placement_plan_clear(&p);
}

/* Hysteresis: no trade unless the gain is NV_ROOM_HYSTERESIS times the loss, and nothing moved
 * lately is evicted. */
static void test_hysteresis(void) {
        nv_placement_plan p = {};
        fixture f;

        fixture_init(&f, 2);
        unsigned sitting = add_vm(&f, 1), coming = add_vm(&f, 1);
        add_region(&f, sitting, 128 * MIB, 0.6, 1);
        add_region(&f, coming, 128 * MIB, 1.0, 0); /* less than twice as dense */
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "hysteresis: plan computed");
        is_int(p.nr_moves, 0, "hysteresis: a gain under twice the loss moves nothing");
        nv_placement_plan_clear(&p);

        fixture_init(&f, 2);
        sitting = add_vm(&f, 1);
        coming = add_vm(&f, 1);
        add_region(&f, sitting, 128 * MIB, 0.01, 1);
        add_region(&f, coming, 128 * MIB, 1.0, 0);
        f.regions[sitting][0].moved_epoch = f.in.epoch - 2; /* moved in 2 epochs ago */
        f.regions[sitting][0].moved_to = 1;
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "hysteresis: second plan computed");
        ok(!move_of(&p, sitting, 0, NULL), "hysteresis: memory moved within min_residency epochs stays");
        nv_placement_plan_clear(&p);

        f.regions[sitting][0].moved_epoch = f.in.epoch - f.cfg.min_residency;
        is_int(nv_placement_plan_compute(&f.in, &p), 0, "hysteresis: third plan computed");
        ok(move_of(&p, sitting, 0, NULL), "hysteresis: once its residency is over, it may leave");
        nv_placement_plan_clear(&p);
}

int main(void) {
        test_others_first();
        test_coldest_first();
        test_budget();
        test_floors();
        test_density();
        test_hysteresis();
        return tap_done();
}
