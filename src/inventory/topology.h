/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The host's NUMA topology from sysfs, below an injectable root: online nodes, each node's CPUs,
 * memory and distances, and a CPU -> node map. Plain parsing of
 *   ROOT/sys/devices/system/node/online
 *   ROOT/sys/devices/system/node/nodeN/{cpulist,meminfo,distance}
 *   ROOT/proc/cpuinfo (the "hypervisor" flag: the host is itself a guest).
 * A kernel without NUMA (no node directory) is described as one node 0 holding every online CPU
 * (ROOT/sys/devices/system/cpu/online) and all memory (ROOT/proc/meminfo).
 *
 * Nodes are indexed by their kernel node number, so that the inventory's node indices are the
 * numbers move_pages(2) takes: nr_nodes is the highest online node + 1, and a hole (an offline
 * node) has no memory, no CPUs and distance 255 (unreachable, as in the SLIT) to the others. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/inventory.h"

/* CPU numbers beyond this are refused (a bound on the CPU map's size). */
#define NV_TOPOLOGY_MAX_CPUS    16384u
#define NV_DISTANCE_UNREACHABLE 255

typedef struct nv_topology {
        char *root;        /* "" for "/" */
        bool numa_sysfs;   /* false: the one-node fallback */
        unsigned nr_nodes; /* highest online node + 1 */
        uint32_t online;   /* bit n: node n is online */
        nv_node_info nodes[NV_MAX_NODES];
        uint8_t distance[NV_MAX_NODES][NV_MAX_NODES];
        bool nested;
        int *cpu_node;    /* by CPU number: its node, or -1 */
        unsigned nr_cpus; /* length of cpu_node: highest CPU seen + 1 */
} nv_topology;

/* Read the topology below root (NULL or "" for "/"). 0 or -errno. */
int nv_topology_load(const char *root, nv_topology *ret);
/* Free what t holds and reset it; accepts NULL. */
void nv_topology_done(nv_topology *t);

/* Re-read every online node's MemTotal and MemFree (they change; CPUs and distances do not). */
int nv_topology_refresh_memory(nv_topology *t);

/* The node of a CPU, or -ENOENT when the CPU is unknown. */
int nv_topology_cpu_node(const nv_topology *t, int cpu);

/* Copy nodes, distances and the nested flag into an inventory (its VMs are left alone). */
void nv_topology_fill_inventory(const nv_topology *t, nv_inventory *inv);

/* Parse a kernel CPU or node list ("0-3,8,10-11\n"; "" is empty) into numbers, in order, each
 * below max. 0, -EINVAL on a syntax error, -ERANGE beyond max, -ENOMEM. */
int nv_cpulist_parse(const char *s, unsigned max, unsigned **ret_list, size_t *ret_n);
