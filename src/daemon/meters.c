/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/meters.h"
#include "daemon/manager.h"

int nv_meters_new(const nv_meters_params *p, const nv_vm_info *vm, nv_meters **ret) {
        _cleanup_(nv_meters_freep) nv_meters *c = NULL;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->pid = vm->pid;
        c->params = *p;
        c->params.proc_root = NULL; /* not owned: the paths are copied where they are kept */
        c->params.debugfs = NULL;
        c->kvm_error = -ENODATA;
        c->numa_error = -ENODATA;
        c->dirty_started = USEC_INFINITY;
        c->numa_read = USEC_INFINITY;
        r = nv_perf_vm_new(&c->perf);
        if (r < 0)
                return r;
        if (p->dirty_interval == 0)
                c->dirty_error = -ECANCELED;
        else if (p->soft_dirty <= 0)
                c->dirty_error = p->soft_dirty < 0 ? p->soft_dirty : -EOPNOTSUPP;
        else {
                r = nv_dirty_rate_new(p->proc_root, vm->pid, &c->dirty);
                if (r < 0)
                        return r;
                c->dirty_error = -EAGAIN;
        }
        /* Kept for the sources opened later: copies, so the caller's strings may go. */
        if ((p->proc_root && !(c->params.proc_root = strdup(p->proc_root))) ||
            (p->debugfs && !(c->params.debugfs = strdup(p->debugfs))))
                return -ENOMEM;
        *ret = TAKE_PTR(c);
        return 0;
}

nv_meters *nv_meters_free(nv_meters *c) {
        if (!c)
                return NULL;
        nv_perf_vm_free(c->perf); /* closes every perf fd */
        nv_kvm_stats_free(c->kvm);
        nv_dirty_rate_free(c->dirty);
        free((char *)c->params.proc_root);
        free((char *)c->params.debugfs);
        free(c);
        return NULL;
}

double nv_meters_pressure(const nv_perf_counts *pc) {
        uint64_t loads = pc->delta[NV_PERF_NODE_LOADS], misses = pc->delta[NV_PERF_NODE_LOAD_MISSES];

        if (pc->error[NV_PERF_NODE_LOADS] < 0 || pc->error[NV_PERF_NODE_LOAD_MISSES] < 0 || loads == 0)
                return 0;
        return MIN(1.0, (double)misses / (double)loads);
}

double nv_meters_weight(double base, double pressure) {
        if (!(pressure > 0)) /* also NaN */
                return base;
        return base * (1.0 + MIN(pressure, 1.0));
}

static void collect_perf(nv_meters *c, const nv_vm_info *vm) {
        _cleanup_free_ pid_t *tids = NULL;
        size_t n = 0;
        int r;

        r = nv_vcpu_threads(c->params.proc_root, vm->pid, &tids, &n);
        if (r < 0)
                log_debug_errno(r, "Cannot list the vCPU threads of VM %s, keeping the last set: %m",
                                vm->name);
        else if (nv_perf_vm_set_threads(c->perf, tids, n) < 0)
                log_debug("Out of memory following the vCPU threads of VM %s, ignoring.", vm->name);
        nv_perf_vm_read(c->perf, &c->perf_counts);
        c->have_perf = true;
        c->pressure = nv_meters_pressure(&c->perf_counts);
}

static void collect_kvm(nv_meters *c, const nv_vm_info *vm) {
        int r;

        if (!c->kvm) {
                /* Until the VMM has created its VM, or for good when debugfs is not there: cheap. */
                r = nv_kvm_stats_open(c->params.proc_root, c->params.debugfs, vm->pid, &c->kvm);
                if (r < 0) {
                        c->kvm_error = r;
                        return;
                }
        }
        r = nv_kvm_stats_read(c->kvm, &c->kvm_counts);
        if (r < 0) {
                if (r != c->kvm_error)
                        log_debug_errno(r, "Cannot read the KVM statistics of VM %s, ignoring: %m",
                                        vm->name);
                c->kvm = nv_kvm_stats_free(c->kvm); /* reopened next epoch: the VMM may have a new VM */
        }
        c->kvm_error = r;
}

static void collect_dirty(nv_meters *c, const nv_vm_info *vm, const nv_region *regions, size_t n,
                          usec_t now) {
        nv_dirty_estimate est;
        int r;

        if (c->dirty_started == USEC_INFINITY) {
                /* The first interval begins; its estimate comes when it is over. */
                r = nv_dirty_rate_start(c->dirty, now);
                if (r >= 0) {
                        c->dirty_started = now;
                        c->dirty_moved = false;
                }
        } else if (now - c->dirty_started >= c->params.dirty_interval) {
                r = nv_dirty_rate_sample(c->dirty, vm, regions, n, now, &est);
                if (r >= 0) {
                        c->dirty_started = now; /* sample() began the next interval */
                        if (!c->dirty_moved) {
                                c->dirty_last = est;
                                c->dirty_error = 0;
                        }
                        c->dirty_moved = false;
                }
        } else
                return;
        if (r < 0) {
                log_debug_errno(r, "Cannot measure the dirty rate of VM %s, ignoring: %m", vm->name);
                c->dirty_error = r;
                c->dirty = nv_dirty_rate_free(c->dirty);
        }
}

void nv_meters_note_moved(nv_meters *c) {
        if (c)
                c->dirty_moved = true;
}

int nv_meters_collect(nv_meters *c, const nv_vm_info *vm, const nv_region *regions, size_t n, usec_t now) {
        int r;

        if (c->numa_read == USEC_INFINITY || now - c->numa_read >= NV_NUMA_MAPS_INTERVAL) {
                r = nv_numa_maps_read(c->params.proc_root, vm->pid, vm->ranges, vm->nr_ranges, &c->numa);
                if (r == -ESRCH)
                        return r;
                if (r < 0 && r != c->numa_error)
                        log_debug_errno(r, "Cannot read the numa_maps of VM %s, ignoring: %m", vm->name);
                c->numa_error = r;
                c->numa_read = now;
        }
        collect_perf(c, vm);
        collect_kvm(c, vm);
        if (c->dirty && c->params.dirty_interval == 0) { /* turned off by a reload */
                c->dirty = nv_dirty_rate_free(c->dirty);
                c->dirty_error = -ECANCELED;
        }
        if (c->dirty)
                collect_dirty(c, vm, regions, n, now);
        return 0;
}

void nv_epoch_counters_open(const nv_manager *m, nv_vm_state *s) {
        nv_meters_params p;
        int r;

        if (!m->host.counters)
                return; /* a host without per-VM counters */
        p = (nv_meters_params){
                .proc_root = m->host.counters->proc_root,
                .debugfs = m->host.counters->debugfs,
                .dirty_interval = m->config->dirty_rate_interval,
                .soft_dirty = m->config->dirty_rate_interval > 0 ? nv_soft_dirty_supported() : 0,
        };
        r = nv_meters_new(&p, &s->info, &s->meters);
        if (r < 0)
                log_warning_errno(r, "Cannot set up the counters of VM %s, ignoring: %m", s->info.name);
}

void nv_epoch_meters_collect(const nv_manager *m, nv_vm_state *s) {
        struct timespec ts;
        size_t n;
        const nv_region *regions = nv_heatmap_regions(s->heat, &n);

        if (!s->meters || !s->seen)
                return;
        /* The interval may have been changed by a reload. */
        s->meters->params.dirty_interval = m->config->dirty_rate_interval;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (nv_meters_collect(s->meters, &s->info, regions, n,
                              (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000) == -ESRCH)
                s->seen = false; /* gone: forgotten at the next refresh */
}

const char *nv_meters_error_string(int error) {
        switch (error) {
        case -ENOENT:
                return "no such event on this CPU's PMU";
        case -EOPNOTSUPP:
                return "not supported by this kernel";
        case -EACCES:
        case -EPERM:
                return "not permitted";
        case -ENODEV:
                return "KVM's debugfs directory is not there";
        case -ENODATA:
                return "not read yet";
        case -EAGAIN:
                return "first measurement under way";
        case -ECANCELED:
                return "turned off";
        case -ESRCH:
                return "the process is gone";
        default:
                return strerror(-error);
        }
}

/* "exits" -> "kvmExits" */
static void kvm_key(char *buf, size_t size, const char *name) {
        snprintf(buf, size, "kvm%s", name);
        buf[3] = (char)toupper((unsigned char)buf[3]);
}

void nv_meters_json(const nv_meters *c, unsigned nr_nodes, json_object *o) {
        json_object *counters = json_object_new_object(), *unavailable = json_object_new_object();

        for (unsigned e = 0; e < _NV_PERF_MAX; e++) {
                const char *name = nv_perf_event_to_string((nv_perf_event)e);
                int error = !c->have_perf ? -ENODATA
                            : c->perf_counts.nr_threads == 0 && c->perf_counts.error[e] == -ENODATA
                                    ? -ESRCH
                                    : c->perf_counts.error[e];

                if (error == 0)
                        json_object_object_add(counters, name,
                                               json_object_new_uint64(c->perf_counts.total[e]));
                else
                        json_object_object_add(
                                unavailable, name,
                                json_object_new_string(error == -ESRCH ? "no vCPU thread found"
                                                                       : nv_meters_error_string(error)));
        }
        for (unsigned s = 0; s < _NV_KVM_STAT_MAX; s++) {
                char key[64];

                kvm_key(key, sizeof(key), nv_kvm_stat_to_string((nv_kvm_stat)s));
                if (c->kvm_error == 0 && c->kvm_counts.available[s])
                        json_object_object_add(counters, key,
                                               json_object_new_uint64(c->kvm_counts.value[s]));
                else
                        json_object_object_add(
                                unavailable, key,
                                json_object_new_string(c->kvm_error == 0 ? "not kept by this kernel's KVM"
                                                       : c->kvm_error == -ENOENT
                                                               ? "the process holds no KVM VM fd"
                                                               : nv_meters_error_string(c->kvm_error)));
        }
        json_object_object_add(o, "counters", counters);
        json_object_object_add(o, "countersUnavailable", unavailable);

        json_object_object_add(o, "dirtyRate",
                               c->dirty_error == 0 ? json_object_new_double(c->dirty_last.bytes_per_sec)
                                                   : NULL);
        json_object_object_add(o, "dirtyRateUnavailable",
                               c->dirty_error == 0 ? NULL
                               : c->dirty_error == -EOPNOTSUPP
                                       ? json_object_new_string("no soft-dirty bits in this kernel "
                                                                "(CONFIG_MEM_SOFT_DIRTY)")
                                       : json_object_new_string(nv_meters_error_string(c->dirty_error)));

        if (c->numa_error == 0 && c->numa.nr_mappings > 0) {
                json_object *a = json_object_new_array();

                for (unsigned nd = 0; nd < MAX(nr_nodes, 1u) && nd < NV_MAX_NODES; nd++)
                        json_object_array_add(a, json_object_new_uint64(c->numa.node_bytes[nd]));
                json_object_object_add(o, "memoryPerNode", a);
        }
}
