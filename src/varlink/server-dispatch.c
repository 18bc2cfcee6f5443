/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink server's calls: reading a call message, finding its method, and the answers. */

#include <string.h>

#include "common/log.h"
#include "varlink/server-internal.h"

/* Queue one answer to the connection's current call. */
static int send_answer(nv_varlink_call *call, const char *error, json_object *parameters, bool continues) {
        connection *c = call->conn;
        json_object *m;
        int r;

        if (!call->open) {
                json_object_put(parameters);
                return -ESTALE;
        }
        if (continues && !(call->flags & NV_VARLINK_MORE)) {
                json_object_put(parameters);
                return -EINVAL;
        }
        /* A notification held back for a slow reader goes first: answers keep their order. */
        if (c->pending) {
                r = send_answer(call, NULL, TAKE_PTR(c->pending), true);
                if (r < 0) {
                        json_object_put(parameters);
                        return r;
                }
        }
        if (!continues)
                call->open = false;
        if (call->flags & NV_VARLINK_ONEWAY) {
                json_object_put(parameters);
                return 0;
        }

        m = json_object_new_object();
        if (!m) {
                json_object_put(parameters);
                return -ENOMEM;
        }
        json_object_object_add(m, "parameters", parameters ?: json_object_new_object());
        if (error)
                json_object_object_add(m, "error", json_object_new_string(error));
        if (continues)
                json_object_object_add(m, "continues", json_object_new_boolean(true));
        r = nv_varlink_connection_send(c, m);
        json_object_put(m);
        if (r < 0)
                c->closing = true;
        return r;
}

int nv_varlink_reply(nv_varlink_call *call, json_object *parameters) {
        return send_answer(call, NULL, parameters, false);
}

int nv_varlink_notify(nv_varlink_call *call, json_object *parameters) {
        return send_answer(call, NULL, parameters, true);
}

int nv_varlink_error(nv_varlink_call *call, const char *error, json_object *parameters) {
        return send_answer(call, error, parameters, false);
}

int nv_varlink_error_with(nv_varlink_call *call, const char *error, const char *key, const char *value) {
        json_object *p = json_object_new_object();

        if (p && key)
                json_object_object_add(p, key, json_object_new_string(value));
        return nv_varlink_error(call, error, p);
}

int nv_varlink_error_invalid_parameter(nv_varlink_call *call, const char *parameter) {
        return nv_varlink_error_with(call, NV_VARLINK_ERROR_INVALID_PARAMETER, "parameter", parameter);
}

const interface *nv_varlink_find_interface(const nv_varlink_server *s, const char *name, size_t n) {
        for (size_t i = 0; i < s->nr_interfaces; i++)
                if (strlen(s->interfaces[i].name) == n && strncmp(s->interfaces[i].name, name, n) == 0)
                        return &s->interfaces[i];
        return NULL;
}

static bool get_bool(json_object *m, const char *key, bool *ret) {
        json_object *v;

        *ret = false;
        if (!json_object_object_get_ex(m, key, &v) || json_object_is_type(v, json_type_null))
                return true;
        if (!json_object_is_type(v, json_type_boolean))
                return false;
        *ret = json_object_get_boolean(v);
        return true;
}

static void dispatch_call(connection *c, json_object *m) {
        nv_varlink_call *call = &c->call;
        const interface *found;
        const nv_varlink_method *method = NULL;
        json_object *v, *parameters = NULL;
        bool more, oneway, upgrade;
        const char *name, *dot;
        _cleanup_(json_object_putp) json_object *empty = NULL;
        int r;

        free(call->method);
        *call = (nv_varlink_call){ .conn = c, .open = true };

        if (!json_object_is_type(m, json_type_object))
                return nv_varlink_protocol_error(c, "message is not a JSON object");
        if (!json_object_object_get_ex(m, "method", &v) || !json_object_is_type(v, json_type_string))
                return nv_varlink_protocol_error(c, "message has no method");
        name = json_object_get_string(v);
        call->method = strdup(name);
        if (!call->method)
                return nv_varlink_protocol_error(c, "out of memory");

        bool ok_more = get_bool(m, "more", &more), ok_oneway = get_bool(m, "oneway", &oneway);
        call->flags = (ok_more && more ? NV_VARLINK_MORE : 0);
        if (!ok_more)
                return (void)nv_varlink_error_invalid_parameter(call, "more");
        if (!ok_oneway)
                return (void)nv_varlink_error_invalid_parameter(call, "oneway");
        if (!get_bool(m, "upgrade", &upgrade) || upgrade)
                return (void)nv_varlink_error_invalid_parameter(call, "upgrade");
        if (more && oneway)
                return (void)nv_varlink_error_invalid_parameter(call, "oneway");
        call->flags |= oneway ? NV_VARLINK_ONEWAY : 0;

        if (json_object_object_get_ex(m, "parameters", &v) && !json_object_is_type(v, json_type_null)) {
                if (!json_object_is_type(v, json_type_object))
                        return (void)nv_varlink_error_invalid_parameter(call, "parameters");
                parameters = v;
        } else {
                parameters = empty = json_object_new_object();
                if (!empty)
                        return nv_varlink_protocol_error(c, "out of memory");
        }

        dot = strrchr(name, '.');
        if (!dot || dot == name || dot[1] == '\0')
                return (void)nv_varlink_error_with(call, NV_VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface",
                                                   name);
        found = nv_varlink_find_interface(c->server, name, (size_t)(dot - name));
        if (!found) {
                _cleanup_free_ char *iface = strndup(name, (size_t)(dot - name));
                return (void)nv_varlink_error_with(call, NV_VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface",
                                                   iface ?: "");
        }
        for (size_t i = 0; found->methods[i].name; i++)
                if (strcmp(found->methods[i].name, dot + 1) == 0)
                        method = &found->methods[i];
        if (!method)
                return (void)nv_varlink_error_with(call, NV_VARLINK_ERROR_METHOD_NOT_FOUND, "method", name);
        if (!method->callback)
                return (void)nv_varlink_error_with(call, NV_VARLINK_ERROR_METHOD_NOT_IMPLEMENTED, "method",
                                                   name);

        if (c->cred.uid != 0 && (method->privileged || !c->in_group))
                return (void)nv_varlink_error(call, NV_VARLINK_ERROR_PERMISSION_DENIED, NULL);

        r = method->callback(call, parameters, call->flags, c->server->userdata);
        if (call->open && (r < 0 || !(call->flags & NV_VARLINK_MORE))) {
                json_object *p = json_object_new_object();
                if (p)
                        json_object_object_add(p, "errno", json_object_new_int(r < 0 ? -r : EPROTO));
                log_debug("Varlink: %s failed without an answer: %s", name, strerror(r < 0 ? -r : EPROTO));
                (void)nv_varlink_error(call, NV_VARLINK_ERROR_INTERNAL, p);
        }
}

/* Handle one parsed message: a call. Answers errors itself. */
void nv_varlink_dispatch(connection *c, json_object *m) {
        c->dispatching = true;
        dispatch_call(c, m);
        c->dispatching = false;
}
