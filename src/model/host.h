/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The narrow ports through which the epoch reaches a host. The real host (libvirt, /proc, the
 * kernel) and the simulated host (src/sim) both implement them; the epoch code never asks which
 * one it has. Every operation returns 0 (or a documented non-negative value) or a negative errno. */

#include "model/inventory.h"
#include "model/overcommit.h"

/* VM source: what VMs exist, where their vCPUs ran, where their RAM is. */
typedef struct nv_vm_source_ops {
        /* Replace *inv (cleared by the caller beforehand) with the current inventory. */
        int (*refresh)(void *ctx, nv_inventory *inv);
} nv_vm_source_ops;

enum {
        /* Also invalidate cached translations (TLB, a nested host's shadow tables), so that the
         * next access sets the accessed bit again. */
        NV_HARVEST_FLUSH = 1 << 0,
};

/* A region of guest RAM as a self-aggregating access backend reports it. */
typedef struct nv_access_region {
        uint64_t start, end; /* [start, end) in the VMM's address space */
        float heat;          /* share of the backend's samples that saw an access, [0, 1] */
        uint32_t age;        /* aggregation intervals the access pattern has held */
} nv_access_region;

/* Access sampler: test-and-clear the accessed bits of guest memory. */
typedef struct nv_access_ops {
        const char *name;
        /* Called once for each VM the daemon starts tracking; may be NULL. */
        int (*attach)(void *ctx, const nv_vm_info *vm);
        /* Called when the VM is forgotten; may be NULL. Never fails. */
        void (*detach)(void *ctx, uint64_t vm_id);
        /* For each of the n blocks of (1 << shift) bytes starting at addrs[i] (aligned, inside
         * the VM's RAM ranges), set ret_accessed[i] to 1 if any byte of it was accessed since its
         * bits were last cleared, else 0, and clear them. Returns the NV_HARVEST_* flags that
         * were honoured (NV_HARVEST_FLUSH when translations were flushed), or -errno. */
        int (*harvest)(void *ctx, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                       unsigned flags, uint8_t *ret_accessed);
        /* Optional, for backends that aggregate on their own (DAMON): the VM's regions as the
         * backend last saw them, each with a heat in [0, 1], in address order; *ret is freed by
         * the caller. When set, the epoch uses it instead of sampling through harvest (which may
         * then be NULL). 0 or -errno (-EAGAIN: nothing aggregated yet). */
        int (*regions)(void *ctx, const nv_vm_info *vm, nv_access_region **ret, size_t *ret_n);
        /* Optional: free ctx and undo everything the backend did to the kernel. */
        void (*destroy)(void *ctx);
} nv_access_ops;

/* One sampled guest memory fault: the first access to a zapped block after the zap (or, from a
 * port that re-arms, the first access of a second vCPU), and who made it. Accessed bits say how
 * hot memory is; these say which vCPU, and so which node, touches it. */
typedef struct nv_fault {
        uint64_t hva;  /* the faulting block's address in the VMM's address space, block aligned */
        uint32_t vcpu; /* the vCPU's index in creation order (not the id user space chose) */
        int16_t node;  /* host node of the CPU the vCPU ran on when it faulted, -1 unknown */
        uint8_t shift; /* the block size the fault stands for: 12 (4 KiB) or 21 (2 MiB) */
        uint8_t __pad;
} nv_fault;

/* Attribution sampler: make a bounded sample of guest memory fault on its next access in the
 * second-level page tables (no data moves, the host page tables are untouched), and read back
 * which vCPU faulted on what. Optional: a host without it places whole VMs. */
typedef struct nv_attribution_ops {
        const char *name;
        /* Called once for each VM the daemon starts tracking; may be NULL. */
        int (*attach)(void *ctx, const nv_vm_info *vm);
        /* Called when the VM is forgotten; may be NULL. Never fails. */
        void (*detach)(void *ctx, uint64_t vm_id);
        /* Zap the n blocks of (1 << shift) bytes at addrs[i] (aligned, inside the VM's RAM
         * ranges), so that the next access to each is recorded as a fault; a port may re-arm a
         * block after that fault and record the next one too when another vCPU makes it (at
         * most one record per block and vCPU). Returns the number of blocks zapped, or -errno
         * (-ESRCH: the VMM is gone). */
        int (*zap)(void *ctx, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift);
        /* Move up to cap recorded faults of the VM into ret, oldest first. Returns the number
         * moved, or -errno; *ret_dropped receives the faults lost (ring full) since the last
         * drain. */
        int (*drain)(void *ctx, const nv_vm_info *vm, nv_fault *ret, size_t cap, uint64_t *ret_dropped);
        /* Optional: free ctx and undo everything the backend did to the kernel. */
        void (*destroy)(void *ctx);
} nv_attribution_ops;

/* Page mover: move_pages(2) semantics for the VM's VMM process. */
typedef struct nv_mover_ops {
        /* addrs: n page-aligned addresses; for a huge backing, the address of each 2 MiB page
         * (the whole huge page moves). nodes == NULL queries only. ret_status[i] receives the node
         * the page is on after the call, or -errno for that page (-EBUSY, -ENOMEM, -EFAULT,
         * -ENOENT, -EACCES, -EINVAL). Returns 0, or -errno when the call as a whole failed
         * (-ESRCH: the VMM is gone; -ENODEV or -EINVAL: a bad node). */
        int (*move_pages)(void *ctx, const nv_vm_info *vm, size_t n, const uint64_t *addrs, const int *nodes,
                          int *ret_status);
} nv_mover_ops;

/* Balloon control: a VM's virtio balloon (virDomainMemoryStats, virDomainSetMemory). */
typedef struct nv_balloon_ops {
        /* The VM's balloon device, maximum, floor metadata and statistics. -ENOENT: the VM is
         * unknown to this port (not a libvirt domain); -EAGAIN: not reachable now. */
        int (*get_stats)(void *ctx, const nv_vm_info *vm, nv_balloon_info *ret);
        /* Ask the balloon for a target size in bytes, live. 0 or -errno. */
        int (*set_target)(void *ctx, const nv_vm_info *vm, uint64_t bytes);
        void (*destroy)(void *ctx); /* may be NULL */
} nv_balloon_ops;

/* KSM control: the host's KSM knobs and counters, per-VMM merge statistics. */
typedef struct nv_ksm_ops {
        int (*read)(void *ctx, nv_ksm_state *ret);
        /* Write the knobs that differ from cur (run=2 first when asked). 0 or -errno. */
        int (*write)(void *ctx, const nv_ksm_state *cur, const nv_ksm_knobs *knobs);
        /* /proc/PID/ksm_stat of the VM's VMM; may be NULL. */
        int (*vm_stat)(void *ctx, const nv_vm_info *vm, nv_ksm_vm_stat *ret);
        /* ksmd's CPU time so far in microseconds; may be NULL. 0 or -errno. */
        int (*ksmd_cpu)(void *ctx, uint64_t *ret_usec);
        /* Restore what was found at start and free ctx; may be NULL. */
        void (*destroy)(void *ctx);
} nv_ksm_ops;

/* What only a simulated host knows: the workload's true hot set and where it sits. */
typedef struct nv_truth {
        uint64_t hot_bytes;       /* bytes of the VM's current hot set */
        uint64_t hot_local_bytes; /* of those, on the node the accessing vCPUs ran on */
        /* Of the hot bytes, those one node's vCPUs make at least 2/3 of the accesses to (private
         * data: attributable to a node), and of those, the bytes on that node. */
        uint64_t owned_hot_bytes, owned_local_bytes;
        uint64_t cold_bytes_moved; /* bytes of cold memory moved since the start */
        uint64_t bytes_moved;      /* all bytes moved since the start */
        double remote_fraction;    /* of memory accesses in the last epoch, the remote share */
        double mean_latency_ns;    /* mean memory access latency in the last epoch */
} nv_truth;

/* What an access backend the host opens on demand is given: the host's nesting and the
 * self-aggregating backends' intervals and region bounds ([Sampling] Damon*=). */
typedef struct nv_access_params {
        bool nested;            /* the host is itself a guest: harvest with flushes */
        usec_t sample_interval; /* a self-aggregating backend's sampling interval */
        usec_t aggr_interval;   /* and its aggregation interval */
        unsigned min_regions;   /* per VM, >= 3 */
        unsigned max_regions;   /* per VM, >= min_regions */
} nv_access_params;

/* An access sampler a host offers as Backend=NAME: open sets *ret_ops and *ret_ctx (freed through
 * ret_ops->destroy) or returns -errno, and says in log what it is (describe). */
typedef struct nv_access_backend {
        const char *name;     /* as Backend= names it */
        const char *describe; /* "Access sampling through <describe>." */
        const char *hint;     /* NULL, or what to check when Backend=NAME fails */
        int (*open)(const nv_access_params *p, const nv_access_ops **ret_ops, void **ret_ctx);
} nv_access_backend;

/* The host's memory as the overcommit step sees it. */
typedef struct nv_host_memory {
        uint64_t total_bytes;     /* MemTotal */
        uint64_t available_bytes; /* MemAvailable */
        double psi_some_avg10;    /* memory pressure (PSI), -1: unknown */
        double psi_full_avg10;
} nv_host_memory;

/* Where a host's per-VM counters are read: perf events of the vCPU threads, KVM's statistics,
 * numa_maps, soft-dirty bits. */
typedef struct nv_counter_sources {
        const char *proc_root; /* NULL: "/proc" */
        const char *debugfs;   /* NULL: "/sys/kernel/debug" */
} nv_counter_sources;

typedef struct nv_host {
        const char *kind; /* "real", "sim": for reports only */
        void *ctx;
        const nv_vm_source_ops *source;
        const nv_access_ops *access; /* NULL: no built-in access sampler */
        void *access_ctx;
        /* The access samplers the host can open on demand, in Backend=auto's order after .access. */
        const nv_access_backend *access_backends;
        size_t nr_access_backends;
        const nv_mover_ops *mover;
        void *mover_ctx;
        const nv_attribution_ops *attribution; /* NULL: no attribution source; whole-VM placement */
        void *attribution_ctx;
        /* Optional: let dt of virtual time pass (a simulated host). */
        void (*advance)(void *ctx, usec_t dt);
        /* Optional: ground truth for a VM (a simulated host); -ENOENT if unknown. */
        int (*truth)(void *ctx, uint64_t vm_id, nv_truth *ret);
        /* Optional: the host's memory, for the overcommit step. 0 or -errno. */
        int (*memory)(void *ctx, nv_host_memory *ret);
        /* Optional: where per-VM counters are read; NULL: the host has none. */
        const nv_counter_sources *counters;
        /* Optional: balloon and KSM control, owned by the host (its destroy frees them). */
        const nv_balloon_ops *balloon;
        void *balloon_ctx;
        const nv_ksm_ops *ksm;
        void *ksm_ctx;
        void (*destroy)(void *ctx);
} nv_host;

void nv_host_destroy(nv_host *h);
