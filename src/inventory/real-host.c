/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

#include "common/log.h"
#include "inventory/proc-vms.h"
#include "inventory/real-host.h"
#include "inventory/topology.h"
#include "migrate/mover.h"

typedef struct real_host {
        nv_topology topology;
        nv_proc_vms *vms;
} real_host;

static void real_host_destroy(void *ctx) {
        real_host *h = ctx;

        if (!h)
                return;
        nv_proc_vms_free(h->vms);
        nv_topology_done(&h->topology);
        free(h);
}

static int real_host_refresh(void *ctx, nv_inventory *inv) {
        real_host *h = ctx;
        nv_inventory fresh = {};
        int r;

        /* Free memory changes all the time; a failure to read it leaves the last known values. */
        r = nv_topology_refresh_memory(&h->topology);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_warning_errno(r, "Failed to refresh node memory, using the last values, ignoring: %m");

        nv_topology_fill_inventory(&h->topology, &fresh);
        r = nv_proc_vms_scan(h->vms, &h->topology, &fresh);
        if (r < 0)
                return r;

        *inv = fresh;
        return 0;
}

static const nv_vm_source_ops real_host_source_ops = {
        .refresh = real_host_refresh,
};

int nv_real_host_new(const char *root, nv_host *ret) {
        real_host *h;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return log_oom();

        r = nv_topology_load(root, &h->topology);
        if (r < 0) {
                real_host_destroy(h);
                return log_error_errno(r, "Failed to read the NUMA topology: %m");
        }
        r = nv_proc_vms_new(root, &h->vms);
        if (r < 0) {
                real_host_destroy(h);
                return log_oom();
        }

        *ret = (nv_host){
                .kind = "real",
                .ctx = h,
                .source = &real_host_source_ops,
                .access = NULL,
                .mover = &nv_move_pages_ops,
                .mover_ctx = NULL,
                .destroy = real_host_destroy,
        };
        return 0;
}
