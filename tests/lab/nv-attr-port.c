/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lab test of the kmod attribution sampler (src/sampler/attribution-kmod.c) against the real
 * module, through the port numavd uses (TAP on stdout):
 *
 *   nv-attr-port NV_VMM CPULIST NODE
 *
 * Starts the tiny VMM with its vCPU pinned to CPULIST (the CPUs of NODE) and its 16 MiB hot set
 * written in a loop, attaches the sampler to it as numavd would (by pid), zaps the hot set in
 * 4 KiB and then 2 MiB blocks and drains: every fault must name a zapped block at its address in
 * the VMM, vCPU 0 and NODE. Then bad arguments, and the VMM killed: -ESRCH. */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "host/topology.h"
#include "sampler/attribution-kmod.h"
#include "../tap.h"

#define HOT_MIB 16

/* Zap n blocks of 1 << shift from start, drain until each has faulted once (at most 60 s). The
 * faults that are not a zapped block of vCPU 0 on node count in *ret_wrong; returns the blocks
 * seen. */
static size_t zap_and_drain(const nv_attribution_ops *ops, void *ctx, const nv_vm_info *vm, uint64_t start,
                            size_t n, unsigned shift, int node, size_t *ret_wrong, uint64_t *ret_dropped) {
        uint64_t *addrs = calloc(n, sizeof(*addrs));
        uint8_t *seen = calloc(n, 1);
        nv_fault buf[512];
        size_t got = 0, wrong = 0;
        time_t until = time(NULL) + 60;
        int r;

        if (!addrs || !seen)
                exit(EXIT_FAILURE);
        for (size_t i = 0; i < n; i++)
                addrs[i] = start + ((uint64_t)i << shift);
        r = ops->zap(ctx, vm, addrs, n, shift);
        is_int(r, (int)n, "zap of %zu blocks of %u KiB: all zapped", n, (1u << shift) / 1024);
        *ret_dropped = 0;
        while (got < n && time(NULL) < until) {
                uint64_t dropped = 0;

                r = ops->drain(ctx, vm, buf, sizeof(buf) / sizeof(buf[0]), &dropped);
                if (r < 0) {
                        printf("# drain: %s\n", strerror(-r));
                        break;
                }
                *ret_dropped += dropped;
                for (int i = 0; i < r; i++) {
                        uint64_t k = (buf[i].hva - start) >> shift;

                        if (buf[i].hva < start || k >= n || buf[i].hva & ((UINT64_C(1) << shift) - 1) ||
                            buf[i].shift != shift || buf[i].vcpu != 0 || buf[i].node != node || seen[k]) {
                                wrong++;
                                continue;
                        }
                        seen[k] = 1;
                        got++;
                }
                if (r == 0)
                        nanosleep(&(struct timespec){ .tv_nsec = 50000000L }, NULL);
        }
        free(addrs);
        free(seen);
        *ret_wrong = wrong;
        return got;
}

int main(int argc, char *argv[]) {
        _cleanup_(nv_topology_done) nv_topology topology = {};
        const nv_attribution_ops *ops = NULL;
        void *ctx = NULL;
        int pipefd[2], node, r;
        char line[512] = "";
        uintptr_t hot = 0, hot_end = 0;
        pid_t pid;
        size_t got, wrong;
        uint64_t dropped, addr;
        nv_fault f;

        if (argc != 4)
                return fprintf(stderr, "Usage: %s NV_VMM CPULIST NODE\n", argv[0]), 2;
        node = atoi(argv[3]);
        r = nv_topology_load(NULL, NULL, NULL, &topology);
        is_int(r, 0, "the host's topology loads (hwloc): numavd's CPU-to-node map");
        if (r < 0)
                return tap_done();
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return EXIT_FAILURE;
        pid = fork();
        if (pid == 0) {
                dup2(pipefd[1], STDOUT_FILENO);
                execl(argv[1], argv[1], "-m", "64", "-H", "16", "-o", "8", "-n", "0", "-c", argv[2],
                      (char *)NULL);
                _exit(127);
        }
        close(pipefd[1]);
        FILE *in = fdopen(pipefd[0], "r");
        if (!ok(in && fgets(line, sizeof(line), in) &&
                        sscanf(strstr(line, "hot=[") ?: "", "hot=[%" SCNxPTR ",%" SCNxPTR ")", &hot,
                               &hot_end) == 2 &&
                        hot_end - hot == HOT_MIB * MIB,
                "the tiny VMM runs, its vCPU on CPUs %s (node %d)", argv[2], node)) {
                kill(pid, SIGKILL);
                return tap_done();
        }
        nv_vm_info vm = { .id = 7, .name = (char *)"nv-vmm", .pid = pid, .nr_vcpus = 1 };

        r = nv_kmod_attribution_new(NULL, topology.cpu_node, topology.nr_cpus, &ops, &ctx);
        is_int(r, 0, "the kmod attribution sampler opens the module with the topology's CPU map");
        if (r < 0)
                return tap_done();
        is_int(ops->attach(ctx, &vm), 0, "it attaches to the VMM's VM by pid");

        got = zap_and_drain(ops, ctx, &vm, hot, HOT_MIB * MIB / 4096, 12, node, &wrong, &dropped);
        ok(got == HOT_MIB * MIB / 4096 && wrong == 0 && dropped == 0,
           "4 KiB: every zapped page faulted once, at its VMM address, on vCPU 0, node %d (%zu, %zu wrong, "
           "%" PRIu64 " dropped)",
           node, got, wrong, dropped);
        got = zap_and_drain(ops, ctx, &vm, hot, HOT_MIB * MIB / (2 * MIB), 21, node, &wrong, &dropped);
        ok(got == HOT_MIB / 2 && wrong == 0,
           "2 MiB: every zapped block faulted once, reported at its 2 MiB start (%zu, %zu wrong)", got,
           wrong);

        addr = hot + 4096;
        is_int(ops->zap(ctx, &vm, &addr, 1, 21), -EINVAL, "a misaligned 2 MiB block: -EINVAL");
        is_int(ops->zap(ctx, &vm, &addr, 1, 13), -EINVAL, "a block size the module does not know: -EINVAL");
        nv_vm_info other = vm;
        other.id = 8;
        is_int(ops->zap(ctx, &other, &addr, 1, 12), -ENOENT, "zap of a VM not attached: -ENOENT");
        is_int(ops->drain(ctx, &other, &f, 1, &dropped), -ENOENT, "drain of a VM not attached: -ENOENT");

        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        r = ops->zap(ctx, &vm, &addr, 1, 12);
        is_int(r, -ESRCH, "once the VMM is killed, zap says -ESRCH");
        is_int(ops->drain(ctx, &vm, &f, 1, &dropped), -ESRCH, "and so does drain");
        ops->detach(ctx, vm.id);
        ops->destroy(ctx);
        fclose(in);
        return tap_done();
}
