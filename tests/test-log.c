/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for src/common/log.c: log_escape() on control bytes, escape sequences, invalid UTF-8
 * and short buffers, and the lines log_internal() writes to stderr (plain and with journal "<N>"
 * prefixes) when a logged value tries to forge a line of its own. */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tap.h"

static void test_escape(void) {
        char buf[64], tiny[6];

        is_str(log_escape(buf, sizeof(buf), "web-1"), "web-1", "plain ASCII is kept");
        is_str(log_escape(buf, sizeof(buf), "a\\nb"), "a\\nb", "a backslash is kept as it is");
        is_str(log_escape(buf, sizeof(buf), "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x90\xa7"),
               "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x90\xa7", "well-formed UTF-8 (2, 3 and 4 bytes) is kept");
        is_str(log_escape(buf, sizeof(buf), "vm\nnumavd: forged"), "vm\\nnumavd: forged",
               "a newline becomes \\n");
        is_str(log_escape(buf, sizeof(buf), "a\rb\tc"), "a\\rb\\tc", "CR and tab become \\r and \\t");
        is_str(log_escape(buf, sizeof(buf), "\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m",
               "ESC of a colour sequence becomes \\x1b");
        is_str(log_escape(buf, sizeof(buf), "\x01\x7f"), "\\x01\\x7f",
               "other C0 bytes and DEL become \\xNN");
        is_str(log_escape(buf, sizeof(buf),
                          "\xc2\x9b"
                          "2J"),
               "\\xc2\\x9b2J", "the C1 control U+009B (CSI) is escaped byte by byte");
        is_str(log_escape(buf, sizeof(buf), "\xc2\xa0"), "\xc2\xa0",
               "U+00A0, past the C1 controls, is kept");
        is_str(log_escape(buf, sizeof(buf),
                          "a\xff"
                          "b"),
               "a\\xffb", "a byte that is never UTF-8 is escaped");
        is_str(log_escape(buf, sizeof(buf), "\x80x"), "\\x80x", "a stray continuation byte is escaped");
        is_str(log_escape(buf, sizeof(buf), "\xc0\xaf"), "\\xc0\\xaf", "an overlong '/' is escaped");
        is_str(log_escape(buf, sizeof(buf), "\xe0\x80\xaf"), "\\xe0\\x80\\xaf",
               "an overlong 3-byte form is escaped");
        is_str(log_escape(buf, sizeof(buf), "\xed\xa0\x80"), "\\xed\\xa0\\x80",
               "a UTF-16 surrogate is escaped");
        is_str(log_escape(buf, sizeof(buf), "\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80",
               "a code point beyond U+10FFFF is escaped");
        is_str(log_escape(buf, sizeof(buf), "\xe2\x80"), "\\xe2\\x80", "a sequence cut short is escaped");

        is_str(log_escape(tiny, sizeof(tiny), "abcdefgh"), "abcde", "a short buffer cuts the text");
        is_str(log_escape(tiny, sizeof(tiny), "abcd\n"), "abcd", "an escape is never cut in half (1)");
        is_str(log_escape(tiny, sizeof(tiny), "abc\x1b"), "abc", "an escape is never cut in half (2)");
        is_str(log_escape(tiny, sizeof(tiny), "abc\xc3\xa9"), "abc\xc3\xa9", "a character that fits stays");
        is_str(log_escape(tiny, sizeof(tiny), "abcd\xc3\xa9"), "abcd", "a character is never cut in half");
        is_str(log_escape(tiny, 1, "abc"), "", "a one-byte buffer holds the empty string");
}

static char *read_all(int fd) {
        char *buf = calloc(1, 65536);
        ssize_t n;

        if (!buf)
                abort();
        n = pread(fd, buf, 65535, 0);
        if (n < 0)
                abort();
        return buf;
}

/* What log_internal() writes to stderr for one message with the value v. */
static char *logged(bool journal, const char *v) {
        char tmpl[] = "/tmp/test-log.XXXXXX";
        int fd = mkostemp(tmpl, O_CLOEXEC), saved;
        char *text;

        if (journal)
                setenv("JOURNAL_STREAM", "8:12345", 1);
        else
                unsetenv("JOURNAL_STREAM");
        log_open();
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        if (fd < 0 || saved < 0 || dup2(fd, STDERR_FILENO) < 0)
                abort();
        unlink(tmpl);
        log_warning("Domain %s vanished, ignoring.", v);
        fflush(stderr);
        if (dup2(saved, STDERR_FILENO) < 0)
                abort();
        close(saved);
        text = read_all(fd);
        close(fd);
        return text;
}

static unsigned count_lines(const char *s) {
        unsigned n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static bool all_printable(const char *s) {
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 && *p != '\n')
                        return false;
        return true;
}

static void test_lines(void) {
        /* A libvirt domain name (or a /proc comm) that tries to start a journal line of its own. */
        static const char forged[] = "web\n<3>numavd[1]: root password reset\x1b[2K\r";
        char *text;

        text = logged(true, forged);
        is_int(count_lines(text), 1, "journal: a name with a newline and \"<3>\" stays one line");
        ok(strncmp(text, "<4>Domain web\\n<3>numavd[1]: root password reset\\x1b[2K\\r vanished", 64) == 0,
           "journal: the line keeps its own <4> prefix and shows the name escaped (%s)", text);
        ok(all_printable(text), "journal: no control byte reaches the stream");
        free(text);

        text = logged(false, forged);
        is_int(count_lines(text), 1, "plain: a name with a newline stays one line");
        ok(strstr(text, "Domain web\\n<3>numavd[1]") != NULL, "plain: the name is escaped");
        ok(all_printable(text), "plain: no control byte reaches the stream");
        free(text);

        text = logged(false, "bad\xff\xfe utf-8 \xc3\xa9");
        is_str(text, "Domain bad\\xff\\xfe utf-8 \xc3\xa9 vanished, ignoring.\n",
               "invalid UTF-8 is escaped and valid UTF-8 kept");
        free(text);

        /* The longest message: the escaped copy holds all of it. */
        char *long_value = malloc(LOG_MESSAGE_MAX);
        if (!long_value)
                abort();
        memset(long_value, '\n', LOG_MESSAGE_MAX - 1);
        long_value[LOG_MESSAGE_MAX - 1] = '\0';
        text = logged(false, long_value);
        is_int(count_lines(text), 1, "2K of newlines stays one line");
        ok(strlen(text) > 2 * (LOG_MESSAGE_MAX - 32), "and every one of them is shown (%zu bytes)",
           strlen(text));
        free(text);
        free(long_value);
}

int main(void) {
        log_set_max_level(LOG_INFO);
        test_escape();
        test_lines();
        return tap_done();
}
