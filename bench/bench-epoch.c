/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The cost of numavd's own work per epoch on a large simulated host: sampler (heat maps) plus
 * policy, in CPU time, with the time spent inside the simulated access backend measured apart
 * (on a real host that work is the kernel's). Also the daemon-side memory for the heat maps and
 * the process's peak RSS. Usage: bench-epoch SCENARIO [EPOCHS] */

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "common/log.h"
#include "policy/placement.h"
#include "sampler/heatmap.h"
#include "sim/sim.h"

static double cpu_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A shim around the simulator's access port that accounts the time spent inside it. */
static const nv_access_ops *inner;
static void *inner_ctx;
static double backend_sec;

static int timed_harvest(void *ctx, const nv_vm_info *vm, const uint64_t *addrs, size_t n, unsigned shift,
                         unsigned flags, uint8_t *ret) {
        double t0 = cpu_now();
        int r = inner->harvest(inner_ctx, vm, addrs, n, shift, flags, ret);
        backend_sec += cpu_now() - t0;
        return r;
}

static const nv_access_ops timed_ops = { .name = "timed", .harvest = timed_harvest };

int main(int argc, char *argv[]) {
        _cleanup_(nv_sim_freep) nv_sim *sim = NULL;
        nv_inventory inv = {};
        nv_host host;
        nv_heatmap_config hc;
        unsigned epochs = argc > 2 ? (unsigned)atoi(argv[2]) : 5, rounds = 20;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: %s SCENARIO [EPOCHS]\n", argv[0]);
                return EXIT_FAILURE;
        }
        log_set_max_level(LOG_WARNING);
        r = nv_sim_load_file(argv[1], &sim);
        if (r < 0)
                return EXIT_FAILURE;
        nv_sim_host(sim, false, &host);
        inner = host.access;
        inner_ctx = host.access_ctx;
        r = host.source->refresh(host.ctx, &inv);
        if (r < 0)
                return EXIT_FAILURE;

        nv_heatmap_config_defaults(&hc);
        nv_heatmap **maps = calloc(inv.nr_vms, sizeof(*maps));
        nv_placement_vm *pvms = calloc(inv.nr_vms, sizeof(*pvms));
        uint64_t tracked = 0;
        for (size_t i = 0; i < inv.nr_vms; i++) {
                if (nv_heatmap_new(&inv.vms[i], &hc, i + 1, &maps[i]) < 0)
                        return EXIT_FAILURE;
                tracked += nv_vm_ram_bytes(&inv.vms[i]);
        }

        nv_placement_config pc = {
                .budget_cost = 256 * MIB,
                .node_floor_bytes = { [0 ... NV_MAX_NODES - 1] = GIB },
                .hot_threshold = 0.3,
                .dominance = 0.6,
                .min_residency = 30,
                .retarget_epochs = 3,
        };
        double total = 0, in_backend = 0, policy = 0;
        size_t regions = 0;
        for (unsigned e = 1; e <= epochs; e++) {
                double b0 = backend_sec, t0 = cpu_now(), p0;
                for (unsigned k = 0; k < rounds; k++) {
                        host.advance(host.ctx, 50 * USEC_PER_MSEC);
                        for (size_t i = 0; i < inv.nr_vms; i++)
                                (void)nv_heatmap_sample(maps[i], &timed_ops, NULL, &inv.vms[i]);
                }
                regions = 0;
                for (size_t i = 0; i < inv.nr_vms; i++) {
                        size_t n;
                        (void)nv_heatmap_end_epoch(maps[i], host.mover, host.mover_ctx, &inv.vms[i]);
                        pvms[i] = (nv_placement_vm){ .info = &inv.vms[i], .enabled = true, .weight = 1 };
                        pvms[i].regions = nv_heatmap_regions(maps[i], &n);
                        pvms[i].nr_regions = n;
                        regions += n;
                }
                p0 = cpu_now();
                nv_placement_input in = {
                        .inv = &inv, .vms = pvms, .nr_vms = inv.nr_vms, .epoch = e, .cfg = &pc
                };
                nv_placement_plan plan = {};
                if (nv_placement_plan_compute(&in, &plan) < 0)
                        return EXIT_FAILURE;
                nv_placement_plan_clear(&plan);
                double t1 = cpu_now();
                if (e > 1) { /* the first epoch builds the maps */
                        total += t1 - t0;
                        in_backend += backend_sec - b0;
                        policy += t1 - p0;
                }
        }
        unsigned measured = epochs > 1 ? epochs - 1 : 1;
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);

        double own_ms = (total - in_backend) / measured * 1e3;
        printf("scenario              %s\n", argv[1]);
        printf("vms                   %zu\n", inv.nr_vms);
        printf("tracked               %.1f GiB\n", (double)tracked / (double)GIB);
        printf("regions               %zu\n", regions);
        printf("rounds per epoch      %u\n", rounds);
        printf("epoch cpu (numavd)    %.2f ms   (sampler + policy, backend excluded)\n", own_ms);
        printf("  of which policy     %.2f ms\n", policy / measured * 1e3);
        printf("epoch cpu (backend)   %.2f ms   (the simulated kernel side)\n", in_backend / measured * 1e3);
        printf("cpu per 100 GiB       %.4f %% of one core at 1 s epochs\n",
               own_ms / 10.0 / ((double)tracked / (double)(100 * GIB)));
        printf("heat map memory       %.2f MiB\n", (double)regions * sizeof(nv_region) / (double)MIB);
        printf("peak RSS (with sim)   %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);

        for (size_t i = 0; i < inv.nr_vms; i++)
                nv_heatmap_free(maps[i]);
        free(maps);
        free(pvms);
        nv_inventory_clear(&inv);
        return EXIT_SUCCESS;
}
