/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "host/host-memory.h"

int nv_read_meminfo(const char *root, uint64_t *ret_total, uint64_t *ret_available) {
        _cleanup_free_ char *buf = NULL;
        unsigned long long total = 0, avail = 0;
        const char *p;
        int r;

        r = nv_read_file_root(root, "/proc/meminfo", &buf);
        if (r < 0)
                return r;
        p = strstr(buf, "MemTotal:");
        if (!p || sscanf(p, "MemTotal: %llu kB", &total) != 1)
                return -EBADMSG;
        p = strstr(buf, "MemAvailable:");
        if (!p || sscanf(p, "MemAvailable: %llu kB", &avail) != 1)
                return -EBADMSG;
        *ret_total = total * KIB;
        *ret_available = avail * KIB;
        return 0;
}

int nv_read_memory_psi(const char *root, double *ret_some_avg10, double *ret_full_avg10) {
        _cleanup_free_ char *buf = NULL;
        double some = -1, full = -1;
        const char *p;
        int r;

        r = nv_read_file_root(root, "/proc/pressure/memory", &buf);
        if (r < 0)
                return r;
        p = strstr(buf, "some avg10=");
        if (!p || sscanf(p, "some avg10=%lf", &some) != 1)
                return -EBADMSG;
        p = strstr(buf, "full avg10=");
        if (p && sscanf(p, "full avg10=%lf", &full) != 1)
                full = -1;
        *ret_some_avg10 = some;
        *ret_full_avg10 = full;
        return 0;
}

int nv_read_host_memory(const char *root, nv_host_memory *ret) {
        nv_host_memory mem = { .psi_some_avg10 = -1, .psi_full_avg10 = -1 };
        int r;

        r = nv_read_meminfo(root, &mem.total_bytes, &mem.available_bytes);
        if (r < 0)
                return r;
        if (nv_read_memory_psi(root, &mem.psi_some_avg10, &mem.psi_full_avg10) < 0)
                mem.psi_some_avg10 = mem.psi_full_avg10 = -1;
        *ret = mem;
        return 0;
}

int nv_parse_zoneinfo_high(const char *text, uint64_t page_size, uint64_t ret[NV_MAX_NODES]) {
        uint64_t sum[NV_MAX_NODES] = {};
        int node = -1; /* the node of the zone being read; -1 before the first, or beyond the table */
        bool zone_high = true; /* the zone's high watermark is read: a later "high" is not it */
        bool found = false;

        for (const char *line = text; line && *line;) {
                const char *eol = strchrnul(line, '\n');
                unsigned long long pages;
                unsigned n;

                if (strncmp(line, "Node ", 5) == 0 && sscanf(line + 5, "%u,", &n) == 1) {
                        node = n < NV_MAX_NODES ? (int)n : -1;
                        zone_high = false;
                } else if (node >= 0 && !zone_high && sscanf(line, " high %llu", &pages) == 1) {
                        if (page_size == 0 || pages > UINT64_MAX / page_size ||
                            sum[node] > UINT64_MAX - pages * page_size)
                                return -EBADMSG;
                        sum[node] += pages * page_size;
                        zone_high = found = true;
                }
                line = *eol ? eol + 1 : NULL;
        }
        if (!found)
                return -EBADMSG;
        memcpy(ret, sum, sizeof(sum));
        return 0;
}

int nv_read_high_watermarks(const char *root, uint64_t ret[NV_MAX_NODES]) {
        _cleanup_free_ char *buf = NULL;
        long page_size = sysconf(_SC_PAGESIZE);
        int r;

        r = nv_read_file_root(root, "/proc/zoneinfo", &buf);
        if (r < 0)
                return r;
        return nv_parse_zoneinfo_high(buf, page_size > 0 ? (uint64_t)page_size : 4096, ret);
}
