/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numavctl's formatting: node bars, Prometheus label values, terminal-safe names, the heat map. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl-output.h"
#include "ctl/heatmap.h"
#include "tap.h"
#include "varlink/varlink.h"

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

/* Run print into a string (freed by the caller). */
#define CAPTURE(buf, stmt)                                \
        ({                                                \
                size_t _len;                              \
                FILE *_f = open_memstream(&(buf), &_len); \
                stmt;                                     \
                fclose(_f);                               \
        })

static void test_node_bar(void) {
        char buf[17], *out = NULL;
        const uint64_t half[] = { 50, 50 }, three[] = { 1, 0, 3 };

        is_str(ctl_node_bar(buf, 8, (const uint64_t[]){ 0, 0 }, 2), "        ", "no bytes: a blank bar");
        is_str(ctl_node_bar(buf, 8, (const uint64_t[]){ 3, 1 }, 2),
               "######==", "3:1 over 8 cells: '#' node 0, '=' node 1");
        is_str(ctl_node_bar(buf, 8, (const uint64_t[]){ 0, 5 }, 2), "========", "all on node 1");
        is_str(ctl_node_bar(buf, 9, (const uint64_t[]){ 1, 1, 1 }, 3), "###===+++",
               "thirds: node 2 draws '+'");
        is_str(ctl_node_bar(buf, 3, (const uint64_t[]){ 1, 1, 1, 1 }, 4), "#=%",
               "more nodes than cells: rounded, still width cells");
        is_int((int)strlen(ctl_node_bar(buf, 16, (const uint64_t[]){ 7, 11, 13 }, 3)), 16,
               "the cells add up to the width exactly");
        uint64_t many[16] = {};
        many[11] = 1;
        is_str(ctl_node_bar(buf, 4, many, 12), "$$$$", "node 11 has a symbol of its own");
        many[11] = 0;
        many[15] = 1;
        is_str(ctl_node_bar(buf, 4, many, 16), "????", "so has node 15, the last");
        is_str(ctl_node_bar(buf, 0, (const uint64_t[]){ 1 }, 1), "", "width 0: an empty bar");

        CAPTURE(out, ctl_node_bar_print(_f, half, 2, 10, false));
        is_str(out, "[#####=====] #0:50% =1:50%", "plain: the bar and each node's symbol and share");
        free(out);
        CAPTURE(out, ctl_node_bar_print(_f, three, 3, 8, true));
        ok(out && strstr(out, "\033[48;5;33m \033[0m") && strstr(out, "\033[48;5;142m \033[0m") &&
                   !strchr(out, '#') && !strchr(out, '+'),
           "colour: each node's cells in its background colour, no symbols (%s)", out);
        ok(out && strstr(out, "\033[38;5;142m2\033[0m:75%"), "colour: node 2's number in its colour, 75%%");
        free(out);
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

static void test_heatmap(void) {
        _cleanup_(json_object_putp) json_object *reply = json_tokener_parse(
                "{\"name\": \"web\\u001b1\", \"epoch\": 7, \"hotHeat\": 0.4, \"regions\": ["
                " {\"start\": 4096, \"bytes\": 2097152, \"heat\": 1.0, \"hot\": true, \"node\": 0, "
                "\"target\": 1},"
                " {\"start\": 2101248, \"bytes\": 1048576, \"heat\": 0.25, \"hot\": false, \"node\": 1,"
                "  \"target\": 1},"
                " {\"start\": 3149824, \"bytes\": 4096, \"heat\": 0, \"hot\": false, \"node\": -1, "
                "\"target\": -1}]}");
        _cleanup_(json_object_putp) json_object *bad = json_tokener_parse("{\"name\": \"x\"}");
        char *out = NULL;

        CAPTURE(out, ctl_heatmap_print(_f, reply, false, true));
        ok(out && strstr(out, "Heat map of web?1, epoch 7: 3 regions, hot from heat 0.40\n"),
           "plain: the heading names the VM (control characters replaced)");
        ok(out && strstr(out,
                         "0x000000001000     2.0M  ################################ 1.00*   0 ->    1\n"),
           "plain: a hot region off its target: full bar, '*', node -> target");
        ok(out && strstr(out,
                         "0x000000201000     1.0M  ########........................ 0.25    1       1\n"),
           "plain: a quarter-hot region on its target: 8 of 32 cells");
        ok(out && strstr(out,
                         "0x000000301000     4.0K  ................................ 0.00    -       -\n"),
           "plain: an unknown node and no target are '-'");
        ok(out && strstr(out, "1 hot regions (*), 1 of them not on their target node (->)."),
           "plain: the footer counts");
        ok(out && !strchr(out, '\033'), "plain: no escape sequence");
        free(out);

        CAPTURE(out, ctl_heatmap_print(_f, reply, true, false));
        ok(out && strstr(out, "\033[48;5;196m"), "colour: the hottest cells are red (196)");
        ok(out && strstr(out, "\033[48;5;33m        \033[0m"),
           "colour: a quarter heat is blue (33), 8 cells");
        ok(out && strstr(out, "\033[1;33m   0 → ") && strstr(out, "\033[32m   1   "),
           "colour: a node off target in yellow with an arrow, on target in green");
        ok(out && !strstr(out, "Heat map of"), "no legend: no heading");
        free(out);

        CAPTURE(out, is_int(ctl_heatmap_print(_f, bad, false, true), -EBADMSG,
                            "a reply without regions: -EBADMSG"));
        free(out);
}

int main(void) {
        test_node_bar();
        test_prom_label();
        test_print_safe();
        test_heatmap();
        return tap_done();
}
