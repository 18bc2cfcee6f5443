/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The varlink project's certification (interface org.varlink.certification), served and called
 * through src/varlink: a client calls Start, Test01 ... Test11 and End, each call's parameters
 * being the previous call's reply (and client_id); the server checks every call's parameters and
 * order and answers End with all_ok. Test10 answers ten times ("more"), Test11 is oneway. */

#include <json-c/json.h>
#include <stdbool.h>

#define CERT_INTERFACE    "org.varlink.certification"
#define CERT_ERROR_CLIENT CERT_INTERFACE ".ClientIdError"
#define CERT_ERROR_CERT   CERT_INTERFACE ".CertificationError"
#define CERT_MORE_REPLIES 10

extern const char cert_interface_description[];

/* The calls in order: CERT_START, CERT_TEST01 .. CERT_TEST11, CERT_END. */
enum {
        CERT_START = 0,
        CERT_TEST10 = 10,
        CERT_TEST11 = 11,
        CERT_END = 12,
        _CERT_STEPS,
};

/* "Start", "Test01", ..., "End". */
const char *cert_method(unsigned step);

/* The reply of a step (for Test10: its last one; for Start: NULL, the client_id is the server's
 * choice; for End: {"all_ok": true}). A new reference. */
json_object *cert_reply(unsigned step);

/* The i-th (0-based) of Test10's replies: {"string": "Reply number i+1"}. A new reference. */
json_object *cert_more_reply(unsigned i);

/* The parameters a step must be called with: the previous step's reply plus client_id (Test11:
 * last_more_replies, the ten strings of Test10's replies). A new reference. */
json_object *cert_parameters(unsigned step, const char *client_id);

/* JSON equality as varlink means it: a null member is an absent one, and numbers compare by value
 * whether they were written as integers or not (1 and 1.0 are the same float). */
bool cert_json_equal(json_object *a, json_object *b);

/* Run the server on address until SIGTERM or SIGINT; run the client against the server at
 * address. 0 or a negative errno (the client: -EPROTO when the server failed certification). */
int cert_server_run(const char *address);
int cert_client_run(const char *address);
