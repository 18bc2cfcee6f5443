/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "common/log.h"
#include "daemon/attribution.h"
#include "daemon/manager.h"
#include "daemon/migration.h"
#include "daemon/varlink-manager.h"
#include "host/libvirt-event.h"
#include "host/real-host.h"

unsigned nv_manager_samples_per_epoch(const nv_manager *m) {
        return (unsigned)MAX((usec_t)1, m->config->epoch / m->config->sample_interval);
}

/* Wall time between ticks: the sample interval, scaled by --speed on a host whose time is virtual
 * (one that advances). */
static usec_t tick_interval(const nv_manager *m) {
        if (!m->host.advance || m->opts.speed == 1.0)
                return m->config->sample_interval;
        if (m->opts.speed <= 0)
                return 0;
        return (usec_t)((double)m->config->sample_interval / m->opts.speed);
}

static void update_flush(nv_manager *m) {
        m->flush = m->config->flush == NV_AUTO ? m->inv.nested : m->config->flush == NV_YES;
}

static void notify_status(nv_manager *m) {
        uint64_t hot = 0, local = 0;
        char a[FORMAT_BUF], b[FORMAT_BUF];

        for (size_t i = 0; i < m->nr_vms; i++) {
                hot += m->vms[i]->counters.hot_bytes;
                local += m->vms[i]->counters.hot_local_bytes;
        }
        (void)sd_notifyf(false, "STATUS=Epoch %" PRIu64 ": %zu VMs, %s hot, %.1f%% local, %s moved",
                         m->epoch, m->nr_vms, format_size(a, hot),
                         hot ? 100.0 * (double)local / (double)hot : 100.0, format_size(b, m->moved_bytes));
}

int nv_manager_tick(nv_manager *m) {
        int r;

        m->vclock += m->config->sample_interval;
        if (m->host.advance)
                m->host.advance(m->host.ctx, m->config->sample_interval);
        nv_epoch_sample(m);

        if (++m->sample_in_epoch < nv_manager_samples_per_epoch(m)) {
                if (m->sample_in_epoch % nv_epoch_early_rounds(m) == 0)
                        nv_epoch_early_moves(m);
                if (nv_epoch_attribution_is_midway(m))
                        nv_epoch_attribution_midway(m);
                return 0;
        }
        m->sample_in_epoch = 0;
        r = nv_epoch_finish(m);
        if (r < 0)
                log_warning_errno(r, "Epoch %" PRIu64 " failed, continuing: %m", m->epoch);
        update_flush(m);
        notify_status(m);
        nv_varlink_manager_publish(m);
        return 1;
}

static int on_tick(sd_event_source *source, uint64_t usec, void *userdata) {
        nv_manager *m = userdata;
        usec_t interval = tick_interval(m), now;
        int r;

        if (nv_manager_tick(m) > 0 && m->opts.max_epochs > 0 && m->epoch >= m->opts.max_epochs)
                return sd_event_exit(m->event, 0);

        /* Re-arm on the schedule; if we fell behind by more than a tick, start again from now. */
        (void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        m->next_wakeup = usec + interval;
        if (m->next_wakeup + interval < now)
                m->next_wakeup = now;
        r = sd_event_source_set_time(source, m->next_wakeup);
        if (r < 0)
                return log_error_errno(r, "Cannot re-arm the sample timer: %m");
        return sd_event_source_set_enabled(source, SD_EVENT_ON);
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        nv_manager *m = userdata;

        log_info("Received SIG%s, exiting.", sigabbrev_np((int)si->ssi_signo));
        return sd_event_exit(m->event, 0);
}

static int on_reload_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void)nv_manager_reload(userdata);
        return 0;
}

static int reload(nv_manager *m) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        struct timespec ts;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        (void)sd_notifyf(false, "RELOADING=1\nSTATUS=Reloading the configuration\nMONOTONIC_USEC=%" PRIu64,
                         (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000);
        r = nv_config_load(NULL, m->opts.config_file, &c);
        if (r < 0)
                log_error_errno(r, "Reloading the configuration failed, keeping the previous one.");
        else if (!m->sim) {
                r = nv_real_host_set_sources(&m->host, c->sources != NV_SOURCES_PROC,
                                             c->sources != NV_SOURCES_LIBVIRT, c->libvirt_uri);
                if (r < 0)
                        log_error_errno(r,
                                        "Cannot switch the VM sources, keeping the previous configuration.");
        }
        if (r < 0) {
                (void)sd_notify(false, "READY=1\nSTATUS=Reload failed, the previous configuration stays");
                return r;
        }

        nv_config_free(m->config);
        m->config = TAKE_PTR(c);
        if (m->opts.log_level < 0)
                log_set_max_level(m->config->log_level);
        nv_mover_set_rate(m->mover, m->config->max_move_rate,
                          nv_config_epoch_bytes(m->config, m->config->max_move_rate));
        update_flush(m);
        nv_heatmap_config hc = nv_manager_heatmap_config(m);
        for (size_t i = 0; i < m->nr_vms; i++)
                nv_heatmap_set_config(m->vms[i]->heat, &hc);
        m->sample_in_epoch = MIN(m->sample_in_epoch, nv_manager_samples_per_epoch(m) - 1);
        (void)nv_epoch_refresh(m); /* applies per-VM overrides */

        log_info("Configuration reloaded.");
        (void)sd_notify(false, "READY=1\nSTATUS=Configuration reloaded");
        return 0;
}

int nv_manager_reload(nv_manager *m) {
        int r;

        nv_reload_failure_begin(&m->reload_failure);
        r = reload(m);
        nv_reload_failure_end(&m->reload_failure, r);
        return r;
}

static int on_refresh_now(sd_event_source *s, void *userdata) {
        nv_manager *m = userdata;

        m->refresh_now = sd_event_source_disable_unref(m->refresh_now);
        (void)nv_epoch_refresh(m);
        return 0;
}

/* The real host saw a VM start or exit (libvirt event, pidfd): refresh once the loop is idle. */
static void on_host_change(void *userdata) {
        nv_manager *m = userdata;
        int r;

        if (m->refresh_now || !m->event)
                return;
        r = sd_event_add_defer(m->event, &m->refresh_now, on_refresh_now, m);
        if (r < 0)
                log_warning_errno(r, "Cannot schedule a refresh, waiting for the epoch, ignoring: %m");
}

static int setup_host(nv_manager *m) {
        int r;

        if (!m->opts.sim_scenario) {
                _cleanup_(sd_event_unrefp) sd_event *e = NULL;

                r = sd_event_default(&e); /* the loop nv_manager_new() takes next */
                if (r < 0)
                        return log_error_errno(r, "Cannot create the event loop: %m");
                /* Before any libvirt connection (VM source or balloons, now or after a reload):
                 * libvirt takes its event loop once, ahead of every connection. */
                r = nv_libvirt_event_register(e);
                if (r < 0)
                        return log_error_errno(r, "Cannot give libvirt the event loop: %m");
                nv_real_host_params p = {
                        .event = e,
                        .use_libvirt = m->config->sources != NV_SOURCES_PROC,
                        .use_proc = m->config->sources != NV_SOURCES_LIBVIRT,
                        .libvirt_uri = m->config->libvirt_uri,
                        .overcommit = true,
                        .attribution = m->config->backend != NV_BACKEND_NONE,
                        .on_change = on_host_change,
                        .userdata = m,
                };
                r = nv_real_host_new(&p, &m->host);
                if (r < 0)
                        return log_error_errno(r, "Cannot set up the real host: %m");
                return 0;
        }

        r = nv_sim_load_file(m->opts.sim_scenario, &m->sim);
        if (r < 0)
                return log_error_errno(r, "Cannot load scenario %s.", m->opts.sim_scenario);
        nv_sim_host(m->sim, false, &m->host);
        return 0;
}

int nv_manager_block_signals(void) {
        sigset_t ss;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        sigaddset(&ss, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(-errno, "Cannot block signals: %m");
        return 0;
}

int nv_manager_new(const nv_manager_options *opts, nv_manager **ret) {
        _cleanup_(nv_manager_freep) nv_manager *m = NULL;
        int r;

        /* A write to a peer that went away (libvirtd restarting under the balloon actuator or the
         * VM source, a varlink client) must fail with EPIPE, not kill the daemon. */
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
                return log_error_errno(-errno, "Cannot ignore SIGPIPE: %m");

        m = calloc(1, sizeof(*m));
        if (!m)
                return log_oom();
        m->opts = *opts;

        r = nv_config_load(NULL, opts->config_file, &m->config);
        if (r < 0)
                return log_error_errno(r, "Cannot load the configuration.");
        if (opts->log_level < 0)
                log_set_max_level(m->config->log_level);

        r = setup_host(m);
        if (r < 0)
                return r;
        nv_overcommit_setup(m);
        r = nv_backend_pick(m);
        if (r < 0)
                return r;

        r = nv_mover_new(m->host.mover, m->host.mover_ctx, m->config->max_move_rate,
                         nv_config_epoch_bytes(m->config, m->config->max_move_rate), &m->mover);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the page mover: %m");

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Cannot create the event loop: %m");

        r = nv_manager_block_signals();
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, NULL, SIGTERM, on_exit_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGINT, on_exit_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, NULL, SIGHUP, on_reload_signal, m);
        if (r < 0)
                return log_error_errno(r, "Cannot watch signals: %m");

        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                log_warning_errno(r, "Cannot enable the watchdog, ignoring: %m");

        r = nv_varlink_manager_new(m, &m->varlink);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

int nv_manager_start(nv_manager *m) {
        int r;

        r = nv_epoch_refresh(m);
        if (r < 0)
                return r;
        update_flush(m);
        /* The heat maps were made before this first inventory said whether the host is nested. */
        nv_heatmap_config hc = nv_manager_heatmap_config(m);
        for (size_t i = 0; i < m->nr_vms; i++)
                nv_heatmap_set_config(m->vms[i]->heat, &hc);
        if (m->flush && m->access)
                log_info("The host runs nested: accessed bits are cleared with a flush.");
        return 0;
}

int nv_manager_run(nv_manager *m) {
        usec_t now;
        int r;

        r = nv_manager_start(m);
        if (r < 0)
                return r;

        (void)sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        m->next_wakeup = now + tick_interval(m);
        r = sd_event_add_time(m->event, &m->sample_timer, CLOCK_MONOTONIC, m->next_wakeup, 1, on_tick, m);
        if (r < 0)
                return log_error_errno(r, "Cannot arm the sample timer: %m");
        (void)sd_event_source_set_description(m->sample_timer, "sample-timer");

        (void)sd_notifyf(false, "READY=1\nSTATUS=Tracking %zu VMs", m->nr_vms);

        r = sd_event_loop(m->event);
        (void)sd_notify(false, "STOPPING=1\nSTATUS=Shutting down");
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return 0;
}

nv_manager *nv_manager_free(nv_manager *m) {
        if (!m)
                return NULL;
        m->varlink = nv_varlink_manager_free(m->varlink);
        nv_epoch_forget_all(m);
        nv_migration_done(m);
        if (m->access && m->access != m->host.access && m->access->destroy)
                m->access->destroy(m->access_ctx); /* a backend backend.c made: undo what it did */
        free(m->vms);
        nv_inventory_clear(&m->inv);
        nv_mover_free(m->mover);
        sd_event_source_unref(m->sample_timer);
        sd_event_source_disable_unref(m->refresh_now);
        sd_event_unref(m->event);
        nv_host_destroy(&m->host); /* restores the KSM settings found at start */
        nv_sim_free(m->sim);
        nv_config_free(m->config);
        free(m);
        return NULL;
}
