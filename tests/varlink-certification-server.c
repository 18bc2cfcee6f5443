/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The server side: org.varlink.certification on src/varlink's server. Each client (a client_id
 * from Start) must call the steps in order with the expected parameters; End answers whether it
 * did. A wrong call is answered with CertificationError (wants, got) and fails the client. */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/macro.h"
#include "varlink-certification.h"
#include "varlink/varlink.h"

/* Clients are few and short-lived; when the table is full the oldest is forgotten. */
#define MAX_CLIENTS 64

typedef struct cert_client {
        char id[33]; /* 128 random bits in hex; "" for a free slot */
        unsigned next_step;
        bool ok;
        uint64_t started; /* a sequence number: the smallest is the oldest */
} cert_client;

typedef struct cert_server {
        cert_client clients[MAX_CLIENTS];
        uint64_t started;
} cert_server;

static cert_client *find_client(cert_server *s, json_object *p) {
        json_object *id;

        if (!json_object_object_get_ex(p, "client_id", &id) || !json_object_is_type(id, json_type_string))
                return NULL;
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                if (s->clients[i].id[0] && strcmp(s->clients[i].id, json_object_get_string(id)) == 0)
                        return &s->clients[i];
        return NULL;
}

static int certification_error(nv_varlink_call *call, cert_client *c, json_object *wants, json_object *got) {
        json_object *p = json_object_new_object();

        c->ok = false;
        json_object_object_add(p, "wants", wants);
        json_object_object_add(p, "got", got);
        return nv_varlink_error(call, CERT_ERROR_CERT, p);
}

/* A flag the step needs ("more" for Test10, "oneway" for Test11) was not set. */
static int flag_error(nv_varlink_call *call, cert_client *c, const char *flag) {
        json_object *wants = json_object_new_object(), *got = json_object_new_object();

        json_object_object_add(wants, flag, json_object_new_boolean(true));
        json_object_object_add(got, flag, json_object_new_boolean(false));
        return certification_error(call, c, wants, got);
}

static int method_start(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        cert_server *s = userdata;
        cert_client *c = &s->clients[0];
        uint8_t bits[16];
        json_object *reply;

        if (json_object_object_length(p) != 0)
                return nv_varlink_error_invalid_parameter(call, "parameters");
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
                if (!s->clients[i].id[0]) {
                        c = &s->clients[i];
                        break;
                }
                if (s->clients[i].started < c->started)
                        c = &s->clients[i];
        }
        if (getrandom(bits, sizeof(bits), 0) != sizeof(bits))
                return -EIO;
        for (size_t i = 0; i < sizeof(bits); i++)
                snprintf(c->id + 2 * i, 3, "%02x", bits[i]);
        c->next_step = 1;
        c->ok = true;
        c->started = ++s->started;

        reply = json_object_new_object();
        json_object_object_add(reply, "client_id", json_object_new_string(c->id));
        return nv_varlink_reply(call, reply);
}

static int step(nv_varlink_call *call, json_object *p, unsigned flags, cert_server *s, unsigned n) {
        cert_client *c = find_client(s, p);
        json_object *client_id, *wants;

        if (!c)
                return nv_varlink_error(call, CERT_ERROR_CLIENT, NULL);
        if (c->next_step != n) {
                json_object *w = json_object_new_object(), *g = json_object_new_object();

                json_object_object_add(w, "method",
                                       json_object_new_string(cert_method(MIN(c->next_step, CERT_END))));
                json_object_object_add(g, "method", json_object_new_string(cert_method(n)));
                return certification_error(call, c, w, g);
        }
        c->next_step = n + 1;
        json_object_object_get_ex(p, "client_id", &client_id);
        wants = cert_parameters(n, json_object_get_string(client_id));
        if (!cert_json_equal(wants, p))
                return certification_error(call, c, wants, json_object_get(p));
        json_object_put(wants);

        switch (n) {
        case CERT_TEST10:
                if (!(flags & NV_VARLINK_MORE))
                        return flag_error(call, c, "more");
                for (unsigned i = 0; i + 1 < CERT_MORE_REPLIES; i++) {
                        int r = nv_varlink_notify(call, cert_more_reply(i));
                        if (r < 0)
                                return r;
                }
                return nv_varlink_reply(call, cert_more_reply(CERT_MORE_REPLIES - 1));
        case CERT_TEST11:
                if (!(flags & NV_VARLINK_ONEWAY))
                        return flag_error(call, c, "oneway");
                return nv_varlink_reply(call, NULL);
        case CERT_END: {
                json_object *reply = json_object_new_object();

                json_object_object_add(reply, "all_ok", json_object_new_boolean(c->ok));
                *c = (cert_client){};
                return nv_varlink_reply(call, reply);
        }
        default:
                return nv_varlink_reply(call, cert_reply(n));
        }
}

#define DEFINE_STEP(name, n)                                                                              \
        static int method_##name(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) { \
                return step(call, p, flags, userdata, n);                                                 \
        }
DEFINE_STEP(test01, 1)
DEFINE_STEP(test02, 2)
DEFINE_STEP(test03, 3)
DEFINE_STEP(test04, 4)
DEFINE_STEP(test05, 5)
DEFINE_STEP(test06, 6)
DEFINE_STEP(test07, 7)
DEFINE_STEP(test08, 8)
DEFINE_STEP(test09, 9)
DEFINE_STEP(test10, CERT_TEST10)
DEFINE_STEP(test11, CERT_TEST11)
DEFINE_STEP(end, CERT_END)

static const nv_varlink_method methods[] = {
        { "Start", method_start },   { "Test01", method_test01 },
        { "Test02", method_test02 }, { "Test03", method_test03 },
        { "Test04", method_test04 }, { "Test05", method_test05 },
        { "Test06", method_test06 }, { "Test07", method_test07 },
        { "Test08", method_test08 }, { "Test09", method_test09 },
        { "Test10", method_test10 }, { "Test11", method_test11 },
        { "End", method_end },       {},
};

static int on_exit_signal(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(source), 0);
}

int cert_server_run(const char *address) {
        _cleanup_(nv_varlink_server_freep) nv_varlink_server *server = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        cert_server state = {};
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return -errno;
        if ((r = sd_event_default(&event)) < 0 ||
            (r = sd_event_add_signal(event, NULL, SIGTERM, on_exit_signal, NULL)) < 0 ||
            (r = sd_event_add_signal(event, NULL, SIGINT, on_exit_signal, NULL)) < 0)
                return r;
        r = nv_varlink_server_new(event, "numavd", "varlink certification", PACKAGE_VERSION,
                                  "https://varlink.org", &state, &server);
        if (r < 0)
                return r;
        if ((r = nv_varlink_server_add_interface(server, CERT_INTERFACE, cert_interface_description,
                                                 methods)) < 0 ||
            (r = nv_varlink_server_listen_address(server, address, 0600)) < 0)
                return r;
        return sd_event_loop(event);
}
