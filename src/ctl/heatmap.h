/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* numavctl heatmap: a VM's guest RAM as rows of regions (a GetHeatMap reply), each with a bar as
 * long as its heat, its node and the node the last plan wants it on. Pure formatting into a
 * stream, tested alone. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#define CTL_HEATMAP_BAR 32

/* Whether to use the terminal's colours on f: a TTY, TERM set and not "dumb", NO_COLOR unset
 * (https://no-color.org). */
bool ctl_use_colour(FILE *f);

/* Print the heat map of a GetHeatMap reply. colour: ANSI colours (heat from blue to red, the node
 * green when it is the target, yellow when not); else plain characters ('#' for heat, '.' for
 * the rest, '*' marks a hot region). legend: a heading and a footer. Returns -EBADMSG for a reply
 * without regions. */
int ctl_heatmap_print(FILE *f, json_object *reply, bool colour, bool legend);
