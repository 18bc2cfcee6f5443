/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The varlink server's state, shared by server.c (the object), server-listen.c (listening sockets),
 * server-connection.c (connections, limits, framing), server-dispatch.c (calls and answers) and
 * server-service.c (org.varlink.service). */

#include <sys/socket.h>

#include "varlink/varlink-internal.h"

typedef struct interface {
        const char *name, *description;
        const nv_varlink_method *methods;
} interface;

typedef struct listener {
        int fd;
        sd_event_source *source;
        gid_t gid; /* the socket file's group */
        bool has_gid;
        char *unlink_path; /* the socket file we created */
        nv_varlink_server *server;
} listener;

typedef struct connection connection;

struct nv_varlink_call {
        connection *conn;
        char *method; /* full name */
        unsigned flags;
        bool open; /* no final answer yet */
};

struct connection {
        nv_varlink_server *server;
        listener *listener;
        int fd;
        sd_event_source *io, *idle;
        struct ucred cred;
        bool in_group;
        nv_varlink_buffer in, out;
        nv_varlink_call call;
        bool closing; /* flush what is queued, then close */
        connection *prev, *next;
};

struct nv_varlink_server {
        sd_event *event;
        const char *vendor, *product, *version, *url;
        void *userdata;
        nv_varlink_limits limits;
        interface *interfaces;
        size_t nr_interfaces;
        listener **listeners;
        size_t nr_listeners;
        connection *connections;
        unsigned nr_connections;
};

/* server-connection.c */
void nv_varlink_connection_free(connection *c);
int nv_varlink_connection_send(connection *c, json_object *message);
void nv_varlink_protocol_error(connection *c, const char *reason);
/* The listening sockets' handler: accept connections within the limits. */
int nv_varlink_on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata);

/* server-listen.c */
void nv_varlink_listener_free(listener *l);

/* server-dispatch.c */
void nv_varlink_dispatch(connection *c, json_object *m);
const interface *nv_varlink_find_interface(const nv_varlink_server *s, const char *name, size_t n);
int nv_varlink_error_with(nv_varlink_call *call, const char *error, const char *key, const char *value);

/* server-service.c: serve org.varlink.service, before any other interface. */
int nv_varlink_server_add_service(nv_varlink_server *s);
