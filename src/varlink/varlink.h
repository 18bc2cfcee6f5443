/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A small varlink (https://varlink.org) server and client: NUL-framed JSON over AF_UNIX stream
 * sockets, on json-c and sd-event. Everything numavd needs from varlink goes through this header,
 * so that it can be swapped for libsystemd's sd-varlink once that is public (systemd 257).
 *
 * Server: calls on one connection are answered in order; while a call with "more" is open (a
 * subscription) the connection's further calls wait, and so do they while the peer leaves too
 * much of the answers unread. Calls are run in the order their connections were accepted, and a
 * complete call is run even if its peer hung up before it was read. Limits bound every resource a
 * client controls: message size, JSON nesting depth, connections, connections per UID, idle time,
 * queued output. At a connection cap the least recently active idle connection is closed to make
 * room; only when none is idle is the new one refused. Methods are either readers (root, or a
 * member of the listening socket's group) or privileged (root only); others get
 * org.varlink.service.PermissionDenied.
 *
 * Client: blocking, with a timeout on connecting, sending and each reply, for command-line tools. */

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "common/macro.h"

/* sd-varlink allows 4096 connections, 1024 per UID, and 16 MiB of output per connection. numavd
 * keeps to 256 and 128 per UID: every connection is a file descriptor under the default soft limit
 * of 1024, which the daemon shares with its perf counters (one per vCPU and event) and pidfds; a
 * busy connection pins at most 256 KiB of unread answers (server-connection.c), a subscriber one
 * summary, so one UID's connections hold at most 32 MiB; and root, whose hook, numavctl and
 * monitors share one UID, keeps room beside a hundred subscribers of its own. Idle connections cost
 * nothing to close: at a cap the least recently active idle one makes room, so idle peers never
 * lock anyone out. */
#define NV_VARLINK_DEFAULT_MAX_MESSAGE     (1024 * 1024)
#define NV_VARLINK_DEFAULT_MAX_DEPTH       64
#define NV_VARLINK_DEFAULT_MAX_CONNECTIONS 256
#define NV_VARLINK_DEFAULT_MAX_PER_UID     128
#define NV_VARLINK_DEFAULT_IDLE_USEC       (5 * 60 * USEC_PER_SEC)

/* Standard errors of org.varlink.service. */
#define NV_VARLINK_ERROR_INTERFACE_NOT_FOUND    "org.varlink.service.InterfaceNotFound"
#define NV_VARLINK_ERROR_METHOD_NOT_FOUND       "org.varlink.service.MethodNotFound"
#define NV_VARLINK_ERROR_METHOD_NOT_IMPLEMENTED "org.varlink.service.MethodNotImplemented"
#define NV_VARLINK_ERROR_INVALID_PARAMETER      "org.varlink.service.InvalidParameter"
#define NV_VARLINK_ERROR_PERMISSION_DENIED      "org.varlink.service.PermissionDenied"
#define NV_VARLINK_ERROR_EXPECTED_MORE          "org.varlink.service.ExpectedMore"
/* Sent before a connection is dropped for a message that cannot be read (not JSON, too large, too
 * deeply nested), and for a method that failed without saying why. */
#define NV_VARLINK_ERROR_PROTOCOL "io.numavd.varlink.ProtocolError"
#define NV_VARLINK_ERROR_INTERNAL "io.numavd.varlink.InternalError"

/* For _cleanup_(json_object_putp). */
static inline void json_object_putp(json_object **o) {
        json_object_put(*o);
}

enum {
        NV_VARLINK_MORE = 1 << 0,   /* the caller accepts several replies */
        NV_VARLINK_ONEWAY = 1 << 1, /* the caller wants no reply */
};

typedef struct nv_varlink_server nv_varlink_server;
typedef struct nv_varlink_call nv_varlink_call;

/* A method implementation. parameters is a JSON object (never NULL; {} when the caller sent none or
 * null). It answers with nv_varlink_reply() / nv_varlink_error() before returning, or, for a call
 * with NV_VARLINK_MORE, may keep the call open and answer later (see nv_varlink_server_notify()).
 * A negative return without an answer sends NV_VARLINK_ERROR_INTERNAL. */
typedef int (*nv_varlink_method_fn)(nv_varlink_call *call, json_object *parameters, unsigned flags,
                                    void *userdata);

typedef struct nv_varlink_method {
        const char *name; /* without the interface: "GetHost" */
        nv_varlink_method_fn callback;
        bool privileged; /* root only */
} nv_varlink_method;

typedef struct nv_varlink_limits {
        size_t max_message;
        unsigned max_depth;
        unsigned max_connections;
        unsigned max_per_uid;
        usec_t idle_usec;
} nv_varlink_limits;

void nv_varlink_limits_default(nv_varlink_limits *ret);

/* Server. */
int nv_varlink_server_new(sd_event *event, const char *vendor, const char *product, const char *version,
                          const char *url, void *userdata, nv_varlink_server **ret);
nv_varlink_server *nv_varlink_server_free(nv_varlink_server *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_varlink_server *, nv_varlink_server_free);

void nv_varlink_server_set_limits(nv_varlink_server *s, const nv_varlink_limits *limits);

/* Serve an interface: its name, its IDL text (returned by GetInterfaceDescription), and a table of
 * methods ending with an entry whose name is NULL. The strings and the table must outlive s. */
int nv_varlink_server_add_interface(nv_varlink_server *s, const char *name, const char *description,
                                    const nv_varlink_method *methods);

/* Bind and listen on ADDRESS ("unix:/path", "unix:@abstract", or "/path"; anything after ';' is
 * ignored), with the socket file's mode. A stale socket file nobody listens on is replaced; one a
 * live server listens on gives -EADDRINUSE. The file is removed again when s is freed. */
int nv_varlink_server_listen_address(nv_varlink_server *s, const char *address, mode_t mode);
/* Serve an already listening socket (socket activation); s takes it over. */
int nv_varlink_server_listen_fd(nv_varlink_server *s, int fd);

/* Send a reply with "continues": true to every open call of method (full name, e.g.
 * "io.numavd.Manager.Subscribe"). A caller that has not read the previous one yet gets only the
 * latest once it has (parameters should then be the whole state, not a delta). parameters stays
 * the caller's. Returns the number of calls. */
int nv_varlink_server_notify(nv_varlink_server *s, const char *method, json_object *parameters);

unsigned nv_varlink_server_connections(const nv_varlink_server *s);

/* Answers. They take over parameters (a reference, may be NULL for {}). After the final answer the
 * call must not be used again. For a oneway call they send nothing. */
int nv_varlink_reply(nv_varlink_call *call, json_object *parameters);
int nv_varlink_notify(nv_varlink_call *call, json_object *parameters); /* "continues": true */
int nv_varlink_error(nv_varlink_call *call, const char *error, json_object *parameters);
int nv_varlink_error_invalid_parameter(nv_varlink_call *call, const char *parameter);

/* Client. */
typedef struct nv_varlink_client nv_varlink_client;

/* Connect to address, waiting at most timeout (USEC_INFINITY: forever) when the server's listen
 * backlog is full: -ETIMEDOUT then. */
int nv_varlink_client_connect(const char *address, usec_t timeout, nv_varlink_client **ret);
nv_varlink_client *nv_varlink_client_free(nv_varlink_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_varlink_client *, nv_varlink_client_free);

/* Each reply of a call: its parameters (never NULL), its error name (NULL when it is no error) and
 * whether more replies follow. A negative return stops reading and is returned by the call. */
typedef int (*nv_varlink_reply_fn)(json_object *parameters, const char *error, bool continues,
                                   void *userdata);

/* Call method with parameters (NULL: none; stays the caller's) and flags. Waits at most timeout
 * (USEC_INFINITY: forever) for the call to be sent and its first reply to arrive, and at most
 * timeout for each further reply. Returns 0 when the last reply was read (1 when it was an error),
 * -ETIMEDOUT, -ECONNRESET when the server hung up, -EBADMSG for a reply that is not varlink, or the
 * callback's error. A oneway call returns once the call was sent. */
int nv_varlink_client_call(nv_varlink_client *c, const char *method, json_object *parameters, unsigned flags,
                           usec_t timeout, nv_varlink_reply_fn callback, void *userdata);

/* A call with one reply: on success *ret_parameters holds a reference to the reply's parameters and
 * *ret_error its error name (NULL if none; freed by the caller). */
int nv_varlink_client_call_one(nv_varlink_client *c, const char *method, json_object *parameters,
                               usec_t timeout, json_object **ret_parameters, char **ret_error);

/* Parse an address into a sockaddr; for tools and tests. */
struct sockaddr_un;
int nv_varlink_address_parse(const char *address, struct sockaddr_un *ret, socklen_t *ret_len);
