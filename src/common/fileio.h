/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small helpers for reading /proc and /sys below an injectable root (tests point it at fixture
 * trees). */

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

/* Files under /proc and /sys are small, but smaps of a process with many mappings can reach a
 * few MiB; refuse anything beyond this rather than grow without bound. */
#define NV_READ_FILE_MAX (64 * MIB)

/* ROOT + path, where root NULL or "" means "/" and path starts with '/'. NULL on OOM. */
char *nv_root_path(const char *root, const char *path);

/* Read the whole file at path (relative to dir_fd, or absolute) into a NUL-terminated buffer.
 * ret_size may be NULL. 0 or -errno (-EFBIG beyond NV_READ_FILE_MAX). */
int nv_read_file_at(int dir_fd, const char *path, char **ret_contents, size_t *ret_size);

/* The same for ROOT + path (see nv_root_path()). */
int nv_read_file_root(const char *root, const char *path, char **ret_contents);

/* The first size - 1 bytes of a small file (a sysfs or procfs attribute) into buf, NUL-terminated.
 * 0 or -errno. */
int nv_read_small(const char *path, char *buf, size_t size);

/* One integer in a sysfs, procfs or debugfs file (a KSM knob, a KVM statistic, a DAMON
 * attribute): decimal, surrounding whitespace allowed. 0 or -errno (-EINVAL: not one integer,
 * -ERANGE: out of range); *ret untouched on failure. */
int nv_read_int64(const char *path, int64_t *ret);
int nv_read_uint64(const char *path, uint64_t *ret);

/* Write v and a newline to path, truncating it, as sysfs knobs take it. 0 or -errno. */
int nv_write_int64(const char *path, int64_t v);

/* Open a directory (relative to dir_fd, or absolute) for readdir, O_CLOEXEC. 0 or -errno. */
int nv_opendir_at(int dir_fd, const char *path, DIR **ret);

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Parse a decimal unsigned number that must fill the whole string (a PID directory's name). */
int nv_parse_pid(const char *s, int *ret);
