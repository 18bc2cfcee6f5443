/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "ctl/output-file.h"

int ctl_output_open(const char *path, char **ret_tmp) {
        _cleanup_free_ char *tmp = NULL;
        int fd, r = 0;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, 0644) < 0 || fflush(stdout) != 0 || dup2(fd, STDOUT_FILENO) < 0)
                r = -errno;
        close(fd);
        if (r < 0) {
                (void)unlink(tmp);
                return r;
        }
        *ret_tmp = TAKE_PTR(tmp);
        return 0;
}

int ctl_output_commit(const char *path, const char *tmp, bool ok) {
        int r = 0;

        if (fflush(stdout) != 0 || ferror(stdout))
                r = -(errno ?: EIO);
        else if (ok && fsync(STDOUT_FILENO) < 0)
                r = -errno;
        else if (ok && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0 || !ok)
                (void)unlink(tmp);
        return r;
}
