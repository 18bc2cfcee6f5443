/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which access sampling backend the daemon uses: Backend= names one, or `auto` takes the best the
 * host offers. Without one, numavd places whole VMs toward their vCPUs (numad-like) and says so. */

#include <string.h>

#include "common/log.h"
#include "daemon/manager.h"
#include "sampler/attribution-kmod.h"
#include "sampler/backend-damon.h"
#include "sampler/backend-kmod.h"

/* Which vCPU touches what: the numavd_ept module's ZAP and DRAIN on a real host, whichever
 * backend samples the heat. Without it numavd places by where each VM's vCPUs run. */
static void pick_attribution(nv_manager *m) {
        int r;

        if (m->host.attribution || m->attribution_made || strcmp(m->host.kind, "real") != 0)
                return;
        r = nv_kmod_attribution_new(NULL, NULL, &m->host.attribution, &m->host.attribution_ctx);
        if (r < 0) {
                log_info_errno(r, "No fault attribution: numavd_ept 1.1 is not usable here (%m).");
                return;
        }
        m->attribution_made = true;
        log_info("Fault attribution through the numavd_ept module (which vCPU touches which memory).");
}

int nv_backend_pick(nv_manager *m) {
        nv_backend_choice b = m->config->backend;

        m->access = NULL;
        m->access_ctx = NULL;
        if (b != NV_BACKEND_NONE)
                pick_attribution(m);
        if (b == NV_BACKEND_NONE) {
                log_info("Access sampling disabled (Backend=none): placing whole VMs.");
                return 0;
        }
        if (m->host.access &&
            (b == NV_BACKEND_AUTO || strcmp(m->host.access->name, nv_backend_choice_to_string(b)) == 0)) {
                m->access = m->host.access;
                m->access_ctx = m->host.access_ctx;
                log_info("Access sampling through the %s backend.", m->access->name);
                return 0;
        }
        if (strcmp(m->host.kind, "real") == 0 && (b == NV_BACKEND_AUTO || b == NV_BACKEND_KMOD)) {
                int r = nv_kmod_backend_new(NULL, m->inv.nested, &m->access, &m->access_ctx);
                if (r >= 0) {
                        log_info("Access sampling through the numavd_ept module (EPT/NPT accessed bits).");
                        return 0;
                }
                if (b == NV_BACKEND_KMOD)
                        return log_error_errno(r,
                                               "Backend=kmod is not available (is numavd_ept loaded?): %m");
                log_info_errno(r, "The numavd_ept module is not usable here (%m), trying the next backend.");
        }
        if (strcmp(m->host.kind, "real") == 0 && (b == NV_BACKEND_AUTO || b == NV_BACKEND_DAMON)) {
                nv_damon_params p = {
                        .sample_interval = m->config->damon_sample_interval,
                        .aggr_interval = m->config->damon_aggr_interval,
                        .min_regions = m->config->damon_min_regions,
                        .max_regions = m->config->damon_max_regions,
                };
                int r = nv_damon_backend_new(&p, &m->access, &m->access_ctx);
                if (r >= 0) {
                        log_info("Access sampling through DAMON: one vaddr kdamond per VM.");
                        return 0;
                }
                if (b == NV_BACKEND_DAMON)
                        return log_error_errno(r, "Backend=damon is not available: %m");
                log_info_errno(r, "DAMON is not usable here (%m), trying the next backend.");
        }
        if (b != NV_BACKEND_AUTO)
                return log_error_errno(EOPNOTSUPP, "Backend=%s is not available on this %s host.",
                                       nv_backend_choice_to_string(b), m->host.kind);
        log_notice("No access sampling backend available: placing whole VMs toward their vCPUs.");
        return 0;
}
