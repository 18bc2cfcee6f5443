/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "migrate/mover.h"
#include "model/move-cost.h"

/* Cap on pages waiting for a retry after -EBUSY; beyond it, pages simply count as failed. */
#define NV_MOVER_MAX_RETRIES 65536u

#define MIN_SHIFT NV_PAGE_SHIFT
#define MAX_SHIFT 30u

typedef struct retry_entry {
        uint64_t vm_id;
        uint64_t addr;
        uint8_t shift;
        int8_t target;
} retry_entry;

/* What one move call did, for the caller to add to its result. */
typedef struct batch_outcome {
        uint64_t bytes_moved;
        uint64_t bytes_failed;
        bool target_full;
} batch_outcome;

struct nv_mover {
        const nv_mover_ops *ops;
        void *ops_ctx;

        /* Token bucket, in cost (model/move-cost.h): a page takes its page's cost. */
        uint64_t rate, burst, tokens;
        uint64_t token_frac; /* refill remainder, in cost-microseconds (< USEC_PER_SEC) */
        usec_t last_refill;
        bool started; /* begin_epoch was called at least once */

        bool full[NV_MAX_NODES]; /* -ENOMEM seen on this target in the current epoch */

        retry_entry *retries;
        size_t nr_retries, retries_allocated;

        nv_mover_stats stats;

        /* Per-call buffers, reused: addresses queried, their statuses, and the off-target pages
         * waiting to be moved (a query batch may add up to a whole batch to a partial one). */
        uint64_t query_addrs[NV_MOVER_BATCH_PAGES];
        int query_status[NV_MOVER_BATCH_PAGES];
        uint64_t pending[2 * NV_MOVER_BATCH_PAGES];
        int nodes[NV_MOVER_BATCH_PAGES];
        int move_status[NV_MOVER_BATCH_PAGES];
};

static const char *const errno_names[_NV_ERRNO_MAX] = {
        [NV_ERRNO_EBUSY] = "EBUSY",   [NV_ERRNO_ENOMEM] = "ENOMEM", [NV_ERRNO_EFAULT] = "EFAULT",
        [NV_ERRNO_ENOENT] = "ENOENT", [NV_ERRNO_EACCES] = "EACCES", [NV_ERRNO_EINVAL] = "EINVAL",
        [NV_ERRNO_OTHER] = "OTHER",
};

const char *nv_mover_errno_name(unsigned i) {
        if (i >= _NV_ERRNO_MAX)
                return NULL;
        return errno_names[i];
}

static unsigned errno_class(int status) {
        switch (-status) {
        case EBUSY:
                return NV_ERRNO_EBUSY;
        case ENOMEM:
                return NV_ERRNO_ENOMEM;
        case EFAULT:
                return NV_ERRNO_EFAULT;
        case ENOENT:
                return NV_ERRNO_ENOENT;
        case EACCES:
                return NV_ERRNO_EACCES;
        case EINVAL:
                return NV_ERRNO_EINVAL;
        default:
                return NV_ERRNO_OTHER;
        }
}

static bool status_not_present(int status) {
        return status == -EFAULT || status == -ENOENT;
}

int nv_mover_new(const nv_mover_ops *ops, void *ops_ctx, uint64_t rate, uint64_t burst, nv_mover **ret) {
        nv_mover *m;

        if (!ops || !ops->move_pages || !ret)
                return -EINVAL;

        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->ops = ops;
        m->ops_ctx = ops_ctx;
        m->rate = rate;
        m->burst = burst;
        /* Start full, so that a mover used before its first epoch can still move. */
        m->tokens = burst;
        *ret = m;
        return 0;
}

nv_mover *nv_mover_free(nv_mover *m) {
        if (!m)
                return NULL;
        free(m->retries);
        free(m);
        return NULL;
}

void nv_mover_set_rate(nv_mover *m, uint64_t rate, uint64_t burst) {
        m->rate = rate;
        m->burst = burst;
        if (m->tokens > burst) {
                m->tokens = burst;
                m->token_frac = 0;
        }
}

uint64_t nv_mover_tokens(const nv_mover *m) {
        return m->tokens;
}

const nv_mover_stats *nv_mover_get_stats(const nv_mover *m) {
        return &m->stats;
}

static void refill(nv_mover *m, usec_t now) {
        if (!m->started) {
                /* The first epoch starts with a full bucket. */
                m->tokens = m->burst;
                m->token_frac = 0;
                m->started = true;
                m->last_refill = now;
                return;
        }
        if (now < m->last_refill) {
                /* A clock that went back: no time passed. */
                m->last_refill = now;
                return;
        }

        unsigned __int128 add = (unsigned __int128)m->rate * (now - m->last_refill) + m->token_frac;
        unsigned __int128 total = m->tokens + add / USEC_PER_SEC;

        m->last_refill = now;
        if (total >= m->burst) {
                m->tokens = m->burst;
                m->token_frac = 0;
        } else {
                m->tokens = (uint64_t)total;
                m->token_frac = (uint64_t)(add % USEC_PER_SEC);
        }
}

static void refund(nv_mover *m, uint64_t cost) {
        m->tokens = MIN(m->tokens + cost, m->burst);
}

static void retry_add(nv_mover *m, uint64_t vm_id, uint64_t addr, unsigned shift, int target) {
        if (m->nr_retries >= NV_MOVER_MAX_RETRIES)
                return; /* Already counted as failed by the caller; it is just not retried. */

        if (m->nr_retries == m->retries_allocated) {
                size_t n = MAX(m->retries_allocated * 2, (size_t)256);
                n = MIN(n, (size_t)NV_MOVER_MAX_RETRIES);
                retry_entry *p = realloc(m->retries, n * sizeof(*p));
                if (!p) {
                        log_oom();
                        return;
                }
                m->retries = p;
                m->retries_allocated = n;
        }
        m->retries[m->nr_retries++] = (retry_entry){
                .vm_id = vm_id,
                .addr = addr,
                .shift = (uint8_t)shift,
                .target = (int8_t)target,
        };
}

void nv_mover_forget_vm(nv_mover *m, uint64_t vm_id) {
        size_t w = 0;

        for (size_t i = 0; i < m->nr_retries; i++)
                if (m->retries[i].vm_id != vm_id)
                        m->retries[w++] = m->retries[i];
        m->nr_retries = w;
}

/* One move_pages call for n pages of vm at addrs, all to target; tokens for them must already be
 * taken. Accounts every status, refunds tokens for pages that did not move, and queues -EBUSY
 * pages for a retry (when queue_busy; a retry pass handles those itself).
 * Returns 0 or the error of the call as a whole, for which everything is refunded. */
static int move_batch(nv_mover *m, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                      int target, bool queue_busy, batch_outcome *out) {
        uint64_t page = UINT64_C(1) << shift, cost = nv_move_page_cost(page);
        int r;

        for (size_t i = 0; i < n; i++) {
                m->nodes[i] = target;
                m->move_status[i] = -EBUSY;
        }
        m->stats.calls++;
        r = m->ops->move_pages(m->ops_ctx, vm, n, addrs, m->nodes, m->move_status);
        if (r < 0) {
                refund(m, n * cost);
                return r;
        }

        for (size_t i = 0; i < n; i++) {
                int s = m->move_status[i];

                if (s == target) {
                        out->bytes_moved += page;
                        m->stats.bytes_moved += page;
                        m->stats.pages_moved += page >> NV_PAGE_SHIFT;
                        continue;
                }

                refund(m, cost);
                if (s >= 0) {
                        /* The kernel left the page elsewhere without saying why. */
                        m->stats.failures[NV_ERRNO_OTHER]++;
                        out->bytes_failed += page;
                        continue;
                }

                m->stats.failures[errno_class(s)]++;
                if (status_not_present(s))
                        continue; /* Not present: nothing to move, skipped. */

                out->bytes_failed += page;
                if (s == -ENOMEM) {
                        m->full[target] = true;
                        out->target_full = true;
                } else if (s == -EBUSY && queue_busy)
                        retry_add(m, vm->id, addrs[i], shift, target);
        }
        return 0;
}

static bool valid_target(int target) {
        return target >= 0 && target < NV_MAX_NODES;
}

/* Move the first n pending pages, within the bucket. Returns 0 or a whole-call error. */
static int flush_pending(nv_mover *m, const nv_vm_info *vm, size_t *nr_pending, size_t n, unsigned shift,
                         int target, nv_move_result *res) {
        uint64_t cost = nv_move_page_cost(UINT64_C(1) << shift);
        batch_outcome out = {};
        int r;

        if (n > m->tokens / cost) {
                n = (size_t)(m->tokens / cost);
                res->budget_exhausted = true;
        }
        if (n > 0) {
                m->tokens -= n * cost;
                r = move_batch(m, vm, m->pending, n, shift, target, true, &out);
                if (r < 0)
                        return r;
        }

        res->bytes_moved += out.bytes_moved;
        res->bytes_failed += out.bytes_failed;
        res->target_full = res->target_full || out.target_full;

        *nr_pending -= n;
        memmove(m->pending, m->pending + n, *nr_pending * sizeof(m->pending[0]));
        return 0;
}

/* Query one batch (query_addrs[0..n), filled by the caller), and queue its off-target pages.
 * Returns 0 or a whole-call error. */
static int query_batch(nv_mover *m, const nv_vm_info *vm, size_t n, unsigned shift, int target,
                       size_t *nr_pending, nv_move_result *res) {
        uint64_t page = UINT64_C(1) << shift;
        int r;

        for (size_t i = 0; i < n; i++)
                m->query_status[i] = -ENOENT;
        m->stats.calls++;
        r = m->ops->move_pages(m->ops_ctx, vm, n, m->query_addrs, NULL, m->query_status);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                int s = m->query_status[i];

                if (s == target)
                        res->bytes_already += page;
                else if (status_not_present(s))
                        m->stats.failures[errno_class(s)]++;
                else
                        /* On another node, or unknown: let the move say. */
                        m->pending[(*nr_pending)++] = m->query_addrs[i];
        }
        return 0;
}

/* The pages a move walks: [start, end) in pages of (1 << shift) bytes, or a list of them. */
typedef struct page_source {
        uint64_t start, end;
        const uint64_t *list;
        size_t nr_list;
} page_source;

/* Fill query_addrs with up to NV_MOVER_BATCH_PAGES pages of src from *pos on; returns how many. */
static size_t next_batch(nv_mover *m, const page_source *src, uint64_t *pos, unsigned shift) {
        size_t n;

        if (src->list) {
                n = (size_t)MIN((uint64_t)(src->nr_list - *pos), (uint64_t)NV_MOVER_BATCH_PAGES);
                memcpy(m->query_addrs, src->list + *pos, n * sizeof(*m->query_addrs));
                *pos += n;
                return n;
        }
        n = (size_t)MIN((src->end - *pos) >> shift, (uint64_t)NV_MOVER_BATCH_PAGES);
        for (size_t i = 0; i < n; i++)
                m->query_addrs[i] = *pos + (i << shift);
        *pos += (uint64_t)n << shift;
        return n;
}

static int move_source(nv_mover *m, const nv_vm_info *vm, const page_source *src, unsigned shift, int target,
                       uint64_t max_bytes, nv_move_result *ret_result) {
        nv_move_result res = {};
        size_t nr_pending = 0;
        uint64_t page = UINT64_C(1) << shift, pos = src->list ? 0 : src->start,
                 stop = src->list ? src->nr_list : src->end, withheld = 0, limit;
        int r;

        if (m->full[target]) {
                res.target_full = true;
                goto done;
        }

        /* The call's own limit, as a cost: hide the tokens above it for the duration of the call. */
        limit = nv_move_cost(ALIGN_DOWN(max_bytes, page), page);
        if (limit < m->tokens) {
                withheld = m->tokens - limit;
                m->tokens = limit;
        }

        while (pos < stop) {
                size_t n;

                if (m->tokens < nv_move_page_cost(page)) {
                        /* Not even one page is left: do not bother to look. */
                        res.budget_exhausted = true;
                        break;
                }

                n = next_batch(m, src, &pos, shift);
                r = query_batch(m, vm, n, shift, target, &nr_pending, &res);
                if (r < 0)
                        goto fail;

                while (nr_pending >= NV_MOVER_BATCH_PAGES && !res.budget_exhausted && !res.target_full) {
                        r = flush_pending(m, vm, &nr_pending, NV_MOVER_BATCH_PAGES, shift, target, &res);
                        if (r < 0)
                                goto fail;
                }
                if (res.budget_exhausted || res.target_full)
                        break;
        }

        if (nr_pending > 0 && !res.budget_exhausted && !res.target_full) {
                r = flush_pending(m, vm, &nr_pending, nr_pending, shift, target, &res);
                if (r < 0)
                        goto fail;
        }

done:
        m->tokens += withheld;
        if (ret_result)
                *ret_result = res;
        return 0;

fail:
        m->tokens += withheld;
        if (r == -ESRCH) {
                nv_mover_forget_vm(m, vm->id);
                return log_debug_errno(r, "VM %" PRIu64 " (pid %d) is gone, dropping its retries: %m",
                                       vm->id, (int)vm->pid);
        }
        return log_debug_errno(r, "move_pages for VM %" PRIu64 " (pid %d) to node %d failed: %m", vm->id,
                               (int)vm->pid, target);
}

int nv_mover_move_range(nv_mover *m, const nv_vm_info *vm, uint64_t start, uint64_t end, unsigned shift,
                        int target, uint64_t max_bytes, nv_move_result *ret_result) {
        uint64_t page;

        if (!m || !vm || shift < MIN_SHIFT || shift > MAX_SHIFT || !valid_target(target))
                return -EINVAL;
        page = UINT64_C(1) << shift;
        if (start > end || (start & (page - 1)) || (end & (page - 1)))
                return -EINVAL;
        return move_source(m, vm, &(const page_source){ .start = start, .end = end }, shift, target,
                           max_bytes, ret_result);
}

int nv_mover_move_list(nv_mover *m, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                       int target, uint64_t max_bytes, nv_move_result *ret_result) {
        if (!m || !vm || (!addrs && n > 0) || shift < MIN_SHIFT || shift > MAX_SHIFT ||
            !valid_target(target))
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (addrs[i] & ((UINT64_C(1) << shift) - 1))
                        return -EINVAL;
        if (n == 0) {
                if (ret_result)
                        *ret_result = (nv_move_result){};
                return 0;
        }
        return move_source(m, vm, &(const page_source){ .list = addrs, .nr_list = n }, shift, target,
                           max_bytes, ret_result);
}

/* The length of the run of retry entries from i on that can share one call. */
static size_t retry_run(const nv_mover *m, size_t i) {
        const retry_entry *e = &m->retries[i];
        size_t n = 1;

        while (i + n < m->nr_retries && n < NV_MOVER_BATCH_PAGES) {
                const retry_entry *f = &m->retries[i + n];
                if (f->vm_id != e->vm_id || f->shift != e->shift || f->target != e->target)
                        break;
                n++;
        }
        return n;
}

/* Retry the pages that were busy. Entries that cannot be tried now (no tokens, target full) are
 * kept; entries of VMs not in inv, or whose call failed as a whole, are dropped. */
static void retry_pending(nv_mover *m, const nv_inventory *inv) {
        uint64_t gone_vm = UINT64_MAX;
        bool out_of_tokens = false;
        size_t w = 0, i = 0;

        while (i < m->nr_retries) {
                size_t n = retry_run(m, i), k;
                const retry_entry e = m->retries[i];
                const nv_vm_info *vm = nv_inventory_find(inv, e.vm_id);
                uint64_t cost = nv_move_page_cost(UINT64_C(1) << e.shift);
                batch_outcome out = {};
                int r;

                if (!vm || e.vm_id == gone_vm) {
                        i += n; /* Dropped. */
                        continue;
                }

                /* Try as many as the bucket covers; once it runs dry, keep the rest for later. */
                k = 0;
                if (!out_of_tokens && !m->full[(int)e.target]) {
                        k = (size_t)MIN((uint64_t)n, m->tokens / cost);
                        out_of_tokens = k < n;
                }
                if (k > 0) {
                        /* The pending buffer is free outside nv_mover_move_range(). */
                        uint64_t *addrs = m->pending;
                        for (size_t j = 0; j < k; j++)
                                addrs[j] = m->retries[i + j].addr;

                        m->tokens -= k * cost;
                        m->stats.retried += k;
                        r = move_batch(m, vm, addrs, k, e.shift, e.target, false, &out);
                        if (r == -ESRCH)
                                gone_vm = e.vm_id;
                        if (r < 0)
                                log_debug_errno(r,
                                                "Retrying %zu pages of VM %" PRIu64 " failed, ignoring: %m",
                                                k, e.vm_id);
                        /* Keep those that are still busy. */
                        for (size_t j = 0; r >= 0 && j < k; j++)
                                if (m->move_status[j] == -EBUSY)
                                        m->retries[w++] = m->retries[i + j];
                }
                /* Keep those not tried. */
                for (size_t j = k; j < n; j++)
                        m->retries[w++] = m->retries[i + j];
                i += n;
        }
        m->nr_retries = w;
}

int nv_mover_begin_epoch(nv_mover *m, usec_t now, const nv_inventory *inv) {
        if (!m)
                return -EINVAL;

        refill(m, now);
        memset(m->full, 0, sizeof(m->full));
        if (inv && m->nr_retries > 0)
                retry_pending(m, inv);
        return 0;
}
