/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a page move costs: the one count of the move budget (MaxMoveRate=, the policy's budget per
 * epoch, the mover's token bucket, a VM's own MaxMoveRate=). A move is charged its copy time,
 * counted in bytes of 4 KiB pages: the bytes of 4 KiB pages that take as long to move. A 4 KiB
 * page costs exactly its 4096 bytes, so MaxMoveRate= keeps its meaning for them; a larger page
 * costs less per byte, as its copy does, but never less than NV_MOVE_MAX_BYTES_PER_COST allows.
 * The cost does not depend on the nodes: the figures are for neighbour nodes. Pure. */

#include <stdint.h>

/* Moving one page with move_pages(2) between the two sockets of a two-socket host, single
 * threaded: about 14 µs for a 4 KiB page and 840 µs for a 2 MiB transparent huge page. Z. Yan,
 * D. Lustig, D. Nellans, A. Bhattacharjee, "Nimble Page Management for Tiered Memory Systems",
 * ASPLOS 2019, Fig. 3, as src/sim/costs.h cites them (with its caveat: the figures were not
 * re-read from the paper); the simulated host charges the same. Other page sizes are taken as
 * linear in the bytes through these two points: a fixed part per page (unmap, remap, TLB and
 * rmap work, about 12.4 µs) and a copy at about 2.5 GB/s. */
#define NV_MOVE_4K_NS 14000u
#define NV_MOVE_2M_NS 840000u

/* The bytes ceiling: at most this many bytes move per byte of budget, whatever the page size, so
 * the memory bandwidth that moves take (every byte read on one node and written on another) stays
 * within this many times MaxMoveRate=. From the copy times above a 2 MiB page moves 512 times the
 * bytes of a 4 KiB page in 60 times the time, 8.5 times the bytes per unit of copy time, and no
 * page size on that line gets more than 8.7 times (the fixed part vanishes, the copy remains);
 * 8 rounds that down to a whole multiple. So a page is charged at least an eighth of its bytes,
 * which is what a 2 MiB page costs. */
#define NV_MOVE_MAX_BYTES_PER_COST 8u

/* The cost of one page of `page` bytes (a power of two, at least 4 KiB). */
uint64_t nv_move_page_cost(uint64_t page);

/* The cost of moving `bytes` (whole pages) in pages of `page` bytes: at most `bytes`. */
uint64_t nv_move_cost(uint64_t bytes, uint64_t page);

/* The most bytes, in whole pages of `page` bytes, that `cost` pays for; saturates at the largest
 * whole number of pages. */
uint64_t nv_move_bytes_within(uint64_t cost, uint64_t page);
