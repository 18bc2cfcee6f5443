/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "host/access-backends.h"
#include "host/host-memory.h"
#include "host/libvirt-vms.h"
#include "host/proc-vms.h"
#include "host/real-host.h"
#include "host/topology.h"
#include "migrate/balloon-libvirt.h"
#include "migrate/ksm-sysfs.h"
#include "sampler/attribution-kmod.h"
#include "migrate/mover.h"

/* A VMM watched through its pidfd. */
typedef struct vmm_watch {
        uint64_t vm_id;
        pid_t pid;
        int fd;
        sd_event_source *source;
        bool exited;
        bool seen; /* in the current refresh */
} vmm_watch;

typedef struct real_host {
        nv_real_host_params params;
        sd_event *event;
        nv_topology topology;
        nv_proc_vms *vms;
        nv_libvirt_vms *libvirt;
        vmm_watch *watches;
        size_t nr_watches;
        /* Only a VMM exited since the last refresh: no need to ask libvirt, which may hold the
         * domain locked while it cleans up after the exit (seen: 1.6 s). */
        bool only_exits;
        nv_balloon_libvirt *balloon;           /* with params.overcommit */
        nv_ksm_sysfs *ksm;                     /* with params.overcommit, when the kernel has KSM */
        const nv_attribution_ops *attribution; /* with params.attribution, when numavd_ept offers it */
        void *attribution_ctx;
        char *proc_root, *debugfs; /* under params.root, NULL: the system's */
        nv_counter_sources counters;
} real_host;

static void watch_done(vmm_watch *w) {
        sd_event_source_disable_unref(w->source);
        if (w->fd >= 0)
                close(w->fd);
}

static void real_host_destroy(void *ctx) {
        real_host *h = ctx;

        if (!h)
                return;
        nv_ksm_sysfs_free(h->ksm); /* restores the KSM settings found at start */
        if (h->attribution)
                h->attribution->destroy(h->attribution_ctx);
        nv_balloon_libvirt_free(h->balloon);
        for (size_t i = 0; i < h->nr_watches; i++)
                watch_done(&h->watches[i]);
        free(h->watches);
        free(h->proc_root);
        free(h->debugfs);
        nv_libvirt_vms_free(h->libvirt);
        nv_proc_vms_free(h->vms);
        nv_topology_done(&h->topology);
        sd_event_unref(h->event);
        free(h);
}

static void changed(real_host *h) {
        if (h->params.on_change)
                h->params.on_change(h->params.userdata);
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        real_host *h = userdata;
        vmm_watch *w = NULL;

        /* Find the watch by its source: the array may have moved since it was added. */
        for (size_t i = 0; i < h->nr_watches; i++)
                if (h->watches[i].source == s)
                        w = &h->watches[i];
        if (!w)
                return 0;
        log_debug("VMM process %d exited (pidfd).", (int)w->pid);
        w->exited = true;
        (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
        h->only_exits = true;
        changed(h);
        return 0;
}

static vmm_watch *find_watch(real_host *h, uint64_t id) {
        for (size_t i = 0; i < h->nr_watches; i++)
                if (h->watches[i].vm_id == id)
                        return &h->watches[i];
        return NULL;
}

/* The VM's watch, made on first sight. false when the VMM has exited (or is exiting). */
static bool watch_alive(real_host *h, const nv_vm_info *vm) {
        vmm_watch *w = find_watch(h, vm->id);
        int fd, r;

        if (!w) {
                fd = (int)syscall(SYS_pidfd_open, vm->pid, 0); /* pidfds are always close-on-exec */
                if (fd < 0) {
                        if (errno == ESRCH)
                                return false;
                        log_debug_errno(-errno, "Cannot open a pidfd for VMM %d, ignoring: %m",
                                        (int)vm->pid);
                        return true; /* e.g. a fixture tree's pid: not watched */
                }
                vmm_watch *a = reallocarray(h->watches, h->nr_watches + 1, sizeof(*a));
                if (!a) {
                        close(fd);
                        return true;
                }
                h->watches = a;
                w = &h->watches[h->nr_watches++];
                *w = (vmm_watch){ .vm_id = vm->id, .pid = vm->pid, .fd = fd };
                r = sd_event_add_io(h->event, &w->source, fd, EPOLLIN, on_pidfd, h);
                if (r < 0)
                        log_warning_errno(r, "Cannot watch VMM %d, ignoring: %m", (int)vm->pid);
                else
                        (void)sd_event_source_set_description(w->source, "vmm-pidfd");
        }
        w->seen = true;
        return !w->exited;
}

size_t nv_match_domain_ram(nv_ram_range *ranges, size_t n, uint64_t memory_bytes, const uint64_t *cell_bytes,
                           unsigned nr_cells) {
        unsigned want = MAX(nr_cells, 1u);
        size_t kept = 0;
        uint64_t gpa = 0;

        for (unsigned c = 0; c < want; c++) {
                uint64_t size = nr_cells > 0 ? cell_bytes[c] : memory_bytes;
                size_t i;

                for (i = kept; i < n; i++)
                        if (ranges[i].size == size)
                                break;
                if (i == n)
                        return 0;
                nv_ram_range r = ranges[i];
                memmove(&ranges[kept + 1], &ranges[kept], (i - kept) * sizeof(*ranges));
                r.gpa = gpa;
                r.cell = nr_cells > 0 ? (int)c : -1;
                ranges[kept++] = r;
                gpa += size;
        }
        return kept;
}

/* What libvirt knows, over what /proc found for the same VMM. */
static int apply_domain(nv_vm_info *vm, const nv_libvirt_domain *d) {
        size_t kept;
        char *name;

        name = strdup(d->desc.name);
        if (!name)
                return -ENOMEM;
        free(vm->name);
        vm->name = name;
        memcpy(vm->uuid, d->desc.uuid, sizeof(vm->uuid));
        vm->migrating = d->migrating;

        kept = nv_match_domain_ram(vm->ranges, vm->nr_ranges, d->desc.memory_bytes, d->desc.cell_bytes,
                                   d->desc.nr_cells);
        if (kept == 0) {
                /* No mapping of the expected size: keep what could be guest RAM. */
                log_debug("Domain %s: no mapping of its memory size, keeping the candidates.", d->desc.name);
                for (size_t i = 0; i < vm->nr_ranges; i++)
                        if (vm->ranges[i].size <= d->desc.memory_bytes)
                                vm->ranges[kept++] = vm->ranges[i];
        }
        vm->nr_ranges = kept;
        if (d->desc.locked)
                for (size_t i = 0; i < kept; i++)
                        vm->ranges[i].backing = NV_BACKING_PINNED;
        return 0;
}

static int real_host_refresh(void *ctx, nv_inventory *inv) {
        real_host *h = ctx;
        _cleanup_free_ nv_proc_vm_hint *hints = NULL;
        const nv_libvirt_domain *doms = NULL;
        nv_inventory fresh = {};
        size_t nr_doms = 0, nr_hints = 0, kept = 0;
        int r;

        /* Free memory changes all the time; a failure to read it leaves the last known values. */
        r = nv_topology_refresh_memory(&h->topology);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                log_warning_errno(r, "Failed to refresh node memory, using the last values, ignoring: %m");

        if (h->libvirt) {
                r = h->only_exits ? 0 : nv_libvirt_vms_refresh(h->libvirt);
                h->only_exits = false;
                if (r < 0)
                        return r;
                doms = nv_libvirt_vms_domains(h->libvirt, &nr_doms);
                hints = calloc(MAX(nr_doms, (size_t)1), sizeof(*hints));
                if (!hints)
                        return -ENOMEM;
                for (size_t i = 0; i < nr_doms; i++)
                        if (doms[i].pid > 0)
                                hints[nr_hints++] = (nv_proc_vm_hint){
                                        .pid = doms[i].pid,
                                        .vcpu_cell = doms[i].desc.vcpu_cell,
                                        .nr_vcpu_cell = doms[i].desc.vcpu_cell ? doms[i].desc.nr_vcpus : 0,
                                        .nr_cells = doms[i].desc.nr_cells,
                                };
        }

        nv_topology_fill_inventory(&h->topology, &fresh);
        r = nv_proc_vms_scan_hinted(h->vms, &h->topology, hints, nr_hints, h->params.use_proc, &fresh);
        if (r < 0)
                return r;

        for (size_t i = 0; i < h->nr_watches; i++)
                h->watches[i].seen = false;
        for (size_t i = 0; i < fresh.nr_vms; i++) {
                nv_vm_info *vm = &fresh.vms[i];

                if (h->event && !watch_alive(h, vm)) {
                        nv_vm_info_clear(vm);
                        continue;
                }
                for (size_t k = 0; k < nr_doms; k++)
                        if (doms[k].pid == vm->pid) {
                                r = apply_domain(vm, &doms[k]);
                                if (r < 0) {
                                        nv_inventory_clear(&fresh);
                                        return r;
                                }
                        }
                fresh.vms[kept++] = *vm;
        }
        fresh.nr_vms = kept;

        /* Watches of VMs no longer listed are dropped. */
        for (size_t i = h->nr_watches; i > 0; i--)
                if (!h->watches[i - 1].seen) {
                        watch_done(&h->watches[i - 1]);
                        h->watches[i - 1] = h->watches[--h->nr_watches];
                }

        *inv = fresh;
        return 0;
}

static const nv_vm_source_ops real_host_source_ops = {
        .refresh = real_host_refresh,
};

static void on_libvirt_change(void *userdata) {
        real_host *h = userdata;

        h->only_exits = false;
        changed(h);
}

static int open_libvirt(real_host *h, const char *uri, nv_libvirt_vms **ret) {
        int r;

        if (!h->event)
                return log_error_errno(-EINVAL, "The libvirt source needs an event loop.");
        r = nv_libvirt_vms_new(h->event, uri ?: "qemu:///system", h->params.root, on_libvirt_change, h, ret);
        if (r < 0)
                return log_error_errno(r, "Cannot set up the libvirt source: %m");
        return 0;
}

int nv_real_host_set_sources(nv_host *host, bool use_libvirt, bool use_proc, const char *libvirt_uri) {
        real_host *h = host->ctx;
        bool same_libvirt;
        int r;

        libvirt_uri = libvirt_uri ?: "qemu:///system";
        if (h->balloon) {
                r = nv_balloon_libvirt_set_uri(h->balloon, libvirt_uri);
                if (r < 0)
                        log_warning_errno(r, "Balloons stay on the previous libvirt URI, ignoring: %m");
        }
        same_libvirt = h->libvirt ? use_libvirt && strcmp(nv_libvirt_vms_uri(h->libvirt), libvirt_uri) == 0
                                  : !use_libvirt;
        if (same_libvirt && h->params.use_proc == use_proc)
                return 0;

        if (!same_libvirt) {
                nv_libvirt_vms *fresh = NULL;

                if (use_libvirt) {
                        r = open_libvirt(h, libvirt_uri, &fresh);
                        if (r < 0)
                                return r;
                } else
                        log_info("No longer asking libvirt for VMs.");
                nv_libvirt_vms_free(h->libvirt);
                h->libvirt = fresh;
        }
        h->params.use_libvirt = use_libvirt;
        h->params.use_proc = use_proc;
        h->only_exits = false; /* the next refresh asks the sources anew */
        return 1;
}

static int real_host_memory(void *ctx, nv_host_memory *ret) {
        real_host *h = ctx;

        return nv_read_host_memory(h->params.root, ret);
}

/* The balloon (libvirt) and KSM (sysfs) ports. A kernel without KSM leaves it out. */
static int open_overcommit(real_host *h, const char *libvirt_uri) {
        int r;

        r = nv_balloon_libvirt_new(libvirt_uri, &h->balloon);
        if (r < 0)
                return log_oom();
        r = nv_ksm_sysfs_new(NULL, NULL, &h->ksm);
        if (r == -ENOENT)
                log_info("The kernel has no KSM, not tuning it.");
        else if (r < 0)
                log_warning_errno(r, "Not tuning KSM: %m");
        return 0;
}

/* Which vCPU touches what: the numavd_ept module's ZAP and DRAIN, CPUs mapped to nodes by the
 * host's topology. Without it the daemon places by where each VM's vCPUs run. */
static void open_attribution(real_host *h) {
        int r = nv_kmod_attribution_new(NULL, h->topology.cpu_node, h->topology.nr_cpus, &h->attribution,
                                        &h->attribution_ctx);

        if (r < 0) {
                h->attribution = NULL;
                log_info_errno(r, "No fault attribution: numavd_ept 1.1 is not usable here (%m).");
                return;
        }
        log_info("Fault attribution through the numavd_ept module (which vCPU touches which memory).");
}

static int counter_roots(real_host *h) {
        const char *root = h->params.root;

        if (!root || !root[0])
                return 0;
        if (asprintf(&h->proc_root, "%s/proc", root) < 0) {
                h->proc_root = NULL;
                return -ENOMEM;
        }
        if (asprintf(&h->debugfs, "%s/sys/kernel/debug", root) < 0) {
                h->debugfs = NULL;
                return -ENOMEM;
        }
        return 0;
}

int nv_real_host_new(const nv_real_host_params *p, nv_host *ret) {
        real_host *h;
        int r;

        h = calloc(1, sizeof(*h));
        if (!h)
                return log_oom();
        h->params = *p;
        h->event = p->event ? sd_event_ref(p->event) : NULL;

        r = nv_topology_load(p->root, p->topology_xml, NULL, &h->topology);
        if (r < 0) {
                real_host_destroy(h);
                return log_error_errno(r, "Failed to read the NUMA topology: %m");
        }
        r = nv_proc_vms_new(p->root, &h->vms);
        if (r >= 0)
                r = counter_roots(h);
        if (r < 0) {
                real_host_destroy(h);
                return log_oom();
        }
        h->counters = (nv_counter_sources){ .proc_root = h->proc_root, .debugfs = h->debugfs };
        if (p->overcommit) {
                r = open_overcommit(h, p->libvirt_uri);
                if (r < 0) {
                        real_host_destroy(h);
                        return r;
                }
        }
        if (p->attribution)
                open_attribution(h);
        h->params.libvirt_uri = NULL; /* the caller's string: the connection keeps its own copy */
        if (p->use_libvirt) {
                r = open_libvirt(h, p->libvirt_uri, &h->libvirt);
                if (r < 0) {
                        real_host_destroy(h);
                        return r;
                }
        }

        *ret = (nv_host){
                .kind = "real",
                .ctx = h,
                .source = &real_host_source_ops,
                .access = NULL,
                .access_backends = nv_real_access_backends,
                .nr_access_backends = nv_real_access_backends_len,
                .mover = &nv_move_pages_ops,
                .mover_ctx = NULL,
                .memory = real_host_memory,
                .counters = &h->counters,
                .balloon = h->balloon ? &nv_balloon_libvirt_ops : NULL,
                .balloon_ctx = h->balloon,
                .ksm = h->ksm ? &nv_ksm_sysfs_ops : NULL,
                .ksm_ctx = h->ksm,
                .attribution = h->attribution,
                .attribution_ctx = h->attribution_ctx,
                .destroy = real_host_destroy,
        };
        return 0;
}
