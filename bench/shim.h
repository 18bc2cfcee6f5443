/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the bench puts between a policy and the simulated host's ports: the mover shim counts
 * ping-pong bytes the same way for every policy (a page moved back to a node it had left), and the
 * overhead shims stop callgrind's collection inside the host's side (the simulated kernel). */

#include "model/host.h"

typedef struct shim_vm {
        uint64_t id, hva;
        unsigned shift;
        size_t nr_units;
        uint16_t *left; /* per page: bit n set when the page has left node n */
} shim_vm;

typedef struct mover_shim {
        const nv_mover_ops *inner;
        void *inner_ctx;
        shim_vm *vms;
        size_t nr_vms;
        uint64_t moved_bytes, ping_pong_bytes;
} mover_shim;

extern const nv_mover_ops shim_mover_ops;

int mover_shim_init(mover_shim *s, const nv_mover_ops *inner, void *inner_ctx, const nv_inventory *inv);
void mover_shim_done(mover_shim *s);

/* Callgrind: collection is on only while shim_collecting is set and outside the host's ports. */
extern bool shim_collecting;
void shim_collect(bool on);
void shim_wrap_host(nv_host *h); /* source, mover, advance, attribution */
void shim_wrap_access(const nv_access_ops **ops, void **ctx);
