/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/fileio.h"
#include "common/log.h"
#include "common/parse.h"
#include "sampler/attribution-kmod.h"
#include "sampler/kmod-attach.h"

/* The data of each attached VM (nv_kmod_vm.data): its memory slots, as last read, and the ZAP
 * flags its module takes. */
typedef struct vm_slots {
        struct numavd_ept_slot *slots;
        size_t nr_slots;
        uint32_t zap_flags;
} vm_slots;

typedef struct attr_sampler {
        nv_kmod_vms vms;
        int *cpu_node; /* by CPU: its node or -1 */
        unsigned nr_cpus;
        struct numavd_ept_range *ranges; /* scratch, NUMAVD_EPT_MAX_RANGES */
        struct numavd_ept_fault *faults; /* scratch, NUMAVD_EPT_MAX_RING */
} attr_sampler;

int nv_slots_gpa_to_hva(const struct numavd_ept_slot *slots, size_t n, uint64_t gpa, uint64_t *ret_hva) {
        for (size_t i = 0; i < n; i++)
                if (slots[i].as_id == 0 && gpa >= slots[i].gpa &&
                    gpa - slots[i].gpa < slots[i].pages * NV_PAGE_SIZE) {
                        *ret_hva = slots[i].hva + (gpa - slots[i].gpa);
                        return 0;
                }
        return -ENOENT;
}

static void vm_slots_free(void *data) {
        vm_slots *sl = data;

        if (!sl)
                return;
        free(sl->slots);
        free(sl);
}

/* Re-read the VM's memory slots (they change when the guest remaps memory): at most
 * NUMAVD_EPT_MAX_SLOTS, the most one call returns. */
static int load_slots(int dev_fd, vm_slots *sl) {
        struct numavd_ept_slots req = {};
        struct numavd_ept_slot *slots;

        if (ioctl(dev_fd, NUMAVD_EPT_IOC_SLOTS, &req) < 0) /* capacity 0: only counts */
                return -errno;
        for (;;) {
                req.capacity = MIN(req.nr, (uint32_t)NUMAVD_EPT_MAX_SLOTS);
                slots = reallocarray(sl->slots, MAX(req.capacity, 1u), sizeof(*slots));
                if (!slots)
                        return -ENOMEM;
                sl->slots = slots;
                sl->nr_slots = 0;
                req.slots = (uint64_t)(uintptr_t)slots;
                if (ioctl(dev_fd, NUMAVD_EPT_IOC_SLOTS, &req) < 0)
                        return -errno;
                if (req.nr <= req.capacity || req.capacity == NUMAVD_EPT_MAX_SLOTS)
                        break; /* else slots were added meanwhile: once more */
        }
        sl->nr_slots = MIN(req.nr, req.capacity);
        return 0;
}

static int attr_attach(void *ctx, const nv_vm_info *vm) {
        attr_sampler *s = ctx;
        struct numavd_ept_info info = {};
        nv_kmod_vm *v;
        vm_slots *sl;
        int r;

        r = nv_kmod_vms_attach(&s->vms, vm, &v);
        if (r <= 0)
                return r;
        if (ioctl(v->dev_fd, NUMAVD_EPT_IOC_INFO, &info) < 0) {
                r = log_warning_errno(-errno, "kmod: cannot read INFO of VM %s: %m", vm->name);
                goto fail;
        }
        if (!(info.flags & NUMAVD_EPT_INFO_FAULTS)) {
                r = log_info_errno(-EOPNOTSUPP, "kmod: no fault attribution for VM %s: %s.", vm->name,
                                   info.flags & NUMAVD_EPT_INFO_PROTECTED ? "its memory is encrypted"
                                                                          : "KVM offers no invalidation");
                goto fail;
        }
        v->data = sl = calloc(1, sizeof(*sl));
        if (!sl) {
                r = log_oom();
                goto fail;
        }
        r = load_slots(v->dev_fd, sl);
        if (r < 0) {
                r = log_warning_errno(r, "kmod: cannot read the memory slots of VM %s: %m", vm->name);
                goto fail;
        }
        /* A module that re-arms also hears the second vCPU to touch a zapped block (ABI 1.2):
         * memory that vCPUs of two nodes touch in turn shows as theirs, not as the first's. */
        if (info.flags & NUMAVD_EPT_INFO_REARM)
                sl->zap_flags = NUMAVD_EPT_ZAP_REARM;
        log_info("kmod: fault attribution for VM %s (%zu memory slots%s).", vm->name, sl->nr_slots,
                 sl->zap_flags & NUMAVD_EPT_ZAP_REARM ? ", re-armed zaps" : "");
        return 0;

fail: /* not this sampler's VM after all: its file is closed again, its slots freed */
        nv_kmod_vms_detach(&s->vms, vm->id);
        return r;
}

static void attr_detach(void *ctx, uint64_t vm_id) {
        attr_sampler *s = ctx;

        nv_kmod_vms_detach(&s->vms, vm_id);
}

static int zap_call(attr_sampler *s, nv_kmod_vm *v, size_t nr) {
        const vm_slots *sl = v->data;
        struct numavd_ept_zap z = { .flags = sl->zap_flags,
                                    .nr_ranges = (uint32_t)nr,
                                    .ranges = (uint64_t)(uintptr_t)s->ranges };

        if (ioctl(v->dev_fd, NUMAVD_EPT_IOC_ZAP, &z) < 0)
                return errno == ESRCH ? nv_kmod_vm_gone(v) : -errno;
        return (int)z.nr_blocks;
}

static int attr_zap(void *ctx, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift) {
        attr_sampler *s = ctx;
        nv_kmod_vm *v;
        size_t nr = 0, blocks = 0;
        int done = 0, r;

        r = nv_kmod_vms_get(&s->vms, vm->id, &v);
        if (r < 0)
                return r;
        if (shift != NUMAVD_EPT_SHIFT_4K && shift != NUMAVD_EPT_SHIFT_2M)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (addrs[i] & ((UINT64_C(1) << shift) - 1))
                        return -EINVAL;

        /* Consecutive blocks share a range; a call ends when the module's bounds are reached. */
        for (size_t i = 0; i <= n; i++) {
                bool extend =
                        i < n && nr > 0 &&
                        addrs[i] == s->ranges[nr - 1].start + ((uint64_t)s->ranges[nr - 1].blocks << shift);

                if (i == n || (!extend && nr == NUMAVD_EPT_MAX_RANGES) ||
                    blocks == NUMAVD_EPT_MAX_ZAP_BLOCKS) {
                        if (nr > 0) {
                                r = zap_call(s, v, nr);
                                if (r < 0)
                                        return r;
                                done += r;
                        }
                        if (i == n)
                                break;
                        nr = blocks = 0;
                        extend = false;
                }
                if (extend)
                        s->ranges[nr - 1].blocks++;
                else
                        s->ranges[nr++] = (struct numavd_ept_range){ .start = addrs[i],
                                                                     .blocks = 1,
                                                                     .shift = (uint8_t)shift };
                blocks++;
        }
        return done;
}

static int attr_drain(void *ctx, const nv_vm_info *vm, nv_fault *ret, size_t cap, uint64_t *ret_dropped) {
        attr_sampler *s = ctx;
        nv_kmod_vm *v;
        vm_slots *sl;
        uint64_t dropped = 0;
        size_t n = 0;
        bool reloaded = false;
        int r;

        r = nv_kmod_vms_get(&s->vms, vm->id, &v);
        if (r < 0)
                return r;
        sl = v->data;
        while (n < cap) {
                struct numavd_ept_drain d = {
                        .capacity = (uint32_t)MIN(cap - n, (size_t)NUMAVD_EPT_MAX_RING),
                        .faults = (uint64_t)(uintptr_t)s->faults,
                };

                if (ioctl(v->dev_fd, NUMAVD_EPT_IOC_DRAIN, &d) < 0)
                        return -errno;
                dropped += d.dropped;
                for (uint32_t i = 0; i < d.nr; i++) {
                        const struct numavd_ept_fault *f = &s->faults[i];
                        uint64_t hva;

                        if (nv_slots_gpa_to_hva(sl->slots, sl->nr_slots, f->gpa, &hva) < 0) {
                                /* the slots changed since they were read: once per drain, anew */
                                if (reloaded || load_slots(v->dev_fd, sl) < 0 ||
                                    nv_slots_gpa_to_hva(sl->slots, sl->nr_slots, f->gpa, &hva) < 0) {
                                        dropped++;
                                        continue;
                                }
                                reloaded = true;
                        }
                        ret[n++] = (nv_fault){
                                .hva = hva,
                                .vcpu = f->vcpu,
                                .node = (int16_t)(f->cpu < s->nr_cpus ? s->cpu_node[f->cpu] : -1),
                                .shift = f->shift,
                        };
                }
                if (d.left == 0 || d.nr == 0)
                        break;
        }
        *ret_dropped = dropped;
        return (int)n;
}

static void attr_destroy(void *ctx) {
        attr_sampler *s = ctx;

        if (!s)
                return;
        nv_kmod_vms_done(&s->vms);
        free(s->ranges);
        free(s->faults);
        free(s->cpu_node);
        free(s);
}

static const nv_attribution_ops attr_ops = {
        .name = "kmod",
        .attach = attr_attach,
        .detach = attr_detach,
        .zap = attr_zap,
        .drain = attr_drain,
        .destroy = attr_destroy,
};

int nv_kmod_attribution_new(const char *dev_path, const int *cpu_node, unsigned nr_cpus,
                            const nv_attribution_ops **ret_ops, void **ret_ctx) {
        struct numavd_ept_version ver = {};
        attr_sampler *s;
        int r;

        if (!dev_path)
                dev_path = NUMAVD_EPT_DEVICE;
        r = nv_kmod_read_version(dev_path, &ver);
        if (r < 0)
                return r;
        if (ver.major != NUMAVD_EPT_ABI_MAJOR || ver.minor < 1)
                return log_info_errno(-EPROTO, "%s speaks ABI %u.%u; fault attribution needs %u.1 or later.",
                                      dev_path, ver.major, ver.minor, NUMAVD_EPT_ABI_MAJOR);

        s = calloc(1, sizeof(*s));
        if (!s)
                return log_oom();
        r = nv_kmod_vms_init(&s->vms, dev_path, vm_slots_free);
        s->ranges = calloc(NUMAVD_EPT_MAX_RANGES, sizeof(*s->ranges));
        s->faults = calloc(NUMAVD_EPT_MAX_RING, sizeof(*s->faults));
        s->cpu_node = calloc(MAX(nr_cpus, 1u), sizeof(*s->cpu_node));
        if (r < 0 || !s->ranges || !s->faults || !s->cpu_node) {
                attr_destroy(s);
                return log_oom();
        }
        if (nr_cpus > 0)
                memcpy(s->cpu_node, cpu_node, nr_cpus * sizeof(*cpu_node));
        s->nr_cpus = nr_cpus;
        *ret_ops = &attr_ops;
        *ret_ctx = s;
        return 0;
}
