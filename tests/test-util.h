/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Helpers shared by the tests: temporary input files, the fake VMM (tests/fake-vmm) and fd
 * accounting. */

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Create a file from the mkstemp(3) template path (rewritten in place) holding text: a scenario or
 * a configuration for a test to load. 0, or -1 with errno set. */
static inline int test_write_temp(char *path, const char *text) {
        int fd = mkstemp(path);
        FILE *f;

        if (fd < 0)
                return -1;
        f = fdopen(fd, "w");
        if (!f) {
                close(fd);
                return -1;
        }
        fputs(text, f);
        return fclose(f);
}

/* File descriptors of this process whose link target starts with prefix ("" counts all). */
static inline unsigned test_count_fds(const char *prefix) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        unsigned n = 0;

        while (d && (de = readdir(d))) {
                char path[300], link[128] = "";

                snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
                if (de->d_name[0] == '.' || atoi(de->d_name) == dirfd(d) ||
                    readlink(path, link, sizeof(link) - 1) <= 0)
                        continue;
                if (strncmp(link, prefix, strlen(prefix)) == 0)
                        n++;
        }
        if (d)
                closedir(d);
        return n;
}

/* tests/fake-vmm in the build tree ($top_builddir, else next to this test). Free it. */
static inline char *test_fake_vmm_path(void) {
        const char *top = getenv("top_builddir");
        char exe[4096], *p;
        ssize_t n;

        if (top && *top) {
                if (asprintf(&p, "%s/tests/fake-vmm", top) < 0)
                        abort();
                return p;
        }
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n < 0)
                return strdup("./fake-vmm");
        exe[n] = '\0';
        if (asprintf(&p, "%s/fake-vmm", dirname(exe)) < 0)
                abort();
        return p;
}

/* Start the fake VMM with argv (argv[0] is replaced by its path; NULL-terminated) and wait for
 * its "ready PID" line. Returns its pid, 0 when it reports KVM unusable (exit 77), -1 on
 * failure. */
static inline pid_t test_spawn_fake_vmm(char **argv) {
        char *path = test_fake_vmm_path(), line[64];
        int fds[2], status, got;
        pid_t pid;
        FILE *f;

        if (pipe2(fds, O_CLOEXEC) < 0) {
                free(path);
                return -1;
        }
        pid = fork();
        if (pid < 0) {
                free(path);
                return -1;
        }
        if (pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                argv[0] = path;
                execv(path, argv);
                _exit(127);
        }
        free(path);
        close(fds[1]);
        f = fdopen(fds[0], "r");
        if (f && fgets(line, sizeof(line), f) && sscanf(line, "ready %d", &got) == 1) {
                fclose(f);
                return got == pid ? pid : -1;
        }
        if (f)
                fclose(f);
        else
                close(fds[0]);
        if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 77)
                return 0;
        return -1;
}
