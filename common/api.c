/* api.c — the list of API domains, lookups, parameter validation and reply schemas. */
#include "api.h"
#include "error.h"
#include "uuid.h"
#include <arpa/inet.h>
#include <czmq.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const zs_api_t *const domains[] = {
    zs_apis_core, zs_apis_tags, zs_apis_ticket, zs_apis_longjob,
    zs_apis_license, zs_apis_gc, zs_apis_broker, NULL,
};
static const zs_resource_t *const *const resource_domains[] = {
    zs_resources_core, zs_resources_tags, zs_resources_ticket, zs_resources_longjob,
    zs_resources_license, zs_resources_gc, zs_resources_broker, NULL,
};

#define MAX_APIS 512
static const zs_api_t *flat[MAX_APIS];
static size_t nflat;
static pthread_once_t flat_once = PTHREAD_ONCE_INIT;

/* Every name an API answers to (simple name, class name, simple class name) -> row; built
 * once, read-only afterwards, so lookups on the request path cost one hash probe. */
static zhashx_t *by_name;

static void index_name(const char *name, const zs_api_t *a)
{
    if (name && !zhashx_lookup(by_name, name))
        zhashx_insert(by_name, name, (void *)a);
}

static void flatten(void)
{
    by_name = zhashx_new();
    for (const zs_api_t *const *d = domains; *d; d++)
        for (const zs_api_t *a = *d; a->name && nflat < MAX_APIS; a++) {
            flat[nflat++] = a;
            index_name(a->name, a);
        }
    for (size_t i = 0; i < nflat; i++)   /* class names after every simple name */
        if (flat[i]->klass) {
            index_name(flat[i]->klass, flat[i]);
            const char *simple = strrchr(flat[i]->klass, '.');
            index_name(simple ? simple + 1 : NULL, flat[i]);
        }
}

size_t zs_api_count(void)
{
    pthread_once(&flat_once, flatten);
    return nflat;
}

size_t zs_api_services(const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < zs_api_count() && n < max; i++) {
        const char *s = zs_api_at(i)->service;
        bool seen = strcmp(s, "*") == 0;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(names[k], s) == 0;
        if (!seen)
            names[n++] = s;
    }
    return n;
}

const zs_api_t *zs_api_at(size_t i)
{
    pthread_once(&flat_once, flatten);
    return i < nflat ? flat[i] : NULL;
}

const zs_api_t *zs_api_find(const char *name)
{
    if (!name)
        return NULL;
    pthread_once(&flat_once, flatten);
    return zhashx_lookup(by_name, name);
}

const zs_resource_t *zs_resource_find(const char *name)
{
    if (!name)
        return NULL;
    for (const zs_resource_t *const *const *d = resource_domains; *d; d++)
        for (const zs_resource_t *const *r = *d; *r; r++)
            if (strcmp((*r)->name, name) == 0 || ((*r)->vo && strcmp((*r)->vo, name) == 0))
                return *r;
    return NULL;
}

const zs_param_t *zs_api_param(const zs_api_t *api, const char *name)
{
    for (const zs_param_t *p = api->params; p && p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

/* ---- validation ---------------------------------------------------------------------- */

/* Fails validation: *error (when not NULL) = zs_error_param's SYS.1007. Returns -1. */
static int invalid(const zs_api_t *api, const char *field, const char *why, json_t **error)
{
    return zs_fail(error, ZS_SYS_INVALID, "field[%s] of %s %s", field, api->name, why);
}

/* Query strings carry text; turn it into the declared type. Returns the new value
 * (new reference) or NULL when the text does not fit the type. */
static json_t *coerce(const zs_param_t *p, json_t *v)
{
    const char *s = json_string_value(v);
    switch (p->type) {
    case ZS_P_INT:
        if (json_is_integer(v))
            return json_incref(v);
        if (json_is_real(v) && json_real_value(v) == (double)(long long)json_real_value(v))
            return json_integer((json_int_t)json_real_value(v));   /* the SDK sends 1.0 */
        if (s && *s) {
            char *end;
            long long x = strtoll(s, &end, 10);
            if (!*end)
                return json_integer(x);
        }
        return NULL;
    case ZS_P_REAL:
        if (json_is_number(v))
            return json_incref(v);
        if (s && *s) {
            char *end;
            double x = strtod(s, &end);
            if (!*end)
                return json_real(x);
        }
        return NULL;
    case ZS_P_BOOL:
        if (json_is_boolean(v))
            return json_incref(v);
        if (s && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0))
            return json_boolean(strcmp(s, "true") == 0);
        return NULL;
    case ZS_P_LIST:
        if (json_is_array(v)) {
            size_t i;
            json_t *e;
            json_array_foreach(v, i, e)
                if (!json_is_string(e))
                    return NULL;
            return json_incref(v);
        }
        if (s) {   /* "a,b" from a query string */
            json_t *list = json_array();
            const char *start = s;
            for (const char *c = s;; c++)
                if (*c == ',' || *c == '\0') {
                    if (c > start)
                        json_array_append_new(list, json_stringn(start, (size_t)(c - start)));
                    if (!*c)
                        break;
                    start = c + 1;
                }
            return list;
        }
        return NULL;
    case ZS_P_STRING:
    case ZS_P_UUID:
    case ZS_P_ADDRESS:
    case ZS_P_TAG:
    case ZS_P_RESOURCE_TYPE:
        return json_is_string(v) ? json_incref(v) : NULL;
    case ZS_P_OBJECT:
        return json_is_object(v) ? json_incref(v) : NULL;
    case ZS_P_ARRAY:
        return json_is_array(v) ? json_incref(v) : NULL;
    case ZS_P_ANY:
        return json_incref(v);
    }
    return NULL;
}

static const char *type_name(zs_ptype_t t)
{
    static const char *names[] = {"a string", "an integer", "a number", "a boolean",
                                  "a uuid", "a list of strings", "an object", "a list", "a value",
                                  "an IP address or host name", "a tag",
                                  "a resource type name"};
    return names[t];
}

/* 0 when v keeps p's bounds, format and choices; else -1 and *error. */
static int check_bounds(const zs_api_t *api, const zs_param_t *p, const json_t *v, json_t **error)
{
    char why[256];
    long min = p->min, max = p->max;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (p->type == ZS_P_UUID && !zs_uuid_valid(s))
            return invalid(api, p->name, "must be a uuid of 32 lowercase hex characters", error);
        const char *refusal = p->type == ZS_P_ADDRESS ? zs_address_refusal(s)
                            : p->type == ZS_P_TAG ? zs_tag_refusal(s)
                            : p->type == ZS_P_RESOURCE_TYPE ? zs_resource_type_refusal(s) : NULL;
        if (refusal) {
            snprintf(why, sizeof why, "%s, got '%.64s'", refusal, s);
            return invalid(api, p->name, why, error);
        }
        if (max == 0)
            max = 65536;
        if ((long)len < min || (long)len > max) {
            snprintf(why, sizeof why, "must be %ld..%ld characters long, got %zu", min, max, len);
            return invalid(api, p->name, why, error);
        }
        if (p->choices) {
            for (const char *const *c = p->choices; *c; c++)
                if (strcmp(*c, s) == 0)
                    return 0;
            size_t n = (size_t)snprintf(why, sizeof why, "must be one of [");
            for (const char *const *c = p->choices; *c && n < sizeof why - 64; c++)
                n += (size_t)snprintf(why + n, sizeof why - n, "%s%s", c == p->choices ? "" : ", ", *c);
            snprintf(why + n, sizeof why - n, "], got '%.64s'", s);
            return invalid(api, p->name, why, error);
        }
    } else if (json_is_array(v)) {
        size_t n = json_array_size(v);
        if (max == 0)
            max = 10000;
        if ((long)n < min || (long)n > max) {
            snprintf(why, sizeof why, "must have %ld..%ld items, got %zu", min, max, n);
            return invalid(api, p->name, why, error);
        }
    } else if (json_is_integer(v) && (p->min || p->max)) {
        json_int_t x = json_integer_value(v);
        if (x < min || (p->max && x > max)) {
            snprintf(why, sizeof why, "must be between %ld and %ld, got %lld", min, max, (long long)x);
            return invalid(api, p->name, why, error);
        }
    }
    return 0;
}

const char *zs_address_refusal(const char *s)
{
    unsigned char buf[16];
    if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
        return NULL;
    size_t n = strlen(s);
    const char *why = "must be an IP address or a host name";
    if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
        return why;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '.'))
            return why;
    return NULL;
}

const char *zs_tag_refusal(const char *tag)
{
    size_t n = strlen(tag);
    if (n == 0 || n > 512)
        return "must be 1..512 characters";
    for (const unsigned char *c = (const unsigned char *)tag; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return "must be printable text (no control characters)";
    if (strncmp(tag, "::", 2) == 0 || (n >= 2 && strcmp(tag + n - 2, "::") == 0) || strstr(tag, "::::"))
        return "has an empty segment (\"::\" separates non-empty segments)";
    return NULL;
}

const char *zs_resource_type_refusal(const char *type)
{
    size_t n = strlen(type);
    if (n < 3 || strcmp(type + n - 2, "VO") != 0)
        return "must be a resource type name ending in VO (e.g. VmInstanceVO)";
    for (const char *c = type; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
            return "must be a resource type name of letters and digits ending in VO";
    return NULL;
}

static bool tag_list_ok(const json_t *v)
{
    if (!json_is_array(v) || json_array_size(v) > 100)
        return false;
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
        if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 512)
            return false;
    return true;
}

int zs_api_validate(const zs_api_t *api, json_t *params, json_t **error)
{
    if (!json_is_object(params))
        return zs_fail(error, ZS_SYS_INVALID, "the parameters of %s must be a JSON object",
                       api->name);
    for (const zs_param_t *p = api->params; p && p->name; p++) {
        json_t *v = json_object_get(params, p->name);
        if (!v || json_is_null(v)) {
            if (p->required)
                return invalid(api, p->name, "is mandatory, can not be null", error);
            json_object_del(params, p->name);
            continue;
        }
        json_t *c = coerce(p, v);
        if (!c) {
            char why[64];
            snprintf(why, sizeof why, "must be %s", type_name(p->type));
            return invalid(api, p->name, why, error);
        }
        if (json_object_set_new(params, p->name, c) != 0)   /* c is released */
            return zs_fail(error, ZS_SYS_INTERNAL, "out of memory validating %s", api->name);
        if (check_bounds(api, p, c, error) != 0)
            return -1;
    }
    /* Drop what the API does not declare, except the creation extras of apis.md. Query and
     * bus-only APIs keep everything: their parameters are the query's / the service's own. */
    if (api->flags & (ZS_API_QUERY | ZS_API_INTERNAL))
        return 0;
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(params, tmp, key, v) {
        if (zs_api_param(api, key))
            continue;
        bool create_extra = (api->flags & ZS_API_CREATE) &&
                            (strcmp(key, "resourceUuid") == 0);
        bool tags = strcmp(key, "systemTags") == 0 || strcmp(key, "userTags") == 0;
        if (tags) {
            if (!tag_list_ok(v))
                return invalid(api, key, "must be a list of at most 100 tags of 1..512 characters",
                               error);
            continue;
        }
        if (create_extra) {
            if (!zs_uuid_valid(json_string_value(v)))
                return invalid(api, key, "must be a uuid of 32 lowercase hex characters", error);
            continue;
        }
        json_object_del(params, key);
    }
    return 0;
}

/* ---- schema ------------------------------------------------------------------------- */

#define SCHEMA_MAX_DEPTH 16     /* replies nest far less; bounds the walk of a hostile body */
#define SCHEMA_MAX_PATH  512

static void name_value(json_t *schema, const json_t *v, const zs_class_t *k, char *path,
                       size_t len, int depth);

static void name_object(json_t *schema, const json_t *obj, const zs_class_t *k, char *path,
                        size_t len, int depth)
{
    if (!json_is_object(obj) || depth > SCHEMA_MAX_DEPTH)
        return;
    for (int hops = 0; k->variant && hops < 8; hops++) {
        json_t *mark = json_object_get(obj, k->variant_field);
        if (!mark || json_is_null(mark))
            break;
        k = k->variant;
    }
    json_object_set_new(schema, path, json_string(k->name));
    for (const zs_typed_t *m = k->members; m && m->field; m++) {
        int n = snprintf(path + len, SCHEMA_MAX_PATH - len, ".%s", m->field);
        if (n > 0 && len + (size_t)n < SCHEMA_MAX_PATH)
            name_value(schema, json_object_get(obj, m->field), m->klass, path, len + (size_t)n, depth + 1);
        path[len] = '\0';
    }
}

/* Names `v` (an object, or each object of a list) at `path` (length len). */
static void name_value(json_t *schema, const json_t *v, const zs_class_t *k, char *path,
                       size_t len, int depth)
{
    if (json_is_object(v)) {
        name_object(schema, v, k, path, len, depth);
        return;
    }
    for (size_t i = 0; i < json_array_size(v); i++) {
        int n = snprintf(path + len, SCHEMA_MAX_PATH - len, "[%zu]", i);
        if (n > 0 && len + (size_t)n < SCHEMA_MAX_PATH)
            name_object(schema, json_array_get(v, i), k, path, len + (size_t)n, depth + 1);
        path[len] = '\0';
    }
}

const zs_typed_t *zs_api_typed(const zs_api_t *api, zs_typed_t buf[3])
{
    if (api->typed)
        return api->typed;
    const zs_class_t *inv = api->resource ? api->resource->klass : NULL;
    if (!inv)
        return NULL;
    buf[0] = (zs_typed_t){"inventory", inv};
    buf[1] = (zs_typed_t){"inventories", inv};
    buf[2] = (zs_typed_t){NULL, NULL};
    return buf;
}

json_t *zs_api_schema(const zs_api_t *api, const json_t *result)
{
    json_t *schema = json_object();
    zs_typed_t buf[3];
    const zs_typed_t *typed = zs_api_typed(api, buf);
    char path[SCHEMA_MAX_PATH];
    for (const zs_typed_t *m = typed; m && m->field; m++) {
        int n = snprintf(path, sizeof path, "%s", m->field);
        if (n > 0 && (size_t)n < sizeof path)
            name_value(schema, json_object_get(result, m->field), m->klass, path, (size_t)n, 0);
    }
    return schema;
}
