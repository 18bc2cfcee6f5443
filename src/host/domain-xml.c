/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "common/log.h"
#include "host/domain-xml.h"
#include "host/topology.h"

static void xml_doc_freep(xmlDocPtr *d) {
        if (*d)
                xmlFreeDoc(*d);
}
static void xpath_ctx_freep(xmlXPathContextPtr *c) {
        if (*c)
                xmlXPathFreeContext(*c);
}
static void xpath_obj_freep(xmlXPathObjectPtr *o) {
        if (*o)
                xmlXPathFreeObject(*o);
}
static void xml_charp_freep(xmlChar **s) {
        if (*s)
                xmlFree(*s);
}

void nv_domain_desc_done(nv_domain_desc *d) {
        if (!d)
                return;
        free(d->name);
        free(d->cell_bytes);
        free(d->vcpu_cell);
        *d = (nv_domain_desc){};
}

static int parse_doc(const char *xml, size_t size, xmlDocPtr *ret_doc, xmlXPathContextPtr *ret_ctx) {
        xmlDocPtr doc;
        xmlXPathContextPtr ctx;

        if (size > INT32_MAX)
                return -EINVAL;
        doc = xmlReadMemory(xml, (int)size, "domain.xml", NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
        if (!doc)
                return -EINVAL;
        ctx = xmlXPathNewContext(doc);
        if (!ctx) {
                xmlFreeDoc(doc);
                return -ENOMEM;
        }
        *ret_doc = doc;
        *ret_ctx = ctx;
        return 0;
}

/* The nodes an XPath expression selects (possibly none), relative to node (NULL: the document). */
static xmlXPathObjectPtr select_nodes(xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr) {
        ctx->node = node;
        return xmlXPathEvalExpression((const xmlChar *)expr, ctx);
}

static size_t nr_nodes(xmlXPathObjectPtr o) {
        return o && o->nodesetval ? (size_t)o->nodesetval->nodeNr : 0;
}

/* The text (element) or value (attribute) of the first node selected, or NULL. */
static xmlChar *select_text(xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr) {
        _cleanup_(xpath_obj_freep) xmlXPathObjectPtr o = select_nodes(ctx, node, expr);

        return nr_nodes(o) > 0 ? xmlNodeGetContent(o->nodesetval->nodeTab[0]) : NULL;
}

static bool has_node(xmlXPathContextPtr ctx, const char *expr) {
        _cleanup_(xpath_obj_freep) xmlXPathObjectPtr o = select_nodes(ctx, NULL, expr);

        return nr_nodes(o) > 0;
}

static int parse_u64(const xmlChar *s, uint64_t *ret) {
        char *end;

        if (!s || !*s || *s == '-')
                return -EINVAL;
        errno = 0;
        *ret = strtoull((const char *)s, &end, 10);
        return errno == 0 && *end == '\0' ? 0 : -EINVAL;
}

/* A size with libvirt's unit attribute (default KiB). */
static int parse_scaled(const xmlChar *value, const xmlChar *unit, uint64_t *ret) {
        static const struct {
                const char *name;
                uint64_t factor;
        } units[] = {
                { "b", 1 },           { "bytes", 1 },        { "KB", 1000 }, { "k", KIB },
                { "KiB", KIB },       { "MB", 1000 * 1000 }, { "M", MIB },   { "MiB", MIB },
                { "GB", 1000000000 }, { "G", GIB },          { "GiB", GIB }, { "T", TIB },
                { "TiB", TIB },
        };
        uint64_t v, factor = KIB;

        if (parse_u64(value, &v) < 0)
                return -EINVAL;
        if (unit) {
                size_t i;

                for (i = 0; i < ARRAY_SIZE(units); i++)
                        if (strcmp((const char *)unit, units[i].name) == 0)
                                break;
                if (i == ARRAY_SIZE(units))
                        return -EINVAL;
                factor = units[i].factor;
        }
        if (v > UINT64_MAX / factor)
                return -ERANGE;
        *ret = v * factor;
        return 0;
}

static int parse_cells(xmlXPathContextPtr ctx, nv_domain_desc *d) {
        _cleanup_(xpath_obj_freep) xmlXPathObjectPtr o = select_nodes(ctx, NULL, "/domain/cpu/numa/cell");
        size_t n = nr_nodes(o);
        int r;

        if (n == 0)
                return 0;
        if (n > NV_DOMAIN_MAX_CELLS)
                return -EINVAL;
        d->cell_bytes = calloc(n, sizeof(*d->cell_bytes));
        d->vcpu_cell = malloc(MAX(d->nr_vcpus, 1u) * sizeof(*d->vcpu_cell));
        if (!d->cell_bytes || !d->vcpu_cell)
                return -ENOMEM;
        for (unsigned v = 0; v < d->nr_vcpus; v++)
                d->vcpu_cell[v] = -1;
        d->nr_cells = (unsigned)n;

        for (size_t i = 0; i < n; i++) {
                xmlNodePtr cell = o->nodesetval->nodeTab[i];
                _cleanup_(xml_charp_freep) xmlChar *id = xmlGetProp(cell, (const xmlChar *)"id");
                _cleanup_(xml_charp_freep) xmlChar *cpus = xmlGetProp(cell, (const xmlChar *)"cpus");
                _cleanup_(xml_charp_freep) xmlChar *mem = xmlGetProp(cell, (const xmlChar *)"memory");
                _cleanup_(xml_charp_freep) xmlChar *unit = xmlGetProp(cell, (const xmlChar *)"unit");
                _cleanup_free_ unsigned *list = NULL;
                size_t nr_list;
                uint64_t cid = i;

                /* libvirt numbers cells 0..n-1 in order; an id is checked when given. */
                if (id && (parse_u64(id, &cid) < 0 || cid >= n))
                        return -EINVAL;
                if (parse_scaled(mem, unit, &d->cell_bytes[cid]) < 0)
                        return -EINVAL;
                if (!cpus)
                        continue; /* a memory-only cell */
                r = nv_cpulist_parse((const char *)cpus, d->nr_vcpus, &list, &nr_list);
                if (r < 0)
                        return r == -ENOMEM ? r : -EINVAL;
                for (size_t k = 0; k < nr_list; k++)
                        d->vcpu_cell[list[k]] = (int)cid;
        }
        return 0;
}

int nv_domain_xml_parse(const char *xml, size_t size, nv_domain_desc *ret) {
        _cleanup_(xml_doc_freep) xmlDocPtr doc = NULL;
        _cleanup_(xpath_ctx_freep) xmlXPathContextPtr ctx = NULL;
        _cleanup_(xml_charp_freep) xmlChar *name = NULL, *uuid = NULL, *mem = NULL, *unit = NULL,
                                           *vcpu = NULL, *source = NULL, *access = NULL;
        _cleanup_(nv_domain_desc_done) nv_domain_desc d = {};
        uint64_t n;
        int r;

        r = parse_doc(xml, size, &doc, &ctx);
        if (r < 0)
                return r;

        name = select_text(ctx, NULL, "/domain/name");
        if (!name || !*name)
                return -EINVAL;
        d.name = strdup((const char *)name);
        if (!d.name)
                return -ENOMEM;
        uuid = select_text(ctx, NULL, "/domain/uuid");
        if (uuid && strlen((const char *)uuid) == 36)
                memcpy(d.uuid, uuid, 37);

        mem = select_text(ctx, NULL, "/domain/memory");
        unit = select_text(ctx, NULL, "/domain/memory/@unit");
        if (parse_scaled(mem, unit, &d.memory_bytes) < 0)
                return -EINVAL;
        vcpu = select_text(ctx, NULL, "/domain/vcpu");
        if (parse_u64(vcpu, &n) < 0 || n == 0 || n > NV_DOMAIN_MAX_VCPUS)
                return -EINVAL;
        d.nr_vcpus = (unsigned)n;

        r = parse_cells(ctx, &d);
        if (r < 0)
                return r;

        d.locked = has_node(ctx, "/domain/memoryBacking/locked");
        d.hugepages = has_node(ctx, "/domain/memoryBacking/hugepages");
        source = select_text(ctx, NULL, "/domain/memoryBacking/source/@type");
        d.memfd = source && strcmp((const char *)source, "memfd") == 0;
        access = select_text(ctx, NULL, "/domain/memoryBacking/access/@mode");
        d.shared = access && strcmp((const char *)access, "shared") == 0;

        *ret = d;
        d = (nv_domain_desc){};
        return 0;
}

static bool outgoing_job(const xmlChar *async) {
        static const char *const jobs[] = { "migration out", "save", "snapshot" };

        for (size_t i = 0; async && i < ARRAY_SIZE(jobs); i++)
                if (strcmp((const char *)async, jobs[i]) == 0)
                        return true;
        return false;
}

int nv_domain_status_parse(const char *xml, size_t size, pid_t *ret_pid, pid_t **ret_vcpu_tids,
                           unsigned *ret_nr_vcpus, bool *ret_outgoing_job) {
        _cleanup_(xml_doc_freep) xmlDocPtr doc = NULL;
        _cleanup_(xpath_ctx_freep) xmlXPathContextPtr ctx = NULL;
        _cleanup_(xpath_obj_freep) xmlXPathObjectPtr o = NULL;
        _cleanup_(xml_charp_freep) xmlChar *pid = NULL, *async = NULL;
        _cleanup_free_ pid_t *tids = NULL;
        unsigned nr = 0;
        uint64_t v;
        int r;

        r = parse_doc(xml, size, &doc, &ctx);
        if (r < 0)
                return r;
        pid = select_text(ctx, NULL, "/domstatus/@pid");
        if (parse_u64(pid, &v) < 0 || v == 0 || v > INT32_MAX)
                return -EINVAL;

        o = select_nodes(ctx, NULL, "/domstatus/vcpus/vcpu");
        for (size_t i = 0; i < nr_nodes(o); i++) {
                _cleanup_(xml_charp_freep) xmlChar *id =
                        xmlGetProp(o->nodesetval->nodeTab[i], (const xmlChar *)"id");
                _cleanup_(xml_charp_freep) xmlChar *tid =
                        xmlGetProp(o->nodesetval->nodeTab[i], (const xmlChar *)"pid");
                uint64_t vid, vtid;

                if (parse_u64(id, &vid) < 0 || vid >= NV_DOMAIN_MAX_VCPUS || parse_u64(tid, &vtid) < 0 ||
                    vtid > INT32_MAX)
                        return -EINVAL;
                if (vid >= nr) {
                        pid_t *p = realloc(tids, (vid + 1) * sizeof(*p));
                        if (!p)
                                return -ENOMEM;
                        memset(p + nr, 0, (vid + 1 - nr) * sizeof(*p));
                        tids = p;
                        nr = (unsigned)vid + 1;
                }
                tids[vid] = (pid_t)vtid;
        }
        async = select_text(ctx, NULL, "/domstatus/job/@async");

        *ret_pid = (pid_t)v;
        *ret_vcpu_tids = TAKE_PTR(tids);
        *ret_nr_vcpus = nr;
        *ret_outgoing_job = outgoing_job(async);
        return 0;
}
