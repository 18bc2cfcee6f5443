/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* numavctl --output=FILE: stdout goes to a temporary file next to FILE, which replaces FILE only
 * when the command succeeded, so that a reader (the node exporter's textfile collector) sees either
 * the previous file or the new one, never a part. */

#include <stdbool.h>

/* Point stdout at a new temporary file FILE.XXXXXX (mode 0644) in FILE's directory; *ret_tmp gets
 * its name (freed by the caller). 0 or -errno. */
int ctl_output_open(const char *path, char **ret_tmp);

/* Flush stdout; when ok, fsync and rename tmp over path, else remove tmp. 0 or -errno (tmp is
 * removed on failure). */
int ctl_output_commit(const char *path, const char *tmp, bool ok);
