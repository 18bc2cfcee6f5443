/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* nv-vmm-bench.c: harvest accuracy and cost on the VM vm, whose data pages start at data; touch
 * lets the guest write one byte in each listed page. Appends to out; 0 or -1. */
int nv_vmm_bench(int vm, uint8_t *data, uint64_t pages, unsigned rounds, const char *out,
                 void (*touch)(const uint32_t *idx, uint32_t n, bool forever));
