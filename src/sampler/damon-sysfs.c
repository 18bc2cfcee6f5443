/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DAMON's sysfs admin tree (kdamonds/...) as the DAMON backend uses it, and the record of the
 * kdamonds numavd created, kept under the state directory so that a later numavd can remove
 * what a crashed one left running. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "sampler/damon-sysfs.h"

#define DAMON_STATE_FILE "damon-kdamonds"
/* How long a write keeps trying while DAMON answers EBUSY: 50 x 20 ms, a second at most. */
#define DAMON_BUSY_TRIES   50
#define DAMON_BUSY_WAIT_NS (20 * 1000 * 1000L)

static int attr_path(const damon_sysfs *d, char *buf, size_t size, const char *fmt, va_list ap) {
        int k = snprintf(buf, size, "%s/kdamonds/", d->admin);

        if (k < 0 || (size_t)k >= size)
                return -ENAMETOOLONG;
        int m = vsnprintf(buf + k, size - (size_t)k, fmt, ap);
        if (m < 0 || (size_t)m >= size - (size_t)k)
                return -ENAMETOOLONG;
        return 0;
}

int damon_attr_write(const damon_sysfs *d, const char *value, const char *fmt, ...) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(value);
        va_list ap;
        ssize_t n;
        int r;

        va_start(ap, fmt);
        r = attr_path(d, path, sizeof(path), fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_debug_errno(-errno, "Cannot open %s: %m", path);
        /* DAMON's sysfs handlers take their lock with mutex_trylock and answer EBUSY while a
         * kdamond's own callback holds it (a tried_regions update, say): a moment later the
         * same write succeeds. */
        for (unsigned tries = 1;; tries++) {
                n = write(fd, value, len);
                if (n >= 0 || errno != EBUSY || tries >= DAMON_BUSY_TRIES)
                        break;
                (void)nanosleep(&(struct timespec){ .tv_nsec = DAMON_BUSY_WAIT_NS }, NULL);
        }
        if (n < 0)
                return log_debug_errno(-errno, "Writing '%s' to %s failed: %m", value, path);
        return (size_t)n == len ? 0 : -EIO;
}

int damon_attr_write_u64(const damon_sysfs *d, uint64_t v, const char *fmt, ...) {
        char path[PATH_MAX], value[32];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        if (r < 0 || (size_t)r >= sizeof(path))
                return -ENAMETOOLONG;
        snprintf(value, sizeof(value), "%" PRIu64, v);
        return damon_attr_write(d, value, "%s", path);
}

int damon_attr_read(const damon_sysfs *d, char *buf, size_t size, const char *fmt, ...) {
        char path[PATH_MAX];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = attr_path(d, path, sizeof(path), fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = nv_read_small(path, buf, size);
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

int damon_attr_read_u64(const damon_sysfs *d, uint64_t *ret, const char *fmt, ...) {
        char path[PATH_MAX];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = attr_path(d, path, sizeof(path), fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        return nv_read_uint64(path, ret);
}

static char *state_path(const damon_sysfs *d) {
        char *p;

        if (asprintf(&p, "%s/" DAMON_STATE_FILE, d->state_dir) < 0)
                return NULL;
        return p;
}

int damon_state_save(const damon_sysfs *d, unsigned n, const pid_t *pids) {
        _cleanup_free_ char *path = state_path(d), *tmp = NULL;
        FILE *f;

        if (!path || asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        if (mkdir(d->state_dir, 0755) < 0 && errno != EEXIST)
                return log_warning_errno(-errno, "Cannot create %s: %m", d->state_dir);
        f = fopen(tmp, "we");
        if (!f)
                return log_warning_errno(-errno, "Cannot write %s: %m", tmp);
        fprintf(f, "kdamonds %u\n", n);
        for (unsigned i = 0; i < n; i++)
                fprintf(f, "kdamond %u %d\n", i, (int)pids[i]);
        if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
                int e = errno ?: EIO;
                fclose(f);
                unlink(tmp);
                return log_warning_errno(e, "Cannot write %s: %m", tmp);
        }
        fclose(f);
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return log_warning_errno(e, "Cannot rename %s: %m", tmp);
        }
        return 0;
}

void damon_state_remove(const damon_sysfs *d) {
        _cleanup_free_ char *path = state_path(d);

        if (path && unlink(path) < 0 && errno != ENOENT)
                log_warning_errno(-errno, "Cannot remove %s, ignoring: %m", path);
}

/* Stop kdamond i if it runs. Writing "off" to a stopped kdamond fails: only running ones. */
static int kdamond_stop(const damon_sysfs *d, unsigned i) {
        char state[32];
        int r;

        r = damon_attr_read(d, state, sizeof(state), "%u/state", i);
        if (r < 0)
                return r;
        if (strcmp(state, "on") != 0)
                return 0;
        return damon_attr_write(d, "off", "%u/state", i);
}

int damon_kdamonds_remove(const damon_sysfs *d, unsigned n) {
        int r, ret = 0;

        for (unsigned i = 0; i < n; i++) {
                r = kdamond_stop(d, i);
                if (r < 0)
                        ret = log_warning_errno(r, "Cannot stop kdamond %u: %m", i);
        }
        r = damon_attr_write(d, "0", "nr_kdamonds");
        if (r < 0)
                return log_warning_errno(r, "Cannot remove our %u kdamonds: %m", n);
        return ret;
}

void damon_cleanup_stale(const damon_sysfs *d) {
        _cleanup_free_ char *path = state_path(d);
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        unsigned n = 0, matched = 0;
        uint64_t now;
        FILE *f;
        bool ours = true;

        if (!path)
                return;
        f = fopen(path, "re");
        if (!f)
                return;
        while (getline(&line, &cap, f) > 0) {
                unsigned i;
                int pid;
                uint64_t target;

                if (sscanf(line, "kdamonds %u", &n) == 1)
                        continue;
                if (sscanf(line, "kdamond %u %d", &i, &pid) != 2 || i >= n) {
                        ours = false;
                        continue;
                }
                if (damon_attr_read_u64(d, &target, "%u/contexts/0/targets/0/pid_target", i) < 0 ||
                    (target != (uint64_t)pid && target != 0))
                        ours = false;
                else
                        matched++;
        }
        fclose(f);

        if (damon_attr_read_u64(d, &now, "nr_kdamonds") < 0 || now != n || matched != n)
                ours = false;
        if (!ours)
                log_warning("%s records %u kdamonds that are not what runs now, leaving DAMON alone.", path,
                            n);
        else if (n > 0 && damon_kdamonds_remove(d, n) >= 0)
                log_notice("Stopped %u kdamonds a previous numavd left behind.", n);
        damon_state_remove(d);
}
