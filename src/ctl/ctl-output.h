/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* numavctl's formatting for people and for Prometheus: pure functions, tested alone. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A bar of width characters showing how bytes[0..n) split over nodes: each node's share drawn
 * with its digit (node 10 and up: a letter), "-" for nothing. buf holds width + 1 bytes. */
const char *ctl_node_bar(char *buf, size_t width, const uint64_t *bytes, size_t n);

/* Write s as a Prometheus label value: backslash, double quote and newline escaped. */
void ctl_prom_label(FILE *f, const char *s);

/* Write s for a terminal: control characters replaced by '?'. */
void ctl_print_safe(FILE *f, const char *s, int width);
