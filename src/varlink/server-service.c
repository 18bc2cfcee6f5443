/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.varlink.service, which every varlink server provides: GetInfo and GetInterfaceDescription. */

#include <string.h>

#include "varlink/server-internal.h"

static const char service_description[] =
        "# The Varlink Service Interface is provided by every varlink service. It\n"
        "# describes the service and the interfaces it implements.\n"
        "interface org.varlink.service\n"
        "\n"
        "# Get a list of all the interfaces a service provides and information\n"
        "# about the implementation.\n"
        "method GetInfo() -> (\n"
        "  vendor: string,\n"
        "  product: string,\n"
        "  version: string,\n"
        "  url: string,\n"
        "  interfaces: []string\n"
        ")\n"
        "\n"
        "# Get the description of an interface that is implemented by this service.\n"
        "method GetInterfaceDescription(interface: string) -> (description: string)\n"
        "\n"
        "# The requested interface was not found.\n"
        "error InterfaceNotFound (interface: string)\n"
        "\n"
        "# The requested method was not found\n"
        "error MethodNotFound (method: string)\n"
        "\n"
        "# The interface defines the requested method, but the service does not\n"
        "# implement it.\n"
        "error MethodNotImplemented (method: string)\n"
        "\n"
        "# One of the passed parameters is invalid.\n"
        "error InvalidParameter (parameter: string)\n"
        "\n"
        "# Client is denied access\n"
        "error PermissionDenied ()\n"
        "\n"
        "# Method is expected to be called with 'more' set to true, but wasn't\n"
        "error ExpectedMore ()\n";

static int service_get_info(nv_varlink_call *call, json_object *parameters, unsigned flags, void *userdata) {
        nv_varlink_server *s = call->conn->server;
        json_object *p = json_object_new_object(), *a = json_object_new_array();

        json_object_object_add(p, "vendor", json_object_new_string(s->vendor));
        json_object_object_add(p, "product", json_object_new_string(s->product));
        json_object_object_add(p, "version", json_object_new_string(s->version));
        json_object_object_add(p, "url", json_object_new_string(s->url));
        for (size_t i = 0; i < s->nr_interfaces; i++)
                json_object_array_add(a, json_object_new_string(s->interfaces[i].name));
        json_object_object_add(p, "interfaces", a);
        return nv_varlink_reply(call, p);
}

static int service_get_description(nv_varlink_call *call, json_object *parameters, unsigned flags,
                                   void *userdata) {
        nv_varlink_server *s = call->conn->server;
        json_object *v, *p;
        const interface *i;
        const char *name;

        if (!json_object_object_get_ex(parameters, "interface", &v) ||
            !json_object_is_type(v, json_type_string))
                return nv_varlink_error_invalid_parameter(call, "interface");
        name = json_object_get_string(v);
        i = nv_varlink_find_interface(s, name, strlen(name));
        if (!i)
                return nv_varlink_error_with(call, NV_VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", name);
        p = json_object_new_object();
        json_object_object_add(p, "description", json_object_new_string(i->description));
        return nv_varlink_reply(call, p);
}

static const nv_varlink_method service_methods[] = {
        { "GetInfo", service_get_info, false },
        { "GetInterfaceDescription", service_get_description, false },
        {},
};

int nv_varlink_server_add_service(nv_varlink_server *s) {
        return nv_varlink_server_add_interface(s, "org.varlink.service", service_description,
                                               service_methods);
}
