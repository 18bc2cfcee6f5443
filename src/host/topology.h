/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The host's NUMA topology, loaded one way: through hwloc. hwloc gives the nodes (by their OS
 * index, the numbers move_pages(2) takes), each node's CPUs and total memory, and the distances
 * between nodes (the OS's latency matrix, the SLIT). The real host lets hwloc discover this
 * system; tests hand it a saved XML (hwloc_topology_set_xml) or a synthetic description
 * (hwloc_topology_set_synthetic). What hwloc does not know is read below an injectable root:
 *   ROOT/sys/devices/system/node/nodeN/meminfo  free memory per node (MemFree), refreshed often;
 *   ROOT/proc/meminfo                           the same for the one node of a kernel without NUMA
 *                                               (no ROOT/sys/devices/system/node);
 *   ROOT/proc/zoneinfo                          each node's high watermarks, read at load and
 *                                               every NV_TOPOLOGY_WATERMARK_REFRESHES refreshes;
 *   ROOT/proc/cpuinfo                           the "hypervisor" flag: the host is itself a guest.
 *
 * Nodes are indexed by their OS index: nr_nodes is the highest node + 1, and a hole (an offline
 * node) has no memory, no CPUs and distance 255 (unreachable, as in the SLIT) to the others. A CPU
 * belongs to the node with the fewest CPUs whose cpuset holds it: hwloc gives a CPU-less node
 * (memory only, e.g. CXL) the cpuset of the object it hangs from, which is never smaller. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/inventory.h"

/* CPU numbers beyond this are refused (a bound on the CPU map's size). */
#define NV_TOPOLOGY_MAX_CPUS    16384u
#define NV_DISTANCE_UNREACHABLE 255
/* The watermarks change only when min_free_kbytes or watermark_scale_factor is written, memory is
 * hot-plugged, or a boost comes and goes, and the kernel prints /proc/zoneinfo holding each
 * zone's lock: it is read at one refresh in 60 (one epoch in 60), not at every one. */
#define NV_TOPOLOGY_WATERMARK_REFRESHES 60u

typedef struct nv_topology {
        char *root;        /* "" for "/" */
        bool numa_sysfs;   /* ROOT/sys/devices/system/node exists; false: free memory from /proc/meminfo */
        unsigned nr_nodes; /* highest node + 1 */
        uint32_t online;   /* bit n: node n exists */
        nv_node_info nodes[NV_MAX_NODES];
        uint8_t distance[NV_MAX_NODES][NV_MAX_NODES];
        bool nested;
        int *cpu_node;    /* by CPU number: its node, or -1 */
        unsigned nr_cpus; /* length of cpu_node: highest CPU seen + 1 */
        /* Refreshes so far: the watermarks are read at the first and every
         * NV_TOPOLOGY_WATERMARK_REFRESHES-th. */
        unsigned refreshes;
} nv_topology;

/* Load the topology with hwloc: from the XML file xml, else from the synthetic description
 * synthetic, else by discovering this system (disallowed CPUs and nodes included: numavd serves
 * the whole machine, not its own cgroup). Then read free memory and the nested flag below root
 * (NULL or "" for "/"). Two nodes without a distance between them get 20 (remote). 0, -EINVAL
 * (an unusable XML file or description), -ENOENT (no NUMA node, or no free memory for one of
 * hwloc's nodes below root), -ENOMEM, or the error reading free memory; *ret untouched on
 * failure. */
int nv_topology_load(const char *root, const char *xml, const char *synthetic, nv_topology *ret);
/* Free what t holds and reset it; accepts NULL. */
void nv_topology_done(nv_topology *t);

/* Re-read every node's free memory (it changes; CPUs, distances and totals do not), and its high
 * watermarks when they are due. On failure the nodes keep their last values; watermarks that
 * cannot be read (no ROOT/proc/zoneinfo) stay 0, unknown, and fail nothing. */
int nv_topology_refresh_memory(nv_topology *t);

/* The node of a CPU, or -ENOENT when the CPU is unknown. */
int nv_topology_cpu_node(const nv_topology *t, int cpu);

/* Copy nodes, distances and the nested flag into an inventory (its VMs are left alone). */
void nv_topology_fill_inventory(const nv_topology *t, nv_inventory *inv);

/* Parse a kernel CPU or node list ("0-3,8,10-11\n"; "" is empty), as in sysfs and libvirt's
 * cpus= attributes, into numbers, in order, each below max (the grammar: nv_cpulist_next() in
 * common/parse.h). 0, -EINVAL on a syntax error, -ERANGE beyond max, -ENOMEM. */
int nv_cpulist_parse(const char *s, unsigned max, unsigned **ret_list, size_t *ret_n);
