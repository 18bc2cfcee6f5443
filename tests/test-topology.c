/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sysfs topology reader on hand-made fixture trees (tests/fixtures/host-*) and on this
 * machine's own /sys. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "inventory/fileio.h"
#include "inventory/topology.h"
#include "tap.h"

static const char *top_srcdir(void) {
        const char *s = getenv("top_srcdir");

        if (s && *s)
                return s;
#ifdef ABS_TOP_SRCDIR
        return ABS_TOP_SRCDIR;
#else
        return ".";
#endif
}

static char *fixture(const char *name) {
        char *p;

        if (asprintf(&p, "%s/tests/fixtures/%s", top_srcdir(), name) < 0)
                abort();
        return p;
}

static void test_cpulist(void) {
        unsigned *l = NULL;
        size_t n = 0;

        is_int(nv_cpulist_parse("0-3,8,10-11\n", 64, &l, &n), 0, "cpulist: ranges and singles parse");
        is_int(n, 7, "cpulist: 0-3,8,10-11 holds 7 CPUs");
        if (n == 7)
                ok(l[0] == 0 && l[3] == 3 && l[4] == 8 && l[5] == 10 && l[6] == 11,
                   "cpulist: numbers in order");
        free(l);
        l = NULL;

        is_int(nv_cpulist_parse("\n", 64, &l, &n), 0, "cpulist: an empty list parses");
        is_int(n, 0, "cpulist: an empty list holds nothing");
        free(l);
        l = NULL;

        is_int(nv_cpulist_parse("5", 64, &l, &n), 0, "cpulist: a single CPU without newline parses");
        ok(n == 1 && l && l[0] == 5, "cpulist: the single CPU is 5");
        free(l);
        l = NULL;

        is_int(nv_cpulist_parse("3-1", 64, &l, &n), -EINVAL, "cpulist: a reversed range is refused");
        is_int(nv_cpulist_parse("0-", 64, &l, &n), -EINVAL, "cpulist: an open range is refused");
        is_int(nv_cpulist_parse("a", 64, &l, &n), -EINVAL, "cpulist: a letter is refused");
        is_int(nv_cpulist_parse("0,,1", 64, &l, &n), -EINVAL, "cpulist: an empty item is refused");
        is_int(nv_cpulist_parse("0-64", 64, &l, &n), -ERANGE, "cpulist: a CPU beyond the bound is refused");
        ok(l == NULL, "cpulist: the output is untouched on failure");
}

static void test_two_nodes(void) {
        _cleanup_free_ char *root = fixture("host-2node");
        nv_topology t = {};
        nv_inventory inv = {};

        if (!is_int(nv_topology_load(root, &t), 0, "2 nodes: the fixture loads"))
                return;
        is_int(t.nr_nodes, 2, "2 nodes: two nodes");
        ok(t.numa_sysfs, "2 nodes: read from the NUMA sysfs");
        is_int(t.nr_cpus, 4, "2 nodes: four CPUs in the map");
        is_int(nv_topology_cpu_node(&t, 0), 0, "2 nodes: CPU 0 is on node 0");
        is_int(nv_topology_cpu_node(&t, 1), 1, "2 nodes: CPU 1 is on node 1");
        is_int(nv_topology_cpu_node(&t, 2), 0, "2 nodes: CPU 2 is on node 0");
        is_int(nv_topology_cpu_node(&t, 3), 1, "2 nodes: CPU 3 is on node 1");
        is_int(nv_topology_cpu_node(&t, 4), -ENOENT, "2 nodes: CPU 4 is unknown");
        is_int(nv_topology_cpu_node(&t, -1), -ENOENT, "2 nodes: CPU -1 is unknown");
        is_u64(t.nodes[0].total_bytes, 8 * GIB, "2 nodes: node 0 has 8 GiB");
        is_u64(t.nodes[0].free_bytes, 4 * GIB, "2 nodes: node 0 has 4 GiB free");
        is_u64(t.nodes[1].free_bytes, 6 * GIB, "2 nodes: node 1 has 6 GiB free");
        is_int(t.distance[0][0], 10, "2 nodes: local distance 10");
        is_int(t.distance[0][1], 21, "2 nodes: distance 0->1 is 21");
        is_int(t.distance[1][0], 21, "2 nodes: distance 1->0 is 21");
        ok(!t.nested, "2 nodes: not nested (no hypervisor flag)");

        inv.nr_vms = 0;
        nv_topology_fill_inventory(&t, &inv);
        is_int(inv.nr_nodes, 2, "2 nodes: the inventory gets two nodes");
        is_u64(inv.nodes[1].total_bytes, 8 * GIB, "2 nodes: the inventory gets node 1's memory");
        is_int(inv.distance[1][0], 21, "2 nodes: the inventory gets the distances");

        is_int(nv_topology_refresh_memory(&t), 0, "2 nodes: memory refreshes");
        is_u64(t.nodes[1].free_bytes, 6 * GIB, "2 nodes: free memory after a refresh");
        nv_topology_done(&t);
        ok(t.cpu_node == NULL && t.nr_nodes == 0, "2 nodes: done resets the topology");
        nv_topology_done(NULL);
}

static void test_four_nodes(void) {
        _cleanup_free_ char *root = fixture("host-4node");
        nv_topology t = {};

        if (!is_int(nv_topology_load(root, &t), 0, "4 nodes: the fixture loads"))
                return;
        is_int(t.nr_nodes, 4, "4 nodes: four nodes");
        is_int(t.nr_cpus, 12, "4 nodes: twelve CPUs");
        is_int(nv_topology_cpu_node(&t, 5), 1, "4 nodes: CPU 5 is on node 1");
        is_int(nv_topology_cpu_node(&t, 11), 2, "4 nodes: CPU 11 is on node 2");
        is_u64(t.nodes[3].total_bytes, 32 * GIB, "4 nodes: the CPU-less node 3 has 32 GiB");
        is_u64(t.nodes[0].free_bytes, 1 * GIB, "4 nodes: node 0 has 1 GiB free");
        is_int(t.distance[0][3], 22, "4 nodes: distance 0->3 is 22");
        is_int(t.distance[2][1], 22, "4 nodes: distance 2->1 is 22");
        is_int(t.distance[3][2], 16, "4 nodes: distance 3->2 is 16");
        ok(t.nested, "4 nodes: nested (the hypervisor flag)");
        nv_topology_done(&t);
}

static void test_sparse_nodes(void) {
        _cleanup_free_ char *root = fixture("host-sparse");
        nv_topology t = {};

        if (!is_int(nv_topology_load(root, &t), 0, "sparse: the fixture loads"))
                return;
        is_int(t.nr_nodes, 3, "sparse: nodes are indexed by number, so 3 slots for nodes 0 and 2");
        is_int(t.online, 0x5, "sparse: nodes 0 and 2 online");
        is_u64(t.nodes[1].total_bytes, 0, "sparse: the offline node 1 has no memory");
        is_int(t.distance[0][2], 20, "sparse: distance 0->2 is the second entry of node0/distance");
        is_int(t.distance[0][1], NV_DISTANCE_UNREACHABLE, "sparse: the offline node is unreachable");
        is_int(nv_topology_cpu_node(&t, 1), 2, "sparse: CPU 1 is on node 2");
        nv_topology_done(&t);
}

static void test_flat(void) {
        _cleanup_free_ char *root = fixture("host-flat");
        nv_topology t = {};

        if (!is_int(nv_topology_load(root, &t), 0, "flat: a tree without NUMA sysfs loads"))
                return;
        ok(!t.numa_sysfs, "flat: the one-node fallback");
        is_int(t.nr_nodes, 1, "flat: one node");
        is_int(nv_topology_cpu_node(&t, 1), 0, "flat: CPU 1 is on node 0");
        is_u64(t.nodes[0].total_bytes, 2 * GIB, "flat: MemTotal from /proc/meminfo");
        is_u64(t.nodes[0].free_bytes, 1 * GIB, "flat: MemFree from /proc/meminfo");
        is_int(nv_topology_refresh_memory(&t), 0, "flat: memory refreshes from /proc/meminfo");
        nv_topology_done(&t);
}

static void test_missing_root(void) {
        nv_topology t = { .nr_nodes = 77 };

        ok(nv_topology_load("/nonexistent/numavd-root", &t) < 0, "missing root: loading fails");
        is_int(t.nr_nodes, 77, "missing root: the output is untouched");
}

static void test_real_sys(void) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ unsigned *cpus = NULL;
        size_t n = 0;
        unsigned unmapped = 0;
        nv_topology t = {};

        if (!is_int(nv_topology_load(NULL, &t), 0, "real: this machine's topology loads"))
                return;
        ok(t.nr_nodes >= 1, "real: at least one node (%u)", t.nr_nodes);
        ok(t.nodes[0].total_bytes > 0 || t.nr_nodes > 1, "real: memory is known");

        if (nv_read_file_at(AT_FDCWD, "/sys/devices/system/cpu/online", &text, NULL) == 0 &&
            nv_cpulist_parse(text, NV_TOPOLOGY_MAX_CPUS, &cpus, &n) == 0) {
                for (size_t i = 0; i < n; i++)
                        if (nv_topology_cpu_node(&t, (int)cpus[i]) < 0)
                                unmapped++;
                ok(n > 0 && unmapped == 0, "real: the CPU map covers all %zu online CPUs", n);
        } else
                ok(false, "real: /sys/devices/system/cpu/online is readable");
        nv_topology_done(&t);
}

int main(void) {
        log_set_max_level(LOG_CRIT); /* the failure cases log errors on purpose */

        test_cpulist();
        test_two_nodes();
        test_four_nodes();
        test_sparse_nodes();
        test_flat();
        test_missing_root();
        test_real_sys();
        return tap_done();
}
