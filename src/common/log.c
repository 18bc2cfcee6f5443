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

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) {
        char buf[2048];
        va_list ap;
        int saved = errno;

        if (error < 0)
                error = -error;

        /* %m in the format refers to the error we were given. */
        errno = error;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);

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
