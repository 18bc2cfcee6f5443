/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink server's listening sockets: bound to an address, or passed by socket activation. */

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "varlink/server-internal.h"

void nv_varlink_listener_free(listener *l) {
        if (!l)
                return;
        sd_event_source_disable_unref(l->source);
        close(l->fd);
        if (l->unlink_path)
                (void)unlink(l->unlink_path);
        free(l->unlink_path);
        free(l);
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
        r = sd_event_add_io(s->event, &l->source, fd, EPOLLIN, nv_varlink_on_accept, l);
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
