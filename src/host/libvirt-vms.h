/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The libvirt VM source: the running domains of one connection (LibvirtURI=), with what their
 * XML says (memory, vNUMA cells, memory backing) and, from libvirt's status XML under
 * ROOT/run/libvirt/qemu, the VMM pid and vCPU thread ids, and whether an outgoing migration job
 * of it runs. libvirt runs inside the caller's sd-event loop (libvirt-event.h). Lifecycle and
 * migration events call on_change at once, so that the owner can refresh. A refresh lists the
 * domains again only after a lifecycle event (or a reconnection) and otherwise reads only their
 * status XML: it never waits for libvirt while no domain starts or stops. When the connection closes (libvirtd restarts), the domains last seen are kept and
 * numavd reconnects with backoff; each reconnection calls on_change too. */

#include <systemd/sd-event.h>

#include "host/domain-xml.h"

/* Backoff between reconnection attempts: doubles from the first to the last. */
#define NV_LIBVIRT_RECONNECT_MIN_USEC (100 * USEC_PER_MSEC)
#define NV_LIBVIRT_RECONNECT_MAX_USEC (5 * USEC_PER_SEC)

typedef struct nv_libvirt_domain {
        nv_domain_desc desc;
        pid_t pid;        /* the VMM, 0 when libvirt does not say (the test driver) */
        pid_t *vcpu_tids; /* by vCPU id, 0 when unknown */
        unsigned nr_vcpu_tids;
        bool migrating; /* an outgoing migration (or save, snapshot) job runs */
} nv_libvirt_domain;

typedef struct nv_libvirt_vms nv_libvirt_vms;

typedef void (*nv_libvirt_change_cb)(void *userdata);

/* The process must ignore SIGPIPE (numavd does, at start): a write to libvirtd's socket after it
 * went away then fails with EPIPE instead of killing the process.
 * uri: e.g. "qemu:///system" or "test:///default"; root: NULL or "" for "/". Never fails because
 * libvirtd is down: it connects later. 0, -ENOMEM, -EBUSY (another sd-event loop owns libvirt). */
int nv_libvirt_vms_new(sd_event *event, const char *uri, const char *root, nv_libvirt_change_cb on_change,
                       void *userdata, nv_libvirt_vms **ret);
nv_libvirt_vms *nv_libvirt_vms_free(nv_libvirt_vms *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_libvirt_vms *, nv_libvirt_vms_free);

/* Re-list the running domains when connected; when not, keep the last list. 0 or -ENOMEM. */
int nv_libvirt_vms_refresh(nv_libvirt_vms *s);

/* The domains as last listed (valid until the next refresh). */
const nv_libvirt_domain *nv_libvirt_vms_domains(const nv_libvirt_vms *s, size_t *ret_n);

const char *nv_libvirt_vms_uri(const nv_libvirt_vms *s);
bool nv_libvirt_vms_connected(const nv_libvirt_vms *s);
/* Connections made so far (the first one and every reconnection). */
unsigned nv_libvirt_vms_connections(const nv_libvirt_vms *s);
/* The connection, for tests (NULL while disconnected). */
void *nv_libvirt_vms_conn(const nv_libvirt_vms *s);
