/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dirty rate: the arithmetic on a fixture pagemap (a sparse file under an injectable /proc),
 * then soft-dirty detection on this very process, checked against the kernel's configuration;
 * where the kernel has soft-dirty (the lab's Debian kernels), a real measurement of this process. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/dirty-rate.h"
#include "tap.h"

#define PID  4242
#define BASE UINT64_C(0x10000000)
#define HUGE UINT64_C(0x20000000)

static char root[] = "/tmp/test-dirty-rate.XXXXXX";

static void path_of(char *buf, size_t size, const char *file) {
        snprintf(buf, size, "%s/%d/%s", root, PID, file);
}

/* Mark the pages [first, first + n) of addr as present (and soft-dirty when dirty). */
static void set_pages(int fd, uint64_t addr, uint64_t first, uint64_t n, bool dirty) {
        for (uint64_t i = first; i < first + n; i++) {
                uint64_t e = NV_PAGEMAP_PRESENT | (dirty ? NV_PAGEMAP_SOFT_DIRTY : 0) | 0x1234;
                if (pwrite(fd, &e, sizeof(e), (off_t)((addr / NV_PAGE_SIZE + i) * sizeof(e))) != sizeof(e))
                        abort();
        }
}

static bool clear_refs_says(const char *want) {
        char p[512], buf[8] = "";
        int fd;
        ssize_t n;

        path_of(p, sizeof(p), "clear_refs");
        fd = open(p, O_RDONLY | O_CLOEXEC);
        n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (fd >= 0)
                close(fd);
        return n >= 0 && strcmp(buf, want) == 0;
}

static void reset_clear_refs(void) {
        char p[512];

        path_of(p, sizeof(p), "clear_refs");
        if (truncate(p, 0) < 0)
                abort();
}

static void test_fixture(void) {
        _cleanup_(nv_dirty_rate_freep) nv_dirty_rate *d = NULL;
        nv_ram_range ranges[] = {
                { .hva = BASE, .size = 4 * MIB, .backing = NV_BACKING_ANON },
                { .hva = HUGE, .size = 4 * MIB, .backing = NV_BACKING_HUGETLB },
        };
        nv_vm_info vm = { .name = (char *)"fixture", .pid = PID, .ranges = ranges, .nr_ranges = 2 };
        nv_region regions[] = {
                { .start = BASE, .end = BASE + 2 * MIB, .range = 0 },
                { .start = BASE + 2 * MIB, .end = BASE + 4 * MIB, .range = 0 },
                { .start = HUGE, .end = HUGE + 4 * MIB, .range = 1 },
        };
        nv_dirty_estimate est = { .samples = 999 };
        char p[512];
        int fd;

        if (!ok(mkdtemp(root), "fixture: a /proc root"))
                return;
        path_of(p, sizeof(p), "");
        mkdir(p, 0755);
        path_of(p, sizeof(p), "clear_refs");
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        close(fd);
        path_of(p, sizeof(p), "pagemap");
        fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (!ok(fd >= 0, "fixture: a sparse pagemap"))
                return;
        set_pages(fd, BASE, 0, 512, true);           /* region 0: all written */
        set_pages(fd, BASE + 2 * MIB, 0, 256, true); /* region 1: its first half */
        set_pages(fd, BASE + 2 * MIB, 256, 256, false);
        set_pages(fd, HUGE, 0, 1024, true); /* hugetlbfs: bits that never clear, not measured */
        close(fd);

        is_int(nv_dirty_rate_new(root, PID, &d), 0, "fixture: set up");
        is_int(nv_dirty_rate_sample(d, &vm, regions, 3, 2 * USEC_PER_SEC, &est), -EAGAIN,
               "fixture: no estimate before an interval was begun");
        is_int(est.samples, 999, "fixture: the estimate is untouched on failure");
        is_int(nv_dirty_rate_start(d, 1 * USEC_PER_SEC), 0, "fixture: an interval begins");
        ok(clear_refs_says("4"), "fixture: \"4\" written to clear_refs (soft-dirty bits only)");
        is_int(nv_dirty_rate_sample(d, &vm, regions, 3, 1 * USEC_PER_SEC, &est), -EAGAIN,
               "fixture: no estimate when no time has passed");

        reset_clear_refs();
        is_int(nv_dirty_rate_sample(d, &vm, regions, 3, 3 * USEC_PER_SEC, &est), 0, "fixture: sampled");
        is_u64(est.interval, 2 * USEC_PER_SEC, "fixture: over the 2 s since the clear");
        is_int(est.samples, 2 * NV_DIRTY_SAMPLES_PER_REGION, "fixture: a bounded sample per region");
        is_int(est.dirty_samples, NV_DIRTY_SAMPLES_PER_REGION * 3 / 2, "fixture: 1.5 regions' worth dirty");
        is_u64(est.covered_bytes, 4 * MIB, "fixture: hugetlbfs is left out");
        is_u64(est.dirty_bytes, 3 * MIB, "fixture: 2 MiB + half of 2 MiB dirty");
        is_near(est.bytes_per_sec, 1.5 * MIB, 1e-6, "fixture: 1.5 MiB/s");
        ok(clear_refs_says("4"), "fixture: the next interval begun at once");

        /* The sample positions move between intervals; the uniform halves keep the same answer. */
        is_int(nv_dirty_rate_sample(d, &vm, regions, 3, 7 * USEC_PER_SEC, &est), 0,
               "fixture: sampled again");
        is_u64(est.dirty_bytes, 3 * MIB, "fixture: other sample positions, same estimate");
        is_near(est.bytes_per_sec, 0.75 * MIB, 1e-6, "fixture: over 4 s, 0.75 MiB/s");

        /* Many small regions: the sample stays within the cap. */
        size_t n = 4096;
        nv_region *many = calloc(n, sizeof(*many));
        for (size_t i = 0; i < n; i++)
                many[i] = (nv_region){ .start = BASE + i * 1024, .end = BASE + (i + 1) * 1024, .range = 0 };
        /* 1 KiB regions are below a page: still one sample each, never a division by zero. */
        is_int(nv_dirty_rate_sample(d, &vm, many, n, 8 * USEC_PER_SEC, &est), 0, "fixture: 4096 regions");
        ok(est.samples <= MAX(NV_DIRTY_MAX_SAMPLES, (unsigned)n),
           "fixture: at most one sample per tiny region");
        free(many);
        n = 1024;
        many = calloc(n, sizeof(*many));
        for (size_t i = 0; i < n; i++)
                many[i] = (nv_region){ .start = BASE + i * 256 * KIB, .end = BASE + (i + 1) * 256 * KIB };
        ranges[0].size = 256 * MIB;
        is_int(nv_dirty_rate_sample(d, &vm, many, n, 9 * USEC_PER_SEC, &est), 0, "fixture: 1024 regions");
        ok(est.samples <= NV_DIRTY_MAX_SAMPLES, "fixture: %u samples, within the cap of %u", est.samples,
           NV_DIRTY_MAX_SAMPLES);
        ok(est.samples >= n, "fixture: every region sampled");
        free(many);

        path_of(p, sizeof(p), "pagemap");
        unlink(p);
        path_of(p, sizeof(p), "clear_refs");
        unlink(p);
        path_of(p, sizeof(p), "");
        rmdir(p);
        is_int(nv_dirty_rate_sample(d, &vm, regions, 3, 10 * USEC_PER_SEC, &est), -ESRCH,
               "fixture: the process is gone: -ESRCH");
        is_int(nv_dirty_rate_start(d, 10 * USEC_PER_SEC), -ESRCH, "fixture: no clear_refs: -ESRCH");
        rmdir(root);
}

/* 1 when this kernel's configuration has CONFIG_MEM_SOFT_DIRTY=y, 0 when not, -1 unknown. */
static int kernel_config_soft_dirty(void) {
        char line[64] = "";
        FILE *f;

        if (access("/proc/config.gz", R_OK) < 0)
                return -1;
        f = popen("gzip -dc /proc/config.gz 2>/dev/null | grep -c '^CONFIG_MEM_SOFT_DIRTY=y'", "re");
        if (!f)
                return -1;
        if (!fgets(line, sizeof(line), f))
                line[0] = 0;
        pclose(f);
        return line[0] ? atoi(line) > 0 : -1;
}

static void test_real(void) {
        int r = nv_soft_dirty_supported(), config = kernel_config_soft_dirty();

        ok(r == 0 || r == 1, "real: soft-dirty detection answers (%d)", r);
        if (config >= 0)
                is_int(r, config, "real: detection agrees with /proc/config.gz");
        else
                printf("ok %u - real: # SKIP no /proc/config.gz to compare with\n", ++tap_count);
        if (r != 1) {
                printf("ok %u - real: # SKIP this kernel has no soft-dirty bits: the rate is unavailable\n",
                       ++tap_count);
                return;
        }

        /* The kernel has soft-dirty: measure this process writing a quarter of a buffer. */
        _cleanup_(nv_dirty_rate_freep) nv_dirty_rate *d = NULL;
        const size_t size = 16 * MIB;
        uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        nv_ram_range range = { .hva = (uintptr_t)p, .size = size, .backing = NV_BACKING_ANON };
        nv_vm_info vm = { .name = (char *)"self", .pid = getpid(), .ranges = &range, .nr_ranges = 1 };
        nv_region regions[16];
        nv_dirty_estimate est = {};

        if (!ok(p != MAP_FAILED, "real: a 16 MiB buffer"))
                return;
        (void)madvise(p, size, MADV_NOHUGEPAGE);
        memset(p, 1, size);
        for (unsigned i = 0; i < 16; i++)
                regions[i] = (nv_region){ .start = range.hva + i * MIB, .end = range.hva + (i + 1) * MIB };
        is_int(nv_dirty_rate_new(NULL, getpid(), &d), 0, "real: set up on this process");
        is_int(nv_dirty_rate_start(d, 1 * USEC_PER_SEC), 0, "real: soft-dirty bits cleared");
        for (size_t off = 0; off < size / 4; off += 4096)
                p[off] = 2;
        is_int(nv_dirty_rate_sample(d, &vm, regions, 16, 2 * USEC_PER_SEC, &est), 0, "real: sampled");
        is_u64(est.dirty_bytes, size / 4, "real: exactly the quarter written since the clear is dirty");
        is_int(nv_dirty_rate_sample(d, &vm, regions, 16, 3 * USEC_PER_SEC, &est), 0, "real: sampled again");
        is_u64(est.dirty_bytes, 0, "real: nothing written since: nothing dirty");
        munmap(p, size);
}

int main(void) {
        log_set_max_level(LOG_DEBUG);
        test_fixture();
        test_real();
        return tap_done();
}
