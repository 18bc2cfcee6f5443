/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* varlink-certification: the varlink project's certification test on src/varlink, both sides.
 *
 *   varlink-certification --varlink=unix:PATH            serve org.varlink.certification
 *   varlink-certification --varlink=unix:PATH --client   certify the server at PATH
 *
 * The data of the test (what each call sends and answers) is here, shared by both sides, so that
 * each side holds the other to the same values. */

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "varlink-certification.h"
#include "varlink/varlink.h"

const char cert_interface_description[] =
        "# Interface to test varlink implementations against.\n"
        "interface org.varlink.certification\n"
        "\n"
        "type Interface (\n"
        "  foo: ?[]?[string](foo, bar, baz),\n"
        "  anon: (foo: bool, bar: bool)\n"
        ")\n"
        "\n"
        "type MyType (\n"
        "  object: object,\n"
        "  enum: (one, two, three),\n"
        "  struct: (first: int, second: string),\n"
        "  array: []string,\n"
        "  dictionary: [string]string,\n"
        "  stringset: [string](),\n"
        "  nullable: ?string,\n"
        "  nullable_array_struct: ?[](first: int, second: string),\n"
        "  interface: Interface\n"
        ")\n"
        "\n"
        "method Start() -> (client_id: string)\n"
        "method Test01(client_id: string) -> (bool: bool)\n"
        "method Test02(client_id: string, bool: bool) -> (int: int)\n"
        "method Test03(client_id: string, int: int) -> (float: float)\n"
        "method Test04(client_id: string, float: float) -> (string: string)\n"
        "method Test05(client_id: string, string: string) -> (\n"
        "  bool: bool,\n  int: int,\n  float: float,\n  string: string\n)\n"
        "method Test06(\n  client_id: string,\n  bool: bool,\n  int: int,\n  float: float,\n"
        "  string: string\n) -> (\n"
        "  struct: (\n    bool: bool,\n    int: int,\n    float: float,\n    string: string\n  )\n)\n"
        "method Test07(\n  client_id: string,\n"
        "  struct: (\n    bool: bool,\n    int: int,\n    float: float,\n    string: string\n  )\n"
        ") -> (map: [string]string)\n"
        "method Test08(client_id: string, map: [string]string) -> (set: [string]())\n"
        "method Test09(client_id: string, set: [string]()) -> (mytype: MyType)\n"
        "# returns more than one reply with \"continues\"\n"
        "method Test10(client_id: string, mytype: MyType) -> (string: string)\n"
        "method Test11(\n  client_id: string,\n  last_more_replies: []string\n) -> ()\n"
        "method End(client_id: string) -> (all_ok: bool)\n"
        "\n"
        "error ClientIdError ()\n"
        "\n"
        "error CertificationError (wants: object, got: object)\n";

/* MyType as Test09 answers it. The maps inside interface.foo are those of varlink-go's server
 * (capitalised keys "Foo" and "Bar"), which checks them again in Test10. */
#define MYTYPE                                                                                             \
        "{\"object\": {\"method\": \"org.varlink.certification.Test09\","                                  \
        " \"parameters\": {\"map\": {\"foo\": \"Foo\", \"bar\": \"Bar\"}}},"                               \
        " \"enum\": \"two\", \"struct\": {\"first\": 1, \"second\": \"2\"},"                               \
        " \"array\": [\"one\", \"two\", \"three\"], \"dictionary\": {\"foo\": \"Foo\", \"bar\": \"Bar\"}," \
        " \"stringset\": {\"one\": {}, \"two\": {}, \"three\": {}},"                                       \
        " \"interface\": {\"foo\": [null, {\"Foo\": \"foo\", \"Bar\": \"bar\"}, null,"                     \
        " {\"one\": \"foo\", \"two\": \"bar\"}], \"anon\": {\"foo\": true, \"bar\": false}}}"

/* Replies, the float π aside (JSON text would round it differently in each language). */
static const char *const replies[_CERT_STEPS] = {
        [1] = "{\"bool\": true}",
        [2] = "{\"int\": 1}",
        [3] = "{\"float\": 1.0}",
        [4] = "{\"string\": \"ping\"}",
        [5] = "{\"bool\": false, \"int\": 2, \"float\": 0, \"string\": \"a lot of string\"}",
        [6] = "{\"struct\": {\"bool\": false, \"int\": 2, \"float\": 0, \"string\": \"a lot of string\"}}",
        [7] = "{\"map\": {\"foo\": \"Foo\", \"bar\": \"Bar\"}}",
        [8] = "{\"set\": {\"one\": {}, \"two\": {}, \"three\": {}}}",
        [9] = "{\"mytype\": " MYTYPE "}",
        [11] = "{}",
        [12] = "{\"all_ok\": true}",
};

const char *cert_method(unsigned step) {
        static const char *const names[_CERT_STEPS] = {
                "Start",  "Test01", "Test02", "Test03", "Test04", "Test05", "Test06",
                "Test07", "Test08", "Test09", "Test10", "Test11", "End",
        };
        return step < _CERT_STEPS ? names[step] : NULL;
}

json_object *cert_more_reply(unsigned i) {
        json_object *o = json_object_new_object();
        char s[32];

        snprintf(s, sizeof(s), "Reply number %u", i + 1);
        json_object_object_add(o, "string", json_object_new_string(s));
        return o;
}

json_object *cert_reply(unsigned step) {
        json_object *o, *inner;

        if (step == CERT_START || step >= _CERT_STEPS)
                return NULL;
        if (step == CERT_TEST10)
                return cert_more_reply(CERT_MORE_REPLIES - 1);
        o = json_tokener_parse(replies[step]);
        if (step == 5)
                json_object_object_add(o, "float", json_object_new_double(M_PI));
        if (step == 6 && json_object_object_get_ex(o, "struct", &inner))
                json_object_object_add(inner, "float", json_object_new_double(M_PI));
        return o;
}

json_object *cert_parameters(unsigned step, const char *client_id) {
        json_object *o;

        if (step == CERT_START)
                return json_object_new_object();
        if (step == CERT_TEST11) {
                json_object *a = json_object_new_array();

                for (unsigned i = 0; i < CERT_MORE_REPLIES; i++) {
                        _cleanup_(json_object_putp) json_object *r = cert_more_reply(i);
                        json_object *s;

                        json_object_object_get_ex(r, "string", &s);
                        json_object_array_add(a, json_object_get(s));
                }
                o = json_object_new_object();
                json_object_object_add(o, "last_more_replies", a);
        } else if (step == CERT_END || step == 1)
                o = json_object_new_object();
        else
                o = cert_reply(step - 1);
        json_object_object_add(o, "client_id", json_object_new_string(client_id));
        return o;
}

static bool is_null(json_object *o) {
        return !o || json_object_is_type(o, json_type_null);
}

static bool is_number(json_object *o) {
        return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

/* Every non-null member of a is in b, equal. */
static bool members_in(json_object *a, json_object *b) {
        json_object_object_foreach(a, key, value) {
                json_object *other = NULL;

                if (is_null(value))
                        continue;
                if (!json_object_object_get_ex(b, key, &other) || !cert_json_equal(value, other))
                        return false;
        }
        return true;
}

bool cert_json_equal(json_object *a, json_object *b) {
        if (is_null(a) || is_null(b))
                return is_null(a) && is_null(b);
        if (is_number(a) && is_number(b)) {
                if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int))
                        return json_object_get_int64(a) == json_object_get_int64(b);
                return json_object_get_double(a) == json_object_get_double(b);
        }
        if (json_object_get_type(a) != json_object_get_type(b))
                return false;
        switch (json_object_get_type(a)) {
        case json_type_boolean:
                return json_object_get_boolean(a) == json_object_get_boolean(b);
        case json_type_string:
                return strcmp(json_object_get_string(a), json_object_get_string(b)) == 0;
        case json_type_array:
                if (json_object_array_length(a) != json_object_array_length(b))
                        return false;
                for (size_t i = 0; i < json_object_array_length(a); i++)
                        if (!cert_json_equal(json_object_array_get_idx(a, i),
                                             json_object_array_get_idx(b, i)))
                                return false;
                return true;
        case json_type_object:
                return members_in(a, b) && members_in(b, a);
        default:
                return false;
        }
}

static void help(void) {
        printf("%s --varlink=ADDRESS [--client]\n\n"
               "Serve org.varlink.certification on ADDRESS, or with --client certify the server there.\n",
               program_invocation_short_name);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "varlink", required_argument, NULL, 'v' },
                { "client", no_argument, NULL, 'c' },
                {},
        };
        const char *address = NULL;
        bool client = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 'v':
                        address = optarg;
                        break;
                case 'c':
                        client = true;
                        break;
                default:
                        return 2;
                }
        if (!address || optind != argc) {
                fprintf(stderr, "Usage: %s --varlink=ADDRESS [--client]\n", program_invocation_short_name);
                return 2;
        }
        r = client ? cert_client_run(address) : cert_server_run(address);
        if (r < 0 && r != -EPROTO)
                fprintf(stderr, "%s: %s\n", client ? "client" : "server", strerror(-r));
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
