/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The manager wires the host's ports, the sampler, the policy and the mover into one sd-event
 * loop: a re-armed sample timer (every SampleInterval; every Epoch/SampleInterval-th tick ends an
 * epoch), SIGTERM/SIGINT for a clean exit, SIGHUP for a reload, sd_notify and the watchdog. */

#include <systemd/sd-event.h>

#include "daemon/config.h"
#include "daemon/reload-failure.h"
#include "daemon/vm-state.h"
#include "migrate/mover.h"
#include "sim/sim.h"

typedef struct nv_manager_options {
        const char *config_file;  /* --config; NULL: the standard paths */
        const char *sim_scenario; /* --sim */
        double speed;             /* --speed: sim time per wall time; 0 = as fast as possible */
        uint64_t max_epochs;      /* --epochs / --once; 0 = until signalled */
        bool dry_run;             /* plan and report, move nothing */
        bool watch;               /* a line per epoch per VM on stdout */
        bool summary_json;        /* one JSON object on stdout at exit */
        int log_level;            /* --log-level, or -1 for the config's */
        /* --varlink; NULL: socket activation or the default */
        const char *varlink_address;
} nv_manager_options;

typedef struct nv_manager {
        sd_event *event;
        sd_event_source *sample_timer;
        sd_event_source *refresh_now; /* the host saw a VM come or go: refresh at once */
        nv_manager_options opts;
        nv_config *config;
        nv_reload_failure reload_failure; /* the last failed reload, until one succeeds */

        nv_sim *sim; /* the simulated host, when --sim */
        nv_host host;
        const nv_access_ops *access; /* the chosen access backend, NULL: none */
        void *access_ctx;
        bool flush;

        nv_mover *mover;
        nv_inventory inv;
        nv_vm_state **vms;
        size_t nr_vms;

        uint64_t epoch;           /* completed epochs */
        unsigned sample_in_epoch; /* sampling rounds done in the current epoch */
        usec_t vclock;            /* time as the host sees it: advanced one sample interval a tick */
        usec_t next_wakeup;       /* monotonic time of the next tick */
        uint64_t moved_bytes;     /* all VMs, since start */
        bool one_node_noted;      /* "one NUMA node, nothing to place" was logged */
        /* incoming migrations the hook announced for VMs not here yet (migration.h) */
        struct nv_pending_freeze *pending_freezes;
        size_t nr_pending_freezes;
        nv_overcommit oc; /* balloon and KSM (overcommit.c) */
        /* the io.numavd.Manager server, NULL: none */
        struct nv_varlink_manager *varlink;
} nv_manager;

/* Block the signals the loop handles (SIGTERM, SIGINT, SIGHUP), so that one sent before the loop
 * watches them waits for it instead of killing the process. main() calls it first of all;
 * nv_manager_new() again, for its other callers. */
int nv_manager_block_signals(void);

int nv_manager_new(const nv_manager_options *opts, nv_manager **ret);
nv_manager *nv_manager_free(nv_manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_manager *, nv_manager_free);

/* Take the first inventory and start tracking VMs. nv_manager_run() calls it. */
int nv_manager_start(nv_manager *m);

/* Run until SIGTERM/SIGINT or the epoch limit; returns 0 or -errno. */
int nv_manager_run(nv_manager *m);

/* One sampling round, ending the epoch when it is due: returns 1 if an epoch ended, else 0. The
 * sample timer calls it; benchmarks call it in a loop after nv_manager_start(), without a loop. */
int nv_manager_tick(nv_manager *m);

/* Re-read the configuration; on error the old one stays in force, the error is returned and
 * kept in m->reload_failure until a reload succeeds. */
int nv_manager_reload(nv_manager *m);

unsigned nv_manager_samples_per_epoch(const nv_manager *m);

/* backend.c: choose the access sampling backend from Backend= and what the host offers. */
int nv_backend_pick(nv_manager *m);

/* epoch.c: the steps of one epoch. */
nv_heatmap_config nv_manager_heatmap_config(const nv_manager *m);
int nv_epoch_refresh(nv_manager *m);
void nv_epoch_sample(nv_manager *m);
/* The free memory no move takes node n below: NodeFreeFloor=, and never less than the node's
 * high watermark. */
uint64_t nv_epoch_node_floor(const nv_manager *m, unsigned n);
/* What VM s may still move this epoch of max_bytes in pages of `page` bytes, within its own
 * MaxMoveRate= (0: none), counted in cost (model/move-cost.h). */
uint64_t nv_epoch_vm_allowance(const nv_manager *m, const nv_vm_state *s, uint64_t max_bytes, uint64_t page);
/* Count a move of VM s in pages of `page` bytes the mover returned r and *res for (-ESRCH: the VM
 * is gone; other errors are logged and ignored). Returns the bytes moved. */
uint64_t nv_epoch_note_moves(nv_manager *m, nv_vm_state *s, int r, const nv_move_result *res, uint64_t page);
int nv_epoch_finish(nv_manager *m);
/* Within an epoch, after nv_epoch_early_rounds() rounds and every as many after: move at once
 * the regions that turned hot since the last epoch end. */
unsigned nv_epoch_early_rounds(const nv_manager *m);
void nv_epoch_early_moves(nv_manager *m);
void nv_epoch_forget_all(nv_manager *m);
/* Forget one VM now (the libvirt hook said it stopped). */
void nv_epoch_forget(nv_manager *m, uint64_t id);

/* report.c: what the daemon publishes. */
void nv_report_epoch(nv_manager *m);
int nv_report_summary_json(nv_manager *m, FILE *f);
/* The page mover's totals (migratedBytes, moveCalls, moveFailures), added to o: host-wide
 * figures in --summary=json and in GetHost. */
void nv_report_mover_json(const nv_manager *m, struct json_object *o);
/* hotBytes and hotLocalPercent, null when the VM's heat is unknown (no access sampling: placed
 * as a whole, whatever is hot in it). */
void nv_report_heat_json(const nv_vm_state *s, struct json_object *o);
/* One VM as JSON: the VM type of io.numavd.Manager, also in --summary=json. */
struct json_object *nv_report_vm_json(const nv_manager *m, const nv_vm_state *s);
