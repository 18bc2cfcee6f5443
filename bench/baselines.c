/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the baselines share: the run-time view, the mover and a hash for repeatable draws; and the
 * first baseline, "none": first touch, nothing moves (Linux with numa_balancing=0 and no daemon). */

#include <errno.h>
#include <stdlib.h>

#include "bench/baselines.h"

#define BATCH 4096

int bl_top_node(const nv_node_time *t, unsigned nr_nodes, double *ret_share) {
        double sum = 0;
        int best = 0;

        for (unsigned n = 0; n < nr_nodes; n++) {
                sum += t->sec[n];
                if (t->sec[n] > t->sec[best])
                        best = (int)n;
        }
        *ret_share = sum > 0 ? t->sec[best] / sum : 0;
        return best;
}

const nv_node_time *bl_range_time(const nv_vm_info *vm, size_t r) {
        int cell = vm->ranges[r].cell;

        if (cell >= 0 && (unsigned)cell < vm->nr_cells && vm->cell_time)
                return &vm->cell_time[cell];
        return &vm->vcpu_time;
}

uint64_t bl_move(const bl_env *env, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                 int node) {
        int nodes[BATCH], status[BATCH];
        uint64_t moved = 0;

        for (size_t i = 0; i < BATCH; i++)
                nodes[i] = node;
        for (size_t i = 0; i < n; i += BATCH) {
                size_t k = MIN((size_t)BATCH, n - i);
                if (env->host->mover->move_pages(env->host->mover_ctx, vm, k, addrs + i, nodes, status) < 0)
                        return moved;
                for (size_t j = 0; j < k; j++)
                        if (status[j] == node)
                                moved += UINT64_C(1) << shift;
        }
        return moved;
}

int bl_query(const bl_env *env, const nv_vm_info *vm, const uint64_t *addrs, size_t n, int *ret_nodes) {
        for (size_t i = 0; i < n; i += BATCH) {
                size_t k = MIN((size_t)BATCH, n - i);
                int r = env->host->mover->move_pages(env->host->mover_ctx, vm, k, addrs + i, NULL,
                                                     ret_nodes + i);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* none: nothing to do. */
static int none_new(const bl_env *env, const bl_params *p, const nv_inventory *inv, void **ret) {
        *ret = NULL;
        return 0;
}

static void none_free(void *st) {
}

static const bl_params none_sweep[] = { { "-", {} } };

const bl_ops bl_none = {
        .name = "none",
        .sweep = none_sweep,
        .nr_sweep = 1,
        .new = none_new,
        .free = none_free,
};
