/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A VMM-like process that dirties its guest RAM at a known rate, for the dirty-rate lab test
 * (tests/lab/t-dirty.sh). It holds a real KVM VM fd, so numavd finds it through /proc, and one
 * anonymous 4 KiB-page mapping of RAM_MIB (faulted in at start, as a booted guest's RAM is). Its
 * thread "CPU 0/KVM" writes one byte in each page, in address order, wrapping around, paced
 * against CLOCK_MONOTONIC at RATE_MIB_S: in any interval shorter than RAM_MIB / RATE_MIB_S
 * seconds it dirties exactly RATE_MIB_S MiB per second of distinct pages, in one contiguous band.
 *
 *   nv-dirty-writer -m RAM_MIB -r RATE_MIB_S -s STATUS
 *
 * Once a second STATUS gets "status pages=N seconds=S lag_ms=L": pages written so far, seconds
 * since the writes began, and the most the writer ever fell behind its schedule. */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"

#define PAGE 4096u
#define TICK (10 * 1000 * 1000L) /* ns between catch-ups */

static volatile uint8_t *ram;
static uint64_t nr_pages, rate_pages; /* pages per second */
static volatile uint64_t written, lag_max_ns;
static struct timespec t0;

static uint64_t ns_since(const struct timespec *a, const struct timespec *b) {
        return (uint64_t)(b->tv_sec - a->tv_sec) * 1000000000u + (uint64_t)b->tv_nsec - (uint64_t)a->tv_nsec;
}

static void *writer(void *arg) {
        struct timespec next = t0, now;

        (void)arg;
        for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                uint64_t due = (uint64_t)((double)ns_since(&t0, &now) * (double)rate_pages / 1e9);
                if (due > written + rate_pages / 100 + 1) /* behind by more than a tick */
                        lag_max_ns = MAX(lag_max_ns, (due - written) * 1000000000u / rate_pages);
                for (uint64_t i = written; i < due; i++)
                        ram[(i % nr_pages) * PAGE] = (uint8_t)(i / nr_pages + 2);
                written = due;
                next.tv_nsec += TICK;
                if (next.tv_nsec >= 1000000000L) {
                        next.tv_sec++;
                        next.tv_nsec -= 1000000000L;
                }
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        }
        return NULL;
}

int main(int argc, char *argv[]) {
        uint64_t mib = 256, rate = 8;
        const char *status = NULL;
        pthread_t t;
        int kvm, vm, c;

        while ((c = getopt(argc, argv, "m:r:s:")) >= 0)
                switch (c) {
                case 'm':
                        mib = strtoull(optarg, NULL, 10);
                        break;
                case 'r':
                        rate = strtoull(optarg, NULL, 10);
                        break;
                case 's':
                        status = optarg;
                        break;
                default:
                        fprintf(stderr, "see the comment at the top of tests/lab/nv-dirty-writer.c\n");
                        return EXIT_FAILURE;
                }
        if (mib < 64 || mib > 4096 || rate == 0 || rate > mib || !status) {
                fprintf(stderr, "nv-dirty-writer: -m 64..4096, -r 1..RAM, -s STATUS\n");
                return EXIT_FAILURE;
        }
        kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0) {
                perror("nv-dirty-writer: KVM_CREATE_VM");
                return EXIT_FAILURE;
        }
        nr_pages = mib * MIB / PAGE;
        rate_pages = rate * MIB / PAGE;
        ram = mmap(NULL, mib * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (ram == MAP_FAILED || madvise((void *)ram, mib * MIB, MADV_NOHUGEPAGE) < 0) {
                perror("nv-dirty-writer: mmap");
                return EXIT_FAILURE;
        }
        for (uint64_t i = 0; i < nr_pages; i++)
                ram[i * PAGE] = 1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (pthread_create(&t, NULL, writer, NULL) != 0)
                return EXIT_FAILURE;
        pthread_setname_np(t, "CPU 0/KVM");
        printf("ready pid=%d ram=%p pages=%" PRIu64 " rate_pages=%" PRIu64 "\n", (int)getpid(), (void *)ram,
               nr_pages, rate_pages);
        fflush(stdout);
        for (;;) {
                struct timespec now;
                FILE *f;

                sleep(1);
                clock_gettime(CLOCK_MONOTONIC, &now);
                f = fopen(status, "we");
                if (!f)
                        return EXIT_FAILURE;
                fprintf(f, "status pages=%" PRIu64 " seconds=%.3f lag_ms=%" PRIu64 "\n", written,
                        (double)ns_since(&t0, &now) / 1e9, lag_max_ns / 1000000u);
                fclose(f);
        }
}
