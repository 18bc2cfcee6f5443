/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the daemon keeps per VM between epochs: the latest inventory entry, the heat map, and what
 * was done to it. A VM that vanishes is dropped with all of this, quietly. */

#include "model/inventory.h"
#include "daemon/meters.h"
#include "daemon/overcommit.h"
#include "policy/placement.h"
#include "sampler/attribution.h"
#include "sampler/heatmap.h"
#include "sampler/pagescan.h"

typedef struct nv_vm_counters {
        uint64_t migrated_bytes;                    /* bytes that changed node */
        uint64_t ping_pong_bytes;                   /* of those, bytes moved back to a node they had left */
        uint64_t failed_bytes;                      /* bytes whose move failed */
        uint64_t epoch_moved_bytes;                 /* in the last epoch */
        uint64_t bytes_by_verdict[_NV_VERDICT_MAX]; /* last epoch's plan */
        uint64_t hot_bytes, hot_local_bytes;        /* numavd's own view, last epoch */
        uint64_t hot_node_bytes[NV_MAX_NODES];      /* of the hot bytes, those on each node */
        double hot_heat;                            /* a region at this heat or above was hot */
        int target_node;                            /* the VM-wide target, -1 none */
} nv_vm_counters;

typedef struct nv_vm_state {
        nv_vm_info info;
        nv_heatmap *heat;
        nv_pagescan *pages;     /* hot pages its regions cannot show; NULL: the port reads no pages */
        nv_attribution *owners; /* who faults on which region; NULL: no attribution */
        nv_vm_counters counters;
        bool placement; /* from config overrides */
        double weight;
        uint64_t max_move_rate; /* per-VM cap, cost per second (model/move-cost.h); 0 = none */
        bool attached;          /* the access port attached it */
        bool whole_vm;          /* no access heat last epoch: placed as a whole, numad-like */
        uint64_t epoch_moved;   /* bytes moved so far in the epoch under way */
        uint64_t epoch_cost;    /* their cost (model/move-cost.h) */
        bool seen;              /* present in the latest inventory */
        nv_vm_balloon balloon;  /* balloon and KSM, from the overcommit step */
        nv_meters *meters;      /* perf, KVM stats, numa_maps, dirty rate (real host); NULL: none */
        int8_t *region_target;  /* the last plan's node for each region, -1 none (for the heat map) */
        size_t nr_region_target;

        /* A live migration is under way: nothing of the VM is moved (moving pages during pre-copy
         * re-dirties them and slows convergence) until it ends, or at the latest until frozen_until
         * (the safety net: an end numavd did not hear of). */
        usec_t frozen_until;    /* 0: not frozen */
        const char *frozen_why; /* a static string, for the log */
        bool outgoing;          /* the VM source reported an outgoing migration at the last refresh */
} nv_vm_state;

nv_vm_state *nv_vm_state_free(nv_vm_state *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_vm_state *, nv_vm_state_free);

/* Freeze the VM's placement from now until now + timeout at the latest (USEC_INFINITY: no limit);
 * why is a static string ("incoming live migration"). Logged when it was not frozen. */
void nv_vm_state_freeze(nv_vm_state *s, const char *why, usec_t now, usec_t timeout);
/* Thaw it, saying why, when it was frozen. */
void nv_vm_state_thaw(nv_vm_state *s, const char *why);
/* Whether it is frozen at now (a freeze that ran out is not). */
bool nv_vm_state_frozen(const nv_vm_state *s, usec_t now);
/* Thaw a freeze that ran out, with a warning; true if it did. */
bool nv_vm_state_thaw_expired(nv_vm_state *s, usec_t now);

/* Percent of hot bytes on their target node, or 100 when nothing is hot. */
double nv_vm_state_hot_local_percent(const nv_vm_state *s);
