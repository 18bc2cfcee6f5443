/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The simulated host's attribution port: a zapped unit's next access is a fault of the vCPU that
 * made it, on that vCPU's node; L2 accesses are faults of the VM's vCPUs that run the L2; THP
 * units fault per 2 MiB; bad input changes nothing; the same seed gives the same faults. */

#include <string.h>

#include "common/log.h"
#include "sim/sim.h"
#include "tap.h"

static const char scn[] = "seed 5\n"
                          "node 0 mem 4G cpus 0-3\n"
                          "node 1 mem 4G cpus 4-7\n"
                          "vm v mem 64M vcpus 2 backing anon first-touch 0\n"
                          "  run 0 on 0-3\n"
                          "  run 1 on 4-7\n"
                          "  workload hot 16M skew 0.95 rate 4M private 1\n"
                          "vm h mem 64M vcpus 2 backing thp first-touch 1\n"
                          "  run 0 on 0-3\n"
                          "  run 1 on 4-7\n"
                          "  workload hot 8M skew 0.99 rate 1M private 1\n"
                          "vm n mem 256M vcpus 4 backing anon\n"
                          "  run 0-1 on 0-3\n"
                          "  run 2-3 on 4-7\n"
                          "  l2 inner mem 64M at-gpa 128M vcpus 2-3\n"
                          "    workload hot 32M skew 0.99 rate 4M\n"
                          "  end\n"
                          "vm idle mem 16M vcpus 1\n";

#define N 64

/* Zap n units of (1 << shift) bytes from addr, let a second pass, drain into f. */
static int zap_and_drain(nv_sim *sim, const nv_host *h, const nv_vm_info *vm, uint64_t addr, size_t n,
                         unsigned shift, nv_fault *f, size_t cap, uint64_t *ret_dropped) {
        uint64_t addrs[N];
        int r;

        for (size_t i = 0; i < n; i++)
                addrs[i] = addr + ((uint64_t)i << shift);
        r = h->attribution->zap(h->attribution_ctx, vm, addrs, n, shift);
        if (r != (int)n)
                return r < 0 ? r : -EIO;
        nv_sim_advance(sim, USEC_PER_SEC);
        return h->attribution->drain(h->attribution_ctx, vm, f, cap, ret_dropped);
}

static size_t count_by(const nv_fault *f, size_t n, int vcpu, int node) {
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                k += (vcpu < 0 || f[i].vcpu == (uint32_t)vcpu) && (node < -1 || f[i].node == node);
        return k;
}

static int run(nv_fault *out, size_t *ret_n) {
        _cleanup_(nv_sim_freep) nv_sim *sim = NULL;
        nv_inventory inv = {};
        nv_host h;
        uint64_t dropped = 1;
        int r;

        if (nv_sim_load_string(scn, "faults.scn", &sim) < 0)
                return -EINVAL;
        nv_sim_host(sim, false, &h);
        if (h.source->refresh(h.ctx, &inv) < 0)
                return -EINVAL;
        /* vCPU 1's slice is [8M, 16M). */
        r = zap_and_drain(sim, &h, &inv.vms[0], inv.vms[0].ranges[0].hva + 8 * MIB, N, 12, out, N, &dropped);
        nv_inventory_clear(&inv);
        if (r < 0)
                return r;
        *ret_n = (size_t)r;
        return 0;
}

int main(void) {
        _cleanup_(nv_sim_freep) nv_sim *sim = NULL;
        nv_inventory inv = {};
        nv_fault f[N], g[N];
        nv_sim_costs costs;
        nv_host h;
        uint64_t dropped = 7, base, addr;
        size_t nf, ng;
        int r;

        log_set_max_level(LOG_WARNING);
        if (nv_sim_load_string(scn, "faults.scn", &sim) < 0)
                return tap_skip_all("cannot load the scenario");
        nv_sim_host(sim, false, &h);
        ok(h.attribution && h.attribution->zap && h.attribution->drain,
           "the sim offers the attribution port");
        if (h.source->refresh(h.ctx, &inv) < 0 || inv.nr_vms != 4)
                return tap_skip_all("cannot refresh the inventory");
        base = inv.vms[0].ranges[0].hva;

        /* Bad input: refused as a whole, nothing zapped. */
        addr = base + 1;
        is_int(h.attribution->zap(h.attribution_ctx, &inv.vms[0], &addr, 1, 12), -EINVAL,
               "an unaligned address is refused");
        addr = base + 64 * MIB;
        is_int(h.attribution->zap(h.attribution_ctx, &inv.vms[0], &addr, 1, 12), -EINVAL,
               "an address past the VM's RAM is refused");
        addr = base;
        is_int(h.attribution->zap(h.attribution_ctx, &inv.vms[0], &addr, 1, 21), -EINVAL,
               "a 2 MiB block of a 4 KiB backing is refused");
        nv_vm_info ghost = { .id = 99 };
        is_int(h.attribution->zap(h.attribution_ctx, &ghost, &addr, 1, 12), -ESRCH,
               "an unknown VM is -ESRCH");
        is_int(h.attribution->drain(h.attribution_ctx, &ghost, f, N, &dropped), -ESRCH,
               "draining an unknown VM is -ESRCH");
        nv_sim_get_costs(sim, &costs);
        is_u64(costs.zaps, 0, "refused zaps zapped nothing");

        /* vCPU 0's private slice [0, 8M) on node 0, vCPU 1's [8M, 16M) on node 1. */
        r = zap_and_drain(sim, &h, &inv.vms[0], base, N, 12, f, N, &dropped);
        ok(r >= N * 9 / 10, "most zapped pages of a hot slice fault within a second (%d of %d)", r, N);
        nf = r > 0 ? (size_t)r : 0;
        ok(nf > 0 && count_by(f, nf, 0, 0) == nf, "every fault on vCPU 0's slice is vCPU 0's, on node 0");
        is_u64(dropped, 0, "nothing was dropped");
        ok(nf > 0 && f[0].shift == 12 && f[0].hva >= base && f[0].hva < base + N * 4096 &&
                   f[0].hva % 4096 == 0,
           "a fault names its 4 KiB block");
        r = zap_and_drain(sim, &h, &inv.vms[0], base + 8 * MIB, N, 12, f, N, &dropped);
        nf = r > 0 ? (size_t)r : 0;
        ok(nf > N / 2 && count_by(f, nf, 1, 1) == nf,
           "every fault on vCPU 1's slice is vCPU 1's, on node 1");
        is_int(h.attribution->drain(h.attribution_ctx, &inv.vms[0], f, N, &dropped), 0,
               "a second drain finds nothing");

        /* A cap smaller than what is recorded: the rest waits for the next drain. */
        r = zap_and_drain(sim, &h, &inv.vms[0], base, N, 12, f, 10, &dropped);
        is_int(r, 10, "drain moves no more than its cap");
        r = h.attribution->drain(h.attribution_ctx, &inv.vms[0], f, N, &dropped);
        ok(r > 0, "the rest comes with the next drain (%d)", r);

        /* THP: a fault stands for its 2 MiB unit; a 4 KiB zap inside it zaps the unit. */
        uint64_t hbase = inv.vms[1].ranges[0].hva;
        r = zap_and_drain(sim, &h, &inv.vms[1], hbase, 4, 21, f, N, &dropped);
        nf = r > 0 ? (size_t)r : 0;
        ok(nf >= 3 && f[0].shift == 21 && f[0].hva % (2 * MIB) == 0, "THP units fault per 2 MiB (%zu)", nf);
        size_t right = 0;
        for (size_t i = 0; i < nf; i++) /* [0, 4M) is vCPU 0's slice, [4M, 8M) vCPU 1's */
                right += f[i].hva < hbase + 4 * MIB ? f[i].vcpu == 0 && f[i].node == 0
                                                    : f[i].vcpu == 1 && f[i].node == 1;
        is_u64(right, nf, "each THP slice faults on its own vCPU, on its node");
        addr = hbase + 4 * MIB + 4096;
        is_int(h.attribution->zap(h.attribution_ctx, &inv.vms[1], &addr, 1, 12), 1,
               "a 4 KiB block inside a 2 MiB unit can be zapped");
        nv_sim_advance(sim, USEC_PER_SEC);
        r = h.attribution->drain(h.attribution_ctx, &inv.vms[1], f, N, &dropped);
        ok(r == 1 && f[0].hva == hbase + 4 * MIB && f[0].shift == 21, "... and faults as its 2 MiB unit");

        /* The L2 runs on the VM's vCPUs 2-3, which run on node 1. */
        uint64_t nbase = inv.vms[2].ranges[0].hva;
        r = zap_and_drain(sim, &h, &inv.vms[2], nbase + 128 * MIB, N, 12, f, N, &dropped);
        nf = r > 0 ? (size_t)r : 0;
        ok(nf > N / 2, "the L2's hot memory faults (%zu)", nf);
        ok(nf > 0 && count_by(f, nf, 2, 1) + count_by(f, nf, 3, 1) == nf,
           "every L2 fault is one of the VM's vCPUs 2-3, on node 1");
        ok(count_by(f, nf, 2, 1) > 0 && count_by(f, nf, 3, 1) > 0, "both of them fault");

        /* An idle VM: nothing touches its memory, nothing faults. */
        r = zap_and_drain(sim, &h, &inv.vms[3], inv.vms[3].ranges[0].hva, N, 12, f, N, &dropped);
        is_int(r, 0, "an idle VM's zapped pages never fault");

        nv_sim_get_costs(sim, &costs);
        ok(costs.faults > 0 && costs.fault_ns >= costs.faults * 1000.0,
           "faults are charged (%" PRIu64 ", %g ns)", costs.faults, costs.fault_ns);
        ok(costs.zaps >= 5 * N && costs.zap_ns > 0, "zaps are charged (%" PRIu64 ")", costs.zaps);

        /* Determinism: the same scenario and seed, the same faults. */
        r = run(f, &nf);
        ok(r == 0 && run(g, &ng) == 0 && nf == ng && memcmp(f, g, nf * sizeof(*f)) == 0,
           "the same seed gives the same faults (%zu)", nf);

        h.attribution->detach(h.attribution_ctx, inv.vms[0].id);
        is_int(h.attribution->drain(h.attribution_ctx, &inv.vms[0], f, N, &dropped), 0,
               "a detached VM has nothing pending");
        nv_inventory_clear(&inv);
        return tap_done();
}
