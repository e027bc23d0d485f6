/* service_builtins.c — which handler runs an API (zs_service_def_handler), the APIs every
 * service answers (Ping, Exists, QueryValues, CopyStore), and the generic query handler with
 * the resolvers it gives the query engine (tag conditions, joins). */
#include "error.h"
#include "log.h"
#include "service_internal.h"
#include "store_copy.h"
#include <string.h>

static json_t *resolve_tags(void *ctx, const char *tag_type, const char *op, const char *value,
                            json_t **error)
{
    zs_call_t *call = ctx;
    zs_service_t *svc = call->svc;
    if (svc->def->tag_resources)
        return svc->def->tag_resources(svc, tag_type, op, value, error);
    json_t *res = zs_call_remote(call, "tags", "TagResources", NULL,
                                 json_pack("{s:s, s:s, s:s}", "type", tag_type, "op", op,
                                           "value", value), 10000, error);
    json_t *uuids = json_incref(json_object_get(res, "uuids"));
    json_decref(res);
    if (!uuids && !res)
        return NULL;   /* *error: the marker (asked), or the tag service's error */
    if (!uuids)
        *error = zs_error(ZS_SYS_FAILED, "the tag service answered without uuids");
    return uuids;
}

static json_t *local_values(zs_call_t *call, const zs_resource_t *res, const char *condition,
                            const char *field, json_t **error);

static json_t *resolve_join(void *ctx, const zs_join_t *join, const char *condition, json_t **error)
{
    zs_call_t *call = ctx;
    const zs_resource_t *res = zs_resource_find(join->resource);
    if (!res) {
        *error = zs_error(ZS_SYS_INTERNAL, "join %s names an unknown resource", join->name);
        return NULL;
    }
    /* A join inside this service is answered here: asking our own ROUTER over the bus from
     * the loop thread would wait for ourselves. */
    if (strcmp(res->service, call->svc->def->name) == 0)
        return local_values(call, res, condition, join->remote, error);
    json_t *res_body = zs_call_remote(call, res->service, "QueryValues", call->req->caller,
                                      json_pack("{s:s, s:s, s:s}", "resource", res->name,
                                                "condition", condition, "field", join->remote),
                                      10000, error);
    json_t *values = json_incref(json_object_get(res_body, "values"));
    json_decref(res_body);
    if (!values && !res_body)
        return NULL;   /* *error: the marker (asked), or the other service's error */
    if (!values)
        *error = zs_error(ZS_SYS_FAILED, "service %s answered without values", res->service);
    return values;
}

/* The module declaring resource `res`, or NULL. */
static const zs_module_t *module_of(const zs_service_t *svc, const zs_resource_t *res)
{
    FOREACH_MODULE(svc->def, m)
        for (const zs_resource_t *const *r = m->resources; r && *r; r++)
            if (*r == res)
                return m;
    return NULL;
}

typedef struct {
    zs_call_t *call;
    bool (*visible)(zs_call_t *, const json_t *);
} visibility_t;

static bool visible_adapter(void *arg, const json_t *rec)
{
    visibility_t *v = arg;
    return v->visible(v->call, rec);
}

json_t *zs_service_query(zs_call_t *call, const zs_resource_t *res, const char *const *extra,
                         json_t **error)
{
    zs_query_t *q = zs_query_parse(res, call->req->body, error);
    if (!q) {
        call->status = 400;
        return NULL;
    }
    for (const char *const *c = extra; c && *c; c++)
        if (zs_query_add(q, *c, error) != 0) {
            zs_query_destroy(&q);
            return NULL;
        }
    /* GET <resources>/{uuid} (rest.md) is the query with the one more condition uuid=<uuid>.
     * A path segment that is no plausible uuid matches nothing, rather than being read as
     * condition syntax. */
    const char *path_uuid = call->api && (call->api->flags & ZS_API_QUERY) ? zs_call_str(call, "uuid") : NULL;
    if (path_uuid) {
        size_t n = strlen(path_uuid);
        char cond[96];
        bool plain = n > 0 && n <= 64 && strspn(path_uuid, "0123456789abcdefABCDEF-") == n;
        snprintf(cond, sizeof cond, plain ? "uuid=%s" : "uuid is null", path_uuid);
        if (zs_query_add(q, cond, error) != 0) {
            zs_query_destroy(&q);
            return NULL;
        }
    }
    zs_query_resolver_t resolver = {call, resolve_tags, resolve_join};
    zs_query_stats_t stats = {0, ""};
    const zs_module_t *owner = module_of(call->svc, res);
    visibility_t vis = {call, owner ? owner->visible : NULL};
    bool filtered = vis.visible && !zs_msg_admin(call->req);
    json_t *out = zs_query_run(q, call->svc->store, call->txn, &resolver,
                               filtered ? visible_adapter : NULL, &vis, &stats, error);
    zs_query_destroy(&q);
    if (!out && json_is_string(json_object_get(*error, "code")) &&
        strcmp(zs_error_code(*error), ZS_SYS_INVALID) == 0)
        call->status = 400;
    zs_log(ZS_DEBUG, call->req->id, "query %s plan=%s examined=%zu", res->name, stats.plan,
           stats.examined);
    return out;
}

/* ---- APIs every service answers ------------------------------------------------------ */

static json_t *builtin_exists(zs_call_t *call, json_t **error)
{
    const zs_resource_t *res = zs_resource_find(zs_call_str(call, "resource"));
    const char *uuid = zs_call_str(call, "uuid");
    if (!res || !uuid)
        return zs_call_invalid(call, error, "Exists needs a known resource and a uuid");
    json_t *rec = zs_store_get(call->svc->store, call->txn, res->collection, uuid);
    json_t *out = json_pack("{s:b}", "exists", rec != NULL);
    const char *owner = rec ? zs_record_owner(res, rec) : NULL;
    if (owner)
        json_object_set_new(out, "owner", json_string(owner));
    json_decref(rec);
    return out;
}

/* The values of `field` over the records of `res` matching `condition` (new array), or NULL
 * with *error (call->status set for a bad condition). */
static json_t *local_values(zs_call_t *call, const zs_resource_t *res, const char *condition,
                            const char *field, json_t **error)
{
    json_t *params = json_pack("{s:[s], s:i, s:[s]}", "q", condition, "limit", ZS_QUERY_MAX_LIMIT,
                               "fields", field);
    zs_msg_t sub = *call->req;
    sub.body = params;
    zs_call_t inner = *call;
    inner.req = &sub;
    json_t *result = zs_service_query(&inner, res, NULL, error);
    json_decref(params);
    if (!result) {
        call->status = inner.status;
        return NULL;
    }
    json_t *found = json_object_get(result, "inventories");
    if (json_array_size(found) >= ZS_QUERY_MAX_LIMIT) {   /* never a silently cut join */
        json_decref(result);
        return zs_call_invalid(call, error, "the join condition [%.200s] matches %d records or more; "
                               "narrow it", condition, ZS_QUERY_MAX_LIMIT);
    }
    json_t *values = json_array();
    size_t i;
    json_t *inv;
    json_array_foreach(found, i, inv) {
        json_t *v = json_object_get(inv, field);
        if (v)
            json_array_append(values, v);
    }
    json_decref(result);
    return values;
}

static json_t *builtin_query_values(zs_call_t *call, json_t **error)
{
    const zs_resource_t *res = zs_resource_find(zs_call_str(call, "resource"));
    const char *cond = zs_call_str(call, "condition"), *field = zs_call_str(call, "field");
    if (!res || !cond || !field || !zs_resource_field(res, field, true))
        return zs_call_invalid(call, error, "QueryValues needs a resource, a condition and a field");
    json_t *values = local_values(call, res, cond, field, error);
    return values ? json_pack("{s:o}", "values", values) : NULL;
}

static json_t *builtin_ping(zs_call_t *call, json_t **error)
{
    (void)error;
    return json_pack("{s:s, s:s}", "service", call->svc->def->name, "node",
                     zs_service_node(call->svc));
}

static zs_handler_fn *builtin(const char *api)
{
    if (strcmp(api, "Exists") == 0)
        return builtin_exists;
    if (strcmp(api, "QueryValues") == 0)
        return builtin_query_values;
    if (strcmp(api, "Ping") == 0)
        return builtin_ping;
    if (strcmp(api, "CopyStore") == 0)
        return zs_store_copy_handle;   /* backups through the owner (store_copy.h) */
    return NULL;
}

static json_t *generic_query(zs_call_t *call, json_t **error)
{
    return zs_service_query(call, call->api->resource, NULL, error);
}

zs_handler_fn *zs_service_def_handler(const zs_service_def_t *def, const zs_api_t *api)
{
    FOREACH_MODULE(def, m)
        for (const zs_handler_t *h = m->handlers; h && h->api; h++)
            if (strcmp(h->api, api->name) == 0)
                return h->fn;
    zs_handler_fn *b = builtin(api->name);
    if (b)
        return b;
    if ((api->flags & ZS_API_QUERY) && api->resource)
        return generic_query;
    return NULL;
}
