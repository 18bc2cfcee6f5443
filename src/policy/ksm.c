/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy/ksm.h"

#include "common/macro.h"

void nv_ksm_config_defaults(nv_ksm_config *c) {
        *c = (nv_ksm_config){
                .mode = NV_KSM_MODE_AUTO,
                .merge_across_nodes = -1,
                .pages_min = 64,
                .pages_max = 1250,
                .boost = 300,
                .decay = 50,
                .threshold = 0.20,
                .stop_margin = 0.05,
                .sleep_per_16g = 10,
        };
}

unsigned nv_ksm_base_sleep(const nv_ksm_config *c, uint64_t total_bytes) {
        uint64_t ms;

        if (total_bytes == 0)
                return 10;
        ms = (uint64_t)c->sleep_per_16g * 16 * GIB / total_bytes;
        return (unsigned)CLAMP(ms, UINT64_C(10), UINT64_C(10000));
}

/* Whether the last full scan paid: more pages sharing, or more profit. */
static void follow_return(const nv_ksm_state *s, nv_ksm_memo *mo) {
        if (s->full_scans < 0 || !mo->started) {
                mo->prev_full_scans = s->full_scans;
                mo->prev_sharing = s->pages_sharing;
                mo->prev_profit = s->general_profit;
                return;
        }
        if (s->full_scans <= mo->prev_full_scans)
                return; /* judge only whole scans */

        bool gained = s->general_profit != INT64_MIN ? s->general_profit > mo->prev_profit
                                                     : s->pages_sharing > mo->prev_sharing;
        mo->idle_scans = gained ? 0 : mo->idle_scans + 1;
        mo->prev_full_scans = s->full_scans;
        mo->prev_sharing = s->pages_sharing;
        mo->prev_profit = s->general_profit;
}

void nv_ksm_plan_compute(const nv_ksm_config *c, const nv_ksm_host *h, const nv_ksm_state *s,
                         nv_ksm_memo *mo, nv_ksm_plan *ret) {
        nv_ksm_plan p = { .manage = true, .merge_across_nodes = -1 };
        uint64_t thres = MAX((uint64_t)(c->threshold * (double)h->total_bytes), 2048 * KIB);
        uint64_t stop = (uint64_t)((c->threshold + c->stop_margin) * (double)h->total_bytes);
        unsigned base_sleep = nv_ksm_base_sleep(c, h->total_bytes);
        bool short_of_memory = h->free_bytes < thres;
        bool critical = h->free_bytes < thres / 4;
        bool committed = h->committed_bytes + thres > h->total_bytes;

        if (c->mode == NV_KSM_MODE_OFF) {
                *ret = (nv_ksm_plan){ .manage = false, .merge_across_nodes = -1, .reason = "KSM=no" };
                return;
        }
        follow_return(s, mo);
        if (!mo->started) {
                /* Start from what the kernel has, clamped, like ksmtuned's first adjust(). */
                mo->npages = (unsigned)CLAMP(s->pages_to_scan, (int64_t)c->pages_min, (int64_t)c->pages_max);
                mo->started = true;
        }

        /* merge_across_nodes: off on multi-node hosts unless configured; changeable only while
         * nothing is merged. */
        if (s->merge_across_nodes >= 0) {
                int want = c->merge_across_nodes >= 0 ? c->merge_across_nodes
                           : h->nr_nodes > 1          ? 0
                                                      : s->merge_across_nodes;
                if (want != s->merge_across_nodes) {
                        p.merge_across_nodes = want;
                        p.unmerge_first = s->pages_shared > 0;
                }
        }

        /* Run or stop, with hysteresis on the way down. numavd stops only a ksmd it started, and
         * touches nothing while KSM is not needed. */
        bool was_running = mo->running;
        if (c->mode == NV_KSM_MODE_ON || short_of_memory || committed)
                mo->running = true;
        else if (h->free_bytes > stop)
                mo->running = false;
        p.run = mo->running ? 1 : 0;

        if (!mo->running) {
                p.reason = "enough free memory";
                p.pages_to_scan = mo->npages;
                p.sleep_millisecs = base_sleep;
                p.manage = was_running;
                p.merge_across_nodes = -1;
                p.unmerge_first = false;
                *ret = p;
                return;
        }

        if (critical) {
                mo->npages = c->pages_max;
                p.reason = "host critical: scanning at the maximum";
        } else if (short_of_memory && mo->idle_scans < 2) {
                mo->npages = MIN(mo->npages + c->boost, c->pages_max);
                p.reason = "short of memory: boost";
        } else {
                unsigned decay = mo->idle_scans > 0 ? 4 * c->decay : c->decay;
                mo->npages = mo->npages > c->pages_min + decay ? mo->npages - decay : c->pages_min;
                p.reason = mo->idle_scans > 0 ? "merging does not pay: fast decay" : "decay";
        }
        p.pages_to_scan = mo->npages;
        /* A scan that merged nothing doubles the sleep, up to 8 times (not when critical). */
        p.sleep_millisecs = critical ? base_sleep : base_sleep << MIN(mo->idle_scans, 3u);
        *ret = p;
}
