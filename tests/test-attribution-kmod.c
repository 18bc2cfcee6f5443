/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kmod attribution sampler where the module cannot load (this machine): the CPU-to-node map
 * from a fixture sysfs tree, the guest-physical to VMM address translation through memory slots,
 * and a clean, untouched failure when /dev/numavd_ept is absent or is not the module. ZAP and
 * DRAIN themselves are tested in the lab (tests/lab/t-kmod-attrib.sh, t-kmod-fuzz.sh). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "sampler/attribution-kmod.h"
#include "tap.h"

static void put(const char *dir, const char *rel, const char *text) {
        char path[PATH_MAX], cmd[PATH_MAX + 32];
        FILE *f;

        (void)snprintf(path, sizeof(path), "%s/%s", dir, rel);
        (void)snprintf(cmd, sizeof(cmd), "mkdir -p $(dirname %s)", path);
        if (system(cmd) != 0)
                return;
        f = fopen(path, "we");
        if (f) {
                fputs(text, f);
                fclose(f);
        }
}

static void test_cpu_nodes(void) {
        char dir[] = "/tmp/test-attribution-kmod.XXXXXX", cmd[PATH_MAX + 16];
        int *map = (int *)1;
        unsigned n = 7;
        int r;

        if (!ok(mkdtemp(dir), "make a fixture root"))
                return;
        r = nv_cpu_nodes_load(dir, &map, &n);
        ok(r == 0 && n == 0 && !map, "without NUMA in sysfs no CPU has a node (%d, %u)", r, n);

        put(dir, "sys/devices/system/node/node0/cpulist", "0-1\n");
        put(dir, "sys/devices/system/node/node1/cpulist", "2-3,8\n");
        put(dir, "sys/devices/system/node/node2/meminfo", "Node 2 MemTotal: 1 kB\n"); /* memory only */
        put(dir, "sys/devices/system/node/possible", "0-2\n");
        r = nv_cpu_nodes_load(dir, &map, &n);
        if (ok(r == 0 && n == 9, "two nodes with CPUs, a CPU-less one: a map of 9 CPUs (%d, %u)", r, n)) {
                ok(map[0] == 0 && map[1] == 0 && map[2] == 1 && map[3] == 1 && map[8] == 1,
                   "each CPU has its node");
                ok(map[4] == -1 && map[7] == -1, "CPUs of no node have -1");
                free(map);
        }

        put(dir, "sys/devices/system/node/node1/cpulist", "2-x\n");
        map = (int *)1;
        n = 7;
        r = nv_cpu_nodes_load(dir, &map, &n);
        ok(r == -EINVAL && map == (int *)1 && n == 7, "a malformed cpulist: -EINVAL, nothing returned (%d)",
           r);
        put(dir, "sys/devices/system/node/node1/cpulist", "99999999\n");
        r = nv_cpu_nodes_load(dir, &map, &n);
        ok(r == -ERANGE && map == (int *)1, "a CPU beyond the bound: -ERANGE (%d)", r);

        (void)snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        (void)system(cmd);
}

static void test_gpa_to_hva(void) {
        const struct numavd_ept_slot slots[] = {
                { .as_id = 0, .id = 0, .gpa = 0, .pages = 768 * 256, .hva = 0x7f0000000000 }, /* 768 MiB */
                { .as_id = 0, .id = 1, .gpa = UINT64_C(4) << 30, .pages = 256 * 256, .hva = 0x7f8000000000 },
                { .as_id = 1, .id = 0, .gpa = 0xa0000, .pages = 32, .hva = 0x7f9000000000 }, /* SMM */
        };
        uint64_t hva = 42;

        ok(nv_slots_gpa_to_hva(slots, 3, 0x1000, &hva) == 0 && hva == 0x7f0000001000, "low RAM");
        ok(nv_slots_gpa_to_hva(slots, 3, (UINT64_C(4) << 30) + 0x200000, &hva) == 0 && hva == 0x7f8000200000,
           "RAM above 4 GiB");
        ok(nv_slots_gpa_to_hva(slots, 3, 0xa0000, &hva) == 0 && hva == 0x7f00000a0000,
           "address space 0 wins over SMM's");
        hva = 42;
        is_int(nv_slots_gpa_to_hva(slots, 3, UINT64_C(768) << 20, &hva), -ENOENT,
               "the hole above low RAM: -ENOENT");
        is_int(nv_slots_gpa_to_hva(slots, 3, UINT64_C(5) << 30, &hva), -ENOENT,
               "just past the last slot: -ENOENT");
        ok(hva == 42, "and the address is untouched");
        is_int(nv_slots_gpa_to_hva(NULL, 0, 0, &hva), -ENOENT, "no slots: -ENOENT");
}

static void test_no_module(void) {
        const nv_attribution_ops *ops = (const void *)1;
        void *ctx = (void *)2;
        int r;

        r = nv_kmod_attribution_new("/nonexistent/numavd_ept", NULL, &ops, &ctx);
        is_int(r, -ENOENT, "without the module the attribution sampler fails with -ENOENT");
        ok(ops == (const void *)1 && ctx == (void *)2, "and leaves its return parameters untouched");
        r = nv_kmod_attribution_new("/dev/null", NULL, &ops, &ctx);
        ok(r < 0 && ops == (const void *)1 && ctx == (void *)2,
           "a device that is not numavd_ept is refused (%d)", r);
}

int main(void) {
        test_cpu_nodes();
        test_gpa_to_hva();
        test_no_module();
        return tap_done();
}
