/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirt layer: the domain and status XML parsers, the choice of guest RAM among a VMM's
 * mappings, and the libvirt source against libvirt's test driver, with libvirt's events delivered
 * through the sd-event bridge. The real libvirtd is tested by test-libvirt-real.sh. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libvirt/libvirt.h>

#include "common/log.h"
#include "host/domain-xml.h"
#include "common/fileio.h"
#include "host/libvirt-event.h"
#include "host/libvirt-vms.h"
#include "host/real-host.h"
#include "tap.h"

static char *fixture(const char *name, size_t *ret_size) {
        char path[512];
        char *text = NULL;

        snprintf(path, sizeof(path), "%s/tests/fixtures/libvirt/%s", ABS_TOP_SRCDIR, name);
        if (nv_read_file_at(AT_FDCWD, path, &text, ret_size) < 0)
                return NULL;
        return text;
}

static void test_domain_xml(void) {
        _cleanup_(nv_domain_desc_done) nv_domain_desc d = {};
        _cleanup_free_ char *xml = NULL;
        size_t size;

        xml = fixture("vm-numa.xml", &size);
        if (!ok(xml, "domain XML fixture readable"))
                return;
        if (!is_int(nv_domain_xml_parse(xml, size, &d), 0, "domain XML with two vNUMA cells parses"))
                return;
        is_str(d.name, "vm-numa", "name");
        is_str(d.uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f", "uuid");
        is_u64(d.memory_bytes, 512 * MIB, "memory 524288 KiB = 512 MiB");
        is_int(d.nr_vcpus, 4, "4 vCPUs");
        is_int(d.nr_cells, 2, "2 cells");
        is_u64(d.cell_bytes[0], 256 * MIB, "cell 0: 256 MiB (unit MiB)");
        is_u64(d.cell_bytes[1], 256 * MIB, "cell 1: 256 MiB (unit KiB)");
        ok(d.vcpu_cell[0] == 0 && d.vcpu_cell[1] == 0 && d.vcpu_cell[2] == 1 && d.vcpu_cell[3] == 1,
           "vCPUs 0-1 in cell 0, 2,3 in cell 1");
        ok(d.locked && d.memfd && d.shared && !d.hugepages,
           "memoryBacking: locked, memfd, shared, no hugepages");

        static const char *const bad[] = {
                "<domain><name>x</name><memory>1</memory><vcpu>0</vcpu></domain>",
                "<domain><name>x</name><memory>-1</memory><vcpu>1</vcpu></domain>",
                "<domain><name>x</name><memory unit='parsec'>1</memory><vcpu>1</vcpu></domain>",
                "<domain><memory>1</memory><vcpu>1</vcpu></domain>",
                "<domain><name>x</name><memory>1</memory><vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-2' "
                "memory='1'/></numa></cpu></domain>",
                "<domain><name>x</name><memory>1</memory><vcpu>2</vcpu><cpu><numa><cell id='5' cpus='0' "
                "memory='1'/></numa></cpu></domain>",
                "<domain><name>x</name>",
                "not xml at all",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                nv_domain_desc b = { .name = NULL };
                is_int(nv_domain_xml_parse(bad[i], strlen(bad[i]), &b), -EINVAL,
                       "invalid domain XML %zu refused", i);
                ok(b.name == NULL, "invalid domain XML %zu leaves the result untouched", i);
        }
}

static void test_status_xml(void) {
        const char *xml = "<domstatus state='running' pid='1234'><vcpus><vcpu id='0' pid='1240'/>"
                          "<vcpu id='2' pid='1242'/></vcpus><domain><name>a</name></domain></domstatus>";
        /* libvirt 9.0's <job> while a live snapshot writes the guest's memory, and other jobs */
        static const struct {
                const char *job;
                bool outgoing;
        } jobs[] = {
                { "<job type='none' async='snapshot' flags='0x0' asyncStarted='1796338637250'/>", true },
                { "<job type='none' async='migration out' phase='perform3'/>", true },
                { "<job type='none' async='save'/>", true },
                { "<job type='none' async='migration in' phase='prepare'/>", false },
                { "<job type='none' async='dump'/>", false },
                { "<job type='destroy' async='none'/>", false },
        };
        _cleanup_free_ pid_t *tids = NULL;
        unsigned n = 0;
        pid_t pid = 0;
        bool job = true;

        if (!is_int(nv_domain_status_parse(xml, strlen(xml), &pid, &tids, &n, &job), 0, "status XML parses"))
                return;
        is_int(pid, 1234, "status XML: the VMM pid");
        ok(n == 3 && tids[0] == 1240 && tids[1] == 0 && tids[2] == 1242, "status XML: vCPU tids by id");
        ok(!job, "status XML without <job>: no outgoing job");
        for (size_t i = 0; i < ARRAY_SIZE(jobs); i++) {
                _cleanup_free_ char *with = NULL;
                _cleanup_free_ pid_t *t = NULL;

                if (asprintf(&with, "<domstatus pid='1234'>%s<domain/></domstatus>", jobs[i].job) < 0)
                        continue;
                job = !jobs[i].outgoing;
                is_int(nv_domain_status_parse(with, strlen(with), &pid, &t, &n, &job), 0,
                       "status XML with %s", jobs[i].job);
                ok(job == jobs[i].outgoing, "... %s outgoing job", jobs[i].outgoing ? "an" : "no");
        }
        xml = "<domstatus state='running'/>";
        is_int(nv_domain_status_parse(xml, strlen(xml), &pid, &tids, &n, &job), -EINVAL,
               "status XML without pid refused");
}

static void test_match_ram(void) {
        const nv_ram_range tcg = { .hva = 0x10000000, .size = GIB },
                           a = { .hva = 0x80000000, .size = 256 * MIB },
                           b = { .hva = 0x90000000, .size = 256 * MIB },
                           whole = { .hva = 0xa0000000, .size = 512 * MIB };
        uint64_t cells[2] = { 256 * MIB, 256 * MIB };
        nv_ram_range r[3];

        r[0] = tcg, r[1] = a, r[2] = b;
        is_int(nv_match_domain_ram(r, 3, 512 * MIB, cells, 2), 2,
               "two cells: two mappings of the cell size kept");
        ok(r[0].hva == a.hva && r[0].cell == 0 && r[0].gpa == 0,
           "cell 0: the first 256 MiB mapping at gpa 0");
        ok(r[1].hva == b.hva && r[1].cell == 1 && r[1].gpa == 256 * MIB,
           "cell 1: the second, at gpa 256 MiB");

        r[0] = tcg, r[1] = whole;
        is_int(nv_match_domain_ram(r, 2, 512 * MIB, NULL, 0), 1,
               "no cells: the mapping of the domain's size");
        ok(r[0].hva == whole.hva && r[0].cell == -1 && r[0].gpa == 0, "not the 1 GiB TCG buffer");

        r[0] = tcg, r[1] = a;
        is_int(nv_match_domain_ram(r, 2, 512 * MIB, NULL, 0), 0, "no mapping of the domain's size: 0");
}

static unsigned changes;
static void on_change(void *userdata) {
        changes++;
}

/* Run the loop until on_change was called more than `before` times, at most ~2 s. */
static bool wait_change(sd_event *e, unsigned before) {
        for (int i = 0; i < 200 && changes <= before; i++)
                (void)sd_event_run(e, 10 * USEC_PER_MSEC);
        return changes > before;
}

static const nv_libvirt_domain *find_domain(nv_libvirt_vms *s, const char *name) {
        size_t n;
        const nv_libvirt_domain *d = nv_libvirt_vms_domains(s, &n);

        for (size_t i = 0; i < n; i++)
                if (strcmp(d[i].desc.name, name) == 0)
                        return &d[i];
        return NULL;
}

static void run_cmd(const char *what, const char *dir) {
        char cmd[600];

        snprintf(cmd, sizeof(cmd), "%s '%s'", what, dir);
        (void)!system(cmd);
}

static void write_file(const char *path, const char *text) {
        FILE *f = path ? fopen(path, "we") : NULL;

        if (f) {
                fputs(text ? text : "", f);
                fclose(f);
        }
}

static void test_driver(sd_event *e) {
        _cleanup_(nv_libvirt_vms_freep) nv_libvirt_vms *s = NULL;
        _cleanup_free_ char *status = NULL, *path = NULL;
        char root[] = "/tmp/test-libvirt.XXXXXX", pidtext[16], *p;
        const nv_libvirt_domain *d;
        virDomainPtr dom;
        size_t n;

        if (!ok(mkdtemp(root), "temporary root"))
                return;
        /* A status XML for the test driver's domain "test", naming this process as its VMM. */
        status = fixture("status.xml", NULL);
        snprintf(pidtext, sizeof(pidtext), "%d", (int)getpid());
        while (status && (p = strstr(status, "@PID@"))) {
                memmove(p + strlen(pidtext), p + 5, strlen(p + 5) + 1);
                memcpy(p, pidtext, strlen(pidtext));
        }
        if (asprintf(&path, "%s/run/libvirt/qemu", root) > 0)
                run_cmd("mkdir -p", path);
        free(path);
        path = NULL;
        if (asprintf(&path, "%s/run/libvirt/qemu/test.xml", root) < 0)
                path = NULL;
        write_file(path, status);

        if (!is_int(nv_libvirt_vms_new(e, "test:///default", root, on_change, NULL, &s), 0,
                    "the libvirt source opens test:///default"))
                goto out;
        ok(nv_libvirt_vms_connected(s), "connected");
        is_int(nv_libvirt_vms_connections(s), 1, "one connection made");
        ok(nv_libvirt_event_count() > 0, "libvirt registered handles or timeouts in the sd-event loop (%u)",
           nv_libvirt_event_count());

        is_int(nv_libvirt_vms_refresh(s), 0, "refresh");
        nv_libvirt_vms_domains(s, &n);
        is_int(n, 1, "test:///default runs one domain");
        d = find_domain(s, "test");
        ok(d && d->desc.memory_bytes == 8 * GIB && d->desc.nr_vcpus == 2, "domain 'test': 8 GiB, 2 vCPUs");
        ok(d && d->pid == getpid(), "its VMM pid comes from the status XML under the injected root");
        ok(d && d->nr_vcpu_tids == 2 && d->vcpu_tids[1] == 4242, "its vCPU thread ids too");
        ok(d && !d->migrating, "no job in its status XML: not migrating");

        /* A job begins: libvirt writes it into the status XML, and sends no event. */
        if ((p = status ? strstr(status, "<vcpus>") : NULL)) {
                _cleanup_free_ char *with = NULL;

                if (asprintf(&with, "%.*s<job type='none' async='snapshot'/>%s", (int)(p - status), status,
                             p) > 0)
                        write_file(path, with);
        }
        nv_libvirt_vms_refresh(s);
        d = find_domain(s, "test");
        ok(d && d->migrating, "its status XML names a snapshot job: the next refresh says it migrates");
        write_file(path, status);
        nv_libvirt_vms_refresh(s);
        d = find_domain(s, "test");
        ok(d && !d->migrating && d->pid == getpid(), "the job ended: not migrating, same pid");

        /* Lifecycle: a domain started through libvirt is reported through sd-event at once. */
        const char *xml =
                "<domain type='test'><name>lv-new</name><memory unit='MiB'>256</memory><vcpu>2</vcpu>"
                "<cpu><numa><cell id='0' cpus='0' memory='128' unit='MiB'/><cell id='1' cpus='1' "
                "memory='128' unit='MiB'/></numa></cpu><os><type>hvm</type></os></domain>";
        unsigned before = changes;
        dom = virDomainCreateXML(nv_libvirt_vms_conn(s), xml, 0);
        if (!ok(dom, "a transient domain starts in the test driver"))
                goto out;
        /* Its event is not dispatched yet: a refresh now reads status XML only and lists nothing. */
        nv_libvirt_vms_refresh(s);
        ok(!find_domain(s, "lv-new") && find_domain(s, "test"),
           "a refresh before the STARTED event does not list the domains again");
        ok(wait_change(e, before), "its STARTED event arrives through the sd-event loop");
        nv_libvirt_vms_refresh(s);
        d = find_domain(s, "lv-new");
        ok(d, "the new domain is listed after the refresh");
        ok(d && d->desc.nr_cells == 2 && d->desc.cell_bytes[1] == 128 * MIB && d->desc.vcpu_cell[1] == 1,
           "its vNUMA cells come from its XML");
        ok(d && d->pid == 0, "without a status XML its pid is unknown (0)");

        before = changes;
        virDomainDestroy(dom);
        virDomainFree(dom);
        ok(wait_change(e, before), "its STOPPED event arrives through the sd-event loop");
        nv_libvirt_vms_refresh(s);
        ok(!find_domain(s, "lv-new"), "the destroyed domain is forgotten");
        nv_libvirt_vms_domains(s, &n);
        is_int(n, 1, "one domain left");

        s = nv_libvirt_vms_free(s);
        for (int i = 0; i < 10; i++)
                (void)sd_event_run(e, 0);
        is_int(nv_libvirt_event_count(), 0,
               "closing the connection removes every libvirt handle and timeout");
out:
        s = nv_libvirt_vms_free(s);
        run_cmd("rm -rf", root);
}

static void test_unreachable(sd_event *e) {
        _cleanup_(nv_libvirt_vms_freep) nv_libvirt_vms *s = NULL;
        sd_event *other = NULL;

        if (is_int(sd_event_new(&other), 0, "a second event loop")) {
                is_int(nv_libvirt_vms_new(other, "test:///default", NULL, NULL, NULL, &s), -EBUSY,
                       "libvirt in a second sd-event loop is refused (one event implementation per "
                       "process)");
                sd_event_unref(other);
        }

        /* A libvirtd that is not there: the source still opens and retries in the background. */
        if (!is_int(nv_libvirt_vms_new(e, "qemu+unix:///system?socket=/nonexistent/libvirt-sock", NULL,
                                       on_change, NULL, &s),
                    0, "an unreachable libvirtd does not stop the source from opening"))
                return;
        ok(!nv_libvirt_vms_connected(s), "not connected");
        is_int(nv_libvirt_vms_refresh(s), 0, "refresh while disconnected succeeds");
        for (int i = 0; i < 40; i++)
                (void)sd_event_run(e, 10 * USEC_PER_MSEC);
        ok(!nv_libvirt_vms_connected(s) && nv_libvirt_vms_connections(s) == 0,
           "reconnection attempts in the background fail quietly");
}

int main(void) {
        sd_event *e = NULL;

        log_set_max_level(LOG_WARNING);
        test_domain_xml();
        test_status_xml();
        test_match_ram();
        if (sd_event_new(&e) < 0)
                return tap_skip_all("no sd-event loop");
        test_driver(e);
        test_unreachable(e);
        sd_event_unref(e);
        return tap_done();
}
