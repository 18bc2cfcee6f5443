/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's varlink interface io.numavd.Manager (src/daemon/io.numavd.Manager.varlink): what
 * numavctl, monitoring and the libvirt hook talk to. */

#include <stdbool.h>

struct nv_manager;
struct nv_vm_state;

typedef struct nv_varlink_manager nv_varlink_manager;

#define NV_VARLINK_DEFAULT_ADDRESS "unix:/run/numavd/io.numavd.Manager"

/* Serve io.numavd.Manager on the sockets systemd passed (socket activation), else on
 * m->opts.varlink_address ("no": nowhere), else, on the real host, on the default address (a
 * failure there only warns). */
int nv_varlink_manager_new(struct nv_manager *m, nv_varlink_manager **ret);
nv_varlink_manager *nv_varlink_manager_free(nv_varlink_manager *v);

/* Once per epoch: a reply to every subscriber. */
void nv_varlink_manager_publish(struct nv_manager *m);

/* The IDL, embedded at build time from io.numavd.Manager.varlink. */
extern const char nv_manager_interface_description[];
