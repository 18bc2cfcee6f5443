/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* common/fileio: one integer read from or written to a sysfs-like file. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "tap.h"

static char dir[] = "/tmp/numavd-test-fileio-XXXXXX";

static const char *put(const char *text) {
        static char path[128];
        FILE *f;

        snprintf(path, sizeof(path), "%s/value", dir);
        f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
        return path;
}

static void test_read(void) {
        int64_t i = 7;
        uint64_t u = 7;

        is_int(nv_read_int64(put("42\n"), &i), 0, "int64: \"42\\n\"");
        ok(i == 42, "int64: 42");
        is_int(nv_read_int64(put("-3"), &i), 0, "int64: a negative value");
        ok(i == -3, "int64: -3");
        is_int(nv_read_uint64(put("18446744073709551615\n"), &u), 0, "uint64: the largest value");
        ok(u == UINT64_MAX, "uint64: UINT64_MAX");
        i = 7;
        u = 7;
        is_int(nv_read_int64(put(""), &i), -EINVAL, "int64: an empty file is -EINVAL");
        is_int(nv_read_int64(put("12 apples\n"), &i), -EINVAL, "int64: junk after the number is -EINVAL");
        is_int(nv_read_int64(put("99999999999999999999"), &i), -ERANGE, "int64: too large is -ERANGE");
        is_int(nv_read_uint64(put("-1\n"), &u), -EINVAL, "uint64: a negative value is -EINVAL");
        is_int(nv_read_uint64(put("0x10"), &u), -EINVAL, "uint64: not decimal is -EINVAL");
        is_int(nv_read_uint64(put("99999999999999999999"), &u), -ERANGE, "uint64: too large is -ERANGE");
        ok(i == 7 && u == 7, "failed reads leave the outputs untouched");
        is_int(nv_read_uint64("/nonexistent/numavd", &u), -ENOENT, "a missing file is -ENOENT");
}

static void test_write(void) {
        const char *path = put("1\n");
        int64_t v = 0;

        is_int(nv_write_int64(path, 1250), 0, "write 1250");
        is_int(nv_read_int64(path, &v), 0, "read it back");
        ok(v == 1250, "1250, the longer value replaced whole");
        is_int(nv_write_int64(path, -1), 0, "write -1");
        ok(nv_read_int64(path, &v) == 0 && v == -1, "-1 read back (the file truncated)");
        is_int(nv_write_int64("/nonexistent/numavd", 1), -ENOENT, "a missing file is -ENOENT");
}

int main(void) {
        char path[128];

        if (!mkdtemp(dir))
                return tap_skip_all("cannot create a directory in /tmp");
        test_read();
        test_write();
        snprintf(path, sizeof(path), "%s/value", dir);
        unlink(path);
        rmdir(dir);
        return tap_done();
}
