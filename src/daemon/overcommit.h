/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The overcommit step of the epoch, after placement: read the balloon statistics and the KSM
 * counters through the host's ports, ask the balloon and KSM policies, act, record. */

#include "model/host.h"
#include "policy/balloon.h"
#include "policy/ksm.h"

/* Per VM, kept in nv_vm_state. */
typedef struct nv_vm_balloon {
        bool known;           /* the balloon port knows this VM */
        nv_balloon_info info; /* as last read */
        nv_balloon_memo memo;
        uint64_t floor_bytes;
        uint64_t target_bytes; /* last target set, 0: none yet */
        nv_balloon_reason reason;
        bool guest_pressure;
        uint64_t stalls;
        bool ksm_known;
        nv_ksm_vm_stat ksm;
} nv_vm_balloon;

/* Host-wide, kept in the manager. */
typedef struct nv_overcommit {
        nv_host_mem_state host_state;
        uint64_t total_bytes, free_bytes;
        double psi_some_avg10, psi_full_avg10;
        bool ksm_ok;
        nv_ksm_state ksm;
        nv_ksm_memo ksm_memo;
        nv_ksm_plan ksm_plan;
        uint64_t ksmd_cpu_usec, ksmd_cpu_prev;
        double ksmd_cpu_percent; /* < 0: not measurable */
        uint64_t balloon_calls;
} nv_overcommit;

typedef struct nv_manager nv_manager;

/* Before the first epoch: nothing measured yet. */
void nv_overcommit_setup(nv_manager *m);
/* The overcommit step of one epoch. */
void nv_overcommit_epoch(nv_manager *m);

/* Reports: per VM ("balloon", "ksm" members of o), host-wide ("hostMemory", "ksm" of root), and a
 * --watch line per VM with a balloon. */
typedef struct json_object json_object;
typedef struct nv_vm_state nv_vm_state;
void nv_overcommit_vm_json(const nv_manager *m, const nv_vm_state *s, json_object *o);
void nv_overcommit_host_json(const nv_manager *m, json_object *root);
void nv_overcommit_watch_vm(const nv_manager *m, const nv_vm_state *s);
