/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kmod backend where the module cannot load (this machine): a clean, untouched failure when
 * /dev/numavd_ept is absent or is not the module. How VMs are attached is tested in
 * test-kmod-attach.c; the module itself in the lab (tests/lab/t-kmod-*.sh). */
#include <errno.h>
#include <string.h>

#include "common/macro.h"
#include "sampler/backend-kmod.h"
#include "tap.h"

static void test_no_module(void) {
        const nv_access_ops *ops = (const void *)1;
        void *ctx = (void *)2;
        int r;

        r = nv_kmod_backend_new("/nonexistent/numavd_ept", false, &ops, &ctx);
        is_int(r, -ENOENT, "without the module the backend fails with -ENOENT");
        ok(ops == (const void *)1 && ctx == (void *)2, "and leaves its return parameters untouched");

        r = nv_kmod_backend_new("/dev/null", false, &ops, &ctx);
        ok(r < 0 && ops == (const void *)1, "a device that is not numavd_ept is refused (%d)", r);

        r = nv_kmod_backend_new(NULL, false, &ops, &ctx);
        if (r >= 0) { /* the module is loaded here after all */
                ok(ops && strcmp(ops->name, "kmod") == 0, "the loaded module gives the kmod backend");
                ops->destroy(ctx);
        } else
                ok(r == -ENOENT || r == -EACCES || r == -EPERM, "the default device is absent here (%d)", r);
}

int main(void) {
        test_no_module();
        return tap_done();
}
