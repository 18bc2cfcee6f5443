/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numad-like: whole-process placement. Parameters from numad(8) (numad 0.5, Debian's
 * numad_0.5+20150602 manual page):
 *   -i [min_interval:]max_interval  "the time interval that numad waits between system scans";
 *                                   default min 5 s, max 15 s. numad rescans after min_interval
 *                                   when its last scan changed something, after max_interval
 *                                   otherwise (manage_loads() returns the interval to sleep).
 *   -m target_memory_locality       default 90%: a process whose memory is at least this local
 *                                   to its nodes is left alone.
 * numad binds at most one process per scan (the best candidate) and moves its memory with
 * migrate_pages(2), all of it at once (no rate limit). Its node set is the fewest nodes that hold
 * the process's CPU demand: here, the nodes covering 90% of the VM's vCPU run time (the vCPUs run
 * where the scenario says; numad's CPU binding is not modelled). Memory on any node of the set
 * counts as local to it, and stays where it is: numad.c bind_process_and_migrate_memory() moves,
 * one migrate_pages(2) call at a time, all of the process's memory on the source node outside the
 * set that holds the most of it to the node of the set that holds the least of it (ties to the
 * higher-numbered node), counts that memory as moved, and repeats until no node outside the set
 * holds any. The only free parameters are the two intervals (swept). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench/baselines.h"

#define NUMAD_LOCALITY 0.90 /* -m 90 */

typedef struct numad {
        bl_env env;
        usec_t min_iv, max_iv, next;
        uint64_t *addrs;
        int *nodes;
        size_t cap;
} numad;

static int numad_new(const bl_env *env, const bl_params *p, const nv_inventory *inv, void **ret) {
        numad *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->env = *env;
        d->min_iv = (usec_t)(p->v[0] * USEC_PER_SEC);
        d->max_iv = (usec_t)(p->v[1] * USEC_PER_SEC);
        d->next = d->min_iv;
        *ret = d;
        return 0;
}

static void numad_free(void *st) {
        numad *d = st;

        if (!d)
                return;
        free(d->addrs);
        free(d->nodes);
        free(d);
}

/* All backing pages of the VM, and where they are. */
static size_t numad_scan(numad *d, const nv_vm_info *vm, unsigned *ret_shift) {
        size_t n = 0;
        unsigned shift = NV_PAGE_SHIFT;

        for (size_t r = 0; r < vm->nr_ranges; r++) {
                shift = nv_backing_page_shift(vm->ranges[r].backing);
                n += vm->ranges[r].size >> shift;
        }
        if (n > d->cap) {
                free(d->addrs);
                free(d->nodes);
                d->addrs = malloc(n * sizeof(uint64_t));
                d->nodes = malloc(n * sizeof(int));
                d->cap = d->addrs && d->nodes ? n : 0;
                if (!d->cap)
                        return 0;
        }
        n = 0;
        for (size_t r = 0; r < vm->nr_ranges; r++) {
                unsigned s = nv_backing_page_shift(vm->ranges[r].backing);
                for (uint64_t a = 0; a < vm->ranges[r].size; a += UINT64_C(1) << s)
                        d->addrs[n++] = vm->ranges[r].hva + a;
        }
        if (bl_query(&d->env, vm, d->addrs, n, d->nodes) < 0)
                return 0;
        *ret_shift = shift;
        return n;
}

static void numad_epoch(void *st, const nv_inventory *inv, usec_t now) {
        numad *d = st;
        const nv_vm_info *best = NULL;
        bool best_set[NV_MAX_NODES] = {};
        double best_off = 0;

        if (now < d->next)
                return;
        /* Find the VM with the most memory off its node set (numad's best candidate). */
        for (size_t i = 0; i < inv->nr_vms; i++) {
                const nv_vm_info *vm = &inv->vms[i];
                bool in_set[NV_MAX_NODES] = {};
                double sum = 0, covered = 0;
                unsigned shift;
                size_t n, local = 0;

                for (unsigned k = 0; k < inv->nr_nodes; k++)
                        sum += vm->vcpu_time.sec[k];
                if (sum <= 0)
                        continue;
                while (covered < 0.9 * sum) {
                        int b = -1;
                        for (unsigned k = 0; k < inv->nr_nodes; k++)
                                if (!in_set[k] && (b < 0 || vm->vcpu_time.sec[k] > vm->vcpu_time.sec[b]))
                                        b = (int)k;
                        in_set[b] = true;
                        covered += vm->vcpu_time.sec[b];
                }
                n = numad_scan(d, vm, &shift);
                for (size_t k = 0; k < n; k++)
                        if (d->nodes[k] >= 0 && in_set[d->nodes[k]])
                                local++;
                if (n == 0 || (double)local >= NUMAD_LOCALITY * (double)n)
                        continue;
                if ((double)(n - local) * (double)(UINT64_C(1) << shift) > best_off) {
                        best_off = (double)(n - local) * (double)(UINT64_C(1) << shift);
                        best = vm;
                        memcpy(best_set, in_set, sizeof(best_set));
                }
        }
        if (!best) {
                d->next = now + d->max_iv;
                return;
        }
        /* bind_process_and_migrate_memory(): from the largest source outside the set to the
         * emptiest node of the set, one pair at a time, until the sources are empty. */
        unsigned shift;
        size_t n = numad_scan(d, best, &shift), on[NV_MAX_NODES] = {};
        int prev_from = -1;

        for (size_t j = 0; j < n; j++)
                if (d->nodes[j] >= 0 && d->nodes[j] < NV_MAX_NODES)
                        on[d->nodes[j]]++;
        for (;;) {
                int from = -1, dest = -1;
                size_t k = 0;

                for (unsigned m = 0; m < inv->nr_nodes; m++)
                        if (best_set[m]) {
                                if (dest < 0 || on[dest] >= on[m])
                                        dest = (int)m;
                        } else if (from < 0 || on[from] < on[m])
                                from = (int)m;
                if (from < 0 || dest < 0 || on[from] == 0 || from == prev_from)
                        break;
                for (size_t j = 0; j < n; j++)
                        if (d->nodes[j] == from)
                                d->addrs[k++] = d->addrs[j];
                (void)bl_move(&d->env, best, d->addrs, k, shift, dest);
                /* numad assumes it all moved, for its accounting. */
                on[dest] += on[from];
                on[from] = 0;
                prev_from = from;
                n = numad_scan(d, best, &shift);
        }
        d->next = now + d->min_iv;
}

static const bl_params numad_sweep[] = {
        { "-i 5:15", { 5, 15 } }, /* the default */
        { "-i 5:5", { 5, 5 } },
};

const bl_ops bl_numad = {
        .name = "numad",
        .sweep = numad_sweep,
        .nr_sweep = ARRAY_SIZE(numad_sweep),
        .new = numad_new,
        .free = numad_free,
        .epoch = numad_epoch,
};
