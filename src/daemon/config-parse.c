/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/parse.h"
#include "daemon/config-parse.h"

/* Where the reader is: the current section and the object its keys fill. */
typedef struct ini_state {
        const nv_config_schema *schema;
        void *userdata;
        const char *file;
        char *section;  /* name, NULL before the first header */
        char *argument; /* of [Name "argument"], or NULL */
        bool known;     /* whether open_section() knew the section */
        void *object;
} ini_state;

static char *strip(char *s) {
        char *e;

        while (isspace((unsigned char)*s))
                s++;
        e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                e--;
        *e = '\0';
        return s;
}

static const nv_config_item *find_item(const nv_config_schema *schema, const char *section,
                                       const char *lvalue) {
        for (size_t i = 0; i < schema->n_items; i++)
                if (strcmp(schema->items[i].section, section) == 0 &&
                    strcmp(schema->items[i].lvalue, lvalue) == 0)
                        return &schema->items[i];
        return NULL;
}

/* "[Name]" or "[Name "argument"]"; l is stripped and starts with '['. */
static int parse_section_header(ini_state *st, unsigned line, char *l) {
        _cleanup_free_ char *name = NULL;
        size_t n = strlen(l), k;
        char *inner, *rest, *arg = NULL;
        int r;

        if (n < 2 || l[n - 1] != ']')
                return log_error_errno(-EINVAL, "%s:%u: Unterminated section header '%s'.", st->file, line,
                                       l);
        l[n - 1] = '\0';
        inner = strip(l + 1);

        k = strcspn(inner, " \t\"[]");
        if (k == 0 || inner[k] == '[' || inner[k] == ']')
                return log_error_errno(-EINVAL, "%s:%u: Invalid section header '[%s]'.", st->file, line,
                                       inner);
        name = strndup(inner, k);
        if (!name)
                return log_oom();
        rest = strip(inner + k);
        if (*rest) {
                size_t m = strlen(rest);

                if (strcmp(rest, "\"\"") == 0)
                        return log_error_errno(-EINVAL, "%s:%u: Empty argument in section header [%s \"\"].",
                                               st->file, line, name);
                /* Exactly one double-quoted, non-empty argument, with no quote inside. */
                if (m < 3 || rest[0] != '"' || rest[m - 1] != '"' || memchr(rest + 1, '"', m - 2))
                        return log_error_errno(-EINVAL,
                                               "%s:%u: Bad quoting in section header [%s %s], expected "
                                               "[%s \"argument\"].",
                                               st->file, line, name, rest, name);
                rest[m - 1] = '\0';
                arg = rest + 1;
        }

        free(st->section);
        free(st->argument);
        st->argument = NULL;
        st->known = false;
        st->object = NULL;
        st->section = TAKE_PTR(name);
        if (arg) {
                st->argument = strdup(arg);
                if (!st->argument)
                        return log_oom();
        }

        r = st->schema->open_section(st->userdata, st->file, line, st->section, st->argument, &st->object);
        if (r < 0)
                return r;
        st->known = r > 0;
        if (!st->known) {
                if (arg)
                        log_warning("%s:%u: Unknown section [%s \"%s\"], ignoring.", st->file, line,
                                    st->section, arg);
                else
                        log_warning("%s:%u: Unknown section [%s], ignoring.", st->file, line, st->section);
        }
        return 0;
}

static int parse_assignment(ini_state *st, unsigned line, char *l) {
        const nv_config_item *item;
        char *eq, *lvalue, *rvalue;
        int r;

        if (!st->section)
                return log_error_errno(-EINVAL, "%s:%u: Assignment '%s' outside of any section.", st->file,
                                       line, l);
        eq = strchr(l, '=');
        if (!eq)
                return log_error_errno(-EINVAL, "%s:%u: Missing '=' in '%s'.", st->file, line, l);
        *eq = '\0';
        lvalue = strip(l);
        rvalue = strip(eq + 1);
        if (!*lvalue)
                return log_error_errno(-EINVAL, "%s:%u: Missing key name before '=%s'.", st->file, line,
                                       rvalue);
        if (!st->known)
                return 0; /* warned about at the section header */

        item = find_item(st->schema, st->section, lvalue);
        if (!item) {
                if (st->argument)
                        log_warning("%s:%u: Unknown key '%s' in section [%s \"%s\"], ignoring.", st->file,
                                    line, lvalue, st->section, st->argument);
                else
                        log_warning("%s:%u: Unknown key '%s' in section [%s], ignoring.", st->file, line,
                                    lvalue, st->section);
                return 0;
        }

        if (*rvalue == '\0') {
                /* "Key=" resets the key. */
                if (item->has_offset >= 0)
                        *(bool *)((char *)st->object + item->has_offset) = false;
                else if (st->schema->defaults && item->reset)
                        item->reset((char *)st->object + item->offset,
                                    (const char *)st->schema->defaults + item->offset);
                else if (st->schema->defaults)
                        memcpy((char *)st->object + item->offset,
                               (const char *)st->schema->defaults + item->offset, item->size);
        } else {
                r = item->parse(st->file, line, item, rvalue, (char *)st->object + item->offset);
                if (r < 0)
                        return r;
                if (item->has_offset >= 0)
                        *(bool *)((char *)st->object + item->has_offset) = true;
        }
        if (st->schema->key_set)
                st->schema->key_set(st->userdata, st->file, line, item);
        return 0;
}

static int parse_logical_line(ini_state *st, unsigned line, char *l) {
        l = strip(l);
        if (*l == '\0')
                return 0;
        if (*l == '[')
                return parse_section_header(st, line, l);
        return parse_assignment(st, line, l);
}

static bool is_comment(const char *l) {
        while (*l == ' ' || *l == '\t')
                l++;
        return *l == '#' || *l == ';';
}

int nv_config_parse_ini(const nv_config_schema *schema, const char *text, const char *file, void *userdata) {
        _cleanup_free_ char *buf = NULL;
        ini_state st = { .schema = schema, .userdata = userdata, .file = file };
        size_t len = 0;     /* of the logical line collected in buf */
        unsigned start = 0; /* its first line number, for messages */
        unsigned lineno = 0;
        bool continued = false;
        int r = 0;

        /* A UTF-8 byte order mark at the start is skipped, as systemd does. */
        if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
                text += 3;
        buf = malloc(strlen(text) + 1);
        if (!buf)
                return log_oom();

        for (const char *p = text; *p;) {
                const char *eol = strchrnul(p, '\n');
                size_t n = (size_t)(eol - p);

                lineno++;
                if (is_comment(p)) {
                        /* A comment line, also inside a continuation: skipped whole, even if it
                         * ends in a backslash. */
                        p = *eol ? eol + 1 : eol;
                        continue;
                }
                if (!continued)
                        start = lineno;
                memcpy(buf + len, p, n);
                len += n;
                buf[len] = '\0';
                p = *eol ? eol + 1 : eol;

                /* A trailing backslash (before any trailing whitespace) joins the next line. */
                while (len > 0 && isspace((unsigned char)buf[len - 1]))
                        len--;
                if (len > 0 && buf[len - 1] == '\\') {
                        buf[len - 1] = ' ';
                        buf[len] = '\0';
                        continued = true;
                        continue;
                }
                buf[len] = '\0';
                continued = false;
                len = 0;
                r = parse_logical_line(&st, start, buf);
                if (r < 0)
                        goto finish;
        }
        if (continued)
                /* A continuation at the end of the file: take what there is. */
                r = parse_logical_line(&st, start, buf);

finish:
        free(st.section);
        free(st.argument);
        return r;
}

/* The value parsers. Each logs "FILE:LINE: ..." with the key and the value on failure. */

static int invalid(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                   const char *expected) {
        return log_error_errno(-EINVAL, "%s:%u: Invalid value for %s=: '%s' is not %s.", file, line,
                               item->lvalue, rvalue, expected);
}

int nv_config_parse_bool(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                         void *data) {
        int r = parse_boolean(rvalue, data);
        if (r < 0)
                return log_error_errno(-EINVAL, "%s:%u: Invalid value for %s=: '%s' is not a boolean.", file,
                                       line, item->lvalue, rvalue);
        return 0;
}

int nv_config_parse_unsigned(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                             void *data) {
        uint64_t v;
        int r;

        r = parse_uint(rvalue, UINT64_MAX, &v);
        if (r < 0 && r != -ERANGE)
                return invalid(file, line, item, rvalue, "an unsigned integer");
        if (r < 0 || v < item->min || v > item->max || v > UINT32_MAX)
                return log_error_errno(-EINVAL, "%s:%u: %s=%s is out of range (%" PRIu64 "..%" PRIu64 ").",
                                       file, line, item->lvalue, rvalue, item->min, item->max);
        *(unsigned *)data = (unsigned)v;
        return 0;
}

int nv_config_parse_sec(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                        void *data) {
        char a[FORMAT_BUF], b[FORMAT_BUF];
        usec_t v;
        int r;

        r = parse_sec(rvalue, &v);
        if (r < 0 && r != -ERANGE)
                return invalid(file, line, item, rvalue, "a time span such as 500ms, 30s or 1min 30s");
        if (r < 0 || v < item->min || v > item->max)
                return log_error_errno(-EINVAL, "%s:%u: %s=%s is out of range (%s..%s).", file, line,
                                       item->lvalue, rvalue, format_sec(a, item->min),
                                       format_sec(b, item->max));
        *(usec_t *)data = v;
        return 0;
}

int nv_config_parse_size(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                         void *data) {
        char a[FORMAT_BUF], b[FORMAT_BUF];
        uint64_t v;
        int r;

        r = parse_size(rvalue, &v);
        if (r == -ERANGE)
                /* 16E itself is one byte too many, and format_size() would round the largest
                 * size up to "16.0E": name the exact limit. */
                return log_error_errno(-EINVAL,
                                       "%s:%u: %s=%s is too large: a size is at most %" PRIu64
                                       " bytes (16E minus one byte).",
                                       file, line, item->lvalue, rvalue, UINT64_MAX);
        if (r < 0)
                return invalid(file, line, item, rvalue, "a size such as 4096, 64K or 1.5G");
        if (v < item->min && item->max == UINT64_MAX)
                return log_error_errno(-EINVAL, "%s:%u: %s=%s is out of range (at least %s).", file, line,
                                       item->lvalue, rvalue, format_size(a, item->min));
        if (v < item->min || v > item->max)
                return log_error_errno(-EINVAL, "%s:%u: %s=%s is out of range (%s..%s).", file, line,
                                       item->lvalue, rvalue, format_size(a, item->min),
                                       format_size(b, item->max));
        *(uint64_t *)data = v;
        return 0;
}

int nv_config_parse_size_or_percent(const char *file, unsigned line, const nv_config_item *item,
                                    const char *rvalue, void *data) {
        int r = parse_size_or_percent(rvalue, data);
        if (r == -ERANGE)
                return log_error_errno(-EINVAL, "%s:%u: %s=%s is out of range (a size, or 0%%..100%%).",
                                       file, line, item->lvalue, rvalue);
        if (r < 0)
                return invalid(file, line, item, rvalue, "a size such as 512M or a percentage such as 2%");
        return 0;
}

int nv_config_parse_percent(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                            void *data) {
        double v;
        int r;

        r = parse_percent(rvalue, &v);
        if (r < 0 && r != -ERANGE)
                return invalid(file, line, item, rvalue, "a percentage such as 30%");
        /* Compare in percent, with a little slack for the division by 100. */
        if (r < 0 || v * 100.0 < (double)item->min - 1e-9 || v * 100.0 > (double)item->max + 1e-9)
                return log_error_errno(-EINVAL,
                                       "%s:%u: %s=%s is out of range (%" PRIu64 "%%..%" PRIu64 "%%).", file,
                                       line, item->lvalue, rvalue, item->min, item->max);
        *(double *)data = v;
        return 0;
}

int nv_config_parse_positive_double(const char *file, unsigned line, const nv_config_item *item,
                                    const char *rvalue, void *data) {
        double v;
        int r;

        r = parse_double(rvalue, &v);
        if (r < 0 && r != -ERANGE)
                return invalid(file, line, item, rvalue, "a number such as 0.5");
        if (r < 0 || !(v > 0) || v > (double)item->max)
                return log_error_errno(-EINVAL, "%s:%u: %s=%s is out of range (0 < x <= %" PRIu64 ").", file,
                                       line, item->lvalue, rvalue, item->max);
        *(double *)data = v;
        return 0;
}

int nv_config_parse_log_level(const char *file, unsigned line, const nv_config_item *item,
                              const char *rvalue, void *data) {
        int l = log_level_from_string(rvalue);
        if (l < 0)
                return log_error_errno(
                        -EINVAL,
                        "%s:%u: Invalid value for %s=: '%s' is not a log level (emerg, alert, "
                        "crit, err, warning, notice, info, debug).",
                        file, line, item->lvalue, rvalue);
        *(int *)data = l;
        return 0;
}
