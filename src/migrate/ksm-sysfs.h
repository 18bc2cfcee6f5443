/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The KSM actuator: /sys/kernel/mm/ksm and /proc/PID/ksm_stat under an injectable root.
 *
 * The knobs numavd may write (run, pages_to_scan, sleep_millisecs, merge_across_nodes) are saved
 * before the first write, to memory and to a state file (STATE_DIR/ksm.state, normally
 * /run/numavd, with the owner's pid), and written back when numavd stops. A state file found at
 * start whose owner is gone was left by a run that did not stop cleanly: its settings are the ones
 * the host had before, so they are restored first; one whose owner lives means another numavd
 * manages KSM (-EBUSY: leave KSM alone). */

#include <sys/types.h>

#include "model/host.h"

#define NV_KSM_STATE_FILE "ksm.state"

typedef struct nv_ksm_sysfs nv_ksm_sysfs;

/* root: "" or NULL for "/"; state_dir: where ksm.state lives (NULL: ROOT/run/numavd).
 * -ENOENT when the kernel has no KSM, -EBUSY when another live numavd manages it. */
int nv_ksm_sysfs_new(const char *root, const char *state_dir, nv_ksm_sysfs **ret);
/* Restores the saved settings, removes the state file, frees. Accepts NULL. */
nv_ksm_sysfs *nv_ksm_sysfs_free(nv_ksm_sysfs *k);
DEFINE_TRIVIAL_CLEANUP_FUNC(nv_ksm_sysfs *, nv_ksm_sysfs_free);

/* Write back the settings found at start and remove the state file. 0 or the first -errno. */
int nv_ksm_sysfs_restore(nv_ksm_sysfs *k);

int nv_ksm_sysfs_read(nv_ksm_sysfs *k, nv_ksm_state *ret);
int nv_ksm_sysfs_write(nv_ksm_sysfs *k, const nv_ksm_state *cur, const nv_ksm_knobs *knobs);

/* ROOT/proc/PID/ksm_stat. -ENOENT when the kernel or process has none. */
int nv_ksm_vm_stat_read(const char *root, pid_t pid, nv_ksm_vm_stat *ret);

/* CPU time ksmd used since boot, in microseconds (-ESRCH: no ksmd thread found). */
int nv_ksm_sysfs_ksmd_cpu(nv_ksm_sysfs *k, uint64_t *ret_usec);

/* The ops for nv_host.ksm; ctx is an nv_ksm_sysfs (destroy restores and frees it). */
extern const nv_ksm_ops nv_ksm_sysfs_ops;
