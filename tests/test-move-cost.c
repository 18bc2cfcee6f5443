/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The move cost model (src/model/move-cost.h): a rule per group of checks. */

#include <math.h>

#include "model/inventory.h"
#include "model/move-cost.h"
#include "sim/costs.h"
#include "tap.h"

/* Rule: a 4 KiB page costs its bytes, so every count in 4 KiB pages is the byte count it was. */
static void small_pages_cost_their_bytes(void) {
        const uint64_t sizes[] = { 0, 1, 4095, 4096, 12345, 256 * MIB, UINT64_MAX / 2, UINT64_MAX };

        is_u64(nv_move_page_cost(NV_PAGE_SIZE), NV_PAGE_SIZE, "4 KiB: a page costs 4096");
        for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
                is_u64(nv_move_cost(sizes[i], NV_PAGE_SIZE), sizes[i], "4 KiB: %llu bytes cost as many",
                       (unsigned long long)sizes[i]);
                is_u64(nv_move_bytes_within(sizes[i], NV_PAGE_SIZE), ALIGN_DOWN(sizes[i], NV_PAGE_SIZE),
                       "4 KiB: a cost of %llu pays for its whole pages", (unsigned long long)sizes[i]);
        }
}

/* Rule: a page is charged its copy time, on the line through the two measured points. */
static void charged_by_copy_time(void) {
        double per_byte = (double)(NV_MOVE_2M_NS - NV_MOVE_4K_NS) / (double)(NV_HUGE_SIZE - NV_PAGE_SIZE);
        uint64_t page = 64 * KIB;
        double ns = NV_MOVE_4K_NS + per_byte * (double)(page - NV_PAGE_SIZE);

        is_near((double)nv_move_page_cost(page), ns * NV_PAGE_SIZE / NV_MOVE_4K_NS, 1.0,
                "64 KiB: charged its copy time, in 4 KiB-page bytes");
        ok(nv_move_page_cost(page) > page / NV_MOVE_MAX_BYTES_PER_COST,
           "64 KiB: its copy time is above the bytes ceiling's charge");
        is_u64(nv_move_cost(4 * page, page), 4 * nv_move_page_cost(page),
               "64 KiB: four pages cost four times one");

        /* The measured points are the simulated host's: both say what a move costs. */
        is_near((double)NV_MOVE_4K_NS, NV_SIM_MOVE_4K_NS, 0, "the 4 KiB copy time is the sim's");
        is_near((double)NV_MOVE_2M_NS, NV_SIM_MOVE_2M_NS, 0, "the 2 MiB copy time is the sim's");
}

/* Rule: no page moves more than NV_MOVE_MAX_BYTES_PER_COST bytes per byte of budget. */
static void bytes_ceiling(void) {
        uint64_t by_time = (uint64_t)NV_MOVE_2M_NS * NV_PAGE_SIZE / NV_MOVE_4K_NS;

        ok(by_time < NV_HUGE_SIZE / NV_MOVE_MAX_BYTES_PER_COST,
           "2 MiB: its copy time (%llu) is below an eighth of its bytes", (unsigned long long)by_time);
        is_u64(nv_move_page_cost(NV_HUGE_SIZE), NV_HUGE_SIZE / NV_MOVE_MAX_BYTES_PER_COST,
               "2 MiB: charged the ceiling's share of its bytes, not its copy time");
        is_u64(nv_move_cost(256 * MIB, NV_HUGE_SIZE), 32 * MIB, "2 MiB: 256 MiB of huge pages cost 32 MiB");
        for (unsigned shift = NV_PAGE_SHIFT; shift <= 30; shift++) {
                uint64_t page = UINT64_C(1) << shift;

                ok(nv_move_page_cost(page) * NV_MOVE_MAX_BYTES_PER_COST >= page,
                   "page of 2^%u bytes: at most %u bytes per byte of budget", shift,
                   NV_MOVE_MAX_BYTES_PER_COST);
        }
}

/* Rule: a larger page never costs less than a smaller one, nor more per byte. */
static void monotone(void) {
        for (unsigned shift = NV_PAGE_SHIFT + 1; shift <= 30; shift++) {
                uint64_t small = UINT64_C(1) << (shift - 1), large = small * 2;

                ok(nv_move_page_cost(large) >= nv_move_page_cost(small) &&
                           nv_move_page_cost(large) <= 2 * nv_move_page_cost(small),
                   "2^%u bytes: costs at least a page of half its size, at most two of them", shift);
        }
}

/* Rule: bytes_within gives whole pages that the cost pays for, and not one page less. */
static void bytes_within(void) {
        uint64_t huge_cost = nv_move_page_cost(NV_HUGE_SIZE);

        is_u64(nv_move_bytes_within(huge_cost - 1, NV_HUGE_SIZE), 0,
               "2 MiB: a page's cost less one buys none");
        is_u64(nv_move_bytes_within(huge_cost, NV_HUGE_SIZE), NV_HUGE_SIZE, "2 MiB: its cost buys one page");
        is_u64(nv_move_bytes_within(256 * MIB, NV_HUGE_SIZE), 2 * GIB,
               "2 MiB: 256 MiB of budget moves 2 GiB of huge pages");
        is_u64(nv_move_bytes_within(3 * huge_cost - 1, NV_HUGE_SIZE), 2 * NV_HUGE_SIZE,
               "2 MiB: rounded down to whole pages");
        is_u64(nv_move_bytes_within(UINT64_MAX, NV_HUGE_SIZE), ALIGN_DOWN(UINT64_MAX, NV_HUGE_SIZE),
               "2 MiB: saturates at the largest whole number of pages");
        is_u64(nv_move_cost(ALIGN_DOWN(UINT64_MAX, NV_HUGE_SIZE), NV_HUGE_SIZE),
               ALIGN_DOWN(UINT64_MAX, NV_HUGE_SIZE) / NV_MOVE_MAX_BYTES_PER_COST,
               "2 MiB: the cost of the largest size does not wrap");
        for (uint64_t c = 0; c < 4 * huge_cost; c += huge_cost / 3) {
                uint64_t b = nv_move_bytes_within(c, NV_HUGE_SIZE);

                ok(b % NV_HUGE_SIZE == 0 && nv_move_cost(b, NV_HUGE_SIZE) <= c &&
                           nv_move_cost(b + NV_HUGE_SIZE, NV_HUGE_SIZE) > c,
                   "2 MiB: a cost of %llu buys %llu bytes, exactly what it pays for", (unsigned long long)c,
                   (unsigned long long)b);
        }
}

int main(void) {
        small_pages_cost_their_bytes();
        charged_by_copy_time();
        bytes_ceiling();
        monotone();
        bytes_within();
        return tap_done();
}
