/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/dirty-rate.h"

struct nv_dirty_rate {
        char *proc_root;
        pid_t pid;
        usec_t started; /* USEC_INFINITY: no interval under way */
        uint64_t round; /* intervals sampled: shifts the sample positions */
};

int nv_soft_dirty_supported(void) {
        long page = sysconf(_SC_PAGESIZE);
        _cleanup_close_ int fd = -EBADF;
        volatile uint8_t *p;
        uint64_t e = 0;
        ssize_t n;

        p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return -errno;
        p[0] = 1; /* fault it in: a new page of a new mapping is soft-dirty where the kernel tracks it */
        fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        n = fd < 0 ? -1 : pread(fd, &e, sizeof(e), (off_t)((uintptr_t)p / (uintptr_t)page * sizeof(e)));
        if (n != (ssize_t)sizeof(e)) {
                int r = n < 0 ? -errno : -EIO;
                (void)munmap((void *)p, (size_t)page);
                return r;
        }
        (void)munmap((void *)p, (size_t)page);
        if (!(e & NV_PAGEMAP_PRESENT))
                return -EIO; /* the page we just wrote is not there: pagemap cannot be trusted */
        return !!(e & NV_PAGEMAP_SOFT_DIRTY);
}

int nv_dirty_rate_new(const char *proc_root, pid_t pid, nv_dirty_rate **ret) {
        nv_dirty_rate *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->proc_root = strdup(proc_root ?: "/proc");
        if (!d->proc_root) {
                free(d);
                return -ENOMEM;
        }
        d->pid = pid;
        d->started = USEC_INFINITY;
        *ret = d;
        return 0;
}

nv_dirty_rate *nv_dirty_rate_free(nv_dirty_rate *d) {
        if (!d)
                return NULL;
        free(d->proc_root);
        free(d);
        return NULL;
}

static int open_proc(const nv_dirty_rate *d, const char *file, int flags) {
        char path[512];
        int fd;

        snprintf(path, sizeof(path), "%s/%d/%s", d->proc_root, (int)d->pid, file);
        fd = open(path, flags | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
        return fd;
}

int nv_dirty_rate_start(nv_dirty_rate *d, usec_t now) {
        _cleanup_close_ int fd = -EBADF;

        fd = open_proc(d, "clear_refs", O_WRONLY);
        if (fd < 0)
                return fd;
        if (write(fd, "4", 1) != 1)
                return errno == ESRCH ? -ESRCH : -errno;
        d->started = now;
        return 0;
}

/* Page indices to sample in a region of nr_pages: k of them, evenly spaced, the whole pattern
 * shifted by frac of a stride so that successive intervals look at other pages. */
static uint64_t sample_page(uint64_t nr_pages, unsigned k, unsigned j, double frac) {
        uint64_t idx = (uint64_t)(((double)j + frac) * (double)nr_pages / (double)k);

        return MIN(idx, nr_pages - 1);
}

static bool measured(const nv_vm_info *vm, const nv_region *rg) {
        return rg->range < vm->nr_ranges && vm->ranges[rg->range].backing != NV_BACKING_HUGETLB &&
               rg->end > rg->start;
}

int nv_dirty_rate_sample(nv_dirty_rate *d, const nv_vm_info *vm, const nv_region *regions, size_t n,
                         usec_t now, nv_dirty_estimate *ret) {
        _cleanup_close_ int fd = -EBADF;
        nv_dirty_estimate est = {};
        uint64_t wanted = 0;
        double frac, scale = 1.0, dirty = 0;
        int r;

        if (d->started == USEC_INFINITY || now <= d->started)
                return -EAGAIN;
        fd = open_proc(d, "pagemap", O_RDONLY);
        if (fd < 0)
                return fd;

        for (size_t i = 0; i < n; i++)
                if (measured(vm, &regions[i]))
                        wanted += MIN((nv_region_bytes(&regions[i]) + NV_PAGE_SIZE - 1) / NV_PAGE_SIZE,
                                      (uint64_t)NV_DIRTY_SAMPLES_PER_REGION);
        if (wanted > NV_DIRTY_MAX_SAMPLES)
                scale = (double)NV_DIRTY_MAX_SAMPLES / (double)wanted;
        /* The golden ratio's fraction: successive shifts spread evenly over a stride. */
        frac = fmod((double)d->round * 0.6180339887498949, 1.0);

        for (size_t i = 0; i < n; i++) {
                const nv_region *rg = &regions[i];
                uint64_t nr_pages, bytes = nv_region_bytes(rg);
                unsigned k, hits = 0;

                if (!measured(vm, rg))
                        continue;
                nr_pages = (bytes + NV_PAGE_SIZE - 1) / NV_PAGE_SIZE;
                k = (unsigned)MIN(nr_pages, (uint64_t)NV_DIRTY_SAMPLES_PER_REGION);
                k = MAX(1u, (unsigned)((double)k * scale));
                for (unsigned j = 0; j < k; j++) {
                        uint64_t addr = rg->start + sample_page(nr_pages, k, j, frac) * NV_PAGE_SIZE, e = 0;
                        ssize_t got = pread(fd, &e, sizeof(e), (off_t)(addr / NV_PAGE_SIZE * sizeof(e)));

                        if (got < 0)
                                return errno == ESRCH ? -ESRCH : -errno;
                        if (got != (ssize_t)sizeof(e))
                                e = 0; /* beyond the end of the address space: never written */
                        if (e & NV_PAGEMAP_SOFT_DIRTY)
                                hits++;
                }
                est.samples += k;
                est.dirty_samples += hits;
                est.covered_bytes += bytes;
                dirty += (double)bytes * hits / k;
        }

        est.interval = now - d->started;
        est.dirty_bytes = (uint64_t)llround(dirty);
        est.bytes_per_sec = dirty * (double)USEC_PER_SEC / (double)est.interval;
        d->round++;
        d->started = USEC_INFINITY;
        r = nv_dirty_rate_start(d, now);
        if (r < 0)
                return r;
        *ret = est;
        return 0;
}
