/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "common/log.h"
#include "daemon/attribution.h"
#include "daemon/manager.h"

void nv_epoch_attribution_forget(nv_manager *m, nv_vm_state *s) {
        if (!s->owners)
                return;
        if (m->host.attribution && m->host.attribution->detach)
                m->host.attribution->detach(m->host.attribution_ctx, s->info.id);
        s->owners = nv_attribution_free(s->owners);
}

static int attach(nv_manager *m, nv_vm_state *s) {
        const nv_attribution_ops *ops = m->host.attribution;
        int r;

        if (ops->attach) {
                r = ops->attach(m->host.attribution_ctx, &s->info);
                if (r < 0)
                        return log_warning_errno(
                                r, "Cannot attach VM %s to the %s attribution sampler, placing it whole: %m",
                                s->info.name, ops->name);
        }
        r = nv_attribution_new(&s->info, m->inv.nr_nodes, s->info.id * 0xda942042e4dd58b5ULL + 7,
                               &s->owners);
        if (r < 0) {
                if (ops->detach)
                        ops->detach(m->host.attribution_ctx, s->info.id);
                return log_warning_errno(r, "Cannot set up the attribution of VM %s, placing it whole: %m",
                                         s->info.name);
        }
        return 0;
}

static unsigned stages(const nv_manager *m) {
        return nv_manager_samples_per_epoch(m) >= 2 ? 2 : 1;
}

bool nv_epoch_attribution_is_midway(const nv_manager *m) {
        return stages(m) == 2 && m->sample_in_epoch == nv_manager_samples_per_epoch(m) / 2;
}

static void collect(nv_manager *m, nv_vm_state *s, bool epoch_end) {
        const nv_attribution_ops *ops = m->host.attribution;
        nv_attribution_config cfg = {
                .faults_per_sec = m->config->attribution_rate,
                .vote_alpha = m->config->heat_alpha,
                .interval = m->config->epoch / stages(m),
        };
        bool fresh = false;
        int r;

        /* Off by a reload, or a host with one NUMA node: every access is local there, and a zap
         * would cost the guest faults for nothing. */
        if (!ops || m->config->attribution_rate == 0 || m->inv.nr_nodes < 2) {
                nv_epoch_attribution_forget(m, s);
                return;
        }
        if (!s->seen)
                return;
        if (!s->owners) {
                if (attach(m, s) < 0)
                        return;
                fresh = true;
        }
        if (!fresh) {
                r = nv_attribution_collect(s->owners, ops, m->host.attribution_ctx, &s->info, s->heat, &cfg,
                                           epoch_end);
                if (r == -ESRCH) {
                        s->seen = false; /* gone: forgotten at the next refresh */
                        return;
                }
                if (r < 0)
                        log_debug_errno(r, "Reading the faults of VM %s failed, ignoring: %m", s->info.name);
        }
        r = nv_attribution_zap(s->owners, ops, m->host.attribution_ctx, &s->info, s->heat, &cfg);
        if (r == -ESRCH)
                s->seen = false;
        else if (r < 0)
                log_debug_errno(r, "Zapping a sample of VM %s failed, ignoring: %m", s->info.name);
}

void nv_epoch_attribution(nv_manager *m, nv_vm_state *s) {
        collect(m, s, true);
}

void nv_epoch_attribution_midway(nv_manager *m) {
        for (size_t i = 0; i < m->nr_vms; i++)
                collect(m, m->vms[i], false);
}
