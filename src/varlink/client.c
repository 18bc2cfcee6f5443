/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink client: blocking calls with a timeout, for numavctl and tests. */

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "varlink/varlink-internal.h"

#define CLIENT_MAX_MESSAGE (64 * 1024 * 1024)

struct nv_varlink_client {
        int fd;
        nv_varlink_buffer in;
};

int nv_varlink_client_connect(const char *address, nv_varlink_client **ret) {
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa;
        socklen_t len;
        nv_varlink_client *c;
        int r;

        r = nv_varlink_address_parse(address, &sa, &len);
        if (r < 0)
                return r;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, len) < 0)
                return -errno;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = TAKE_FD(fd);
        *ret = c;
        return 0;
}

nv_varlink_client *nv_varlink_client_free(nv_varlink_client *c) {
        if (!c)
                return NULL;
        closep(&c->fd);
        nv_varlink_buffer_clear(&c->in);
        free(c);
        return NULL;
}

static usec_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

static int send_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Read one NUL-terminated message, waiting until deadline. */
static int read_message(nv_varlink_client *c, usec_t deadline, json_object **ret) {
        for (;;) {
                char *nul = c->in.len > 0 ? memchr(c->in.data, '\0', c->in.len) : NULL;
                char buf[65536];
                int r;

                if (nul) {
                        size_t n = (size_t)(nul - c->in.data);
                        r = nv_varlink_parse(c->in.data, n, 1000, ret);
                        nv_varlink_buffer_consume(&c->in, n + 1);
                        return r < 0 ? -EBADMSG : 0;
                }
                if (c->in.len > CLIENT_MAX_MESSAGE)
                        return -EBADMSG;

                int ms = -1;
                if (deadline != USEC_INFINITY) {
                        usec_t now = now_usec();
                        if (now >= deadline)
                                return -ETIMEDOUT;
                        ms = (int)MIN(DIV_ROUND_UP(deadline - now, USEC_PER_MSEC), (usec_t)INT32_MAX);
                }
                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                r = poll(&p, 1, ms);
                if (r < 0) {
                        if (errno == EINTR)
                                return -EINTR;
                        return -errno;
                }
                if (r == 0)
                        return -ETIMEDOUT;
                ssize_t k = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -ECONNRESET;
                r = nv_varlink_buffer_append(&c->in, buf, (size_t)k);
                if (r < 0)
                        return r;
        }
}

int nv_varlink_client_call(nv_varlink_client *c, const char *method, json_object *parameters, unsigned flags,
                           usec_t timeout, nv_varlink_reply_fn callback, void *userdata) {
        _cleanup_(json_object_putp) json_object *m = json_object_new_object();
        nv_varlink_buffer out = {};
        int r;

        if (!m)
                return -ENOMEM;
        json_object_object_add(m, "method", json_object_new_string(method));
        json_object_object_add(m, "parameters",
                               parameters ? json_object_get(parameters) : json_object_new_object());
        if (flags & NV_VARLINK_MORE)
                json_object_object_add(m, "more", json_object_new_boolean(true));
        if (flags & NV_VARLINK_ONEWAY)
                json_object_object_add(m, "oneway", json_object_new_boolean(true));
        r = nv_varlink_frame(&out, m);
        if (r >= 0)
                r = send_all(c->fd, out.data, out.len);
        nv_varlink_buffer_clear(&out);
        if (r < 0 || (flags & NV_VARLINK_ONEWAY))
                return r;

        for (;;) {
                _cleanup_(json_object_putp) json_object *reply = NULL;
                json_object *p = NULL, *e = NULL, *cont = NULL;
                const char *error = NULL;
                bool continues;

                r = read_message(c, timeout == USEC_INFINITY ? USEC_INFINITY : now_usec() + timeout, &reply);
                if (r < 0)
                        return r;
                if (!json_object_is_type(reply, json_type_object))
                        return -EBADMSG;
                if (json_object_object_get_ex(reply, "error", &e)) {
                        if (!json_object_is_type(e, json_type_string))
                                return -EBADMSG;
                        error = json_object_get_string(e);
                }
                continues = json_object_object_get_ex(reply, "continues", &cont) &&
                            json_object_get_boolean(cont);
                if (!json_object_object_get_ex(reply, "parameters", &p) ||
                    !json_object_is_type(p, json_type_object)) {
                        p = json_object_new_object();
                        json_object_object_add(reply, "parameters", p);
                }
                if (callback) {
                        r = callback(p, error, continues && !error, userdata);
                        if (r < 0)
                                return r;
                }
                if (error)
                        return 1;
                if (!continues)
                        return 0;
        }
}

typedef struct one_reply {
        json_object *parameters;
        char *error;
} one_reply;

static int collect_one(json_object *parameters, const char *error, bool continues, void *userdata) {
        one_reply *o = userdata;

        json_object_put(o->parameters);
        o->parameters = json_object_get(parameters);
        free(o->error);
        o->error = error ? strdup(error) : NULL;
        if (error && !o->error)
                return -ENOMEM;
        return 0;
}

int nv_varlink_client_call_one(nv_varlink_client *c, const char *method, json_object *parameters,
                               usec_t timeout, json_object **ret_parameters, char **ret_error) {
        one_reply o = {};
        int r;

        r = nv_varlink_client_call(c, method, parameters, 0, timeout, collect_one, &o);
        if (r < 0) {
                json_object_put(o.parameters);
                free(o.error);
                return r;
        }
        *ret_parameters = o.parameters;
        *ret_error = o.error;
        return 0;
}
