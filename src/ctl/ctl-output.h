/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* numavctl's formatting for people and for Prometheus: pure functions, tested alone. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A bar of width characters showing how bytes[0..n) split over nodes: each node's share drawn
 * with its own symbol ('#' node 0, '=' node 1, '+' node 2, '%' node 3, ...), blank for nothing.
 * buf holds width + 1 bytes. */
const char *ctl_node_bar(char *buf, size_t width, const uint64_t *bytes, size_t n);

/* That bar in brackets, then each node's share: "[####====] #0:50% =1:50%". With colour, each
 * node's cells take its background colour and its number that colour, instead of the symbols. */
void ctl_node_bar_print(FILE *f, const uint64_t *bytes, size_t n, size_t width, bool colour);

/* Write s as a Prometheus label value: backslash, double quote and newline escaped. */
void ctl_prom_label(FILE *f, const char *s);

/* Write s for a terminal: control characters replaced by '?'. */
void ctl_print_safe(FILE *f, const char *s, int width);
