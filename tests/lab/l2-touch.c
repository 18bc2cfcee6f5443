/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The workload of the L2 Linux in tests/lab/t-l2.sh, linked statically for its busybox initramfs.
 *
 *   l2-touch [-H HOT_MIB] [-C COLD_MIB] [-P PRIVATE_MIB]
 *
 * Maps a hot and a cold set (2 MiB aligned, transparent huge pages where the L2 kernel gives them),
 * writes every 4 KiB page of both once, then writes a byte in each page of the hot set in a loop,
 * for ever. It tells the L1 where its memory lies in guest-physical memory (from
 * /proc/self/pagemap; the L1 maps that to the VMM's host-virtual addresses) as lines on stdout:
 *
 *   L2-MAP gen=G
 *   L2-RANGE G hot|cold FIRST_PFN PAGES        (sorted, adjacent frames merged)
 *   L2-MAP-END gen=G hot=PAGES cold=PAGES
 *
 * and again, with the next G, whenever the frames changed (the L2 kernel is free to migrate or
 * collapse pages). Every 5 s: "L2-RATE sweeps=N seconds=S" (sweeps of the hot set).
 *
 * With -P, each of the L2's first two CPUs has a private set instead of the one hot set: a thread
 * pinned to CPU i writes a byte in each page of set "privI" (PRIVATE_MIB) in a loop, so that
 * each set is touched by one vCPU only; the sets are reported as above, named priv0 and priv1,
 * and the rate line adds each thread's sweeps: "L2-RATE sweeps=N seconds=S sweeps0=A
 * sweeps1=B". */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE     4096UL
#define HUGE     (2UL << 20)
#define PFN_MASK ((UINT64_C(1) << 55) - 1)
#define PRESENT  (UINT64_C(1) << 63)

typedef struct set {
        const char *name;
        volatile uint8_t *mem;
        size_t pages;
        uint64_t *pfns; /* sorted; 0 for a page not present */
} set;

static int map_set(set *s, const char *name, size_t mib) {
        size_t size = mib << 20;
        uint8_t *p;

        p = mmap(NULL, size + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return -errno;
        p = (uint8_t *)(((uintptr_t)p + HUGE - 1) & ~(HUGE - 1));
        (void)madvise(p, size, MADV_HUGEPAGE);
        for (size_t i = 0; i < size; i += PAGE)
                p[i] = 1;

        *s = (set){ .name = name, .mem = p, .pages = size / PAGE };
        s->pfns = calloc(s->pages, sizeof(*s->pfns));
        return s->pfns ? 0 : -ENOMEM;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* The sorted frame numbers of s into pfns; -errno when pagemap cannot be read. */
static int read_pfns(int pagemap_fd, const set *s, uint64_t *pfns) {
        size_t done = 0;

        while (done < s->pages) {
                uint64_t buf[512];
                size_t n = s->pages - done < 512 ? s->pages - done : 512;
                off_t off = (off_t)(((uintptr_t)s->mem / PAGE + done) * sizeof(uint64_t));
                ssize_t k = pread(pagemap_fd, buf, n * sizeof(uint64_t), off);

                if (k < 0)
                        return -errno;
                if ((size_t)k != n * sizeof(uint64_t))
                        return -EIO;
                for (size_t i = 0; i < n; i++)
                        pfns[done + i] = buf[i] & PRESENT ? buf[i] & PFN_MASK : 0;
                done += n;
        }
        qsort(pfns, s->pages, sizeof(*pfns), cmp_u64);
        return 0;
}

static void print_ranges(unsigned gen, const set *s) {
        size_t i = 0;

        while (i < s->pages) {
                size_t j = i + 1;

                while (j < s->pages && s->pfns[j] == s->pfns[j - 1] + 1)
                        j++;
                if (s->pfns[i] != 0)
                        printf("L2-RANGE %u %s %" PRIu64 " %zu\n", gen, s->name, s->pfns[i], j - i);
                i = j;
        }
}

/* Reads both sets' frames and prints them when they changed (or for the first time). */
static int report_map(int pagemap_fd, set *sets, size_t n, unsigned *gen) {
        bool changed = *gen == 0;

        for (size_t i = 0; i < n; i++) {
                uint64_t *fresh = calloc(sets[i].pages, sizeof(*fresh));
                int r;

                if (!fresh)
                        return -ENOMEM;
                r = read_pfns(pagemap_fd, &sets[i], fresh);
                if (r < 0) {
                        free(fresh);
                        return r;
                }
                if (memcmp(fresh, sets[i].pfns, sets[i].pages * sizeof(*fresh)) != 0)
                        changed = true;
                free(sets[i].pfns);
                sets[i].pfns = fresh;
        }
        if (!changed)
                return 0;

        (*gen)++;
        printf("L2-MAP gen=%u\n", *gen);
        for (size_t i = 0; i < n; i++)
                print_ranges(*gen, &sets[i]);
        printf("L2-MAP-END gen=%u", *gen);
        for (size_t i = 0; i < n; i++)
                printf(" %s=%zu", sets[i].name, sets[i].pages);
        printf("\n");
        return 0;
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct private_loop {
        set *set;
        int cpu;
        volatile uint64_t sweeps;
} private_loop;

/* One CPU's private set, written for ever from that CPU only. */
static void *private_main(void *arg) {
        private_loop *l = arg;
        cpu_set_t cpus;

        CPU_ZERO(&cpus);
        CPU_SET(l->cpu, &cpus);
        if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0) {
                fprintf(stderr, "l2-touch: cannot pin to CPU %d: %s\n", l->cpu, strerror(errno));
                exit(1);
        }
        for (;;) {
                for (size_t i = 0; i < l->set->pages; i++)
                        l->set->mem[i * PAGE]++;
                l->sweeps++;
        }
        return NULL;
}

/* -P: two private sets and the cold one; the main thread only reports. */
_Noreturn static void run_private(int fd, size_t private_mib, size_t cold_mib) {
        set sets[3];
        private_loop loops[2];
        pthread_t t;
        unsigned gen = 0;
        uint64_t last[2] = {};
        double t_rate = now();
        int r;

        r = map_set(&sets[0], "priv0", private_mib);
        if (r >= 0)
                r = map_set(&sets[1], "priv1", private_mib);
        if (r >= 0)
                r = map_set(&sets[2], "cold", cold_mib);
        if (r >= 0)
                r = report_map(fd, sets, 3, &gen);
        if (r < 0) {
                fprintf(stderr, "l2-touch: %s\n", strerror(-r));
                exit(1);
        }
        for (int i = 0; i < 2; i++) {
                loops[i] = (private_loop){ .set = &sets[i], .cpu = i };
                if (pthread_create(&t, NULL, private_main, &loops[i]) != 0) {
                        fprintf(stderr, "l2-touch: cannot start thread %d\n", i);
                        exit(1);
                }
        }
        for (;;) {
                double t_now;

                sleep(1);
                r = report_map(fd, sets, 3, &gen);
                if (r < 0)
                        fprintf(stderr, "l2-touch: pagemap: %s, ignoring\n", strerror(-r));
                t_now = now();
                if (t_now - t_rate >= 5.0) {
                        uint64_t s0 = loops[0].sweeps - last[0], s1 = loops[1].sweeps - last[1];

                        printf("L2-RATE sweeps=%" PRIu64 " seconds=%.1f sweeps0=%" PRIu64 " sweeps1=%" PRIu64
                               "\n",
                               s0 + s1, t_now - t_rate, s0, s1);
                        last[0] += s0;
                        last[1] += s1;
                        t_rate = t_now;
                }
        }
}

int main(int argc, char **argv) {
        size_t hot_mib = 32, cold_mib = 128, private_mib = 0;
        set sets[2];
        unsigned gen = 0;
        uint64_t sweeps = 0;
        double t_map, t_rate;
        int fd, c, r;

        while ((c = getopt(argc, argv, "H:C:P:")) != -1)
                switch (c) {
                case 'H':
                        hot_mib = strtoul(optarg, NULL, 10);
                        break;
                case 'C':
                        cold_mib = strtoul(optarg, NULL, 10);
                        break;
                case 'P':
                        private_mib = strtoul(optarg, NULL, 10);
                        if (private_mib == 0 || private_mib > 4096) {
                                fprintf(stderr, "l2-touch: sizes must be 1..4096 MiB\n");
                                return 2;
                        }
                        break;
                default:
                        fprintf(stderr, "usage: l2-touch [-H HOT_MIB] [-C COLD_MIB] [-P PRIVATE_MIB]\n");
                        return 2;
                }
        if (hot_mib == 0 || cold_mib == 0 || hot_mib > 4096 || cold_mib > 4096) {
                fprintf(stderr, "l2-touch: sizes must be 1..4096 MiB\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);

        fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "l2-touch: /proc/self/pagemap: %s\n", strerror(errno));
                return 1;
        }
        if (private_mib)
                run_private(fd, private_mib, cold_mib);
        r = map_set(&sets[0], "hot", hot_mib);
        if (r >= 0)
                r = map_set(&sets[1], "cold", cold_mib);
        if (r >= 0)
                r = report_map(fd, sets, 2, &gen);
        if (r < 0) {
                fprintf(stderr, "l2-touch: %s\n", strerror(-r));
                return 1;
        }

        t_map = t_rate = now();
        for (;;) {
                double t;

                for (size_t i = 0; i < sets[0].pages; i++)
                        sets[0].mem[i * PAGE]++;
                sweeps++;

                t = now();
                if (t - t_map >= 1.0) {
                        r = report_map(fd, sets, 2, &gen);
                        if (r < 0)
                                fprintf(stderr, "l2-touch: pagemap: %s, ignoring\n", strerror(-r));
                        t_map = t;
                }
                if (t - t_rate >= 5.0) {
                        printf("L2-RATE sweeps=%" PRIu64 " seconds=%.1f\n", sweeps, t - t_rate);
                        sweeps = 0;
                        t_rate = t;
                }
        }
}
