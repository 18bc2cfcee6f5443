/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lab test of /dev/numavd_ept's argument checking and lifetime rules (TAP on stdout):
 *
 *   nv-ept-fuzz NV_VMM [ITERATIONS] [KILLS]
 *
 * Invalid attaches, calls before attach, ITERATIONS random and malformed ioctls on an attached
 * VM (bad pointers, kernel addresses, oversized and overflowing ranges, random commands; HARVEST,
 * ZAP and DRAIN), and KILLS runs of a real VMM (NV_VMM, the lab's tiny VMM) killed with SIGKILL
 * while a harvest or a zap loop works on its memory, a second thread drains the faults and a
 * third attaches, zaps and closes files of the same VM over and over. The kernel side (no oops, no warning, references dropped, clean rmmod) is
 * checked by tests/lab/t-kmod-fuzz.sh around this program. */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../include/uapi/numavd_ept.h"
#include "sampler/kmod-attach.h"
#include "../tap.h"

static uint64_t rnd(void) {
        return ((uint64_t)rand() << 33) ^ ((uint64_t)rand() << 11) ^ (uint64_t)rand();
}

static int xioctl(int fd, unsigned long cmd, void *arg) {
        return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int open_dev(void) {
        int fd = open(NUMAVD_EPT_DEVICE, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                perror(NUMAVD_EPT_DEVICE);
                exit(EXIT_FAILURE);
        }
        return fd;
}

static void test_unattached(int kvm) {
        int dev = open_dev(), nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        struct numavd_ept_version v = {};
        struct numavd_ept_info info;
        struct numavd_ept_harvest h = {};
        struct numavd_ept_attach a = {};

        is_int(xioctl(dev, NUMAVD_EPT_IOC_VERSION, &v), 0, "VERSION answers");
        ok(v.major == NUMAVD_EPT_ABI_MAJOR && v.minor >= 2 && v.max_ranges == NUMAVD_EPT_MAX_RANGES,
           "VERSION is ABI %u.%u (1.2 or later)", v.major, v.minor);
        is_int(xioctl(dev, NUMAVD_EPT_IOC_INFO, &info), -ENOTCONN, "INFO before ATTACH: -ENOTCONN");
        is_int(xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h), -ENOTCONN, "HARVEST before ATTACH: -ENOTCONN");
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &(struct numavd_ept_zap){}), -ENOTCONN,
               "ZAP before ATTACH: -ENOTCONN");
        is_int(xioctl(dev, NUMAVD_EPT_IOC_DRAIN, &(struct numavd_ept_drain){}), -ENOTCONN,
               "DRAIN before ATTACH: -ENOTCONN");
        a.vm_fd = -1;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a), -EBADF, "ATTACH fd -1: -EBADF");
        a.vm_fd = 9999;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a), -EBADF, "ATTACH a closed fd: -EBADF");
        a.vm_fd = nullfd;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a), -EINVAL, "ATTACH /dev/null: -EINVAL");
        a.vm_fd = kvm;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a), -EINVAL, "ATTACH /dev/kvm itself: -EINVAL");
        a.vm_fd = dev;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a), -EINVAL, "ATTACH the device to itself: -EINVAL");
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ATTACH, NULL), -EFAULT, "ATTACH with a NULL argument: -EFAULT");
        is_int(xioctl(dev, _IO(NUMAVD_EPT_IOC_MAGIC, 0x7f), NULL), -ENOTTY, "an unknown command: -ENOTTY");
        close(nullfd);
        close(dev);
}

/* nr random, mostly plausible ranges (some malformed) into rs; their total blocks. */
static uint64_t random_ranges(struct numavd_ept_range *rs, uint32_t nr, uint8_t *ram, uint64_t ram_size,
                              uint32_t max_blocks) {
        uint64_t total = 0;

        for (uint32_t i = 0; i < MIN(nr, (uint32_t)NUMAVD_EPT_MAX_RANGES + 8); i++) {
                struct numavd_ept_range *r = &rs[i];
                memset(r, 0, sizeof(*r));
                r->shift = rand() % 8 ? (rand() % 2 ? 12 : 21) : (uint8_t)rnd();
                switch (rand() % 6) {
                case 0:
                        r->start = rnd();
                        break;
                case 1:
                        r->start = 0xffff888000000000ULL;
                        break; /* the kernel's direct map */
                case 2:
                        r->start = 0x00007ffffffff000ULL;
                        break; /* the top of user space */
                default:
                        r->start = (uintptr_t)ram + (rnd() % (ram_size >> 21) << 21);
                        break;
                }
                switch (rand() % 6) {
                case 0:
                        r->blocks = 0;
                        break;
                case 1:
                        r->blocks = (uint32_t)rnd();
                        break;
                case 2:
                        r->blocks = max_blocks;
                        break;
                default:
                        r->blocks = (uint32_t)(rand() % 64 + 1);
                        break;
                }
                if (rand() % 16 == 0)
                        r->__pad[rand() % 3] = 1;
                total += r->blocks;
        }
        return total;
}

static uint32_t random_nr_ranges(void) {
        return rand() % 4 ? (uint32_t)(rand() % 8 + 1) : (uint32_t)(rnd() % (NUMAVD_EPT_MAX_RANGES + 8));
}

/* A random, mostly malformed HARVEST on an attached file. Returns 0 or -errno. */
static int random_harvest(int dev, uint8_t *ram, uint64_t ram_size, struct numavd_ept_range *rs,
                          uint8_t *bitmap, uint8_t *guard, uint32_t *ret_total, uint32_t *ret_blocks) {
        struct numavd_ept_harvest h = {};
        uint32_t nr = random_nr_ranges();
        uint64_t total = random_ranges(rs, nr, ram, ram_size, NUMAVD_EPT_MAX_BLOCKS);

        h.nr_ranges = nr;
        h.flags = rand() % 8 ? (uint32_t)(rand() % 2) : (uint32_t)rnd();
        h.ranges = rand() % 16 ? (uintptr_t)rs : (rand() % 2 ? 0xffffffff81000000ULL : (uintptr_t)guard);
        h.bitmap = rand() % 16 ? (uintptr_t)bitmap : (rand() % 2 ? 0 : (uintptr_t)guard - 1);
        h.bitmap_bytes = rand() % 8 ? (uint32_t)DIV_ROUND_UP(total, 8) : (uint32_t)rnd();
        if (rand() % 32 == 0)
                h.__pad = 1;
        int r = xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h);
        *ret_total = (uint32_t)total;
        *ret_blocks = h.nr_blocks;
        return r;
}

/* A random, mostly malformed ZAP or DRAIN. Returns 0 or -errno; a ZAP that succeeded without
 * zapping every block it was given counts in *wrong. */
static int random_zap_drain(int dev, uint8_t *ram, uint64_t ram_size, struct numavd_ept_range *rs,
                            struct numavd_ept_fault *faults, uint8_t *guard, unsigned *wrong) {
        int r;

        if (rand() % 3 == 0) {
                struct numavd_ept_drain d = {
                        .capacity = rand() % 8 ? (uint32_t)(rand() % 256) : (uint32_t)rnd(),
                        .faults = rand() % 8 ? (uintptr_t)faults
                                             : (rand() % 2 ? 0xffffffff81000000ULL : (uintptr_t)guard),
                        .__pad = rand() % 32 == 0,
                };
                r = xioctl(dev, NUMAVD_EPT_IOC_DRAIN, &d);
                if (r == 0 && d.nr > d.capacity)
                        (*wrong)++;
                return r;
        }
        uint32_t nr = random_nr_ranges();
        uint64_t total = random_ranges(rs, nr, ram, ram_size, NUMAVD_EPT_MAX_ZAP_BLOCKS);
        struct numavd_ept_zap z = {
                .flags = rand() % 8 ? 0 : (rand() % 2 ? NUMAVD_EPT_ZAP_STOP : (uint32_t)rnd()),
                .nr_ranges = nr,
                .ranges = rand() % 16 ? (uintptr_t)rs
                                      : (rand() % 2 ? 0xffffffff81000000ULL : (uintptr_t)guard),
                .ring_size = rand() % 4 ? 0 : (rand() % 2 ? 4096 : (uint32_t)rnd()),
                .__pad = rand() % 32 == 0,
        };
        r = xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z);
        if (r == 0 && z.flags == 0 && z.nr_blocks != total)
                (*wrong)++;
        return r;
}

static int zap(int dev, uint64_t start, uint32_t blocks, unsigned shift, uint32_t ring,
               struct numavd_ept_zap *ret) {
        struct numavd_ept_range rg = { .start = start, .blocks = blocks, .shift = (uint8_t)shift };

        *ret = (struct numavd_ept_zap){ .nr_ranges = 1, .ranges = (uintptr_t)&rg, .ring_size = ring };
        return xioctl(dev, NUMAVD_EPT_IOC_ZAP, ret);
}

/* ZAP and DRAIN on a VM without vCPUs: what is accepted, what is refused, and the bookkeeping. */
static void test_zap_drain_args(int dev, uint8_t *ram, uint64_t ram_size) {
        uint32_t blocks = (uint32_t)(ram_size >> 12);
        struct numavd_ept_fault faults[16];
        struct numavd_ept_drain d = { .capacity = 16, .faults = (uintptr_t)faults };
        struct numavd_ept_range rg = { .start = (uintptr_t)ram, .blocks = 1, .shift = 12 };
        struct numavd_ept_zap z;
        int r;

        r = zap(dev, (uintptr_t)ram, NUMAVD_EPT_MAX_ZAP_BLOCKS, 12, 0, &z);
        ok(r == 0 && z.nr_blocks == NUMAVD_EPT_MAX_ZAP_BLOCKS && z.nr_watched == z.nr_blocks &&
                   z.nr_pending == z.nr_blocks && z.forgotten == 0 && z.ring_size == NUMAVD_EPT_DEFAULT_RING,
           "ZAP of the most blocks a call takes: all zapped and watched, the default ring (%d: %u %u %u %u)",
           r, z.nr_blocks, z.nr_watched, z.nr_pending, z.ring_size);
        r = zap(dev, (uintptr_t)ram, 1024, 12, NUMAVD_EPT_DEFAULT_RING, &z);
        ok(r == 0 && z.nr_pending == NUMAVD_EPT_MAX_ZAP_BLOCKS,
           "zapping waiting blocks again watches each once (%u waiting)", z.nr_pending);
        r = zap(dev, (uintptr_t)ram + NUMAVD_EPT_MAX_ZAP_BLOCKS * 4096ULL,
                blocks - NUMAVD_EPT_MAX_ZAP_BLOCKS, 12, 0, &z);
        ok(r == 0 && z.forgotten == NUMAVD_EPT_MAX_ZAP_BLOCKS &&
                   z.nr_pending == blocks - NUMAVD_EPT_MAX_ZAP_BLOCKS,
           "a ZAP beyond NUMAVD_EPT_MAX_PENDING forgets the waiting blocks first (%u forgotten, %u waiting)",
           z.forgotten, z.nr_pending);
        r = zap(dev, (uintptr_t)ram, (uint32_t)(ram_size >> 21), 21, 0, &z);
        ok(r == 0 && z.nr_blocks == ram_size >> 21 && z.nr_watched == z.nr_blocks,
           "ZAP of the whole slot in 2 MiB blocks (%d, %u watched)", r, z.nr_watched);
        r = zap(dev, (uintptr_t)ram + ram_size + 64 * MIB, 16, 21, 0, &z);
        ok(r == 0 && z.nr_blocks == 16 && z.nr_watched == 0,
           "blocks outside every slot are zapped, not watched");

        is_int(zap(dev, (uintptr_t)ram, 1, 12, 128, &z), -EINVAL, "ZAP with another ring size: -EINVAL");
        is_int(zap(dev, (uintptr_t)ram, NUMAVD_EPT_MAX_ZAP_BLOCKS + 1, 12, 0, &z), -EINVAL,
               "ZAP of too many blocks: -EINVAL");
        is_int(zap(dev, (uintptr_t)ram + 4096, 1, 21, 0, &z), -EINVAL,
               "ZAP of a misaligned 2 MiB block: -EINVAL");
        is_int(zap(dev, (uintptr_t)ram, 0, 12, 0, &z), -EINVAL, "ZAP of an empty range: -EINVAL");
        is_int(zap(dev, 0xffff888000000000ULL, 1, 12, 0, &z), -EINVAL, "ZAP of a kernel address: -EINVAL");
        z = (struct numavd_ept_zap){ .nr_ranges = 1, .ranges = (uintptr_t)&rg, .__pad = 1 };
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z), -EINVAL, "ZAP with non-zero padding: -EINVAL");
        z = (struct numavd_ept_zap){ .nr_ranges = 1, .ranges = (uintptr_t)&rg, .flags = 1U << 5 };
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z), -EINVAL, "ZAP with an unknown flag: -EINVAL");
        z = (struct numavd_ept_zap){ .nr_ranges = 1,
                                     .ranges = (uintptr_t)&rg,
                                     .flags = NUMAVD_EPT_ZAP_REARM };
        r = xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z);
        ok(r == 0 && z.nr_blocks == 1 && z.nr_watched == 1,
           "ZAP with NUMAVD_EPT_ZAP_REARM zaps and watches (%d)", r);
        z = (struct numavd_ept_zap){ .nr_ranges = 1,
                                     .ranges = (uintptr_t)&rg,
                                     .flags = NUMAVD_EPT_ZAP_REARM | NUMAVD_EPT_ZAP_STOP };
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z), -EINVAL, "REARM with STOP: -EINVAL");
        z = (struct numavd_ept_zap){ .nr_ranges = 0, .ranges = (uintptr_t)&rg };
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z), -EINVAL, "ZAP of no range: -EINVAL");
        z = (struct numavd_ept_zap){ .nr_ranges = 1, .ranges = 0xffffffff81000000ULL };
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z), -EFAULT, "ZAP with ranges in the kernel: -EFAULT");
        rg.__pad[1] = 1;
        z = (struct numavd_ept_zap){ .nr_ranges = 1, .ranges = (uintptr_t)&rg };
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z), -EINVAL,
               "ZAP of a range with non-zero padding: -EINVAL");
        z = (struct numavd_ept_zap){ .flags = NUMAVD_EPT_ZAP_STOP,
                                     .nr_ranges = 1,
                                     .ranges = (uintptr_t)&rg };
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z), -EINVAL, "STOP with ranges: -EINVAL");

        d.capacity = NUMAVD_EPT_MAX_RING + 1;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_DRAIN, &d), -EINVAL,
               "DRAIN of more than the largest ring: -EINVAL");
        d.capacity = 16;
        d.__pad = 1;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_DRAIN, &d), -EINVAL, "DRAIN with non-zero padding: -EINVAL");
        d.__pad = 0;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_DRAIN, NULL), -EFAULT, "DRAIN with a NULL argument: -EFAULT");
        r = xioctl(dev, NUMAVD_EPT_IOC_DRAIN, &d);
        ok(r == 0 && d.nr == 0 && d.dropped == 0 && d.left == 0,
           "DRAIN of a VM without vCPUs: no fault (%d, %u)", r, d.nr);

        z = (struct numavd_ept_zap){ .flags = NUMAVD_EPT_ZAP_STOP };
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z), 0, "STOP ends recording");
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z), 0, "and a second STOP does nothing");
        d.nr = 7;
        ok(xioctl(dev, NUMAVD_EPT_IOC_DRAIN, &d) == 0 && d.nr == 0, "DRAIN after STOP: nothing");
        r = zap(dev, (uintptr_t)ram, 4, 12, NUMAVD_EPT_MIN_RING, &z);
        ok(r == 0 && z.ring_size == NUMAVD_EPT_MIN_RING && z.nr_pending == 4,
           "after STOP a ZAP starts anew, with a ring of its own size (%d, ring %u)", r, z.ring_size);
}

static void test_fuzz(int kvm, unsigned iterations) {
        int vm = ioctl(kvm, KVM_CREATE_VM, 0), dev = open_dev(), dev2 = open_dev();
        uint64_t ram_size = 192 * MIB; /* more 4 KiB blocks than ZAP may keep waiting */
        uint8_t *ram =
                mmap(NULL, ram_size + 2 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        uint8_t *guard = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        struct numavd_ept_range *rs = calloc(NUMAVD_EPT_MAX_RANGES + 8, sizeof(*rs));
        uint8_t *bitmap = calloc(NUMAVD_EPT_MAX_BLOCKS / 8, 1);
        unsigned unexpected = 0, succeeded = 0, wrong_count = 0;
        struct numavd_ept_attach a = { .vm_fd = vm };
        struct numavd_ept_slot slots[4];
        struct numavd_ept_slots sl = { .capacity = 4, .slots = (uintptr_t)slots };
        struct numavd_ept_info info;
        int r;

        if (vm < 0 || ram == MAP_FAILED || guard == MAP_FAILED || !rs || !bitmap)
                exit(EXIT_FAILURE);
        ram = (uint8_t *)ALIGN_UP((uintptr_t)ram, 2 * MIB); /* 2 MiB blocks must be aligned */
        munmap(guard + 4096, 4096);                         /* guard + 4096 faults */
        guard += 4096;
        struct kvm_userspace_memory_region reg = { .slot = 0,
                                                   .memory_size = ram_size,
                                                   .userspace_addr = (uintptr_t)ram };
        ok(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &reg) == 0, "a VM with a 64 MiB slot");

        is_int(xioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a), 0, "ATTACH a KVM VM fd");
        is_int(xioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a), -EBUSY, "a second ATTACH on the same file: -EBUSY");
        is_int(xioctl(dev2, NUMAVD_EPT_IOC_ATTACH, &a), 0, "another file may attach the same VM");
        close(dev2);
        is_int(xioctl(dev, NUMAVD_EPT_IOC_INFO, &info), 0, "INFO answers");
        printf("# INFO flags=0x%x slots=%u vcpus=%u\n", info.flags, info.nr_slots, info.nr_vcpus);
        ok(info.flags & NUMAVD_EPT_INFO_HYPERVISOR, "INFO says the lab guest runs under a hypervisor");
        ok(info.flags & NUMAVD_EPT_INFO_VM_ALIVE, "INFO says the VMM's address space is alive");
        ok((info.flags & (NUMAVD_EPT_INFO_FAULTS | NUMAVD_EPT_INFO_PROTECTED)) == NUMAVD_EPT_INFO_FAULTS,
           "INFO offers ZAP and DRAIN on this VM (its memory is not encrypted)");
        ok(info.flags & NUMAVD_EPT_INFO_REARM, "INFO offers re-armed zaps (ABI 1.2)");
        ok((info.flags & (NUMAVD_EPT_INFO_TDP | NUMAVD_EPT_INFO_TDP_KNOWN | NUMAVD_EPT_INFO_AMD)) ==
                   (NUMAVD_EPT_INFO_TDP | NUMAVD_EPT_INFO_TDP_KNOWN | NUMAVD_EPT_INFO_AMD),
           "INFO says the VM uses NPT (the lab's nested SVM)");
        is_int(xioctl(dev, NUMAVD_EPT_IOC_SLOTS, &sl), 0, "SLOTS answers");
        ok(sl.nr >= 1 && slots[0].hva == (uintptr_t)ram && slots[0].pages == ram_size / 4096 &&
                   slots[0].gpa == 0,
           "SLOTS lists the slot (%u slots, hva matches, %" PRIu64 " pages)", sl.nr,
           (uint64_t)slots[0].pages);
        sl.capacity = 0;
        ok(xioctl(dev, NUMAVD_EPT_IOC_SLOTS, &sl) == 0 && sl.nr >= 1, "SLOTS with no room only counts");
        sl.capacity = 4;
        sl.slots = 0xffffffff81000000ULL;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_SLOTS, &sl), -EFAULT, "SLOTS into a kernel address: -EFAULT");

        /* A good harvest of the whole slot, 4 KiB and 2 MiB. */
        struct numavd_ept_range good = { .start = (uintptr_t)ram,
                                         .blocks = (uint32_t)(ram_size >> 12),
                                         .shift = 12 };
        struct numavd_ept_harvest h = { .nr_ranges = 1,
                                        .ranges = (uintptr_t)&good,
                                        .bitmap = (uintptr_t)bitmap,
                                        .bitmap_bytes = (uint32_t)(ram_size >> 15) };
        ok(xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h) == 0 && h.nr_blocks == good.blocks && h.flags == 0,
           "HARVEST of the whole slot at 4 KiB, no flush");
        good.shift = 21;
        good.blocks = (uint32_t)(ram_size >> 21);
        h.flags = NUMAVD_EPT_HARVEST_FLUSH;
        h.bitmap_bytes = (uint32_t)DIV_ROUND_UP(good.blocks, 8);
        r = xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h);
        ok(r == 0 && h.nr_blocks == good.blocks && h.flags == NUMAVD_EPT_HARVEST_FLUSH,
           "HARVEST at 2 MiB with flush, and the reply says it flushed (%d, %u blocks, flags %u)", r,
           h.nr_blocks, h.flags);
        h.bitmap_bytes = 0;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h), -EINVAL, "a bitmap too small: -EINVAL");
        h.bitmap_bytes = 4096;
        h.flags = NUMAVD_EPT_HARVEST_FLUSH | NUMAVD_EPT_HARVEST_TEST;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h), -EINVAL, "FLUSH and TEST together: -EINVAL");
        h.flags = 0;
        good.start += 4096;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h), -EINVAL, "a misaligned 2 MiB range: -EINVAL");
        good.start = UINT64_MAX - (1 << 21) + 1;
        good.blocks = 2;
        is_int(xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h), -EINVAL, "a range that wraps around: -EINVAL");

        test_zap_drain_args(dev, ram, ram_size);

        srand(7);
        for (unsigned i = 0; i < iterations; i++) {
                uint32_t total = 0, blocks = 0;

                if (i % 4 == 0) { /* any command, any argument */
                        unsigned long cmd =
                                rand() % 2 ? (unsigned long)rnd() & 0xffffffff
                                           : _IOC(rand() % 4, NUMAVD_EPT_IOC_MAGIC, rand() % 8, rand() % 64);
                        void *arg = rand() % 3 == 0 ? NULL
                                    : rand() % 2    ? (void *)0xffffffff81000000ULL
                                                    : (void *)bitmap;
                        if (cmd == NUMAVD_EPT_IOC_ATTACH && arg == bitmap)
                                continue; /* bitmap's first int could name a real fd */
                        r = xioctl(dev, cmd, arg);
                } else if (i % 4 == 1) {
                        r = random_zap_drain(dev, ram, ram_size, rs, (struct numavd_ept_fault *)bitmap,
                                             guard, &wrong_count);
                } else {
                        r = random_harvest(dev, ram, ram_size, rs, bitmap, guard, &total, &blocks);
                        if (r == 0 && blocks != total)
                                wrong_count++;
                }
                if (r == 0)
                        succeeded++;
                else if (r != -EINVAL && r != -EFAULT && r != -ENOTTY && r != -EBUSY)
                        unexpected++, printf("# iteration %u: unexpected %s\n", i, strerror(-r));
        }
        ok(unexpected == 0,
           "%u random calls: only -EINVAL, -EFAULT, -ENOTTY, -EBUSY or success (%u succeeded)", iterations,
           succeeded);
        ok(wrong_count == 0,
           "every successful random HARVEST and ZAP processed all its blocks, no DRAIN overflowed");

        close(dev);
        close(vm);
}

/* Whether pid (SIGKILLed) is reaped within secs seconds. */
static bool reaped_within(pid_t pid, unsigned secs) {
        for (unsigned i = 0; i < secs * 10; i++) {
                if (waitpid(pid, NULL, WNOHANG) == pid)
                        return true;
                nanosleep(&(struct timespec){ .tv_nsec = 100000000L }, NULL);
        }
        return false;
}

/* Where the threads of a process that does not die are stuck: their kernel stacks, as TAP
 * comments. */
static void dump_stacks(pid_t pid) {
        char cmd[256];

        snprintf(cmd, sizeof(cmd),
                 "for t in /proc/%d/task/*; do echo \"# $t $(cat $t/comm) state $(sed -n 's/^State:\t//p' "
                 "$t/status)\"; sed 's/^/#   /' $t/stack; done",
                 (int)pid);
        fflush(stdout);
        if (system(cmd) != 0)
                printf("# cannot read the stacks of %d\n", (int)pid);
}

/* What the threads beside a zap loop do to the same VM until stop is set. */
typedef struct zap_side {
        int dev;        /* the zap loop's file: drained */
        int vm_fd;      /* to attach files of our own */
        uintptr_t data; /* the guest's data pages, 64 MiB */
        volatile bool stop;
        unsigned drained, wrong, bad, churns;
} zap_side;

/* DRAIN the zap loop's file while it zaps; every record must be a 4 KiB block of the guest's data
 * (the tiny VMM's one vCPU, index 0). */
static void *drain_loop(void *arg) {
        zap_side *z = arg;
        static struct numavd_ept_fault faults[1024];

        while (!z->stop) {
                struct numavd_ept_drain d = { .capacity = 1024, .faults = (uintptr_t)faults };
                int r = xioctl(z->dev, NUMAVD_EPT_IOC_DRAIN, &d);

                if (r < 0) {
                        z->bad++;
                        break;
                }
                for (uint32_t i = 0; i < d.nr; i++)
                        if (faults[i].vcpu != 0 || faults[i].shift != 12 || faults[i].gpa < 4 * MIB ||
                            faults[i].gpa >= 68 * MIB || faults[i].gpa % 4096)
                                z->wrong++;
                z->drained += d.nr;
        }
        return NULL;
}

/* Attach, zap, drain and close files of the same VM over and over: the probe comes and goes. */
static void *churn_loop(void *arg) {
        zap_side *z = arg;

        while (!z->stop) {
                int dev = open_dev(), r;
                struct numavd_ept_attach a = { .vm_fd = z->vm_fd };
                struct numavd_ept_zap zr;
                struct numavd_ept_drain d = {};

                r = xioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a);
                if (r == 0) {
                        /* re-armed: the file closes with the second zaps of its blocks due */
                        struct numavd_ept_range rg = { .start = z->data, .blocks = 32, .shift = 21 };

                        zr = (struct numavd_ept_zap){ .flags = NUMAVD_EPT_ZAP_REARM,
                                                      .nr_ranges = 1,
                                                      .ranges = (uintptr_t)&rg,
                                                      .ring_size = NUMAVD_EPT_MIN_RING };
                        r = xioctl(dev, NUMAVD_EPT_IOC_ZAP, &zr);
                        if (r == -ESRCH)
                                r = 0; /* the VMM is gone */
                }
                if (r == 0)
                        r = xioctl(dev, NUMAVD_EPT_IOC_DRAIN, &d);
                z->bad += r < 0;
                z->churns++;
                close(dev);
        }
        return NULL;
}

/* Start NV_VMM, attach to its VM through pidfd_getfd, harvest (even runs) or zap (odd runs, with a
 * drain thread and a churn thread beside) in a loop and SIGKILL the VMM. */
static void test_kill(const char *vmm, unsigned kills) {
        unsigned esrch = 0, harvests = 0, zaps = 0, bad = 0, stuck = 0, drained = 0, wrong = 0, side_bad = 0,
                 churns = 0;

        for (unsigned k = 0; k < kills; k++) {
                int pipefd[2], dev = open_dev();
                char line[512] = "";
                uintptr_t data = 0;
                pid_t pid;

                if (pipe2(pipefd, O_CLOEXEC) < 0)
                        exit(EXIT_FAILURE);
                pid = fork();
                if (pid == 0) {
                        dup2(pipefd[1], STDOUT_FILENO);
                        execl(vmm, vmm, "-m", "64", "-H", "16", "-o", "8", "-n", "-1", (char *)NULL);
                        _exit(127);
                }
                close(pipefd[1]);
                FILE *f = fdopen(pipefd[0], "r");
                if (!f || !fgets(line, sizeof(line), f) ||
                    sscanf(strstr(line, "data=") ?: "", "data=%" SCNxPTR, &data) != 1) {
                        bad++;
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        continue;
                }
                int num = nv_kmod_find_vm_fd(NULL, pid), pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
                int vmfd = num >= 0 && pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, num, 0) : -1;
                struct numavd_ept_attach a = { .vm_fd = vmfd };
                if (xioctl(dev, NUMAVD_EPT_IOC_ATTACH, &a) < 0)
                        bad++;
                close(pidfd);

                static uint8_t bitmap[16 * MIB / 4096 / 8 * 4];
                struct numavd_ept_range rg = { .start = data,
                                               .blocks = (uint32_t)(64 * MIB / 4096),
                                               .shift = 12 };
                struct numavd_ept_harvest h = { .flags = k % 2,
                                                .nr_ranges = 1,
                                                .ranges = (uintptr_t)&rg,
                                                .bitmap = (uintptr_t)bitmap,
                                                .bitmap_bytes = sizeof(bitmap) };
                /* zap runs: the hot set the guest keeps writing, 16 MiB at 8 MiB */
                struct numavd_ept_range hot = { .start = data + 8 * MIB,
                                                .blocks = (uint32_t)(16 * MIB / 4096),
                                                .shift = 12 };
                /* every other zap run re-armed: its VMM dies with second zaps due */
                struct numavd_ept_zap z = { .flags = k / 2 % 2 ? NUMAVD_EPT_ZAP_REARM : 0,
                                            .nr_ranges = 1,
                                            .ranges = (uintptr_t)&hot };
                zap_side side = { .dev = dev, .vm_fd = vmfd, .data = data };
                pthread_t drainer, churner;
                bool zapping = k % 2 == 1;
                int r = 0;
                time_t until = time(NULL) + 20;

                if (zapping && (pthread_create(&drainer, NULL, drain_loop, &side) != 0 ||
                                pthread_create(&churner, NULL, churn_loop, &side) != 0))
                        exit(EXIT_FAILURE);
                /* A zap run kills the VMM only once faults came in: it dies among zaps then. */
                while (zapping && r == 0 && side.drained == 0 && time(NULL) < until) {
                        r = xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z);
                        zaps += r == 0;
                        nanosleep(&(struct timespec){ .tv_nsec = 50000000L }, NULL);
                }
                long delay_ms = 20 + rand() % 300;
                pid_t killer = fork();
                if (killer == 0) {
                        struct timespec ts = { .tv_nsec = delay_ms * 1000000L };
                        nanosleep(&ts, NULL);
                        kill(pid, SIGKILL);
                        _exit(0);
                }
                while (r == 0 && time(NULL) < until) {
                        if (zapping) {
                                r = xioctl(dev, NUMAVD_EPT_IOC_ZAP, &z);
                                zaps += r == 0;
                        } else {
                                r = xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h);
                                harvests += r == 0;
                        }
                }
                if (zapping) {
                        side.stop = true;
                        pthread_join(drainer, NULL);
                        pthread_join(churner, NULL);
                        drained += side.drained;
                        wrong += side.wrong;
                        side_bad += side.bad;
                        churns += side.churns;
                }
                close(vmfd); /* the module's references alone keep the VM */
                if (r == -ESRCH)
                        esrch++;
                else
                        printf("# run %u: %s loop ended with %d\n", k, zapping ? "zap" : "harvest", r);
                waitpid(killer, NULL, 0);
                if (!reaped_within(pid, 60)) {
                        stuck++;
                        dump_stacks(pid);
                }
                fclose(f);
                close(dev); /* drops the last reference: the VM is destroyed here */
        }
        ok(bad == 0, "%u VMMs started and attached through pidfd_getfd", kills);
        ok(stuck == 0, "every killed VMM was reaped within 60 s (%u not)", stuck);
        ok(esrch == kills,
           "every harvest and zap loop ended with -ESRCH once its VMM was killed (%u/%u, %u harvests, %u "
           "zaps)",
           esrch, kills, harvests, zaps);
        if (kills >= 2) {
                ok(drained > 0 && wrong == 0,
                   "the faults drained while zapping are the guest's data pages on vCPU 0 (%u drained, %u "
                   "not)",
                   drained, wrong);
                ok(side_bad == 0 && churns > 0,
                   "files attached, zapped, drained and closed beside the zap loop: no error (%u files, %u "
                   "errors)",
                   churns, side_bad);
        }
}

int main(int argc, char *argv[]) {
        int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

        if (argc < 2)
                return fprintf(stderr, "Usage: %s NV_VMM [ITERATIONS] [KILLS]\n", argv[0]), 2;
        if (kvm < 0)
                return tap_skip_all("no /dev/kvm");
        test_unattached(kvm);
        test_fuzz(kvm, argc > 2 ? (unsigned)atoi(argv[2]) : 5000);
        test_kill(argv[1], argc > 3 ? (unsigned)atoi(argv[3]) : 10);
        close(kvm);
        return tap_done();
}
