/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "common/macro.h"

/* Grow the array *p of *cap elements of elem bytes to hold at least need, doubling at the least so
 * that growing one at a time stays linear; *p and *cap are untouched on failure. 0 or -ENOMEM. */
static inline int nv_array_grow(void **p, size_t *cap, size_t need, size_t elem) {
        size_t n;
        void *q;

        if (need <= *cap)
                return 0;
        n = MAX(need, *cap * 2);
        q = reallocarray(*p, n, elem);
        if (!q)
                return -ENOMEM;
        *p = q;
        *cap = n;
        return 0;
}
