/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the placement policy (src/policy/): one group of checks per rule, and the
 * arithmetic at its edges. */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/move-cost.h"
#include "policy/placement.h"
#include "tap.h"

#define MAX_VMS     4
#define MAX_REGIONS 8
#define MAX_CELLS   4

/* What a 2 MiB page takes of the budget (model/move-cost.h): budgets for huge pages count them. */
#define HUGE_COST nv_move_page_cost(NV_HUGE_SIZE)

/* A small host: a few nodes, up to four VMs with one RAM range each, a few regions per VM. */
typedef struct fixture {
        nv_inventory inv;
        nv_vm_info info[MAX_VMS];
        nv_ram_range ranges[MAX_VMS][MAX_CELLS];
        nv_node_time cells[MAX_VMS][MAX_CELLS];
        nv_region regions[MAX_VMS][MAX_REGIONS];
        nv_placement_vm vms[MAX_VMS];
        nv_placement_config cfg;
        nv_placement_input in;
} fixture;

static void fixture_init(fixture *f, unsigned nr_nodes) {
        *f = (fixture){};
        f->inv.nr_nodes = nr_nodes;
        for (unsigned n = 0; n < nr_nodes; n++)
                f->inv.nodes[n] = (nv_node_info){ .total_bytes = 64 * GIB, .free_bytes = 32 * GIB };
        f->cfg = (nv_placement_config){
                .budget_cost = 1 * GIB,
                .node_floor_bytes = { [0 ... NV_MAX_NODES - 1] = 1 * GIB },
                .hot_threshold = 0.5,
                .dominance = 0.75,
                .min_residency = 10,
                .retarget_epochs = 3,
        };
        f->in = (nv_placement_input){ .inv = &f->inv, .vms = f->vms, .epoch = 100, .cfg = &f->cfg };
}

/* A VM whose vCPUs all ran on `node`, with one RAM range of the given backing and no vNUMA. */
static unsigned add_vm(fixture *f, nv_backing backing, int node) {
        unsigned i = (unsigned)f->in.nr_vms++;

        f->ranges[i][0] =
                (nv_ram_range){ .hva = 0x7f0000000000, .size = 64 * GIB, .backing = backing, .cell = -1 };
        f->info[i] = (nv_vm_info){ .id = i + 1, .nr_vcpus = 4, .ranges = f->ranges[i], .nr_ranges = 1 };
        if (node >= 0)
                f->info[i].vcpu_time.sec[node] = 1.0;
        f->vms[i] = (nv_placement_vm){
                .info = &f->info[i], .regions = f->regions[i], .enabled = true, .weight = 1.0
        };
        return i;
}

/* A region of `size` bytes, all of it on `node` (-1: location unknown). */
static unsigned add_region(fixture *f, unsigned vm, uint64_t size, float heat, int node) {
        unsigned j = (unsigned)f->vms[vm].nr_regions++;
        nv_region *r = &f->regions[vm][j];
        uint64_t start = j > 0 ? f->regions[vm][j - 1].end : f->ranges[vm][0].hva;

        *r = (nv_region){ .start = start, .end = start + size, .heat = heat };
        if (node >= 0)
                r->node_bytes[node] = size;
        nv_region_init_history(r);
        return j;
}

static const nv_region_plan *rp(const nv_placement_plan *p, unsigned vm, unsigned region) {
        return &p->regions[vm][region];
}

static int compute(fixture *f, nv_placement_plan *plan) {
        return nv_placement_plan_compute(&f->in, plan);
}

static uint64_t move_bytes_of(const nv_placement_plan *p, unsigned vm) {
        uint64_t sum = 0;
        for (size_t k = 0; k < p->nr_moves; k++)
                if (p->moves[k].vm == vm)
                        sum += p->moves[k].bytes;
        return sum;
}

static void test_dominant_node(void) {
        nv_node_time t = {};
        nv_verdict v = NV_VERDICT_MOVE;

        t.sec[0] = 3.0;
        t.sec[1] = 1.0;
        is_int(nv_placement_dominant_node(&t, 2, 0.75, &v), 0,
               "dominant: exactly at dominance (3 of 4 s) is a target");
        is_int(v, NV_VERDICT_MOVE, "dominant: verdict left untouched when a target is found");
        t.sec[0] = 2.99;
        t.sec[1] = 1.01;
        is_int(nv_placement_dominant_node(&t, 2, 0.75, &v), -1,
               "dominant: just below dominance is no target");
        is_int(v, NV_VERDICT_NO_DOMINANT_NODE, "dominant: below dominance says NO_DOMINANT_NODE");

        t = (nv_node_time){};
        is_int(nv_placement_dominant_node(&t, 4, 0.75, &v), -1, "dominant: all-zero time is no target");
        is_int(v, NV_VERDICT_IDLE, "dominant: all-zero time says IDLE");

        t.sec[2] = 0.5;
        t.sec[3] = 0.25;
        is_int(nv_placement_dominant_node(&t, 4, 0.6, &v), 2,
               "dominant: 2/3 of the time on node 2 beats 0.6");
        is_int(nv_placement_dominant_node(&t, 3, 0.75, NULL), 2,
               "dominant: nodes past nr_nodes are not counted (and a NULL verdict is accepted)");
        is_int(nv_placement_dominant_node(&t, 2, 0.75, &v), -1, "dominant: time only past nr_nodes is idle");
        is_int(v, NV_VERDICT_IDLE, "dominant: time only past nr_nodes says IDLE");

        t = (nv_node_time){};
        t.sec[0] = -5.0;
        t.sec[1] = NAN;
        t.sec[2] = 0.1;
        is_int(nv_placement_dominant_node(&t, 3, 0.9, &v), 2,
               "dominant: negative and NaN run times are ignored");

        t = (nv_node_time){};
        t.sec[0] = t.sec[1] = 1.0;
        is_int(nv_placement_dominant_node(&t, 2, 0.5, &v), 0,
               "dominant: a tie at dominance 0.5 goes to the lower node");
        is_int(nv_placement_dominant_node(&t, 2, 0.51, &v), -1, "dominant: an even split is below 0.51");
}

static void test_rule1_disabled(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a, b, c;

        fixture_init(&f, 2);
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 8 * MIB, 1.0, 0);
        f.vms[a].enabled = false;
        b = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, b, 4 * MIB, 1.0, 0);
        f.vms[b].frozen = true;
        c = add_vm(&f, NV_BACKING_ANON, -1); /* idle and disabled: disabled wins */
        add_region(&f, c, 4 * MIB, 1.0, 0);
        f.vms[c].enabled = false;

        is_int(compute(&f, &p), 0, "rule 1: plan computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_DISABLED, "rule 1: disabled VM's region is DISABLED");
        is_int(rp(&p, a, 0)->target, 1, "rule 1: disabled VM's target still computed");
        is_u64(rp(&p, a, 0)->bytes, 8 * MIB, "rule 1: disabled VM's bytes off target still computed");
        is_int(rp(&p, b, 0)->verdict, NV_VERDICT_DISABLED, "rule 1: frozen VM's region is DISABLED");
        is_int(rp(&p, c, 0)->verdict, NV_VERDICT_DISABLED, "rule 1: disabled comes before idle");
        is_int(rp(&p, c, 0)->target, -1, "rule 1: no target when none can be computed");
        is_u64(p.nr_moves, 0, "rule 1: nothing planned");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_DISABLED], 8 * MIB, "rule 1: bytes counted under DISABLED");
        nv_placement_plan_clear(&p);
}

static void test_rule2_pinned(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a;

        fixture_init(&f, 2);
        f.cfg.budget_cost = 100 * GIB;
        a = add_vm(&f, NV_BACKING_PINNED, 1);
        add_region(&f, a, 64 * MIB, 1.0, 0);
        add_region(&f, a, 2 * MIB, 0.1, 0);
        f.regions[a][1].range = 7; /* outside the VM's ranges: cannot be identified */

        is_int(compute(&f, &p), 0, "rule 2: plan computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_PINNED, "rule 2: hot, remote, pinned region is PINNED");
        is_int(rp(&p, a, 0)->target, 1, "rule 2: pinned region's target is still reported");
        is_int(rp(&p, a, 1)->verdict, NV_VERDICT_PINNED,
               "rule 2: region outside the known ranges is never moved");
        is_u64(p.nr_moves, 0, "rule 2: pinned never planned, even with budget to spare");
        is_u64(p.planned_bytes, 0, "rule 2: nothing planned for pinned memory");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_PINNED], 66 * MIB, "rule 2: bytes counted under PINNED");
        nv_placement_plan_clear(&p);
}

static void test_rule3_target(void) {
        nv_placement_plan p = {};
        nv_node_time cells[2] = {};
        fixture f;
        unsigned a, b, c;

        fixture_init(&f, 2);
        /* vNUMA: cell 0's vCPUs run on node 0, cell 1's on node 1; the VM as a whole has no
         * dominant node, but each of its regions does. */
        a = add_vm(&f, NV_BACKING_ANON, -1);
        f.info[a].vcpu_time.sec[0] = f.info[a].vcpu_time.sec[1] = 1.0;
        cells[0].sec[0] = 1.0;
        cells[1].sec[1] = 1.0;
        f.info[a].cell_time = cells;
        f.info[a].nr_cells = 2;
        f.ranges[a][0] =
                (nv_ram_range){ .hva = 0x100000000, .size = 1 * GIB, .backing = NV_BACKING_ANON, .cell = 0 };
        f.ranges[a][1] =
                (nv_ram_range){ .hva = 0x200000000, .size = 1 * GIB, .backing = NV_BACKING_ANON, .cell = 1 };
        f.ranges[a][2] =
                (nv_ram_range){ .hva = 0x300000000, .size = 1 * GIB, .backing = NV_BACKING_ANON, .cell = 5 };
        f.info[a].nr_ranges = 3;
        add_region(&f, a, 4 * MIB, 1.0, 1);
        add_region(&f, a, 4 * MIB, 1.0, 0);
        f.regions[a][1].range = 1;
        add_region(&f, a, 4 * MIB, 1.0, 0);
        f.regions[a][2].range = 2; /* a cell the VM does not have: all vCPUs decide */

        b = add_vm(&f, NV_BACKING_ANON, -1); /* its vCPUs did not run */
        add_region(&f, b, 4 * MIB, 1.0, 0);
        c = add_vm(&f, NV_BACKING_ANON, -1); /* 60/40: below dominance 0.75 */
        f.info[c].vcpu_time.sec[0] = 0.6;
        f.info[c].vcpu_time.sec[1] = 0.4;
        add_region(&f, c, 4 * MIB, 1.0, 1);

        is_int(compute(&f, &p), 0, "rule 3: plan computed");
        is_int(rp(&p, a, 0)->target, 0, "rule 3: region of vNUMA cell 0 targets node 0");
        is_int(rp(&p, a, 1)->target, 1, "rule 3: region of vNUMA cell 1 targets node 1");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "rule 3: cell 0's region on node 1 moves");
        is_int(rp(&p, a, 1)->verdict, NV_VERDICT_MOVE, "rule 3: cell 1's region on node 0 moves");
        is_int(rp(&p, a, 2)->verdict, NV_VERDICT_NO_DOMINANT_NODE,
               "rule 3: an unknown cell falls back to all vCPUs (split evenly: no dominant node)");
        is_int(rp(&p, b, 0)->verdict, NV_VERDICT_IDLE, "rule 3: no run time is IDLE");
        is_int(rp(&p, b, 0)->target, -1, "rule 3: IDLE has no target");
        is_int(rp(&p, c, 0)->verdict, NV_VERDICT_NO_DOMINANT_NODE,
               "rule 3: 60/40 split is NO_DOMINANT_NODE");
        is_u64(p.bytes_by_verdict[c][NV_VERDICT_NO_DOMINANT_NODE], 4 * MIB,
               "rule 3: the region stays, its bytes recorded under NO_DOMINANT_NODE");
        is_u64(p.nr_moves, 2, "rule 3: two moves, one per cell");
        nv_placement_plan_clear(&p);
}

static void test_rule4_cold(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a;

        fixture_init(&f, 2);
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 4 * MIB, 0.49f, 0);
        add_region(&f, a, 4 * MIB, 0.5f, 0);
        add_region(&f, a, 4 * MIB, NAN, 0);

        is_int(compute(&f, &p), 0, "rule 4: plan computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_COLD, "rule 4: heat below the threshold is COLD");
        is_int(rp(&p, a, 1)->verdict, NV_VERDICT_MOVE, "rule 4: heat at the threshold is hot");
        is_int(rp(&p, a, 2)->verdict, NV_VERDICT_COLD, "rule 4: NaN heat is not hot");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_COLD], 8 * MIB, "rule 4: bytes counted under COLD");
        nv_placement_plan_clear(&p);
}

/* Rule 4, relative to the VM: a region far hotter than the rest of its VM is hot even below the
 * threshold (here 0.5). */
static void test_rule4_relative(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a, b, c, d;

        fixture_init(&f, 2);
        /* Two per-vCPU slices sampled at 0.19 over a background at 0.02. */
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 16 * MIB, 0.19f, 0);
        add_region(&f, a, 16 * MIB, 0.19f, 0);
        for (unsigned j = 0; j < 6; j++)
                add_region(&f, a, 16 * MIB, 0.02f, 0);
        /* Uniform heat, below the threshold: nothing stands out. */
        b = add_vm(&f, NV_BACKING_ANON, 1);
        for (unsigned j = 0; j < 4; j++)
                add_region(&f, b, 16 * MIB, 0.3f, 0);
        /* A warm background (0.1): 0.45 is not several times it. */
        c = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, c, 16 * MIB, 0.45f, 0);
        for (unsigned j = 0; j < 3; j++)
                add_region(&f, c, 16 * MIB, 0.1f, 0);
        /* An idle background: a region above it but below the floor is noise. */
        d = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, d, 16 * MIB, 0.1f, 0);
        for (unsigned j = 0; j < 3; j++)
                add_region(&f, d, 16 * MIB, 0.0f, 0);

        is_int(compute(&f, &p), 0, "rule 4 relative: plan computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "rule 4 relative: a 0.19 slice over 0.02 is hot");
        is_int(rp(&p, a, 1)->verdict, NV_VERDICT_MOVE, "rule 4 relative: so is the other slice");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_COLD], 6 * 16 * MIB,
               "rule 4 relative: the background is COLD");
        is_u64(p.bytes_by_verdict[b][NV_VERDICT_COLD], 4 * 16 * MIB,
               "rule 4 relative: a uniform VM below the threshold has nothing hot");
        is_int(rp(&p, c, 0)->verdict, NV_VERDICT_COLD,
               "rule 4 relative: 0.45 over a 0.1 background is COLD");
        is_int(rp(&p, d, 0)->verdict, NV_VERDICT_COLD,
               "rule 4 relative: 0.1 over an idle VM is below the floor");
        nv_placement_plan_clear(&p);
}

/* The threshold itself, at its edges. */
static void test_hot_heat(void) {
        nv_region r[4] = {};
        uint64_t start = 0;
        double h;

        for (unsigned j = 0; j < ARRAY_SIZE(r); j++) {
                r[j] = (nv_region){ .start = start, .end = start + 16 * MIB, .heat = 0.0f };
                start = r[j].end;
        }
        is_near(nv_placement_hot_heat(NULL, 0, 0.4), 0.4, 1e-12, "hot heat: no regions: the threshold");
        is_near(nv_placement_hot_heat(r, 4, 0.4), 0.15, 1e-12, "hot heat: idle VM: the floor, 0.15");
        is_near(nv_placement_hot_heat(r, 4, 0.1), 0.1, 1e-12, "hot heat: never above the threshold");
        is_near(nv_placement_hot_heat(r, 4, -1.0), -1.0, 1e-12, "hot heat: a negative threshold is kept");

        /* Weighted by bytes: one large cold region outweighs three small warm ones. */
        r[0].end = r[0].start + 64 * MIB;
        for (unsigned j = 1; j < 4; j++)
                r[j].heat = 0.3f;
        is_near(nv_placement_hot_heat(r, 4, 0.4), 0.15, 1e-12,
                "hot heat: the median is by bytes, not count");
        r[0].end = r[0].start + 16 * MIB;
        is_near(nv_placement_hot_heat(r, 4, 0.4), 0.4, 1e-12, "hot heat: mostly warm VM: the threshold");

        /* Heat that is not a measurement does not count; heat beyond 1 counts as 1. */
        r[0].heat = 0.02f;
        r[1].heat = NAN;
        r[2].heat = -0.5f;
        r[3].heat = INFINITY;
        is_near(nv_placement_hot_heat(r, 4, 0.4), 0.15, 1e-12, "hot heat: NaN and negative heat ignored");
        r[0].end = r[0].start; /* empty: no bytes */
        is_near(nv_placement_hot_heat(r, 4, 0.4), 0.4, 1e-12, "hot heat: empty regions weigh nothing");

        /* A background whose multiple is above the floor: six times it, to the median's resolution
         * (1/256, rounded up). */
        for (unsigned j = 0; j < ARRAY_SIZE(r); j++)
                r[j] = (nv_region){ .start = j * 16 * MIB, .end = (j + 1) * 16 * MIB, .heat = 0.03f };
        h = nv_placement_hot_heat(r, 4, 0.4);
        ok(h >= 6 * 0.03 && h <= 6 * (0.03 + 1.0 / 256), "hot heat: six times a 0.03 background: %g", h);
}

static void test_rule5_local(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a;

        fixture_init(&f, 3);
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 4 * MIB, 1.0, 1);
        add_region(&f, a, 4 * MIB, 1.0, -1); /* histogram empty: location unknown */
        add_region(&f, a, 8 * MIB, 1.0, 1);
        f.regions[a][2].node_bytes[1] = 5 * MIB;
        f.regions[a][2].node_bytes[0] = 2 * MIB;
        f.regions[a][2].node_bytes[2] = 1 * MIB;

        is_int(compute(&f, &p), 0, "rule 5: plan computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_LOCAL, "rule 5: all bytes on the target is LOCAL");
        is_u64(rp(&p, a, 0)->bytes, 0, "rule 5: LOCAL has no bytes off target");
        is_int(rp(&p, a, 1)->verdict, NV_VERDICT_MOVE, "rule 5: unknown location moves");
        is_u64(rp(&p, a, 1)->bytes, 4 * MIB, "rule 5: unknown location counts the whole region off target");
        is_u64(rp(&p, a, 2)->bytes, 3 * MIB, "rule 5: bytes off target sum every other node");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_LOCAL], 4 * MIB, "rule 5: bytes counted under LOCAL");
        nv_placement_plan_clear(&p);

        /* Located: bytes on no node are not resident, and not resident is not off target. */
        f.regions[a][1].located = true; /* never touched by the guest */
        f.regions[a][2].located = true;
        f.regions[a][2].node_bytes[0] = 0; /* 5 MiB on the target, 1 MiB elsewhere, 2 MiB nowhere */
        is_int(compute(&f, &p), 0, "rule 5: plan computed with located regions");
        is_int(rp(&p, a, 1)->verdict, NV_VERDICT_LOCAL,
               "rule 5: a located region with nothing resident is LOCAL");
        is_u64(rp(&p, a, 1)->bytes, 0, "rule 5: ... with no bytes off target");
        is_u64(rp(&p, a, 2)->bytes, 1 * MIB, "rule 5: only resident bytes off target count");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_MOVE], 8 * MIB,
               "rule 5: nothing planned for memory not resident");
        nv_placement_plan_clear(&p);
}

/* Feed the plan's streak back into the region, as the daemon does between epochs. */
static void carry_streak(nv_region *r, const nv_region_plan *p) {
        r->streak_target = p->streak_target;
        r->target_streak = p->target_streak;
}

static void test_rule6_hysteresis(void) {
        nv_placement_plan p = {};
        nv_region *r;
        fixture f;
        unsigned a;

        fixture_init(&f, 3);
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 4 * MIB, 1.0, 0);
        r = &f.regions[a][0];
        r->moved_epoch = 98; /* moved to node 0 two epochs ago; now its vCPUs run on node 1 */
        r->moved_to = 0;

        is_int(compute(&f, &p), 0, "rule 6: epoch 100 computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_RESIDENCY, "rule 6: recently moved region is held");
        is_int(rp(&p, a, 0)->streak_target, 1, "rule 6: streak starts on the new target");
        is_int(rp(&p, a, 0)->target_streak, 1, "rule 6: streak starts at 1");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_RESIDENCY], 4 * MIB,
               "rule 6: bytes counted under RESIDENCY");
        carry_streak(r, rp(&p, a, 0));
        nv_placement_plan_clear(&p);

        f.in.epoch = 101;
        is_int(compute(&f, &p), 0, "rule 6: epoch 101 computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_RESIDENCY, "rule 6: still held after 2 epochs of retarget");
        is_int(rp(&p, a, 0)->target_streak, 2, "rule 6: streak grows on the same target");
        carry_streak(r, rp(&p, a, 0));
        nv_placement_plan_clear(&p);

        f.in.epoch = 102;
        is_int(compute(&f, &p), 0, "rule 6: epoch 102 computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "rule 6: released after retarget_epochs (3) epochs");
        is_int(rp(&p, a, 0)->target_streak, 3, "rule 6: streak reached retarget_epochs");
        nv_placement_plan_clear(&p);

        /* The target changes to yet another node: the streak starts over. */
        r->streak_target = 2;
        r->target_streak = 2;
        is_int(compute(&f, &p), 0, "rule 6: changed target computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_RESIDENCY,
               "rule 6: a different target restarts the streak");
        is_int(rp(&p, a, 0)->target_streak, 1, "rule 6: restarted streak is 1");
        nv_placement_plan_clear(&p);

        /* Past min_residency: free to move at once. */
        r->streak_target = -1;
        r->target_streak = 0;
        f.in.epoch = 98 + 10;
        is_int(compute(&f, &p), 0, "rule 6: epoch past residency computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "rule 6: epoch - moved_epoch == min_residency moves");
        nv_placement_plan_clear(&p);
        f.in.epoch = 98 + 9;
        is_int(compute(&f, &p), 0, "rule 6: epoch at residency's last epoch computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_RESIDENCY,
               "rule 6: epoch - moved_epoch == min_residency - 1 holds");
        nv_placement_plan_clear(&p);

        /* NV_RESIDENCY_FOREVER (MinResidency=infinity): held however many epochs pass. */
        f.cfg.min_residency = NV_RESIDENCY_FOREVER;
        f.in.epoch = 98 + (uint64_t)NV_RESIDENCY_FOREVER + 1000;
        is_int(compute(&f, &p), 0, "rule 6: epoch far past any residency computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_RESIDENCY, "rule 6: NV_RESIDENCY_FOREVER holds for ever");
        nv_placement_plan_clear(&p);
        f.cfg.min_residency = 10;

        /* Target is where it was moved to (pages drifted back): not held, no streak. */
        r->moved_to = 1;
        r->streak_target = 1;
        r->target_streak = 5;
        is_int(compute(&f, &p), 0, "rule 6: same target computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "rule 6: target == moved_to is not held");
        is_int(rp(&p, a, 0)->streak_target, -1, "rule 6: target == moved_to clears streak_target");
        is_int(rp(&p, a, 0)->target_streak, 0, "rule 6: target == moved_to clears the streak");
        nv_placement_plan_clear(&p);

        /* Never moved: no history, no streak. */
        nv_region_init_history(r);
        is_int(compute(&f, &p), 0, "rule 6: never moved computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "rule 6: never moved is not held");
        is_int(rp(&p, a, 0)->streak_target, -1, "rule 6: no history, no streak_target");
        nv_placement_plan_clear(&p);
}

static bool same_moves(const nv_placement_plan *p, const nv_placement_plan *q) {
        if (p->nr_moves != q->nr_moves)
                return false;
        for (size_t k = 0; k < p->nr_moves; k++) {
                const nv_move *x = &p->moves[k], *y = &q->moves[k];
                if (x->vm != y->vm || x->region != y->region || x->target != y->target ||
                    x->bytes != y->bytes || x->benefit != y->benefit)
                        return false;
        }
        return true;
}

static void test_rule7_ranking(void) {
        nv_placement_plan p = {}, q = {};
        fixture f;
        unsigned a, b;

        fixture_init(&f, 2);
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 8 * MIB, 0.6f, 0); /* benefit 4.8 MiB */
        add_region(&f, a, 4 * MIB, 0.9f, 0); /* 3.6 MiB */
        add_region(&f, a, 6 * MIB, 1.0f, 0); /* 6 MiB */
        b = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, b, 6 * MIB, 1.0f, 0); /* 6 MiB: ties with a's region 2 */
        add_region(&f, b, 6 * MIB, 1.0f, 0); /* and this one too */

        is_int(compute(&f, &p), 0, "rule 7: plan computed");
        is_u64(p.nr_moves, 5, "rule 7: five moves");
        is_int(p.moves[0].vm == a && p.moves[0].region == 2, 1, "rule 7: tie broken by VM index first");
        is_int(p.moves[1].vm == b && p.moves[1].region == 0, 1, "rule 7: then by region index");
        is_int(p.moves[2].vm == b && p.moves[2].region == 1, 1, "rule 7: third is the last of the ties");
        is_int(p.moves[3].vm == a && p.moves[3].region == 0, 1, "rule 7: then benefit 4.8 MiB");
        is_int(p.moves[4].vm == a && p.moves[4].region == 1, 1, "rule 7: then benefit 3.6 MiB");
        is_near(p.moves[3].benefit, 0.6 * 8 * MIB, 1.0, "rule 7: benefit is heat x bytes off target");

        is_int(compute(&f, &q), 0, "rule 7: second plan computed");
        ok(same_moves(&p, &q), "rule 7: the same input gives the same plan");
        nv_placement_plan_clear(&p);
        nv_placement_plan_clear(&q);
}

/* A region larger than the budget can move only the budget's worth this epoch: it ranks by that,
 * so a large lukewarm region does not take the budget from a small hot one. */
static void test_rule7_budget_cap(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a;

        fixture_init(&f, 2);
        f.cfg.budget_cost = 256 * MIB;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 1 * GIB, 0.6f, 0);   /* heat x bytes 614 MiB; x budget 154 MiB */
        add_region(&f, a, 256 * MIB, 1.0f, 0); /* 256 MiB either way */
        is_int(compute(&f, &p), 0, "rule 7 cap: plan computed");
        ok(p.nr_moves >= 1 && p.moves[0].region == 1, "rule 7 cap: the small hot region ranks first");
        is_u64(move_bytes_of(&p, a), 256 * MIB, "rule 7 cap: the budget is spent");
        is_int(rp(&p, a, 1)->verdict, NV_VERDICT_MOVE, "rule 7 cap: the hot region moves whole");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_BUDGET, "rule 7 cap: the lukewarm one waits for budget");
        is_near(p.moves[0].benefit, 256.0 * MIB, 1.0, "rule 7 cap: its benefit is heat x bytes off target");
        nv_placement_plan_clear(&p);

        /* Under a budget that covers both, the plain product decides as before. */
        fixture_init(&f, 2);
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 1 * GIB, 0.6f, 0);
        add_region(&f, a, 256 * MIB, 1.0f, 0);
        f.cfg.budget_cost = 2 * GIB;
        is_int(compute(&f, &p), 0, "rule 7 cap: plan under a large budget");
        ok(p.nr_moves == 2 && p.moves[0].region == 0, "rule 7 cap: the larger product ranks first then");
        nv_placement_plan_clear(&p);
}

static void test_rule8_budget(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a, b, c;

        /* Water-filling: a VM that needs less than its share leaves the rest to the others. */
        fixture_init(&f, 2);
        f.cfg.budget_cost = 150 * MIB;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 10 * MIB, 1.0, 0);
        b = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, b, 50 * MIB, 1.0, 0);
        c = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, c, 200 * MIB, 1.0, 0);
        is_int(compute(&f, &p), 0, "rule 8: water-filling plan computed");
        is_u64(move_bytes_of(&p, a), 10 * MIB, "rule 8: small demand fully served");
        is_u64(move_bytes_of(&p, b), 50 * MIB, "rule 8: demand under the share left over fully served");
        is_u64(move_bytes_of(&p, c), 90 * MIB, "rule 8: the big VM gets everything the others left");
        is_u64(p.planned_bytes, 150 * MIB, "rule 8: the whole budget is used");
        is_int(rp(&p, c, 0)->verdict, NV_VERDICT_MOVE, "rule 8: partially planned region is MOVE");
        is_u64(p.bytes_by_verdict[c][NV_VERDICT_MOVE], 90 * MIB, "rule 8: planned part under MOVE");
        is_u64(p.bytes_by_verdict[c][NV_VERDICT_BUDGET], 110 * MIB,
               "rule 8: rest of the region under BUDGET");
        nv_placement_plan_clear(&p);

        /* Two VMs of unequal demand, both above an equal share. */
        f.cfg.budget_cost = 100 * MIB;
        f.vms[a].nr_regions = 0;
        f.regions[b][0].end = f.regions[b][0].start + 80 * MIB;
        f.regions[b][0].node_bytes[0] = 80 * MIB;
        is_int(compute(&f, &p), 0, "rule 8: fairness plan computed");
        is_u64(move_bytes_of(&p, b), 50 * MIB, "rule 8: equal weights: the smaller VM gets half");
        is_u64(move_bytes_of(&p, c), 50 * MIB, "rule 8: equal weights: the bigger VM gets half, not more");
        nv_placement_plan_clear(&p);

        /* Weights: 3 to 1. */
        f.vms[b].weight = 3.0;
        is_int(compute(&f, &p), 0, "rule 8: weighted plan computed");
        is_u64(move_bytes_of(&p, b), 75 * MIB, "rule 8: weight 3 gets three quarters");
        is_u64(move_bytes_of(&p, c), 25 * MIB, "rule 8: weight 1 gets one quarter");
        nv_placement_plan_clear(&p);
        f.vms[b].weight = 0; /* unset: the default weight */
        is_int(compute(&f, &p), 0, "rule 8: unset weight plan computed");
        is_u64(move_bytes_of(&p, b), 50 * MIB, "rule 8: weight 0 counts as the default 1.0");
        nv_placement_plan_clear(&p);

        /* Within a VM, in benefit order; the last candidate partial; the next one gets nothing. */
        fixture_init(&f, 2);
        f.cfg.budget_cost = 10 * MIB + 1000;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 8 * MIB, 1.0, 0);
        add_region(&f, a, 4 * MIB, 0.9f, 0);
        add_region(&f, a, 4 * MIB, 0.8f, 0);
        is_int(compute(&f, &p), 0, "rule 8: partial plan computed");
        is_u64(p.nr_moves, 2, "rule 8: two moves fit");
        is_u64(p.moves[1].bytes, 2 * MIB, "rule 8: last move partial, rounded down to 4 KiB");
        is_int(rp(&p, a, 2)->verdict, NV_VERDICT_BUDGET, "rule 8: a candidate that gets 0 is BUDGET");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_BUDGET], 2 * MIB + 4 * MIB, "rule 8: BUDGET bytes");
        nv_placement_plan_clear(&p);

        /* THP: partial moves are whole 2 MiB pages, each paid at its cost. */
        fixture_init(&f, 2);
        f.cfg.budget_cost = 5 * HUGE_COST / 2;
        a = add_vm(&f, NV_BACKING_THP, 1);
        add_region(&f, a, 8 * MIB, 1.0, 0);
        is_int(compute(&f, &p), 0, "rule 8: THP plan computed");
        is_u64(p.nr_moves, 1, "rule 8: THP: one move");
        is_u64(p.moves[0].bytes, 4 * MIB, "rule 8: THP partial move rounded down to 2 MiB");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_MOVE], 4 * MIB, "rule 8: THP: planned under MOVE");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_BUDGET], 4 * MIB, "rule 8: THP: rest under BUDGET");
        nv_placement_plan_clear(&p);
        f.cfg.budget_cost = HUGE_COST - 1;
        is_int(compute(&f, &p), 0, "rule 8: THP under one huge page computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_BUDGET,
               "rule 8: less than one huge page of budget is BUDGET");
        nv_placement_plan_clear(&p);

        /* Huge off-target estimate not a page multiple: rounded up to whole huge pages. */
        f.cfg.budget_cost = 1 * GIB;
        f.regions[a][0].node_bytes[0] = 3 * MIB;
        f.regions[a][0].node_bytes[1] = 5 * MIB;
        is_int(compute(&f, &p), 0, "rule 8: THP estimate computed");
        is_u64(p.moves[0].bytes, 4 * MIB, "rule 8: 3 MiB off target on THP moves two whole huge pages");
        nv_placement_plan_clear(&p);
}

/* What the fair shares leave unspent (page rounding, floors) goes to the best remaining
 * candidates, so that the budget is not wasted. */
static void test_rule8_leftover(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a, b;

        fixture_init(&f, 2);
        f.cfg.budget_cost = 5 * HUGE_COST;
        a = add_vm(&f, NV_BACKING_THP, 1);
        add_region(&f, a, 16 * MIB, 1.0, 0);
        b = add_vm(&f, NV_BACKING_THP, 1);
        add_region(&f, b, 16 * MIB, 0.5, 0);
        is_int(compute(&f, &p), 0, "leftover: THP plan computed");
        is_u64(move_bytes_of(&p, a), 6 * MIB,
               "leftover: the better VM gets the 2 MiB both shares rounded off");
        is_u64(move_bytes_of(&p, b), 4 * MIB, "leftover: the other keeps its rounded share");
        is_u64(p.planned_cost, f.cfg.budget_cost, "leftover: the whole budget is used");
        nv_placement_plan_clear(&p);

        /* A VM whose target node is full cannot spend its share: the other VM may. */
        fixture_init(&f, 3);
        f.cfg.budget_cost = 20 * MIB;
        f.inv.nodes[0].free_bytes = f.cfg.node_floor_bytes[0];
        a = add_vm(&f, NV_BACKING_ANON, 0);
        add_region(&f, a, 16 * MIB, 1.0, 1);
        b = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, b, 16 * MIB, 0.5, 2);
        is_int(compute(&f, &p), 0, "leftover: floor plan computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_NODE_FLOOR,
               "leftover: the VM aimed at a full node gets nothing");
        is_u64(move_bytes_of(&p, b), 16 * MIB, "leftover: the other VM gets more than its half");
        nv_placement_plan_clear(&p);

        /* A swap: b's move out of the full node 0 makes room there, which a then gets. */
        f.regions[b][0].node_bytes[2] = 0;
        f.regions[b][0].node_bytes[0] = 16 * MIB;
        is_int(compute(&f, &p), 0, "leftover: swap plan computed");
        is_u64(move_bytes_of(&p, b), 10 * MIB, "leftover: swap: b moves its half out of node 0");
        is_u64(move_bytes_of(&p, a), 10 * MIB,
               "leftover: swap: a gets the room b made and the unspent half");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "leftover: swap: a is planned");
        nv_placement_plan_clear(&p);
}

/* The budget is a cost (model/move-cost.h): a 4 KiB page takes its bytes, a 2 MiB page an eighth
 * of them. Each check below fails when the budget counts bytes instead. */
static void test_rule8_cost(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a, b;

        /* Huge pages: the budget moves NV_MOVE_MAX_BYTES_PER_COST times its bytes. */
        fixture_init(&f, 2);
        f.inv.nodes[1].free_bytes = 8 * GIB;
        f.cfg.budget_cost = 256 * MIB;
        a = add_vm(&f, NV_BACKING_THP, 1);
        add_region(&f, a, 4 * GIB, 1.0, 0);
        is_int(compute(&f, &p), 0, "cost: THP plan computed");
        is_u64(move_bytes_of(&p, a), 2 * GIB, "cost: 256 MiB of budget moves 2 GiB of huge pages");
        is_u64(p.planned_cost, 256 * MIB, "cost: and costs the whole budget");
        ok(p.nr_moves == 1 && p.moves[0].page == NV_HUGE_SIZE, "cost: the move says its page");
        nv_placement_plan_clear(&p);

        /* Equal weights share the cost, not the bytes: the THP VM moves 8 times the bytes. */
        fixture_init(&f, 2);
        f.cfg.budget_cost = 256 * MIB;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 4 * GIB, 1.0, 0);
        b = add_vm(&f, NV_BACKING_THP, 1);
        add_region(&f, b, 4 * GIB, 1.0, 0);
        is_int(compute(&f, &p), 0, "cost: shared plan computed");
        is_u64(move_bytes_of(&p, a), 128 * MIB, "cost: the 4 KiB VM gets half the budget in bytes");
        is_u64(move_bytes_of(&p, b), 1 * GIB, "cost: the THP VM gets half the budget in cost");
        nv_placement_plan_clear(&p);

        /* A VM's demand is its cost: 512 MiB of huge pages demand 64 MiB, the rest goes to the other. */
        f.regions[b][0].end = f.regions[b][0].start + 512 * MIB;
        f.regions[b][0].node_bytes[0] = 512 * MIB;
        is_int(compute(&f, &p), 0, "cost: demand plan computed");
        is_u64(move_bytes_of(&p, b), 512 * MIB, "cost: the THP VM moves all it wants");
        is_u64(move_bytes_of(&p, a), 192 * MIB, "cost: the 4 KiB VM gets what that leaves");
        nv_placement_plan_clear(&p);

        /* Rule 7 ranks by the bytes the budget pays for in the region's pages: a lukewarm huge
         * region the budget moves whole outranks a hot 4 KiB one. */
        fixture_init(&f, 2);
        f.cfg.budget_cost = 16 * MIB;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 16 * MIB, 1.0, 0); /* 16 MiB */
        b = add_vm(&f, NV_BACKING_THP, 1);
        add_region(&f, b, 64 * MIB, 0.5, 0); /* 32 MiB; 8 MiB if capped at the budget's bytes */
        is_int(compute(&f, &p), 0, "cost: ranking plan computed");
        ok(p.nr_moves == 2 && p.moves[0].vm == b, "cost: the huge region ranks first");
        is_near(p.nr_moves > 0 ? p.moves[0].benefit : 0, 32.0 * MIB, 1.0, "cost: heat x all its bytes");
        nv_placement_plan_clear(&p);
}

/* A move's bytes are an estimate from sampled pages; what the moves leave unspent goes to the
 * spares: the regions the budget stopped, in benefit order, at most the budget in all, within the
 * floors. */
static void test_spares(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a, b;

        fixture_init(&f, 2);
        f.cfg.budget_cost = 10 * MIB;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 8 * MIB, 1.0, 0);
        add_region(&f, a, 4 * MIB, 0.9f, 0);
        add_region(&f, a, 4 * MIB, 0.8f, 0);
        add_region(&f, a, 4 * MIB, 0.7f, 0);
        add_region(&f, a, 4 * MIB, 0.6f, 0);
        is_int(compute(&f, &p), 0, "spares: plan computed");
        is_u64(p.planned_bytes, 10 * MIB, "spares: the moves take the budget");
        is_u64(p.nr_spares, 3, "spares: three regions stopped by the budget get a spare");
        if (p.nr_spares == 3) {
                is_int(p.spares[0].region, 1, "spares: the partly planned region first");
                is_u64(p.spares[0].bytes, 2 * MIB, "spares: its spare is the rest of what it wants");
                is_int(p.spares[1].region, 2, "spares: then in benefit order");
                is_u64(p.spares[1].bytes, 4 * MIB, "spares: a whole region's want");
                is_int(p.spares[2].region, 3, "spares: the last within the budget");
                is_u64(p.spares[2].bytes, 4 * MIB, "spares: 2 + 4 + 4 MiB: the budget in all");
                is_int(p.spares[0].target, 1, "spares: toward the region's target");
        }
        is_int(rp(&p, a, 4)->verdict, NV_VERDICT_BUDGET, "spares: the verdict stays BUDGET");
        nv_placement_plan_clear(&p);

        /* The floor holds with every move and spare carried out: node 1 takes 12 MiB. */
        f.inv.nodes[1].free_bytes = f.cfg.node_floor_bytes[1] + 12 * MIB;
        is_int(compute(&f, &p), 0, "spares: floor plan computed");
        is_u64(p.planned_bytes, 10 * MIB, "spares: floor: the moves fit");
        is_u64(p.nr_spares, 1, "spares: floor: one spare fits");
        if (p.nr_spares == 1)
                is_u64(p.spares[0].bytes, 2 * MIB, "spares: floor: what is left above the floor");
        nv_placement_plan_clear(&p);

        /* A candidate its target's floor stopped gets no spare; the budget's others do. */
        fixture_init(&f, 3);
        f.cfg.budget_cost = 2 * HUGE_COST;
        f.inv.nodes[0].free_bytes = f.cfg.node_floor_bytes[0];
        a = add_vm(&f, NV_BACKING_THP, 0);
        add_region(&f, a, 16 * MIB, 1.0, 1);
        b = add_vm(&f, NV_BACKING_THP, 1);
        add_region(&f, b, 16 * MIB, 0.5, 2);
        is_int(compute(&f, &p), 0, "spares: full node plan computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_NODE_FLOOR, "spares: full node: NODE_FLOOR");
        is_u64(p.nr_spares, 1, "spares: full node: only the other VM has a spare");
        if (p.nr_spares == 1) {
                is_int(p.spares[0].vm, (int)b, "spares: full node: the other VM's region");
                is_u64(p.spares[0].bytes, 4 * MIB, "spares: full node: at most the budget, huge pages");
        }
        nv_placement_plan_clear(&p);

        /* Nothing stopped by the budget: no spares. */
        f.cfg.budget_cost = 1 * GIB;
        is_int(compute(&f, &p), 0, "spares: ample budget plan computed");
        is_u64(p.nr_spares, 0, "spares: ample budget: none");
        nv_placement_plan_clear(&p);
}

/* Benefits at and below zero (possible only with a threshold at or below zero) rank in order. */
static void test_rank_signs(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a;

        fixture_init(&f, 2);
        f.cfg.hot_threshold = -1.0;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 4 * MIB, -0.5f, 0);
        add_region(&f, a, 4 * MIB, -0.0f, 0);
        add_region(&f, a, 4 * MIB, 0.0f, 0);
        add_region(&f, a, 4 * MIB, 0.25f, 0);
        add_region(&f, a, 4 * MIB, -0.25f, 0);
        is_int(compute(&f, &p), 0, "rank: plan computed");
        is_u64(p.nr_moves, 5, "rank: five moves");
        if (p.nr_moves == 5) {
                is_int(p.moves[0].region, 3, "rank: positive benefit first");
                is_int(p.moves[1].region, 1, "rank: -0 and +0 tie, by region index");
                is_int(p.moves[2].region, 2, "rank: +0 after -0 of a lower index");
                is_int(p.moves[3].region, 4, "rank: -0.25 before -0.5");
                is_int(p.moves[4].region, 0, "rank: most negative last");
        }
        nv_placement_plan_clear(&p);
}

static void test_rule9_floor(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a, b;

        /* Exactly at the floor after the move: allowed. */
        fixture_init(&f, 2);
        f.inv.nodes[1].free_bytes = f.cfg.node_floor_bytes[0] + 8 * MIB;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 8 * MIB, 1.0, 0);
        is_int(compute(&f, &p), 0, "rule 9: at-floor plan computed");
        is_u64(p.planned_bytes, 8 * MIB, "rule 9: a move that ends exactly at the floor is allowed");
        nv_placement_plan_clear(&p);

        /* One byte short: cut to whole pages that fit. */
        f.inv.nodes[1].free_bytes = f.cfg.node_floor_bytes[0] + 8 * MIB - 1;
        is_int(compute(&f, &p), 0, "rule 9: short plan computed");
        is_u64(p.planned_bytes, 8 * MIB - 4 * KIB, "rule 9: one byte over the floor cuts a 4 KiB page");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "rule 9: cut move still MOVE");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_NODE_FLOOR], 4 * KIB,
               "rule 9: the cut part under NODE_FLOOR");
        nv_placement_plan_clear(&p);

        /* THP, one byte short of one huge page: refused. */
        fixture_init(&f, 2);
        f.inv.nodes[1].free_bytes = f.cfg.node_floor_bytes[0] + 2 * MIB - 1;
        a = add_vm(&f, NV_BACKING_THP, 1);
        add_region(&f, a, 2 * MIB, 1.0, 0);
        is_int(compute(&f, &p), 0, "rule 9: THP floor plan computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_NODE_FLOOR,
               "rule 9: one byte over the floor is NODE_FLOOR");
        is_u64(p.nr_moves, 0, "rule 9: refused move not planned");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_NODE_FLOOR], 2 * MIB,
               "rule 9: bytes counted under NODE_FLOOR");
        nv_placement_plan_clear(&p);

        /* A node below its floor becomes usable once a move takes bytes away from it. */
        fixture_init(&f, 2);
        f.inv.nodes[0].free_bytes = f.cfg.node_floor_bytes[0];
        f.inv.nodes[1].free_bytes = 32 * GIB;
        a = add_vm(&f, NV_BACKING_ANON, 1); /* 8 MiB from node 0 to node 1, benefit 8 MiB */
        add_region(&f, a, 8 * MIB, 1.0, 0);
        b = add_vm(&f, NV_BACKING_ANON, 0); /* 4 MiB from node 1 to node 0, benefit 2 MiB */
        add_region(&f, b, 4 * MIB, 0.5, 1);
        is_int(compute(&f, &p), 0, "rule 9: freeing plan computed");
        is_int(rp(&p, b, 0)->verdict, NV_VERDICT_MOVE,
               "rule 9: bytes leaving a node are counted back as free");
        is_u64(p.planned_bytes, 12 * MIB, "rule 9: both moves planned");
        nv_placement_plan_clear(&p);

        /* The same, but the first region's location is unknown: nothing is counted back. */
        memset(f.regions[a][0].node_bytes, 0, sizeof(f.regions[a][0].node_bytes));
        is_int(compute(&f, &p), 0, "rule 9: unknown-source plan computed");
        is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "rule 9: unknown location still moves");
        is_int(rp(&p, b, 0)->verdict, NV_VERDICT_NODE_FLOOR, "rule 9: unknown source frees nothing");
        nv_placement_plan_clear(&p);

        /* Split source: bytes counted back in proportion to where they were. */
        fixture_init(&f, 3);
        f.inv.nodes[0].free_bytes = f.cfg.node_floor_bytes[0];
        f.inv.nodes[2].free_bytes = f.cfg.node_floor_bytes[0];
        a = add_vm(&f, NV_BACKING_ANON, 1); /* 6 MiB on node 0, 2 MiB on node 2 */
        add_region(&f, a, 8 * MIB, 1.0, 0);
        f.regions[a][0].node_bytes[0] = 6 * MIB;
        f.regions[a][0].node_bytes[2] = 2 * MIB;
        b = add_vm(&f, NV_BACKING_ANON, 2); /* wants 4 MiB onto node 2, which got 2 MiB back */
        add_region(&f, b, 4 * MIB, 0.5, 1);
        is_int(compute(&f, &p), 0, "rule 9: proportional plan computed");
        is_u64(move_bytes_of(&p, b), 2 * MIB, "rule 9: node 2 got back its share (2 MiB) and no more");
        is_u64(p.bytes_by_verdict[b][NV_VERDICT_NODE_FLOOR], 2 * MIB, "rule 9: the rest under NODE_FLOOR");
        nv_placement_plan_clear(&p);
}

static void test_rule10_plan(void) {
        nv_placement_plan p = {};
        uint64_t sum = 0;
        fixture f;
        unsigned a, b;
        bool sorted = true, totals = true;

        fixture_init(&f, 2);
        f.cfg.budget_cost = 20 * MIB;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 4 * MIB, 0.7f, 0);
        add_region(&f, a, 16 * MIB, 0.2f, 0);
        add_region(&f, a, 8 * MIB, 0.8f, 1);
        add_region(&f, a, 12 * MIB, 0.6f, 0);
        b = add_vm(&f, NV_BACKING_THP, 0);
        add_region(&f, b, 8 * MIB, 0.9f, 1);
        add_region(&f, b, 6 * MIB, 0.95f, 1);

        is_int(compute(&f, &p), 0, "rule 10: plan computed");
        is_u64(p.nr_vms, 2, "rule 10: one entry per VM");
        for (size_t k = 0; k < p.nr_moves; k++) {
                sum += p.moves[k].bytes;
                if (k > 0 && p.moves[k].benefit > p.moves[k - 1].benefit)
                        sorted = false;
        }
        ok(p.nr_moves >= 3, "rule 10: moves from both VMs (%zu)", p.nr_moves);
        ok(sorted, "rule 10: moves in descending benefit across VMs");
        is_u64(p.planned_bytes, sum, "rule 10: planned_bytes is the sum of the moves");
        ok(p.planned_cost <= f.cfg.budget_cost, "rule 10: within the budget");
        for (unsigned i = 0; i < 2; i++) {
                uint64_t want = 0, got = 0;
                for (unsigned j = 0; j < f.vms[i].nr_regions; j++)
                        want += nv_region_bytes(&f.regions[i][j]);
                for (unsigned v = 0; v < _NV_VERDICT_MAX; v++)
                        got += p.bytes_by_verdict[i][v];
                totals = totals && want == got;
        }
        ok(totals, "rule 10: bytes_by_verdict accounts for every region byte of every VM");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_LOCAL], 8 * MIB, "rule 10: LOCAL bytes");
        is_u64(p.bytes_by_verdict[a][NV_VERDICT_COLD], 16 * MIB, "rule 10: COLD bytes");
        nv_placement_plan_clear(&p);
}

static void test_input_unchanged(void) {
        nv_placement_plan p = {};
        fixture f, copy;
        unsigned a;

        fixture_init(&f, 2);
        f.cfg.budget_cost = 6 * MIB;
        a = add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, a, 8 * MIB, 1.0, 0);
        add_region(&f, a, 4 * MIB, 0.2f, 0);
        f.regions[a][0].moved_epoch = 50;
        f.regions[a][0].moved_to = 0;
        f.regions[a][0].streak_target = 1;
        f.regions[a][0].target_streak = 2;
        copy = f;

        is_int(compute(&f, &p), 0, "input: plan computed");
        ok(memcmp(&f, &copy, sizeof(f)) == 0, "input: inventory, VMs, regions and config unchanged");
        nv_placement_plan_clear(&p);
}

/* Rule 9 with a floor per node: each node keeps its own floor (NodeFreeFloor as a share of each
 * node's memory), so a small node takes moves down to its small floor whatever the others'. */
static void test_rule9_floor_per_node(void) {
        nv_placement_plan p = {};
        fixture f;
        unsigned a;

        for (int large_full = 0; large_full <= 1; large_full++) {
                fixture_init(&f, 2);
                f.inv.nodes[0] = (nv_node_info){ .total_bytes = 256 * GIB, .free_bytes = 100 * GIB };
                f.inv.nodes[1] = (nv_node_info){ .total_bytes = 1 * GIB, .free_bytes = 64 * MIB };
                f.cfg.node_floor_bytes[0] = 256 * GIB / 50; /* 2% of each */
                f.cfg.node_floor_bytes[1] = 1 * GIB / 50;
                if (large_full)
                        f.inv.nodes[0].free_bytes = f.cfg.node_floor_bytes[0];
                a = add_vm(&f, NV_BACKING_ANON, 1);
                add_region(&f, a, 64 * MIB, 1.0, 0);
                is_int(compute(&f, &p), 0, "rule 9 per node: plan computed");
                is_u64(move_bytes_of(&p, a), ALIGN_DOWN(64 * MIB - 1 * GIB / 50, 4 * KIB),
                       "rule 9 per node: the small node fills down to its own floor, not the large "
                       "node's (large node %s)",
                       large_full ? "at its floor" : "free");
                is_int(rp(&p, a, 0)->verdict, NV_VERDICT_MOVE, "rule 9 per node: cut, still MOVE");
                nv_placement_plan_clear(&p);
        }

        /* Into the large node, its own floor holds. */
        fixture_init(&f, 2);
        f.inv.nodes[0] = (nv_node_info){ .total_bytes = 256 * GIB, .free_bytes = 256 * GIB / 50 + 4 * MIB };
        f.inv.nodes[1] = (nv_node_info){ .total_bytes = 1 * GIB, .free_bytes = 512 * MIB };
        f.cfg.node_floor_bytes[0] = 256 * GIB / 50;
        f.cfg.node_floor_bytes[1] = 1 * GIB / 50;
        a = add_vm(&f, NV_BACKING_ANON, 0);
        add_region(&f, a, 8 * MIB, 1.0, 1);
        is_int(compute(&f, &p), 0, "rule 9 per node: plan into the large node computed");
        is_u64(move_bytes_of(&p, a), 4 * MIB, "rule 9 per node: the large node keeps its own floor");
        nv_placement_plan_clear(&p);
}

static void test_plan_clear(void) {
        nv_placement_plan p = {};
        fixture f;

        nv_placement_plan_clear(&p);
        ok(p.moves == NULL && p.regions == NULL && p.bytes_by_verdict == NULL && p.nr_vms == 0,
           "clear: a zeroed plan stays zeroed");
        nv_placement_plan_clear(NULL);
        ok(true, "clear: NULL accepted");

        fixture_init(&f, 2);
        is_int(compute(&f, &p), 0, "clear: plan of no VMs computed");
        is_u64(p.nr_moves + p.nr_vms + p.planned_bytes, 0, "clear: no VMs, empty plan");
        nv_placement_plan_clear(&p);

        add_vm(&f, NV_BACKING_ANON, 1);
        add_region(&f, 0, 4 * MIB, 1.0, 0);
        is_int(compute(&f, &p), 0, "clear: plan computed");
        nv_placement_plan_clear(&p);
        ok(p.moves == NULL && p.regions == NULL && p.nr_moves == 0 && p.planned_bytes == 0,
           "clear: a cleared plan is zeroed");
}

static void test_verdict_names(void) {
        bool all = true;

        for (unsigned v = 0; v < _NV_VERDICT_MAX; v++)
                all = all && nv_verdict_to_string(v);
        ok(all, "names: every verdict has a name");
        is_str(nv_verdict_to_string(NV_VERDICT_NODE_FLOOR), "node-floor", "names: NODE_FLOOR");
        ok(nv_verdict_to_string(_NV_VERDICT_MAX) == NULL, "names: out of range is NULL");
}

static bool moves_in_order(const nv_move *x, const nv_move *y) {
        if (x->benefit != y->benefit)
                return x->benefit > y->benefit;
        return x->vm != y->vm ? x->vm < y->vm : x->region < y->region;
}

/* 64 VMs x 1000 regions, two nodes, mixed backings: sanity of a big plan. The time is printed,
 * never asserted. */
static void test_scale(void) {
        enum {
                NR_VMS = 64,
                NR_REGIONS = 1000
        };
        nv_placement_vm *vms = calloc(NR_VMS, sizeof(*vms));
        nv_vm_info *info = calloc(NR_VMS, sizeof(*info));
        nv_ram_range *ranges = calloc(NR_VMS, sizeof(*ranges));
        nv_region *regions = calloc((size_t)NR_VMS * NR_REGIONS, sizeof(*regions));
        nv_placement_config cfg = { .budget_cost = 2 * GIB,
                                    .node_floor_bytes = { [0 ... NV_MAX_NODES - 1] = 1 * GIB },
                                    .hot_threshold = 0.3,
                                    .dominance = 0.7,
                                    .min_residency = 5,
                                    .retarget_epochs = 2 };
        nv_inventory inv = { .nr_nodes = 2 };
        nv_placement_input in = { .inv = &inv, .vms = vms, .nr_vms = NR_VMS, .epoch = 10, .cfg = &cfg };
        nv_placement_plan p = {};
        uint64_t seed = 42, free_after[2];
        const nv_move *prev = NULL;
        struct timespec t0, t1;
        bool aligned = true, sorted = true;

        if (!ok(vms && info && ranges && regions, "scale: allocated"))
                goto out;
        inv.nodes[0].free_bytes = 3 * GIB;
        inv.nodes[1].free_bytes = 2 * GIB;
        for (unsigned i = 0; i < NR_VMS; i++) {
                ranges[i] = (nv_ram_range){ .hva = 0x7f0000000000,
                                            .size = 8 * GIB,
                                            .backing = i % 3 == 0 ? NV_BACKING_THP : NV_BACKING_ANON,
                                            .cell = -1 };
                info[i] = (nv_vm_info){ .id = i + 1, .ranges = &ranges[i], .nr_ranges = 1 };
                info[i].vcpu_time.sec[i % 2] = 1.0;
                vms[i] = (nv_placement_vm){ .info = &info[i],
                                            .regions = &regions[(size_t)i * NR_REGIONS],
                                            .nr_regions = NR_REGIONS,
                                            .enabled = true,
                                            .weight = 1.0 + i % 4 };
                for (unsigned j = 0; j < NR_REGIONS; j++) {
                        nv_region *r = &regions[(size_t)i * NR_REGIONS + j];
                        uint64_t start = ranges[i].hva + (uint64_t)j * 4 * MIB;

                        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                        *r = (nv_region){ .start = start,
                                          .end = start + 4 * MIB,
                                          .heat = (float)((seed >> 40) % 64) / 64 };
                        r->node_bytes[(seed >> 20) % 2] = 4 * MIB;
                        nv_region_init_history(r);
                }
        }

        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (!is_int(nv_placement_plan_compute(&in, &p), 0, "scale: 64 x 1000 regions planned"))
                goto out;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("# 64 x 1000 regions planned in %.3f ms, %zu moves\n",
               (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6, p.nr_moves);

        free_after[0] = inv.nodes[0].free_bytes;
        free_after[1] = inv.nodes[1].free_bytes;
        for (size_t k = 0; k < p.nr_moves; k++) {
                const nv_move *m = &p.moves[k];
                uint64_t page = ranges[m->vm].backing == NV_BACKING_THP ? 2 * MIB : 4 * KIB;

                aligned = aligned && m->bytes % page == 0 && m->bytes > 0 && m->page == page;
                /* Evictions (MAKE_ROOM) come before the move they make room for. */
                if (p.regions[m->vm][m->region].verdict != NV_VERDICT_MAKE_ROOM) {
                        if (prev && !moves_in_order(prev, m))
                                sorted = false;
                        prev = m;
                }
                free_after[m->target] -= m->bytes;
                free_after[1 - m->target] += m->bytes;
        }
        ok(p.nr_moves > 0, "scale: some moves planned");
        ok(aligned, "scale: every move a whole number of the backing's pages");
        ok(sorted, "scale: moves in descending benefit, ties by VM then region index");
        ok(p.planned_cost <= cfg.budget_cost, "scale: within the budget");
        ok(p.planned_bytes <= cfg.budget_cost * NV_MOVE_MAX_BYTES_PER_COST,
           "scale: within the bytes ceiling");
        ok(free_after[0] >= cfg.node_floor_bytes[0] && free_after[1] >= cfg.node_floor_bytes[0],
           "scale: no node below its floor");
out:
        nv_placement_plan_clear(&p);
        free(vms);
        free(info);
        free(ranges);
        free(regions);
}

int main(void) {
        test_dominant_node();
        test_rule1_disabled();
        test_rule2_pinned();
        test_rule3_target();
        test_rule4_cold();
        test_rule4_relative();
        test_hot_heat();
        test_rule5_local();
        test_rule6_hysteresis();
        test_rule7_ranking();
        test_rule7_budget_cap();
        test_rule8_budget();
        test_rule8_leftover();
        test_rule8_cost();
        test_spares();
        test_rank_signs();
        test_rule9_floor();
        test_rule9_floor_per_node();
        test_rule10_plan();
        test_input_unchanged();
        test_plan_clear();
        test_verdict_names();
        test_scale();
        return tap_done();
}
