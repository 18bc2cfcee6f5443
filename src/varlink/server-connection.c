/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink server's connections: accepting them within the limits, reading NUL-framed messages,
 * writing answers, closing idle and broken ones. */

#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "varlink/server-internal.h"

#define MAX_OUTPUT (16 * 1024 * 1024) /* a subscriber that reads nothing is dropped beyond this */

void nv_varlink_connection_free(connection *c) {
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

int nv_varlink_connection_send(connection *c, json_object *message) {
        int r = nv_varlink_frame(&c->out, message);

        return r < 0 ? r : connection_flush(c);
}

/* A message that cannot be read: say so if we can, then drop the connection. */
void nv_varlink_protocol_error(connection *c, const char *reason) {
        json_object *m = json_object_new_object(), *p = json_object_new_object();

        log_debug("Varlink: dropping connection of UID %u: %s.", (unsigned)c->cred.uid, reason);
        if (m && p) {
                json_object_object_add(p, "reason", json_object_new_string(reason));
                json_object_object_add(m, "parameters", p);
                json_object_object_add(m, "error", json_object_new_string(NV_VARLINK_ERROR_PROTOCOL));
                (void)nv_varlink_connection_send(c, m);
                json_object_put(m);
        } else
                json_object_put(p);
        c->closing = true;
}

/* Run the complete messages in the input buffer, one call at a time. */
static void process_input(connection *c) {
        while (!c->closing && !c->call.open) {
                char *nul = c->in.len > 0 ? memchr(c->in.data, '\0', c->in.len) : NULL;
                json_object *m = NULL;
                int r;

                if (!nul) {
                        if (c->in.len > c->server->limits.max_message)
                                nv_varlink_protocol_error(c, "message too large");
                        return;
                }
                size_t n = (size_t)(nul - c->in.data);
                if (n > c->server->limits.max_message) {
                        nv_varlink_protocol_error(c, "message too large");
                        return;
                }
                r = nv_varlink_parse(c->in.data, n, c->server->limits.max_depth, &m);
                nv_varlink_buffer_consume(&c->in, n + 1);
                if (r == -ELOOP)
                        return nv_varlink_protocol_error(c, "message nested too deeply");
                if (r < 0)
                        return nv_varlink_protocol_error(c, "message is not JSON");
                nv_varlink_dispatch(c, m);
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
        nv_varlink_connection_free(c);
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
                nv_varlink_connection_free(c);
                return 0;
        }

        if (!c->closing)
                process_input(c);
        if (peer_done) {
                if (c->call.open) { /* a subscriber that left */
                        nv_varlink_connection_free(c);
                        return 0;
                }
                if (!c->closing && c->in.len > 0)
                        nv_varlink_protocol_error(c, "connection closed within a message");
                c->closing = true; /* answer what was asked, then close */
        }
        /* A client that keeps writing while a call is open can still fill our buffer: cap it. */
        if (!c->closing && c->call.open && c->in.len > c->server->limits.max_message + 1)
                nv_varlink_protocol_error(c, "message too large");
        if (connection_flush(c) < 0 || (c->closing && c->out.len == 0)) {
                nv_varlink_connection_free(c);
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
                        nv_varlink_connection_free(c);
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

int nv_varlink_on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
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
                        nv_varlink_connection_free(c);
                        continue;
                }
                (void)sd_event_source_set_description(c->io, "varlink-connection");
        }
}
