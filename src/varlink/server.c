/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink server: listening sockets, connections, framing, dispatch, org.varlink.service. */

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/log.h"
#include "varlink/varlink-internal.h"

#define MAX_OUTPUT (16 * 1024 * 1024) /* a subscriber that reads nothing is dropped beyond this */

typedef struct interface {
        const char *name, *description;
        const nv_varlink_method *methods;
} interface;

typedef struct listener {
        int fd;
        sd_event_source *source;
        gid_t gid; /* the socket file's group */
        bool has_gid;
        char *unlink_path; /* the socket file we created */
        nv_varlink_server *server;
} listener;

typedef struct connection connection;

struct nv_varlink_call {
        connection *conn;
        char *method; /* full name */
        unsigned flags;
        bool open; /* no final answer yet */
};

struct connection {
        nv_varlink_server *server;
        listener *listener;
        int fd;
        sd_event_source *io, *idle;
        struct ucred cred;
        bool in_group;
        nv_varlink_buffer in, out;
        nv_varlink_call call;
        bool closing; /* flush what is queued, then close */
        connection *prev, *next;
};

struct nv_varlink_server {
        sd_event *event;
        const char *vendor, *product, *version, *url;
        void *userdata;
        nv_varlink_limits limits;
        interface *interfaces;
        size_t nr_interfaces;
        listener **listeners;
        size_t nr_listeners;
        connection *connections;
        unsigned nr_connections;
};

const char nv_varlink_service_description[] =
        "# The Varlink Service Interface is provided by every varlink service. It\n"
        "# describes the service and the interfaces it implements.\n"
        "interface org.varlink.service\n"
        "\n"
        "# Get a list of all the interfaces a service provides and information\n"
        "# about the implementation.\n"
        "method GetInfo() -> (\n"
        "  vendor: string,\n"
        "  product: string,\n"
        "  version: string,\n"
        "  url: string,\n"
        "  interfaces: []string\n"
        ")\n"
        "\n"
        "# Get the description of an interface that is implemented by this service.\n"
        "method GetInterfaceDescription(interface: string) -> (description: string)\n"
        "\n"
        "# The requested interface was not found.\n"
        "error InterfaceNotFound (interface: string)\n"
        "\n"
        "# The requested method was not found\n"
        "error MethodNotFound (method: string)\n"
        "\n"
        "# The interface defines the requested method, but the service does not\n"
        "# implement it.\n"
        "error MethodNotImplemented (method: string)\n"
        "\n"
        "# One of the passed parameters is invalid.\n"
        "error InvalidParameter (parameter: string)\n"
        "\n"
        "# Client is denied access\n"
        "error PermissionDenied ()\n"
        "\n"
        "# Method is expected to be called with 'more' set to true, but wasn't\n"
        "error ExpectedMore ()\n";

void nv_varlink_limits_default(nv_varlink_limits *ret) {
        *ret = (nv_varlink_limits){
                .max_message = NV_VARLINK_DEFAULT_MAX_MESSAGE,
                .max_depth = NV_VARLINK_DEFAULT_MAX_DEPTH,
                .max_connections = NV_VARLINK_DEFAULT_MAX_CONNECTIONS,
                .max_per_uid = NV_VARLINK_DEFAULT_MAX_PER_UID,
                .idle_usec = NV_VARLINK_DEFAULT_IDLE_USEC,
        };
}

static void connection_free(connection *c) {
        nv_varlink_server *s;

        if (!c)
                return;
        s = c->server;
        if (c->prev)
                c->prev->next = c->next;
        else
                s->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->nr_connections--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->idle);
        if (c->fd >= 0)
                close(c->fd);
        nv_varlink_buffer_clear(&c->in);
        nv_varlink_buffer_clear(&c->out);
        free(c->call.method);
        free(c);
}

/* Write what is queued; returns 0, or -errno when the connection is broken. */
static int connection_flush(connection *c) {
        size_t done = 0;
        int r;

        while (done < c->out.len) {
                ssize_t n = send(c->fd, c->out.data + done, c->out.len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        return -errno;
                }
                done += (size_t)n;
        }
        nv_varlink_buffer_consume(&c->out, done);
        if (c->out.len > MAX_OUTPUT)
                return -ENOBUFS;
        r = sd_event_source_set_io_events(c->io, EPOLLIN | EPOLLRDHUP | (c->out.len > 0 ? EPOLLOUT : 0));
        return r < 0 ? r : 0;
}

static int connection_send(connection *c, json_object *message) {
        int r = nv_varlink_frame(&c->out, message);

        return r < 0 ? r : connection_flush(c);
}

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
        r = connection_send(c, m);
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

static int error_with(nv_varlink_call *call, const char *error, const char *key, const char *value) {
        json_object *p = json_object_new_object();

        if (p && key)
                json_object_object_add(p, key, json_object_new_string(value));
        return nv_varlink_error(call, error, p);
}

int nv_varlink_error_invalid_parameter(nv_varlink_call *call, const char *parameter) {
        return error_with(call, NV_VARLINK_ERROR_INVALID_PARAMETER, "parameter", parameter);
}

uid_t nv_varlink_call_peer_uid(const nv_varlink_call *call) {
        return call->conn->cred.uid;
}

void *nv_varlink_call_userdata(const nv_varlink_call *call) {
        return call->conn->server->userdata;
}

/* A message that cannot be read: say so if we can, then drop the connection. */
static void protocol_error(connection *c, const char *reason) {
        json_object *m = json_object_new_object(), *p = json_object_new_object();

        log_debug("Varlink: dropping connection of UID %u: %s.", (unsigned)c->cred.uid, reason);
        if (m && p) {
                json_object_object_add(p, "reason", json_object_new_string(reason));
                json_object_object_add(m, "parameters", p);
                json_object_object_add(m, "error", json_object_new_string(NV_VARLINK_ERROR_PROTOCOL));
                (void)connection_send(c, m);
                json_object_put(m);
        } else
                json_object_put(p);
        c->closing = true;
}

static const interface *find_interface(const nv_varlink_server *s, const char *name, size_t n) {
        for (size_t i = 0; i < s->nr_interfaces; i++)
                if (strlen(s->interfaces[i].name) == n && strncmp(s->interfaces[i].name, name, n) == 0)
                        return &s->interfaces[i];
        return NULL;
}

static int service_get_info(nv_varlink_call *call, json_object *parameters, unsigned flags, void *userdata) {
        nv_varlink_server *s = call->conn->server;
        json_object *p = json_object_new_object(), *a = json_object_new_array();

        json_object_object_add(p, "vendor", json_object_new_string(s->vendor));
        json_object_object_add(p, "product", json_object_new_string(s->product));
        json_object_object_add(p, "version", json_object_new_string(s->version));
        json_object_object_add(p, "url", json_object_new_string(s->url));
        json_object_array_add(a, json_object_new_string("org.varlink.service"));
        for (size_t i = 0; i < s->nr_interfaces; i++)
                json_object_array_add(a, json_object_new_string(s->interfaces[i].name));
        json_object_object_add(p, "interfaces", a);
        return nv_varlink_reply(call, p);
}

static int service_get_description(nv_varlink_call *call, json_object *parameters, unsigned flags,
                                   void *userdata) {
        nv_varlink_server *s = call->conn->server;
        json_object *v, *p;
        const char *name, *description = NULL;

        if (!json_object_object_get_ex(parameters, "interface", &v) ||
            !json_object_is_type(v, json_type_string))
                return nv_varlink_error_invalid_parameter(call, "interface");
        name = json_object_get_string(v);
        if (strcmp(name, "org.varlink.service") == 0)
                description = nv_varlink_service_description;
        else {
                const interface *i = find_interface(s, name, strlen(name));
                if (i)
                        description = i->description;
        }
        if (!description)
                return error_with(call, NV_VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", name);
        p = json_object_new_object();
        json_object_object_add(p, "description", json_object_new_string(description));
        return nv_varlink_reply(call, p);
}

static const nv_varlink_method service_methods[] = {
        { "GetInfo", service_get_info, false },
        { "GetInterfaceDescription", service_get_description, false },
        {},
};

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

/* Handle one parsed message: a call. Answers errors itself. */
static void dispatch(connection *c, json_object *m) {
        nv_varlink_call *call = &c->call;
        const nv_varlink_method *methods = NULL, *method = NULL;
        json_object *v, *parameters = NULL;
        bool more, oneway, upgrade;
        const char *name, *dot;
        _cleanup_(json_object_putp) json_object *empty = NULL;
        int r;

        free(call->method);
        *call = (nv_varlink_call){ .conn = c, .open = true };

        if (!json_object_is_type(m, json_type_object))
                return protocol_error(c, "message is not a JSON object");
        if (!json_object_object_get_ex(m, "method", &v) || !json_object_is_type(v, json_type_string))
                return protocol_error(c, "message has no method");
        name = json_object_get_string(v);
        call->method = strdup(name);
        if (!call->method)
                return protocol_error(c, "out of memory");

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
                        return protocol_error(c, "out of memory");
        }

        dot = strrchr(name, '.');
        if (!dot || dot == name || dot[1] == '\0')
                return (void)error_with(call, NV_VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", name);
        if ((size_t)(dot - name) == strlen("org.varlink.service") &&
            strncmp(name, "org.varlink.service", (size_t)(dot - name)) == 0)
                methods = service_methods;
        else {
                const interface *i = find_interface(c->server, name, (size_t)(dot - name));
                if (i)
                        methods = i->methods;
        }
        if (!methods) {
                _cleanup_free_ char *iface = strndup(name, (size_t)(dot - name));
                return (void)error_with(call, NV_VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface",
                                        iface ?: "");
        }
        for (size_t i = 0; methods[i].name; i++)
                if (strcmp(methods[i].name, dot + 1) == 0)
                        method = &methods[i];
        if (!method)
                return (void)error_with(call, NV_VARLINK_ERROR_METHOD_NOT_FOUND, "method", name);
        if (!method->callback)
                return (void)error_with(call, NV_VARLINK_ERROR_METHOD_NOT_IMPLEMENTED, "method", name);

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

/* Run the complete messages in the input buffer, one call at a time. */
static void process_input(connection *c) {
        while (!c->closing && !c->call.open) {
                char *nul = c->in.len > 0 ? memchr(c->in.data, '\0', c->in.len) : NULL;
                json_object *m = NULL;
                int r;

                if (!nul) {
                        if (c->in.len > c->server->limits.max_message)
                                protocol_error(c, "message too large");
                        return;
                }
                size_t n = (size_t)(nul - c->in.data);
                if (n > c->server->limits.max_message) {
                        protocol_error(c, "message too large");
                        return;
                }
                r = nv_varlink_parse(c->in.data, n, c->server->limits.max_depth, &m);
                nv_varlink_buffer_consume(&c->in, n + 1);
                if (r == -ELOOP)
                        return protocol_error(c, "message nested too deeply");
                if (r < 0)
                        return protocol_error(c, "message is not JSON");
                dispatch(c, m);
                json_object_put(m);
        }
}

static void arm_idle(connection *c) {
        usec_t now;

        if (!c->idle || sd_event_now(c->server->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        (void)sd_event_source_set_time(c->idle, now + c->server->limits.idle_usec);
        (void)sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
}

static int on_idle(sd_event_source *source, uint64_t usec, void *userdata) {
        connection *c = userdata;

        if (c->call.open) { /* a subscription is not idle */
                arm_idle(c);
                return 0;
        }
        log_debug("Varlink: closing idle connection of UID %u.", (unsigned)c->cred.uid);
        connection_free(c);
        return 0;
}

static int on_connection_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        connection *c = userdata;
        bool broken = false, peer_done = false;
        ssize_t n = 0;

        if (revents & EPOLLIN) {
                char buf[16384];

                n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        broken = true;
                else if (n == 0)
                        peer_done = true;
                else if (n > 0) {
                        if (nv_varlink_buffer_append(&c->in, buf, (size_t)n) < 0)
                                broken = true;
                        arm_idle(c);
                }
        }
        if ((revents & (EPOLLHUP | EPOLLERR)) && n <= 0)
                broken = true;
        if (broken) {
                connection_free(c);
                return 0;
        }

        if (!c->closing)
                process_input(c);
        if (peer_done) {
                if (c->call.open) { /* a subscriber that left */
                        connection_free(c);
                        return 0;
                }
                if (!c->closing && c->in.len > 0)
                        protocol_error(c, "connection closed within a message");
                c->closing = true; /* answer what was asked, then close */
        }
        /* A client that keeps writing while a call is open can still fill our buffer: cap it. */
        if (!c->closing && c->call.open && c->in.len > c->server->limits.max_message + 1)
                protocol_error(c, "message too large");
        if (connection_flush(c) < 0 || (c->closing && c->out.len == 0)) {
                connection_free(c);
                return 0;
        }
        if (c->closing) /* stop reading; write what is queued */
                (void)sd_event_source_set_io_events(c->io, EPOLLOUT);
        return 0;
}

static unsigned connections_of(const nv_varlink_server *s, uid_t uid) {
        unsigned n = 0;

        for (const connection *c = s->connections; c; c = c->next)
                n += c->cred.uid == uid;
        return n;
}

/* Peers that hung up but whose hang-up is not yet dispatched still count against the caps; a client
 * that reconnects right after closing must not be refused for its own dead connections. */
static void drop_hung_up(nv_varlink_server *s) {
        connection *next;

        for (connection *c = s->connections; c; c = next) {
                struct pollfd p = { .fd = c->fd };

                next = c->next;
                if (poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)))
                        connection_free(c);
        }
}

static bool over_limits(const nv_varlink_server *s, uid_t uid) {
        return s->nr_connections >= s->limits.max_connections ||
               connections_of(s, uid) >= s->limits.max_per_uid;
}

static bool peer_in_group(int fd, const struct ucred *cred, const listener *l) {
        gid_t groups[256];
        socklen_t len = sizeof(groups);

        if (!l->has_gid || cred->uid == 0 || cred->gid == l->gid)
                return true;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false;
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == l->gid)
                        return true;
        return false;
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        listener *l = userdata;
        nv_varlink_server *s = l->server;

        for (;;) {
                _cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                struct ucred cred;
                socklen_t len = sizeof(cred);
                connection *c;
                int r;

                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "Varlink: accept failed, ignoring: %m");
                        return 0;
                }
                if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                        log_debug_errno(errno, "Varlink: no peer credentials, refusing: %m");
                        continue;
                }
                if (over_limits(s, cred.uid)) {
                        drop_hung_up(s);
                        if (over_limits(s, cred.uid)) {
                                log_debug("Varlink: refusing a connection of UID %u: %u open, %u of them "
                                          "its own.",
                                          (unsigned)cred.uid, s->nr_connections,
                                          connections_of(s, cred.uid));
                                continue;
                        }
                }

                c = calloc(1, sizeof(*c));
                if (!c)
                        return log_oom();
                c->server = s;
                c->listener = l;
                c->cred = cred;
                c->in_group = peer_in_group(cfd, &cred, l);
                c->fd = TAKE_FD(cfd);
                c->call.conn = c;
                c->next = s->connections;
                if (c->next)
                        c->next->prev = c;
                s->connections = c;
                s->nr_connections++;

                r = sd_event_add_io(s->event, &c->io, c->fd, EPOLLIN | EPOLLRDHUP, on_connection_io, c);
                if (r >= 0)
                        r = sd_event_add_time_relative(s->event, &c->idle, CLOCK_MONOTONIC,
                                                       s->limits.idle_usec, USEC_PER_SEC, on_idle, c);
                if (r < 0) {
                        log_warning_errno(r, "Varlink: cannot watch a connection, dropping it: %m");
                        connection_free(c);
                        continue;
                }
                (void)sd_event_source_set_description(c->io, "varlink-connection");
        }
}

static int add_listener(nv_varlink_server *s, int fd, char *unlink_path) {
        _cleanup_free_ listener *l = calloc(1, sizeof(*l));
        struct sockaddr_un sa;
        socklen_t len = sizeof(sa);
        struct stat st;
        int r;

        if (!l)
                return -ENOMEM;
        listener **a = reallocarray(s->listeners, s->nr_listeners + 1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        s->listeners = a;

        /* Readers must be in the socket file's group (or root). */
        if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 &&
            len > offsetof(struct sockaddr_un, sun_path) && sa.sun_path[0] == '/' &&
            stat(sa.sun_path, &st) == 0) {
                l->gid = st.st_gid;
                l->has_gid = true;
        }
        r = sd_event_add_io(s->event, &l->source, fd, EPOLLIN, on_accept, l);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(l->source, "varlink-listen");
        l->fd = fd;
        l->server = s;
        l->unlink_path = unlink_path;
        s->listeners[s->nr_listeners++] = TAKE_PTR(l);
        return 0;
}

int nv_varlink_server_listen_fd(nv_varlink_server *s, int fd) {
        int flags = fcntl(fd, F_GETFL), r;

        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        r = add_listener(s, fd, NULL);
        if (r < 0)
                close(fd);
        return r;
}

int nv_varlink_server_listen_address(nv_varlink_server *s, const char *address, mode_t mode) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        struct sockaddr_un sa;
        socklen_t len;
        mode_t old;
        int r;

        r = nv_varlink_address_parse(address, &sa, &len);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;

        if (sa.sun_path[0] == '/') {
                path = strdup(sa.sun_path);
                if (!path)
                        return -ENOMEM;
                /* Replace a stale socket file, never a live server's. */
                _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, len) == 0)
                        return -EADDRINUSE;
                if (probe >= 0 && errno == ECONNREFUSED)
                        (void)unlink(path);
        }
        old = umask(0777 & ~mode);
        r = bind(fd, (struct sockaddr *)&sa, len) < 0 ? -errno : 0;
        umask(old);
        if (r < 0)
                return r;
        if (path && chmod(path, mode) < 0) {
                r = -errno;
                (void)unlink(path);
                return r;
        }
        if (listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                if (path)
                        (void)unlink(path);
                return r;
        }
        r = add_listener(s, fd, path);
        if (r < 0) {
                if (path)
                        (void)unlink(path);
                return r;
        }
        TAKE_FD(fd);
        TAKE_PTR(path);
        return 0;
}

int nv_varlink_server_new(sd_event *event, const char *vendor, const char *product, const char *version,
                          const char *url, void *userdata, nv_varlink_server **ret) {
        nv_varlink_server *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        s->vendor = vendor;
        s->product = product;
        s->version = version;
        s->url = url;
        s->userdata = userdata;
        nv_varlink_limits_default(&s->limits);
        *ret = s;
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
                if (nv_varlink_notify(&c->call, json_object_get(parameters)) < 0) {
                        connection_free(c);
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
                connection_free(s->connections);
        for (size_t i = 0; i < s->nr_listeners; i++) {
                listener *l = s->listeners[i];
                sd_event_source_disable_unref(l->source);
                close(l->fd);
                if (l->unlink_path)
                        (void)unlink(l->unlink_path);
                free(l->unlink_path);
                free(l);
        }
        free(s->listeners);
        free(s->interfaces);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}
