/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/string-table.h"
#include "common/fileio.h"
#include "common/log.h"
#include "sampler/kvm-stats.h"

struct nv_kvm_stats {
        char *dir;
        uint64_t last[_NV_KVM_STAT_MAX];
};

static const char *const nv_kvm_stat_table[_NV_KVM_STAT_MAX] = {
        [NV_KVM_EXITS] = "exits",
        [NV_KVM_PAGE_FAULTS] = "pageFaults",
        [NV_KVM_NESTED_RUNS] = "nestedRuns",
        [NV_KVM_HALT_EXITS] = "haltExits",
        [NV_KVM_TLB_FLUSHES] = "tlbFlushes",
        [NV_KVM_REMOTE_TLB_FLUSHES] = "remoteTlbFlushes",
};

/* KVM's file names for each of ours, in order of preference. */
static const char *const kernel_names[_NV_KVM_STAT_MAX][2] = {
        [NV_KVM_EXITS] = { "exits" },
        [NV_KVM_PAGE_FAULTS] = { "pf_taken", "pf_fixed" },
        [NV_KVM_NESTED_RUNS] = { "nested_run" },
        [NV_KVM_HALT_EXITS] = { "halt_exits" },
        [NV_KVM_TLB_FLUSHES] = { "tlb_flush" },
        [NV_KVM_REMOTE_TLB_FLUSHES] = { "remote_tlb_flush" },
};

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(nv_kvm_stat, nv_kvm_stat);

nv_kvm_stats *nv_kvm_stats_free(nv_kvm_stats *k) {
        if (!k)
                return NULL;
        free(k->dir);
        free(k);
        return NULL;
}

/* The fd number of the process's KVM VM fd. */
static int find_vm_fd(const char *proc_root, pid_t pid) {
        char path[512];
        struct dirent *de;
        DIR *d;
        int found = -ENOENT;

        snprintf(path, sizeof(path), "%s/%d/fd", proc_root ?: "/proc", (int)pid);
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? -ESRCH : -errno;
        while ((de = readdir(d))) {
                char link[64] = "", lpath[sizeof(path) + 300];
                ssize_t n;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(lpath, sizeof(lpath), "%s/%s", path, de->d_name);
                n = readlink(lpath, link, sizeof(link) - 1);
                if (n <= 0)
                        continue;
                link[n] = 0;
                if (strcmp(link, "anon_inode:kvm-vm") == 0) {
                        found = atoi(de->d_name);
                        break;
                }
        }
        closedir(d);
        return found;
}

int nv_kvm_stats_open(const char *proc_root, const char *debugfs, pid_t pid, nv_kvm_stats **ret) {
        _cleanup_(nv_kvm_stats_freep) nv_kvm_stats *k = NULL;
        struct stat st;
        int fd;

        fd = find_vm_fd(proc_root, pid);
        if (fd < 0)
                return fd;
        k = calloc(1, sizeof(*k));
        if (!k || asprintf(&k->dir, "%s/kvm/%d-%d", debugfs ?: "/sys/kernel/debug", (int)pid, fd) < 0) {
                if (k)
                        k->dir = NULL;
                return -ENOMEM;
        }
        if (stat(k->dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return log_debug_errno(-ENODEV, "No KVM debugfs directory %s for pid %d.", k->dir, (int)pid);
        *ret = TAKE_PTR(k);
        return 0;
}

static int read_u64(const char *dir, const char *name, uint64_t *ret) {
        char path[600];

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return nv_read_uint64(path, ret);
}

int nv_kvm_stats_read(nv_kvm_stats *k, nv_kvm_counts *ret) {
        nv_kvm_counts c = {};
        bool any = false;
        int first_error = -ENODATA;

        for (unsigned i = 0; i < _NV_KVM_STAT_MAX; i++)
                for (unsigned j = 0; j < 2 && kernel_names[i][j]; j++) {
                        uint64_t v = 0;
                        int r = read_u64(k->dir, kernel_names[i][j], &v);

                        if (r == -ENOENT && access(k->dir, F_OK) < 0)
                                return -ESRCH; /* the VM is gone */
                        if (r < 0) {
                                if (first_error == -ENODATA && r != -ENOENT)
                                        first_error = r; /* -EPERM: debugfs is locked down */
                                continue;
                        }
                        c.available[i] = any = true;
                        c.value[i] = v;
                        c.delta[i] = v >= k->last[i] ? v - k->last[i] : 0;
                        k->last[i] = v;
                        break;
                }
        if (!any)
                return first_error;
        *ret = c;
        return 0;
}
