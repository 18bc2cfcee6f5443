/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The placement algorithms numavd is compared with, as the bench runs them against the simulated
 * host: each gets the same ports numavd gets (the access sampler, the page mover, the inventory
 * with vcpu_time every second) and AutoNUMA also what a hinting fault reveals
 * (nv_sim_access_rates()). Each file cites the documentation its parameters come from. */

#include "model/host.h"
#include "common/random.h"
#include "sim/sim.h"

#define BL_MAX_PARAMS 3

typedef struct bl_env {
        nv_sim *sim;         /* the simulated host (AutoNUMA's hinting faults) */
        const nv_host *host; /* the ports */
        uint64_t seed;
} bl_env;

/* One point of a baseline's parameter sweep. */
typedef struct bl_params {
        const char *label;
        double v[BL_MAX_PARAMS];
} bl_params;

typedef struct bl_ops {
        const char *name;
        usec_t step_usec; /* step() runs every step_usec of simulated time; 0: never */
        const bl_params *sweep;
        size_t nr_sweep;
        int (*new)(const bl_env *env, const bl_params *p, const nv_inventory *inv, void **ret);
        void (*free)(void *st);
        void (*step)(void *st, const nv_inventory *inv, usec_t now);
        /* At the end of each 1 s epoch, after the refresh: inv holds that epoch's vcpu_time. */
        void (*epoch)(void *st, const nv_inventory *inv, usec_t now);
} bl_ops;

extern const bl_ops bl_none, bl_numad, bl_autonuma, bl_damon, bl_oracle;

/* Helpers shared by the baselines (baselines.c). */

/* The node with the largest share of t, and that share in *ret_share (0 when idle). */
int bl_top_node(const nv_node_time *t, unsigned nr_nodes, double *ret_share);
/* The run time of the vCPUs that use range r of vm: its vNUMA cell's, or the whole VM's. */
const nv_node_time *bl_range_time(const nv_vm_info *vm, size_t r);
/* Move n pages (of 1 << shift bytes) of vm to node through the mover port, in batches; returns
 * the bytes that changed node. */
uint64_t bl_move(const bl_env *env, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                 int node);
/* Query the node of n pages; ret_nodes[i] < 0 for a page that could not be located. */
int bl_query(const bl_env *env, const nv_vm_info *vm, const uint64_t *addrs, size_t n, int *ret_nodes);
