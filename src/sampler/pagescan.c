/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/log.h"
#include "sampler/pagescan.h"

typedef struct candidate {
        uint64_t addr; /* first, as in nv_hotpage: find_addr() reads it */
        uint8_t run;   /* accessed intervals in a row so far */
        uint8_t need;  /* the row that proves it (nv_hotpage_rounds_needed() when it was found) */
} candidate;

struct nv_pagescan {
        /* Where the next window starts: a range of the VM (4 KiB-backed) and a page in it. */
        size_t cursor_range;
        uint64_t cursor_page;
        uint64_t scanned_pages; /* of the VM's 4 KiB-backed ranges, all together: one pass */

        uint64_t *window; /* the pages cleared last round, read this round */
        size_t nr_window, cap_window;

        candidate *cand; /* address order */
        size_t nr_cand, cap_cand;
        nv_hotpage *proven; /* address order */
        size_t nr_proven, cap_proven;

        /* Scratch, reused by every round. */
        uint64_t *addrs;
        uint8_t *accessed;
        size_t cap_addrs;
        candidate *cand_new;    /* cap_cand */
        nv_hotpage *proven_new; /* cap_proven */
        bool *idle;             /* cap_proven: per proven page, found idle this round */
};

unsigned nv_hotpage_rounds_needed(double hot_heat, uint64_t pages) {
        double n;

        if (!(hot_heat < 1))
                return 0;
        if (pages <= 1 || !(hot_heat > 0))
                return 2;
        /* pages * hot_heat^n < 1  <=>  n > ln(pages) / ln(1 / hot_heat) */
        n = MAX(floor(log((double)pages) / -log(hot_heat)) + 1, 2.0);
        return n <= UINT8_MAX ? (unsigned)n : 0;
}

int nv_pagescan_new(nv_pagescan **ret) {
        nv_pagescan *p = calloc(1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

nv_pagescan *nv_pagescan_free(nv_pagescan *p) {
        if (!p)
                return NULL;
        free(p->window);
        free(p->cand);
        free(p->proven);
        free(p->addrs);
        free(p->accessed);
        free(p->cand_new);
        free(p->proven_new);
        free(p->idle);
        free(p);
        return NULL;
}

ssize_t nv_pagescan_region_of(const nv_region *regions, size_t nr_regions, uint64_t addr) {
        size_t lo = 0, hi = nr_regions;

        while (lo < hi) { /* the first region ending above addr */
                size_t mid = (lo + hi) / 2;
                if (regions[mid].end <= addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < nr_regions && regions[lo].start <= addr ? (ssize_t)lo : -1;
}

/* The index of the element of address addr among n elements of `size` bytes at base, in address
 * order (the address is their first field, a uint64_t), or -1. */
static ssize_t find_addr(const void *base, size_t n, size_t size, uint64_t addr) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                uint64_t at = *(const uint64_t *)((const char *)base + mid * size);

                if (at == addr)
                        return (ssize_t)mid;
                if (at < addr)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return -1;
}

/* Room for a round: the harvest's addresses; the candidates the read window may add; the pages the
 * candidates may prove. The arrays grow with what the VM shows, up to NV_PAGESCAN_MAX_PAGES. */
static int reserve_all(nv_pagescan *p, size_t window) {
        size_t addrs = p->nr_cand + p->nr_window + window, cands = p->nr_cand + p->nr_window,
               proven = p->nr_proven + p->nr_cand, c;
        int r;

        c = p->cap_addrs;
        r = nv_array_grow((void **)&p->addrs, &c, addrs, sizeof(*p->addrs));
        if (r >= 0)
                r = nv_array_grow((void **)&p->accessed, &p->cap_addrs, addrs, sizeof(*p->accessed));
        if (r < 0)
                return r;
        r = nv_array_grow((void **)&p->window, &p->cap_window, window, sizeof(*p->window));
        if (r < 0)
                return r;
        c = p->cap_cand;
        r = nv_array_grow((void **)&p->cand, &c, cands, sizeof(*p->cand));
        if (r >= 0)
                r = nv_array_grow((void **)&p->cand_new, &p->cap_cand, cands, sizeof(*p->cand_new));
        if (r < 0)
                return r;
        c = p->cap_proven;
        r = nv_array_grow((void **)&p->proven, &c, proven, sizeof(*p->proven));
        if (r >= 0) {
                c = p->cap_proven;
                r = nv_array_grow((void **)&p->proven_new, &c, proven, sizeof(*p->proven_new));
        }
        if (r >= 0) {
                size_t old = p->cap_proven;

                r = nv_array_grow((void **)&p->idle, &p->cap_proven, proven, sizeof(*p->idle));
                if (r >= 0 && p->cap_proven > old) /* none is set between rounds */
                        memset(p->idle + old, 0, (p->cap_proven - old) * sizeof(*p->idle));
        }
        return r;
}

/* The next `window` pages of the VM's 4 KiB-backed ranges from the cursor, on, round and round, in
 * the ranges' order; fewer when the VM has fewer. Returns how many were written to out. */
static size_t next_window(nv_pagescan *p, const nv_vm_info *vm, uint64_t window, uint64_t *out) {
        uint64_t total = 0;
        size_t k = 0;

        for (size_t i = 0; i < vm->nr_ranges; i++)
                if (nv_backing_page_shift(vm->ranges[i].backing) == NV_PAGE_SHIFT)
                        total += vm->ranges[i].size >> NV_PAGE_SHIFT;
        p->scanned_pages = total;
        window = MIN(window, total);
        while (k < window) {
                const nv_ram_range *rr;

                if (p->cursor_range >= vm->nr_ranges) {
                        p->cursor_range = 0;
                        p->cursor_page = 0;
                }
                rr = &vm->ranges[p->cursor_range];
                if (nv_backing_page_shift(rr->backing) != NV_PAGE_SHIFT ||
                    p->cursor_page >= rr->size >> NV_PAGE_SHIFT) {
                        p->cursor_range++;
                        p->cursor_page = 0;
                        continue;
                }
                out[k++] = rr->hva + (p->cursor_page++ << NV_PAGE_SHIFT);
        }
        return k;
}

/* Merge the address-ordered a[0..na) and b[0..nb) into out. */
static void merge_candidates(candidate *out, const candidate *a, size_t na, const candidate *b, size_t nb) {
        size_t i = 0, j = 0, k = 0;

        while (i < na || j < nb)
                if (j >= nb || (i < na && a[i].addr < b[j].addr))
                        out[k++] = a[i++];
                else
                        out[k++] = b[j++];
}

static int compare_candidate(const void *a, const void *b) {
        uint64_t x = ((const candidate *)a)->addr, y = ((const candidate *)b)->addr;
        return x < y ? -1 : x > y;
}

static int compare_hotpage(const void *a, const void *b) {
        uint64_t x = ((const nv_hotpage *)a)->addr, y = ((const nv_hotpage *)b)->addr;
        return x < y ? -1 : x > y;
}

/* Add the nf sorted pages of proven_new to proven, in place from the back (proven has room). */
static void add_proven(nv_pagescan *p, size_t nf) {
        size_t i = p->nr_proven, j = nf, w = p->nr_proven + nf;

        while (j > 0)
                if (i > 0 && p->proven[i - 1].addr > p->proven_new[j - 1].addr)
                        p->proven[--w] = p->proven[--i];
                else
                        p->proven[--w] = p->proven_new[--j];
        p->nr_proven += nf;
}

int nv_pagescan_round(nv_pagescan *p, const nv_access_ops *ops, void *ops_ctx, const nv_vm_info *vm,
                      const nv_region *regions, size_t nr_regions, double hot_heat, uint64_t window,
                      unsigned flags) {
        size_t k = 0, k_next, n_next, nc = 0, np = 0, nf = 0, dropped = 0;
        unsigned need;
        candidate *fresh;
        int r;

        if (!ops || !ops->harvest)
                return -EOPNOTSUPP;
        window = MIN(window, (uint64_t)NV_PAGESCAN_MAX_PAGES);
        r = reserve_all(p, (size_t)window);
        if (r < 0)
                return r;

        /* One call: the candidates, the window cleared last round (both read), the next window
         * (cleared, read next round). */
        for (size_t i = 0; i < p->nr_cand; i++)
                p->addrs[k++] = p->cand[i].addr;
        memcpy(p->addrs + k, p->window, p->nr_window * sizeof(*p->addrs));
        k_next = k + p->nr_window;
        n_next = next_window(p, vm, window, p->addrs + k_next);
        if (k_next + n_next == 0)
                return 0;
        r = ops->harvest(ops_ctx, vm, p->addrs, k_next + n_next, NV_PAGE_SHIFT, flags, p->accessed);
        if (r < 0)
                return log_debug_errno(r, "Scanning %zu pages of VM %s failed: %m", k_next + n_next,
                                       vm->name ?: "?");

        /* Candidates: one more accessed interval, proven at their row, dropped at a miss. */
        k = 0;
        for (size_t i = 0; i < p->nr_cand; i++, k++) {
                candidate c = p->cand[i];

                if (!p->accessed[k])
                        continue;
                if (++c.run >= c.need)
                        p->proven_new[nf++] =
                                (nv_hotpage){ .addr = c.addr, .placed_to = -1, .streak_target = -1 };
                else
                        p->cand_new[nc++] = c;
        }
        /* A pass tests every scanned page once: fewer than one page a pass proven by chance. */
        need = nv_hotpage_rounds_needed(hot_heat, p->scanned_pages);
        /* The window: a proven page found idle is dropped; an accessed page that is neither
         * proven nor a candidate becomes one, in a region cold as a whole. */
        fresh = p->cand_new + nc;
        for (size_t i = 0; i < p->nr_window; i++, k++) {
                uint64_t a = p->window[i];
                ssize_t j = find_addr(p->proven, p->nr_proven, sizeof(*p->proven), a), ri;

                if (j >= 0) {
                        if (!p->accessed[k] && !p->idle[j]) {
                                p->idle[j] = true; /* removed below */
                                dropped++;
                        }
                        continue;
                }
                if (!p->accessed[k] || find_addr(p->cand, p->nr_cand, sizeof(*p->cand), a) >= 0)
                        continue;
                if (nc + np + p->nr_proven + nf >= NV_PAGESCAN_MAX_PAGES)
                        continue; /* full: the page waits for the next pass */
                ri = nv_pagescan_region_of(regions, nr_regions, a);
                if (need == 0 || ri < 0 || regions[ri].heat >= hot_heat)
                        continue;
                fresh[np++] = (candidate){ .addr = a, .run = 1, .need = (uint8_t)need };
        }
        /* The window is in the ranges' order, which need not be address order. */
        qsort(fresh, np, sizeof(*fresh), compare_candidate);
        merge_candidates(p->cand, p->cand_new, nc, fresh, np);
        p->nr_cand = nc + np;

        if (dropped > 0) {
                size_t w = 0;

                for (size_t i = 0; i < p->nr_proven; i++) {
                        if (!p->idle[i])
                                p->proven[w++] = p->proven[i];
                        p->idle[i] = false;
                }
                p->nr_proven = w;
        }
        qsort(p->proven_new, nf, sizeof(*p->proven_new), compare_hotpage);
        add_proven(p, nf);

        memcpy(p->window, p->addrs + k_next, n_next * sizeof(*p->window));
        p->nr_window = n_next;
        return 0;
}

nv_hotpage *nv_pagescan_proven(nv_pagescan *p, size_t *ret_n) {
        *ret_n = p->nr_proven;
        return p->proven;
}
