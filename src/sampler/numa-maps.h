/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Where a VM's guest RAM sits, per host node, from /proc/PID/numa_maps: the kernel's own count of
 * the resident pages of each mapping on each node ("N1=512"), times the mapping's page size
 * ("kernelpagesize_kB=2048" for hugetlbfs). Exact, unlike the heat map's sampled move_pages
 * queries, but the kernel walks every page table of the process to produce it: for reports,
 * not for every sampling round. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/inventory.h"

typedef struct nv_numa_maps {
        uint64_t node_bytes[NV_MAX_NODES]; /* resident bytes on each node */
        uint64_t total_bytes;              /* sum of node_bytes */
        unsigned nr_mappings;              /* mappings counted */
} nv_numa_maps;

/* Sum the numa_maps text of one process over the mappings that start inside one of the n ranges
 * (every mapping when n is 0). Nodes beyond NV_MAX_NODES are left out. 0 or -EINVAL on a line
 * that is not numa_maps. Pure. */
int nv_numa_maps_parse(const char *text, const nv_ram_range *ranges, size_t n, nv_numa_maps *ret);

/* The same for PROC_ROOT/PID/numa_maps (proc_root NULL: "/proc"). -ESRCH when the process is gone,
 * -EOPNOTSUPP when the kernel has no NUMA support (no numa_maps), else 0 or -errno. */
int nv_numa_maps_read(const char *proc_root, pid_t pid, const nv_ram_range *ranges, size_t n,
                      nv_numa_maps *ret);
