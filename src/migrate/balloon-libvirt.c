/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/parse.h"
#include "migrate/balloon-libvirt.h"

struct nv_balloon_libvirt {
        char *uri;
        virConnectPtr conn;
        unsigned failures; /* consecutive failed connection attempts */
        unsigned skip;     /* calls to skip before the next attempt (backoff) */
};

/* Quiet: errors are reported by numavd's own messages. */
static void quiet_error(void *userdata, virErrorPtr err) {
}

int nv_balloon_libvirt_new(const char *uri, nv_balloon_libvirt **ret) {
        nv_balloon_libvirt *b = calloc(1, sizeof(*b));

        if (!b)
                return -ENOMEM;
        b->uri = strdup(uri ?: "qemu:///system");
        if (!b->uri) {
                free(b);
                return -ENOMEM;
        }
        *ret = b;
        return 0;
}

static void disconnect(nv_balloon_libvirt *b) {
        if (b->conn) {
                virConnectClose(b->conn);
                b->conn = NULL;
        }
}

int nv_balloon_libvirt_set_uri(nv_balloon_libvirt *b, const char *uri) {
        char *copy;

        uri = uri ?: "qemu:///system";
        if (strcmp(b->uri, uri) == 0)
                return 0;
        copy = strdup(uri);
        if (!copy)
                return -ENOMEM;
        disconnect(b);
        free(b->uri);
        b->uri = copy;
        b->failures = b->skip = 0;
        return 1;
}

nv_balloon_libvirt *nv_balloon_libvirt_free(nv_balloon_libvirt *b) {
        if (!b)
                return NULL;
        disconnect(b);
        free(b->uri);
        free(b);
        return NULL;
}

/* Connect if needed; after failures, try again only every 2^n calls (at most 32). */
static int ensure_connected(nv_balloon_libvirt *b) {
        if (b->conn && virConnectIsAlive(b->conn) == 1)
                return 0;
        disconnect(b);
        if (b->skip > 0) {
                b->skip--;
                return -EAGAIN;
        }
        virSetErrorFunc(NULL, quiet_error);
        b->conn = virConnectOpen(b->uri);
        if (!b->conn) {
                b->failures++;
                b->skip = 1u << MIN(b->failures, 5u);
                log_full(b->failures == 1 ? LOG_INFO : LOG_DEBUG,
                         "Balloon: cannot connect to %s (%s), retrying later.", b->uri,
                         virGetLastErrorMessage());
                return -EAGAIN;
        }
        if (b->failures > 0)
                log_info("Balloon: connected to %s.", b->uri);
        b->failures = 0;
        return 0;
}

static int lookup(nv_balloon_libvirt *b, const nv_vm_info *vm, virDomainPtr *ret) {
        virDomainPtr d = NULL;
        int r = ensure_connected(b);

        if (r < 0)
                return r;
        if (vm->uuid[0])
                d = virDomainLookupByUUIDString(b->conn, vm->uuid);
        if (!d && vm->name)
                d = virDomainLookupByName(b->conn, vm->name);
        if (!d) {
                if (virConnectIsAlive(b->conn) != 1) {
                        disconnect(b);
                        return -EAGAIN;
                }
                return -ENOENT;
        }
        *ret = d;
        return 0;
}

static bool attr_on(const char *tag, size_t len, const char *name) {
        const char *p = tag;

        while ((p = strstr(p, name)) && p < tag + len) {
                p += strlen(name);
                if (strncmp(p, "='on'", 5) == 0 || strncmp(p, "=\"on\"", 5) == 0)
                        return true;
        }
        return false;
}

void nv_balloon_parse_domain_xml(const char *xml, nv_balloon_info *info) {
        const char *tag = xml ? strstr(xml, "<memballoon") : NULL;
        const char *end;
        size_t len;

        info->has_device = info->autodeflate = info->free_page_reporting = false;
        if (!tag)
                return;
        end = strchr(tag, '>');
        len = end ? (size_t)(end - tag) : strlen(tag);
        {
                const char *model = strstr(tag, "model=");
                if (!model || model > tag + len || strncmp(model + 7, "none", 4) == 0)
                        return;
        }
        info->has_device = true;
        info->autodeflate = attr_on(tag, len, "autodeflate");
        info->free_page_reporting = attr_on(tag, len, "freePageReporting");
}

int nv_balloon_parse_metadata(const char *xml, nv_balloon_info *info) {
        const char *p = xml ? strstr(xml, "min=") : NULL;
        char value[64];
        size_or_percent v;
        size_t n;
        char quote;

        if (!p)
                return 0;
        p += 4;
        quote = *p++;
        if (quote != '"' && quote != '\'')
                return -EINVAL;
        n = strcspn(p, "\"'");
        if (n == 0 || n >= sizeof(value) || p[n] != quote)
                return -EINVAL;
        memcpy(value, p, n);
        value[n] = 0;
        if (parse_size_or_percent(value, &v) < 0)
                return -EINVAL;
        info->has_floor = true;
        info->floor_is_percent = v.is_percent;
        info->floor_bytes = v.bytes;
        info->floor_fraction = v.fraction;
        return 0;
}

static void fill_stats(const virDomainMemoryStatStruct *s, int n, nv_balloon_stats *st) {
        *st = (nv_balloon_stats){ NV_BALLOON_UNKNOWN,
                                  NV_BALLOON_UNKNOWN,
                                  NV_BALLOON_UNKNOWN,
                                  NV_BALLOON_UNKNOWN,
                                  NV_BALLOON_UNKNOWN,
                                  NV_BALLOON_UNKNOWN,
                                  0 };
        for (int i = 0; i < n; i++) {
                uint64_t v = s[i].val;
                switch (s[i].tag) {
                case VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON:
                        st->actual = v * KIB;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_USABLE:
                        st->usable = v * KIB;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_AVAILABLE:
                        st->available = v * KIB;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_SWAP_IN:
                        st->swap_in = v * KIB;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_SWAP_OUT:
                        st->swap_out = v * KIB;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT:
                        st->major_faults = v;
                        break;
                case VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE:
                        st->last_update = (int64_t)v;
                        break;
                default:
                        break;
                }
        }
}

static int ops_get_stats(void *ctx, const nv_vm_info *vm, nv_balloon_info *ret) {
        nv_balloon_libvirt *b = ctx;
        virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
        nv_balloon_info info = {};
        virDomainPtr d = NULL;
        unsigned long max_kib;
        char *xml;
        int n, r;

        r = lookup(b, vm, &d);
        if (r < 0)
                return r;
        max_kib = virDomainGetMaxMemory(d);
        if (max_kib == 0) {
                r = -ESRCH;
                goto cleanup;
        }
        info.max_bytes = (uint64_t)max_kib * KIB;

        xml = virDomainGetXMLDesc(d, 0);
        nv_balloon_parse_domain_xml(xml, &info);
        free(xml);

        xml = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, NV_BALLOON_METADATA_NS,
                                   VIR_DOMAIN_AFFECT_LIVE);
        if (xml && nv_balloon_parse_metadata(xml, &info) < 0)
                log_warning("VM %s: invalid balloon floor in its numavd metadata (%s), ignoring.", vm->name,
                            xml);
        free(xml);

        n = info.has_device ? virDomainMemoryStats(d, stats, VIR_DOMAIN_MEMORY_STAT_NR, 0) : 0;
        fill_stats(stats, MAX(n, 0), &info.stats);
        *ret = info;
        r = 0;
cleanup:
        virDomainFree(d);
        return r;
}

static int ops_set_target(void *ctx, const nv_vm_info *vm, uint64_t bytes) {
        nv_balloon_libvirt *b = ctx;
        virDomainPtr d = NULL;
        int r;

        r = lookup(b, vm, &d);
        if (r < 0)
                return r;
        /* The balloon moves whole 4 KiB pages: round up, so that a floor is never undercut. */
        r = virDomainSetMemoryFlags(d, (unsigned long)(ALIGN_UP(bytes, NV_PAGE_SIZE) / KIB),
                                    VIR_DOMAIN_AFFECT_LIVE);
        if (r < 0)
                r = log_warning_errno(-EIO, "VM %s: setting the balloon to %" PRIu64 " KiB failed: %s",
                                      vm->name, bytes / KIB, virGetLastErrorMessage());
        virDomainFree(d);
        return r;
}

static void ops_destroy(void *ctx) {
        nv_balloon_libvirt_free(ctx);
}

const nv_balloon_ops nv_balloon_libvirt_ops = {
        .get_stats = ops_get_stats,
        .set_target = ops_set_target,
        .destroy = ops_destroy,
};
