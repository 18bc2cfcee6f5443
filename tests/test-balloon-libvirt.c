/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libvirt balloon actuator: the domain XML and metadata parsers, and the ops against
 * libvirt's test driver (test:///default): statistics, a live target, the metadata floor, an
 * unknown domain, an unreachable URI. The real thing runs in tests/test-overcommit-real.sh. */

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "common/log.h"
#include "migrate/balloon-libvirt.h"
#include "tap.h"

static void test_parsers(void) {
        nv_balloon_info i = {};

        nv_balloon_parse_domain_xml("<domain><devices></devices></domain>", &i);
        ok(!i.has_device, "no <memballoon>: no device");
        nv_balloon_parse_domain_xml("<devices><memballoon model='none'/></devices>", &i);
        ok(!i.has_device, "model='none': no device");
        nv_balloon_parse_domain_xml("<devices><memballoon model=\"virtio\">\n<stats period='1'/>", &i);
        ok(i.has_device && !i.autodeflate && !i.free_page_reporting, "virtio: a device, plain");
        nv_balloon_parse_domain_xml("<memballoon model='virtio' autodeflate='on' freePageReporting='on'>",
                                    &i);
        ok(i.has_device && i.autodeflate && i.free_page_reporting, "autodeflate and free page reporting");
        nv_balloon_parse_domain_xml(
                "<memballoon model='virtio' autodeflate='off'><x freePageReporting='on'/>", &i);
        ok(i.has_device && !i.autodeflate && !i.free_page_reporting,
           "autodeflate='off', and attributes outside the tag do not count");

        i = (nv_balloon_info){};
        ok(nv_balloon_parse_metadata("<balloon min=\"1G\"/>", &i) == 0 && i.has_floor &&
                   !i.floor_is_percent && i.floor_bytes == GIB,
           "metadata min=\"1G\"");
        i = (nv_balloon_info){};
        ok(nv_balloon_parse_metadata("<numavd:balloon xmlns:numavd='x' min='25%'/>", &i) == 0 &&
                   i.has_floor && i.floor_is_percent && i.floor_fraction == 0.25,
           "metadata min='25%%'");
        i = (nv_balloon_info){};
        ok(nv_balloon_parse_metadata("<balloon min='lots'/>", &i) == -EINVAL && !i.has_floor,
           "metadata min='lots': -EINVAL, no floor");
        ok(nv_balloon_parse_metadata("<balloon min='1G\"/>", &i) == -EINVAL, "mismatched quotes: -EINVAL");
        ok(nv_balloon_parse_metadata("<balloon/>", &i) == 0 && !i.has_floor, "no min: no floor");
}

static void test_driver(void) {
        nv_balloon_libvirt *b = NULL;
        nv_balloon_info info;
        nv_vm_info vm = { .name = (char *)"test" }, other = { .name = (char *)"no-such-domain" };
        virConnectPtr c;
        virDomainPtr d;
        int r;

        /* test:///default is private to each connection: set the metadata through the actuator's. */
        r = nv_balloon_libvirt_new("test:///default", &b);
        is_int(r, 0, "actuator for test:///default");
        r = nv_balloon_libvirt_ops.get_stats(b, &vm, &info);
        is_int(r, 0, "statistics of domain 'test'");
        ok(info.has_device && info.max_bytes > 0 && info.stats.actual != NV_BALLOON_UNKNOWN &&
                   info.stats.usable != NV_BALLOON_UNKNOWN && info.stats.last_update > 0,
           "device, maximum (%" PRIu64 " MiB), actual, usable and last_update", info.max_bytes / MIB);
        ok(!info.has_floor, "no metadata: no floor");

        r = nv_balloon_libvirt_ops.set_target(b, &vm, 1 * GIB + 1);
        is_int(r, 0, "set a live target");
        r = nv_balloon_libvirt_ops.get_stats(b, &vm, &info);
        ok(r == 0 && info.stats.actual == 1 * GIB + NV_PAGE_SIZE,
           "the target is rounded up to whole pages (actual %" PRIu64 " KiB)", info.stats.actual / KIB);

        is_int(nv_balloon_libvirt_ops.get_stats(b, &other, &info), -ENOENT, "unknown domain: -ENOENT");

        c = virConnectOpen("test:///default");
        d = c ? virDomainLookupByName(c, "test") : NULL;
        if (d) {
                /* A separate connection to test:///default sees a separate host: check the call only. */
                r = virDomainSetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, "<balloon min='512M'/>", "numavd",
                                         NV_BALLOON_METADATA_NS, VIR_DOMAIN_AFFECT_LIVE);
                ok(r == 0, "the metadata element can be set (numavd namespace)");
                char *xml = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, NV_BALLOON_METADATA_NS,
                                                 VIR_DOMAIN_AFFECT_LIVE);
                nv_balloon_info fi = {};
                ok(xml && nv_balloon_parse_metadata(xml, &fi) == 0 && fi.floor_bytes == 512 * MIB,
                   "and read back as a 512M floor (%s)", xml ?: "none");
                free(xml);
                virDomainFree(d);
        }
        if (c)
                virConnectClose(c);
        b = nv_balloon_libvirt_free(b);

        r = nv_balloon_libvirt_new("test:///nonexistent/numavd-test.xml", &b);
        is_int(nv_balloon_libvirt_ops.get_stats(b, &vm, &info), -EAGAIN, "unreachable URI: -EAGAIN");
        is_int(nv_balloon_libvirt_ops.set_target(b, &vm, GIB), -EAGAIN,
               "unreachable URI: -EAGAIN again (backing off, no reconnect storm)");

        /* A reload that changes LibvirtURI=: the next call goes to the new URI, without backoff. */
        is_int(nv_balloon_libvirt_set_uri(b, "test:///nonexistent/numavd-test.xml"), 0,
               "the same URI: no change");
        is_int(nv_balloon_libvirt_set_uri(b, "test:///default"), 1, "a new URI: changed");
        is_int(nv_balloon_libvirt_ops.get_stats(b, &vm, &info), 0, "the new URI answers at once");
        is_int(nv_balloon_libvirt_set_uri(b, "test:///nonexistent/numavd-test.xml"), 1, "and back");
        is_int(nv_balloon_libvirt_ops.get_stats(b, &vm, &info), -EAGAIN,
               "the open connection was closed: the unreachable URI is used");
        b = nv_balloon_libvirt_free(b);
}

int main(void) {
        log_set_max_level(LOG_ERR);
        test_parsers();
        test_driver();
        return tap_done();
}
