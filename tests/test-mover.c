/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The page mover's executor against a test double of the mover port: a few address spaces whose
 * pages each sit on a node, with scripted per-page errors and node capacities. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "migrate/mover.h"
#include "model/move-cost.h"
#include "tap.h"

#define FAKE_NODES     4
#define FAKE_SPACES    3
#define FAKE_MAX_CALLS 256

/* One VMM's address space: pages of (1 << shift) bytes from base. */
typedef struct fake_space {
        uint64_t base;
        unsigned shift;
        size_t nr_pages;
        int *where;    /* node, or -EFAULT / -ENOENT: not present */
        int *busy;     /* move attempts that still answer -EBUSY */
        int *fail;     /* a lasting per-page error on move, 0 none */
        bool gone;     /* the process exited: -ESRCH */
        size_t wasted; /* pages asked to move that were on the target already */
} fake_space;

typedef struct fake_host {
        fake_space spaces[FAKE_SPACES]; /* indexed by the VM's pid */
        long room[FAKE_NODES];          /* pages a node can still take; < 0: unlimited */
        size_t queries, moves;
        size_t move_sizes[FAKE_MAX_CALLS];
        int whole_call_error; /* returned by the next call, then cleared */
} fake_host;

static int fake_move_pages(void *ctx, const nv_vm_info *vm, size_t n, const uint64_t *addrs,
                           const int *nodes, int *ret_status) {
        fake_host *h = ctx;
        fake_space *s;

        if (h->whole_call_error) {
                int r = h->whole_call_error;
                h->whole_call_error = 0;
                return r;
        }
        if (vm->pid < 0 || vm->pid >= FAKE_SPACES)
                return -ESRCH;
        s = &h->spaces[vm->pid];
        if (s->gone || !s->where)
                return -ESRCH;
        if (n == 0 || n > NV_MOVER_BATCH_PAGES)
                return -E2BIG; /* the executor must batch */
        if (nodes)
                for (size_t i = 0; i < n; i++)
                        if (nodes[i] < 0 || nodes[i] >= FAKE_NODES)
                                return -ENODEV;

        if (nodes) {
                if (h->moves < FAKE_MAX_CALLS)
                        h->move_sizes[h->moves] = n;
                h->moves++;
        } else
                h->queries++;

        for (size_t i = 0; i < n; i++) {
                uint64_t a = addrs[i];
                size_t p;

                if (a < s->base || ((a - s->base) >> s->shift) >= s->nr_pages) {
                        ret_status[i] = -EFAULT;
                        continue;
                }
                p = (a - s->base) >> s->shift;
                if (!nodes || s->where[p] < 0) {
                        ret_status[i] = s->where[p];
                        continue;
                }
                if (s->where[p] == nodes[i]) {
                        s->wasted++;
                        ret_status[i] = nodes[i];
                } else if (s->fail[p])
                        ret_status[i] = s->fail[p];
                else if (s->busy[p] > 0) {
                        s->busy[p]--;
                        ret_status[i] = -EBUSY;
                } else if (h->room[nodes[i]] == 0)
                        ret_status[i] = -ENOMEM;
                else {
                        if (h->room[nodes[i]] > 0)
                                h->room[nodes[i]]--;
                        s->where[p] = nodes[i];
                        ret_status[i] = nodes[i];
                }
        }
        return 0;
}

static const nv_mover_ops fake_ops = {
        .move_pages = fake_move_pages,
};

static void fake_init(fake_host *h) {
        *h = (fake_host){};
        for (size_t i = 0; i < FAKE_NODES; i++)
                h->room[i] = -1;
}

/* Give VM pid `pid` nr pages of (1 << shift) bytes at base, all on `node`. */
static void fake_space_setup(fake_host *h, pid_t pid, uint64_t base, unsigned shift, size_t nr, int node) {
        fake_space *s = &h->spaces[pid];

        free(s->where);
        free(s->busy);
        free(s->fail);
        *s = (fake_space){ .base = base, .shift = shift, .nr_pages = nr };
        s->where = calloc(nr, sizeof(int));
        s->busy = calloc(nr, sizeof(int));
        s->fail = calloc(nr, sizeof(int));
        if (!s->where || !s->busy || !s->fail)
                abort();
        for (size_t i = 0; i < nr; i++)
                s->where[i] = node;
}

static void fake_done(fake_host *h) {
        for (size_t i = 0; i < FAKE_SPACES; i++) {
                free(h->spaces[i].where);
                free(h->spaces[i].busy);
                free(h->spaces[i].fail);
        }
}

static size_t count_on(const fake_space *s, int node) {
        size_t n = 0;
        for (size_t i = 0; i < s->nr_pages; i++)
                n += s->where[i] == node;
        return n;
}

#define BASE      UINT64_C(0x7f0000000000)
#define PG        NV_PAGE_SIZE
#define HUGE_COST nv_move_page_cost(NV_HUGE_SIZE)
#define BIG_RATE  (UINT64_C(1) << 40)

static nv_vm_info vm1 = { .id = 101, .pid = 1 };
static nv_vm_info vm2 = { .id = 102, .pid = 2 };

/* An inventory holding the given VMs (shallow: the VMs are static). */
static nv_inventory inventory_of(nv_vm_info *vms, size_t n) {
        return (nv_inventory){ .nr_nodes = FAKE_NODES, .vms = vms, .nr_vms = n };
}

static void test_batching(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        fake_host h;
        nv_move_result res;
        bool sizes_ok = true;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 3000, 1);
        is_int(nv_mover_new(&fake_ops, &h, BIG_RATE, BIG_RATE, &m), 0, "batching: mover created");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 3000 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "batching: 3000 pages moved without error");
        is_u64(h.queries, 3, "batching: 3000 pages are queried in 3 calls of <= 1024");
        is_u64(h.moves, 3, "batching: 3000 off-target pages are moved in 3 calls");
        is_u64(h.move_sizes[0], 1024, "batching: first move call carries a full batch");
        is_u64(h.move_sizes[2], 952, "batching: last move call carries the remaining 952");
        is_u64(count_on(&h.spaces[1], 0), 3000, "batching: every page is on the target afterwards");
        is_u64(res.bytes_moved, 3000 * PG, "batching: bytes_moved counts every page");
        is_u64(nv_mover_get_stats(m)->calls, 6, "batching: stats count queries and moves as calls");

        /* Half on target, interleaved: off-target pages from several queries share one call. */
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 4096, 0);
        for (size_t i = 0; i < 4096; i += 2)
                h.spaces[1].where[i] = 2;
        h.queries = h.moves = 0;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 4096 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "interleaved: move succeeds");
        is_u64(h.queries, 4, "interleaved: 4 queries of 1024");
        is_u64(h.moves, 2, "interleaved: 2048 off-target pages from 4 queries go in 2 calls");
        for (size_t i = 0; i < h.moves && i < FAKE_MAX_CALLS; i++)
                sizes_ok = sizes_ok && h.move_sizes[i] >= 512;
        ok(sizes_ok, "interleaved: every move call carries at least 512 pages");
        is_u64(h.spaces[1].wasted, 0, "interleaved: no page already on the target is asked to move");
        is_u64(res.bytes_moved, 2048 * PG, "interleaved: bytes_moved counts the off-target half");
        is_u64(res.bytes_already, 2048 * PG, "interleaved: bytes_already counts the on-target half");
        is_u64(res.bytes_failed, 0, "interleaved: nothing failed");
        is_u64(nv_mover_get_stats(m)->pages_moved, 5048, "stats: pages_moved adds up over calls");
        is_u64(nv_mover_get_stats(m)->bytes_moved, 5048 * PG, "stats: bytes_moved adds up over calls");

        /* Everything on target already: queries only. */
        h.queries = h.moves = 0;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 4096 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "on target: move succeeds");
        is_u64(h.moves, 0, "on target: no move call is made");
        is_u64(res.bytes_already, 4096 * PG, "on target: all bytes reported as already there");
        fake_done(&h);
}

/* max_bytes: a region planned in part moves on where it stopped, and the bucket keeps the rest. */
static void test_max_bytes(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        fake_host h;
        nv_move_result res;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 3000, 1);
        is_int(nv_mover_new(&fake_ops, &h, BIG_RATE, BIG_RATE, &m), 0, "max_bytes: mover created");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 3000 * PG, NV_PAGE_SHIFT, 0, 1000 * PG, &res), 0,
               "max_bytes: the first part moves");
        is_u64(res.bytes_moved, 1000 * PG, "max_bytes: exactly max_bytes moved");
        ok(res.budget_exhausted, "max_bytes: the call says it stopped at its limit");
        is_u64(count_on(&h.spaces[1], 0), 1000, "max_bytes: 1000 pages on the target");
        is_u64(nv_mover_tokens(m), BIG_RATE - 1000 * PG, "max_bytes: the bucket lost only what moved");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 3000 * PG, NV_PAGE_SHIFT, 0, 1000 * PG, &res), 0,
               "max_bytes: the second part moves");
        is_u64(res.bytes_moved, 1000 * PG, "max_bytes: the second call moves 1000 more pages");
        is_u64(res.bytes_already, 1000 * PG, "max_bytes: and skips the 1000 already there");
        is_u64(count_on(&h.spaces[1], 0), 2000, "max_bytes: 2000 pages on the target");
        fake_done(&h);
}

static void test_busy_retry(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        nv_vm_info vms[1] = { vm1 };
        nv_inventory inv = inventory_of(vms, 1), empty = inventory_of(NULL, 0);
        fake_host h;
        nv_move_result res;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 100, 1);
        h.spaces[1].busy[10] = 1;
        h.spaces[1].busy[11] = 1;
        h.spaces[1].busy[50] = 2;
        is_int(nv_mover_new(&fake_ops, &h, BIG_RATE, BIG_RATE, &m), 0, "busy: mover created");
        is_int(nv_mover_begin_epoch(m, 0, &inv), 0, "busy: first epoch begins");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 100 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "busy: move succeeds as a whole");
        is_u64(res.bytes_moved, 97 * PG, "busy: 97 pages moved");
        is_u64(res.bytes_failed, 3 * PG, "busy: 3 busy pages count as failed bytes");
        is_u64(nv_mover_get_stats(m)->failures[NV_ERRNO_EBUSY], 3, "busy: EBUSY failures counted");

        h.moves = 0;
        is_int(nv_mover_begin_epoch(m, USEC_PER_SEC, &inv), 0, "busy: next epoch begins");
        is_u64(nv_mover_get_stats(m)->retried, 3, "busy: the 3 busy pages are retried next epoch");
        is_u64(h.moves, 1, "busy: the retries go in one call");
        is_int(h.spaces[1].where[10], 0, "busy: page 10 moved on retry");
        is_int(h.spaces[1].where[50], 1, "busy: page 50, busy twice, has not moved yet");
        is_u64(nv_mover_get_stats(m)->pages_moved, 99, "busy: retried moves count in pages_moved");

        is_int(nv_mover_begin_epoch(m, 2 * USEC_PER_SEC, &inv), 0, "busy: third epoch begins");
        is_u64(nv_mover_get_stats(m)->retried, 4, "busy: a page busy again is retried again");
        is_int(h.spaces[1].where[50], 0, "busy: page 50 moved on the second retry");

        h.moves = 0;
        is_int(nv_mover_begin_epoch(m, 3 * USEC_PER_SEC, &inv), 0, "busy: fourth epoch begins");
        is_u64(h.moves, 0, "busy: nothing left to retry once all moved");

        /* A VM missing from the inventory: its retries are dropped without a call. */
        h.spaces[1].busy[5] = 1;
        h.spaces[1].where[5] = 1;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 100 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "busy: another busy page");
        is_int(nv_mover_begin_epoch(m, 4 * USEC_PER_SEC, &empty), 0, "busy: epoch without the VM");
        is_int(nv_mover_begin_epoch(m, 5 * USEC_PER_SEC, &inv), 0, "busy: epoch with the VM back");
        is_u64(nv_mover_get_stats(m)->retried, 4, "busy: retries of a VM not in the inventory are dropped");
        is_int(h.spaces[1].where[5], 1, "busy: the dropped page stayed where it was");
        fake_done(&h);
}

static void test_enomem(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        nv_inventory empty = inventory_of(NULL, 0);
        fake_host h;
        nv_move_result res;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 3000, 1);
        h.room[0] = 100;
        is_int(nv_mover_new(&fake_ops, &h, BIG_RATE, BIG_RATE, &m), 0, "enomem: mover created");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 3000 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "enomem: move succeeds as a whole");
        ok(res.target_full, "enomem: target reported full");
        is_u64(res.bytes_moved, 100 * PG, "enomem: pages that fit moved");
        is_u64(h.moves, 1, "enomem: no further call after the node filled up");
        is_u64(nv_mover_get_stats(m)->failures[NV_ERRNO_ENOMEM], 924, "enomem: ENOMEM pages counted");
        is_u64(nv_mover_tokens(m), BIG_RATE - 100 * PG, "enomem: tokens of unmoved pages refunded");

        h.queries = h.moves = 0;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 3000 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "enomem: second move to the full node");
        ok(res.target_full && res.bytes_moved == 0, "enomem: full node refused at once");
        is_u64(h.queries + h.moves, 0, "enomem: no call made to a node marked full");

        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 3000 * PG, NV_PAGE_SHIFT, 2, UINT64_MAX, &res), 0,
               "enomem: move to another node");
        ok(!res.target_full, "enomem: another node is not full");
        is_u64(res.bytes_moved, 3000 * PG, "enomem: all pages move to the other node");

        h.room[0] = -1;
        is_int(nv_mover_begin_epoch(m, 0, &empty), 0, "enomem: new epoch");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 3000 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "enomem: move to the formerly full node");
        ok(!res.target_full, "enomem: full mark cleared by the new epoch");
        is_u64(res.bytes_moved, 3000 * PG, "enomem: pages move there again");
        fake_done(&h);
}

static void test_not_present_and_others(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        fake_host h;
        nv_move_result res;
        const nv_mover_stats *st;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 64, 1);
        h.spaces[1].where[3] = -ENOENT;
        h.spaces[1].where[4] = -EFAULT;
        h.spaces[1].fail[7] = -EFAULT; /* vanished between query and move */
        h.spaces[1].fail[8] = -EACCES;
        h.spaces[1].fail[9] = -EIO;
        is_int(nv_mover_new(&fake_ops, &h, BIG_RATE, BIG_RATE, &m), 0, "skip: mover created");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 64 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "skip: move succeeds as a whole");
        st = nv_mover_get_stats(m);
        is_u64(res.bytes_moved, 59 * PG, "skip: present, movable pages moved");
        is_u64(res.bytes_failed, 2 * PG, "skip: only EACCES and EIO count as failed bytes");
        is_u64(h.move_sizes[0], 62, "skip: pages not present at query time are not asked to move");
        is_u64(st->failures[NV_ERRNO_ENOENT], 1, "skip: ENOENT counted");
        is_u64(st->failures[NV_ERRNO_EFAULT], 2, "skip: EFAULT counted (query and move)");
        is_u64(st->failures[NV_ERRNO_EACCES], 1, "skip: EACCES counted");
        is_u64(st->failures[NV_ERRNO_OTHER], 1, "skip: EIO counted as other");
        is_u64(st->failures[NV_ERRNO_EBUSY], 0, "skip: nothing busy");
        is_u64(nv_mover_tokens(m), BIG_RATE - 59 * PG, "skip: tokens refunded for unmoved pages");
        fake_done(&h);
}

static void test_tokens(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        nv_inventory empty = inventory_of(NULL, 0);
        fake_host h;
        nv_move_result res;
        usec_t t0 = 1000 * USEC_PER_SEC;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 2048, 1);
        is_int(nv_mover_new(&fake_ops, &h, 1 * MIB, 4 * MIB, &m), 0, "tokens: mover created");
        is_int(nv_mover_begin_epoch(m, t0, &empty), 0, "tokens: first epoch");
        is_u64(nv_mover_tokens(m), 4 * MIB, "tokens: first epoch fills the bucket to burst");

        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 512 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "tokens: 2 MiB move");
        is_u64(nv_mover_tokens(m), 2 * MIB, "tokens: the move took 2 MiB of tokens");
        nv_mover_begin_epoch(m, t0 + USEC_PER_SEC, &empty);
        is_u64(nv_mover_tokens(m), 3 * MIB, "tokens: one second refills rate bytes");
        nv_mover_begin_epoch(m, t0 + USEC_PER_SEC + USEC_PER_SEC / 4, &empty);
        is_u64(nv_mover_tokens(m), 3 * MIB + MIB / 4, "tokens: a quarter second refills a quarter");
        nv_mover_begin_epoch(m, t0 + 60 * USEC_PER_SEC, &empty);
        is_u64(nv_mover_tokens(m), 4 * MIB, "tokens: the bucket is capped at burst");

        /* 1536 off-target pages (6 MiB) with 4 MiB of tokens: 1024 pages, then stop. */
        h.moves = 0;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 2048 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "tokens: move larger than the bucket");
        ok(res.budget_exhausted, "tokens: budget reported exhausted");
        is_u64(res.bytes_moved, 4 * MIB, "tokens: moved exactly what the bucket held");
        is_u64(nv_mover_tokens(m), 0, "tokens: bucket empty");
        is_u64(count_on(&h.spaces[1], 0), 512 + 1024, "tokens: pages beyond the budget stayed");

        /* A partial batch: 1.5 MiB + 100 bytes of tokens cover 384 whole pages. */
        nv_mover_set_rate(m, 1 * MIB, 4 * MIB);
        nv_mover_begin_epoch(m, t0 + 60 * USEC_PER_SEC + 1500000 + 100, &empty);
        is_u64(nv_mover_tokens(m), 1572864 + 104, "tokens: 1.5 s refills 1.5 MiB and change");
        h.moves = 0;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 2048 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "tokens: partial batch move");
        is_u64(h.move_sizes[0], 384, "tokens: partial batch holds the whole pages the tokens cover");
        ok(res.budget_exhausted, "tokens: partial batch stops with budget exhausted");
        is_u64(nv_mover_tokens(m), 104, "tokens: the remainder below a page stays");

        /* Less than a page: no call at all. */
        h.queries = h.moves = 0;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 2048 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "tokens: move with less than a page of tokens");
        ok(res.budget_exhausted && h.queries == 0 && h.moves == 0,
           "tokens: no call made with less than a page of tokens");

        /* Refund: busy pages give their tokens back. */
        nv_mover_begin_epoch(m, t0 + 120 * USEC_PER_SEC, &empty);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 100, 1);
        for (size_t i = 0; i < 40; i++)
                h.spaces[1].busy[i] = 1;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 100 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "tokens: move with busy pages");
        is_u64(nv_mover_tokens(m), 4 * MIB - 60 * PG, "tokens: busy pages refunded");

        /* Fractions of a byte accumulate across epochs: 1000 B/s, two half-milliseconds. */
        nv_mover_set_rate(m, 1000, 4 * MIB);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 1024, 1);
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 1024 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "tokens: drain the bucket");
        is_u64(nv_mover_tokens(m), 0, "tokens: bucket drained");
        nv_mover_begin_epoch(m, t0 + 120 * USEC_PER_SEC + 500, &empty);
        nv_mover_begin_epoch(m, t0 + 120 * USEC_PER_SEC + 1000, &empty);
        is_u64(nv_mover_tokens(m), 1, "tokens: sub-byte refills are not lost");
        fake_done(&h);
}

static void test_huge_pages(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        nv_inventory empty = inventory_of(NULL, 0);
        fake_host h;
        nv_move_result res;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_HUGE_SHIFT, 300, 1);
        is_int(nv_mover_new(&fake_ops, &h, 1 * GIB, 1 * GIB, &m), 0, "huge: mover created");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 300 * NV_HUGE_SIZE, NV_HUGE_SHIFT, 0, UINT64_MAX,
                                   &res),
               0, "huge: 300 huge pages moved");
        is_u64(h.moves, 1, "huge: one move call");
        is_u64(h.move_sizes[0], 300, "huge: all 300 remaining pages in that call");
        is_u64(res.bytes_moved, 300 * NV_HUGE_SIZE, "huge: bytes_moved in 2 MiB units");
        is_u64(nv_mover_get_stats(m)->pages_moved, 300 * 512, "huge: pages_moved in 4 KiB units");
        is_int(nv_mover_move_range(m, &vm1, BASE + PG, BASE + 2 * NV_HUGE_SIZE, NV_HUGE_SHIFT, 0, UINT64_MAX,
                                   &res),
               -EINVAL, "huge: an unaligned start is refused");

        /* The bucket holds cost (model/move-cost.h): a huge page takes its page's cost, an eighth
         * of its bytes, not its bytes. */
        nv_mover_set_rate(m, HUGE_COST, 5 * HUGE_COST / 2);
        nv_mover_begin_epoch(m, 0, &empty);
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 300 * NV_HUGE_SIZE, NV_HUGE_SHIFT, 2, UINT64_MAX,
                                   &res),
               0, "huge: move with the cost of 2.5 huge pages");
        is_u64(res.bytes_moved, 2 * NV_HUGE_SIZE, "huge: tokens cover two whole huge pages");
        ok(res.budget_exhausted, "huge: budget exhausted");
        is_u64(nv_mover_tokens(m), HUGE_COST / 2, "huge: half a page's cost left over");

        /* max_bytes limits bytes, whatever they cost; a busy page gives its cost back. */
        nv_mover_begin_epoch(m, 10 * USEC_PER_SEC, &empty);
        h.spaces[1].busy[3] = 1;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 300 * NV_HUGE_SIZE, NV_HUGE_SHIFT, 2,
                                   2 * NV_HUGE_SIZE, &res),
               0, "huge: move of at most two huge pages");
        is_u64(res.bytes_moved, NV_HUGE_SIZE, "huge: the first moves, the busy second does not");
        is_u64(nv_mover_tokens(m), 5 * HUGE_COST / 2 - HUGE_COST, "huge: the bucket lost one page's cost");
        fake_done(&h);
}

static void test_gone_and_forget(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        nv_vm_info vms[2] = { vm1, vm2 };
        nv_inventory inv = inventory_of(vms, 2);
        fake_host h;
        nv_move_result res = { .bytes_moved = 12345 };

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 64, 1);
        fake_space_setup(&h, 2, BASE, NV_PAGE_SHIFT, 64, 1);
        for (size_t i = 0; i < 5; i++) {
                h.spaces[1].busy[i] = 1;
                h.spaces[2].busy[i] = 1;
        }
        is_int(nv_mover_new(&fake_ops, &h, BIG_RATE, BIG_RATE, &m), 0, "gone: mover created");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 64 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, NULL), 0,
               "gone: vm1 move with busy pages (result NULL)");
        is_int(nv_mover_move_range(m, &vm2, BASE, BASE + 64 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, NULL), 0,
               "gone: vm2 move with busy pages");

        /* vm1 exits; a move notices and drops its retries. */
        h.spaces[1].gone = true;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 64 * PG, NV_PAGE_SHIFT, 2, UINT64_MAX, &res),
               -ESRCH, "gone: a VM that exited gives -ESRCH");
        is_u64(res.bytes_moved, 12345, "gone: result untouched on failure");
        h.spaces[1].gone = false;
        is_int(nv_mover_begin_epoch(m, 0, &inv), 0, "gone: epoch begins");
        is_u64(nv_mover_get_stats(m)->retried, 5, "gone: only vm2's 5 busy pages are retried");
        is_int(h.spaces[1].where[0], 1, "gone: vm1's busy page was not retried");
        is_int(h.spaces[2].where[0], 0, "gone: vm2's busy page moved on retry");

        /* forget_vm */
        for (size_t i = 10; i < 13; i++) {
                h.spaces[1].where[i] = h.spaces[2].where[i] = 3;
                h.spaces[1].busy[i] = h.spaces[2].busy[i] = 1;
        }
        nv_mover_move_range(m, &vm1, BASE, BASE + 64 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, NULL);
        nv_mover_move_range(m, &vm2, BASE, BASE + 64 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, NULL);
        nv_mover_forget_vm(m, vm2.id);
        is_int(nv_mover_begin_epoch(m, 1, &inv), 0, "forget: epoch begins");
        is_u64(nv_mover_get_stats(m)->retried, 8, "forget: only the remembered VM's 3 pages retried");
        is_int(h.spaces[1].where[10], 0, "forget: vm1's page moved on retry");
        is_int(h.spaces[2].where[10], 3, "forget: the forgotten VM's page stayed");

        /* A whole-call error other than -ESRCH is returned with its tokens refunded. */
        uint64_t before = nv_mover_tokens(m);
        h.spaces[1].where[20] = 1;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 64 * PG, NV_PAGE_SHIFT, FAKE_NODES, UINT64_MAX,
                                   &res),
               -ENODEV, "whole call: a node the port rejects gives its error");
        is_u64(nv_mover_tokens(m), before, "whole call: tokens refunded");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 64 * PG, NV_PAGE_SHIFT, NV_MAX_NODES, UINT64_MAX,
                                   &res),
               -EINVAL, "whole call: a target beyond NV_MAX_NODES is refused");
        h.whole_call_error = -EPERM;
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 64 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res),
               -EPERM, "whole call: a failing query gives its error");
        fake_done(&h);
}

static void test_retry_cap(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        nv_vm_info vms[1] = { vm1 };
        nv_inventory inv = inventory_of(vms, 1);
        size_t n = 70000;
        fake_host h;
        nv_move_result res;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, n, 1);
        for (size_t i = 0; i < n; i++)
                h.spaces[1].busy[i] = 1;
        is_int(nv_mover_new(&fake_ops, &h, BIG_RATE, BIG_RATE, &m), 0, "cap: mover created");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + n * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "cap: 70000 busy pages");
        is_u64(res.bytes_failed, n * PG, "cap: all count as failed");
        is_int(nv_mover_begin_epoch(m, 0, &inv), 0, "cap: epoch begins");
        is_u64(nv_mover_get_stats(m)->retried, 65536, "cap: the retry list holds 65536 pages");
        is_u64(count_on(&h.spaces[1], 0), 65536, "cap: the retried pages moved");
        fake_done(&h);
}

static void test_retry_budget(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        nv_vm_info vms[1] = { vm1 };
        nv_inventory inv = inventory_of(vms, 1);
        fake_host h;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 10, 1);
        for (size_t i = 0; i < 10; i++)
                h.spaces[1].busy[i] = 1;
        is_int(nv_mover_new(&fake_ops, &h, 0, 4 * PG, &m), 0, "retry budget: mover with a 4-page bucket");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 10 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, NULL), 0,
               "retry budget: 10 busy pages, 4 attempted");
        is_u64(nv_mover_get_stats(m)->failures[NV_ERRNO_EBUSY], 4, "retry budget: 4 busy failures");
        is_int(nv_mover_begin_epoch(m, 0, &inv), 0, "retry budget: first epoch refills 4 pages");
        is_u64(nv_mover_get_stats(m)->retried, 4, "retry budget: 4 retried");
        is_u64(nv_mover_tokens(m), 0, "retry budget: retries take tokens");
        nv_mover_set_rate(m, 2 * PG, 4 * PG);
        is_int(nv_mover_begin_epoch(m, USEC_PER_SEC, &inv), 0, "retry budget: next epoch");
        is_u64(nv_mover_get_stats(m)->retried, 4, "retry budget: nothing left to retry once moved");
        is_u64(count_on(&h.spaces[1], 0), 4, "retry budget: the 4 retried pages moved");

        /* A retry that meets -ENOMEM marks its target full for the epoch. */
        nv_move_result res;
        nv_mover_set_rate(m, 100 * PG, 100 * PG);
        is_int(nv_mover_begin_epoch(m, 3 * USEC_PER_SEC, &inv), 0,
               "retry enomem: epoch with a large bucket");
        for (size_t i = 4; i < 10; i++)
                h.spaces[1].busy[i] = i >= 8; /* only 8 and 9 stay busy */
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 10 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, NULL), 0,
               "retry enomem: 2 busy pages");
        h.room[0] = 0;
        h.queries = h.moves = 0;
        is_int(nv_mover_begin_epoch(m, 4 * USEC_PER_SEC, &inv), 0, "retry enomem: epoch with node 0 full");
        is_u64(nv_mover_get_stats(m)->retried, 6, "retry enomem: the 2 busy pages retried");
        is_u64(nv_mover_get_stats(m)->failures[NV_ERRNO_ENOMEM], 2, "retry enomem: both met ENOMEM");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 10 * PG, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "retry enomem: move to node 0");
        ok(res.target_full && h.queries == 0 && h.moves == 1, "retry enomem: node 0 is full for the epoch");
        h.room[0] = -1;
        is_int(nv_mover_begin_epoch(m, 5 * USEC_PER_SEC, &inv), 0, "retry enomem: next epoch");
        is_u64(nv_mover_get_stats(m)->retried, 6, "retry enomem: ENOMEM pages are not retried");
        fake_done(&h);
}

static void test_misc(void) {
        nv_mover *m = NULL;
        fake_host h;

        is_str(nv_mover_errno_name(NV_ERRNO_EBUSY), "EBUSY", "errno name: EBUSY");
        is_str(nv_mover_errno_name(NV_ERRNO_ENOENT), "ENOENT", "errno name: ENOENT");
        is_str(nv_mover_errno_name(NV_ERRNO_OTHER), "OTHER", "errno name: OTHER");
        ok(nv_mover_errno_name(_NV_ERRNO_MAX) == NULL, "errno name: out of range gives NULL");
        ok(nv_mover_free(NULL) == NULL, "free: accepts NULL");
        m = (nv_mover *)&h;
        is_int(nv_mover_new(NULL, NULL, 1, 1, &m), -EINVAL, "new: refuses a NULL port");
        ok(m == (nv_mover *)&h, "new: ret untouched on failure");
        m = NULL;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 16, 1);
        is_int(nv_mover_new(&fake_ops, &h, 1, 1, &m), 0, "new: mover created");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 16 * PG, 11, 0, UINT64_MAX, NULL), -EINVAL,
               "args: shift below 4 KiB refused");
        is_int(nv_mover_move_range(m, &vm1, BASE + 16 * PG, BASE, NV_PAGE_SHIFT, 0, UINT64_MAX, NULL),
               -EINVAL, "args: end before start refused");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 16 * PG + 1, NV_PAGE_SHIFT, 0, UINT64_MAX, NULL),
               -EINVAL, "args: unaligned end refused");
        is_int(nv_mover_move_range(m, &vm1, BASE, BASE + 16 * PG, NV_PAGE_SHIFT, -1, UINT64_MAX, NULL),
               -EINVAL, "args: negative target refused");
        m = nv_mover_free(m);
        ok(m == NULL, "free: returns NULL");
        fake_done(&h);
}

/* A list of scattered pages (hot pages among cold ones): only those move, in full batches, those on
 * the target already are skipped, and the limits hold as for a range. */
static void test_list(void) {
        _cleanup_(nv_mover_freep) nv_mover *m = NULL;
        uint64_t addrs[1500];
        fake_host h;
        nv_move_result res;

        fake_init(&h);
        fake_space_setup(&h, 1, BASE, NV_PAGE_SHIFT, 1500 * 7, 1);
        for (size_t i = 0; i < 1500; i++)
                addrs[i] = BASE + (1500 - 1 - i) * 7 * PG; /* every 7th page, backwards */
        h.spaces[1].where[0] = 0;                          /* the last one is on the target */
        is_int(nv_mover_new(&fake_ops, &h, BIG_RATE, BIG_RATE, &m), 0, "list: mover created");
        is_int(nv_mover_move_list(m, &vm1, addrs, 1500, NV_PAGE_SHIFT, 0, 1000 * PG, &res), 0,
               "list: the first 1000 bytes' worth move");
        is_u64(res.bytes_moved, 1000 * PG, "list: max_bytes holds");
        ok(res.budget_exhausted, "list: the call says it stopped at its limit");
        is_u64(count_on(&h.spaces[1], 0), 1001, "list: 1000 listed pages moved, the one there stays");
        is_u64(h.spaces[1].where[7], 1, "list: a page past the limit stays");
        is_u64(h.spaces[1].where[1], 1, "list: a page not listed stays");
        is_int(nv_mover_move_list(m, &vm1, addrs, 1500, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "list: the rest move");
        is_u64(res.bytes_moved, 499 * PG, "list: 499 pages were left, 1 was on the target");
        is_u64(res.bytes_already, 1001 * PG, "list: the ones on the target are skipped");
        is_u64(count_on(&h.spaces[1], 0), 1500, "list: exactly the listed pages are on the target");
        is_u64(h.spaces[1].wasted, 0, "list: no page already on the target is asked to move");
        addrs[3] += 1;
        is_int(nv_mover_move_list(m, &vm1, addrs, 1500, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), -EINVAL,
               "list: an unaligned page is refused");
        is_int(nv_mover_move_list(m, &vm1, NULL, 0, NV_PAGE_SHIFT, 0, UINT64_MAX, &res), 0,
               "list: an empty list does nothing");
        is_u64(res.bytes_moved, 0, "list: ... and says so");
        fake_done(&h);
}

int main(void) {
        log_set_max_level(LOG_WARNING);
        test_batching();
        test_max_bytes();
        test_list();
        test_busy_retry();
        test_enomem();
        test_not_present_and_others();
        test_tokens();
        test_huge_pages();
        test_gone_and_forget();
        test_retry_cap();
        test_retry_budget();
        test_misc();
        return tap_done();
}
