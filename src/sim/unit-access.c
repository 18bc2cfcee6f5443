/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Access rates of guest memory units, the lazy and deterministic "was it touched in [t0, t1)"
 * process, and accessed/dirty bits behind a cache of translations. */

#include <math.h>
#include <string.h>

#include "common/log.h"
#include "sim/costs.h"
#include "common/random.h"
#include "sim/sim-internal.h"

static double overlap(double a0, double a1, double b0, double b1) {
        double lo = MAX(a0, b0), hi = MIN(a1, b1);
        return hi > lo ? hi - lo : 0;
}

double sim_unit_rate(const sim_vm *vm, size_t seg, size_t u, bool writes_only, ssize_t only_wl,
                     double *per_vcpu) {
        uint64_t ub = sim_unit_size(vm), g0 = (uint64_t)u * ub, g1 = g0 + ub;
        double total = 0;

        for (size_t wi = 0; wi < vm->nr_workloads; wi++) {
                const sim_workload *w = &vm->workloads[wi];
                const sim_phase *ph;
                uint64_t lo, hi;

                if (only_wl >= 0 && (size_t)only_wl != wi)
                        continue;
                ph = &w->phases[vm->segs[seg].phase[wi]];
                lo = MAX(g0, w->gpa_base);
                hi = MIN(g1, w->gpa_base + w->size);
                if (ph->rate <= 0 || lo >= hi)
                        continue;

                double x0 = (double)(lo - w->gpa_base), x1 = (double)(hi - w->gpa_base);
                double r = ph->rate * (writes_only ? ph->writes : 1.0);
                double n = w->nr_vcpus, hot = (double)ph->hot, off = (double)ph->offset;
                double skew = hot > 0 ? ph->skew : 0;
                double shared_len = hot * (1 - ph->private_share), slice = hot * ph->private_share / n;
                double dh = hot > 0 ? skew * r / (shared_len + slice) : 0;
                double cold = (1 - skew) * r / (double)w->size * (x1 - x0);
                double shared = dh * overlap(x0, x1, off, off + shared_len);
                double priv = dh * overlap(x0, x1, off + shared_len, off + hot);

                total += n * (cold + shared) + priv;
                if (!per_vcpu)
                        continue;
                for (unsigned i = 0; i < w->nr_vcpus; i++)
                        per_vcpu[w->vcpu_map[i]] += cold + shared;
                if (priv > 0) {
                        double ps = off + shared_len;
                        unsigned first = (unsigned)(MAX(x0 - ps, 0.0) / slice);
                        for (unsigned i = first; i < w->nr_vcpus; i++) {
                                double ov = overlap(x0, x1, ps + i * slice, ps + (i + 1) * slice);
                                if (ov <= 0)
                                        break;
                                per_vcpu[w->vcpu_map[i]] += dh * ov;
                        }
                }
        }
        return total;
}

uint64_t sim_unit_hot_bytes(const sim_vm *vm, size_t seg, size_t u) {
        uint64_t ub = sim_unit_size(vm), g0 = (uint64_t)u * ub, g1 = g0 + ub, sum = 0;

        for (size_t wi = 0; wi < vm->nr_workloads; wi++) {
                const sim_workload *w = &vm->workloads[wi];
                const sim_phase *ph = &w->phases[vm->segs[seg].phase[wi]];
                uint64_t lo = MAX(g0, w->gpa_base + ph->offset);
                uint64_t hi = MIN(g1, w->gpa_base + ph->offset + ph->hot);
                if (ph->rate > 0 && hi > lo)
                        sum += hi - lo;
        }
        return MIN(sum, ub);
}

/* Time is cut into blocks of 2^BLOCK_SHIFT µs. Inside a block, "any access in [a, b)" is a
 * binary tree of indicators: the block's is drawn with P = 1 - exp(-exposure), and a node known
 * to hold an access splits it between its halves with the conditional law of two independent
 * Poisson counts. Every draw hashes (seed, VM, unit, stream, node), so the answer for any window
 * is fixed in advance, whatever order windows are asked in, and a query costs O(log) draws. */
#define BLOCK_SHIFT 18

typedef struct touch_ctx {
        const sim_vm *vm;
        size_t unit;
        bool writes;
        uint64_t key;
        size_t seg;      /* cached segment ... */
        double seg_rate; /* ... and the unit's rate in it, per µs */
} touch_ctx;

static void ctx_seek(touch_ctx *c, usec_t t) {
        const sim_vm *vm = c->vm;
        size_t lo = 0, hi = vm->nr_segs;

        /* The last segment starting at or before t. */
        while (hi - lo > 1) {
                size_t mid = (lo + hi) / 2;
                if (vm->segs[mid].t <= t)
                        lo = mid;
                else
                        hi = mid;
        }
        c->seg = lo;
        c->seg_rate = sim_unit_rate(vm, lo, c->unit, c->writes, -1, NULL) * 1e-6;
}

static double exposure(touch_ctx *c, usec_t a, usec_t b) {
        const sim_vm *vm = c->vm;
        double sum = 0;

        while (a < b) {
                usec_t seg_end;
                if (vm->segs[c->seg].t > a || (c->seg + 1 < vm->nr_segs && vm->segs[c->seg + 1].t <= a))
                        ctx_seek(c, a);
                seg_end = c->seg + 1 < vm->nr_segs ? vm->segs[c->seg + 1].t : USEC_INFINITY;
                usec_t e = MIN(b, seg_end);
                sum += c->seg_rate * (double)(e - a);
                a = e;
        }
        return sum;
}

static bool descend(touch_ctx *c, usec_t a, usec_t len, usec_t q0, usec_t q1) {
        usec_t half = len / 2, m = a + half;
        double pl, pr, p, x;
        bool zl, zr;

        if (q0 <= a && a + len <= q1)
                return true;
        if (len == 1)
                return true;
        pl = -expm1(-exposure(c, a, m));
        pr = -expm1(-exposure(c, m, a + len));
        p = pl + pr - pl * pr;
        if (p <= 0)
                return false;
        x = nv_uniform_at(c->key, a, len) * p;
        if (x < pl * (1 - pr))
                zl = true, zr = false;
        else if (x < pl * (1 - pr) + (1 - pl) * pr)
                zl = false, zr = true;
        else
                zl = zr = true;
        if (zl && q0 < m && descend(c, a, half, q0, q1))
                return true;
        return zr && q1 > m && descend(c, m, half, q0, q1);
}

bool sim_unit_touched(const nv_sim *s, const sim_vm *vm, size_t u, bool writes, usec_t t0, usec_t t1) {
        touch_ctx c = {
                .vm = vm,
                .unit = u,
                .writes = writes,
                .key = nv_mix64(s->seed ^ nv_mix64(vm->id ^ nv_mix64((uint64_t)u * 2 + writes))),
        };

        if (t1 <= t0)
                return false;
        ctx_seek(&c, t0);
        for (usec_t b = t0 >> BLOCK_SHIFT; b <= (t1 - 1) >> BLOCK_SHIFT; b++) {
                usec_t a = b << BLOCK_SHIFT, len = (usec_t)1 << BLOCK_SHIFT;
                double p = -expm1(-exposure(&c, a, a + len));
                if (nv_uniform_at(c.key, a, 0) < p && descend(&c, a, len, t0, t1))
                        return true;
        }
        return false;
}

void sim_vm_recompute_rates(const nv_sim *s, sim_vm *vm) {
        double per_vcpu[SIM_MAX_VCPUS];
        double lifetime = (double)vm->tlb_lifetime * 1e-6, walks = 0, refs = 0;

        memset(vm->node_rate, 0, sizeof(double) * vm->nr_vcpus * NV_MAX_NODES);
        for (size_t u = 0; u < vm->nr_units; u++) {
                memset(per_vcpu, 0, sizeof(double) * vm->nr_vcpus);
                if (sim_unit_rate(vm, vm->cur_seg, u, false, -1, per_vcpu) <= 0)
                        continue;
                for (unsigned v = 0; v < vm->nr_vcpus; v++)
                        vm->node_rate[v * NV_MAX_NODES + vm->node[u]] += per_vcpu[v];
                /* A cached translation serves one lifetime; the first access after it walks. */
                for (size_t w = 0; w < vm->nr_workloads; w++) {
                        double l = sim_unit_rate(vm, vm->cur_seg, u, false, (ssize_t)w, NULL);
                        double k = -expm1(-l * lifetime) / lifetime;
                        walks += k;
                        refs += k * nv_sim_walk_refs(MIN(vm->walk_depth + vm->workloads[w].depth - 1, 2u));
                }
        }
        vm->walk_rate = walks;
        vm->walk_refs_rate = refs;
        (void)s;
}

sim_vm *sim_find_vm(nv_sim *s, uint64_t id) {
        if (id == 0 || id > s->nr_vms)
                return NULL;
        return &s->vms[id - 1];
}

int sim_harvest(nv_sim *s, sim_vm *vm, const uint64_t *addrs, size_t n, unsigned shift, unsigned flags,
                bool dirty, uint8_t *ret) {
        usec_t now = s->now, lifetime = vm->tlb_lifetime;
        usec_t bstart = now - now % lifetime, bend = bstart + lifetime;
        bool flush = flags & NV_HARVEST_FLUSH;

        if (shift != vm->unit_shift && !(shift == NV_PAGE_SHIFT && vm->unit_shift == NV_HUGE_SHIFT))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (addrs[i] % (UINT64_C(1) << shift) != 0 || addrs[i] < vm->hva ||
                    addrs[i] >= vm->hva + vm->mem)
                        return -EINVAL;

        for (size_t i = 0; i < n; i++) {
                size_t u = (addrs[i] - vm->hva) >> vm->unit_shift;
                uint32_t *from = dirty ? vm->d_from : vm->a_from;
                usec_t f = sim_tick_to_usec(from[u]);

                ret[i] = f < now && sim_unit_touched(s, vm, u, dirty, f, now);
                if (dirty || flush) {
                        /* Dirty bits are modelled without the cache; a flush drops the translation,
                         * so the next access walks and sets A again. */
                        from[u] = sim_usec_to_tick(now);
                        continue;
                }
                /* Cleared without a flush: a translation cached in this lifetime keeps serving
                 * accesses without a walk, so A stays clear until it goes. */
                bool cached = f > now || sim_unit_touched(s, vm, u, false, MAX(bstart, f), now);
                from[u] = sim_usec_to_tick(cached ? bend : now);
        }
        s->costs.probes += n;
        s->costs.probe_ns += (double)n * NV_SIM_PROBE_NS;
        if (flush && !dirty) {
                s->costs.flushes++;
                s->costs.flush_ns += NV_SIM_FLUSH_NS;
        }
        return flush ? NV_HARVEST_FLUSH : 0;
}
