/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the scenario parser and the building of the simulated host it describes,
 * nv_sim_load_buffer(), then one short advance of its clock. */

#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(nv_sim_freep) nv_sim *s = NULL;

        log_set_max_level(LOG_CRIT);
        if (nv_sim_load_buffer((const char *)data, size, "fuzz.scn", &s) < 0)
                return 0;
        /* A scenario that loads must also run: its schedule and workloads start here. */
        nv_sim_advance(s, 100 * USEC_PER_MSEC);
        return 0;
}
