/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "migrate/ksm-sysfs.h"

#define KSM_DIR "/sys/kernel/mm/ksm"

static void fclosep_(FILE **f) {
        if (*f)
                fclose(*f);
}

/* The knobs numavd writes, in the order they are restored (run last). */
enum {
        KNOB_MERGE_ACROSS_NODES,
        KNOB_PAGES_TO_SCAN,
        KNOB_SLEEP_MILLISECS,
        KNOB_RUN,
        _KNOB_MAX
};
static const char *const knob_names[_KNOB_MAX] = {
        [KNOB_MERGE_ACROSS_NODES] = "merge_across_nodes",
        [KNOB_PAGES_TO_SCAN] = "pages_to_scan",
        [KNOB_SLEEP_MILLISECS] = "sleep_millisecs",
        [KNOB_RUN] = "run",
};

struct nv_ksm_sysfs {
        char *root; /* "" for / */
        char *ksm_dir;
        char *state_dir;
        char *state_file;
        int64_t saved[_KNOB_MAX]; /* -1: the kernel lacks the knob */
        bool saved_valid;
        bool restored;
        pid_t ksmd_pid; /* 0: not looked up yet, -1: none */
};

static int knob_path(const nv_ksm_sysfs *k, const char *name, char **ret) {
        return asprintf(ret, "%s/%s", k->ksm_dir, name) < 0 ? -ENOMEM : 0;
}

static int64_t read_knob(const nv_ksm_sysfs *k, const char *name, int64_t missing) {
        _cleanup_free_ char *p = NULL;
        int64_t v = missing;

        if (knob_path(k, name, &p) < 0 || nv_read_int64(p, &v) < 0)
                return missing;
        return v;
}

static int write_knob(const nv_ksm_sysfs *k, const char *name, int64_t v) {
        _cleanup_free_ char *p = NULL;
        int r;

        if (knob_path(k, name, &p) < 0)
                return -ENOMEM;
        r = nv_write_int64(p, v);
        if (r < 0)
                return log_warning_errno(r, "Cannot write %" PRId64 " to %s: %m", v, p);
        log_debug("KSM: %s=%" PRId64, name, v);
        return 0;
}

/* Write the knobs in vals (negative: skip) in restore order, unmerging first when
 * merge_across_nodes must change while pages are merged. */
static int write_knobs(nv_ksm_sysfs *k, const int64_t vals[_KNOB_MAX], bool unmerge) {
        int r = 0, q;

        if (vals[KNOB_MERGE_ACROSS_NODES] >= 0 &&
            read_knob(k, "merge_across_nodes", -1) != vals[KNOB_MERGE_ACROSS_NODES]) {
                if (unmerge || read_knob(k, "pages_shared", 0) > 0) {
                        q = write_knob(k, "run", 2);
                        if (q < 0 && r == 0)
                                r = q;
                }
                q = write_knob(k, "merge_across_nodes", vals[KNOB_MERGE_ACROSS_NODES]);
                if (q < 0 && r == 0)
                        r = q;
        }
        for (int i = KNOB_PAGES_TO_SCAN; i < _KNOB_MAX; i++) {
                if (vals[i] < 0 || read_knob(k, knob_names[i], -1) == vals[i])
                        continue;
                q = write_knob(k, knob_names[i], vals[i]);
                if (q < 0 && r == 0)
                        r = q;
        }
        return r;
}

static int load_state_file(const char *path, int64_t vals[_KNOB_MAX], pid_t *ret_pid) {
        _cleanup_(fclosep_) FILE *f = NULL;
        char line[128];
        bool any = false;

        for (int i = 0; i < _KNOB_MAX; i++)
                vals[i] = -1;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char *eq = strchr(line, '=');
                if (!eq)
                        continue;
                *eq = 0;
                if (strcmp(line, "pid") == 0)
                        *ret_pid = (pid_t)atoi(eq + 1);
                for (int i = 0; i < _KNOB_MAX; i++)
                        if (strcmp(line, knob_names[i]) == 0) {
                                char *end;
                                long long v = strtoll(eq + 1, &end, 10);
                                if (end != eq + 1 && v >= 0) {
                                        vals[i] = v;
                                        any = true;
                                }
                        }
        }
        return any ? 0 : -EBADMSG;
}

static int save_state_file(const nv_ksm_sysfs *k) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        char buf[256];
        int len = 0, r;

        if (mkdir(k->state_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (asprintf(&tmp, "%s.tmp", k->state_file) < 0)
                return -ENOMEM;
        len = snprintf(buf, sizeof(buf), "pid=%d\n", (int)getpid());
        for (int i = 0; i < _KNOB_MAX; i++)
                if (k->saved[i] >= 0)
                        len += snprintf(buf + len, sizeof(buf) - (size_t)len, "%s=%" PRId64 "\n",
                                        knob_names[i], k->saved[i]);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, buf, (size_t)len) != len || fsync(fd) < 0) {
                r = errno > 0 ? -errno : -EIO;
                (void)unlink(tmp);
                return r;
        }
        if (rename(tmp, k->state_file) < 0) {
                r = -errno;
                (void)unlink(tmp);
                return r;
        }
        return 0;
}

int nv_ksm_sysfs_new(const char *root, const char *state_dir, nv_ksm_sysfs **ret) {
        _cleanup_(nv_ksm_sysfs_freep) nv_ksm_sysfs *k = NULL;
        int64_t left[_KNOB_MAX];
        pid_t owner = 0;
        struct stat st;
        int r;

        if (!root || strcmp(root, "/") == 0)
                root = "";
        k = calloc(1, sizeof(*k));
        if (!k)
                return -ENOMEM;
        k->root = strdup(root);
        if (!k->root || asprintf(&k->ksm_dir, "%s" KSM_DIR, root) < 0)
                return -ENOMEM;
        if (state_dir)
                k->state_dir = strdup(state_dir);
        else if (asprintf(&k->state_dir, "%s/run/numavd", root) < 0)
                k->state_dir = NULL;
        if (!k->state_dir || asprintf(&k->state_file, "%s/" NV_KSM_STATE_FILE, k->state_dir) < 0)
                return -ENOMEM;
        if (stat(k->ksm_dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return -ENOENT;

        /* A state file: another numavd manages KSM (leave it alone), or one that did not stop
         * cleanly saved the host's own settings there (put them back). */
        r = load_state_file(k->state_file, left, &owner);
        if (r >= 0 && owner > 0 && owner != getpid() && (kill(owner, 0) >= 0 || errno == EPERM))
                return log_warning_errno(-EBUSY,
                                         "KSM is managed by numavd process %d (%s); leaving it alone.",
                                         (int)owner, k->state_file);
        if (r >= 0) {
                log_notice("Found %s from a previous run, restoring the KSM settings it saved.",
                           k->state_file);
                r = write_knobs(k, left, false);
                if (r < 0)
                        return log_error_errno(r, "Cannot restore the KSM settings saved in %s: %m",
                                               k->state_file);
                (void)unlink(k->state_file);
        } else if (r != -ENOENT)
                log_warning_errno(r, "Ignoring unreadable %s: %m", k->state_file);

        *ret = TAKE_PTR(k);
        return 0;
}

/* Before the first write: remember the settings the host has, in memory and in the state file. */
static int ensure_saved(nv_ksm_sysfs *k) {
        int r;

        if (k->saved_valid)
                return 0;
        for (int i = 0; i < _KNOB_MAX; i++)
                k->saved[i] = read_knob(k, knob_names[i], -1);
        if (k->saved[KNOB_RUN] < 0)
                return log_error_errno(-ENOENT, "Cannot read %s/run.", k->ksm_dir);
        r = save_state_file(k);
        if (r < 0)
                return log_error_errno(r, "Cannot save the KSM settings to %s, not changing them: %m",
                                       k->state_file);
        k->saved_valid = true;
        log_info("Saved the KSM settings (run=%" PRId64 " pages_to_scan=%" PRId64 " sleep_millisecs=%" PRId64
                 " merge_across_nodes=%" PRId64 ") to %s.",
                 k->saved[KNOB_RUN], k->saved[KNOB_PAGES_TO_SCAN], k->saved[KNOB_SLEEP_MILLISECS],
                 k->saved[KNOB_MERGE_ACROSS_NODES], k->state_file);
        return 0;
}

int nv_ksm_sysfs_restore(nv_ksm_sysfs *k) {
        int r;

        if (!k->saved_valid)
                return 0;
        r = write_knobs(k, k->saved, false);
        if (r < 0)
                return log_error_errno(r, "Cannot restore every KSM setting; %s is kept for the next start.",
                                       k->state_file);
        (void)unlink(k->state_file);
        k->saved_valid = false;
        k->restored = true;
        log_info("KSM settings restored.");
        return 0;
}

nv_ksm_sysfs *nv_ksm_sysfs_free(nv_ksm_sysfs *k) {
        if (!k)
                return NULL;
        (void)nv_ksm_sysfs_restore(k);
        free(k->root);
        free(k->ksm_dir);
        free(k->state_dir);
        free(k->state_file);
        free(k);
        return NULL;
}

int nv_ksm_sysfs_read(nv_ksm_sysfs *k, nv_ksm_state *ret) {
        int64_t run = read_knob(k, "run", -1);

        if (run < 0)
                return -ENOENT;
        *ret = (nv_ksm_state){
                .run = (int)run,
                .pages_to_scan = read_knob(k, "pages_to_scan", -1),
                .sleep_millisecs = read_knob(k, "sleep_millisecs", -1),
                .merge_across_nodes = (int)read_knob(k, "merge_across_nodes", -1),
                .pages_shared = read_knob(k, "pages_shared", -1),
                .pages_sharing = read_knob(k, "pages_sharing", -1),
                .pages_unshared = read_knob(k, "pages_unshared", -1),
                .pages_volatile = read_knob(k, "pages_volatile", -1),
                .full_scans = read_knob(k, "full_scans", -1),
                .general_profit = read_knob(k, "general_profit", INT64_MIN),
        };
        return 0;
}

int nv_ksm_sysfs_write(nv_ksm_sysfs *k, const nv_ksm_state *cur, const nv_ksm_knobs *kn) {
        int64_t vals[_KNOB_MAX] = {
                [KNOB_MERGE_ACROSS_NODES] = cur->merge_across_nodes >= 0 ? kn->merge_across_nodes : -1,
                [KNOB_PAGES_TO_SCAN] = kn->pages_to_scan,
                [KNOB_SLEEP_MILLISECS] = kn->sleep_millisecs,
                [KNOB_RUN] = kn->run,
        };

        int r;

        if (k->restored)
                return -ESTALE; /* restored already: change nothing more */
        r = ensure_saved(k);
        if (r < 0)
                return r;
        return write_knobs(k, vals, kn->unmerge_first);
}

int nv_ksm_vm_stat_read(const char *root, pid_t pid, nv_ksm_vm_stat *ret) {
        _cleanup_free_ char *path = NULL;
        _cleanup_(fclosep_) FILE *f = NULL;
        nv_ksm_vm_stat st = { .merging_pages = -1, .rmap_items = -1, .profit = INT64_MIN };
        char key[64];
        long long v;

        if (asprintf(&path, "%s/proc/%d/ksm_stat", root && strcmp(root, "/") ? root : "", (int)pid) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fscanf(f, "%63s %lld", key, &v) == 2) {
                if (strcmp(key, "ksm_merging_pages") == 0)
                        st.merging_pages = v;
                else if (strcmp(key, "ksm_rmap_items") == 0)
                        st.rmap_items = v;
                else if (strcmp(key, "ksm_process_profit") == 0)
                        st.profit = v;
        }
        if (st.merging_pages < 0)
                return -ENOENT;
        *ret = st;
        return 0;
}

static pid_t find_ksmd(const char *root) {
        _cleanup_free_ char *proc = NULL;
        DIR *d;
        struct dirent *de;
        pid_t found = -1;

        if (asprintf(&proc, "%s/proc", root) < 0)
                return -1;
        d = opendir(proc);
        if (!d)
                return -1;
        while (found < 0 && (de = readdir(d))) {
                _cleanup_free_ char *p = NULL;
                char comm[32] = "";
                FILE *f;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                if (asprintf(&p, "%s/%s/comm", proc, de->d_name) < 0)
                        break;
                f = fopen(p, "re");
                if (!f)
                        continue;
                if (fgets(comm, sizeof(comm), f) && strcmp(comm, "ksmd\n") == 0)
                        found = (pid_t)atoi(de->d_name);
                fclose(f);
        }
        closedir(d);
        return found;
}

int nv_ksm_sysfs_ksmd_cpu(nv_ksm_sysfs *k, uint64_t *ret_usec) {
        _cleanup_free_ char *path = NULL;
        _cleanup_(fclosep_) FILE *f = NULL;
        unsigned long long utime, stime;
        char buf[1024], *p;
        long hz = sysconf(_SC_CLK_TCK);

        if (k->ksmd_pid == 0)
                k->ksmd_pid = find_ksmd(k->root);
        if (k->ksmd_pid < 0)
                return -ESRCH;
        if (asprintf(&path, "%s/proc/%d/stat", k->root, (int)k->ksmd_pid) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f || !fgets(buf, sizeof(buf), f))
                return -ESRCH;
        /* Fields after the ")" that ends comm: state is field 3; utime and stime are 14 and 15. */
        p = strrchr(buf, ')');
        if (!p ||
            sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
                return -EBADMSG;
        *ret_usec = (utime + stime) * USEC_PER_SEC / (uint64_t)(hz > 0 ? hz : 100);
        return 0;
}

static int ops_read(void *ctx, nv_ksm_state *ret) {
        return nv_ksm_sysfs_read(ctx, ret);
}

static int ops_write(void *ctx, const nv_ksm_state *cur, const nv_ksm_knobs *knobs) {
        return nv_ksm_sysfs_write(ctx, cur, knobs);
}

static int ops_vm_stat(void *ctx, const nv_vm_info *vm, nv_ksm_vm_stat *ret) {
        nv_ksm_sysfs *k = ctx;
        return nv_ksm_vm_stat_read(k->root, vm->pid, ret);
}

static void ops_destroy(void *ctx) {
        nv_ksm_sysfs_free(ctx);
}

static int ops_ksmd_cpu(void *ctx, uint64_t *ret_usec) {
        return nv_ksm_sysfs_ksmd_cpu(ctx, ret_usec);
}

const nv_ksm_ops nv_ksm_sysfs_ops = {
        .read = ops_read,
        .write = ops_write,
        .vm_stat = ops_vm_stat,
        .ksmd_cpu = ops_ksmd_cpu,
        .destroy = ops_destroy,
};
