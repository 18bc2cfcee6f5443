/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The test guest's workload: memhog SIZE_MiB [DIRTY_MiB [INTERVAL_s [BURST_MiB]]]
 *
 * Optionally touches and frees BURST MiB first (free guest pages the host still backs, which a
 * balloon can return), then fills SIZE MiB so that page i holds the same bytes in every guest
 * (KSM can merge guests) but differs from page j within one guest, and every INTERVAL seconds
 * rewrites a rotating DIRTY MiB window with the same content. Progress goes to the console.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096UL

static void fill_page(unsigned char *p, uint64_t i) {
        memset(p, (int)(i & 0xff) | 1, PAGE);
        memcpy(p, &i, sizeof(i));
}

static long meminfo_mib(const char *key) {
        char line[128];
        long v = -1;
        FILE *f = fopen("/proc/meminfo", "re");

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
                        v = atol(line + strlen(key) + 1) / 1024;
        fclose(f);
        return v;
}

int main(int argc, char **argv) {
        long size = argc > 1 ? atol(argv[1]) : 64, dirty = argc > 2 ? atol(argv[2]) : 2;
        long interval = argc > 3 ? atol(argv[3]) : 2, burst = argc > 4 ? atol(argv[4]) : 0;
        size_t npages, dpages, off = 0;
        unsigned char *p;

        if (size <= 0 || dirty < 0 || interval <= 0 || burst < 0) {
                fprintf(stderr, "usage: memhog SIZE_MiB [DIRTY_MiB [INTERVAL_s [BURST_MiB]]]\n");
                return 2;
        }
        if (burst > 0) {
                size_t len = (size_t)burst << 20;
                unsigned char *b =
                        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (b != MAP_FAILED) {
                        for (size_t o = 0; o < len; o += PAGE)
                                b[o] = 0x5a;
                        munmap(b, len);
                }
                printf("MEMHOG-BURST %ldMiB\n", burst);
        }

        npages = ((size_t)size << 20) / PAGE;
        dpages = ((size_t)dirty << 20) / PAGE;
        p = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                perror("mmap");
                return 1;
        }
        for (size_t i = 0; i < npages; i++)
                fill_page(p + i * PAGE, i);
        printf("MEMHOG-READY alloc=%ldMiB MemTotal=%ldMiB MemFree=%ldMiB MemAvailable=%ldMiB\n", size,
               meminfo_mib("MemTotal"), meminfo_mib("MemFree"), meminfo_mib("MemAvailable"));
        fflush(stdout);

        for (unsigned long iter = 1;; iter++) {
                sleep((unsigned)interval);
                for (size_t k = 0; k < dpages; k++)
                        fill_page(p + ((off + k) % npages) * PAGE, (off + k) % npages);
                off = (off + dpages) % npages;
                printf("memhog iter=%lu MemFree=%ldMiB\n", iter, meminfo_mib("MemFree"));
                fflush(stdout);
        }
}
