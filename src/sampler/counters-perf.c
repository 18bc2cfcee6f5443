/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/string-table.h"
#include "common/log.h"
#include "sampler/counters-perf.h"

#define PERF_MAX_THREADS 4096u

typedef struct perf_thread {
        pid_t tid;
        int fd[_NV_PERF_MAX];
        uint64_t last[_NV_PERF_MAX]; /* scaled value at the previous read */
} perf_thread;

struct nv_perf_vm {
        perf_thread *threads;
        size_t nr_threads;
        int error[_NV_PERF_MAX];
        uint64_t total[_NV_PERF_MAX];
        uint64_t pending[_NV_PERF_MAX]; /* counted by threads closed since the last read */
};

static const char *const nv_perf_event_table[_NV_PERF_MAX] = {
        [NV_PERF_TASK_CLOCK] = "taskClockNs",
        [NV_PERF_PAGE_FAULTS] = "pageFaults",
        [NV_PERF_CPU_MIGRATIONS] = "cpuMigrations",
        [NV_PERF_CONTEXT_SWITCHES] = "contextSwitches",
        [NV_PERF_CYCLES] = "cycles",
        [NV_PERF_INSTRUCTIONS] = "instructions",
        [NV_PERF_LLC_MISSES] = "llcMisses",
        [NV_PERF_NODE_LOADS] = "nodeLoads",
        [NV_PERF_NODE_LOAD_MISSES] = "nodeLoadMisses",
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(nv_perf_event, nv_perf_event);

static void event_attr(nv_perf_event e, struct perf_event_attr *a) {
        static const struct {
                uint32_t type;
                uint64_t config;
        } ev[_NV_PERF_MAX] = {
                [NV_PERF_TASK_CLOCK] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
                [NV_PERF_PAGE_FAULTS] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS },
                [NV_PERF_CPU_MIGRATIONS] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS },
                [NV_PERF_CONTEXT_SWITCHES] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES },
                [NV_PERF_CYCLES] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES },
                [NV_PERF_INSTRUCTIONS] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
                [NV_PERF_LLC_MISSES] = { PERF_TYPE_HW_CACHE,
                                         PERF_COUNT_HW_CACHE_LL | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
                                                 (PERF_COUNT_HW_CACHE_RESULT_MISS << 16) },
                [NV_PERF_NODE_LOADS] = { PERF_TYPE_HW_CACHE,
                                         PERF_COUNT_HW_CACHE_NODE | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
                                                 (PERF_COUNT_HW_CACHE_RESULT_ACCESS << 16) },
                [NV_PERF_NODE_LOAD_MISSES] = { PERF_TYPE_HW_CACHE,
                                               PERF_COUNT_HW_CACHE_NODE |
                                                       (PERF_COUNT_HW_CACHE_OP_READ << 8) |
                                                       (PERF_COUNT_HW_CACHE_RESULT_MISS << 16) },
        };

        *a = (struct perf_event_attr){
                .size = sizeof(*a),
                .type = ev[e].type,
                .config = ev[e].config,
                .read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING,
        };
}

int nv_perf_vm_new(nv_perf_vm **ret) {
        nv_perf_vm *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        for (unsigned e = 0; e < _NV_PERF_MAX; e++)
                p->error[e] = -ENODATA; /* not tried yet */
        *ret = p;
        return 0;
}

/* The scaled count of one counter, or 0 when it cannot be read. */
static uint64_t read_scaled(int fd) {
        uint64_t v[3];

        if (fd < 0 || read(fd, v, sizeof(v)) != (ssize_t)sizeof(v))
                return 0;
        if (v[2] == 0)
                return 0;
        if (v[2] >= v[1])
                return v[0];
        return (uint64_t)((double)v[0] * (double)v[1] / (double)v[2]);
}

static void thread_close(nv_perf_vm *p, perf_thread *t) {
        for (unsigned e = 0; e < _NV_PERF_MAX; e++)
                if (t->fd[e] >= 0) {
                        uint64_t now = read_scaled(t->fd[e]);
                        if (now > t->last[e])
                                p->pending[e] += now - t->last[e];
                        close(t->fd[e]);
                        t->fd[e] = -EBADF;
                }
}

static void thread_open(nv_perf_vm *p, perf_thread *t, pid_t tid) {
        *t = (perf_thread){ .tid = tid };
        for (unsigned e = 0; e < _NV_PERF_MAX; e++) {
                struct perf_event_attr a;

                event_attr((nv_perf_event)e, &a);
                t->fd[e] = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
                if (t->fd[e] < 0) {
                        int err = -errno;
                        /* The first thread decides whether an event exists here. */
                        if (p->error[e] == -ENODATA)
                                p->error[e] = err;
                        t->fd[e] = -EBADF;
                } else if (p->error[e] == -ENODATA || p->error[e] < 0)
                        p->error[e] = 0;
        }
}

nv_perf_vm *nv_perf_vm_free(nv_perf_vm *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->nr_threads; i++)
                thread_close(p, &p->threads[i]);
        free(p->threads);
        free(p);
        return NULL;
}

int nv_perf_vm_set_threads(nv_perf_vm *p, const pid_t *tids, size_t n) {
        perf_thread *next;
        size_t w = 0;

        n = MIN(n, (size_t)PERF_MAX_THREADS);
        next = calloc(MAX(n, (size_t)1), sizeof(*next));
        if (!next)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                bool kept = false;

                for (size_t i = 0; i < p->nr_threads; i++)
                        if (p->threads[i].tid == tids[k] && p->threads[i].tid > 0) {
                                next[w++] = p->threads[i];
                                p->threads[i].tid = 0; /* taken */
                                kept = true;
                                break;
                        }
                if (!kept)
                        thread_open(p, &next[w++], tids[k]);
        }
        for (size_t i = 0; i < p->nr_threads; i++)
                if (p->threads[i].tid > 0)
                        thread_close(p, &p->threads[i]);
        free(p->threads);
        p->threads = next;
        p->nr_threads = w;
        return 0;
}

void nv_perf_vm_read(nv_perf_vm *p, nv_perf_counts *ret) {
        *ret = (nv_perf_counts){ .nr_threads = (unsigned)p->nr_threads };
        for (unsigned e = 0; e < _NV_PERF_MAX; e++) {
                uint64_t d = p->pending[e];

                p->pending[e] = 0;
                for (size_t i = 0; i < p->nr_threads; i++) {
                        perf_thread *t = &p->threads[i];
                        uint64_t now = read_scaled(t->fd[e]);

                        if (t->fd[e] < 0)
                                continue;
                        if (now > t->last[e])
                                d += now - t->last[e];
                        t->last[e] = now;
                }
                p->total[e] += d;
                ret->delta[e] = d;
                ret->total[e] = p->total[e];
                ret->error[e] = p->error[e];
        }
}

int nv_vcpu_threads(const char *proc_root, pid_t pid, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ pid_t *tids = NULL;
        char path[512];
        struct dirent *de;
        size_t n = 0, cap = 0;
        DIR *d;

        snprintf(path, sizeof(path), "%s/%d/task", proc_root ?: "/proc", (int)pid);
        d = opendir(path);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char comm_path[sizeof(path) + 300], comm[64] = "", kind[8];
                unsigned index;
                int tid = atoi(de->d_name);
                FILE *f;

                if (tid <= 0)
                        continue;
                snprintf(comm_path, sizeof(comm_path), "%s/%s/comm", path, de->d_name);
                f = fopen(comm_path, "re");
                if (!f)
                        continue; /* exited meanwhile */
                if (!fgets(comm, sizeof(comm), f))
                        comm[0] = 0;
                fclose(f);
                /* QEMU's names: "CPU 0/KVM", "CPU 1/TCG". */
                if (sscanf(comm, "CPU %u/%7[A-Z]", &index, kind) != 2 || n >= PERF_MAX_THREADS)
                        continue;
                if (n == cap) {
                        pid_t *t = reallocarray(tids, MAX(cap * 2, (size_t)8), sizeof(*t));
                        if (!t) {
                                closedir(d);
                                return -ENOMEM;
                        }
                        tids = t;
                        cap = MAX(cap * 2, (size_t)8);
                }
                tids[n++] = tid;
        }
        closedir(d);
        *ret = TAKE_PTR(tids);
        *ret_n = n;
        return 0;
}
