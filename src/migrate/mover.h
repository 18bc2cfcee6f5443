/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The page mover: carries out planned region moves through the mover port (move_pages(2) on a
 * real host, the model on a simulated one). It queries where a region's pages are, moves only
 * those off the target in batches of at least 512 pages a call, handles every per-page status
 * (-EBUSY: retried next epoch; -ENOMEM: that target node is full for the rest of the epoch;
 * -EFAULT/-ENOENT: not present, skipped; others counted), and enforces the move budget as a token
 * bucket counted in cost (model/move-cost.h: a 4 KiB page takes 4096 tokens, a 2 MiB page an
 * eighth of its bytes). */

#include "model/host.h"

#define NV_MOVER_BATCH_PAGES 1024u /* addresses per move_pages call (>= 512) */

enum {
        NV_ERRNO_EBUSY,
        NV_ERRNO_ENOMEM,
        NV_ERRNO_EFAULT,
        NV_ERRNO_ENOENT,
        NV_ERRNO_EACCES,
        NV_ERRNO_EINVAL,
        NV_ERRNO_OTHER,
        _NV_ERRNO_MAX,
};
const char *nv_mover_errno_name(unsigned i);

typedef struct nv_mover_stats {
        uint64_t calls;       /* move_pages calls, queries included */
        uint64_t pages_moved; /* in units of 4 KiB */
        uint64_t bytes_moved;
        uint64_t failures[_NV_ERRNO_MAX]; /* per-page failures, in pages of their own size */
        uint64_t retried;                 /* -EBUSY pages retried in a later epoch */
} nv_mover_stats;

typedef struct nv_move_result {
        uint64_t bytes_moved;   /* bytes that changed node */
        uint64_t bytes_already; /* bytes that were on the target already */
        uint64_t bytes_failed;  /* bytes whose move failed */
        bool budget_exhausted;  /* stopped early: out of tokens */
        bool target_full;       /* stopped early: -ENOMEM on the target node */
} nv_move_result;

typedef struct nv_mover nv_mover;

/* rate: cost per second refilled into the bucket; burst: the bucket's size, in cost. */
int nv_mover_new(const nv_mover_ops *ops, void *ops_ctx, uint64_t rate, uint64_t burst, nv_mover **ret);
nv_mover *nv_mover_free(nv_mover *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_mover *, nv_mover_free);

void nv_mover_set_rate(nv_mover *m, uint64_t rate, uint64_t burst);

/* Start an epoch at time `now` (monotonic or virtual usec): refill the bucket, clear the
 * "target full" marks, and retry the pages that were -EBUSY in the previous epoch. */
int nv_mover_begin_epoch(nv_mover *m, usec_t now, const nv_inventory *inv);

/* Move the pages of [start, end) of vm, in pages of (1 << shift) bytes, to `target`, at most
 * max_bytes of them (UINT64_MAX: no limit but the bucket): pages already on the target are skipped
 * and cost nothing, so a region planned in part over several epochs moves on where it stopped.
 * Returns 0 (details in *ret_result, which may be NULL) or -errno when the VM is gone (-ESRCH) or
 * the call failed as a whole. Never moves more than the bucket pays for. */
int nv_mover_move_range(nv_mover *m, const nv_vm_info *vm, uint64_t start, uint64_t end, unsigned shift,
                        int target, uint64_t max_bytes, nv_move_result *ret_result);

/* The same for the n pages at addrs (each aligned to 1 << shift; any order, none twice), such as
 * hot pages scattered among cold ones. */
int nv_mover_move_list(nv_mover *m, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                       int target, uint64_t max_bytes, nv_move_result *ret_result);

/* Forget any pending retries for a VM that is gone. */
void nv_mover_forget_vm(nv_mover *m, uint64_t vm_id);

const nv_mover_stats *nv_mover_get_stats(const nv_mover *m);
/* The cost the bucket holds. */
uint64_t nv_mover_tokens(const nv_mover *m);

/* The real host's implementation of the port: move_pages(2) through libnuma. ctx is unused. */
extern const nv_mover_ops nv_move_pages_ops;
