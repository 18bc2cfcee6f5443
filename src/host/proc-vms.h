/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The /proc VM source: every process holding a KVM VM fd (a link to "anon_inode:kvm-vm" in
 * ROOT/proc/PID/fd) is a VM, whatever started it (libvirt, a bare QEMU, another VMM). For each it
 * reports a stable id, a name and uuid from QEMU's command line, the vCPU threads (named
 * "CPU N/KVM" by QEMU) and where they ran since the previous scan, and the guest RAM candidates
 * from smaps. QEMU under TCG holds no KVM fd and is not found here; libvirt reports those. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/inventory.h"
#include "host/proc-parse.h"
#include "host/topology.h"

typedef struct nv_proc_vms nv_proc_vms;

/* root: NULL or "" for "/". */
int nv_proc_vms_new(const char *root, nv_proc_vms **ret);
nv_proc_vms *nv_proc_vms_free(nv_proc_vms *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_proc_vms *, nv_proc_vms_free);

/* Scan ROOT/proc and store the VMs found in inv->vms and inv->nr_vms (which must be empty; the
 * rest of inv is left alone). vCPU run time is attributed to nodes through topo (NULL: dropped).
 * Processes that exit during the scan, or that we may not inspect, are skipped. 0 or -errno; on
 * failure inv and the source's state are untouched. */
int nv_proc_vms_scan(nv_proc_vms *s, const nv_topology *topo, nv_inventory *inv);

/* What another source (libvirt) knows of a VMM: it is a VM whether or not it holds a KVM fd (QEMU
 * under TCG holds none), and its vCPU n belongs to vNUMA cell vcpu_cell[n]. */
typedef struct nv_proc_vm_hint {
        pid_t pid;
        const int *vcpu_cell; /* by vCPU index, -1 for none; NULL without cells */
        unsigned nr_vcpu_cell;
        unsigned nr_cells; /* > 0: vm->cell_time gets one entry per cell */
} nv_proc_vm_hint;

/* As nv_proc_vms_scan, for the hinted processes and, when find_kvm, every process holding a KVM
 * VM fd; each process is reported once. */
int nv_proc_vms_scan_hinted(nv_proc_vms *s, const nv_topology *topo, const nv_proc_vm_hint *hints,
                            size_t n_hints, bool find_kvm, nv_inventory *inv);
