/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common/macro.h"
#include "model/inventory.h"
#include "model/move-cost.h"

uint64_t nv_move_page_cost(uint64_t page) {
        /* Copy time on the line through the two measured points, in ns; exact at both. */
        unsigned __int128 ns = NV_MOVE_4K_NS + (unsigned __int128)(page - NV_PAGE_SIZE) *
                                                       (NV_MOVE_2M_NS - NV_MOVE_4K_NS) /
                                                       (NV_HUGE_SIZE - NV_PAGE_SIZE);
        uint64_t by_time = (uint64_t)(ns * NV_PAGE_SIZE / NV_MOVE_4K_NS);

        if (page <= NV_PAGE_SIZE)
                return NV_PAGE_SIZE;
        return MAX(by_time, page / NV_MOVE_MAX_BYTES_PER_COST);
}

uint64_t nv_move_cost(uint64_t bytes, uint64_t page) {
        /* At most bytes: no page costs more than its bytes. */
        return (uint64_t)((unsigned __int128)bytes * nv_move_page_cost(page) / page);
}

uint64_t nv_move_bytes_within(uint64_t cost, uint64_t page) {
        unsigned __int128 pages = cost / nv_move_page_cost(page);

        pages = MIN(pages, (unsigned __int128)(UINT64_MAX / page));
        return (uint64_t)(pages * page);
}
