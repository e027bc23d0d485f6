/* openapi.c — see openapi.h. One operation per API row with an HTTP route. */
#include "openapi.h"
#include "api.h"
#include "node.h"
#include <ctype.h>
#include <string.h>

static const char *schema_type(zs_ptype_t t)
{
    switch (t) {
    case ZS_P_INT: return "integer";
    case ZS_P_REAL: return "number";
    case ZS_P_BOOL: return "boolean";
    case ZS_P_LIST:
    case ZS_P_ARRAY: return "array";
    case ZS_P_OBJECT: return "object";
    default: return "string";
    }
}

static json_t *param_schema(const zs_param_t *p)
{
    json_t *s = json_pack("{s:s}", "type", schema_type(p->type));
    if (p->type == ZS_P_LIST)
        json_object_set_new(s, "items", json_pack("{s:s}", "type", "string"));
    if (p->choices) {
        json_t *e = json_array();
        for (const char *const *c = p->choices; *c; c++)
            json_array_append_new(e, json_string(*c));
        json_object_set_new(s, "enum", e);
    }
    if (p->type == ZS_P_UUID)
        json_object_set_new(s, "pattern", json_string("^[0-9a-f]{32}$"));
    if (p->type == ZS_P_ADDRESS)   /* formats of our own: OpenAPI leaves "format" open */
        json_object_set_new(s, "format", json_string("ip-address-or-hostname"));
    if (p->type == ZS_P_TAG)
        json_object_set_new(s, "format", json_string("zstack-tag"));
    if (p->type == ZS_P_RESOURCE_TYPE)
        json_object_set_new(s, "pattern", json_string("^[A-Za-z0-9]*VO$"));
    bool text = p->type == ZS_P_STRING || p->type == ZS_P_UUID || p->type == ZS_P_ADDRESS
                || p->type == ZS_P_TAG || p->type == ZS_P_RESOURCE_TYPE;
    if (p->max && text)
        json_object_set_new(s, "maxLength", json_integer(p->max));
    return s;
}

static json_t *operation(const zs_api_t *a)
{
    json_t *op = json_pack("{s:s, s:s}", "operationId", a->name, "summary", a->klass ? a->klass : a->name);
    json_t *params = json_array(), *props = json_object(), *required = json_array();
    bool in_query = strcmp(a->method, "GET") == 0 || strcmp(a->method, "DELETE") == 0;
    for (const zs_param_t *p = a->params; p && p->name; p++) {
        char placeholder[80];
        snprintf(placeholder, sizeof placeholder, "{%s}", p->name);
        bool in_path = strstr(a->path, placeholder) != NULL;
        if (in_path || in_query) {
            json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:o}", "name", p->name, "in",
                                                    in_path ? "path" : "query", "required",
                                                    in_path || p->required, "schema", param_schema(p)));
        } else {
            json_object_set_new(props, p->name, param_schema(p));
            if (p->required)
                json_array_append_new(required, json_string(p->name));
        }
    }
    if (a->flags & ZS_API_QUERY)
        json_array_append_new(params, json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "name", "q", "in",
                                                "query", "schema", "type", "array", "items", "type",
                                                "string"));
    if (!(a->flags & ZS_API_NO_SESSION))
        json_object_set_new(op, "security", json_pack("[{s:[]}]", "OAuth"));
    json_object_set_new(op, "parameters", params);
    if (json_object_size(props)) {
        json_t *inner = json_pack("{s:s, s:o}", "type", "object", "properties", props);
        if (json_array_size(required))
            json_object_set(inner, "required", required);
        const char *key = a->action ? a->action : "params";
        char first[64];
        snprintf(first, sizeof first, "%.*s", (int)strcspn(key, "|"), key);
        json_object_set_new(op, "requestBody",
                            json_pack("{s:{s:{s:{s:s, s:{s:o}}}}}", "content", "application/json",
                                      "schema", "type", "object", "properties", first, inner));
    } else {
        json_decref(props);
    }
    json_decref(required);
    json_object_set_new(op, "responses",
                        (a->flags & ZS_API_ASYNC)
                            ? json_pack("{s:{s:s}}", "202", "description", "accepted; poll the location")
                            : json_pack("{s:{s:s}}", "200", "description", "done"));
    return op;
}

/* ---- the reply classes (X-JSON-Schema) ----------------------------------------------------- */

static void add_class(json_t *classes, const zs_class_t *k, int depth);

static void add_members(json_t *classes, json_t *into, const zs_typed_t *members, int depth)
{
    for (const zs_typed_t *m = members; m && m->field && m->klass; m++) {
        json_object_set_new(into, m->field, json_string(m->klass->name));
        add_class(classes, m->klass, depth + 1);
    }
}

/* classes[k->name] = {"typedMembers": {field: class}, "subclass": {"class", "when"},
 * "mayLack": [field...]}, and the same for every class it leads to. */
static void add_class(json_t *classes, const zs_class_t *k, int depth)
{
    if (!k || depth > 16 || json_object_get(classes, k->name))
        return;
    json_t *c = json_pack("{s:o, s:[]}", "typedMembers", json_object(), "mayLack");
    json_object_set_new(classes, k->name, c);
    add_members(classes, json_object_get(c, "typedMembers"), k->members, depth);
    for (const char *p = k->may_lack; p && *p;) {
        size_t n = strcspn(p, " ");
        if (n)
            json_array_append_new(json_object_get(c, "mayLack"), json_stringn(p, n));
        p += n + (p[n] ? 1 : 0);
    }
    if (k->variant) {
        json_object_set_new(c, "subclass", json_pack("{s:s, s:s}", "class", k->variant->name, "when",
                                                      k->variant_field));
        add_class(classes, k->variant, depth + 1);
    }
}

/* x-zstack-classes: what `schema` of a reply names, per class; x-zstack-reply of an
 * operation: its typed members. */
static json_t *reply_classes(const zs_api_t *a, json_t *classes)
{
    json_t *typed = json_object();
    zs_typed_t buf[3];
    add_members(classes, typed, zs_api_typed(a, buf), 0);
    return typed;
}

json_t *openapi_document(void)
{
    json_t *classes = json_object();
    json_t *paths = json_object();
    for (size_t i = 0; i < zs_api_count(); i++) {
        const zs_api_t *a = zs_api_at(i);
        if (!a->method)
            continue;
        char path[256], method[16];
        if (a->flags & ZS_API_ROOT)   /* RPC style: one operation per Action at the root */
            snprintf(path, sizeof path, "%s?Action=%s", a->path, a->action ? a->action : "");
        else
            snprintf(path, sizeof path, "/zstack/v1%s", a->path);
        json_t *op = operation(a);
        json_object_set_new(op, "x-zstack-reply", reply_classes(a, classes));
        for (size_t k = 0; k < sizeof method - 1 && a->method[k]; k++)
            method[k] = (char)tolower((unsigned char)a->method[k]), method[k + 1] = '\0';
        json_t *item = json_object_get(paths, path);
        if (!item) {
            item = json_object();
            json_object_set_new(paths, path, item);
        }
        /* Several actions share PUT .../actions: the first keeps the slot, the others are
         * listed under x-actions. */
        if (json_object_get(item, method)) {
            json_t *more = json_object_get(item, "x-actions");
            if (!more) {
                more = json_array();
                json_object_set_new(item, "x-actions", more);
            }
            json_array_append_new(more, op);
        } else {
            json_object_set_new(item, method, op);
        }
    }
    return json_pack("{s:s, s:{s:s, s:s}, s:o, s:o, s:{s:{s:{s:s, s:s, s:s}}}}", "openapi", "3.0.3",
                     "info", "title", "ZStack system-global and ticket APIs", "version", ZS_VERSION,
                     "paths", paths, "x-zstack-classes", classes, "components", "securitySchemes",
                     "OAuth", "type", "apiKey", "in", "header", "name", "Authorization");
}
