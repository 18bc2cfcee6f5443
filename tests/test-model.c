/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shared model: backings and their units, deep copies of a VM's description, the inventory's
 * lookups, a region's history reset. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/host.h"
#include "model/inventory.h"
#include "model/region.h"
#include "tap.h"

static void backings(void) {
        for (int b = 0; b < _NV_BACKING_MAX; b++) {
                const char *s = nv_backing_to_string((nv_backing)b);
                ok(s && nv_backing_from_string(s) == b, "backing %d: \"%s\" parses back", b,
                   s ? s : "(null)");
        }
        is_int(nv_backing_from_string("bogus"), -EINVAL, "an unknown backing is -EINVAL");
        ok(nv_backing_to_string(_NV_BACKING_MAX) == NULL, "no name past the table");
        is_int(nv_backing_page_shift(NV_BACKING_THP), NV_HUGE_SHIFT, "THP is placed in 2 MiB units");
        is_int(nv_backing_page_shift(NV_BACKING_HUGETLB), NV_HUGE_SHIFT,
               "hugetlbfs is placed in 2 MiB units");
        is_int(nv_backing_page_shift(NV_BACKING_ANON), NV_PAGE_SHIFT, "anonymous memory in 4 KiB units");
        ok(!nv_backing_movable(NV_BACKING_PINNED), "pinned memory never moves");
        ok(nv_backing_movable(NV_BACKING_SHARED), "memfd memory moves");
}

static void copies(void) {
        nv_ram_range ranges[2] = {
                { .hva = 0x7f0000000000, .size = 1 << 30, .backing = NV_BACKING_ANON, .cell = 0 },
                { .hva = 0x7f8000000000, .size = 1 << 29, .backing = NV_BACKING_THP, .cell = 1 },
        };
        nv_node_time cells[2] = { { .sec = { 1.5 } }, { .sec = { 0, 2.5 } } };
        nv_vm_info src = {
                .id = 7,
                .name = (char *)"web1",
                .pid = 4242,
                .nr_vcpus = 4,
                .ranges = ranges,
                .nr_ranges = 2,
                .cell_time = cells,
                .nr_cells = 2,
        };
        nv_vm_info dst = {};

        is_int(nv_vm_info_copy(&dst, &src), 0, "a VM's description copies");
        ok(dst.name != src.name && strcmp(dst.name, "web1") == 0, "its name is its own copy");
        ok(dst.ranges != src.ranges && dst.nr_ranges == 2 && dst.ranges[1].size == (1 << 29),
           "its RAM ranges are its own copy");
        ok(dst.cell_time != src.cell_time && dst.cell_time[1].sec[1] == 2.5, "its cells' run times too");
        is_u64(nv_vm_ram_bytes(&dst), (uint64_t)3 << 29, "its RAM is the sum of its ranges");

        nv_inventory inv = { .nr_nodes = 2, .vms = calloc(1, sizeof(nv_vm_info)), .nr_vms = 1 };
        inv.vms[0] = dst;
        ok(nv_inventory_find(&inv, 7) == &inv.vms[0], "the inventory finds a VM by id");
        ok(nv_inventory_find(&inv, 8) == NULL, "and no VM it does not hold");
        nv_inventory_clear(&inv);
        ok(inv.vms == NULL && inv.nr_vms == 0, "a cleared inventory holds no VM");

        nv_vm_info empty = {};
        nv_vm_info_clear(&empty); /* a description that holds nothing clears too */
        is_u64(nv_vm_ram_bytes(&empty), 0, "a VM without ranges has no RAM");
}

static void history(void) {
        nv_region r = { .start = 0,
                        .end = 1 << 21,
                        .heat = 0.5f,
                        .hits = 3,
                        .samples = 4,
                        .age = 9,
                        .moved_epoch = 12,
                        .moved_to = 1,
                        .left_node = 0,
                        .streak_target = 1,
                        .target_streak = 2 };

        r.node_bytes[1] = 1 << 21;
        nv_region_init_history(&r);
        ok(r.hits == 0 && r.samples == 0 && r.age == 0, "a reset region has no samples and no age");
        ok(r.moved_epoch == 0 && r.moved_to == -1 && r.left_node == -1, "and no move behind it");
        ok(r.streak_target == -1 && r.target_streak == 0, "and no retarget streak");
        ok(r.heat == 0.5f && r.node_bytes[1] == (1 << 21), "heat and location are kept");
}

int main(void) {
        backings();
        copies();
        history();
        nv_host_destroy(NULL); /* destructors accept NULL */
        return tap_done();
}
