/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The scenario parser's state, shared by scenario.c (lines, whole-model checks, loading),
 * scenario-host.c (host directives) and scenario-vm.c (VM directives). */

#include "sim/sim-internal.h"

typedef struct parser {
        nv_sim *s;
        const char *file;
        unsigned line;
        ssize_t vm;        /* index of the VM being described, -1 none */
        ssize_t own_wl;    /* index of that VM's own workload, -1 none yet */
        ssize_t l2;        /* index of the open l2 block's workload, -1 none */
        uint64_t vm_bytes; /* the memory of the VMs so far */
        uint64_t units;    /* their backing pages, against SIM_MAX_UNITS */
} parser;

/* Log "FILE:LINE: message" and return -EINVAL. */
#define fail(p, ...) scenario_fail((p), __VA_ARGS__)
_printf_(2, 3) int scenario_fail(const parser *p, const char *fmt, ...);

/* scenario.c */
int scenario_grow(void **array, size_t *n, size_t size);
int scenario_parse_list(const char *s, unsigned max, uint64_t *bitmap);
int scenario_parse_node_id(const parser *p, const char *s, int *ret);

/* The directives, each given its line's words (tok[0] is the directive's name). */

/* scenario-host.c */
int scenario_line_seed(parser *p, char **tok, size_t n);
int scenario_line_host(parser *p, char **tok, size_t n);
int scenario_line_node(parser *p, char **tok, size_t n);
int scenario_line_distance(parser *p, char **tok, size_t n);
/* t is the time of an "at TIME" line, 0 otherwise. */
int scenario_line_grow(parser *p, usec_t t, char **tok, size_t n);

/* scenario-vm.c; t is the time of an "at TIME" line, 0 otherwise. */
int scenario_line_vm(parser *p, char **tok, size_t n);
int scenario_line_cell(parser *p, char **tok, size_t n);
int scenario_line_run(parser *p, usec_t t, char **tok, size_t n);
int scenario_line_workload(parser *p, usec_t t, char **tok, size_t n);
int scenario_line_l2(parser *p, char **tok, size_t n);
