/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the balloon and KSM ports (model/host.h) read and write: plain structs, shared by the
 * actuators (src/migrate), the policies (src/policy) and the daemon. No I/O. */

#include <stdbool.h>
#include <stdint.h>

#define NV_BALLOON_UNKNOWN UINT64_MAX

/* virDomainMemoryStats, in bytes; NV_BALLOON_UNKNOWN where the guest did not report. */
typedef struct nv_balloon_stats {
        uint64_t actual;
        uint64_t usable;
        uint64_t available;
        uint64_t swap_in, swap_out; /* cumulative, bytes */
        uint64_t major_faults;      /* cumulative count */
        int64_t last_update;        /* seconds since the epoch (wall clock); 0 when unknown */
} nv_balloon_stats;

/* A VM's balloon: its device, its maximum and what the guest reports. */
typedef struct nv_balloon_info {
        bool has_device;          /* a virtio balloon */
        bool autodeflate;         /* deflate-on-oom */
        bool free_page_reporting; /* the guest reports free pages to the host */
        uint64_t max_bytes;       /* the domain's maximum memory */
        bool has_floor;           /* a floor from the VM's own metadata */
        bool floor_is_percent;
        uint64_t floor_bytes;
        double floor_fraction;
        nv_balloon_stats stats;
} nv_balloon_info;

/* /sys/kernel/mm/ksm as read at one moment. Values the kernel lacks are -1. */
typedef struct nv_ksm_state {
        int run; /* 0, 1, 2 */
        int64_t pages_to_scan;
        int64_t sleep_millisecs;
        int merge_across_nodes; /* -1: no such knob (kernel without NUMA) */
        int64_t pages_shared, pages_sharing, pages_unshared, pages_volatile;
        int64_t full_scans;
        int64_t general_profit; /* bytes; INT64_MIN when the kernel lacks it */
} nv_ksm_state;

/* The knobs numavd writes; a negative value leaves that knob alone. */
typedef struct nv_ksm_knobs {
        int run;            /* 0 or 1 */
        bool unmerge_first; /* write run=2 before merge_across_nodes */
        int merge_across_nodes;
        int64_t pages_to_scan;
        int64_t sleep_millisecs;
} nv_ksm_knobs;

/* /proc/PID/ksm_stat of one VMM. */
typedef struct nv_ksm_vm_stat {
        int64_t merging_pages; /* ksm_merging_pages */
        int64_t rmap_items;    /* ksm_rmap_items */
        int64_t profit;        /* ksm_process_profit, bytes; INT64_MIN when absent */
} nv_ksm_vm_stat;
