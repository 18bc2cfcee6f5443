/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the configuration parser, nv_config_parse_text(). */

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(nv_config_freep) nv_config *c = NULL;
        _cleanup_free_ char *text = NULL;

        log_set_max_level(LOG_CRIT);
        text = malloc(size + 1);
        if (!text || nv_config_new_default(&c) < 0)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        (void)nv_config_parse_text(c, text, "fuzz.conf");
        return 0;
}
