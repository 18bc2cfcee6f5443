/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
