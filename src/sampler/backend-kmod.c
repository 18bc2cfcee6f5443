/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <sys/ioctl.h>

#include "common/log.h"
#include "sampler/backend-kmod.h"
#include "sampler/kmod-attach.h"

typedef struct kmod_backend {
        nv_kmod_vms vms;
        bool nested;
        struct numavd_ept_range *ranges; /* scratch, NUMAVD_EPT_MAX_RANGES */
        uint8_t *bitmap;                 /* scratch, NUMAVD_EPT_MAX_BLOCKS / 8 */
} kmod_backend;

static int kmod_attach(void *ctx, const nv_vm_info *vm) {
        kmod_backend *b = ctx;
        struct numavd_ept_info info = {};
        nv_kmod_vm *v;
        int r;

        r = nv_kmod_vms_attach(&b->vms, vm, &v);
        if (r <= 0)
                return r;
        if (ioctl(v->dev_fd, NUMAVD_EPT_IOC_INFO, &info) == 0) {
                if (info.flags & NUMAVD_EPT_INFO_HYPERVISOR)
                        b->nested = true;
                /* Before Linux 6.4 the module cannot see kvm_intel's parameters: unknown, not absent. */
                bool known = info.flags & NUMAVD_EPT_INFO_TDP_KNOWN;

                log_info("kmod: attached VM %s: %s, %s accessed bits, %u slots%s.", vm->name,
                         !known                             ? "paging unknown"
                         : info.flags & NUMAVD_EPT_INFO_TDP ? "TDP"
                                                            : "shadow paging",
                         !known                                 ? "unknown"
                         : info.flags & NUMAVD_EPT_INFO_AD_BITS ? "hardware"
                                                                : "no hardware",
                         info.nr_slots, b->nested ? ", nested: harvesting with TLB flushes" : "");
        }
        return 0;
}

static void kmod_detach(void *ctx, uint64_t vm_id) {
        kmod_backend *b = ctx;

        nv_kmod_vms_detach(&b->vms, vm_id);
}

/* One HARVEST call over ranges[0..nr), blocks bits; their bits into ret_accessed. */
static int harvest_call(kmod_backend *b, nv_kmod_vm *v, size_t nr, size_t blocks, unsigned flags,
                        uint8_t *ret_accessed) {
        struct numavd_ept_harvest h = {
                .flags = flags,
                .nr_ranges = (uint32_t)nr,
                .ranges = (uint64_t)(uintptr_t)b->ranges,
                .bitmap = (uint64_t)(uintptr_t)b->bitmap,
                .bitmap_bytes = (uint32_t)DIV_ROUND_UP(blocks, 8),
        };

        if (ioctl(v->dev_fd, NUMAVD_EPT_IOC_HARVEST, &h) < 0)
                return -errno;
        for (size_t i = 0; i < blocks; i++)
                ret_accessed[i] = (b->bitmap[i / 8] >> (i % 8)) & 1;
        return (int)h.flags;
}

static int kmod_harvest(void *ctx, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                        unsigned flags, uint8_t *ret_accessed) {
        kmod_backend *b = ctx;
        nv_kmod_vm *v;
        unsigned kflags = 0;
        size_t first = 0, nr = 0, blocks = 0;
        int done = 0, r;

        r = nv_kmod_vms_get(&b->vms, vm->id, &v);
        if (r < 0)
                return r;
        if (shift != NUMAVD_EPT_SHIFT_4K && shift != NUMAVD_EPT_SHIFT_2M)
                return -EINVAL;
        if ((flags & NV_HARVEST_FLUSH) || b->nested)
                kflags |= NUMAVD_EPT_HARVEST_FLUSH;

        /* Consecutive blocks share a range; a call ends when the module's bounds are reached. */
        for (size_t i = 0; i <= n; i++) {
                bool extend =
                        i < n && nr > 0 &&
                        addrs[i] == b->ranges[nr - 1].start + ((uint64_t)b->ranges[nr - 1].blocks << shift);

                if (i < n && addrs[i] & ((UINT64_C(1) << shift) - 1))
                        return -EINVAL;
                if (i == n || (!extend && nr == NUMAVD_EPT_MAX_RANGES) || blocks == NUMAVD_EPT_MAX_BLOCKS) {
                        if (nr > 0) {
                                r = harvest_call(b, v, nr, blocks, kflags, ret_accessed + first);
                                if (r == -ESRCH) /* the VMM exited */
                                        return nv_kmod_vm_gone(v);
                                if (r < 0)
                                        return r;
                                done = r;
                        }
                        if (i == n)
                                break;
                        first = i;
                        nr = blocks = 0;
                        extend = false;
                }
                if (extend)
                        b->ranges[nr - 1].blocks++;
                else
                        b->ranges[nr++] = (struct numavd_ept_range){ .start = addrs[i],
                                                                     .blocks = 1,
                                                                     .shift = (uint8_t)shift };
                blocks++;
        }
        return done & NUMAVD_EPT_HARVEST_FLUSH ? NV_HARVEST_FLUSH : 0;
}

static void kmod_destroy(void *ctx) {
        kmod_backend *b = ctx;

        if (!b)
                return;
        nv_kmod_vms_done(&b->vms);
        free(b->ranges);
        free(b->bitmap);
        free(b);
}

static const nv_access_ops kmod_ops = {
        .name = "kmod",
        .attach = kmod_attach,
        .detach = kmod_detach,
        .harvest = kmod_harvest,
        .destroy = kmod_destroy,
};

int nv_kmod_backend_new(const char *dev_path, bool nested, const nv_access_ops **ret_ops, void **ret_ctx) {
        struct numavd_ept_version ver = {};
        kmod_backend *b;
        int r;

        if (!dev_path)
                dev_path = NUMAVD_EPT_DEVICE;
        r = nv_kmod_read_version(dev_path, &ver);
        if (r < 0)
                return r;
        if (ver.major != NUMAVD_EPT_ABI_MAJOR)
                return log_error_errno(-EPROTO, "%s speaks ABI %u.%u, numavd needs %u.x.", dev_path,
                                       ver.major, ver.minor, NUMAVD_EPT_ABI_MAJOR);

        b = calloc(1, sizeof(*b));
        if (!b)
                return log_oom();
        b->nested = nested;
        r = nv_kmod_vms_init(&b->vms, dev_path, NULL);
        b->ranges = calloc(NUMAVD_EPT_MAX_RANGES, sizeof(*b->ranges));
        b->bitmap = calloc(NUMAVD_EPT_MAX_BLOCKS / 8, 1);
        if (r < 0 || !b->ranges || !b->bitmap) {
                kmod_destroy(b);
                return log_oom();
        }
        *ret_ops = &kmod_ops;
        *ret_ctx = b;
        return 0;
}
