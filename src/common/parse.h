/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Values in systemd syntax. All return 0 or -EINVAL/-ERANGE and leave *ret untouched on error. */

/* yes/no, true/false, on/off, 1/0 (case-insensitive). */
int parse_boolean(const char *s, bool *ret);

/* "4096", "64K", "1.5G", "2T": base 1024; B, K, M, G, T, P, E suffixes, optional "iB". */
int parse_size(const char *s, uint64_t *ret);

/* "500ms", "30s", "1min 30s", "2h", "100us": a bare number is seconds. */
int parse_sec(const char *s, usec_t *ret);

/* "5%", "12.5%": returned as a fraction in [0, 1]. */
int parse_percent(const char *s, double *ret);

/* An unsigned integer, decimal, bounded by max. */
int parse_uint(const char *s, uint64_t max, uint64_t *ret);

/* A plain non-negative decimal number ("0.3", "2"). */
int parse_double(const char *s, double *ret);

/* Either an absolute size or a percentage of something decided later. */
typedef struct size_or_percent {
        bool is_percent;
        uint64_t bytes;
        double fraction;
} size_or_percent;
int parse_size_or_percent(const char *s, size_or_percent *ret);
uint64_t size_or_percent_resolve(const size_or_percent *v, uint64_t whole);

/* One range of a CPU list in the kernel's cpulist format ("0-3,8,10-11", as sysfs prints it, with
 * a trailing newline): skips the whitespace before a range, reads "N" or "LO-HI" and the comma,
 * space or newline after it, and moves *p past them. Returns 1 and the range (inclusive), or 0 at
 * the end of the list. A trailing comma ends the list; an empty item, a reversed range or a
 * malformed number fail with -EINVAL, a CPU >= max with -ERANGE. On failure *p, *ret_lo and *ret_hi
 * are untouched. */
int nv_cpulist_next(const char **p, unsigned max, unsigned *ret_lo, unsigned *ret_hi);

/* Formatting helpers for people: "1.5G", "250ms". buf must hold at least FORMAT_BUF bytes. */
#define FORMAT_BUF 32
const char *format_size(char *buf, uint64_t bytes);
const char *format_sec(char *buf, usec_t usec);
