/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the daemon publishes: a line per epoch per VM for people watching (--watch), and one JSON
 * object at exit (--summary=json). */

#include <json-c/json.h>
#include <stdio.h>

#include "common/log.h"
#include "daemon/manager.h"
#include "daemon/varlink-manager.h"
#include "policy/placement.h"

/* The node the VM's vCPUs ran on most (the policy's dominant node with no threshold), and its
 * share of their run time. */
static int vcpu_home(const nv_vm_info *vm, double *ret_share) {
        double total = 0;
        int node = nv_placement_dominant_node(&vm->vcpu_time, NV_MAX_NODES, 0.0, NULL);

        for (int n = 0; n < NV_MAX_NODES; n++)
                total += vm->vcpu_time.sec[n];
        *ret_share = node >= 0 && total > 0 ? vm->vcpu_time.sec[node] / total : 0;
        return node;
}

void nv_report_epoch(nv_manager *m) {
        if (!m->opts.watch)
                return;
        for (size_t i = 0; i < m->nr_vms; i++) {
                const nv_vm_state *s = m->vms[i];
                char hot[FORMAT_BUF], moved[FORMAT_BUF], total[FORMAT_BUF];
                size_t nr_regions;
                double share;
                int home = vcpu_home(&s->info, &share);

                (void)nv_heatmap_regions(s->heat, &nr_regions);
                printf("epoch %4" PRIu64 "  %-16s vCPUs on node %2d (%3.0f%%)  ", m->epoch, s->info.name,
                       home, share * 100.0);
                if (s->whole_vm)
                        printf("hot  unknown  hot-local     -  ");
                else
                        printf("hot %8s  hot-local %5.1f%%  ", format_size(hot, s->counters.hot_bytes),
                               nv_vm_state_hot_local_percent(s));
                printf("moved %8s  total %8s  regions %4zu\n",
                       format_size(moved, s->counters.epoch_moved_bytes),
                       format_size(total, s->counters.migrated_bytes), nr_regions);
                nv_overcommit_watch_vm(m, s); /* a balloon line, for VMs with a balloon */
        }
        fflush(stdout);
}

static json_object *truth_json(const nv_truth *t) {
        json_object *o = json_object_new_object();

        json_object_object_add(o, "hotBytes", json_object_new_uint64(t->hot_bytes));
        json_object_object_add(o, "hotLocalBytes", json_object_new_uint64(t->hot_local_bytes));
        json_object_object_add(o, "hotLocalPercent",
                               json_object_new_double(t->hot_bytes ? 100.0 * (double)t->hot_local_bytes /
                                                                             (double)t->hot_bytes
                                                                   : 100.0));
        json_object_object_add(o, "ownedHotBytes", json_object_new_uint64(t->owned_hot_bytes));
        json_object_object_add(o, "ownedLocalBytes", json_object_new_uint64(t->owned_local_bytes));
        json_object_object_add(o, "coldBytesMoved", json_object_new_uint64(t->cold_bytes_moved));
        json_object_object_add(o, "bytesMoved", json_object_new_uint64(t->bytes_moved));
        json_object_object_add(o, "remoteFraction", json_object_new_double(t->remote_fraction));
        json_object_object_add(o, "meanLatencyNs", json_object_new_double(t->mean_latency_ns));
        return o;
}

static json_object *attribution_json(const nv_manager *m, const nv_vm_state *s) {
        json_object *o = json_object_new_object(), *a = json_object_new_array();
        unsigned nr_nodes = MAX(m->inv.nr_nodes, 1u);
        uint64_t priv[NV_MAX_NODES], shared;
        nv_attribution_stats st;
        size_t n;
        const nv_region *regions = nv_heatmap_regions(s->heat, &n);

        nv_attribution_summary(regions, n, nr_nodes, priv, &shared);
        nv_attribution_get_stats(s->owners, &st);
        for (unsigned nd = 0; nd < nr_nodes; nd++)
                json_object_array_add(a, json_object_new_uint64(priv[nd]));
        json_object_object_add(o, "privateBytesPerNode", a);
        json_object_object_add(o, "sharedBytes", json_object_new_uint64(shared));
        json_object_object_add(o, "zappedPages", json_object_new_uint64(st.zapped));
        json_object_object_add(o, "faultsSampled", json_object_new_uint64(st.faults));
        json_object_object_add(o, "faultsDropped", json_object_new_uint64(st.dropped));
        return o;
}

void nv_report_heat_json(const nv_vm_state *s, json_object *o) {
        bool known = !s->whole_vm;

        json_object_object_add(o, "hotBytes", known ? json_object_new_uint64(s->counters.hot_bytes) : NULL);
        json_object_object_add(o, "hotLocalPercent",
                               known ? json_object_new_double(nv_vm_state_hot_local_percent(s)) : NULL);
}

/* Guest memory per host node, from the heat map's regions. */
static json_object *memory_per_node_json(const nv_manager *m, const nv_region *regions, size_t n) {
        uint64_t per_node[NV_MAX_NODES] = {};
        unsigned nr_nodes = MAX(m->inv.nr_nodes, 1u);
        json_object *a = json_object_new_array();

        for (size_t i = 0; i < n; i++)
                for (unsigned nd = 0; nd < NV_MAX_NODES; nd++)
                        per_node[nd] += regions[i].node_bytes[nd];
        for (unsigned nd = 0; nd < nr_nodes && nd < NV_MAX_NODES; nd++)
                json_object_array_add(a, json_object_new_uint64(per_node[nd]));
        return a;
}

/* Of the hot memory (the last epoch's view), the bytes on each host node. */
static json_object *hot_per_node_json(const nv_manager *m, const nv_vm_state *s) {
        unsigned nr_nodes = MAX(m->inv.nr_nodes, 1u);
        json_object *a = json_object_new_array();

        for (unsigned nd = 0; nd < nr_nodes && nd < NV_MAX_NODES; nd++)
                json_object_array_add(a, json_object_new_uint64(s->counters.hot_node_bytes[nd]));
        return a;
}

json_object *nv_report_vm_json(const nv_manager *m, const nv_vm_state *s) {
        json_object *o = json_object_new_object(), *held = json_object_new_object();
        size_t nr_regions;
        const nv_region *regions = nv_heatmap_regions(s->heat, &nr_regions);
        double share;
        int home = vcpu_home(&s->info, &share);
        nv_truth t;

        json_object_object_add(o, "name", json_object_new_string(s->info.name));
        json_object_object_add(o, "uuid", json_object_new_string(s->info.uuid));
        json_object_object_add(o, "pid", json_object_new_int(s->info.pid));
        json_object_object_add(o, "vcpus", json_object_new_int((int)s->info.nr_vcpus));
        json_object_object_add(o, "memoryBytes", json_object_new_uint64(nv_vm_ram_bytes(&s->info)));
        json_object_object_add(o, "memoryPerNode", memory_per_node_json(m, regions, nr_regions));
        json_object_object_add(o, "hotPerNode", hot_per_node_json(m, s));
        json_object_object_add(o, "vcpuNode", home >= 0 ? json_object_new_int(home) : NULL);
        json_object_object_add(o, "vcpuNodePercent", json_object_new_double(share * 100.0));
        json_object_object_add(o, "regions", json_object_new_uint64(nr_regions));
        json_object_object_add(o, "epochMovedBytes", json_object_new_uint64(s->counters.epoch_moved_bytes));
        json_object_object_add(o, "placement", json_object_new_boolean(s->placement));
        json_object_object_add(o, "frozen", json_object_new_boolean(nv_vm_state_frozen(s, m->vclock)));
        nv_report_heat_json(s, o);
        json_object_object_add(o, "migratedBytes", json_object_new_uint64(s->counters.migrated_bytes));
        json_object_object_add(o, "pingPongBytes", json_object_new_uint64(s->counters.ping_pong_bytes));
        json_object_object_add(o, "failedBytes", json_object_new_uint64(s->counters.failed_bytes));
        json_object_object_add(o, "targetNode", json_object_new_int(s->counters.target_node));
        nv_overcommit_vm_json(m, s, o); /* "balloon", "ksm" */
        if (s->meters)                  /* "counters", "dirtyRate", ... and memoryPerNode from numa_maps */
                nv_meters_json(s->meters, m->inv.nr_nodes, o);
        for (unsigned v = 0; v < _NV_VERDICT_MAX; v++)
                if (s->counters.bytes_by_verdict[v] > 0)
                        json_object_object_add(held, nv_verdict_to_string((nv_verdict)v),
                                               json_object_new_uint64(s->counters.bytes_by_verdict[v]));
        json_object_object_add(o, "bytesByVerdict", held);
        json_object_object_add(o, "attribution", s->owners ? attribution_json(m, s) : NULL);
        if (m->host.truth && m->host.truth(m->host.ctx, s->info.id, &t) >= 0)
                json_object_object_add(o, "truth", truth_json(&t));
        return o;
}

void nv_report_mover_json(const nv_manager *m, json_object *o) {
        const nv_mover_stats *st = nv_mover_get_stats(m->mover);
        json_object *failures = json_object_new_object();

        json_object_object_add(o, "migratedBytes", json_object_new_uint64(st->bytes_moved));
        json_object_object_add(o, "moveCalls", json_object_new_uint64(st->calls));
        for (unsigned i = 0; i < _NV_ERRNO_MAX; i++)
                json_object_object_add(failures, nv_mover_errno_name(i),
                                       json_object_new_uint64(st->failures[i]));
        json_object_object_add(o, "moveFailures", failures);
}

int nv_report_summary_json(nv_manager *m, FILE *f) {
        json_object *root = json_object_new_object(), *vms = json_object_new_object();

        if (!root || !vms)
                return log_oom();
        json_object_object_add(root, "epochs", json_object_new_uint64(m->epoch));
        json_object_object_add(root, "host", json_object_new_string(m->host.kind));
        json_object_object_add(root, "backend",
                               json_object_new_string(m->access ? m->access->name : "none"));
        json_object_object_add(root, "dryRun", json_object_new_boolean(m->opts.dry_run));
        nv_report_mover_json(m, root);
        nv_overcommit_host_json(m, root); /* "hostMemory", "ksm" */
        for (size_t i = 0; i < m->nr_vms; i++)
                json_object_object_add(vms, m->vms[i]->info.name, nv_report_vm_json(m, m->vms[i]));
        json_object_object_add(root, "vms", vms);

        fprintf(f, "%s\n",
                json_object_to_json_string_ext(root,
                                               JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        fflush(f);
        json_object_put(root);
        return 0;
}
