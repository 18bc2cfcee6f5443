/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kmod attribution sampler where the module cannot load (this machine): the guest-physical to
 * VMM address translation through memory slots, and a clean, untouched failure when
 * /dev/numavd_ept is absent or is not the module. ZAP and DRAIN themselves are tested in the lab
 * (tests/lab/t-kmod-attrib.sh, t-kmod-fuzz.sh). */
#include <errno.h>

#include "common/macro.h"
#include "sampler/attribution-kmod.h"
#include "tap.h"

static void test_gpa_to_hva(void) {
        const struct numavd_ept_slot slots[] = {
                { .as_id = 0, .id = 0, .gpa = 0, .pages = 768 * 256, .hva = 0x7f0000000000 }, /* 768 MiB */
                { .as_id = 0, .id = 1, .gpa = UINT64_C(4) << 30, .pages = 256 * 256, .hva = 0x7f8000000000 },
                { .as_id = 1, .id = 0, .gpa = 0xa0000, .pages = 32, .hva = 0x7f9000000000 }, /* SMM */
        };
        uint64_t hva = 42;

        ok(nv_slots_gpa_to_hva(slots, 3, 0x1000, &hva) == 0 && hva == 0x7f0000001000, "low RAM");
        ok(nv_slots_gpa_to_hva(slots, 3, (UINT64_C(4) << 30) + 0x200000, &hva) == 0 && hva == 0x7f8000200000,
           "RAM above 4 GiB");
        ok(nv_slots_gpa_to_hva(slots, 3, 0xa0000, &hva) == 0 && hva == 0x7f00000a0000,
           "address space 0 wins over SMM's");
        hva = 42;
        is_int(nv_slots_gpa_to_hva(slots, 3, UINT64_C(768) << 20, &hva), -ENOENT,
               "the hole above low RAM: -ENOENT");
        is_int(nv_slots_gpa_to_hva(slots, 3, UINT64_C(5) << 30, &hva), -ENOENT,
               "just past the last slot: -ENOENT");
        ok(hva == 42, "and the address is untouched");
        is_int(nv_slots_gpa_to_hva(NULL, 0, 0, &hva), -ENOENT, "no slots: -ENOENT");
}

static void test_no_module(void) {
        const int cpu_node[] = { 0, 0, 1, 1 };
        const nv_attribution_ops *ops = (const void *)1;
        void *ctx = (void *)2;
        int r;

        r = nv_kmod_attribution_new("/nonexistent/numavd_ept", cpu_node, 4, &ops, &ctx);
        is_int(r, -ENOENT, "without the module the attribution sampler fails with -ENOENT");
        ok(ops == (const void *)1 && ctx == (void *)2, "and leaves its return parameters untouched");
        r = nv_kmod_attribution_new("/dev/null", cpu_node, 4, &ops, &ctx);
        ok(r < 0 && ops == (const void *)1 && ctx == (void *)2,
           "a device that is not numavd_ept is refused (%d)", r);
}

int main(void) {
        test_gpa_to_hva();
        test_no_module();
        return tap_done();
}
