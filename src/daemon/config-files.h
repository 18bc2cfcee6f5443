/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Finding and reading configuration files: a file's whole text, and drop-in directories merged
 * with systemd's rules (a name in an earlier directory hides the same name in later ones; a
 * symlink to /dev/null masks the name; the survivors are sorted by file name). */

#include <stddef.h>

/* Read a configuration file into a NUL-terminated string. A missing file is -ENOENT (not logged,
 * the caller decides); /dev/null (a mask) reads as empty; anything else that is not a regular file
 * (a FIFO, a device, a directory) is refused with -EINVAL without waiting on it, as is a NUL byte
 * (named by its line); other failures are logged. */
int nv_config_read_file(const char *path, char **ret_text);

/* List the *.conf files of dirs (highest priority first). Missing directories are skipped; a
 * path that is not a directory (a file, a symlink loop) is skipped with a warning. On
 * success *ret_paths is a NULL-terminated array of full paths in the order to apply them. */
int nv_config_list_dropins(const char *const *dirs, size_t n_dirs, char ***ret_paths);

/* Free a NULL-terminated array of strings; returns NULL. */
char **nv_strv_free(char **l);
static inline void nv_strv_freep(char ***l) {
        nv_strv_free(*l);
}
