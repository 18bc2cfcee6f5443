/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* enum <-> string tables, in the manner of systemd's DEFINE_STRING_TABLE_LOOKUP. Given
 *
 *     static const char *const NAME_table[_MAX] = { [VALUE] = "string", ... };
 *
 * DEFINE_STRING_TABLE_LOOKUP(NAME, TYPE) defines
 *
 *     const char *NAME_to_string(TYPE i);  (NULL when i is out of range or has no string)
 *     int NAME_from_string(const char *s); (the value, or -EINVAL; exact, case-sensitive match)
 *
 * and the _TO_STRING and _FROM_STRING variants define one of the two. */

#include <errno.h>
#include <string.h>

#include "common/macro.h"

static inline int string_table_lookup(const char *const *table, size_t len, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < len; i++)
                if (table[i] && strcmp(table[i], s) == 0)
                        return (int)i;
        return -EINVAL;
}

#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type)   \
        const char *name##_to_string(type i) {             \
                if ((size_t)i >= ARRAY_SIZE(name##_table)) \
                        return NULL;                       \
                return name##_table[i];                    \
        }

#define DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type)                             \
        int name##_from_string(const char *s) {                                        \
                return string_table_lookup(name##_table, ARRAY_SIZE(name##_table), s); \
        }

#define DEFINE_STRING_TABLE_LOOKUP(name, type)           \
        DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type) \
        DEFINE_STRING_TABLE_LOOKUP_FROM_STRING(name, type)
