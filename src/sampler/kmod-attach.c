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
#include "sampler/kmod-attach.h"

#define KVM_VM_LINK "anon_inode:kvm-vm"

int nv_kmod_read_version(const char *dev_path, struct numavd_ept_version *ret_ver) {
        _cleanup_close_ int fd = -EBADF;
        struct numavd_ept_version ver = {};

        fd = open(dev_path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ioctl(fd, NUMAVD_EPT_IOC_VERSION, &ver) < 0)
                return -errno;
        *ret_ver = ver;
        return 0;
}

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

int nv_kmod_vms_init(nv_kmod_vms *t, const char *dev_path, void (*free_data)(void *data)) {
        *t = (nv_kmod_vms){ .free_data = free_data, .open_vm = nv_kmod_open_vm };
        t->dev_path = strdup(dev_path);
        return t->dev_path ? 0 : -ENOMEM;
}

void nv_kmod_vms_done(nv_kmod_vms *t) {
        while (t->nr_vms > 0)
                nv_kmod_vms_detach(t, t->vms[0].id);
        free(t->vms);
        free(t->dev_path);
        *t = (nv_kmod_vms){};
}

static nv_kmod_vm *find_vm(const nv_kmod_vms *t, uint64_t id) {
        for (size_t i = 0; i < t->nr_vms; i++)
                if (t->vms[i].id == id)
                        return &t->vms[i];
        return NULL;
}

int nv_kmod_vms_attach(nv_kmod_vms *t, const nv_vm_info *vm, nv_kmod_vm **ret_vm) {
        _cleanup_close_ int dev_fd = -EBADF;
        nv_kmod_vm *v;

        if (find_vm(t, vm->id))
                return 0;
        dev_fd = t->open_vm(t->dev_path, vm);
        if (dev_fd < 0)
                return dev_fd;
        v = reallocarray(t->vms, t->nr_vms + 1, sizeof(*v));
        if (!v)
                return log_oom();
        t->vms = v;
        v = &t->vms[t->nr_vms++];
        *v = (nv_kmod_vm){ .id = vm->id, .dev_fd = TAKE_FD(dev_fd) };
        *ret_vm = v;
        return 1;
}

void nv_kmod_vms_detach(nv_kmod_vms *t, uint64_t vm_id) {
        nv_kmod_vm *v = find_vm(t, vm_id);

        if (!v)
                return;
        if (v->dev_fd >= 0)
                close(v->dev_fd); /* drops the module's reference on the VM (and its recording) */
        if (t->free_data)
                t->free_data(v->data);
        *v = t->vms[--t->nr_vms];
}

int nv_kmod_vms_get(const nv_kmod_vms *t, uint64_t vm_id, nv_kmod_vm **ret_vm) {
        nv_kmod_vm *v = find_vm(t, vm_id);

        if (!v)
                return -ENOENT;
        if (v->dev_fd < 0)
                return -ESRCH;
        *ret_vm = v;
        return 0;
}

int nv_kmod_vm_gone(nv_kmod_vm *v) {
        if (v->dev_fd >= 0)
                close(v->dev_fd);
        v->dev_fd = -EBADF;
        return -ESRCH;
}
