/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The balloon policy on recorded input sequences: pressure onset, recovery with hysteresis, stale
 * statistics, a guest under its own pressure, a stalled balloon, a guest without statistics,
 * floors at their edges; and a closed loop against oVirt MOM's rules for reaction times. */

#include <stdlib.h>

#include "common/macro.h"
#include "policy/balloon.h"
#include "tap.h"

#define GUEST_MAX (4 * GIB)
#define HOST_RAM  (64 * GIB)
#define NOW       1000000

static nv_balloon_config cfg;

static nv_balloon_host host(double free_share) {
        return (nv_balloon_host){ .total_bytes = HOST_RAM,
                                  .free_bytes = (uint64_t)(free_share * (double)HOST_RAM),
                                  .psi_some_avg10 = 0,
                                  .psi_full_avg10 = 0,
                                  .now_sec = NOW };
}

static nv_balloon_guest guest(nv_balloon_memo *mo, uint64_t actual, uint64_t usable) {
        return (nv_balloon_guest){
                .name = "g",
                .enabled = true,
                .has_device = true,
                .max_bytes = GUEST_MAX,
                .floor_bytes = GUEST_MAX / 4,
                .stats = { .actual = actual,
                           .usable = usable,
                           .available = actual,
                           .swap_in = 0,
                           .swap_out = 0,
                           .major_faults = 0,
                           .last_update = NOW - 1 },
                .memo = mo,
        };
}

static uint64_t step(void) {
        return (uint64_t)(cfg.max_step * GUEST_MAX);
}

static void test_host_state(void) {
        nv_balloon_host h = host(0.30);

        is_int(nv_balloon_host_state(&cfg, &h, NV_HOST_MEM_OK), NV_HOST_MEM_OK, "30%% free: ok");
        h = host(0.19);
        is_int(nv_balloon_host_state(&cfg, &h, NV_HOST_MEM_OK), NV_HOST_MEM_PRESSURE, "19%% free: pressure");
        h = host(0.04);
        is_int(nv_balloon_host_state(&cfg, &h, NV_HOST_MEM_OK), NV_HOST_MEM_CRITICAL, "4%% free: critical");
        h = host(0.22);
        is_int(nv_balloon_host_state(&cfg, &h, NV_HOST_MEM_PRESSURE), NV_HOST_MEM_PRESSURE,
               "22%% free after pressure: still pressure (hysteresis up to 25%%)");
        is_int(nv_balloon_host_state(&cfg, &h, NV_HOST_MEM_OK), NV_HOST_MEM_OK, "22%% free from ok: ok");
        h = host(0.50);
        h.psi_some_avg10 = 15;
        is_int(nv_balloon_host_state(&cfg, &h, NV_HOST_MEM_OK), NV_HOST_MEM_PRESSURE,
               "50%% free but PSI some 15%%: pressure before free memory runs out");
        h.psi_some_avg10 = 0;
        h.psi_full_avg10 = 12;
        is_int(nv_balloon_host_state(&cfg, &h, NV_HOST_MEM_OK), NV_HOST_MEM_CRITICAL,
               "PSI full 12%%: critical");
}

/* Pressure onset: one guest with 3 GiB usable of 4 GiB shrinks one step an epoch, never more,
 * and stops where it must keep GuestFree of its memory free. */
static void test_onset(void) {
        nv_balloon_memo mo = {};
        nv_balloon_decision d;
        nv_balloon_host h = host(0.15);
        uint64_t used = 1 * GIB, actual = GUEST_MAX;
        unsigned epochs = 0, steps_ok = 1, first_target_epoch = 0;

        for (unsigned e = 1; e <= 40; e++) {
                nv_balloon_guest g = guest(&mo, actual, actual - used);
                nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
                if (d.target) {
                        if (!first_target_epoch)
                                first_target_epoch = e;
                        if (actual - d.target > step())
                                steps_ok = 0;
                        actual = d.target; /* the balloon follows within the epoch */
                        epochs = e;
                }
        }
        is_int(first_target_epoch, 1, "pressure onset: the first epoch under pressure sets a target");
        ok(steps_ok, "pressure onset: no step larger than MaxStep (5%% of the maximum)");
        ok(actual - used >= (uint64_t)(cfg.guest_free * (double)actual) - step(),
           "pressure onset: the guest keeps about GuestFree free (actual %" PRIu64 " MiB, used 1024 MiB)",
           actual / MIB);
        ok(actual >= GUEST_MAX / 4, "pressure onset: never below the floor");
        ok(epochs > 0 && epochs < 20, "pressure onset: settles within %u epochs", epochs);

        /* Recovery: at 22% free (inside the hysteresis band) nothing grows; at 30% it grows back
         * a step an epoch up to the size numavd took it from, and not beyond. */
        nv_host_mem_state st = NV_HOST_MEM_PRESSURE;
        h = host(0.22);
        nv_balloon_guest g = guest(&mo, actual, actual - used);
        st = nv_balloon_plan(&cfg, &h, st, &g, 1, &d);
        is_int(st, NV_HOST_MEM_PRESSURE, "recovery: 22%% free keeps the pressure state");
        ok(d.target == 0 || d.target <= actual, "recovery: no growth inside the hysteresis band");
        h = host(0.30);
        unsigned grow_epochs = 0, grow_steps_ok = 1;
        for (unsigned e = 1; e <= 40 && actual < GUEST_MAX; e++) {
                g = guest(&mo, actual, actual - used);
                st = nv_balloon_plan(&cfg, &h, st, &g, 1, &d);
                if (d.target > actual) {
                        if (d.target - actual > step())
                                grow_steps_ok = 0;
                        actual = d.target;
                        grow_epochs = e;
                }
        }
        is_int(st, NV_HOST_MEM_OK, "recovery: 30%% free clears the pressure");
        is_u64(actual, GUEST_MAX, "recovery: the guest is back at the size it had");
        ok(grow_steps_ok, "recovery: growth in steps of at most MaxStep (%u epochs)", grow_epochs);
        g = guest(&mo, actual, actual - used);
        nv_balloon_plan(&cfg, &h, st, &g, 1, &d);
        is_u64(d.target, 0, "recovery: nothing more to give back");
}

static void test_stale(void) {
        nv_balloon_memo mo = {};
        nv_balloon_decision d;
        nv_balloon_host h = host(0.10);
        nv_balloon_guest g = guest(&mo, GUEST_MAX, 3 * GIB);

        g.stats.last_update = NOW - 60;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        is_u64(d.target, 0, "stale statistics (60 s old): no target");
        is_int(d.reason, NV_BALLOON_STALE, "stale statistics: reason stale");
        g.stats.last_update = NOW - 2;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        ok(d.target > 0 && d.target < GUEST_MAX, "fresh statistics again: shrinks");
}

/* A guest that swaps in while the host is under pressure grows at once, by what it lacks. */
static void test_guest_pressure(void) {
        nv_balloon_memo mo = {};
        nv_balloon_decision d;
        nv_balloon_host h = host(0.15);
        uint64_t actual = 2 * GIB;
        nv_balloon_guest g = guest(&mo, actual, 1 * GIB);

        mo.ceiling = GUEST_MAX; /* numavd took it down from 4 GiB */
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        ok(d.target <= actual, "guest with 50%% usable under host pressure: not grown");
        g = guest(&mo, actual, 1 * GIB);
        g.stats.swap_in = 4096 * KIB;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        ok(d.guest_pressure, "swap-in: guest pressure seen");
        is_int(d.reason, NV_BALLOON_GROW_GUEST,
               "swap-in: grow first, even while the host is under pressure");
        ok(d.target >= actual + step(), "swap-in: grown by at least one step (%" PRIu64 " MiB)",
           (d.target - actual) / MIB);

        nv_balloon_memo mo2 = { .ceiling = GUEST_MAX };
        g = guest(&mo2, actual, 100 * MIB); /* 5% usable: deficit 300 MiB */
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        ok(d.target >= actual + 300 * MIB && d.target <= actual + 4 * step(),
           "usable 5%%: the deficit is given in one epoch, at most 4 steps (+%" PRIu64 " MiB)",
           (d.target - actual) / MIB);

        nv_balloon_memo mo3 = { .ceiling = GUEST_MAX };
        g = guest(&mo3, actual, 1 * GIB);
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d); /* counters recorded */
        g = guest(&mo3, actual, 1 * GIB);
        g.stats.major_faults = 5000;
        mo3.prev_major_faults = 0;
        mo3.target = 0;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        is_int(d.reason, NV_BALLOON_GROW_GUEST, "5000 major faults in an epoch: grow");
}

/* A balloon that does not move: a stall after StallEpochs, the target withdrawn, then back-off;
 * not retried every epoch. */
static void test_stall(void) {
        nv_balloon_memo mo = {};
        nv_balloon_decision d;
        nv_balloon_host h = host(0.10);
        unsigned requests = 0, stalls = 0, first_stall = 0;

        for (unsigned e = 1; e <= 60; e++) {
                nv_balloon_guest g = guest(&mo, GUEST_MAX, 3 * GIB); /* actual never moves */
                nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
                if (d.stalled) {
                        stalls++;
                        if (!first_stall)
                                first_stall = e;
                        is_u64(d.target, GUEST_MAX, "stall %u: the request is withdrawn (target = actual)",
                               stalls);
                } else if (d.target)
                        requests++;
        }
        is_int(first_stall, 1 + cfg.stall_epochs, "stall detected StallEpochs (3) epochs after the request");
        ok(requests <= 4, "stalled balloon: %u requests in 60 epochs, not one per epoch", requests);
        ok(stalls >= 2 && stalls <= 4, "stalled balloon: %u stalls in 60 epochs (exponential back-off)",
           stalls);
        ok(mo.stall_count == stalls, "stall count recorded");
}

/* No guest statistics (no balloon driver): one probing step, then a stall, then nothing. */
static void test_no_stats(void) {
        nv_balloon_memo mo = {};
        nv_balloon_decision d;
        nv_balloon_host h = host(0.10);
        unsigned requests = 0, stalls = 0;

        for (unsigned e = 1; e <= 60; e++) {
                nv_balloon_guest g = guest(&mo, GUEST_MAX, NV_BALLOON_UNKNOWN);
                g.stats.last_update = 0;
                nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
                if (d.stalled)
                        stalls++;
                else if (d.target)
                        requests++;
                if (e == 1)
                        ok(d.target == GUEST_MAX - step() && d.reason == NV_BALLOON_NO_STATS,
                           "no statistics, first epoch under pressure: one probing step of MaxStep");
        }
        is_int(requests, 1, "no statistics: a single probe in 60 epochs");
        is_int(stalls, 1, "no statistics and no driver: reported as one stall, not retried");
}

static void test_floors(void) {
        nv_balloon_memo mo = {};
        nv_balloon_decision d;
        nv_balloon_host h = host(0.10);
        nv_balloon_guest g = guest(&mo, 2 * GIB, 2 * GIB - 100 * MIB);

        g.floor_bytes = 2 * GIB - step() / 2;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        is_u64(d.target, g.floor_bytes, "floor half a step below: target is exactly the floor");

        nv_balloon_memo mo2 = {};
        g = guest(&mo2, 2 * GIB, 2 * GIB - 100 * MIB);
        g.floor_bytes = 2 * GIB;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_CRITICAL, &g, 1, &d);
        ok(d.target == 0 && d.reason == NV_BALLOON_AT_FLOOR, "at the floor, host critical: no shrink");

        nv_balloon_memo mo3 = {};
        g = guest(&mo3, 1 * GIB, 900 * MIB);
        g.floor_bytes = 2 * GIB;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        is_u64(d.target, 2 * GIB, "below the floor (set by someone else): back to the floor");

        nv_balloon_memo mo4 = {};
        g = guest(&mo4, GUEST_MAX, GUEST_MAX - 100 * MIB);
        g.floor_bytes = 8 * GIB; /* above the maximum: clamped to it */
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_CRITICAL, &g, 1, &d);
        is_u64(d.target, 0, "floor above the maximum: never shrunk");

        nv_balloon_memo mo5 = {};
        g = guest(&mo5, GUEST_MAX, GUEST_MAX - 100 * MIB);
        g.floor_bytes = GUEST_MAX - step() - 1;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        is_u64(d.target, GUEST_MAX - step(), "floor one byte below a full step: a full step");

        nv_balloon_memo mo6 = {};
        g = guest(&mo6, GUEST_MAX, GUEST_MAX - 100 * MIB);
        g.floor_bytes = GUEST_MAX - (uint64_t)(cfg.min_change * GUEST_MAX) / 2;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
        is_u64(d.target, 0, "room above the floor under MinChange: no change");
}

static void test_devices(void) {
        nv_balloon_memo mo[4] = {};
        nv_balloon_decision d[4];
        nv_balloon_host h = host(0.10);
        nv_balloon_guest g[4] = {
                guest(&mo[0], GUEST_MAX, 3 * GIB),
                guest(&mo[1], GUEST_MAX, 3 * GIB),
                guest(&mo[2], GUEST_MAX, 3 * GIB),
                guest(&mo[3], GUEST_MAX, 3 * GIB),
        };

        g[0].has_device = false;
        g[1].free_page_reporting = true;
        g[2].enabled = false;
        g[3].autodeflate = true;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, g, 4, d);
        ok(d[0].target == 0 && d[0].reason == NV_BALLOON_NO_DEVICE,
           "no balloon device: left alone, says so");
        ok(d[1].target == 0 && d[1].reason == NV_BALLOON_FREE_PAGE_REPORTING,
           "free page reporting: not shrunk, says so");
        ok(d[2].target == 0 && d[2].reason == NV_BALLOON_DISABLED, "Balloon=no: left alone");
        ok(d[3].target > 0, "autodeflate: shrunk");
        /* The guest deflated on OOM: actual above the target is not a stall. */
        g[3] = guest(&mo[3], d[3].target + 500 * MIB, 3 * GIB);
        g[3].autodeflate = true;
        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g[3], 1, &d[3]);
        ok(!d[3].stalled && d[3].reason != NV_BALLOON_WAITING,
           "autodeflate, actual above the target: reached, not waiting, not a stall");
}

/* A closed loop: a guest whose workload grows from 1 GiB to 3.6 GiB used while the host is under
 * pressure and the guest was ballooned down to 2 GiB. The epoch is 1 s; MOM's policy runs every
 * 10 s; its rules grow nothing while the host is under pressure, so the model here is generous to
 * it: it grows a guest whose free memory is below GuestFree by MaxStep each cycle. Count seconds
 * until the guest is out of danger (free at least GuestFree/2) once its workload has stopped
 * growing, and the seconds it spent starved (free below GuestFree/2). */
typedef struct loop_result {
        unsigned recovered_sec, starved_sec;
} loop_result;

static loop_result closed_loop(bool mom) {
        nv_balloon_memo mo = { .ceiling = GUEST_MAX };
        nv_balloon_host h = host(0.15);
        uint64_t actual = 2 * GIB, used = 1 * GIB;
        loop_result res = { 0, 0 };

        for (unsigned t = 1; t <= 300; t++) {
                if (used < 3 * GIB)
                        used = MIN(used + 256 * MIB, (uint64_t)(3 * GIB)); /* the workload grows */
                uint64_t usable = actual > used ? actual - used : 0;
                if (usable < (uint64_t)(cfg.guest_free / 2 * (double)actual))
                        res.starved_sec++;
                if (usable >= (uint64_t)(cfg.guest_free / 2 * (double)actual) && used >= 3 * GIB) {
                        res.recovered_sec = t;
                        break;
                }
                if (mom) {
                        if (t % 10 == 0 && usable < (uint64_t)(cfg.guest_free * (double)actual))
                                actual = MIN(actual + step(), GUEST_MAX);
                } else {
                        nv_balloon_decision d;
                        nv_balloon_guest g = guest(&mo, actual, usable);
                        nv_balloon_plan(&cfg, &h, NV_HOST_MEM_PRESSURE, &g, 1, &d);
                        if (d.target)
                                actual = d.target;
                }
        }
        return res;
}

static void test_versus_mom(void) {
        loop_result nv = closed_loop(false), mom = closed_loop(true);

        printf("# guest under its own pressure: numavd recovers in %u s (%u s starved), MOM in %u s (%u s "
               "starved)\n",
               nv.recovered_sec, nv.starved_sec, mom.recovered_sec, mom.starved_sec);
        ok(nv.recovered_sec > 0 && nv.recovered_sec * 4 <= mom.recovered_sec,
           "reaction: numavd restores the guest's free memory at least 4x faster than MOM (%u s vs %u s)",
           nv.recovered_sec, mom.recovered_sec);
        ok(nv.starved_sec < mom.starved_sec, "safety: fewer seconds starved than under MOM (%u vs %u)",
           nv.starved_sec, mom.starved_sec);
}

int main(void) {
        nv_balloon_config_defaults(&cfg);
        test_host_state();
        test_onset();
        test_stale();
        test_guest_pressure();
        test_stall();
        test_no_stats();
        test_floors();
        test_devices();
        test_versus_mom();
        return tap_done();
}
