/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attribution port of the simulated host: a zapped unit's next access is a fault of the vCPU
 * that made it, on the node that vCPU runs on, as KVM's page-fault path reports it on real
 * hardware. Which vCPU is drawn from the unit's per-vCPU access rates (private slices, an L2's
 * vCPUs on the VM's vCPUs that run them), deterministically for the seed. The port records first
 * faults only, as numavd_ept does without NUMAVD_EPT_ZAP_REARM: accesses drawn independently from
 * the rates make the first toucher an unbiased sample of the accessors already; the bias re-arming
 * removes is that of vCPUs that sweep the same memory in step, which the sim's access model has
 * not. */

#include <stdlib.h>
#include <string.h>

#include "common/random.h"
#include "sim/costs.h"
#include "sim/sim-internal.h"

/* A unit zapped at tick `tick` and not touched since (as of the last resolve). */
typedef struct sim_zap {
        size_t unit;
        uint32_t tick;
} sim_zap;

/* What one VM may hold at once, as the kernel module bounds its ring and its zaps: units zapped
 * and not yet touched, and faults recorded and not yet drained (later ones are dropped, counted). */
#define SIM_ZAP_MAX   (1u << 16)
#define SIM_FAULT_MAX (1u << 14)

static int cmp_zap(const void *a, const void *b) {
        const sim_zap *x = a, *y = b;

        if (x->unit != y->unit)
                return x->unit < y->unit ? -1 : 1;
        return x->tick < y->tick ? -1 : x->tick > y->tick;
}

/* Which vCPU made the first access to unit u after tick, and the node it ran on: drawn from the
 * unit's per-vCPU rates and the vCPU's share of time per node. false when no vCPU touches it. */
static bool draw_accessor(const nv_sim *s, const sim_vm *vm, size_t u, uint32_t tick, uint32_t *ret_vcpu,
                          int *ret_node) {
        double per_vcpu[SIM_MAX_VCPUS], total = 0, x, acc = 0;
        uint64_t key = nv_mix64(s->seed ^ nv_mix64(vm->id ^ UINT64_C(0xfa017)));
        unsigned v;

        memset(per_vcpu, 0, sizeof(double) * vm->nr_vcpus);
        (void)sim_unit_rate(vm, vm->cur_seg, u, false, -1, per_vcpu);
        for (v = 0; v < vm->nr_vcpus; v++)
                total += per_vcpu[v];
        if (!(total > 0))
                return false;
        x = nv_uniform_at(key, u, tick) * total;
        for (v = 0; v + 1 < vm->nr_vcpus; v++) {
                acc += per_vcpu[v];
                if (x < acc)
                        break;
        }
        *ret_vcpu = v;

        x = nv_uniform_at(key ^ 1, u, tick);
        acc = 0;
        *ret_node = -1;
        for (unsigned n = 0; n < s->nr_nodes; n++) {
                if (vm->vcpu_share[v][n] <= 0)
                        continue;
                *ret_node = (int)n;
                acc += vm->vcpu_share[v][n];
                if (x < acc)
                        break;
        }
        return true;
}

static void record_fault(nv_sim *s, sim_vm *vm, size_t u, uint32_t vcpu, int node) {
        s->costs.faults++;
        s->costs.fault_ns += s->nested ? NV_SIM_FAULT_NESTED_NS : NV_SIM_FAULT_NS;
        if (vm->nr_faults >= SIM_FAULT_MAX) {
                vm->faults_dropped++;
                return;
        }
        if (vm->nr_faults == vm->cap_faults) {
                size_t cap = MIN(MAX(vm->cap_faults * 2, (size_t)256), (size_t)SIM_FAULT_MAX);
                nv_fault *f = reallocarray(vm->faults, cap, sizeof(*f));

                if (!f) {
                        vm->faults_dropped++;
                        return;
                }
                vm->faults = f;
                vm->cap_faults = cap;
        }
        vm->faults[vm->nr_faults++] = (nv_fault){
                .hva = vm->hva + ((uint64_t)u << vm->unit_shift),
                .vcpu = vcpu,
                .node = (int16_t)node,
                .shift = (uint8_t)vm->unit_shift,
        };
}

void sim_faults_resolve(nv_sim *s, sim_vm *vm) {
        size_t w = 0;

        for (size_t i = 0; i < vm->nr_zapped; i++) {
                const sim_zap z = vm->zapped[i];
                uint32_t vcpu;
                int node;

                if (sim_unit_touched(s, vm, z.unit, false, sim_tick_to_usec(z.tick), s->now) &&
                    draw_accessor(s, vm, z.unit, z.tick, &vcpu, &node)) {
                        record_fault(s, vm, z.unit, vcpu, node);
                        continue;
                }
                vm->zapped[w++] = z;
        }
        vm->nr_zapped = w;
}

void sim_faults_done(sim_vm *vm) {
        free(vm->zapped);
        free(vm->faults);
        vm->zapped = NULL;
        vm->faults = NULL;
        vm->nr_zapped = vm->nr_faults = vm->cap_faults = 0;
        vm->faults_dropped = 0;
}

static int zap_units(nv_sim *s, sim_vm *vm, const uint64_t *addrs, size_t n, unsigned shift) {
        uint32_t now = sim_usec_to_tick(s->now);
        size_t room, k, w;
        sim_zap *z;

        if (shift != vm->unit_shift && !(shift == NV_PAGE_SHIFT && vm->unit_shift == NV_HUGE_SHIFT))
                return -EINVAL;
        if (n > 0 && !addrs)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (addrs[i] % (UINT64_C(1) << shift) != 0 || addrs[i] < vm->hva ||
                    addrs[i] >= vm->hva + vm->mem)
                        return -EINVAL;
        if (n == 0)
                return 0;

        /* What was touched before this zap is a fault of its own zap, not of this one. */
        sim_faults_resolve(s, vm);
        room = SIM_ZAP_MAX - vm->nr_zapped;
        k = MIN(n, room);
        z = reallocarray(vm->zapped, vm->nr_zapped + k + 1, sizeof(*z));
        if (!z)
                return -ENOMEM;
        vm->zapped = z;
        for (size_t i = 0; i < k; i++) {
                size_t u = (addrs[i] - vm->hva) >> vm->unit_shift;

                z[vm->nr_zapped + i] = (sim_zap){ .unit = u, .tick = now };
                /* The entry is gone, and its accessed bit with it; the fault that maps the unit
                 * again sets A, so accesses from now on are seen by the next harvest. */
                vm->a_from[u] = now;
        }
        /* A unit zapped again while still zapped keeps its first zap (untouched since). */
        qsort(z, vm->nr_zapped + k, sizeof(*z), cmp_zap);
        w = 0;
        for (size_t i = 0; i < vm->nr_zapped + k; i++)
                if (w == 0 || z[w - 1].unit != z[i].unit)
                        z[w++] = z[i];
        vm->nr_zapped = w;

        s->costs.zaps += k;
        s->costs.zap_ns += (double)k * NV_SIM_ZAP_NS;
        s->costs.flushes++;
        s->costs.flush_ns += NV_SIM_FLUSH_NS;
        return (int)MIN(k, (size_t)INT32_MAX);
}

static int sim_drain(nv_sim *s, sim_vm *vm, nv_fault *ret, size_t cap, uint64_t *ret_dropped) {
        size_t k;

        if (cap > 0 && !ret)
                return -EINVAL;
        sim_faults_resolve(s, vm);
        k = MIN(cap, vm->nr_faults);
        if (k > 0) {
                memcpy(ret, vm->faults, k * sizeof(*ret));
                memmove(vm->faults, vm->faults + k, (vm->nr_faults - k) * sizeof(*ret));
                vm->nr_faults -= k;
        }
        if (ret_dropped)
                *ret_dropped = vm->faults_dropped;
        vm->faults_dropped = 0;
        return (int)k;
}

static int port_attach(void *ctx, const nv_vm_info *vm) {
        return sim_find_vm(ctx, vm->id) ? 0 : -ESRCH;
}

static void port_detach(void *ctx, uint64_t vm_id) {
        sim_vm *vm = sim_find_vm(ctx, vm_id);

        if (vm)
                sim_faults_done(vm);
}

static int port_zap(void *ctx, const nv_vm_info *info, const uint64_t *addrs, size_t n, unsigned shift) {
        sim_vm *vm = sim_find_vm(ctx, info->id);

        if (!vm)
                return -ESRCH;
        return zap_units(ctx, vm, addrs, n, shift);
}

static int port_drain(void *ctx, const nv_vm_info *info, nv_fault *ret, size_t cap, uint64_t *ret_dropped) {
        sim_vm *vm = sim_find_vm(ctx, info->id);

        if (!vm)
                return -ESRCH;
        return sim_drain(ctx, vm, ret, MIN(cap, (size_t)INT32_MAX), ret_dropped);
}

const nv_attribution_ops sim_attribution_ops = {
        .name = "sim",
        .attach = port_attach,
        .detach = port_detach,
        .zap = port_zap,
        .drain = port_drain,
};
