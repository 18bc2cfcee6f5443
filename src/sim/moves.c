/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Page moves that take time. move_pages(2) answers at once with the node each page goes to (the
 * real call returns only when its copies are done, and the daemon's time does not pass inside a
 * port), but the copies run one after another at the cost sim/costs.h gives for the node pair, and
 * until a page's copy ends it keeps serving accesses from its old node.
 *
 * Accesses during a copy: since Linux 6.3, migrate_pages_batch() (mm/migrate.c) unmaps a whole
 * batch, flushes the TLBs once, then copies the pages one by one and remaps each when its copy
 * ends. A vCPU that touches an unmapped page faults and waits in migration_entry_wait() (for guest
 * memory: the MMU notifier zapped its EPT entry, the EPT violation takes the same wait) until the
 * copy ends. So accesses before the unmap go to the old node, and accesses between the batch's
 * unmap and the page's copy end stall. The sim charges both: the old node's latency for every
 * access until the copy ends, and the stall on top, an access arriving in that window waiting on
 * average half of it. */

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "sim/costs.h"
#include "sim/sim-internal.h"

static int queue_copy(nv_sim *s, uint32_t vm, size_t unit, usec_t done) {
        if (s->copies_head > 0 && s->copies_head == s->nr_copies)
                s->copies_head = s->nr_copies = 0;
        if (s->nr_copies == s->copies_size) {
                if (s->copies_head > 0) {
                        /* Reuse the room of the finished copies before growing. */
                        memmove(s->copies, s->copies + s->copies_head,
                                (s->nr_copies - s->copies_head) * sizeof(*s->copies));
                        s->nr_copies -= s->copies_head;
                        s->copies_head = 0;
                }
                if (s->nr_copies == s->copies_size) {
                        size_t n = MAX(s->copies_size * 2, (size_t)1024);
                        sim_copy *c = reallocarray(s->copies, n, sizeof(*c));
                        if (!c)
                                return -ENOMEM;
                        s->copies = c;
                        s->copies_size = n;
                }
        }
        s->copies[s->nr_copies++] = (sim_copy){ .done = done, .vm = vm, .unit = unit };
        return 0;
}

/* Move the unit's accesses from the node it served from to its destination. */
static void finish_copy(nv_sim *s, const sim_copy *c) {
        sim_vm *vm = &s->vms[c->vm];
        double per_vcpu[SIM_MAX_VCPUS];
        int from = vm->node[c->unit], to = vm->dest[c->unit];

        memset(per_vcpu, 0, sizeof(double) * vm->nr_vcpus);
        sim_unit_rate(vm, vm->cur_seg, c->unit, false, -1, per_vcpu);
        for (unsigned v = 0; v < vm->nr_vcpus; v++) {
                vm->node_rate[v * NV_MAX_NODES + from] -= per_vcpu[v];
                vm->node_rate[v * NV_MAX_NODES + to] += per_vcpu[v];
        }
        /* The old page is freed once the new one is mapped. */
        s->nodes[from].free += sim_unit_size(vm);
        vm->node[c->unit] = (int8_t)to;
}

void sim_complete_copies(nv_sim *s) {
        while (s->copies_head < s->nr_copies && s->copies[s->copies_head].done <= s->now)
                finish_copy(s, &s->copies[s->copies_head++]);
}

usec_t sim_next_copy_boundary(const nv_sim *s) {
        if (s->copies_head >= s->nr_copies)
                return USEC_INFINITY;
        return ALIGN_UP(s->copies[s->copies_head].done, (usec_t)SIM_COPY_QUANTUM_USEC);
}

bool nv_sim_copying(const nv_sim *s, usec_t *ret_done) {
        if (s->copies_head >= s->nr_copies)
                return false;
        if (ret_done)
                *ret_done = s->copies[s->nr_copies - 1].done;
        return true;
}

/* One move_pages(2) batch: its pages are unmapped together after one shootdown, then copied one
 * after another. */
typedef struct batch {
        size_t pages; /* in 4 KiB pages: NV_SIM_SHOOTDOWN_PAGES of them end it, or one huge page */
        double unmapped_ns, t_ns; /* the unmap, and the end of the last copy so far */
        double stall_ns;          /* accesses' expected wait, before the cap */
} batch;

static void batch_start(nv_sim *s, batch *b) {
        b->unmapped_ns = MAX(MAX(s->copy_busy_ns, b->t_ns), (double)s->now * 1e3) + NV_SIM_SHOOTDOWN_NS;
        b->t_ns = b->unmapped_ns;
        b->pages = 0;
        b->stall_ns = 0;
        s->costs.shootdowns++;
        s->costs.shootdown_ns += NV_SIM_SHOOTDOWN_NS;
}

/* A vCPU waiting for one page issues no other access, so the batch stalls each of the VM's vCPUs
 * at most for its whole length. */
static void batch_end(nv_sim *s, sim_vm *vm, batch *b) {
        double stall;

        if (b->pages == 0)
                return;
        stall = MIN(b->stall_ns, vm->nr_vcpus * (b->t_ns - b->unmapped_ns));
        s->costs.stall_ns += stall;
        s->costs.access_ns += stall;
        vm->acc_ns += stall;
        s->copy_busy_ns = b->t_ns;
        b->pages = 0;
}

int sim_move_pages(void *ctx, const nv_vm_info *info, size_t n, const uint64_t *addrs, const int *nodes,
                   int *ret_status) {
        nv_sim *s = ctx;
        sim_vm *vm = sim_find_vm(s, info->id);
        batch b = {};
        int r = 0;

        if (!vm)
                return -ESRCH;
        if (nodes)
                for (size_t i = 0; i < n; i++)
                        if (nodes[i] < 0 || (unsigned)nodes[i] >= s->nr_nodes)
                                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                uint64_t ub = sim_unit_size(vm);
                bool huge = vm->unit_shift == NV_HUGE_SHIFT;
                double copy_ns, window_ns;
                size_t u;
                int from, to;

                if (addrs[i] < vm->hva || addrs[i] >= vm->hva + vm->mem) {
                        ret_status[i] = -EFAULT;
                        continue;
                }
                u = (addrs[i] - vm->hva) >> vm->unit_shift;
                from = vm->dest[u];
                if (!nodes || nodes[i] == from) {
                        ret_status[i] = from;
                        continue;
                }
                to = nodes[i];
                if (!nv_backing_movable(vm->backing) || vm->node[u] != vm->dest[u]) {
                        /* Pinned, or still being copied by an earlier call. */
                        ret_status[i] = -EBUSY;
                        continue;
                }
                if (!sim_node_can_take(s, (unsigned)to, ub, false)) {
                        /* alloc_migration_target() with __GFP_THISNODE: no other node, and the
                         * allocation fails below the min watermark (no reclaim is modelled). */
                        s->costs.enomem++;
                        ret_status[i] = -ENOMEM;
                        continue;
                }
                if (b.pages >= NV_SIM_SHOOTDOWN_PAGES)
                        batch_end(s, vm, &b);
                if (b.pages == 0)
                        batch_start(s, &b);
                b.pages += ub >> NV_PAGE_SHIFT;

                copy_ns = nv_sim_copy_ns(huge, s->distance[from][to]);
                b.t_ns += copy_ns;
                r = queue_copy(s, (uint32_t)(vm - s->vms), u, (usec_t)(b.t_ns / 1e3) + 1);
                if (r < 0)
                        break;
                /* The new page is allocated before the copy. */
                s->nodes[to].free -= ub;
                vm->dest[u] = (int8_t)to;
                /* Accesses from the batch's unmap to this page's copy end wait, half of it on average. */
                window_ns = b.t_ns - b.unmapped_ns;
                b.stall_ns += sim_unit_rate(vm, vm->cur_seg, u, false, -1, NULL) * window_ns * 1e-9 *
                              window_ns / 2;

                s->costs.move_ns += copy_ns;
                if (huge)
                        s->costs.moved_2m++;
                else
                        s->costs.moved_4k++;
                vm->bytes_moved += ub;
                if (sim_unit_hot_bytes(vm, vm->cur_seg, u) == 0)
                        vm->cold_bytes_moved += ub;
                ret_status[i] = to;
        }
        batch_end(s, vm, &b);
        return r;
}
