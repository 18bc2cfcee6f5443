/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated host's model: accessed bits behind a translation cache, determinism, nesting,
 * moves and capacity, schedules and phases, ground truth, and the costs it charges. */

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sim/costs.h"
#include "sim/sim.h"
#include "tap.h"

#define MS USEC_PER_MSEC

typedef struct world {
        nv_sim *sim;
        nv_host host;
        nv_inventory inv;
} world;

static bool world_load(world *w, const char *text) {
        *w = (world){};
        if (nv_sim_load_string(text, "test.scn", &w->sim) < 0)
                return false;
        nv_sim_host(w->sim, true, &w->host);
        return w->host.source->refresh(w->host.ctx, &w->inv) >= 0;
}

static void world_done(world *w) {
        nv_inventory_clear(&w->inv);
        nv_host_destroy(&w->host);
}

static const nv_vm_info *vm0(const world *w) {
        return &w->inv.vms[0];
}

static int probe(world *w, uint64_t offset, unsigned shift, unsigned flags) {
        uint64_t addr = vm0(w)->ranges[0].hva + offset;
        uint8_t hit = 0xff;
        int r = w->host.access->harvest(w->host.access_ctx, vm0(w), &addr, 1, shift, flags, &hit);
        return r < 0 ? r : hit;
}

static const char *const two_nodes = "node 0 mem 4G cpus 0-3 local 100ns remote 200ns\n"
                                     "node 1 mem 4G cpus 4-7 local 100ns remote 200ns\n";

static void test_determinism(void) {
        char text[1024];
        uint8_t a[512], b[512], c[512];
        uint64_t addrs[512];
        world w;

        for (uint64_t seed = 42; seed <= 43; seed++) {
                snprintf(text, sizeof(text),
                         "seed %" PRIu64 "\n%svm v mem 64M vcpus 2\n workload hot 32M skew 0.8 rate 200K\n",
                         seed, two_nodes);
                ok(world_load(&w, text), "load (seed %" PRIu64 ")", seed);
                for (size_t i = 0; i < 512; i++)
                        addrs[i] = vm0(&w)->ranges[0].hva + i * 32 * NV_PAGE_SIZE;
                w.host.advance(w.host.ctx, 30 * MS);
                /* Ask in reverse order: each unit's answer must not depend on the others'. */
                uint64_t rev[512];
                for (size_t i = 0; i < 512; i++)
                        rev[i] = addrs[511 - i];
                uint8_t *out = seed == 42 ? a : c;
                w.host.access->harvest(w.host.access_ctx, vm0(&w), rev, 512, NV_PAGE_SHIFT, NV_HARVEST_FLUSH,
                                       b);
                for (size_t i = 0; i < 512; i++)
                        out[i] = b[511 - i];
                world_done(&w);
        }
        snprintf(text, sizeof(text),
                 "seed 42\n%svm v mem 64M vcpus 2\n workload hot 32M skew 0.8 rate 200K\n", two_nodes);
        ok(world_load(&w, text), "load seed 42 again");
        w.host.advance(w.host.ctx, 10 * MS);
        w.host.advance(w.host.ctx, 20 * MS); /* the same 30 ms, in two steps */
        w.host.access->harvest(w.host.access_ctx, vm0(&w), addrs, 512, NV_PAGE_SHIFT, NV_HARVEST_FLUSH, b);
        ok(memcmp(a, b, sizeof(a)) == 0, "same seed: same harvest, whatever the call order and steps");
        ok(memcmp(a, c, sizeof(a)) != 0, "another seed: a different harvest");
        size_t hits = 0;
        for (size_t i = 0; i < 512; i++)
                hits += a[i];
        ok(hits > 50 && hits < 462, "some units were accessed and some not (%zu of 512)", hits);
        world_done(&w);
}

static void test_accessed_bits(void) {
        char text[1024];
        world w;

        snprintf(text, sizeof(text), "%svm v mem 64M vcpus 1\n workload hot 1M skew 1.0 rate 1M\n",
                 two_nodes);
        ok(world_load(&w, text), "load");
        w.host.advance(w.host.ctx, 10 * MS);
        is_int(probe(&w, 0, NV_PAGE_SHIFT, 0), 1, "a hot page was accessed: A set");
        is_int(probe(&w, 0, NV_PAGE_SHIFT, 0), 0, "harvest cleared it (no time passed)");
        is_int(probe(&w, 32 * MIB, NV_PAGE_SHIFT, NV_HARVEST_FLUSH), 0,
               "a page outside the hot set with skew 1");
        w.host.advance(w.host.ctx, 10 * USEC_PER_SEC);
        is_int(probe(&w, 32 * MIB, NV_PAGE_SHIFT, 0), 0, "... never accessed, stays clear");

        uint64_t addr = vm0(&w)->ranges[0].hva;
        uint8_t hit;
        is_int(w.host.access->harvest(w.host.access_ctx, vm0(&w), &addr, 1, NV_PAGE_SHIFT, NV_HARVEST_FLUSH,
                                      &hit),
               NV_HARVEST_FLUSH, "harvest returns the flush flag it honoured");
        is_int(w.host.access->harvest(w.host.access_ctx, vm0(&w), &addr, 1, NV_PAGE_SHIFT, 0, &hit), 0,
               "and 0 without it");

        uint64_t bad = addr + 100;
        is_int(w.host.access->harvest(w.host.access_ctx, vm0(&w), &bad, 1, NV_PAGE_SHIFT, 0, &hit), -EINVAL,
               "unaligned address: -EINVAL");
        bad = addr + 64 * MIB;
        is_int(w.host.access->harvest(w.host.access_ctx, vm0(&w), &bad, 1, NV_PAGE_SHIFT, 0, &hit), -EINVAL,
               "address past the VM's RAM: -EINVAL");
        is_int(w.host.access->harvest(w.host.access_ctx, vm0(&w), &addr, 1, NV_HUGE_SHIFT, 0, &hit), -EINVAL,
               "a 2M probe on 4K backing: -EINVAL");
        nv_vm_info ghost = *vm0(&w);
        ghost.id = 999;
        is_int(w.host.access->harvest(w.host.access_ctx, &ghost, &addr, 1, NV_PAGE_SHIFT, 0, &hit), -ESRCH,
               "unknown VM: -ESRCH");
        is_int(w.host.access->attach(w.host.access_ctx, &ghost), -ESRCH, "attach an unknown VM: -ESRCH");

        /* Dirty bits follow writes. */
        uint64_t hot = addr;
        w.host.advance(w.host.ctx, 100 * MS);
        is_int(nv_sim_harvest_dirty(w.sim, vm0(&w)->id, &hot, 1, NV_PAGE_SHIFT, &hit), 0, "dirty harvest");
        is_int(hit, 1, "a hot page with 30%% writes is dirty");
        nv_sim_harvest_dirty(w.sim, vm0(&w)->id, &hot, 1, NV_PAGE_SHIFT, &hit);
        is_int(hit, 0, "and clean right after the harvest");
        world_done(&w);

        snprintf(text, sizeof(text),
                 "%svm v mem 64M vcpus 1 backing thp\n workload hot 4M skew 1.0 rate 1M\n", two_nodes);
        ok(world_load(&w, text), "load a THP VM");
        w.host.advance(w.host.ctx, 10 * MS);
        is_int(probe(&w, 2 * MIB + 12 * KIB, NV_PAGE_SHIFT, 0), 1,
               "a 4K probe inside a 2M unit answers for it");
        is_int(probe(&w, 2 * MIB, NV_HUGE_SHIFT, 0), 0, "... and cleared the whole unit");
        is_int(probe(&w, 4 * KIB, NV_HUGE_SHIFT, 0), -EINVAL, "a 2M probe not 2M-aligned: -EINVAL");
        world_done(&w);
}

static void test_tlb(void) {
        char text[1024];
        world w;
        int hits;

        /* A 100 ms translation lifetime and a page accessed ~1000 times a second. */
        snprintf(text, sizeof(text),
                 "host tlb-lifetime 100ms\n%svm v mem 64M vcpus 1\n workload hot 16K skew 1.0 rate 4000\n",
                 two_nodes);
        ok(world_load(&w, text), "load");
        w.host.advance(w.host.ctx, 10 * MS);
        probe(&w, 0, NV_PAGE_SHIFT, NV_HARVEST_FLUSH);
        w.host.advance(w.host.ctx, 10 * MS);
        is_int(probe(&w, 0, NV_PAGE_SHIFT, 0), 1, "after a flushing clear, the next access sets A");
        hits = 0;
        for (int i = 0; i < 7; i++) {
                w.host.advance(w.host.ctx, 10 * MS);
                hits += probe(&w, 0, NV_PAGE_SHIFT, 0);
        }
        is_int(hits, 0, "cleared without a flush: the cached translation hides accesses (20-90 ms)");
        w.host.advance(w.host.ctx, 20 * MS);
        is_int(probe(&w, 0, NV_PAGE_SHIFT, 0), 1, "once the translation expires (100 ms), A is set again");
        w.host.advance(w.host.ctx, 10 * MS);
        is_int(probe(&w, 0, NV_PAGE_SHIFT, NV_HARVEST_FLUSH), 0,
               "a flushing harvest still reads the A bit the cached translation left clear");
        hits = 0;
        for (int i = 0; i < 8; i++) {
                w.host.advance(w.host.ctx, 10 * MS);
                hits += probe(&w, 0, NV_PAGE_SHIFT, NV_HARVEST_FLUSH);
        }
        is_int(hits, 8, "clearing with a flush: every interval sees its accesses");
        world_done(&w);
}

/* A hot region of an L2 guest, harvested every 50 ms for 10 s on a nested host. */
static int nested_hits(unsigned flags, double *ret_expected) {
        static const char *const text = "host nested yes\n"
                                        "node 0 mem 4G cpus 0-3\n"
                                        "node 1 mem 4G cpus 4-7\n"
                                        "vm l1 mem 256M vcpus 4\n"
                                        " l2 inner mem 128M at-gpa 64M vcpus 2-3\n"
                                        "  workload hot 64M skew 1.0 rate 110K private 0\n"
                                        " end\n";
        uint64_t addrs[50];
        uint8_t hit[50];
        int hits = 0;
        world w;

        if (!world_load(&w, text))
                return -1;
        for (size_t i = 0; i < 50; i++)
                addrs[i] = vm0(&w)->ranges[0].hva + 64 * MIB + i * 256 * KIB;
        for (int round = 0; round < 200; round++) {
                w.host.advance(w.host.ctx, 50 * MS);
                w.host.access->harvest(w.host.access_ctx, vm0(&w), addrs, 50, NV_PAGE_SHIFT, flags, hit);
                for (size_t i = 0; i < 50; i++)
                        hits += hit[i];
        }
        /* Each page: 2 vCPUs x 112640/s spread over 64M = 13.75 accesses/s. */
        *ret_expected = 50 * 200 * -expm1(-2.0 * 112640 * NV_PAGE_SIZE / (64.0 * MIB) * 0.05);
        world_done(&w);
        return hits;
}

static void test_nested(void) {
        double expected;
        int flushed = nested_hits(NV_HARVEST_FLUSH, &expected);
        int unflushed = nested_hits(0, &expected);
        char text[1024];
        world w;

        ok(flushed >= 0 && unflushed >= 0, "nested scenarios load");
        is_near(flushed, expected, expected * 0.05, "with a flush, L2 hits match the true access rate");
        ok(unflushed * 5 < flushed, "without a flush, far fewer hits on a nested host (%d vs %d)", unflushed,
           flushed);

        /* The L2's accesses land on the L1 pages that back its RAM, and nowhere else. */
        snprintf(text, sizeof(text),
                 "%svm l1 mem 256M vcpus 2\n l2 in mem 64M at-gpa 128M vcpus 1\n"
                 "  workload hot 64M skew 1.0 rate 1M\n end\n",
                 two_nodes);
        ok(world_load(&w, text), "load an L2 on a bare-metal host");
        w.host.advance(w.host.ctx, 100 * MS);
        is_int(probe(&w, 128 * MIB, NV_PAGE_SHIFT, 0), 1, "the L1 page at the L2's base was accessed");
        is_int(probe(&w, 0, NV_PAGE_SHIFT, 0), 0, "an L1 page outside the L2's RAM was not");
        world_done(&w);

        is_int(nv_sim_walk_refs(0), 4, "native page walk: 4 references");
        is_int(nv_sim_walk_refs(1), 24, "one level of virtualization: 24");
        is_int(nv_sim_walk_refs(2), 44, "two levels: 44");
        for (int nested = 0; nested <= 1; nested++) {
                nv_sim_costs c;
                snprintf(text, sizeof(text),
                         "host nested %s\n%svm v mem 64M vcpus 1\n workload hot 8M rate 1M\n",
                         nested ? "yes" : "no", two_nodes);
                ok(world_load(&w, text), "load (nested %d)", nested);
                w.host.advance(w.host.ctx, USEC_PER_SEC);
                nv_sim_get_costs(w.sim, &c);
                ok(c.tlb_misses > 0, "TLB misses are charged");
                is_near(c.walk_refs / (double)c.tlb_misses, nested ? 44 : 24, 0.5,
                        "references per walk for a VM on a %s host", nested ? "nested" : "bare-metal");
                world_done(&w);
        }
}

static void test_move(void) {
        char text[1024];
        uint64_t addrs[4];
        int nodes[4], status[4];
        nv_sim_costs c;
        world w;

        snprintf(text, sizeof(text), "%svm v mem 64M vcpus 1 first-touch 0\n workload hot 1M\n", two_nodes);
        ok(world_load(&w, text), "load");
        const nv_mover_ops *m = w.host.mover;
        uint64_t base = vm0(&w)->ranges[0].hva;
        addrs[0] = base;
        addrs[1] = base + 4096;
        addrs[2] = base + 64 * MIB; /* outside */
        addrs[3] = base - 4096;     /* outside */
        is_int(m->move_pages(w.host.mover_ctx, vm0(&w), 4, addrs, NULL, status), 0, "query");
        ok(status[0] == 0 && status[1] == 0, "pages first touched on node 0");
        ok(status[2] == -EFAULT && status[3] == -EFAULT, "addresses outside guest RAM: -EFAULT");
        nodes[0] = nodes[1] = nodes[2] = nodes[3] = 1;
        is_int(m->move_pages(w.host.mover_ctx, vm0(&w), 2, addrs, nodes, status), 0, "move two pages");
        ok(status[0] == 1 && status[1] == 1, "status: the node after the call");
        m->move_pages(w.host.mover_ctx, vm0(&w), 2, addrs, NULL, status);
        ok(status[0] == 1 && status[1] == 1, "a query sees them on node 1");
        nodes[1] = 2;
        status[0] = 77;
        is_int(m->move_pages(w.host.mover_ctx, vm0(&w), 2, addrs, nodes, status), -EINVAL,
               "a bad node fails the whole call");
        is_int(status[0], 77, "... and touches no status");
        nv_vm_info ghost = *vm0(&w);
        ghost.id = 12345;
        is_int(m->move_pages(w.host.mover_ctx, &ghost, 1, addrs, NULL, status), -ESRCH,
               "unknown VM: -ESRCH");
        nv_sim_get_costs(w.sim, &c);
        is_u64(c.moved_4k, 2, "two 4K moves counted");
        is_near(c.move_ns, 2 * NV_SIM_MOVE_4K_NS, 1e-6, "and charged");
        world_done(&w);

        snprintf(text, sizeof(text), "%svm v mem 64M vcpus 1 backing pinned\n workload hot 1M\n", two_nodes);
        ok(world_load(&w, text), "load a pinned VM");
        addrs[0] = vm0(&w)->ranges[0].hva;
        nodes[0] = 1;
        w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 1, addrs, nodes, status);
        is_int(status[0], -EBUSY, "pinned pages: -EBUSY");
        world_done(&w);

        snprintf(text, sizeof(text), "%svm v mem 64M vcpus 1 backing thp first-touch 0\n workload hot 1M\n",
                 two_nodes);
        ok(world_load(&w, text), "load a THP VM");
        addrs[0] = vm0(&w)->ranges[0].hva + 2 * MIB + 8 * KIB;
        addrs[1] = vm0(&w)->ranges[0].hva + 2 * MIB;
        w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 1, addrs, nodes, status);
        w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 2, addrs, NULL, status);
        ok(status[0] == 1 && status[1] == 1, "moving by an address inside a 2M unit moves the whole unit");
        nv_sim_get_costs(w.sim, &c);
        is_u64(c.moved_2m, 1, "one 2M move counted");
        world_done(&w);
}

static void test_capacity(void) {
        static const char *const text = "node 0 mem 64M cpus 0\n"
                                        "node 1 mem 9M cpus 1 min 1M low 2M\n"
                                        "vm v mem 16M vcpus 1 first-touch 0\n";
        size_t n = 16 * MIB / NV_PAGE_SIZE, moved = 0, nomem = 0;
        uint64_t *addrs = calloc(n, sizeof(uint64_t));
        int *nodes = calloc(n, sizeof(int)), *status = calloc(n, sizeof(int));
        world w;

        ok(addrs && nodes && status && world_load(&w, text), "load");
        for (size_t i = 0; i < n; i++) {
                addrs[i] = vm0(&w)->ranges[0].hva + i * NV_PAGE_SIZE;
                nodes[i] = 1;
        }
        is_int(w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), n, addrs, nodes, status), 0, "move all");
        for (size_t i = 0; i < n; i++) {
                moved += status[i] == 1;
                nomem += status[i] == -ENOMEM;
        }
        is_int(moved, 8 * MIB / NV_PAGE_SIZE, "as many pages as node 1 holds above its min watermark moved");
        is_int(nomem, n - moved, "the rest: -ENOMEM");
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        is_u64(w.inv.nodes[1].free_bytes, 1 * MIB,
               "node 1 is at its min watermark: the new pages are taken when the copies start");
        is_u64(w.inv.nodes[0].free_bytes, 48 * MIB, "node 0 keeps the old pages until the copies end");
        w.host.advance(w.host.ctx, USEC_PER_SEC);
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        is_u64(w.inv.nodes[0].free_bytes, 56 * MIB, "node 0 got the moved pages' room back");
        world_done(&w);
        free(addrs);
        free(nodes);
        free(status);
}

static void test_rehome_and_phase(void) {
        static const char *const text = "node 0 mem 4G cpus 0-3\n"
                                        "node 1 mem 4G cpus 4-7\n"
                                        "vm v mem 1G vcpus 4 first-touch 0\n"
                                        " run 0-3 on 0-3\n"
                                        " run 3 on 0-7\n"
                                        " at 3s run 0-3 on 4-7\n"
                                        " workload hot 256M skew 1.0 rate 4M\n"
                                        " at 2s workload offset 512M\n";
        world w;
        int before_old = 0, before_new = 0, after_old = 0, after_new = 0;

        ok(world_load(&w, text), "load");
        nv_inventory_clear(&w.inv);
        w.host.advance(w.host.ctx, USEC_PER_SEC);
        w.host.source->refresh(w.host.ctx, &w.inv);
        is_near(w.inv.vms[0].vcpu_time.sec[0], 3.5, 1e-9, "1 s: 3 vCPUs on node 0, one split evenly");
        is_near(w.inv.vms[0].vcpu_time.sec[1], 0.5, 1e-9, "... and half a vCPU second on node 1");
        for (int i = 0; i < 10; i++) {
                w.host.advance(w.host.ctx, 50 * MS);
                before_old += probe(&w, 100 * MIB, NV_PAGE_SHIFT, NV_HARVEST_FLUSH) > 0;
                before_new += probe(&w, 600 * MIB, NV_PAGE_SHIFT, NV_HARVEST_FLUSH) > 0;
        }
        w.host.advance(w.host.ctx, 500 * MS); /* t = 2 s: the hot set moves */
        probe(&w, 100 * MIB, NV_PAGE_SHIFT, NV_HARVEST_FLUSH);
        probe(&w, 600 * MIB, NV_PAGE_SHIFT, NV_HARVEST_FLUSH);
        for (int i = 0; i < 10; i++) {
                w.host.advance(w.host.ctx, 50 * MS);
                after_old += probe(&w, 100 * MIB, NV_PAGE_SHIFT, NV_HARVEST_FLUSH) > 0;
                after_new += probe(&w, 600 * MIB, NV_PAGE_SHIFT, NV_HARVEST_FLUSH) > 0;
        }
        ok(before_old >= 8 && before_new == 0, "before 2 s the hot set is at 0-256M (%d, %d)", before_old,
           before_new);
        ok(after_old == 0 && after_new >= 8, "after 2 s it is at 512-768M (%d, %d)", after_old, after_new);
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        is_near(w.inv.vms[0].vcpu_time.sec[1], 1.5 * 0.5, 1e-9, "until 3 s nothing else runs on node 1");
        w.host.advance(w.host.ctx, USEC_PER_SEC); /* t = 3.5 s */
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        is_near(w.inv.vms[0].vcpu_time.sec[0], 0.5 * 3.5, 1e-9, "re-home at 3 s: node 0 time stops then");
        is_near(w.inv.vms[0].vcpu_time.sec[1], 0.5 * 0.5 + 0.5 * 4, 1e-9, "and node 1 takes all vCPUs");
        world_done(&w);
}

static void test_truth(void) {
        /* One vCPU on node 0; 8M of RAM first touched on node 1; all accesses to the first 4M. */
        static const char *const text = "node 0 mem 1G cpus 0 local 100ns remote 200ns\n"
                                        "node 1 mem 1G cpus 1 local 100ns remote 200ns\n"
                                        "vm v mem 8M vcpus 1 first-touch 1\n"
                                        " run 0 on 0\n"
                                        " workload hot 4M skew 1.0 rate 1M private 0\n";
        uint64_t addrs[512];
        int nodes[512], status[512];
        nv_truth t;
        world w;

        ok(world_load(&w, text), "load");
        w.host.advance(w.host.ctx, USEC_PER_SEC);
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        is_int(w.host.truth(w.host.ctx, vm0(&w)->id, &t), 0, "truth");
        is_u64(t.hot_bytes, 4 * MIB, "hot_bytes: the 4M hot set");
        is_u64(t.hot_local_bytes, 0, "none of it local to the vCPU's node");
        is_near(t.remote_fraction, 1.0, 1e-9, "every access remote");
        is_near(t.mean_latency_ns, 200, 1e-6, "at the remote latency");

        for (size_t i = 0; i < 512; i++) {
                addrs[i] = vm0(&w)->ranges[0].hva + i * NV_PAGE_SIZE;
                nodes[i] = 0;
        }
        w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 512, addrs, nodes, status);
        w.host.advance(w.host.ctx, 10 * MS); /* the copies end (512 x 14 us) */
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        w.host.advance(w.host.ctx, USEC_PER_SEC);
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        w.host.truth(w.host.ctx, vm0(&w)->id, &t);
        is_u64(t.hot_local_bytes, 2 * MIB, "half the hot set moved to node 0 is local");
        is_near(t.remote_fraction, 0.5, 1e-9, "half the accesses remote");
        is_near(t.mean_latency_ns, 150, 1e-6, "mean latency between local and remote");
        is_u64(t.bytes_moved, 2 * MIB, "bytes moved");
        is_u64(t.cold_bytes_moved, 0, "no cold bytes moved");
        addrs[0] = vm0(&w)->ranges[0].hva + 6 * MIB;
        w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 1, addrs, nodes, status);
        w.host.truth(w.host.ctx, vm0(&w)->id, &t);
        is_u64(t.cold_bytes_moved, NV_PAGE_SIZE, "moving a cold page counts as cold");
        is_int(w.host.truth(w.host.ctx, 99, &t), -ENOENT, "truth for an unknown VM: -ENOENT");

        nv_sim_costs c;
        nv_sim_get_costs(w.sim, &c);
        is_near((double)c.accesses, 2.01 * 1048576, 2, "accesses: rate x time");
        ok(c.remote_accesses > 1.505 * 1048576 && c.remote_accesses < 1.51 * 1048576,
           "remote accesses: all of the first second, half of the last, between while copying (%" PRIu64 ")",
           c.remote_accesses);
        world_done(&w);
}

/* Moves take time: copies run one after another, the page serves from its old node until its copy
 * ends, accesses in the unmapped window stall, and the shootdowns are charged per batch. */
static void test_copy_time(void) {
        static const char *const text = "node 0 mem 1G cpus 0 local 100ns remote 200ns\n"
                                        "node 1 mem 1G cpus 1 local 100ns remote 200ns\n"
                                        "node 2 mem 1G cpus 2 local 100ns remote 400ns\n"
                                        "distance 0 2 40\n"
                                        "distance 1 2 40\n"
                                        "vm v mem 8M vcpus 1 first-touch 1\n"
                                        " run 0 on 0\n"
                                        " workload hot 8M skew 1.0 rate 1M\n";
        size_t n = 1024;
        uint64_t addrs[1024];
        int nodes[1024], status[1024];
        usec_t done = 0, start;
        nv_sim_costs c;
        nv_truth t;
        world w;

        ok(world_load(&w, text), "load");
        w.host.advance(w.host.ctx, USEC_PER_SEC);
        start = USEC_PER_SEC; /* the sim's clock after that advance */
        for (size_t i = 0; i < n; i++) {
                addrs[i] = vm0(&w)->ranges[0].hva + i * NV_PAGE_SIZE;
                nodes[i] = 0;
        }
        ok(!nv_sim_copying(w.sim, NULL), "no copy under way before a move");
        is_int(w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), n, addrs, nodes, status), 0, "move 4M");
        ok(status[0] == 0 && status[n - 1] == 0, "status: the node the pages go to");
        ok(nv_sim_copying(w.sim, &done), "the copies are under way");
        is_near((double)(done - start), (2 * NV_SIM_SHOOTDOWN_NS + n * NV_SIM_MOVE_4K_NS) / 1e3, 2,
                "they end after two batches' shootdowns and 1024 copies, one after another");
        nv_sim_get_costs(w.sim, &c);
        is_u64(c.shootdowns, 2, "one shootdown per batch of 512 pages");
        is_near(c.move_ns + c.shootdown_ns, n * NV_SIM_MOVE_4K_NS + 2 * NV_SIM_SHOOTDOWN_NS, 1e-3,
                "host CPU spent moving: the copies and the shootdowns");
        ok(c.stall_ns > 0 && c.stall_ns <= (double)(done - start) * 1e3,
           "hot pages unmapped for the copy stall the vCPU, at most for the batches' length (%.0f ns)",
           c.stall_ns);
        nodes[n - 1] = 2;
        w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 1, addrs + n - 1, nodes + n - 1, status);
        is_int(status[0], -EBUSY, "a page still being copied cannot be moved again: -EBUSY");
        w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 1, addrs + n - 1, NULL, status);
        is_int(status[0], 0, "a query answers where it goes");

        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        w.host.truth(w.host.ctx, vm0(&w)->id, &t);
        is_u64(t.hot_local_bytes, 0, "until the copies run, the pages serve from the old node");
        w.host.advance(w.host.ctx, (done - start) / 2);
        w.host.truth(w.host.ctx, vm0(&w)->id, &t);
        ok(t.hot_local_bytes > 0 && t.hot_local_bytes < 8 * MIB,
           "half-way, part of them are local (%" PRIu64 " bytes)", t.hot_local_bytes);
        w.host.advance(w.host.ctx, done - (start + (done - start) / 2) + 2 * MS);
        ok(!nv_sim_copying(w.sim, NULL), "all copies ended");
        w.host.truth(w.host.ctx, vm0(&w)->id, &t);
        is_u64(t.hot_local_bytes, 4 * MIB, "and the moved half of the hot set is local");
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        w.host.truth(w.host.ctx, vm0(&w)->id, &t);
        ok(t.remote_fraction > 0.5 && t.remote_fraction < 1.0,
           "the epoch of the copies: remote until each copy ended (%.3f)", t.remote_fraction);

        /* Twice the distance, twice the copy time. */
        nv_sim_get_costs(w.sim, &c);
        double before = c.move_ns;
        nodes[0] = 2;
        w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 1, addrs, nodes, status);
        nv_sim_get_costs(w.sim, &c);
        is_near(c.move_ns - before, 2 * NV_SIM_MOVE_4K_NS, 1e-3,
                "a copy to a node at distance 40 takes twice as long");
        world_done(&w);
}

/* migrate_pages() cuts its batches by base pages: a 2 MiB page is a batch of its own, with its own
 * shootdown, and unmaps only itself while it is copied. */
static void test_copy_huge_batches(void) {
        static const char *const text = "node 0 mem 1G cpus 0\n"
                                        "node 1 mem 1G cpus 1\n"
                                        "vm v mem 8M vcpus 1 backing thp first-touch 1\n"
                                        " run 0 on 0\n"
                                        " workload hot 8M skew 1.0 rate 1K\n";
        uint64_t addrs[4];
        int nodes[4], status[4];
        usec_t done = 0;
        nv_sim_costs c;
        world w;

        ok(world_load(&w, text), "huge batches: load");
        w.host.advance(w.host.ctx, USEC_PER_SEC);
        for (size_t i = 0; i < 4; i++) {
                addrs[i] = vm0(&w)->ranges[0].hva + i * NV_HUGE_SIZE;
                nodes[i] = 0;
        }
        is_int(w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 4, addrs, nodes, status), 0,
               "huge batches: move four huge pages");
        ok(nv_sim_copying(w.sim, &done), "huge batches: the copies are under way");
        nv_sim_get_costs(w.sim, &c);
        is_u64(c.shootdowns, 4, "huge batches: one shootdown per huge page");
        /* 1024 accesses a second over the four pages, each waiting half of its page's own copy
         * (in one batch of four, the later pages would wait for the earlier copies too). */
        is_near(c.stall_ns, 1024 * NV_SIM_MOVE_2M_NS * 1e-9 * NV_SIM_MOVE_2M_NS / 2, 1000,
                "huge batches: each page stalls its accesses for its own copy only (%.0f ns)", c.stall_ns);
        world_done(&w);
}

/* Watermarks as mm/page_alloc.c computes them, first touch that spills at the low watermark, and
 * memory that is not the VMs' growing over time. */
static void test_watermarks(void) {
        nv_sim_node_memory nm;
        world w;

        ok(world_load(&w, "node 0 mem 16G cpus 0\nnode 1 mem 16G cpus 1\n"), "load two 16G nodes");
        /* min_free_kbytes = int_sqrt(32 GiB in KiB * 16) = 23170 KiB, half of it per node; low adds
         * max(min / 4, 10 / 10000 of the node). */
        is_int(nv_sim_get_node_memory(w.sim, 0, &nm), 0, "node 0's memory");
        is_u64(nm.wmark_min, UINT64_C(23170) * 1024 / 2, "min: its share of min_free_kbytes");
        is_u64(nm.wmark_low, UINT64_C(23170) * 1024 / 2 + 16 * GIB / 10000 * 10,
               "low: min + a thousandth of the node");
        is_u64(nm.wmark_high, UINT64_C(23170) * 1024 / 2 + 2 * (16 * GIB / 10000 * 10),
               "high: as far again above low");
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        is_u64(w.inv.nodes[0].high_wmark_bytes, nm.wmark_high, "the inventory reports the high watermark");
        is_int(nv_sim_get_node_memory(w.sim, 2, &nm), -EINVAL, "no node 2: -EINVAL");
        world_done(&w);

        ok(world_load(&w, "node 0 mem 64M cpus 0 high 10M\nnode 1 mem 64M cpus 1 min 2M high 3M\n"),
           "load nodes with high watermarks given");
        nv_sim_get_node_memory(w.sim, 0, &nm);
        ok(nm.wmark_min <= nm.wmark_low && nm.wmark_low <= 10 * MIB && nm.wmark_high == 10 * MIB,
           "a given high: min and low computed below it");
        nv_sim_get_node_memory(w.sim, 1, &nm);
        ok(nm.wmark_min == 2 * MIB && nm.wmark_low > 2 * MIB && nm.wmark_low <= 3 * MIB,
           "min and high given: low computed between them");
        world_done(&w);

        ok(world_load(&w, "node 0 mem 4T cpus 0\nnode 1 mem 1T cpus 1\n"), "load a 5T host");
        nv_sim_get_node_memory(w.sim, 1, &nm);
        is_u64(nm.wmark_min, 256 * MIB / 5, "min_free_kbytes is capped at 256 MiB, shared by size");
        world_done(&w);

        ok(world_load(&w, "node 0 mem 64M cpus 0 min 4M low 16M\n"
                          "node 1 mem 64M cpus 1 min 4M low 8M\n"
                          "vm v mem 56M vcpus 1 first-touch 0\n"
                          "at 2s grow 1 40M\n"
                          "at 3s grow 1 64M over 4s\n"),
           "load a VM larger than node 0 above its low watermark");
        nv_sim_get_node_memory(w.sim, 0, &nm);
        is_u64(nm.free, 16 * MIB, "first touch fills node 0 down to its low watermark");
        nv_sim_get_node_memory(w.sim, 1, &nm);
        is_u64(nm.free, 56 * MIB, "and spills the rest to node 1");
        w.host.advance(w.host.ctx, 2 * USEC_PER_SEC);
        nv_sim_get_node_memory(w.sim, 1, &nm);
        is_u64(nm.other, 40 * MIB, "at 2 s, 40M of page cache on node 1");
        is_u64(nm.free, 16 * MIB, "node 1 free goes down with it");
        w.host.advance(w.host.ctx, 2 * USEC_PER_SEC);
        nv_sim_get_node_memory(w.sim, 1, &nm);
        ok(nm.other > 40 * MIB && nm.other < 104 * MIB, "growth over 4 s is under way at 4 s (%" PRIu64 ")",
           nm.other);
        w.host.advance(w.host.ctx, 4 * USEC_PER_SEC);
        nv_sim_get_node_memory(w.sim, 1, &nm);
        is_u64(nm.free, 4 * MIB, "node 1 ends at its min watermark");
        nv_sim_get_node_memory(w.sim, 0, &nm);
        is_u64(nm.free, 4 * MIB, "node 0 took what node 1 could not, down to its min");
        nv_sim_get_node_memory(w.sim, 1, &nm);
        is_u64(nm.other_dropped, 64 * MIB - 24 * MIB, "what found no room is counted, not placed");
        uint64_t a = vm0(&w)->ranges[0].hva;
        int to = 1, st = 0;
        w.host.mover->move_pages(w.host.mover_ctx, vm0(&w), 1, &a, &to, &st);
        is_int(st, -ENOMEM, "a move into a node at its min watermark: -ENOMEM");
        nv_sim_costs c;
        nv_sim_get_costs(w.sim, &c);
        is_u64(c.enomem, 1, "and counted");
        world_done(&w);
}

/* Several hot ranges per workload, and sparse hot pages. */
static void test_hot_shapes(void) {
        nv_sim_page pg;
        nv_truth t;
        world w;
        uint64_t base;
        unsigned hot_pages = 0;

        ok(world_load(&w, "node 0 mem 1G cpus 0\nnode 1 mem 1G cpus 1\n"
                          "vm v mem 16M vcpus 1\n run 0 on 0\n workload hot 1M@0,2M@8M skew 1.0 rate 3M\n"),
           "load a workload with two hot ranges");
        base = vm0(&w)->ranges[0].hva;
        w.host.advance(w.host.ctx, USEC_PER_SEC);
        nv_inventory_clear(&w.inv);
        w.host.source->refresh(w.host.ctx, &w.inv);
        is_int(w.host.truth(w.host.ctx, vm0(&w)->id, &t), 0, "truth");
        is_u64(t.hot_bytes, 3 * MIB, "hot bytes: both ranges");
        ok(nv_sim_page_info(w.sim, 1, base, &pg) == 0 && pg.hot, "the first range is hot");
        double r0 = pg.rates[0];
        ok(nv_sim_page_info(w.sim, 1, base + 9 * MIB, &pg) == 0 && pg.hot, "the second range is hot");
        is_near(pg.rates[0], r0, 1e-6 * r0, "at the same density: accesses spread over the hot bytes");
        is_near(r0, 3.0 * 1048576 / 768, 1e-6 * r0, "3M accesses/s over 768 hot pages");
        ok(nv_sim_page_info(w.sim, 1, base + 4 * MIB, &pg) == 0 && !pg.hot && pg.rates[0] == 0,
           "between the ranges nothing is touched (skew 1)");
        world_done(&w);

        ok(world_load(&w, "node 0 mem 1G cpus 0\n"
                          "vm v mem 64M vcpus 1\n workload hot 32M@16M sparse 64 skew 0.5 rate 1M\n"),
           "load a workload with 64 sparse hot pages");
        base = vm0(&w)->ranges[0].hva;
        for (uint64_t off = 0; off < 64 * MIB; off += NV_PAGE_SIZE) {
                nv_sim_page_info(w.sim, 1, base + off, &pg);
                if (pg.hot) {
                        hot_pages++;
                        ok(off >= 16 * MIB && off < 48 * MIB,
                           "sparse page at %" PRIu64 " KiB lies in the range", off / KIB);
                }
        }
        is_int(hot_pages, 64, "exactly 64 hot 4 KiB pages");
        w.host.truth(w.host.ctx, vm0(&w)->id, &t);
        is_u64(t.hot_bytes, 64 * NV_PAGE_SIZE, "hot bytes: the sparse pages");
        world_done(&w);
}

int main(void) {
        log_set_max_level(LOG_WARNING);
        test_determinism();
        test_accessed_bits();
        test_tlb();
        test_nested();
        test_move();
        test_copy_time();
        test_copy_huge_batches();
        test_watermarks();
        test_hot_shapes();
        test_capacity();
        test_rehome_and_phase();
        test_truth();
        return tap_done();
}
