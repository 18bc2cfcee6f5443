/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The protocol both ends share: the message buffer, NUL framing, bounded JSON parsing, and
 * parsing a varlink address. */

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "varlink/varlink-internal.h"

int nv_varlink_address_parse(const char *address, struct sockaddr_un *ret, socklen_t *ret_len) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *p = address;
        size_t n;

        if (!address)
                return -EINVAL;
        if (strncmp(p, "unix:", 5) == 0)
                p += 5;
        n = strcspn(p, ";");
        if (n == 0 || (p[0] != '/' && p[0] != '@') || n >= sizeof(sa.sun_path))
                return -EINVAL;
        if (memchr(p, '\0', n) != NULL)
                return -EINVAL;
        memcpy(sa.sun_path, p, n);
        if (p[0] == '@')
                sa.sun_path[0] = '\0'; /* the abstract namespace */
        *ret = sa;
        *ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (p[0] == '/' ? 1 : 0));
        return 0;
}

int nv_varlink_buffer_append(nv_varlink_buffer *b, const char *data, size_t n) {
        if (b->len + n > b->cap) {
                size_t cap = MAX(b->cap * 2, b->len + n);
                char *p = realloc(b->data, MAX(cap, (size_t)4096));

                if (!p)
                        return -ENOMEM;
                b->data = p;
                b->cap = MAX(cap, (size_t)4096);
        }
        memcpy(b->data + b->len, data, n);
        b->len += n;
        return 0;
}

void nv_varlink_buffer_consume(nv_varlink_buffer *b, size_t n) {
        if (n == 0)
                return;
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
}

void nv_varlink_buffer_clear(nv_varlink_buffer *b) {
        free(b->data);
        *b = (nv_varlink_buffer){};
}

int nv_varlink_frame(nv_varlink_buffer *b, json_object *message) {
        size_t n;
        const char *s = json_object_to_json_string_length(
                message, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        int r;

        if (!s)
                return -ENOMEM;
        r = nv_varlink_buffer_append(b, s, n);
        if (r < 0)
                return r;
        return nv_varlink_buffer_append(b, "", 1);
}

int nv_varlink_parse(const char *text, size_t n, unsigned max_depth, json_object **ret) {
        struct json_tokener *tok = json_tokener_new_ex((int)max_depth);
        json_object *o;

        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int)n);
        if (!o || json_tokener_get_error(tok) != json_tokener_success ||
            json_tokener_get_parse_end(tok) != n) {
                enum json_tokener_error e = json_tokener_get_error(tok);
                json_object_put(o);
                json_tokener_free(tok);
                return e == json_tokener_error_depth ? -ELOOP : -EBADMSG;
        }
        json_tokener_free(tok);
        *ret = o;
        return 0;
}
