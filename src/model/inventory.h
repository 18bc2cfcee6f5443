/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the daemon knows about the host and its VMs at one moment: the output of a VM source
 * (libvirt, /proc, or the simulated host), the input of the sampler and of the policy.
 * Plain structs, no I/O. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/macro.h"

#define NV_MAX_NODES  16
#define NV_PAGE_SHIFT 12
#define NV_PAGE_SIZE  (UINT64_C(1) << NV_PAGE_SHIFT)
#define NV_HUGE_SHIFT 21
#define NV_HUGE_SIZE  (UINT64_C(1) << NV_HUGE_SHIFT)

typedef enum nv_backing {
        NV_BACKING_ANON,    /* anonymous 4 KiB pages */
        NV_BACKING_THP,     /* anonymous, transparent huge pages */
        NV_BACKING_HUGETLB, /* hugetlbfs, 2 MiB */
        NV_BACKING_SHARED,  /* memfd or shared file mapping, 4 KiB */
        NV_BACKING_PINNED,  /* pinned for device DMA (VFIO): never moved */
        _NV_BACKING_MAX,
} nv_backing;

const char *nv_backing_to_string(nv_backing b);
int nv_backing_from_string(const char *s); /* nv_backing or -EINVAL */
/* The unit in which the backing is placed: 2 MiB for huge backings, 4 KiB otherwise. */
unsigned nv_backing_page_shift(nv_backing b);
bool nv_backing_movable(nv_backing b);

/* One guest RAM range in the VMM's address space. */
typedef struct nv_ram_range {
        uint64_t hva;  /* start in the VMM's address space, aligned to the backing's page */
        uint64_t size; /* bytes, a multiple of the backing's page */
        uint64_t gpa;  /* guest-physical base */
        nv_backing backing;
        int cell; /* guest NUMA (vNUMA) cell the range belongs to, or -1 */
} nv_ram_range;

/* Where vCPUs ran during the last epoch: run time per host node, in seconds. */
typedef struct nv_node_time {
        double sec[NV_MAX_NODES];
} nv_node_time;

typedef struct nv_vm_info {
        uint64_t id; /* unique for the daemon's lifetime, never reused */
        char *name;
        char uuid[37]; /* "" when unknown */
        pid_t pid;     /* the VMM process */
        unsigned nr_vcpus;
        nv_node_time vcpu_time; /* all vCPUs */
        nv_ram_range *ranges;
        size_t nr_ranges;
        nv_node_time *cell_time; /* per vNUMA cell: run time of that cell's vCPUs */
        unsigned nr_cells;
        bool migrating; /* the VM source says an outgoing live migration (or save) of it runs */
} nv_vm_info;

typedef struct nv_node_info {
        uint64_t total_bytes;
        uint64_t free_bytes;
        /* The kernel's high watermarks, summed over the node's zones: below them kswapd reclaims
         * from the node (and NUMA balancing migrates nothing to it). 0: unknown. */
        uint64_t high_wmark_bytes;
} nv_node_info;

typedef struct nv_inventory {
        unsigned nr_nodes;
        nv_node_info nodes[NV_MAX_NODES];
        uint8_t distance[NV_MAX_NODES][NV_MAX_NODES]; /* SLIT style: 10 local */
        bool nested;                                  /* the host itself runs under a hypervisor */
        nv_vm_info *vms;
        size_t nr_vms;
} nv_inventory;

void nv_vm_info_clear(nv_vm_info *vm);
/* Deep copy; 0 or -ENOMEM. */
int nv_vm_info_copy(nv_vm_info *dst, const nv_vm_info *src);
void nv_inventory_clear(nv_inventory *inv);
const nv_vm_info *nv_inventory_find(const nv_inventory *inv, uint64_t id);
/* Total guest RAM of a VM, in bytes. */
uint64_t nv_vm_ram_bytes(const nv_vm_info *vm);
