/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A minimal TAP producer for automake's tap-driver.sh. Each check prints one "ok"/"not ok" line
 * that names what was checked; a failing check also prints the values involved. */

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned tap_count, tap_failed;

static inline bool tap_report(bool pass, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static inline bool tap_report(bool pass, const char *file, int line, const char *fmt, ...) {
        va_list ap;

        tap_count++;
        if (!pass)
                tap_failed++;
        printf("%s %u - ", pass ? "ok" : "not ok", tap_count);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        if (!pass)
                printf("#   failed at %s:%d\n", file, line);
        fflush(stdout);
        return pass;
}

#define ok(cond, ...) tap_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                   \
        ({                                                                       \
                long long _g = (long long)(got), _w = (long long)(want);         \
                bool _p = tap_report(_g == _w, __FILE__, __LINE__, __VA_ARGS__); \
                if (!_p)                                                         \
                        printf("#   got %lld, want %lld\n", _g, _w);             \
                _p;                                                              \
        })

#define is_u64(got, want, ...)                                                     \
        ({                                                                         \
                uint64_t _g = (uint64_t)(got), _w = (uint64_t)(want);              \
                bool _p = tap_report(_g == _w, __FILE__, __LINE__, __VA_ARGS__);   \
                if (!_p)                                                           \
                        printf("#   got %" PRIu64 ", want %" PRIu64 "\n", _g, _w); \
                _p;                                                                \
        })

#define is_str(got, want, ...)                                                                           \
        ({                                                                                               \
                const char *_g = (got), *_w = (want);                                                    \
                bool _p = tap_report(_g && _w && strcmp(_g, _w) == 0, __FILE__, __LINE__, __VA_ARGS__);  \
                if (!_p)                                                                                 \
                        printf("#   got \"%s\", want \"%s\"\n", _g ? _g : "(null)", _w ? _w : "(null)"); \
                _p;                                                                                      \
        })

#define is_near(got, want, tol, ...)                                                           \
        ({                                                                                     \
                double _g = (got), _w = (want);                                                \
                bool _p = tap_report(fabs(_g - _w) <= (tol), __FILE__, __LINE__, __VA_ARGS__); \
                if (!_p)                                                                       \
                        printf("#   got %g, want %g +- %g\n", _g, _w, (double)(tol));          \
                _p;                                                                            \
        })

/* The source tree: $top_srcdir from the test harness, else the one the build was configured from. */
static inline const char *tap_top_srcdir(void) {
        const char *s = getenv("top_srcdir");

        if (s && *s)
                return s;
#ifdef ABS_TOP_SRCDIR
        return ABS_TOP_SRCDIR;
#else
        return ".";
#endif
}

/* Print the plan at the end and return the exit status for main(). */
static inline int tap_done(void) {
        printf("1..%u\n", tap_count);
        return tap_failed ? 1 : 0;
}

/* For a test that cannot run here (e.g. needs root): one skipped plan. */
static inline int tap_skip_all(const char *why) {
        printf("1..0 # SKIP %s\n", why);
        return 0;
}
