/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The real host's ports: VMs from libvirt and/or /proc (any process holding a KVM VM fd), the
 * topology through hwloc (free memory per node from sysfs), pages moved with move_pages(2), the
 * access samplers Backend= opens (the numavd_ept module, DAMON), the host's memory (meminfo, PSI),
 * per-VM counters from /proc and debugfs, with params.overcommit the balloon (libvirt) and KSM
 * (sysfs) ports, whose KSM settings are restored when the host is destroyed, and with
 * params.attribution which vCPU touches what (the numavd_ept module's ZAP and DRAIN, when it is
 * loaded and offers them).
 *
 * A VMM seen by both sources is one VM (matched by pid): libvirt gives its name, uuid, vNUMA cells
 * and memory size, /proc its vCPU threads, their run time per node and its RAM mappings. Every
 * VMM is watched through a pidfd: when it exits, on_change is called at once and the VM is left
 * out of the next refresh. libvirt lifecycle events and reconnections call on_change too. */

#include <systemd/sd-event.h>

#include "model/host.h"

typedef struct nv_real_host_params {
        const char *root;                  /* NULL or "" for "/"; tests point it at a fixture tree */
        const char *topology_xml;          /* an hwloc XML file (tests); NULL: discover this system */
        sd_event *event;                   /* needed for libvirt and the pidfds; NULL: neither */
        bool use_libvirt;                  /* Sources=libvirt or both */
        bool use_proc;                     /* Sources=proc or both */
        const char *libvirt_uri;           /* NULL: qemu:///system */
        bool overcommit;                   /* also the balloon and KSM ports (the daemon) */
        bool attribution;                  /* also the attribution port, if numavd_ept 1.1 is there */
        void (*on_change)(void *userdata); /* a VM appeared or went: refresh now (may be NULL) */
        void *userdata;
} nv_real_host_params;

/* The topology is read once here; node memory and the VMs on every refresh. ret->destroy frees
 * the context. 0 or -errno, *ret untouched on failure. */
int nv_real_host_new(const nv_real_host_params *p, nv_host *ret);

/* Follow a reload of Sources= and LibvirtURI= (the balloons follow LibvirtURI= too): open the new libvirt connection (connecting in the
 * background as at start) and close the old one, or stop asking libvirt. host must come from
 * nv_real_host_new(). 1 when something changed, 0 when nothing did, -errno with the old sources
 * kept in force. */
int nv_real_host_set_sources(nv_host *host, bool use_libvirt, bool use_proc, const char *libvirt_uri);

/* Choose the guest RAM ranges of a libvirt domain among a VMM's candidate mappings (address
 * order): per vNUMA cell, the first unused mapping of exactly that cell's size; without cells, the
 * first of exactly the domain's memory size. gpa is laid out cell after cell, cell set. Returns
 * the number of ranges kept at the front of ranges, or 0 when nothing matches (the caller keeps
 * the candidates no larger than the domain's memory then). Pure. */
size_t nv_match_domain_ram(nv_ram_range *ranges, size_t n, uint64_t memory_bytes, const uint64_t *cell_bytes,
                           unsigned nr_cells);
