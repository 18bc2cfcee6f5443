/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <numa.h>
#include <numaif.h>

#include "common/log.h"
#include "migrate/mover.h"

/* numa_move_pages() takes the addresses as void *; ours are uint64_t. */
_Static_assert(sizeof(void *) == sizeof(uint64_t), "move_pages needs 64-bit addresses");

/* A node the kernel could place memory on: configured on this host. */
static int check_node(int node) {
        int max = numa_max_node();

        if (node >= 0 && node <= max && numa_nodes_ptr && numa_bitmask_isbitset(numa_nodes_ptr, node))
                return 0;

        log_error("node %d does not exist on this host (nodes 0-%d)", node, max);
        return -EINVAL;
}

static int check_nodes(size_t n, const int *nodes) {
        for (size_t i = 0; i < n; i++) {
                /* Targets come in long runs of one node: check each run once. */
                if (i > 0 && nodes[i] == nodes[i - 1])
                        continue;
                int r = check_node(nodes[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int move_pages_real(void *ctx, const nv_vm_info *vm, size_t n, const uint64_t *addrs,
                           const int *nodes, int *ret_status) {
        long r;

        if (!vm || (n > 0 && (!addrs || !ret_status)))
                return -EINVAL;
        if (n == 0)
                return 0;
        if (nodes) {
                r = check_nodes(n, nodes);
                if (r < 0)
                        return (int)r;
        }

        /* The kernel stops storing statuses when some pages could not be migrated (it then returns
         * their number); those left untouched read as busy, to be retried. */
        for (size_t i = 0; i < n; i++)
                ret_status[i] = -EBUSY;

        r = numa_move_pages(vm->pid, n, (void **)addrs, nodes, ret_status, MPOL_MF_MOVE);
        if (r < 0)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

const nv_mover_ops nv_move_pages_ops = {
        .move_pages = move_pages_real,
};
