/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The real host's access samplers, in Backend=auto's order: the numavd_ept module (kmod), then
 * the kernel's DAMON (damon). */

#include "model/host.h"

extern const nv_access_backend nv_real_access_backends[];
extern const size_t nv_real_access_backends_len;
