/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink client: blocking calls, every step bounded by a timeout, for numavctl and tests. */

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

static usec_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

/* Milliseconds for poll() until deadline: -1 for none, 0 once it passed. */
static int poll_ms(usec_t deadline) {
        usec_t now;

        if (deadline == USEC_INFINITY)
                return -1;
        now = now_usec();
        if (now >= deadline)
                return 0;
        return (int)MIN(DIV_ROUND_UP(deadline - now, USEC_PER_MSEC), (usec_t)INT32_MAX);
}

int nv_varlink_client_connect(const char *address, usec_t timeout, nv_varlink_client **ret) {
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
        /* An AF_UNIX connect() to a listener whose backlog is full cannot be polled for: a
         * non-blocking one fails at once with EAGAIN, a blocking one waits for room, for at most
         * SO_SNDTIMEO, and then fails with EAGAIN. */
        if (timeout != USEC_INFINITY) {
                usec_t t = MAX(timeout, (usec_t)1);
                struct timeval tv = { .tv_sec = (time_t)(t / USEC_PER_SEC),
                                      .tv_usec = (suseconds_t)(t % USEC_PER_SEC) };

                if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                        return -errno;
        }
        if (connect(fd, (struct sockaddr *)&sa, len) < 0)
                return errno == EAGAIN ? -ETIMEDOUT : -errno;
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

/* Send all of p, waiting until deadline for the server to read. */
static int send_all(int fd, const char *p, size_t n, usec_t deadline) {
        while (n > 0) {
                struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (k >= 0) {
                        p += k;
                        n -= (size_t)k;
                        continue;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                int r = poll(&pfd, 1, poll_ms(deadline));
                if (r < 0)
                        return -errno;
                if (r == 0)
                        return -ETIMEDOUT;
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

                struct pollfd p = { .fd = c->fd, .events = POLLIN };
                r = poll(&p, 1, poll_ms(deadline));
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
        usec_t deadline;
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
        deadline = timeout == USEC_INFINITY ? USEC_INFINITY : now_usec() + timeout;
        r = nv_varlink_frame(&out, m);
        if (r >= 0)
                r = send_all(c->fd, out.data, out.len, deadline);
        nv_varlink_buffer_clear(&out);
        if (r < 0 || (flags & NV_VARLINK_ONEWAY))
                return r;

        for (;;) {
                _cleanup_(json_object_putp) json_object *reply = NULL;
                json_object *p = NULL, *e = NULL, *cont = NULL;
                const char *error = NULL;
                bool continues;

                r = read_message(c, deadline, &reply);
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
                deadline = timeout == USEC_INFINITY ? USEC_INFINITY : now_usec() + timeout;
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
