/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The KSM actuator against a fixture sysfs/proc tree in a temporary directory: lazy save, state
 * file, restore on exit, restore after a crash, another live numavd, per-VMM ksm_stat, ksmd CPU. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "migrate/ksm-sysfs.h"
#include "tap.h"

static char root[] = "/tmp/test-ksm-sysfs.XXXXXX";

static void put(const char *rel, const char *text) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "we");
        if (!f) {
                perror(path);
                exit(2);
        }
        fputs(text, f);
        fclose(f);
}

static char *get(const char *rel, char *buf, size_t size) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        buf[0] = 0;
        f = fopen(path, "re");
        if (!f)
                return NULL;
        if (!fgets(buf, (int)size, f))
                buf[0] = 0;
        fclose(f);
        buf[strcspn(buf, "\n")] = 0;
        return buf;
}

static bool exists(const char *rel) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        return access(path, F_OK) == 0;
}

static void mk(const char *rel) {
        char path[512];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        if (mkdir(path, 0755) < 0) {
                perror(path);
                exit(2);
        }
}

#define KSM "sys/kernel/mm/ksm/"

static void reset_knobs(void) {
        put(KSM "run", "0\n");
        put(KSM "pages_to_scan", "100\n");
        put(KSM "sleep_millisecs", "20\n");
        put(KSM "merge_across_nodes", "1\n");
        put(KSM "pages_shared", "0\n");
        put(KSM "pages_sharing", "0\n");
        put(KSM "full_scans", "7\n");
        put(KSM "general_profit", "-4096\n");
}

static bool knobs_are(const char *run, const char *pts, const char *sleep, const char *man) {
        char a[32], b[32], c[32], d[32];
        return strcmp(get(KSM "run", a, sizeof(a)), run) == 0 &&
               strcmp(get(KSM "pages_to_scan", b, sizeof(b)), pts) == 0 &&
               strcmp(get(KSM "sleep_millisecs", c, sizeof(c)), sleep) == 0 &&
               strcmp(get(KSM "merge_across_nodes", d, sizeof(d)), man) == 0;
}

static void cleanup(void) {
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
                fprintf(stderr, "cannot remove %s\n", root);
}

int main(void) {
        nv_ksm_sysfs *k = NULL;
        nv_ksm_state st;
        nv_ksm_knobs kn = {
                .run = 1, .merge_across_nodes = 0, .pages_to_scan = 1250, .sleep_millisecs = 10
        };
        nv_ksm_vm_stat vs;
        char buf[256];
        uint64_t cpu;
        int r;

        log_set_max_level(LOG_ERR);
        if (!mkdtemp(root))
                return tap_skip_all("cannot create a temporary directory");
        atexit(cleanup);

        r = nv_ksm_sysfs_new(root, NULL, &k);
        is_int(r, -ENOENT, "no /sys/kernel/mm/ksm: -ENOENT");

        mk("sys");
        mk("sys/kernel");
        mk("sys/kernel/mm");
        mk("sys/kernel/mm/ksm");
        mk("run");
        mk("proc");
        reset_knobs();

        r = nv_ksm_sysfs_new(root, NULL, &k);
        is_int(r, 0, "KSM found");
        ok(!exists("run/numavd/ksm.state"), "nothing saved before the first write");
        r = nv_ksm_sysfs_read(k, &st);
        ok(r == 0 && st.run == 0 && st.pages_to_scan == 100 && st.sleep_millisecs == 20 &&
                   st.merge_across_nodes == 1 && st.full_scans == 7 && st.general_profit == -4096,
           "read: knobs and counters");

        r = nv_ksm_sysfs_write(k, &st, &kn);
        is_int(r, 0, "write");
        ok(knobs_are("1", "1250", "10", "0"),
           "write: run=1 pages_to_scan=1250 sleep=10 merge_across_nodes=0");
        ok(exists("run/numavd/ksm.state"), "the first write saved the state file");
        get("run/numavd/ksm.state", buf, sizeof(buf));
        char want[32];
        snprintf(want, sizeof(want), "pid=%d", (int)getpid());
        is_str(buf, want, "the state file names its owner");

        nv_ksm_knobs partial = {
                .run = 0, .merge_across_nodes = -1, .pages_to_scan = -1, .sleep_millisecs = -1
        };
        (void)nv_ksm_sysfs_read(k, &st);
        r = nv_ksm_sysfs_write(k, &st, &partial);
        ok(r == 0 && knobs_are("0", "1250", "10", "0"), "negative knobs are left alone");

        r = nv_ksm_sysfs_restore(k);
        is_int(r, 0, "restore");
        ok(knobs_are("0", "100", "20", "1"), "restore: every knob as found at start");
        ok(!exists("run/numavd/ksm.state"), "restore: the state file is removed");
        r = nv_ksm_sysfs_write(k, &st, &kn);
        ok(r == -ESTALE && knobs_are("0", "100", "20", "1"), "no write after the restore");
        k = nv_ksm_sysfs_free(k);
        ok(knobs_are("0", "100", "20", "1"), "free after restore changes nothing");

        /* A crash: a child changes the knobs and dies without restoring them. */
        pid_t child = fork();
        if (child == 0) {
                if (nv_ksm_sysfs_new(root, NULL, &k) < 0 || nv_ksm_sysfs_read(k, &st) < 0 ||
                    nv_ksm_sysfs_write(k, &st, &kn) < 0)
                        _exit(1);
                _exit(0);
        }
        int status = -1;
        ok(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "crash: a child changed the knobs and exited without restoring");
        ok(knobs_are("1", "1250", "10", "0") && exists("run/numavd/ksm.state"),
           "crash: knobs left changed, the state file left behind");
        r = nv_ksm_sysfs_new(root, NULL, &k);
        is_int(r, 0, "start after a crash");
        ok(knobs_are("0", "100", "20", "1"), "start after a crash: the saved settings are restored");
        ok(!exists("run/numavd/ksm.state"), "start after a crash: the stale state file is removed");
        k = nv_ksm_sysfs_free(k);

        /* Another numavd that is alive owns KSM. */
        snprintf(buf, sizeof(buf), "pid=%d\nrun=1\npages_to_scan=999\n", (int)getppid());
        put("run/numavd/ksm.state", buf);
        r = nv_ksm_sysfs_new(root, NULL, &k);
        ok(r == -EBUSY && k == NULL, "a live owner: -EBUSY");
        ok(knobs_are("0", "100", "20", "1") && exists("run/numavd/ksm.state"),
           "a live owner: its state file and the knobs untouched");

        /* A garbled state file is ignored, nothing changes. */
        put("run/numavd/ksm.state", "garbage\n");
        r = nv_ksm_sysfs_new(root, NULL, &k);
        ok(r == 0 && knobs_are("0", "100", "20", "1"), "garbled state file: ignored");
        k = nv_ksm_sysfs_free(k);
        unlink(strcat(strcpy(buf, root), "/run/numavd/ksm.state"));

        /* merge_across_nodes while pages are merged: unmerge first (the fixture cannot refuse). */
        put(KSM "pages_shared", "5\n");
        r = nv_ksm_sysfs_new(root, NULL, &k);
        (void)nv_ksm_sysfs_read(k, &st);
        kn.unmerge_first = true;
        r = nv_ksm_sysfs_write(k, &st, &kn);
        ok(r == 0 && knobs_are("1", "1250", "10", "0"), "merge_across_nodes changed with unmerge first");
        k = nv_ksm_sysfs_free(k);
        ok(knobs_are("0", "100", "20", "1"), "free restores");

        /* Per-VMM statistics and ksmd's CPU time. */
        mk("proc/4242");
        put("proc/4242/ksm_stat", "ksm_rmap_items 300\nksm_zero_pages 0\nksm_merging_pages 1234\n"
                                  "ksm_process_profit 4000000\nksm_merge_any no\nksm_mergeable yes\n");
        r = nv_ksm_vm_stat_read(root, 4242, &vs);
        ok(r == 0 && vs.merging_pages == 1234 && vs.rmap_items == 300 && vs.profit == 4000000,
           "ksm_stat: merging pages, rmap items, profit");
        r = nv_ksm_vm_stat_read(root, 4243, &vs);
        ok(r < 0, "ksm_stat of a process that is gone: an error");
        mk("proc/77");
        put("proc/77/comm", "ksmd\n");
        put("proc/77/stat", "77 (ksmd) S 2 0 0 0 -1 2129984 0 0 0 0 150 50 0 0 25 5 1 0 30 0 0\n");
        r = nv_ksm_sysfs_new(root, NULL, &k);
        r = nv_ksm_sysfs_ksmd_cpu(k, &cpu);
        ok(r == 0 && cpu == 200 * USEC_PER_SEC / (uint64_t)sysconf(_SC_CLK_TCK),
           "ksmd CPU: utime + stime (%" PRIu64 " us)", cpu);
        k = nv_ksm_sysfs_free(k);

        return tap_done();
}
