/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-vCPU perf counters on real threads of this process named as QEMU names vCPU threads. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/counters-perf.h"
#include "tap.h"
#include "test-util.h"

static volatile bool stop;
static volatile uint64_t sink;

static void *spin(void *arg) {
        while (!stop)
                for (int i = 0; i < 100000; i++)
                        sink += (uint64_t)i;
        return NULL;
}

int main(void) {
        _cleanup_(nv_perf_vm_freep) nv_perf_vm *p = NULL;
        _cleanup_free_ pid_t *tids = NULL;
        pthread_t t[2];
        nv_perf_counts c;
        size_t n = 0;
        int r;

        log_set_max_level(LOG_DEBUG);
        for (int i = 0; i < 2; i++) {
                char name[16];

                pthread_create(&t[i], NULL, spin, NULL);
                snprintf(name, sizeof(name), "CPU %d/KVM", i);
                pthread_setname_np(t[i], name);
        }
        r = nv_vcpu_threads(NULL, getpid(), &tids, &n);
        is_int(r, 0, "the vCPU threads of this process are listed");
        is_int(n, 2, "two threads named \"CPU n/KVM\" (and not the main thread)");
        is_int(nv_vcpu_threads(NULL, 0x3ffffff0, &tids, &n), -ENOENT,
               "a process that does not exist: -ENOENT");

        is_int(nv_perf_vm_new(&p), 0, "a counter set");
        r = nv_perf_vm_set_threads(p, tids, 2);
        is_int(r, 0, "counters opened on both threads");
        nv_perf_vm_read(p, &c);
        if (c.error[NV_PERF_TASK_CLOCK] == -EACCES || c.error[NV_PERF_TASK_CLOCK] == -EPERM) {
                stop = true;
                printf("ok %u - # SKIP perf_event_open is not permitted here\n", ++tap_count);
                return tap_done();
        }
        for (unsigned e = NV_PERF_TASK_CLOCK; e <= NV_PERF_CONTEXT_SWITCHES; e++)
                is_int(c.error[e], 0, "software event %s is available", nv_perf_event_to_string(e));
        for (unsigned e = NV_PERF_CYCLES; e < _NV_PERF_MAX; e++)
                printf("# hardware event %s: %s\n", nv_perf_event_to_string(e),
                       c.error[e] == 0 ? "available" : strerror(-c.error[e]));
        ok(test_count_fds("anon_inode:[perf_event]") >= 8,
           "one fd per software event per thread (%u perf fds)", test_count_fds("anon_inode:[perf_event]"));

        /* Let the threads run; no timing is asserted, only that a running thread is counted. */
        while (c.total[NV_PERF_TASK_CLOCK] < 20 * 1000 * 1000) {
                usleep(10 * 1000);
                nv_perf_vm_read(p, &c);
        }
        ok(c.total[NV_PERF_TASK_CLOCK] >= 20 * 1000 * 1000, "the spinning vCPU threads' task clock counts");
        is_int(c.nr_threads, 2, "both threads are counted");

        uint64_t before = c.total[NV_PERF_TASK_CLOCK];
        r = nv_perf_vm_set_threads(p, tids, 1);
        is_int(r, 0, "a vCPU thread goes away");
        nv_perf_vm_read(p, &c);
        is_int(c.nr_threads, 1, "one thread is counted");
        ok(c.total[NV_PERF_TASK_CLOCK] >= before, "the gone thread's counts stay in the total");
        ok(c.error[NV_PERF_CYCLES] <= 0 && c.error[NV_PERF_CYCLES] != -ENODATA,
           "a hardware event is available or says why not");

        stop = true;
        pthread_join(t[0], NULL);
        pthread_join(t[1], NULL);
        p = nv_perf_vm_free(p);
        is_int(test_count_fds("anon_inode:[perf_event]"), 0, "freed: every perf fd is closed");
        return tap_done();
}
