/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/fileio.h"
#include "host/proc-vms.h"

#define KVM_VM_FD_LINK "anon_inode:kvm-vm"

/* What a scan remembers about a vCPU thread: its run time so far, for the next delta. */
typedef struct vcpu_state {
        pid_t tid;
        uint64_t run_ns;
} vcpu_state;

/* A VM seen by the last scan. (pid, starttime) names one process for good: a pid reused by a
 * later process has a later start time, and gets a new id. */
typedef struct tracked_vm {
        pid_t pid;
        uint64_t starttime;
        uint64_t id;
        vcpu_state *vcpus;
        size_t nr_vcpus;
} tracked_vm;

struct nv_proc_vms {
        char *proc_path; /* ROOT/proc */
        uint64_t next_id;
        tracked_vm *tracked;
        size_t nr_tracked;
};

static void tracked_free_all(tracked_vm *t, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(t[i].vcpus);
        free(t);
}

int nv_proc_vms_new(const char *root, nv_proc_vms **ret) {
        nv_proc_vms *s;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->proc_path = nv_root_path(root, "/proc");
        if (!s->proc_path) {
                free(s);
                return -ENOMEM;
        }
        s->next_id = 1;
        *ret = s;
        return 0;
}

nv_proc_vms *nv_proc_vms_free(nv_proc_vms *s) {
        if (!s)
                return NULL;
        tracked_free_all(s->tracked, s->nr_tracked);
        free(s->proc_path);
        free(s);
        return NULL;
}

/* The process (or thread) exited while we looked at it. */
static bool is_gone(int r) {
        return r == -ENOENT || r == -ESRCH;
}

/* 1 when the process holds a KVM VM fd, 0 when not, -errno when its fds cannot be listed. */
static int holds_kvm_vm_fd(int pid_fd) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = nv_opendir_at(pid_fd, "fd", &d);
        if (r < 0)
                return r;

        while ((de = readdir(d))) {
                char target[sizeof(KVM_VM_FD_LINK) + 1];
                ssize_t n;

                if (de->d_name[0] == '.')
                        continue;
                /* A closed fd disappears between readdir and readlink: not ours. */
                n = readlinkat(dirfd(d), de->d_name, target, sizeof(target));
                if (n == (ssize_t)strlen(KVM_VM_FD_LINK) && memcmp(target, KVM_VM_FD_LINK, (size_t)n) == 0)
                        return 1;
        }
        return 0;
}

static const tracked_vm *find_tracked(const nv_proc_vms *s, pid_t pid, uint64_t starttime) {
        for (size_t i = 0; i < s->nr_tracked; i++)
                if (s->tracked[i].pid == pid && s->tracked[i].starttime == starttime)
                        return &s->tracked[i];
        return NULL;
}

static uint64_t previous_run_ns(const tracked_vm *old, pid_t tid, bool *ret_found) {
        for (size_t i = 0; old && i < old->nr_vcpus; i++)
                if (old->vcpus[i].tid == tid) {
                        *ret_found = true;
                        return old->vcpus[i].run_ns;
                }
        *ret_found = false;
        return 0;
}

/* Run time of a thread in ns: schedstat's first field (exact); without CONFIG_SCHED_INFO,
 * utime + stime from stat (in clock ticks). */
static int thread_run_ns(int tid_fd, const nv_proc_stat *st, uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        long hz;
        int r;

        r = nv_read_file_at(tid_fd, "schedstat", &text, NULL);
        if (r >= 0) {
                char *end;

                errno = 0;
                *ret = strtoull(text, &end, 10);
                return errno == 0 && end != text ? 0 : -EINVAL;
        }
        if (r != -ENOENT)
                return r;

        hz = sysconf(_SC_CLK_TCK);
        if (hz <= 0)
                return -EINVAL;
        *ret = (st->utime + st->stime) * (UINT64_C(1000000000) / (uint64_t)hz);
        return 0;
}

/* One thread: 1 and *ret_state when it is a vCPU (its run time delta added to vm->vcpu_time), 0
 * when not or gone, -ENOMEM. */
static int scan_thread(int task_fd, const char *name, const tracked_vm *old, const nv_topology *topo,
                       const nv_proc_vm_hint *hint, nv_vm_info *vm, vcpu_state *ret_state) {
        _cleanup_close_ int tid_fd = -EBADF;
        _cleanup_free_ char *comm = NULL, *stat_text = NULL;
        nv_proc_stat st;
        unsigned index;
        uint64_t run_ns, prev;
        bool found;
        pid_t tid;
        int r, node;

        if (nv_parse_pid(name, &tid) < 0)
                return 0;
        tid_fd = openat(task_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tid_fd < 0)
                return 0;

        r = nv_read_file_at(tid_fd, "comm", &comm, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || nv_vcpu_comm_parse(comm, &index) < 0)
                return 0;

        r = nv_read_file_at(tid_fd, "stat", &stat_text, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || nv_proc_stat_parse(stat_text, &st) < 0)
                return 0;
        r = thread_run_ns(tid_fd, &st, &run_ns);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;

        /* First sight of the thread: all its run time so far. A tid reused by a new thread
         * shows less run time than before: count the new thread's from its start. */
        prev = previous_run_ns(old, tid, &found);
        if (!found || run_ns < prev)
                prev = 0;

        node = topo ? nv_topology_cpu_node(topo, st.processor) : -ENOENT;
        if (node >= 0 && node < NV_MAX_NODES) {
                vm->vcpu_time.sec[node] += (double)(run_ns - prev) / 1e9;
                if (vm->cell_time && hint->vcpu_cell && index < hint->nr_vcpu_cell &&
                    hint->vcpu_cell[index] >= 0 && (unsigned)hint->vcpu_cell[index] < vm->nr_cells)
                        vm->cell_time[hint->vcpu_cell[index]].sec[node] += (double)(run_ns - prev) / 1e9;
        }

        *ret_state = (vcpu_state){ .tid = tid, .run_ns = run_ns };
        return 1;
}

static int scan_vcpus(int pid_fd, const tracked_vm *old, const nv_topology *topo,
                      const nv_proc_vm_hint *hint, nv_vm_info *vm, tracked_vm *t) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = nv_opendir_at(pid_fd, "task", &d);
        if (r < 0)
                return r;

        while ((de = readdir(d))) {
                vcpu_state state;

                if (t->nr_vcpus >= NV_PROC_VMS_MAX_VCPUS) {
                        log_warning("VM process %d has more than %u vCPUs, ignoring the others.", vm->pid,
                                    NV_PROC_VMS_MAX_VCPUS);
                        break;
                }
                r = scan_thread(dirfd(d), de->d_name, old, topo, hint, vm, &state);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;

                vcpu_state *p = realloc(t->vcpus, (t->nr_vcpus + 1) * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                t->vcpus = p;
                t->vcpus[t->nr_vcpus++] = state;
        }
        vm->nr_vcpus = (unsigned)t->nr_vcpus;
        return 0;
}

/* Guest RAM from smaps. With pinned memory in the process, every range becomes
 * NV_BACKING_PINNED: VFIO pins all guest RAM it maps for device DMA, whatever its backing, and
 * from user space we cannot tell which ranges it pinned, so we move none of them. The
 * guest-physical layout is unknown without the kernel module: ranges are laid out from gpa 0 in
 * address order, consecutively; cell is -1 (no vNUMA knowledge here). */
static int scan_ram(int pid_fd, nv_vm_info *vm) {
        _cleanup_free_ char *smaps = NULL, *status = NULL;
        _cleanup_free_ nv_ram_range *ranges = NULL;
        size_t n;
        uint64_t mlocked, gpa = 0;
        bool pinned;
        int r;

        r = nv_read_file_at(pid_fd, "smaps", &smaps, NULL);
        if (r < 0)
                return r;
        r = nv_smaps_parse(smaps, &ranges, &n, &mlocked);
        if (r < 0)
                return r;
        r = nv_read_file_at(pid_fd, "status", &status, NULL);
        if (r < 0)
                return r;
        pinned = nv_status_says_pinned(status, mlocked);

        for (size_t i = 0; i < n; i++) {
                if (pinned)
                        ranges[i].backing = NV_BACKING_PINNED;
                ranges[i].gpa = gpa;
                gpa += ranges[i].size;
        }
        vm->ranges = TAKE_PTR(ranges);
        vm->nr_ranges = n;
        return 0;
}

static int scan_identity(int pid_fd, pid_t pid, const nv_proc_stat *st, nv_vm_info *vm) {
        _cleanup_free_ char *cmdline = NULL;
        size_t size;
        int r;

        r = nv_read_file_at(pid_fd, "cmdline", &cmdline, &size);
        if (r < 0)
                return r;
        r = nv_qemu_cmdline_parse(cmdline, size, &vm->name, vm->uuid);
        if (r < 0)
                return r;
        if (!vm->name && asprintf(&vm->name, "%s-%d", st->comm, (int)pid) < 0) {
                vm->name = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* 1 with *ret_vm and *ret_tracked filled when the process is a VM; 0 when it is not, exited, or
 * may not be inspected; -errno on other failures. */
static int scan_process(const nv_proc_vms *s, const nv_topology *topo, const nv_proc_vm_hint *hint,
                        int proc_fd, const char *name, pid_t pid, uint64_t *next_id, nv_vm_info *ret_vm,
                        tracked_vm *ret_tracked) {
        _cleanup_(nv_vm_info_clear) nv_vm_info vm = { .pid = pid };
        tracked_vm t = { .pid = pid };
        _cleanup_free_ char *stat_text = NULL;
        _cleanup_close_ int pid_fd = -EBADF;
        const tracked_vm *old;
        nv_proc_stat st;
        int r;

        pid_fd = openat(proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pid_fd < 0)
                return is_gone(-errno) ? 0 : -errno;

        r = hint ? 1 : holds_kvm_vm_fd(pid_fd);
        if (r == -EACCES || r == -EPERM) {
                log_debug_errno(r, "Cannot list the fds of process %d, ignoring: %m", (int)pid);
                return 0;
        }
        if (r <= 0)
                return is_gone(r) ? 0 : r;

        r = nv_read_file_at(pid_fd, "stat", &stat_text, NULL);
        if (r >= 0)
                r = nv_proc_stat_parse(stat_text, &st);
        if (r >= 0)
                r = scan_identity(pid_fd, pid, &st, &vm);
        old = r >= 0 ? find_tracked(s, pid, st.starttime) : NULL;
        if (r >= 0 && hint && hint->nr_cells > 0) {
                vm.cell_time = calloc(hint->nr_cells, sizeof(*vm.cell_time));
                vm.nr_cells = vm.cell_time ? hint->nr_cells : 0;
                if (!vm.cell_time)
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = scan_vcpus(pid_fd, old, topo, hint, &vm, &t);
        if (r >= 0)
                r = scan_ram(pid_fd, &vm);
        if (r < 0) {
                free(t.vcpus);
                if (is_gone(r)) {
                        log_debug("VM process %d exited during the scan, ignoring.", (int)pid);
                        return 0;
                }
                return r;
        }

        t.starttime = st.starttime;
        t.id = old ? old->id : (*next_id)++;
        vm.id = t.id;
        *ret_vm = vm;
        vm = (nv_vm_info){};
        *ret_tracked = t;
        return 1;
}

typedef struct scan_result {
        nv_vm_info *vms;
        tracked_vm *tracked;
        size_t n;
} scan_result;

static void scan_result_done(scan_result *res) {
        for (size_t i = 0; i < res->n; i++)
                nv_vm_info_clear(&res->vms[i]);
        free(res->vms);
        tracked_free_all(res->tracked, res->n);
        *res = (scan_result){};
}

static int scan_result_add(scan_result *res, nv_vm_info *vm, tracked_vm *t) {
        nv_vm_info *v = realloc(res->vms, (res->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        res->vms = v;
        tracked_vm *p = realloc(res->tracked, (res->n + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        res->tracked = p;
        res->vms[res->n] = *vm;
        res->tracked[res->n] = *t;
        res->n++;
        return 0;
}

static const nv_proc_vm_hint *find_hint(const nv_proc_vm_hint *hints, size_t n, pid_t pid) {
        for (size_t i = 0; i < n; i++)
                if (hints[i].pid == pid)
                        return &hints[i];
        return NULL;
}

int nv_proc_vms_scan(nv_proc_vms *s, const nv_topology *topo, nv_inventory *inv) {
        return nv_proc_vms_scan_hinted(s, topo, NULL, 0, true, inv);
}

int nv_proc_vms_scan_hinted(nv_proc_vms *s, const nv_topology *topo, const nv_proc_vm_hint *hints,
                            size_t n_hints, bool find_kvm, nv_inventory *inv) {
        _cleanup_(scan_result_done) scan_result res = {};
        _cleanup_closedir_ DIR *d = NULL;
        uint64_t next_id = s->next_id;
        struct dirent *de;
        int r;

        r = nv_opendir_at(AT_FDCWD, s->proc_path, &d);
        if (r < 0)
                return log_error_errno(r, "Failed to open %s: %m", s->proc_path);

        for (;;) {
                const nv_proc_vm_hint *hint;
                nv_vm_info vm;
                tracked_vm t;
                pid_t pid;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return log_error_errno(-errno, "Failed to read %s: %m", s->proc_path);
                        break;
                }
                if (nv_parse_pid(de->d_name, &pid) < 0)
                        continue;
                hint = find_hint(hints, n_hints, pid);
                if (!hint && !find_kvm)
                        continue;

                r = scan_process(s, topo, hint, dirfd(d), de->d_name, pid, &next_id, &vm, &t);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0) {
                        log_warning_errno(r, "Failed to inspect VM process %d, ignoring: %m", (int)pid);
                        continue;
                }
                if (r == 0)
                        continue;
                r = scan_result_add(&res, &vm, &t);
                if (r < 0) {
                        nv_vm_info_clear(&vm);
                        free(t.vcpus);
                        return log_oom();
                }
        }

        /* Commit: VMs not seen this time are forgotten with their vCPU history. */
        tracked_free_all(s->tracked, s->nr_tracked);
        s->tracked = TAKE_PTR(res.tracked);
        s->nr_tracked = res.n;
        s->next_id = next_id;
        inv->vms = TAKE_PTR(res.vms);
        inv->nr_vms = res.n;
        res.n = 0;
        return 0;
}
