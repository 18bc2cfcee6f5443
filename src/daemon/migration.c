/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "daemon/manager.h"
#include "daemon/migration.h"

/* At most this many incoming migrations announced and not started yet: the hook is root's, but a
 * burst of bogus names must not grow the daemon without bound. */
#define MAX_PENDING 1024

#define WHY_INCOMING "incoming live migration"
#define WHY_OUTGOING "outgoing live migration"

static bool matches(const nv_vm_state *s, const char *key) {
        return strcmp(s->info.name, key) == 0 || (s->info.uuid[0] && strcasecmp(s->info.uuid, key) == 0);
}

static nv_vm_state *find_vm(nv_manager *m, const char *name, const char *uuid) {
        for (size_t i = 0; i < m->nr_vms; i++)
                if (matches(m->vms[i], name) || (uuid && uuid[0] && matches(m->vms[i], uuid)))
                        return m->vms[i];
        return NULL;
}

static usec_t deadline(const nv_manager *m) {
        usec_t t = m->config->migration_freeze;

        return t >= USEC_INFINITY - 1 - m->vclock ? USEC_INFINITY - 1 : m->vclock + t;
}

static void drop_pending(nv_manager *m, size_t i) {
        free(m->pending_freezes[i].key);
        m->pending_freezes[i] = m->pending_freezes[--m->nr_pending_freezes];
}

/* Drop the pending freezes for this domain, and those that ran out. */
static void sweep_pending(nv_manager *m, const char *name, const char *uuid) {
        for (size_t i = m->nr_pending_freezes; i > 0; i--) {
                const nv_pending_freeze *p = &m->pending_freezes[i - 1];

                if ((name && strcmp(p->key, name) == 0) ||
                    (uuid && uuid[0] && strcasecmp(p->key, uuid) == 0) || m->vclock >= p->until)
                        drop_pending(m, i - 1);
        }
}

static void add_pending(nv_manager *m, const char *key) {
        nv_pending_freeze *a;
        char *k;

        if (m->nr_pending_freezes >= MAX_PENDING) {
                log_warning(
                        "%u incoming migrations announced and none started, not waiting for %s, ignoring.",
                        MAX_PENDING, key);
                return;
        }
        k = strdup(key);
        a = k ? reallocarray(m->pending_freezes, m->nr_pending_freezes + 1, sizeof(*a)) : NULL;
        if (!a) {
                free(k);
                log_oom();
                return;
        }
        m->pending_freezes = a;
        a[m->nr_pending_freezes++] = (nv_pending_freeze){ .key = k, .until = deadline(m) };
        log_info("Domain %s: incoming live migration, its placement will be frozen until it has started.",
                 key);
}

void nv_migration_hook(nv_manager *m, const char *name, const char *uuid, const char *op, const char *sub) {
        bool begin = strcmp(op, "migrate") == 0 && strcmp(sub, "begin") == 0;
        bool ends = strcmp(op, "started") == 0 || strcmp(op, "stopped") == 0 || strcmp(op, "release") == 0;
        nv_vm_state *s;

        if (!begin && !ends)
                return;
        sweep_pending(m, name, uuid);
        s = find_vm(m, name, uuid);
        if (begin) {
                if (s)
                        nv_vm_state_freeze(s, WHY_INCOMING, m->vclock, m->config->migration_freeze);
                else
                        add_pending(m, uuid && uuid[0] ? uuid : name);
        } else if (s && s->frozen_why && strcmp(s->frozen_why, WHY_INCOMING) == 0)
                nv_vm_state_thaw(s, strcmp(op, "started") == 0 ? "it has started here" : "it stopped");
}

void nv_migration_follow(nv_manager *m, nv_vm_state *s) {
        for (size_t i = 0; i < m->nr_pending_freezes; i++)
                if (matches(s, m->pending_freezes[i].key)) {
                        if (m->vclock < m->pending_freezes[i].until)
                                nv_vm_state_freeze(s, WHY_INCOMING, m->vclock,
                                                   m->pending_freezes[i].until - m->vclock);
                        drop_pending(m, i);
                        break;
                }

        /* Edges only: a freeze that ran out stays thawed while the same job goes on. */
        if (s->info.migrating && !s->outgoing)
                nv_vm_state_freeze(s, WHY_OUTGOING, m->vclock, m->config->migration_freeze);
        else if (!s->info.migrating && s->outgoing && s->frozen_why &&
                 strcmp(s->frozen_why, WHY_OUTGOING) == 0)
                nv_vm_state_thaw(s, "its migration job ended");
        s->outgoing = s->info.migrating;

        (void)nv_vm_state_thaw_expired(s, m->vclock);
}

void nv_migration_done(nv_manager *m) {
        while (m->nr_pending_freezes > 0)
                drop_pending(m, m->nr_pending_freezes - 1);
        free(m->pending_freezes);
        m->pending_freezes = NULL;
}
