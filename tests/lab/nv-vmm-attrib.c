/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* nv-vmm -a: which vCPU touches which page, through numavd_ept's ZAP and DRAIN, against the truth
 * the tiny VMM knows: vCPU h touches only half h of the data, from the CPUs of cpus[h]. Three
 * phases of SECS seconds each, both vCPUs running their touch loops throughout:
 *   none:   no zapping, the guest's own pace;
 *   all:    every data page zapped every ZAP_PERIOD_MS, drained every DRAIN_PERIOD_MS; each
 *           record is checked against the half its page belongs to (vCPU and CPU);
 *   sample: one run of SAMPLE_RUN pages in SAMPLE_STRIDE zapped every ZAP_PERIOD_MS, a budget
 *           like numavd's, re-armed (NUMAVD_EPT_ZAP_REARM) where the module offers it;
 * then vCPU 1's table is pointed at half 0, so that both vCPUs write half 0 in step, one pass
 * behind the other by whatever their start and pace made it, and the sample of half 0 is zapped
 * for SECS seconds without re-arming (shared-first), then SECS seconds with it (shared-rearm).
 * Then every byte the guest does not write is compared with the pattern written at the start.
 * Appends key=value lines to OUT (tests/lab/t-kmod-attrib.sh reads them). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "../include/uapi/numavd_ept.h"
#include "common/macro.h"
#include "nv-vmm.h"

#define ZAP_PERIOD_MS   250
#define DRAIN_PERIOD_MS 50
#define SAMPLE_STRIDE   16        /* the sample: one run in SAMPLE_STRIDE */
#define SAMPLE_RUN      16        /* pages of a run */
#define CODE1_GPA       0x100u    /* vCPU 1's copy of the guest code, its pass counter 4 bytes on */
#define TABLE1_GPA      0x200000u /* vCPU 1's page table */
#define COUNTER_DISP    16        /* offset of the counter's address in the guest code */

typedef struct vcpu_arg {
        int fd;
        struct kvm_run *run;
        uint32_t code, table, n;
        cpu_set_t cpus;
        char name[16];
} vcpu_arg;

typedef struct tally {
        uint64_t records, dropped, outside, right_vcpu[2], right_cpu[2], in_half[2];
        uint64_t in_phase; /* records drained within the phase (the rest came after it) */
        uint8_t *seen;     /* per page: a record came */
} tally;

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms) {
        nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L }, NULL);
}

static void *vcpu_main(void *p) {
        vcpu_arg *a = p;

        prctl(PR_SET_NAME, a->name);
        if (sched_setaffinity(0, sizeof(a->cpus), &a->cpus) < 0)
                die("sched_setaffinity");
        nv_vmm_run(a->fd, a->run, a->code, a->table, a->n, true);
        return NULL;
}

static uint64_t pattern(uint64_t page, uint64_t word) {
        return (page + 1) * UINT64_C(0x9E3779B97F4A7C15) ^ word;
}

/* The byte the guest writes in data page p: (i % 64) * 64, i its place in its half's table. */
static uint64_t touched_word(uint64_t p, uint64_t half) {
        return (p % half % 64) * 64 / 8;
}

static uint32_t passes(uint8_t *ram, unsigned h) {
        return *(volatile uint32_t *)(ram + PASS_COUNTER + 4 * h);
}

/* ZAP runs of `run` data pages, one every `every` pages (run == every: all of them), in as many
 * calls as the module's bounds need, with the ZAP flags `flags`; seconds spent. Each range is one
 * invalidation in KVM, and with it one flush of the VM's TLBs: runs cost far less than scattered
 * pages. */
static double zap_pages(int dev, uint8_t *data, uint64_t pages, unsigned run, unsigned every, uint32_t flags,
                        struct numavd_ept_range *rs, uint64_t *ret_blocks) {
        double t0 = now();
        uint64_t p = 0, left = 0;

        *ret_blocks = 0;
        while (p < pages) {
                uint32_t nr = 0, blocks = 0;

                while (p < pages && nr < NUMAVD_EPT_MAX_RANGES && blocks < NUMAVD_EPT_MAX_ZAP_BLOCKS) {
                        if (left == 0)
                                left = MIN((uint64_t)run, pages - p);
                        uint32_t b = (uint32_t)MIN(left, (uint64_t)NUMAVD_EPT_MAX_ZAP_BLOCKS - blocks);
                        rs[nr++] = (struct numavd_ept_range){ .start = (uintptr_t)(data + p * PAGE),
                                                              .blocks = b,
                                                              .shift = NUMAVD_EPT_SHIFT_4K };
                        blocks += b;
                        left -= b;
                        p += left ? b : b + (every - run);
                }
                struct numavd_ept_zap z = { .flags = flags,
                                            .nr_ranges = nr,
                                            .ranges = (uintptr_t)rs,
                                            .ring_size = NUMAVD_EPT_MAX_RING };
                if (ioctl(dev, NUMAVD_EPT_IOC_ZAP, &z) < 0)
                        die("NUMAVD_EPT_IOC_ZAP");
                *ret_blocks += z.nr_blocks;
        }
        return now() - t0;
}

static void drain(int dev, struct numavd_ept_fault *buf, uint64_t pages, const cpu_set_t cpus[2], tally *t) {
        uint64_t half = pages / 2;

        for (;;) {
                struct numavd_ept_drain d = { .capacity = NUMAVD_EPT_MAX_RING, .faults = (uintptr_t)buf };

                if (ioctl(dev, NUMAVD_EPT_IOC_DRAIN, &d) < 0)
                        die("NUMAVD_EPT_IOC_DRAIN");
                t->dropped += d.dropped;
                for (uint32_t i = 0; i < d.nr; i++) {
                        const struct numavd_ept_fault *f = &buf[i];
                        uint64_t p = (f->gpa - DATA_GPA) / PAGE;
                        unsigned h;

                        t->records++;
                        if (f->gpa < DATA_GPA || p >= half * 2 || f->shift != NUMAVD_EPT_SHIFT_4K) {
                                t->outside++;
                                continue;
                        }
                        h = p >= half;
                        t->in_half[h]++;
                        t->right_vcpu[h] += f->vcpu == h;
                        t->right_cpu[h] += f->cpu < CPU_SETSIZE && CPU_ISSET((int)f->cpu, &cpus[h]);
                        if (t->seen)
                                t->seen[p] = 1;
                }
                if (d.left == 0)
                        return;
        }
}

/* How one phase zaps: runs of `run` pages every `every` pages (run 0: none) of the first `span`
 * data pages, with the ZAP flags `flags`. */
typedef struct zap_plan {
        unsigned run, every;
        uint64_t span;
        uint32_t flags;
} zap_plan;

/* One phase of secs seconds: zap as zp says every ZAP_PERIOD_MS, drain every DRAIN_PERIOD_MS. The
 * guest's passes per second into ret_rate. */
static void phase(int dev, uint8_t *ram, uint64_t pages, const cpu_set_t cpus[2], zap_plan zp, unsigned secs,
                  struct numavd_ept_range *rs, struct numavd_ept_fault *buf, tally *t, double *ret_rate,
                  double *ret_zap_s, uint64_t *ret_zaps, uint64_t *ret_blocks) {
        uint32_t p0 = passes(ram, 0) + passes(ram, 1);
        double t0 = now(), next_zap = t0;

        *ret_zap_s = 0;
        *ret_zaps = *ret_blocks = 0;
        while (now() - t0 < secs) {
                if (zp.run && now() >= next_zap) {
                        uint64_t blocks;

                        *ret_zap_s += zap_pages(dev, ram + DATA_GPA, zp.span, zp.run, zp.every, zp.flags, rs,
                                                &blocks);
                        *ret_blocks += blocks;
                        (*ret_zaps)++;
                        next_zap += ZAP_PERIOD_MS / 1000.0;
                }
                sleep_ms(DRAIN_PERIOD_MS);
                if (zp.run)
                        drain(dev, buf, pages, cpus, t);
        }
        *ret_rate = (double)(uint32_t)(passes(ram, 0) + passes(ram, 1) - p0) / (now() - t0);
        if (zp.run)
                t->in_phase = t->records;
        /* Let the zapped pages the guest has not reached yet fault: until two drains in a row,
         * half a second apart, bring nothing, for at most a minute. */
        for (unsigned quiet = 0, waited = 0; zp.run && quiet < 2 && waited < 120; waited++) {
                uint64_t before = t->records;

                sleep_ms(500);
                drain(dev, buf, pages, cpus, t);
                quiet = t->records == before ? quiet + 1 : 0;
        }
}

int nv_vmm_attrib(int vm, uint8_t *ram, int vcpu0, struct kvm_run *run0, uint64_t pages,
                  const cpu_set_t cpus[2], unsigned secs, const char *out) {
        uint64_t half = pages / 2, differing = 0, zaps, blocks;
        struct numavd_ept_attach a = { .vm_fd = vm };
        struct numavd_ept_info info = {};
        struct numavd_ept_range *rs = calloc(NUMAVD_EPT_MAX_RANGES, sizeof(*rs));
        struct numavd_ept_fault *buf = calloc(NUMAVD_EPT_MAX_RING, sizeof(*buf));
        vcpu_arg va[2];
        pthread_t th[2];
        tally all = { .seen = calloc(pages, 1) }, sample = {}, shared[2] = {};
        double rate_none, rate_all, rate_sample, zap_s, zap_sample_s, t0;
        uint64_t zaps_sample, blocks_sample, shared_blocks[2] = {};
        uint32_t rearm;
        unsigned nr_shared;
        FILE *f = fopen(out, "ae");
        int dev = open(NUMAVD_EPT_DEVICE, O_RDWR | O_CLOEXEC);

        if (!rs || !buf || !all.seen || !f || dev < 0 || half == 0 || half * 4 > TABLE1_GPA - TABLE_GPA)
                die("attribution setup");
        if (ioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a) < 0 || ioctl(dev, NUMAVD_EPT_IOC_INFO, &info) < 0)
                die("NUMAVD_EPT_IOC_ATTACH");
        if (!(info.flags & NUMAVD_EPT_INFO_FAULTS)) {
                fprintf(stderr, "the module offers no ZAP on this VM (INFO flags 0x%x)\n", info.flags);
                return -1;
        }
        rearm = info.flags & NUMAVD_EPT_INFO_REARM ? NUMAVD_EPT_ZAP_REARM : 0;
        nr_shared = rearm ? 2 : 1; /* shared-first, and shared-rearm where the module re-arms */

        /* The data's pattern, vCPU 1's code (its own pass counter), both halves' tables. */
        for (uint64_t p = 0; p < pages; p++)
                for (uint64_t w = 0; w < PAGE / 8; w++)
                        ((uint64_t *)(ram + DATA_GPA + p * PAGE))[w] = pattern(p, w);
        memcpy(ram + CODE1_GPA, ram, 32);
        ram[CODE1_GPA + COUNTER_DISP] = (uint8_t)(PASS_COUNTER + 4);
        for (unsigned h = 0; h < 2; h++) {
                uint32_t *table = (uint32_t *)(ram + (h ? TABLE1_GPA : TABLE_GPA));
                for (uint64_t i = 0; i < half; i++)
                        table[i] = (uint32_t)(DATA_GPA + (h * half + i) * PAGE +
                                              touched_word(h * half + i, half) * 8);
                va[h] = (vcpu_arg){ .code = h ? CODE1_GPA : 0,
                                    .table = h ? TABLE1_GPA : TABLE_GPA,
                                    .n = (uint32_t)half,
                                    .cpus = cpus[h] };
                snprintf(va[h].name, sizeof(va[h].name), "CPU %u/KVM", h);
        }
        va[0].fd = vcpu0;
        va[0].run = run0;
        va[1].fd = nv_vmm_vcpu_new(vm, 1, &va[1].run);
        for (unsigned h = 0; h < 2; h++)
                if (pthread_create(&th[h], NULL, vcpu_main, &va[h]) != 0)
                        die("pthread_create");
        for (t0 = now(); passes(ram, 0) == 0 || passes(ram, 1) == 0; sleep_ms(10))
                if (now() - t0 > 120) {
                        fprintf(stderr, "the vCPUs did not complete a pass within 120 s\n");
                        return -1;
                }

        phase(dev, ram, pages, cpus, (zap_plan){}, secs, rs, buf, NULL, &rate_none, &zap_s, &zaps, &blocks);
        phase(dev, ram, pages, cpus, (zap_plan){ 1, 1, pages, 0 }, secs, rs, buf, &all, &rate_all, &zap_s,
              &zaps, &blocks);
        phase(dev, ram, pages, cpus, (zap_plan){ SAMPLE_RUN, SAMPLE_RUN * SAMPLE_STRIDE, pages, rearm },
              secs, rs, buf, &sample, &rate_sample, &zap_sample_s, &zaps_sample, &blocks_sample);

        /* Both vCPUs on half 0, in the same order: vCPU 1's entries as vCPU 0's, once it has made
         * two passes over them. */
        memcpy(ram + TABLE1_GPA, ram + TABLE_GPA, half * sizeof(uint32_t));
        for (uint32_t p1 = passes(ram, 1), waited = 0; (uint32_t)(passes(ram, 1) - p1) < 2 && waited < 12000;
             waited++)
                sleep_ms(10);
        for (unsigned k = 0; k < nr_shared; k++) {
                zap_plan zp = { SAMPLE_RUN, SAMPLE_RUN * SAMPLE_STRIDE, half, k ? rearm : 0 };
                double rate, zs;
                uint64_t nz;

                phase(dev, ram, pages, cpus, zp, secs, rs, buf, &shared[k], &rate, &zs, &nz,
                      &shared_blocks[k]);
        }

        for (uint64_t p = 0; p < pages; p++) {
                const uint64_t *words = (const uint64_t *)(ram + DATA_GPA + p * PAGE);
                for (uint64_t w = 0; w < PAGE / 8; w++)
                        if (w != touched_word(p, half) && words[w] != pattern(p, w)) {
                                differing++;
                                break;
                        }
        }

        for (unsigned h = 0; h < 2; h++) {
                uint64_t seen = 0;
                for (uint64_t p = h * half; p < (h + 1) * half; p++)
                        seen += all.seen[p];
                fprintf(f,
                        "attrib half=%u records=%" PRIu64 " right_vcpu=%.4f right_node=%.4f coverage=%.4f\n",
                        h, all.in_half[h],
                        all.in_half[h] ? (double)all.right_vcpu[h] / (double)all.in_half[h] : 0,
                        all.in_half[h] ? (double)all.right_cpu[h] / (double)all.in_half[h] : 0,
                        (double)seen / (double)half);
        }
        fprintf(f, "records outside=%" PRIu64 " dropped=%" PRIu64 "\n", all.outside + sample.outside,
                all.dropped + sample.dropped);
        fprintf(f,
                "zap phase=all zaps=%" PRIu64 " blocks_per_zap=%" PRIu64
                " ms_per_zap=%.2f us_per_block=%.3f "
                "faults_per_s=%.0f passes_per_s=%.1f slowdown=%.3f\n",
                zaps, zaps ? blocks / zaps : 0, zaps ? zap_s * 1e3 / (double)zaps : 0,
                blocks ? zap_s * 1e6 / (double)blocks : 0, (double)all.in_phase / secs, rate_all,
                rate_none > 0 ? 1 - rate_all / rate_none : 0);
        fprintf(f,
                "zap phase=sample run=%u stride=%u zaps=%" PRIu64 " blocks_per_zap=%" PRIu64
                " ms_per_zap=%.2f "
                "faults_per_s=%.0f passes_per_s=%.1f slowdown=%.3f right_vcpu=%.4f rearm=%d "
                "records_per_block=%.3f\n",
                SAMPLE_RUN, SAMPLE_STRIDE, zaps_sample, zaps_sample ? blocks_sample / zaps_sample : 0,
                zaps_sample ? zap_sample_s * 1e3 / (double)zaps_sample : 0, (double)sample.in_phase / secs,
                rate_sample, rate_none > 0 ? 1 - rate_sample / rate_none : 0,
                sample.in_half[0] + sample.in_half[1]
                        ? (double)(sample.right_vcpu[0] + sample.right_vcpu[1]) /
                                  (double)(sample.in_half[0] + sample.in_half[1])
                        : 0,
                rearm != 0,
                blocks_sample ? (double)(sample.in_half[0] + sample.in_half[1]) / (double)blocks_sample : 0);
        /* Half 0 written by both vCPUs: who was heard, and how many records a zapped block gave. */
        for (unsigned k = 0; k < nr_shared; k++)
                fprintf(f,
                        "shared phase=%s records=%" PRIu64 " blocks=%" PRIu64
                        " vcpu1_share=%.4f records_per_block=%.3f\n",
                        k ? "rearm" : "first", shared[k].in_half[0], shared_blocks[k],
                        shared[k].in_half[0]
                                ? 1 - (double)shared[k].right_vcpu[0] / (double)shared[k].in_half[0]
                                : 0,
                        shared_blocks[k] ? (double)shared[k].in_half[0] / (double)shared_blocks[k] : 0);
        fprintf(f, "baseline passes_per_s=%.1f pages=%" PRIu64 "\n", rate_none, pages);
        fprintf(f, "integrity pages_differing=%" PRIu64 "\n", differing);
        fclose(f);
        return 0;
}
