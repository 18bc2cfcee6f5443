/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The client side: call Start, Test01 ... Test11 and End on src/varlink's client, each with the
 * previous reply (and client_id) as parameters, and hold every reply to the expected one. Then the
 * errors: a client_id the server no longer knows gets ClientIdError, a wrong value
 * CertificationError, and org.varlink.service describes the interface. */

#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "varlink-certification.h"
#include "varlink/varlink.h"

#define TIMEOUT (10 * USEC_PER_SEC)

static int fail(const char *method, const char *what, json_object *wants, json_object *got) {
        printf("FAIL %s: %s\n", method, what);
        if (wants)
                printf("  wants: %s\n", json_object_to_json_string_ext(wants, JSON_C_TO_STRING_PLAIN));
        if (got)
                printf("  got:   %s\n", json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN));
        return -EPROTO;
}

/* One call with one reply, which must be no error and equal wants (wants NULL: any reply). */
static int call_expect(nv_varlink_client *c, unsigned n, json_object *parameters, json_object *wants,
                       json_object **ret_reply) {
        _cleanup_(json_object_putp) json_object *reply = NULL;
        _cleanup_free_ char *method = NULL, *error = NULL;
        int r;

        if (asprintf(&method, CERT_INTERFACE ".%s", cert_method(n)) < 0)
                return -ENOMEM;
        r = nv_varlink_client_call_one(c, method, parameters, TIMEOUT, &reply, &error);
        if (r < 0)
                return printf("FAIL %s: %s\n", method, strerror(-r)), -EPROTO;
        if (error)
                return fail(method, error, NULL, reply);
        if (wants && !cert_json_equal(wants, reply))
                return fail(method, "unexpected reply", wants, reply);
        printf("ok %s\n", cert_method(n));
        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

typedef struct more_replies {
        json_object *strings; /* the replies' "string"s, in order */
        unsigned count;
        bool bad;
} more_replies;

static int on_more_reply(json_object *p, const char *error, bool continues, void *userdata) {
        more_replies *m = userdata;
        _cleanup_(json_object_putp) json_object *wants = cert_more_reply(m->count);
        json_object *s;

        if (error || m->count >= CERT_MORE_REPLIES || !cert_json_equal(wants, p) ||
            continues != (m->count + 1 < CERT_MORE_REPLIES)) {
                fail(CERT_INTERFACE ".Test10", error ?: "unexpected reply", wants, p);
                m->bad = true;
                return -EPROTO;
        }
        json_object_object_get_ex(p, "string", &s);
        json_object_array_add(m->strings, json_object_get(s));
        m->count++;
        return 0;
}

static int certify_sequence(nv_varlink_client *c, char **ret_client_id) {
        _cleanup_(json_object_putp) json_object *prev = NULL, *start = NULL, *p = NULL, *wants = NULL;
        _cleanup_(json_object_putp) json_object *strings = json_object_new_array();
        more_replies more = { .strings = strings };
        _cleanup_free_ char *client_id = NULL;
        json_object *v;
        int r;

        if ((r = call_expect(c, CERT_START, NULL, NULL, &start)) < 0)
                return r;
        if (!json_object_object_get_ex(start, "client_id", &v) || !json_object_is_type(v, json_type_string))
                return fail(CERT_INTERFACE ".Start", "no client_id", NULL, start);
        client_id = strdup(json_object_get_string(v));
        if (!client_id)
                return -ENOMEM;

        /* Each call's parameters are the previous reply's, as the interface asks. */
        for (unsigned n = 1; n < CERT_TEST10; n++) {
                json_object *next = NULL;

                p = prev ? json_object_get(prev) : json_object_new_object();
                json_object_object_add(p, "client_id", json_object_new_string(client_id));
                wants = cert_reply(n);
                if ((r = call_expect(c, n, p, wants, &next)) < 0)
                        return r;
                json_object_put(p);
                json_object_put(wants);
                json_object_put(prev);
                p = wants = NULL;
                prev = next;
        }

        p = json_object_get(prev);
        json_object_object_add(p, "client_id", json_object_new_string(client_id));
        r = nv_varlink_client_call(c, CERT_INTERFACE ".Test10", p, NV_VARLINK_MORE, TIMEOUT, on_more_reply,
                                   &more);
        if (more.bad)
                return -EPROTO;
        if (r != 0 || more.count != CERT_MORE_REPLIES)
                return printf("FAIL Test10: %u replies (%s)\n", more.count, r < 0 ? strerror(-r) : "error"),
                       -EPROTO;
        printf("ok Test10 (%u replies)\n", more.count);
        json_object_put(p);

        p = json_object_new_object();
        json_object_object_add(p, "client_id", json_object_new_string(client_id));
        json_object_object_add(p, "last_more_replies", json_object_get(strings));
        r = nv_varlink_client_call(c, CERT_INTERFACE ".Test11", p, NV_VARLINK_ONEWAY, TIMEOUT, NULL, NULL);
        if (r < 0)
                return printf("FAIL Test11: %s\n", strerror(-r)), -EPROTO;
        printf("ok Test11 (oneway)\n");
        json_object_put(p);

        p = cert_parameters(CERT_END, client_id);
        wants = cert_reply(CERT_END);
        if ((r = call_expect(c, CERT_END, p, wants, NULL)) < 0)
                return r;
        *ret_client_id = TAKE_PTR(client_id);
        return 0;
}

/* A call that must fail with error. */
static int call_expect_error(nv_varlink_client *c, const char *method, json_object *parameters,
                             const char *error) {
        _cleanup_(json_object_putp) json_object *reply = NULL;
        _cleanup_free_ char *got = NULL;
        int r = nv_varlink_client_call_one(c, method, parameters, TIMEOUT, &reply, &got);

        if (r < 0)
                return printf("FAIL %s: %s\n", method, strerror(-r)), -EPROTO;
        if (!got || strcmp(got, error) != 0) {
                printf("FAIL %s: wants the error %s, got %s\n", method, error, got ?: "a reply");
                return -EPROTO;
        }
        printf("ok %s answers %s\n", method, error);
        return 0;
}

static int certify_errors(nv_varlink_client *c, const char *ended_client_id) {
        _cleanup_(json_object_putp) json_object *p = cert_parameters(1, ended_client_id), *start = NULL,
                                                *wrong = NULL, *q = NULL, *desc = NULL;
        json_object *v;
        int r;

        /* End forgot the client. */
        if ((r = call_expect_error(c, CERT_INTERFACE ".Test01", p, CERT_ERROR_CLIENT)) < 0)
                return r;
        /* A new client sends Test02 a false where true was answered. */
        if ((r = call_expect(c, CERT_START, NULL, NULL, &start)) < 0)
                return r;
        if (!json_object_object_get_ex(start, "client_id", &v) || !json_object_is_type(v, json_type_string))
                return fail(CERT_INTERFACE ".Start", "no client_id", NULL, start);
        wrong = cert_parameters(1, json_object_get_string(v));
        if ((r = call_expect(c, 1, wrong, NULL, NULL)) < 0)
                return r;
        json_object_put(wrong);
        wrong = cert_parameters(2, json_object_get_string(v));
        json_object_object_add(wrong, "bool", json_object_new_boolean(false));
        if ((r = call_expect_error(c, CERT_INTERFACE ".Test02", wrong, CERT_ERROR_CERT)) < 0)
                return r;

        q = json_object_new_object();
        json_object_object_add(q, "interface", json_object_new_string(CERT_INTERFACE));
        _cleanup_free_ char *error = NULL;
        r = nv_varlink_client_call_one(c, "org.varlink.service.GetInterfaceDescription", q, TIMEOUT, &desc,
                                       &error);
        if (r < 0 || error || !json_object_object_get_ex(desc, "description", &v) ||
            !json_object_is_type(v, json_type_string) ||
            !strstr(json_object_get_string(v), "interface " CERT_INTERFACE) ||
            !strstr(json_object_get_string(v), "method Test11("))
                return fail("org.varlink.service.GetInterfaceDescription",
                            error ?: "no description of " CERT_INTERFACE, NULL, desc);
        printf("ok org.varlink.service.GetInterfaceDescription\n");
        return 0;
}

int cert_client_run(const char *address) {
        _cleanup_(nv_varlink_client_freep) nv_varlink_client *c = NULL;
        _cleanup_free_ char *client_id = NULL;
        int r;

        if ((r = nv_varlink_client_connect(address, TIMEOUT, &c)) < 0)
                return r;
        if ((r = certify_sequence(c, &client_id)) < 0 || (r = certify_errors(c, client_id)) < 0)
                return r;
        printf("certification passed\n");
        return 0;
}
