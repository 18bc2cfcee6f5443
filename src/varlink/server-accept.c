/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Accepting varlink connections within the limits. Calls are run in the order their connections
 * were accepted, a complete call is run even when its peer has hung up since, and at a cap the
 * least recently active idle connection makes room for the new one. */

#include <poll.h>
#include <sys/socket.h>

#include "common/log.h"
#include "varlink/server-internal.h"

static unsigned connections_of(const nv_varlink_server *s, uid_t uid) {
        unsigned n = 0;

        for (const connection *c = s->connections; c; c = c->next)
                n += c->cred.uid == uid;
        return n;
}

static bool over_uid_limit(const nv_varlink_server *s, uid_t uid) {
        return connections_of(s, uid) >= s->limits.max_per_uid;
}

static bool over_limits(const nv_varlink_server *s, uid_t uid) {
        return s->nr_connections >= s->limits.max_connections || over_uid_limit(s, uid);
}

static connection *find_connection(nv_varlink_server *s, uint64_t id) {
        for (connection *c = s->connections; c; c = c->next)
                if (c->id == id)
                        return c;
        return NULL;
}

/* Run what the connections accepted before have sent, oldest first, before a new connection's
 * calls: a peer that sends one call per connection (the libvirt hook) gets its calls run in the
 * order it sent them, whatever order epoll would report them in. */
static void receive_ready(nv_varlink_server *s) {
        _cleanup_free_ struct pollfd *p = NULL;
        _cleanup_free_ uint64_t *ids = NULL;
        size_t n = 0;

        if (s->nr_connections == 0)
                return;
        p = calloc(s->nr_connections, sizeof(*p));
        ids = calloc(s->nr_connections, sizeof(*ids));
        if (!p || !ids)
                return;
        for (connection *c = s->connections; c; c = c->next)
                if (!c->closing) {
                        p[n] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
                        ids[n++] = c->id;
                }
        if (poll(p, n, 0) <= 0)
                return;
        for (size_t i = 0; i < n; i++) {
                connection *c;

                if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;
                c = find_connection(s, ids[i]); /* NULL if a call run before ended it */
                if (c)
                        (void)nv_varlink_connection_receive(c, EPOLLIN);
        }
}

/* At a cap, evict the least recently active idle connection: one of the same UID at the per-UID
 * cap, anyone's at the overall cap. Whatever it sent is run before it goes (and one whose peer hung
 * up is done with by that). A connection with a call open or answers to write is never evicted.
 * Returns whether there is room now. */
static bool make_room(nv_varlink_server *s, uid_t uid) {
        while (over_limits(s, uid)) {
                bool own = over_uid_limit(s, uid);
                connection *victim = NULL;

                for (connection *c = s->connections; c; c = c->next) /* oldest first: ties go to it */
                        if ((!own || c->cred.uid == uid) && nv_varlink_connection_idle(c) &&
                            (!victim || c->last_active < victim->last_active))
                                victim = c;
                if (!victim)
                        return false;
                if (!nv_varlink_connection_receive(victim, EPOLLIN))
                        continue; /* its peer had hung up; its calls ran */
                if (nv_varlink_connection_idle(victim)) {
                        log_debug("Varlink: at the cap, closing the least recently active idle "
                                  "connection (UID %u) for one of UID %u.",
                                  (unsigned)victim->cred.uid, (unsigned)uid);
                        nv_varlink_connection_free(victim);
                }
        }
        return true;
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
                bool in_group;
                int r;

                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(-errno, "Varlink: accept failed, ignoring: %m");
                        return 0;
                }
                if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                        log_debug_errno(-errno, "Varlink: no peer credentials, refusing: %m");
                        continue;
                }
                receive_ready(s);
                if (!make_room(s, cred.uid)) {
                        log_debug("Varlink: refusing a connection of UID %u: %u open, %u of them its own, "
                                  "none idle.",
                                  (unsigned)cred.uid, s->nr_connections, connections_of(s, cred.uid));
                        continue;
                }
                in_group = peer_in_group(cfd, &cred, l);
                r = nv_varlink_connection_new(s, l, TAKE_FD(cfd), &cred, in_group, &c);
                if (r < 0) {
                        log_warning_errno(r, "Varlink: cannot watch a connection, dropping it: %m");
                        continue;
                }
                /* A peer that connected, sent its call and hung up while we were busy (or stopped) is
                 * served now, in the order of the backlog. */
                (void)nv_varlink_connection_receive(c, EPOLLIN);
        }
}
