/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scenario's host directives: seed, host, node, distance. */

#include <inttypes.h>
#include <string.h>

#include "common/parse.h"
#include "sim/costs.h"
#include "sim/scenario-internal.h"

/* "80ns", "80 ns" or "80". */
static int parse_ns(const char *s, double *ret) {
        char buf[64];
        size_t n = strlen(s);

        if (n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, n + 1);
        if (n > 2 && strcmp(buf + n - 2, "ns") == 0)
                buf[n - 2] = '\0';
        return parse_double(buf, ret);
}

int scenario_line_seed(parser *p, char **tok, size_t n) {
        if (n != 2 || parse_uint(tok[1], UINT64_MAX, &p->s->seed) < 0)
                return fail(p, "expected: seed NUMBER");
        return 0;
}

int scenario_line_host(parser *p, char **tok, size_t n) {
        if (n < 3 || n % 2 == 0)
                return fail(p, "expected: host KEY VALUE...");
        for (size_t i = 1; i < n; i += 2) {
                if (strcmp(tok[i], "nested") == 0) {
                        if (parse_boolean(tok[i + 1], &p->s->nested) < 0)
                                return fail(p, "nested: not a boolean: %s", tok[i + 1]);
                } else if (strcmp(tok[i], "tlb-lifetime") == 0 ||
                           strcmp(tok[i], "nested-tlb-lifetime") == 0) {
                        usec_t *t = tok[i][0] == 't' ? &p->s->tlb_bare : &p->s->tlb_nested;
                        if (parse_sec(tok[i + 1], t) < 0 || *t < SIM_TICK_USEC || *t > SIM_CLOCK_END_USEC)
                                return fail(p, "%s: not a duration of %uus to %" PRIu64 "s: %s", tok[i],
                                            SIM_TICK_USEC, SIM_CLOCK_END_USEC / USEC_PER_SEC, tok[i + 1]);
                } else
                        return fail(p, "unknown host key: %s", tok[i]);
        }
        return 0;
}

int scenario_line_node(parser *p, char **tok, size_t n) {
        nv_sim *s = p->s;
        uint64_t id;
        sim_node *node;
        bool have_mem = false, have_cpus = false;

        if (p->vm >= 0)
                return fail(p, "nodes must be described before the first vm");
        if (n < 2 || parse_uint(tok[1], NV_MAX_NODES - 1, &id) < 0)
                return fail(p, "expected: node ID mem SIZE cpus LIST [local NS] [remote NS]");
        if (id != s->nr_nodes)
                return fail(p, "node %s: nodes must be numbered 0, 1, ... in order", tok[1]);
        if (n % 2 != 0)
                return fail(p, "node %s: expected KEY VALUE pairs", tok[1]);
        node = &s->nodes[id];
        node->local_ns = NV_SIM_LOCAL_NS;
        node->remote_ns = -1;
        for (size_t i = 2; i < n; i += 2) {
                const char *k = tok[i], *v = tok[i + 1];
                if (strcmp(k, "mem") == 0) {
                        if (parse_size(v, &node->total) < 0 || node->total == 0)
                                return fail(p, "node %s: bad mem: %s", tok[1], v);
                        have_mem = true;
                } else if (strcmp(k, "cpus") == 0) {
                        if (scenario_parse_list(v, SIM_MAX_CPUS, node->cpus) < 0)
                                return fail(p, "node %s: bad cpu list: %s", tok[1], v);
                        have_cpus = true;
                } else if (strcmp(k, "local") == 0) {
                        if (parse_ns(v, &node->local_ns) < 0 || node->local_ns <= 0)
                                return fail(p, "node %s: bad local latency: %s", tok[1], v);
                } else if (strcmp(k, "min") == 0 || strcmp(k, "low") == 0 || strcmp(k, "high") == 0) {
                        uint64_t *mark = k[0] == 'm'   ? &node->wmark_min
                                         : k[0] == 'l' ? &node->wmark_low
                                                       : &node->wmark_high;
                        if (parse_size(v, mark) < 0)
                                return fail(p, "node %s: bad %s watermark: %s", tok[1], k, v);
                        *(k[0] == 'm'   ? &node->min_set
                          : k[0] == 'l' ? &node->low_set
                                        : &node->high_set) = true;
                } else if (strcmp(k, "remote") == 0) {
                        if (parse_ns(v, &node->remote_ns) < 0 || node->remote_ns <= 0)
                                return fail(p, "node %s: bad remote latency: %s", tok[1], v);
                } else
                        return fail(p, "node %s: unknown key: %s", tok[1], k);
        }
        if (!have_mem || !have_cpus)
                return fail(p, "node %s: mem and cpus are required", tok[1]);
        if ((node->min_set && node->wmark_min >= node->total) ||
            (node->low_set && node->wmark_low >= node->total) ||
            (node->high_set && node->wmark_high >= node->total) ||
            (node->min_set && node->low_set && node->wmark_low < node->wmark_min) ||
            (node->low_set && node->high_set && node->wmark_high < node->wmark_low) ||
            (node->min_set && node->high_set && node->wmark_high < node->wmark_min))
                return fail(p, "node %s: watermarks must be below mem, and min <= low <= high", tok[1]);
        for (unsigned j = 0; j < s->nr_nodes; j++)
                if (bitmap_overlaps(s->nodes[j].cpus, node->cpus, SIM_CPU_WORDS))
                        return fail(p, "node %s: shares CPUs with node %u", tok[1], j);
        node->free = node->total;
        s->nr_nodes++;
        return 0;
}

int scenario_line_distance(parser *p, char **tok, size_t n) {
        int a = -1, b = -1;
        uint64_t d;

        if (n != 4)
                return fail(p, "expected: distance NODE NODE DISTANCE");
        if (scenario_parse_node_id(p, tok[1], &a) < 0 || scenario_parse_node_id(p, tok[2], &b) < 0)
                return -EINVAL;
        if (parse_uint(tok[3], 254, &d) < 0 || d < 10 || (a == b) != (d == 10))
                return fail(p, "distance: must be 10 for a node to itself, 11-254 otherwise: %s", tok[3]);
        p->s->distance[a][b] = p->s->distance[b][a] = (uint8_t)d;
        return 0;
}

/* Growth over a duration comes in this many equal steps. */
#define GROW_STEPS 16u

int scenario_line_grow(parser *p, usec_t t, char **tok, size_t n) {
        nv_sim *s = p->s;
        usec_t over = 0;
        uint64_t bytes;
        int node = -1, r;

        if (n != 3 && !(n == 5 && strcmp(tok[3], "over") == 0))
                return fail(p, "expected: [at TIME] grow NODE SIZE [over TIME]");
        if (scenario_parse_node_id(p, tok[1], &node) < 0)
                return -EINVAL;
        if (parse_size(tok[2], &bytes) < 0 || bytes == 0 || bytes > s->nodes[node].total)
                return fail(p, "grow: not a size from 1 byte to the node's mem: %s", tok[2]);
        if (n == 5 && (parse_sec(tok[4], &over) < 0 || over == 0 || over > USEC_INFINITY - 1 - t))
                return fail(p, "grow: bad duration: %s", tok[4]);
        for (unsigned i = 0; i < (over ? GROW_STEPS : 1u); i++) {
                uint64_t part = over ? bytes / GROW_STEPS + (i < bytes % GROW_STEPS) : bytes;
                r = scenario_grow((void **)&s->growth, &s->nr_growth, sizeof(*s->growth));
                if (r < 0)
                        return r;
                s->growth[s->nr_growth - 1] = (sim_growth){
                        .t = t + over / GROW_STEPS * i,
                        .node = (unsigned)node,
                        .bytes = part,
                        .order = s->nr_growth - 1,
                };
        }
        return 0;
}
