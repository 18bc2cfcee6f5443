/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The real host's memory state: /proc/meminfo and /proc/pressure/memory under a root. */

#include "model/host.h"

/* MemTotal and MemAvailable. 0 or -errno (-EBADMSG: a field is missing). */
int nv_read_meminfo(const char *root, uint64_t *ret_total, uint64_t *ret_available);
/* The memory PSI's some and full avg10 (full -1 when the kernel has no full line). 0 or -errno. */
int nv_read_memory_psi(const char *root, double *ret_some_avg10, double *ret_full_avg10);
/* Both: meminfo must be readable, PSI is -1 where it is not. */
int nv_read_host_memory(const char *root, nv_host_memory *ret);

/* The high watermark of each node: the "high" of every zone of the node in a /proc/zoneinfo text
 * ("Node 1, zone   Normal" opens a zone; "high" then a number of pages, before the zone's
 * pagesets, whose "high:" is another thing), summed, in bytes of page_size pages. Nodes beyond
 * NV_MAX_NODES are ignored. 0, or -EBADMSG when no zone has a high watermark. */
int nv_parse_zoneinfo_high(const char *text, uint64_t page_size, uint64_t ret[NV_MAX_NODES]);
/* The same from ROOT/proc/zoneinfo. 0 or -errno. */
int nv_read_high_watermarks(const char *root, uint64_t ret[NV_MAX_NODES]);
