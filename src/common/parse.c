/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

static const char *skip_space(const char *s) {
        while (*s && isspace((unsigned char)*s))
                s++;
        return s;
}

int parse_boolean(const char *s, bool *ret) {
        static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
        static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

        for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
        for (size_t i = 0; i < ARRAY_SIZE(no); i++)
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        return -EINVAL;
}

/* A non-negative decimal number without sign, exponent, inf or nan. */
static int parse_number_prefix(const char *s, double *ret, const char **ret_end) {
        const char *p = s;
        bool digits = false;

        while (isdigit((unsigned char)*p)) {
                p++;
                digits = true;
        }
        if (*p == '.') {
                p++;
                while (isdigit((unsigned char)*p)) {
                        p++;
                        digits = true;
                }
        }
        if (!digits)
                return -EINVAL;

        char buf[64];
        if ((size_t)(p - s) >= sizeof(buf))
                return -ERANGE;
        memcpy(buf, s, p - s);
        buf[p - s] = '\0';
        *ret = strtod(buf, NULL);
        *ret_end = p;
        return 0;
}

int parse_double(const char *s, double *ret) {
        const char *end;
        double v;
        int r;

        r = parse_number_prefix(skip_space(s), &v, &end);
        if (r < 0)
                return r;
        if (*skip_space(end) != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_uint(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;
        const char *p = skip_space(s);

        if (!isdigit((unsigned char)*p))
                return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
                unsigned d = (unsigned)(*p - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        if (*skip_space(p) != '\0')
                return -EINVAL;
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char c;
                unsigned shift;
        } units[] = {
                { 'B', 0 }, { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 }, { 'P', 50 }, { 'E', 60 },
        };
        const char *p = skip_space(s), *end;
        uint64_t whole = 0, bytes;
        double frac = 0;
        unsigned shift = 0;
        int r;

        /* The integer part is read exactly (a double would round sizes above 2^53); only the
         * fraction goes through floating point. */
        if (!isdigit((unsigned char)*p) && !(p[0] == '.' && isdigit((unsigned char)p[1])))
                return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
                unsigned d = (unsigned)(*p - '0');
                if (whole > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                whole = whole * 10 + d;
        }
        end = p;
        if (*p == '.') {
                if (isdigit((unsigned char)p[1])) {
                        r = parse_number_prefix(p, &frac, &end);
                        if (r < 0)
                                return r;
                } else
                        end = p + 1;
        }

        end = skip_space(end);
        if (*end) {
                size_t i;
                for (i = 0; i < ARRAY_SIZE(units); i++)
                        if (toupper((unsigned char)*end) == units[i].c)
                                break;
                if (i == ARRAY_SIZE(units))
                        return -EINVAL;
                shift = units[i].shift;
                end++;
                if (shift > 0 && (end[0] == 'i' || end[0] == 'I') && (end[1] == 'B' || end[1] == 'b'))
                        end += 2;
                else if (shift > 0 && (*end == 'B' || *end == 'b'))
                        end++;
                if (*skip_space(end) != '\0')
                        return -EINVAL;
        }

        if (shift == 0 && frac != 0)
                return -EINVAL;
        if (whole > (UINT64_MAX >> shift))
                return -ERANGE;
        bytes = whole << shift;
        /* frac < 1, so this part is below 2^shift and fits. */
        uint64_t part = (uint64_t)ldexp(frac, (int)shift);
        if (bytes > UINT64_MAX - part)
                return -ERANGE;
        *ret = bytes + part;
        return 0;
}

int parse_sec(const char *s, usec_t *ret) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } units[] = {
                /* Longest suffixes first, so that "ms" is not read as "m" + "s". */
                { "usec", 1 },
                { "msec", USEC_PER_MSEC },
                { "seconds", USEC_PER_SEC },
                { "second", USEC_PER_SEC },
                { "sec", USEC_PER_SEC },
                { "minutes", 60 * USEC_PER_SEC },
                { "minute", 60 * USEC_PER_SEC },
                { "min", 60 * USEC_PER_SEC },
                { "hours", 3600 * USEC_PER_SEC },
                { "hour", 3600 * USEC_PER_SEC },
                { "hr", 3600 * USEC_PER_SEC },
                { "days", 86400 * USEC_PER_SEC },
                { "day", 86400 * USEC_PER_SEC },
                { "weeks", 7 * 86400 * USEC_PER_SEC },
                { "week", 7 * 86400 * USEC_PER_SEC },
                { "us", 1 },
                { "ms", USEC_PER_MSEC },
                { "s", USEC_PER_SEC },
                { "m", 60 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC },
                { "d", 86400 * USEC_PER_SEC },
                { "w", 7 * 86400 * USEC_PER_SEC },
        };
        const char *p = skip_space(s);
        double total = 0;
        bool any = false;

        if (strncmp(p, "infinity", 8) == 0 && *skip_space(p + 8) == '\0') {
                *ret = USEC_INFINITY;
                return 0;
        }

        while (*p) {
                const char *end, *number_end;
                double v;
                usec_t mult = USEC_PER_SEC;
                bool unit = false;
                int r;

                r = parse_number_prefix(p, &v, &number_end);
                if (r < 0)
                        return r;
                end = skip_space(number_end);
                for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                        size_t n = strlen(units[i].suffix);
                        if (strncmp(end, units[i].suffix, n) == 0 && !isalpha((unsigned char)end[n])) {
                                mult = units[i].usec;
                                end += n;
                                unit = true;
                                break;
                        }
                }
                /* A bare number must be followed by space or the end: "1.5.5s" is not 2s. */
                if (!unit && *end && end == number_end)
                        return -EINVAL;
                if (isalpha((unsigned char)*end))
                        return -EINVAL;
                total += v * (double)mult;
                any = true;
                p = skip_space(end);
        }
        if (!any)
                return -EINVAL;
        /* llround() returns a long long, which cannot hold the upper half of usec_t. */
        total = round(total);
        if (!(total < 18446744073709551616.0))
                return -ERANGE;
        *ret = (usec_t)total;
        return 0;
}

int parse_percent(const char *s, double *ret) {
        const char *end;
        double v;
        int r;

        r = parse_number_prefix(skip_space(s), &v, &end);
        if (r < 0)
                return r;
        end = skip_space(end);
        if (*end != '%' || *skip_space(end + 1) != '\0')
                return -EINVAL;
        if (v > 100.0)
                return -ERANGE;
        *ret = v / 100.0;
        return 0;
}

int parse_size_or_percent(const char *s, size_or_percent *ret) {
        size_or_percent v = {};
        int r;

        if (strchr(s, '%')) {
                r = parse_percent(s, &v.fraction);
                v.is_percent = true;
        } else
                r = parse_size(s, &v.bytes);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

uint64_t size_or_percent_resolve(const size_or_percent *v, uint64_t whole) {
        double r;

        if (!v->is_percent)
                return v->bytes;
        /* Converting a double at or above 2^64 is undefined: clamp (100% of UINT64_MAX). */
        r = (double)whole * v->fraction;
        if (!(r < 18446744073709551616.0))
                return UINT64_MAX;
        return (uint64_t)r;
}

int nv_cpulist_next(const char **p, unsigned max, unsigned *ret_lo, unsigned *ret_hi) {
        const char *q = *p;
        unsigned long lo, hi;
        char *end;

        while (*q == ' ' || *q == '\t' || *q == '\n')
                q++;
        if (!*q) {
                *p = q;
                return 0;
        }

        if (!isdigit((unsigned char)*q))
                return -EINVAL;
        lo = hi = strtoul(q, &end, 10);
        q = end;
        if (*q == '-') {
                q++;
                if (!isdigit((unsigned char)*q))
                        return -EINVAL;
                hi = strtoul(q, &end, 10);
                q = end;
        }
        if (hi < lo)
                return -EINVAL;
        if (hi >= max)
                return -ERANGE;
        if (*q == ',')
                q++;
        else if (*q && *q != '\n' && *q != ' ')
                return -EINVAL;

        *p = q;
        *ret_lo = (unsigned)lo;
        *ret_hi = (unsigned)hi;
        return 1;
}

const char *format_size(char *buf, uint64_t bytes) {
        static const char suffix[] = "BKMGTPE";
        double v = (double)bytes;
        unsigned i = 0;

        while (v >= 1024.0 && i < sizeof(suffix) - 2) {
                v /= 1024.0;
                i++;
        }
        if (i == 0)
                snprintf(buf, FORMAT_BUF, "%" PRIu64 "B", bytes);
        else
                snprintf(buf, FORMAT_BUF, "%.1f%c", v, suffix[i]);
        return buf;
}

const char *format_sec(char *buf, usec_t usec) {
        if (usec == USEC_INFINITY)
                snprintf(buf, FORMAT_BUF, "infinity");
        else if (usec % USEC_PER_SEC == 0)
                snprintf(buf, FORMAT_BUF, "%" PRIu64 "s", usec / USEC_PER_SEC);
        else if (usec % USEC_PER_MSEC == 0)
                snprintf(buf, FORMAT_BUF, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
        else
                snprintf(buf, FORMAT_BUF, "%" PRIu64 "us", usec);
        return buf;
}
