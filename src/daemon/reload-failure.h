/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The last reload that failed, kept until a reload succeeds, so that an operator who missed the
 * log still sees it (GetHost's lastFailedReload, `numavctl status`). What is kept is the first
 * error that reload logged: for a file that does not parse, "FILE:LINE: message". */

#include <stdbool.h>
#include <stdint.h>

struct json_object;

typedef struct nv_reload_failure {
        bool failed;
        uint64_t realtime_usec; /* when it failed, CLOCK_REALTIME */
        char message[1024];     /* its first error */
        char pending[1024];     /* the first error of the reload under way */
} nv_reload_failure;

/* A reload starts: until nv_reload_failure_end(), the first error logged is noted. */
void nv_reload_failure_begin(nv_reload_failure *f);
/* The reload ended with r: a failure (r < 0) is kept with its first error (or strerror(-r)) and
 * the time; a success forgets the last failure. */
void nv_reload_failure_end(nv_reload_failure *f, int r);

/* Add "lastFailedReload": {message, timestamp} to o, if a failure is kept. */
void nv_reload_failure_json(const nv_reload_failure *f, struct json_object *o);
