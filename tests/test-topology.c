/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The topology through hwloc, with free memory and the nested flag from a fixture tree:
 *  - the fixture hosts tests/fixtures/host-{2node,4node,sparse,flat}: each a saved hwloc XML
 *    (topology.xml) and the few files hwloc does not cover (nodeN/meminfo or /proc/meminfo,
 *    /proc/cpuinfo). The XML files were saved by hwloc 2.9's own Linux backend reading a sysfs
 *    tree of that host (HWLOC_FSROOT=tree HWLOC_COMPONENTS=linux,-x86), so the CPU-less node of
 *    host-4node hangs where hwloc puts such nodes on real machines;
 *  - synthetic topologies with 2 and 4 nodes, and the XML files in tests/fixtures/hwloc/;
 *  - bad input refused with nothing changed, free memory refreshed on a tree the test rewrites;
 *  - this machine, discovered by hwloc, against what its kernel says in /sys. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/fileio.h"
#include "host/host-memory.h"
#include "host/topology.h"
#include "tap.h"

#define PAGE ((uint64_t)sysconf(_SC_PAGESIZE))

static char *fixture(const char *name) {
        char *p;

        if (asprintf(&p, "%s/tests/fixtures/%s", tap_top_srcdir(), name) < 0)
                abort();
        return p;
}

/* Load a fixture host: its tree as the root, its topology.xml through hwloc. */
static int load_host(const char *name, nv_topology *ret) {
        _cleanup_free_ char *root = fixture(name), *xml = NULL;

        if (asprintf(&xml, "%s/topology.xml", root) < 0)
                abort();
        return nv_topology_load(root, xml, NULL, ret);
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

/* ---- the high watermarks in /proc/zoneinfo ---- */

static void test_zoneinfo(void) {
        static const char pagesets[] = "Node 0, zone   Normal\n"
                                       "  pages free     100\n"
                                       "        min      10\n"
                                       "        low      12\n"
                                       "        high     14\n"
                                       "  pagesets\n"
                                       "    cpu: 0\n"
                                       "              high:     2715\n"
                                       "              high_min: 2715\n"
                                       "        high     999\n"
                                       "Node 17, zone   Normal\n"
                                       "        high     5\n"
                                       "Node 2, zone   Normal\n"
                                       "        high     7\n";
        uint64_t high[NV_MAX_NODES], kept[NV_MAX_NODES];
        char big[256];

        is_int(nv_parse_zoneinfo_high(pagesets, 4096, high), 0, "zoneinfo: parses");
        is_u64(high[0], 14 * 4096,
               "zoneinfo: a zone's first high only (not its pagesets' high:, nor a later one)");
        is_u64(high[2], 7 * 4096, "zoneinfo: node 2");
        is_u64(high[1], 0, "zoneinfo: a node with no zone is 0");
        ok(high[NV_MAX_NODES - 1] == 0, "zoneinfo: a node beyond the table is ignored");

        memset(kept, 0xab, sizeof(kept));
        memcpy(high, kept, sizeof(high));
        is_int(nv_parse_zoneinfo_high("", 4096, high), -EBADMSG, "zoneinfo: empty: refused");
        is_int(nv_parse_zoneinfo_high("        high     14\n", 4096, high), -EBADMSG,
               "zoneinfo: a high before any zone: refused");
        is_int(nv_parse_zoneinfo_high("Node 0, zone Normal\n        high     x\n", 4096, high), -EBADMSG,
               "zoneinfo: a high that is no number: refused");
        snprintf(big, sizeof(big), "Node 0, zone Normal\n        high     %llu\n", 1ull << 60);
        is_int(nv_parse_zoneinfo_high(big, 4096, high), -EBADMSG,
               "zoneinfo: a high that overflows: refused");
        snprintf(big, sizeof(big), "Node 0, zone A\n high %llu\nNode 0, zone B\n high %llu\n", 1ull << 51,
                 1ull << 51);
        is_int(nv_parse_zoneinfo_high(big, 4096, high), -EBADMSG, "zoneinfo: a sum that overflows: refused");
        ok(memcmp(high, kept, sizeof(high)) == 0, "zoneinfo: nothing written on failure");
}

/* ---- the fixture hosts ---- */

static void test_two_nodes(void) {
        nv_topology t = {};
        nv_inventory inv = {};

        if (!is_int(load_host("host-2node", &t), 0, "2 nodes: the XML and the tree load"))
                return;
        is_int(t.nr_nodes, 2, "2 nodes: two nodes");
        ok(t.numa_sysfs, "2 nodes: free memory from the nodes' meminfo");
        is_int(t.nr_cpus, 4, "2 nodes: four CPUs in the map");
        is_int(nv_topology_cpu_node(&t, 0), 0, "2 nodes: CPU 0 is on node 0");
        is_int(nv_topology_cpu_node(&t, 1), 1, "2 nodes: CPU 1 is on node 1");
        is_int(nv_topology_cpu_node(&t, 2), 0, "2 nodes: CPU 2 is on node 0");
        is_int(nv_topology_cpu_node(&t, 3), 1, "2 nodes: CPU 3 is on node 1");
        is_int(nv_topology_cpu_node(&t, 4), -ENOENT, "2 nodes: CPU 4 is unknown");
        is_int(nv_topology_cpu_node(&t, -1), -ENOENT, "2 nodes: CPU -1 is unknown");
        is_u64(t.nodes[0].total_bytes, 8 * GIB, "2 nodes: node 0 has 8 GiB (hwloc)");
        is_u64(t.nodes[0].free_bytes, 4 * GIB, "2 nodes: node 0 has 4 GiB free (node0/meminfo)");
        is_u64(t.nodes[1].free_bytes, 6 * GIB, "2 nodes: node 1 has 6 GiB free (node1/meminfo)");
        is_int(t.distance[0][0], 10, "2 nodes: local distance 10");
        is_int(t.distance[0][1], 21, "2 nodes: distance 0->1 is 21");
        is_int(t.distance[1][0], 21, "2 nodes: distance 1->0 is 21");
        ok(!t.nested, "2 nodes: not nested (no hypervisor flag)");
        is_u64(t.nodes[0].high_wmark_bytes, (31 + 6517 + 9000 + 0) * PAGE,
               "2 nodes: node 0's high watermark is its zones' summed (proc/zoneinfo)");
        is_u64(t.nodes[1].high_wmark_bytes, 20000 * PAGE, "2 nodes: node 1's high watermark");

        nv_topology_fill_inventory(&t, &inv);
        is_int(inv.nr_nodes, 2, "2 nodes: the inventory gets two nodes");
        is_u64(inv.nodes[1].total_bytes, 8 * GIB, "2 nodes: the inventory gets node 1's memory");
        is_int(inv.distance[1][0], 21, "2 nodes: the inventory gets the distances");
        is_u64(inv.nodes[1].high_wmark_bytes, 20000 * PAGE, "2 nodes: the inventory gets the watermarks");

        is_int(nv_topology_refresh_memory(&t), 0, "2 nodes: memory refreshes");
        is_u64(t.nodes[1].free_bytes, 6 * GIB, "2 nodes: free memory after a refresh");
        nv_topology_done(&t);
        ok(t.cpu_node == NULL && t.nr_nodes == 0, "2 nodes: done resets the topology");
        nv_topology_done(NULL);
}

static void test_four_nodes(void) {
        nv_topology t = {};
        bool none_on_3 = true;

        if (!is_int(load_host("host-4node", &t), 0, "4 nodes: the XML and the tree load"))
                return;
        is_int(t.nr_nodes, 4, "4 nodes: four nodes");
        is_int(t.nr_cpus, 12, "4 nodes: twelve CPUs");
        is_int(nv_topology_cpu_node(&t, 0), 0, "4 nodes: CPU 0 is on node 0");
        is_int(nv_topology_cpu_node(&t, 5), 1, "4 nodes: CPU 5 is on node 1, not on node 3 above it");
        is_int(nv_topology_cpu_node(&t, 11), 2, "4 nodes: CPU 11 is on node 2, not on node 3 above it");
        for (int c = 0; c < 12; c++)
                none_on_3 = none_on_3 && nv_topology_cpu_node(&t, c) != 3;
        ok(none_on_3, "4 nodes: no CPU on the CPU-less node 3");
        is_u64(t.nodes[3].total_bytes, 32 * GIB, "4 nodes: the CPU-less node 3 has 32 GiB");
        is_u64(t.nodes[3].free_bytes, 32 * GIB, "4 nodes: all of node 3 is free");
        is_u64(t.nodes[0].free_bytes, 1 * GIB, "4 nodes: node 0 has 1 GiB free");
        is_int(t.distance[0][3], 22, "4 nodes: distance 0->3 is 22");
        is_int(t.distance[2][1], 22, "4 nodes: distance 2->1 is 22");
        is_int(t.distance[3][2], 16, "4 nodes: distance 3->2 is 16");
        ok(t.nested, "4 nodes: nested (the hypervisor flag)");
        ok(t.nodes[0].high_wmark_bytes == 0 && t.nodes[3].high_wmark_bytes == 0,
           "4 nodes: no proc/zoneinfo: the watermarks are unknown (0), and the load succeeds");
        nv_topology_done(&t);
}

static void test_sparse_nodes(void) {
        nv_topology t = {};

        if (!is_int(load_host("host-sparse", &t), 0, "sparse: the XML and the tree load"))
                return;
        is_int(t.nr_nodes, 3, "sparse: nodes are indexed by OS index, so 3 slots for nodes 0 and 2");
        is_int(t.online, 0x5, "sparse: nodes 0 and 2 exist");
        is_u64(t.nodes[1].total_bytes, 0, "sparse: the offline node 1 has no memory");
        is_u64(t.nodes[1].free_bytes, 0, "sparse: nor free memory");
        is_u64(t.nodes[2].free_bytes, 1 * GIB, "sparse: node 2's free memory from node2/meminfo");
        is_int(t.distance[0][2], 20, "sparse: distance 0->2 is 20");
        is_int(t.distance[0][1], NV_DISTANCE_UNREACHABLE, "sparse: the offline node is unreachable");
        is_int(nv_topology_cpu_node(&t, 1), 2, "sparse: CPU 1 is on node 2");
        nv_topology_done(&t);
}

static void test_flat(void) {
        nv_topology t = {};

        if (!is_int(load_host("host-flat", &t), 0, "flat: a host without NUMA sysfs loads"))
                return;
        ok(!t.numa_sysfs, "flat: free memory from /proc/meminfo");
        is_int(t.nr_nodes, 1, "flat: hwloc gives the one node");
        is_int(nv_topology_cpu_node(&t, 1), 0, "flat: CPU 1 is on node 0");
        is_u64(t.nodes[0].total_bytes, 2 * GIB, "flat: node 0 holds all memory");
        is_u64(t.nodes[0].free_bytes, 1 * GIB, "flat: MemFree from /proc/meminfo");
        is_int(nv_topology_refresh_memory(&t), 0, "flat: memory refreshes from /proc/meminfo");
        nv_topology_done(&t);
}

/* ---- synthetic topologies and the XML files of tests/fixtures/hwloc ---- */

static void check_cpus(const nv_topology *t, unsigned nr_cpus, unsigned per_node, const char *what) {
        bool all = t->nr_cpus == nr_cpus;

        for (unsigned c = 0; c < nr_cpus && all; c++)
                all = nv_topology_cpu_node(t, (int)c) == (int)(c / per_node);
        ok(all, "%s: %u CPUs, %u per node, in order", what, nr_cpus, per_node);
}

static void test_synthetic(void) {
        _cleanup_free_ char *two = fixture("host-2node"), *four = fixture("host-4node");
        nv_topology t = {};

        is_int(nv_topology_load(two, NULL, "pack:2 numa:1(memory=4GiB) core:2 pu:2", &t), 0,
               "synthetic 2 nodes: loaded, free memory from host-2node");
        is_int(t.nr_nodes, 2, "synthetic 2 nodes: two nodes");
        is_int(t.online, 3, "synthetic 2 nodes: both exist");
        is_u64(t.nodes[1].total_bytes, 4 * GIB, "synthetic 2 nodes: 4 GiB each");
        is_u64(t.nodes[1].free_bytes, 6 * GIB, "synthetic 2 nodes: node 1's free memory from the tree");
        check_cpus(&t, 8, 4, "synthetic 2 nodes");
        ok(t.distance[0][0] == 10 && t.distance[0][1] == 20 && t.distance[1][0] == 20,
           "synthetic 2 nodes: no distances given: 10 local, 20 remote");
        nv_topology_done(&t);

        is_int(nv_topology_load(four, NULL, "pack:2 group:2 numa:1(memory=2GiB) core:2 pu:1", &t), 0,
               "synthetic 4 nodes: loaded");
        is_int(t.nr_nodes, 4, "synthetic 4 nodes: four nodes");
        is_u64(t.nodes[3].total_bytes, 2 * GIB, "synthetic 4 nodes: 2 GiB each");
        check_cpus(&t, 8, 2, "synthetic 4 nodes");
        is_int(nv_topology_cpu_node(&t, 8), -ENOENT, "synthetic 4 nodes: CPU 8 is unknown");
        nv_topology_done(&t);
}

static void test_xml(void) {
        _cleanup_free_ char *two = fixture("hwloc/2node.xml"), *four = fixture("hwloc/4node.xml"),
                            *root2 = fixture("host-2node"), *root4 = fixture("host-4node");
        nv_topology t = {};
        bool ok4 = true;

        is_int(nv_topology_load(root2, two, NULL, &t), 0, "xml 2 nodes: loaded");
        is_int(t.nr_nodes, 2, "xml 2 nodes: two nodes");
        check_cpus(&t, 8, 4, "xml 2 nodes");
        ok(t.distance[0][1] == 21 && t.distance[1][0] == 21 && t.distance[1][1] == 10,
           "xml 2 nodes: the saved SLIT (10, 21)");
        nv_topology_done(&t);

        is_int(nv_topology_load(root4, four, NULL, &t), 0, "xml 4 nodes: loaded");
        is_int(t.nr_nodes, 4, "xml 4 nodes: four nodes");
        for (unsigned a = 0; a < 4; a++)
                for (unsigned b = 0; b < 4; b++)
                        ok4 = ok4 && t.distance[a][b] == (a == b ? 10 : a / 2 == b / 2 ? 21 : 32);
        ok(ok4, "xml 4 nodes: two packages of two nodes (10, 21 within, 32 across)");
        is_u64(t.nodes[2].total_bytes, 2 * GIB, "xml 4 nodes: 2 GiB each");
        ok(t.distance[0][4] == NV_DISTANCE_UNREACHABLE, "xml 4 nodes: node 4 does not exist");
        nv_topology_done(&t);
}

static void test_bad_input(void) {
        _cleanup_free_ char *missing = fixture("hwloc/missing.xml"), *four = fixture("hwloc/4node.xml"),
                            *root2 = fixture("host-2node"), *flat = fixture("host-flat");
        nv_topology t = { .nr_nodes = 42 };

        is_int(nv_topology_load(root2, missing, NULL, &t), -EINVAL, "bad: a missing XML file is refused");
        is_int(nv_topology_load(root2, NULL, "numa:bogus", &t), -EINVAL,
               "bad: a bad synthetic description is refused");
        is_int(nv_topology_load(root2, four, NULL, &t), -ENOENT,
               "bad: 4 nodes in the XML, 2 in the tree: no free memory for nodes 2 and 3");
        is_int(nv_topology_load(flat, four, NULL, &t), -ENOENT,
               "bad: 4 nodes in the XML, a tree without NUMA: refused");
        ok(nv_topology_load("/nonexistent/numavd-root", NULL, NULL, &t) < 0,
           "bad: this system with a missing root: no free memory, refused");
        is_int(t.nr_nodes, 42, "bad: the output is untouched on every failure");
}

/* ---- free memory refreshed on a tree the test rewrites ---- */

static void put_meminfo(const char *root, unsigned node, unsigned long long free_kb) {
        _cleanup_free_ char *path = NULL;
        FILE *f;

        if (asprintf(&path, "%s/sys/devices/system/node/node%u/meminfo", root, node) < 0)
                abort();
        f = fopen(path, "we");
        if (!f)
                abort();
        fprintf(f, "Node %u MemTotal:       4194304 kB\nNode %u MemFree:        %llu kB\n", node, node,
                free_kb);
        fclose(f);
}

static void mkdir_p(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                abort();
        for (char *s = p + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                (void)mkdir(p, 0755);
                *s = '/';
        }
        if (mkdir(p, 0755) < 0)
                abort();
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path);
}

static void put_zoneinfo(const char *root, unsigned long long high0, unsigned long long high1) {
        _cleanup_free_ char *path = NULL;
        FILE *f;

        if (asprintf(&path, "%s/proc", root) < 0)
                abort();
        mkdir_p(path);
        free(path);
        if (asprintf(&path, "%s/proc/zoneinfo", root) < 0 || !(f = fopen(path, "we")))
                abort();
        fprintf(f,
                "Node 0, zone   Normal\n  pages free     1000\n        min      %llu\n        high     "
                "%llu\n"
                "Node 1, zone   Normal\n  pages free     1000\n        high     %llu\n",
                high0 / 2, high0, high1);
        fclose(f);
}

static void test_refresh(void) {
        char root[] = "/tmp/test-topology.XXXXXX";
        _cleanup_free_ char *dir = NULL, *gone = NULL;
        nv_topology t = {};

        if (!mkdtemp(root) || asprintf(&dir, "%s/sys/devices/system/node", root) < 0)
                abort();
        for (unsigned n = 0; n < 2; n++) {
                _cleanup_free_ char *d = NULL;

                if (asprintf(&d, "%s/node%u", dir, n) < 0)
                        abort();
                mkdir_p(d);
                put_meminfo(root, n, 1048576ull * (n + 1));
        }

        if (!is_int(nv_topology_load(root, NULL, "numa:2(memory=4GiB) pu:2", &t), 0,
                    "refresh: a synthetic topology on a tree without cpuinfo loads"))
                goto out;
        ok(!t.nested, "refresh: no cpuinfo: taken as bare metal");
        is_u64(t.nodes[1].free_bytes, 2 * GIB, "refresh: node 1 has 2 GiB free");

        put_meminfo(root, 1, 524288);
        is_int(nv_topology_refresh_memory(&t), 0, "refresh: node memory is read again");
        is_u64(t.nodes[1].free_bytes, 512 * MIB, "refresh: node 1 now has 512 MiB free");

        /* The load was refresh 0, with no zoneinfo yet, and the one above refresh 1. */
        put_zoneinfo(root, 100, 200);
        for (unsigned i = 2; i < NV_TOPOLOGY_WATERMARK_REFRESHES; i++)
                (void)nv_topology_refresh_memory(&t);
        is_u64(t.nodes[1].high_wmark_bytes, 0, "refresh: the watermarks wait for their turn");
        is_int(nv_topology_refresh_memory(&t), 0, "refresh: the watermarks' turn");
        ok(t.nodes[0].high_wmark_bytes == 100 * PAGE && t.nodes[1].high_wmark_bytes == 200 * PAGE,
           "refresh: the watermarks are read at their turn");

        put_meminfo(root, 0, 262144);
        if (asprintf(&gone, "%s/node1/meminfo", dir) < 0 || unlink(gone) < 0)
                abort();
        ok(nv_topology_refresh_memory(&t) < 0, "refresh: a missing node meminfo fails");
        ok(t.nodes[0].free_bytes == 1 * GIB && t.nodes[1].free_bytes == 512 * MIB,
           "refresh: on failure every node keeps its last value");
out:
        nv_topology_done(&t);
        (void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- this machine: hwloc against the kernel's own sysfs ---- */

static int read_list(const char *path, unsigned **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = nv_read_file_at(AT_FDCWD, path, &text, NULL);
        if (r < 0)
                return r;
        return nv_cpulist_parse(text, NV_TOPOLOGY_MAX_CPUS, ret, ret_n);
}

static void test_this_machine(void) {
        _cleanup_free_ unsigned *nodes = NULL, *cpus = NULL;
        size_t nr_nodes = 0, nr_cpus = 0;
        bool numa, same_cpus = true, same_dist = true, same_mem = true;
        struct timespec a, b;
        nv_topology t = {};
        int r;

        clock_gettime(CLOCK_MONOTONIC, &a);
        r = nv_topology_load(NULL, NULL, NULL, &t);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (!is_int(r, 0, "this machine: hwloc discovers it"))
                return;
        printf("# hwloc discovered %u node(s), %u CPU(s) in %.1f ms\n", t.nr_nodes, t.nr_cpus,
               (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6);

        numa = read_list("/sys/devices/system/node/online", &nodes, &nr_nodes) == 0;
        is_int(t.numa_sysfs, numa, "this machine: free memory from node meminfo iff the kernel has NUMA");
        if (!numa) {
                nodes = calloc(1, sizeof(*nodes));
                nr_nodes = 1;
        }
        is_int(__builtin_popcount(t.online), nr_nodes, "this machine: as many nodes as the kernel lists");
        is_int(t.nr_nodes, nodes[nr_nodes - 1] + 1, "this machine: numbered as the kernel numbers them");

        for (size_t i = 0; numa && i < nr_nodes; i++) {
                _cleanup_free_ char *path = NULL, *text = NULL, *dist = NULL;
                _cleanup_free_ unsigned *ncpus = NULL;
                size_t n = 0;
                unsigned node = nodes[i];
                const char *p;

                if (asprintf(&path, "/sys/devices/system/node/node%u/cpulist", node) < 0)
                        abort();
                if (read_list(path, &ncpus, &n) == 0)
                        for (size_t k = 0; k < n; k++)
                                same_cpus =
                                        same_cpus && nv_topology_cpu_node(&t, (int)ncpus[k]) == (int)node;
                free(path);
                if (asprintf(&path, "/sys/devices/system/node/node%u/distance", node) < 0)
                        abort();
                if (nv_read_file_at(AT_FDCWD, path, &dist, NULL) == 0) {
                        p = dist;
                        for (size_t k = 0; k < nr_nodes && node < NV_MAX_NODES && nodes[k] < NV_MAX_NODES;
                             k++) {
                                char *end;
                                unsigned long d = strtoul(p, &end, 10);
                                same_dist = same_dist && t.distance[node][nodes[k]] == MIN(d, 254ul);
                                p = end;
                        }
                } else
                        same_dist = false;
                free(path);
                if (asprintf(&path, "/sys/devices/system/node/node%u/meminfo", node) < 0)
                        abort();
                if (nv_read_file_at(AT_FDCWD, path, &text, NULL) == 0 && (p = strstr(text, "MemTotal:")))
                        same_mem = same_mem && node < NV_MAX_NODES &&
                                   t.nodes[node].total_bytes / MIB == strtoull(p + 9, NULL, 10) / KIB;
                else
                        same_mem = false;
        }
        if (!numa)
                same_cpus = true; /* checked below: every online CPU, on node 0 */
        ok(same_cpus, "this machine: every CPU of every nodeN/cpulist on that node");
        ok(same_dist, "this machine: the distances of every nodeN/distance");
        ok(same_mem, "this machine: every node's MemTotal (MiB)");

        if (read_list("/sys/devices/system/cpu/online", &cpus, &nr_cpus) == 0) {
                unsigned unmapped = 0;

                for (size_t i = 0; i < nr_cpus; i++)
                        if (nv_topology_cpu_node(&t, (int)cpus[i]) < 0 ||
                            (!numa && nv_topology_cpu_node(&t, (int)cpus[i]) != 0))
                                unmapped++;
                ok(nr_cpus > 0 && unmapped == 0, "this machine: all %zu online CPUs have a node", nr_cpus);
        } else
                ok(false, "this machine: /sys/devices/system/cpu/online is readable");

        {
                int first = __builtin_ctz(t.online);
                ok(t.nodes[first].free_bytes > 0 && t.nodes[first].free_bytes <= t.nodes[first].total_bytes,
                   "this machine: node %d has some free memory, at most its total", first);
        }
        {
                bool marks = true;

                for (unsigned n = 0; n < t.nr_nodes; n++)
                        if ((t.online & (UINT32_C(1) << n)) &&
                            t.nodes[n].total_bytes > 0) /* not memoryless */
                                marks = marks && t.nodes[n].high_wmark_bytes > 0 &&
                                        t.nodes[n].high_wmark_bytes < t.nodes[n].total_bytes;
                ok(marks,
                   "this machine: every node's high watermark (/proc/zoneinfo) is above 0, below its total");
        }
        is_int(t.nested, system("grep -qw hypervisor /proc/cpuinfo") == 0,
               "this machine: nested iff /proc/cpuinfo has the hypervisor flag");
        nv_topology_done(&t);
}

int main(void) {
        log_set_max_level(LOG_CRIT); /* the failure cases log errors on purpose */

        test_cpulist();
        test_zoneinfo();
        test_two_nodes();
        test_four_nodes();
        test_sparse_nodes();
        test_flat();
        test_synthetic();
        test_xml();
        test_bad_input();
        test_refresh();
        test_this_machine();
        return tap_done();
}
