/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A lab guest's helper, started by tests/lab/guest-init.sh for the whole boot: it keeps a perf
 * counter open on itself, so that the scheduler's perf_sched_events static key stays on while
 * numavd and the tests open and close their own per-thread counters.
 *
 * Each switch of that key patches __schedule on every CPU through int3 breakpoints
 * (text_poke_bp). Multi-threaded TCG can go on running a stale translation of such a breakpoint
 * after the patch is done, and the guest kernel then dies in __schedule (tests/lab/lab.sh retries
 * such boots). With the key held on, numavd's counters no longer switch it. */
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
        struct perf_event_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.size = sizeof(attr);
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_TASK_CLOCK; /* a task counter: it takes perf_sched_events */
        if (syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC) < 0) {
                perror("nv-hold-keys: perf_event_open");
                return 1;
        }
        for (;;)
                pause();
}
