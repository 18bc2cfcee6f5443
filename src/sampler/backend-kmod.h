/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The `kmod` access backend: the numavd_ept kernel module (kernel/, ABI in
 * include/uapi/numavd_ept.h). Each VM gets its own open file of the device, attached to the VM
 * by handing over the VMM's KVM VM fd (pidfd_open + pidfd_getfd); harvest tests and clears the
 * accessed bits of the VM's EPT/NPT through NUMAVD_EPT_IOC_HARVEST. */

#include <stdbool.h>
#include <sys/types.h>

#include "model/host.h"

/* Open dev_path (NULL: /dev/numavd_ept) and check its ABI version. nested: the host runs under a
 * hypervisor, so always clear with a TLB flush (the module's INFO also says so, per VM).
 * -ENOENT when the module is not loaded, -EPROTO on an ABI mismatch, -EACCES/-EPERM without
 * the rights; *ret_ops and *ret_ctx untouched on failure. ret_ops->destroy frees ret_ctx. */
int nv_kmod_backend_new(const char *dev_path, bool nested, const nv_access_ops **ret_ops, void **ret_ctx);

/* An open file of dev_path attached to vm's KVM VM, whose fd is taken from the VMM (pidfd_open +
 * pidfd_getfd, root only); failures are logged. The fd, or -errno. */
int nv_kmod_open_vm(const char *dev_path, const nv_vm_info *vm);

/* The number of the fd of process pid that links to "anon_inode:kvm-vm" in
 * PROC_ROOT/PID/fd (proc_root NULL: /proc); -ENOENT if none, -errno if the fds cannot be read. */
int nv_kmod_find_vm_fd(const char *proc_root, pid_t pid);
