/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <malloc.h>
#include <stdlib.h>

#include "model/host.h"
#include "common/log.h"
#include "sampler/heatmap.h"
#include "sampler/region-history.h"
#include "tap.h"

/* ---- test doubles ------------------------------------------------------------------------ */

#define FAKE_RANGES 4

/* A VM: up to four RAM ranges. */
typedef struct fake_vm {
        nv_vm_info info;
        nv_ram_range ranges[FAKE_RANGES];
} fake_vm;

static void fake_vm_init(fake_vm *v, size_t n, const nv_ram_range *ranges) {
        *v = (fake_vm){};
        for (size_t i = 0; i < n; i++)
                v->ranges[i] = ranges[i];
        v->info.id = 1;
        v->info.name = (char *)"test";
        v->info.ranges = v->ranges;
        v->info.nr_ranges = n;
}

static nv_ram_range mkrange(uint64_t hva, uint64_t size, nv_backing b) {
        return (nv_ram_range){ .hva = hva, .size = size, .backing = b, .cell = -1 };
}

/* Locate the page holding addr in the VM's ranges: the range index and the page index in units of
 * that range's page, or -1 when addr is not an aligned page of a range with that shift. */
static int fake_find(const nv_vm_info *vm, uint64_t addr, unsigned shift, uint64_t *ret_page) {
        for (size_t i = 0; i < vm->nr_ranges; i++) {
                const nv_ram_range *rr = &vm->ranges[i];

                if (addr < rr->hva || addr >= rr->hva + rr->size)
                        continue;
                if (nv_backing_page_shift(rr->backing) != shift || (addr - rr->hva) % (UINT64_C(1) << shift))
                        return -1;
                *ret_page = (addr - rr->hva) >> shift;
                return (int)i;
        }
        return -1;
}

/* Access port double: one byte per page, "accessed since last cleared", set by the test. */
typedef struct fake_access {
        const nv_vm_info *vm;
        uint8_t *bits[FAKE_RANGES];
        int fail;               /* when < 0, harvest returns it */
        unsigned calls, shifts; /* calls made; bit mask of the shifts seen */
        unsigned last_flags;
        size_t n[8], bad; /* n per call (first 8 calls); addresses outside the VM or misaligned */
        size_t calls_per_shift[32];
} fake_access;

static void fake_access_init(fake_access *fa, const nv_vm_info *vm) {
        *fa = (fake_access){ .vm = vm };
        for (size_t i = 0; i < vm->nr_ranges; i++)
                fa->bits[i] = calloc(vm->ranges[i].size >> nv_backing_page_shift(vm->ranges[i].backing), 1);
}

static void fake_access_done(fake_access *fa) {
        for (size_t i = 0; i < FAKE_RANGES; i++)
                free(fa->bits[i]);
}

/* Mark [start, end) of the VM's memory accessed. */
static void fake_touch(fake_access *fa, uint64_t start, uint64_t end) {
        for (size_t i = 0; i < fa->vm->nr_ranges; i++) {
                const nv_ram_range *rr = &fa->vm->ranges[i];
                unsigned shift = nv_backing_page_shift(rr->backing);
                uint64_t lo = MAX(start, rr->hva), hi = MIN(end, rr->hva + rr->size);

                for (uint64_t a = lo; a < hi; a += UINT64_C(1) << shift)
                        fa->bits[i][(a - rr->hva) >> shift] = 1;
        }
}

static int fake_harvest(void *ctx, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                        unsigned flags, uint8_t *ret_accessed) {
        fake_access *fa = ctx;

        if (fa->calls < ARRAY_SIZE(fa->n))
                fa->n[fa->calls] = n;
        fa->calls++;
        fa->shifts |= 1u << (shift & 31);
        fa->calls_per_shift[shift & 31]++;
        fa->last_flags = flags;
        if (fa->fail < 0)
                return fa->fail;
        for (size_t i = 0; i < n; i++) {
                uint64_t page;
                int r = fake_find(vm, addrs[i], shift, &page);

                if (r < 0) {
                        fa->bad++;
                        ret_accessed[i] = 0;
                        continue;
                }
                ret_accessed[i] = fa->bits[r][page];
                fa->bits[r][page] = 0;
        }
        return flags & NV_HARVEST_FLUSH;
}

static const nv_access_ops fake_access_ops = { .name = "fake", .harvest = fake_harvest };

/* Mover port double: the node of every page (-1: not present, -2: -EFAULT). */
typedef struct fake_mover {
        int8_t *node[FAKE_RANGES];
        int fail;
        unsigned calls, moves;
        size_t last_n, bad;
} fake_mover;

static void fake_mover_init(fake_mover *fm, const nv_vm_info *vm, int8_t node) {
        *fm = (fake_mover){};
        for (size_t i = 0; i < vm->nr_ranges; i++) {
                size_t pages = vm->ranges[i].size >> nv_backing_page_shift(vm->ranges[i].backing);

                fm->node[i] = malloc(MAX(pages, (size_t)1));
                memset(fm->node[i], node, pages);
        }
}

static void fake_mover_done(fake_mover *fm) {
        for (size_t i = 0; i < FAKE_RANGES; i++)
                free(fm->node[i]);
}

static int fake_move_pages(void *ctx, const nv_vm_info *vm, size_t n, const uint64_t *addrs,
                           const int *nodes, int *ret_status) {
        fake_mover *fm = ctx;

        fm->calls++;
        fm->last_n = n;
        if (nodes)
                fm->moves++;
        if (fm->fail < 0)
                return fm->fail;
        for (size_t i = 0; i < n; i++) {
                uint64_t page;
                int r = -1;

                for (unsigned shift = NV_PAGE_SHIFT; r < 0 && shift <= NV_HUGE_SHIFT; shift += 9)
                        r = fake_find(vm, addrs[i], shift, &page);
                if (r < 0) {
                        fm->bad++;
                        ret_status[i] = -EFAULT;
                        continue;
                }
                int8_t nd = fm->node[r][page];
                ret_status[i] = nd >= 0 ? nd : nd == -1 ? -ENOENT : -EFAULT;
        }
        return 0;
}

static const nv_mover_ops fake_mover_ops = { .move_pages = fake_move_pages };

/* ---- helpers ----------------------------------------------------------------------------- */

#define BASE UINT64_C(0x7f0000000000)

static nv_heatmap_config config(unsigned min, unsigned max) {
        nv_heatmap_config c;

        nv_heatmap_config_defaults(&c);
        c.min_regions = min;
        c.max_regions = max;
        return c;
}

/* Regions sorted, non-empty, aligned to their range's page, inside their range, and together
 * covering every range exactly. On failure, *why says what. */
static bool regions_valid(nv_heatmap *h, const nv_vm_info *vm, const char **why) {
        size_t n;
        const nv_region *r = nv_heatmap_regions(h, &n);
        uint64_t covered[FAKE_RANGES] = {};

        for (size_t i = 0; i < n; i++) {
                const nv_ram_range *rr;
                uint64_t page;

                if (r[i].range >= vm->nr_ranges)
                        return *why = "range index", false;
                rr = &vm->ranges[r[i].range];
                page = UINT64_C(1) << nv_backing_page_shift(rr->backing);
                if (r[i].start >= r[i].end)
                        return *why = "empty region", false;
                if (r[i].start % page || r[i].end % page)
                        return *why = "misaligned", false;
                if (r[i].start < rr->hva || r[i].end > rr->hva + rr->size)
                        return *why = "outside its range", false;
                if (i > 0 && r[i].start < r[i - 1].end)
                        return *why = "unsorted or overlapping", false;
                if (r[i].heat < 0 || r[i].heat > 1)
                        return *why = "heat out of [0, 1]", false;
                covered[r[i].range] += r[i].end - r[i].start;
        }
        for (size_t j = 0; j < vm->nr_ranges; j++)
                if (covered[j] != vm->ranges[j].size)
                        return *why = "a range not covered exactly", false;
        return *why = "", true;
}

#define ok_regions(h, vm, what)                                                \
        ({                                                                     \
                const char *_why;                                              \
                bool _v = regions_valid((h), (vm), &_why);                     \
                ok(_v, "%s: regions valid%s%s", (what), _v ? "" : ": ", _why); \
        })

/* The fraction of [start, end) inside [hot_lo, hot_hi). */
static double overlap_fraction(uint64_t start, uint64_t end, uint64_t hot_lo, uint64_t hot_hi) {
        uint64_t lo = MAX(start, hot_lo), hi = MIN(end, hot_hi);

        return hi > lo ? (double)(hi - lo) / (double)(end - start) : 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_layout(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(10, 1000);
        fake_vm v;
        size_t n;
        nv_region *r;
        bool equal = true, fresh = true;

        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 40 * MIB, NV_BACKING_ANON) });
        is_int(nv_heatmap_new(&v.info, &c, 1, &h), 0, "layout: new on one 4 KiB range");
        r = nv_heatmap_regions(h, &n);
        is_int(n, 10, "layout: min_regions regions");
        for (size_t i = 0; i < n; i++) {
                equal = equal && nv_region_bytes(&r[i]) == 4 * MIB;
                fresh = fresh && r[i].heat == 0 && r[i].moved_to == -1 && r[i].left_node == -1 &&
                        r[i].streak_target == -1 && r[i].moved_epoch == 0 && r[i].samples == 0;
        }
        ok(equal, "layout: regions of equal size");
        ok(fresh, "layout: heat 0 and history initialised");
        ok_regions(h, &v.info, "layout one range");
        h = nv_heatmap_free(h);

        /* Listed out of address order: a THP range of 30 MiB and a 4 KiB range of 10 MiB. */
        fake_vm_init(&v, 2,
                     (nv_ram_range[]){ mkrange(BASE + GIB, 30 * MIB, NV_BACKING_THP),
                                       mkrange(BASE, 10 * MIB, NV_BACKING_ANON) });
        c = config(8, 1000);
        is_int(nv_heatmap_new(&v.info, &c, 1, &h), 0, "layout: new on 4 KiB and 2 MiB ranges");
        r = nv_heatmap_regions(h, &n);
        is_int(n, 8, "layout: two ranges, min_regions regions");
        ok_regions(h, &v.info, "layout two ranges");
        size_t in_small = 0;
        for (size_t i = 0; i < n; i++)
                in_small += r[i].range == 1;
        is_int(in_small, 2, "layout: regions split proportionally to size (2 of 8 in the 10 MiB range)");
        is_int(r[0].range, 1, "layout: regions in address order, not in range order");
        h = nv_heatmap_free(h);

        /* Ranges too small for their share: three 4 KiB pages and one huge page. */
        fake_vm_init(&v, 2,
                     (nv_ram_range[]){ mkrange(BASE, 3 * NV_PAGE_SIZE, NV_BACKING_SHARED),
                                       mkrange(BASE + GIB, NV_HUGE_SIZE, NV_BACKING_HUGETLB) });
        c = config(10, 1000);
        is_int(nv_heatmap_new(&v.info, &c, 1, &h), 0, "layout: new on tiny ranges");
        r = nv_heatmap_regions(h, &n);
        is_int(n, 4, "layout: tiny ranges get one region per page, fewer than min_regions");
        ok_regions(h, &v.info, "layout tiny ranges");
        h = nv_heatmap_free(h);

        /* Refused: a THP range not aligned to 2 MiB, overlapping ranges, a bad config. */
        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE + 4096, 4 * MIB, NV_BACKING_THP) });
        is_int(nv_heatmap_new(&v.info, NULL, 1, &h), -EINVAL, "layout: misaligned huge range refused");
        fake_vm_init(&v, 2,
                     (nv_ram_range[]){ mkrange(BASE, 4 * MIB, NV_BACKING_ANON),
                                       mkrange(BASE + 2 * MIB, 4 * MIB, NV_BACKING_ANON) });
        is_int(nv_heatmap_new(&v.info, NULL, 1, &h), -EINVAL, "layout: overlapping ranges refused");
        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 4 * MIB, NV_BACKING_ANON) });
        c = config(20, 10);
        is_int(nv_heatmap_new(&v.info, &c, 1, &h), -EINVAL, "layout: min_regions > max_regions refused");
        c = config(10, 20);
        c.heat_alpha = 0;
        is_int(nv_heatmap_new(&v.info, &c, 1, &h), -EINVAL, "layout: alpha 0 refused");
        ok(!h, "layout: *ret untouched on failure");
}

/* A fixed pattern of hot bands, 64 pages each, about half of them hot. */
static bool band_hot(uint64_t page) {
        uint64_t b = (page / 64) * UINT64_C(0x9e3779b97f4a7c15);
        return (b >> 61) & 1;
}

static void touch_bands(fake_access *fa, uint64_t base, uint64_t pages) {
        for (uint64_t p = 0; p < pages; p++)
                if (band_hot(p))
                        fake_touch(fa, base + p * NV_PAGE_SIZE, base + (p + 1) * NV_PAGE_SIZE);
}

static void test_bounds(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(5, 40);
        fake_vm v;
        fake_access fa;
        fake_mover fm;
        bool in_bounds = true, valid = true;
        size_t n, lo = SIZE_MAX, hi = 0;
        const char *why = "";

        fake_vm_init(&v, 2,
                     (nv_ram_range[]){ mkrange(BASE, 16 * MIB, NV_BACKING_ANON),
                                       mkrange(BASE + GIB, 16 * MIB, NV_BACKING_THP) });
        fake_access_init(&fa, &v.info);
        fake_mover_init(&fm, &v.info, 0);
        is_int(nv_heatmap_new(&v.info, &c, 7, &h), 0, "bounds: new");
        for (int e = 0; e < 30; e++) {
                for (int round = 0; round < 10; round++) {
                        touch_bands(&fa, BASE, 4096);
                        fake_touch(&fa, BASE + GIB + (e % 8) * MIB * 2, BASE + GIB + 6 * MIB);
                        (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
                }
                (void)nv_heatmap_end_epoch(h, &fake_mover_ops, &fm, &v.info);
                (void)nv_heatmap_regions(h, &n);
                lo = MIN(lo, n);
                hi = MAX(hi, n);
                in_bounds = in_bounds && n >= 5 && n <= 40;
                if (valid && !regions_valid(h, &v.info, &why))
                        valid = false;
        }
        ok(in_bounds, "bounds: 5 <= regions <= 40 after every epoch (saw %zu..%zu)", lo, hi);
        /* Regions are cut only where their parts' samples differ: the count follows the
         * heat's edges (64 bands of 256 KiB here, too fine for 10 samples a region an epoch to
         * resolve them all), not the cap. */
        ok(hi > 8, "bounds: regions are cut where heat differs, beyond min_regions (up to %zu)", hi);
        ok(valid, "bounds: regions valid after every epoch%s%s", valid ? "" : ": ", why);
        is_int(fa.bad, 0, "bounds: every harvested address is an aligned page of the VM");
        is_int(fm.bad, 0, "bounds: every located address is an aligned page of the VM");
        is_int(fm.moves, 0, "bounds: locating only queries (nodes == NULL)");

        /* Lowering max_regions merges down at the next epoch's end. */
        c.max_regions = 12;
        nv_heatmap_set_config(h, &c);
        (void)nv_heatmap_end_epoch(h, &fake_mover_ops, &fm, &v.info);
        (void)nv_heatmap_regions(h, &n);
        ok(n >= 5 && n <= 12, "bounds: lowered max_regions met at the next epoch (%zu regions)", n);
        ok_regions(h, &v.info, "bounds after lowering max");

        fake_access_done(&fa);
        fake_mover_done(&fm);
}

static void test_hot_subrange(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(10, 100);
        uint64_t size = 64 * MIB, hot_lo = BASE + 13 * MIB + 5 * NV_PAGE_SIZE, hot_hi = BASE + 23 * MIB;
        fake_vm v;
        fake_access fa;
        double wrong = 0, hot_ok = 0, cold_ok = 0;
        size_t n;
        nv_region *r;

        /* Regions are cut where their parts' samples differ, so edges are found to within a few
         * pages (a piece whose few cold pages no sample can tell from hot ones stays whole):
         * what counts is the bytes on the right side of each threshold. */
        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, size, NV_BACKING_ANON) });
        fake_access_init(&fa, &v.info);
        is_int(nv_heatmap_new(&v.info, &c, 42, &h), 0, "hot subrange: new");
        for (int e = 0; e < 25; e++) {
                for (int round = 0; round < 20; round++) {
                        fake_touch(&fa, hot_lo, hot_hi);
                        (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
                }
                (void)nv_heatmap_end_epoch(h, NULL, NULL, &v.info);
        }
        r = nv_heatmap_regions(h, &n);
        for (size_t i = 0; i < n; i++) {
                double f = overlap_fraction(r[i].start, r[i].end, hot_lo, hot_hi);
                double bytes = (double)nv_region_bytes(&r[i]);

                /* Bytes on the wrong side of a 0.5 threshold. */
                wrong += r[i].heat >= 0.5 ? (1 - f) * bytes : f * bytes;
                if (r[i].heat > 0.9)
                        hot_ok += f * bytes;
                if (r[i].heat < 0.1)
                        cold_ok += (1 - f) * bytes;
        }
        ok(wrong < 0.01 * (double)size, "hot subrange: bytes misclassified %.2f%% < 1%% of the VM",
           100 * wrong / (double)size);
        ok(hot_ok > 0.9 * (double)(hot_hi - hot_lo),
           "hot subrange: %.1f%% of the hot set in regions of heat > 0.9",
           100 * hot_ok / (double)(hot_hi - hot_lo));
        ok(cold_ok > 0.95 * (double)(size - (hot_hi - hot_lo)),
           "hot subrange: %.1f%% of the cold memory in regions of heat < 0.1",
           100 * cold_ok / (double)(size - (hot_hi - hot_lo)));
        ok(n <= 20, "hot subrange: %zu regions, about min_regions and the two edges, not max_regions", n);
        ok_regions(h, &v.info, "hot subrange");
        fake_access_done(&fa);
}

static void test_merge(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(8, 8);
        static const float heat[8] = { 0.40f, 0.44f, 0.40f, 0.44f, 0.8f, 0.8f, 0.8f, 0.8f };
        uint64_t size = 8 * MIB, node0 = 0, node1 = 0;
        bool left_ok = true, right_ok = true;
        fake_vm v;
        size_t n;
        nv_region *r;

        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, size, NV_BACKING_ANON) });
        is_int(nv_heatmap_new(&v.info, &c, 3, &h), 0, "merge: new with 8 regions");

        /* At the floor: alike regions stay apart. */
        nv_heatmap_mark_all_hot(h);
        is_int(nv_heatmap_end_epoch(h, NULL, NULL, &v.info), 0, "merge: end_epoch without a mover");
        r = nv_heatmap_regions(h, &n);
        is_int(n, 8, "merge: alike regions do not merge below min_regions");

        c.min_regions = 2;
        nv_heatmap_set_config(h, &c);
        r = nv_heatmap_regions(h, &n);
        for (size_t i = 0; i < n; i++) {
                r[i].heat = heat[i];
                r[i].node_bytes[0] = r[i].node_bytes[1] = nv_region_bytes(&r[i]) / 2;
        }
        r[1].moved_epoch = 5, r[1].moved_to = 2, r[1].left_node = 0;
        r[2].moved_epoch = 7, r[2].moved_to = 3, r[2].left_node = 1, r[2].streak_target = 2,
        r[2].target_streak = 4;
        r[5].streak_target = 1, r[5].target_streak = 2;

        is_int(nv_heatmap_end_epoch(h, NULL, NULL, &v.info), 0, "merge: end_epoch");
        r = nv_heatmap_regions(h, &n);
        /* Decay halves the heat (alpha 0.5); each half merges into one region of at most
         * size / min_regions; without samples that differ, nothing cuts them again. */
        is_int(n, 2, "merge: one region per half after merging, nothing split without evidence");
        ok_regions(h, &v.info, "merge");
        for (size_t i = 0; i < n; i++) {
                bool left = r[i].end <= BASE + size / 2;

                if (!left && r[i].start < BASE + size / 2)
                        left_ok = false; /* a region across the heat boundary */
                else if (left) {
                        left_ok = left_ok && fabsf(r[i].heat - 0.21f) < 1e-6 && r[i].moved_epoch == 7 &&
                                  r[i].moved_to == 3 && r[i].left_node == 1 && r[i].streak_target == -1 &&
                                  r[i].target_streak == 0 && r[i].age == 0;
                        node0 += r[i].node_bytes[0];
                        node1 += r[i].node_bytes[1];
                } else
                        right_ok = right_ok && fabsf(r[i].heat - 0.4f) < 1e-6 && r[i].moved_epoch == 0 &&
                                   r[i].moved_to == -1 && r[i].streak_target == -1;
        }
        ok(left_ok, "merge: left half has size-weighted heat 0.21, the latest move, streaks reset");
        ok(right_ok, "merge: right half (heat differs by >= merge_delta) merged apart, heat 0.4");
        is_u64(node0, size / 4, "merge: node_bytes summed by merge (node 0)");
        is_u64(node1, size / 4, "merge: node_bytes summed by merge (node 1)");
}

static void test_decay_and_ewma(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(4, 4);
        fake_vm v;
        fake_access fa;
        size_t n;
        nv_region *r;
        bool all;

        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 4 * MIB, NV_BACKING_ANON) });
        fake_access_init(&fa, &v.info);

        c.heat_alpha = 0.5;
        is_int(nv_heatmap_new(&v.info, &c, 9, &h), 0, "decay: new");
        nv_heatmap_mark_all_hot(h);
        r = nv_heatmap_regions(h, &n);
        all = true;
        for (size_t i = 0; i < n; i++)
                all = all && r[i].heat == 1.0f;
        ok(all, "decay: mark_all_hot sets heat 1");
        (void)nv_heatmap_end_epoch(h, NULL, NULL, &v.info);
        (void)nv_heatmap_end_epoch(h, NULL, NULL, &v.info);
        r = nv_heatmap_regions(h, &n);
        all = true;
        for (size_t i = 0; i < n; i++)
                all = all && fabsf(r[i].heat - 0.25f) < 1e-6;
        ok(all, "decay: unsampled regions lose (1 - alpha) per epoch: 1 -> 0.5 -> 0.25");
        h = nv_heatmap_free(h);

        /* EWMA: alpha 0.25; rounds 2..4 see everything accessed, round 5 nothing. */
        c.heat_alpha = 0.25;
        is_int(nv_heatmap_new(&v.info, &c, 9, &h), 0, "ewma: new");
        for (int round = 1; round <= 5; round++) {
                if (round >= 2 && round <= 4)
                        fake_touch(&fa, BASE, BASE + 4 * MIB);
                (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
        }
        r = nv_heatmap_regions(h, &n);
        all = true;
        for (size_t i = 0; i < n; i++)
                all = all && r[i].hits == 3 && r[i].samples == 4;
        ok(all, "ewma: the first round records nothing, then 3 hits of 4 samples per region");
        (void)nv_heatmap_end_epoch(h, NULL, NULL, &v.info);
        r = nv_heatmap_regions(h, &n);
        all = true;
        for (size_t i = 0; i < n; i++)
                all = all && fabsf(r[i].heat - 0.1875f) < 1e-6 && r[i].hits == 0 && r[i].samples == 0 &&
                      r[i].age == 1;
        ok(all, "ewma: heat = 0.25 * 3/4 = 0.1875, counts reset, age 1");
        for (int round = 0; round < 2; round++) {
                fake_touch(&fa, BASE, BASE + 4 * MIB);
                (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
        }
        (void)nv_heatmap_end_epoch(h, NULL, NULL, &v.info);
        r = nv_heatmap_regions(h, &n);
        all = true;
        for (size_t i = 0; i < n; i++)
                all = all && fabsf(r[i].heat - 0.390625f) < 1e-6 && r[i].age == 2;
        ok(all, "ewma: heat = 0.25 * 1 + 0.75 * 0.1875 = 0.390625, age 2");
        fake_access_done(&fa);
}

static void test_locate(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(4, 4);
        fake_vm v;
        fake_mover fm;
        size_t n;
        nv_region *r;

        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 4 * MIB, NV_BACKING_ANON) });
        fake_mover_init(&fm, &v.info, 0);
        /* Regions of 256 pages: [0, 256) node 1; [256, 384) node 0 then -ENOENT and -EFAULT;
         * [512, 768) not present; [768, 1024) node 2 then node 3. */
        memset(fm.node[0], 1, 256);
        memset(fm.node[0] + 384, -1, 64);
        memset(fm.node[0] + 448, -2, 64);
        memset(fm.node[0] + 512, -1, 256);
        memset(fm.node[0] + 768, 2, 128);
        memset(fm.node[0] + 896, 3, 128);
        is_int(nv_heatmap_new(&v.info, &c, 5, &h), 0, "locate: new");
        is_int(nv_heatmap_end_epoch(h, &fake_mover_ops, &fm, &v.info), 0, "locate: end_epoch");
        is_int(fm.calls, 1, "locate: one query for the whole map");
        is_int(fm.last_n, 4 * 8, "locate: locate_samples pages per region");
        is_int(fm.moves, 0, "locate: a query (nodes == NULL)");
        r = nv_heatmap_regions(h, &n);
        is_u64(r[0].node_bytes[1], MIB, "locate: region on node 1 entirely");
        is_u64(r[0].node_bytes[0], 0, "locate: nothing of it on node 0");
        is_u64(r[1].node_bytes[0], MIB / 2,
               "locate: -ENOENT/-EFAULT pages are on no node, the resident half is node 0");
        is_u64(nv_region_resident_bytes(&r[1]), MIB / 2, "locate: half of that region is resident");
        uint64_t sum = 0;
        for (unsigned nd = 0; nd < NV_MAX_NODES; nd++)
                sum += r[2].node_bytes[nd];
        is_u64(sum, 0, "locate: no page present, no bytes anywhere");
        ok(r[2].located, "locate: ... and the region counts as located (not resident, not unknown)");
        is_u64(nv_region_resident_bytes(&r[2]), 0, "locate: ... with no resident bytes");
        is_u64(r[3].node_bytes[2], MIB / 2, "locate: half on node 2");
        is_u64(r[3].node_bytes[3], MIB / 2, "locate: half on node 3");

        fm.fail = -ESRCH;
        is_int(nv_heatmap_end_epoch(h, &fake_mover_ops, &fm, &v.info), -ESRCH, "locate: -ESRCH returned");
        r = nv_heatmap_regions(h, &n);
        is_u64(r[0].node_bytes[1], MIB, "locate: a failed query leaves node_bytes as they were");
        ok_regions(h, &v.info, "locate after -ESRCH");
        fake_mover_done(&fm);
        h = nv_heatmap_free(h);

        /* 4 KiB and 2 MiB ranges: one query per page size. */
        fake_vm_init(&v, 2,
                     (nv_ram_range[]){ mkrange(BASE, 4 * MIB, NV_BACKING_ANON),
                                       mkrange(BASE + GIB, 64 * MIB, NV_BACKING_HUGETLB) });
        fake_mover_init(&fm, &v.info, 1);
        c = config(4, 4);
        is_int(nv_heatmap_new(&v.info, &c, 5, &h), 0, "locate: new on two page sizes");
        is_int(nv_heatmap_end_epoch(h, &fake_mover_ops, &fm, &v.info), 0,
               "locate: end_epoch, two page sizes");
        is_int(fm.calls, 2, "locate: one query per page size");
        is_int(fm.bad, 0, "locate: huge pages queried at 2 MiB boundaries");
        r = nv_heatmap_regions(h, &n);
        is_u64(r[n - 1].node_bytes[1], nv_region_bytes(&r[n - 1]), "locate: huge region on node 1");
        fake_mover_done(&fm);
}

static void test_harvest_calls(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(6, 6);
        fake_vm v;
        fake_access fa;
        size_t n, small = 0;
        nv_region *r, before[6];
        bool unchanged = true;

        fake_vm_init(&v, 2,
                     (nv_ram_range[]){ mkrange(BASE, 8 * MIB, NV_BACKING_ANON),
                                       mkrange(BASE + GIB, 16 * MIB, NV_BACKING_THP) });
        fake_access_init(&fa, &v.info);
        c.flush = true;
        is_int(nv_heatmap_new(&v.info, &c, 11, &h), 0, "harvest: new");
        r = nv_heatmap_regions(h, &n);
        for (size_t i = 0; i < n; i++)
                small += r[i].range == 0;
        is_int(nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info), 0, "harvest: first round");
        is_int(fa.calls, 2, "harvest: one call per page size");
        is_int(fa.shifts, (1u << NV_PAGE_SHIFT) | (1u << NV_HUGE_SHIFT), "harvest: shifts 12 and 21");
        is_int(fa.n[0], small, "harvest: first round clears one page per region");
        is_int(fa.last_flags, NV_HARVEST_FLUSH, "harvest: NV_HARVEST_FLUSH passed when cfg->flush");
        is_int(nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info), 0, "harvest: second round");
        is_int(fa.n[2], 2 * small, "harvest: later rounds read the old page and clear a new one");
        c.flush = false;
        nv_heatmap_set_config(h, &c);
        (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
        is_int(fa.last_flags, 0, "harvest: no flush flag when !cfg->flush");

        r = nv_heatmap_regions(h, &n);
        memcpy(before, r, n * sizeof(*r));
        fa.fail = -ESRCH;
        is_int(nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info), -ESRCH, "harvest: -ESRCH returned");
        fa.fail = -EIO;
        is_int(nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info), -EIO, "harvest: other errors returned");
        r = nv_heatmap_regions(h, &n);
        for (size_t i = 0; i < n; i++)
                unchanged = unchanged && r[i].samples == before[i].samples && r[i].hits == before[i].hits &&
                            r[i].start == before[i].start && r[i].end == before[i].end;
        ok(unchanged, "harvest: a failed round records nothing");
        ok_regions(h, &v.info, "harvest after errors");
        fa.fail = 0;
        is_int(nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info), 0, "harvest: recovers after errors");
        r = nv_heatmap_regions(h, &n);
        is_int(r[0].samples, before[0].samples + 1, "harvest: the next good round samples again");
        is_int(fa.bad, 0, "harvest: every address an aligned page of its range's size");
        is_int(nv_heatmap_sample(h, NULL, NULL, &v.info), -EOPNOTSUPP, "harvest: no access port refused");
        fake_access_done(&fa);
}

typedef struct run_result {
        size_t n;
        nv_region r[64];
} run_result;

static void run_seeded(uint64_t seed, run_result *out) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(4, 64);
        fake_vm v;
        fake_access fa;
        fake_mover fm;
        nv_region *r;

        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 16 * MIB, NV_BACKING_ANON) });
        fake_access_init(&fa, &v.info);
        fake_mover_init(&fm, &v.info, 0);
        memset(fm.node[0], 1, 1000);
        if (nv_heatmap_new(&v.info, &c, seed, &h) < 0)
                abort();
        for (int e = 0; e < 6; e++) {
                for (int round = 0; round < 10; round++) {
                        touch_bands(&fa, BASE, 4096);
                        (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
                }
                (void)nv_heatmap_end_epoch(h, &fake_mover_ops, &fm, &v.info);
        }
        r = nv_heatmap_regions(h, &out->n);
        out->n = MIN(out->n, ARRAY_SIZE(out->r));
        memcpy(out->r, r, out->n * sizeof(*r));
        fake_access_done(&fa);
        fake_mover_done(&fm);
}

static bool same_regions(const run_result *a, const run_result *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (a->r[i].start != b->r[i].start || a->r[i].end != b->r[i].end ||
                    a->r[i].heat != b->r[i].heat ||
                    memcmp(a->r[i].node_bytes, b->r[i].node_bytes, sizeof(a->r[i].node_bytes)) != 0)
                        return false;
        return true;
}

static void test_determinism(void) {
        static run_result a, b, d;

        run_seeded(1234, &a);
        run_seeded(1234, &b);
        run_seeded(4321, &d);
        ok(same_regions(&a, &b), "determinism: the same seed gives the same regions, heat and nodes");
        ok(!same_regions(&a, &d), "determinism: another seed gives other regions");
}

static void test_update_ranges(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(6, 50);
        fake_vm v, w, x;
        fake_access fa;
        nv_region *r, kept[50];
        size_t n, nk = 0;
        bool same = true, fresh = true;

        fake_vm_init(&v, 2,
                     (nv_ram_range[]){ mkrange(BASE, 16 * MIB, NV_BACKING_ANON),
                                       mkrange(BASE + GIB, 64 * MIB, NV_BACKING_THP) });
        fake_access_init(&fa, &v.info);
        is_int(nv_heatmap_new(&v.info, &c, 8, &h), 0, "update: new");
        for (int e = 0; e < 6; e++) {
                for (int round = 0; round < 10; round++) {
                        fake_touch(&fa, BASE + 3 * MIB, BASE + 5 * MIB);
                        (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
                }
                (void)nv_heatmap_end_epoch(h, NULL, NULL, &v.info);
        }
        fake_access_done(&fa);
        r = nv_heatmap_regions(h, &n);
        for (size_t i = 0; i < n; i++)
                if (r[i].range == 0)
                        kept[nk++] = r[i];
        bool had_heat = false;
        for (size_t i = 0; i < nk; i++)
                had_heat = had_heat || kept[i].heat > 0.5f;

        /* The 16 MiB range stays (now listed last), the THP range shrinks, a new range appears. */
        fake_vm_init(&w, 3,
                     (nv_ram_range[]){ mkrange(BASE + 2 * GIB, 8 * MIB, NV_BACKING_SHARED),
                                       mkrange(BASE + GIB, 32 * MIB, NV_BACKING_THP),
                                       mkrange(BASE, 16 * MIB, NV_BACKING_ANON) });
        is_int(nv_heatmap_update_ranges(h, &w.info), 0, "update: update_ranges");
        ok_regions(h, &w.info, "update");
        r = nv_heatmap_regions(h, &n);
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
                if (r[i].range == 2) {
                        same = same && j < nk && r[i].start == kept[j].start && r[i].end == kept[j].end &&
                               r[i].heat == kept[j].heat && r[i].age == kept[j].age;
                        j++;
                } else
                        fresh = fresh && r[i].heat == 0 && r[i].age == 0 && r[i].moved_to == -1;
        }
        ok(same && j == nk, "update: the unchanged range keeps its %zu regions, heat and age", nk);
        ok(fresh, "update: changed and new ranges get fresh regions");
        ok(had_heat, "update: the kept range had heat to keep");

        fake_access_init(&fa, &w.info);
        is_int(nv_heatmap_sample(h, &fake_access_ops, &fa, &w.info), 0, "update: sampling the new layout");
        is_int(fa.bad, 0, "update: harvested pages lie in the new ranges");
        fake_access_done(&fa);

        /* Only the THP range left, unchanged from w. */
        fake_vm_init(&x, 1, (nv_ram_range[]){ mkrange(BASE + GIB, 32 * MIB, NV_BACKING_THP) });
        size_t before = 0;
        r = nv_heatmap_regions(h, &n);
        for (size_t i = 0; i < n; i++)
                before += r[i].range == 1;
        is_int(nv_heatmap_update_ranges(h, &x.info), 0, "update: removing ranges");
        r = nv_heatmap_regions(h, &n);
        is_int(n, before, "update: the remaining range keeps its regions");
        ok_regions(h, &x.info, "update after removal");

        fake_vm_init(&x, 1, (nv_ram_range[]){ mkrange(BASE + GIB + MIB, 32 * MIB, NV_BACKING_THP) });
        is_int(nv_heatmap_update_ranges(h, &x.info), -EINVAL, "update: a misaligned range refused");
        ok(nv_heatmap_regions(h, &n) && n == before, "update: the map unchanged after a refusal");
}

static void test_hot_bytes(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(4, 4);
        fake_vm v;
        size_t n;
        nv_region *r;
        uint64_t hot = 1, local = 1;
        int8_t target[4] = { 0, 1, -1, 1 };

        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 4 * MIB, NV_BACKING_ANON) });
        is_int(nv_heatmap_new(&v.info, &c, 1, &h), 0, "hot_bytes: new");
        r = nv_heatmap_regions(h, &n);
        r[0].heat = 0.9f, r[0].node_bytes[0] = 300, r[0].node_bytes[1] = 700;
        r[1].heat = 0.3f, r[1].node_bytes[1] = 1000;
        r[2].heat = 0.5f, r[2].node_bytes[1] = 1000;
        r[3].heat = 0.1f, r[3].node_bytes[1] = 1000;
        nv_heatmap_hot_bytes(h, 0.3, target, &hot, &local);
        is_u64(hot, 3 * MIB, "hot_bytes: regions at or above the threshold");
        is_u64(local, 300 + 1000, "hot_bytes: of those, bytes on each region's target node");
        nv_heatmap_hot_bytes(h, 0.3, NULL, &hot, &local);
        is_u64(local, 0, "hot_bytes: no targets, nothing local");
}

static void test_large_vm(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(10, 1000);
        struct mallinfo2 m0, m1;
        fake_vm v;
        fake_access fa;
        fake_mover fm;
        size_t n;

        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 16 * GIB, NV_BACKING_ANON) });
        fake_access_init(&fa, &v.info);
        fake_mover_init(&fm, &v.info, 0);
        m0 = mallinfo2();
        is_int(nv_heatmap_new(&v.info, &c, 77, &h), 0, "large: new on a 16 GiB VM");
        for (int e = 0; e < 12; e++) {
                for (int round = 0; round < 5; round++) {
                        for (uint64_t b = 0; b < 16; b++)
                                fake_touch(&fa, BASE + b * GIB + (e % 4) * 64 * MIB,
                                           BASE + b * GIB + 96 * MIB);
                        (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
                }
                (void)nv_heatmap_end_epoch(h, &fake_mover_ops, &fm, &v.info);
        }
        m1 = mallinfo2();
        (void)nv_heatmap_regions(h, &n);
        ok(n >= 10 && n <= 1000, "large: %zu regions, within the bounds", n);
        ok(m1.uordblks - m0.uordblks < 1024 * 1024,
           "large: the map costs %zu bytes, O(regions) not O(pages)", m1.uordblks - m0.uordblks);
        ok_regions(h, &v.info, "large");
        fake_access_done(&fa);
        fake_mover_done(&fm);
}

/* A backend that aggregates on its own (DAMON): its regions' heat is adopted, byte-weighted. */
static void test_apply_regions(void) {
        const uint64_t base = 0x10000000;
        nv_ram_range rr = mkrange(base, 64 * MIB, NV_BACKING_ANON);
        nv_access_region backend[2] = {
                { .start = base, .end = base + 8 * MIB, .heat = 1.0f },
                { .start = base + 8 * MIB, .end = base + 48 * MIB, .heat = 0.0f },
        };
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        fake_vm v;
        nv_region *regs;
        size_t n;
        bool hot_ok = true, cold_ok = true, straddle_ok = false, uncovered_ok = true;
        nv_heatmap_config c;

        fake_vm_init(&v, 1, &rr);
        /* 10 regions of 6.4 MiB: one straddles the backend's edge at 8 MiB. */
        c = config(10, 1000);
        if (!ok(nv_heatmap_new(&v.info, &c, 7, &h) == 0, "apply_regions: heat map created"))
                return;
        nv_heatmap_apply_regions(h, backend, 2);
        regs = nv_heatmap_regions(h, &n);
        for (size_t i = 0; i < n; i++) {
                const nv_region *r = &regs[i];
                uint64_t hot = r->start < base + 8 * MIB ? MIN(r->end, base + 8 * MIB) - r->start : 0;

                if (r->start >= base + 48 * MIB)
                        uncovered_ok &= r->samples == 0;
                else if (r->end <= base + 48 * MIB && hot > 0 && hot < nv_region_bytes(r))
                        straddle_ok = abs((int)r->hits - (int)lround(1000.0 * (double)hot /
                                                                     (double)nv_region_bytes(r))) <= 1 &&
                                      r->samples == NV_HEATMAP_BACKEND_SAMPLES;
        }
        ok(straddle_ok, "a region straddling hot and cold gets the byte-weighted share of hits");
        ok(uncovered_ok, "regions no backend region covers get no samples");

        for (int e = 0; e < 8; e++) {
                nv_heatmap_apply_regions(h, backend, 2);
                (void)nv_heatmap_end_epoch(h, NULL, NULL, &v.info);
        }
        regs = nv_heatmap_regions(h, &n);
        for (size_t i = 0; i < n; i++) {
                if (regs[i].end <= base + 8 * MIB)
                        hot_ok &= regs[i].heat > 0.9f;
                else if (regs[i].start >= base + 8 * MIB)
                        cold_ok &= regs[i].heat < 0.1f;
        }
        ok(hot_ok, "after 8 epochs, regions inside the backend's hot region are hot");
        ok(cold_ok, "and regions outside it are cold");
}

/* Regions are cut only where heat differs: a uniformly hot or uniformly cold VM keeps
 * min_regions, however high max_regions is. */
static void test_uniform(void) {
        nv_heatmap_config c = config(10, 1000);
        fake_vm v;
        fake_access fa;
        size_t n, most = 0;

        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 64 * MIB, NV_BACKING_ANON) });
        for (int hot = 0; hot <= 1; hot++) {
                _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;

                fake_access_init(&fa, &v.info);
                is_int(nv_heatmap_new(&v.info, &c, 11, &h), 0, "uniform: new");
                most = 0;
                for (int e = 0; e < 10; e++) {
                        for (int round = 0; round < 20; round++) {
                                if (hot)
                                        fake_touch(&fa, BASE, BASE + 64 * MIB);
                                (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
                        }
                        (void)nv_heatmap_end_epoch(h, NULL, NULL, &v.info);
                        (void)nv_heatmap_regions(h, &n);
                        most = MAX(most, n);
                }
                is_int(most, 10, "uniform: a uniformly %s VM keeps min_regions regions (at most %zu)",
                       hot ? "hot" : "cold", most);
                ok_regions(h, &v.info, "uniform");
                fake_access_done(&fa);
        }
}

/* max_region_bytes: larger regions are split evenly, keeping their heat, within max_regions. */
static void test_max_region_bytes(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        nv_heatmap_config c = config(4, 1000);
        fake_vm v;
        nv_region *r;
        size_t n;
        bool small = true, heat = true;

        c.max_region_bytes = 3 * MIB;
        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 64 * MIB, NV_BACKING_ANON) });
        is_int(nv_heatmap_new(&v.info, &c, 5, &h), 0, "max_region_bytes: new");
        nv_heatmap_mark_all_hot(h);
        is_int(nv_heatmap_end_epoch(h, NULL, NULL, &v.info), 0, "max_region_bytes: end_epoch");
        r = nv_heatmap_regions(h, &n);
        for (size_t i = 0; i < n; i++) {
                small = small && nv_region_bytes(&r[i]) <= 3 * MIB;
                heat = heat && fabsf(r[i].heat - 0.5f) < 1e-6;
        }
        ok(small, "max_region_bytes: every region at most 3 MiB (%zu regions)", n);
        ok(heat, "max_region_bytes: the pieces keep the folded heat");
        ok_regions(h, &v.info, "max_region_bytes");

        c.max_regions = 8;
        c.max_region_bytes = MIB;
        nv_heatmap_set_config(h, &c);
        (void)nv_heatmap_end_epoch(h, NULL, NULL, &v.info);
        (void)nv_heatmap_regions(h, &n);
        ok(n <= 8, "max_region_bytes: max_regions wins (%zu regions)", n);
        ok_regions(h, &v.info, "max_region_bytes within max_regions");
}

/* Mid-epoch: the regions whose every sample this epoch saw an access, enough of them, and whose heat
 * is still below the threshold. */
static void test_turned_hot(void) {
        _cleanup_(nv_heatmap_freep) nv_heatmap *h = NULL;
        _cleanup_free_ uint32_t *index = NULL;
        nv_heatmap_config c = config(4, 4);
        fake_vm v;
        fake_access fa;
        nv_region *r;
        size_t n, k = 99;

        fake_vm_init(&v, 1, (nv_ram_range[]){ mkrange(BASE, 4 * MIB, NV_BACKING_ANON) });
        fake_access_init(&fa, &v.info);
        is_int(nv_heatmap_new(&v.info, &c, 3, &h), 0, "turned hot: new");
        /* Regions 0 and 1 (the first 2 MiB) are touched every round, the rest never. */
        for (int round = 0; round < 6; round++) {
                fake_touch(&fa, BASE, BASE + 2 * MIB);
                (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
        }
        is_int(nv_heatmap_turned_hot(h, 6, 0.4, &index, &k), 0, "turned hot: call");
        is_u64(k, 0, "turned hot: none with 5 samples when 6 are needed");
        ok(!index, "turned hot: no index array when none");
        is_int(nv_heatmap_turned_hot(h, 5, 0.4, &index, &k), 0, "turned hot: call with 5");
        ok(k == 2 && index && index[0] == 0 && index[1] == 1, "turned hot: the two touched regions (%zu)",
           k);
        free(index);
        index = NULL;

        /* Heat at or above `below`: hot already, not turned. */
        r = nv_heatmap_regions(h, &n);
        r[0].heat = 0.5f;
        is_int(nv_heatmap_turned_hot(h, 5, 0.4, &index, &k), 0, "turned hot: call after heat");
        ok(k == 1 && index[0] == 1, "turned hot: a region hot by its heat already is left out");
        free(index);
        index = NULL;

        /* One miss among the samples: not surely hot. */
        (void)nv_heatmap_sample(h, &fake_access_ops, &fa, &v.info);
        is_int(nv_heatmap_turned_hot(h, 5, 0.4, &index, &k), 0, "turned hot: call after a miss");
        is_u64(k, 0, "turned hot: a region with a miss this epoch is left out");
        fake_access_done(&fa);
}

/* The placement history the daemon reports through the sampler. */
static void test_region_history(void) {
        nv_region rg = { .start = 0, .end = 8 * MIB };

        nv_region_init_history(&rg);
        rg.node_bytes[0] = 6 * MIB;
        rg.node_bytes[2] = 2 * MIB;
        ok(!nv_region_note_moved(&rg, 1, 0, 3), "nothing moved: no ping-pong");
        ok(rg.moved_epoch == 0 && rg.moved_to == -1 && rg.node_bytes[1] == 0,
           "nothing moved: nothing noted");
        ok(!nv_region_note_moved(&rg, 1, 4 * MIB, 3), "the first move is no ping-pong");
        is_u64(rg.node_bytes[0], 3 * MIB, "node 0 gives its share (3 of 4 MiB)");
        is_u64(rg.node_bytes[2], 1 * MIB, "node 2 gives its share (1 of 4 MiB)");
        is_u64(rg.node_bytes[1], 4 * MIB, "node 1 gets the moved bytes");
        ok(rg.moved_epoch == 3 && rg.moved_to == 1, "the move and its epoch are noted");
        is_int(rg.left_node, 0, "the node the bytes mostly left: 0");
        ok(nv_region_note_moved(&rg, 0, 1 * MIB, 5), "back to the node they left: ping-pong");
        is_int(rg.left_node, 1, "then they left node 1");
        ok(!nv_region_note_moved(&rg, 9 + NV_MAX_NODES, 1 * MIB, 6) && rg.moved_epoch == 5,
           "a target outside the nodes changes nothing");
        nv_region_note_streak(&rg, 2, 4);
        ok(rg.streak_target == 2 && rg.target_streak == 4, "the policy's streak is kept");
}

int main(void) {
        log_set_max_level(LOG_WARNING);
        test_region_history();
        test_layout();
        test_bounds();
        test_hot_subrange();
        test_merge();
        test_decay_and_ewma();
        test_locate();
        test_harvest_calls();
        test_determinism();
        test_update_ranges();
        test_hot_bytes();
        test_large_vm();
        test_apply_regions();
        test_uniform();
        test_max_region_bytes();
        test_turned_hot();
        return tap_done();
}
