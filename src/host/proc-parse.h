/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Parsers for the /proc files the VM source reads: pure functions over text, tested alone. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/inventory.h"

/* Guest RAM candidates are writable private anonymous, memfd or hugetlbfs mappings of at least
 * this size. Smaller ones are QEMU's own heap, stacks, ROMs and video memory; glibc's malloc
 * arenas reserve exactly 64 MiB but map only the part in use writable, so they rarely reach it. */
#define NV_PROC_VMS_MIN_RAM_BYTES (64 * MIB)
/* Bounds on what one process may make us hold. */
#define NV_PROC_VMS_MAX_RANGES 256u
#define NV_PROC_VMS_MAX_VCPUS  4096u

/* From a NUL-separated command line: "-name guest=NAME,..." or "-name NAME" (QEMU's ",," is a
 * literal comma) and "-uuid X". *ret_name is NULL when there is no name; ret_uuid "" when there is
 * no valid uuid. 0 or -ENOMEM. */
int nv_qemu_cmdline_parse(const char *cmdline, size_t size, char **ret_name, char ret_uuid[37]);

/* "CPU 3/KVM" (or "CPU 3/TCG", with or without a trailing newline) -> 3; -EINVAL for any other
 * thread name, -ERANGE for an index of NV_PROC_VMS_MAX_VCPUS or more. */
int nv_vcpu_comm_parse(const char *comm, unsigned *ret_index);

typedef struct nv_proc_stat {
        char comm[64];
        uint64_t utime, stime; /* clock ticks (fields 14, 15) */
        uint64_t starttime;    /* clock ticks after boot (field 22) */
        int processor;         /* CPU last run on (field 39) */
} nv_proc_stat;
/* Parse /proc/PID/stat or /proc/PID/task/TID/stat (comm may hold spaces and parentheses). */
int nv_proc_stat_parse(const char *text, nv_proc_stat *ret);

/* Guest RAM candidates of an smaps text, in address order, gpa and cell unset, with the rule
 * documented in proc-parse.c. ret_mlocked_bytes: the size of the VMAs mlock()ed ("lo" in VmFlags).
 * 0, -ENOMEM, -E2BIG beyond NV_PROC_VMS_MAX_RANGES. */
int nv_smaps_parse(const char *text, nv_ram_range **ret_ranges, size_t *ret_n, uint64_t *ret_mlocked_bytes);

/* Whether /proc/PID/status shows pinned memory: VmPin > 0, or more VmLck than the mlock()ed VMAs
 * account for (VFIO type1 charges its pins to locked_vm without locking any VMA). */
bool nv_status_says_pinned(const char *status, uint64_t mlocked_bytes);
