/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink server's connections: reading NUL-framed messages, writing answers with a cap on
 * what may wait for a slow reader, coalescing notifications, closing idle and broken ones. */

#include <string.h>
#include <sys/socket.h>

#include "common/log.h"
#include "varlink/server-internal.h"

/* What may wait in our buffer for a peer that does not read (sd-varlink allows 16 MiB). The
 * answers of the method being run are exempt, since the peer cannot read them before the method
 * returns (a ListVMs stream of any length goes out whole); no further call of that connection is
 * run while more than this waits, and a later message queued beyond it drops the connection.
 * Notifications to subscribers never pile up: a slow one holds the message being written and the
 * latest notification, shared with the other subscribers (nv_varlink_connection_notify_latest). */
#define MAX_QUEUED_OUTPUT (256 * 1024)

/* How much one wake-up reads from one connection, so that a fast writer cannot starve the others. */
#define READ_PASS_MAX (64 * 1024)

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
        json_object_put(c->pending);
        free(c->call.method);
        free(c);
}

static bool output_backed_up(const connection *c) {
        return c->out.len > MAX_QUEUED_OUTPUT;
}

/* A call waits in the input buffer, and nothing keeps it from running. */
static bool call_waiting(const connection *c) {
        return !c->closing && !c->call.open && !c->dispatching && !output_backed_up(c) && c->in.len > 0 &&
               memchr(c->in.data, '\0', c->in.len);
}

/* Write what is queued; returns 0, or -errno when the connection is broken. While too much waits,
 * stop reading, so that a peer that pipelines calls without reading the answers blocks instead. */
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
        if (done > 0 || c->out.len == 0)
                (void)sd_event_now(c->server->event, CLOCK_MONOTONIC, &c->last_written);
        if (c->out.len == 0 && c->pending) {
                /* Written out: now the latest notification that was held back. */
                r = nv_varlink_notify(&c->call, TAKE_PTR(c->pending));
                if (r < 0)
                        return r;
        }
        /* A call that waited (for a subscription answered from outside a call to end, say) runs
         * on the next writable event, which is at once. */
        r = sd_event_source_set_io_events(c->io, (output_backed_up(c) ? 0 : EPOLLIN | EPOLLRDHUP) |
                                                         (c->out.len > 0 || call_waiting(c) ? EPOLLOUT : 0));
        return r < 0 ? r : 0;
}

int nv_varlink_connection_send(connection *c, json_object *message) {
        int r;

        if (!c->dispatching && output_backed_up(c))
                return -ENOBUFS;
        r = nv_varlink_frame(&c->out, message);
        return r < 0 ? r : connection_flush(c);
}

int nv_varlink_connection_notify_latest(connection *c, json_object *parameters) {
        if (c->out.len == 0)
                return nv_varlink_notify(&c->call, json_object_get(parameters));
        json_object_put(c->pending);
        c->pending = json_object_get(parameters);
        return 0;
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

/* Run the complete messages in the input buffer, one call at a time, while the peer reads the
 * answers. */
static void process_input(connection *c) {
        while (!c->closing && !c->call.open && !output_backed_up(c)) {
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

static void arm_idle(connection *c, usec_t now) {
        if (!c->idle)
                return;
        (void)sd_event_source_set_time(c->idle, now + c->server->limits.idle_usec);
        (void)sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
}

static void touch(connection *c) {
        usec_t now;

        if (sd_event_now(c->server->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        c->last_active = now;
        arm_idle(c, now);
}

bool nv_varlink_connection_idle(const connection *c) {
        return !c->call.open && c->out.len == 0 && !c->pending && !c->closing;
}

static int on_idle(sd_event_source *source, uint64_t usec, void *userdata) {
        connection *c = userdata;

        /* A call it sent meanwhile runs first; one that hung up is freed by that. */
        if (!nv_varlink_connection_receive(c, EPOLLIN))
                return 0;
        if (!nv_varlink_connection_idle(c)) { /* a subscription is not idle */
                /* ... but one whose peer has read nothing of its answers for as long is stuck, and
                 * would hold its connection slot for ever. */
                if (c->out.len > 0 && usec >= c->last_written + c->server->limits.idle_usec) {
                        log_debug("Varlink: dropping a connection of UID %u that read nothing for the idle "
                                  "time.",
                                  (unsigned)c->cred.uid);
                        nv_varlink_connection_free(c);
                        return 0;
                }
                arm_idle(c, usec);
                return 0;
        }
        log_debug("Varlink: closing idle connection of UID %u.", (unsigned)c->cred.uid);
        nv_varlink_connection_free(c);
        return 0;
}

bool nv_varlink_connection_receive(connection *c, uint32_t events) {
        bool broken = false, peer_done = false;
        size_t got = 0;

        while ((events & EPOLLIN) && !c->closing && !output_backed_up(c) && got < READ_PASS_MAX) {
                char buf[16384];
                ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        broken = errno != EAGAIN;
                        break;
                }
                if (n == 0) {
                        peer_done = true;
                        break;
                }
                if (nv_varlink_buffer_append(&c->in, buf, (size_t)n) < 0) {
                        broken = true;
                        break;
                }
                got += (size_t)n;
        }
        if (got > 0)
                touch(c);
        if ((events & (EPOLLHUP | EPOLLERR)) && got == 0 && !peer_done)
                broken = true;
        if (broken) {
                nv_varlink_connection_free(c);
                return false;
        }

        /* What the peer sent before it hung up is run all the same. */
        if (!c->closing)
                process_input(c);
        if (peer_done) {
                if (c->call.open) { /* a subscriber that left */
                        nv_varlink_connection_free(c);
                        return false;
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
                return false;
        }
        /* The peer read enough, or an open call ended: run the calls that waited for it. */
        if (call_waiting(c)) {
                process_input(c);
                if (connection_flush(c) < 0 || (c->closing && c->out.len == 0)) {
                        nv_varlink_connection_free(c);
                        return false;
                }
        }
        if (c->closing) /* stop reading; write what is queued */
                (void)sd_event_source_set_io_events(c->io, EPOLLOUT);
        return true;
}

static int on_connection_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        (void)nv_varlink_connection_receive(userdata, revents);
        return 0;
}

int nv_varlink_connection_new(nv_varlink_server *s, listener *l, int fd, const struct ucred *cred,
                              bool in_group, connection **ret) {
        connection *c = calloc(1, sizeof(*c)), *last = s->connections;
        int r;

        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        c->server = s;
        c->listener = l;
        c->cred = *cred;
        c->in_group = in_group;
        c->fd = fd;
        c->id = s->next_id++;
        c->call.conn = c;
        /* Kept in the order of acceptance: the oldest first. */
        while (last && last->next)
                last = last->next;
        c->prev = last;
        if (last)
                last->next = c;
        else
                s->connections = c;
        s->nr_connections++;

        r = sd_event_add_io(s->event, &c->io, c->fd, EPOLLIN | EPOLLRDHUP, on_connection_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->idle, CLOCK_MONOTONIC, s->limits.idle_usec,
                                               USEC_PER_SEC, on_idle, c);
        if (r < 0) {
                nv_varlink_connection_free(c);
                return r;
        }
        (void)sd_event_source_set_description(c->io, "varlink-connection");
        touch(c);
        c->last_written = c->last_active;
        *ret = c;
        return 0;
}
