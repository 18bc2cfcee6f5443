/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nv-vmm -w SCENE: the workloads of the lab bake-off (tests/lab/bench-cells.sh), one or two vCPUs
 * writing their hot sets in a loop, and once a second one line appended to SERIES:
 *   t=SECONDS passes=P hot=PAGES local=PAGES pingpong=PAGES vcpu0_node=N [vcpu1_node=N shared_n1=PAGES]
 * t is CLOCK_BOOTTIME (the guest's /proc/uptime) when the line's measurement began; hot counts the pages of the current hot sets; local those sitting on the node of the CPU their
 * vCPU thread last ran on (/proc/self/task/TID/stat); pingpong the pages seen back on a node they
 * had left (every page of every set below is followed); passes the guest's completed sweeps.
 * Scenes (H = the hot set, at OFFSET into the data; every page first touched on node 0 unless said):
 *   rehome: vCPU 0 on CPUS0 writes [0, H);
 *   shift:  vCPU 0 on CPUS0 writes A = [0, H), first touched on node 1; from SIGUSR1 on it writes
 *           B = [2H, 3H) instead;
 *   wide:   vCPU 0 on CPUS0 writes priv0 = [0, H) and shared = [2H, 2.5H), vCPU 1 on CPUS1 writes
 *           priv1 = [H, 2H) and shared; hot and local count priv0 and priv1, shared is reported
 *           apart (shared_n1: its pages on node 1). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "nv-vmm.h"

#define CODE1_GPA    0x100u    /* vCPU 1's copy of the guest code, its pass counter 4 bytes on */
#define TABLE1_GPA   0x200000u /* vCPU 1's page table */
#define COUNTER_DISP 16        /* offset of the counter's address in the guest code */

typedef struct span {
        uint64_t first, n; /* data pages */
} span;

typedef struct vcpu {
        int fd;
        struct kvm_run *run;
        uint32_t code, table, n;
        cpu_set_t cpus;
        char name[16];
        volatile pid_t tid;
} vcpu;

static volatile sig_atomic_t shift_now;

static void on_usr1(int sig) {
        (void)sig;
        shift_now = 1;
}

static void *vcpu_main(void *p) {
        vcpu *v = p;

        prctl(PR_SET_NAME, v->name);
        v->tid = (pid_t)syscall(SYS_gettid);
        if (sched_setaffinity(0, sizeof(v->cpus), &v->cpus) < 0)
                die("sched_setaffinity");
        nv_vmm_run(v->fd, v->run, v->code, v->table, v->n, true);
        return NULL;
}

/* Fill the page table at table_gpa with the pages of the spans; returns the entries written. */
static uint32_t fill_table(uint8_t *ram, uint32_t table_gpa, const span *s, unsigned ns) {
        uint32_t *t = (uint32_t *)(ram + table_gpa), k = 0;

        for (unsigned i = 0; i < ns; i++)
                for (uint64_t p = s[i].first; p < s[i].first + s[i].n; p++, k++)
                        t[k] = DATA_GPA + (uint32_t)p * PAGE + (k % 64) * 64;
        return k;
}

/* The node of the CPU thread tid last ran on, or -1. */
static int node_of_thread(pid_t tid) {
        char path[64], buf[1024], *p;
        FILE *f;
        int cpu = -1;

        snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
        fclose(f);
        /* field 39 (processor); p points at the end of field 2 */
        for (int field = 2; p && field < 39; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p + 1, "%d", &cpu) != 1)
                return -1;
        for (int node = 0; node < 64; node++) {
                snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/node%d", cpu, node);
                if (access(path, F_OK) == 0)
                        return node;
        }
        return -1;
}

/* Node of each page of s (move_pages queries) into node[s.first ...]; -1 where not present. */
static void query_nodes(uint8_t *data, span s, int8_t *node) {
        enum {
                BATCH = 1024
        };
        void *pages[BATCH];
        int status[BATCH];

        for (uint64_t i = 0; i < s.n; i += BATCH) {
                unsigned k = (unsigned)MIN((uint64_t)BATCH, s.n - i);
                for (unsigned j = 0; j < k; j++)
                        pages[j] = data + (s.first + i + j) * PAGE;
                if (syscall(SYS_move_pages, 0, k, pages, NULL, status, 0) < 0)
                        die("move_pages");
                for (unsigned j = 0; j < k; j++)
                        node[s.first + i + j] = (int8_t)(status[j] >= 0 ? status[j] : -1);
        }
}

static uint64_t on_node(const int8_t *node, span s, int n) {
        uint64_t c = 0;

        for (uint64_t p = s.first; p < s.first + s.n; p++)
                c += node[p] == n;
        return c;
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_BOOTTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int nv_vmm_scene(int vm, uint8_t *ram, int vcpu0, struct kvm_run *run0, uint64_t pages, uint64_t hot_first,
                 uint64_t hot_pages, const cpu_set_t cpus[2], const char *scene, const char *series) {
        uint8_t *data = ram + DATA_GPA;
        bool wide = strcmp(scene, "wide") == 0, shift = strcmp(scene, "shift") == 0;
        uint64_t h = hot_pages, f = hot_first;
        span a = { f, h }, b = { f + h, h }, shared = { f + 2 * h, h / 2 }, shifted = { f + 2 * h, h };
        /* the sets whose pages are followed: the hot sets, and shared */
        span follow[3] = { a, wide ? b : shifted, shared };
        unsigned nf = wide ? 3 : shift ? 2 : 1;
        int8_t *node = malloc(pages), *home = malloc(pages);
        uint8_t *left = calloc(pages, 1);
        uint64_t pingpong = 0;
        vcpu v[2] = { { .fd = vcpu0, .run = run0, .table = TABLE_GPA, .cpus = cpus[0], .name = "CPU 0/KVM" },
                      { .code = CODE1_GPA, .table = TABLE1_GPA, .cpus = cpus[1], .name = "CPU 1/KVM" } };
        unsigned nv = wide ? 2 : 1;
        pthread_t threads[2];

        if (!wide && !shift && strcmp(scene, "rehome") != 0)
                return fprintf(stderr, "unknown scene %s\n", scene), -EINVAL;
        if (f + (wide ? 2 * h + h / 2 : 3 * h) > pages || !node || !home || !left)
                return fprintf(stderr, "the scene's sets do not fit the data\n"), -EINVAL;
        if (shift) { /* A moved to node 1 by move_pages(2) before the vCPU starts */
                for (uint64_t p = a.first; p < a.first + a.n; p += 1024) {
                        unsigned k = (unsigned)MIN((uint64_t)1024, a.first + a.n - p);
                        void *pg[1024];
                        int to[1024], st[1024];
                        for (unsigned j = 0; j < k; j++)
                                pg[j] = data + (p + j) * PAGE, to[j] = 1;
                        if (syscall(SYS_move_pages, 0, k, pg, to, st, 0) < 0)
                                die("move_pages to node 1");
                }
        }
        if (wide) {
                span s0[2] = { a, shared }, s1[2] = { b, shared };
                v[0].n = fill_table(ram, TABLE_GPA, s0, 2);
                v[1].n = fill_table(ram, TABLE1_GPA, s1, 2);
                memcpy(ram + CODE1_GPA, ram, 32);
                ram[CODE1_GPA + COUNTER_DISP] = (uint8_t)(PASS_COUNTER + 4);
                v[1].fd = nv_vmm_vcpu_new(vm, 1, &v[1].run);
        } else
                v[0].n = fill_table(ram, TABLE_GPA, &a, 1);
        if (signal(SIGUSR1, on_usr1) == SIG_ERR)
                die("signal");
        for (unsigned i = 0; i < nv; i++)
                if (pthread_create(&threads[i], NULL, vcpu_main, &v[i]) != 0)
                        die("pthread_create");
        for (unsigned i = 0; i < nv; i++)
                while (!v[i].tid)
                        usleep(1000);
        for (unsigned i = 0; i < nf; i++)
                query_nodes(data, follow[i], home);
        printf("ready pid=%d vcpu0=%d vcpu1=%d\n", (int)getpid(), (int)v[0].tid, wide ? (int)v[1].tid : 0);
        fflush(stdout);
        for (bool shifted_now = false;;) {
                sleep(1);
                double t = now();
                if (shift && shift_now && !shifted_now) {
                        /* The guest reads its table on every pass: the next pass writes B. */
                        fill_table(ram, TABLE_GPA, &shifted, 1);
                        shifted_now = true;
                }
                uint32_t passes = 0;
                for (unsigned i = 0; i < nv; i++)
                        passes += *(volatile uint32_t *)(ram + PASS_COUNTER + 4 * i);
                for (unsigned i = 0; i < nf; i++)
                        query_nodes(data, follow[i], node);
                for (unsigned i = 0; i < nf; i++)
                        for (uint64_t p = follow[i].first; p < follow[i].first + follow[i].n; p++) {
                                if (node[p] < 0)
                                        continue;
                                if (node[p] != home[p])
                                        left[p] = 1;
                                else if (left[p]) {
                                        pingpong++;
                                        left[p] = 0;
                                }
                        }
                int n0 = node_of_thread(v[0].tid), n1 = wide ? node_of_thread(v[1].tid) : -1;
                uint64_t hot, local;
                if (wide) {
                        hot = a.n + b.n;
                        local = on_node(node, a, n0) + on_node(node, b, n1);
                } else {
                        span cur = shifted_now ? shifted : a;
                        hot = cur.n;
                        local = on_node(node, cur, n0);
                }
                FILE *out = fopen(series, "ae");
                if (!out)
                        die(series);
                fprintf(out,
                        "t=%.1f passes=%u hot=%" PRIu64 " local=%" PRIu64 " pingpong=%" PRIu64
                        " vcpu0_node=%d",
                        t, passes, hot, local, pingpong, n0);
                if (wide)
                        fprintf(out, " vcpu1_node=%d shared_n1=%" PRIu64, n1, on_node(node, shared, 1));
                fprintf(out, "\n");
                fclose(out);
        }
}
