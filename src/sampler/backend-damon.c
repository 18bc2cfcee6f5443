/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DAMON access backend over /sys/kernel/mm/damon/admin (Documentation/admin-guide/mm/damon/usage.rst).
 * Kdamond i runs the context of vms[i]; the set is rebuilt (ours stopped, nr_kdamonds rewritten,
 * each configured and started) whenever VMs come or go, lazily at the next regions() call. */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/backend-damon.h"
#include "sampler/damon-sysfs.h"

#define DAMON_ADMIN_DIR   "/sys/kernel/mm/damon/admin"
#define DAMON_STATE_DIR   "/run/numavd"
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
        damon_sysfs fs;
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

/* Whether DAMON offers vaddr: kdamond 0's context lists its operations. Creates one kdamond to
 * look when there is none (recorded, and removed again). */
static int probe_vaddr(damon *d) {
        char ops[256];
        pid_t none = 0;
        int r;

        r = damon_state_save(&d->fs, 1, &none);
        if (r < 0)
                return r;
        r = damon_attr_write(&d->fs, "1", "nr_kdamonds");
        if (r >= 0)
                r = damon_attr_write(&d->fs, "1", "0/contexts/nr_contexts");
        if (r >= 0) {
                r = damon_attr_read(&d->fs, ops, sizeof(ops), "0/contexts/0/avail_operations");
                if (r == -ENOENT) /* before 5.19: try to select it */
                        r = damon_attr_write(&d->fs, "vaddr", "0/contexts/0/operations") < 0 ? -EOPNOTSUPP
                                                                                             : 0;
                else if (r >= 0 && !strstr(ops, "vaddr"))
                        r = log_info_errno(-EOPNOTSUPP, "DAMON offers no vaddr operations here (only: %s).",
                                           ops);
        }
        (void)damon_attr_write(&d->fs, "0", "nr_kdamonds");
        damon_state_remove(&d->fs);
        return r;
}

static int configure(damon *d, unsigned i, const damon_vm *vm) {
        const nv_damon_params *p = &d->p;
        int r = 0;

#define W(v, ...)  (r = r < 0 ? r : damon_attr_write_u64(&d->fs, v, __VA_ARGS__))
#define WS(s, ...) (r = r < 0 ? r : damon_attr_write(&d->fs, s, __VA_ARGS__))
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

        r = damon_attr_read_u64(&d->fs, &now, "nr_kdamonds");
        if (r < 0)
                return log_error_errno(r, "Cannot read DAMON's nr_kdamonds: %m");
        if (now != d->nr_ours)
                return log_error_errno(-EBUSY,
                                       "DAMON has %" PRIu64 " kdamonds, numavd created %u: someone else "
                                       "uses DAMON, leaving it alone.",
                                       now, d->nr_ours);

        if (d->nr_ours > 0) {
                r = damon_kdamonds_remove(&d->fs, d->nr_ours);
                if (r < 0)
                        return r;
                d->nr_ours = 0;
                damon_state_remove(&d->fs);
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
        r = damon_state_save(&d->fs, (unsigned)d->nr_vms, pids);
        if (r < 0)
                return r; /* never create what we could not record */
        r = damon_attr_write_u64(&d->fs, d->nr_vms, "nr_kdamonds");
        if (r < 0) {
                damon_state_remove(&d->fs);
                return log_error_errno(r, "Cannot create %zu kdamonds: %m", d->nr_vms);
        }
        d->nr_ours = (unsigned)d->nr_vms;

        for (unsigned i = 0; i < d->nr_ours; i++) {
                damon_vm *vm = &d->vms[i];

                r = configure(d, i, vm);
                if (r >= 0)
                        r = damon_attr_write(&d->fs, "on", "%u/state", i);
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
                return log_warning_errno(-E2BIG, "DAMON already monitors %u VMs.", DAMON_MAX_VMS);
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

        snprintf(path, sizeof(path), "%s/kdamonds/%u/contexts/0/schemes/0/tried_regions", d->fs.admin, k);
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
                if (damon_attr_read_u64(&d->fs, &start, "%u/contexts/0/schemes/0/tried_regions/%lu/start", k,
                                        idx) < 0 ||
                    damon_attr_read_u64(&d->fs, &end, "%u/contexts/0/schemes/0/tried_regions/%lu/end", k,
                                        idx) < 0 ||
                    damon_attr_read_u64(&d->fs, &acc,
                                        "%u/contexts/0/schemes/0/tried_regions/%lu/nr_accesses", k,
                                        idx) < 0 ||
                    damon_attr_read_u64(&d->fs, &age, "%u/contexts/0/schemes/0/tried_regions/%lu/age", k,
                                        idx) < 0) {
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
        r = damon_attr_write(&d->fs, "update_schemes_tried_regions", "%u/state", k);
        if (r < 0) {
                char state[32];

                /* A vaddr kdamond stops by itself when its target exits. */
                if (damon_attr_read(&d->fs, state, sizeof(state), "%u/state", k) >= 0 &&
                    strcmp(state, "off") == 0) {
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
        free(d->fs.admin);
        free(d->fs.state_dir);
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
                return log_error_errno(-EINVAL,
                                       "Invalid DAMON parameters: sampling %" PRIu64
                                       "us, aggregation %" PRIu64 "us, regions %u..%u.",
                                       p->sample_interval, p->aggr_interval, p->min_regions, p->max_regions);
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->p = *p;
        d->fs.admin = strdup(p->admin_dir ?: DAMON_ADMIN_DIR);
        d->fs.state_dir = strdup(p->state_dir ?: DAMON_STATE_DIR);
        if (!d->fs.admin || !d->fs.state_dir) {
                damon_destroy(d);
                return -ENOMEM;
        }

        r = damon_attr_read_u64(&d->fs, &n, "nr_kdamonds");
        if (r < 0) {
                damon_destroy(d);
                return log_info_errno(r == -ENOENT ? ENOENT : r,
                                      "DAMON's sysfs interface is not available (%s): %m",
                                      p->admin_dir ?: DAMON_ADMIN_DIR);
        }
        damon_cleanup_stale(&d->fs);
        r = damon_attr_read_u64(&d->fs, &n, "nr_kdamonds");
        if (r >= 0 && n > 0) {
                char ops[256] = "";

                /* Look without touching: does the kernel offer vaddr at all? */
                (void)damon_attr_read(&d->fs, ops, sizeof(ops), "0/contexts/0/avail_operations");
                damon_destroy(d);
                if (ops[0] && !strstr(ops, "vaddr"))
                        log_info("DAMON offers no vaddr operations here (only: %s).", ops);
                return log_info_errno(-EBUSY,
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
