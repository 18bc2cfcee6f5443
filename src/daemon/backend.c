/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which access sampling backend the daemon uses: Backend= names one, or `auto` takes the best the
 * host offers: its built-in sampler (a simulated host's), else the first of the host's table of
 * backends that opens. Without one, numavd places whole VMs toward their vCPUs and says so. */

#include <string.h>

#include "common/log.h"
#include "daemon/manager.h"

int nv_backend_pick(nv_manager *m) {
        nv_backend_choice b = m->config->backend;
        const char *wanted = nv_backend_choice_to_string(b);
        nv_access_params p = {
                .nested = m->inv.nested,
                .sample_interval = m->config->damon_sample_interval,
                .aggr_interval = m->config->damon_aggr_interval,
                .min_regions = m->config->damon_min_regions,
                .max_regions = m->config->damon_max_regions,
        };

        m->access = NULL;
        m->access_ctx = NULL;
        if (b == NV_BACKEND_NONE) {
                log_info("Access sampling disabled (Backend=none): placing whole VMs.");
                return 0;
        }
        if (m->host.access && (b == NV_BACKEND_AUTO || strcmp(m->host.access->name, wanted) == 0)) {
                m->access = m->host.access;
                m->access_ctx = m->host.access_ctx;
                log_info("Access sampling through the %s backend.", m->access->name);
                return 0;
        }
        for (size_t i = 0; i < m->host.nr_access_backends; i++) {
                const nv_access_backend *e = &m->host.access_backends[i];
                int r;

                if (b != NV_BACKEND_AUTO && strcmp(e->name, wanted) != 0)
                        continue;
                r = e->open(&p, &m->access, &m->access_ctx);
                if (r >= 0) {
                        log_info("Access sampling through %s.", e->describe);
                        return 0;
                }
                m->access = NULL;
                m->access_ctx = NULL;
                if (b != NV_BACKEND_AUTO)
                        return e->hint ? log_error_errno(r, "Backend=%s is not available (%s): %m", e->name,
                                                         e->hint)
                                       : log_error_errno(r, "Backend=%s is not available: %m", e->name);
                log_info_errno(r, "The %s backend is not usable here (%m), trying the next backend.",
                               e->name);
        }
        if (b != NV_BACKEND_AUTO)
                return log_error_errno(-EOPNOTSUPP, "Backend=%s is not available on this host.", wanted);
        log_notice("No access sampling backend available: placing whole VMs toward their vCPUs.");
        return 0;
}
