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
                for (unsigned k = 0; k < m->inv.nr_nodes; k++)
                        json_object_array_add(d, json_object_new_int(m->inv.distance[n][k]));
                json_object_object_add(node, "distances", d);
                json_object_array_add(nodes, node);
        }
        json_object_object_add(o, "nodes", nodes);
        json_object_object_add(o, "nested", json_object_new_boolean(m->inv.nested));
        nv_report_mover_json(m, o);
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

static int method_get_vm(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        static const char *const keys[] = { "name", "uuid", "pid", NULL };
        static const json_type types[] = { json_type_string, json_type_string, json_type_int };
        nv_manager *m = userdata;
        const char *name, *uuid;
        json_object *v, *o;
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
                        o = json_object_new_object();
                        json_object_object_add(o, "vm", nv_report_vm_json(m, s));
                        return nv_varlink_reply(call, o);
                }
        }
        return nv_varlink_error(call, ERROR_NO_VM, NULL);
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

typedef struct capture {
        char buf[1024];
} capture;

static void capture_errors(int level, const char *message, void *userdata) {
        capture *c = userdata;

        if (level > LOG_ERR || c->buf[0]) /* the first error names the file and line */
                return;
        snprintf(c->buf, sizeof(c->buf), "%s", message);
}

static int method_reload(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        nv_manager *m = userdata;
        capture c = {};
        int r;

        if ((r = check_parameters(call, p, (const char *const[]){ NULL }, NULL)) != 0)
                return r;
        log_set_hook(capture_errors, &c);
        r = nv_manager_reload(m);
        log_set_hook(NULL, NULL);
        if (r < 0) {
                json_object *e = json_object_new_object();
                json_object_object_add(e, "message",
                                       json_object_new_string(c.buf[0] ? c.buf : strerror(-r)));
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
