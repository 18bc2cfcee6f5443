/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The page scan (src/sampler/pagescan.c) against a test double of the access port: a VM whose
 * pages are each accessed in an interval or not by a fixed rule, hot pages in every interval. It
 * proves the hot pages and no cold one, in one harvest call a round, makes no candidate in a hot
 * region, forgets a page the next pass finds idle, and leaves huge-page memory alone. */
#include <stdlib.h>

#include "common/log.h"
#include "common/random.h"
#include "sampler/pagescan.h"
#include "tap.h"

#define BASE  UINT64_C(0x7f0000000000)
#define PAGES 4096u
#define HOT   64u

typedef struct fake {
        unsigned round;       /* intervals so far */
        unsigned last[PAGES]; /* the round each page's bit was last cleared */
        bool hot_on;          /* the hot pages are accessed */
        double cold_rate;     /* chance that a cold page is accessed in an interval */
        size_t calls, probes;
} fake;

static bool is_hot(size_t i) {
        return i % (PAGES / HOT) == 17;
}

static bool accessed_in(const fake *f, size_t i, unsigned t) {
        if (is_hot(i))
                return f->hot_on;
        return nv_uniform_at(0x5ca9, i, t) < f->cold_rate;
}

static int fake_harvest(void *ctx, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                        unsigned flags, uint8_t *ret) {
        fake *f = ctx;

        (void)vm;
        (void)flags;
        if (shift != NV_PAGE_SHIFT)
                return -EINVAL;
        f->calls++;
        f->probes += n;
        for (size_t k = 0; k < n; k++) {
                size_t i = (addrs[k] - BASE) >> NV_PAGE_SHIFT;

                if (addrs[k] < BASE || i >= PAGES)
                        return -EINVAL;
                ret[k] = 0;
                for (unsigned t = f->last[i] + 1; t <= f->round; t++)
                        ret[k] |= accessed_in(f, i, t);
                f->last[i] = f->round;
        }
        return 0;
}

static const nv_access_ops fake_ops = { .name = "fake", .harvest = fake_harvest };

static nv_ram_range range = {
        .hva = BASE, .size = PAGES * NV_PAGE_SIZE, .backing = NV_BACKING_ANON, .cell = -1
};
static char vm_name[] = "vm";
static const nv_vm_info vm = { .id = 1, .name = vm_name, .ranges = &range, .nr_ranges = 1 };

/* Run `rounds` rounds over one region of heat `heat`; returns the proven hot and cold pages. */
static void run(nv_pagescan *p, fake *f, float heat, unsigned rounds, size_t *ret_hot, size_t *ret_cold) {
        nv_region region = { .start = BASE, .end = BASE + PAGES * NV_PAGE_SIZE, .heat = heat };
        nv_hotpage *proven;
        size_t n;

        for (unsigned t = 0; t < rounds; t++) {
                f->round++;
                if (nv_pagescan_round(p, &fake_ops, f, &vm, &region, 1, 0.4, 256, 0) < 0)
                        abort();
        }
        proven = nv_pagescan_proven(p, &n);
        *ret_hot = *ret_cold = 0;
        for (size_t j = 0; j < n; j++) {
                if (j > 0 && proven[j].addr <= proven[j - 1].addr)
                        ok(false, "proven pages are in address order");
                if (is_hot((proven[j].addr - BASE) >> NV_PAGE_SHIFT))
                        (*ret_hot)++;
                else
                        (*ret_cold)++;
        }
}

static void rounds_needed(void) {
        is_int(nv_hotpage_rounds_needed(0.4, 4096), 10, "hot at 0.4, 4096 pages: 10 (4096 x 0.4^9 = 1.07)");
        is_int(nv_hotpage_rounds_needed(0.4, 1048576), 16,
               "... 4 GiB of pages: 16 (1048576 x 0.4^15 = 1.13)");
        is_int(nv_hotpage_rounds_needed(0.5, 32768), 16, "hot at 0.5, 32768 pages: 16 (2^15 = 32768)");
        is_int(nv_hotpage_rounds_needed(0.9, UINT64_C(1) << 40), 0,
               "... 0.9 and 2^40 pages: past 255, never");
        is_int(nv_hotpage_rounds_needed(1, 4), 0, "hot at 1: never");
        is_int(nv_hotpage_rounds_needed(0.4, 1), 2, "a scan of one page: two intervals");
        is_int(nv_hotpage_rounds_needed(0.01, 100), 2, "hot at 0.01, 100 pages: two (100 x 0.01^2 = 0.01)");
}

/* A scan and a VM whose hot pages are accessed every interval, its cold ones in a tenth of them. */
static fake *setup(nv_pagescan **ret) {
        fake *f = calloc(1, sizeof(*f));

        if (!f || nv_pagescan_new(ret) < 0)
                abort();
        f->hot_on = true;
        f->cold_rate = 0.1;
        return f;
}

static void proves_hot_pages(void) {
        _cleanup_(nv_pagescan_freep) nv_pagescan *p = NULL;
        fake *f = setup(&p);
        size_t hot, cold;

        /* Hot at 0.4 over 4096 pages: 10 intervals in a row. A pass is 16 rounds. */
        run(p, f, 0.1f, 12, &hot, &cold);
        is_int(hot, 8, "the first two windows' hot pages are proven 9 rounds after they were found");
        run(p, f, 0.1f, 14, &hot, &cold);
        is_int(hot, HOT, "a pass and the row prove every hot page");
        is_int(cold, 0, "... and no cold page, accessed in a tenth of the intervals");
        is_int(f->calls, 26, "one harvest call a round");
        ok(f->probes < 26 * (2 * 256 + 64),
           "a round reads the window, clears the next and reads the candidates (%zu)", f->probes);

        f->hot_on = false;
        run(p, f, 0.1f, 15, &hot, &cold);
        is_int(hot, 4, "a pass less a window leaves the 4 hot pages of the window not read again");
        run(p, f, 0.1f, 1, &hot, &cold);
        is_int(hot, 0, "the next pass forgets the pages it finds idle");
        free(f);
}

static void hot_region_left_alone(void) {
        _cleanup_(nv_pagescan_freep) nv_pagescan *p = NULL;
        fake *f = setup(&p);
        size_t hot, cold;

        run(p, f, 0.5f, 40, &hot, &cold);
        is_int(hot + cold, 0, "a region hot as a whole makes no candidate: it moves whole");
        free(f);
}

static void huge_pages_left_alone(void) {
        _cleanup_(nv_pagescan_freep) nv_pagescan *p = NULL;
        nv_ram_range thp = range;
        nv_vm_info huge = vm;
        fake f = {};
        size_t n;

        thp.backing = NV_BACKING_THP;
        huge.ranges = &thp;
        if (nv_pagescan_new(&p) < 0)
                abort();
        is_int(nv_pagescan_round(p, &fake_ops, &f, &huge, NULL, 0, 0.4, 256, 0), 0,
               "a VM backed by huge pages: nothing to scan");
        is_int(f.calls, 0, "... and no harvest call");
        (void)nv_pagescan_proven(p, &n);
        is_int(n, 0, "... nothing proven");
}

static void region_of(void) {
        nv_region r[3] = { { .start = 0x1000, .end = 0x3000 },
                           { .start = 0x3000, .end = 0x5000 },
                           { .start = 0x8000, .end = 0x9000 } };

        is_int(nv_pagescan_region_of(r, 3, 0x0), -1, "region_of: before the first region");
        is_int(nv_pagescan_region_of(r, 3, 0x1000), 0, "region_of: a region's start");
        is_int(nv_pagescan_region_of(r, 3, 0x4fff), 1, "region_of: a region's last byte");
        is_int(nv_pagescan_region_of(r, 3, 0x5000), -1, "region_of: a hole");
        is_int(nv_pagescan_region_of(r, 3, 0x8000), 2, "region_of: the last region");
        is_int(nv_pagescan_region_of(r, 3, 0x9000), -1, "region_of: past the end");
}

int main(void) {
        log_set_max_level(LOG_WARNING);
        rounds_needed();
        proves_hot_pages();
        hot_region_left_alone();
        huge_pages_left_alone();
        region_of();
        return tap_done();
}
