/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/proc-parse.h"

/* Guest names come from whoever started the VM; keep them to a sane length. */
#define NAME_MAX_BYTES 255

/* Decode one QEMU option value up to an unescaped ',' (",," is a literal comma). Returns the
 * length consumed from s; the decoded text goes to out (which holds at least strlen(s) + 1). */
static size_t qemu_opt_item(const char *s, char *out) {
        size_t i = 0, o = 0;

        while (s[i]) {
                if (s[i] == ',') {
                        if (s[i + 1] != ',')
                                break;
                        i++;
                }
                out[o++] = s[i++];
        }
        out[o] = '\0';
        return i;
}

/* "-name guest=NAME,debug-threads=on" or "-name NAME,...": the guest key may be implied in the
 * first item. */
static int qemu_name_from_opts(const char *opts, char **ret) {
        _cleanup_free_ char *item = malloc(strlen(opts) + 1);
        bool first = true;

        if (!item)
                return -ENOMEM;

        for (const char *p = opts;; first = false) {
                const char *value = NULL;
                size_t len = qemu_opt_item(p, item);

                if (strncmp(item, "guest=", 6) == 0)
                        value = item + 6;
                else if (first && !strchr(item, '='))
                        value = item;
                if (value && *value) {
                        char *name = strndup(value, NAME_MAX_BYTES);
                        if (!name)
                                return -ENOMEM;
                        free(*ret);
                        *ret = name;
                        return 0;
                }
                p += len;
                if (!*p)
                        return 0;
                p++; /* the ',' */
        }
}

static bool uuid_valid(const char *s) {
        if (strlen(s) != 36)
                return false;
        for (unsigned i = 0; i < 36; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;

                if (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
                        return false;
        }
        return true;
}

int nv_qemu_cmdline_parse(const char *cmdline, size_t size, char **ret_name, char ret_uuid[37]) {
        _cleanup_free_ char *name = NULL;
        char uuid[37] = "";
        const char *end = cmdline + size;
        int r;

        /* Arguments are NUL-terminated; the last one may lack its NUL if the file was cut. */
        for (const char *arg = cmdline; arg < end;) {
                size_t len = strnlen(arg, (size_t)(end - arg));
                const char *next = arg + len + 1;
                bool has_next = next < end && strnlen(next, (size_t)(end - next)) < (size_t)(end - next);

                if (has_next && (strcmp(arg, "-name") == 0 || strcmp(arg, "--name") == 0)) {
                        r = qemu_name_from_opts(next, &name);
                        if (r < 0)
                                return r;
                } else if (has_next && (strcmp(arg, "-uuid") == 0 || strcmp(arg, "--uuid") == 0)) {
                        if (uuid_valid(next))
                                memcpy(uuid, next, sizeof(uuid));
                }
                arg = next;
        }

        *ret_name = TAKE_PTR(name);
        memcpy(ret_uuid, uuid, sizeof(uuid));
        return 0;
}

int nv_vcpu_comm_parse(const char *comm, unsigned *ret_index) {
        unsigned long v;
        char *end;

        if (strncmp(comm, "CPU ", 4) != 0 || comm[4] < '0' || comm[4] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoul(comm + 4, &end, 10);
        if (errno != 0 || v >= NV_PROC_VMS_MAX_VCPUS)
                return -ERANGE;
        /* comm as read from /proc ends with a newline. */
        if (strcmp(end, "/KVM") != 0 && strcmp(end, "/KVM\n") != 0 && strcmp(end, "/TCG") != 0 &&
            strcmp(end, "/TCG\n") != 0)
                return -EINVAL;
        *ret_index = (unsigned)v;
        return 0;
}

int nv_proc_stat_parse(const char *text, nv_proc_stat *ret) {
        nv_proc_stat st = { .processor = -1 };
        const char *open = strchr(text, '('), *close = strrchr(text, ')');
        const char *p;
        unsigned field;

        if (!open || !close || close < open)
                return -EINVAL;
        snprintf(st.comm, sizeof(st.comm), "%.*s", (int)(close - open - 1), open + 1);

        /* After ") " comes field 3 (state). */
        p = close + 1;
        for (field = 3;; field++) {
                unsigned long long v;
                char *end;

                p += strspn(p, " ");
                if (!*p || *p == '\n')
                        break;
                errno = 0;
                v = strtoull(p, &end, 10);
                if (field >= 14 && end == p && field <= 39)
                        return -EINVAL;
                if (field == 14)
                        st.utime = v;
                else if (field == 15)
                        st.stime = v;
                else if (field == 22)
                        st.starttime = v;
                else if (field == 39)
                        st.processor = (int)MIN(v, (unsigned long long)INT32_MAX);
                p += strcspn(p, " \n");
        }
        if (field <= 22)
                return -EINVAL;

        *ret = st;
        return 0;
}

/* One VMA of smaps, as far as the RAM rule needs it. */
typedef struct smaps_vma {
        uint64_t start, end;
        char perms[5];
        const char *path; /* points into the text; "" for none */
        size_t path_len;
        uint64_t kernel_page_kb, rss_kb, anon_huge_kb;
} smaps_vma;

static bool path_is(const smaps_vma *v, const char *prefix) {
        size_t n = strlen(prefix);
        return v->path_len >= n && strncmp(v->path, prefix, n) == 0;
}

/* The guest RAM rule. A candidate is a writable mapping of at least NV_PROC_VMS_MIN_RAM_BYTES that
 * is one of:
 *   - hugetlb (KernelPageSize 2048 kB: a hugetlbfs file, a MFD_HUGETLB memfd or MAP_HUGETLB):
 *     NV_BACKING_HUGETLB; with a larger page (1 GiB) NV_BACKING_PINNED, since we neither sample
 *     nor move in 1 GiB units;
 *   - a memfd ("/memfd:memory-backend-memfd (deleted)"): NV_BACKING_SHARED;
 *   - private anonymous (no path): NV_BACKING_THP when at least half of its resident memory is in
 *     transparent huge pages (AnonHugePages * 2 >= Rss > 0) and the VMA is 2 MiB aligned at both
 *     ends, else NV_BACKING_ANON. Moving a range in 2 MiB steps moves only the first 4 KiB of a
 *     chunk that is not huge, while moving in 4 KiB steps still moves a whole huge page, so a
 *     range counts as huge only when most of it is.
 * Everything else ([heap], [stack], files, shared anonymous memory, read-only or PROT_NONE
 * reservations) is QEMU's own memory. */
static int classify(const smaps_vma *v, nv_ram_range *ret) {
        uint64_t size = v->end - v->start;
        nv_backing b;

        if (v->perms[1] != 'w' || size < NV_PROC_VMS_MIN_RAM_BYTES)
                return 0;

        if (v->kernel_page_kb == 2048)
                b = NV_BACKING_HUGETLB;
        else if (v->kernel_page_kb > 4)
                b = NV_BACKING_PINNED;
        else if (path_is(v, "/memfd:"))
                b = NV_BACKING_SHARED;
        else if (v->path_len == 0 && v->perms[3] == 'p') {
                bool aligned = v->start % NV_HUGE_SIZE == 0 && v->end % NV_HUGE_SIZE == 0;

                b = aligned && v->rss_kb > 0 && v->anon_huge_kb * 2 >= v->rss_kb ? NV_BACKING_THP
                                                                                 : NV_BACKING_ANON;
        } else
                return 0;

        *ret = (nv_ram_range){ .hva = v->start, .size = size, .backing = b, .cell = -1 };
        return 1;
}

/* "7f00-7f80 rw-p 00000000 00:00 0      /path (deleted)" */
static int parse_vma_header(const char *line, const char *eol, smaps_vma *ret) {
        smaps_vma v = { .kernel_page_kb = 4 };
        const char *p;
        char *end;

        v.start = strtoull(line, &end, 16);
        if (*end != '-')
                return -EINVAL;
        v.end = strtoull(end + 1, &end, 16);
        if (*end != ' ' || v.end < v.start || eol - end < 6)
                return -EINVAL;
        memcpy(v.perms, end + 1, 4);

        /* Skip perms, offset, dev and inode; the rest of the line is the path. */
        p = end;
        for (unsigned i = 0; i < 4; i++) {
                p += strspn(p, " ");
                p += strcspn(p, " \n");
        }
        p += strspn(p, " ");
        v.path = p < eol ? p : eol;
        v.path_len = (size_t)(eol - v.path);
        *ret = v;
        return 0;
}

static uint64_t field_kb(const char *line, size_t key_len) {
        return strtoull(line + key_len, NULL, 10);
}

static bool vmflags_has(const char *flags, const char *eol, const char *flag) {
        for (const char *w = flags; w < eol;) {
                size_t len;

                w += strspn(w, " ");
                len = strcspn(w, " \n");
                if (len == strlen(flag) && strncmp(w, flag, len) == 0)
                        return true;
                w += len;
        }
        return false;
}

static bool is_vma_header(const char *line) {
        const char *p = line;

        while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
                p++;
        return p > line && *p == '-';
}

static int add_range(const smaps_vma *v, nv_ram_range **ranges, size_t *n) {
        nv_ram_range r;
        nv_ram_range *p;

        if (classify(v, &r) <= 0)
                return 0;
        if (*n >= NV_PROC_VMS_MAX_RANGES)
                return -E2BIG;
        p = realloc(*ranges, (*n + 1) * sizeof(**ranges));
        if (!p)
                return -ENOMEM;
        p[(*n)++] = r;
        *ranges = p;
        return 0;
}

int nv_smaps_parse(const char *text, nv_ram_range **ret_ranges, size_t *ret_n, uint64_t *ret_mlocked_bytes) {
        _cleanup_free_ nv_ram_range *ranges = NULL;
        size_t n = 0;
        uint64_t mlocked = 0;
        smaps_vma v;
        bool have = false;
        int r;

        for (const char *line = text; *line;) {
                const char *eol = strchrnul(line, '\n');

                if (is_vma_header(line)) {
                        if (have) {
                                r = add_range(&v, &ranges, &n);
                                if (r < 0)
                                        return r;
                        }
                        r = parse_vma_header(line, eol, &v);
                        if (r < 0)
                                return r;
                        have = true;
                } else if (have) {
                        if (strncmp(line, "KernelPageSize:", 15) == 0)
                                v.kernel_page_kb = field_kb(line, 15);
                        else if (strncmp(line, "Rss:", 4) == 0)
                                v.rss_kb = field_kb(line, 4);
                        else if (strncmp(line, "AnonHugePages:", 14) == 0)
                                v.anon_huge_kb = field_kb(line, 14);
                        else if (strncmp(line, "VmFlags:", 8) == 0 && vmflags_has(line + 8, eol, "lo"))
                                mlocked += v.end - v.start;
                }
                line = *eol ? eol + 1 : eol;
        }
        if (have) {
                r = add_range(&v, &ranges, &n);
                if (r < 0)
                        return r;
        }

        *ret_ranges = TAKE_PTR(ranges);
        *ret_n = n;
        if (ret_mlocked_bytes)
                *ret_mlocked_bytes = mlocked;
        return 0;
}

static uint64_t status_kb(const char *status, const char *key) {
        size_t len = strlen(key);

        for (const char *line = status; line && *line;) {
                if (strncmp(line, key, len) == 0)
                        return strtoull(line + len, NULL, 10);
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return 0;
}

bool nv_status_says_pinned(const char *status, uint64_t mlocked_bytes) {
        if (status_kb(status, "VmPin:") > 0)
                return true;
        return status_kb(status, "VmLck:") * KIB > mlocked_bytes;
}
