/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-VM collection step: the pure remote-pressure weight, then every source on a live
 * tests/fake-vmm (a real KVM VM fd, vCPU-named threads): perf counters, KVM statistics or why
 * not, numa_maps, the dirty rate or why not, and no fd left behind when the VM is forgotten. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/meters.h"
#include "tap.h"
#include "test-util.h"

static void test_pure(void) {
        nv_perf_counts pc = {};

        pc.delta[NV_PERF_NODE_LOADS] = 1000;
        pc.delta[NV_PERF_NODE_LOAD_MISSES] = 250;
        is_near(nv_meters_pressure(&pc), 0.25, 1e-9, "pressure: a quarter of node loads missed");
        pc.error[NV_PERF_NODE_LOAD_MISSES] = -ENOENT;
        is_near(nv_meters_pressure(&pc), 0, 0, "pressure: none without the PMU event");
        pc.error[NV_PERF_NODE_LOAD_MISSES] = 0;
        pc.delta[NV_PERF_NODE_LOADS] = 0;
        is_near(nv_meters_pressure(&pc), 0, 0, "pressure: none without loads (no division by zero)");
        pc.delta[NV_PERF_NODE_LOADS] = 10;
        pc.delta[NV_PERF_NODE_LOAD_MISSES] = 30; /* multiplexing scaled them apart */
        is_near(nv_meters_pressure(&pc), 1, 0, "pressure: at most 1");

        is_near(nv_meters_weight(1, 0), 1, 0, "weight: a local VM keeps its weight");
        is_near(nv_meters_weight(2, 0.5), 3, 1e-9, "weight: half its loads remote: 1.5x");
        is_near(nv_meters_weight(1, 7), 2, 0, "weight: at most twice");
        is_near(nv_meters_weight(1, NAN), 1, 0, "weight: NaN pressure is none");
}

/* Start fake-vmm with 64 MiB of RAM; its pid, 0 when KVM is not usable, -1 on failure. */
static pid_t spawn_fake_vmm(void) {
        char *argv[] = { NULL,        (char *)"-m", (char *)"64M", (char *)"-c",
                         (char *)"2", (char *)"-H", (char *)"8M",  NULL };

        return test_spawn_fake_vmm(argv);
}

/* The fake VMM's guest RAM: its mapping of exactly 64 MiB. */
static bool find_ram(pid_t pid, nv_ram_range *ret) {
        char path[64], line[512];
        bool found = false;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
        f = fopen(path, "re");
        while (f && !found && fgets(line, sizeof(line), f)) {
                unsigned long long a, b;

                if (sscanf(line, "%llx-%llx", &a, &b) == 2 && b - a == 64 * MIB) {
                        *ret = (nv_ram_range){ .hva = a, .size = b - a, .backing = NV_BACKING_ANON };
                        found = true;
                }
        }
        if (f)
                fclose(f);
        return found;
}

static json_object *get(json_object *o, const char *key) {
        json_object *v = NULL;

        return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* debugfs, mounted in a mount namespace of this test's own (gone when it exits), or NULL. */
static char debugfs[] = "/tmp/test-meters.XXXXXX";

static const char *mount_debugfs(void) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            !mkdtemp(debugfs))
                return NULL;
        if (mount("debugfs", debugfs, "debugfs", 0, NULL) < 0) {
                rmdir(debugfs);
                return NULL;
        }
        return debugfs;
}

static void test_live(void) {
        const struct timespec nap = { .tv_nsec = 50 * 1000 * 1000 };
        unsigned fds_before = test_count_fds(""), perf_before = test_count_fds("anon_inode:[perf_event]");
        int soft_dirty = nv_soft_dirty_supported();
        nv_meters_params p = { .dirty_interval = 1 * USEC_PER_SEC, .soft_dirty = soft_dirty };
        nv_meters *c = NULL;
        nv_ram_range ram;
        nv_vm_info vm = { .name = (char *)"fake", .ranges = &ram, .nr_ranges = 1 };
        nv_region regions[8];
        json_object *o, *counters, *unavailable, *v;
        pid_t pid;

        if (geteuid() != 0 || access("/dev/kvm", W_OK) < 0) {
                printf("ok %u - live: # SKIP needs root and /dev/kvm\n", ++tap_count);
                return;
        }
        p.debugfs = mount_debugfs();
        pid = spawn_fake_vmm();
        if (pid == 0) {
                printf("ok %u - live: # SKIP KVM is not usable here\n", ++tap_count);
                return;
        }
        if (!ok(pid > 0, "live: fake-vmm runs"))
                return;
        vm.pid = pid;
        if (!ok(find_ram(pid, &ram), "live: its 64 MiB of guest RAM found"))
                goto out;
        for (unsigned i = 0; i < 8; i++)
                regions[i] =
                        (nv_region){ .start = ram.hva + i * 8 * MIB, .end = ram.hva + (i + 1) * 8 * MIB };

        is_int(nv_meters_new(&p, &vm, &c), 0, "live: counters set up");
        /* Nothing collected yet: every source says so. */
        o = json_object_new_object();
        nv_meters_json(c, 1, o);
        unavailable = get(o, "countersUnavailable");
        is_str(json_object_get_string(get(unavailable, "taskClockNs")), "not read yet",
               "live: before the first epoch, nothing is read yet");
        json_object_put(o);

        is_int(nv_meters_collect(c, &vm, regions, 8, 1 * USEC_PER_SEC), 0, "live: epoch 1 collected");
        ok(test_count_fds("anon_inode:[perf_event]") > perf_before,
           "live: perf counters open on the vCPU threads");
        is_int(c->perf_counts.nr_threads, 2, "live: both vCPU threads followed");
        nanosleep(&nap, NULL);
        is_int(nv_meters_collect(c, &vm, regions, 8, 2 * USEC_PER_SEC), 0, "live: epoch 2 collected");

        o = json_object_new_object();
        nv_meters_json(c, 1, o);
        counters = get(o, "counters");
        unavailable = get(o, "countersUnavailable");
        printf("# %s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        for (unsigned e = 0; e <= NV_PERF_CONTEXT_SWITCHES; e++)
                ok(get(counters, nv_perf_event_to_string(e)), "live: software event %s counted",
                   nv_perf_event_to_string(e));
        ok(json_object_get_int64(get(counters, "taskClockNs")) > 0, "live: the vCPU threads ran");
        for (unsigned e = NV_PERF_CYCLES; e < _NV_PERF_MAX; e++)
                ok(!!get(counters, nv_perf_event_to_string(e)) !=
                           !!json_object_get_string(get(unavailable, nv_perf_event_to_string(e))),
                   "live: hardware event %s counted or said unavailable (%s)", nv_perf_event_to_string(e),
                   json_object_get_string(get(unavailable, nv_perf_event_to_string(e))) ?: "counted");
        if (p.debugfs && (c->kvm_error == -EPERM || c->kvm_error == -EACCES))
                printf("ok %u - live: # SKIP this kernel refuses reads of KVM's debugfs files\n",
                       ++tap_count);
        else if (p.debugfs)
                ok(get(counters, "kvmExits") && get(counters, "kvmHaltExits"),
                   "live: KVM statistics read from debugfs (%s)",
                   json_object_get_string(get(unavailable, "kvmExits")) ?: "counted");
        else
                ok(!!get(counters, "kvmExits") != !!get(unavailable, "kvmExits"),
                   "live: KVM exits counted or said unavailable (%s)",
                   json_object_get_string(get(unavailable, "kvmExits")) ?: "counted");
        v = get(o, "memoryPerNode");
        ok(v && json_object_array_length(v) == 1, "live: memory per node from numa_maps");
        ok(v && json_object_get_int64(json_object_array_get_idx(v, 0)) >= (int64_t)(8 * MIB),
           "live: at least the 8 MiB hot set is resident");
        if (soft_dirty == 1) {
                ok(get(o, "dirtyRate") && json_object_get_double(get(o, "dirtyRate")) > 0,
                   "live: the vCPU threads dirty their hot set");
                ok(!get(o, "dirtyRateUnavailable"), "live: the dirty rate is available");
        } else {
                ok(!get(o, "dirtyRate"), "live: no dirty rate without soft-dirty");
                is_str(json_object_get_string(get(o, "dirtyRateUnavailable")),
                       "no soft-dirty bits in this kernel (CONFIG_MEM_SOFT_DIRTY)", "live: and it says why");
        }
        json_object_put(o);
        is_int(test_count_fds("anon_inode:kvm-vm"), 0, "live: no duplicate of the VM fd is ever held");

        c = nv_meters_free(c);
        is_int(test_count_fds("anon_inode:[perf_event]"), perf_before,
               "live: every perf fd closed when forgotten");
        is_int(test_count_fds(""), fds_before, "live: no fd left behind");

        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        pid = 0;
        p.dirty_interval = 0;
        is_int(nv_meters_new(&p, &vm, &c), 0, "gone: counters of a VMM that exited");
        is_int(nv_meters_collect(c, &vm, regions, 8, 3 * USEC_PER_SEC), -ESRCH, "gone: collect says -ESRCH");
        o = json_object_new_object();
        nv_meters_json(c, 1, o);
        is_str(json_object_get_string(get(o, "dirtyRateUnavailable")), "turned off",
               "gone: DirtyRateInterval=0 turns the dirty rate off");
        json_object_put(o);
        c = nv_meters_free(c);
out:
        if (pid > 0) {
                kill(pid, SIGTERM);
                waitpid(pid, NULL, 0);
        }
        if (p.debugfs) {
                umount2(debugfs, MNT_DETACH);
                rmdir(debugfs);
        }
}

int main(void) {
        log_set_max_level(LOG_DEBUG);
        test_pure();
        test_live();
        return tap_done();
}
