/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Small, fast, repeatable randomness: splitmix64 (Steele, Lea, Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014) as a generator and, through its finalizer, as a
 * counter-based hash, so that a draw depends only on its key and never on call order. */

#include <stdint.h>

/* splitmix64's finalizer: a bijective 64-bit mix. */
static inline uint64_t nv_mix64(uint64_t x) {
        x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
        return x ^ (x >> 31);
}

/* The next number of a splitmix64 generator. */
static inline uint64_t nv_splitmix64(uint64_t *state) {
        return nv_mix64(*state += UINT64_C(0x9e3779b97f4a7c15));
}

/* A uniform integer in [0, n), n > 0 (Lemire's multiply-high; bias below n / 2^64). */
static inline uint64_t nv_random_below(uint64_t *state, uint64_t n) {
        return (uint64_t)(((unsigned __int128)nv_splitmix64(state) * n) >> 64);
}

/* A uniform double in [0, 1) that depends only on (key, a, b). */
static inline double nv_uniform_at(uint64_t key, uint64_t a, uint64_t b) {
        uint64_t h = nv_mix64(key ^ nv_mix64(a + UINT64_C(0x9e3779b97f4a7c15) * (b + 1)));
        return (double)(h >> 11) * 0x1.0p-53;
}
