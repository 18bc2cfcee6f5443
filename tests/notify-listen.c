/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stands in for systemd's notification socket in tests: binds an AF_UNIX datagram socket at
 * argv[1] and prints every message it receives as one line (newlines inside a message become
 * spaces), until SIGTERM or argv[2] seconds (default 30) have passed. */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char buf[4096];
        int fd;

        if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: %s SOCKET [SECONDS]\n", argv[0]);
                return EXIT_FAILURE;
        }
        strcpy(sa.sun_path, argv[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                perror("notify-listen");
                return EXIT_FAILURE;
        }
        alarm(argc > 2 ? (unsigned)atoi(argv[2]) : 30);
        printf("listening\n");
        fflush(stdout);
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
                if (n < 0)
                        break;
                buf[n] = '\0';
                for (char *p = buf; *p; p++)
                        if (*p == '\n')
                                *p = ' ';
                printf("%s\n", buf);
                fflush(stdout);
        }
        return EXIT_SUCCESS;
}
