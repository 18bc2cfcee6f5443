/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nv_sim_page_info(): who touches a page from which node, whether it is hot, where it sits; and
 * that asking changes nothing. */

#include <math.h>
#include <string.h>

#include "common/log.h"
#include "sim/sim.h"
#include "tap.h"

static const char scn[] = "seed 9\n"
                          "node 0 mem 4G cpus 0-3\n"
                          "node 1 mem 4G cpus 4-7\n"
                          "vm v mem 64M vcpus 2 backing anon first-touch 0\n"
                          "  run 0 on 0-3\n"
                          "  run 1 on 4-7\n"
                          "  at 2s run 1 on 0-3\n"
                          "  workload hot 16M skew 0.9 rate 1M private 0.5\n"
                          "vm h mem 64M vcpus 1 backing thp first-touch 1\n"
                          "  run 0 on 0-7\n"
                          "  workload hot 8M skew 0.5 rate 1M\n";

int main(void) {
        nv_sim *sim = NULL;
        nv_host host;
        nv_inventory inv = {};
        nv_sim_page p, q;
        uint64_t base, hbase;

        log_set_max_level(LOG_WARNING);
        if (nv_sim_load_string(scn, "page.scn", &sim) < 0)
                return tap_skip_all("cannot load the scenario");
        nv_sim_host(sim, false, &host);
        if (host.source->refresh(host.ctx, &inv) < 0 || inv.nr_vms != 2)
                return tap_skip_all("cannot refresh the inventory");
        base = inv.vms[0].ranges[0].hva;
        hbase = inv.vms[1].ranges[0].hva;

        /* Shared hot part [0, 8M): both vCPUs, one on each node, at equal rates. */
        ok(nv_sim_page_info(sim, 1, base, &p) == 0, "a page of VM 1 can be asked about");
        is_int(p.node, 0, "it sits where it was first touched");
        ok(p.hot, "the start of the hot set is hot");
        ok(p.rates[0] > 0 && fabs(p.rates[0] - p.rates[1]) < 1e-6 * p.rates[0],
           "shared hot data is touched from both nodes equally (%g, %g)", p.rates[0], p.rates[1]);
        /* Private slices: [8M, 12M) is vCPU 0's (node 0), [12M, 16M) vCPU 1's (node 1). */
        is_int(nv_sim_page_info(sim, 1, base + 9 * MIB, &p), 0,
               "a page of vCPU 0's slice can be asked about");
        ok(p.rates[0] > 0 && p.rates[1] < p.rates[0] / 10,
           "vCPU 0's private slice is touched mostly from node 0 (%g, %g)", p.rates[0], p.rates[1]);
        is_int(nv_sim_page_info(sim, 1, base + 13 * MIB, &p), 0,
               "a page of vCPU 1's slice can be asked about");
        ok(p.rates[1] > 10 * p.rates[0], "vCPU 1's private slice is touched mostly from node 1 (%g, %g)",
           p.rates[0], p.rates[1]);
        is_int(nv_sim_page_info(sim, 1, base + 40 * MIB, &q), 0, "a cold page can be asked about");
        ok(!q.hot && q.rates[0] > 0 && q.rates[0] < p.rates[1] / 10,
           "a cold page is not hot and sees only the background rate (%g)", q.rates[0]);
        ok(nv_sim_page_info(sim, 2, hbase + 3 * MIB, &p) == 0 && p.hot && p.node == 1,
           "an address inside a 2 MiB page answers for that page");
        ok(fabs(p.rates[0] - p.rates[1]) < 1e-6 * p.rates[0],
           "a vCPU spread over both nodes touches from each in its share");

        /* Errors leave *ret untouched. */
        memset(&q, 0x5a, sizeof(q));
        nv_sim_page keep = q;
        is_int(nv_sim_page_info(sim, 7, base, &q), -ESRCH, "an unknown VM is -ESRCH");
        is_int(nv_sim_page_info(sim, 1, base + 64 * MIB, &q), -EINVAL, "an address past the RAM is -EINVAL");
        is_int(nv_sim_page_info(sim, 1, base - 4096, &q), -EINVAL, "an address before the RAM is -EINVAL");
        ok(memcmp(&q, &keep, sizeof(q)) == 0, "failures leave the result untouched");

        /* The rates follow the vCPUs' current placement and moves. */
        host.advance(host.ctx, 2 * USEC_PER_SEC);
        is_int(nv_sim_page_info(sim, 1, base + 13 * MIB, &p), 0, "asked again after 2 s");
        ok(p.rates[0] > 10 * p.rates[1], "after vCPU 1 moves to node 0 its slice is touched from node 0");
        int st;
        uint64_t a = base + 13 * MIB;
        int to = 1;
        ok(host.mover->move_pages(host.mover_ctx, &inv.vms[0], 1, &a, &to, &st) == 0 && st == 1,
           "a page moves to node 1");
        ok(nv_sim_page_info(sim, 1, a, &p) == 0 && p.node == 1, "the page reports its new node");

        /* Asking changes nothing: the same scenario without the questions sees the same truth. */
        nv_truth t1, t2;
        nv_sim *other = NULL;
        nv_host oh;
        nv_inventory oinv = {};
        ok(nv_sim_load_string(scn, "page.scn", &other) == 0, "a second instance loads");
        nv_sim_host(other, false, &oh);
        (void)oh.source->refresh(oh.ctx, &oinv);
        oh.advance(oh.ctx, 2 * USEC_PER_SEC);
        (void)oh.mover->move_pages(oh.mover_ctx, &oinv.vms[0], 1, &a, &to, &st);
        nv_inventory_clear(&oinv);
        nv_inventory_clear(&inv);
        (void)host.source->refresh(host.ctx, &inv);
        (void)oh.source->refresh(oh.ctx, &oinv);
        ok(nv_sim_truth(sim, 1, &t1) == 0 && nv_sim_truth(other, 1, &t2) == 0 &&
                   t1.hot_local_bytes == t2.hot_local_bytes && t1.remote_fraction == t2.remote_fraction,
           "asking about pages does not change the simulation");
        nv_inventory_clear(&oinv);
        nv_sim_free(other);
        nv_inventory_clear(&inv);
        nv_sim_free(sim);
        return tap_done();
}
