/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fnmatch.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/string-table.h"
#include "common/log.h"
#include "daemon/config-files.h"
#include "daemon/config-parse.h"
#include "daemon/config.h"
#include "policy/placement.h"

static const nv_config config_defaults = {
        .epoch = 1 * USEC_PER_SEC,
        .log_level = LOG_INFO,
        .sources = NV_SOURCES_BOTH,
        .libvirt_uri = (char *)"qemu:///system",
        .backend = NV_BACKEND_AUTO,
        .sample_interval = 50 * USEC_PER_MSEC,
        .min_regions = 32,
        .max_regions = 1000,
        .heat_alpha = 0.5,
        .merge_delta = 0.10,
        .flush = NV_AUTO,
        .attribution_rate = 2000,
        .damon_sample_interval = 5 * USEC_PER_MSEC,
        .damon_aggr_interval = 100 * USEC_PER_MSEC,
        .damon_min_regions = 10,
        .damon_max_regions = 1000,
        .dirty_rate_interval = 10 * USEC_PER_SEC,
        .placement = true,
        .max_move_rate = 256 * MIB,
        .node_floor = { .is_percent = true, .fraction = 0.02 },
        .hot_threshold = 0.40,
        .dominance = 0.60,
        .min_residency = 30 * USEC_PER_SEC,
        .retarget_epochs = 3,
        .migration_freeze = 3600 * USEC_PER_SEC,
        .balloon = true,
        .host_pressure = 0.20,
        .host_critical = 0.05,
        .host_psi_pressure = 0.10,
        .guest_free = 0.20,
        .balloon_max_step = 0.05,
        .balloon_min_change = 0.0025,
        .stall_epochs = 3,
        .stats_max_age = 5 * USEC_PER_SEC,
        .ksm = NV_AUTO,
        .merge_across_nodes = NV_AUTO,
        .ksm_pages_min = 64,
        .ksm_pages_max = 1250,
        .ksm_boost = 300,
        .ksm_decay = 50,
        .ksm_threshold = 0.20,
        .ksm_sleep_per_16g = 10,
};

static const char *const nv_backend_choice_table[_NV_BACKEND_MAX] = {
        [NV_BACKEND_AUTO] = "auto", [NV_BACKEND_KMOD] = "kmod", [NV_BACKEND_DAMON] = "damon",
        [NV_BACKEND_SIM] = "sim",   [NV_BACKEND_NONE] = "none",
};

DEFINE_STRING_TABLE_LOOKUP(nv_backend_choice, nv_backend_choice);

static int config_parse_backend(const char *file, unsigned line, const nv_config_item *item,
                                const char *rvalue, void *data) {
        int b = nv_backend_choice_from_string(rvalue);

        if (b >= 0) {
                *(nv_backend_choice *)data = (nv_backend_choice)b;
                return 0;
        }
        return log_error_errno(
                -EINVAL, "%s:%u: Invalid value for %s=: '%s' (expected auto, kmod, damon, sim or none).",
                file, line, item->lvalue, rvalue);
}

static int config_parse_tristate(const char *file, unsigned line, const nv_config_item *item,
                                 const char *rvalue, void *data) {
        bool b;

        if (strcasecmp(rvalue, "auto") == 0) {
                *(nv_tristate *)data = NV_AUTO;
                return 0;
        }
        if (parse_boolean(rvalue, &b) < 0)
                return log_error_errno(-EINVAL,
                                       "%s:%u: Invalid value for %s=: '%s' (expected auto, yes or no).",
                                       file, line, item->lvalue, rvalue);
        *(nv_tristate *)data = b ? NV_YES : NV_NO;
        return 0;
}

static int config_parse_sources(const char *file, unsigned line, const nv_config_item *item,
                                const char *rvalue, void *data) {
        static const char *const names[_NV_SOURCES_MAX] = {
                [NV_SOURCES_BOTH] = "both", [NV_SOURCES_LIBVIRT] = "libvirt", [NV_SOURCES_PROC] = "proc"
        };

        for (int i = 0; i < _NV_SOURCES_MAX; i++)
                if (strcmp(rvalue, names[i]) == 0) {
                        *(nv_sources *)data = (nv_sources)i;
                        return 0;
                }
        return log_error_errno(-EINVAL,
                               "%s:%u: Invalid value for %s=: '%s' (expected both, libvirt or proc).", file,
                               line, item->lvalue, rvalue);
}

/* A string owned by the config; the default is a static string, never freed. */
static int config_parse_string(const char *file, unsigned line, const nv_config_item *item,
                               const char *rvalue, void *data) {
        char **p = data, *s;

        s = strdup(rvalue);
        if (!s)
                return log_oom();
        if (*p != config_defaults.libvirt_uri)
                free(*p);
        *p = s;
        return 0;
}

/* "LibvirtURI=": free what a file set, and point at the default again (never freed). */
static void config_reset_string(void *data, const void *default_data) {
        char **p = data, *const *d = default_data;

        if (*p != *d)
                free(*p);
        *p = *d;
}

#define FIELD_SIZE(type, field) sizeof(((type *)NULL)->field)
/* An optional last argument: the item's reset, for fields that own memory. */
#define KEY(section, key, parser, field, lo, hi, ...)                                                       \
        {                                                                                                   \
                section, key, parser, offsetof(nv_config, field), FIELD_SIZE(nv_config, field), -1, lo, hi, \
                        __VA_ARGS__                                                                         \
        }
#define VM_KEY(key, parser, field, lo, hi)                                                             \
        {                                                                                              \
                "VM", key, parser, offsetof(nv_vm_override, field), FIELD_SIZE(nv_vm_override, field), \
                        offsetof(nv_vm_override, has_##field), lo, hi                                  \
        }

#define MSEC USEC_PER_MSEC
#define SEC  USEC_PER_SEC

/* Every key: adding one is one line here (and one in etc/numavd.conf). */
static const nv_config_item config_items[] = {
        KEY("Daemon", "Epoch", nv_config_parse_sec, epoch, 10 * MSEC, 3600 * SEC),
        KEY("Daemon", "LogLevel", nv_config_parse_log_level, log_level, 0, 0),
        KEY("Daemon", "Sources", config_parse_sources, sources, 0, 0),
        KEY("Daemon", "LibvirtURI", config_parse_string, libvirt_uri, 0, 0, config_reset_string),

        KEY("Sampler", "Backend", config_parse_backend, backend, 0, 0),
        /* Also at most Epoch, checked once every file is read. */
        KEY("Sampler", "SampleInterval", nv_config_parse_sec, sample_interval, 1 * MSEC, 3600 * SEC),
        KEY("Sampler", "MinRegions", nv_config_parse_unsigned, min_regions, 1, 100000),
        /* Also at least MinRegions, checked once every file is read. */
        KEY("Sampler", "MaxRegions", nv_config_parse_unsigned, max_regions, 1, 100000),
        KEY("Sampler", "HeatAlpha", nv_config_parse_positive_double, heat_alpha, 0, 1),
        KEY("Sampler", "MergeDelta", nv_config_parse_percent, merge_delta, 0, 100),
        KEY("Sampler", "Flush", config_parse_tristate, flush, 0, 0),
        KEY("Sampler", "AttributionRate", nv_config_parse_unsigned, attribution_rate, 0, 100000),
        /* DAMON checks aggregation >= sampling and max >= min regions when the backend starts. */
        KEY("Sampler", "DamonSampleInterval", nv_config_parse_sec, damon_sample_interval, 100, 10 * SEC),
        KEY("Sampler", "DamonAggrInterval", nv_config_parse_sec, damon_aggr_interval, 1 * MSEC, 60 * SEC),
        KEY("Sampler", "DamonMinRegions", nv_config_parse_unsigned, damon_min_regions, 3, 100000),
        KEY("Sampler", "DamonMaxRegions", nv_config_parse_unsigned, damon_max_regions, 3, 100000),
        KEY("Sampler", "DirtyRateInterval", nv_config_parse_sec, dirty_rate_interval, 0, 3600 * SEC),

        KEY("Placement", "Placement", nv_config_parse_bool, placement, 0, 0),
        KEY("Placement", "MaxMoveRate", nv_config_parse_size, max_move_rate, 1, UINT64_MAX),
        KEY("Placement", "NodeFreeFloor", nv_config_parse_size_or_percent, node_floor, 0, 0),
        KEY("Placement", "HotThreshold", nv_config_parse_percent, hot_threshold, 0, 100),
        KEY("Placement", "Dominance", nv_config_parse_percent, dominance, 50, 100),
        KEY("Placement", "MinResidency", nv_config_parse_sec, min_residency, 0, USEC_INFINITY),
        KEY("Placement", "RetargetEpochs", nv_config_parse_unsigned, retarget_epochs, 1, 1000),
        KEY("Placement", "MigrationFreeze", nv_config_parse_sec, migration_freeze, 1 * SEC, USEC_INFINITY),

        KEY("Balloon", "Balloon", nv_config_parse_bool, balloon, 0, 0),
        KEY("Balloon", "HostPressure", nv_config_parse_percent, host_pressure, 0, 100),
        KEY("Balloon", "HostCritical", nv_config_parse_percent, host_critical, 0, 100),
        KEY("Balloon", "PressureStall", nv_config_parse_percent, host_psi_pressure, 0, 100),
        KEY("Balloon", "GuestFree", nv_config_parse_percent, guest_free, 0, 90),
        KEY("Balloon", "MaxStep", nv_config_parse_percent, balloon_max_step, 0, 100),
        KEY("Balloon", "MinChange", nv_config_parse_percent, balloon_min_change, 0, 100),
        KEY("Balloon", "BalloonMin", nv_config_parse_size_or_percent, balloon_min, 0, 0),
        KEY("Balloon", "StallEpochs", nv_config_parse_unsigned, stall_epochs, 1, 1000),
        KEY("Balloon", "StatsMaxAge", nv_config_parse_sec, stats_max_age, 1 * SEC, 3600 * SEC),

        KEY("KSM", "KSM", config_parse_tristate, ksm, 0, 0),
        KEY("KSM", "MergeAcrossNodes", config_parse_tristate, merge_across_nodes, 0, 0),
        KEY("KSM", "PagesToScanMin", nv_config_parse_unsigned, ksm_pages_min, 1, 100000),
        /* Also at least PagesToScanMin, checked once every file is read. */
        KEY("KSM", "PagesToScanMax", nv_config_parse_unsigned, ksm_pages_max, 1, 100000),
        KEY("KSM", "PagesBoost", nv_config_parse_unsigned, ksm_boost, 0, 100000),
        KEY("KSM", "PagesDecay", nv_config_parse_unsigned, ksm_decay, 0, 100000),
        KEY("KSM", "Threshold", nv_config_parse_percent, ksm_threshold, 0, 100),
        KEY("KSM", "SleepPer16G", nv_config_parse_unsigned, ksm_sleep_per_16g, 1, 10000),

        VM_KEY("Placement", nv_config_parse_bool, placement, 0, 0),
        VM_KEY("Weight", nv_config_parse_positive_double, weight, 0, 100),
        VM_KEY("MaxMoveRate", nv_config_parse_size, max_move_rate, 1, UINT64_MAX),
        VM_KEY("Balloon", nv_config_parse_bool, balloon, 0, 0),
        VM_KEY("BalloonMin", nv_config_parse_size_or_percent, balloon_min, 0, 0),
};

/* Sections without arguments. */
static const char *const plain_sections[] = { "Daemon", "Sampler", "Placement", "Balloon", "KSM" };

typedef struct config_origin {
        const char *file;
        unsigned line;
} config_origin;

/* One load: the config being filled and where each key was last set, for checks that span keys. */
typedef struct config_loader {
        nv_config *config;
        config_origin origins[ARRAY_SIZE(config_items)];
} config_loader;

int nv_config_new_default(nv_config **ret) {
        nv_config *c = malloc(sizeof(*c));
        if (!c)
                return -ENOMEM;
        *c = config_defaults;
        *ret = c;
        return 0;
}

nv_config *nv_config_free(nv_config *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->nr_vms; i++) {
                free(c->vms[i].match);
                free(c->vms[i].file);
        }
        free(c->vms);
        if (c->libvirt_uri != config_defaults.libvirt_uri)
                free(c->libvirt_uri);
        free(c);
        return NULL;
}

static int open_vm_section(nv_config *c, const char *file, unsigned line, const char *match,
                           void **ret_object) {
        _cleanup_free_ char *m = NULL, *f = NULL;
        nv_vm_override *vms;

        m = strdup(match);
        f = strdup(file);
        if (!m || !f)
                return log_oom();
        vms = realloc(c->vms, (c->nr_vms + 1) * sizeof(*vms));
        if (!vms)
                return log_oom();
        c->vms = vms;
        vms[c->nr_vms] = (nv_vm_override){ .match = TAKE_PTR(m), .file = TAKE_PTR(f), .line = line };
        *ret_object = &vms[c->nr_vms++];
        return 1;
}

static int open_section(void *userdata, const char *file, unsigned line, const char *name,
                        const char *argument, void **ret_object) {
        config_loader *l = userdata;

        if (strcmp(name, "VM") == 0) {
                if (!argument)
                        return log_error_errno(-EINVAL,
                                               "%s:%u: Section [VM] needs a quoted VM name glob or UUID: "
                                               "[VM \"name\"].",
                                               file, line);
                return open_vm_section(l->config, file, line, argument, ret_object);
        }
        for (size_t i = 0; i < ARRAY_SIZE(plain_sections); i++)
                if (strcmp(name, plain_sections[i]) == 0) {
                        if (argument)
                                return log_error_errno(-EINVAL, "%s:%u: Section [%s] takes no argument.",
                                                       file, line, name);
                        *ret_object = l->config;
                        return 1;
                }
        return 0;
}

static void key_set(void *userdata, const char *file, unsigned line, const nv_config_item *item) {
        config_loader *l = userdata;
        l->origins[item - config_items] = (config_origin){ file, line };
}

static const nv_config_schema config_schema = {
        .items = config_items,
        .n_items = ARRAY_SIZE(config_items),
        .open_section = open_section,
        .key_set = key_set,
        .defaults = &config_defaults,
};

static int loader_parse(config_loader *l, const char *text, const char *filename) {
        return nv_config_parse_ini(&config_schema, text, filename, l);
}

/* One file's keys, each checked alone. The checks that span keys (SampleInterval= against Epoch=,
 * MaxRegions= against MinRegions=) run in nv_config_load() once every file is read, since a later
 * drop-in may fix what an earlier one set. */
int nv_config_parse_text(nv_config *c, const char *text, const char *filename) {
        config_loader l = { .config = c };
        return loader_parse(&l, text, filename ?: "(text)");
}

static const config_origin *origin_of(const config_loader *l, const char *section, const char *key) {
        for (size_t i = 0; i < ARRAY_SIZE(config_items); i++)
                if (strcmp(config_items[i].section, section) == 0 &&
                    strcmp(config_items[i].lvalue, key) == 0)
                        return l->origins[i].file ? &l->origins[i] : NULL;
        return NULL;
}

/* Where key (else other_key) was last set, to name in a message about both; NULL if neither was. */
static const config_origin *blame(const config_loader *l, const char *section, const char *key,
                                  const char *other_section, const char *other_key) {
        const config_origin *o = origin_of(l, section, key);
        return o ? o : origin_of(l, other_section, other_key);
}

/* Checks that span keys, once every file is read (a later drop-in may fix an earlier one). */
static int config_verify(const config_loader *l) {
        const nv_config *c = l->config;
        const config_origin *o;
        char a[FORMAT_BUF], b[FORMAT_BUF];

        if (c->sample_interval > c->epoch) {
                o = blame(l, "Sampler", "SampleInterval", "Daemon", "Epoch");
                return log_error_errno(-EINVAL,
                                       "%s:%u: SampleInterval=%s is longer than Epoch=%s; there must be at "
                                       "least one sample per epoch.",
                                       o ? o->file : "(defaults)", o ? o->line : 0,
                                       format_sec(a, c->sample_interval), format_sec(b, c->epoch));
        }
        if (c->max_regions < c->min_regions) {
                o = blame(l, "Sampler", "MaxRegions", "Sampler", "MinRegions");
                return log_error_errno(-EINVAL, "%s:%u: MaxRegions=%u is below MinRegions=%u.",
                                       o ? o->file : "(defaults)", o ? o->line : 0, c->max_regions,
                                       c->min_regions);
        }
        if (c->ksm_pages_max < c->ksm_pages_min) {
                o = blame(l, "KSM", "PagesToScanMax", "KSM", "PagesToScanMin");
                return log_error_errno(-EINVAL, "%s:%u: PagesToScanMax=%u is below PagesToScanMin=%u.",
                                       o ? o->file : "(defaults)", o ? o->line : 0, c->ksm_pages_max,
                                       c->ksm_pages_min);
        }
        if (c->host_critical > c->host_pressure) {
                o = blame(l, "Balloon", "HostCritical", "Balloon", "HostPressure");
                return log_error_errno(-EINVAL, "%s:%u: HostCritical= is above HostPressure=.",
                                       o ? o->file : "(defaults)", o ? o->line : 0);
        }
        return 0;
}

static int loader_parse_file(config_loader *l, const char *path, bool required) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = nv_config_read_file(path, &text);
        if (r == -ENOENT) {
                if (required)
                        return log_error_errno(r, "Configuration file %s not found.", path);
                log_debug("No %s, using the defaults.", path);
                return 0;
        }
        if (r < 0)
                return r;
        log_debug("Reading %s.", path);
        return loader_parse(l, text, path);
}

static const char *const dropin_dirs[] = {
        "/etc/numavd/numavd.conf.d",
        "/run/numavd/numavd.conf.d",
        "/usr/local/lib/numavd/numavd.conf.d",
        "/usr/lib/numavd/numavd.conf.d",
};

int nv_config_load(const char *root, const char *main_file, nv_config **ret) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        _cleanup_(nv_strv_freep) char **dirs = NULL;
        _cleanup_(nv_strv_freep) char **dropins = NULL;
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ config_loader *l = NULL;
        size_t n_dirs = main_file ? 1 : ARRAY_SIZE(dropin_dirs);
        int r;

        /* Paths are the standard ones under root, never the build's sysconfdir. */
        if (!root || strcmp(root, "/") == 0)
                root = "";

        r = nv_config_new_default(&c);
        if (r < 0)
                return log_oom();
        l = calloc(1, sizeof(*l));
        dirs = calloc(n_dirs + 1, sizeof(*dirs));
        if (!l || !dirs)
                return log_oom();
        l->config = c;

        if (main_file) {
                path = strdup(main_file);
                if (!path || asprintf(&dirs[0], "%s.d", main_file) < 0)
                        return log_oom();
        } else {
                if (asprintf(&path, "%s/etc/numavd/numavd.conf", root) < 0) {
                        path = NULL;
                        return log_oom();
                }
                for (size_t i = 0; i < n_dirs; i++)
                        if (asprintf(&dirs[i], "%s%s", root, dropin_dirs[i]) < 0) {
                                dirs[i] = NULL;
                                return log_oom();
                        }
        }

        r = loader_parse_file(l, path, main_file != NULL);
        if (r < 0)
                return r;

        r = nv_config_list_dropins((const char *const *)dirs, n_dirs, &dropins);
        if (r < 0)
                return r;
        for (char **p = dropins; *p; p++) {
                r = loader_parse_file(l, *p, true);
                if (r < 0)
                        return r;
        }

        /* The origins point into path and dropins, which live until here. */
        r = config_verify(l);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(c);
        return 0;
}

static bool is_uuid(const char *s) {
        static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

        if (strlen(s) != sizeof(shape) - 1)
                return false;
        for (size_t i = 0; shape[i]; i++)
                if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
                        return false;
        return true;
}

static bool vm_matches(const nv_vm_override *o, const char *name, const char *uuid) {
        if (uuid && is_uuid(o->match) && strcasecmp(o->match, uuid) == 0)
                return true;
        return name && fnmatch(o->match, name, 0) == 0;
}

/* Merges every matching section into *ret in file order, field by field; *ret's match, file and
 * line then name the last matching section and point into c. */
bool nv_config_vm_override(const nv_config *c, const char *name, const char *uuid, nv_vm_override *ret) {
        bool any = false;

        for (size_t i = 0; i < c->nr_vms; i++) {
                const nv_vm_override *o = &c->vms[i];

                if (!vm_matches(o, name, uuid))
                        continue;
                any = true;
                ret->match = o->match;
                ret->file = o->file;
                ret->line = o->line;
                /* Field by field, as the key table describes them: what this section sets wins. */
                for (size_t k = 0; k < ARRAY_SIZE(config_items); k++) {
                        const nv_config_item *it = &config_items[k];

                        if (it->has_offset < 0 || !*(const bool *)((const char *)o + it->has_offset))
                                continue;
                        *(bool *)((char *)ret + it->has_offset) = true;
                        memcpy((char *)ret + it->offset, (const char *)o + it->offset, it->size);
                }
        }
        return any;
}

uint64_t nv_config_epoch_bytes(const nv_config *c, uint64_t rate) {
        /* Exact in 128 bits: through a double, a rate near 16E times an epoch above 1s does not
         * fit in 64 bits, and converting it back is undefined (on x86-64 it gave 0). */
        unsigned __int128 bytes = (unsigned __int128)rate * c->epoch / USEC_PER_SEC;

        return bytes > UINT64_MAX ? UINT64_MAX : (uint64_t)bytes;
}

uint32_t nv_config_residency_epochs(const nv_config *c) {
        uint64_t epochs;

        if (c->min_residency == USEC_INFINITY)
                return NV_RESIDENCY_FOREVER;
        /* Not DIV_ROUND_UP(): its n + d - 1 wraps for values near USEC_INFINITY. */
        epochs = c->min_residency / c->epoch + (c->min_residency % c->epoch != 0);
        return (uint32_t)CLAMP(epochs, (uint64_t)1, (uint64_t)NV_RESIDENCY_FOREVER);
}
