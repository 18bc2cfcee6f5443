/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attribution sampler on the simulated host: each vCPU's private data gets its vCPU's node as
 * owner, a region holding two vCPUs' data is cut where one's ends (down to a single 2 MiB block of
 * a VM backed by huge pages), memory everyone touches is not owned by one node, the zaps keep to
 * the budget, bad configurations are refused. */

#include "common/log.h"
#include "sampler/attribution.h"
#include "sim/sim.h"
#include "tap.h"

/* Two 60 MiB private slices, [0, 60M) vCPU 0's on node 0 and [60M, 120M) vCPU 1's on node 1, so
 * the region [0, 64M) holds both; the rest is touched by both vCPUs alike. */
static const char scn[] = "seed 11\n"
                          "node 0 mem 4G cpus 0-3\n"
                          "node 1 mem 4G cpus 4-7\n"
                          "vm v mem 256M vcpus 2 backing anon first-touch 0\n"
                          "  run 0 on 0-3\n"
                          "  run 1 on 4-7\n"
                          "  workload hot 120M skew 0.9 rate 2M private 1\n";

static const nv_region *region_at(nv_heatmap *h, uint64_t hva) {
        size_t n;
        const nv_region *r = nv_heatmap_regions(h, &n);

        for (size_t i = 0; i < n; i++)
                if (r[i].start <= hva && hva < r[i].end)
                        return &r[i];
        return NULL;
}

/* Huge pages: vCPU 0's data [0, 10M) and vCPU 1's [10M, 20M) of a VM backed by THP, whose 2 MiB
 * blocks fault at most once each an interval. The region [6M, 12M), two blocks of vCPU 0's and one
 * of vCPU 1's, holds too few votes for a z test to cut it: the sampler must still cut the last
 * block off, though its votes stay below two, and name node 1 its owner intervals in a row,
 * though it never faults more than once an interval. */
static const char scn_huge[] = "seed 5\n"
                               "node 0 mem 1G cpus 0-1\n"
                               "node 1 mem 1G cpus 2-3\n"
                               "vm h mem 64M vcpus 2 backing thp first-touch 0\n"
                               "  run 0 on 0-1\n"
                               "  run 1 on 2-3\n"
                               "  workload hot 20M skew 0.99 rate 2M private 1\n";

static void huge_pages(void) {
        _cleanup_(nv_sim_freep) nv_sim *sim = NULL;
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        _cleanup_(nv_attribution_freep) nv_attribution *a = NULL;
        /* Two intervals an epoch, as the daemon runs them. */
        nv_attribution_config cfg = { .faults_per_sec = 1000,
                                      .vote_alpha = 0.5,
                                      .interval = USEC_PER_SEC / 2 };
        nv_heatmap_config hc;
        nv_inventory inv = {};
        const nv_vm_info *vm;
        const nv_region *r;
        nv_host host;
        uint64_t base, cuts[2];
        int ret = 0;

        if (nv_sim_load_string(scn_huge, "huge.scn", &sim) < 0) {
                ok(false, "huge pages: the scenario loads");
                return;
        }
        nv_sim_host(sim, false, &host);
        if (!ok(host.source->refresh(host.ctx, &inv) >= 0 && inv.nr_vms == 1 &&
                        nv_backing_page_shift(inv.vms[0].ranges[0].backing) == NV_HUGE_SHIFT,
                "huge pages: a VM backed by 2 MiB pages")) {
                nv_inventory_clear(&inv);
                return;
        }
        vm = &inv.vms[0];
        base = vm->ranges[0].hva;
        cuts[0] = base + 6 * MIB;
        cuts[1] = base + 12 * MIB;
        nv_heatmap_config_defaults(&hc);
        hc.min_regions = 2;
        if (!ok(nv_heatmap_new(vm, &hc, 3, &h) == 0 && nv_heatmap_cut_at(h, cuts, 2) == 0 &&
                        nv_attribution_new(vm, 2, 5, &a) == 0,
                "huge pages: a heat map with the region [6M, 12M), and a sampler")) {
                nv_inventory_clear(&inv);
                return;
        }
        for (unsigned interval = 0; interval < 16 && ret >= 0; interval++) {
                ret = nv_attribution_zap(a, host.attribution, host.attribution_ctx, vm, h, &cfg);
                nv_sim_advance(sim, cfg.interval);
                if (ret >= 0)
                        ret = nv_attribution_collect(a, host.attribution, host.attribution_ctx, vm, h, &cfg,
                                                     interval % 2 == 1);
        }
        is_int(ret, 0, "huge pages: eight epochs of zaps and drains");
        r = region_at(h, base + 11 * MIB);
        ok(r && r->start == base + 10 * MIB && r->end == base + 12 * MIB,
           "huge pages: vCPU 1's lone block at the region's end is cut off ([%" PRIu64 ", %" PRIu64 ") MiB)",
           r ? (r->start - base) / MIB : 0, r ? (r->end - base) / MIB : 0);
        ok(r && r->vote_node == 1 && r->vote_streak >= 2 && nv_votes_owner(r->votes, 2, 0) == 1,
           "huge pages: its faults name node 1, intervals in a row (node %d, %u in a row)",
           r ? r->vote_node : -9, r ? r->vote_streak : 0);
        r = region_at(h, base + 7 * MIB);
        ok(r && r->start == base + 6 * MIB && r->end == base + 10 * MIB && r->vote_node == 0 &&
                   r->vote_streak >= 2,
           "huge pages: vCPU 0's two blocks before it, node 0");
        nv_inventory_clear(&inv);
}

int main(void) {
        _cleanup_(nv_sim_freep) nv_sim *sim = NULL;
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        _cleanup_(nv_attribution_freep) nv_attribution *a = NULL;
        nv_attribution_config cfg = { .faults_per_sec = 1000, .vote_alpha = 0.5, .interval = USEC_PER_SEC };
        nv_heatmap_config hc;
        nv_attribution_stats st;
        nv_inventory inv = {};
        const nv_vm_info *vm;
        const nv_region *r;
        uint64_t base, priv[NV_MAX_NODES], shared;
        nv_host host;
        int zapped = 0, ret;

        log_set_max_level(LOG_WARNING);
        if (nv_sim_load_string(scn, "attribution.scn", &sim) < 0)
                return tap_skip_all("cannot load the scenario");
        nv_sim_host(sim, false, &host);
        if (host.source->refresh(host.ctx, &inv) < 0 || inv.nr_vms != 1)
                return tap_skip_all("cannot refresh the inventory");
        vm = &inv.vms[0];
        base = vm->ranges[0].hva;
        nv_heatmap_config_defaults(&hc);
        hc.min_regions = 4;
        if (nv_heatmap_new(vm, &hc, 3, &h) < 0)
                return tap_skip_all("cannot make a heat map");

        /* The heat map's cuts on request. */
        {
                _cleanup_(nv_heatmap_freep) nv_heatmap *c = NULL;
                uint64_t at[] = { base + 10 * MIB, base + 20 * MIB },
                         back[] = { base + 20 * MIB, base + 10 * MIB };

                ok(nv_heatmap_new(vm, &hc, 3, &c) == 0, "a second heat map");
                is_int(nv_heatmap_cut_at(c, back, 2), -EINVAL, "cuts out of order are refused");
                ok(region_at(c, base + 15 * MIB)->start == base, "... and cut nothing");
                is_int(nv_heatmap_cut_at(c, at, 2), 0, "cuts in order are made");
                r = region_at(c, base + 15 * MIB);
                ok(r->start == base + 10 * MIB && r->end == base + 20 * MIB && r->vote_node == -1,
                   "a region now runs from one cut to the next");
        }

        is_int(nv_attribution_new(vm, 0, 1, &a), -EINVAL, "no nodes is refused");
        is_int(nv_attribution_new(vm, NV_MAX_NODES + 1, 1, &a), -EINVAL, "too many nodes are refused");
        is_int(nv_attribution_new(vm, 2, 1, &a), 0, "a sampler for two nodes");
        nv_attribution_config bad = cfg;
        bad.faults_per_sec = 0;
        is_int(nv_attribution_zap(a, host.attribution, host.attribution_ctx, vm, h, &bad), -EINVAL,
               "a zero budget is refused");
        bad = cfg;
        bad.vote_alpha = 1.5;
        is_int(nv_attribution_collect(a, host.attribution, host.attribution_ctx, vm, h, &bad, true), -EINVAL,
               "a vote weight above 1 is refused");
        nv_attribution_get_stats(a, &st);
        ok(st.zapped == 0 && st.faults == 0, "refused calls did nothing");

        for (unsigned epoch = 0; epoch < 5; epoch++) {
                ret = nv_attribution_zap(a, host.attribution, host.attribution_ctx, vm, h, &cfg);
                if (ret < 0)
                        break;
                zapped += ret;
                for (unsigned round = 0; round < 20; round++) {
                        nv_sim_advance(sim, 50 * USEC_PER_MSEC);
                        (void)nv_heatmap_sample(h, host.access, host.access_ctx, vm);
                }
                (void)nv_heatmap_end_epoch(h, host.mover, host.mover_ctx, vm);
                ret = nv_attribution_collect(a, host.attribution, host.attribution_ctx, vm, h, &cfg, true);
                if (ret < 0)
                        break;
        }
        is_int(ret, 0, "five epochs of zaps and drains");
        nv_attribution_get_stats(a, &st);
        ok(zapped >= 4800 && zapped <= 5200, "the zaps keep to the budget: %d in 5 s at 1000/s", zapped);
        ok(st.faults > 1000 && st.faults <= (uint64_t)zapped && st.dropped == 0,
           "faults come back (%" PRIu64 " of %d zapped), none dropped", st.faults, zapped);

        r = region_at(h, base + 30 * MIB);
        ok(r && nv_votes_owner(r->votes, 2, NV_VOTE_MIN) == 0 && r->vote_node == 0 && r->vote_streak >= 2,
           "vCPU 0's data is owned by node 0, epochs in a row");
        ok(r && r->end <= base + 62 * MIB && r->end >= base + 58 * MIB,
           "its region was cut near where vCPU 1's data starts (at +%" PRIu64 " MiB)",
           r ? (r->end - base) / MIB : 0);
        r = region_at(h, base + 61 * MIB);
        ok(r && nv_votes_owner(r->votes, 2, NV_VOTE_MIN) == 1 && r->vote_node == 1,
           "vCPU 1's data just past the cut is owned by node 1");
        r = region_at(h, base + 100 * MIB);
        ok(r && nv_votes_owner(r->votes, 2, NV_VOTE_MIN) == 1, "and further on too");
        r = region_at(h, base + 200 * MIB);
        ok(r && nv_votes_owner(r->votes, 2, NV_VOTE_MIN) < 0 && r->vote_node < 0,
           "memory both vCPUs touch alike has no owner");

        nv_attribution_summary(region_at(h, base), 1, 2, priv, &shared);
        ok(priv[0] > 0 && priv[1] == 0 && shared == 0, "the summary counts an owned region for its node");
        size_t n;
        const nv_region *all = nv_heatmap_regions(h, &n);
        nv_attribution_summary(all, n, 2, priv, &shared);
        ok(priv[0] >= 50 * MIB && priv[0] <= 70 * MIB && priv[1] >= 50 * MIB && priv[1] <= 70 * MIB,
           "about 60 MiB private to each node (%" PRIu64 ", %" PRIu64 " MiB)", priv[0] / MIB, priv[1] / MIB);
        ok(shared >= 64 * MIB, "the background is shared (%" PRIu64 " MiB)", shared / MIB);

        nv_inventory_clear(&inv);
        huge_pages();
        return tap_done();
}
