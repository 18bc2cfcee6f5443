/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/numa-maps.h"

/* numa_maps of a VMM with thousands of mappings stays far below this. */
#define NUMA_MAPS_MAX (16 * MIB)

static bool in_ranges(uint64_t addr, const nv_ram_range *ranges, size_t n) {
        if (n == 0)
                return true;
        for (size_t i = 0; i < n; i++)
                if (addr >= ranges[i].hva && addr - ranges[i].hva < ranges[i].size)
                        return true;
        return false;
}

/* One line: "ADDR POLICY [key=value | word]...". */
static int parse_line(const char *line, const char *eol, const nv_ram_range *ranges, size_t n,
                      nv_numa_maps *acc) {
        uint64_t pages[NV_MAX_NODES] = {}, page_kb = 4, addr;
        const char *p = line;
        char *end;

        errno = 0;
        addr = strtoull(p, &end, 16);
        if (errno != 0 || end == p || (*end != ' ' && end != eol))
                return -EINVAL;
        if (!in_ranges(addr, ranges, n))
                return 0;
        for (p = end; p < eol;) {
                size_t len;

                p += strspn(p, " ");
                len = strcspn(p, " \n");
                if (p[0] == 'N' && p[1] >= '0' && p[1] <= '9') {
                        unsigned long node = strtoul(p + 1, &end, 10);
                        if (*end == '=' && node < NV_MAX_NODES)
                                pages[node] = strtoull(end + 1, NULL, 10);
                } else if (strncmp(p, "kernelpagesize_kB=", 18) == 0)
                        page_kb = strtoull(p + 18, NULL, 10);
                p += len;
        }
        for (unsigned nd = 0; nd < NV_MAX_NODES; nd++) {
                acc->node_bytes[nd] += pages[nd] * page_kb * KIB;
                acc->total_bytes += pages[nd] * page_kb * KIB;
        }
        acc->nr_mappings++;
        return 0;
}

int nv_numa_maps_parse(const char *text, const nv_ram_range *ranges, size_t n, nv_numa_maps *ret) {
        nv_numa_maps acc = {};

        for (const char *line = text; *line;) {
                const char *eol = strchrnul(line, '\n');
                int r;

                if (eol > line) {
                        r = parse_line(line, eol, ranges, n, &acc);
                        if (r < 0)
                                return r;
                }
                line = *eol ? eol + 1 : eol;
        }
        *ret = acc;
        return 0;
}

int nv_numa_maps_read(const char *proc_root, pid_t pid, const nv_ram_range *ranges, size_t n,
                      nv_numa_maps *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        size_t size = 0, cap = 64 * KIB;
        char path[512];

        snprintf(path, sizeof(path), "%s/%d/numa_maps", proc_root ?: "/proc", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT)
                        return -errno;
                snprintf(path, sizeof(path), "%s/%d", proc_root ?: "/proc", (int)pid);
                return access(path, F_OK) < 0 ? -ESRCH : -EOPNOTSUPP;
        }
        text = malloc(cap);
        if (!text)
                return -ENOMEM;
        for (;;) {
                ssize_t k;

                if (cap - size < 4096) {
                        char *t;

                        if (cap >= NUMA_MAPS_MAX)
                                return -EFBIG;
                        t = realloc(text, cap * 2);
                        if (!t)
                                return -ENOMEM;
                        text = t;
                        cap *= 2;
                }
                k = read(fd, text + size, cap - size - 1);
                if (k < 0)
                        return errno == ESRCH ? -ESRCH : -errno;
                if (k == 0)
                        break;
                size += (size_t)k;
        }
        text[size] = 0;
        return nv_numa_maps_parse(text, ranges, n, ret);
}
