/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The simulated host: NUMA nodes, CPUs, VMs with vCPUs that run where their schedule says, guest
 * pages with accessed and dirty bits set where hardware sets them (behind a TLB-like cache of
 * translations), workloads, and nested L2 guests. Deterministic for a seed. It implements the
 * same ports as the real host (model/host.h), and charges every operation what it costs on real
 * hardware (sim/costs.h). The scenario format is documented in docs/scenario.md. */

#include <stdio.h>

#include "model/host.h"

typedef struct nv_sim nv_sim;

/* Parse a scenario. On a syntax or range error, log "FILE:LINE: message" and return -EINVAL.
 * nv_sim_load_buffer() takes size bytes that may hold a NUL, which is such an error. */
int nv_sim_load_file(const char *path, nv_sim **ret);
int nv_sim_load_buffer(const char *data, size_t size, const char *name, nv_sim **ret);
int nv_sim_load_string(const char *text, const char *name, nv_sim **ret);
nv_sim *nv_sim_free(nv_sim *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_sim *, nv_sim_free);

/* Fill *ret with the sim's ports; the sim stays owned by the caller (ret->destroy is NULL)
 * unless take_ownership is set. */
void nv_sim_host(nv_sim *s, bool take_ownership, nv_host *ret);

void nv_sim_advance(nv_sim *s, usec_t dt);

/* Ground truth for a VM (the host port's truth()); -ENOENT if unknown. */
int nv_sim_truth(nv_sim *s, uint64_t vm_id, nv_truth *ret);

/* Test-and-clear the dirty bits, like the access port's harvest() does for accessed bits (for
 * dirty-rate work; no translation cache is modelled for them). -ESRCH, -EINVAL as harvest(). */
int nv_sim_harvest_dirty(nv_sim *s, uint64_t vm_id, const uint64_t *addrs, size_t n, unsigned shift,
                         uint8_t *ret_dirty);

/* One backing page (4 KiB, or 2 MiB for huge backings) as the workloads see it right now. */
typedef struct nv_sim_page {
        int node; /* the node it sits on */
        bool hot; /* inside a current hot set (the VM's or an L2's) */
        /* Accesses per second, by the host node of the CPU each accessing vCPU runs on now: what
         * a NUMA hinting fault would reveal (the faulting CPU's node is drawn from these). */
        double rates[NV_MAX_NODES];
} nv_sim_page;

/* The page of VM vm_id that holds hva. Returns 0, -ESRCH for an unknown VM or -EINVAL for an
 * address outside its RAM (then *ret is untouched). Changes nothing in the simulation. */
int nv_sim_page_info(nv_sim *s, uint64_t vm_id, uint64_t hva, nv_sim_page *ret);

/* A node's memory: its watermarks (as Linux computes them from the nodes' sizes, or as the
 * scenario sets them), and the memory that is not the VMs'. -EINVAL for no such node. */
typedef struct nv_sim_node_memory {
        uint64_t total, free;
        uint64_t wmark_min, wmark_low, wmark_high;
        uint64_t other;         /* bytes of page cache and other processes */
        uint64_t other_dropped; /* their growth that found no room above the min watermarks */
} nv_sim_node_memory;
int nv_sim_get_node_memory(const nv_sim *s, unsigned node, nv_sim_node_memory *ret);

/* Moves take time: move_pages() answers at once with the node each page goes to, but a page
 * serves accesses from its old node until its copy ends, copies run one after another at the
 * per-node-pair cost of sim/costs.h, and an access to a page unmapped for its batch's copy waits
 * until that page's copy ends. Whether copies are still under way, and the moment the last ends. */
bool nv_sim_copying(const nv_sim *s, usec_t *ret_done);

/* What the simulation charged so far, in simulated nanoseconds of work. */
typedef struct nv_sim_costs {
        uint64_t moved_4k, moved_2m; /* pages moved */
        uint64_t probes;             /* accessed-bit tests and clears */
        uint64_t flushes;            /* translation flushes requested */
        uint64_t shootdowns;         /* TLB shootdowns of move batches */
        uint64_t enomem;             /* pages a move could not place above the target's min watermark */
        /* Host CPU time: copying moved pages (move_ns, the caller's kernel time in move_pages(2)),
         * shooting down TLBs for them, probing accessed bits, flushing translations. */
        double move_ns, shootdown_ns, probe_ns, flush_ns;
        double stall_ns;   /* time accesses waited for pages being copied (part of access_ns) */
        double access_ns;  /* memory access time of the workloads */
        uint64_t accesses; /* memory accesses of the workloads (model count) */
        uint64_t remote_accesses;
        uint64_t tlb_misses;
        double walk_refs; /* memory references spent in page walks */
        uint64_t zaps;    /* blocks zapped through the attribution port */
        uint64_t faults;  /* sampled faults those zaps caused (recorded or dropped) */
        double zap_ns, fault_ns;
} nv_sim_costs;
void nv_sim_get_costs(const nv_sim *s, nv_sim_costs *ret);
