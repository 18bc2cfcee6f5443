/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/parse.h"
#include "ctl/ctl-output.h"
#include "ctl/heatmap.h"

#define ANSI_RESET "\033[0m"

bool ctl_use_colour(FILE *f) {
        const char *term = getenv("TERM"), *no_colour = getenv("NO_COLOR");

        return isatty(fileno(f)) && term && *term && strcmp(term, "dumb") != 0 && !(no_colour && *no_colour);
}

static double get_number(json_object *o, const char *key, double def) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) ||
            !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
                return def;
        return json_object_get_double(v);
}

/* The background colour of a heat in [0, 1], from the 256-colour cube: blue (cold), cyan, green,
 * yellow, red (hot). */
static int heat_colour(double heat) {
        static const int ramp[] = { 17, 19, 27, 33, 37, 71, 142, 178, 208, 202, 196 };
        size_t i = (size_t)(CLAMP(heat, 0.0, 1.0) * (double)(ARRAY_SIZE(ramp) - 1) + 0.5);

        return ramp[MIN(i, ARRAY_SIZE(ramp) - 1)];
}

static void print_bar(FILE *f, double heat, bool colour) {
        size_t cells = (size_t)(CLAMP(heat, 0.0, 1.0) * CTL_HEATMAP_BAR + 0.5);

        if (colour) {
                fprintf(f, "\033[48;5;%dm%*s" ANSI_RESET "%*s", heat_colour(heat), (int)cells, "",
                        (int)(CTL_HEATMAP_BAR - cells), "");
                return;
        }
        for (size_t i = 0; i < CTL_HEATMAP_BAR; i++)
                fputc(i < cells ? '#' : '.', f);
}

static void print_node(FILE *f, int64_t node) {
        if (node < 0)
                fprintf(f, "%4s", "-");
        else
                fprintf(f, "%4" PRIi64, node);
}

int ctl_heatmap_print(FILE *f, json_object *reply, bool colour, bool legend) {
        json_object *regions, *name;
        size_t n, nr_hot = 0, nr_off = 0;
        char a[FORMAT_BUF];

        if (!json_object_object_get_ex(reply, "regions", &regions) ||
            !json_object_is_type(regions, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(regions);
        if (legend) {
                fprintf(f, "Heat map of ");
                if (json_object_object_get_ex(reply, "name", &name) &&
                    json_object_is_type(name, json_type_string))
                        ctl_print_safe(f, json_object_get_string(name), 0);
                fprintf(f, ", epoch %.0f: %zu regions, hot from heat %.2f\n", get_number(reply, "epoch", 0),
                        n, get_number(reply, "hotHeat", 0));
                fprintf(f, "%-14s %8s  %-*s %5s%4s    %s\n", "START", "SIZE", CTL_HEATMAP_BAR, "HEAT", "",
                        "NODE", "TARGET");
        }
        for (size_t i = 0; i < n; i++) {
                json_object *r = json_object_array_get_idx(regions, i), *hot_o;
                double heat = get_number(r, "heat", 0);
                bool hot = json_object_object_get_ex(r, "hot", &hot_o) && json_object_get_boolean(hot_o);
                int64_t node = (int64_t)get_number(r, "node", -1),
                        target = (int64_t)get_number(r, "target", -1);
                bool off = target >= 0 && node >= 0 && node != target;

                nr_hot += hot;
                nr_off += off && hot;
                fprintf(f, "0x%012" PRIx64 " %8s  ", (uint64_t)get_number(r, "start", 0),
                        format_size(a, (uint64_t)MAX(get_number(r, "bytes", 0), 0)));
                print_bar(f, heat, colour);
                fprintf(f, " %4.2f%c", heat, hot ? '*' : ' ');
                if (colour && node >= 0 && target >= 0)
                        fprintf(f, "%s", off ? "\033[1;33m" : "\033[32m");
                print_node(f, node);
                fprintf(f, " %s ", off ? (colour ? "→ " : "->") : "  ");
                print_node(f, target);
                if (colour && node >= 0 && target >= 0)
                        fprintf(f, ANSI_RESET);
                fputc('\n', f);
        }
        if (legend)
                fprintf(f, "\n%zu hot regions (*), %zu of them not on their target node (->).\n", nr_hot,
                        nr_off);
        return 0;
}
