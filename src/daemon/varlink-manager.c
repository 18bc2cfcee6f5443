/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io.numavd.Manager: the daemon's methods over varlink. */

#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "daemon/manager.h"
#include "daemon/migration.h"
#include "daemon/varlink-manager.h"
#include "varlink/varlink.h"

#define INTERFACE    "io.numavd.Manager"
#define ERROR_NO_VM  INTERFACE ".NoSuchVM"
#define ERROR_CONFIG INTERFACE ".ConfigInvalid"
#define SOCKET_MODE  0660
#define VARLINK_URL  "https://github.com/numavd/numavd"

struct nv_varlink_manager {
        nv_varlink_server *server;
};

static bool vm_matches(const nv_vm_state *s, const char *key) {
        return strcmp(s->info.name, key) == 0 || (s->info.uuid[0] && strcasecmp(s->info.uuid, key) == 0);
}

/* Parameters: reject unknown ones, and ones of the wrong type. */
static int check_parameters(nv_varlink_call *call, json_object *p, const char *const *keys,
                            const json_type *types) {
        json_object_object_foreach(p, key, value) {
                size_t i;

                for (i = 0; keys[i]; i++)
                        if (strcmp(key, keys[i]) == 0)
                                break;
                if (!keys[i] ||
                    (!json_object_is_type(value, json_type_null) && !json_object_is_type(value, types[i])))
                        return nv_varlink_error_invalid_parameter(call, key) ?: -EINVAL;
        }
        return 0;
}

static const char *get_string(json_object *p, const char *key) {
        json_object *v;

        if (!json_object_object_get_ex(p, key, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int method_get_host(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        nv_manager *m = userdata;
        json_object *o = json_object_new_object(), *nodes = json_object_new_array();
        int r;

        if ((r = check_parameters(call, p, (const char *const[]){ NULL }, NULL)) != 0)
                return r;
        json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
        json_object_object_add(o, "host", json_object_new_string(m->host.kind));
        json_object_object_add(o, "backend", json_object_new_string(m->access ? m->access->name : "none"));
        json_object_object_add(o, "dryRun", json_object_new_boolean(m->opts.dry_run));
        json_object_object_add(o, "epoch", json_object_new_uint64(m->epoch));
        json_object_object_add(o, "vms", json_object_new_uint64(m->nr_vms));
        for (unsigned n = 0; n < m->inv.nr_nodes; n++) {
                json_object *node = json_object_new_object(), *d = json_object_new_array();

                json_object_object_add(node, "id", json_object_new_int((int)n));
                json_object_object_add(node, "totalBytes",
                                       json_object_new_uint64(m->inv.nodes[n].total_bytes));
                json_object_object_add(node, "freeBytes",
                                       json_object_new_uint64(m->inv.nodes[n].free_bytes));
                json_object_object_add(node, "highWatermarkBytes",
                                       m->inv.nodes[n].high_wmark_bytes
                                               ? json_object_new_uint64(m->inv.nodes[n].high_wmark_bytes)
                                               : NULL);
                json_object_object_add(node, "floorBytes",
                                       json_object_new_uint64(nv_epoch_node_floor(m, n)));
                for (unsigned k = 0; k < m->inv.nr_nodes; k++)
                        json_object_array_add(d, json_object_new_int(m->inv.distance[n][k]));
                json_object_object_add(node, "distances", d);
                json_object_array_add(nodes, node);
        }
        json_object_object_add(o, "nodes", nodes);
        json_object_object_add(o, "nested", json_object_new_boolean(m->inv.nested));
        nv_report_mover_json(m, o);
        nv_reload_failure_json(&m->reload_failure, o);
        return nv_varlink_reply(call, o);
}

static int method_list_vms(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        nv_manager *m = userdata;
        json_object *all;
        int r;

        if ((r = check_parameters(call, p, (const char *const[]){ NULL }, NULL)) != 0)
                return r;
        if (flags & NV_VARLINK_MORE)
                for (size_t i = 0; i + 1 < m->nr_vms; i++) {
                        json_object *one = json_object_new_object(), *a = json_object_new_array();

                        json_object_array_add(a, nv_report_vm_json(m, m->vms[i]));
                        json_object_object_add(one, "vms", a);
                        r = nv_varlink_notify(call, one);
                        if (r < 0)
                                return r;
                }
        all = json_object_new_array();
        for (size_t i = (flags & NV_VARLINK_MORE) && m->nr_vms > 0 ? m->nr_vms - 1 : 0; i < m->nr_vms; i++)
                json_object_array_add(all, nv_report_vm_json(m, m->vms[i]));
        json_object *o = json_object_new_object();
        json_object_object_add(o, "vms", all);
        return nv_varlink_reply(call, o);
}

/* The VM a GetVM or GetHeatMap call names by exactly one of name, uuid and pid. Returns 1 with
 * *ret set, or what answering the call with an error returned (0, or negative). */
static int find_vm(nv_varlink_call *call, json_object *p, const nv_manager *m, const nv_vm_state **ret) {
        static const char *const keys[] = { "name", "uuid", "pid", NULL };
        static const json_type types[] = { json_type_string, json_type_string, json_type_int };
        const char *name, *uuid;
        json_object *v;
        int64_t pid = -1;
        int r;

        if ((r = check_parameters(call, p, keys, types)) != 0)
                return r;
        name = get_string(p, "name");
        uuid = get_string(p, "uuid");
        if (json_object_object_get_ex(p, "pid", &v) && json_object_is_type(v, json_type_int)) {
                pid = json_object_get_int64(v);
                if (pid <= 0)
                        return nv_varlink_error_invalid_parameter(call, "pid");
        }
        if ((name != NULL) + (uuid != NULL) + (pid > 0) != 1)
                return nv_varlink_error_invalid_parameter(call, name ? (uuid ? "uuid" : "pid") : "name");

        for (size_t i = 0; i < m->nr_vms; i++) {
                const nv_vm_state *s = m->vms[i];

                if ((name && strcmp(s->info.name, name) == 0) ||
                    (uuid && s->info.uuid[0] && strcasecmp(s->info.uuid, uuid) == 0) ||
                    (pid > 0 && s->info.pid == pid)) {
                        *ret = s;
                        return 1;
                }
        }
        return nv_varlink_error(call, ERROR_NO_VM, NULL);
}

static int method_get_vm(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        const nv_vm_state *s;
        json_object *o;
        int r;

        if ((r = find_vm(call, p, userdata, &s)) <= 0)
                return r;
        o = json_object_new_object();
        json_object_object_add(o, "vm", nv_report_vm_json(userdata, s));
        return nv_varlink_reply(call, o);
}

/* The node holding most of a region's bytes, -1 when its node is not known. */
static int region_node(const nv_region *r) {
        uint64_t best = 0;
        int node = -1;

        for (int nd = 0; nd < NV_MAX_NODES; nd++)
                if (r->node_bytes[nd] > best) {
                        best = r->node_bytes[nd];
                        node = nd;
                }
        return node;
}

static int method_get_heat_map(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        const nv_manager *m = userdata;
        unsigned nr_nodes = MAX(m->inv.nr_nodes, 1u);
        const nv_vm_state *s;
        json_object *o, *a;
        size_t n;
        int r;

        if ((r = find_vm(call, p, m, &s)) <= 0)
                return r;
        const nv_region *regions = nv_heatmap_regions(s->heat, &n);
        a = json_object_new_array();
        for (size_t i = 0; i < n; i++) {
                json_object *region = json_object_new_object(), *nodes = json_object_new_array();
                int target = i < s->nr_region_target ? s->region_target[i] : -1;

                for (unsigned nd = 0; nd < nr_nodes; nd++)
                        json_object_array_add(nodes, json_object_new_uint64(regions[i].node_bytes[nd]));
                json_object_object_add(region, "start", json_object_new_uint64(regions[i].start));
                json_object_object_add(region, "bytes",
                                       json_object_new_uint64(nv_region_bytes(&regions[i])));
                json_object_object_add(region, "heat", json_object_new_double(regions[i].heat));
                json_object_object_add(region, "hot",
                                       json_object_new_boolean(regions[i].heat >= s->counters.hot_heat &&
                                                               s->counters.hot_heat > 0));
                json_object_object_add(region, "node", json_object_new_int(region_node(&regions[i])));
                json_object_object_add(region, "nodeBytes", nodes);
                json_object_object_add(region, "target", json_object_new_int(target));
                json_object_array_add(a, region);
        }
        o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(s->info.name));
        json_object_object_add(o, "epoch", json_object_new_uint64(m->epoch));
        json_object_object_add(o, "hotHeat", json_object_new_double(s->counters.hot_heat));
        json_object_object_add(o, "regions", a);
        return nv_varlink_reply(call, o);
}

static json_object *epoch_summary(const nv_manager *m) {
        json_object *o = json_object_new_object(), *a = json_object_new_array();

        json_object_object_add(o, "epoch", json_object_new_uint64(m->epoch));
        json_object_object_add(o, "migratedBytes", json_object_new_uint64(m->moved_bytes));
        for (size_t i = 0; i < m->nr_vms; i++) {
                const nv_vm_state *s = m->vms[i];
                json_object *vm = json_object_new_object();

                json_object_object_add(vm, "name", json_object_new_string(s->info.name));
                nv_report_heat_json(s, vm);
                json_object_object_add(vm, "targetNode", json_object_new_int(s->counters.target_node));
                json_object_object_add(vm, "epochMovedBytes",
                                       json_object_new_uint64(s->counters.epoch_moved_bytes));
                json_object_object_add(vm, "migratedBytes",
                                       json_object_new_uint64(s->counters.migrated_bytes));
                json_object_array_add(a, vm);
        }
        json_object_object_add(o, "vms", a);
        return o;
}

static int method_subscribe(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        int r;

        if ((r = check_parameters(call, p, (const char *const[]){ NULL }, NULL)) != 0)
                return r;
        if (!(flags & NV_VARLINK_MORE))
                return nv_varlink_error(call, NV_VARLINK_ERROR_EXPECTED_MORE, NULL);
        /* The current state now, then one reply per epoch (nv_varlink_manager_publish). */
        return nv_varlink_notify(call, epoch_summary(userdata));
}

void nv_varlink_manager_publish(nv_manager *m) {
        json_object *o;

        if (!m->varlink || !m->varlink->server)
                return;
        o = epoch_summary(m);
        (void)nv_varlink_server_notify(m->varlink->server, INTERFACE ".Subscribe", o);
        json_object_put(o);
}

static int method_reload(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        nv_manager *m = userdata;
        int r;

        if ((r = check_parameters(call, p, (const char *const[]){ NULL }, NULL)) != 0)
                return r;
        r = nv_manager_reload(m);
        if (r < 0) {
                json_object *e = json_object_new_object();
                /* The first error, which names the file and line. */
                json_object_object_add(e, "message", json_object_new_string(m->reload_failure.message));
                return nv_varlink_error(call, ERROR_CONFIG, e);
        }
        return nv_varlink_reply(call, NULL);
}

static int method_set_log_level(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        static const char *const keys[] = { "level", NULL };
        static const json_type types[] = { json_type_string };
        nv_manager *m = userdata;
        const char *level;
        int r;

        if ((r = check_parameters(call, p, keys, types)) != 0)
                return r;
        level = get_string(p, "level");
        r = level ? log_level_from_string(level) : -EINVAL;
        if (r < 0)
                return nv_varlink_error_invalid_parameter(call, "level");
        log_set_max_level(r);
        m->opts.log_level = r; /* a reload keeps it */
        log_info("Log level set to %s.", log_level_to_string(r));
        return nv_varlink_reply(call, NULL);
}

static int method_notify_domain(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        static const char *const keys[] = { "name", "uuid", "operation", "subOperation", NULL };
        static const json_type types[] = { json_type_string, json_type_string, json_type_string,
                                           json_type_string };
        nv_manager *m = userdata;
        const char *name, *uuid, *op, *sub, *key;
        int r;

        if ((r = check_parameters(call, p, keys, types)) != 0)
                return r;
        name = get_string(p, "name");
        uuid = get_string(p, "uuid");
        op = get_string(p, "operation");
        sub = get_string(p, "subOperation");
        if (!name || !name[0] || strlen(name) > 1024)
                return nv_varlink_error_invalid_parameter(call, "name");
        if (uuid && strlen(uuid) > 36)
                return nv_varlink_error_invalid_parameter(call, "uuid");
        if (!op)
                return nv_varlink_error_invalid_parameter(call, "operation");
        if (!sub)
                return nv_varlink_error_invalid_parameter(call, "subOperation");
        key = uuid && uuid[0] ? uuid : name;
        log_debug("libvirt: domain %s %s %s.", name, op, sub);

        nv_migration_hook(m, name, uuid, op, sub); /* migrate begin freezes; started, stopped thaw */
        if (strcmp(op, "started") == 0 || strcmp(op, "reconnect") == 0 || strcmp(op, "attach") == 0)
                (void)nv_epoch_refresh(m);
        else if (strcmp(op, "stopped") == 0 || strcmp(op, "release") == 0) {
                for (size_t i = 0; i < m->nr_vms; i++)
                        if (vm_matches(m->vms[i], key) || strcmp(m->vms[i]->info.name, name) == 0) {
                                log_info("VM %s stopped, forgetting it.", name);
                                nv_epoch_forget(m, m->vms[i]->info.id);
                                break;
                        }
        }
        return nv_varlink_reply(call, NULL);
}

static const nv_varlink_method manager_methods[] = {
        { "GetHost", method_get_host, false },
        { "ListVMs", method_list_vms, false },
        { "GetVM", method_get_vm, false },
        { "GetHeatMap", method_get_heat_map, false },
        { "Subscribe", method_subscribe, false },
        { "Reload", method_reload, true },
        { "SetLogLevel", method_set_log_level, true },
        { "NotifyDomain", method_notify_domain, true },
        {},
};

static int listen_default(nv_varlink_server *s) {
        const char *path = NV_VARLINK_DEFAULT_ADDRESS + strlen("unix:");
        _cleanup_free_ char *dir = strndup(path, (size_t)(strrchr(path, '/') - path));
        int r;

        if (!dir)
                return log_oom();
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_warning_errno(-errno, "Cannot create %s, not serving varlink, ignoring: %m", dir),
                       0;
        r = nv_varlink_server_listen_address(s, NV_VARLINK_DEFAULT_ADDRESS, SOCKET_MODE);
        if (r < 0)
                log_warning_errno(r, "Cannot listen on %s, not serving varlink, ignoring: %m",
                                  NV_VARLINK_DEFAULT_ADDRESS);
        return 0;
}

int nv_varlink_manager_new(nv_manager *m, nv_varlink_manager **ret) {
        nv_varlink_manager *v;
        const char *address = m->opts.varlink_address;
        int n, r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return log_oom();
        *ret = v; /* freed with the manager, also on error */

        n = sd_listen_fds(true);
        if (n < 0)
                log_warning_errno(n, "Cannot read the sockets passed by systemd, ignoring: %m");
        if (n <= 0 && ((address && strcmp(address, "no") == 0) || (!address && m->sim)))
                return 0;

        r = nv_varlink_server_new(m->event, "numavd", "numavd", PACKAGE_VERSION, VARLINK_URL, m, &v->server);
        if (r < 0)
                return log_error_errno(r, "Cannot create the varlink server: %m");
        r = nv_varlink_server_add_interface(v->server, INTERFACE, nv_manager_interface_description,
                                            manager_methods);
        if (r < 0)
                return log_oom();

        if (n > 0) {
                for (int i = 0; i < n; i++) {
                        r = nv_varlink_server_listen_fd(v->server, SD_LISTEN_FDS_START + i);
                        if (r < 0)
                                return log_error_errno(
                                        r, "Cannot serve varlink on the socket passed by systemd: %m");
                }
                log_debug("Serving varlink on %d socket(s) passed by systemd.", n);
                return 0;
        }
        if (!address)
                return listen_default(v->server);
        r = nv_varlink_server_listen_address(v->server, address, SOCKET_MODE);
        if (r < 0)
                return log_error_errno(r, "Cannot listen on %s: %m", address);
        log_debug("Serving varlink on %s.", address);
        return 0;
}

nv_varlink_manager *nv_varlink_manager_free(nv_varlink_manager *v) {
        if (!v)
                return NULL;
        nv_varlink_server_free(v->server);
        free(v);
        return NULL;
}
