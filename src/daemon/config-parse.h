/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A reader for systemd's INI dialect (systemd.syntax(7)), driven by a table of keys, in the manner
 * of systemd's config_parse() and oomd-conf.c: each key names its section, the function that
 * parses its value and the offset of the field it fills, so that adding a key is one line.
 *
 * [Section] and [Section "argument"] headers; Key=Value with the whitespace around '=' trimmed;
 * a UTF-8 byte order mark at the start is skipped; '#' and ';' start comment lines; a trailing backslash joins the next line with a space (comment
 * lines inside such a continuation are skipped); the last assignment of a key wins. An empty value
 * ("Key=") resets the key to its default. Malformed lines and invalid values are errors (-EINVAL,
 * logged as "FILE:LINE: ..."); unknown keys and sections warn and are ignored. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct nv_config_item nv_config_item;

/* Parse rvalue (never empty) into data, the target field. Log "FILE:LINE: ..." naming the key and
 * the value and return -EINVAL when it is invalid; data stays untouched then. */
typedef int (*nv_config_parser)(const char *file, unsigned line, const nv_config_item *item,
                                const char *rvalue, void *data);

struct nv_config_item {
        const char *section; /* "Daemon"; for [VM "glob"] sections, "VM" */
        const char *lvalue;
        nv_config_parser parse;
        size_t offset;      /* of the target field in the section's object */
        size_t size;        /* of the target field, to reset it */
        ssize_t has_offset; /* of a bool set when the key is given (and cleared by "Key="), or -1 */
        uint64_t min, max;  /* bounds, in the unit of the parser; 0, 0 when unused */
        /* "Key=": put the default back into data. NULL: copy the default's bytes, which is right
         * for every field that owns no memory. */
        void (*reset)(void *data, const void *default_data);
};

typedef struct nv_config_schema {
        const nv_config_item *items;
        size_t n_items;
        /* Called at each section header; argument is the unquoted text of [Name "argument"] or
         * NULL. Returns 1 and the object that keys of this section fill, 0 for an unknown section
         * (the reader warns and skips its keys), or a negative errno after logging. */
        int (*open_section)(void *userdata, const char *file, unsigned line, const char *name,
                            const char *argument, void **ret_object);
        /* Optional: called after a key was assigned (or reset), e.g. to remember where. */
        void (*key_set)(void *userdata, const char *file, unsigned line, const nv_config_item *item);
        /* Defaults that "Key=" restores, for items without has_offset. */
        const void *defaults;
} nv_config_schema;

/* Parse text (NUL-terminated) as the contents of file. */
int nv_config_parse_ini(const nv_config_schema *schema, const char *text, const char *file, void *userdata);

/* Value parsers for the table. Bounds come from item->min and item->max. */
int nv_config_parse_bool(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                         void *data); /* bool */
int nv_config_parse_unsigned(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                             void *data); /* unsigned, min..max */
int nv_config_parse_sec(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                        void *data); /* usec_t, min..max usec */
int nv_config_parse_size(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                         void *data); /* uint64_t bytes, min..max */
int nv_config_parse_size_or_percent(const char *file, unsigned line, const nv_config_item *item,
                                    const char *rvalue, void *data); /* size_or_percent */
int nv_config_parse_percent(const char *file, unsigned line, const nv_config_item *item, const char *rvalue,
                            void *data); /* double fraction, min..max percent */
int nv_config_parse_positive_double(const char *file, unsigned line, const nv_config_item *item,
                                    const char *rvalue, void *data); /* double, 0 < x <= max */
int nv_config_parse_log_level(const char *file, unsigned line, const nv_config_item *item,
                              const char *rvalue, void *data); /* int, a syslog level */
