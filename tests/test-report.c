/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A VM's JSON is built once (report.c) and served as is by GetVM, ListVMs and --summary=json: its
 * keys must be exactly the fields io.numavd.Manager declares for the VM type, every non-nullable
 * field present. Driven by the daemon against a simulated host. */

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/manager.h"
#include "daemon/varlink-manager.h"
#include "tap.h"
#include "test-util.h"

static const char scn[] = "seed 5\n"
                          "node 0 mem 4G cpus 0-3\n"
                          "node 1 mem 4G cpus 4-7\n"
                          "vm web1 mem 512M vcpus 2 backing anon first-touch 0\n"
                          "  run all on 4-7\n"
                          "  workload hot 64M skew 0.9 rate 512K\n";

#define MAX_FIELDS     64
#define diag(fmt, ...) printf("# " fmt "\n", __VA_ARGS__)

typedef struct idl_field {
        char name[64];
        bool nullable;
} idl_field;

/* The fields of `type NAME (...)` in the IDL, in order; -1 when the type is not there. */
static int idl_type_fields(const char *idl, const char *type, idl_field *ret, size_t cap) {
        char head[128];
        const char *p, *end;
        int n = 0;

        snprintf(head, sizeof(head), "\ntype %s (\n", type);
        p = strstr(idl, head);
        if (!p)
                return -1;
        p += strlen(head);
        end = strstr(p, "\n)");
        if (!end)
                return -1;
        while (p < end) {
                const char *eol = strchr(p, '\n'), *colon;

                if (!eol || eol > end)
                        eol = end;
                while (p < eol && *p == ' ')
                        p++;
                colon = memchr(p, ':', (size_t)(eol - p));
                if (*p != '#' && colon && (size_t)n < cap && (size_t)(colon - p) < sizeof(ret[n].name)) {
                        memcpy(ret[n].name, p, (size_t)(colon - p));
                        ret[n].name[colon - p] = 0;
                        ret[n].nullable = colon[1] == ' ' && colon[2] == '?';
                        n++;
                }
                p = eol + 1;
        }
        return n;
}

static int find_field(const idl_field *f, int n, const char *name) {
        for (int i = 0; i < n; i++)
                if (strcmp(f[i].name, name) == 0)
                        return i;
        return -1;
}

static void check_keys(json_object *vm, const idl_field *f, int n, const char *what) {
        unsigned undeclared = 0, missing = 0;

        json_object_object_foreach(vm, key, value) {
                (void)value;
                if (find_field(f, n, key) < 0) {
                        diag("%s serves %s, which the VM type does not declare", what, key);
                        undeclared++;
                }
        }
        for (int i = 0; i < n; i++) {
                json_object *v = NULL;

                if (!f[i].nullable && (!json_object_object_get_ex(vm, f[i].name, &v) || !v)) {
                        diag("%s lacks %s, which the VM type requires", what, f[i].name);
                        missing++;
                }
        }
        is_int(undeclared, 0, "%s: every key is declared by io.numavd.Manager's VM type", what);
        is_int(missing, 0, "%s: every non-nullable field of the VM type is served", what);
}

static void test_idl_parser(void) {
        idl_field f[4];

        is_int(idl_type_fields("\ntype T (\n  a: int,\n  # b: x\n  c: ?string\n)\n", "T", f, 4), 2,
               "idl: two fields, the comment skipped");
        ok(strcmp(f[0].name, "a") == 0 && !f[0].nullable && strcmp(f[1].name, "c") == 0 && f[1].nullable,
           "idl: names and nullability");
        is_int(idl_type_fields("\ntype T (\n  a: int\n)\n", "U", f, 4), -1, "idl: an unknown type is -1");
}

int main(void) {
        char scn_path[] = "/tmp/numavd-test-report-XXXXXX",
             conf_path[] = "/tmp/numavd-test-report-conf-XXXXXX";
        idl_field fields[MAX_FIELDS];
        nv_manager *m = NULL;
        int n, r;

        log_set_max_level(LOG_WARNING);
        test_idl_parser();
        n = idl_type_fields(nv_manager_interface_description, "VM", fields, MAX_FIELDS);
        ok(n > 10 && n < MAX_FIELDS, "the IDL declares the VM type (%d fields)", n);
        ok(find_field(fields, n, "memoryBytes") >= 0 && find_field(fields, n, "ramBytes") < 0,
           "one name for a VM's memory: memoryBytes");

        if (test_write_temp(scn_path, scn) < 0 || test_write_temp(conf_path, "[Sampler]\nBackend=sim\n") < 0)
                return tap_skip_all("cannot write to /tmp");
        nv_manager_options o = { .config_file = conf_path,
                                 .sim_scenario = scn_path,
                                 .log_level = LOG_WARNING };
        r = nv_manager_new(&o, &m);
        if (is_int(r, 0, "a manager runs the scenario") && is_int(nv_manager_start(m), 0, "it starts") &&
            is_int((int)m->nr_vms, 1, "it tracks the VM")) {
                json_object *vm, *v;

                for (unsigned e = 0; e < 3;)
                        e += nv_manager_tick(m) > 0;
                vm = nv_report_vm_json(m, m->vms[0]);
                check_keys(vm, fields, n, "a VM's JSON");
                ok(json_object_object_get_ex(vm, "name", &v) &&
                           strcmp(json_object_get_string(v), "web1") == 0,
                   "its name");
                ok(json_object_object_get_ex(vm, "memoryBytes", &v) &&
                           json_object_get_uint64(v) == UINT64_C(512) * 1024 * 1024,
                   "its memory: 512 MiB");
                ok(json_object_object_get_ex(vm, "vcpuNode", &v) && json_object_get_int(v) == 1,
                   "its vCPUs run on node 1");
                ok(json_object_object_get_ex(vm, "truth", &v) && v, "a simulated host's truth is served");
                json_object_put(vm);
        }
        nv_manager_free(m);
        unlink(scn_path);
        unlink(conf_path);
        return tap_done();
}
