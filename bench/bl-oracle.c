/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The oracle: not a competitor but the yardstick for "hot bytes". Once a second it reads the
 * truth (nv_sim_page_info()) and moves every page of a current hot set that is not on the node
 * with the largest share of its accesses, instantly and without limits. What it moves is the
 * least a policy must move to keep the hot set local: the denominator of "bytes moved / hot
 * bytes". */

#include <errno.h>
#include <stdlib.h>

#include "bench/baselines.h"

typedef struct oracle {
        bl_env env;
        uint64_t *addrs[NV_MAX_NODES];
        size_t cap;
} oracle;

static int oracle_new(const bl_env *env, const bl_params *p, const nv_inventory *inv, void **ret) {
        oracle *o = calloc(1, sizeof(*o));

        if (!o)
                return -ENOMEM;
        o->env = *env;
        *ret = o;
        return 0;
}

static void oracle_free(void *st) {
        oracle *o = st;

        if (!o)
                return;
        for (int n = 0; n < NV_MAX_NODES; n++)
                free(o->addrs[n]);
        free(o);
}

static void oracle_epoch(void *st, const nv_inventory *inv, usec_t now) {
        oracle *o = st;

        for (size_t i = 0; i < inv->nr_vms; i++) {
                const nv_vm_info *vm = &inv->vms[i];
                unsigned shift = nv_backing_page_shift(vm->ranges[0].backing);
                uint64_t base = vm->ranges[0].hva;
                size_t units = nv_vm_ram_bytes(vm) >> shift, cnt[NV_MAX_NODES] = {};

                if (!nv_backing_movable(vm->ranges[0].backing))
                        continue;
                if (units > o->cap) {
                        for (int n = 0; n < NV_MAX_NODES; n++) {
                                free(o->addrs[n]);
                                o->addrs[n] = malloc(units * sizeof(uint64_t));
                                if (!o->addrs[n])
                                        return;
                        }
                        o->cap = units;
                }
                for (size_t u = 0; u < units; u++) {
                        uint64_t a = base + ((uint64_t)u << shift);
                        nv_sim_page pg;
                        int best = 0;
                        if (nv_sim_page_info(o->env.sim, vm->id, a, &pg) < 0 || !pg.hot)
                                continue;
                        for (int n = 1; n < NV_MAX_NODES; n++)
                                if (pg.rates[n] > pg.rates[best])
                                        best = n;
                        if (best != pg.node)
                                o->addrs[best][cnt[best]++] = a;
                }
                for (int n = 0; n < NV_MAX_NODES; n++)
                        if (cnt[n] > 0)
                                (void)bl_move(&o->env, vm, o->addrs[n], cnt[n], shift, n);
        }
}

static const bl_params oracle_sweep[] = { { "-", {} } };

const bl_ops bl_oracle = {
        .name = "oracle",
        .sweep = oracle_sweep,
        .nr_sweep = 1,
        .new = oracle_new,
        .free = oracle_free,
        .epoch = oracle_epoch,
};
