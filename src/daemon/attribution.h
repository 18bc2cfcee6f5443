/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The epoch's attribution step: who faults on which region, through the host's attribution port
 * (model/host.h) and the attribution sampler (sampler/attribution.h). Without a port, or with
 * AttributionRate=0, it does nothing and regions follow their VM as a whole. */

#include <stdbool.h>

typedef struct nv_manager nv_manager;
typedef struct nv_vm_state nv_vm_state;

/* Faults are collected twice an epoch (once when an epoch has a single sampling round): halfway
 * through, and at its end after the heat map's epoch end, where regions are also cut by owner. Each
 * collection is one stage of the two-stage filter, so an owner seen in both halves of an epoch is
 * followed at its end. Each drains the VM's faults into votes and zaps the next sample; the first
 * time, it attaches the VM and only zaps. Never fatal: failures are logged and the VM is placed as
 * a whole. */
void nv_epoch_attribution(nv_manager *m, nv_vm_state *s);
void nv_epoch_attribution_midway(nv_manager *m);
/* Whether this sampling round is the one halfway through the epoch. */
bool nv_epoch_attribution_is_midway(const nv_manager *m);
/* Detach the VM from the port and drop its votes (it is forgotten, or its RAM ranges changed). */
void nv_epoch_attribution_forget(nv_manager *m, nv_vm_state *s);
