/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The KSM policy on recorded input sequences: ksmtuned's rules as the anchor (boost, decay,
 * clamps, sleep), pressure onset and recovery with hysteresis, merging that does not pay, the
 * NUMA rule for merge_across_nodes, and reaction time against ksmtuned's 60 s cycle. */

#include "common/macro.h"
#include "policy/ksm.h"
#include "tap.h"

#define RAM (64 * GIB)

static nv_ksm_config cfg;

static nv_ksm_host host(double free_share, unsigned nodes) {
        return (nv_ksm_host){ .total_bytes = RAM,
                              .free_bytes = (uint64_t)(free_share * (double)RAM),
                              .committed_bytes = RAM / 4,
                              .nr_nodes = nodes };
}

static nv_ksm_state knobs(int run, int64_t pages) {
        return (nv_ksm_state){ .run = run,
                               .pages_to_scan = pages,
                               .sleep_millisecs = 20,
                               .merge_across_nodes = 1,
                               .pages_shared = 0,
                               .pages_sharing = 0,
                               .full_scans = 0,
                               .general_profit = INT64_MIN };
}

static void test_sleep(void) {
        is_int(nv_ksm_base_sleep(&cfg, 16 * GIB), 10, "sleep on 16 GiB: 10 ms (ksmtuned)");
        is_int(nv_ksm_base_sleep(&cfg, 4 * GIB), 40, "sleep on 4 GiB: 40 ms");
        is_int(nv_ksm_base_sleep(&cfg, 256 * GIB), 10, "sleep on 256 GiB: at least 10 ms");
}

static void test_rules(void) {
        nv_ksm_memo mo = {};
        nv_ksm_plan p;
        nv_ksm_host h = host(0.50, 1);
        nv_ksm_state s = knobs(0, 100);

        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        ok(!p.manage, "plenty of free memory, KSM off: nothing touched");

        h = host(0.15, 1);
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        ok(p.manage && p.run == 1, "15%% free: KSM started in the first epoch");
        is_int(p.pages_to_scan, 400, "15%% free: pages_to_scan boosted by 300 from 100");
        s = knobs(1, p.pages_to_scan);
        for (int i = 0; i < 10; i++) {
                nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
                s.pages_to_scan = p.pages_to_scan;
        }
        is_int(p.pages_to_scan, 1250, "boost clamps at 1250");

        h = host(0.22, 1);
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        ok(p.run == 1 && p.pages_to_scan == 1200,
           "22%% free (hysteresis band): keeps running, decays by 50");
        for (int i = 0; i < 40; i++)
                nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        is_int(p.pages_to_scan, 64, "decay clamps at 64");

        h = host(0.30, 1);
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        ok(p.manage && p.run == 0, "30%% free: the ksmd numavd started is stopped");
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        ok(!p.manage, "then KSM is left alone");

        nv_ksm_memo mo2 = {};
        h = host(0.50, 1);
        h.committed_bytes = RAM - RAM / 10;
        nv_ksm_plan_compute(&cfg, &h, &s, &mo2, &p);
        ok(p.run == 1, "VMs committed beyond RAM minus the threshold: KSM runs (ksmtuned's rule)");

        nv_ksm_memo mo3 = {};
        h = host(0.03, 1);
        s = knobs(0, 100);
        nv_ksm_plan_compute(&cfg, &h, &s, &mo3, &p);
        is_int(p.pages_to_scan, 1250, "3%% free (critical): the maximum scan rate at once");

        cfg.mode = NV_KSM_MODE_OFF;
        nv_ksm_memo mo4 = {};
        nv_ksm_plan_compute(&cfg, &h, &s, &mo4, &p);
        ok(!p.manage, "KSM=no: never touched, even when critical");
        cfg.mode = NV_KSM_MODE_ON;
        h = host(0.90, 1);
        nv_ksm_plan_compute(&cfg, &h, &s, &mo4, &p);
        ok(p.manage && p.run == 1, "KSM=yes: runs with plenty of free memory");
        cfg.mode = NV_KSM_MODE_AUTO;
}

/* Full scans that merge nothing: faster decay and longer sleeps. */
static void test_no_return(void) {
        nv_ksm_memo mo = {};
        nv_ksm_plan p;
        nv_ksm_host h = host(0.15, 1);
        nv_ksm_state s = knobs(1, 1250);
        unsigned base = nv_ksm_base_sleep(&cfg, RAM);

        s.pages_sharing = 1000;
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        for (int scan = 1; scan <= 3; scan++) {
                s.full_scans = scan; /* nothing more merged */
                nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        }
        ok(p.sleep_millisecs == base * 8, "3 full scans without gain: sleep x8 (%u ms)", p.sleep_millisecs);
        ok(p.pages_to_scan < 1250,
           "3 full scans without gain: pages_to_scan decays although short of memory");
        s.full_scans = 4;
        s.pages_sharing = 50000;
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        ok(p.sleep_millisecs == base && mo.idle_scans == 0,
           "a scan that merges again: back to the base sleep");

        nv_ksm_memo mo2 = {};
        s = knobs(1, 1250);
        s.general_profit = 1000;
        nv_ksm_plan_compute(&cfg, &h, &s, &mo2, &p);
        s.full_scans = 1;
        s.general_profit = 500; /* profit fell: rmap items cost more than merging saves */
        nv_ksm_plan_compute(&cfg, &h, &s, &mo2, &p);
        is_int(mo2.idle_scans, 1, "general_profit falling over a full scan counts as no return");
}

static void test_numa(void) {
        nv_ksm_memo mo = {};
        nv_ksm_plan p;
        nv_ksm_host h = host(0.15, 2);
        nv_ksm_state s = knobs(1, 100);

        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        ok(p.merge_across_nodes == 0 && !p.unmerge_first,
           "2 nodes, nothing merged: merge_across_nodes=0 directly");
        s.pages_shared = 10;
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        ok(p.merge_across_nodes == 0 && p.unmerge_first, "2 nodes, pages merged: unmerge (run=2) first");
        h = host(0.15, 1);
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        is_int(p.merge_across_nodes, -1, "1 node: merge_across_nodes left alone");
        cfg.merge_across_nodes = 1;
        h = host(0.15, 2);
        s.merge_across_nodes = 1;
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        is_int(p.merge_across_nodes, -1, "MergeAcrossNodes=yes on 2 nodes: kept at 1");
        cfg.merge_across_nodes = -1;
        s.merge_across_nodes = -1;
        nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
        is_int(p.merge_across_nodes, -1, "kernel without the knob: nothing written");
}

/* Reaction: free memory drops to 3% at t=0. ksmtuned adjusts every 60 s, +300 a cycle from 64;
 * numavd every 1 s epoch. Seconds until ksmd scans at the maximum rate. */
static void test_reaction(void) {
        nv_ksm_memo mo = {};
        nv_ksm_plan p;
        nv_ksm_host h = host(0.03, 1);
        nv_ksm_state s = knobs(0, 64);
        unsigned nv_sec = 0, tuned_sec = 0, npages = 64;

        for (unsigned t = 1; t <= 600 && !nv_sec; t++) {
                nv_ksm_plan_compute(&cfg, &h, &s, &mo, &p);
                s.run = p.run;
                s.pages_to_scan = p.pages_to_scan;
                if (p.run == 1 && p.pages_to_scan == cfg.pages_max)
                        nv_sec = t;
        }
        for (unsigned t = 60; t <= 3600 && !tuned_sec; t += 60) {
                npages = MIN(npages + 300, 1250u);
                if (npages == 1250)
                        tuned_sec = t;
        }
        printf("# host at 3%% free: numavd scans at the maximum after %u s, ksmtuned after %u s\n", nv_sec,
               tuned_sec);
        ok(nv_sec == 1 && tuned_sec == 240, "reaction: 1 s against ksmtuned's 240 s");
}

int main(void) {
        nv_ksm_config_defaults(&cfg);
        test_sleep();
        test_rules();
        test_no_return();
        test_numa();
        test_reaction();
        return tap_done();
}
