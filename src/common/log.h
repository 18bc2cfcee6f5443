/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

#include "macro.h"

/* Log to stderr; with "<N>" priority prefixes when stderr is connected to the journal
 * (JOURNAL_STREAM set), as systemd services do.
 *
 * The errno convention: log_*_errno() takes a negative errno, as every function here returns one
 * (`return log_error_errno(r, "...: %m")`, `log_warning_errno(-errno, ...)` after a libc call,
 * `log_error_errno(-EINVAL, ...)` for an error of numavd's own), sets errno for %m and returns it,
 * negative. A positive value is taken as its negation, as systemd does, but is not written. */

void log_set_max_level(int level);
int log_get_max_level(void);
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);
/* Re-read JOURNAL_STREAM; called once from main(). */
void log_open(void);
/* Also hand every message that is logged to hook (NULL: stop), e.g. to quote it in a reply. */
void log_set_hook(void (*hook)(int level, const char *message, void *userdata), void *userdata);

int log_internal(int level, int error, const char *file, int line, const char *fmt, ...) _printf_(5, 6);

#define log_full_errno(level, error, ...)                                                           \
        ({                                                                                          \
                int _l = (level), _e = (error);                                                     \
                (log_get_max_level() >= _l) ? log_internal(_l, _e, __FILE__, __LINE__, __VA_ARGS__) \
                                            : -(_e < 0 ? -_e : _e);                                 \
        })
#define log_full(level, ...) (void)log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)
#define log_oom()                 log_full_errno(LOG_ERR, -ENOMEM, "Out of memory.")
