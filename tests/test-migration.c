/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Migration freezes (src/daemon/migration.c, vm-state.c) on a simulated host's manager: the hook's
 * sequence on the destination, a freeze waiting for a VM not there yet, the VM source's word on an
 * outgoing job, the MigrationFreeze= safety net, and the cap on waiting freezes. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/manager.h"
#include "daemon/migration.h"
#include "tap.h"
#include "test-util.h"

static const char scn[] = "seed 5\n"
                          "node 0 mem 2G cpus 0-1\n"
                          "node 1 mem 2G cpus 2-3\n"
                          "vm mig1 mem 256M vcpus 1 backing anon first-touch 0\n"
                          "  run all on 2-3\n"
                          "  workload hot 32M skew 0.9 rate 512K\n";

#define FREEZE (3 * USEC_PER_SEC) /* MigrationFreeze= below */

static void test_destination(nv_manager *m, nv_vm_state *s) {
        nv_migration_hook(m, "mig1", NULL, "migrate", "begin");
        ok(nv_vm_state_frozen(s, m->vclock), "migrate begin freezes a VM that is here");
        nv_migration_hook(m, "mig1", NULL, "prepare", "begin");
        nv_migration_hook(m, "mig1", NULL, "start", "begin");
        ok(nv_vm_state_frozen(s, m->vclock), "prepare and start leave it frozen");
        nv_migration_hook(m, "mig1", NULL, "started", "begin");
        ok(!nv_vm_state_frozen(s, m->vclock), "started thaws it");
        nv_migration_hook(m, "mig1", NULL, "migrate", "begin");
        nv_migration_hook(m, "mig1", NULL, "stopped", "end");
        ok(!nv_vm_state_frozen(s, m->vclock), "stopped thaws it (a failed incoming migration)");
        is_int((int)m->nr_pending_freezes, 0, "nothing waits for a VM that was here");
}

static void test_waiting(nv_manager *m) {
        nv_vm_state later = { .info.name = (char *)"later" }, other = { .info.name = (char *)"other" };

        nv_migration_hook(m, "later", NULL, "migrate", "begin");
        is_int((int)m->nr_pending_freezes, 1, "migrate begin before the VM exists: the freeze waits");
        nv_migration_follow(m, &other);
        ok(!nv_vm_state_frozen(&other, m->vclock), "another VM is not frozen by it");
        nv_migration_follow(m, &later);
        ok(nv_vm_state_frozen(&later, m->vclock), "the VM is frozen when it appears");
        is_int((int)m->nr_pending_freezes, 0, "... and the waiting freeze is taken");
        nv_vm_state_thaw(&later, "test");

        /* A failed incoming migration before QEMU ran: release drops the waiting freeze. */
        nv_migration_hook(m, "gone", NULL, "migrate", "begin");
        nv_migration_hook(m, "gone", NULL, "release", "end");
        is_int((int)m->nr_pending_freezes, 0, "release drops a waiting freeze");

        /* A waiting freeze that ran out is not applied. */
        nv_vm_state late = { .info.name = (char *)"late" };
        nv_migration_hook(m, "late", NULL, "migrate", "begin");
        m->vclock += FREEZE + 1;
        nv_migration_follow(m, &late);
        ok(!nv_vm_state_frozen(&late, m->vclock), "a waiting freeze older than MigrationFreeze= is dropped");
        is_int((int)m->nr_pending_freezes, 0, "... and forgotten");

        /* By UUID too. */
        nv_vm_state byuuid = { .info.name = (char *)"u" };
        strcpy(byuuid.info.uuid, "0b2c8a1e-7d3f-4c55-9a61-2f0e5d7c9b11");
        nv_migration_hook(m, "u-renamed", "0B2C8A1E-7D3F-4C55-9A61-2F0E5D7C9B11", "migrate", "begin");
        nv_migration_follow(m, &byuuid);
        ok(nv_vm_state_frozen(&byuuid, m->vclock), "a waiting freeze finds its VM by UUID, in any case");
        nv_vm_state_thaw(&byuuid, "test");

        /* The cap. */
        char name[32];
        for (unsigned i = 0; i < 1100; i++) {
                snprintf(name, sizeof(name), "bogus%u", i);
                nv_migration_hook(m, name, NULL, "migrate", "begin");
        }
        is_int((int)m->nr_pending_freezes, 1024, "at most 1024 freezes wait");
        nv_migration_done(m);
        is_int((int)m->nr_pending_freezes, 0, "nv_migration_done forgets them");
}

static void test_source(nv_manager *m, nv_vm_state *s) {
        s->info.migrating = true;
        nv_migration_follow(m, s);
        ok(nv_vm_state_frozen(s, m->vclock), "an outgoing job freezes the VM");
        nv_migration_hook(m, "mig1", NULL, "started", "begin");
        ok(nv_vm_state_frozen(s, m->vclock), "the hook's started does not thaw an outgoing freeze");
        m->vclock += FREEZE / 2;
        nv_migration_follow(m, s);
        ok(nv_vm_state_frozen(s, m->vclock), "it stays frozen while the job runs");
        s->info.migrating = false;
        nv_migration_follow(m, s);
        ok(!nv_vm_state_frozen(s, m->vclock), "the job's end thaws it");

        s->info.migrating = true;
        nv_migration_follow(m, s);
        m->vclock += FREEZE;
        ok(!nv_vm_state_frozen(s, m->vclock), "after MigrationFreeze= it reads as thawed");
        nv_migration_follow(m, s);
        is_u64(s->frozen_until, 0, "... and the next refresh thaws it");
        m->vclock += USEC_PER_SEC;
        nv_migration_follow(m, s);
        ok(!nv_vm_state_frozen(s, m->vclock), "the same job, still running, does not freeze it again");
        s->info.migrating = false;
        nv_migration_follow(m, s);
        s->info.migrating = true;
        nv_migration_follow(m, s);
        ok(nv_vm_state_frozen(s, m->vclock), "a new job does");
        s->info.migrating = false;
        nv_migration_follow(m, s);
        ok(!nv_vm_state_frozen(s, m->vclock), "and its end thaws it");
}

int main(void) {
        char scn_path[] = "/tmp/numavd-test-migration-XXXXXX",
             conf_path[] = "/tmp/numavd-test-migration-conf-XXXXXX";
        nv_manager *m = NULL;
        nv_vm_state *s = NULL;
        int r;

        log_set_max_level(LOG_ERR);
        if (test_write_temp(scn_path, scn) < 0 ||
            test_write_temp(conf_path, "[Sampler]\nBackend=sim\n[Placement]\nMigrationFreeze=3s\n") < 0)
                return tap_skip_all("cannot write to /tmp");

        nv_manager_options o = { .config_file = conf_path, .sim_scenario = scn_path, .log_level = LOG_ERR };
        r = nv_manager_new(&o, &m);
        ok(r == 0, "a manager runs the scenario");
        if (r == 0)
                r = nv_manager_start(m);
        ok(r == 0 && m->nr_vms == 1, "it tracks the VM");
        if (r == 0 && m->nr_vms == 1) {
                s = m->vms[0];
                is_u64(m->config->migration_freeze, FREEZE, "MigrationFreeze=3s is read");
                ok(!nv_vm_state_frozen(s, m->vclock), "a VM starts thawed");
                test_destination(m, s);
                test_waiting(m);
                test_source(m, s);
        }
        nv_manager_free(m);
        unlink(scn_path);
        unlink(conf_path);
        return tap_done();
}
