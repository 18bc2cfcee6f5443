/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The `kmod` attribution sampler: ZAP and DRAIN of the numavd_ept module (ABI 1.1,
 * include/uapi/numavd_ept.h). Each VM gets its own open file of the device, attached through
 * the VMM's KVM VM fd as the kmod access backend's are (kmod-attach.h). A zap makes blocks of the VM's memory
 * fault on their next access; a drain reads back, for each zapped block's first fault, the vCPU
 * index, the guest-physical block and the host CPU, which this sampler turns into the VMM's
 * address (through the VM's memory slots) and the CPU's node (through the host's CPU map). */

#include <stddef.h>
#include <stdint.h>

#include "model/host.h"
#include "../include/uapi/numavd_ept.h" /* top_srcdir/include, through -I top_srcdir/src */

/* Open dev_path (NULL: /dev/numavd_ept) and check that its ABI offers ZAP and DRAIN (1.1 or
 * later). cpu_node[cpu] (nr_cpus entries, copied) is the node of each CPU or -1, the host's
 * topology (nv_topology.cpu_node): it names the node of the CPU each fault ran on. -ENOENT when
 * the module is not loaded, -EPROTO when its ABI is older or incompatible, -EACCES/-EPERM without
 * the rights; *ret_ops and *ret_ctx untouched on failure. ret_ops->destroy frees ret_ctx. */
int nv_kmod_attribution_new(const char *dev_path, const int *cpu_node, unsigned nr_cpus,
                            const nv_attribution_ops **ret_ops, void **ret_ctx);

/* The VMM's address of a guest-physical address, through the VM's memory slots (address space 0,
 * where guest RAM is). 0 or -ENOENT when no slot holds gpa. */
int nv_slots_gpa_to_hva(const struct numavd_ept_slot *slots, size_t n, uint64_t gpa, uint64_t *ret_hva);
