/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common/string-table.h"
#include "policy/balloon.h"

#include "common/macro.h"

void nv_balloon_config_defaults(nv_balloon_config *c) {
        *c = (nv_balloon_config){
                .host_pressure = 0.20,
                .host_critical = 0.05,
                .host_clear = 0.05,
                .psi_pressure = 10.0,
                .psi_critical = 10.0,
                .guest_free = 0.20,
                .max_step = 0.05,
                .min_change = 0.0025,
                .stall_epochs = 3,
                .stale_sec = 5,
                .major_fault_pressure = 100,
        };
}

static const char *const nv_balloon_reason_table[_NV_BALLOON_REASON_MAX] = {
        [NV_BALLOON_IDLE] = "idle",
        [NV_BALLOON_SHRINK] = "shrink: host under pressure",
        [NV_BALLOON_SHRINK_CRITICAL] = "shrink: host critical",
        [NV_BALLOON_GROW_GUEST] = "grow: guest under pressure",
        [NV_BALLOON_GROW_HOST_CLEAR] = "grow: host pressure cleared",
        [NV_BALLOON_AT_FLOOR] = "at floor",
        [NV_BALLOON_GUEST_NEEDS] = "guest needs its free memory",
        [NV_BALLOON_SMALL_CHANGE] = "change below MinChange",
        [NV_BALLOON_STALE] = "statistics stale: holding",
        [NV_BALLOON_NO_STATS] = "no guest statistics",
        [NV_BALLOON_WAITING] = "waiting for the balloon",
        [NV_BALLOON_STALLED] = "stalled: target not reached, withdrawn",
        [NV_BALLOON_BACKOFF] = "stalled: backing off",
        [NV_BALLOON_NO_DEVICE] = "no balloon device",
        [NV_BALLOON_FREE_PAGE_REPORTING] = "free page reporting: the guest returns free memory itself",
        [NV_BALLOON_DISABLED] = "disabled",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(nv_balloon_reason, nv_balloon_reason);

static const char *const nv_host_mem_state_table[] = {
        [NV_HOST_MEM_OK] = "ok",
        [NV_HOST_MEM_PRESSURE] = "pressure",
        [NV_HOST_MEM_CRITICAL] = "critical",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(nv_host_mem_state, nv_host_mem_state);

nv_host_mem_state nv_balloon_host_state(const nv_balloon_config *c, const nv_balloon_host *h,
                                        nv_host_mem_state prev) {
        double free_share = h->total_bytes ? (double)h->free_bytes / (double)h->total_bytes : 1.0;

        if (free_share < c->host_critical || h->psi_full_avg10 >= c->psi_critical)
                return NV_HOST_MEM_CRITICAL;
        if (free_share < c->host_pressure || h->psi_some_avg10 >= c->psi_pressure)
                return NV_HOST_MEM_PRESSURE;
        /* Hysteresis: pressure ends only with a margin of free memory and the stalls gone. */
        if (prev != NV_HOST_MEM_OK &&
            (free_share < c->host_pressure + c->host_clear || h->psi_some_avg10 >= c->psi_pressure / 2))
                return NV_HOST_MEM_PRESSURE;
        return NV_HOST_MEM_OK;
}

static bool have(uint64_t v) {
        return v != NV_BALLOON_UNKNOWN;
}

static void set_target(nv_balloon_guest *g, nv_balloon_decision *d, uint64_t target,
                       nv_balloon_reason reason) {
        if (target < g->stats.actual && g->memo->ceiling == 0)
                g->memo->ceiling = g->stats.actual;
        if (g->memo->ceiling > 0 && target >= g->memo->ceiling)
                g->memo->ceiling = 0; /* all given back */
        d->target = target;
        d->reason = reason;
        g->memo->target = target;
        g->memo->waiting = 0;
}

/* Counter deltas since the last epoch; a counter that went back (guest reboot) counts as 0. */
static void guest_deltas(nv_balloon_guest *g, uint64_t *ret_swap_in, uint64_t *ret_major) {
        nv_balloon_memo *mo = g->memo;
        const nv_balloon_stats *st = &g->stats;

        *ret_swap_in = *ret_major = 0;
        if (mo->have_prev) {
                if (have(st->swap_in) && have(mo->prev_swap_in) && st->swap_in > mo->prev_swap_in)
                        *ret_swap_in = st->swap_in - mo->prev_swap_in;
                if (have(st->major_faults) && have(mo->prev_major_faults) &&
                    st->major_faults > mo->prev_major_faults)
                        *ret_major = st->major_faults - mo->prev_major_faults;
        }
        mo->prev_swap_in = st->swap_in;
        mo->prev_major_faults = st->major_faults;
        mo->have_prev = true;
}

/* The pending target: reached, still on its way (returns true: nothing else this epoch unless the
 * guest needs memory), or stalled. */
static bool track_pending(const nv_balloon_config *c, nv_balloon_guest *g, uint64_t tolerance,
                          nv_balloon_decision *d) {
        nv_balloon_memo *mo = g->memo;
        uint64_t actual = g->stats.actual;

        if (mo->target == 0)
                return false;
        if ((actual > mo->target ? actual - mo->target : mo->target - actual) <= tolerance ||
            (g->autodeflate && actual > mo->target)) {
                mo->target = 0;
                mo->waiting = 0;
                mo->stalls = 0;
                return false;
        }
        if (++mo->waiting < c->stall_epochs) {
                d->reason = NV_BALLOON_WAITING;
                return true;
        }
        /* Stalled: withdraw the request (the balloon stays where it got to) and back off
         * exponentially, 2, 4, 8 ... times StallEpochs, at most 64 times. */
        mo->stalls++;
        mo->stall_count++;
        mo->backoff = c->stall_epochs << MIN(mo->stalls, 6u);
        mo->target = 0;
        mo->waiting = 0;
        d->target = actual;
        d->reason = NV_BALLOON_STALLED;
        d->stalled = true;
        return true;
}

/* Shrink or hold a guest while the host is under pressure. */
static void plan_shrink(const nv_balloon_config *c, nv_host_mem_state state, nv_balloon_guest *g,
                        uint64_t step, uint64_t min_change, uint64_t floor, nv_balloon_decision *d) {
        uint64_t actual = g->stats.actual, keep, spare, s, target;
        bool critical = state == NV_HOST_MEM_CRITICAL;

        if (g->free_page_reporting) {
                d->reason = NV_BALLOON_FREE_PAGE_REPORTING;
                return;
        }
        if (actual <= floor + min_change) {
                d->reason = NV_BALLOON_AT_FLOOR;
                return;
        }
        keep = (uint64_t)((critical ? c->guest_free / 2 : c->guest_free) * (double)actual);
        spare = g->stats.usable > keep ? g->stats.usable - keep : 0;
        s = MIN(spare, critical ? 2 * step : step);
        target = MAX(floor, actual - MIN(s, actual));
        if (actual - target < min_change) {
                d->reason = spare < min_change ? NV_BALLOON_GUEST_NEEDS
                            : target == floor  ? NV_BALLOON_AT_FLOOR
                                               : NV_BALLOON_SMALL_CHANGE;
                return;
        }
        set_target(g, d, target, critical ? NV_BALLOON_SHRINK_CRITICAL : NV_BALLOON_SHRINK);
}

/* A guest without statistics: under pressure, one probing step (which also finds a balloon that
 * does not move: a stall); nothing more without knowing what the guest needs. */
static void plan_no_stats(nv_host_mem_state state, nv_balloon_guest *g, uint64_t step, uint64_t min_change,
                          uint64_t floor, nv_balloon_decision *d) {
        nv_balloon_memo *mo = g->memo;
        uint64_t actual = g->stats.actual;

        d->reason = NV_BALLOON_NO_STATS;
        if (state != NV_HOST_MEM_OK) {
                if (!mo->probed && !g->free_page_reporting && actual >= floor + step) {
                        mo->probed = true;
                        set_target(g, d, actual - step, NV_BALLOON_NO_STATS);
                }
                return;
        }
        if (mo->ceiling > 0 && actual + min_change < mo->ceiling) {
                set_target(g, d, MIN(mo->ceiling, actual + step), NV_BALLOON_GROW_HOST_CLEAR);
                return;
        }
        mo->ceiling = 0;
        mo->probed = false;
}

nv_host_mem_state nv_balloon_plan(const nv_balloon_config *c, const nv_balloon_host *h,
                                  nv_host_mem_state prev, nv_balloon_guest *guests, unsigned n,
                                  nv_balloon_decision *ret) {
        nv_host_mem_state state = nv_balloon_host_state(c, h, prev);
        uint64_t clear_line = (uint64_t)((c->host_pressure + c->host_clear) * (double)h->total_bytes);
        /* Memory that may go back to guests without bringing the host back under pressure. */
        uint64_t headroom = h->free_bytes > clear_line ? h->free_bytes - clear_line : 0;
        bool *grow_later = NULL;
        bool grow_buf[64] = {};

        grow_later = n <= ARRAY_SIZE(grow_buf) ? grow_buf : calloc(n, sizeof(bool));

        for (unsigned i = 0; i < n; i++) {
                nv_balloon_guest *g = &guests[i];
                nv_balloon_decision *d = &ret[i];
                const nv_balloon_stats *st = &g->stats;
                uint64_t step = MAX((uint64_t)(c->max_step * (double)g->max_bytes), UINT64_C(1));
                uint64_t min_change = (uint64_t)(c->min_change * (double)g->max_bytes);
                uint64_t floor = MIN(g->floor_bytes, g->max_bytes);
                uint64_t swap_in, major;

                *d = (nv_balloon_decision){ .reason = NV_BALLOON_IDLE };
                if (!g->enabled) {
                        d->reason = NV_BALLOON_DISABLED;
                        continue;
                }
                if (!g->has_device) {
                        d->reason = NV_BALLOON_NO_DEVICE;
                        continue;
                }
                if (!have(st->actual) || g->max_bytes == 0) {
                        d->reason = NV_BALLOON_NO_STATS;
                        continue;
                }

                bool pending = track_pending(c, g, MAX(min_change, MIB), d);
                if (d->stalled)
                        continue;
                if (!pending && g->memo->backoff > 0) {
                        g->memo->backoff--;
                        d->reason = NV_BALLOON_BACKOFF;
                        continue;
                }

                if (!have(st->usable) || st->last_update <= 0) {
                        if (!pending)
                                plan_no_stats(state, g, step, min_change, floor, d);
                        continue;
                }
                guest_deltas(g, &swap_in, &major);
                if (h->now_sec - st->last_update > (int64_t)c->stale_sec) {
                        d->reason = NV_BALLOON_STALE;
                        continue;
                }

                /* Below the floor (set by someone else, or the floor was raised): back to it. */
                if (st->actual + min_change < floor) {
                        set_target(g, d, floor, NV_BALLOON_AT_FLOOR);
                        continue;
                }

                /* The guest's own pressure comes first, even while a shrink is under way. */
                d->guest_pressure = st->usable < (uint64_t)(c->guest_free / 2 * (double)st->actual) ||
                                    swap_in > 0 || major >= c->major_fault_pressure;
                if (d->guest_pressure) {
                        uint64_t want = (uint64_t)(c->guest_free * (double)st->actual);
                        uint64_t deficit = want > st->usable ? want - st->usable : 0;
                        uint64_t grow = CLAMP(deficit, step, 4 * step);
                        uint64_t top = g->memo->ceiling ?: g->max_bytes;
                        uint64_t target = MIN(top, st->actual + MIN(grow, h->free_bytes / 2));

                        if (target >= st->actual + min_change && target > st->actual)
                                set_target(g, d, target, NV_BALLOON_GROW_GUEST);
                        else
                                d->reason = NV_BALLOON_SMALL_CHANGE;
                        continue;
                }
                if (pending)
                        continue;

                if (state != NV_HOST_MEM_OK)
                        plan_shrink(c, state, g, step, min_change, floor, d);
                else if (g->memo->ceiling > 0 && st->actual + min_change < g->memo->ceiling && grow_later)
                        grow_later[i] = true;
        }

        /* The host is fine: give memory back, a step at a time, within the headroom. */
        for (unsigned i = 0; i < n && grow_later; i++) {
                nv_balloon_guest *g = &guests[i];
                uint64_t step = MAX((uint64_t)(c->max_step * (double)g->max_bytes), UINT64_C(1));
                uint64_t min_change = (uint64_t)(c->min_change * (double)g->max_bytes);
                uint64_t give;

                if (!grow_later[i])
                        continue;
                give = MIN(MIN(step, g->memo->ceiling - g->stats.actual), headroom);
                if (give < min_change || give == 0) {
                        ret[i].reason = NV_BALLOON_SMALL_CHANGE;
                        continue;
                }
                headroom -= give;
                set_target(g, &ret[i], g->stats.actual + give, NV_BALLOON_GROW_HOST_CLEAR);
        }
        if (grow_later != grow_buf)
                free(grow_later);
        return state;
}
