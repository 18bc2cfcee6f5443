/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <valgrind/callgrind.h>

#include "bench/shim.h"

static int shim_move_pages(void *ctx, const nv_vm_info *vm, size_t n, const uint64_t *addrs,
                           const int *nodes, int *ret_status) {
        mover_shim *s = ctx;
        shim_vm *v = NULL;
        int *before = NULL, r;

        if (!nodes)
                return s->inner->move_pages(s->inner_ctx, vm, n, addrs, NULL, ret_status);
        for (size_t i = 0; i < s->nr_vms; i++)
                if (s->vms[i].id == vm->id)
                        v = &s->vms[i];
        before = malloc(MAX(n, (size_t)1) * sizeof(int));
        if (!before)
                return -ENOMEM;
        r = s->inner->move_pages(s->inner_ctx, vm, n, addrs, NULL, before);
        if (r >= 0)
                r = s->inner->move_pages(s->inner_ctx, vm, n, addrs, nodes, ret_status);
        for (size_t i = 0; r >= 0 && v && i < n; i++) {
                size_t u;
                if (before[i] < 0 || ret_status[i] != nodes[i] || before[i] == nodes[i] || addrs[i] < v->hva)
                        continue;
                u = (addrs[i] - v->hva) >> v->shift;
                if (u >= v->nr_units)
                        continue;
                s->moved_bytes += UINT64_C(1) << v->shift;
                if (v->left[u] & (1u << nodes[i]))
                        s->ping_pong_bytes += UINT64_C(1) << v->shift;
                v->left[u] |= (uint16_t)(1u << before[i]);
        }
        free(before);
        return r;
}

const nv_mover_ops shim_mover_ops = { .move_pages = shim_move_pages };

int mover_shim_init(mover_shim *s, const nv_mover_ops *inner, void *inner_ctx, const nv_inventory *inv) {
        *s = (mover_shim){ .inner = inner, .inner_ctx = inner_ctx };
        s->vms = calloc(MAX(inv->nr_vms, (size_t)1), sizeof(shim_vm));
        if (!s->vms)
                return -ENOMEM;
        for (size_t i = 0; i < inv->nr_vms; i++) {
                const nv_vm_info *vm = &inv->vms[i];
                shim_vm *v = &s->vms[s->nr_vms++];
                v->id = vm->id;
                v->hva = vm->ranges[0].hva; /* the sim lays ranges out back to back */
                v->shift = nv_backing_page_shift(vm->ranges[0].backing);
                v->nr_units = nv_vm_ram_bytes(vm) >> v->shift;
                v->left = calloc(MAX(v->nr_units, (size_t)1), sizeof(uint16_t));
                if (!v->left)
                        return -ENOMEM;
        }
        return 0;
}

void mover_shim_done(mover_shim *s) {
        for (size_t i = 0; i < s->nr_vms; i++)
                free(s->vms[i].left);
        free(s->vms);
        s->vms = NULL;
        s->nr_vms = 0;
}

/* Callgrind shims. */

bool shim_collecting;
static nv_host inner_host;
static const nv_access_ops *inner_access;
static void *inner_access_ctx;

void shim_collect(bool on) {
        if (on == shim_collecting)
                return;
        CALLGRIND_TOGGLE_COLLECT;
        shim_collecting = on;
}

#define OUTSIDE(call)                         \
        ({                                    \
                bool _was = shim_collecting;  \
                if (_was)                     \
                        shim_collect(false);  \
                __typeof__(call) _r = (call); \
                if (_was)                     \
                        shim_collect(true);   \
                _r;                           \
        })

static int w_refresh(void *ctx, nv_inventory *inv) {
        return OUTSIDE(inner_host.source->refresh(ctx, inv));
}

static int w_harvest(void *ctx, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                     unsigned flags, uint8_t *ret) {
        return OUTSIDE(inner_access->harvest(ctx, vm, addrs, n, shift, flags, ret));
}

static int w_attach(void *ctx, const nv_vm_info *vm) {
        return inner_access->attach ? OUTSIDE(inner_access->attach(ctx, vm)) : 0;
}

static int w_move_pages(void *ctx, const nv_vm_info *vm, size_t n, const uint64_t *addrs, const int *nodes,
                        int *ret_status) {
        return OUTSIDE(inner_host.mover->move_pages(ctx, vm, n, addrs, nodes, ret_status));
}

static void w_advance(void *ctx, usec_t dt) {
        bool was = shim_collecting;

        if (was)
                shim_collect(false);
        inner_host.advance(ctx, dt);
        if (was)
                shim_collect(true);
}

/* The attribution port: zapping and draining are the kernel's work (numavd_ept's on a real host),
 * as harvesting is; numavd's side is what it makes of the faults. */
static int w_attribution_attach(void *ctx, const nv_vm_info *vm) {
        return inner_host.attribution->attach ? OUTSIDE(inner_host.attribution->attach(ctx, vm)) : 0;
}

static int w_zap(void *ctx, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift) {
        return OUTSIDE(inner_host.attribution->zap(ctx, vm, addrs, n, shift));
}

static int w_drain(void *ctx, const nv_vm_info *vm, nv_fault *ret, size_t cap, uint64_t *ret_dropped) {
        return OUTSIDE(inner_host.attribution->drain(ctx, vm, ret, cap, ret_dropped));
}

static const nv_vm_source_ops w_source = { .refresh = w_refresh };
static const nv_mover_ops w_mover = { .move_pages = w_move_pages };
static nv_access_ops w_access = { .name = "sim", .harvest = w_harvest, .attach = w_attach };
static nv_attribution_ops w_attribution = { .attach = w_attribution_attach, .zap = w_zap, .drain = w_drain };

void shim_wrap_host(nv_host *h) {
        inner_host = *h;
        h->source = &w_source;
        h->mover = &w_mover;
        h->advance = w_advance;
        if (h->attribution) {
                w_attribution.name = h->attribution->name;
                w_attribution.detach = h->attribution->detach;
                w_attribution.destroy = h->attribution->destroy;
                h->attribution = &w_attribution;
        }
}

void shim_wrap_access(const nv_access_ops **ops, void **ctx) {
        inner_access = *ops;
        inner_access_ctx = *ctx;
        w_access.detach = inner_access->detach;
        *ops = &w_access;
}
