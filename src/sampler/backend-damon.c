/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DAMON access backend over /sys/kernel/mm/damon/admin (Documentation/admin-guide/mm/damon/usage.rst).
 * Kdamond i runs the context of vms[i]; the set is rebuilt (ours stopped, nr_kdamonds rewritten,
 * each configured and started) whenever VMs come or go, lazily at the next regions() call. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/backend-damon.h"

#define DAMON_ADMIN_DIR   "/sys/kernel/mm/damon/admin"
#define DAMON_STATE_DIR   "/run/numavd"
#define DAMON_STATE_FILE  "damon-kdamonds"
#define DAMON_MAX_VMS     256u  /* kdamonds numavd creates at most (one kernel thread each) */
#define DAMON_MAX_REGIONS 4096u /* tried regions read per VM per epoch */

typedef struct damon_vm {
        uint64_t id;
        pid_t pid;
        char *name;
        nv_ram_range *ranges; /* sorted by address */
        size_t nr_ranges;
        bool running; /* its kdamond is on */
} damon_vm;

typedef struct damon {
        nv_damon_params p;
        char *admin;
        char *state_dir;
        damon_vm *vms;
        size_t nr_vms;
        unsigned nr_ours; /* kdamonds created by us, all of kdamonds/ */
        bool dirty;       /* vms changed since the kdamonds were built */
} damon;

void nv_damon_params_defaults(nv_damon_params *p) {
        *p = (nv_damon_params){
                .sample_interval = 5 * USEC_PER_MSEC,
                .aggr_interval = 100 * USEC_PER_MSEC,
                .min_regions = 10,
                .max_regions = 1000,
        };
}

static int attr_path(const damon *d, char *buf, size_t size, const char *fmt, va_list ap) {
        int k = snprintf(buf, size, "%s/kdamonds/", d->admin);

        if (k < 0 || (size_t)k >= size)
                return -ENAMETOOLONG;
        int m = vsnprintf(buf + k, size - (size_t)k, fmt, ap);
        if (m < 0 || (size_t)m >= size - (size_t)k)
                return -ENAMETOOLONG;
        return 0;
}

/* Write value to the attribute kdamonds/<fmt...>. 0 or -errno. */
static int attr_write(const damon *d, const char *value, const char *fmt, ...) _printf_(3, 4);
static int attr_write(const damon *d, const char *value, const char *fmt, ...) {
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
                return log_debug_errno(errno, "Cannot open %s: %m", path);
        n = write(fd, value, len);
        if (n < 0)
                return log_debug_errno(errno, "Writing '%s' to %s failed: %m", value, path);
        return (size_t)n == len ? 0 : -EIO;
}

static int attr_write_u64(const damon *d, uint64_t v, const char *fmt, ...) _printf_(3, 4);
static int attr_write_u64(const damon *d, uint64_t v, const char *fmt, ...) {
        char path[PATH_MAX], value[32];
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        if (r < 0 || (size_t)r >= sizeof(path))
                return -ENAMETOOLONG;
        snprintf(value, sizeof(value), "%" PRIu64, v);
        return attr_write(d, value, "%s", path);
}

/* Read the attribute kdamonds/<fmt...>, first line, without its newline. 0 or -errno. */
static int attr_read(const damon *d, char *buf, size_t size, const char *fmt, ...) _printf_(4, 5);
static int attr_read(const damon *d, char *buf, size_t size, const char *fmt, ...) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        va_list ap;
        ssize_t n;
        int r;

        va_start(ap, fmt);
        r = attr_path(d, path, sizeof(path), fmt, ap);
        va_end(ap);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        buf[strcspn(buf, "\n")] = 0;
        return 0;
}

static int attr_read_u64(const damon *d, uint64_t *ret, const char *fmt, ...) _printf_(3, 4);
static int attr_read_u64(const damon *d, uint64_t *ret, const char *fmt, ...) {
        char path[PATH_MAX], buf[32], *end;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vsnprintf(path, sizeof(path), fmt, ap);
        va_end(ap);
        if (r < 0 || (size_t)r >= sizeof(path))
                return -ENAMETOOLONG;
        r = attr_read(d, buf, sizeof(buf), "%s", path);
        if (r < 0)
                return r;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno != 0 || end == buf || *end != 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

static char *state_path(const damon *d) {
        char *p;

        if (asprintf(&p, "%s/" DAMON_STATE_FILE, d->state_dir) < 0)
                return NULL;
        return p;
}

/* Record the kdamonds about to exist: "kdamonds N" then "kdamond I PID" per kdamond, written to a
 * temporary file and renamed, so that a crash leaves either the old or the new record. */
static int state_save(const damon *d, unsigned n, const pid_t *pids) {
        _cleanup_free_ char *path = state_path(d), *tmp = NULL;
        FILE *f;

        if (!path || asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        if (mkdir(d->state_dir, 0755) < 0 && errno != EEXIST)
                return log_warning_errno(errno, "Cannot create %s: %m", d->state_dir);
        f = fopen(tmp, "we");
        if (!f)
                return log_warning_errno(errno, "Cannot write %s: %m", tmp);
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

static void state_remove(const damon *d) {
        _cleanup_free_ char *path = state_path(d);

        if (path && unlink(path) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove %s, ignoring: %m", path);
}

/* Stop kdamond i if it runs. Writing "off" to a stopped kdamond fails: only running ones. */
static int kdamond_stop(const damon *d, unsigned i) {
        char state[32];
        int r;

        r = attr_read(d, state, sizeof(state), "%u/state", i);
        if (r < 0)
                return r;
        if (strcmp(state, "on") != 0)
                return 0;
        return attr_write(d, "off", "%u/state", i);
}

/* Stop our kdamonds and remove them all (nr_kdamonds = 0). */
static int kdamonds_remove(damon *d, unsigned n) {
        int r, ret = 0;

        for (unsigned i = 0; i < n; i++) {
                r = kdamond_stop(d, i);
                if (r < 0)
                        ret = log_warning_errno(r, "Cannot stop kdamond %u: %m", i);
        }
        r = attr_write(d, "0", "nr_kdamonds");
        if (r < 0)
                return log_warning_errno(r, "Cannot remove our %u kdamonds: %m", n);
        return ret;
}

/* A record left by an earlier numavd: stop and remove its kdamonds if they are still what it
 * recorded (same count, each targeting the recorded pid, or not configured yet), else leave
 * everything alone. */
static void cleanup_stale(damon *d) {
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
                if (attr_read_u64(d, &target, "%u/contexts/0/targets/0/pid_target", i) < 0 ||
                    (target != (uint64_t)pid && target != 0))
                        ours = false;
                else
                        matched++;
        }
        fclose(f);

        if (attr_read_u64(d, &now, "nr_kdamonds") < 0 || now != n || matched != n)
                ours = false;
        if (!ours)
                log_warning("%s records %u kdamonds that are not what runs now, leaving DAMON alone.", path,
                            n);
        else if (n > 0 && kdamonds_remove(d, n) >= 0)
                log_notice("Stopped %u kdamonds a previous numavd left behind.", n);
        state_remove(d);
}

/* Whether DAMON offers vaddr: kdamond 0's context lists its operations. Creates one kdamond to
 * look when there is none (recorded, and removed again). */
static int probe_vaddr(damon *d) {
        char ops[256];
        pid_t none = 0;
        int r;

        r = state_save(d, 1, &none);
        if (r < 0)
                return r;
        r = attr_write(d, "1", "nr_kdamonds");
        if (r >= 0)
                r = attr_write(d, "1", "0/contexts/nr_contexts");
        if (r >= 0) {
                r = attr_read(d, ops, sizeof(ops), "0/contexts/0/avail_operations");
                if (r == -ENOENT) /* before 5.19: try to select it */
                        r = attr_write(d, "vaddr", "0/contexts/0/operations") < 0 ? -EOPNOTSUPP : 0;
                else if (r >= 0 && !strstr(ops, "vaddr"))
                        r = log_info_errno(EOPNOTSUPP, "DAMON offers no vaddr operations here (only: %s).",
                                           ops);
        }
        (void)attr_write(d, "0", "nr_kdamonds");
        state_remove(d);
        return r;
}

static int configure(damon *d, unsigned i, const damon_vm *vm) {
        const nv_damon_params *p = &d->p;
        int r = 0;

#define W(v, ...)  (r = r < 0 ? r : attr_write_u64(d, v, __VA_ARGS__))
#define WS(s, ...) (r = r < 0 ? r : attr_write(d, s, __VA_ARGS__))
        WS("1", "%u/contexts/nr_contexts", i);
        WS("vaddr", "%u/contexts/0/operations", i);
        W(p->sample_interval, "%u/contexts/0/monitoring_attrs/intervals/sample_us", i);
        W(p->aggr_interval, "%u/contexts/0/monitoring_attrs/intervals/aggr_us", i);
        W(p->max_regions, "%u/contexts/0/monitoring_attrs/nr_regions/max", i);
        W(p->min_regions, "%u/contexts/0/monitoring_attrs/nr_regions/min", i);
        WS("1", "%u/contexts/0/targets/nr_targets", i);
        W((uint64_t)vm->pid, "%u/contexts/0/targets/0/pid_target", i);
        W(vm->nr_ranges, "%u/contexts/0/targets/0/regions/nr_regions", i);
        for (size_t k = 0; k < vm->nr_ranges; k++) {
                W(vm->ranges[k].hva, "%u/contexts/0/targets/0/regions/%zu/start", i, k);
                W(vm->ranges[k].hva + vm->ranges[k].size, "%u/contexts/0/targets/0/regions/%zu/end", i, k);
        }
        WS("1", "%u/contexts/0/schemes/nr_schemes", i);
        WS("stat", "%u/contexts/0/schemes/0/action", i);
        /* The defaults (0..0) match nothing: every region must match to be read back. */
        W(0, "%u/contexts/0/schemes/0/access_pattern/sz/min", i);
        W(UINT64_MAX, "%u/contexts/0/schemes/0/access_pattern/sz/max", i);
        W(0, "%u/contexts/0/schemes/0/access_pattern/nr_accesses/min", i);
        W(UINT32_MAX, "%u/contexts/0/schemes/0/access_pattern/nr_accesses/max", i);
        W(0, "%u/contexts/0/schemes/0/access_pattern/age/min", i);
        W(UINT32_MAX, "%u/contexts/0/schemes/0/access_pattern/age/max", i);
#undef W
#undef WS
        return r;
}

/* Rebuild our kdamonds for the current VMs. */
static int apply(damon *d) {
        _cleanup_free_ pid_t *pids = NULL;
        uint64_t now;
        int r;

        r = attr_read_u64(d, &now, "nr_kdamonds");
        if (r < 0)
                return log_error_errno(r, "Cannot read DAMON's nr_kdamonds: %m");
        if (now != d->nr_ours)
                return log_error_errno(EBUSY,
                                       "DAMON has %" PRIu64 " kdamonds, numavd created %u: someone else "
                                       "uses DAMON, leaving it alone.",
                                       now, d->nr_ours);

        if (d->nr_ours > 0) {
                r = kdamonds_remove(d, d->nr_ours);
                if (r < 0)
                        return r;
                d->nr_ours = 0;
                state_remove(d);
        }
        for (size_t i = 0; i < d->nr_vms; i++)
                d->vms[i].running = false;
        d->dirty = false;
        if (d->nr_vms == 0)
                return 0;

        pids = calloc(d->nr_vms, sizeof(*pids));
        if (!pids)
                return -ENOMEM;
        for (size_t i = 0; i < d->nr_vms; i++)
                pids[i] = d->vms[i].pid;
        r = state_save(d, (unsigned)d->nr_vms, pids);
        if (r < 0)
                return r; /* never create what we could not record */
        r = attr_write_u64(d, d->nr_vms, "nr_kdamonds");
        if (r < 0) {
                state_remove(d);
                return log_error_errno(r, "Cannot create %zu kdamonds: %m", d->nr_vms);
        }
        d->nr_ours = (unsigned)d->nr_vms;

        for (unsigned i = 0; i < d->nr_ours; i++) {
                damon_vm *vm = &d->vms[i];

                r = configure(d, i, vm);
                if (r >= 0)
                        r = attr_write(d, "on", "%u/state", i);
                if (r < 0) {
                        log_warning_errno(r, "Cannot start DAMON for VM %s (pid %d), ignoring: %m", vm->name,
                                          (int)vm->pid);
                        continue;
                }
                vm->running = true;
        }
        log_debug("DAMON runs %u kdamonds.", d->nr_ours);
        return 0;
}

static damon_vm *find_vm(damon *d, uint64_t id) {
        for (size_t i = 0; i < d->nr_vms; i++)
                if (d->vms[i].id == id)
                        return &d->vms[i];
        return NULL;
}

static int compare_ranges(const void *a, const void *b) {
        const nv_ram_range *x = a, *y = b;
        return x->hva < y->hva ? -1 : x->hva > y->hva;
}

static int compare_ranges_region(const void *a, const void *b) {
        const nv_access_region *x = a, *y = b;
        return x->start < y->start ? -1 : x->start > y->start;
}

static int damon_attach(void *ctx, const nv_vm_info *vm) {
        damon *d = ctx;
        damon_vm v = { .id = vm->id, .pid = vm->pid };

        if (find_vm(d, vm->id))
                return -EEXIST;
        if (vm->nr_ranges == 0 || vm->pid <= 0)
                return -EINVAL;
        if (d->nr_vms >= DAMON_MAX_VMS)
                return log_warning_errno(E2BIG, "DAMON already monitors %u VMs.", DAMON_MAX_VMS);
        v.name = strdup(vm->name ?: "?");
        v.ranges = calloc(vm->nr_ranges, sizeof(*v.ranges));
        damon_vm *a = reallocarray(d->vms, d->nr_vms + 1, sizeof(*a));
        if (a)
                d->vms = a;
        if (!v.name || !v.ranges || !a) {
                free(v.name);
                free(v.ranges);
                return -ENOMEM;
        }
        memcpy(v.ranges, vm->ranges, vm->nr_ranges * sizeof(*v.ranges));
        v.nr_ranges = vm->nr_ranges;
        qsort(v.ranges, v.nr_ranges, sizeof(*v.ranges), compare_ranges);
        d->vms[d->nr_vms++] = v;
        d->dirty = true;
        return 0;
}

static void damon_detach(void *ctx, uint64_t vm_id) {
        damon *d = ctx;
        damon_vm *v = find_vm(d, vm_id);

        if (!v)
                return;
        free(v->name);
        free(v->ranges);
        *v = d->vms[--d->nr_vms];
        d->dirty = true;
        /* The last VM gone: stop at once rather than at a next epoch that may never come. */
        if (d->nr_vms == 0)
                (void)apply(d);
}

static int read_tried(damon *d, unsigned k, const damon_vm *vm, nv_access_region **ret, size_t *ret_n) {
        char path[PATH_MAX];
        _cleanup_free_ nv_access_region *regions = NULL;
        struct dirent *de;
        size_t n = 0;
        double max_acc = (double)MAX(d->p.aggr_interval / MAX(d->p.sample_interval, 1u), (usec_t)1);
        DIR *dir;
        int r = 0;

        snprintf(path, sizeof(path), "%s/kdamonds/%u/contexts/0/schemes/0/tried_regions", d->admin, k);
        dir = opendir(path);
        if (!dir)
                return -errno;
        regions = calloc(DAMON_MAX_REGIONS, sizeof(*regions));
        if (!regions) {
                closedir(dir);
                return -ENOMEM;
        }
        while ((de = readdir(dir)) && n < DAMON_MAX_REGIONS) {
                uint64_t start, end, acc, age;
                char *e;
                unsigned long idx = strtoul(de->d_name, &e, 10);

                if (de->d_name[0] < '0' || de->d_name[0] > '9' || *e != 0)
                        continue;
                if (attr_read_u64(d, &start, "%u/contexts/0/schemes/0/tried_regions/%lu/start", k, idx) <
                            0 ||
                    attr_read_u64(d, &end, "%u/contexts/0/schemes/0/tried_regions/%lu/end", k, idx) < 0 ||
                    attr_read_u64(d, &acc, "%u/contexts/0/schemes/0/tried_regions/%lu/nr_accesses", k, idx) <
                            0 ||
                    attr_read_u64(d, &age, "%u/contexts/0/schemes/0/tried_regions/%lu/age", k, idx) < 0) {
                        r = -EIO; /* a region vanished under us: being rewritten */
                        break;
                }
                if (end <= start)
                        continue;
                regions[n++] = (nv_access_region){
                        .start = start,
                        .end = end,
                        .heat = (float)MIN(1.0, (double)acc / max_acc),
                        .age = (uint32_t)MIN(age, (uint64_t)UINT32_MAX),
                };
        }
        closedir(dir);
        if (r < 0)
                return log_debug_errno(r, "Tried regions of VM %s changed while read.", vm->name);
        if (n == 0)
                return -EAGAIN;
        qsort(regions, n, sizeof(*regions), compare_ranges_region);
        *ret = TAKE_PTR(regions);
        *ret_n = n;
        return 0;
}

static int damon_regions(void *ctx, const nv_vm_info *vm, nv_access_region **ret, size_t *ret_n) {
        damon *d = ctx;
        damon_vm *v;
        int r;

        if (d->dirty) {
                r = apply(d);
                if (r < 0)
                        return r;
        }
        v = find_vm(d, vm->id);
        if (!v)
                return -ENOENT;
        if (!v->running)
                return -ESRCH;
        unsigned k = (unsigned)(v - d->vms);
        /* The kernel answers within an aggregation interval or two: the one wait numavd accepts. */
        r = attr_write(d, "update_schemes_tried_regions", "%u/state", k);
        if (r < 0) {
                char state[32];

                /* A vaddr kdamond stops by itself when its target exits. */
                if (attr_read(d, state, sizeof(state), "%u/state", k) >= 0 && strcmp(state, "off") == 0) {
                        v->running = false;
                        return -ESRCH;
                }
                return r;
        }
        return read_tried(d, k, v, ret, ret_n);
}

static void damon_destroy(void *ctx) {
        damon *d = ctx;

        if (!d)
                return;
        for (size_t i = 0; i < d->nr_vms; i++) {
                free(d->vms[i].name);
                free(d->vms[i].ranges);
        }
        d->nr_vms = 0;
        if (d->nr_ours > 0)
                (void)apply(d);
        free(d->vms);
        free(d->admin);
        free(d->state_dir);
        free(d);
}

unsigned nv_damon_backend_kdamonds(void *ctx) {
        const damon *d = ctx;
        return d ? d->nr_ours : 0;
}

static const nv_access_ops damon_ops = {
        .name = "damon",
        .attach = damon_attach,
        .detach = damon_detach,
        .regions = damon_regions,
        .destroy = damon_destroy,
};

int nv_damon_backend_new(const nv_damon_params *p, const nv_access_ops **ret_ops, void **ret_ctx) {
        damon *d;
        uint64_t n;
        int r;

        if (p->sample_interval == 0 || p->aggr_interval < p->sample_interval || p->min_regions < 3 ||
            p->max_regions < p->min_regions)
                return log_error_errno(EINVAL,
                                       "Invalid DAMON parameters: sampling %" PRIu64
                                       "us, aggregation %" PRIu64 "us, regions %u..%u.",
                                       p->sample_interval, p->aggr_interval, p->min_regions, p->max_regions);
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->p = *p;
        d->admin = strdup(p->admin_dir ?: DAMON_ADMIN_DIR);
        d->state_dir = strdup(p->state_dir ?: DAMON_STATE_DIR);
        if (!d->admin || !d->state_dir) {
                damon_destroy(d);
                return -ENOMEM;
        }

        r = attr_read_u64(d, &n, "nr_kdamonds");
        if (r < 0) {
                damon_destroy(d);
                return log_info_errno(r == -ENOENT ? ENOENT : r,
                                      "DAMON's sysfs interface is not available (%s): %m",
                                      p->admin_dir ?: DAMON_ADMIN_DIR);
        }
        cleanup_stale(d);
        r = attr_read_u64(d, &n, "nr_kdamonds");
        if (r >= 0 && n > 0) {
                char ops[256] = "";

                /* Look without touching: does the kernel offer vaddr at all? */
                (void)attr_read(d, ops, sizeof(ops), "0/contexts/0/avail_operations");
                damon_destroy(d);
                if (ops[0] && !strstr(ops, "vaddr"))
                        log_info("DAMON offers no vaddr operations here (only: %s).", ops);
                return log_info_errno(EBUSY,
                                      "DAMON runs %" PRIu64 " kdamonds numavd did not create; leaving DAMON "
                                      "alone.",
                                      n);
        }
        if (r >= 0)
                r = probe_vaddr(d);
        if (r < 0) {
                damon_destroy(d);
                return r == -EOPNOTSUPP ? r : log_info_errno(r, "Cannot probe DAMON: %m");
        }

        *ret_ops = &damon_ops;
        *ret_ctx = d;
        return 0;
}
