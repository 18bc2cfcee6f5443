/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scenario's VM directives: vm, cell, run, workload, and l2 blocks. */

#include <inttypes.h>
#include <string.h>

#include "common/log.h"
#include "common/parse.h"
#include "sim/scenario-internal.h"

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

static int parse_first_touch(const parser *p, const char *s, int *ret) {
        if (strcmp(s, "interleave") == 0) {
                *ret = -1;
                return 0;
        }
        return scenario_parse_node_id(p, s, ret);
}

/* The VM's backing page: its mem, and each cell's, is a multiple of it. */
static uint64_t vm_page_size(const sim_vm *vm) {
        return UINT64_C(1) << nv_backing_page_shift(vm->backing);
}

static sim_vm *cur_vm(const parser *p) {
        return p->vm >= 0 ? &p->s->vms[p->vm] : NULL;
}

/* The host's memory, saturated at UINT64_MAX. */
static uint64_t host_bytes(const nv_sim *s) {
        uint64_t total = 0;

        for (unsigned i = 0; i < s->nr_nodes; i++)
                total = s->nodes[i].total > UINT64_MAX - total ? UINT64_MAX : total + s->nodes[i].total;
        return total;
}

/* A VM must fit in what the VMs before it left of the host, and in what the sim models. */
static int check_vm_fits(parser *p, const sim_vm *vm) {
        uint64_t host = host_bytes(p->s), left = host - MIN(p->vm_bytes, host);
        uint64_t units = vm->mem / vm_page_size(vm);
        char a[FORMAT_BUF], b[FORMAT_BUF], c[FORMAT_BUF];

        if (vm->mem > left)
                return fail(p, "vm %s: mem %s does not fit in the host's %s (%s left by the VMs before it)",
                            vm->name, format_size(a, vm->mem), format_size(b, host), format_size(c, left));
        if (units > SIM_MAX_UNITS - p->units)
                return fail(p,
                            "vm %s: mem %s is more than the simulator models: at most %" PRIu64
                            " backing pages in all VMs, %" PRIu64 " of them left",
                            vm->name, format_size(a, vm->mem), SIM_MAX_UNITS, SIM_MAX_UNITS - p->units);
        p->vm_bytes += vm->mem;
        p->units += units;
        return 0;
}

int scenario_line_vm(parser *p, char **tok, size_t n) {
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
        r = scenario_grow((void **)&s->vms, &s->nr_vms, sizeof(sim_vm));
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
                        if (parse_sec(val, &vm->tlb_lifetime) < 0 || vm->tlb_lifetime < SIM_TICK_USEC ||
                            vm->tlb_lifetime > SIM_CLOCK_END_USEC)
                                return fail(p, "vm %s: bad tlb-lifetime: %s", vm->name, val);
                } else
                        return fail(p, "vm %s: unknown key: %s", vm->name, k);
        }
        if (vm->mem == 0 || vm->nr_vcpus == 0)
                return fail(p, "vm %s: mem and vcpus are required", vm->name);
        if (vm->mem % vm_page_size(vm) != 0)
                return fail(p, "vm %s: mem is not a multiple of the %s page", vm->name,
                            nv_backing_to_string(vm->backing));
        return check_vm_fits(p, vm);
}

static int parse_vcpus(const parser *p, const sim_vm *vm, const char *s, uint64_t *bitmap) {
        if (scenario_parse_list(s, vm->nr_vcpus, bitmap) < 0)
                return fail(p, "vm %s: bad vCPU list (the VM has %u vCPUs): %s", vm->name, vm->nr_vcpus, s);
        return 0;
}

int scenario_line_cell(parser *p, char **tok, size_t n) {
        sim_vm *vm = cur_vm(p);
        sim_cell *c;
        uint64_t id;
        int r;

        if (!vm || p->l2 >= 0)
                return fail(p, "cell outside a vm (or inside an l2 block: close it with 'end')");
        if (n < 2 || n % 2 != 0 || parse_uint(tok[1], 255, &id) < 0 || id != vm->nr_cells)
                return fail(p, "expected: cell ID mem SIZE vcpus LIST, IDs 0, 1, ... in order");
        r = scenario_grow((void **)&vm->cells, &(size_t){ vm->nr_cells }, sizeof(sim_cell));
        if (r < 0)
                return r;
        c = &vm->cells[vm->nr_cells++];
        c->first_touch = vm->first_touch;
        for (size_t i = 2; i < n; i += 2) {
                const char *k = tok[i], *v = tok[i + 1];
                if (strcmp(k, "mem") == 0) {
                        if (parse_size(v, &c->size) < 0 || c->size == 0 || c->size % vm_page_size(vm) != 0)
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

int scenario_line_run(parser *p, usec_t t, char **tok, size_t n) {
        sim_vm *vm = cur_vm(p);
        sim_run_event *e;
        uint64_t cpus[SIM_CPU_WORDS] = {};
        unsigned nodes = 0;
        int r;

        if (!vm || p->l2 >= 0)
                return fail(p, "run outside a vm (or inside an l2 block: close it with 'end')");
        if (n != 4 || strcmp(tok[2], "on") != 0)
                return fail(p, "expected: [at TIME] run VCPUS on CPUS");
        r = scenario_grow((void **)&vm->runs, &vm->nr_runs, sizeof(sim_run_event));
        if (r < 0)
                return r;
        e = &vm->runs[vm->nr_runs - 1];
        e->t = t;
        if (parse_vcpus(p, vm, tok[1], e->vcpus) < 0)
                return -EINVAL;
        if (scenario_parse_list(tok[3], SIM_MAX_CPUS, cpus) < 0)
                return fail(p, "bad host CPU list: %s", tok[3]);
        for (unsigned j = 0; j < p->s->nr_nodes; j++)
                if (bitmap_overlaps(p->s->nodes[j].cpus, cpus, SIM_CPU_WORDS)) {
                        e->share[j] = 1;
                        nodes++;
                }
        if (nodes == 0)
                return fail(p, "CPUs %s belong to no node", tok[3]);
        for (unsigned j = 0; j < p->s->nr_nodes; j++)
                e->share[j] /= nodes;
        return 0;
}

/* "SIZE" (one range at the phase's offset) or "SIZE@OFFSET,SIZE@OFFSET,..." (several). */
static int parse_hot(const parser *p, const char *v, sim_phase *ph) {
        char buf[512], *save = NULL;
        unsigned n = 0;

        if (!strchr(v, '@')) {
                if (parse_size(v, &ph->ranges[0].size) < 0)
                        return fail(p, "workload: bad hot: %s", v);
                ph->nr_ranges = 1;
                return 0;
        }
        if (strlen(v) >= sizeof(buf))
                return fail(p, "workload: hot list too long: %s", v);
        strcpy(buf, v);
        for (char *r = strtok_r(buf, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
                char *at = strchr(r, '@');
                if (n == SIM_MAX_HOT_RANGES)
                        return fail(p, "workload: at most %u hot ranges", SIM_MAX_HOT_RANGES);
                if (!at)
                        return fail(p, "workload: expected SIZE@OFFSET in a hot list: %s", r);
                *at = '\0';
                if (parse_size(r, &ph->ranges[n].size) < 0 ||
                    parse_size(at + 1, &ph->ranges[n].offset) < 0 || ph->ranges[n].size == 0)
                        return fail(p, "workload: bad hot range: %s@%s", r, at + 1);
                if (n > 0 && ph->ranges[n].offset < ph->ranges[n - 1].offset + ph->ranges[n - 1].size)
                        return fail(p, "workload: hot ranges must be in order and must not overlap");
                n++;
        }
        if (n == 0)
                return fail(p, "workload: bad hot: %s", v);
        ph->nr_ranges = n;
        return 0;
}

/* The whole phase: ranges inside the workload's RAM, sparse pages that fit. */
static int check_phase(const parser *p, const sim_workload *w, sim_phase *ph) {
        ph->hot = 0;
        for (unsigned i = 0; i < ph->nr_ranges; i++) {
                const sim_hot_range *r = &ph->ranges[i];
                if (r->offset > w->size || r->size > w->size - r->offset)
                        return fail(p, "workload: the hot set (offset + hot) exceeds the guest's memory");
                ph->hot += r->size;
        }
        if (ph->sparse > 0) {
                if (ph->sparse > ph->hot / NV_PAGE_SIZE)
                        return fail(p, "workload: sparse: more 4 KiB pages than the hot ranges hold");
                if (ph->private_share > 0)
                        return fail(p, "workload: sparse hot pages cannot have private slices");
        }
        return 0;
}

static sim_workload *own_workload(parser *p) {
        sim_vm *vm = cur_vm(p);

        if (p->own_wl < 0) {
                if (scenario_grow((void **)&vm->workloads, &vm->nr_workloads, sizeof(sim_workload)) < 0)
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

int scenario_line_workload(parser *p, usec_t t, char **tok, size_t n) {
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
                if (strcmp(k, "hot") == 0) {
                        if (parse_hot(p, v, &ph) < 0)
                                return -EINVAL;
                        r = 0;
                } else if (strcmp(k, "offset") == 0) {
                        if (ph.nr_ranges > 1)
                                return fail(p, "workload: offset applies to a single hot range");
                        r = parse_size(v, &ph.ranges[0].offset);
                } else if (strcmp(k, "sparse") == 0)
                        r = parse_size(v, &ph.sparse);
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
        if (check_phase(p, w, &ph) < 0)
                return -EINVAL;
        if (w->nr_phases > 0 && w->phases[w->nr_phases - 1].t > t)
                return fail(p, "workload: phases must be given in time order");
        if (w->nr_phases == 0 && t > 0) {
                /* Idle until the first phase. */
                sim_phase idle = ph;
                idle.t = 0;
                idle.rate = 0;
                r = scenario_grow((void **)&w->phases, &w->nr_phases, sizeof(sim_phase));
                if (r < 0)
                        return r;
                w->phases[0] = idle;
        }
        r = scenario_grow((void **)&w->phases, &w->nr_phases, sizeof(sim_phase));
        if (r < 0)
                return r;
        w->phases[w->nr_phases - 1] = ph;
        return 0;
}

int scenario_line_l2(parser *p, char **tok, size_t n) {
        sim_vm *vm = cur_vm(p);
        sim_workload *w;
        uint64_t vcpus[SIM_VCPU_WORDS] = {};
        bool have_vcpus = false;
        int r;

        if (!vm)
                return fail(p, "l2 outside a vm");
        if (n < 2 || n % 2 != 0)
                return fail(p, "expected: l2 NAME mem SIZE at-gpa ADDR vcpus LIST");
        r = scenario_grow((void **)&vm->workloads, &vm->nr_workloads, sizeof(sim_workload));
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
        if (w->size > vm->mem || w->gpa_base > vm->mem - w->size || w->gpa_base % NV_PAGE_SIZE != 0)
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
