/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* numavctl's formatting: the per-node bar and the heat map, plain and in colour. */

#include <errno.h>

#include "ctl/ctl-output.h"
#include "ctl/heatmap.h"
#include "tests/tap.h"
#include "varlink/varlink.h"

/* Run print into a string (freed by the caller). */
#define CAPTURE(buf, stmt)                                \
        ({                                                \
                size_t _len;                              \
                FILE *_f = open_memstream(&(buf), &_len); \
                stmt;                                     \
                fclose(_f);                               \
        })

static void test_node_bar(void) {
        char bar[21], *out = NULL;
        const uint64_t half[] = { 50, 50 }, three[] = { 1, 0, 3 }, none[] = { 0, 0 };

        is_str(ctl_node_bar(bar, 20, half, 2),
               "##########==========", "half and half: 10 '#' (node 0), 10 '='");
        is_str(ctl_node_bar(bar, 20, three, 3), "#####+++++++++++++++",
               "node 2 draws '+', an empty node nothing");
        is_str(ctl_node_bar(bar, 8, none, 2), "        ", "no memory: a blank bar");

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
        test_heatmap();
        return tap_done();
}
