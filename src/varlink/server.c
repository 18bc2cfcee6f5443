/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink server object: its settings, interfaces, notifications to subscribers, teardown. */

#include <string.h>

#include "varlink/server-internal.h"

void nv_varlink_limits_default(nv_varlink_limits *ret) {
        *ret = (nv_varlink_limits){
                .max_message = NV_VARLINK_DEFAULT_MAX_MESSAGE,
                .max_depth = NV_VARLINK_DEFAULT_MAX_DEPTH,
                .max_connections = NV_VARLINK_DEFAULT_MAX_CONNECTIONS,
                .max_per_uid = NV_VARLINK_DEFAULT_MAX_PER_UID,
                .idle_usec = NV_VARLINK_DEFAULT_IDLE_USEC,
        };
}

int nv_varlink_server_new(sd_event *event, const char *vendor, const char *product, const char *version,
                          const char *url, void *userdata, nv_varlink_server **ret) {
        _cleanup_(nv_varlink_server_freep) nv_varlink_server *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->vendor = vendor;
        s->product = product;
        s->version = version;
        s->url = url;
        s->userdata = userdata;
        nv_varlink_limits_default(&s->limits);
        r = nv_varlink_server_add_service(s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

void nv_varlink_server_set_limits(nv_varlink_server *s, const nv_varlink_limits *limits) {
        s->limits = *limits;
        s->limits.max_depth = CLAMP(s->limits.max_depth, 2u, 1000u);
}

int nv_varlink_server_add_interface(nv_varlink_server *s, const char *name, const char *description,
                                    const nv_varlink_method *methods) {
        interface *a = reallocarray(s->interfaces, s->nr_interfaces + 1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        s->interfaces = a;
        s->interfaces[s->nr_interfaces++] = (interface){ name, description, methods };
        return 0;
}

int nv_varlink_server_notify(nv_varlink_server *s, const char *method, json_object *parameters) {
        int n = 0;

        for (connection *c = s->connections, *next; c; c = next) {
                next = c->next;
                if (!c->call.open || !c->call.method || strcmp(c->call.method, method) != 0)
                        continue;
                if (nv_varlink_connection_notify_latest(c, parameters) < 0) {
                        nv_varlink_connection_free(c);
                        continue;
                }
                n++;
        }
        return n;
}

unsigned nv_varlink_server_connections(const nv_varlink_server *s) {
        return s->nr_connections;
}

nv_varlink_server *nv_varlink_server_free(nv_varlink_server *s) {
        if (!s)
                return NULL;
        while (s->connections)
                nv_varlink_connection_free(s->connections);
        for (size_t i = 0; i < s->nr_listeners; i++)
                nv_varlink_listener_free(s->listeners[i]);
        free(s->listeners);
        free(s->interfaces);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}
