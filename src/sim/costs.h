/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* What the simulated host charges for each operation. Every constant names its source. A source
 * marked [unverified] was taken from the paper as remembered when this file was written: its
 * title and venue were checked, the number and the figure it comes from were not re-read, so check
 * them against the paper before quoting them elsewhere. */

/* Local and remote DRAM load latency (the defaults a scenario's `node ... local/remote` overrides).
 * D. Molka, D. Hackenberg, R. Schöne, M. S. Müller, "Memory Performance and Cache Coherency
 * Effects on an Intel Nehalem Multiprocessor System", PACT 2009, Sec. V (latency of main memory
 * accesses, local vs. the other socket via QPI): about 65 ns local and 106 ns remote on a
 * two-socket Xeon X5570. [unverified] */
#define NV_SIM_LOCAL_NS  65.0
#define NV_SIM_REMOTE_NS 106.0

/* Migrating one 4 KiB page with move_pages(2) on stock Linux, per page, single-threaded.
 * Z. Yan, D. Lustig, D. Nellans, A. Bhattacharjee, "Nimble Page Management for Tiered Memory
 * Systems", ASPLOS 2019, Fig. 3 (page migration throughput of Linux's migrate_pages() for base
 * pages, well under 1 GB/s): ~0.3 GB/s, i.e. ~14 µs per 4 KiB page. [unverified] */
#define NV_SIM_MOVE_4K_NS 14000.0

/* Migrating one 2 MiB transparent huge page as a whole (THP migration, single-threaded copy).
 * Same paper, Fig. 3 (huge-page migration throughput, about 2.5 GB/s single-threaded, before
 * Nimble's multi-threaded copy): ~840 µs per 2 MiB page. [unverified] */
#define NV_SIM_MOVE_2M_NS 840000.0

/* The per-page figures above are move_pages(2) between the two sockets of a two-socket machine
 * (SLIT distance 20 or 21). A copy reads the source node's memory and writes the destination's,
 * so between nodes further apart it runs at their lower remote bandwidth: we scale the time by
 * distance / 20, the linear model the sim also uses for a remote latency a scenario does not give
 * (node ... remote), and never below the measured time. [model assumption, not a measurement] */
#define NV_SIM_COPY_REF_DISTANCE 20.0

static inline double nv_sim_copy_ns(bool huge, unsigned distance) {
        double base = huge ? NV_SIM_MOVE_2M_NS : NV_SIM_MOVE_4K_NS;

        return distance > NV_SIM_COPY_REF_DISTANCE ? base * distance / NV_SIM_COPY_REF_DISTANCE : base;
}

/* The TLB shootdown of one move_pages(2) batch: since Linux 6.3, migrate_pages_batch() (mm/migrate.c)
 * unmaps up to NR_MAX_BATCHED_MIGRATION (512) pages, flushes the TLBs once (try_to_unmap_flush()),
 * then copies them one by one. migrate_pages() cuts the batches by base pages (it adds each
 * folio's folio_nr_pages() and stops at 512), so a 2 MiB page is a batch of its own, and hugetlb
 * pages go one at a time (migrate_hugetlbs()); for guest memory the MMU notifier also zaps the EPT entries and
 * flushes the vCPUs' TLBs (kvm_flush_remote_tlbs). Linux 6.1 flushes once per page, so for it this
 * charge is a lower bound. The time is an IPI round trip to the CPUs that ran the process: Amit,
 * USENIX ATC 2017 (above). [unverified] */
#define NV_SIM_SHOOTDOWN_NS    5000.0
#define NV_SIM_SHOOTDOWN_PAGES 512u

/* One accessed-bit test-and-clear through KVM's MMU notifier path (clear_young on one HVA: take
 * mmu_lock, walk the rmap, clear A in the EPT entry, no flush). No per-page figure is published
 * for this path; the closest published figure is the cost of clearing and reading A bits in
 * software page tables: N. Amit, "Optimizing the TLB Shootdown Algorithm with Page Access
 * Tracking", USENIX ATC 2017, Table 2 (cost of the page-table operations around a shootdown, a
 * few hundred cycles each). We charge 500 ns: a few hundred cycles plus the ioctl and lock,
 * amortized over a batch. [unverified; an estimate built on the cited figure] */
#define NV_SIM_PROBE_NS 500.0

/* One translation flush of a VM (kvm_flush_remote_tlbs: an IPI round trip to the CPUs running
 * its vCPUs). Amit, USENIX ATC 2017, Fig. 1 / Sec. 2 (a TLB shootdown takes several microseconds
 * on a two-socket Intel machine). [unverified] */
#define NV_SIM_FLUSH_NS 5000.0

/* One sampled fault of the attribution port: the guest's first access to a zapped block exits
 * (EPT violation / NPF), KVM maps the block again from the intact host page table (no data moves),
 * and the fault is recorded. A VM exit and entry round trip is a few hundred to a thousand cycles on
 * the Intel generations measured by O. Agesen, J. Mattson, R. Rugina, J. Sheldon, "Software
 * Techniques for Avoiding Hardware Virtualization Exits", USENIX ATC 2012, Fig. 1; KVM's fault
 * handling (mmu_lock, the host page-table walk, the new entry) adds about as much again. We charge
 * 2 µs. [unverified; an estimate built on the cited figure] */
#define NV_SIM_FAULT_NS 2000.0

/* The same fault when the host itself runs under a hypervisor: every exit of the nested host's
 * guest is reflected through L0, and handling it takes several more exits of the nested host
 * itself. M. Ben-Yehuda et al., "The Turtles Project: Design and Implementation of Nested
 * Virtualization", OSDI 2010, Sec. 3.2 and 4 (exit multiplication: one L2 exit costs many L1 exits,
 * an order of magnitude more time). We charge ten times the bare fault. [unverified] numavd's lab
 * measured 33 to 39 µs per fault under nested TCG (emulated CPUs), an upper bound far above
 * hardware. */
#define NV_SIM_FAULT_NESTED_NS 20000.0

/* Zapping one block: an invalidation through KVM's MMU notifier (mmu_lock, the rmap walk, the
 * entry cleared), the same path as an accessed-bit probe, so the probe's cost (above); each zap
 * call also flushes the VM's translations once (NV_SIM_FLUSH_NS). [unverified; as the probe] */
#define NV_SIM_ZAP_NS NV_SIM_PROBE_NS

/* Memory references of a TLB miss's page walk. Native x86-64: 4 (one per page-table level). One
 * level of virtualization, two-dimensional walk with 4-level guest and nested tables: (4+1)*(4+1)-1
 * = 24. R. Bhargava, B. Serebrin, F. Spadini, S. Manne, "Accelerating Two-Dimensional Page Walks
 * for Virtualized Systems", ASPLOS 2008, Sec. 3 / Fig. 2 (the 24-reference 2D walk). Two levels
 * of nesting, worst case: 44, as given by numavd's seed requirements ("seed 000"). */
#define NV_SIM_WALK_REFS_NATIVE 4u
#define NV_SIM_WALK_REFS_VIRT   24u
#define NV_SIM_WALK_REFS_NESTED 44u

/* Default lifetime of a cached translation, bare metal: a second-level TLB of ~1.5K entries is
 * refilled within milliseconds under a memory-bound workload (the reach of 1536 x 4 KiB entries
 * is 6 MiB). Nested: L0's shadow EPT entry stays until L1 flushes, which KVM does rarely; we use
 * seconds. These are model parameters, not measurements; scenarios can set them (`host`). */
#define NV_SIM_TLB_LIFETIME_USEC        (4 * USEC_PER_MSEC)
#define NV_SIM_NESTED_TLB_LIFETIME_USEC (2 * USEC_PER_SEC)

/* Memory references of a page walk at a nesting depth: 0 native, 1 a VM, 2 a VM inside a VM. */
static inline unsigned nv_sim_walk_refs(unsigned depth) {
        return depth == 0   ? NV_SIM_WALK_REFS_NATIVE
               : depth == 1 ? NV_SIM_WALK_REFS_VIRT
                            : NV_SIM_WALK_REFS_NESTED;
}
