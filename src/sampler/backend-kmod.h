/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The `kmod` access backend: the numavd_ept kernel module (kernel/, ABI in
 * include/uapi/numavd_ept.h). Each VM gets its own open file of the device, attached to the VM
 * by handing over the VMM's KVM VM fd (kmod-attach.h); harvest tests and clears the accessed bits
 * of the VM's EPT/NPT through NUMAVD_EPT_IOC_HARVEST. */

#include <stdbool.h>

#include "model/host.h"

/* Open dev_path (NULL: /dev/numavd_ept) and check its ABI version. nested: the host runs under a
 * hypervisor, so always clear with a TLB flush (the module's INFO also says so, per VM).
 * -ENOENT when the module is not loaded, -EPROTO on an ABI mismatch, -EACCES/-EPERM without
 * the rights; *ret_ops and *ret_ctx untouched on failure. ret_ops->destroy frees ret_ctx. */
int nv_kmod_backend_new(const char *dev_path, bool nested, const nv_access_ops **ret_ops, void **ret_ctx);
