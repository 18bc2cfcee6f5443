/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The `damon` access backend: the kernel's DAMON through its sysfs interface
 * (/sys/kernel/mm/damon/admin), one kdamond with one vaddr context per VM whose target is the
 * VMM's pid and whose initial regions are the VM's guest RAM ranges only. A `stat` scheme that
 * matches every region (its access-pattern maxima raised) lets the daemon read DAMON's own
 * adaptive regions each epoch through state=update_schemes_tried_regions.
 *
 * DAMON's sysfs interface rebuilds every kdamond directory when nr_kdamonds is written and refuses
 * while any kdamond runs, so it has one owner at a time: numavd uses it only when no kdamond it did
 * not create exists, never writes to one it did not create, and records the kdamonds it creates in
 * STATE_DIR/damon-kdamonds so that a later start can stop the ones a crash left behind. */

#include "model/host.h"

typedef struct nv_damon_params {
        const char *admin_dir;  /* NULL: /sys/kernel/mm/damon/admin */
        const char *state_dir;  /* NULL: /run/numavd */
        usec_t sample_interval; /* DAMON's sampling interval (DamonSampleInterval=) */
        usec_t aggr_interval;   /* DAMON's aggregation interval (DamonAggrInterval=) */
        unsigned min_regions;   /* per VM, >= 3 (DamonMinRegions=) */
        unsigned max_regions;   /* per VM, >= min_regions (DamonMaxRegions=) */
} nv_damon_params;

void nv_damon_params_defaults(nv_damon_params *p);

/* Check that DAMON can be used here (sysfs present, vaddr operations offered, no foreign
 * kdamond), stopping and removing the kdamonds a previous numavd recorded and left behind.
 * Nothing is started until a VM is attached and its regions are asked for. Returns 0, or
 * -ENOENT (no DAMON sysfs), -EOPNOTSUPP (no vaddr operations), -EBUSY (kdamonds numavd did not
 * create), -EINVAL (bad parameters), each logged with the reason; nothing changed on failure. */
int nv_damon_backend_new(const nv_damon_params *p, const nv_access_ops **ret_ops, void **ret_ctx);

/* Number of kdamonds the backend runs now (for tests and stats). */
unsigned nv_damon_backend_kdamonds(void *ctx);
