/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <linux/kvm.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

/* The tiny VMM's guest-physical layout: code at 0 (the pass counter at PASS_COUNTER), the page
 * table of the touch loop at TABLE_GPA, guest data from DATA_GPA (2 MiB aligned). */
#define PASS_COUNTER 0xff0u
#define TABLE_GPA    0x1000u
#define DATA_GPA     (4u << 20)
#define PAGE         4096u
#define HUGE         (2u << 20)

_Noreturn void die(const char *what);
/* A vCPU of vm in flat 32-bit protected mode; its kvm_run into *ret_run. Dies on failure. */
int nv_vmm_vcpu_new(int vm, unsigned id, struct kvm_run **ret_run);
/* Run the touch loop at code_gpa over the n page addresses at table_gpa (once, or forever). */
void nv_vmm_run(int vcpu, struct kvm_run *run, uint32_t code_gpa, uint32_t table_gpa, uint32_t n,
                bool forever);

/* nv-vmm-bench.c: harvest accuracy and cost on the VM vm, whose data pages start at data; touch
 * lets the guest write one byte in each listed page. Appends to out; 0 or -1. */
int nv_vmm_bench(int vm, uint8_t *data, uint64_t pages, unsigned rounds, const char *out,
                 void (*touch)(const uint32_t *idx, uint32_t n, bool forever));
/* nv-vmm-attrib.c: fault attribution through ZAP and DRAIN on the VM vm (guest RAM at ram,
 * vCPU 0 already made: vcpu0, run0) with two vCPUs pinned to cpus[0] and cpus[1], each touching
 * its half of the data pages. Appends to out; 0 or -1. */
int nv_vmm_attrib(int vm, uint8_t *ram, int vcpu0, struct kvm_run *run0, uint64_t pages,
                  const cpu_set_t cpus[2], unsigned secs, const char *out);
/* nv-vmm-scene.c: the bake-off's workload SCENE (rehome, shift, wide) on the VM vm, its hot set
 * hot_pages data pages from hot_first, vCPU i pinned to cpus[i]; appends a line a second to
 * series. Runs until killed; a negative errno for a bad scene. */
int nv_vmm_scene(int vm, uint8_t *ram, int vcpu0, struct kvm_run *run0, uint64_t pages, uint64_t hot_first,
                 uint64_t hot_pages, const cpu_set_t cpus[2], const char *scene, const char *series);
