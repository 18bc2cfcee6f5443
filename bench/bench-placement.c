/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placement quality: numavd (the daemon itself, driven epoch by epoch through nv_manager_tick())
 * and the baselines, each on its own fresh instance of the same scenario and seed, so that all
 * see the same trace. Per run and epoch: the host's remote-access fraction, the mean memory
 * latency, the share of the hot set on its accessors' node (the sim's truth), bytes moved and
 * ping-pong bytes (the mover shim). Writes OUT/NAME-series.csv, OUT/NAME-remote.dat (the plot's
 * data), appends to OUT/summary.csv and OUT/sweep.csv, and prints a table.
 *
 * Usage: bench-placement [--epochs=N] [--out=DIR] [--config=FILE] [--quick] SCENARIO...
 *        bench-placement --overhead [--epochs=N] [--config=FILE] SCENARIO
 * --overhead runs numavd alone, with callgrind collection (valgrind --collect-atstart=no) on
 * only outside the host's ports, and prints instructions per epoch, per GiB and the peak RSS. */

#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <valgrind/callgrind.h>

#include "bench/baselines.h"
#include "bench/shim.h"
#include "common/log.h"
#include "daemon/manager.h"

#define MAX_EPOCHS 600

static void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

typedef struct run {
        char policy[32];
        char params[64];
        unsigned epochs;
        double remote[MAX_EPOCHS], latency[MAX_EPOCHS], hot_local[MAX_EPOCHS];
        double auc, mean_latency;
        int to95; /* worst epochs to get back to 95% hot-local; -1 never */
        uint64_t moved, ping_pong, hot_bytes;
        double move_sec; /* what the moves cost, in seconds of copying (sim/costs.h) */
} run;

typedef struct probe {
        nv_sim *sim;
        const nv_host *host;
        const nv_inventory *inv;
        nv_sim_costs last;
} probe;

/* Measured at each epoch boundary right after the refresh that closes the epoch, before the
 * policy acts on it: the remote share and latency of the epoch's accesses, and the hot set's
 * placement as the epoch left it. */
static void probe_epoch(probe *p, run *out, unsigned e) {
        nv_sim_costs c;
        uint64_t hot = 0, local = 0;

        nv_sim_get_costs(p->sim, &c);
        double acc = (double)(c.accesses - p->last.accesses);
        out->remote[e] = acc > 0 ? (double)(c.remote_accesses - p->last.remote_accesses) / acc : 0;
        out->latency[e] = acc > 0 ? (c.access_ns - p->last.access_ns) / acc : 0;
        p->last = c;
        for (size_t i = 0; i < p->inv->nr_vms; i++) {
                nv_truth t;
                if (p->host->truth(p->host->ctx, p->inv->vms[i].id, &t) < 0)
                        continue;
                hot += t.hot_bytes;
                local += t.hot_local_bytes;
        }
        out->hot_local[e] = hot > 0 ? (double)local / (double)hot : 1;
        out->epochs = e + 1;
}

static void finish(run *r, const nv_sim *sim, const mover_shim *ms) {
        nv_sim_costs c;
        int worst = 0, start = -1;

        nv_sim_get_costs(sim, &c);
        r->mean_latency = c.accesses > 0 ? c.access_ns / (double)c.accesses : 0;
        r->move_sec = c.move_ns * 1e-9;
        r->auc = 0;
        for (unsigned e = 0; e < r->epochs; e++) {
                r->auc += r->remote[e]; /* one epoch is one second */
                if (r->hot_local[e] < 0.95 && start < 0)
                        start = (int)e;
                if (r->hot_local[e] >= 0.95 && start >= 0) {
                        worst = MAX(worst, (int)e - start);
                        start = -1;
                }
        }
        r->to95 = start >= 0 ? -1 : worst;
        r->moved = ms->moved_bytes;
        r->ping_pong = ms->ping_pong_bytes;
}

/* numavd refreshes its inventory first thing in an epoch's end: measure there. */
static const nv_vm_source_ops *probed_source;
static probe *active_probe;
static run *active_run;
static unsigned probe_count;

static int probed_refresh(void *ctx, nv_inventory *inv) {
        int r = probed_source->refresh(ctx, inv);

        if (r >= 0 && active_probe && probe_count++ > 0 && probe_count - 1 <= MAX_EPOCHS) {
                active_probe->inv = inv;
                probe_epoch(active_probe, active_run, probe_count - 2);
        }
        return r;
}

static const nv_vm_source_ops probed_source_ops = { .refresh = probed_refresh };

static int run_numavd(const char *scn, const char *conf, unsigned epochs, bool overhead, run *out) {
        nv_manager_options o = { .config_file = conf, .sim_scenario = scn, .log_level = LOG_WARNING };
        _cleanup_(nv_manager_freep) nv_manager *m = NULL;
        mover_shim ms = {};
        probe p = {};
        int r;

        r = nv_manager_new(&o, &m);
        if (r < 0)
                return r;
        p = (probe){ .sim = m->sim, .host = &m->host };
        if (overhead) {
                shim_wrap_host(&m->host);
                shim_wrap_access(&m->access, &m->access_ctx);
        } else {
                probed_source = m->host.source;
                m->host.source = &probed_source_ops;
                active_probe = &p;
                active_run = out;
                probe_count = 0;
        }
        r = nv_manager_start(m);
        if (r < 0)
                return r;
        r = mover_shim_init(&ms, m->host.mover, m->host.mover_ctx, &m->inv);
        if (r < 0)
                return r;
        /* The daemon's page mover goes through the shim, as the baselines' moves do. */
        m->host.mover = &shim_mover_ops;
        m->host.mover_ctx = &ms;
        nv_mover_free(m->mover);
        m->mover = NULL;
        r = nv_mover_new(m->host.mover, m->host.mover_ctx, m->config->max_move_rate,
                         (uint64_t)((double)m->config->max_move_rate * m->config->epoch / USEC_PER_SEC),
                         &m->mover);
        if (r < 0)
                goto out;

        snprintf(out->policy, sizeof(out->policy), "numavd");
        snprintf(out->params, sizeof(out->params), "defaults");
        for (unsigned e = 0; e < epochs;) {
                if (overhead && e == 1)
                        shim_collect(true); /* the first epoch builds the maps */
                if (nv_manager_tick(m) <= 0)
                        continue;
                e++;
        }
        shim_collect(false);
        active_probe = NULL;
        out->epochs = epochs;
        finish(out, m->sim, &ms);
out:
        active_probe = NULL;
        mover_shim_done(&ms);
        return r;
}

static int run_baseline(const char *scn, const bl_ops *ops, const bl_params *params, unsigned epochs,
                        run *out) {
        _cleanup_(nv_sim_freep) nv_sim *sim = NULL;
        nv_inventory inv = {};
        nv_host host, shimmed;
        mover_shim ms = {};
        void *st = NULL;
        probe p = {};
        usec_t now = 0;
        int r;

        r = nv_sim_load_file(scn, &sim);
        if (r < 0)
                return r;
        nv_sim_host(sim, false, &host);
        r = host.source->refresh(host.ctx, &inv);
        if (r < 0)
                return r;
        r = mover_shim_init(&ms, host.mover, host.mover_ctx, &inv);
        if (r < 0)
                goto out;
        shimmed = host;
        shimmed.mover = &shim_mover_ops;
        shimmed.mover_ctx = &ms;
        bl_env env = { .sim = sim, .host = &shimmed, .seed = 0x5eed };
        r = ops->new (&env, params, &inv, &st);
        if (r < 0)
                goto out;

        p = (probe){ .sim = sim, .host = &host, .inv = &inv };
        nv_sim_get_costs(sim, &p.last);
        snprintf(out->policy, sizeof(out->policy), "%s", ops->name);
        snprintf(out->params, sizeof(out->params), "%s", params->label);
        for (unsigned e = 0; e < epochs; e++) {
                usec_t end = (usec_t)(e + 1) * USEC_PER_SEC;
                while (now < end) {
                        usec_t dt = ops->step ? MIN(ops->step_usec, end - now) : end - now;
                        host.advance(host.ctx, dt);
                        now += dt;
                        if (ops->step)
                                ops->step(st, &inv, now);
                }
                nv_inventory_clear(&inv);
                r = host.source->refresh(host.ctx, &inv);
                if (r < 0)
                        goto out;
                probe_epoch(&p, out, e);
                if (ops->epoch)
                        ops->epoch(st, &inv, now);
        }
        finish(out, sim, &ms);
out:
        ops->free(st);
        mover_shim_done(&ms);
        nv_inventory_clear(&inv);
        return r;
}

static double best_key(const run *r) {
        /* Best sweep point: the smallest AUC; then the fewest bytes moved. */
        return r->auc + (double)r->moved * 1e-15;
}

/* The ratio is numavd's value over the best baseline's (the oracle is no baseline; "none" counts
 * only where moving nothing can win, not for the rows about moving). */
static void print_row(const char *metric, const char *unit, const run *runs, size_t n, size_t numavd,
                      double (*get)(const run *), bool lower_better, bool with_none) {
        double best = NAN;

        printf("  %-22s", metric);
        for (size_t i = 0; i < n; i++) {
                double v = get(&runs[i]);
                printf(" %12.4g", v);
                if (i != numavd && strcmp(runs[i].policy, "oracle") != 0 && !isnan(v) &&
                    (with_none || strcmp(runs[i].policy, "none") != 0))
                        best = isnan(best) ? v : lower_better ? MIN(best, v) : MAX(best, v);
        }
        double nv = get(&runs[numavd]);
        if (isnan(nv) || isnan(best))
                printf("   %8s", "n/a");
        else if (best == 0)
                printf("   %8s", nv == 0 ? "1.00" : "inf");
        else
                printf("   %8.2f", nv / best);
        printf("  %s\n", unit);
}

static double g_auc(const run *r) {
        return r->auc;
}
static double g_lat(const run *r) {
        return r->mean_latency;
}
static double g_to95(const run *r) {
        return r->to95 < 0 ? NAN : r->to95;
}
static double g_moved(const run *r) {
        return (double)r->moved / (double)MIB;
}
static double g_move_sec(const run *r) {
        return r->move_sec;
}
static double g_moved_hot(const run *r) {
        return r->hot_bytes > 0 ? (double)r->moved / (double)r->hot_bytes : NAN;
}
static double g_pp(const run *r) {
        return (double)r->ping_pong / (double)MIB;
}
static double g_pp_share(const run *r) {
        return r->moved > 0 ? (double)r->ping_pong / (double)r->moved : 0;
}

static FILE *open_out(const char *dir, const char *name, const char *suffix, const char *mode) {
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix);
        return fopen(path, mode);
}

static int bench_scenario(const char *scn, const char *conf, unsigned epochs, const char *outdir,
                          bool quick) {
        const bl_ops *all[] = { &bl_none, &bl_numad, &bl_autonuma, &bl_damon };
        run runs[8] = {}, tmp;
        size_t n = 0;
        char name[256], *dup = strdup(scn);
        uint64_t oracle_moved;
        int r;

        snprintf(name, sizeof(name), "%s", basename(dup));
        free(dup);
        if (strrchr(name, '.'))
                *strrchr(name, '.') = 0;

        _cleanup_fclose_ FILE *sweep = open_out(outdir, "sweep.csv", "", "a");
        r = run_numavd(scn, conf, epochs, false, &runs[n++]);
        if (r < 0)
                return r;
        for (size_t b = 0; b < ARRAY_SIZE(all); b++) {
                run *best = &runs[n];
                size_t points = quick ? 1 : all[b]->nr_sweep;
                for (size_t s = 0; s < points; s++) {
                        memset(&tmp, 0, sizeof(tmp));
                        r = run_baseline(scn, all[b], &all[b]->sweep[s], epochs, &tmp);
                        if (r < 0)
                                return r;
                        if (sweep)
                                fprintf(sweep, "%s,%s,\"%s\",%.4f,%.2f,%d,%" PRIu64 ",%" PRIu64 "\n", name,
                                        tmp.policy, tmp.params, tmp.auc, tmp.mean_latency, tmp.to95,
                                        tmp.moved, tmp.ping_pong);
                        if (s == 0 || best_key(&tmp) < best_key(best))
                                *best = tmp;
                }
                n++;
        }
        r = run_baseline(scn, &bl_oracle, &bl_oracle.sweep[0], epochs, &runs[n++]);
        if (r < 0)
                return r;
        oracle_moved = runs[n - 1].moved;
        for (size_t i = 0; i < n; i++)
                runs[i].hot_bytes = oracle_moved;

        /* Series and plot data. */
        _cleanup_fclose_ FILE *series = open_out(outdir, name, "-series.csv", "w");
        _cleanup_fclose_ FILE *dat = open_out(outdir, name, "-remote.dat", "w");
        if (!series || !dat)
                return log_error_errno(-errno, "Cannot write to %s: %m", outdir);
        fprintf(series, "scenario,policy,params,epoch,remote_fraction,mean_latency_ns,hot_local_fraction\n");
        fprintf(dat, "epoch");
        for (size_t i = 0; i < n; i++) {
                fprintf(dat, " %s", runs[i].policy);
                for (unsigned e = 0; e < runs[i].epochs; e++)
                        fprintf(series, "%s,%s,\"%s\",%u,%.6f,%.3f,%.6f\n", name, runs[i].policy,
                                runs[i].params, e + 1, runs[i].remote[e], runs[i].latency[e],
                                runs[i].hot_local[e]);
        }
        fprintf(dat, "\n");
        for (unsigned e = 0; e < epochs; e++) {
                fprintf(dat, "%u", e + 1);
                for (size_t i = 0; i < n; i++)
                        fprintf(dat, " %.6f", runs[i].remote[e]);
                fprintf(dat, "\n");
        }
        _cleanup_fclose_ FILE *sum = open_out(outdir, "summary.csv", "", "a");
        for (size_t i = 0; sum && i < n; i++)
                fprintf(sum,
                        "%s,%s,\"%s\",%u,%.4f,%.2f,%d,%" PRIu64 ",%" PRIu64 ",%.4f,%" PRIu64 ",%.6f,%.3f\n",
                        name, runs[i].policy, runs[i].params, runs[i].epochs, runs[i].auc,
                        runs[i].mean_latency, runs[i].to95, runs[i].moved, runs[i].hot_bytes,
                        g_moved_hot(&runs[i]), runs[i].ping_pong, g_pp_share(&runs[i]), runs[i].move_sec);

        printf("\n%s (%u epochs of 1 s)\n  %-22s", name, epochs, "metric");
        for (size_t i = 0; i < n; i++)
                printf(" %12s", runs[i].policy);
        printf("   %8s\n", "numavd/best");
        print_row("remote AUC", "remote-fraction x s", runs, n, 0, g_auc, true, true);
        print_row("mean latency", "ns", runs, n, 0, g_lat, true, true);
        print_row("epochs to 95% local", "worst recovery (nan: never)", runs, n, 0, g_to95, true, false);
        print_row("bytes moved", "MiB", runs, n, 0, g_moved, true, false);
        print_row("copy time of moves", "s (not charged to the workload)", runs, n, 0, g_move_sec, true,
                  false);
        print_row("moved / hot bytes", "hot bytes: what the oracle moves", runs, n, 0, g_moved_hot, true,
                  false);
        print_row("ping-pong", "MiB", runs, n, 0, g_pp, true, false);
        print_row("ping-pong / moved", "", runs, n, 0, g_pp_share, true, false);
        printf("  baselines' best sweep points:");
        for (size_t i = 1; i + 1 < n; i++)
                printf(" %s [%s]", runs[i].policy, runs[i].params);
        printf("\n");
        fflush(stdout);
        return 0;
}

static int bench_overhead(const char *scn, const char *conf, unsigned epochs) {
        _cleanup_(nv_sim_freep) nv_sim *sim = NULL;
        nv_inventory inv = {};
        nv_host host;
        static run out;
        uint64_t tracked = 0;
        struct rusage ru;
        int r;

        r = nv_sim_load_file(scn, &sim);
        if (r < 0)
                return r;
        nv_sim_host(sim, false, &host);
        r = host.source->refresh(host.ctx, &inv);
        if (r < 0)
                return r;
        for (size_t i = 0; i < inv.nr_vms; i++)
                tracked += nv_vm_ram_bytes(&inv.vms[i]);
        nv_inventory_clear(&inv);
        sim = nv_sim_free(sim);

        r = run_numavd(scn, conf, epochs, true, &out);
        if (r < 0)
                return r;
        getrusage(RUSAGE_SELF, &ru);
        printf("scenario %s\ntracked_gib %.1f\nmeasured_epochs %u\non_valgrind %d\npeak_rss_mib %.1f\n", scn,
               (double)tracked / (double)GIB, epochs - 1, (int)RUNNING_ON_VALGRIND,
               (double)ru.ru_maxrss / 1024.0);
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option opts[] = {
                { "epochs", required_argument, NULL, 'e' }, { "out", required_argument, NULL, 'o' },
                { "config", required_argument, NULL, 'c' }, { "overhead", no_argument, NULL, 'O' },
                { "quick", no_argument, NULL, 'q' },        {},
        };
        const char *outdir = ".", *conf = NULL;
        unsigned epochs = 40;
        bool overhead = false, quick = false;
        int c, r;

        log_set_max_level(LOG_WARNING);
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 'e':
                        epochs = (unsigned)atoi(optarg);
                        if (epochs < 2 || epochs > MAX_EPOCHS) {
                                fprintf(stderr, "--epochs must be 2..%d\n", MAX_EPOCHS);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'o':
                        outdir = optarg;
                        break;
                case 'c':
                        conf = optarg;
                        break;
                case 'O':
                        overhead = true;
                        break;
                case 'q':
                        quick = true;
                        break;
                default:
                        return EXIT_FAILURE;
                }
        if (optind >= argc) {
                fprintf(stderr,
                        "usage: %s [--epochs=N] [--out=DIR] [--config=FILE] [--quick|--overhead] "
                        "SCENARIO...\n",
                        argv[0]);
                return EXIT_FAILURE;
        }
        for (int i = optind; i < argc; i++) {
                r = overhead ? bench_overhead(argv[i], conf, epochs)
                             : bench_scenario(argv[i], conf, epochs, outdir, quick);
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", argv[i], strerror(-r));
                        return EXIT_FAILURE;
                }
        }
        return EXIT_SUCCESS;
}
