/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One epoch's steps (src/daemon/epoch.c) on a simulated host: a VM whose memory sits on node 0
 * while its vCPUs run on node 1. Sampling fills the heat map, the end of the epoch plans and moves
 * the hot regions to node 1 and records why the rest stays; Backend=none places the whole VM, a
 * dry run moves nothing, a forgotten VM is gone. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/manager.h"
#include "tap.h"
#include "test-util.h"

static const char scn[] = "seed 11\n"
                          "node 0 mem 4G cpus 0-3\n"
                          "node 1 mem 4G cpus 4-7\n"
                          "vm web1 mem 512M vcpus 2 backing anon first-touch 0\n"
                          "  run all on 4-7\n"
                          "  workload hot 64M skew 0.9 rate 512K\n";

static nv_manager *start(const char *scn_path, const char *conf_text, bool dry_run, char *conf_path) {
        nv_manager *m = NULL;

        if (test_write_temp(conf_path, conf_text) < 0)
                return NULL;
        nv_manager_options o = { .config_file = conf_path,
                                 .sim_scenario = scn_path,
                                 .log_level = LOG_WARNING,
                                 .dry_run = dry_run };
        if (nv_manager_new(&o, &m) < 0 || nv_manager_start(m) < 0) {
                nv_manager_free(m);
                return NULL;
        }
        return m;
}

/* The sampling rounds of one epoch, then its end. */
static void run_epoch(nv_manager *m) {
        for (unsigned i = 0; i < nv_manager_samples_per_epoch(m); i++) {
                m->host.advance(m->host.ctx, m->config->sample_interval);
                nv_epoch_sample(m);
        }
        (void)nv_epoch_finish(m);
}

static uint64_t region_samples(nv_vm_state *s) {
        size_t n;
        const nv_region *r = nv_heatmap_regions(s->heat, &n);
        uint64_t total = 0;

        for (size_t i = 0; i < n; i++)
                total += r[i].samples;
        return total;
}

static uint64_t verdict_bytes(const nv_vm_state *s) {
        uint64_t total = 0;

        for (unsigned v = 0; v < _NV_VERDICT_MAX; v++)
                total += s->counters.bytes_by_verdict[v];
        return total;
}

static void test_sampled_epoch(const char *scn_path) {
        char conf[] = "/tmp/numavd-test-epoch-conf-XXXXXX";
        nv_manager *m = start(scn_path, "[Sampler]\nBackend=sim\n", false, conf);
        nv_vm_state *s;
        size_t n;
        const nv_region *r;
        bool history = false;

        if (!ok(m, "sampled: the manager starts on the scenario"))
                goto out;
        if (!is_int((int)m->nr_vms, 1, "refresh: the VM is tracked"))
                goto out;
        s = m->vms[0];
        ok(m->access && s->attached, "refresh: the access port attached it");
        is_u64(nv_vm_ram_bytes(&s->info), 512 * MIB, "refresh: its 512 MiB of RAM");

        for (unsigned i = 0; i < 3; i++) {
                m->host.advance(m->host.ctx, m->config->sample_interval);
                nv_epoch_sample(m);
        }
        ok(region_samples(s) > 0, "sample: the heat map counted samples (%" PRIu64 ")", region_samples(s));
        is_int((int)m->epoch, 0, "sample: no epoch ended yet");
        (void)nv_epoch_finish(m);
        is_int((int)m->epoch, 1, "finish: one epoch ended");

        for (unsigned e = 0; e < 3; e++)
                run_epoch(m);
        is_int(s->counters.target_node, 1, "finish: the target is node 1, where the vCPUs run");
        ok(s->counters.hot_bytes > 0, "finish: hot memory found (%" PRIu64 " bytes)", s->counters.hot_bytes);
        ok(s->counters.migrated_bytes > 0 && m->moved_bytes == s->counters.migrated_bytes,
           "finish: pages moved (%" PRIu64 " bytes), and the manager's total agrees",
           s->counters.migrated_bytes);
        is_u64(verdict_bytes(s), 512 * MIB, "finish: every byte of the VM has a verdict");
        ok(s->counters.bytes_by_verdict[NV_VERDICT_COLD] > 0, "finish: the cold memory stays, as COLD");
        r = nv_heatmap_regions(s->heat, &n);
        for (size_t i = 0; i < n; i++)
                if (r[i].moved_epoch > 0) {
                        history = true;
                        if (r[i].moved_to != 1 || r[i].node_bytes[1] == 0)
                                history = false;
                }
        ok(history, "finish: moved regions remember the move to node 1 and their bytes there");
        is_u64(s->counters.ping_pong_bytes, 0, "finish: nothing moved back and forth");
        ok(nv_vm_state_hot_local_percent(s) > 50.0, "finish: most hot memory is local now (%.0f%%)",
           nv_vm_state_hot_local_percent(s));

        nv_epoch_forget(m, s->info.id);
        is_int((int)m->nr_vms, 0, "forget: the VM is gone");
out:
        nv_manager_free(m);
        unlink(conf);
}

static void test_dry_run(const char *scn_path) {
        char conf[] = "/tmp/numavd-test-epoch-conf-XXXXXX";
        nv_manager *m = start(scn_path, "[Sampler]\nBackend=sim\n", true, conf);

        if (ok(m && m->nr_vms == 1, "dry run: the VM is tracked")) {
                for (unsigned e = 0; e < 4; e++)
                        run_epoch(m);
                is_u64(m->moved_bytes, 0, "dry run: nothing moved");
                ok(m->vms[0]->counters.bytes_by_verdict[NV_VERDICT_MOVE] > 0,
                   "dry run: moves planned all the same (%" PRIu64 " bytes)",
                   m->vms[0]->counters.bytes_by_verdict[NV_VERDICT_MOVE]);
        }
        nv_manager_free(m);
        unlink(conf);
}

static void test_whole_vm(const char *scn_path) {
        char conf[] = "/tmp/numavd-test-epoch-conf-XXXXXX";
        nv_manager *m = start(scn_path, "[Sampler]\nBackend=none\n", false, conf);

        if (ok(m && m->nr_vms == 1, "Backend=none: the VM is tracked")) {
                ok(!m->access, "Backend=none: no access sampler");
                run_epoch(m);
                ok(m->vms[0]->whole_vm, "Backend=none: the VM is placed as a whole");
                ok(m->moved_bytes > 0, "Backend=none: its memory moves toward its vCPUs (%" PRIu64 " bytes)",
                   m->moved_bytes);
        }
        nv_manager_free(m);
        unlink(conf);
}

/* The bytes moved in the first epoch of a one-VM scenario under a configuration; 0 and a failed
 * check when it cannot run. */
static uint64_t first_epoch_moved(const char *text, const char *conf_text, const char *what) {
        char scn_path[] = "/tmp/numavd-test-epoch-XXXXXX";
        char conf[] = "/tmp/numavd-test-epoch-conf-XXXXXX";
        uint64_t moved = 0;
        nv_manager *m;

        if (!ok(test_write_temp(scn_path, text) >= 0, "%s: scenario written", what))
                return 0;
        m = start(scn_path, conf_text, false, conf);
        if (ok(m && m->nr_vms == 1, "%s: the VM is tracked", what)) {
                run_epoch(m);
                moved = m->moved_bytes;
        }
        nv_manager_free(m);
        unlink(conf);
        unlink(scn_path);
        return moved;
}

/* A move's bytes are an estimate from sampled pages: interleaved memory puts about half of each
 * region's pages on the target already, more or less than its sample says. What the moves leave
 * unspent goes to the regions the budget stopped, so the epoch moves its whole budget. */
static void test_spares_spend_budget(void) {
        static const char text[] = "seed 5\n"
                                   "node 0 mem 4G cpus 0-3\n"
                                   "node 1 mem 4G cpus 4-7\n"
                                   "vm db mem 512M vcpus 2 backing anon first-touch interleave\n"
                                   "  run all on 4-7\n"
                                   "  workload hot 128M skew 0.9 rate 512K\n";

        is_u64(first_epoch_moved(text, "[Sampler]\nBackend=sim\n[Placement]\nMaxMoveRate=16M\n", "spares"),
               16 * MIB, "spares: the first epoch moves its whole budget");
}

/* On huge pages the budget pays for eight times its bytes (model/move-cost.h), the host's
 * MaxMoveRate= and a VM's own alike. */
static void test_huge_pages_cost(void) {
        static const char text[] = "seed 5\n"
                                   "node 0 mem 4G cpus 0-3\n"
                                   "node 1 mem 4G cpus 4-7\n"
                                   "vm db mem 1G vcpus 2 backing thp first-touch 0\n"
                                   "  run all on 4-7\n"
                                   "  workload hot 512M skew 0.9 rate 512K\n";

        is_u64(first_epoch_moved(text, "[Sampler]\nBackend=sim\n[Placement]\nMaxMoveRate=16M\n", "huge"),
               128 * MIB, "huge: MaxMoveRate=16M moves 128 MiB of huge pages");
        is_u64(first_epoch_moved(
                       text,
                       "[Sampler]\nBackend=sim\n[Placement]\nMaxMoveRate=16M\n[VM \"db\"]\nMaxMoveRate=4M\n",
                       "huge, a rate of its own"),
               32 * MIB, "huge: its own MaxMoveRate=4M moves 32 MiB of huge pages");
}

/* A node's floor is never below its high watermark: under it, kswapd would reclaim what the moves
 * brought. Node 1 has 324 MiB free; a 1% floor alone would let the whole 256 MiB hot set in. */
static uint64_t floor_run(const char *high, uint64_t *ret_free) {
        char text[512], scn_path[] = "/tmp/numavd-test-epoch-XXXXXX",
                        conf[] = "/tmp/numavd-test-epoch-conf-XXXXXX";
        nv_inventory inv = {};
        uint64_t moved = 0;
        nv_manager *m;

        snprintf(text, sizeof(text),
                 "seed 5\n"
                 "node 0 mem 4G cpus 0-3\n"
                 "node 1 mem 1G cpus 4-7 high %s\n"
                 "grow 1 700M\n"
                 "vm db mem 1G vcpus 2 backing anon first-touch 0\n"
                 "  run all on 4-7\n"
                 "  workload hot 256M skew 0.9 rate 512K\n",
                 high);
        if (test_write_temp(scn_path, text) < 0)
                return 0;
        m = start(scn_path, "[Sampler]\nBackend=sim\n[Placement]\nMaxMoveRate=1G\nNodeFreeFloor=1%\n", false,
                  conf);
        if (ok(m && m->nr_vms == 1, "floor, high watermark %s: the VM is tracked", high)) {
                for (int e = 0; e < 4; e++)
                        run_epoch(m);
                moved = m->moved_bytes;
                if (m->host.source->refresh(m->host.ctx, &inv) == 0)
                        *ret_free = inv.nodes[1].free_bytes;
                nv_inventory_clear(&inv);
        }
        nv_manager_free(m);
        unlink(conf);
        unlink(scn_path);
        return moved;
}

static void test_floor_above_high_watermark(void) {
        uint64_t free_low = 0, free_high = 0;
        uint64_t moved_low = floor_run("5M", &free_low), moved_high = floor_run("200M", &free_high);

        ok(moved_low >= 200 * MIB,
           "floor: with a 5 MiB high watermark the 1%% floor lets the hot set in (%" PRIu64 " MiB moved)",
           moved_low / MIB);
        ok(moved_high > 64 * MIB && moved_high <= 124 * MIB,
           "floor: with a 200 MiB high watermark moves stop there (%" PRIu64 " MiB moved)",
           moved_high / MIB);
        ok(free_high >= 200 * MIB, "floor: node 1 keeps its high watermark free (%" PRIu64 " MiB)",
           free_high / MIB);
}

int main(void) {
        char scn_path[] = "/tmp/numavd-test-epoch-XXXXXX";

        log_set_max_level(LOG_WARNING);
        if (test_write_temp(scn_path, scn) < 0)
                return tap_skip_all("cannot write to /tmp");
        test_sampled_epoch(scn_path);
        test_dry_run(scn_path);
        test_whole_vm(scn_path);
        test_spares_spend_budget();
        test_huge_pages_cost();
        test_floor_above_high_watermark();
        unlink(scn_path);
        return tap_done();
}
