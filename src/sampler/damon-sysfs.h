/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* DAMON's sysfs admin tree and numavd's record of its kdamonds: private to the DAMON backend. */

#include <sys/types.h>

#include "common/macro.h"

typedef struct damon_sysfs {
        char *admin;     /* /sys/kernel/mm/damon/admin, or a test's tree */
        char *state_dir; /* /run/numavd, or a test's directory */
} damon_sysfs;

/* Write value to the attribute kdamonds/<fmt...>. 0 or -errno. */
int damon_attr_write(const damon_sysfs *d, const char *value, const char *fmt, ...) _printf_(3, 4);
int damon_attr_write_u64(const damon_sysfs *d, uint64_t v, const char *fmt, ...) _printf_(3, 4);
/* Read the attribute kdamonds/<fmt...>, first line, without its newline. 0 or -errno. */
int damon_attr_read(const damon_sysfs *d, char *buf, size_t size, const char *fmt, ...) _printf_(4, 5);
int damon_attr_read_u64(const damon_sysfs *d, uint64_t *ret, const char *fmt, ...) _printf_(3, 4);

/* Record the kdamonds about to exist: "kdamonds N" then "kdamond I PID" per kdamond, written to a
 * temporary file and renamed, so that a crash leaves either the old or the new record. */
int damon_state_save(const damon_sysfs *d, unsigned n, const pid_t *pids);
void damon_state_remove(const damon_sysfs *d);

/* Stop our n kdamonds and remove them all (nr_kdamonds = 0). */
int damon_kdamonds_remove(const damon_sysfs *d, unsigned n);

/* A record left by an earlier numavd: stop and remove its kdamonds if they are still what it
 * recorded (same count, each targeting the recorded pid, or not configured yet), else leave
 * everything alone. */
void damon_cleanup_stale(const damon_sysfs *d);
