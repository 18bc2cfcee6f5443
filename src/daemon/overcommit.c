/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The overcommit step: balloon targets and KSM settings, after placement. */

#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fileio.h"
#include "common/log.h"
#include "daemon/manager.h"
#include "daemon/overcommit.h"

void nv_overcommit_setup(nv_manager *m) {
        m->oc.ksmd_cpu_percent = -1;
}

static nv_balloon_config balloon_config(const nv_config *c) {
        nv_balloon_config bc;

        nv_balloon_config_defaults(&bc);
        bc.host_pressure = c->host_pressure;
        bc.host_critical = c->host_critical;
        bc.psi_pressure = c->host_psi_pressure * 100.0;
        bc.guest_free = c->guest_free;
        bc.max_step = c->balloon_max_step;
        bc.min_change = c->balloon_min_change;
        bc.stall_epochs = c->stall_epochs;
        bc.stale_sec = c->stats_max_age / USEC_PER_SEC;
        return bc;
}

/* The floor: the VM's [VM] BalloonMin=, else its metadata, else [Balloon] BalloonMin=. */
static uint64_t balloon_floor(const nv_config *c, const nv_vm_override *o, const nv_balloon_info *info) {
        if (o->has_balloon_min)
                return size_or_percent_resolve(&o->balloon_min, info->max_bytes);
        if (info->has_floor) {
                size_or_percent v = { .is_percent = info->floor_is_percent,
                                      .bytes = info->floor_bytes,
                                      .fraction = info->floor_fraction };
                return size_or_percent_resolve(&v, info->max_bytes);
        }
        return size_or_percent_resolve(&c->balloon_min, info->max_bytes);
}

static void balloon_step(nv_manager *m) {
        nv_overcommit *oc = &m->oc;
        nv_balloon_config bc = balloon_config(m->config);
        _cleanup_free_ nv_balloon_guest *guests = calloc(MAX(m->nr_vms, 1u), sizeof(*guests));
        _cleanup_free_ nv_balloon_decision *dec = calloc(MAX(m->nr_vms, 1u), sizeof(*dec));
        _cleanup_free_ size_t *index = calloc(MAX(m->nr_vms, 1u), sizeof(*index));
        nv_host_mem_state prev = oc->host_state;
        unsigned n = 0;

        if (!guests || !dec || !index) {
                log_oom();
                return;
        }
        for (size_t i = 0; i < m->nr_vms; i++) {
                nv_vm_state *s = m->vms[i];
                nv_vm_balloon *vb = &s->balloon;
                nv_vm_override o = {};
                nv_balloon_info info;
                bool enabled;
                int r;

                if (!s->seen)
                        continue;
                (void)nv_config_vm_override(m->config, s->info.name, s->info.uuid, &o);
                enabled = o.has_balloon ? o.balloon : m->config->balloon;
                info = (nv_balloon_info){};
                /* Balloon=no: libvirt is not even asked; the policy records the guest as disabled. */
                r = enabled ? m->host.balloon->get_stats(m->host.balloon_ctx, &s->info, &info) : 0;
                vb->known = enabled && r >= 0;
                if (r < 0) {
                        if (r != -ENOENT && r != -EAGAIN)
                                log_debug_errno(r, "No balloon statistics for VM %s, ignoring: %m",
                                                s->info.name);
                        continue;
                }
                vb->info = info;
                vb->floor_bytes = balloon_floor(m->config, &o, &info);
                guests[n] = (nv_balloon_guest){
                        .name = s->info.name,
                        .enabled = enabled,
                        .has_device = info.has_device,
                        .autodeflate = info.autodeflate,
                        .free_page_reporting = info.free_page_reporting,
                        .max_bytes = info.max_bytes,
                        .floor_bytes = vb->floor_bytes,
                        .stats = info.stats,
                        .memo = &vb->memo,
                };
                index[n++] = i;
        }

        nv_balloon_host h = {
                .total_bytes = oc->total_bytes,
                .free_bytes = oc->free_bytes,
                .psi_some_avg10 = oc->psi_some_avg10,
                .psi_full_avg10 = oc->psi_full_avg10,
                .now_sec = (int64_t)time(NULL),
        };
        oc->host_state = nv_balloon_plan(&bc, &h, prev, guests, n, dec);
        if (oc->host_state != prev)
                log_info("Host memory: %s (%.1f%% free, PSI some %.2f%%).",
                         nv_host_mem_state_to_string(oc->host_state),
                         h.total_bytes ? 100.0 * (double)h.free_bytes / (double)h.total_bytes : 0.0,
                         h.psi_some_avg10);

        for (unsigned g = 0; g < n; g++) {
                nv_vm_state *s = m->vms[index[g]];
                nv_vm_balloon *vb = &s->balloon;
                nv_balloon_reason old = vb->reason;
                char a[FORMAT_BUF], b[FORMAT_BUF];

                vb->reason = dec[g].reason;
                vb->guest_pressure = dec[g].guest_pressure;
                if (dec[g].stalled) {
                        vb->stalls++;
                        log_warning("VM %s: the balloon did not reach its target within %u epochs (at %s); "
                                    "backing off.",
                                    s->info.name, bc.stall_epochs, format_size(a, guests[g].stats.actual));
                } else if (vb->reason != old && (vb->reason == NV_BALLOON_NO_DEVICE ||
                                                 vb->reason == NV_BALLOON_FREE_PAGE_REPORTING))
                        log_info("VM %s: balloon left alone: %s.", s->info.name,
                                 nv_balloon_reason_to_string(vb->reason));
                if (dec[g].target == 0)
                        continue;
                vb->target_bytes = dec[g].target;
                if (!dec[g].stalled)
                        log_info("VM %s: balloon %s -> %s (%s).", s->info.name,
                                 format_size(a, guests[g].stats.actual), format_size(b, dec[g].target),
                                 nv_balloon_reason_to_string(dec[g].reason));
                if (m->opts.dry_run)
                        continue;
                oc->balloon_calls++;
                (void)m->host.balloon->set_target(m->host.balloon_ctx, &s->info, dec[g].target);
        }
}

static nv_ksm_config ksm_config(const nv_config *c) {
        nv_ksm_config kc;

        nv_ksm_config_defaults(&kc);
        kc.mode = c->ksm == NV_YES ? NV_KSM_MODE_ON : c->ksm == NV_NO ? NV_KSM_MODE_OFF : NV_KSM_MODE_AUTO;
        kc.merge_across_nodes = c->merge_across_nodes == NV_AUTO ? -1 : c->merge_across_nodes == NV_YES;
        kc.pages_min = c->ksm_pages_min;
        kc.pages_max = c->ksm_pages_max;
        kc.boost = c->ksm_boost;
        kc.decay = c->ksm_decay;
        kc.threshold = c->ksm_threshold;
        kc.sleep_per_16g = c->ksm_sleep_per_16g;
        return kc;
}

static void ksm_step(nv_manager *m) {
        nv_overcommit *oc = &m->oc;
        nv_ksm_config kc = ksm_config(m->config);
        nv_ksm_plan p;
        uint64_t committed = 0, cpu;
        int r;

        r = m->host.ksm->read(m->host.ksm_ctx, &oc->ksm);
        oc->ksm_ok = r >= 0;
        if (r < 0) {
                log_debug_errno(r, "Cannot read the KSM state, ignoring: %m");
                return;
        }
        for (size_t i = 0; i < m->nr_vms; i++) {
                nv_vm_state *s = m->vms[i];

                committed += nv_vm_ram_bytes(&s->info);
                s->balloon.ksm_known = m->host.ksm->vm_stat &&
                                       m->host.ksm->vm_stat(m->host.ksm_ctx, &s->info, &s->balloon.ksm) >= 0;
        }
        nv_ksm_host h = {
                .total_bytes = oc->total_bytes,
                .free_bytes = oc->free_bytes,
                .committed_bytes = committed,
                .nr_nodes = MAX(m->inv.nr_nodes, 1u),
        };
        nv_ksm_plan_compute(&kc, &h, &oc->ksm, &oc->ksm_memo, &p);
        if (p.manage && (p.run != oc->ksm.run || p.pages_to_scan != oc->ksm_plan.pages_to_scan))
                log_debug("KSM: run=%d pages_to_scan=%u sleep_millisecs=%u (%s).", p.run, p.pages_to_scan,
                          p.sleep_millisecs, p.reason);
        if (p.manage && p.run != oc->ksm.run)
                log_info("KSM: %s (%s).", p.run ? "started" : "stopped", p.reason);
        oc->ksm_plan = p;
        if (p.manage && !m->opts.dry_run) {
                nv_ksm_knobs k = {
                        .run = p.run,
                        .unmerge_first = p.unmerge_first,
                        .merge_across_nodes = p.merge_across_nodes,
                        .pages_to_scan = p.run ? (int64_t)p.pages_to_scan : -1,
                        .sleep_millisecs = p.run ? (int64_t)p.sleep_millisecs : -1,
                };
                r = m->host.ksm->write(m->host.ksm_ctx, &oc->ksm, &k);
                if (r < 0)
                        log_debug_errno(r, "Writing the KSM settings failed, ignoring: %m");
        }

        /* ksmd's CPU share over the last epoch, when its thread can be found. */
        if (m->host.ksm->ksmd_cpu && m->host.ksm->ksmd_cpu(m->host.ksm_ctx, &cpu) >= 0) {
                if (oc->ksmd_cpu_prev > 0 && cpu >= oc->ksmd_cpu_prev)
                        oc->ksmd_cpu_percent =
                                100.0 * (double)(cpu - oc->ksmd_cpu_prev) / (double)m->config->epoch;
                oc->ksmd_cpu_prev = cpu;
                oc->ksmd_cpu_usec = cpu;
        }
}

void nv_overcommit_epoch(nv_manager *m) {
        nv_overcommit *oc = &m->oc;
        nv_host_memory mem;
        int r;

        if ((!m->host.balloon && !m->host.ksm) || !m->host.memory)
                return;
        r = m->host.memory(m->host.ctx, &mem);
        if (r < 0) {
                log_debug_errno(r, "Cannot read the host's memory state, skipping the overcommit step: %m");
                return;
        }
        oc->total_bytes = mem.total_bytes;
        oc->free_bytes = mem.available_bytes;
        oc->psi_some_avg10 = mem.psi_some_avg10;
        oc->psi_full_avg10 = mem.psi_full_avg10;

        if (m->host.balloon)
                balloon_step(m);
        if (m->host.ksm)
                ksm_step(m);
}

void nv_overcommit_vm_json(const nv_manager *m, const nv_vm_state *s, json_object *o) {
        const nv_vm_balloon *vb = &s->balloon;
        json_object *b, *k;

        if (vb->known) {
                b = json_object_new_object();
                json_object_object_add(b, "device", json_object_new_boolean(vb->info.has_device));
                json_object_object_add(b, "autodeflate", json_object_new_boolean(vb->info.autodeflate));
                json_object_object_add(b, "freePageReporting",
                                       json_object_new_boolean(vb->info.free_page_reporting));
                json_object_object_add(b, "maxBytes", json_object_new_uint64(vb->info.max_bytes));
                if (vb->info.stats.actual != NV_BALLOON_UNKNOWN)
                        json_object_object_add(b, "actualBytes",
                                               json_object_new_uint64(vb->info.stats.actual));
                if (vb->info.stats.usable != NV_BALLOON_UNKNOWN)
                        json_object_object_add(b, "usableBytes",
                                               json_object_new_uint64(vb->info.stats.usable));
                json_object_object_add(b, "targetBytes", json_object_new_uint64(vb->target_bytes));
                json_object_object_add(b, "floorBytes", json_object_new_uint64(vb->floor_bytes));
                json_object_object_add(b, "guestPressure", json_object_new_boolean(vb->guest_pressure));
                json_object_object_add(b, "stalled", json_object_new_boolean(vb->memo.stalls > 0));
                json_object_object_add(b, "stalls", json_object_new_uint64(vb->stalls));
                json_object_object_add(b, "backoffEpochs", json_object_new_uint64(vb->memo.backoff));
                json_object_object_add(b, "reason",
                                       json_object_new_string(nv_balloon_reason_to_string(vb->reason)));
                json_object_object_add(o, "balloon", b);
        }
        if (vb->ksm_known) {
                k = json_object_new_object();
                json_object_object_add(k, "mergingPages", json_object_new_int64(vb->ksm.merging_pages));
                json_object_object_add(k, "savedBytes",
                                       json_object_new_int64(vb->ksm.merging_pages * (int64_t)NV_PAGE_SIZE));
                if (vb->ksm.profit != INT64_MIN)
                        json_object_object_add(k, "profitBytes", json_object_new_int64(vb->ksm.profit));
                json_object_object_add(o, "ksm", k);
        }
}

void nv_overcommit_host_json(const nv_manager *m, json_object *root) {
        const nv_overcommit *oc = &m->oc;
        json_object *h, *k;
        int64_t merging = 0;

        if (!m->host.balloon && !m->host.ksm)
                return;
        h = json_object_new_object();
        json_object_object_add(h, "state",
                               json_object_new_string(nv_host_mem_state_to_string(oc->host_state)));
        json_object_object_add(h, "totalBytes", json_object_new_uint64(oc->total_bytes));
        json_object_object_add(h, "availableBytes", json_object_new_uint64(oc->free_bytes));
        if (oc->psi_some_avg10 >= 0)
                json_object_object_add(h, "psiSomeAvg10", json_object_new_double(oc->psi_some_avg10));
        json_object_object_add(h, "balloonCalls", json_object_new_uint64(oc->balloon_calls));
        json_object_object_add(root, "hostMemory", h);
        if (!oc->ksm_ok)
                return;
        for (size_t i = 0; i < m->nr_vms; i++)
                if (m->vms[i]->balloon.ksm_known)
                        merging += m->vms[i]->balloon.ksm.merging_pages;
        k = json_object_new_object();
        json_object_object_add(k, "managed", json_object_new_boolean(oc->ksm_plan.manage));
        json_object_object_add(k, "run", json_object_new_int(oc->ksm.run));
        json_object_object_add(k, "pagesToScan", json_object_new_int64(oc->ksm.pages_to_scan));
        json_object_object_add(k, "sleepMillisecs", json_object_new_int64(oc->ksm.sleep_millisecs));
        json_object_object_add(k, "mergeAcrossNodes", json_object_new_int(oc->ksm.merge_across_nodes));
        json_object_object_add(k, "pagesShared", json_object_new_int64(oc->ksm.pages_shared));
        json_object_object_add(k, "pagesSharing", json_object_new_int64(oc->ksm.pages_sharing));
        if (oc->ksm.general_profit != INT64_MIN)
                json_object_object_add(k, "generalProfitBytes",
                                       json_object_new_int64(oc->ksm.general_profit));
        json_object_object_add(k, "vmMergingPages", json_object_new_int64(merging));
        json_object_object_add(k, "vmSavedBytes", json_object_new_int64(merging * (int64_t)NV_PAGE_SIZE));
        if (oc->ksmd_cpu_percent >= 0)
                json_object_object_add(k, "ksmdCpuPercent", json_object_new_double(oc->ksmd_cpu_percent));
        if (oc->ksm_plan.reason)
                json_object_object_add(k, "reason", json_object_new_string(oc->ksm_plan.reason));
        json_object_object_add(root, "ksm", k);
}

void nv_overcommit_watch_vm(const nv_manager *m, const nv_vm_state *s) {
        const nv_vm_balloon *vb = &s->balloon;
        char a[FORMAT_BUF], t[FORMAT_BUF], f[FORMAT_BUF];

        if (!vb->known || !vb->info.has_device)
                return;
        printf("epoch %4" PRIu64 "  %-16s balloon actual %8s  target %8s  floor %8s  ksm %6" PRId64
               " pages  host %s  %s\n",
               m->epoch, s->info.name,
               vb->info.stats.actual != NV_BALLOON_UNKNOWN ? format_size(a, vb->info.stats.actual) : "-",
               vb->target_bytes ? format_size(t, vb->target_bytes) : "-", format_size(f, vb->floor_bytes),
               vb->ksm_known ? vb->ksm.merging_pages : (int64_t)0,
               nv_host_mem_state_to_string(m->oc.host_state), nv_balloon_reason_to_string(vb->reason));
}
