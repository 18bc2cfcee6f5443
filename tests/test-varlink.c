/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The varlink server and client (src/varlink) in one process: the server on a unix socket in a
 * temporary directory and on this test's sd-event loop, its peers raw sockets that the test writes
 * to byte by byte, then runs the loop until nothing is left to do, then reads. Framing (partial
 * reads, NUL splits, pipelining), dispatch, errors, limits (message size, depth, connection caps
 * with eviction, calls of peers that hung up, unread output, coalesced notifications), and the
 * client's timeouts and reply handling. No sleeps: the loop runs until it is idle. */

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tap.h"
#include "varlink/server-internal.h"

#define IFACE "org.example.test"

static sd_event *event;
static nv_varlink_server *server;
static char dir[] = "/tmp/test-varlink.XXXXXX";
static char address[320];
static int counted[256];
static unsigned nr_counted;
static nv_varlink_call *watch_call;

/* Echo: the parameters back. */
static int method_echo(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        return nv_varlink_reply(call, json_object_get(p));
}

/* Count(n): record n, in the order calls run. Oneway in the tests. */
static int method_count(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        json_object *v;

        if (!json_object_object_get_ex(p, "n", &v) || !json_object_is_type(v, json_type_int))
                return nv_varlink_error_invalid_parameter(call, "n");
        if (nr_counted < ARRAY_SIZE(counted))
                counted[nr_counted++] = json_object_get_int(v);
        return nv_varlink_reply(call, NULL);
}

/* Fail: returns an error without answering. */
static int method_fail(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        return -EIO;
}

/* Watch: a subscription, kept open; the test notifies it. */
static int method_watch(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        if (!(flags & NV_VARLINK_MORE))
                return nv_varlink_error(call, NV_VARLINK_ERROR_EXPECTED_MORE, NULL);
        watch_call = call;
        return nv_varlink_notify(call, NULL);
}

static const nv_varlink_method methods[] = {
        { "Echo", method_echo, false },   { "Count", method_count, false }, { "Fail", method_fail, false },
        { "Watch", method_watch, false }, { "Missing", NULL, false },       {},
};

/* Run the loop until nothing is pending. */
static void pump(void) {
        while (sd_event_run(event, 0) > 0)
                ;
}

static int peer(void) {
        struct sockaddr_un sa;
        socklen_t len;
        int fd;

        if (nv_varlink_address_parse(address, &sa, &len) < 0)
                return -1;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, len) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static void put(int fd, const char *s, size_t n) {
        if (send(fd, s, n, MSG_NOSIGNAL) != (ssize_t)n)
                printf("# send failed: %m\n");
}

/* A message and its NUL. */
static void put_msg(int fd, const char *s) {
        put(fd, s, strlen(s) + 1);
}

/* The next message the server sent on fd, after running the loop; NULL if none (then *closed says
 * whether the server closed the connection). Free it. */
static char *get_msg(int fd, bool *closed) {
        static char buf[8 * 1024 * 1024];
        size_t n = 0;

        if (closed)
                *closed = false;
        pump();
        while (n < sizeof(buf)) {
                ssize_t k = recv(fd, buf + n, 1, MSG_DONTWAIT);
                if (k == 1 && buf[n] == '\0')
                        return strdup(buf);
                if (k == 1) {
                        n++;
                        continue;
                }
                if ((k == 0 || (k < 0 && errno == ECONNRESET)) && closed)
                        *closed = true; /* ECONNRESET: closed with our call unread */
                if (k < 0 && errno == EAGAIN) {
                        /* Our reading may have let the server write more. */
                        if (sd_event_run(event, 0) > 0) {
                                pump();
                                continue;
                        }
                }
                return NULL;
        }
        return NULL;
}

static bool has(const char *msg, const char *needle) {
        return msg && strstr(msg, needle);
}

static bool server_closed(int fd) {
        bool closed;

        for (;;) {
                _cleanup_free_ char *m = get_msg(fd, &closed);
                if (!m)
                        return closed;
        }
}

static void set_limits(size_t max_message, unsigned max_depth, unsigned max_connections, unsigned per_uid) {
        nv_varlink_limits l;

        nv_varlink_limits_default(&l);
        l.max_message = max_message ?: l.max_message;
        l.max_depth = max_depth ?: l.max_depth;
        l.max_connections = max_connections ?: l.max_connections;
        l.max_per_uid = per_uid ?: l.max_per_uid;
        nv_varlink_server_set_limits(server, &l);
}

static void test_framing(void) {
        static const char call[] = "{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"x\":\"a\\u0000b\"}}";
        int fd = peer();
        char *m;

        /* Partial reads: nothing is answered until the NUL. */
        put(fd, call, 10);
        ok(!get_msg(fd, NULL), "framing: a third of a call gets no answer yet");
        put(fd, call + 10, sizeof(call) - 1 - 10);
        ok(!get_msg(fd, NULL), "framing: the whole call without its NUL gets no answer yet");
        put(fd, "", 1);
        m = get_msg(fd, NULL);
        ok(has(m, "\"parameters\":{\"x\":\"a\\u0000b\"}") && !has(m, "error"),
           "framing: after the NUL the call is answered; an escaped NUL inside a string is no frame (%s)",
           m);
        free(m);

        /* Byte by byte, each byte a read of its own. */
        for (size_t i = 0; i < sizeof(call); i++) {
                put(fd, call + i, 1);
                pump();
        }
        m = get_msg(fd, NULL);
        ok(has(m, "\"x\":\"a\\u0000b\""), "framing: a call sent one byte at a time is answered once");
        free(m);
        ok(!get_msg(fd, NULL), "framing: ... and only once");

        /* Two calls in one write, and two writes split right after a NUL and right before one. */
        char two[512];
        int n = snprintf(two, sizeof(two),
                         "{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"i\":1}}%c"
                         "{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"i\":2}}",
                         '\0');
        put(fd, two, (size_t)n + 1);
        char *a = get_msg(fd, NULL), *b = get_msg(fd, NULL);
        ok(has(a, "\"i\":1") && has(b, "\"i\":2"), "framing: two calls in one write, answered in order");
        free(a);
        free(b);
        size_t first = strlen(two) + 1;
        put(fd, two, first);
        put(fd, two + first, (size_t)n - first);
        a = get_msg(fd, NULL);
        ok(has(a, "\"i\":1") && !get_msg(fd, NULL),
           "framing: split after the first NUL: the first answered");
        put(fd, "", 1);
        b = get_msg(fd, NULL);
        ok(has(b, "\"i\":2"), "framing: ... the second once its NUL arrives");
        free(a);
        free(b);
        close(fd);
}

static void test_dispatch(void) {
        int fd = peer();
        char *m;

        put_msg(fd, "{\"method\":\"" IFACE ".Echo\"}");
        m = get_msg(fd, NULL);
        is_str(m, "{\"parameters\":{}}", "dispatch: no parameters: {}");
        free(m);
        put_msg(fd, "{\"method\":\"" IFACE ".Echo\",\"parameters\":null}");
        m = get_msg(fd, NULL);
        is_str(m, "{\"parameters\":{}}", "dispatch: null parameters: {}");
        free(m);
        put_msg(fd, "{\"method\":\"org.varlink.service.GetInfo\"}");
        m = get_msg(fd, NULL);
        ok(has(m, "\"interfaces\":[\"org.varlink.service\",\"" IFACE "\"]"),
           "dispatch: GetInfo lists the interfaces (%s)", m);
        free(m);
        put_msg(fd, "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{"
                    "\"interface\":\"" IFACE "\"}}");
        m = get_msg(fd, NULL);
        ok(has(m, "\"description\":\"interface " IFACE), "dispatch: GetInterfaceDescription");
        free(m);

        nr_counted = 0;
        put_msg(fd, "{\"method\":\"" IFACE ".Count\",\"oneway\":true,\"parameters\":{\"n\":7}}");
        ok(!get_msg(fd, NULL) && nr_counted == 1 && counted[0] == 7,
           "dispatch: a oneway call runs and gets no answer");

        put_msg(fd, "{\"method\":\"" IFACE ".Watch\",\"more\":true}");
        m = get_msg(fd, NULL);
        ok(has(m, "\"continues\":true"), "dispatch: a call with more gets replies that continue");
        free(m);
        ok(nv_varlink_server_notify(server, IFACE ".Watch", NULL) == 1,
           "dispatch: notify reaches the subscriber");
        m = get_msg(fd, NULL);
        ok(has(m, "\"continues\":true"), "dispatch: ... which gets it");
        free(m);
        put_msg(fd, "{\"method\":\"" IFACE ".Echo\"}");
        ok(!get_msg(fd, NULL), "dispatch: a further call waits while the subscription is open");
        ok(nv_varlink_reply(watch_call, NULL) == 0, "dispatch: the subscription's final reply");
        m = get_msg(fd, NULL);
        char *m2 = get_msg(fd, NULL);
        ok(m && !has(m, "continues") && has(m2, "{\"parameters\":{}}"),
           "dispatch: then the waiting call runs");
        free(m);
        free(m2);
        close(fd);
}

static void test_errors(void) {
        static const struct {
                const char *in, *want;
                bool closes;
        } cases[] = {
                { "{\"method\":\"" IFACE ".Nope\"}", "\"error\":\"org.varlink.service.MethodNotFound\"",
                  false },
                { "{\"method\":\"org.example.nope.Echo\"}", "\"interface\":\"org.example.nope\"", false },
                { "{\"method\":\"NoDot\"}", "org.varlink.service.InterfaceNotFound", false },
                { "{\"method\":\"" IFACE ".Missing\"}", "org.varlink.service.MethodNotImplemented", false },
                { "{\"method\":\"" IFACE ".Fail\"}", "\"error\":\"io.numavd.varlink.InternalError\"",
                  false },
                { "{\"method\":\"" IFACE ".Watch\"}", "org.varlink.service.ExpectedMore", false },
                { "{\"method\":\"" IFACE ".Echo\",\"more\":1}", "\"parameter\":\"more\"", false },
                { "{\"method\":\"" IFACE ".Echo\",\"more\":true,\"oneway\":true}",
                  "\"parameter\":\"oneway\"", false },
                { "{\"method\":\"" IFACE ".Echo\",\"upgrade\":true}", "\"parameter\":\"upgrade\"", false },
                { "{\"method\":\"" IFACE ".Echo\",\"parameters\":[1]}", "\"parameter\":\"parameters\"",
                  false },
                { "{\"method\":\"" IFACE ".Count\",\"parameters\":{\"n\":\"x\"}}", "\"parameter\":\"n\"",
                  false },
                { "{\"method\":", "\"reason\":\"message is not JSON\"", true },
                { "{\"method\":\"" IFACE ".Echo\"} trailing", "message is not JSON", true },
                { "[1,2]", "message is not a JSON object", true },
                { "{\"method\":42}", "message has no method", true },
                { "{}", "message has no method", true },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                int fd = peer();
                char *m;
                bool closed;

                put_msg(fd, cases[i].in);
                m = get_msg(fd, NULL);
                ok(has(m, cases[i].want), "errors: %s -> %s (%s)", cases[i].in, cases[i].want, m);
                free(m);
                closed = server_closed(fd);
                ok(closed == cases[i].closes, "errors: ... and the connection is %s",
                   cases[i].closes ? "closed" : "kept");
                close(fd);
        }
        int fd = peer();
        put(fd, "{\"method\"", 9);
        shutdown(fd, SHUT_WR);
        char *m = get_msg(fd, NULL);
        ok(has(m, "connection closed within a message") && server_closed(fd),
           "errors: a peer that hangs up within a message");
        free(m);
        close(fd);
}

static void test_size_limits(void) {
        char big[3000], deep[400];
        int fd, n;
        char *m;

        set_limits(1024, 8, 0, 0);
        fd = peer();
        n = snprintf(big, sizeof(big), "{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"x\":\"%02000d\"}}",
                     0);
        put(fd, big, (size_t)n); /* no NUL: too large all the same */
        m = get_msg(fd, NULL);
        ok(has(m, "message too large") && server_closed(fd),
           "limits: 2 KB without a NUL over a 1 KiB cap: dropped");
        free(m);
        close(fd);

        fd = peer();
        n = snprintf(deep, sizeof(deep),
                     "{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"x\":[[[[[[[[[[]]]]]]]]]]}}");
        put(fd, deep, (size_t)n + 1);
        m = get_msg(fd, NULL);
        ok(has(m, "nested too deeply") && server_closed(fd),
           "limits: JSON nested 12 deep over a depth of 8: dropped");
        free(m);
        close(fd);

        fd = peer();
        put_msg(fd, "{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"x\":[[[[1]]]]}}");
        m = get_msg(fd, NULL);
        ok(has(m, "[[[[1]]]]"), "limits: within both: answered");
        free(m);
        close(fd);
        set_limits(0, 0, 0, 0);
}

static int watch(void) {
        int fd = peer();
        _cleanup_free_ char *m = NULL;

        put_msg(fd, "{\"method\":\"" IFACE ".Watch\",\"more\":true}");
        m = get_msg(fd, NULL);
        if (!has(m, "continues"))
                printf("# Watch was not answered: %s\n", m);
        return fd;
}

static void test_connection_caps(void) {
        int fds[4], w[3], late;
        char *m;

        set_limits(0, 0, 0, 3);
        for (int i = 0; i < 3; i++) {
                fds[i] = peer();
                pump();
        }
        is_int(nv_varlink_server_connections(server), 3,
               "caps: three idle connections at a per-UID cap of 3");
        put_msg(fds[1], "{\"method\":\"" IFACE ".Echo\"}");
        m = get_msg(fds[1], NULL);
        free(m);
        fds[3] = peer();
        put_msg(fds[3], "{\"method\":\"" IFACE ".Echo\"}");
        m = get_msg(fds[3], NULL);
        ok(has(m, "parameters"), "caps: a fourth is served");
        free(m);
        ok(server_closed(fds[0]),
           "caps: ... the least recently active idle one (the first) was closed for it");
        put_msg(fds[1], "{\"method\":\"" IFACE ".Echo\"}");
        put_msg(fds[2], "{\"method\":\"" IFACE ".Echo\"}");
        char *a = get_msg(fds[1], NULL), *b = get_msg(fds[2], NULL);
        ok(a && b, "caps: ... the others are kept");
        free(a);
        free(b);
        for (int i = 0; i < 4; i++)
                close(fds[i]);
        pump();

        /* Busy connections (subscriptions) are never evicted: then the new one is refused. */
        for (int i = 0; i < 3; i++)
                w[i] = watch();
        late = peer();
        put_msg(late, "{\"method\":\"" IFACE ".Echo\"}");
        ok(server_closed(late), "caps: with every connection busy, a new one is refused");
        is_int(nv_varlink_server_notify(server, IFACE ".Watch", NULL), 3,
               "caps: ... and all three subscriptions stay");
        for (int i = 0; i < 3; i++)
                close(w[i]);
        close(late);
        pump();
        set_limits(0, 0, 0, 0);
}

/* Peers that connect, send a oneway call and hang up before the server reads anything (the
 * libvirt hook while numavd is stopped): every call runs, in the order of the connections, even
 * far beyond the connection cap. */
static void test_hung_up_peers(void) {
        int idle = peer();

        set_limits(0, 0, 0, 4);
        pump();
        nr_counted = 0;
        for (int i = 0; i < 60; i++) {
                char call[128];
                int fd = peer();

                snprintf(call, sizeof(call),
                         "{\"method\":\"" IFACE ".Count\",\"oneway\":true,\"parameters\":{\"n\":%d}}", i);
                put_msg(fd, call);
                close(fd);
        }
        pump();
        bool in_order = nr_counted == 60;
        for (unsigned i = 0; in_order && i < nr_counted; i++)
                in_order = counted[i] == (int)i;
        ok(in_order,
           "hung-up peers: 60 oneway calls of peers gone before they were read, cap 4: %u ran, in order",
           nr_counted);
        ok(nv_varlink_server_connections(server) <= 1,
           "hung-up peers: ... and their connections are gone (%u left)",
           nv_varlink_server_connections(server));
        close(idle);
        pump();
        set_limits(0, 0, 0, 0);
}

static connection *only_connection(void) {
        return server->connections && !server->connections->next ? server->connections : NULL;
}

/* A subscriber that never reads holds one message and the latest notification, however many are
 * sent; once it reads, it gets the latest. */
static void test_slow_subscriber(void) {
        int fd = watch();
        int rcv = 4096;
        size_t most = 0;
        unsigned got = 0;
        bool final = false;
        char last[64] = "";

        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        for (int i = 0; i < 3000; i++) {
                json_object *p = json_object_new_object();
                char pad[2048];

                memset(pad, 'p', sizeof(pad) - 1);
                pad[sizeof(pad) - 1] = '\0';
                json_object_object_add(p, "seq", json_object_new_int(i));
                json_object_object_add(p, "pad", json_object_new_string(pad));
                nv_varlink_server_notify(server, IFACE ".Watch", p);
                json_object_put(p);
                pump();
                if (only_connection())
                        most = MAX(most, only_connection()->out.len);
        }
        ok(only_connection() != NULL,
           "slow subscriber: 3000 notifications of 2 KiB unread: still connected");
        ok(most <= 4096, "slow subscriber: ... our queue never held more than one notification (%zu bytes)",
           most);
        ok(nv_varlink_reply(watch_call, NULL) == 0,
           "slow subscriber: the subscription ends while it is behind");
        for (;;) {
                _cleanup_free_ char *m = get_msg(fd, NULL);
                const char *s;

                if (!m)
                        break;
                got++;
                final = !has(m, "continues");
                s = strstr(m, "\"seq\":");
                if (s)
                        snprintf(last, sizeof(last), "%.10s", s + 6);
        }
        ok(got < 3000 && atoi(last) == 2999,
           "slow subscriber: reading at last, it gets %u, the last one the latest (%s)", got, last);
        ok(final, "slow subscriber: ... and then the final reply");
        close(fd);
        pump();
}

/* A subscriber whose peer reads nothing for the idle time is dropped; one that is caught up stays.
 * The idle time is 1 ms here, and the loop waits for its timers. */
static void test_stuck_subscriber(void) {
        nv_varlink_limits l;
        int rcv = 4096, stuck, fine;

        nv_varlink_limits_default(&l);
        l.idle_usec = USEC_PER_MSEC;
        nv_varlink_server_set_limits(server, &l);
        fine = watch();
        stuck = watch();
        setsockopt(stuck, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        for (int i = 0; i < 2000 && !(server->connections->next && server->connections->next->out.len > 0);
             i++) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "pad", json_object_new_string("0123456789abcdef0123456789abcdef"));
                nv_varlink_server_notify(server, IFACE ".Watch", p);
                json_object_put(p);
                pump();
                while (true) { /* the fine one reads everything */
                        _cleanup_free_ char *m = get_msg(fine, NULL);
                        if (!m)
                                break;
                }
        }
        ok(server->connections->next && server->connections->next->out.len > 0,
           "stuck subscriber: answers wait for it");
        for (int i = 0; i < 1000 && nv_varlink_server_connections(server) > 1; i++)
                (void)sd_event_run(event, USEC_PER_SEC); /* waits for the next timer, not a fixed time */
        is_int(nv_varlink_server_connections(server), 1,
               "stuck subscriber: dropped after reading nothing for the idle time");
        ok(only_connection() && only_connection()->call.open,
           "stuck subscriber: ... the one that reads stays");
        close(stuck);
        close(fine);
        pump();
        set_limits(0, 0, 0, 0);
}

/* A peer that pipelines calls and reads none of the answers: the server stops running its calls
 * while too much waits, and runs them all once the peer reads. Answers sent later than the call
 * (a subscription's) beyond that cap drop the connection. */
static void test_unread_output(void) {
        char call[256];
        int fd = peer(), n, rcv = 4096, sent = 0, answered = 0;

        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        n = snprintf(call, sizeof(call),
                     "{\"method\":\"" IFACE ".Echo\",\"parameters\":{\"pad\":\"%0100d\"}}", 0);
        for (int i = 0; i < 8000; i++) {
                struct pollfd p = { .fd = fd, .events = POLLOUT };
                if (poll(&p, 1, 0) <= 0) /* the server stopped reading us */
                        break;
                put(fd, call, (size_t)n + 1);
                sent++;
                pump();
        }
        connection *c = only_connection();
        ok(c && c->out.len <= 256 * 1024 + 4096,
           "unread output: pipelined calls stop at the cap (%zu bytes queued)", c ? c->out.len : 0);
        for (;;) {
                _cleanup_free_ char *m = get_msg(fd, NULL);
                if (!m)
                        break;
                answered += has(m, "\"pad\"");
        }
        ok(sent > 2000 && answered == sent,
           "unread output: once the peer reads, the calls that waited run (%d of %d answered)", answered,
           sent);
        close(fd);
        pump();

        fd = watch();
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        int r = 0;
        for (int i = 0; i < 2000 && r >= 0; i++) {
                json_object *p = json_object_new_object();
                json_object_object_add(p, "pad", json_object_new_string(call));
                r = nv_varlink_notify(watch_call, p);
                pump();
        }
        is_int(r, -ENOBUFS, "unread output: replies sent later beyond the cap fail with ENOBUFS");
        ok(server_closed(fd), "unread output: ... and the connection is dropped");
        close(fd);
        pump();
}

/* The client against peers that misbehave: a listener that never accepts, one that never reads,
 * one that never answers, and canned replies. */
static void test_client(void) {
        char path[300], addr[310];
        struct sockaddr_un sa;
        socklen_t len;
        _cleanup_close_ int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        nv_varlink_client *c = NULL, *c2 = NULL;
        int r;

        snprintf(path, sizeof(path), "%s/client", dir);
        snprintf(addr, sizeof(addr), "unix:%s", path);
        nv_varlink_address_parse(addr, &sa, &len);
        ok(bind(l, (struct sockaddr *)&sa, len) == 0 && listen(l, 0) == 0,
           "client: a listener with a backlog of 0");

        /* The backlog takes one: the first connects, the second waits for room. */
        r = nv_varlink_client_connect(addr, 50 * USEC_PER_MSEC, &c);
        is_int(r, 0, "client: connecting while the backlog has room succeeds without accept()");
        r = nv_varlink_client_connect(addr, 50 * USEC_PER_MSEC, &c2);
        is_int(r, -ETIMEDOUT, "client: connecting to a full backlog times out");
        nv_varlink_client_free(c2);

        /* Accepted, but never read: a 4 MiB call cannot be sent. */
        _cleanup_close_ int s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        json_object *p = json_object_new_object();
        char *huge = malloc(4 << 20);
        memset(huge, 'h', (4 << 20) - 1);
        huge[(4 << 20) - 1] = '\0';
        json_object_object_add(p, "x", json_object_new_string(huge));
        free(huge);
        r = nv_varlink_client_call(c, IFACE ".Echo", p, 0, 50 * USEC_PER_MSEC, NULL, NULL);
        is_int(r, -ETIMEDOUT, "client: sending to a peer that never reads times out");
        json_object_put(p);
        nv_varlink_client_free(c);
        close(s);

        /* Accepted and read, but never answered. */
        c = NULL;
        nv_varlink_client_connect(addr, 50 * USEC_PER_MSEC, &c);
        s = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        r = nv_varlink_client_call(c, IFACE ".Echo", NULL, 0, 50 * USEC_PER_MSEC, NULL, NULL);
        is_int(r, -ETIMEDOUT, "client: waiting for an answer that never comes times out");

        /* Canned replies, written before the call. */
        json_object *reply = NULL;
        char *error = NULL;
        static const char ok_reply[] = "{\"parameters\":{\"x\":1}}";
        put(s, ok_reply, sizeof(ok_reply));
        r = nv_varlink_client_call_one(c, IFACE ".Echo", NULL, 50 * USEC_PER_MSEC, &reply, &error);
        ok(r == 0 && !error && json_object_get_int(json_object_object_get(reply, "x")) == 1,
           "client: a reply's parameters");
        json_object_put(reply);
        static const char err_reply[] = "{\"error\":\"org.example.Bad\",\"parameters\":{\"why\":\"no\"}}";
        put(s, err_reply, sizeof(err_reply));
        r = nv_varlink_client_call_one(c, IFACE ".Echo", NULL, 50 * USEC_PER_MSEC, &reply, &error);
        ok(r == 0 && error && strcmp(error, "org.example.Bad") == 0, "client: an error reply: its name (%s)",
           error);
        free(error);
        json_object_put(reply);
        static const char not_varlink[] = "[1]";
        put(s, not_varlink, sizeof(not_varlink));
        r = nv_varlink_client_call_one(c, IFACE ".Echo", NULL, 50 * USEC_PER_MSEC, &reply, &error);
        is_int(r, -EBADMSG, "client: a reply that is not varlink: EBADMSG");
        close(s);
        s = -EBADF;
        r = nv_varlink_client_call_one(c, IFACE ".Echo", NULL, 50 * USEC_PER_MSEC, &reply, &error);
        ok(r == -ECONNRESET || r == -EPIPE, "client: a server that hung up: ECONNRESET or EPIPE (%d)", r);
        nv_varlink_client_free(c);
        unlink(path);
}

int main(void) {
        char path[300];
        int r;

        if (!mkdtemp(dir))
                return tap_skip_all("cannot create a temporary directory");
        snprintf(path, sizeof(path), "%s/sock", dir);
        snprintf(address, sizeof(address), "unix:%s", path);
        r = sd_event_default(&event);
        if (r >= 0)
                r = nv_varlink_server_new(event, "vendor", "product", "1", "https://example.org", NULL,
                                          &server);
        if (r >= 0)
                r = nv_varlink_server_add_interface(server, IFACE, "interface " IFACE "\n", methods);
        if (r >= 0)
                r = nv_varlink_server_listen_address(server, address, 0600);
        ok(r >= 0, "a server listens on %s (%d)", address, r);
        if (r < 0)
                return tap_done();

        test_framing();
        test_dispatch();
        test_errors();
        test_size_limits();
        test_connection_caps();
        test_hung_up_peers();
        test_slow_subscriber();
        test_stuck_subscriber();
        test_unread_output();
        test_client();

        nv_varlink_server_free(server);
        ok(access(path, F_OK) < 0, "the socket file is removed with the server");
        sd_event_unref(event);
        rmdir(dir);
        return tap_done();
}
