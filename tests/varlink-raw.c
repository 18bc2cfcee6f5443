/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A raw varlink peer for the malformed-input tests: send bytes as they are, print what comes back.
 *
 *   varlink-raw ADDRESS send FILE [nonul]  send FILE (then a NUL unless nonul), shut down the
 *                                          sending side, print each reply on a line, until the
 *                                          server closes the connection (or 10 s pass)
 *   varlink-raw ADDRESS flood N            open N connections, print how many the server kept
 *                                          open, hold them until stdin closes */

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

static int do_flood(const char *address, int n) {
        int kept = 0, *fds = calloc((size_t)n, sizeof(int));
        char c;

        for (int i = 0; i < n; i++)
                fds[i] = connect_to(address);
        /* Give the server time to accept (and refuse) them all: wait until GetInfo on each open one
         * has an answer or the connection is closed. */
        for (int i = 0; i < n; i++) {
                static const char call[] = "{\"method\":\"org.varlink.service.GetInfo\"}";
                char buf[4096];
                struct pollfd p = { .fd = fds[i], .events = POLLIN };

                if (fds[i] < 0 || send(fds[i], call, sizeof(call), MSG_NOSIGNAL) < 0 ||
                    poll(&p, 1, 5000) <= 0 || recv(fds[i], buf, sizeof(buf), 0) <= 0)
                        continue;
                kept++;
        }
        printf("%d\n", kept);
        fflush(stdout);
        while (read(STDIN_FILENO, &c, 1) > 0)
                ;
        return 0;
}

int main(int argc, char *argv[]) {
        if (argc >= 4 && strcmp(argv[2], "send") == 0)
                return do_send(argv[1], argv[3], !(argc >= 5 && strcmp(argv[4], "nonul") == 0));
        if (argc == 4 && strcmp(argv[2], "flood") == 0)
                return do_flood(argv[1], atoi(argv[3]));
        fprintf(stderr, "usage: varlink-raw ADDRESS send FILE [nonul] | flood N\n");
        return 2;
}
