/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "varlink/varlink.h"

/* What the server and the client share; in protocol.c. */

typedef struct nv_varlink_buffer {
        char *data;
        size_t len, cap;
} nv_varlink_buffer;

int nv_varlink_buffer_append(nv_varlink_buffer *b, const char *data, size_t n);
void nv_varlink_buffer_consume(nv_varlink_buffer *b, size_t n);
void nv_varlink_buffer_clear(nv_varlink_buffer *b);

/* Append message as JSON and its terminating NUL. */
int nv_varlink_frame(nv_varlink_buffer *b, json_object *message);

/* Parse exactly n bytes of text as one JSON value, at most max_depth deep: 0, -EBADMSG (not JSON,
 * or trailing bytes) or -ELOOP (too deep). */
int nv_varlink_parse(const char *text, size_t n, unsigned max_depth, json_object **ret);
