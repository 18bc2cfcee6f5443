/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The `kmod` attribution sampler: ZAP and DRAIN of the numavd_ept module (ABI 1.1,
 * include/uapi/numavd_ept.h). Each VM gets its own open file of the device, attached through
 * the VMM's KVM VM fd as the kmod access backend does. A zap makes blocks of the VM's memory
 * fault on their next access; a drain reads back, for each zapped block's first fault, the vCPU
 * index, the guest-physical block and the host CPU, which this sampler turns into the VMM's
 * address (through the VM's memory slots) and the CPU's node (through sysfs). */

#include <stddef.h>
#include <stdint.h>

#include "model/host.h"
#include "../include/uapi/numavd_ept.h" /* top_srcdir/include, through -I top_srcdir/src */

/* Open dev_path (NULL: /dev/numavd_ept), check that its ABI offers ZAP and DRAIN (1.1 or
 * later), and read which node each CPU belongs to below root (NULL: "/"). -ENOENT when the
 * module is not loaded, -EPROTO when its ABI is older or incompatible, -EACCES/-EPERM without the
 * rights; *ret_ops and *ret_ctx untouched on failure. ret_ops->destroy frees ret_ctx. */
int nv_kmod_attribution_new(const char *dev_path, const char *root, const nv_attribution_ops **ret_ops,
                            void **ret_ctx);

/* Which node each CPU belongs to, from ROOT/sys/devices/system/node/nodeN/cpulist: *ret_map[cpu]
 * is the node or -1, *ret_n the map's length (0 on a kernel without NUMA in sysfs). 0, -EINVAL or
 * -ERANGE on a malformed list, -ENOMEM; the return parameters are untouched on failure. */
int nv_cpu_nodes_load(const char *root, int **ret_map, unsigned *ret_n);

/* The VMM's address of a guest-physical address, through the VM's memory slots (address space 0,
 * where guest RAM is). 0 or -ENOENT when no slot holds gpa. */
int nv_slots_gpa_to_hva(const struct numavd_ept_slot *slots, size_t n, uint64_t gpa, uint64_t *ret_hva);
