/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kmod backend where the module cannot load (this machine): finding a VMM's KVM VM fd in
 * /proc (a fixture tree and this process's own real VM fd), and a clean, untouched failure when
 * /dev/numavd_ept is absent or is not the module. The module itself is tested in the lab
 * (tests/lab/t-kmod-*.sh). */
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "sampler/backend-kmod.h"
#include "tap.h"

static void test_fixture(void) {
        char dir[] = "/tmp/test-backend-kmod.XXXXXX", path[PATH_MAX], cmd[PATH_MAX + 16];

        if (!ok(mkdtemp(dir), "make a fixture /proc"))
                return;
        (void)snprintf(path, sizeof(path), "%s/42/fd", dir);
        (void)snprintf(cmd, sizeof(cmd), "mkdir -p %s %s/43/fd", path, dir);
        if (system(cmd) != 0)
                return;
        (void)snprintf(path, sizeof(path), "%s/42/fd/0", dir);
        ok(symlink("/dev/null", path) == 0, "fixture fd 0 -> /dev/null");
        (void)snprintf(path, sizeof(path), "%s/42/fd/7", dir);
        ok(symlink("anon_inode:kvm-vcpu:0", path) == 0, "fixture fd 7 -> a vCPU");
        (void)snprintf(path, sizeof(path), "%s/42/fd/12", dir);
        ok(symlink("anon_inode:kvm-vm", path) == 0, "fixture fd 12 -> a VM");
        (void)snprintf(path, sizeof(path), "%s/43/fd/3", dir);
        ok(symlink("anon_inode:kvm-vmx", path) == 0, "fixture fd 3 -> a near miss");

        is_int(nv_kmod_find_vm_fd(dir, 42), 12, "the VM fd of a VMM is found among its fds");
        is_int(nv_kmod_find_vm_fd(dir, 43), -ENOENT, "a process without a VM fd gives -ENOENT");
        is_int(nv_kmod_find_vm_fd(dir, 44), -ENOENT, "a process that is gone gives -ENOENT");

        (void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)system(cmd);
}

static void test_real_vm_fd(void) {
        _cleanup_close_ int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = -EBADF;

        if (kvm >= 0)
                vm = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0) {
                printf("ok %u - # SKIP no KVM_CREATE_VM here\n", ++tap_count);
                return;
        }
        is_int(nv_kmod_find_vm_fd(NULL, getpid()), vm, "our own KVM VM fd is found in the real /proc");
}

static void test_no_module(void) {
        const nv_access_ops *ops = (const void *)1;
        void *ctx = (void *)2;
        int r;

        r = nv_kmod_backend_new("/nonexistent/numavd_ept", false, &ops, &ctx);
        is_int(r, -ENOENT, "without the module the backend fails with -ENOENT");
        ok(ops == (const void *)1 && ctx == (void *)2, "and leaves its return parameters untouched");

        r = nv_kmod_backend_new("/dev/null", false, &ops, &ctx);
        ok(r < 0 && ops == (const void *)1, "a device that is not numavd_ept is refused (%d)", r);

        r = nv_kmod_backend_new(NULL, false, &ops, &ctx);
        if (r >= 0) { /* the module is loaded here after all */
                ok(ops && strcmp(ops->name, "kmod") == 0, "the loaded module gives the kmod backend");
                ops->destroy(ctx);
        } else
                ok(r == -ENOENT || r == -EACCES || r == -EPERM, "the default device is absent here (%d)", r);
}

int main(void) {
        test_fixture();
        test_real_vm_fd();
        test_no_module();
        return tap_done();
}
