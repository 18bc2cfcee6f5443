/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What numavd needs from a libvirt domain's XML (virDomainGetXMLDesc) and from libvirt's status
 * XML (/run/libvirt/qemu/NAME.xml, <domstatus pid=> with <vcpu id= pid=>): pure parsers over
 * text (libxml2), tested alone. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/macro.h"

/* Bounds on what one domain may make us hold. */
#define NV_DOMAIN_MAX_CELLS 64u
#define NV_DOMAIN_MAX_VCPUS 4096u

typedef struct nv_domain_desc {
        char *name;
        char uuid[37];
        uint64_t memory_bytes; /* <memory> */
        unsigned nr_vcpus;     /* <vcpu> */
        /* vNUMA: <cpu><numa><cell id= cpus= memory=>, in order of id (ids must be 0..n-1). */
        unsigned nr_cells;
        uint64_t *cell_bytes; /* per cell */
        int *vcpu_cell;       /* per vCPU: its cell, or -1 (nr_vcpus entries; NULL without cells) */
        /* <memoryBacking>: <locked/> pins guest RAM; <hugepages/>; <source type='memfd'/>;
         * <access mode='shared'/>. */
        bool locked, hugepages, memfd, shared;
} nv_domain_desc;

void nv_domain_desc_done(nv_domain_desc *d);

/* 0, -EINVAL (not a domain XML, or an invalid or inconsistent value), -ENOMEM. */
int nv_domain_xml_parse(const char *xml, size_t size, nv_domain_desc *ret);

/* libvirt's status XML: the VMM pid, the vCPU thread ids, indexed by vCPU id (0 where unknown),
 * and whether the job libvirt records there (<job async=>, written when an asynchronous job begins
 * and cleared when it ends) reads guest memory while the guest runs on: a migration out, a save, a
 * snapshot. 0, -EINVAL, -ENOMEM. */
int nv_domain_status_parse(const char *xml, size_t size, pid_t *ret_pid, pid_t **ret_vcpu_tids,
                           unsigned *ret_nr_vcpus, bool *ret_outgoing_job);
