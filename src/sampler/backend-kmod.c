/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/backend-kmod.h"
#include "../include/uapi/numavd_ept.h" /* top_srcdir/include, through -I top_srcdir/src */

#define KVM_VM_LINK "anon_inode:kvm-vm"

static int close_fd(int fd) {
        if (fd >= 0)
                close(fd);
        return -EBADF;
}

typedef struct kmod_vm {
        uint64_t id;
        int dev_fd; /* attached to the VM; -EBADF once the VMM is gone */
} kmod_vm;

typedef struct kmod_backend {
        char *dev_path;
        bool nested;
        kmod_vm *vms;
        size_t nr_vms;
        struct numavd_ept_range *ranges; /* scratch, NUMAVD_EPT_MAX_RANGES */
        uint8_t *bitmap;                 /* scratch, NUMAVD_EPT_MAX_BLOCKS / 8 */
} kmod_backend;

int nv_kmod_find_vm_fd(const char *proc_root, pid_t pid) {
        char path[PATH_MAX], target[sizeof(KVM_VM_LINK) + 1];
        _cleanup_close_ int dfd = -EBADF;
        DIR *d;
        struct dirent *de;
        int r = -ENOENT;

        (void)snprintf(path, sizeof(path), "%s/%d/fd", proc_root ? proc_root : "/proc", (int)pid);
        dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        TAKE_FD(dfd);
        while ((de = readdir(d))) {
                char *end;
                long n = strtol(de->d_name, &end, 10);
                ssize_t k;

                if (de->d_name[0] == '.' || *end || n < 0 || n > INT_MAX)
                        continue;
                k = readlinkat(dirfd(d), de->d_name, target, sizeof(target));
                if (k == (ssize_t)strlen(KVM_VM_LINK) && memcmp(target, KVM_VM_LINK, (size_t)k) == 0) {
                        r = (int)n;
                        break;
                }
        }
        closedir(d);
        return r;
}

static kmod_vm *find_vm(kmod_backend *b, uint64_t id) {
        for (size_t i = 0; i < b->nr_vms; i++)
                if (b->vms[i].id == id)
                        return &b->vms[i];
        return NULL;
}

/* A copy of the VMM's VM fd: pidfd_open + pidfd_getfd (needs PTRACE_MODE_ATTACH, i.e. root). */
static int grab_vm_fd(pid_t pid) {
        _cleanup_close_ int pidfd = -EBADF;
        int num, fd;

        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return -errno;
        num = nv_kmod_find_vm_fd(NULL, pid);
        if (num < 0)
                return num;
        fd = (int)syscall(SYS_pidfd_getfd, pidfd, num, 0); /* the kernel sets O_CLOEXEC */
        if (fd < 0)
                return -errno;
        return fd;
}

int nv_kmod_open_vm(const char *dev_path, const nv_vm_info *vm) {
        _cleanup_close_ int vm_fd = -EBADF, dev_fd = -EBADF;
        struct numavd_ept_attach a = {};

        vm_fd = grab_vm_fd(vm->pid);
        if (vm_fd < 0)
                return log_warning_errno(vm_fd, "Cannot get the KVM VM fd of %s (pid %d): %m", vm->name,
                                         (int)vm->pid);
        dev_fd = open(dev_path, O_RDWR | O_CLOEXEC);
        if (dev_fd < 0)
                return log_warning_errno(-errno, "Cannot open %s: %m", dev_path);
        a.vm_fd = vm_fd;
        if (ioctl(dev_fd, NUMAVD_EPT_IOC_ATTACH, &a) < 0)
                return log_warning_errno(-errno, "Cannot attach %s to VM %s: %m", dev_path, vm->name);
        /* The module holds the VM now; our copy of the fd (closed on return) would only keep it
         * alive longer. */
        return TAKE_FD(dev_fd);
}

static int kmod_attach(void *ctx, const nv_vm_info *vm) {
        kmod_backend *b = ctx;
        _cleanup_close_ int dev_fd = -EBADF;
        struct numavd_ept_info info = {};
        kmod_vm *v;

        if (find_vm(b, vm->id))
                return 0;
        dev_fd = nv_kmod_open_vm(b->dev_path, vm);
        if (dev_fd < 0)
                return dev_fd;
        if (ioctl(dev_fd, NUMAVD_EPT_IOC_INFO, &info) == 0) {
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

        v = reallocarray(b->vms, b->nr_vms + 1, sizeof(*v));
        if (!v)
                return log_oom();
        b->vms = v;
        b->vms[b->nr_vms++] = (kmod_vm){ .id = vm->id, .dev_fd = TAKE_FD(dev_fd) };
        return 0;
}

static void kmod_detach(void *ctx, uint64_t vm_id) {
        kmod_backend *b = ctx;
        kmod_vm *v = find_vm(b, vm_id);

        if (!v)
                return;
        if (v->dev_fd >= 0)
                close(v->dev_fd); /* drops the module's reference on the VM */
        *v = b->vms[--b->nr_vms];
}

/* One HARVEST call over ranges[0..nr), blocks bits; their bits into ret_accessed. */
static int harvest_call(kmod_backend *b, kmod_vm *v, size_t nr, size_t blocks, unsigned flags,
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
        kmod_vm *v = find_vm(b, vm->id);
        unsigned kflags = 0;
        size_t first = 0, nr = 0, blocks = 0;
        int done = 0, r;

        if (!v)
                return -ENOENT;
        if (v->dev_fd < 0)
                return -ESRCH;
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
                                if (r == -ESRCH) { /* the VMM exited: let go of the VM now */
                                        v->dev_fd = close_fd(v->dev_fd);
                                        return r;
                                }
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
        while (b->nr_vms > 0)
                kmod_detach(b, b->vms[0].id);
        free(b->vms);
        free(b->ranges);
        free(b->bitmap);
        free(b->dev_path);
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
        _cleanup_close_ int fd = -EBADF;
        struct numavd_ept_version ver = {};
        kmod_backend *b;

        if (!dev_path)
                dev_path = NUMAVD_EPT_DEVICE;
        fd = open(dev_path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, NUMAVD_EPT_IOC_VERSION, &ver) < 0)
                return -errno;
        if (ver.major != NUMAVD_EPT_ABI_MAJOR)
                return log_error_errno(-EPROTO, "%s speaks ABI %u.%u, numavd needs %u.x.", dev_path,
                                       ver.major, ver.minor, NUMAVD_EPT_ABI_MAJOR);

        b = calloc(1, sizeof(*b));
        if (!b)
                return log_oom();
        b->nested = nested;
        b->dev_path = strdup(dev_path);
        b->ranges = calloc(NUMAVD_EPT_MAX_RANGES, sizeof(*b->ranges));
        b->bitmap = calloc(NUMAVD_EPT_MAX_BLOCKS / 8, 1);
        if (!b->dev_path || !b->ranges || !b->bitmap) {
                kmod_destroy(b);
                return log_oom();
        }
        *ret_ops = &kmod_ops;
        *ret_ctx = b;
        return 0;
}
