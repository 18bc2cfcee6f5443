/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "common/macro.h"
#include "ctl/ctl-output.h"

/* Each node's symbol and, on a terminal, its background colour (256-colour palette), one for
 * each of NV_MAX_NODES. */
static const char node_symbols[] = "#=+%o@&~*:x$^!<?";
static const int node_colours[] = {
        33, 170, 142, 37, 208, 99, 160, 244, 27, 201, 190, 51, 214, 93, 124, 250
};

static char node_symbol(size_t node) {
        return node_symbols[node % (sizeof(node_symbols) - 1)];
}

const char *ctl_node_bar(char *buf, size_t width, const uint64_t *bytes, size_t n) {
        uint64_t total = 0;
        size_t pos = 0;

        for (size_t i = 0; i < n; i++)
                total += bytes[i];
        if (total == 0) {
                memset(buf, ' ', width);
                buf[width] = '\0';
                return buf;
        }
        /* Rounded running sums: the cells add up to width exactly. */
        double acc = 0;
        for (size_t i = 0; i < n && pos < width; i++) {
                acc += (double)bytes[i] / (double)total * (double)width;
                size_t end = MIN(width, (size_t)(acc + 0.5));
                while (pos < end)
                        buf[pos++] = node_symbol(i);
        }
        while (pos < width)
                buf[pos++] = ' ';
        buf[width] = '\0';
        return buf;
}

void ctl_node_bar_print(FILE *f, const uint64_t *bytes, size_t n, size_t width, bool colour) {
        char bar[256];
        uint64_t total = 0;

        width = MIN(width, sizeof(bar) - 1);
        ctl_node_bar(bar, width, bytes, n);
        for (size_t i = 0; i < n; i++)
                total += bytes[i];
        fputc('[', f);
        for (size_t i = 0; i < width; i++) {
                const char *sym = strchr(node_symbols, bar[i]);
                if (colour && sym && bar[i] != ' ')
                        fprintf(f, "\033[48;5;%dm \033[0m",
                                node_colours[(size_t)(sym - node_symbols) % ARRAY_SIZE(node_colours)]);
                else
                        fputc(bar[i], f);
        }
        fputc(']', f);
        for (size_t i = 0; i < n && total > 0; i++) {
                double pct = 100.0 * (double)bytes[i] / (double)total;
                if (colour)
                        fprintf(f, " \033[38;5;%dm%zu\033[0m:%.0f%%",
                                node_colours[i % ARRAY_SIZE(node_colours)], i, pct);
                else
                        fprintf(f, " %c%zu:%.0f%%", node_symbol(i), i, pct);
        }
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
