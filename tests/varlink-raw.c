/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A raw varlink peer for the malformed-input tests: send bytes as they are, print what comes back.
 *
 *   varlink-raw ADDRESS send FILE [nonul]  send FILE (then a NUL unless nonul), shut down the
 *                                          sending side, print each reply on a line, until the
 *                                          server closes the connection (or 10 s pass)
 *   varlink-raw ADDRESS flood N            open N connections, print how many the server kept
 *                                          open, hold them until stdin closes
 *   varlink-raw ADDRESS subscribe N        open N connections, call Subscribe on each and never
 *                                          read; print N, hold them until stdin closes
 *   varlink-raw ADDRESS full-backlog       listen on ADDRESS and never accept; fill the listen
 *                                          backlog, print "full", hold it until stdin closes */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "varlink/varlink.h"

static int connect_to(const char *address) {
        struct sockaddr_un sa;
        socklen_t len;
        int fd;

        if (nv_varlink_address_parse(address, &sa, &len) < 0)
                return -1;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0)
                return -1;
        return fd;
}

static int do_send(const char *address, const char *file, bool nul) {
        char buf[65536];
        int fd = connect_to(address), in = open(file, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0 || in < 0) {
                perror("varlink-raw");
                return 2;
        }
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if (send(fd, buf, (size_t)n, MSG_NOSIGNAL) != n)
                        break; /* the server may hang up on an oversized message */
        if (nul)
                (void)send(fd, "", 1, MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 10000) <= 0) {
                        printf("TIMEOUT\n");
                        return 1;
                }
                n = recv(fd, buf, sizeof(buf), 0);
                if (n <= 0)
                        break;
                for (ssize_t i = 0; i < n; i++)
                        putchar(buf[i] ? buf[i] : '\n');
        }
        printf("CLOSED\n");
        return 0;
}

static void hold_until_stdin_closes(void) {
        char c;

        while (read(STDIN_FILENO, &c, 1) > 0)
                ;
}

/* Whether GetInfo on fd is answered (within 5 s), rather than the connection closed. */
static bool answers(int fd) {
        static const char call[] = "{\"method\":\"org.varlink.service.GetInfo\"}";
        char buf[4096];
        struct pollfd p = { .fd = fd, .events = POLLIN };

        return fd >= 0 && send(fd, call, sizeof(call), MSG_NOSIGNAL) >= 0 && poll(&p, 1, 5000) > 0 &&
               recv(fd, buf, sizeof(buf), 0) > 0;
}

static int do_flood(const char *address, int n) {
        int kept = 0, *fds = calloc((size_t)n, sizeof(int));

        for (int i = 0; i < n; i++)
                fds[i] = connect_to(address);
        /* Once each has been answered or closed, the server has accepted them all; those it kept
         * are the ones still answering. */
        for (int i = 0; i < n; i++)
                if (!answers(fds[i])) {
                        if (fds[i] >= 0)
                                close(fds[i]);
                        fds[i] = -1;
                }
        for (int i = 0; i < n; i++)
                kept += answers(fds[i]);
        printf("%d\n", kept);
        fflush(stdout);
        hold_until_stdin_closes();
        return 0;
}

static int do_subscribe(const char *address, int n) {
        static const char call[] = "{\"method\":\"io.numavd.Manager.Subscribe\",\"more\":true}";

        for (int i = 0; i < n; i++) {
                int fd = connect_to(address);

                if (fd < 0 || send(fd, call, sizeof(call), MSG_NOSIGNAL) < 0) {
                        perror("varlink-raw");
                        return 1;
                }
        }
        printf("%d\n", n);
        fflush(stdout);
        hold_until_stdin_closes();
        return 0;
}

static int do_full_backlog(const char *address) {
        struct sockaddr_un sa;
        socklen_t len;
        int fd, n = 0;

        if (nv_varlink_address_parse(address, &sa, &len) < 0)
                return 2;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 0) < 0) {
                perror("varlink-raw");
                return 1;
        }
        /* Connect until the backlog is full: then a non-blocking connect() fails with EAGAIN. */
        for (;; n++) {
                int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

                if (c < 0 || n > 1000) {
                        perror("varlink-raw");
                        return 1;
                }
                if (connect(c, (struct sockaddr *)&sa, len) < 0) {
                        if (errno != EAGAIN) {
                                perror("varlink-raw");
                                return 1;
                        }
                        close(c);
                        break;
                }
        }
        printf("full after %d\n", n);
        fflush(stdout);
        hold_until_stdin_closes();
        if (sa.sun_path[0])
                unlink(sa.sun_path);
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc >= 4 && strcmp(argv[2], "send") == 0)
                return do_send(argv[1], argv[3], !(argc >= 5 && strcmp(argv[4], "nonul") == 0));
        if (argc == 4 && strcmp(argv[2], "flood") == 0)
                return do_flood(argv[1], atoi(argv[3]));
        if (argc == 4 && strcmp(argv[2], "subscribe") == 0)
                return do_subscribe(argv[1], atoi(argv[3]));
        if (argc == 3 && strcmp(argv[2], "full-backlog") == 0)
                return do_full_backlog(argv[1]);
        fprintf(stderr,
                "usage: varlink-raw ADDRESS send FILE [nonul] | flood N | subscribe N | full-backlog\n");
        return 2;
}
