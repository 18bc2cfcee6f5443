/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numavctl: ask numavd what it sees and does, over varlink (io.numavd.Manager). */

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/parse.h"
#include "ctl/ctl-output.h"
#include "ctl/heatmap.h"
#include "ctl/output-file.h"
#include "varlink/varlink.h"

#define DEFAULT_ADDRESS  "unix:/run/numavd/io.numavd.Manager"
#define IFACE            "io.numavd.Manager."
#define EXIT_USAGE       2
#define EXIT_NOT_RUNNING 3
#define BAR_WIDTH        20

static const char *arg_address = DEFAULT_ADDRESS;
static const char *arg_output;
static bool arg_json;
static bool arg_legend = true;
static usec_t arg_timeout = 10 * USEC_PER_SEC;
static volatile sig_atomic_t interrupted;

static void help(void) {
        printf("%s [OPTIONS...] COMMAND ...\n\n"
               "Query and steer numavd, the NUMA-aware memory daemon.\n\n"
               "Commands:\n"
               "  status                     Host: nodes, free memory, backend, epoch, totals\n"
               "  vms                        Table of VMs, each with a bar of its memory per node\n"
               "  vm NAME|UUID|PID           One VM in detail\n"
               "  heatmap NAME|UUID|PID      The VM's regions of guest RAM by heat, node, target\n"
               "  monitor                    A line per epoch until interrupted\n"
               "  reload                     Ask the daemon to reload its configuration\n"
               "  set-log-level LEVEL        debug, info, notice, warning, err\n"
               "  metrics                    Prometheus text exposition (numavd_* metrics)\n"
               "  notify-domain NAME OPERATION SUBOPERATION\n"
               "                             Tell numavd about a libvirt domain event (oneway)\n\n"
               "Options:\n"
               "  -h --help                  Show this help\n"
               "     --version              Show the package version\n"
               "     --address=ADDRESS      Talk to ADDRESS (default: $NUMAVD_ADDRESS, else\n"
               "                            %s)\n"
               "     --json                 Print JSON\n"
               "     --timeout=DURATION     Wait at most this long to connect, to send a call and\n"
               "                            for its reply, each (default: 10s)\n"
               "     --no-legend            Print no table headers\n"
               "     --output=FILE          Replace FILE with the output once it is complete\n\n"
               "Exit status: 0 success, 1 the daemon answered with an error, 2 usage error,\n"
               "3 numavd is not running.\n",
               program_invocation_short_name, DEFAULT_ADDRESS);
}

static int connect_daemon(nv_varlink_client **ret) {
        int r = nv_varlink_client_connect(arg_address, arg_timeout, ret);

        if (r == -ETIMEDOUT) {
                fprintf(stderr,
                        "numavd is not answering (connecting to %s timed out: its backlog is full)\n",
                        arg_address);
                return -EXIT_NOT_RUNNING;
        }
        if (r < 0) {
                fprintf(stderr, "numavd is not running (cannot connect to %s: %s)\n", arg_address,
                        strerror(-r));
                return -EXIT_NOT_RUNNING;
        }
        return 0;
}

static void print_error(const char *method, const char *error, json_object *parameters) {
        fprintf(stderr, "%s failed: %s %s\n", method, error,
                json_object_to_json_string_ext(parameters,
                                               JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Call a method with one reply. Returns 0, or -(exit status) after saying what went wrong. */
static int call(nv_varlink_client *c, const char *method, json_object *parameters, json_object **ret) {
        _cleanup_free_ char *error = NULL;
        json_object *reply = NULL;
        int r;

        r = nv_varlink_client_call_one(c, method, parameters, arg_timeout, &reply, &error);
        if (r < 0) {
                fprintf(stderr, "Calling %s failed: %s\n", method, strerror(-r));
                return r == -ECONNRESET ? -EXIT_NOT_RUNNING : -EXIT_FAILURE;
        }
        if (error) {
                print_error(method, error, reply);
                json_object_put(reply);
                return -EXIT_FAILURE;
        }
        *ret = reply;
        return 0;
}

static void print_json(json_object *o) {
        printf("%s\n",
               json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Each field is read as the type io.numavd.Manager gives it; a field that is missing, null or of
 * another type reads as the default. */
static int64_t get_int(json_object *o, const char *key, int64_t def) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return def;
        return json_object_get_int64(v);
}

static bool get_bool(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
               json_object_get_boolean(v);
}

/* A float field (JSON writes a whole float as an integer, so both are numbers); NAN when absent. */
static double get_double(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) ||
            !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
                return NAN;
        return json_object_get_double(v);
}

/* Whether the field is there with a value: null means that numavd does not know it. */
static bool has_value(json_object *o, const char *key) {
        json_object *v;

        return json_object_object_get_ex(o, key, &v) && v;
}

static const char *get_str(json_object *o, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
                return "";
        return json_object_get_string(v);
}

static const char *size_str(char *buf, json_object *o, const char *key) {
        return format_size(buf, (uint64_t)MAX(get_int(o, key, 0), 0));
}

static int cmd_status(nv_varlink_client *c, char **args) {
        _cleanup_(json_object_putp) json_object *h = NULL;
        char a[FORMAT_BUF], b[FORMAT_BUF], f[FORMAT_BUF];
        json_object *nodes, *failure;
        int r;

        if ((r = call(c, IFACE "GetHost", NULL, &h)) < 0)
                return r;
        if (arg_json) {
                print_json(h);
                return 0;
        }
        printf("numavd %s, %s host, backend %s%s\n", get_str(h, "version"), get_str(h, "host"),
               get_str(h, "backend"), get_bool(h, "dryRun") ? " (dry run)" : "");
        printf("Epoch %" PRIi64 ", %" PRIi64 " VMs, %s moved in %" PRIi64 " calls\n", get_int(h, "epoch", 0),
               get_int(h, "vms", 0), size_str(a, h, "migratedBytes"), get_int(h, "moveCalls", 0));
        if (arg_legend)
                printf("%-5s %10s %10s %10s  %s\n", "NODE", "TOTAL", "FREE", "FLOOR", "DISTANCES");
        if (json_object_object_get_ex(h, "nodes", &nodes))
                for (size_t i = 0; i < json_object_array_length(nodes); i++) {
                        json_object *n = json_object_array_get_idx(nodes, i), *d;

                        printf("%-5" PRIi64 " %10s %10s %10s ", get_int(n, "id", -1),
                               size_str(a, n, "totalBytes"), size_str(b, n, "freeBytes"),
                               size_str(f, n, "floorBytes"));
                        if (json_object_object_get_ex(n, "distances", &d))
                                for (size_t k = 0; k < json_object_array_length(d); k++)
                                        printf(" %d", json_object_get_int(json_object_array_get_idx(d, k)));
                        printf("\n");
                }
        if (json_object_object_get_ex(h, "lastFailedReload", &failure) &&
            json_object_is_type(failure, json_type_object)) {
                time_t t = (time_t)(get_int(failure, "timestamp", 0) / (int64_t)USEC_PER_SEC);
                char when[64];
                struct tm tm;

                if (!localtime_r(&t, &tm) || strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                        snprintf(when, sizeof(when), "@%lld", (long long)t);
                printf("Last reload failed at %s, the previous configuration stays:\n  %s\n", when,
                       get_str(failure, "message"));
        }
        return 0;
}

static void print_node_bar(json_object *vm) {
        uint64_t bytes[16] = {};
        json_object *a;
        size_t n = 0;

        if (json_object_object_get_ex(vm, "memoryPerNode", &a) && json_object_is_type(a, json_type_array))
                for (n = 0; n < MIN(json_object_array_length(a), ARRAY_SIZE(bytes)); n++)
                        bytes[n] = (uint64_t)MAX(json_object_get_int64(json_object_array_get_idx(a, n)), 0);
        ctl_node_bar_print(stdout, bytes, n, BAR_WIDTH, ctl_use_colour(stdout));
}

static int cmd_vms(nv_varlink_client *c, char **args) {
        _cleanup_(json_object_putp) json_object *reply = NULL;
        json_object *vms;
        int r;

        if ((r = call(c, IFACE "ListVMs", NULL, &reply)) < 0)
                return r;
        if (!json_object_object_get_ex(reply, "vms", &vms) || !json_object_is_type(vms, json_type_array))
                return fprintf(stderr, "ListVMs: the reply has no VMs.\n"), -EXIT_FAILURE;
        if (arg_json) {
                print_json(vms);
                return 0;
        }
        if (arg_legend)
                printf("%-20s %8s %5s %8s %8s %6s %6s %8s  %s\n", "NAME", "PID", "VCPUS", "MEMORY", "HOT",
                       "LOCAL", "TARGET", "MOVED", "MEMORY PER NODE");
        for (size_t i = 0; i < json_object_array_length(vms); i++) {
                json_object *vm = json_object_array_get_idx(vms, i);
                char a[FORMAT_BUF], b[FORMAT_BUF], d[FORMAT_BUF];
                int64_t target = get_int(vm, "targetNode", -1);

                bool heat = has_value(vm, "hotBytes");

                ctl_print_safe(stdout, get_str(vm, "name"), 20);
                printf(" %8" PRIi64 " %5" PRIi64 " %8s %8s", get_int(vm, "pid", 0), get_int(vm, "vcpus", 0),
                       size_str(a, vm, "memoryBytes"), heat ? size_str(b, vm, "hotBytes") : "unknown");
                if (heat)
                        printf(" %5.1f%%", get_double(vm, "hotLocalPercent"));
                else
                        printf(" %6s", "-");
                printf(" %6s %8s  ", target >= 0 ? (char[]){ (char)('0' + target % 10), 0 } : "-",
                       size_str(d, vm, "migratedBytes"));
                print_node_bar(vm);
                printf("\n");
        }
        if (arg_legend)
                printf("\n%zu VMs; the bar shows each node's share of a VM's memory, node by node; HOT is "
                       "unknown without access sampling.\n",
                       json_object_array_length(vms));
        return 0;
}

static bool all_digits(const char *s) {
        return *s && strspn(s, "0123456789") == strlen(s);
}

static bool looks_like_uuid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (size_t i = 0; i < 36; i++)
                if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-'
                                                              : !strchr("0123456789abcdefABCDEF", s[i]))
                        return false;
        return true;
}

/* The parameters naming a VM by its NAME, UUID or PID, as the argument looks. */
static json_object *vm_parameters(const char *arg) {
        json_object *p = json_object_new_object();

        if (all_digits(arg))
                json_object_object_add(p, "pid", json_object_new_int64(strtoll(arg, NULL, 10)));
        else
                json_object_object_add(p, looks_like_uuid(arg) ? "uuid" : "name",
                                       json_object_new_string(arg));
        return p;
}

/* Who touches the VM's memory: private bytes per node, shared bytes, the faults sampled. */
static void print_attribution(json_object *vm) {
        char a[FORMAT_BUF];
        json_object *o, *per_node;

        if (!json_object_object_get_ex(vm, "attribution", &o) || !o) {
                printf("Attribution:     none (regions follow the VM's vCPUs as a whole)\n");
                return;
        }
        printf("Attribution:     private");
        if (json_object_object_get_ex(o, "privateBytesPerNode", &per_node))
                for (size_t i = 0; i < json_object_array_length(per_node); i++)
                        printf(" %zu:%s", i,
                               format_size(a, (uint64_t)json_object_get_int64(
                                                      json_object_array_get_idx(per_node, i))));
        printf(", shared %s\n", size_str(a, o, "sharedBytes"));
        printf("Faults:          %" PRIi64 " sampled of %" PRIi64 " pages zapped, %" PRIi64 " dropped\n",
               get_int(o, "faultsSampled", 0), get_int(o, "zappedPages", 0), get_int(o, "faultsDropped", 0));
}

static int cmd_vm(nv_varlink_client *c, char **args) {
        _cleanup_(json_object_putp) json_object *p = vm_parameters(args[0]), *reply = NULL;
        json_object *vm, *o;
        char a[FORMAT_BUF];
        int r;

        if ((r = call(c, IFACE "GetVM", p, &reply)) < 0)
                return r;
        if (!json_object_object_get_ex(reply, "vm", &vm))
                return fprintf(stderr, "GetVM: the reply has no VM.\n"), -EXIT_FAILURE;
        if (arg_json) {
                print_json(vm);
                return 0;
        }
        printf("Name:            ");
        ctl_print_safe(stdout, get_str(vm, "name"), 0);
        printf("\nUUID:            %s\n", *get_str(vm, "uuid") ? get_str(vm, "uuid") : "-");
        printf("PID:             %" PRIi64 "\n", get_int(vm, "pid", 0));
        printf("vCPUs:           %" PRIi64, get_int(vm, "vcpus", 0));
        if (has_value(vm, "vcpuNode"))
                printf(" (%.0f%% of their time on node %" PRIi64 ")\n", get_double(vm, "vcpuNodePercent"),
                       get_int(vm, "vcpuNode", -1));
        else
                printf(" (not seen running yet)\n");
        printf("Memory:          %s\n", size_str(a, vm, "memoryBytes"));
        printf("Memory per node: ");
        print_node_bar(vm);
        if (json_object_object_get_ex(vm, "memoryPerNode", &o))
                for (size_t i = 0; i < json_object_array_length(o); i++)
                        printf(" %zu:%s", i,
                               format_size(
                                       a, (uint64_t)json_object_get_int64(json_object_array_get_idx(o, i))));
        if (get_int(vm, "targetNode", -1) >= 0)
                printf("\nTarget node:     %" PRIi64 "\n", get_int(vm, "targetNode", -1));
        else
                printf("\nTarget node:     none\n");
        if (has_value(vm, "hotBytes"))
                printf("Hot:             %s, %.1f%% on the node of the vCPUs that touch it\n",
                       size_str(a, vm, "hotBytes"), get_double(vm, "hotLocalPercent"));
        else
                printf("Hot:             unknown (no access sampling: the VM is placed as a whole)\n");
        print_attribution(vm);
        printf("Moved:           %s", size_str(a, vm, "migratedBytes"));
        printf(" (last epoch %s", size_str(a, vm, "epochMovedBytes"));
        printf(", back and forth %s", size_str(a, vm, "pingPongBytes"));
        printf(", failed %s)\n", size_str(a, vm, "failedBytes"));
        printf("Regions:         %" PRIi64 "\n", get_int(vm, "regions", 0));
        printf("Placement:       %s%s\n", get_bool(vm, "placement") ? "on" : "off",
               get_bool(vm, "frozen") ? ", frozen (live migration)" : "");
        if (json_object_object_get_ex(vm, "bytesByVerdict", &o) &&
            json_object_is_type(o, json_type_object)) {
                bool any = false;

                if (get_int(o, "move", 0) > 0)
                        printf("Planned to move: %s\n", size_str(a, o, "move"));
                json_object_object_foreach(o, key, val) {
                        if (strcmp(key, "move") == 0 || !json_object_is_type(val, json_type_int))
                                continue;
                        printf("%s%s %s", any ? "  " : "Not moved, why:  ", key,
                               format_size(a, (uint64_t)MAX(json_object_get_int64(val), 0)));
                        any = true;
                }
                if (any)
                        printf("\n");
        }
        if (get_double(vm, "dirtyRate") >= 0)
                printf("Dirty rate:      %s/s\n", format_size(a, (uint64_t)get_double(vm, "dirtyRate")));
        else if (*get_str(vm, "dirtyRateUnavailable"))
                printf("Dirty rate:      unavailable: %s\n", get_str(vm, "dirtyRateUnavailable"));
        if (json_object_object_get_ex(vm, "counters", &o) && o) {
                printf("Counters:       ");
                json_object_object_foreach(o, key, val) {
                        if (json_object_is_type(val, json_type_int))
                                printf(" %s %" PRIi64, key, json_object_get_int64(val));
                }
                printf("\n");
        }
        if (json_object_object_get_ex(vm, "countersUnavailable", &o) && o) {
                printf("Unavailable:    ");
                json_object_object_foreach(o, key, why) {
                        if (json_object_is_type(why, json_type_string))
                                printf(" %s (%s)", key, json_object_get_string(why));
                }
                printf("\n");
        }
        return 0;
}

static int cmd_heatmap(nv_varlink_client *c, char **args) {
        _cleanup_(json_object_putp) json_object *p = vm_parameters(args[0]), *reply = NULL;
        int r;

        if ((r = call(c, IFACE "GetHeatMap", p, &reply)) < 0)
                return r;
        if (arg_json) {
                print_json(reply);
                return 0;
        }
        if (ctl_heatmap_print(stdout, reply, ctl_use_colour(stdout), arg_legend) < 0)
                return fprintf(stderr, "GetHeatMap: the reply has no regions.\n"), -EXIT_FAILURE;
        return 0;
}

static int on_epoch(json_object *p, const char *error, bool continues, void *userdata) {
        char a[FORMAT_BUF], b[FORMAT_BUF];
        json_object *vms;

        if (error) {
                print_error("Subscribe", error, p);
                return 0;
        }
        if (arg_json) {
                printf("%s\n", json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN |
                                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
                fflush(stdout);
                return 0;
        }
        printf("epoch %" PRIi64 ": moved %s in all", get_int(p, "epoch", 0),
               size_str(a, p, "migratedBytes"));
        if (json_object_object_get_ex(p, "vms", &vms))
                for (size_t i = 0; i < json_object_array_length(vms); i++) {
                        json_object *vm = json_object_array_get_idx(vms, i);
                        printf("; ");
                        ctl_print_safe(stdout, get_str(vm, "name"), 0);
                        if (has_value(vm, "hotBytes"))
                                printf(" hot %s %.1f%% local", size_str(a, vm, "hotBytes"),
                                       get_double(vm, "hotLocalPercent"));
                        else
                                printf(" hot unknown");
                        printf(", moved %s", size_str(b, vm, "epochMovedBytes"));
                }
        printf("\n");
        fflush(stdout);
        return 0;
}

static void on_sigint(int sig) {
        interrupted = 1;
}

static int cmd_monitor(nv_varlink_client *c, char **args) {
        struct sigaction sa = { .sa_handler = on_sigint }; /* no SA_RESTART: poll() returns */
        int r;

        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        r = nv_varlink_client_call(c, IFACE "Subscribe", NULL, NV_VARLINK_MORE, USEC_INFINITY, on_epoch,
                                   NULL);
        if (interrupted)
                return 0;
        if (r < 0) {
                fprintf(stderr, "Subscribe failed: %s\n", strerror(-r));
                return r == -ECONNRESET ? -EXIT_NOT_RUNNING : -EXIT_FAILURE;
        }
        return r > 0 ? -EXIT_FAILURE : 0;
}

static int cmd_simple(nv_varlink_client *c, const char *method, json_object *p) {
        _cleanup_(json_object_putp) json_object *reply = NULL;
        int r = call(c, method, p, &reply);

        if (r < 0)
                return r;
        if (arg_json)
                print_json(reply);
        return 0;
}

static int cmd_reload(nv_varlink_client *c, char **args) {
        return cmd_simple(c, IFACE "Reload", NULL);
}

static int cmd_set_log_level(nv_varlink_client *c, char **args) {
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();

        json_object_object_add(p, "level", json_object_new_string(args[0]));
        return cmd_simple(c, IFACE "SetLogLevel", p);
}

static int cmd_notify_domain(nv_varlink_client *c, char **args) {
        _cleanup_(json_object_putp) json_object *p = json_object_new_object();
        int r;

        json_object_object_add(p, "name", json_object_new_string(args[0]));
        json_object_object_add(p, "operation", json_object_new_string(args[1]));
        json_object_object_add(p, "subOperation", json_object_new_string(args[2]));
        r = nv_varlink_client_call(c, IFACE "NotifyDomain", p, NV_VARLINK_ONEWAY, arg_timeout, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "NotifyDomain failed: %s\n", strerror(-r));
                return -EXIT_FAILURE;
        }
        return 0;
}

static void metric(const char *name, const char *type, const char *help) {
        printf("# HELP numavd_%s %s\n# TYPE numavd_%s %s\n", name, help, name, type);
}

/* A gauge with one sample per node, from each node's field key. */
static void node_metric(json_object *nodes, size_t nn, const char *name, const char *help, const char *key) {
        metric(name, "gauge", help);
        for (size_t i = 0; i < nn; i++) {
                json_object *n = json_object_array_get_idx(nodes, i);
                printf("numavd_%s{node=\"%" PRIi64 "\"} %" PRIi64 "\n", name, get_int(n, "id", 0),
                       get_int(n, key, 0));
        }
}

static void vm_label(json_object *vm) {
        printf("{vm=\"");
        ctl_prom_label(stdout, get_str(vm, "name"));
        printf("\"");
}

static int cmd_metrics(nv_varlink_client *c, char **args) {
        _cleanup_(json_object_putp) json_object *h = NULL, *l = NULL;
        json_object *nodes = NULL, *vms = NULL;
        int r;

        if ((r = call(c, IFACE "GetHost", NULL, &h)) < 0 || (r = call(c, IFACE "ListVMs", NULL, &l)) < 0)
                return r;
        (void)json_object_object_get_ex(h, "nodes", &nodes);
        (void)json_object_object_get_ex(l, "vms", &vms);
        if (arg_json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "host", json_object_get(h));
                json_object_object_add(o, "vms", json_object_get(vms));
                print_json(o);
                json_object_put(o);
                return 0;
        }
        size_t nn = nodes ? json_object_array_length(nodes) : 0,
               nv = vms ? json_object_array_length(vms) : 0;

        metric("epochs_total", "counter", "Epochs completed.");
        printf("numavd_epochs_total %" PRIi64 "\n", get_int(h, "epoch", 0));
        metric("vms", "gauge", "VMs tracked.");
        printf("numavd_vms %" PRIi64 "\n", get_int(h, "vms", 0));
        metric("migrated_bytes_total", "counter", "Bytes of guest memory moved between nodes.");
        printf("numavd_migrated_bytes_total %" PRIi64 "\n", get_int(h, "migratedBytes", 0));
        metric("move_calls_total", "counter", "move_pages(2) calls.");
        printf("numavd_move_calls_total %" PRIi64 "\n", get_int(h, "moveCalls", 0));
        node_metric(nodes, nn, "node_total_bytes", "Memory of a NUMA node.", "totalBytes");
        node_metric(nodes, nn, "node_free_bytes", "Free memory of a NUMA node.", "freeBytes");
        node_metric(nodes, nn, "node_floor_bytes", "Free memory numavd's moves leave on a NUMA node.",
                    "floorBytes");
        static const struct {
                const char *name, *type, *key, *help;
        } per_vm[] = {
                { "vm_memory_bytes", "gauge", "memoryBytes", "Guest RAM of a VM." },
                { "vm_hot_bytes", "gauge", "hotBytes", "Hot guest memory of a VM." },
                { "vm_hot_local_percent", "gauge", "hotLocalPercent",
                  "Share of hot memory on its target node." },
                { "vm_migrated_bytes_total", "counter", "migratedBytes",
                  "Bytes of a VM moved between nodes." },
                { "vm_ping_pong_bytes_total", "counter", "pingPongBytes",
                  "Bytes moved back to a node they had left." },
                { "vm_failed_bytes_total", "counter", "failedBytes", "Bytes whose move failed." },
        };
        for (size_t k = 0; k < ARRAY_SIZE(per_vm); k++) {
                metric(per_vm[k].name, per_vm[k].type, per_vm[k].help);
                for (size_t i = 0; i < nv; i++) {
                        json_object *vm = json_object_array_get_idx(vms, i);
                        double v = get_double(vm, per_vm[k].key);

                        if (isnan(v)) /* unknown (null): no sample */
                                continue;
                        printf("numavd_%s", per_vm[k].name);
                        vm_label(vm);
                        printf("} %.17g\n", v);
                }
        }
        static const struct {
                const char *name, *key, *help;
        } per_vm_node[] = {
                { "vm_node_bytes", "memoryPerNode", "Guest memory of a VM on a node." },
                { "vm_hot_node_bytes", "hotPerNode", "Hot guest memory of a VM on a node." },
        };
        for (size_t k = 0; k < ARRAY_SIZE(per_vm_node); k++) {
                metric(per_vm_node[k].name, "gauge", per_vm_node[k].help);
                for (size_t i = 0; i < nv; i++) {
                        json_object *vm = json_object_array_get_idx(vms, i), *a;
                        if (!json_object_object_get_ex(vm, per_vm_node[k].key, &a) ||
                            !json_object_is_type(a, json_type_array))
                                continue;
                        for (size_t n = 0; n < json_object_array_length(a); n++) {
                                printf("numavd_%s", per_vm_node[k].name);
                                vm_label(vm);
                                printf(",node=\"%zu\"} %" PRIi64 "\n", n,
                                       json_object_get_int64(json_object_array_get_idx(a, n)));
                        }
                }
        }
        metric("vm_verdict_bytes", "gauge",
               "Region bytes of a VM by the policy's verdict in the last epoch.");
        for (size_t i = 0; i < nv; i++) {
                json_object *vm = json_object_array_get_idx(vms, i), *o;
                if (!json_object_object_get_ex(vm, "bytesByVerdict", &o))
                        continue;
                json_object_object_foreach(o, key, val) {
                        printf("numavd_vm_verdict_bytes");
                        vm_label(vm);
                        printf(",verdict=\"");
                        ctl_prom_label(stdout, key);
                        printf("\"} %" PRIi64 "\n", json_object_get_int64(val));
                }
        }
        return 0;
}

static const struct command {
        const char *name;
        int args;
        int (*run)(nv_varlink_client *c, char **args);
} commands[] = {
        { "status", 0, cmd_status },
        { "vms", 0, cmd_vms },
        { "vm", 1, cmd_vm },
        { "heatmap", 1, cmd_heatmap },
        { "monitor", 0, cmd_monitor },
        { "reload", 0, cmd_reload },
        { "set-log-level", 1, cmd_set_log_level },
        { "metrics", 0, cmd_metrics },
        { "notify-domain", 3, cmd_notify_domain },
};

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_ADDRESS,
                ARG_JSON,
                ARG_TIMEOUT,
                ARG_NO_LEGEND,
                ARG_OUTPUT,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "address", required_argument, NULL, ARG_ADDRESS },
                { "json", no_argument, NULL, ARG_JSON },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "output", required_argument, NULL, ARG_OUTPUT },
                {},
        };
        const char *env = getenv("NUMAVD_ADDRESS");
        int c;

        if (env && *env)
                arg_address = env;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("%s\n", PACKAGE_STRING);
                        return 0;
                case ARG_ADDRESS:
                        arg_address = optarg;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_TIMEOUT:
                        if (parse_sec(optarg, &arg_timeout) < 0 || arg_timeout == 0) {
                                fprintf(stderr, "Invalid --timeout: %s\n", optarg);
                                return -EXIT_USAGE;
                        }
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case ARG_OUTPUT:
                        if (!*optarg) {
                                fprintf(stderr, "Invalid --output: an empty file name\n");
                                return -EXIT_USAGE;
                        }
                        arg_output = optarg;
                        break;
                default:
                        return -EXIT_USAGE;
                }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(nv_varlink_client_freep) nv_varlink_client *c = NULL;
        _cleanup_free_ char *output_tmp = NULL;
        const struct command *cmd = NULL;
        int r, q;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return -r;
        if (optind >= argc) {
                fprintf(stderr, "No command given; see %s --help.\n", program_invocation_short_name);
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (strcmp(argv[optind], commands[i].name) == 0)
                        cmd = &commands[i];
        if (!cmd) {
                fprintf(stderr, "Unknown command: %s; see %s --help.\n", argv[optind],
                        program_invocation_short_name);
                return EXIT_USAGE;
        }
        if (argc - optind - 1 != cmd->args) {
                fprintf(stderr, "%s takes %d argument%s; see %s --help.\n", cmd->name, cmd->args,
                        cmd->args == 1 ? "" : "s", program_invocation_short_name);
                return EXIT_USAGE;
        }

        r = connect_daemon(&c);
        if (r < 0)
                return -r;
        if (arg_output && (q = ctl_output_open(arg_output, &output_tmp)) < 0) {
                fprintf(stderr, "Cannot write %s: %s\n", arg_output, strerror(-q));
                return EXIT_FAILURE;
        }
        r = cmd->run(c, argv + optind + 1);
        if (arg_output && (q = ctl_output_commit(arg_output, output_tmp, r >= 0)) < 0) {
                fprintf(stderr, "Cannot write %s: %s\n", arg_output, strerror(-q));
                return EXIT_FAILURE;
        }
        fflush(stdout);
        return r < 0 ? -r : 0;
}
