/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numa_maps summaries: the parser on fixed text, then this process's own numa_maps. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/numa-maps.h"
#include "tap.h"

static const char sample[] =
        "7f0000000000 default anon=1024 dirty=1024 active=0 N0=768 N1=256 kernelpagesize_kB=4\n"
        "7f0000400000 default anon=512 dirty=512 N1=512 kernelpagesize_kB=4\n"
        "7f1000000000 bind:1 file=/dev/hugepages/qemu huge dirty=4 N0=1 N1=3 kernelpagesize_kB=2048\n"
        "55d000000000 default file=/usr/bin/qemu-system-x86_64 mapped=300 N0=300 kernelpagesize_kB=4\n"
        "7ffc00000000 default stack anon=8 dirty=8 N17=8 N0=2 kernelpagesize_kB=4\n"
        "7ffd00000000 default\n";

static void test_parse(void) {
        nv_numa_maps nm;
        nv_ram_range ranges[] = {
                { .hva = 0x7f0000000000, .size = 8 * MIB, .backing = NV_BACKING_ANON },
                { .hva = 0x7f1000000000, .size = 8 * MIB, .backing = NV_BACKING_HUGETLB },
        };

        is_int(nv_numa_maps_parse(sample, NULL, 0, &nm), 0, "parse: every mapping");
        is_int(nm.nr_mappings, 6, "parse: six mappings, one without pages");
        is_u64(nm.node_bytes[0], (768 + 300 + 2) * 4 * KIB + 2 * MIB,
               "parse: node 0, 4 KiB and 2 MiB pages");
        is_u64(nm.node_bytes[1], (256 + 512) * 4 * KIB + 6 * MIB, "parse: node 1");
        is_u64(nm.total_bytes, nm.node_bytes[0] + nm.node_bytes[1],
               "parse: node 17 (beyond the limit) left out");

        is_int(nv_numa_maps_parse(sample, ranges, 2, &nm), 0, "parse: guest RAM only");
        is_int(nm.nr_mappings, 3, "parse: the three mappings inside the ranges");
        is_u64(nm.node_bytes[0], 768 * 4 * KIB + 2 * MIB, "parse: guest RAM on node 0");
        is_u64(nm.node_bytes[1], 768 * 4 * KIB + 6 * MIB, "parse: guest RAM on node 1");

        is_int(nv_numa_maps_parse("", NULL, 0, &nm), 0, "parse: empty text");
        is_u64(nm.total_bytes, 0, "parse: empty text holds nothing");
        nm.total_bytes = 42;
        is_int(nv_numa_maps_parse("not numa_maps\n", NULL, 0, &nm), -EINVAL, "parse: garbage is refused");
        is_u64(nm.total_bytes, 42, "parse: the result is untouched on failure");
}

static void test_self(void) {
        const size_t size = 8 * MIB;
        nv_numa_maps nm;
        nv_ram_range range;
        uint8_t *p;
        int r;

        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (!ok(p != MAP_FAILED, "self: an 8 MiB mapping"))
                return;
        (void)madvise(p, size, MADV_NOHUGEPAGE);
        for (size_t off = 0; off < size / 2; off += 4096)
                p[off] = 1;
        range = (nv_ram_range){ .hva = (uintptr_t)p, .size = size, .backing = NV_BACKING_ANON };
        r = nv_numa_maps_read(NULL, getpid(), &range, 1, &nm);
        if (r == -EOPNOTSUPP) {
                printf("ok %u - self: # SKIP kernel without NUMA (no numa_maps)\n", ++tap_count);
        } else {
                is_int(r, 0, "self: /proc/self/numa_maps read");
                is_u64(nm.total_bytes, size / 2, "self: exactly the half that was written is resident");
        }
        munmap(p, size);
}

static void test_errors(void) {
        char dir[] = "/tmp/test-numa-maps.XXXXXX", sub[64];
        nv_numa_maps nm;

        if (!ok(mkdtemp(dir), "errors: a fixture root"))
                return;
        snprintf(sub, sizeof(sub), "%s/4242", dir);
        is_int(nv_numa_maps_read(dir, 4242, NULL, 0, &nm), -ESRCH, "errors: no such process: -ESRCH");
        mkdir(sub, 0755);
        is_int(nv_numa_maps_read(dir, 4242, NULL, 0, &nm), -EOPNOTSUPP,
               "errors: a process without numa_maps: -EOPNOTSUPP");
        rmdir(sub);
        rmdir(dir);
}

int main(void) {
        log_set_max_level(LOG_DEBUG);
        test_parse();
        test_self();
        test_errors();
        return tap_done();
}
