/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What one guest page is to the workloads: who touches it from which host node (what a NUMA
 * hinting fault would reveal), and whether it lies in a current hot set. */

#include <string.h>

#include "sim/sim-internal.h"

int nv_sim_page_info(nv_sim *s, uint64_t vm_id, uint64_t hva, nv_sim_page *ret) {
        double per_vcpu[SIM_MAX_VCPUS] = {};
        nv_sim_page p = {};
        sim_vm *vm = sim_find_vm(s, vm_id);
        size_t u;

        if (!vm)
                return -ESRCH;
        if (hva < vm->hva || hva >= vm->hva + vm->mem)
                return -EINVAL;
        u = (hva - vm->hva) >> vm->unit_shift;
        (void)sim_unit_rate(vm, vm->cur_seg, u, false, -1, per_vcpu);
        /* A vCPU whose time is split between nodes touches the page from each in that share. */
        for (unsigned v = 0; v < vm->nr_vcpus; v++)
                for (unsigned n = 0; n < s->nr_nodes; n++)
                        p.rates[n] += per_vcpu[v] * vm->vcpu_share[v][n];
        p.node = vm->node[u];
        p.hot = sim_unit_hot_bytes(vm, vm->cur_seg, u) > 0;
        *ret = p;
        return 0;
}
