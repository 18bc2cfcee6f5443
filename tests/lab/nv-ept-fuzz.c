/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lab test of /dev/numavd_ept's argument checking and lifetime rules (TAP on stdout):
 *
 *   nv-ept-fuzz NV_VMM [ITERATIONS] [KILLS]
 *
 * Invalid attaches, calls before attach, ITERATIONS random and malformed ioctls on an attached
 * VM (bad pointers, kernel addresses, oversized and overflowing ranges, random commands), and
 * KILLS runs of a real VMM (NV_VMM, the lab's tiny VMM) killed with SIGKILL while a harvest loop
 * works on its memory. The kernel side (no oops, no warning, references dropped, clean rmmod) is
 * checked by tests/lab/t-kmod-fuzz.sh around this program. */
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
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
#include "sampler/backend-kmod.h"
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
        ok(v.major == NUMAVD_EPT_ABI_MAJOR && v.max_ranges == NUMAVD_EPT_MAX_RANGES, "VERSION is ABI %u.%u",
           v.major, v.minor);
        is_int(xioctl(dev, NUMAVD_EPT_IOC_INFO, &info), -ENOTCONN, "INFO before ATTACH: -ENOTCONN");
        is_int(xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h), -ENOTCONN, "HARVEST before ATTACH: -ENOTCONN");
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

/* A random, mostly malformed HARVEST on an attached file. Returns 0 or -errno. */
static int random_harvest(int dev, uint8_t *ram, uint64_t ram_size, struct numavd_ept_range *rs,
                          uint8_t *bitmap, uint8_t *guard, uint32_t *ret_total, uint32_t *ret_blocks) {
        struct numavd_ept_harvest h = {};
        uint32_t nr =
                rand() % 4 ? (uint32_t)(rand() % 8 + 1) : (uint32_t)(rnd() % (NUMAVD_EPT_MAX_RANGES + 8));
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
                        r->blocks = NUMAVD_EPT_MAX_BLOCKS;
                        break;
                default:
                        r->blocks = (uint32_t)(rand() % 64 + 1);
                        break;
                }
                if (rand() % 16 == 0)
                        r->__pad[rand() % 3] = 1;
                total += r->blocks;
        }
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

static void test_fuzz(int kvm, unsigned iterations) {
        int vm = ioctl(kvm, KVM_CREATE_VM, 0), dev = open_dev(), dev2 = open_dev();
        uint64_t ram_size = 64 * MIB;
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
        ok(wrong_count == 0, "every successful random HARVEST processed all its blocks");

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

/* Start NV_VMM, attach to its VM through pidfd_getfd, harvest in a loop and SIGKILL the VMM. */
static void test_kill(const char *vmm, unsigned kills) {
        unsigned esrch = 0, harvests = 0, bad = 0, stuck = 0;

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
                close(vmfd); /* the module's reference alone keeps the VM */
                close(pidfd);

                long delay_ms = 20 + rand() % 300;
                pid_t killer = fork();
                if (killer == 0) {
                        struct timespec ts = { .tv_nsec = delay_ms * 1000000L };
                        nanosleep(&ts, NULL);
                        kill(pid, SIGKILL);
                        _exit(0);
                }
                static uint8_t bitmap[16 * MIB / 4096 / 8 * 4];
                struct numavd_ept_range rg = { .start = data,
                                               .blocks = (uint32_t)(64 * MIB / 4096),
                                               .shift = 12 };
                struct numavd_ept_harvest h = { .flags = k % 2,
                                                .nr_ranges = 1,
                                                .ranges = (uintptr_t)&rg,
                                                .bitmap = (uintptr_t)bitmap,
                                                .bitmap_bytes = sizeof(bitmap) };
                int r = 0;
                time_t until = time(NULL) + 20;
                while (r == 0 && time(NULL) < until) {
                        r = xioctl(dev, NUMAVD_EPT_IOC_HARVEST, &h);
                        harvests += r == 0;
                }
                if (r == -ESRCH)
                        esrch++;
                else
                        printf("# run %u: harvest loop ended with %d\n", k, r);
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
           "every harvest loop ended with -ESRCH once its VMM was killed (%u/%u, %u harvests)", esrch, kills,
           harvests);
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
