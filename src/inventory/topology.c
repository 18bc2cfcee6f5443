/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "inventory/fileio.h"
#include "inventory/topology.h"

#define NODE_DIR "/sys/devices/system/node"

int nv_cpulist_parse(const char *s, unsigned max, unsigned **ret_list, size_t *ret_n) {
        _cleanup_free_ unsigned *list = NULL;
        size_t n = 0, allocated = 0;
        const char *p = s;

        for (;;) {
                unsigned long lo, hi;
                char *end;

                while (*p == ' ' || *p == '\t' || *p == '\n')
                        p++;
                if (!*p)
                        break;

                if (*p < '0' || *p > '9')
                        return -EINVAL;
                lo = strtoul(p, &end, 10);
                hi = lo;
                p = end;
                if (*p == '-') {
                        p++;
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                        hi = strtoul(p, &end, 10);
                        p = end;
                }
                if (hi < lo)
                        return -EINVAL;
                if (hi >= max)
                        return -ERANGE;
                if (*p == ',')
                        p++;
                else if (*p && *p != '\n' && *p != ' ')
                        return -EINVAL;

                for (unsigned long v = lo; v <= hi; v++) {
                        if (n == allocated) {
                                size_t want = allocated ? allocated * 2 : 16;
                                unsigned *q = realloc(list, want * sizeof(*list));
                                if (!q)
                                        return -ENOMEM;
                                list = q;
                                allocated = want;
                        }
                        list[n++] = (unsigned)v;
                }
        }

        *ret_list = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int read_list(const char *root, const char *path, unsigned max, unsigned **ret_list, size_t *ret_n) {
        _cleanup_free_ char *full = NULL, *text = NULL;
        int r;

        full = nv_root_path(root, path);
        if (!full)
                return -ENOMEM;
        r = nv_read_file_at(AT_FDCWD, full, &text, NULL);
        if (r < 0)
                return r;
        r = nv_cpulist_parse(text, max, ret_list, ret_n);
        if (r < 0)
                return log_error_errno(r, "Failed to parse %s: %m", full);
        return 0;
}

static int map_cpus(nv_topology *t, const unsigned *cpus, size_t n, int node) {
        for (size_t i = 0; i < n; i++) {
                if (cpus[i] >= t->nr_cpus) {
                        unsigned want = cpus[i] + 1;
                        int *p = realloc(t->cpu_node, want * sizeof(*p));
                        if (!p)
                                return -ENOMEM;
                        for (unsigned c = t->nr_cpus; c < want; c++)
                                p[c] = -1;
                        t->cpu_node = p;
                        t->nr_cpus = want;
                }
                t->cpu_node[cpus[i]] = node;
        }
        return 0;
}

/* "Node 0 MemTotal:  4548824 kB" (nodeN/meminfo) or "MemTotal:  4548824 kB" (/proc/meminfo). */
static int parse_meminfo(const char *text, nv_node_info *ret) {
        uint64_t total = UINT64_MAX, free_kb = UINT64_MAX;

        for (const char *line = text, *next; line && *line; line = next) {
                const char *key = line;
                uint64_t *dst;
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
                if (strncmp(key, "MemTotal:", 9) == 0)
                        dst = &total;
                else if (strncmp(key, "MemFree:", 8) == 0)
                        dst = &free_kb;
                else
                        continue;

                key = strchr(key, ':') + 1;
                errno = 0;
                *dst = strtoull(key, &end, 10);
                if (errno != 0 || end == key)
                        return -EINVAL;
        }

        if (total == UINT64_MAX || free_kb == UINT64_MAX)
                return -EINVAL;
        *ret = (nv_node_info){ .total_bytes = total * KIB, .free_bytes = free_kb * KIB };
        return 0;
}

static int read_meminfo(const char *root, const char *path, nv_node_info *ret) {
        _cleanup_free_ char *full = NULL, *text = NULL;
        int r;

        full = nv_root_path(root, path);
        if (!full)
                return -ENOMEM;
        r = nv_read_file_at(AT_FDCWD, full, &text, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", full);
        r = parse_meminfo(text, ret);
        if (r < 0)
                return log_error_errno(r, "Failed to parse %s: no MemTotal or MemFree", full);
        return 0;
}

/* nodeN/distance lists one distance per online node, in the order of the online list. */
static int read_distances(nv_topology *t, unsigned node, const unsigned *online, size_t nr_online) {
        _cleanup_free_ char *path = NULL, *full = NULL, *text = NULL;
        const char *p;
        int r;

        if (asprintf(&path, NODE_DIR "/node%u/distance", node) < 0)
                return -ENOMEM;
        full = nv_root_path(t->root, path);
        if (!full)
                return -ENOMEM;
        r = nv_read_file_at(AT_FDCWD, full, &text, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", full);

        p = text;
        for (size_t i = 0; i < nr_online; i++) {
                unsigned long d;
                char *end;

                d = strtoul(p, &end, 10);
                if (end == p)
                        return log_error_errno(-EINVAL, "%s lists fewer distances than online nodes", full);
                p = end;
                if (online[i] < NV_MAX_NODES)
                        t->distance[node][online[i]] = (uint8_t)MIN(d, (unsigned long)UINT8_MAX);
        }
        return 0;
}

static int load_node(nv_topology *t, unsigned node, const unsigned *online, size_t nr_online) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ unsigned *cpus = NULL;
        size_t nr_cpus;
        int r;

        if (asprintf(&path, NODE_DIR "/node%u/cpulist", node) < 0)
                return -ENOMEM;
        r = read_list(t->root, path, NV_TOPOLOGY_MAX_CPUS, &cpus, &nr_cpus);
        if (r < 0)
                return log_error_errno(r, "Failed to read the CPUs of node %u: %m", node);
        r = map_cpus(t, cpus, nr_cpus, (int)node);
        if (r < 0)
                return r;

        free(path);
        if (asprintf(&path, NODE_DIR "/node%u/meminfo", node) < 0)
                return -ENOMEM;
        r = read_meminfo(t->root, path, &t->nodes[node]);
        if (r < 0)
                return r;

        return read_distances(t, node, online, nr_online);
}

static int load_numa(nv_topology *t, const unsigned *online, size_t nr_online) {
        int r;

        for (size_t i = 0; i < nr_online; i++) {
                if (online[i] >= NV_MAX_NODES) {
                        log_warning("Node %u is beyond the %d nodes numavd handles, ignoring.", online[i],
                                    NV_MAX_NODES);
                        continue;
                }
                t->online |= UINT32_C(1) << online[i];
                t->nr_nodes = MAX(t->nr_nodes, online[i] + 1);
        }
        if (t->online == 0)
                return log_error_errno(-ENOENT, "No online NUMA node below %d", NV_MAX_NODES);

        for (unsigned a = 0; a < NV_MAX_NODES; a++)
                for (unsigned b = 0; b < NV_MAX_NODES; b++)
                        t->distance[a][b] = a == b ? 10 : NV_DISTANCE_UNREACHABLE;

        for (unsigned node = 0; node < t->nr_nodes; node++) {
                if (!(t->online & (UINT32_C(1) << node)))
                        continue;
                r = load_node(t, node, online, nr_online);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* No NUMA in sysfs: one node 0 with every online CPU and all memory. */
static int load_flat(nv_topology *t) {
        _cleanup_free_ unsigned *cpus = NULL;
        size_t nr_cpus;
        int r;

        r = read_list(t->root, "/sys/devices/system/cpu/online", NV_TOPOLOGY_MAX_CPUS, &cpus, &nr_cpus);
        if (r < 0)
                return log_error_errno(r, "Failed to read the online CPUs: %m");
        r = map_cpus(t, cpus, nr_cpus, 0);
        if (r < 0)
                return r;

        t->nr_nodes = 1;
        t->online = 1;
        t->distance[0][0] = 10;
        return read_meminfo(t->root, "/proc/meminfo", &t->nodes[0]);
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

int nv_topology_load(const char *root, nv_topology *ret) {
        _cleanup_(nv_topology_done) nv_topology t = {};
        _cleanup_free_ unsigned *online = NULL;
        size_t nr_online;
        int r;

        t.root = strdup(root ? root : "");
        if (!t.root)
                return -ENOMEM;

        r = read_list(t.root, NODE_DIR "/online", NV_TOPOLOGY_MAX_CPUS, &online, &nr_online);
        if (r == -ENOENT) {
                log_debug("No %s%s: a kernel without NUMA, one node.", t.root, NODE_DIR);
                r = load_flat(&t);
        } else if (r >= 0) {
                t.numa_sysfs = true;
                r = load_numa(&t, online, nr_online);
        } else
                log_error_errno(r, "Failed to read the online NUMA nodes: %m");
        if (r < 0)
                return r;

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

int nv_topology_refresh_memory(nv_topology *t) {
        int r;

        if (!t->numa_sysfs)
                return read_meminfo(t->root, "/proc/meminfo", &t->nodes[0]);

        for (unsigned node = 0; node < t->nr_nodes; node++) {
                _cleanup_free_ char *path = NULL;

                if (!(t->online & (UINT32_C(1) << node)))
                        continue;
                if (asprintf(&path, NODE_DIR "/node%u/meminfo", node) < 0)
                        return -ENOMEM;
                r = read_meminfo(t->root, path, &t->nodes[node]);
                if (r < 0)
                        return r;
        }
        return 0;
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
