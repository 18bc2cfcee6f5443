/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numavd: keeps every VM's hot memory on the NUMA node where its vCPUs run. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/parse.h"
#include "daemon/manager.h"

static void help(void) {
        printf("%s [OPTIONS...]\n\n"
               "NUMA-aware memory daemon for KVM hosts.\n\n"
               "  -h --help               Show this help\n"
               "     --version            Show the package version\n"
               "  -c --config=FILE        Read FILE (and FILE.d/*.conf) instead of /etc/numavd\n"
               "     --sim=SCENARIO       Run against the simulated host described by SCENARIO\n"
               "                          (a file, or the name of a shipped scenario: rehome, ...)\n"
               "     --speed=X            Simulator: X times real time; 0 = as fast as possible\n"
               "     --epochs=N           Exit after N epochs\n"
               "     --once               Exit after one epoch\n"
               "     --dry-run            Plan and report, but move nothing\n"
               "     --watch              Print a line per epoch per VM\n"
               "     --summary=json       Print one JSON object describing the run at exit\n"
               "     --log-level=LEVEL    debug, info, notice, warning, err\n"
               "     --varlink=ADDRESS    Serve io.numavd.Manager on ADDRESS (unix:/PATH), or 'no';\n"
               "                          default: the socket systemd passed, else\n"
               "                          unix:/run/numavd/io.numavd.Manager (not with --sim)\n",
               program_invocation_short_name);
}

/* A scenario named without a path is looked up among the shipped ones. */
static char *find_scenario(const char *arg) {
        static const char *const dirs[] = { PKGDATADIR "/scenarios", ABS_TOP_SRCDIR "/bench/scenarios" };
        char *p;

        if (strchr(arg, '/') || access(arg, F_OK) == 0)
                return strdup(arg);
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                if (asprintf(&p, "%s/%s%s", dirs[i], arg, strstr(arg, ".scn") ? "" : ".scn") < 0)
                        return NULL;
                if (access(p, R_OK) == 0)
                        return p;
                free(p);
        }
        return strdup(arg);
}

static int parse_argv(int argc, char *argv[], nv_manager_options *o, char **ret_scenario) {
        enum {
                ARG_VERSION = 0x100,
                ARG_SIM,
                ARG_SPEED,
                ARG_EPOCHS,
                ARG_ONCE,
                ARG_DRY_RUN,
                ARG_WATCH,
                ARG_SUMMARY,
                ARG_LOG_LEVEL,
                ARG_VARLINK,
        };
        static const struct option options[] = { { "help", no_argument, NULL, 'h' },
                                                 { "version", no_argument, NULL, ARG_VERSION },
                                                 { "config", required_argument, NULL, 'c' },
                                                 { "sim", required_argument, NULL, ARG_SIM },
                                                 { "speed", required_argument, NULL, ARG_SPEED },
                                                 { "epochs", required_argument, NULL, ARG_EPOCHS },
                                                 { "once", no_argument, NULL, ARG_ONCE },
                                                 { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                                                 { "watch", no_argument, NULL, ARG_WATCH },
                                                 { "summary", required_argument, NULL, ARG_SUMMARY },
                                                 { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                                                 { "varlink", required_argument, NULL, ARG_VARLINK },
                                                 {} };
        int c, r;

        while ((c = getopt_long(argc, argv, "hc:", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("%s\n", PACKAGE_STRING);
                        return 0;
                case 'c':
                        o->config_file = optarg;
                        break;
                case ARG_SIM:
                        free(*ret_scenario);
                        *ret_scenario = find_scenario(optarg);
                        if (!*ret_scenario)
                                return log_oom();
                        break;
                case ARG_SPEED:
                        r = parse_double(optarg, &o->speed);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --speed: %s", optarg);
                        break;
                case ARG_EPOCHS:
                        r = parse_uint(optarg, UINT32_MAX, &o->max_epochs);
                        if (r < 0 || o->max_epochs == 0)
                                return log_error_errno(r < 0 ? r : -EINVAL, "Invalid --epochs: %s", optarg);
                        break;
                case ARG_ONCE:
                        o->max_epochs = 1;
                        break;
                case ARG_DRY_RUN:
                        o->dry_run = true;
                        break;
                case ARG_WATCH:
                        o->watch = true;
                        break;
                case ARG_SUMMARY:
                        if (strcmp(optarg, "json") != 0)
                                return log_error_errno(-EINVAL, "Invalid --summary: %s (only json is known)",
                                                       optarg);
                        o->summary_json = true;
                        break;
                case ARG_LOG_LEVEL:
                        r = log_level_from_string(optarg);
                        if (r < 0)
                                return log_error_errno(r, "Invalid --log-level: %s", optarg);
                        o->log_level = r;
                        log_set_max_level(r);
                        break;
                case ARG_VARLINK:
                        o->varlink_address = optarg;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(-EINVAL, "Unexpected argument: %s", argv[optind]);
        o->sim_scenario = *ret_scenario;
        return 1;
}

static int run(int argc, char *argv[]) {
        _cleanup_(nv_manager_freep) nv_manager *m = NULL;
        _cleanup_free_ char *scenario = NULL;
        nv_manager_options o = { .speed = 1.0, .log_level = -1 };
        int r;

        log_open();
        r = parse_argv(argc, argv, &o, &scenario);
        if (r <= 0)
                return r;

        r = nv_manager_new(&o, &m);
        if (r < 0)
                return r;
        r = nv_manager_run(m);
        if (o.summary_json)
                (void)nv_report_summary_json(m, stdout);
        return r;
}

int main(int argc, char *argv[]) {
        return run(argc, argv) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
