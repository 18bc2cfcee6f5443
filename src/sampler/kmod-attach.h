/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the samplers of the numavd_ept module (the access backend, backend-kmod.c, and the
 * attribution sampler, attribution-kmod.c) share: the module's ABI version, and the VMs a
 * sampler has attached. Each VM gets its own open file of the device, attached to the VM by
 * handing over the VMM's KVM VM fd (pidfd_open + pidfd_getfd); closing that file drops the
 * module's reference on the VM. */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/host.h"
#include "../include/uapi/numavd_ept.h" /* top_srcdir/include, through -I top_srcdir/src */

/* Open dev_path and read its ABI version into *ret_ver (the file is closed again). -ENOENT
 * when the module is not loaded, -ENOTTY (or another -errno of the ioctl) when dev_path is not
 * the module, -EACCES/-EPERM without the rights; *ret_ver untouched on failure. Which versions
 * will do is the caller's to say. */
int nv_kmod_read_version(const char *dev_path, struct numavd_ept_version *ret_ver);

/* An open file of dev_path attached to vm's KVM VM, whose fd is taken from the VMM (pidfd_open +
 * pidfd_getfd, root only); failures are logged. The fd, or -errno. */
int nv_kmod_open_vm(const char *dev_path, const nv_vm_info *vm);

/* The number of the fd of process pid that links to "anon_inode:kvm-vm" in
 * PROC_ROOT/PID/fd (proc_root NULL: /proc); -ENOENT if none, -errno if the fds cannot be read. */
int nv_kmod_find_vm_fd(const char *proc_root, pid_t pid);

typedef struct nv_kmod_vm {
        uint64_t id;
        int dev_fd; /* attached to the VM; -EBADF once the VMM is gone */
        void *data; /* the sampler's own, freed with the table's free_data */
} nv_kmod_vm;

/* The VMs one sampler has attached, by id: at most one file each. */
typedef struct nv_kmod_vms {
        char *dev_path;
        nv_kmod_vm *vms;
        size_t nr_vms;
        void (*free_data)(void *data); /* NULL: data is not the table's to free */
        /* How a VM's file is opened and attached: nv_kmod_open_vm; tests stand in for the device
         * here. */
        int (*open_vm)(const char *dev_path, const nv_vm_info *vm);
} nv_kmod_vms;

/* An empty table that attaches VMs through dev_path. -ENOMEM; nv_kmod_vms_done() frees it either
 * way. */
int nv_kmod_vms_init(nv_kmod_vms *t, const char *dev_path, void (*free_data)(void *data));

/* Detach every VM and free the table (a zeroed table too). */
void nv_kmod_vms_done(nv_kmod_vms *t);

/* Attach vm: 1 and *ret_vm its new entry (valid until the next attach or detach), for the sampler
 * to ask the module about it and to set its data, or to detach it again; 0 when vm is attached
 * already (also after its VMM is gone), without opening anything, and *ret_vm untouched; -errno
 * when the file cannot be opened and attached (logged), or -ENOMEM. */
int nv_kmod_vms_attach(nv_kmod_vms *t, const nv_vm_info *vm, nv_kmod_vm **ret_vm);

/* Close the VM's file and free its data; nothing when vm_id is not attached. */
void nv_kmod_vms_detach(nv_kmod_vms *t, uint64_t vm_id);

/* The entry of an attached VM whose VMM is still there: 0, or -ENOENT when vm_id is not attached,
 * -ESRCH when its VMM is gone (nv_kmod_vm_gone()); *ret_vm untouched on failure. */
int nv_kmod_vms_get(const nv_kmod_vms *t, uint64_t vm_id, nv_kmod_vm **ret_vm);

/* The module answered -ESRCH, the VMM exited: let go of the VM now (its entry stays until it is
 * detached, and answers -ESRCH). Returns -ESRCH. */
int nv_kmod_vm_gone(nv_kmod_vm *v);
