/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How fast a VM dirties its memory, in bytes per second: pre-copy live migration converges only
 * while this stays below the link's bandwidth. Measured with the kernel's soft-dirty bits
 * (CONFIG_MEM_SOFT_DIRTY): writing "4" to /proc/PID/clear_refs clears them for the whole VMM
 * process and write-protects its pages; the first write to a page afterwards sets its bit again,
 * read back as bit 55 of the page's /proc/PID/pagemap entry. At the end of an interval a bounded
 * sample of pages of each region of guest RAM is read (not every page), each region's dirty
 * share is scaled to its size, and the bits are cleared again for the next interval. A page
 * written many times counts once: the rate is that of distinct pages, which is what a pre-copy
 * round must send again.
 *
 * The VMM's own dirty logging is left alone. KVM keeps its dirty bitmap (and dirty ring) per
 * memory slot, fed by its own write-protection of the second-level page table entries or by PML,
 * and cleared only by the VMM (KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG, the ring's reset): numavd
 * never calls those, since clearing them would hide writes from a migration in progress.
 * Clearing soft-dirty touches only the host page table entries of the VMM: the MMU notifier
 * makes KVM drop its mappings of those pages, and the guest's next write faults them in again
 * through KVM's fault path, which logs the write in KVM's bitmap when dirty logging is on. The
 * cost of a measurement is that one extra minor fault per page first written in an interval.
 * (clear_refs cannot be limited to a range; nothing else on a KVM host uses soft-dirty: QEMU's
 * own dirty tracking is KVM's bitmap, and CRIU does not checkpoint a running VMM.)
 *
 * hugetlbfs ranges are not measured: clear_refs leaves hugetlb mappings alone, so their bits would
 * read as always dirty. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/inventory.h"
#include "model/region.h"

#define NV_PAGEMAP_SOFT_DIRTY (UINT64_C(1) << 55)
#define NV_PAGEMAP_SWAPPED    (UINT64_C(1) << 62)
#define NV_PAGEMAP_PRESENT    (UINT64_C(1) << 63)

/* Samples per region, and per VM and interval in all (each is one 8-byte pread of pagemap). */
#define NV_DIRTY_SAMPLES_PER_REGION 32u
#define NV_DIRTY_MAX_SAMPLES        8192u

typedef struct nv_dirty_estimate {
        double bytes_per_sec;   /* dirty_bytes / interval */
        uint64_t dirty_bytes;   /* estimated distinct bytes written during the interval */
        uint64_t covered_bytes; /* bytes of the regions measured (hugetlbfs left out) */
        unsigned samples, dirty_samples;
        usec_t interval; /* between the clear and the read */
} nv_dirty_estimate;

/* Whether this kernel tracks soft-dirty bits: a fresh page of this process, once written, must
 * show bit 55 in /proc/self/pagemap. 1 yes, 0 no (no CONFIG_MEM_SOFT_DIRTY), else -errno. */
int nv_soft_dirty_supported(void);

typedef struct nv_dirty_rate nv_dirty_rate;

/* For process pid under proc_root (NULL: "/proc"). Opens nothing: pagemap and clear_refs are
 * opened and closed at each use, so no fd outlives a call. 0 or -ENOMEM. */
int nv_dirty_rate_new(const char *proc_root, pid_t pid, nv_dirty_rate **ret);
nv_dirty_rate *nv_dirty_rate_free(nv_dirty_rate *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_dirty_rate *, nv_dirty_rate_free);

/* Begin an interval at now: clear the process's soft-dirty bits. 0, -ESRCH (gone) or -errno. */
int nv_dirty_rate_start(nv_dirty_rate *d, usec_t now);

/* End the interval begun by the last start (or sample) at now: sample the regions (in the VM's
 * ranges[]), estimate, and begin the next interval. -EAGAIN when no interval was begun or none
 * has passed, -ESRCH when the process is gone, else 0 or -errno; *ret untouched on failure. */
int nv_dirty_rate_sample(nv_dirty_rate *d, const nv_vm_info *vm, const nv_region *regions, size_t n,
                         usec_t now, nv_dirty_estimate *ret);
