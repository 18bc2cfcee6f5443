/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scenario parser: a line-oriented description of a host and its VMs (docs/scenario.md). */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/parse.h"
#include "sim/costs.h"
#include "sim/sim-internal.h"

#define MAX_TOKENS 40

typedef struct parser {
        nv_sim *s;
        const char *file;
        unsigned line;
        ssize_t vm;     /* index of the VM being described, -1 none */
        ssize_t own_wl; /* index of that VM's own workload, -1 none yet */
        ssize_t l2;     /* index of the open l2 block's workload, -1 none */
} parser;

#define fail(p, ...) sim_fail((p), __VA_ARGS__)
_printf_(2, 3) static int sim_fail(const parser *p, const char *fmt, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return log_error_errno(EINVAL, "%s:%u: %s", p->file, p->line, buf);
}

static int grow(void **array, size_t *n, size_t size) {
        void *a = realloc(*array, (*n + 1) * size);
        if (!a)
                return log_oom();
        memset((char *)a + *n * size, 0, size);
        *array = a;
        (*n)++;
        return 0;
}

/* "0-3,8,10-11" into a bitmap; each index < max. */
static int parse_list(const char *s, unsigned max, uint64_t *bitmap) {
        const char *p = s;

        if (strcmp(s, "all") == 0) {
                for (unsigned i = 0; i < max; i++)
                        bitmap_set(bitmap, i);
                return 0;
        }
        while (*p) {
                char *end;
                unsigned long a, b;

                if (!isdigit((unsigned char)*p))
                        return -EINVAL;
                a = b = strtoul(p, &end, 10);
                if (*end == '-') {
                        p = end + 1;
                        if (!isdigit((unsigned char)*p))
                                return -EINVAL;
                        b = strtoul(p, &end, 10);
                }
                if (a > b || b >= max)
                        return -ERANGE;
                for (unsigned long i = a; i <= b; i++)
                        bitmap_set(bitmap, (unsigned)i);
                p = end;
                if (*p == ',')
                        p++;
                else if (*p)
                        return -EINVAL;
        }
        return 0;
}

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

/* "0.3" or "30%". */
static int parse_fraction(const char *s, double *ret) {
        double v;
        int r;

        r = strchr(s, '%') ? parse_percent(s, &v) : parse_double(s, &v);
        if (r < 0)
                return r;
        if (v > 1.0)
                return -ERANGE;
        *ret = v;
        return 0;
}

static int parse_node_id(const parser *p, const char *s, int *ret) {
        uint64_t v;

        if (parse_uint(s, NV_MAX_NODES - 1, &v) < 0 || v >= p->s->nr_nodes)
                return fail(p, "no such node: %s", s);
        *ret = (int)v;
        return 0;
}

static int parse_first_touch(const parser *p, const char *s, int *ret) {
        if (strcmp(s, "interleave") == 0) {
                *ret = -1;
                return 0;
        }
        return parse_node_id(p, s, ret);
}

static sim_vm *cur_vm(const parser *p) {
        return p->vm >= 0 ? &p->s->vms[p->vm] : NULL;
}

static int line_seed(parser *p, char **tok, size_t n) {
        if (n != 2 || parse_uint(tok[1], UINT64_MAX, &p->s->seed) < 0)
                return fail(p, "expected: seed NUMBER");
        return 0;
}

static int line_host(parser *p, char **tok, size_t n) {
        if (n < 3 || n % 2 == 0)
                return fail(p, "expected: host KEY VALUE...");
        for (size_t i = 1; i < n; i += 2) {
                if (strcmp(tok[i], "nested") == 0) {
                        if (parse_boolean(tok[i + 1], &p->s->nested) < 0)
                                return fail(p, "nested: not a boolean: %s", tok[i + 1]);
                } else if (strcmp(tok[i], "tlb-lifetime") == 0 ||
                           strcmp(tok[i], "nested-tlb-lifetime") == 0) {
                        usec_t *t = tok[i][0] == 't' ? &p->s->tlb_bare : &p->s->tlb_nested;
                        if (parse_sec(tok[i + 1], t) < 0 || *t < SIM_TICK_USEC)
                                return fail(p, "%s: not a duration of at least %uus: %s", tok[i],
                                            SIM_TICK_USEC, tok[i + 1]);
                } else
                        return fail(p, "unknown host key: %s", tok[i]);
        }
        return 0;
}

static int line_node(parser *p, char **tok, size_t n) {
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
                        if (parse_list(v, SIM_MAX_CPUS, node->cpus) < 0)
                                return fail(p, "node %s: bad cpu list: %s", tok[1], v);
                        have_cpus = true;
                } else if (strcmp(k, "local") == 0) {
                        if (parse_ns(v, &node->local_ns) < 0 || node->local_ns <= 0)
                                return fail(p, "node %s: bad local latency: %s", tok[1], v);
                } else if (strcmp(k, "remote") == 0) {
                        if (parse_ns(v, &node->remote_ns) < 0 || node->remote_ns <= 0)
                                return fail(p, "node %s: bad remote latency: %s", tok[1], v);
                } else
                        return fail(p, "node %s: unknown key: %s", tok[1], k);
        }
        if (!have_mem || !have_cpus)
                return fail(p, "node %s: mem and cpus are required", tok[1]);
        for (unsigned j = 0; j < s->nr_nodes; j++)
                for (unsigned w = 0; w < SIM_CPU_WORDS; w++)
                        if (s->nodes[j].cpus[w] & node->cpus[w])
                                return fail(p, "node %s: shares CPUs with node %u", tok[1], j);
        node->free = node->total;
        s->nr_nodes++;
        return 0;
}

static int line_distance(parser *p, char **tok, size_t n) {
        int a = -1, b = -1;
        uint64_t d;

        if (n != 4)
                return fail(p, "expected: distance NODE NODE DISTANCE");
        if (parse_node_id(p, tok[1], &a) < 0 || parse_node_id(p, tok[2], &b) < 0)
                return -EINVAL;
        if (parse_uint(tok[3], 254, &d) < 0 || d < 10 || (a == b) != (d == 10))
                return fail(p, "distance: must be 10 for a node to itself, 11-254 otherwise: %s", tok[3]);
        p->s->distance[a][b] = p->s->distance[b][a] = (uint8_t)d;
        return 0;
}

static int line_vm(parser *p, char **tok, size_t n) {
        nv_sim *s = p->s;
        sim_vm *vm;
        uint64_t v;
        int r;

        if (s->nr_nodes == 0)
                return fail(p, "vm before any node");
        if (n < 2 || n % 2 != 0)
                return fail(p, "expected: vm NAME mem SIZE vcpus N [KEY VALUE...]");
        for (size_t i = 0; i < s->nr_vms; i++)
                if (strcmp(s->vms[i].name, tok[1]) == 0)
                        return fail(p, "vm %s: defined twice", tok[1]);
        r = grow((void **)&s->vms, &s->nr_vms, sizeof(sim_vm));
        if (r < 0)
                return r;
        p->vm = (ssize_t)s->nr_vms - 1;
        p->own_wl = p->l2 = -1;
        vm = &s->vms[p->vm];
        vm->name = strdup(tok[1]);
        if (!vm->name)
                return log_oom();
        vm->backing = NV_BACKING_ANON;
        for (size_t i = 2; i < n; i += 2) {
                const char *k = tok[i], *val = tok[i + 1];
                if (strcmp(k, "mem") == 0) {
                        if (parse_size(val, &vm->mem) < 0 || vm->mem == 0)
                                return fail(p, "vm %s: bad mem: %s", vm->name, val);
                } else if (strcmp(k, "vcpus") == 0) {
                        if (parse_uint(val, SIM_MAX_VCPUS, &v) < 0 || v == 0)
                                return fail(p, "vm %s: vcpus must be 1-%u: %s", vm->name, SIM_MAX_VCPUS,
                                            val);
                        vm->nr_vcpus = (unsigned)v;
                } else if (strcmp(k, "backing") == 0) {
                        r = nv_backing_from_string(val);
                        if (r < 0)
                                return fail(p, "vm %s: unknown backing: %s", vm->name, val);
                        vm->backing = (nv_backing)r;
                } else if (strcmp(k, "first-touch") == 0) {
                        if (parse_first_touch(p, val, &vm->first_touch) < 0)
                                return -EINVAL;
                } else if (strcmp(k, "uuid") == 0) {
                        if (strlen(val) != 36)
                                return fail(p, "vm %s: a uuid has 36 characters: %s", vm->name, val);
                        memcpy(vm->uuid, val, 37);
                } else if (strcmp(k, "tlb-lifetime") == 0) {
                        if (parse_sec(val, &vm->tlb_lifetime) < 0 || vm->tlb_lifetime < SIM_TICK_USEC)
                                return fail(p, "vm %s: bad tlb-lifetime: %s", vm->name, val);
                } else
                        return fail(p, "vm %s: unknown key: %s", vm->name, k);
        }
        if (vm->mem == 0 || vm->nr_vcpus == 0)
                return fail(p, "vm %s: mem and vcpus are required", vm->name);
        if (vm->mem % (UINT64_C(1) << nv_backing_page_shift(vm->backing)) != 0)
                return fail(p, "vm %s: mem is not a multiple of the %s page", vm->name,
                            nv_backing_to_string(vm->backing));
        return 0;
}

static int parse_vcpus(const parser *p, const sim_vm *vm, const char *s, uint64_t *bitmap) {
        if (parse_list(s, vm->nr_vcpus, bitmap) < 0)
                return fail(p, "vm %s: bad vCPU list (the VM has %u vCPUs): %s", vm->name, vm->nr_vcpus, s);
        return 0;
}

static int line_cell(parser *p, char **tok, size_t n) {
        sim_vm *vm = cur_vm(p);
        sim_cell *c;
        uint64_t id;
        int r;

        if (!vm || p->l2 >= 0)
                return fail(p, "cell outside a vm (or inside an l2 block: close it with 'end')");
        if (n < 2 || n % 2 != 0 || parse_uint(tok[1], 255, &id) < 0 || id != vm->nr_cells)
                return fail(p, "expected: cell ID mem SIZE vcpus LIST, IDs 0, 1, ... in order");
        r = grow((void **)&vm->cells, &(size_t){ vm->nr_cells }, sizeof(sim_cell));
        if (r < 0)
                return r;
        c = &vm->cells[vm->nr_cells++];
        c->first_touch = vm->first_touch;
        for (size_t i = 2; i < n; i += 2) {
                const char *k = tok[i], *v = tok[i + 1];
                if (strcmp(k, "mem") == 0) {
                        if (parse_size(v, &c->size) < 0 || c->size == 0 ||
                            c->size % (UINT64_C(1) << nv_backing_page_shift(vm->backing)) != 0)
                                return fail(p, "cell %s: bad mem (a multiple of the page): %s", tok[1], v);
                } else if (strcmp(k, "vcpus") == 0) {
                        if (parse_vcpus(p, vm, v, c->vcpus) < 0)
                                return -EINVAL;
                } else if (strcmp(k, "first-touch") == 0) {
                        if (parse_first_touch(p, v, &c->first_touch) < 0)
                                return -EINVAL;
                } else
                        return fail(p, "cell %s: unknown key: %s", tok[1], k);
        }
        if (c->size == 0)
                return fail(p, "cell %s: mem is required", tok[1]);
        return 0;
}

static int line_run(parser *p, usec_t t, char **tok, size_t n) {
        sim_vm *vm = cur_vm(p);
        sim_run_event *e;
        uint64_t cpus[SIM_CPU_WORDS] = {};
        unsigned nodes = 0;
        int r;

        if (!vm || p->l2 >= 0)
                return fail(p, "run outside a vm (or inside an l2 block: close it with 'end')");
        if (n != 4 || strcmp(tok[2], "on") != 0)
                return fail(p, "expected: [at TIME] run VCPUS on CPUS");
        r = grow((void **)&vm->runs, &vm->nr_runs, sizeof(sim_run_event));
        if (r < 0)
                return r;
        e = &vm->runs[vm->nr_runs - 1];
        e->t = t;
        if (parse_vcpus(p, vm, tok[1], e->vcpus) < 0)
                return -EINVAL;
        if (parse_list(tok[3], SIM_MAX_CPUS, cpus) < 0)
                return fail(p, "bad host CPU list: %s", tok[3]);
        for (unsigned j = 0; j < p->s->nr_nodes; j++)
                for (unsigned w = 0; w < SIM_CPU_WORDS; w++)
                        if (p->s->nodes[j].cpus[w] & cpus[w]) {
                                e->share[j] = 1;
                                nodes++;
                                break;
                        }
        if (nodes == 0)
                return fail(p, "CPUs %s belong to no node", tok[3]);
        for (unsigned j = 0; j < p->s->nr_nodes; j++)
                e->share[j] /= nodes;
        return 0;
}

static sim_workload *own_workload(parser *p) {
        sim_vm *vm = cur_vm(p);

        if (p->own_wl < 0) {
                if (grow((void **)&vm->workloads, &vm->nr_workloads, sizeof(sim_workload)) < 0)
                        return NULL;
                p->own_wl = (ssize_t)vm->nr_workloads - 1;
                sim_workload *w = &vm->workloads[p->own_wl];
                w->depth = 1;
                w->size = vm->mem;
                w->nr_vcpus = vm->nr_vcpus;
                w->vcpu_map = calloc(vm->nr_vcpus, sizeof(unsigned));
                if (!w->vcpu_map)
                        return NULL;
                for (unsigned i = 0; i < vm->nr_vcpus; i++)
                        w->vcpu_map[i] = i;
        }
        return &vm->workloads[p->own_wl];
}

static int line_workload(parser *p, usec_t t, char **tok, size_t n) {
        sim_workload *w;
        sim_phase ph;
        int r;

        if (!cur_vm(p))
                return fail(p, "workload outside a vm");
        if (n % 2 != 1)
                return fail(p, "expected: [at TIME] workload KEY VALUE...");
        w = p->l2 >= 0 ? &cur_vm(p)->workloads[p->l2] : own_workload(p);
        if (!w)
                return log_oom();
        /* A phase inherits what it does not set from the phase before it. */
        if (w->nr_phases > 0)
                ph = w->phases[w->nr_phases - 1];
        else
                ph = (sim_phase){ .skew = 0.9, .rate = 1024 * 1024, .writes = 0.3 };
        ph.t = t;
        for (size_t i = 1; i < n; i += 2) {
                const char *k = tok[i], *v = tok[i + 1];
                uint64_t x;
                if (strcmp(k, "hot") == 0)
                        r = parse_size(v, &ph.hot);
                else if (strcmp(k, "offset") == 0)
                        r = parse_size(v, &ph.offset);
                else if (strcmp(k, "skew") == 0)
                        r = parse_fraction(v, &ph.skew);
                else if (strcmp(k, "private") == 0)
                        r = parse_fraction(v, &ph.private_share);
                else if (strcmp(k, "writes") == 0)
                        r = parse_fraction(v, &ph.writes);
                else if (strcmp(k, "rate") == 0) {
                        r = parse_size(v, &x);
                        ph.rate = (double)x;
                } else
                        return fail(p, "workload: unknown key: %s", k);
                if (r < 0)
                        return fail(p, "workload: bad %s: %s", k, v);
        }
        if (ph.offset + ph.hot > w->size)
                return fail(p, "workload: the hot set (offset + hot) exceeds the guest's memory");
        if (w->nr_phases > 0 && w->phases[w->nr_phases - 1].t > t)
                return fail(p, "workload: phases must be given in time order");
        if (w->nr_phases == 0 && t > 0) {
                /* Idle until the first phase. */
                sim_phase idle = ph;
                idle.t = 0;
                idle.rate = 0;
                r = grow((void **)&w->phases, &w->nr_phases, sizeof(sim_phase));
                if (r < 0)
                        return r;
                w->phases[0] = idle;
        }
        r = grow((void **)&w->phases, &w->nr_phases, sizeof(sim_phase));
        if (r < 0)
                return r;
        w->phases[w->nr_phases - 1] = ph;
        return 0;
}

static int line_l2(parser *p, char **tok, size_t n) {
        sim_vm *vm = cur_vm(p);
        sim_workload *w;
        uint64_t vcpus[SIM_VCPU_WORDS] = {};
        bool have_vcpus = false;
        int r;

        if (!vm)
                return fail(p, "l2 outside a vm");
        if (n < 2 || n % 2 != 0)
                return fail(p, "expected: l2 NAME mem SIZE at-gpa ADDR vcpus LIST");
        r = grow((void **)&vm->workloads, &vm->nr_workloads, sizeof(sim_workload));
        if (r < 0)
                return r;
        p->l2 = (ssize_t)vm->nr_workloads - 1;
        w = &vm->workloads[p->l2];
        w->depth = 2;
        w->name = strdup(tok[1]);
        if (!w->name)
                return log_oom();
        for (size_t i = 2; i < n; i += 2) {
                const char *k = tok[i], *v = tok[i + 1];
                if (strcmp(k, "mem") == 0) {
                        if (parse_size(v, &w->size) < 0 || w->size == 0)
                                return fail(p, "l2 %s: bad mem: %s", w->name, v);
                } else if (strcmp(k, "at-gpa") == 0) {
                        if (parse_size(v, &w->gpa_base) < 0)
                                return fail(p, "l2 %s: bad at-gpa: %s", w->name, v);
                } else if (strcmp(k, "vcpus") == 0) {
                        if (parse_vcpus(p, vm, v, vcpus) < 0)
                                return -EINVAL;
                        have_vcpus = true;
                } else
                        return fail(p, "l2 %s: unknown key: %s", w->name, k);
        }
        if (w->size == 0 || !have_vcpus)
                return fail(p, "l2 %s: mem and vcpus are required", w->name);
        if (w->gpa_base + w->size > vm->mem || w->gpa_base % NV_PAGE_SIZE != 0)
                return fail(p, "l2 %s: its RAM (at-gpa + mem) must lie page-aligned inside the VM's",
                            w->name);
        w->vcpu_map = calloc(vm->nr_vcpus, sizeof(unsigned));
        if (!w->vcpu_map)
                return log_oom();
        for (unsigned i = 0; i < vm->nr_vcpus; i++)
                if (bitmap_test(vcpus, i))
                        w->vcpu_map[w->nr_vcpus++] = i;
        return 0;
}

static int parse_line(parser *p, char *text) {
        char *tok[MAX_TOKENS];
        size_t n = 0;
        usec_t t = 0;
        char *c, *save = NULL;

        c = strchr(text, '#');
        if (c)
                *c = '\0';
        for (char *x = strtok_r(text, " \t\r", &save); x; x = strtok_r(NULL, " \t\r", &save)) {
                if (n == MAX_TOKENS)
                        return fail(p, "too many words");
                tok[n++] = x;
        }
        if (n == 0)
                return 0;
        if (strcmp(tok[0], "at") == 0) {
                if (n < 3 || parse_sec(tok[1], &t) < 0)
                        return fail(p, "expected: at TIME run|workload ...");
                if (strcmp(tok[2], "run") == 0)
                        return line_run(p, t, tok + 2, n - 2);
                if (strcmp(tok[2], "workload") == 0)
                        return line_workload(p, t, tok + 2, n - 2);
                return fail(p, "'at' takes run or workload, not %s", tok[2]);
        }
        if (strcmp(tok[0], "seed") == 0)
                return line_seed(p, tok, n);
        if (strcmp(tok[0], "host") == 0)
                return line_host(p, tok, n);
        if (strcmp(tok[0], "node") == 0)
                return line_node(p, tok, n);
        if (strcmp(tok[0], "distance") == 0)
                return line_distance(p, tok, n);
        if (strcmp(tok[0], "vm") == 0)
                return line_vm(p, tok, n);
        if (strcmp(tok[0], "cell") == 0)
                return line_cell(p, tok, n);
        if (strcmp(tok[0], "run") == 0)
                return line_run(p, 0, tok, n);
        if (strcmp(tok[0], "workload") == 0)
                return line_workload(p, 0, tok, n);
        if (strcmp(tok[0], "l2") == 0)
                return line_l2(p, tok, n);
        if (strcmp(tok[0], "end") == 0) {
                if (n != 1 || p->l2 < 0)
                        return fail(p, "'end' closes an l2 block, and none is open");
                p->l2 = -1;
                return 0;
        }
        return fail(p, "unknown directive: %s", tok[0]);
}

/* Checks that need the whole VM. */
static int check_vm(parser *p, sim_vm *vm) {
        uint64_t sum = 0;

        for (unsigned i = 0; i < vm->nr_cells; i++)
                sum += vm->cells[i].size;
        if (vm->nr_cells > 0 && sum != vm->mem)
                return fail(p, "vm %s: its cells add up to %" PRIu64 " bytes, not its mem", vm->name, sum);
        for (size_t i = 0; i < vm->nr_workloads; i++)
                if (vm->workloads[i].nr_phases == 0)
                        return fail(p, "vm %s: %s has no workload line", vm->name,
                                    vm->workloads[i].name ?: "the VM");
        return 0;
}

int nv_sim_load_string(const char *text, const char *name, nv_sim **ret) {
        _cleanup_(nv_sim_freep) nv_sim *s = NULL;
        parser p = { .file = name ?: "<string>", .vm = -1, .own_wl = -1, .l2 = -1 };
        const char *line = text;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return log_oom();
        s->name = strdup(p.file);
        if (!s->name)
                return log_oom();
        s->seed = 1;
        s->tlb_bare = NV_SIM_TLB_LIFETIME_USEC;
        s->tlb_nested = NV_SIM_NESTED_TLB_LIFETIME_USEC;
        for (unsigned a = 0; a < NV_MAX_NODES; a++)
                for (unsigned b = 0; b < NV_MAX_NODES; b++)
                        s->distance[a][b] = a == b ? 10 : 20;
        p.s = s;

        while (*line) {
                const char *nl = strchrnul(line, '\n');
                _cleanup_free_ char *copy = strndup(line, nl - line);
                if (!copy)
                        return log_oom();
                p.line++;
                r = parse_line(&p, copy);
                if (r < 0)
                        return r;
                line = *nl ? nl + 1 : nl;
        }
        if (s->nr_nodes == 0)
                return fail(&p, "the scenario describes no node");
        for (size_t i = 0; i < s->nr_vms; i++) {
                r = check_vm(&p, &s->vms[i]);
                if (r < 0)
                        return r;
        }
        r = sim_build(s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int nv_sim_load_file(const char *path, nv_sim **ret) {
        _cleanup_free_ char *text = NULL;
        FILE *f;
        size_t size = 0;
        int r;

        f = fopen(path, "re");
        if (!f)
                return log_error_errno(errno, "Failed to open %s: %m", path);
        r = getdelim(&text, &size, '\0', f) < 0 && ferror(f) ? -EIO : 0;
        fclose(f);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        if (!text && !(text = strdup("")))
                return log_oom();
        return nv_sim_load_string(text, path, ret);
}

void sim_vm_done(sim_vm *vm) {
        free(vm->name);
        free(vm->cells);
        free(vm->runs);
        for (size_t i = 0; i < vm->nr_workloads; i++) {
                free(vm->workloads[i].name);
                free(vm->workloads[i].vcpu_map);
                free(vm->workloads[i].phases);
        }
        free(vm->workloads);
        for (size_t i = 0; i < vm->nr_segs; i++)
                free(vm->segs[i].phase);
        free(vm->segs);
        free(vm->node);
        free(vm->a_from);
        free(vm->d_from);
        free(vm->vcpu_share);
        free(vm->vcpu_time);
        free(vm->vcpu_time_last);
        free(vm->node_rate);
}
