/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lab's tiny VMM: a real KVM guest (32-bit protected mode, flat, no paging) whose code walks a
 * table of guest-physical page addresses and writes one byte in each. Runs where /dev/kvm runs a
 * guest (the lab's nested SVM), not on the build machine.
 *
 *   nv-vmm [-m RAM_MIB] [-H HOT_MIB] [-o HOT_OFFSET_MIB] [-c CPULIST] [-n NODE] [-s STATUS]
 *       Run forever: the vCPU thread ("CPU 0/KVM", pinned to CPULIST) touches the hot set in a
 *       loop; guest RAM is one anonymous 4 KiB-page mapping first touched on NODE. Once a second
 *       STATUS (default stdout) gets a line "status passes=P hot_n0=A hot_n1=B cold_n0=C
 *       cold_n1=D" from move_pages(2) queries of every hot and cold page.
 *   nv-vmm -b OUT [-m RAM_MIB] [-r ROUNDS] [-c CPULIST]
 *       Harvest accuracy and cost through /dev/numavd_ept (attached to this VMM's own VM): for
 *       4 KiB and 2 MiB blocks, with and without flush, the guest touches a random set, then one
 *       HARVEST over all of RAM is compared with that set. Appends lines to OUT.
 *   nv-vmm -a OUT [-m RAM_MIB] [-t SECONDS] -c CPULIST0 -C CPULIST1
 *       Fault attribution through ZAP and DRAIN (nv-vmm-attrib.c): two vCPUs, pinned to
 *       CPULIST0 and CPULIST1, each touching its own half of the data. Appends lines to OUT.
 *   nv-vmm -w SCENE -s SERIES [-m RAM_MIB] [-H HOT_MIB] [-o HOT_OFFSET_MIB] -c CPULIST0 [-C CPULIST1]
 *       The lab bake-off's workloads (rehome, shift, wide; nv-vmm-scene.c): run forever, appending
 *       a line a second to SERIES. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../include/uapi/numavd_ept.h"
#include "common/macro.h"
#include "nv-vmm.h"

/* tests/lab/README.md: start: mov esi,edi; mov ecx,edx; 1: mov eax,[edi]; inc byte [eax];
 * add edi,4; dec edx; jnz 1b; inc dword [0xff0]; test ebx,ebx; jnz start; hlt; jmp start */
static const uint8_t guest_code[] = { 0x89, 0xf7, 0x89, 0xca, 0x8b, 0x07, 0xfe, 0x00, 0x83,
                                      0xc7, 0x04, 0x4a, 0x75, 0xf6, 0xff, 0x05, 0xf0, 0x0f,
                                      0x00, 0x00, 0x85, 0xdb, 0x75, 0xe8, 0xf4, 0xeb, 0xe5 };

static int vm_fd, vcpu_fd;
static size_t run_size;
static struct kvm_run *run;
static uint8_t *ram; /* GPA 0 */
static uint64_t ram_size, data_pages;
static cpu_set_t vcpu_cpus;
static bool have_cpus;

void die(const char *what) {
        perror(what);
        exit(EXIT_FAILURE);
}

static void setup(uint64_t data_mib, int node) {
        int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        uint8_t *p;

        if (kvm < 0)
                die("/dev/kvm");
        vm_fd = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm_fd < 0)
                die("KVM_CREATE_VM");
        data_pages = data_mib * MIB / PAGE;
        ram_size = DATA_GPA + data_mib * MIB;
        /* 2 MiB aligned, exactly ram_size long: one VMA, as QEMU's guest RAM is */
        p = mmap(NULL, ram_size + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                die("mmap");
        ram = (uint8_t *)ALIGN_UP((uintptr_t)p, HUGE);
        if (ram > p)
                munmap(p, (size_t)(ram - p));
        munmap(ram + ram_size, (size_t)(p + HUGE - ram));
        if (madvise(ram, ram_size, MADV_NOHUGEPAGE) < 0)
                die("madvise");
        if (node >= 0) {
                unsigned long mask = 1UL << node;
                if (syscall(SYS_set_mempolicy, 2 /* MPOL_BIND */, &mask, 8 * sizeof(mask)) < 0)
                        die("set_mempolicy");
        }
        memset(ram, 0, ram_size);
        if (node >= 0 && syscall(SYS_set_mempolicy, 0 /* MPOL_DEFAULT */, NULL, 0) < 0)
                die("set_mempolicy");
        memcpy(ram, guest_code, sizeof(guest_code));

        struct kvm_userspace_memory_region reg = {
                .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size, .userspace_addr = (uintptr_t)ram
        };
        if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &reg) < 0)
                die("KVM_SET_USER_MEMORY_REGION");
        run_size = (size_t)ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
        close(kvm);
        vcpu_fd = nv_vmm_vcpu_new(vm_fd, 0, &run);
}

int nv_vmm_vcpu_new(int vm, unsigned id, struct kvm_run **ret_run) {
        struct kvm_sregs s;
        int fd = ioctl(vm, KVM_CREATE_VCPU, id);

        if (fd < 0)
                die("KVM_CREATE_VCPU");
        *ret_run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (*ret_run == MAP_FAILED)
                die("mmap kvm_run");

        /* Flat 32-bit protected mode, no paging. */
        if (ioctl(fd, KVM_GET_SREGS, &s) < 0)
                die("KVM_GET_SREGS");
        struct kvm_segment code = { .base = 0,
                                    .limit = 0xffffffff,
                                    .selector = 8,
                                    .type = 11,
                                    .present = 1,
                                    .db = 1,
                                    .s = 1,
                                    .g = 1 };
        struct kvm_segment data = code;
        data.selector = 16;
        data.type = 3;
        s.cs = code;
        s.ds = s.es = s.fs = s.gs = s.ss = data;
        s.cr0 |= 1;
        if (ioctl(fd, KVM_SET_SREGS, &s) < 0)
                die("KVM_SET_SREGS");
        return fd;
}

void nv_vmm_run(int vcpu, struct kvm_run *r, uint32_t code_gpa, uint32_t table_gpa, uint32_t n,
                bool forever) {
        struct kvm_regs regs = { .rip = code_gpa, .rflags = 2, .rsi = table_gpa, .rcx = n, .rbx = forever };

        if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
                die("KVM_SET_REGS");
        for (;;) {
                if (ioctl(vcpu, KVM_RUN, 0) < 0)
                        die("KVM_RUN");
                if (r->exit_reason == KVM_EXIT_HLT)
                        return;
                if (r->exit_reason != KVM_EXIT_INTR) {
                        fprintf(stderr, "unexpected exit reason %u\n", r->exit_reason);
                        exit(EXIT_FAILURE);
                }
        }
}

/* Let the guest write one byte in each of the n data pages idx[] (once, or forever). */
static void guest_touch(const uint32_t *idx, uint32_t n, bool forever) {
        uint32_t *table = (uint32_t *)(ram + TABLE_GPA);

        for (uint32_t i = 0; i < n; i++)
                table[i] = DATA_GPA + idx[i] * PAGE + (i % 64) * 64;
        nv_vmm_run(vcpu_fd, run, 0, TABLE_GPA, n, forever);
}

static int parse_cpus(const char *s, cpu_set_t *set) {
        CPU_ZERO(set);
        while (*s) {
                char *end;
                long a = strtol(s, &end, 10), b = a;
                if (end == s)
                        return -EINVAL;
                if (*end == '-')
                        b = strtol(end + 1, &end, 10);
                for (long c = a; c <= b && c < CPU_SETSIZE; c++)
                        CPU_SET((int)c, set);
                s = *end == ',' ? end + 1 : end;
                if (*end && *end != ',')
                        return -EINVAL;
        }
        return 0;
}

static void pin_self(void) {
        if (have_cpus && sched_setaffinity(0, sizeof(vcpu_cpus), &vcpu_cpus) < 0)
                die("sched_setaffinity");
}

typedef struct hot_loop {
        uint32_t *idx;
        uint32_t n;
} hot_loop;

static void *vcpu_thread(void *arg) {
        hot_loop *h = arg;

        prctl(PR_SET_NAME, "CPU 0/KVM");
        pin_self();
        guest_touch(h->idx, h->n, true);
        return NULL;
}

/* Pages of [first, first + n) on nodes 0 and 1, by move_pages(2) queries. */
static void count_nodes(uint64_t first, uint64_t n, uint64_t ret[2]) {
        enum {
                BATCH = 1024
        };
        void *pages[BATCH];
        int status[BATCH];

        ret[0] = ret[1] = 0;
        for (uint64_t i = 0; i < n; i += BATCH) {
                unsigned k = (unsigned)MIN((uint64_t)BATCH, n - i);
                for (unsigned j = 0; j < k; j++)
                        pages[j] = ram + DATA_GPA + (first + i + j) * PAGE;
                if (syscall(SYS_move_pages, 0, k, pages, NULL, status, 0) < 0)
                        die("move_pages");
                for (unsigned j = 0; j < k; j++)
                        if (status[j] == 0 || status[j] == 1)
                                ret[status[j]]++;
        }
}

_Noreturn static void run_forever(uint64_t hot_first, uint64_t hot_pages, const char *status_path) {
        hot_loop h = { .n = (uint32_t)hot_pages };
        pthread_t t;
        FILE *out = stdout;

        h.idx = calloc(hot_pages, sizeof(uint32_t));
        if (!h.idx)
                die("calloc");
        for (uint32_t i = 0; i < h.n; i++)
                h.idx[i] = (uint32_t)(hot_first + i);
        if (pthread_create(&t, NULL, vcpu_thread, &h) != 0)
                die("pthread_create");
        printf("ready pid=%d ram=%p data=%p hot=[%p,%p)\n", (int)getpid(), (void *)ram,
               (void *)(ram + DATA_GPA), (void *)(ram + DATA_GPA + hot_first * PAGE),
               (void *)(ram + DATA_GPA + (hot_first + hot_pages) * PAGE));
        fflush(stdout);
        for (;;) {
                uint64_t hot[2], c1[2], c2[2];

                sleep(1);
                count_nodes(hot_first, hot_pages, hot);
                count_nodes(0, hot_first, c1);
                count_nodes(hot_first + hot_pages, data_pages - hot_first - hot_pages, c2);
                if (status_path)
                        out = fopen(status_path, "we");
                if (!out)
                        die(status_path);
                fprintf(out,
                        "status passes=%u hot_n0=%" PRIu64 " hot_n1=%" PRIu64 " cold_n0=%" PRIu64
                        " cold_n1=%" PRIu64 " hot_total=%" PRIu64 " cold_total=%" PRIu64 "\n",
                        *(volatile uint32_t *)(ram + PASS_COUNTER), hot[0], hot[1], c1[0] + c2[0],
                        c1[1] + c2[1], hot_pages, data_pages - hot_pages);
                if (status_path)
                        fclose(out);
                else
                        fflush(out);
        }
}

int main(int argc, char *argv[]) {
        uint64_t mem = 128, hot = 16, hot_off = 32;
        unsigned rounds = 3, secs = 10;
        const char *status = NULL, *bench = NULL, *attrib = NULL, *scene = NULL;
        cpu_set_t cpus1;
        bool have_cpus1 = false;
        int node = 0, c;

        while ((c = getopt(argc, argv, "m:H:o:c:C:n:s:b:a:r:t:w:")) >= 0)
                switch (c) {
                case 'm':
                        mem = strtoull(optarg, NULL, 10);
                        break;
                case 'H':
                        hot = strtoull(optarg, NULL, 10);
                        break;
                case 'o':
                        hot_off = strtoull(optarg, NULL, 10);
                        break;
                case 'n':
                        node = atoi(optarg);
                        break;
                case 's':
                        status = optarg;
                        break;
                case 'b':
                        bench = optarg;
                        break;
                case 'r':
                        rounds = (unsigned)atoi(optarg);
                        break;
                case 'a':
                        attrib = optarg;
                        break;
                case 'w':
                        scene = optarg;
                        break;
                case 't':
                        secs = (unsigned)atoi(optarg);
                        break;
                case 'C':
                        if (parse_cpus(optarg, &cpus1) < 0)
                                return EXIT_FAILURE;
                        have_cpus1 = true;
                        break;
                case 'c':
                        if (parse_cpus(optarg, &vcpu_cpus) < 0)
                                return EXIT_FAILURE;
                        have_cpus = true;
                        break;
                default:
                        fprintf(stderr, "see the comment at the top of tests/lab/nv-vmm.c\n");
                        return EXIT_FAILURE;
                }
        if (mem < 4 || mem > 2048 || hot_off + hot > mem || hot == 0)
                return fprintf(stderr, "bad sizes\n"), EXIT_FAILURE;

        if (attrib) {
                if (!have_cpus || !have_cpus1 || secs < 2 || secs > 600)
                        return fprintf(stderr, "-a needs -c, -C and 2 <= -t <= 600\n"), EXIT_FAILURE;
                setup(mem, -1);
                cpu_set_t sets[2] = { vcpu_cpus, cpus1 };
                return nv_vmm_attrib(vm_fd, ram, vcpu_fd, run, data_pages, sets, secs, attrib) < 0
                               ? EXIT_FAILURE
                               : EXIT_SUCCESS;
        }
        if (scene) {
                if (!have_cpus || !status)
                        return fprintf(stderr, "-w needs -c and -s\n"), EXIT_FAILURE;
                setup(mem, 0);
                cpu_set_t sets[2] = { vcpu_cpus, have_cpus1 ? cpus1 : vcpu_cpus };
                return nv_vmm_scene(vm_fd, ram, vcpu_fd, run, data_pages, hot_off * MIB / PAGE,
                                    hot * MIB / PAGE, sets, scene, status) < 0
                               ? EXIT_FAILURE
                               : EXIT_SUCCESS;
        }
        setup(mem, bench ? -1 : node);
        if (bench) {
                pin_self();
                return nv_vmm_bench(vm_fd, ram + DATA_GPA, data_pages, rounds, bench, guest_touch) < 0
                               ? EXIT_FAILURE
                               : EXIT_SUCCESS;
        }
        run_forever(hot_off * MIB / PAGE, hot * MIB / PAGE, status);
}
