/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numavctl's formatting: node bars, Prometheus label values, terminal-safe names. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl-output.h"
#include "tap.h"

/* What f(s) writes, into a fresh string. */
static char *capture(void (*f)(FILE *, const char *), void (*g)(FILE *, const char *, int), const char *s,
                     int width) {
        char *buf = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&buf, &size);

        if (!out)
                abort();
        if (f)
                f(out, s);
        else
                g(out, s, width);
        fclose(out);
        return buf;
}

static void test_node_bar(void) {
        char buf[17];

        is_str(ctl_node_bar(buf, 8, (const uint64_t[]){ 0, 0 }, 2), "--------", "no bytes: all dashes");
        is_str(ctl_node_bar(buf, 8, (const uint64_t[]){ 3, 1 }, 2), "00000011", "3:1 over 8 cells");
        is_str(ctl_node_bar(buf, 8, (const uint64_t[]){ 0, 5 }, 2), "11111111", "all on node 1");
        is_str(ctl_node_bar(buf, 9, (const uint64_t[]){ 1, 1, 1 }, 3), "000111222", "thirds");
        is_str(ctl_node_bar(buf, 3, (const uint64_t[]){ 1, 1, 1, 1 }, 4), "013",
               "more nodes than cells: rounded, still width cells");
        is_int((int)strlen(ctl_node_bar(buf, 16, (const uint64_t[]){ 7, 11, 13 }, 3)), 16,
               "the cells add up to the width exactly");
        uint64_t many[12] = {};
        many[11] = 1;
        is_str(ctl_node_bar(buf, 4, many, 12), "bbbb", "node 11 is drawn as a letter");
        is_str(ctl_node_bar(buf, 0, (const uint64_t[]){ 1 }, 1), "", "width 0: an empty bar");
}

static void test_prom_label(void) {
        char *s = capture(ctl_prom_label, NULL, "a\\b\"c\nd", 0);

        is_str(s, "a\\\\b\\\"c\\nd", "backslash, quote and newline escaped");
        free(s);
        s = capture(ctl_prom_label, NULL, "web-1", 0);
        is_str(s, "web-1", "plain names unchanged");
        free(s);
}

static void test_print_safe(void) {
        char *s = capture(NULL, ctl_print_safe, "a\tb\x1b[2Jc\x7f", 0);

        is_str(s, "a?b?[2Jc?", "control characters become ?");
        free(s);
        s = capture(NULL, ctl_print_safe, "vm", 5);
        is_str(s, "vm   ", "padded to the width");
        free(s);
        s = capture(NULL, ctl_print_safe, "longname", 3);
        is_str(s, "longname", "never cut");
        free(s);
}

int main(void) {
        test_node_bar();
        test_prom_label();
        test_print_safe();
        return tap_done();
}
