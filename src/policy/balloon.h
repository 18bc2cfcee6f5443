/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The balloon policy: pure. Each epoch it takes the host's free memory and memory pressure (PSI)
 * and, per guest, the balloon's statistics (virDomainMemoryStats) and floor, and returns a target
 * per guest. Anchored on oVirt MOM's balloon rules (host under pressure below 20% free, critical
 * below 5%; a guest keeps 20% free; at most 5% of the guest's maximum per step; changes under
 * 0.25% skipped), and faster and safer than them:
 * - it runs every epoch (1 s) instead of MOM's 10 s policy interval, and PSI (memory "some"
 *   stall time) raises host pressure before free memory crosses the threshold;
 * - a guest that shows pressure of its own (usable memory below half its free share, swap-in,
 *   a burst of major faults) is grown first, in the same epoch, by what it lacks (up to 4 steps),
 *   not by one 5% step per cycle;
 * - never below a floor, never on stale statistics, and a balloon that does not reach its target
 *   is a stall: the request is withdrawn and retried only after an exponential back-off.
 * numavd gives back only what it took: a guest grows at most to the size it had when numavd first
 * shrank it (a balloon set by someone else is left alone).
 * Per-guest memory of past epochs lives in nv_balloon_memo, owned by the caller and updated by
 * nv_balloon_plan(); nothing here does I/O. */

#include <stdbool.h>
#include <stdint.h>

#include "model/overcommit.h"

typedef struct nv_balloon_config {
        double host_pressure;          /* HostPressure=20%: free share below which the host needs memory */
        double host_critical;          /* HostCritical=5% */
        double host_clear;             /* pressure ends when free rises above host_pressure + this */
        double psi_pressure;           /* PSI some avg10 (%) at which the host counts as under pressure */
        double psi_critical;           /* PSI full avg10 (%) at which it counts as critical */
        double guest_free;             /* GuestFree=20%: share of its memory a guest keeps free */
        double max_step;               /* MaxStep=5% of the guest's maximum per epoch */
        double min_change;             /* MinChange=0.25% of the guest's maximum */
        unsigned stall_epochs;         /* StallEpochs=3: epochs to reach a target */
        uint64_t stale_sec;            /* StatsMaxAge=5s: older statistics hold the balloon */
        uint64_t major_fault_pressure; /* major faults per epoch that count as guest pressure */
} nv_balloon_config;

void nv_balloon_config_defaults(nv_balloon_config *c);

typedef struct nv_balloon_host {
        uint64_t total_bytes;
        uint64_t free_bytes;   /* MemAvailable */
        double psi_some_avg10; /* /proc/pressure/memory, percent; < 0 when unknown */
        double psi_full_avg10;
        int64_t now_sec; /* wall clock (the clock of last_update) */
} nv_balloon_host;

typedef enum nv_balloon_reason {
        NV_BALLOON_IDLE,                /* nothing to do */
        NV_BALLOON_SHRINK,              /* host under pressure, guest has spare memory */
        NV_BALLOON_SHRINK_CRITICAL,     /* host critical */
        NV_BALLOON_GROW_GUEST,          /* guest under its own pressure */
        NV_BALLOON_GROW_HOST_CLEAR,     /* host pressure cleared: give memory back */
        NV_BALLOON_AT_FLOOR,            /* would shrink, but at the floor */
        NV_BALLOON_GUEST_NEEDS,         /* would shrink, but the guest needs its free memory */
        NV_BALLOON_SMALL_CHANGE,        /* below MinChange */
        NV_BALLOON_STALE,               /* statistics too old: hold */
        NV_BALLOON_NO_STATS,            /* no guest statistics: at most one probing step */
        NV_BALLOON_WAITING,             /* the last target is still being reached */
        NV_BALLOON_STALLED,             /* the target was not reached: withdrawn, backing off */
        NV_BALLOON_BACKOFF,             /* after a stall, waiting to retry */
        NV_BALLOON_NO_DEVICE,           /* no balloon device */
        NV_BALLOON_FREE_PAGE_REPORTING, /* the guest returns free pages itself: never shrunk */
        NV_BALLOON_DISABLED,            /* Balloon=no for this guest */
        _NV_BALLOON_REASON_MAX,
} nv_balloon_reason;

const char *nv_balloon_reason_to_string(nv_balloon_reason r);

/* What the policy remembers about a guest between epochs. Zero-initialise. */
typedef struct nv_balloon_memo {
        bool have_prev;
        uint64_t prev_swap_in, prev_major_faults;
        uint64_t target;      /* the last target requested, 0: none pending */
        unsigned waiting;     /* epochs the pending target has not been reached */
        unsigned backoff;     /* epochs left before the balloon is tried again */
        unsigned stalls;      /* consecutive stalls */
        uint64_t stall_count; /* all stalls */
        bool probed;          /* a guest without statistics was probed once */
        uint64_t ceiling;     /* the size numavd first took the guest down from; 0: never shrunk */
} nv_balloon_memo;

typedef struct nv_balloon_guest {
        const char *name;
        bool enabled;
        bool has_device;
        bool autodeflate; /* deflate-on-oom: actual may rise above the target on its own */
        bool free_page_reporting;
        uint64_t max_bytes;   /* the domain's maximum memory */
        uint64_t floor_bytes; /* never below this */
        nv_balloon_stats stats;
        nv_balloon_memo *memo;
} nv_balloon_guest;

typedef struct nv_balloon_decision {
        uint64_t target; /* 0: leave the balloon alone this epoch */
        nv_balloon_reason reason;
        bool stalled; /* a stall was detected this epoch */
        bool guest_pressure;
} nv_balloon_decision;

typedef enum nv_host_mem_state {
        NV_HOST_MEM_OK,
        NV_HOST_MEM_PRESSURE,
        NV_HOST_MEM_CRITICAL,
} nv_host_mem_state;

const char *nv_host_mem_state_to_string(nv_host_mem_state s);

/* The host's state, with hysteresis: prev is last epoch's state. */
nv_host_mem_state nv_balloon_host_state(const nv_balloon_config *c, const nv_balloon_host *h,
                                        nv_host_mem_state prev);

/* One decision per guest into ret[n]; updates each guest's memo. Returns the host state. */
nv_host_mem_state nv_balloon_plan(const nv_balloon_config *c, const nv_balloon_host *h,
                                  nv_host_mem_state prev, nv_balloon_guest *guests, unsigned n,
                                  nv_balloon_decision *ret);
