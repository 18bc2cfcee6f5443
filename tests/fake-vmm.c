/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A stand-in for QEMU that tests can run where guests cannot: it creates a real KVM VM
 * (KVM_CREATE_VM), registers its RAM as memory slot 0 (KVM_SET_USER_MEMORY_REGION), and runs
 * vCPU-named threads ("CPU i/KVM") that keep touching a hot set of that RAM, so that /proc shows
 * what it shows for a QEMU process: a kvm-vm fd, vCPU threads with run time, a big anonymous
 * mapping. No guest ever runs.
 *
 *   fake-vmm [-m RAM] [-c VCPUS] [-H HOT] [-t TOUCHED] [-name OPTS] [-uuid UUID]
 *
 * RAM defaults to 128M (MADV_NOHUGEPAGE, so 4 KiB pages), VCPUS to 2, HOT (the first bytes of
 * RAM that the vCPU threads touch) to 16M, TOUCHED (the first bytes of RAM faulted in at start, as
 * a booted guest has; the rest stays not resident, as memory a guest never touched) to all of RAM. -name and -uuid are QEMU's and are only there to be
 * read back from /proc/PID/cmdline. Prints "ready PID" once everything runs and stays until
 * SIGTERM (or until its parent dies). Exits 77 when KVM is not usable here. */
#include <errno.h>
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
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "common/parse.h"

#define EXIT_SKIP 77
#define MAX_VCPUS 64u

typedef struct vcpu {
        pthread_t thread;
        volatile uint8_t *ram;
        uint64_t hot;
        unsigned index;
} vcpu;

static void *vcpu_main(void *arg) {
        const vcpu *v = arg;
        const struct timespec nap = { .tv_nsec = 1000 * 1000 };

        for (uint8_t round = 0;; round++) {
                for (uint64_t off = v->index * 64; off < v->hot; off += 4096)
                        v->ram[off] = round;
                nanosleep(&nap, NULL);
        }
        return NULL;
}

static int usage(const char *argv0) {
        fprintf(stderr, "Usage: %s [-m RAM] [-c VCPUS] [-H HOT] [-t TOUCHED] [-name OPTS] [-uuid UUID]\n",
                argv0);
        return EXIT_FAILURE;
}

int main(int argc, char *argv[]) {
        uint64_t ram_size = 128 * MIB, hot = 16 * MIB, touched = UINT64_MAX, nr_vcpus = 2;
        struct kvm_userspace_memory_region region;
        static vcpu vcpus[MAX_VCPUS];
        uint8_t *ram;
        sigset_t mask;
        int kvm, vm, sig;

        /* Never outlive the test that started us. */
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);

        for (int i = 1; i < argc; i++) {
                const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

                if (!val)
                        return usage(argv[0]);
                i++;
                if (strcmp(opt, "-m") == 0) {
                        if (parse_size(val, &ram_size) < 0 || ram_size < 4 * KIB)
                                return usage(argv[0]);
                } else if (strcmp(opt, "-c") == 0) {
                        if (parse_uint(val, MAX_VCPUS, &nr_vcpus) < 0 || nr_vcpus == 0)
                                return usage(argv[0]);
                } else if (strcmp(opt, "-H") == 0) {
                        if (parse_size(val, &hot) < 0)
                                return usage(argv[0]);
                } else if (strcmp(opt, "-t") == 0) {
                        if (parse_size(val, &touched) < 0)
                                return usage(argv[0]);
                } else if (strcmp(opt, "-name") != 0 && strcmp(opt, "-uuid") != 0)
                        return usage(argv[0]);
        }
        ram_size = ALIGN_UP(ram_size, 4 * KIB);
        hot = MIN(hot, ram_size);
        touched = MAX(MIN(touched, ram_size), hot);

        kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0) {
                fprintf(stderr, "fake-vmm: cannot open /dev/kvm: %m\n");
                return EXIT_SKIP;
        }
        vm = ioctl(kvm, KVM_CREATE_VM, 0);
        if (vm < 0) {
                fprintf(stderr, "fake-vmm: KVM_CREATE_VM: %m\n");
                return EXIT_SKIP;
        }

        ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                   0);
        if (ram == MAP_FAILED) {
                fprintf(stderr, "fake-vmm: mmap %" PRIu64 " bytes: %m\n", ram_size);
                return EXIT_FAILURE;
        }
        if (madvise(ram, ram_size, MADV_NOHUGEPAGE) < 0)
                fprintf(stderr, "fake-vmm: MADV_NOHUGEPAGE: %m, ignoring\n");

        region = (struct kvm_userspace_memory_region){
                .slot = 0,
                .guest_phys_addr = 0,
                .memory_size = ram_size,
                .userspace_addr = (uintptr_t)ram,
        };
        if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
                fprintf(stderr, "fake-vmm: KVM_SET_USER_MEMORY_REGION: %m\n");
                return EXIT_FAILURE;
        }

        /* Fault RAM in, as a booted guest would have. */
        for (uint64_t off = 0; off < touched; off += 4 * KIB)
                ram[off] = 1;

        /* The vCPU threads inherit the blocked signals; only sigwait() below takes them. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);

        for (unsigned i = 0; i < nr_vcpus; i++) {
                char name[16];
                int r;

                vcpus[i] = (vcpu){ .ram = ram, .hot = hot, .index = i };
                r = pthread_create(&vcpus[i].thread, NULL, vcpu_main, &vcpus[i]);
                if (r != 0) {
                        fprintf(stderr, "fake-vmm: pthread_create: %s\n", strerror(r));
                        return EXIT_FAILURE;
                }
                snprintf(name, sizeof(name), "CPU %u/KVM", i);
                r = pthread_setname_np(vcpus[i].thread, name);
                if (r != 0) {
                        fprintf(stderr, "fake-vmm: pthread_setname_np: %s\n", strerror(r));
                        return EXIT_FAILURE;
                }
        }

        printf("ready %d\n", (int)getpid());
        fflush(stdout);

        sigwait(&mask, &sig);
        return EXIT_SUCCESS;
}
