/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "daemon/vm-state.h"

nv_vm_state *nv_vm_state_free(nv_vm_state *s) {
        if (!s)
                return NULL;
        nv_heatmap_free(s->heat);
        free(s->region_target);
        nv_attribution_free(s->owners);
        nv_counters_free(s->meters); /* closes every fd it holds */
        nv_vm_info_clear(&s->info);
        free(s);
        return NULL;
}

double nv_vm_state_hot_local_percent(const nv_vm_state *s) {
        if (s->counters.hot_bytes == 0)
                return 100.0;
        return 100.0 * (double)s->counters.hot_local_bytes / (double)s->counters.hot_bytes;
}
