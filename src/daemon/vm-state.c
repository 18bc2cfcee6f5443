/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "common/log.h"
#include "daemon/vm-state.h"

nv_vm_state *nv_vm_state_free(nv_vm_state *s) {
        if (!s)
                return NULL;
        nv_heatmap_free(s->heat);
        nv_pagescan_free(s->pages);
        free(s->region_target);
        nv_attribution_free(s->owners);
        nv_meters_free(s->meters); /* closes every fd it holds */
        nv_vm_info_clear(&s->info);
        free(s);
        return NULL;
}

double nv_vm_state_hot_local_percent(const nv_vm_state *s) {
        if (s->counters.hot_bytes == 0)
                return 100.0;
        return 100.0 * (double)s->counters.hot_local_bytes / (double)s->counters.hot_bytes;
}

void nv_vm_state_freeze(nv_vm_state *s, const char *why, usec_t now, usec_t timeout) {
        usec_t until = timeout == USEC_INFINITY || now > USEC_INFINITY - 1 - timeout ? USEC_INFINITY - 1
                                                                                     : now + timeout;

        if (s->frozen_until == 0)
                log_info("VM %s: %s, placement frozen.", s->info.name, why);
        s->frozen_until = MAX(until, 1u);
        s->frozen_why = why;
}

void nv_vm_state_thaw(nv_vm_state *s, const char *why) {
        if (s->frozen_until == 0)
                return;
        log_info("VM %s: %s, placement thawed.", s->info.name, why);
        s->frozen_until = 0;
        s->frozen_why = NULL;
}

bool nv_vm_state_frozen(const nv_vm_state *s, usec_t now) {
        return s->frozen_until != 0 && now < s->frozen_until;
}

bool nv_vm_state_thaw_expired(nv_vm_state *s, usec_t now) {
        if (s->frozen_until == 0 || now < s->frozen_until)
                return false;
        log_warning("VM %s: frozen for its %s longer than MigrationFreeze= allows, thawing it.",
                    s->info.name, s->frozen_why ?: "migration");
        s->frozen_until = 0;
        s->frozen_why = NULL;
        return true;
}
