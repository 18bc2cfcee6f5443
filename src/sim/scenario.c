/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scenario parser: a line-oriented description of a host and its VMs (docs/scenario.md). This
 * file reads the lines and checks the whole model; scenario-host.c and scenario-vm.c parse the
 * directives. */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/parse.h"
#include "sim/costs.h"
#include "sim/scenario-internal.h"

#define MAX_TOKENS 40

_printf_(2, 3) int scenario_fail(const parser *p, const char *fmt, ...) {
        char buf[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return log_error_errno(-EINVAL, "%s:%u: %s", p->file, p->line, buf);
}

int scenario_grow(void **array, size_t *n, size_t size) {
        void *a = realloc(*array, (*n + 1) * size);
        if (!a)
                return log_oom();
        memset((char *)a + *n * size, 0, size);
        *array = a;
        (*n)++;
        return 0;
}

/* "all", or a CPU list "0-3,8,10-11", into a bitmap; each index < max. */
int scenario_parse_list(const char *s, unsigned max, uint64_t *bitmap) {
        unsigned lo, hi;
        int r;

        if (strcmp(s, "all") == 0) {
                for (unsigned i = 0; i < max; i++)
                        bitmap_set(bitmap, i);
                return 0;
        }
        while ((r = nv_cpulist_next(&s, max, &lo, &hi)) > 0)
                for (unsigned i = lo; i <= hi; i++)
                        bitmap_set(bitmap, i);
        return r;
}

int scenario_parse_node_id(const parser *p, const char *s, int *ret) {
        uint64_t v;

        if (parse_uint(s, NV_MAX_NODES - 1, &v) < 0 || v >= p->s->nr_nodes)
                return fail(p, "no such node: %s", s);
        *ret = (int)v;
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
                        return scenario_line_run(p, t, tok + 2, n - 2);
                if (strcmp(tok[2], "workload") == 0)
                        return scenario_line_workload(p, t, tok + 2, n - 2);
                return fail(p, "'at' takes run or workload, not %s", tok[2]);
        }
        if (strcmp(tok[0], "seed") == 0)
                return scenario_line_seed(p, tok, n);
        if (strcmp(tok[0], "host") == 0)
                return scenario_line_host(p, tok, n);
        if (strcmp(tok[0], "node") == 0)
                return scenario_line_node(p, tok, n);
        if (strcmp(tok[0], "distance") == 0)
                return scenario_line_distance(p, tok, n);
        if (strcmp(tok[0], "vm") == 0)
                return scenario_line_vm(p, tok, n);
        if (strcmp(tok[0], "cell") == 0)
                return scenario_line_cell(p, tok, n);
        if (strcmp(tok[0], "run") == 0)
                return scenario_line_run(p, 0, tok, n);
        if (strcmp(tok[0], "workload") == 0)
                return scenario_line_workload(p, 0, tok, n);
        if (strcmp(tok[0], "l2") == 0)
                return scenario_line_l2(p, tok, n);
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
                return log_error_errno(-errno, "Failed to open %s: %m", path);
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
