/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which access sampling backend the daemon uses: Backend= names one, or `auto` takes the best the
 * host offers. Without one, numavd places whole VMs toward their vCPUs (numad-like) and says so. */

#include <string.h>

#include "common/log.h"
#include "daemon/manager.h"

int nv_backend_pick(nv_manager *m) {
        nv_backend_choice b = m->config->backend;

        m->access = NULL;
        m->access_ctx = NULL;
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
        if (b != NV_BACKEND_AUTO)
                return log_error_errno(EOPNOTSUPP, "Backend=%s is not available on this %s host.",
                                       nv_backend_choice_to_string(b), m->host.kind);
        log_notice("No access sampling backend available: placing whole VMs toward their vCPUs.");
        return 0;
}
