/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/host.h"
#include "model/inventory.h"
#include "model/region.h"
#include "common/string-table.h"

static const char *const nv_backing_table[_NV_BACKING_MAX] = {
        [NV_BACKING_ANON] = "anon",     [NV_BACKING_THP] = "thp",       [NV_BACKING_HUGETLB] = "hugetlb",
        [NV_BACKING_SHARED] = "shared", [NV_BACKING_PINNED] = "pinned",
};

DEFINE_STRING_TABLE_LOOKUP(nv_backing, nv_backing);

unsigned nv_backing_page_shift(nv_backing b) {
        return b == NV_BACKING_THP || b == NV_BACKING_HUGETLB ? NV_HUGE_SHIFT : NV_PAGE_SHIFT;
}

bool nv_backing_movable(nv_backing b) {
        return b != NV_BACKING_PINNED;
}

void nv_vm_info_clear(nv_vm_info *vm) {
        if (!vm)
                return;
        free(vm->name);
        free(vm->ranges);
        free(vm->cell_time);
        *vm = (nv_vm_info){};
}

int nv_vm_info_copy(nv_vm_info *dst, const nv_vm_info *src) {
        nv_vm_info v = *src;

        v.name = NULL;
        v.ranges = NULL;
        v.cell_time = NULL;
        if (src->name && !(v.name = strdup(src->name)))
                goto oom;
        if (src->nr_ranges) {
                v.ranges = malloc(src->nr_ranges * sizeof(*v.ranges));
                if (!v.ranges)
                        goto oom;
                memcpy(v.ranges, src->ranges, src->nr_ranges * sizeof(*v.ranges));
        }
        if (src->nr_cells) {
                v.cell_time = malloc(src->nr_cells * sizeof(*v.cell_time));
                if (!v.cell_time)
                        goto oom;
                memcpy(v.cell_time, src->cell_time, src->nr_cells * sizeof(*v.cell_time));
        }
        *dst = v;
        return 0;
oom:
        nv_vm_info_clear(&v);
        return -ENOMEM;
}

void nv_inventory_clear(nv_inventory *inv) {
        if (!inv)
                return;
        for (size_t i = 0; i < inv->nr_vms; i++)
                nv_vm_info_clear(&inv->vms[i]);
        free(inv->vms);
        *inv = (nv_inventory){};
}

const nv_vm_info *nv_inventory_find(const nv_inventory *inv, uint64_t id) {
        for (size_t i = 0; i < inv->nr_vms; i++)
                if (inv->vms[i].id == id)
                        return &inv->vms[i];
        return NULL;
}

uint64_t nv_vm_ram_bytes(const nv_vm_info *vm) {
        uint64_t sum = 0;
        for (size_t i = 0; i < vm->nr_ranges; i++)
                sum += vm->ranges[i].size;
        return sum;
}

void nv_host_destroy(nv_host *h) {
        if (h && h->destroy)
                h->destroy(h->ctx);
}

void nv_region_init_history(nv_region *r) {
        r->hits = r->samples = 0;
        r->age = 0;
        r->moved_epoch = 0;
        r->moved_to = r->left_node = r->streak_target = -1;
        r->target_streak = 0;
        r->vote_node = -1;
        r->vote_streak = 0;
}
