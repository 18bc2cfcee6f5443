/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Live migrations, followed as libvirt runs them, become each VM's freeze (vm-state.h): nothing of
 * a migrating VM is moved.
 *
 * Destination: libvirt runs the qemu hook's "migrate begin" there, and only there, when an
 * incoming migration starts, before the VM exists on this host; there is no "migrate end". The
 * freeze waits for the VM under its name or UUID; "started" (the VM runs here now) thaws it, as
 * do "stopped" and "release" (the migration failed).
 * Source: libvirt runs no hook. The libvirt VM source reports a VM whose outgoing migration job
 * runs (nv_vm_info.migrating); the VM is frozen while it does, and thawed when the job ends
 * (completed: the VM is gone; failed or cancelled: it runs on here).
 * Either way a freeze lasts at most MigrationFreeze=, the safety net for an end numavd missed. */

#include "common/macro.h"

struct nv_manager;
struct nv_vm_state;

typedef struct nv_pending_freeze {
        char *key; /* the domain's name or UUID */
        usec_t until;
} nv_pending_freeze;

/* The hook's word about a domain (operation and subOperation as libvirt passes them): "migrate
 * begin" freezes, "started", "stopped" and "release" thaw; other operations change nothing here. */
void nv_migration_hook(struct nv_manager *m, const char *name, const char *uuid, const char *op,
                       const char *sub);

/* At each refresh, for each VM: adopt a freeze announced before it existed, follow the VM source's
 * word on an outgoing migration, and thaw a freeze that ran out. */
void nv_migration_follow(struct nv_manager *m, struct nv_vm_state *s);

/* Forget the pending freezes (at exit). */
void nv_migration_done(struct nv_manager *m);
