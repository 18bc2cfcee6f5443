/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "daemon/reload-failure.h"

static void note_first_error(int level, const char *message, void *userdata) {
        nv_reload_failure *f = userdata;

        if (level > LOG_ERR || f->pending[0])
                return;
        snprintf(f->pending, sizeof(f->pending), "%s", message);
}

void nv_reload_failure_begin(nv_reload_failure *f) {
        f->pending[0] = '\0';
        log_set_hook(note_first_error, f);
}

void nv_reload_failure_end(nv_reload_failure *f, int r) {
        struct timespec ts;

        log_set_hook(NULL, NULL);
        if (r >= 0) {
                f->failed = false;
                f->message[0] = '\0';
                return;
        }
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        f->failed = true;
        f->realtime_usec = (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
        snprintf(f->message, sizeof(f->message), "%s", f->pending[0] ? f->pending : strerror(-r));
}

void nv_reload_failure_json(const nv_reload_failure *f, json_object *o) {
        json_object *j;

        if (!f->failed)
                return;
        j = json_object_new_object();
        json_object_object_add(j, "message", json_object_new_string(f->message));
        json_object_object_add(j, "timestamp", json_object_new_uint64(f->realtime_usec));
        json_object_object_add(o, "lastFailedReload", j);
}
