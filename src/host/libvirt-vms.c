/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "common/log.h"
#include "common/fileio.h"
#include "host/libvirt-event.h"
#include "host/libvirt-vms.h"

struct nv_libvirt_vms {
        sd_event *event;
        char *uri;
        char *status_dir; /* ROOT/run/libvirt/qemu */
        nv_libvirt_change_cb on_change;
        void *userdata;

        virConnectPtr conn;
        int event_ids[3]; /* lifecycle, migration iteration, job completed; -1: none */
        unsigned connections;
        sd_event_source *reconnect; /* armed while disconnected */
        usec_t backoff;
        bool closed; /* the connection closed under us: drop it from a clean stack */
        bool stale;  /* an event said the list of domains may have changed: list them again */

        nv_libvirt_domain *domains;
        size_t nr_domains;
};

static void domains_free(nv_libvirt_domain *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                nv_domain_desc_done(&d[i].desc);
                free(d[i].vcpu_tids);
        }
        free(d);
}

/* libvirt reports errors through a global handler that prints to stderr by default. */
static void on_libvirt_error(void *userdata, virErrorPtr err) {
        log_debug("libvirt: %s", err && err->message ? err->message : "unknown error");
}

static void notify(nv_libvirt_vms *s) {
        if (s->on_change)
                s->on_change(s->userdata);
}

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque) {
        nv_libvirt_vms *s = opaque;
        /* Paused or resumed, a domain stays what it was: its status XML says the rest. */
        bool same = event == VIR_DOMAIN_EVENT_SUSPENDED || event == VIR_DOMAIN_EVENT_RESUMED;
        /* Paused for the last pass of a migration, or in post-copy: a job to look at. */
        bool migration = event == VIR_DOMAIN_EVENT_SUSPENDED &&
                         (detail == VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED ||
                          detail == VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY ||
                          detail == VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED);

        log_debug("libvirt: domain %s lifecycle event %d/%d.", virDomainGetName(dom), event, detail);
        /* RESUMED also ends a failed or cancelled outgoing migration: the source runs on. */
        if (event == VIR_DOMAIN_EVENT_STARTED || event == VIR_DOMAIN_EVENT_STOPPED ||
            event == VIR_DOMAIN_EVENT_CRASHED || event == VIR_DOMAIN_EVENT_RESUMED ||
            event == VIR_DOMAIN_EVENT_SHUTDOWN || migration) {
                s->stale = s->stale || !same;
                notify(s);
        }
        return 0;
}

/* A migration's memory pass ended and another begins: the job runs (the first pass, often the
 * longest, ends with the first of these; libvirt has no event for the start of a job, whose
 * <job async=> in the status XML each refresh reads). */
static void on_migration_iteration(virConnectPtr conn, virDomainPtr dom, int iteration, void *opaque) {
        log_debug("libvirt: domain %s migration pass %d.", virDomainGetName(dom), iteration);
        notify(opaque);
}

static void on_job_completed(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr params, int nparams,
                             void *opaque) {
        log_debug("libvirt: domain %s job completed.", virDomainGetName(dom));
        notify(opaque);
}

static void schedule_reconnect(nv_libvirt_vms *s);
static void on_close(virConnectPtr conn, int reason, void *opaque);

static void disconnect(nv_libvirt_vms *s) {
        if (!s->conn)
                return;
        for (size_t i = 0; i < ARRAY_SIZE(s->event_ids); i++) {
                if (s->event_ids[i] >= 0)
                        (void)virConnectDomainEventDeregisterAny(s->conn, s->event_ids[i]);
                s->event_ids[i] = -1;
        }
        (void)virConnectUnregisterCloseCallback(s->conn, on_close);
        (void)virConnectClose(s->conn);
        s->conn = NULL;
}

static void on_close(virConnectPtr conn, int reason, void *opaque) {
        nv_libvirt_vms *s = opaque;

        /* Called with libvirt's locks held: only note it and schedule the reconnection. */
        log_info("The libvirt connection to %s closed (reason %d), reconnecting.", s->uri, reason);
        s->closed = true;
        s->backoff = 0;
        schedule_reconnect(s);
}

static int try_connect(nv_libvirt_vms *s) {
        virConnectPtr conn;
        int r;

        conn = virConnectOpen(s->uri);
        if (!conn)
                return -ECONNREFUSED;

        /* Notice a libvirtd that hangs (5 s, 3 probes); needs an event loop, which we have. */
        if (virConnectSetKeepAlive(conn, 5, 3) < 0)
                log_debug("libvirt: %s does not support keepalive, ignoring.", s->uri);
        if (virConnectRegisterCloseCallback(conn, on_close, s, NULL) < 0)
                log_debug("libvirt: %s has no close callback, ignoring.", s->uri);
        r = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                             VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), s, NULL);
        if (r < 0) {
                (void)virConnectUnregisterCloseCallback(conn, on_close);
                (void)virConnectClose(conn);
                return -EIO;
        }
        s->conn = conn;
        s->event_ids[0] = r;
        /* Migration events only hasten what the status XML at each refresh says: not fatal. */
        s->event_ids[1] =
                virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
                                                 VIR_DOMAIN_EVENT_CALLBACK(on_migration_iteration), s, NULL);
        s->event_ids[2] =
                virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                                 VIR_DOMAIN_EVENT_CALLBACK(on_job_completed), s, NULL);
        if (s->event_ids[1] < 0 || s->event_ids[2] < 0)
                log_debug("libvirt: %s has no migration events, ignoring.", s->uri);
        s->connections++;
        s->stale = true;
        return 0;
}

static int on_reconnect(sd_event_source *source, uint64_t usec, void *userdata) {
        nv_libvirt_vms *s = userdata;
        bool first = s->connections == 0;

        if (s->closed) {
                disconnect(s);
                s->closed = false;
        }
        if (s->conn)
                return 0;
        if (try_connect(s) < 0) {
                s->backoff =
                        CLAMP(s->backoff * 2, NV_LIBVIRT_RECONNECT_MIN_USEC, NV_LIBVIRT_RECONNECT_MAX_USEC);
                log_debug("libvirt: cannot connect to %s, retrying in %" PRIu64 " ms.", s->uri,
                          s->backoff / USEC_PER_MSEC);
                schedule_reconnect(s);
                return 0;
        }
        log_info("Connected to libvirt at %s%s.", s->uri, first ? "" : " again");
        s->backoff = 0;
        notify(s);
        return 0;
}

static void schedule_reconnect(nv_libvirt_vms *s) {
        uint64_t now;
        int r;

        (void)sd_event_now(s->event, CLOCK_MONOTONIC, &now);
        if (!s->reconnect) {
                r = sd_event_add_time(s->event, &s->reconnect, CLOCK_MONOTONIC, now + s->backoff, 0,
                                      on_reconnect, s);
                if (r < 0) {
                        log_warning_errno(r, "Cannot schedule reconnecting to libvirt, ignoring: %m");
                        return;
                }
                (void)sd_event_source_set_description(s->reconnect, "libvirt-reconnect");
                return;
        }
        (void)sd_event_source_set_time(s->reconnect, now + s->backoff);
        (void)sd_event_source_set_enabled(s->reconnect, SD_EVENT_ONESHOT);
}

int nv_libvirt_vms_new(sd_event *event, const char *uri, const char *root, nv_libvirt_change_cb on_change,
                       void *userdata, nv_libvirt_vms **ret) {
        _cleanup_(nv_libvirt_vms_freep) nv_libvirt_vms *s = NULL;
        int r;

        r = nv_libvirt_event_register(event);
        if (r < 0)
                return r;
        virSetErrorFunc(NULL, on_libvirt_error);

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(event);
        for (size_t i = 0; i < ARRAY_SIZE(s->event_ids); i++)
                s->event_ids[i] = -1;
        s->on_change = on_change;
        s->userdata = userdata;
        s->uri = strdup(uri);
        s->status_dir = nv_root_path(root, "/run/libvirt/qemu");
        if (!s->uri || !s->status_dir)
                return -ENOMEM;

        if (try_connect(s) < 0) {
                log_warning("Cannot connect to libvirt at %s yet, retrying in the background.", uri);
                s->backoff = NV_LIBVIRT_RECONNECT_MIN_USEC;
                schedule_reconnect(s);
        } else
                log_info("Connected to libvirt at %s.", uri);

        *ret = TAKE_PTR(s);
        return 0;
}

nv_libvirt_vms *nv_libvirt_vms_free(nv_libvirt_vms *s) {
        if (!s)
                return NULL;
        disconnect(s);
        sd_event_source_disable_unref(s->reconnect);
        domains_free(s->domains, s->nr_domains);
        sd_event_unref(s->event);
        free(s->uri);
        free(s->status_dir);
        free(s);
        return NULL;
}

/* The VMM pid, vCPU tids and job from the status XML; a driver without one (test:///) leaves them
 * 0: a test driver's domain has no job that reads its memory. */
static void read_status(const nv_libvirt_vms *s, nv_libvirt_domain *d) {
        _cleanup_free_ char *path = NULL, *xml = NULL;
        size_t size;
        int r;

        free(d->vcpu_tids);
        d->vcpu_tids = NULL;
        d->nr_vcpu_tids = 0;
        d->pid = 0;
        d->migrating = false;

        if (asprintf(&path, "%s/%s.xml", s->status_dir, d->desc.name) < 0)
                return;
        r = nv_read_file_at(AT_FDCWD, path, &xml, &size);
        if (r < 0) {
                log_debug_errno(r, "No status XML for domain %s (%s): %m", d->desc.name, path);
                return;
        }
        r = nv_domain_status_parse(xml, size, &d->pid, &d->vcpu_tids, &d->nr_vcpu_tids, &d->migrating);
        if (r < 0)
                log_warning_errno(r, "Cannot parse %s, ignoring: %m", path);
}

static int describe(const nv_libvirt_vms *s, virDomainPtr dom, nv_libvirt_domain *ret) {
        nv_libvirt_domain d = {};
        char *xml;
        int r;

        xml = virDomainGetXMLDesc(dom, 0);
        if (!xml)
                return -EIO;
        r = nv_domain_xml_parse(xml, strlen(xml), &d.desc);
        free(xml);
        if (r < 0)
                return r;
        read_status(s, &d);
        *ret = d;
        return 0;
}

int nv_libvirt_vms_refresh(nv_libvirt_vms *s) {
        virDomainPtr *doms = NULL;
        nv_libvirt_domain *list;
        size_t n = 0;
        int nr;

        /* Between events, the last list with its status XML read again, and no call into libvirt:
         * listing the domains and virDomainGetXMLDesc wait for each domain's lock, which libvirt
         * holds for seconds while it sets a job up (tests/test-libvirt-migrate.sh), and this loop
         * must not wait with them. Whether a job that reads the guest's memory runs comes from the
         * status XML too, not from virDomainGetJobStats or virDomainGetJobInfo: the qemu driver
         * answers both by starting a query job on the domain and asking QEMU, so they wait behind
         * the job's setup as well; and virDomainGetControlInfo, which takes no job, sees a
         * migration only while one of its monitor commands runs. */
        if (!s->conn || s->closed || !s->stale) {
                for (size_t i = 0; i < s->nr_domains; i++)
                        read_status(s, &s->domains[i]);
                return 0;
        }

        nr = virConnectListAllDomains(s->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
        if (nr < 0) {
                log_debug("libvirt: listing domains failed, keeping the last list.");
                if (virConnectIsAlive(s->conn) != 1) {
                        s->closed = true;
                        schedule_reconnect(s);
                }
                return 0;
        }

        list = calloc(MAX(nr, 1), sizeof(*list));
        for (int i = 0; i < nr; i++) {
                int r = list ? describe(s, doms[i], &list[n]) : -ENOMEM;

                if (r >= 0)
                        n++;
                else if (r != -ENOMEM)
                        log_debug_errno(r,
                                        "libvirt: cannot describe domain %s (it may just have stopped), "
                                        "ignoring: %m",
                                        virDomainGetName(doms[i]));
                virDomainFree(doms[i]);
        }
        free(doms);
        if (!list)
                return -ENOMEM;

        domains_free(s->domains, s->nr_domains);
        s->domains = list;
        s->nr_domains = n;
        s->stale = false;
        return 0;
}

const nv_libvirt_domain *nv_libvirt_vms_domains(const nv_libvirt_vms *s, size_t *ret_n) {
        *ret_n = s->nr_domains;
        return s->domains;
}

const char *nv_libvirt_vms_uri(const nv_libvirt_vms *s) {
        return s->uri;
}

bool nv_libvirt_vms_connected(const nv_libvirt_vms *s) {
        return s->conn && !s->closed;
}

unsigned nv_libvirt_vms_connections(const nv_libvirt_vms *s) {
        return s->connections;
}

void *nv_libvirt_vms_conn(const nv_libvirt_vms *s) {
        return s->conn;
}
