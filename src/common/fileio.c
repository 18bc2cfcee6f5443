/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"

char *nv_root_path(const char *root, const char *path) {
        size_t len;
        char *p;

        if (!root)
                root = "";
        /* "/" and "/tmp/x/" must not double the slash that path begins with. */
        len = strlen(root);
        while (len > 0 && root[len - 1] == '/')
                len--;
        if (asprintf(&p, "%.*s%s", (int)len, root, path) < 0)
                return NULL;
        return p;
}

int nv_read_file_at(int dir_fd, const char *path, char **ret_contents, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        for (;;) {
                ssize_t n;

                if (allocated - size < 2) {
                        size_t want = allocated ? allocated * 2 : 4096;
                        char *p;

                        if (want > NV_READ_FILE_MAX + 1)
                                want = NV_READ_FILE_MAX + 1;
                        if (want <= allocated)
                                return -EFBIG;
                        p = realloc(buf, want);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        allocated = want;
                }

                n = read(fd, buf + size, allocated - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
        }

        buf[size] = '\0';
        *ret_contents = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int nv_opendir_at(int dir_fd, const char *path, DIR **ret) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;

        fd = openat(dir_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        *ret = d;
        return 0;
}

int nv_parse_pid(const char *s, int *ret) {
        long v = 0;

        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (*p - '0');
                if (v > INT32_MAX)
                        return -ERANGE;
        }
        if (v == 0)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

int nv_read_file_root(const char *root, const char *path, char **ret_contents) {
        _cleanup_free_ char *p = nv_root_path(root, path);

        if (!p)
                return -ENOMEM;
        return nv_read_file_at(AT_FDCWD, p, ret_contents, NULL);
}

int nv_read_small(const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        return 0;
}

static bool only_space(const char *s) {
        return s[strspn(s, " \t\n")] == 0;
}

int nv_read_int64(const char *path, int64_t *ret) {
        char buf[64], *end;
        long long v;
        int r;

        r = nv_read_small(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        errno = 0;
        v = strtoll(buf, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || end == buf || !only_space(end))
                return -EINVAL;
        *ret = v;
        return 0;
}

int nv_read_uint64(const char *path, uint64_t *ret) {
        char buf[64], *end;
        unsigned long long v;
        int r;

        r = nv_read_small(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        if (buf[strspn(buf, " \t\n")] == '-')
                return -EINVAL;
        errno = 0;
        v = strtoull(buf, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || end == buf || !only_space(end))
                return -EINVAL;
        *ret = v;
        return 0;
}

int nv_write_int64(const char *path, int64_t v) {
        _cleanup_close_ int fd = -EBADF;
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%" PRId64 "\n", v);

        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (write(fd, buf, (size_t)len) != len)
                return errno > 0 ? -errno : -EIO;
        return 0;
}
