/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nv-vmm -b: harvest precision, recall and cost against the pages the guest really touched. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "../include/uapi/numavd_ept.h"
#include "common/macro.h"
#include "nv-vmm.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One HARVEST over all data, blocks of 1 << shift; bits into bitmap. Returns seconds or -1. */
static double harvest(int dev, uint8_t *data, uint64_t pages, unsigned shift, bool flush, uint8_t *bitmap,
                      uint32_t *ret_flags) {
        uint64_t blocks = pages >> (shift - 12);
        struct numavd_ept_range rg = { .start = (uintptr_t)data,
                                       .blocks = (uint32_t)blocks,
                                       .shift = (uint8_t)shift };
        struct numavd_ept_harvest h = {
                .flags = flush ? NUMAVD_EPT_HARVEST_FLUSH : 0,
                .nr_ranges = 1,
                .ranges = (uintptr_t)&rg,
                .bitmap = (uintptr_t)bitmap,
                .bitmap_bytes = (uint32_t)DIV_ROUND_UP(blocks, 8),
        };
        double t0 = now();

        if (ioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h) < 0) {
                perror("NUMAVD_EPT_IOC_HARVEST");
                return -1;
        }
        *ret_flags = h.flags;
        return now() - t0;
}

int nv_vmm_bench(int vm, uint8_t *data, uint64_t pages, unsigned rounds, const char *out,
                 void (*touch)(const uint32_t *, uint32_t, bool)) {
        struct numavd_ept_attach a = { .vm_fd = vm };
        uint32_t *all = calloc(pages, sizeof(uint32_t)), *set = calloc(pages, sizeof(uint32_t));
        uint8_t *truth = calloc(pages, 1), *bitmap = calloc(pages / 8 + 1, 1);
        FILE *f = fopen(out, "ae");
        int dev = open(NUMAVD_EPT_DEVICE, O_RDWR | O_CLOEXEC);

        if (!all || !set || !truth || !bitmap || !f || dev < 0 ||
            ioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a) < 0) {
                perror("bench setup");
                return -1;
        }
        srand(42);
        for (uint32_t i = 0; i < pages; i++)
                all[i] = i;
        for (unsigned shift = 12; shift <= 21; shift += 9)
                for (int flush = 0; flush <= 1; flush++) {
                        uint64_t per = UINT64_C(1) << (shift - 12), blocks = pages / per;
                        uint64_t tp = 0, fp = 0, fn = 0, harvested = 0;
                        double secs = 0;
                        uint32_t done = 0;

                        /* Every page in the VM's tables, then everything cleared the same way. */
                        touch(all, (uint32_t)pages, false);
                        if (harvest(dev, data, pages, shift, flush, bitmap, &done) < 0)
                                return -1;
                        for (unsigned r = 0; r < rounds; r++) {
                                uint32_t n = 0;

                                memset(truth, 0, blocks);
                                /* 4 KiB: 30% of pages; 2 MiB: 30% of blocks, 8 pages in each */
                                for (uint64_t b = 0; b < blocks; b++) {
                                        if (rand() % 10 >= 3)
                                                continue;
                                        truth[b] = 1;
                                        for (uint64_t k = 0; k < MIN(per, (uint64_t)8); k++)
                                                set[n++] =
                                                        (uint32_t)(b * per +
                                                                   (per == 1 ? 0 : (uint64_t)rand() % per));
                                }
                                touch(set, n, false);
                                double s = harvest(dev, data, pages, shift, flush, bitmap, &done);
                                if (s < 0)
                                        return -1;
                                secs += s;
                                harvested += blocks;
                                for (uint64_t b = 0; b < blocks; b++) {
                                        bool got = (bitmap[b / 8] >> (b % 8)) & 1;
                                        tp += got && truth[b];
                                        fp += got && !truth[b];
                                        fn += !got && truth[b];
                                }
                        }
                        fprintf(f,
                                "harvest block=%s flush=%s ran=%s rounds=%u blocks=%" PRIu64
                                " precision=%.4f "
                                "recall=%.4f blocks_per_s=%.0f pages_per_s=%.0f\n",
                                shift == 12 ? "4K" : "2M", flush ? "yes" : "no",
                                done & NUMAVD_EPT_HARVEST_FLUSH ? "flush" : "noflush", rounds, blocks,
                                tp + fp ? (double)tp / (double)(tp + fp) : 1.0,
                                tp + fn ? (double)tp / (double)(tp + fn) : 1.0, (double)harvested / secs,
                                (double)(harvested * per) / secs);
                }
        fclose(f);
        close(dev);
        free(all);
        free(set);
        free(truth);
        free(bitmap);
        return 0;
}
