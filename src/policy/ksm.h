/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The KSM policy: pure. Each epoch, from the host's free memory, the memory its VMs hold and what
 * merging returns, it decides whether ksmd runs, how many pages it scans per wake-up and how long
 * it sleeps. Anchored on ksmtuned (run when free memory is below 20% or the VMs' memory plus that
 * threshold exceeds the host's; pages_to_scan +300 when short of memory, -50 otherwise, clamped to
 * 64..1250; sleep_millisecs = 10 x 16 GiB / RAM, at least 10), and faster and safer than it:
 * - it runs every epoch (1 s) instead of ksmtuned's 60 s, and jumps to the maximum scan rate at
 *   once when the host is critical instead of climbing 300 pages a minute;
 * - it watches the return (general_profit, else pages_sharing growth per full scan): a full scan
 *   that merged nothing decays the scan rate four times as fast and doubles the sleep, so ksmd
 *   stops burning CPU on memory that does not merge;
 * - it stops with hysteresis (free memory must rise 5% above the threshold), so a host hovering at
 *   the threshold does not flap every epoch;
 * - NUMA-aware: merge_across_nodes is kept off on hosts with more than one node unless the
 *   configuration says otherwise; since the kernel only lets it change while nothing is merged,
 *   the plan first unmerges (run=2). */

#include <stdbool.h>
#include <stdint.h>

#include "model/overcommit.h"

typedef enum nv_ksm_mode {
        NV_KSM_MODE_AUTO, /* run when memory is short (ksmtuned's rule) */
        NV_KSM_MODE_ON,   /* always run, tuned */
        NV_KSM_MODE_OFF,  /* leave KSM alone */
} nv_ksm_mode;

typedef struct nv_ksm_config {
        nv_ksm_mode mode;       /* KSM=auto */
        int merge_across_nodes; /* MergeAcrossNodes=auto (-1), no (0), yes (1) */
        unsigned pages_min;     /* PagesToScanMin=64 */
        unsigned pages_max;     /* PagesToScanMax=1250 */
        unsigned boost;         /* PagesBoost=300 */
        unsigned decay;         /* PagesDecay=50 */
        double threshold;       /* Threshold=20%: free share below which KSM is needed */
        double stop_margin;     /* stop only above threshold + this (5%) */
        unsigned sleep_per_16g; /* SleepPer16G=10 (ms for a 16 GiB host) */
} nv_ksm_config;

void nv_ksm_config_defaults(nv_ksm_config *c);

typedef struct nv_ksm_host {
        uint64_t total_bytes;
        uint64_t free_bytes;      /* MemAvailable */
        uint64_t committed_bytes; /* resident memory of the VMs */
        unsigned nr_nodes;
} nv_ksm_host;

/* What the policy remembers between epochs. Zero-initialise. */
typedef struct nv_ksm_memo {
        bool started;
        bool running;    /* the policy's run decision last epoch */
        unsigned npages; /* ksmtuned's npages */
        int64_t prev_full_scans;
        int64_t prev_sharing;
        int64_t prev_profit;
        unsigned idle_scans; /* consecutive full scans that merged nothing */
} nv_ksm_memo;

typedef struct nv_ksm_plan {
        bool manage;            /* false: leave every knob as it is */
        int run;                /* 0 or 1 */
        bool unmerge_first;     /* write run=2 before merge_across_nodes */
        int merge_across_nodes; /* -1: leave */
        unsigned pages_to_scan;
        unsigned sleep_millisecs;
        const char *reason;
} nv_ksm_plan;

/* The base sleep for a host of total_bytes: 10 ms x 16 GiB / RAM, at least 10 ms (ksmtuned). */
unsigned nv_ksm_base_sleep(const nv_ksm_config *c, uint64_t total_bytes);

void nv_ksm_plan_compute(const nv_ksm_config *c, const nv_ksm_host *h, const nv_ksm_state *s,
                         nv_ksm_memo *memo, nv_ksm_plan *ret);
