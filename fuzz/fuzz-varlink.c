/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the varlink server's framing and dispatch. Each input is what one client
 * writes on a connection; the server must answer or hang up, never crash or leak. */

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "varlink/varlink.h"

static int echo(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        return nv_varlink_reply(call, json_object_get(p));
}

static int stream(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        if (!(flags & NV_VARLINK_MORE))
                return nv_varlink_error(call, NV_VARLINK_ERROR_EXPECTED_MORE, NULL);
        for (int i = 0; i < 3; i++)
                (void)nv_varlink_notify(call, json_object_get(p));
        return nv_varlink_reply(call, NULL);
}

static int subscribe(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        if (!(flags & NV_VARLINK_MORE))
                return nv_varlink_error(call, NV_VARLINK_ERROR_EXPECTED_MORE, NULL);
        return nv_varlink_notify(call, NULL); /* stays open */
}

static int fail(nv_varlink_call *call, json_object *p, unsigned flags, void *userdata) {
        return -EIO;
}

static const nv_varlink_method methods[] = {
        { "Echo", echo, false },
        { "Stream", stream, false },
        { "Subscribe", subscribe, false },
        { "Fail", fail, false },
        { "Root", echo, true },
        { "Missing", NULL, false },
        {},
};

static sd_event *event;
static nv_varlink_server *server;
static char address[64];

static void setup(void) {
        nv_varlink_limits l;

        log_set_max_level(LOG_CRIT);
        snprintf(address, sizeof(address), "unix:@nv-fuzz-varlink-%d", (int)getpid());
        if (sd_event_new(&event) < 0 ||
            nv_varlink_server_new(event, "v", "p", "1", "u", NULL, &server) < 0 ||
            nv_varlink_server_add_interface(server, "org.example.fuzz", "interface org.example.fuzz\n",
                                            methods) < 0 ||
            nv_varlink_server_listen_address(server, address, 0600) < 0)
                abort();
        nv_varlink_limits_default(&l);
        l.max_message = 4096; /* reachable by the fuzzer's input sizes */
        l.max_depth = 16;
        nv_varlink_server_set_limits(server, &l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct sockaddr_un sa;
        socklen_t len;
        char buf[65536];
        int fd;

        if (!server)
                setup();
        if (nv_varlink_address_parse(address, &sa, &len) < 0)
                abort();
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0)
                abort();
        for (size_t done = 0; done < size;) {
                ssize_t n = send(fd, data + done, size - done, MSG_NOSIGNAL);
                if (n > 0)
                        done += (size_t)n;
                else
                        (void)sd_event_run(event, 0);
        }
        shutdown(fd, SHUT_WR);
        /* Let the server read, answer and hang up; drain the answers meanwhile. A connection with
         * a subscription stays until we close our end. */
        for (int i = 0; i < 1000; i++) {
                (void)sd_event_run(event, 0);
                ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n == 0)
                        break;
                if (n < 0 && nv_varlink_server_connections(server) == 0)
                        break;
        }
        close(fd);
        while (nv_varlink_server_connections(server) > 0)
                if (sd_event_run(event, 100 * 1000) <= 0)
                        break;
        return 0;
}
