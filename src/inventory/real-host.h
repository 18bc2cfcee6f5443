/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The real host's ports: VMs from /proc (any process holding a KVM VM fd), the topology and free
 * memory from sysfs, pages moved with move_pages(2). No access sampler yet (ret->access is NULL):
 * DAMON and the numavd_ept module come later. */

#include "common/host.h"

/* root: NULL or "" for "/"; tests point it at a fixture tree holding proc/ and sys/. The topology
 * is read once here; node memory and the VMs on every refresh. ret->destroy frees the context.
 * 0 or -errno, *ret untouched on failure. */
int nv_real_host_new(const char *root, nv_host *ret);
