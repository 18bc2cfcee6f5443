/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The DAMON backend against a fixture of /sys/kernel/mm/damon/admin made in a temporary directory
 * (the files a kernel would show; writes land in them), and read-only against this machine's own
 * DAMON: it must refuse cleanly and change nothing. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "sampler/backend-damon.h"
#include "tap.h"

static char root[64], admin[PATH_MAX], state_dir[PATH_MAX];

static void put(const char *value, const char *fmt, ...) _printf_(2, 3);
static void put(const char *value, const char *fmt, ...) {
        char rel[PATH_MAX], path[PATH_MAX * 2];
        va_list ap;
        FILE *f;

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s/%s", admin, rel);
        for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = 0;
                (void)mkdir(path, 0755);
                *p = '/';
        }
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs(value, f);
        fclose(f);
}

static char *get(const char *fmt, ...) _printf_(1, 2);
static char *get(const char *fmt, ...) {
        static char buf[8][256];
        static unsigned next;
        char rel[PATH_MAX], path[PATH_MAX * 2], *b = buf[next++ % 8];
        va_list ap;
        FILE *f;

        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s/%s", admin, rel);
        b[0] = 0;
        f = fopen(path, "re");
        if (!f)
                return strcpy(b, "(missing)");
        if (!fgets(b, 256, f))
                b[0] = 0;
        fclose(f);
        b[strcspn(b, "\n")] = 0;
        return b;
}

/* A kdamond directory as DAMON sysfs shows it once nr_kdamonds and nr_contexts are set. */
static void make_kdamond(unsigned i, const char *avail) {
        static const char *const zero[] = {
                "contexts/0/operations",
                "contexts/0/monitoring_attrs/intervals/sample_us",
                "contexts/0/monitoring_attrs/intervals/aggr_us",
                "contexts/0/monitoring_attrs/nr_regions/min",
                "contexts/0/monitoring_attrs/nr_regions/max",
                "contexts/0/targets/nr_targets",
                "contexts/0/targets/0/pid_target",
                "contexts/0/targets/0/regions/nr_regions",
                "contexts/0/schemes/nr_schemes",
                "contexts/0/schemes/0/action",
                "contexts/0/schemes/0/access_pattern/sz/min",
                "contexts/0/schemes/0/access_pattern/sz/max",
                "contexts/0/schemes/0/access_pattern/nr_accesses/min",
                "contexts/0/schemes/0/access_pattern/nr_accesses/max",
                "contexts/0/schemes/0/access_pattern/age/min",
                "contexts/0/schemes/0/access_pattern/age/max",
        };

        put("off\n", "kdamonds/%u/state", i);
        put("0\n", "kdamonds/%u/contexts/nr_contexts", i);
        put(avail, "kdamonds/%u/contexts/0/avail_operations", i);
        for (size_t k = 0; k < ARRAY_SIZE(zero); k++)
                put("0\n", "kdamonds/%u/%s", i, zero[k]);
        for (unsigned r = 0; r < 4; r++) {
                put("0\n", "kdamonds/%u/contexts/0/targets/0/regions/%u/start", i, r);
                put("0\n", "kdamonds/%u/contexts/0/targets/0/regions/%u/end", i, r);
        }
        put("0\n", "kdamonds/%u/contexts/0/schemes/0/tried_regions/total_bytes", i);
}

static void tried(unsigned i, unsigned r, uint64_t start, uint64_t end, unsigned acc, unsigned age) {
        char v[32];

        snprintf(v, sizeof(v), "%" PRIu64 "\n", start);
        put(v, "kdamonds/%u/contexts/0/schemes/0/tried_regions/%u/start", i, r);
        snprintf(v, sizeof(v), "%" PRIu64 "\n", end);
        put(v, "kdamonds/%u/contexts/0/schemes/0/tried_regions/%u/end", i, r);
        snprintf(v, sizeof(v), "%u\n", acc);
        put(v, "kdamonds/%u/contexts/0/schemes/0/tried_regions/%u/nr_accesses", i, r);
        snprintf(v, sizeof(v), "%u\n", age);
        put(v, "kdamonds/%u/contexts/0/schemes/0/tried_regions/%u/age", i, r);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void fresh_fixture(const char *avail) {
        (void)nftw(admin, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        (void)nftw(state_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        put("0\n", "kdamonds/nr_kdamonds");
        make_kdamond(0, avail);
        make_kdamond(1, avail);
}

static char *state_file(void) {
        static char buf[512];
        char path[PATH_MAX * 2];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/damon-kdamonds", state_dir);
        f = fopen(path, "re");
        if (!f)
                return strcpy(buf, "(none)");
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        fclose(f);
        return buf;
}

static nv_damon_params params(void) {
        nv_damon_params p;

        nv_damon_params_defaults(&p);
        p.admin_dir = admin;
        p.state_dir = state_dir;
        return p;
}

static void test_refusals(void) {
        nv_damon_params p = params();
        const nv_access_ops *ops = NULL;
        void *ctx = NULL;

        p.admin_dir = "/nonexistent/damon/admin";
        is_int(nv_damon_backend_new(&p, &ops, &ctx), -ENOENT, "no DAMON sysfs: -ENOENT");

        p = params();
        p.min_regions = 2;
        is_int(nv_damon_backend_new(&p, &ops, &ctx), -EINVAL, "DamonMinRegions below DAMON's 3: -EINVAL");
        p = params();
        p.aggr_interval = p.sample_interval - 1;
        is_int(nv_damon_backend_new(&p, &ops, &ctx), -EINVAL, "aggregation shorter than sampling: -EINVAL");

        fresh_fixture("paddr\n");
        p = params();
        is_int(nv_damon_backend_new(&p, &ops, &ctx), -EOPNOTSUPP, "a kernel without vaddr: -EOPNOTSUPP");
        is_str(get("kdamonds/nr_kdamonds"), "0", "the probe's kdamond is removed again");
        is_str(state_file(), "(none)", "and no record is left");

        fresh_fixture("vaddr\nfvaddr\npaddr\n");
        put("1\n", "kdamonds/nr_kdamonds");
        put("on\n", "kdamonds/0/state");
        put("paddr\n", "kdamonds/0/contexts/0/operations");
        is_int(nv_damon_backend_new(&p, &ops, &ctx), -EBUSY, "a kdamond numavd did not create: -EBUSY");
        is_str(get("kdamonds/nr_kdamonds"), "1", "the foreign kdamond count is untouched");
        is_str(get("kdamonds/0/state"), "on", "the foreign kdamond keeps running");
        is_str(get("kdamonds/0/contexts/0/operations"), "paddr", "its context is untouched");
}

static void test_lifecycle(void) {
        nv_damon_params p = params();
        const nv_access_ops *ops = NULL;
        void *ctx = NULL;
        nv_ram_range ra[2] = {
                { .hva = 0x7f0000000000, .size = 64 * MIB, .backing = NV_BACKING_ANON, .cell = -1 },
                { .hva = 0x7e0000000000, .size = 32 * MIB, .backing = NV_BACKING_ANON, .cell = -1 },
        };
        nv_ram_range rb[1] = {
                { .hva = 0x7d0000000000, .size = 128 * MIB, .backing = NV_BACKING_THP, .cell = -1 },
        };
        nv_vm_info a = { .id = 1, .name = (char *)"a", .pid = 4242, .ranges = ra, .nr_ranges = 2 };
        nv_vm_info b = { .id = 2, .name = (char *)"b", .pid = 4300, .ranges = rb, .nr_ranges = 1 };
        nv_access_region *regs = NULL;
        size_t n = 0;

        fresh_fixture("vaddr\nfvaddr\npaddr\n");
        is_int(nv_damon_backend_new(&p, &ops, &ctx), 0, "DAMON with vaddr and no kdamond: usable");
        if (!ops)
                return;
        ok(ops->regions && !ops->harvest, "the backend aggregates on its own (regions, no harvest)");
        is_str(get("kdamonds/nr_kdamonds"), "0", "nothing runs before a VM is attached");

        is_int(ops->attach(ctx, &a), 0, "attach VM a");
        is_int(ops->attach(ctx, &b), 0, "attach VM b");
        is_int(ops->attach(ctx, &a), -EEXIST, "attaching VM a twice is refused");
        tried(0, 0, 0x7e0000000000, 0x7e0000200000, 20, 3);
        tried(0, 1, 0x7e0000200000, 0x7e0002000000, 0, 5);
        tried(0, 2, 0x7f0000000000, 0x7f0004000000, 5, 1);
        is_int(ops->regions(ctx, &a, &regs, &n), 0, "VM a's regions are read");
        is_str(get("kdamonds/nr_kdamonds"), "2", "one kdamond per VM");
        is_str(get("kdamonds/0/contexts/0/operations"), "vaddr", "vaddr operations");
        is_str(get("kdamonds/0/contexts/0/targets/0/pid_target"), "4242", "target: VM a's VMM pid");
        is_str(get("kdamonds/1/contexts/0/targets/0/pid_target"), "4300", "target: VM b's VMM pid");
        is_str(get("kdamonds/0/contexts/0/targets/0/regions/nr_regions"), "2",
               "regions: VM a's two RAM ranges");
        is_str(get("kdamonds/0/contexts/0/targets/0/regions/0/start"), "138538465099776",
               "the lower range first");
        is_str(get("kdamonds/0/contexts/0/targets/0/regions/1/end"), "139638043836416",
               "the upper range's end");
        is_str(get("kdamonds/0/contexts/0/monitoring_attrs/intervals/sample_us"), "5000",
               "sampling interval from the parameters");
        is_str(get("kdamonds/0/contexts/0/monitoring_attrs/intervals/aggr_us"), "100000",
               "aggregation interval from the parameters");
        is_str(get("kdamonds/0/contexts/0/monitoring_attrs/nr_regions/min"), "10", "minimum regions");
        is_str(get("kdamonds/0/contexts/0/monitoring_attrs/nr_regions/max"), "1000", "maximum regions");
        is_str(get("kdamonds/0/contexts/0/schemes/0/action"), "stat", "a stat scheme");
        is_str(get("kdamonds/0/contexts/0/schemes/0/access_pattern/nr_accesses/max"), "4294967295",
               "its nr_accesses maximum raised");
        is_str(get("kdamonds/0/contexts/0/schemes/0/access_pattern/sz/max"), "18446744073709551615",
               "its size maximum raised");
        is_str(get("kdamonds/0/contexts/0/schemes/0/access_pattern/age/max"), "4294967295",
               "its age maximum raised");
        is_str(get("kdamonds/1/state"), "on", "VM b's kdamond is started");
        is_str(get("kdamonds/0/state"), "update_schemes_tried_regions", "VM a's tried regions are updated");
        is_str(state_file(), "kdamonds 2\nkdamond 0 4242\nkdamond 1 4300\n", "the kdamonds are recorded");
        is_int(n, 3, "three tried regions");
        if (n == 3) {
                ok(regs[0].start == 0x7e0000000000 && regs[0].end == 0x7e0000200000, "in address order");
                is_near(regs[0].heat, 1.0, 1e-6, "20 of 20 samples accessed: heat 1");
                is_near(regs[1].heat, 0.0, 1e-6, "none accessed: heat 0");
                is_near(regs[2].heat, 0.25, 1e-6, "5 of 20: heat 0.25");
                is_int(regs[1].age, 5, "the age is passed on");
        }
        free(regs);
        regs = NULL;
        is_int(ops->regions(ctx, &b, &regs, &n), -EAGAIN, "VM b: nothing aggregated yet, -EAGAIN");

        put("on\n", "kdamonds/0/state");
        put("on\n", "kdamonds/1/state");
        ops->detach(ctx, a.id);
        is_str(get("kdamonds/nr_kdamonds"), "2", "detaching a VM rebuilds lazily");
        put("3\n", "kdamonds/nr_kdamonds");
        is_int(ops->regions(ctx, &b, &regs, &n), -EBUSY, "someone else changed nr_kdamonds: -EBUSY");
        is_str(get("kdamonds/0/state"), "on", "and numavd wrote nothing");
        put("2\n", "kdamonds/nr_kdamonds");
        (void)ops->regions(ctx, &b, &regs, &n);
        free(regs);
        regs = NULL;
        is_str(get("kdamonds/1/state"), "off", "the departed VM's kdamond set is stopped");
        is_str(get("kdamonds/nr_kdamonds"), "1", "one kdamond is left");
        is_str(get("kdamonds/0/contexts/0/targets/0/pid_target"), "4300", "for VM b");
        is_str(state_file(), "kdamonds 1\nkdamond 0 4300\n", "the record follows");
        ok(nv_damon_backend_kdamonds(ctx) == 1, "the backend counts one kdamond");

        put("on\n", "kdamonds/0/state");
        ops->destroy(ctx);
        is_str(get("kdamonds/0/state"), "off", "at exit, the kdamond is stopped");
        is_str(get("kdamonds/nr_kdamonds"), "0", "and removed");
        is_str(state_file(), "(none)", "and the record removed");
}

static void test_stale(void) {
        nv_damon_params p = params();
        const nv_access_ops *ops = NULL;
        void *ctx = NULL;

        fresh_fixture("vaddr\npaddr\n");
        put("1\n", "kdamonds/nr_kdamonds");
        put("on\n", "kdamonds/0/state");
        put("4300\n", "kdamonds/0/contexts/0/targets/0/pid_target");
        mkdir(state_dir, 0755);
        {
                char path[PATH_MAX * 2];
                snprintf(path, sizeof(path), "%s/damon-kdamonds", state_dir);
                FILE *f = fopen(path, "we");
                fputs("kdamonds 1\nkdamond 0 4300\n", f);
                fclose(f);
        }
        is_int(nv_damon_backend_new(&p, &ops, &ctx), 0, "a crash's recorded kdamond does not block DAMON");
        is_str(get("kdamonds/0/state"), "off", "the stale kdamond is stopped");
        is_str(get("kdamonds/nr_kdamonds"), "0", "and removed");
        is_str(state_file(), "(none)", "and its record");
        if (ops)
                ops->destroy(ctx);

        fresh_fixture("vaddr\npaddr\n");
        put("1\n", "kdamonds/nr_kdamonds");
        put("on\n", "kdamonds/0/state");
        put("4300\n", "kdamonds/0/contexts/0/targets/0/pid_target");
        {
                char path[PATH_MAX * 2];
                mkdir(state_dir, 0755);
                snprintf(path, sizeof(path), "%s/damon-kdamonds", state_dir);
                FILE *f = fopen(path, "we");
                fputs("kdamonds 1\nkdamond 0 1111\n", f);
                fclose(f);
        }
        ops = NULL;
        is_int(nv_damon_backend_new(&p, &ops, &ctx), -EBUSY,
               "a record that does not match what runs: DAMON is someone else's");
        is_str(get("kdamonds/0/state"), "on", "that kdamond keeps running");
        is_str(get("kdamonds/nr_kdamonds"), "1", "and stays");
}

/* This machine's DAMON, read-only unless it is free and offers vaddr. */
static void test_real(void) {
        const char *real = "/sys/kernel/mm/damon/admin/kdamonds";
        nv_damon_params p;
        const nv_access_ops *ops = NULL;
        void *ctx = NULL;
        char before[4096] = "", after[4096] = "";
        int r;

        if (access(real, F_OK) < 0) {
                printf("ok %u - # SKIP this kernel has no DAMON sysfs\n", ++tap_count);
                return;
        }
        if (geteuid() != 0) {
                printf("ok %u - # SKIP needs root to read DAMON sysfs\n", ++tap_count);
                return;
        }
        /* A snapshot of every kdamond's state. */
        for (int pass = 0; pass < 2; pass++) {
                char *buf = pass == 0 ? before : after, path[256], line[64];
                FILE *f;

                if (pass == 1) {
                        nv_damon_params_defaults(&p);
                        p.state_dir = state_dir;
                        r = nv_damon_backend_new(&p, &ops, &ctx);
                        ok(r == 0 || r == -EBUSY || r == -EOPNOTSUPP,
                           "this kernel's DAMON is usable or refused cleanly (%s)", strerror(-r));
                        if (r == 0)
                                ops->destroy(ctx);
                }
                snprintf(path, sizeof(path), "%s/nr_kdamonds", real);
                f = fopen(path, "re");
                if (f && fgets(line, sizeof(line), f))
                        strcat(buf, line);
                if (f)
                        fclose(f);
                for (int i = 0; i < 16; i++) {
                        snprintf(path, sizeof(path), "%s/%d/state", real, i);
                        f = fopen(path, "re");
                        if (!f)
                                break;
                        if (fgets(line, sizeof(line), f))
                                strcat(buf, line);
                        fclose(f);
                }
        }
        is_str(after, before, "this machine's kdamonds are as they were");
        is_str(state_file(), "(none)", "no record is left");
}

int main(void) {
        log_set_max_level(LOG_DEBUG);
        snprintf(root, sizeof(root), "/tmp/test-damon.XXXXXX");
        if (!mkdtemp(root))
                return tap_skip_all("cannot create a temporary directory");
        snprintf(admin, sizeof(admin), "%s/admin", root);
        snprintf(state_dir, sizeof(state_dir), "%s/run", root);

        test_refusals();
        test_lifecycle();
        test_stale();
        test_real();

        (void)nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return tap_done();
}
