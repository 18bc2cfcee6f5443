/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* On a nested host (and with Flush=yes) the heat maps clear accessed bits with a flush from the
 * first epoch on: they are made before the first inventory says the host is nested, and
 * nv_manager_start() must hand them the flush. Without it a nested host's cached translations
 * hide every access and nothing is ever found hot (found by bench/ on nested.scn). */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/manager.h"
#include "tap.h"
#include "test-util.h"

static const char scn[] = "seed 23\n"
                          "host nested yes\n"
                          "node 0 mem 4G cpus 0-3\n"
                          "node 1 mem 4G cpus 4-7\n"
                          "vm l1 mem 512M vcpus 2 backing anon first-touch 0\n"
                          "  run all on 4-7\n"
                          "  workload hot 64M skew 0.9 rate 512K\n";

int main(void) {
        char scn_path[] = "/tmp/numavd-test-flush-XXXXXX",
             conf_path[] = "/tmp/numavd-test-flush-conf-XXXXXX";
        nv_manager *m = NULL;
        int r;

        log_set_max_level(LOG_WARNING);
        if (test_write_temp(scn_path, scn) < 0 || test_write_temp(conf_path, "[Sampler]\nBackend=sim\n") < 0)
                return tap_skip_all("cannot write to /tmp");

        nv_manager_options o = { .config_file = conf_path,
                                 .sim_scenario = scn_path,
                                 .log_level = LOG_WARNING };
        r = nv_manager_new(&o, &m);
        ok(r == 0, "a manager runs the nested scenario");
        if (r == 0) {
                ok(nv_manager_start(m) == 0, "it starts");
                ok(m->flush, "a nested host is sampled with flushes");
                ok(m->nr_vms == 1, "it tracks the VM");
                for (unsigned e = 0; e < 4;)
                        e += nv_manager_tick(m) > 0;
                ok(m->nr_vms == 1 && m->vms[0]->counters.hot_bytes > 0,
                   "the hot set is found from the start (%" PRIu64 " bytes hot)",
                   m->nr_vms ? m->vms[0]->counters.hot_bytes : 0);
                ok(m->moved_bytes > 0, "and moved after the vCPUs");
        }
        nv_manager_free(m);
        unlink(scn_path);
        unlink(conf_path);
        return tap_done();
}
