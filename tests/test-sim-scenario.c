/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scenario parser: good inputs build the host they describe, bad ones fail with FILE:LINE. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "sim/sim.h"
#include "tap.h"

/* Load text, capturing what was logged. */
static int load_capture(const char *text, char *msg, size_t size, nv_sim **ret) {
        FILE *f = tmpfile();
        int saved, r;
        size_t n;

        fflush(stderr);
        saved = dup(STDERR_FILENO);
        dup2(fileno(f), STDERR_FILENO);
        r = nv_sim_load_string(text, "t.scn", ret);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        rewind(f);
        n = fread(msg, 1, size - 1, f);
        msg[n] = '\0';
        fclose(f);
        return r;
}

static const char *const header = "node 0 mem 1G cpus 0-3\n"  /* line 1 */
                                  "node 1 mem 1G cpus 4-7\n"; /* line 2 */

static void test_bad(const char *body, const char *want_prefix, const char *want_part) {
        char text[2048], msg[1024];
        nv_sim *s = NULL;
        int r;

        snprintf(text, sizeof(text), "%s%s", header, body);
        r = load_capture(text, msg, sizeof(msg), &s);
        is_int(r, -EINVAL, "bad input fails with -EINVAL: %s", want_part);
        ok(strncmp(msg, want_prefix, strlen(want_prefix)) == 0 && strstr(msg, want_part),
           "message \"%.*s\" starts with %s and names \"%s\"", (int)strcspn(msg, "\n"), msg, want_prefix,
           want_part);
        ok(!s, "nothing is returned on failure");
        nv_sim_free(s);
}

static void test_good(void) {
        static const char *const text = "# a comment line\n"
                                        "seed 42\n"
                                        "host nested no tlb-lifetime 2ms\n"
                                        "node 0 mem 16G cpus 0-7 local 80ns remote 140ns\n"
                                        "node 1 mem 16G cpus 8-15 min 64M low 128M\n"
                                        "distance 0 1 21\n"
                                        "at 5s grow 1 2G over 10s\n"
                                        "\n"
                                        "vm web1 mem 1G vcpus 4 backing thp first-touch 1  # trailing\n"
                                        "  cell 0 mem 512M vcpus 0-1\n"
                                        "  cell 1 mem 512M vcpus 2-3 first-touch 0\n"
                                        "  run 0-3 on 0-7\n"
                                        "  at 5s run 2-3 on 8-15\n"
                                        "  workload hot 256M skew 0.9 rate 2M private 50% writes 0.3\n"
                                        "  at 20s workload offset 512M\n"
                                        "  l2 inner mem 256M at-gpa 128M vcpus 1\n"
                                        "    workload hot 64M\n"
                                        "  end\n"
                                        "vm db mem 64M vcpus 1 uuid 01234567-89ab-cdef-0123-456789abcdef\n";
        _cleanup_(nv_sim_freep) nv_sim *s = NULL;
        char msg[1024];
        nv_inventory inv = {};
        nv_host host;
        int r;

        r = load_capture(text, msg, sizeof(msg), &s);
        is_int(r, 0, "a scenario using every directive loads");
        is_str(msg, "", "and logs nothing");
        if (r < 0)
                return;
        nv_sim_host(s, false, &host);
        ok(host.destroy == NULL, "the host does not own the sim unless asked");
        is_int(host.source->refresh(host.ctx, &inv), 0, "refresh works");
        is_int(inv.nr_nodes, 2, "two nodes");
        is_u64(inv.nodes[0].total_bytes, 16 * GIB, "node 0 has 16G");
        is_u64(inv.nodes[0].free_bytes + inv.nodes[1].free_bytes, 32 * GIB - GIB - 64 * MIB,
               "the VMs' memory counts against the nodes");
        is_u64(inv.nodes[1].free_bytes, 16 * GIB - 512 * MIB, "cell 0 was first touched on node 1");
        is_int(inv.distance[0][1], 21, "distance 0-1");
        is_int(inv.distance[1][0], 21, "distance is symmetric");
        ok(!inv.nested, "not nested");
        is_int(inv.nr_vms, 2, "two VMs");
        is_str(inv.vms[0].name, "web1", "first VM's name");
        is_int(inv.vms[0].nr_vcpus, 4, "4 vCPUs");
        is_int(inv.vms[0].nr_ranges, 2, "one range per cell");
        is_u64(inv.vms[0].ranges[1].gpa, 512 * MIB, "cell 1 follows cell 0 in guest-physical space");
        is_u64(inv.vms[0].ranges[1].hva, inv.vms[0].ranges[0].hva + 512 * MIB, "and in the VMM's");
        is_int(inv.vms[0].ranges[0].backing, NV_BACKING_THP, "backing thp");
        is_int(inv.vms[0].ranges[1].cell, 1, "cell index");
        ok(inv.vms[0].ranges[0].hva % NV_HUGE_SIZE == 0, "hva aligned to the huge page");
        is_int(inv.vms[0].nr_cells, 2, "two cells");
        is_int(inv.vms[1].nr_ranges, 1, "a VM without cells has one range");
        is_int(inv.vms[1].ranges[0].cell, -1, "... in no cell");
        is_str(inv.vms[1].uuid, "01234567-89ab-cdef-0123-456789abcdef", "uuid as given");
        is_int(strlen(inv.vms[0].uuid), 36, "a generated uuid for the other");
        ok(inv.vms[0].id != inv.vms[1].id, "distinct ids");
        ok(inv.vms[0].ranges[0].hva + GIB <= inv.vms[1].ranges[0].hva, "distinct hva ranges");
        nv_inventory_clear(&inv);
}

static void test_bench_scenarios(void) {
        static const char *const names[] = {
                "scenarios/rehome",     "scenarios/phase",  "scenarios/spread",    "scenarios/vnuma",
                "scenarios/crowded",    "scenarios/many",   "scenarios/large-thp", "scenarios/nested",
                "scenarios/rehome-thp", "scenarios/host1t", "heldout/quad-socket", "heldout/vnuma-guest",
                "heldout/pressure",     "heldout/drift",    "heldout/thp-db",      "heldout/nested-two",
                "heldout/sparse-cache", "heldout/many-vms",
        };
        const char *top = getenv("top_srcdir");
        char path[4096];

#ifdef ABS_TOP_SRCDIR
        if (!top)
                top = ABS_TOP_SRCDIR;
#endif
        if (!top)
                top = ".";
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                _cleanup_(nv_sim_freep) nv_sim *s = NULL;
                snprintf(path, sizeof(path), "%s/bench/%s.scn", top, names[i]);
                is_int(nv_sim_load_file(path, &s), 0, "bench scenario %s.scn loads", names[i]);
        }
        {
                _cleanup_(nv_sim_freep) nv_sim *s = NULL;
                snprintf(path, sizeof(path), "%s/tests/scenarios/every-directive.scn", top);
                is_int(nv_sim_load_file(path, &s), 0, "tests/scenarios/every-directive.scn loads");
        }
}

/* A VM the host could hold but the sim cannot model: a clear message, not "Out of memory". */
static void test_huge_vm(void) {
        char msg[1024];
        nv_sim *s = NULL;

        is_int(load_capture("node 0 mem 1E cpus 0\nvm big mem 1000000000000000000 vcpus 1\n", msg,
                            sizeof(msg), &s),
               -EINVAL, "a 1e18-byte VM fails");
        ok(strstr(msg, "t.scn:2: vm big: mem 888.2P is more than the simulator models") != NULL,
           "with a line and the sim's limit, not \"Out of memory\": %.*s", (int)strcspn(msg, "\n"), msg);
        ok(!strstr(msg, "Out of memory"), "no \"Out of memory\"");
        is_int(load_capture("node 0 mem 1E cpus 0\nvm a mem 100G vcpus 1\nvm b mem 100G vcpus 1\n", msg,
                            sizeof(msg), &s),
               -EINVAL, "the limit counts every VM's pages");
        ok(strstr(msg, "t.scn:3: vm b:") != NULL, "and names the VM that goes beyond it");
        is_int(load_capture("node 0 mem 16E cpus 0\n", msg, sizeof(msg), &s), -EINVAL, "16E does not parse");
        is_int(load_capture("node 0 mem 15E cpus 0\nnode 1 mem 15E cpus 1\nvm a mem 16G vcpus 1\n", msg,
                            sizeof(msg), &s),
               0, "nodes whose sizes add up beyond 2^64 still hold a VM");
        nv_sim_free(s);
}

static int load_file_capture(const char *path, const void *data, size_t size, char *msg, size_t msg_size,
                             nv_sim **ret) {
        FILE *f = fopen(path, "we"), *log = tmpfile();
        int saved, r;
        size_t n;

        if (!f || !log || fwrite(data, 1, size, f) != size || fclose(f) != 0)
                abort();
        fflush(stderr);
        saved = dup(STDERR_FILENO);
        dup2(fileno(log), STDERR_FILENO);
        r = nv_sim_load_file(path, ret);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        rewind(log);
        n = fread(msg, 1, msg_size - 1, log);
        msg[n] = '\0';
        fclose(log);
        return r;
}

/* Files: empty (getdelim() left its buffer uninitialised), and with a NUL inside (ignored what
 * followed it). */
static void test_files(void) {
        static const char with_nul[] = "node 0 mem 1G cpus 0\n"
                                       "vm a mem 1G vcpus 1\n"
                                       "  run 0 on 0\0 junk\n"
                                       "  workload hot 64M\n";
        char tmpl[] = "/tmp/test-sim-scenario.XXXXXX", path[64], msg[1024];
        nv_sim *s = NULL;

        if (!mkdtemp(tmpl))
                abort();
        snprintf(path, sizeof(path), "%s/t.scn", tmpl);

        is_int(load_file_capture(path, "", 0, msg, sizeof(msg), &s), -EINVAL, "an empty file fails");
        ok(strstr(msg, "t.scn: the scenario is empty") != NULL, "and says it is empty: %.*s",
           (int)strcspn(msg, "\n"), msg);
        is_int(load_file_capture(path, with_nul, sizeof(with_nul) - 1, msg, sizeof(msg), &s), -EINVAL,
               "a file with a NUL byte fails");
        ok(strstr(msg, "t.scn:3: a NUL byte") != NULL, "naming the line of the NUL: %.*s",
           (int)strcspn(msg, "\n"), msg);
        is_int(nv_sim_load_buffer(with_nul, sizeof(with_nul) - 1, "b.scn", &s), -EINVAL,
               "nv_sim_load_buffer() refuses the NUL too");
        is_int(nv_sim_load_buffer(with_nul, 20, "b.scn", &s), 0, "and loads the text before it");
        nv_sim_free(s);
        s = NULL;
        is_int(load_file_capture(path, with_nul, 64, msg, sizeof(msg), &s), -EINVAL,
               "a file of text, a NUL and more text fails");
        unlink(path);
        rmdir(tmpl);
}

int main(void) {
        test_good();

        test_bad("bogus 1\n", "t.scn:3:", "unknown directive");
        test_bad("node 3 mem 1G cpus 8\n", "t.scn:3:", "in order");
        test_bad("node 2 mem 1G cpus 3\n", "t.scn:3:", "shares CPUs");
        test_bad("node 2 mem lots cpus 9\n", "t.scn:3:", "bad mem");
        test_bad("distance 0 1 5\n", "t.scn:3:", "distance");
        test_bad("grow 2 1G\n", "t.scn:3:", "no such node");
        test_bad("grow 0 0\n", "t.scn:3:", "not a size");
        test_bad("grow 0 20G\n", "t.scn:3:", "not a size");
        test_bad("at 1s grow 0 1G over never\n", "t.scn:3:", "bad duration");
        test_bad("at 1s grow 0 1G during 2s\n", "t.scn:3:", "expected: [at TIME] grow");
        test_bad("node 2 mem 1G cpus 20 min 200M low 100M\n", "t.scn:3:", "watermarks");
        test_bad("node 2 mem 1G cpus 20 min 1G\n", "t.scn:3:", "watermarks");
        test_bad("node 2 mem 1G cpus 20 low lots\n", "t.scn:3:", "bad low watermark");
        test_bad("node 2 mem 1G cpus 20 low 100M high 50M\n", "t.scn:3:", "watermarks");
        test_bad("node 2 mem 1G cpus 20 min 100M high 50M\n", "t.scn:3:", "watermarks");
        test_bad("node 2 mem 1G cpus 20 high 1G\n", "t.scn:3:", "watermarks");
        test_bad("node 2 mem 1G cpus 20 high x\n", "t.scn:3:", "bad high watermark");
        test_bad("distance 0 7 20\n", "t.scn:3:", "no such node");
        test_bad("vm a mem 1G\n", "t.scn:3:", "required");
        test_bad("vm a mem 1G vcpus 2 backing paper\n", "t.scn:3:", "unknown backing");
        test_bad("vm a mem 3M vcpus 2 backing thp\n", "t.scn:3:", "multiple");
        test_bad("vm a mem 1G vcpus 2\nvm a mem 1G vcpus 2\n", "t.scn:4:", "defined twice");
        test_bad("vm a mem 1G vcpus 2\n run 0-2 on 0\n", "t.scn:4:", "vCPU list");
        test_bad("vm a mem 1G vcpus 2\n run 1-0 on 0\n", "t.scn:4:", "vCPU list");
        test_bad("vm a mem 1G vcpus 2\n run 0,,1 on 0\n", "t.scn:4:", "vCPU list");
        test_bad("vm a mem 1G vcpus 2\n run 0 on 3-\n", "t.scn:4:", "bad host CPU list");
        test_bad("node 2 mem 1G cpus 9-8\n", "t.scn:3:", "bad cpu list");
        test_bad("vm a mem 1G vcpus 2\n run 0 on 99\n", "t.scn:4:", "belong to no node");
        test_bad("vm a mem 1G vcpus 2\n at soon run 0 on 1\n", "t.scn:4:", "at TIME");
        test_bad("vm a mem 1G vcpus 2\n workload hot 2G\n", "t.scn:4:", "exceeds");
        test_bad("vm a mem 1G vcpus 2\n workload skew 1.5\n", "t.scn:4:", "bad skew");
        test_bad("vm a mem 1G vcpus 2\n workload hot 64M@0,64M@32M\n", "t.scn:4:", "must not overlap");
        test_bad("vm a mem 1G vcpus 2\n workload hot 64M@0,64M@1G\n", "t.scn:4:", "exceeds");
        test_bad("vm a mem 1G vcpus 2\n workload hot 64M@0,64M\n", "t.scn:4:", "SIZE@OFFSET");
        test_bad("vm a mem 1G vcpus 2\n workload hot 64M@0,64M@128M offset 1M\n",
                 "t.scn:4:", "single hot range");
        test_bad("vm a mem 1G vcpus 2\n workload hot 64K sparse 17\n", "t.scn:4:", "more 4 KiB pages");
        test_bad("vm a mem 1G vcpus 2\n workload hot 64M sparse 16 private 0.5\n",
                 "t.scn:4:", "private slices");
        test_bad("vm a mem 1G vcpus 2\n workload speed 3\n", "t.scn:4:", "unknown key");
        test_bad("vm a mem 1G vcpus 2\n at 5s workload hot 1M\n at 2s workload hot 2M\n",
                 "t.scn:5:", "time order");
        test_bad("vm a mem 1G vcpus 2\n l2 b mem 1G at-gpa 512M vcpus 0\n", "t.scn:4:", "inside the VM");
        test_bad("vm a mem 1G vcpus 2\n l2 b mem 1M vcpus 0\n run 0 on 0\n", "t.scn:5:", "'end'");
        test_bad("vm a mem 1G vcpus 2\n end\n", "t.scn:4:", "none is open");
        test_bad("vm a mem 1G vcpus 2\n cell 1 mem 1G vcpus 0\n", "t.scn:4:", "in order");
        test_bad("workload hot 1M\n", "t.scn:3:", "outside a vm");
        test_bad("vm a mem 3G vcpus 2\n", "t.scn:3:", "does not fit in the host's 2.0G");
        test_bad("vm a mem 1G vcpus 2\nvm b mem 1G vcpus 1\nvm c mem 4K vcpus 1\n",
                 "t.scn:5:", "vm c: mem 4.0K does not fit in the host's 2.0G (0B left");
        /* Sizes and addresses near 2^64: the checks must not wrap. */
        test_bad("vm a mem 1G vcpus 2\n workload hot 8E offset 8E\n", "t.scn:4:", "exceeds");
        test_bad("vm a mem 1G vcpus 2\n workload hot 1M offset 18446744073709551615\n",
                 "t.scn:4:", "exceeds");
        test_bad("vm a mem 1G vcpus 2\n l2 b mem 1G at-gpa 18446744072635809792 vcpus 0\n",
                 "t.scn:4:", "inside the VM");
        test_bad("vm a mem 1G vcpus 2\n l2 b mem 16E at-gpa 0 vcpus 0\n", "t.scn:4:", "bad mem");
        /* Times the sim's 32-bit tick clock cannot reach. */
        test_bad("vm a mem 1G vcpus 2\n at 20h run 0 on 1\n",
                 "t.scn:4:", "beyond the end of the simulator's clock");
        test_bad("vm a mem 1G vcpus 2\n at infinity workload rate 1M\n", "t.scn:4:", "beyond the end");
        test_bad("vm a mem 1G vcpus 2 tlb-lifetime infinity\n", "t.scn:3:", "bad tlb-lifetime");
        test_bad("host tlb-lifetime 1000h\n", "t.scn:3:", "not a duration");
        test_bad("host nested maybe\n", "t.scn:3:", "boolean");
        test_bad("seed -1\n", "t.scn:3:", "seed NUMBER");

        {
                char msg[1024];
                nv_sim *s = NULL;
                is_int(load_capture("vm a mem 1G vcpus 1\n", msg, sizeof(msg), &s), -EINVAL,
                       "a VM before any node fails");
                ok(strstr(msg, "t.scn:1:") != NULL, "at line 1");
                is_int(load_capture("", msg, sizeof(msg), &s), -EINVAL, "an empty scenario fails");
                is_int(load_capture(header, msg, sizeof(msg), &s), 0, "nodes alone are a valid scenario");
                nv_sim_free(s);
                is_int(nv_sim_load_file("/nonexistent/x.scn", &s), -ENOENT, "a missing file: -ENOENT");
        }
        test_huge_vm();
        test_files();
        test_bench_scenarios();
        return tap_done();
}
