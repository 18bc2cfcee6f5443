/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the kmod samplers share, where the module cannot load (this machine): finding a VMM's KVM
 * VM fd in /proc (a fixture tree and this process's own real VM fd), reading the ABI version of a
 * device that is absent or is not the module, and the table of attached VMs, whose files a stand-in
 * opener makes from /dev/null. Attaching real VMs is tested in the lab (tests/lab/t-kmod-*.sh). */
#include <fcntl.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "sampler/kmod-attach.h"
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

static void test_read_version(void) {
        struct numavd_ept_version ver = { .major = 42 };

        is_int(nv_kmod_read_version("/nonexistent/numavd_ept", &ver), -ENOENT,
               "reading the version without the module gives -ENOENT");
        is_int(nv_kmod_read_version("/dev/null", &ver), -ENOTTY, "a device that is not the module: -ENOTTY");
        is_int(ver.major, 42, "and the version is untouched");
}

/* The stand-in for the device: a file of /dev/null per VM, or -EACCES for a VM named "refused". */
static unsigned nr_opened;
static const char *opened_path;

static int fake_open_vm(const char *dev_path, const nv_vm_info *vm) {
        opened_path = dev_path;
        if (strcmp(vm->name, "refused") == 0)
                return -EACCES;
        nr_opened++;
        return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static unsigned nr_freed;

static void free_data(void *data) {
        if (data)
                nr_freed++;
        free(data);
}

static bool fd_open(int fd) {
        return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

static void test_table(void) {
        nv_kmod_vms t;
        nv_vm_info a = { .id = 1, .name = (char *)"a" }, b = { .id = 2, .name = (char *)"b" },
                   c = { .id = 3, .name = (char *)"c" }, refused = { .id = 4, .name = (char *)"refused" };
        nv_kmod_vm *v = NULL, *w = (void *)1;
        int fd_a, fd_b, fd_c;

        is_int(nv_kmod_vms_init(&t, "/dev/fake_ept", free_data), 0, "an empty table");
        ok(t.open_vm == nv_kmod_open_vm, "which attaches through the device");
        t.open_vm = fake_open_vm;

        is_int(nv_kmod_vms_attach(&t, &a, &v), 1, "a VM is attached");
        ok(v && v->id == 1 && fd_open(v->dev_fd) && !v->data, "with its own file");
        is_str(opened_path, "/dev/fake_ept", "of the table's device");
        fd_a = v->dev_fd;
        v->data = malloc(1);

        is_int(nv_kmod_vms_attach(&t, &a, &w), 0, "attaching it twice: 0");
        ok(w == (void *)1 && nr_opened == 1 && t.nr_vms == 1, "without opening a second file");
        is_int(nv_kmod_vms_attach(&t, &refused, &w), -EACCES, "a VM the device refuses: its error");
        ok(w == (void *)1 && t.nr_vms == 1, "and no entry");

        is_int(nv_kmod_vms_attach(&t, &b, &v), 1, "a second VM");
        fd_b = v->dev_fd;
        is_int(nv_kmod_vms_attach(&t, &c, &v), 1, "a third VM");
        fd_c = v->dev_fd;
        ok(fd_a != fd_b && fd_b != fd_c && nr_opened == 3, "each with a file of its own");

        is_int(nv_kmod_vms_get(&t, 5, &w), -ENOENT, "a VM that is not attached: -ENOENT");
        ok(w == (void *)1, "and the entry is untouched");
        nv_kmod_vms_detach(&t, 5);
        ok(t.nr_vms == 3 && fd_open(fd_a) && fd_open(fd_b) && fd_open(fd_c) && nr_freed == 0,
           "detaching a VM that is not attached changes nothing");

        is_int(nv_kmod_vms_get(&t, 2, &v), 0, "an attached VM is found");
        ok(v->id == 2 && v->dev_fd == fd_b, "with its file");
        is_int(nv_kmod_vm_gone(v), -ESRCH, "its VMM is gone: -ESRCH");
        ok(!fd_open(fd_b) && v->dev_fd < 0, "and its file is closed at once");
        is_int(nv_kmod_vm_gone(v), -ESRCH, "gone twice: -ESRCH, nothing closed again");
        is_int(nv_kmod_vms_get(&t, 2, &w), -ESRCH, "the vanished VM answers -ESRCH");
        ok(w == (void *)1 && t.nr_vms == 3, "and keeps its entry");
        is_int(nv_kmod_vms_attach(&t, &b, &w), 0, "attaching the vanished VM: 0, it is attached");
        ok(nr_opened == 3, "without opening a file");

        nv_kmod_vms_detach(&t, 1);
        ok(!fd_open(fd_a) && nr_freed == 1 && t.nr_vms == 2, "detaching closes the file and frees the data");
        ok(nv_kmod_vms_get(&t, 1, &w) == -ENOENT && nv_kmod_vms_get(&t, 3, &v) == 0 && v->dev_fd == fd_c,
           "the other VMs stay as they were");
        nv_kmod_vms_detach(&t, 2);
        is_int(t.nr_vms, 1, "a vanished VM is detached like any other");
        is_int(nv_kmod_vms_attach(&t, &b, &v), 1, "and attaches anew afterwards");
        fd_b = v->dev_fd;
        v->data = malloc(1);
        ok(nr_opened == 4 && fd_open(fd_b), "with a new file");

        nv_kmod_vms_done(&t);
        ok(!fd_open(fd_b) && !fd_open(fd_c) && nr_freed == 2, "done closes every file and frees the data");
        ok(!t.vms && t.nr_vms == 0 && !t.dev_path, "and leaves the table empty");
        nv_kmod_vms_done(&t);
        ok(true, "done on an empty table");
}

int main(void) {
        test_fixture();
        test_real_vm_fd();
        test_read_version();
        test_table();
        return tap_done();
}
