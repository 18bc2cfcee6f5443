/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* numavd's configuration: /etc/numavd/numavd.conf plus numavd.conf.d/ drop-ins (*.conf) from /etc,
 * /run, /usr/local/lib and /usr/lib with systemd's precedence. Values in systemd syntax. Loading
 * parses into a new struct; the caller swaps it in only on success, so a bad reload changes
 * nothing. */

#include <stdbool.h>

#include "common/parse.h"

typedef enum nv_backend_choice {
        NV_BACKEND_AUTO,
        NV_BACKEND_KMOD,
        NV_BACKEND_DAMON,
        NV_BACKEND_SIM,
        NV_BACKEND_NONE,
        _NV_BACKEND_MAX,
} nv_backend_choice;

/* [Daemon] Sources=: where VMs are found. */
typedef enum nv_sources {
        NV_SOURCES_BOTH,
        NV_SOURCES_LIBVIRT,
        NV_SOURCES_PROC,
        _NV_SOURCES_MAX,
} nv_sources;

typedef enum nv_tristate {
        NV_AUTO = -1,
        NV_NO = 0,
        NV_YES = 1,
} nv_tristate;

/* Per-VM overrides from [VM "glob"] sections; a field applies when its has_ flag is set. */
typedef struct nv_vm_override {
        char *match; /* fnmatch(3) glob on the VM name, or a UUID */
        char *file;  /* where it was defined, for messages */
        unsigned line;
        bool has_placement, placement;
        bool has_weight;
        double weight;
        bool has_max_move_rate;
        uint64_t max_move_rate;
        bool has_balloon, balloon;
        bool has_balloon_min;
        size_or_percent balloon_min;
} nv_vm_override;

typedef struct nv_config {
        /* [Daemon] */
        usec_t epoch;       /* Epoch=1s */
        int log_level;      /* LogLevel=info */
        nv_sources sources; /* Sources=both */
        char *libvirt_uri;  /* LibvirtURI=qemu:///system */

        /* [Sampler] */
        nv_backend_choice backend; /* Backend=auto */
        usec_t sample_interval;    /* SampleInterval=50ms */
        unsigned min_regions;      /* MinRegions=10 */
        unsigned max_regions;      /* MaxRegions=1000 */
        double heat_alpha;         /* HeatAlpha=0.5 */
        double merge_delta;        /* MergeDelta=10% */
        nv_tristate flush;         /* Flush=auto: flush when the host is nested */
        unsigned attribution_rate; /* AttributionRate=2000: pages zapped per second per VM; 0: off */

        /* [Sampler], for Backend=damon */
        usec_t damon_sample_interval; /* DamonSampleInterval=5ms */
        usec_t damon_aggr_interval;   /* DamonAggrInterval=100ms */
        unsigned damon_min_regions;   /* DamonMinRegions=10 */
        unsigned damon_max_regions;   /* DamonMaxRegions=1000 */
        usec_t dirty_rate_interval;   /* DirtyRateInterval=10s; 0: no dirty rate */

        /* [Placement] */
        bool placement;             /* Placement=yes */
        uint64_t max_move_rate;     /* MaxMoveRate=256M, cost per second (model/move-cost.h), all VMs */
        size_or_percent node_floor; /* NodeFreeFloor=2% of each node's memory */
        double hot_threshold;       /* HotThreshold=30% */
        double dominance;           /* Dominance=60% */
        usec_t min_residency;       /* MinResidency=30s */
        unsigned retarget_epochs;   /* RetargetEpochs=3 */
        usec_t migration_freeze;    /* MigrationFreeze=1h: the longest a live migration freezes a VM */

        /* [Balloon] */
        bool balloon;                /* Balloon=yes */
        double host_pressure;        /* HostPressure=20% */
        double host_critical;        /* HostCritical=5% */
        double host_psi_pressure;    /* PressureStall=10%: PSI memory some avg10 */
        double guest_free;           /* GuestFree=20% */
        double balloon_max_step;     /* MaxStep=5% */
        double balloon_min_change;   /* MinChange=0.25% */
        size_or_percent balloon_min; /* BalloonMin=0 (a size or % of the VM's maximum) */
        unsigned stall_epochs;       /* StallEpochs=3 */
        usec_t stats_max_age;        /* StatsMaxAge=5s */

        /* [KSM] */
        nv_tristate ksm;                /* KSM=auto */
        nv_tristate merge_across_nodes; /* MergeAcrossNodes=auto: off on multi-node hosts */
        unsigned ksm_pages_min;         /* PagesToScanMin=64 */
        unsigned ksm_pages_max;         /* PagesToScanMax=1250 */
        unsigned ksm_boost;             /* PagesBoost=300 */
        unsigned ksm_decay;             /* PagesDecay=50 */
        double ksm_threshold;           /* Threshold=20% */
        unsigned ksm_sleep_per_16g;     /* SleepPer16G=10 (ms) */

        nv_vm_override *vms;
        size_t nr_vms;
} nv_config;

/* A config with every default. */
int nv_config_new_default(nv_config **ret);
nv_config *nv_config_free(nv_config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_config *, nv_config_free);

/* Load the configuration. root: prefix for the standard paths ("" or NULL for /). main_file: an
 * explicit file (--config); then only it and the drop-ins in "<main_file>.d/" are read. Unknown
 * keys and sections warn with FILE:LINE; invalid values fail with FILE:LINE (-EINVAL), and a
 * missing explicit main file fails (-ENOENT). */
int nv_config_load(const char *root, const char *main_file, nv_config **ret);

/* Parse one file's text into c (used by nv_config_load and by the fuzzer). */
int nv_config_parse_text(nv_config *c, const char *text, const char *filename);

/* The override for a VM, or NULL. Later sections win over earlier ones field by field, so the
 * result is merged into *ret; returns true if any section matched. */
bool nv_config_vm_override(const nv_config *c, const char *name, const char *uuid, nv_vm_override *ret);

const char *nv_backend_choice_to_string(nv_backend_choice b);
int nv_backend_choice_from_string(const char *s); /* nv_backend_choice or -EINVAL */

/* The bytes that rate (bytes per second) allows in one Epoch=, saturated at UINT64_MAX: a byte
 * budget, a per-VM cap, the largest region. */
uint64_t nv_config_epoch_bytes(const nv_config *c, uint64_t rate);

/* MinResidency= in whole epochs, rounded up and at least 1; NV_RESIDENCY_FOREVER for infinity
 * and for more epochs than that counts. */
uint32_t nv_config_residency_epochs(const nv_config *c);
