/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The varlink server's state, shared by server.c (the object), server-listen.c (listening sockets),
 * server-accept.c (accepting within the limits), server-connection.c (connections, framing),
 * server-dispatch.c (calls and answers) and server-service.c (org.varlink.service). */

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
        uint64_t id; /* in the order connections were accepted */
        sd_event_source *io, *idle;
        struct ucred cred;
        bool in_group;
        nv_varlink_buffer in, out;
        nv_varlink_call call;
        json_object *pending; /* the latest notification a slow subscriber has yet to get */
        usec_t last_active;   /* when the peer last sent something: eviction takes the least recent */
        usec_t last_written;  /* when the peer last read anything of what waits for it */
        bool dispatching;     /* a method of this connection runs (its answers are not capped) */
        bool closing;         /* flush what is queued, then close */
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
        uint64_t next_id;
};

/* server-connection.c */
void nv_varlink_connection_free(connection *c);
/* Queue message and write what the socket takes. -ENOBUFS when the peer has not read what is
 * already queued beyond the cap (outside a method's own answers). */
int nv_varlink_connection_send(connection *c, json_object *message);
/* Send a notification to the open call of c, or, when c has not written out the previous one yet,
 * keep it to be sent once c has: a slow reader gets the latest state, and only one. */
int nv_varlink_connection_notify_latest(connection *c, json_object *parameters);
void nv_varlink_protocol_error(connection *c, const char *reason);
/* A new connection on fd (taken over, also on failure), watched, the newest in s->connections. */
int nv_varlink_connection_new(nv_varlink_server *s, listener *l, int fd, const struct ucred *cred,
                              bool in_group, connection **ret);
/* Read what the peer sent (events: EPOLLIN to read, EPOLLHUP/EPOLLERR as epoll reported them), run
 * its complete calls and write the answers. Returns false when c was freed: broken, or done after
 * its peer hung up. */
bool nv_varlink_connection_receive(connection *c, uint32_t events);
/* No call open, nothing waiting to be written: closing it loses nothing. */
bool nv_varlink_connection_idle(const connection *c);

/* server-accept.c: the listening sockets' handler, accepting connections within the limits. */
int nv_varlink_on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata);

/* server-listen.c */
void nv_varlink_listener_free(listener *l);

/* server-dispatch.c */
void nv_varlink_dispatch(connection *c, json_object *m);
const interface *nv_varlink_find_interface(const nv_varlink_server *s, const char *name, size_t n);
int nv_varlink_error_with(nv_varlink_call *call, const char *error, const char *key, const char *value);

/* server-service.c: serve org.varlink.service, before any other interface. */
int nv_varlink_server_add_service(nv_varlink_server *s);
