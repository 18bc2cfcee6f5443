/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The balloon actuator on libvirt: virDomainMemoryStats in, virDomainSetMemoryFlags(LIVE) out.
 * It opens its own connection to the configured URI, lazily, and reconnects after a failure;
 * domains are looked up by UUID, else by name. A domain may set its own balloon floor in its
 * metadata: <metadata><numavd:balloon xmlns:numavd="NV_BALLOON_METADATA_NS" min="1G"/></metadata>
 * (a size, or a percentage of the maximum). */

#include "model/host.h"

#define NV_BALLOON_METADATA_NS "https://numavd.org/xmlns/balloon/1.0"

typedef struct nv_balloon_libvirt nv_balloon_libvirt;

int nv_balloon_libvirt_new(const char *uri, nv_balloon_libvirt **ret);
nv_balloon_libvirt *nv_balloon_libvirt_free(nv_balloon_libvirt *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_balloon_libvirt *, nv_balloon_libvirt_free);

/* Use another URI from the next call on (a reload changed LibvirtURI=): the open connection is
 * closed. 1 when the URI changed, 0 when it is the same, -ENOMEM with the old one kept. */
int nv_balloon_libvirt_set_uri(nv_balloon_libvirt *b, const char *uri);

/* From a domain's XML: its <memballoon> device and whether it deflates on OOM or reports free
 * pages. Fills has_device, autodeflate, free_page_reporting. */
void nv_balloon_parse_domain_xml(const char *xml, nv_balloon_info *info);

/* From the metadata element <balloon min="..."/>: the floor. 0, or -EINVAL for a bad value. */
int nv_balloon_parse_metadata(const char *xml, nv_balloon_info *info);

/* The ops for nv_host.balloon; ctx is an nv_balloon_libvirt. */
extern const nv_balloon_ops nv_balloon_libvirt_ops;
