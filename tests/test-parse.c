/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for src/common/parse.c: sizes, durations, percentages, booleans, numbers, CPU lists. */

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "model/inventory.h"
#include "common/log.h"
#include "common/parse.h"
#include "common/string-table.h"
#include "tap.h"

static void check_size(const char *s, uint64_t want) {
        uint64_t v = 0;
        int r = parse_size(s, &v);
        if (is_int(r, 0, "parse_size(\"%s\") succeeds", s))
                is_u64(v, want, "parse_size(\"%s\") = %" PRIu64, s, want);
}

static void check_size_fails(const char *s, int want_r) {
        uint64_t v = 4242;
        int r = parse_size(s, &v);
        is_int(r, want_r, "parse_size(\"%s\") fails with %d", s, want_r);
        is_u64(v, 4242, "parse_size(\"%s\") leaves the output untouched", s);
}

static void test_size(void) {
        check_size("0", 0);
        check_size("4096", 4096);
        check_size(" 4096 ", 4096);
        check_size("10B", 10);
        check_size("64K", 64 * KIB);
        check_size("64k", 64 * KIB);
        check_size("64KiB", 64 * KIB);
        check_size("64KB", 64 * KIB);
        check_size("256M", 256 * MIB);
        check_size("1.5G", 3 * GIB / 2);
        check_size("0.5K", 512);
        check_size(".5M", 512 * KIB);
        check_size("2T", 2 * TIB);
        check_size("1P", 1024 * TIB);
        check_size("1E", 1024 * 1024 * TIB);
        check_size("15E", 15 * 1024 * 1024 * TIB);
        check_size("1 G", GIB);
        /* Exact above 2^53, where a double would round to an even number. */
        check_size("9007199254740993", 9007199254740993ULL);
        check_size("18446744073709551615", UINT64_MAX);

        check_size_fails("", -EINVAL);
        check_size_fails("K", -EINVAL);
        check_size_fails("-1", -EINVAL);
        check_size_fails("+1", -EINVAL);
        check_size_fails("1X", -EINVAL);
        check_size_fails("1KX", -EINVAL);
        check_size_fails("1Ki", -EINVAL);
        check_size_fails("1.5", -EINVAL);
        check_size_fails("1.5B", -EINVAL);
        check_size_fails("1 2", -EINVAL);
        check_size_fails("1e3", -EINVAL);
        check_size_fails("inf", -EINVAL);
        check_size_fails("16E", -ERANGE);
        check_size_fails("18446744073709551616", -ERANGE);
        check_size_fails("99999999999999999999999", -ERANGE);
        check_size_fails("17179869184G", -ERANGE);
}

static void check_sec(const char *s, usec_t want) {
        usec_t v = 0;
        int r = parse_sec(s, &v);
        if (is_int(r, 0, "parse_sec(\"%s\") succeeds", s))
                is_u64(v, want, "parse_sec(\"%s\") = %" PRIu64 "us", s, want);
}

static void check_sec_fails(const char *s, int want_r) {
        usec_t v = 4242;
        int r = parse_sec(s, &v);
        is_int(r, want_r, "parse_sec(\"%s\") fails with %d", s, want_r);
        is_u64(v, 4242, "parse_sec(\"%s\") leaves the output untouched", s);
}

static void test_sec(void) {
        check_sec("1", USEC_PER_SEC);
        check_sec("0", 0);
        check_sec("30s", 30 * USEC_PER_SEC);
        check_sec("500ms", 500 * USEC_PER_MSEC);
        check_sec("100us", 100);
        check_sec("2h", 7200 * USEC_PER_SEC);
        check_sec("5m", 300 * USEC_PER_SEC);
        check_sec("1min 30s", 90 * USEC_PER_SEC);
        check_sec("1min30s", 90 * USEC_PER_SEC);
        check_sec("1 min 30 s", 90 * USEC_PER_SEC);
        check_sec("1h 1min 1s 1ms", 3661 * USEC_PER_SEC + USEC_PER_MSEC);
        check_sec("1.5s", 1500 * USEC_PER_MSEC);
        check_sec("0.25ms", 250);
        check_sec("2 minutes", 120 * USEC_PER_SEC);
        check_sec("3 seconds", 3 * USEC_PER_SEC);
        check_sec("10msec", 10 * USEC_PER_MSEC);
        check_sec("1d", 86400 * USEC_PER_SEC);
        check_sec("2days", 2 * 86400 * USEC_PER_SEC);
        check_sec("1w", 7 * 86400 * USEC_PER_SEC);
        check_sec("1hr", 3600 * USEC_PER_SEC);
        check_sec("infinity", USEC_INFINITY);
        /* Above LLONG_MAX: llround() used to overflow here. */
        check_sec("10000000000000s", 10000000000000ULL * USEC_PER_SEC);

        check_sec_fails("", -EINVAL);
        check_sec_fails("s", -EINVAL);
        check_sec_fails("-1s", -EINVAL);
        check_sec_fails("5 parsecs", -EINVAL);
        check_sec_fails("5x", -EINVAL);
        check_sec_fails("5sec,", -EINVAL);
        check_sec_fails("1.5.5s", -EINVAL);
        check_sec_fails("1msx", -EINVAL);
        check_sec_fails("30000000000000s", -ERANGE);
}

static void test_percent(void) {
        double v = -1;

        is_int(parse_percent("5%", &v), 0, "parse_percent(\"5%%\") succeeds");
        is_near(v, 0.05, 1e-12, "5%% is 0.05");
        is_int(parse_percent("12.5%", &v), 0, "parse_percent(\"12.5%%\") succeeds");
        is_near(v, 0.125, 1e-12, "12.5%% is 0.125");
        is_int(parse_percent("0%", &v), 0, "0%% is valid");
        is_near(v, 0, 0, "0%% is 0");
        is_int(parse_percent("100%", &v), 0, "100%% is valid");
        is_near(v, 1.0, 0, "100%% is 1");
        is_int(parse_percent(" 30 % ", &v), 0, "spaces around a percentage are allowed");
        is_near(v, 0.30, 1e-12, "\" 30 %% \" is 0.3");

        v = 42;
        is_int(parse_percent("100.1%", &v), -ERANGE, "100.1%% is out of range");
        is_int(parse_percent("200%", &v), -ERANGE, "200%% is out of range");
        is_int(parse_percent("-5%", &v), -EINVAL, "-5%% is invalid");
        is_int(parse_percent("5", &v), -EINVAL, "a percentage needs a %% sign");
        is_int(parse_percent("%", &v), -EINVAL, "a lone %% is invalid");
        is_int(parse_percent("5%%", &v), -EINVAL, "a doubled %% is invalid");
        is_int(parse_percent("5%x", &v), -EINVAL, "junk after %% is invalid");
        is_near(v, 42, 0, "failed percentages leave the output untouched");
}

static void test_boolean(void) {
        static const char *const yes[] = { "1", "yes", "YES", "y", "true", "True", "t", "on", "ON" };
        static const char *const no[] = { "0", "no", "No", "n", "false", "FALSE", "f", "off", "Off" };
        static const char *const bad[] = { "", "2", "yess", "maybe", "of", " yes" };
        bool b;

        for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
                b = false;
                ok(parse_boolean(yes[i], &b) == 0 && b, "\"%s\" is true", yes[i]);
        }
        for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
                b = true;
                ok(parse_boolean(no[i], &b) == 0 && !b, "\"%s\" is false", no[i]);
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                b = true;
                ok(parse_boolean(bad[i], &b) == -EINVAL && b, "\"%s\" is not a boolean", bad[i]);
        }
}

static void test_uint_double(void) {
        uint64_t u = 7;
        double d = 7;

        is_int(parse_uint("42", 100, &u), 0, "parse_uint(\"42\") succeeds");
        is_u64(u, 42, "parse_uint(\"42\") = 42");
        is_int(parse_uint("100", 100, &u), 0, "the maximum itself is allowed");
        is_int(parse_uint("101", 100, &u), -ERANGE, "above the maximum is -ERANGE");
        is_int(parse_uint("18446744073709551615", UINT64_MAX, &u), 0, "UINT64_MAX parses");
        is_u64(u, UINT64_MAX, "UINT64_MAX is exact");
        u = 7;
        is_int(parse_uint("18446744073709551616", UINT64_MAX, &u), -ERANGE, "2^64 overflows");
        is_int(parse_uint("-1", 100, &u), -EINVAL, "negative numbers are invalid");
        is_int(parse_uint("1.5", 100, &u), -EINVAL, "fractions are not integers");
        is_int(parse_uint("", 100, &u), -EINVAL, "empty is not a number");
        is_int(parse_uint("12abc", 100, &u), -EINVAL, "junk after digits is invalid");
        is_u64(u, 7, "failed parse_uint leaves the output untouched");

        is_int(parse_double("0.3", &d), 0, "parse_double(\"0.3\") succeeds");
        is_near(d, 0.3, 1e-12, "0.3 is 0.3");
        is_int(parse_double("2", &d), 0, "parse_double(\"2\") succeeds");
        is_near(d, 2, 0, "2 is 2");
        d = 7;
        is_int(parse_double("-0.3", &d), -EINVAL, "negative doubles are invalid");
        is_int(parse_double("1e3", &d), -EINVAL, "exponents are invalid");
        is_int(parse_double("nan", &d), -EINVAL, "nan is invalid");
        is_int(parse_double("inf", &d), -EINVAL, "inf is invalid");
        is_near(d, 7, 0, "failed parse_double leaves the output untouched");
}

static void test_size_or_percent(void) {
        size_or_percent v = {};

        is_int(parse_size_or_percent("2%", &v), 0, "\"2%%\" is a size or percent");
        ok(v.is_percent, "\"2%%\" is a percentage");
        is_u64(size_or_percent_resolve(&v, 1000), 20, "2%% of 1000 is 20");
        is_int(parse_size_or_percent("1G", &v), 0, "\"1G\" is a size or percent");
        ok(!v.is_percent, "\"1G\" is a size");
        is_u64(size_or_percent_resolve(&v, 1000), GIB, "a size resolves to itself");
        is_int(parse_size_or_percent("101%", &v), -ERANGE, "\"101%%\" is out of range");
        is_int(parse_size_or_percent("1Q", &v), -EINVAL, "\"1Q\" is invalid");
        ok(!v.is_percent && v.bytes == GIB, "failed parses leave the output untouched");

        v = (size_or_percent){ .is_percent = true, .fraction = 1.0 };
        is_u64(size_or_percent_resolve(&v, UINT64_MAX), UINT64_MAX, "100%% of UINT64_MAX does not wrap");
}

/* Walk a CPU list to its end or first error: the ranges read, as "0-3 8-8", and the last return. */
static int walk_cpulist(const char *s, unsigned max, char *buf, size_t size) {
        unsigned lo, hi;
        size_t len = 0;
        int r;

        buf[0] = '\0';
        while ((r = nv_cpulist_next(&s, max, &lo, &hi)) > 0)
                len += (size_t)snprintf(buf + len, size - len, "%s%u-%u", len ? " " : "", lo, hi);
        return r;
}

static void check_cpulist(const char *s, unsigned max, int want_r, const char *want_ranges) {
        char buf[256];

        is_int(walk_cpulist(s, max, buf, sizeof(buf)), want_r, "cpulist \"%s\" (max %u) ends with %d", s,
               max, want_r);
        is_str(buf, want_ranges, "cpulist \"%s\" (max %u) yields \"%s\" first", s, max, want_ranges);
}

static void test_cpulist(void) {
        const char *s, *p;
        unsigned lo = 4242, hi = 4242;

        check_cpulist("0-3,8,10-11", 64, 0, "0-3 8-8 10-11");
        check_cpulist("5", 64, 0, "5-5");
        check_cpulist("2-2", 64, 0, "2-2");

        /* As sysfs prints it: a trailing newline; an empty list is a bare newline. */
        check_cpulist("0-3,8\n", 64, 0, "0-3 8-8");
        check_cpulist("\n", 64, 0, "");
        check_cpulist("", 64, 0, "");
        check_cpulist(" 0-1, 4\n", 64, 0, "0-1 4-4");

        /* A trailing comma ends the list; an empty item does not. */
        check_cpulist("0,", 64, 0, "0-0");
        check_cpulist("0,\n", 64, 0, "0-0");
        check_cpulist(",", 64, -EINVAL, "");
        check_cpulist("0,,1", 64, -EINVAL, "0-0");

        check_cpulist("3-1", 64, -EINVAL, "");
        check_cpulist("0,3-1", 64, -EINVAL, "0-0");
        check_cpulist("0-", 64, -EINVAL, "");
        check_cpulist("-1", 64, -EINVAL, "");
        check_cpulist("+1", 64, -EINVAL, "");
        check_cpulist("1- 2", 64, -EINVAL, "");
        check_cpulist("1-2-3", 64, -EINVAL, "");
        check_cpulist("a", 64, -EINVAL, "");
        check_cpulist("1a", 64, -EINVAL, "");
        check_cpulist("1;2", 64, -EINVAL, "");

        /* max bounds every CPU: max - 1 is the last one allowed. */
        check_cpulist("63", 64, 0, "63-63");
        check_cpulist("0-63", 64, 0, "0-63");
        check_cpulist("64", 64, -ERANGE, "");
        check_cpulist("0-64", 64, -ERANGE, "");
        check_cpulist("0", 1, 0, "0-0");
        check_cpulist("0", 0, -ERANGE, "");
        check_cpulist("99999999999999999999999", 64, -ERANGE, "");
        check_cpulist("4294967295", UINT_MAX, -ERANGE, "");
        check_cpulist("4294967294", UINT_MAX, 0, "4294967294-4294967294");

        s = p = "0-64";
        is_int(nv_cpulist_next(&p, 64, &lo, &hi), -ERANGE, "cpulist: a failed range returns -ERANGE");
        ok(p == s && lo == 4242 && hi == 4242,
           "cpulist: a failed range leaves the cursor and outputs untouched");
        s = p = "7\n";
        is_int(nv_cpulist_next(&p, 64, &lo, &hi), 1, "cpulist: \"7\\n\" has one range");
        is_int(nv_cpulist_next(&p, 64, &lo, &hi), 0, "cpulist: \"7\\n\" then ends");
        ok(*p == '\0' && lo == 7 && hi == 7,
           "cpulist: the end leaves the cursor at the NUL, the range as it was");
}

static void test_format(void) {
        char buf[FORMAT_BUF];

        is_str(format_size(buf, 512), "512B", "format_size(512)");
        is_str(format_size(buf, 3 * GIB / 2), "1.5G", "format_size(1.5G)");
        is_str(format_sec(buf, 30 * USEC_PER_SEC), "30s", "format_sec(30s)");
        is_str(format_sec(buf, 250 * USEC_PER_MSEC), "250ms", "format_sec(250ms)");
        is_str(format_sec(buf, 7), "7us", "format_sec(7us)");
        is_str(format_sec(buf, USEC_INFINITY), "infinity", "format_sec(infinity)");
}

static const char *const demo_table[] = { [0] = "zero", [2] = "two" };
_unused_ static DEFINE_STRING_TABLE_LOOKUP_TO_STRING(demo, int)
        _unused_ static DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(demo, int)

        /* The enum <-> string tables (common/string-table.h) and two of their users. */
        static void test_string_table(void) {
        is_str(demo_to_string(2), "two", "table: a value's string");
        ok(demo_to_string(1) == NULL, "table: a hole has no string");
        ok(demo_to_string(3) == NULL && demo_to_string(-1) == NULL, "table: out of range is NULL");
        is_int(demo_from_string("two"), 2, "table: a string's value");
        is_int(demo_from_string("Two"), -EINVAL, "table: the match is exact");
        is_int(demo_from_string(NULL), -EINVAL, "table: NULL is -EINVAL");
        is_int(nv_backing_from_string("thp"), NV_BACKING_THP, "backing: thp");
        is_str(nv_backing_to_string(NV_BACKING_PINNED), "pinned", "backing: pinned");
        ok(nv_backing_to_string(_NV_BACKING_MAX) == NULL, "backing: past the end is NULL");
        is_str(log_level_to_string(LOG_WARNING), "warning", "log level: warning");
        ok(log_level_to_string(-1) == NULL, "log level: -1 has no name");
}

static void capture_message(int level, const char *message, void *userdata) {
        snprintf(userdata, 256, "%s", message);
}

/* log_*_errno(): a negative errno in, %m its text, the same negative errno out. */
static void test_log_errno(void) {
        char msg[256] = "";

        log_set_hook(capture_message, msg);
        log_set_max_level(LOG_CRIT);
        is_int(log_error_errno(-ENOENT, "quiet: %m"), -ENOENT, "log: below the level, the error returned");
        ok(msg[0] == 0, "log: below the level, nothing logged");
        log_set_max_level(LOG_DEBUG);
        is_int(log_debug_errno(-EINVAL, "open: %m"), -EINVAL, "log: a negative errno is returned as is");
        ok(strstr(msg, "open: ") && strstr(msg, strerror(EINVAL)), "log: %%m says what the errno means (%s)",
           msg);
        is_int(log_debug_errno(EINVAL, "x"), -EINVAL, "log: a positive one is returned negated");
        log_set_hook(NULL, NULL);
        log_set_max_level(LOG_WARNING);
}

int main(void) {
        test_log_errno();
        test_string_table();
        test_size();
        test_sec();
        test_percent();
        test_boolean();
        test_uint_double();
        test_size_or_percent();
        test_cpulist();
        test_format();
        return tap_done();
}
