/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/string-table.h"
#include "log.h"

static int max_level = LOG_INFO;
static bool journal_prefix;

static const char *const log_level_table[] = {
        [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void log_set_max_level(int level) {
        max_level = CLAMP(level, LOG_EMERG, LOG_DEBUG);
}

int log_get_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        for (size_t i = 0; i < ARRAY_SIZE(log_level_table); i++)
                if (strcasecmp(s, log_level_table[i]) == 0)
                        return (int)i;
        if (strcasecmp(s, "error") == 0)
                return LOG_ERR;
        if (strcasecmp(s, "warn") == 0)
                return LOG_WARNING;
        if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
                return s[0] - '0';
        return -EINVAL;
}

DEFINE_STRING_TABLE_LOOKUP_TO_STRING(log_level, int);

void log_open(void) {
        journal_prefix = getenv("JOURNAL_STREAM") != NULL;
}

static void (*log_hook)(int level, const char *message, void *userdata);
static void *log_hook_userdata;

void log_set_hook(void (*hook)(int level, const char *message, void *userdata), void *userdata) {
        log_hook = hook;
        log_hook_userdata = userdata;
}

/* The length of the well-formed UTF-8 character at s (1 to 4), or 0 when s starts none: a stray
 * continuation byte, an overlong form, a surrogate, beyond U+10FFFF, or cut short. */
static size_t utf8_char_len(const unsigned char *s) {
        unsigned char c = s[0];

        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF)
                return (s[1] & 0xC0) == 0x80 ? 2 : 0;
        if (c >= 0xE0 && c <= 0xEF) {
                if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
                        return 0;
                if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0))
                        return 0;
                return 3;
        }
        if (c >= 0xF0 && c <= 0xF4) {
                if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
                        return 0;
                if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
                        return 0;
                return 4;
        }
        return 0;
}

const char *log_escape(char *buf, size_t size, const char *s) {
        const unsigned char *p = (const unsigned char *)s;
        size_t len = 0;

        if (size == 0)
                return buf;
        while (*p) {
                char esc[5];
                size_t n = utf8_char_len(p), k;
                /* U+0080..U+009F, the C1 controls: a terminal takes U+009B for ESC [. */
                bool control = n == 1 ? (*p < 0x20 || *p == 0x7F) : n == 2 && p[0] == 0xC2 && p[1] < 0xA0;

                if (n == 0 || control) {
                        /* One byte at a time, so a C1 control shows as \xc2\x9b. */
                        n = 1;
                        k = (size_t)(*p == '\n'   ? snprintf(esc, sizeof(esc), "\\n")
                                     : *p == '\r' ? snprintf(esc, sizeof(esc), "\\r")
                                     : *p == '\t' ? snprintf(esc, sizeof(esc), "\\t")
                                                  : snprintf(esc, sizeof(esc), "\\x%02x", *p));
                } else {
                        k = n;
                        memcpy(esc, p, n);
                }
                if (len + k >= size)
                        break; /* cut before the character that does not fit */
                memcpy(buf + len, esc, k);
                len += k;
                p += n;
        }
        buf[len] = '\0';
        return buf;
}

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        char raw[LOG_MESSAGE_MAX], buf[LOG_ESCAPED_MAX];
        va_list ap;
        int saved = errno;

        if (error < 0)
                error = -error;

        /* %m in the format refers to the error we were given. */
        errno = error;
        va_start(ap, fmt);
        vsnprintf(raw, sizeof(raw), fmt, ap);
        va_end(ap);
        /* Values from outside (VM names from libvirt or /proc, globs and values from files) end
         * up in the message: escaped, none can start a line of its own or garble the terminal. */
        log_escape(buf, sizeof(buf), raw);

        if (journal_prefix)
                fprintf(stderr, "<%d>%s\n", level, buf);
        else if (max_level >= LOG_DEBUG)
                fprintf(stderr, "%s:%d: %s\n", file, line, buf);
        else
                fprintf(stderr, "%s\n", buf);
        if (log_hook)
                log_hook(level, buf, log_hook_userdata);

        errno = saved;
        return -error;
}
