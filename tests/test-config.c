/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for src/daemon/config*.c: defaults, every key, the INI dialect, drop-in precedence
 * and masking in a temporary root, [VM] overrides, failed loads, and the corpora of bad and good
 * files in tests/config-bad/ and tests/config-good/ (the first line of each names the line of the
 * expected message: "# error-line: N" or "# warn-line: N"), the hostile corpus in
 * tests/config-hostile/ (each file states its outcome), and files that are not regular files. */

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/config.h"
#include "policy/placement.h"
#include "tap.h"

/* ---- helpers ---- */

static char *path_join(const char *a, const char *b) {
        char *p;
        if (asprintf(&p, "%s/%s", a, b) < 0)
                abort();
        return p;
}

/* Create root/rel with its parent directories and write text into it. */
static void write_file(const char *root, const char *rel, const char *text) {
        char *p = path_join(root, rel);
        FILE *f;

        for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                (void)mkdir(p, 0755);
                *s = '/';
        }
        f = fopen(p, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                abort();
        free(p);
}

static void symlink_file(const char *target, const char *root, const char *rel) {
        char *p = path_join(root, rel);
        if (symlink(target, p) < 0)
                abort();
        free(p);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void rm_rf(const char *path) {
        (void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *read_all(int fd) {
        char *buf = NULL;
        size_t len = 0;
        ssize_t n;

        for (;;) {
                buf = realloc(buf, len + 4096 + 1);
                if (!buf)
                        abort();
                n = pread(fd, buf + len, 4096, (off_t)len);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        return buf;
}

/* Capture what is logged to stderr between capture_begin() and capture_end(). */
typedef struct capture {
        int saved_fd, file_fd;
} capture;

static capture capture_begin(void) {
        char tmpl[] = "/tmp/test-config-log.XXXXXX";
        capture c;

        fflush(stderr);
        c.file_fd = mkostemp(tmpl, O_CLOEXEC);
        c.saved_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (c.file_fd < 0 || c.saved_fd < 0 || dup2(c.file_fd, STDERR_FILENO) < 0)
                abort();
        unlink(tmpl);
        return c;
}

static char *capture_end(capture *c) {
        char *text;

        fflush(stderr);
        if (dup2(c->saved_fd, STDERR_FILENO) < 0)
                abort();
        close(c->saved_fd);
        text = read_all(c->file_fd);
        close(c->file_fd);
        return text;
}

/* Load text as a single main file in dir; returns the result and the log. */
static int load_text(const char *dir, const char *text, nv_config **ret, char **ret_log) {
        char *path = path_join(dir, "single.conf");
        capture cap;
        int r;

        write_file(dir, "single.conf", text);
        cap = capture_begin();
        r = nv_config_load(NULL, path, ret);
        *ret_log = capture_end(&cap);
        unlink(path);
        free(path);
        return r;
}

/* ---- tests ---- */

static void check_defaults(const nv_config *c, const char *what) {
        is_u64(c->epoch, USEC_PER_SEC, "%s: Epoch=1s", what);
        is_int(c->log_level, LOG_INFO, "%s: LogLevel=info", what);
        is_int(c->backend, NV_BACKEND_AUTO, "%s: Backend=auto", what);
        is_u64(c->sample_interval, 50 * USEC_PER_MSEC, "%s: SampleInterval=50ms", what);
        is_int(c->min_regions, 32, "%s: MinRegions=32", what);
        is_int(c->max_regions, 1000, "%s: MaxRegions=1000", what);
        is_near(c->heat_alpha, 0.5, 1e-12, "%s: HeatAlpha=0.5", what);
        is_near(c->merge_delta, 0.10, 1e-12, "%s: MergeDelta=10%%", what);
        is_int(c->flush, NV_AUTO, "%s: Flush=auto", what);
        ok(c->placement, "%s: Placement=yes", what);
        is_u64(c->max_move_rate, 256 * MIB, "%s: MaxMoveRate=256M", what);
        ok(c->node_floor.is_percent, "%s: NodeFreeFloor is a percentage", what);
        is_near(c->node_floor.fraction, 0.02, 1e-12, "%s: NodeFreeFloor=2%%", what);
        is_near(c->hot_threshold, 0.40, 1e-12, "%s: HotThreshold=40%%", what);
        is_near(c->dominance, 0.60, 1e-12, "%s: Dominance=60%%", what);
        is_u64(c->min_residency, 30 * USEC_PER_SEC, "%s: MinResidency=30s", what);
        is_int(c->retarget_epochs, 3, "%s: RetargetEpochs=3", what);
}

static void test_defaults(const char *tmp) {
        _cleanup_(nv_config_freep) nv_config *c = NULL, *loaded = NULL;
        char *root = path_join(tmp, "empty-root");

        is_int(nv_config_new_default(&c), 0, "nv_config_new_default succeeds");
        check_defaults(c, "new_default");
        is_int(c->nr_vms, 0, "no [VM] sections by default");

        (void)mkdir(root, 0755);
        is_int(nv_config_load(root, NULL, &loaded), 0, "loading from a root without any file succeeds");
        if (loaded)
                check_defaults(loaded, "empty root");

        is_str(nv_backend_choice_to_string(NV_BACKEND_DAMON), "damon", "backend names: damon");
        ok(nv_backend_choice_to_string(_NV_BACKEND_MAX) == NULL, "backend names: out of range is NULL");
        free(root);
}

static void test_every_key(void) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        static const char text[] = "[Daemon]\n"
                                   "Epoch=2s\n"
                                   "LogLevel=debug\n"
                                   "[Sampler]\n"
                                   "Backend=damon\n"
                                   "SampleInterval=100ms\n"
                                   "MinRegions=20\n"
                                   "MaxRegions=2000\n"
                                   "HeatAlpha=0.25\n"
                                   "MergeDelta=5%\n"
                                   "Flush=yes\n"
                                   "[Placement]\n"
                                   "Placement=no\n"
                                   "MaxMoveRate=1.5G\n"
                                   "NodeFreeFloor=512M\n"
                                   "HotThreshold=40%\n"
                                   "Dominance=75%\n"
                                   "MinResidency=1min 30s\n"
                                   "RetargetEpochs=7\n"
                                   "[Balloon]\n"
                                   "[KSM]\n";

        nv_config_new_default(&c);
        is_int(nv_config_parse_text(c, text, "every-key.conf"), 0, "a file setting every key parses");
        is_u64(c->epoch, 2 * USEC_PER_SEC, "Epoch=2s");
        is_int(c->log_level, LOG_DEBUG, "LogLevel=debug");
        is_int(c->backend, NV_BACKEND_DAMON, "Backend=damon");
        is_u64(c->sample_interval, 100 * USEC_PER_MSEC, "SampleInterval=100ms");
        is_int(c->min_regions, 20, "MinRegions=20");
        is_int(c->max_regions, 2000, "MaxRegions=2000");
        is_near(c->heat_alpha, 0.25, 1e-12, "HeatAlpha=0.25");
        is_near(c->merge_delta, 0.05, 1e-12, "MergeDelta=5%%");
        is_int(c->flush, NV_YES, "Flush=yes");
        ok(!c->placement, "Placement=no");
        is_u64(c->max_move_rate, 3 * GIB / 2, "MaxMoveRate=1.5G");
        ok(!c->node_floor.is_percent && c->node_floor.bytes == 512 * MIB, "NodeFreeFloor=512M is a size");
        is_near(c->hot_threshold, 0.40, 1e-12, "HotThreshold=40%%");
        is_near(c->dominance, 0.75, 1e-12, "Dominance=75%%");
        is_u64(c->min_residency, 90 * USEC_PER_SEC, "MinResidency=1min 30s");
        is_int(c->retarget_epochs, 7, "RetargetEpochs=7");

        is_int(nv_config_parse_text(c, "[Sampler]\nFlush=no\nBackend=none\n", "b.conf"), 0,
               "second text parses");
        is_int(c->flush, NV_NO, "Flush=no");
        is_int(c->backend, NV_BACKEND_NONE, "Backend=none");
        is_int(nv_config_parse_text(c, "[Sampler]\nFlush=auto\nBackend=kmod\n[Daemon]\nLogLevel=4\n",
                                    "c.conf"),
               0, "third text parses");
        is_int(c->flush, NV_AUTO, "Flush=auto");
        is_int(c->backend, NV_BACKEND_KMOD, "Backend=kmod");
        is_int(c->log_level, LOG_WARNING, "LogLevel=4 is warning");

        /* An owned string: set twice, then reset ("Key="), frees what it replaces (the fuzzer
         * found the leak; valgrind runs of this test would show it again). */
        is_int(nv_config_parse_text(c, "[Daemon]\nLibvirtURI=test:///a\nLibvirtURI=test:///b\n", "d.conf"),
               0, "LibvirtURI= set twice parses");
        is_str(c->libvirt_uri, "test:///b", "LibvirtURI=: the last one wins");
        is_int(nv_config_parse_text(c, "[Daemon]\nLibvirtURI=\n", "e.conf"), 0, "LibvirtURI= empty parses");
        is_str(c->libvirt_uri, "qemu:///system", "LibvirtURI=: empty puts the default back");
}

static void test_dialect(void) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        static const char text[] = "# a comment\n"
                                   "; another comment\n"
                                   "\n"
                                   "  [Daemon]  \n"
                                   "Epoch = 3s\n"
                                   "Epoch\t=\t4s   \n"
                                   "LogLevel=err\r\n"
                                   "[Sampler]\n"
                                   "MinRegions=\\\n"
                                   "# a comment inside a continuation, ending in a backslash \\\n"
                                   "  42\n"
                                   "SampleInterval=1min \\\n"
                                   "  30s\n"
                                   "MaxRegions=500\n"
                                   "MaxRegions=\n"
                                   "[Placement]\n"
                                   "Dominance=90%\n"
                                   "Dominance=80%\n";

        nv_config_new_default(&c);
        is_int(nv_config_parse_text(c, text, "dialect.conf"), 0, "comments, spaces and continuations parse");
        is_u64(c->epoch, 4 * USEC_PER_SEC, "whitespace around '=' is trimmed and the last Epoch= wins");
        is_int(c->log_level, LOG_ERR, "a CRLF line ending is trimmed");
        is_int(c->min_regions, 42, "a continuation skips a comment line and joins the value");
        is_u64(c->sample_interval, 90 * USEC_PER_SEC, "a continuation joins with a space: \"1min  30s\"");
        is_int(c->max_regions, 1000, "an empty value resets MaxRegions= to its default");
        is_near(c->dominance, 0.80, 1e-12, "repeated keys: the last wins");

        is_int(nv_config_parse_text(c, "\xEF\xBB\xBF[Daemon]\nEpoch=5s\n", "bom.conf"), 0,
               "a UTF-8 byte order mark at the start is skipped");
        is_u64(c->epoch, 5 * USEC_PER_SEC, "the file after the byte order mark applies");
        is_int(nv_config_parse_text(c, "[Daemon]\nEpoch=7s \\", "eof.conf"), 0,
               "a continuation at the end of the file parses");
        is_u64(c->epoch, 7 * USEC_PER_SEC, "a continuation at the end of the file keeps its value");
}

static void test_dropins(const char *tmp) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        char *root = path_join(tmp, "root");
        capture cap;
        char *log;
        int r;

        write_file(root, "etc/numavd/numavd.conf",
                   "[Daemon]\nEpoch=2s\n[Sampler]\nMinRegions=11\nMaxRegions=111\n[Placement]"
                   "\nRetargetEpochs=9\n");
        /* 10-a in /etc hides 10-a in /run and /usr/lib. */
        write_file(root, "etc/numavd/numavd.conf.d/10-a.conf", "[Sampler]\nMinRegions=12\n");
        write_file(root, "run/numavd/numavd.conf.d/10-a.conf", "[Sampler]\nMinRegions=99\n");
        write_file(root, "usr/lib/numavd/numavd.conf.d/10-a.conf", "[Sampler]\nMinRegions=98\n");
        /* Applied by name, whatever the directory: 05 < 10 < 20 < 30. */
        write_file(root, "usr/lib/numavd/numavd.conf.d/05-early.conf",
                   "[Sampler]\nMinRegions=5\nMaxRegions=555\n");
        write_file(root, "run/numavd/numavd.conf.d/20-b.conf", "[Sampler]\nMaxRegions=222\n");
        write_file(root, "usr/local/lib/numavd/numavd.conf.d/30-c.conf", "[Sampler]\nMaxRegions=333\n");
        /* 40-masked is masked in /etc by a symlink to /dev/null; its /usr/lib copy is bad. */
        symlink_file("/dev/null", root, "etc/numavd/numavd.conf.d/40-masked.conf");
        write_file(root, "usr/lib/numavd/numavd.conf.d/40-masked.conf", "[Daemon]\nEpoch=banana\n");
        /* 50-run in /run hides /usr/local/lib, which hides /usr/lib. */
        write_file(root, "run/numavd/numavd.conf.d/50-run.conf", "[Placement]\nRetargetEpochs=50\n");
        write_file(root, "usr/local/lib/numavd/numavd.conf.d/50-run.conf",
                   "[Placement]\nRetargetEpochs=51\n");
        write_file(root, "usr/lib/numavd/numavd.conf.d/50-run.conf", "[Placement]\nRetargetEpochs=52\n");
        /* Only *.conf files count. */
        write_file(root, "etc/numavd/numavd.conf.d/99-ignored.txt", "[Daemon]\nEpoch=banana\n");
        write_file(root, "etc/numavd/numavd.conf.d/.hidden.conf", "[Daemon]\nEpoch=banana\n");

        cap = capture_begin();
        r = nv_config_load(root, NULL, &c);
        log = capture_end(&cap);
        is_int(r, 0, "a root with a main file and drop-ins loads");
        if (r < 0)
                printf("# log: %s\n", log);
        free(log);
        if (c) {
                is_u64(c->epoch, 2 * USEC_PER_SEC, "the main file applies");
                is_int(c->min_regions, 12, "/etc/…/10-a.conf hides /run and /usr/lib, and 10 follows 05");
                is_int(c->max_regions, 333, "drop-ins apply in name order across directories (30-c last)");
                is_int(c->retarget_epochs, 50, "/run hides /usr/local/lib, which hides /usr/lib");
        }

        /* Masking the main file's setting: remove the /run drop-in: now /usr/local/lib wins. */
        char *p = path_join(root, "run/numavd/numavd.conf.d/50-run.conf");
        unlink(p);
        free(p);
        c = nv_config_free(c);
        is_int(nv_config_load(root, NULL, &c), 0, "the root loads again");
        if (c)
                is_int(c->retarget_epochs, 51, "without the /run copy, /usr/local/lib wins over /usr/lib");

        /* A drop-in that fails fails the load, and names itself. */
        write_file(root, "usr/lib/numavd/numavd.conf.d/60-bad.conf", "[Daemon]\n\nEpoch=banana\n");
        nv_config *sentinel = (nv_config *)0x1, *got = sentinel;
        cap = capture_begin();
        r = nv_config_load(root, NULL, &got);
        log = capture_end(&cap);
        is_int(r, -EINVAL, "a bad drop-in fails the load with -EINVAL");
        ok(got == sentinel, "a failed load leaves the caller's config untouched");
        ok(strstr(log, "60-bad.conf:3:") != NULL, "the error names the drop-in and its line");
        ok(strstr(log, "Epoch") && strstr(log, "banana"), "the error names the key and the value");
        free(log);

        rm_rf(root);
        free(root);
}

static void test_main_file(const char *tmp) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        char *dir = path_join(tmp, "explicit");
        char *main_file = path_join(dir, "my.conf");
        char *missing = path_join(dir, "missing.conf");
        nv_config *got = (nv_config *)0x1;
        capture cap;
        char *log;
        int r;

        /* Files under a root must not matter with an explicit file. */
        write_file(dir, "my.conf", "[Placement]\nHotThreshold=10%\nMinResidency=5s\n");
        write_file(dir, "my.conf.d/a.conf", "[Placement]\nHotThreshold=20%\n");
        write_file(dir, "my.conf.d/b.conf", "[Placement]\nHotThreshold=25%\n");
        is_int(nv_config_load(NULL, main_file, &c), 0, "an explicit main file loads");
        if (c) {
                is_near(c->hot_threshold, 0.25, 1e-12, "its drop-ins in FILE.d/ apply in name order");
                is_u64(c->min_residency, 5 * USEC_PER_SEC, "the explicit file applies");
        }

        cap = capture_begin();
        r = nv_config_load(NULL, missing, &got);
        log = capture_end(&cap);
        is_int(r, -ENOENT, "a missing explicit file is -ENOENT");
        ok(got == (nv_config *)0x1, "and leaves the caller's config untouched");
        ok(strstr(log, "missing.conf") && strstr(log, "not found"), "and says which file was not found");
        free(log);

        rm_rf(dir);
        free(dir);
        free(main_file);
        free(missing);
}

static void test_vm_overrides(void) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        static const char text[] = "[VM \"web-*\"]\n"
                                   "Weight=2\n"
                                   "MaxMoveRate=64M\n"
                                   "[VM \"web-front-?\"]\n"
                                   "Placement=no\n"
                                   "Weight=3.5\n"
                                   "[VM \"6F0E1B2C-1234-4a5b-8c9d-0123456789ab\"]\n"
                                   "Weight=7\n"
                                   "[VM \"db\"]\n"
                                   "Placement=yes\n"
                                   "MaxMoveRate=1G\n"
                                   "MaxMoveRate=\n";
        nv_vm_override o;

        nv_config_new_default(&c);
        is_int(nv_config_parse_text(c, text, "vms.conf"), 0, "[VM] sections parse");
        is_int(c->nr_vms, 4, "four [VM] sections");
        if (c->nr_vms == 4) {
                is_str(c->vms[0].match, "web-*", "the first glob is unquoted");
                is_str(c->vms[1].file, "vms.conf", "a section remembers its file");
                is_int(c->vms[1].line, 4, "a section remembers its line");
                ok(!c->vms[3].has_max_move_rate, "an empty value clears a [VM] key");
        }

        o = (nv_vm_override){};
        ok(nv_config_vm_override(c, "web-1", NULL, &o), "web-1 matches web-*");
        ok(o.has_weight && o.weight == 2.0, "web-1: Weight=2");
        ok(o.has_max_move_rate && o.max_move_rate == 64 * MIB, "web-1: MaxMoveRate=64M");
        ok(!o.has_placement, "web-1: Placement= not set");

        o = (nv_vm_override){};
        ok(nv_config_vm_override(c, "web-front-1", NULL, &o), "web-front-1 matches two sections");
        ok(o.has_weight && o.weight == 3.5, "web-front-1: the later Weight=3.5 wins");
        ok(o.has_max_move_rate && o.max_move_rate == 64 * MIB, "web-front-1: MaxMoveRate= from the earlier");
        ok(o.has_placement && !o.placement, "web-front-1: Placement=no from the later");
        is_str(o.match, "web-front-?", "the result names the last matching section");

        o = (nv_vm_override){};
        ok(nv_config_vm_override(c, "web-2", "6f0e1b2c-1234-4A5B-8C9D-0123456789AB", &o),
           "a UUID matches case-insensitively");
        ok(o.has_weight && o.weight == 7, "the UUID section comes later and wins: Weight=7");

        o = (nv_vm_override){};
        ok(nv_config_vm_override(c, NULL, "6f0e1b2c-1234-4a5b-8c9d-0123456789ab", &o),
           "a UUID matches without a name");
        ok(!o.has_max_move_rate, "without a name, web-* does not apply");

        o = (nv_vm_override){ .weight = 42 };
        ok(!nv_config_vm_override(c, "database", "00000000-0000-0000-0000-000000000000", &o),
           "no section matches 'database'");
        ok(o.weight == 42 && !o.has_weight && !o.match, "no match leaves the result untouched");

        o = (nv_vm_override){};
        ok(nv_config_vm_override(c, "db", NULL, &o), "db matches exactly");
        ok(o.has_placement && o.placement && !o.has_max_move_rate, "db: Placement=yes, MaxMoveRate= reset");
}

static void test_warnings(void) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        capture cap;
        char *log;
        int r;

        nv_config_new_default(&c);
        cap = capture_begin();
        r = nv_config_parse_text(c,
                                 "[Balloon]\nTarget=5\n[KSM]\nPagesToScan=100\n[VM \"x\"]\nBogus=1\n"
                                 "[Daemon]\nEpoch=3s\n",
                                 "warn.conf");
        log = capture_end(&cap);
        is_int(r, 0, "unknown keys in [Balloon], [KSM] and [VM] are not errors");
        ok(strstr(log, "warn.conf:2: Unknown key 'Target' in section [Balloon], ignoring."),
           "an unknown [Balloon] key warns with FILE:LINE");
        ok(strstr(log, "warn.conf:4: Unknown key 'PagesToScan' in section [KSM], ignoring."),
           "an unknown [KSM] key warns with FILE:LINE");
        ok(strstr(log, "warn.conf:6: Unknown key 'Bogus' in section [VM \"x\"], ignoring."),
           "an unknown [VM] key warns with FILE:LINE");
        is_u64(c->epoch, 3 * USEC_PER_SEC, "keys after the warnings still apply");
        free(log);
}

static int read_expected_line(const char *path, const char *tag) {
        char first[128] = "";
        FILE *f = fopen(path, "re");
        int n = -1;

        if (!f)
                return -1;
        if (fgets(first, sizeof(first), f) && strncmp(first, tag, strlen(tag)) == 0)
                n = atoi(first + strlen(tag));
        fclose(f);
        return n;
}

static int filter_conf(const struct dirent *de) {
        size_t n = strlen(de->d_name);
        return n > 5 && strcmp(de->d_name + n - 5, ".conf") == 0;
}

static void test_corpus(const char *sub, bool bad) {
        char *dir = path_join(tap_top_srcdir(), sub);
        struct dirent **names = NULL;
        int n = scandir(dir, &names, filter_conf, alphasort);

        if (bad)
                ok(n >= 12, "%s holds at least 12 files (%d)", sub, n);
        else
                ok(n >= 1, "%s holds files (%d)", sub, n);
        for (int i = 0; i < n; i++) {
                char *path = path_join(dir, names[i]->d_name), *want = NULL, *log;
                int line = read_expected_line(path, bad ? "# error-line:" : "# warn-line:");
                nv_config *got = (nv_config *)0x1;
                capture cap;
                int r;

                ok(line > 0, "%s names its expected line", names[i]->d_name);
                if (asprintf(&want, "%s:%d:", names[i]->d_name, line) < 0)
                        abort();
                cap = capture_begin();
                r = nv_config_load(NULL, path, &got);
                log = capture_end(&cap);
                if (bad) {
                        is_int(r, -EINVAL, "%s fails with -EINVAL", names[i]->d_name);
                        ok(got == (nv_config *)0x1, "%s leaves the caller's config untouched",
                           names[i]->d_name);
                } else {
                        is_int(r, 0, "%s loads", names[i]->d_name);
                        ok(strstr(log, "Unknown"), "%s warns about something unknown", names[i]->d_name);
                        if (r == 0) {
                                is_u64(got->epoch, 2 * USEC_PER_SEC, "%s: keys before it apply",
                                       names[i]->d_name);
                                is_int(got->min_regions, 20, "%s: keys after it apply", names[i]->d_name);
                                nv_config_free(got);
                        }
                }
                if (!ok(strstr(log, want), "%s: the message names \"%s\"", names[i]->d_name, want))
                        printf("#   log: %s\n", log);
                free(log);
                free(want);
                free(path);
                free(names[i]);
        }
        free(names);
        free(dir);
}

/* Is s (a captured log) lines of printable, well-formed UTF-8? Every message is escaped, so a
 * control byte other than the newline ending a line, or a malformed sequence, means one was not. */
static bool log_is_clean(const char *s) {
        for (const char *p = s; *p;) {
                const char *eol = strchrnul(p, '\n');
                char *line = strndup(p, (size_t)(eol - p)), *esc;
                bool same;

                if (!line || !(esc = malloc(4 * strlen(line) + 1)))
                        abort();
                /* log_escape() changes nothing in a line of printable, well-formed UTF-8. */
                same = strcmp(log_escape(esc, 4 * strlen(line) + 1, line), line) == 0;
                free(esc);
                free(line);
                if (!same)
                        return false;
                p = *eol ? eol + 1 : eol;
        }
        return true;
}

/* The expectation a hostile file states in its first lines (after a byte order mark, if any):
 * "# expect: ok", "# expect: warning LINE" or "# expect: error LINE", and optionally
 * "# log: TEXT", which the log must contain. */
typedef struct expectation {
        char kind[16];
        int line;
        char log[256];
} expectation;

static bool read_expectation(const char *path, expectation *e) {
        char l[512];
        FILE *f = fopen(path, "re");
        bool found = false;

        *e = (expectation){ .line = -1 };
        if (!f)
                return false;
        if (fgets(l, sizeof(l), f)) {
                const char *p = strncmp(l, "\xEF\xBB\xBF", 3) == 0 ? l + 3 : l;
                found = sscanf(p, "# expect: %15s %d", e->kind, &e->line) >= 1;
        }
        if (fgets(l, sizeof(l), f) && strncmp(l, "# log: ", 7) == 0) {
                snprintf(e->log, sizeof(e->log), "%.255s", l + 7);
                e->log[strcspn(e->log, "\n")] = '\0';
        }
        fclose(f);
        return found;
}

static void test_hostile_corpus(void) {
        char *dir = path_join(tap_top_srcdir(), "tests/config-hostile");
        struct dirent **names = NULL;
        int n = scandir(dir, &names, filter_conf, alphasort);

        ok(n >= 40, "tests/config-hostile holds at least 40 files (%d)", n);
        for (int i = 0; i < n; i++) {
                const char *name = names[i]->d_name;
                char *path = path_join(dir, name), *where = NULL, *log;
                nv_config *got = (nv_config *)0x1;
                expectation e;
                capture cap;
                int r;

                if (!ok(read_expectation(path, &e), "%s states its expected outcome", name))
                        goto next;
                if (asprintf(&where, "%s:%d:", name, e.line) < 0)
                        abort();
                cap = capture_begin();
                r = nv_config_load(NULL, path, &got);
                log = capture_end(&cap);
                if (strcmp(e.kind, "error") == 0) {
                        is_int(r, -EINVAL, "%s: fails with -EINVAL", name);
                        ok(got == (nv_config *)0x1, "%s: leaves the caller's config untouched", name);
                        ok(strstr(log, where), "%s: the error names %s", name, where);
                } else if (strcmp(e.kind, "warning") == 0) {
                        is_int(r, 0, "%s: loads", name);
                        ok(strstr(log, where), "%s: warns at %s", name, where);
                } else {
                        ok(strcmp(e.kind, "ok") == 0, "%s: the outcome is ok, warning or error (%s)", name,
                           e.kind);
                        is_int(r, 0, "%s: loads", name);
                        is_str(log, "", "%s: without a message", name);
                }
                if (r == 0)
                        nv_config_free(got);
                if (e.log[0])
                        ok(strstr(log, e.log), "%s: the log shows \"%s\"", name, e.log);
                if (!ok(log_is_clean(log), "%s: the log is printable UTF-8, one line per message", name) ||
                    (r < 0) != (strcmp(e.kind, "error") == 0))
                        printf("#   log: %.300s\n", log);
                free(log);
                free(where);
        next:
                free(path);
                free(names[i]);
        }
        free(names);
        free(dir);
}

/* Files that are not regular files, in place of the main file or of a drop-in directory. None may
 * block (a FIFO without a writer), and each gets a message naming it. */
static void test_hostile_files(const char *tmp) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        char *dir = path_join(tmp, "hostile"), *p, *log;
        nv_config *got = (nv_config *)0x1;
        capture cap;
        int r;

        (void)mkdir(dir, 0755);
        /* An alarm turns a blocking open() into a failed test instead of a hung one. */
        alarm(20);

        p = path_join(dir, "fifo.conf");
        if (mkfifo(p, 0600) < 0)
                abort();
        cap = capture_begin();
        r = nv_config_load(NULL, p, &got);
        log = capture_end(&cap);
        is_int(r, -EINVAL, "a FIFO as the main file is refused at once");
        ok(got == (nv_config *)0x1, "a FIFO leaves the caller's config untouched");
        if (!ok(strstr(log, "fifo.conf is a FIFO, not a regular file"), "the message names the FIFO"))
                printf("#   log: %s", log);
        free(log);
        free(p);

        p = path_join(dir, "dir.conf");
        (void)mkdir(p, 0755);
        cap = capture_begin();
        r = nv_config_load(NULL, p, &got);
        log = capture_end(&cap);
        is_int(r, -EINVAL, "a directory as the main file is refused");
        if (!ok(strstr(log, "dir.conf is a directory, not a regular file"), "the message names it"))
                printf("#   log: %s", log);
        free(log);
        free(p);

        cap = capture_begin();
        r = nv_config_load(NULL, "/dev/zero", &got);
        log = capture_end(&cap);
        is_int(r, -EINVAL, "a character device (/dev/zero) as the main file is refused");
        if (!ok(strstr(log, "/dev/zero is a character device"), "the message names it"))
                printf("#   log: %s", log);
        free(log);

        /* A FIFO among the drop-ins is skipped with a warning; the load goes on. */
        write_file(dir, "main.conf", "[Daemon]\nEpoch=2s\n");
        write_file(dir, "main.conf.d/20-good.conf", "[Sampler]\nMinRegions=20\n");
        p = path_join(dir, "main.conf.d/10-fifo.conf");
        if (mkfifo(p, 0600) < 0)
                abort();
        free(p);
        p = path_join(dir, "main.conf");
        cap = capture_begin();
        r = nv_config_load(NULL, p, &c);
        log = capture_end(&cap);
        is_int(r, 0, "a FIFO drop-in does not stop the load");
        if (!ok(strstr(log, "10-fifo.conf is not a regular file, ignoring"), "and is named in a warning"))
                printf("#   log: %s", log);
        ok(c && c->min_regions == 20, "the other drop-ins apply");
        free(log);
        c = nv_config_free(c);

        /* FILE.d as a regular file, then as a symlink loop: both warn, both load. */
        write_file(dir, "plain.conf", "[Daemon]\nEpoch=3s\n");
        write_file(dir, "plain.conf.d", "[Daemon]\nEpoch=banana\n");
        free(p);
        p = path_join(dir, "plain.conf");
        cap = capture_begin();
        r = nv_config_load(NULL, p, &c);
        log = capture_end(&cap);
        is_int(r, 0, "FILE.d as a regular file: the load succeeds");
        if (!ok(strstr(log, "plain.conf.d as a drop-in directory, ignoring"),
                "FILE.d as a regular file warns"))
                printf("#   log: %s", log);
        ok(c && c->epoch == 3 * USEC_PER_SEC, "and the main file applies");
        free(log);
        c = nv_config_free(c);

        write_file(dir, "loop.conf", "[Daemon]\nEpoch=4s\n");
        symlink_file("loop.conf.d", dir, "loop.conf.d");
        free(p);
        p = path_join(dir, "loop.conf");
        cap = capture_begin();
        r = nv_config_load(NULL, p, &c);
        log = capture_end(&cap);
        is_int(r, 0, "FILE.d as a symlink loop: the load succeeds");
        if (!ok(strstr(log, "loop.conf.d as a drop-in directory, ignoring") && strstr(log, "symbolic links"),
                "FILE.d as a symlink loop warns with the reason"))
                printf("#   log: %s", log);
        ok(c && c->epoch == 4 * USEC_PER_SEC, "and the main file applies");
        free(log);
        c = nv_config_free(c);

        alarm(0);
        free(p);
        rm_rf(dir);
        free(dir);
}

static void test_epoch_arithmetic(void) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;

        nv_config_new_default(&c);
        is_u64(nv_config_epoch_bytes(c, 256 * MIB), 256 * MIB, "256M/s for 1s: 256M");
        c->epoch = 250 * USEC_PER_MSEC;
        is_u64(nv_config_epoch_bytes(c, 256 * MIB), 64 * MIB, "256M/s for 250ms: 64M");
        c->epoch = 2 * USEC_PER_SEC;
        is_u64(nv_config_epoch_bytes(c, 15 * (UINT64_C(1) << 60)), UINT64_MAX,
               "15E/s for 2s saturates (through a double it was 0)");
        c->epoch = 3600 * USEC_PER_SEC;
        is_u64(nv_config_epoch_bytes(c, UINT64_MAX), UINT64_MAX, "the largest rate for an hour saturates");
        is_u64(nv_config_epoch_bytes(c, 1), 3600, "1B/s for an hour: 3600 bytes, exactly");

        c->epoch = USEC_PER_SEC;
        c->min_residency = 30 * USEC_PER_SEC;
        is_int(nv_config_residency_epochs(c), 30, "MinResidency=30s with Epoch=1s: 30 epochs");
        c->min_residency = 2500 * USEC_PER_MSEC;
        is_int(nv_config_residency_epochs(c), 3, "2.5s rounds up to 3 epochs");
        c->min_residency = 0;
        is_int(nv_config_residency_epochs(c), 1, "0 is at least one epoch");
        c->min_residency = USEC_INFINITY;
        ok(nv_config_residency_epochs(c) == NV_RESIDENCY_FOREVER,
           "MinResidency=infinity stays for ever (DIV_ROUND_UP wrapped it to one epoch)");
        c->min_residency = USEC_INFINITY - 1;
        c->epoch = 10 * USEC_PER_MSEC;
        ok(nv_config_residency_epochs(c) == NV_RESIDENCY_FOREVER,
           "more epochs than 32 bits count: for ever");
}

/* The shipped etc/numavd.conf: as shipped (all commented) it loads to the defaults; with every
 * "#Key=" and "#[Section]" line uncommented it must still mean the defaults. */
static void test_shipped_file(const char *tmp) {
        _cleanup_(nv_config_freep) nv_config *c = NULL, *u = NULL;
        char *path = path_join(tap_top_srcdir(), "etc/numavd.conf");
        FILE *f = fopen(path, "re");
        char *text = NULL, *log;
        size_t size = 0;
        int r;

        ok(f != NULL, "etc/numavd.conf exists");
        if (!f) {
                free(path);
                return;
        }
        if (getdelim(&text, &size, '\0', f) < 0)
                abort();
        fclose(f);

        r = load_text(tmp, text, &c, &log);
        is_int(r, 0, "the shipped file loads");
        is_str(log, "", "the shipped file loads without a message");
        free(log);
        if (c)
                check_defaults(c, "shipped file");

        /* Uncomment "#Key=value" and "#[Section]" lines, not prose ("# text"). */
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (l[0] == '#' && (l[1] == '[' || (l[1] >= 'A' && l[1] <= 'Z')))
                        l[0] = ' ';
        r = load_text(tmp, text, &u, &log);
        is_int(r, 0, "the shipped file with every setting uncommented loads");
        is_str(log, "", "and without a message: every key in it is known");
        free(log);
        if (u) {
                check_defaults(u, "uncommented shipped file");
                is_int(u->nr_vms, 1, "the example [VM] section is there");
        }
        free(text);
        free(path);
}

int main(void) {
        char tmpl[] = "/tmp/test-config.XXXXXX";
        char *tmp = mkdtemp(tmpl);

        if (!tmp)
                return tap_skip_all("cannot create a temporary directory");
        log_set_max_level(LOG_INFO);

        test_defaults(tmp);
        test_every_key();
        test_dialect();
        test_dropins(tmp);
        test_main_file(tmp);
        test_vm_overrides();
        test_warnings();
        test_corpus("tests/config-bad", true);
        test_corpus("tests/config-good", false);
        test_hostile_corpus();
        test_hostile_files(tmp);
        test_epoch_arithmetic();
        test_shipped_file(tmp);

        rm_rf(tmp);
        return tap_done();
}
