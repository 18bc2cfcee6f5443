/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/access-backends.h"
#include "sampler/backend-damon.h"
#include "sampler/backend-kmod.h"

static int open_kmod(const nv_access_params *p, const nv_access_ops **ret_ops, void **ret_ctx) {
        return nv_kmod_backend_new(NULL, p->nested, ret_ops, ret_ctx);
}

static int open_damon(const nv_access_params *p, const nv_access_ops **ret_ops, void **ret_ctx) {
        nv_damon_params dp = {
                .sample_interval = p->sample_interval,
                .aggr_interval = p->aggr_interval,
                .min_regions = p->min_regions,
                .max_regions = p->max_regions,
        };

        return nv_damon_backend_new(&dp, ret_ops, ret_ctx);
}

const nv_access_backend nv_real_access_backends[] = {
        {
                .name = "kmod",
                .describe = "the numavd_ept module (EPT/NPT accessed bits)",
                .hint = "is numavd_ept loaded?",
                .open = open_kmod,
        },
        {
                .name = "damon",
                .describe = "DAMON: one vaddr kdamond per VM",
                .open = open_damon,
        },
};
const size_t nv_real_access_backends_len = ARRAY_SIZE(nv_real_access_backends);
