/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "common/macro.h"
#include "ctl/ctl-output.h"

const char *ctl_node_bar(char *buf, size_t width, const uint64_t *bytes, size_t n) {
        uint64_t total = 0;
        size_t pos = 0;

        for (size_t i = 0; i < n; i++)
                total += bytes[i];
        if (total == 0) {
                memset(buf, '-', width);
                buf[width] = '\0';
                return buf;
        }
        /* Largest remainder: the cells add up to width exactly. */
        double acc = 0;
        for (size_t i = 0; i < n && pos < width; i++) {
                acc += (double)bytes[i] / (double)total * (double)width;
                size_t end = MIN(width, (size_t)(acc + 0.5));
                char c = i < 10 ? (char)('0' + i) : (char)('a' + (i - 10) % 26);
                while (pos < end)
                        buf[pos++] = c;
        }
        while (pos < width)
                buf[pos++] = '-';
        buf[width] = '\0';
        return buf;
}

void ctl_prom_label(FILE *f, const char *s) {
        for (; *s; s++) {
                if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '"')
                        fputs("\\\"", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else
                        fputc(*s, f);
        }
}

void ctl_print_safe(FILE *f, const char *s, int width) {
        int n = 0;

        for (; *s; s++, n++)
                fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
        for (; n < width; n++)
                fputc(' ', f);
}
