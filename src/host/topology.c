/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <hwloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/fileio.h"
#include "common/parse.h"
#include "host/host-memory.h"
#include "host/topology.h"

#define NODE_DIR                "/sys/devices/system/node"
#define DEFAULT_REMOTE_DISTANCE 20

int nv_cpulist_parse(const char *s, unsigned max, unsigned **ret_list, size_t *ret_n) {
        _cleanup_free_ unsigned *list = NULL;
        size_t n = 0, allocated = 0;
        unsigned lo, hi;
        int r;

        while ((r = nv_cpulist_next(&s, max, &lo, &hi)) > 0)
                for (unsigned v = lo; v <= hi; v++) {
                        if (n == allocated) {
                                size_t want = allocated ? allocated * 2 : 16;
                                unsigned *q = realloc(list, want * sizeof(*list));
                                if (!q)
                                        return -ENOMEM;
                                list = q;
                                allocated = want;
                        }
                        list[n++] = v;
                }
        if (r < 0)
                return r;

        *ret_list = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

/* ---- what hwloc knows: nodes, CPUs, distances, total memory ---- */

static void hwloc_topology_destroyp(hwloc_topology_t *t) {
        if (*t)
                hwloc_topology_destroy(*t);
}

/* Map the CPU to the node unless a node with fewer CPUs already has it. */
static int map_cpu(nv_topology *t, unsigned cpu, int node) {
        if (cpu >= NV_TOPOLOGY_MAX_CPUS)
                return -ERANGE;
        if (cpu >= t->nr_cpus) {
                int *p = reallocarray(t->cpu_node, cpu + 1, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                for (unsigned c = t->nr_cpus; c <= cpu; c++)
                        p[c] = -1;
                t->cpu_node = p;
                t->nr_cpus = cpu + 1;
        }
        if (t->cpu_node[cpu] < 0)
                t->cpu_node[cpu] = node;
        return 0;
}

/* The OS's latency matrix between NUMA nodes, if hwloc has one. */
static void load_distances(hwloc_topology_t topo, nv_topology *t) {
        struct hwloc_distances_s *d = NULL;
        unsigned nr = 1;

        if (hwloc_distances_get_by_type(topo, HWLOC_OBJ_NUMANODE, &nr, &d,
                                        HWLOC_DISTANCES_KIND_MEANS_LATENCY | HWLOC_DISTANCES_KIND_FROM_OS |
                                                HWLOC_DISTANCES_KIND_FROM_USER,
                                        0) < 0 ||
            nr == 0 || !d)
                return;
        for (unsigned a = 0; a < d->nbobjs; a++)
                for (unsigned b = 0; b < d->nbobjs; b++) {
                        unsigned x = d->objs[a]->os_index, y = d->objs[b]->os_index;

                        /* 255 is kept for "unreachable". */
                        if (x < NV_MAX_NODES && y < NV_MAX_NODES)
                                t->distance[x][y] =
                                        (uint8_t)MIN(d->values[a * d->nbobjs + b], (hwloc_uint64_t)254);
                }
        hwloc_distances_release(topo, d);
}

/* Nodes with fewer CPUs first, then by OS index: the order in which they claim CPUs. */
static int cmp_nodes(const void *x, const void *y) {
        const struct hwloc_obj *a = *(const hwloc_obj_t *)x, *b = *(const hwloc_obj_t *)y;
        unsigned wa = (unsigned)hwloc_bitmap_weight(a->cpuset),
                 wb = (unsigned)hwloc_bitmap_weight(b->cpuset);

        if (wa != wb)
                return wa < wb ? -1 : 1;
        return a->os_index < b->os_index ? -1 : a->os_index > b->os_index;
}

static int from_hwloc(hwloc_topology_t topo, nv_topology *t) {
        hwloc_obj_t nodes[NV_MAX_NODES];
        unsigned nr = 0;

        for (hwloc_obj_t o = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, NULL); o;
             o = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, o)) {
                if (o->os_index >= NV_MAX_NODES) {
                        log_warning("Node %u is beyond the %d nodes numavd handles, ignoring.", o->os_index,
                                    NV_MAX_NODES);
                        continue;
                }
                t->online |= UINT32_C(1) << o->os_index;
                t->nr_nodes = MAX(t->nr_nodes, o->os_index + 1);
                t->nodes[o->os_index].total_bytes = o->attr->numanode.local_memory;
                nodes[nr++] = o;
        }
        if (nr == 0)
                return log_error_errno(-ENOENT, "hwloc lists no NUMA node below %d", NV_MAX_NODES);

        for (unsigned a = 0; a < NV_MAX_NODES; a++)
                for (unsigned b = 0; b < NV_MAX_NODES; b++)
                        t->distance[a][b] = a == b ? 10
                                            : (t->online >> a & 1) && (t->online >> b & 1)
                                                    ? DEFAULT_REMOTE_DISTANCE
                                                    : NV_DISTANCE_UNREACHABLE;
        load_distances(topo, t);

        qsort(nodes, nr, sizeof(nodes[0]), cmp_nodes);
        for (unsigned i = 0; i < nr; i++) {
                int cpu, r = 0;

                /* No CPU, or an infinite set (hwloc never gives one to a node): nothing to map. */
                if (hwloc_bitmap_weight(nodes[i]->cpuset) <= 0)
                        continue;
                hwloc_bitmap_foreach_begin(cpu, nodes[i]->cpuset) {
                        r = map_cpu(t, (unsigned)cpu, (int)nodes[i]->os_index);
                        if (r < 0)
                                break;
                }
                hwloc_bitmap_foreach_end();
                if (r < 0)
                        return log_error_errno(r, "Cannot map the CPUs of node %u: %m", nodes[i]->os_index);
        }
        return 0;
}

static int load_hwloc(const char *xml, const char *synthetic, nv_topology *t) {
        _cleanup_(hwloc_topology_destroyp) hwloc_topology_t topo = NULL;

        if (hwloc_topology_init(&topo) < 0)
                return log_oom();
        /* The whole machine, whatever cgroup numavd runs in; caches and I/O are not needed. */
        (void)hwloc_topology_set_flags(topo, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
        (void)hwloc_topology_set_cache_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
        (void)hwloc_topology_set_icache_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
        (void)hwloc_topology_set_io_types_filter(topo, HWLOC_TYPE_FILTER_KEEP_NONE);
        if (xml && hwloc_topology_set_xml(topo, xml) < 0)
                return log_error_errno(-EINVAL, "hwloc cannot read the topology in %s", xml);
        if (!xml && synthetic && hwloc_topology_set_synthetic(topo, synthetic) < 0)
                return log_error_errno(-EINVAL, "hwloc refuses the synthetic topology \"%s\"", synthetic);
        if (hwloc_topology_load(topo) < 0)
                return log_error_errno(errno > 0 ? -errno : -EINVAL, "hwloc cannot load the topology: %m");
        return from_hwloc(topo, t);
}

/* ---- what sysfs and procfs know: free memory, the hypervisor flag ---- */

/* MemFree from "Node 0 MemFree:  4548824 kB" (nodeN/meminfo) or "MemFree:  4548824 kB"
 * (/proc/meminfo), in bytes. */
static int parse_mem_free(const char *text, uint64_t *ret) {
        for (const char *line = text, *next; line && *line; line = next) {
                const char *key = line;
                uint64_t kb;
                char *end;

                next = strchr(line, '\n');
                if (next)
                        next++;

                if (strncmp(key, "Node ", 5) == 0) {
                        key = strchr(key + 5, ' ');
                        if (!key)
                                continue;
                        key++;
                }
                if (strncmp(key, "MemFree:", 8) != 0)
                        continue;

                key += 8;
                errno = 0;
                kb = strtoull(key, &end, 10);
                if (errno != 0 || end == key || kb > UINT64_MAX / KIB)
                        return -EINVAL;
                *ret = kb * KIB;
                return 0;
        }
        return -EINVAL;
}

static int read_mem_free(const char *root, const char *path, uint64_t *ret) {
        _cleanup_free_ char *full = NULL, *text = NULL;
        int r;

        full = nv_root_path(root, path);
        if (!full)
                return -ENOMEM;
        r = nv_read_file_at(AT_FDCWD, full, &text, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", full);
        r = parse_mem_free(text, ret);
        if (r < 0)
                return log_error_errno(r, "Failed to parse %s: no MemFree", full);
        return 0;
}

static void refresh_watermarks(nv_topology *t) {
        uint64_t high[NV_MAX_NODES];
        int r;

        if (t->refreshes++ % NV_TOPOLOGY_WATERMARK_REFRESHES != 0)
                return;
        r = nv_read_high_watermarks(t->root, high);
        if (r < 0) {
                log_debug_errno(r, "No high watermarks from %s/proc/zoneinfo, ignoring: %m", t->root);
                return;
        }
        for (unsigned node = 0; node < t->nr_nodes; node++)
                t->nodes[node].high_wmark_bytes = high[node];
}

int nv_topology_refresh_memory(nv_topology *t) {
        uint64_t free_bytes[NV_MAX_NODES] = {};
        int r;

        if (!t->numa_sysfs) {
                /* A kernel without NUMA: hwloc's one node holds all memory. */
                if (t->online != 1)
                        return log_error_errno(-ENOENT, "%s%s is missing, but hwloc lists %u nodes", t->root,
                                               NODE_DIR, (unsigned)__builtin_popcount(t->online));
                r = read_mem_free(t->root, "/proc/meminfo", &free_bytes[__builtin_ctz(t->online)]);
                if (r < 0)
                        return r;
        } else
                for (unsigned node = 0; node < t->nr_nodes; node++) {
                        char path[sizeof(NODE_DIR "/node/meminfo") + 12];

                        if (!(t->online & (UINT32_C(1) << node)))
                                continue;
                        snprintf(path, sizeof(path), NODE_DIR "/node%u/meminfo", node);
                        r = read_mem_free(t->root, path, &free_bytes[node]);
                        if (r < 0)
                                return r;
                }

        for (unsigned node = 0; node < t->nr_nodes; node++)
                t->nodes[node].free_bytes = free_bytes[node];
        refresh_watermarks(t);
        return 0;
}

/* True when the first "flags" line of cpuinfo holds the word "hypervisor". */
static bool cpuinfo_says_nested(const char *text) {
        const char *line = text;

        while (line && *line) {
                const char *eol = strchrnul(line, '\n');

                if (strncmp(line, "flags", 5) == 0) {
                        const char *colon = memchr(line, ':', (size_t)(eol - line));

                        for (const char *w = colon ? colon + 1 : eol; w < eol;) {
                                size_t len;

                                w += strspn(w, " \t");
                                len = strcspn(w, " \t\n");
                                if (len == 10 && strncmp(w, "hypervisor", 10) == 0)
                                        return true;
                                w += len;
                        }
                        return false;
                }
                line = *eol ? eol + 1 : NULL;
        }
        return false;
}

static void read_nested(nv_topology *t) {
        _cleanup_free_ char *full = NULL, *text = NULL;
        int r;

        full = nv_root_path(t->root, "/proc/cpuinfo");
        if (!full)
                return;
        r = nv_read_file_at(AT_FDCWD, full, &text, NULL);
        if (r < 0) {
                log_warning_errno(r, "Failed to read %s, assuming bare metal, ignoring: %m", full);
                return;
        }
        t->nested = cpuinfo_says_nested(text);
}

int nv_topology_load(const char *root, const char *xml, const char *synthetic, nv_topology *ret) {
        _cleanup_(nv_topology_done) nv_topology t = {};
        _cleanup_free_ char *node_dir = NULL;
        int r;

        t.root = strdup(root ?: "");
        node_dir = nv_root_path(root, NODE_DIR);
        if (!t.root || !node_dir)
                return log_oom();
        t.numa_sysfs = access(node_dir, F_OK) >= 0;

        r = load_hwloc(xml, synthetic, &t);
        if (r < 0)
                return r;
        r = nv_topology_refresh_memory(&t);
        if (r < 0)
                return log_error_errno(r, "No free memory for hwloc's nodes below %s/: %m", t.root);
        read_nested(&t);

        *ret = t;
        t = (nv_topology){};
        return 0;
}

void nv_topology_done(nv_topology *t) {
        if (!t)
                return;
        free(t->root);
        free(t->cpu_node);
        *t = (nv_topology){};
}

int nv_topology_cpu_node(const nv_topology *t, int cpu) {
        if (cpu < 0 || (unsigned)cpu >= t->nr_cpus || t->cpu_node[cpu] < 0)
                return -ENOENT;
        return t->cpu_node[cpu];
}

void nv_topology_fill_inventory(const nv_topology *t, nv_inventory *inv) {
        inv->nr_nodes = t->nr_nodes;
        memcpy(inv->nodes, t->nodes, sizeof(inv->nodes));
        memcpy(inv->distance, t->distance, sizeof(inv->distance));
        inv->nested = t->nested;
}
