/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* KVM statistics of a real VM: a child process creates a VM and a vCPU (KVM_CREATE_VM works here
 * even where guests cannot run), and the parent reads them through pidfd_getfd + KVM_GET_STATS_FD,
 * then checks that it holds no KVM fd once it lets go. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/kvm-stats.h"
#include "tap.h"

/* fds of this process whose link starts with prefix; *all_cloexec cleared if one lacks it. */
static unsigned count_fds(const char *prefix, bool *all_cloexec) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        unsigned n = 0;

        while (d && (de = readdir(d))) {
                char path[300], link[128] = "";
                int fd = atoi(de->d_name);

                snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
                if (de->d_name[0] == '.' || fd == dirfd(d) || readlink(path, link, sizeof(link) - 1) <= 0)
                        continue;
                if (strncmp(link, prefix, strlen(prefix)) != 0)
                        continue;
                n++;
                if (all_cloexec && !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
                        *all_cloexec = false;
        }
        if (d)
                closedir(d);
        return n;
}

/* The child: a VM with one vCPU, "ready" on the pipe, then wait to be killed. 77: no KVM. */
static int child_vmm(int ready) {
        int kvm, vm, vcpu;

        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0)
                return 77;
        vm = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0)
                return 77;
        vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
        if (vcpu < 0)
                return 78;
        if (write(ready, "r", 1) != 1)
                return 1;
        for (;;)
                pause();
}

int main(void) {
        _cleanup_(nv_kvm_stats_freep) nv_kvm_stats *k = NULL;
        char dbg[] = "/tmp/test-kvm-stats.XXXXXX";
        nv_kvm_counts c;
        int p[2], status, r;
        pid_t child;
        char b;

        log_set_max_level(LOG_DEBUG);
        if (geteuid() != 0 || access("/dev/kvm", W_OK) < 0)
                return tap_skip_all("needs root and /dev/kvm");
        if (pipe2(p, O_CLOEXEC) < 0)
                return tap_skip_all("pipe");
        child = fork();
        if (child == 0)
                _exit(child_vmm(p[1]));
        close(p[1]);
        if (read(p[0], &b, 1) != 1) {
                waitpid(child, &status, 0);
                if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
                        return tap_skip_all("KVM_CREATE_VM is not available here");
                ok(false, "the child VMM starts (exit status %d)", WEXITSTATUS(status));
                return tap_done();
        }

        /* The documented reason for debugfs: a duplicated VM fd answers no ioctl in another mm. */
        {
                int pidfd = (int)syscall(SYS_pidfd_open, child, 0), vmfd = -1, sfd = -1, err = 0;
                DIR *d;
                struct dirent *de;
                char path[64];

                snprintf(path, sizeof(path), "/proc/%d/fd", (int)child);
                d = opendir(path);
                while (d && (de = readdir(d))) {
                        char lp[sizeof(path) + 300], link[64] = "";
                        snprintf(lp, sizeof(lp), "%s/%s", path, de->d_name);
                        if (readlink(lp, link, sizeof(link) - 1) > 0 &&
                            strcmp(link, "anon_inode:kvm-vm") == 0)
                                vmfd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
                }
                if (d)
                        closedir(d);
                if (vmfd >= 0) {
                        sfd = ioctl(vmfd, KVM_GET_STATS_FD, NULL);
                        err = sfd < 0 ? errno : 0;
                }
                ok(vmfd >= 0 && sfd < 0 && err == EIO,
                   "KVM_GET_STATS_FD on a VM fd duplicated with pidfd_getfd fails with EIO (other mm)");
                if (sfd >= 0)
                        close(sfd);
                if (vmfd >= 0)
                        close(vmfd);
                if (pidfd >= 0)
                        close(pidfd);
        }

        is_int(nv_kvm_stats_open(NULL, NULL, getpid(), &k), -ENOENT,
               "a process without a KVM VM fd: -ENOENT");
        is_int(nv_kvm_stats_open(NULL, NULL, 0x3ffffff0, &k), -ESRCH,
               "a process that does not exist: -ESRCH");
        is_int(nv_kvm_stats_open(NULL, "/nonexistent", child, &k), -ENODEV, "no debugfs: -ENODEV");

        /* debugfs in a mount namespace of our own: nothing outlives the test. */
        if (!mkdtemp(dbg) || unshare(CLONE_NEWNS) < 0 ||
            mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("debugfs", dbg, "debugfs", 0, NULL) < 0) {
                printf("ok %u - # SKIP cannot mount debugfs in a private mount namespace: %m\n",
                       ++tap_count);
                goto out;
        }
        r = nv_kvm_stats_open(NULL, dbg, child, &k);
        is_int(r, 0, "the child VM's KVM debugfs directory is found");
        if (r == 0) {
                c = (nv_kvm_counts){};
                r = nv_kvm_stats_read(k, &c);
                if (r == -EPERM || r == -EACCES)
                        printf("ok %u - # SKIP this kernel refuses reads of KVM's debugfs files: %s\n",
                               ++tap_count, strerror(-r));
                else {
                        is_int(r, 0, "the stats read");
                        ok(c.available[NV_KVM_REMOTE_TLB_FLUSHES],
                           "the VM's remote TLB flush count is offered");
                        ok(c.available[NV_KVM_EXITS] && c.available[NV_KVM_HALT_EXITS] &&
                                   c.available[NV_KVM_TLB_FLUSHES],
                           "the vCPUs' exits, halt exits and TLB flushes are offered");
                        ok(c.available[NV_KVM_PAGE_FAULTS], "their page faults are offered");
                        printf("# nested runs %s on this host\n",
                               c.available[NV_KVM_NESTED_RUNS] ? "offered" : "not offered");
                        is_u64(c.value[NV_KVM_EXITS], 0, "a vCPU that never ran has no exits");
                }
                is_int(count_fds("/tmp/test-kvm-stats", NULL) + count_fds("anon_inode:kvm", NULL), 0,
                       "no fd is held between reads (an open stats file would keep the VM alive)");
                kill(child, SIGKILL);
                waitpid(child, &status, 0);
                child = 0;
                is_int(nv_kvm_stats_read(k, &c), -ESRCH, "the VM gone: -ESRCH");
        }
        umount(dbg);
out:
        rmdir(dbg);
        if (child > 0) {
                kill(child, SIGKILL);
                waitpid(child, &status, 0);
        }
        return tap_done();
}
