/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DAMON-migrate_hot-like: one DAMON context per VM (the vaddr operations set on the VMM's guest
 * RAM) and one DAMOS scheme, migrate_hot to the node where the VM's (or the vNUMA cell's) vCPUs
 * ran most in the last second. Sources (Documentation/mm/damon/design.rst and
 * Documentation/admin-guide/mm/damon/usage.rst, Linux 6.11+):
 *  - sampling interval 5 ms, aggregation interval 100 ms, min_nr_regions 10, max_nr_regions 1000
 *    (the defaults); each sampling interval checks, then clears, the accessed bit of one random
 *    page per region; nr_accesses counts the hits per aggregation interval (0..20).
 *  - "Adaptive Regions Adjustment": at each aggregation, adjacent regions whose nr_accesses differ
 *    by at most a tenth of the maximum merge (as long as a merged region stays under
 *    total / min_nr_regions), the age of a region whose nr_accesses changed by more than that
 *    resets, else grows; then, while there are fewer than max_nr_regions / 2, each region is split
 *    in two at a random point (three when the count did not change and is under a third of the
 *    maximum).
 *  - DAMOS: access pattern [min_nr_accesses, max] x [min_age, max], action migrate_hot with
 *    target_nid, apply_interval = the aggregation interval; the size quota is charged with the
 *    size of every region the action is applied to, reset every reset_interval (1 s here), and
 *    regions are prioritized by hotness (access frequency, then age) when the quota bites; a
 *    region larger than what is left of the quota is split at that size.
 * Accessed bits are read and cleared through the same access port numavd uses, without a flush
 * (DAMON's vaddr ops clear young bits without flushing). Free parameters swept: min_nr_accesses
 * and the size quota, including none. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench/baselines.h"

#define SAMPLE_USEC      (5 * USEC_PER_MSEC)
#define AGGR_SAMPLES     20 /* 100 ms */
#define MIN_NR_REGIONS   10
#define MAX_NR_REGIONS   1000
#define QUOTA_RESET_USEC USEC_PER_SEC

typedef struct dregion {
        uint64_t start, end, sample;
        unsigned nr_accesses, last_nr_accesses, age;
} dregion;

typedef struct dctx {
        uint64_t id;
        dregion *r;
        size_t n, cap, last_n;
        uint64_t total;
        int target[8]; /* per RAM range */
        uint64_t *addrs;
        uint8_t *hit;
} dctx;

typedef struct damon {
        bl_env env;
        unsigned min_nr_accesses;
        uint64_t quota; /* bytes per reset interval, 0: none */
        uint64_t charged;
        usec_t quota_reset;
        unsigned samples;
        uint64_t rnd;
        dctx *ctx;
        size_t nr_ctx;
} damon;

static uint64_t rnd_next(damon *d) {
        d->rnd += UINT64_C(0x9e3779b97f4a7c15);
        return (uint64_t)(nv_uniform_at(d->rnd, 1, 2) * 0x1.0p53);
}

static uint64_t rnd_page(damon *d, uint64_t start, uint64_t end) {
        return start + (rnd_next(d) % ((end - start) >> NV_PAGE_SHIFT) << NV_PAGE_SHIFT);
}

static int ensure(dctx *c, size_t n) {
        if (n <= c->cap)
                return 0;
        size_t cap = MAX(n, c->cap * 2);
        dregion *r = reallocarray(c->r, cap, sizeof(*r));
        if (!r)
                return -ENOMEM;
        c->r = r;
        uint64_t *a = reallocarray(c->addrs, cap, sizeof(*a));
        if (!a)
                return -ENOMEM;
        c->addrs = a;
        uint8_t *h = reallocarray(c->hit, cap, 1);
        if (!h)
                return -ENOMEM;
        c->hit = h;
        c->cap = cap;
        return 0;
}

static void damon_free(void *st) {
        damon *d = st;

        if (!d)
                return;
        for (size_t i = 0; i < d->nr_ctx; i++) {
                free(d->ctx[i].r);
                free(d->ctx[i].addrs);
                free(d->ctx[i].hit);
        }
        free(d->ctx);
        free(d);
}

static int damon_new(const bl_env *env, const bl_params *p, const nv_inventory *inv, void **ret) {
        damon *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->env = *env;
        d->min_nr_accesses = (unsigned)p->v[0];
        d->quota = (uint64_t)p->v[1] * MIB;
        d->rnd = env->seed;
        d->ctx = calloc(MAX(inv->nr_vms, (size_t)1), sizeof(dctx));
        if (!d->ctx) {
                free(d);
                return -ENOMEM;
        }
        for (size_t i = 0; i < inv->nr_vms; i++) {
                const nv_vm_info *vm = &inv->vms[i];
                dctx *c = &d->ctx[d->nr_ctx++];
                uint64_t total = nv_vm_ram_bytes(vm);

                c->id = vm->id;
                c->total = total;
                memset(c->target, -1, sizeof(c->target));
                /* Initial regions: each range cut evenly, MIN_NR_REGIONS in all. */
                for (size_t k = 0; k < vm->nr_ranges; k++) {
                        const nv_ram_range *rg = &vm->ranges[k];
                        size_t parts = MAX((size_t)1, (size_t)(MIN_NR_REGIONS * rg->size / total));
                        uint64_t step = rg->size / parts / NV_PAGE_SIZE * NV_PAGE_SIZE;
                        for (size_t j = 0; j < parts; j++) {
                                if (ensure(c, c->n + 1) < 0) {
                                        damon_free(d);
                                        return -ENOMEM;
                                }
                                uint64_t s = rg->hva + j * step,
                                         e = j + 1 == parts ? rg->hva + rg->size : s + step;
                                c->r[c->n++] =
                                        (dregion){ .start = s, .end = e, .sample = rnd_page(d, s, e) };
                        }
                }
        }
        *ret = d;
        return 0;
}

static size_t range_of(const nv_vm_info *vm, uint64_t a) {
        for (size_t k = 0; k < vm->nr_ranges; k++)
                if (a >= vm->ranges[k].hva && a < vm->ranges[k].hva + vm->ranges[k].size)
                        return k;
        return 0;
}

static void sample(damon *d, dctx *c, const nv_vm_info *vm) {
        const nv_access_ops *ops = d->env.host->access;
        void *ctx = d->env.host->access_ctx;

        /* Check the pages cleared at the previous sample, then clear a new one per region. */
        for (size_t i = 0; i < c->n; i++)
                c->addrs[i] = c->r[i].sample;
        if (ops->harvest(ctx, vm, c->addrs, c->n, NV_PAGE_SHIFT, 0, c->hit) < 0)
                return;
        for (size_t i = 0; i < c->n; i++) {
                c->r[i].nr_accesses += c->hit[i];
                c->r[i].sample = c->addrs[i] = rnd_page(d, c->r[i].start, c->r[i].end);
        }
        (void)ops->harvest(ctx, vm, c->addrs, c->n, NV_PAGE_SHIFT, 0, c->hit);
}

static unsigned udiff(unsigned a, unsigned b) {
        return a > b ? a - b : b - a;
}

static void merge(dctx *c) {
        unsigned thres = MAX(1u, AGGR_SAMPLES / 10);
        uint64_t sz_limit = MAX(c->total / MIN_NR_REGIONS, NV_PAGE_SIZE);
        size_t k = 0;

        for (size_t i = 0; i < c->n; i++) {
                dregion *r = &c->r[i];
                if (udiff(r->nr_accesses, r->last_nr_accesses) > thres)
                        r->age = 0;
                else
                        r->age++;
                r->last_nr_accesses = r->nr_accesses;
                if (k > 0) {
                        dregion *p = &c->r[k - 1];
                        uint64_t sp = p->end - p->start, sr = r->end - r->start;
                        if (p->end == r->start && udiff(p->nr_accesses, r->nr_accesses) <= thres &&
                            sp + sr <= sz_limit) {
                                p->nr_accesses =
                                        (unsigned)((p->nr_accesses * sp + r->nr_accesses * sr) / (sp + sr));
                                p->age = (unsigned)((p->age * sp + r->age * sr) / (sp + sr));
                                p->last_nr_accesses = p->nr_accesses;
                                p->end = r->end;
                                continue;
                        }
                }
                c->r[k++] = *r;
        }
        c->n = k;
}

static void split(damon *d, dctx *c) {
        size_t n = c->n, parts = 2;

        if (n > MAX_NR_REGIONS / 2)
                return;
        if (c->last_n == n && n < MAX_NR_REGIONS / 3)
                parts = 3;
        c->last_n = n;
        if (ensure(c, n * parts) < 0)
                return;
        /* Split from the end so that the array can grow in place. */
        size_t w = n * parts;
        for (size_t i = n; i > 0; i--) {
                dregion r = c->r[i - 1];
                dregion pieces[3];
                size_t np = 0;
                for (size_t j = 1; j < parts; j++) {
                        uint64_t sz = r.end - r.start;
                        if (sz < 2 * NV_PAGE_SIZE)
                                break;
                        /* A piece of 10% to 90% of what is left, page aligned. */
                        uint64_t cut = (sz / 10 * (1 + rnd_next(d) % 9)) / NV_PAGE_SIZE * NV_PAGE_SIZE;
                        cut = MAX(cut, NV_PAGE_SIZE);
                        pieces[np] = r;
                        pieces[np].end = r.start + cut;
                        pieces[np].sample = rnd_page(d, pieces[np].start, pieces[np].end);
                        np++;
                        r.start += cut;
                }
                r.sample = rnd_page(d, r.start, r.end);
                pieces[np++] = r;
                for (size_t j = np; j > 0; j--)
                        c->r[--w] = pieces[j - 1];
        }
        memmove(c->r, c->r + w, (n * parts - w) * sizeof(dregion));
        c->n = n * parts - w;
}

typedef struct cand {
        dctx *c;
        size_t i;
        unsigned score;
} cand;

static int cmp_cand(const void *a, const void *b) {
        const cand *x = a, *y = b;
        return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

/* migrate_hot: the hottest eligible regions first, within the quota. */
static void apply_schemes(damon *d, const nv_inventory *inv, usec_t now) {
        size_t nc = 0, cap = 0;
        cand *cs = NULL;

        if (now >= d->quota_reset + QUOTA_RESET_USEC) {
                d->quota_reset = now;
                d->charged = 0;
        }
        for (size_t k = 0; k < d->nr_ctx; k++) {
                dctx *c = &d->ctx[k];
                cap += c->n;
        }
        cs = malloc(MAX(cap, (size_t)1) * sizeof(*cs));
        if (!cs)
                return;
        for (size_t k = 0; k < d->nr_ctx; k++) {
                dctx *c = &d->ctx[k];
                for (size_t i = 0; i < c->n; i++)
                        if (c->r[i].nr_accesses >= d->min_nr_accesses && c->r[i].nr_accesses > 0)
                                /* damon_hot_score(): frequency first, age as a tie breaker. */
                                cs[nc++] =
                                        (cand){ c, i, c->r[i].nr_accesses * 1000 + MIN(c->r[i].age, 999u) };
        }
        qsort(cs, nc, sizeof(*cs), cmp_cand);
        for (size_t j = 0; j < nc; j++) {
                dctx *c = cs[j].c;
                const nv_vm_info *vm = nv_inventory_find(inv, c->id);
                dregion *r = &c->r[cs[j].i];
                uint64_t end = r->end, sz = r->end - r->start;
                int target;

                if (!vm)
                        continue;
                target = c->target[MIN(range_of(vm, r->start), (size_t)7)];
                if (target < 0)
                        continue;
                if (d->quota > 0) {
                        if (d->charged >= d->quota)
                                break;
                        if (sz > d->quota - d->charged)
                                end = r->start + (d->quota - d->charged) / NV_PAGE_SIZE * NV_PAGE_SIZE;
                        d->charged += end - r->start;
                }
                unsigned shift = nv_backing_page_shift(vm->ranges[range_of(vm, r->start)].backing);
                uint64_t page = UINT64_C(1) << shift;
                uint64_t s = r->start / page * page;
                size_t n = (size_t)((end + page - 1) / page - s / page), m = 0;
                uint64_t *addrs = malloc(MAX(n, (size_t)1) * sizeof(uint64_t));
                int *nodes = malloc(MAX(n, (size_t)1) * sizeof(int));
                if (addrs && nodes) {
                        for (size_t q = 0; q < n; q++)
                                addrs[q] = s + q * page;
                        if (bl_query(&d->env, vm, addrs, n, nodes) == 0) {
                                for (size_t q = 0; q < n; q++)
                                        if (nodes[q] >= 0 && nodes[q] != target)
                                                addrs[m++] = addrs[q];
                                (void)bl_move(&d->env, vm, addrs, m, shift, target);
                        }
                }
                free(addrs);
                free(nodes);
        }
        free(cs);
}

static void damon_step(void *st, const nv_inventory *inv, usec_t now) {
        damon *d = st;

        for (size_t k = 0; k < d->nr_ctx; k++) {
                const nv_vm_info *vm = nv_inventory_find(inv, d->ctx[k].id);
                if (vm)
                        sample(d, &d->ctx[k], vm);
        }
        if (++d->samples < AGGR_SAMPLES)
                return;
        d->samples = 0;
        for (size_t k = 0; k < d->nr_ctx; k++)
                merge(&d->ctx[k]);
        apply_schemes(d, inv, now);
        for (size_t k = 0; k < d->nr_ctx; k++) {
                for (size_t i = 0; i < d->ctx[k].n; i++)
                        d->ctx[k].r[i].nr_accesses = 0;
                split(d, &d->ctx[k]);
        }
}

/* The operator's part: target_nid follows where the vCPUs ran (a majority of the run time);
 * without one (a VM spread over nodes, no vNUMA) there is no node to name. */
static void damon_epoch(void *st, const nv_inventory *inv, usec_t now) {
        damon *d = st;

        for (size_t k = 0; k < d->nr_ctx; k++) {
                const nv_vm_info *vm = nv_inventory_find(inv, d->ctx[k].id);
                if (!vm)
                        continue;
                for (size_t r = 0; r < MIN(vm->nr_ranges, (size_t)8); r++) {
                        double share;
                        int top = bl_top_node(bl_range_time(vm, r), inv->nr_nodes, &share);
                        if (share > 0.5)
                                d->ctx[k].target[r] = top;
                        else if (share > 0)
                                d->ctx[k].target[r] = -1;
                }
        }
}

static const bl_params damon_sweep[] = {
        { "min_nr_accesses=1,quota=256M/s", { 1, 256 } },
        { "min_nr_accesses=4,quota=1G/s", { 4, 1024 } },
        /* No quota: DAMOS's default (usage.rst: a zero size and time quota mean no limit), so
         * migrate_hot moves every eligible region at each apply interval. */
        { "min_nr_accesses=4,quota=none", { 4, 0 } },
};

const bl_ops bl_damon = {
        .name = "damon",
        .step_usec = SAMPLE_USEC,
        .sweep = damon_sweep,
        .nr_sweep = ARRAY_SIZE(damon_sweep),
        .new = damon_new,
        .free = damon_free,
        .step = damon_step,
        .epoch = damon_epoch,
};
