/* service.c — see service.h. */
#include "service.h"
#include "buskeys.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "events.h"
#include "log.h"
#include "node.h"
#include "identity.h"
#include "pack.h"
#include "store_copy.h"
#include "uuid.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOBS_DB "executed-jobs"
#define JOBS_TIME_DB "executed-jobs-by-time"
#define JOB_MEMORY_MS (24LL * 3600 * 1000)   /* how long an executed job id is remembered */

struct zs_service {
    const zs_service_def_t *def;
    zs_store_t *store;
    zs_bus_t *bus, *node_bus;
    zsock_t *router, *sub, *pub;
    zpoller_t *poller;
    struct watch { void *sock; void (*fn)(zs_service_t *, void *); } watches[32];
    int nwatches;
    struct after { void (*fn)(zs_service_t *, void *); void *arg; void (*drop)(void *); } *afters;
    size_t nafters, cap_afters;
    zframe_t *current_identity;   /* of the request being handled (for deferral) */
    /* Requests taken off the ROUTER, waiting for a batch: a ring of at most qmax. Beyond it a
     * request is refused at once (SYS.1010) instead of waiting in a queue that takes
     * minutes to drain. queued_jobs holds the ids of the async jobs in it. */
    struct queued { zframe_t *identity; zs_msg_t req; } *queue;
    size_t qhead, qlen, qmax;
    zhashx_t *queued_jobs;
    zs_node_t *node;
    void *data;
    json_t *pending_events;   /* [[topic, body], ...] published after commit */
};

typedef struct {
    zframe_t *identity;
    zs_msg_t reply;
} outgoing_t;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

zs_store_t *zs_service_store(zs_service_t *svc) { return svc->store; }
const char *zs_service_name(const zs_service_t *svc) { return svc->def->name; }
zs_bus_t *zs_service_bus(zs_service_t *svc) { return svc->bus; }
const char *zs_service_node(zs_service_t *svc) { return zs_node_uuid(svc->node); }
void *zs_service_data(zs_service_t *svc) { return svc->data; }
void zs_service_set_data(zs_service_t *svc, void *data) { svc->data = data; }

void zs_service_publish(zs_service_t *svc, const char *topic, json_t *body)
{
    json_array_append_new(svc->pending_events, json_pack("[s,o]", topic, body));
}

void zs_drop_json(void *arg)
{
    json_decref(arg);
}

/* Releases the actions queued from index `from` on, without running them. */
static void drop_afters(zs_service_t *svc, size_t from)
{
    for (size_t i = from; i < svc->nafters; i++)
        if (svc->afters[i].drop)
            svc->afters[i].drop(svc->afters[i].arg);
    svc->nafters = from;
}

void zs_service_after_commit(zs_service_t *svc, void (*fn)(zs_service_t *, void *), void *arg,
                             void (*drop)(void *))
{
    if (svc->nafters == svc->cap_afters) {
        svc->cap_afters = svc->cap_afters ? 2 * svc->cap_afters : 64;
        svc->afters = realloc(svc->afters, svc->cap_afters * sizeof *svc->afters);
    }
    svc->afters[svc->nafters++] = (struct after){fn, arg, drop};
}

void zs_service_watch(zs_service_t *svc, void *sock, void (*fn)(zs_service_t *, void *))
{
    if (svc->nwatches == (int)(sizeof svc->watches / sizeof svc->watches[0]))
        return;
    svc->watches[svc->nwatches++] = (struct watch){sock, fn};
    if (svc->poller)
        zpoller_add(svc->poller, sock);
}

struct zs_deferred {
    zframe_t *identity;
    zs_msg_t req;
};

static json_t deferred_marker_storage;   /* only its address is used */

json_t *zs_call_deferred(void)
{
    return &deferred_marker_storage;
}

zs_deferred_t *zs_call_defer(zs_call_t *call)
{
    zs_deferred_t *d = calloc(1, sizeof *d);
    d->identity = zframe_dup(call->svc->current_identity);
    d->req = *call->req;
    d->req.caller = NULL;
    d->req.body = NULL;
    return d;
}

static void send_reply(zs_service_t *svc, zframe_t **identity, zs_msg_t *reply);

void zs_deferred_answer(zs_service_t *svc, zs_deferred_t **d, bool ok, int status,
                        const char *api, json_t *body)
{
    zs_msg_t reply;
    zs_msg_reply(&reply, &(*d)->req, ok, status, body);
    if (api)
        snprintf(reply.api, sizeof reply.api, "%s", api);
    send_reply(svc, &(*d)->identity, &reply);
    free(*d);
    *d = NULL;
}

/* Runs (committed) or drops the after-commit actions, and publishes or drops the events. */
static void flush_events(zs_service_t *svc, bool committed)
{
    /* Detach the list first: an action may itself commit (zs_service_write) and queue more. */
    struct after *run = svc->afters;
    size_t n = svc->nafters;
    svc->afters = NULL;
    svc->nafters = svc->cap_afters = 0;
    for (size_t i = 0; i < n; i++) {
        if (committed)
            run[i].fn(svc, run[i].arg);
        else if (run[i].drop)
            run[i].drop(run[i].arg);
    }
    free(run);
    size_t i;
    json_t *e;
    if (committed)
        json_array_foreach(svc->pending_events, i, e)
            zs_events_publish(svc->pub, json_string_value(json_array_get(e, 0)),
                              json_incref(json_array_get(e, 1)));
    json_array_clear(svc->pending_events);
}

/* ---- handler helpers ----------------------------------------------------------------- */

const char *zs_call_str(const zs_call_t *call, const char *name)
{
    return json_string_value(json_object_get(call->req->body, name));
}

json_t *zs_call_inventory(const zs_resource_t *res, const json_t *rec)
{
    return json_pack("{s:o}", "inventory", zs_resource_render(res, rec, NULL));
}

json_t *zs_call_invalid(zs_call_t *call, json_t **error, const char *fmt, ...)
{
    char details[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof details, fmt, ap);
    va_end(ap);
    call->status = 400;
    *error = zs_error(ZS_SYS_INVALID, "%s", details);
    return NULL;
}

json_t *zs_call_fail(zs_call_t *call, json_t **error, const char *code, const char *fmt, ...)
{
    (void)call;
    char details[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof details, fmt, ap);
    va_end(ap);
    *error = zs_error(code, "%s", details);
    return NULL;
}

int zs_call_new_uuid(zs_call_t *call, const char *collection, char out[33], json_t **error)
{
    const char *given = zs_call_str(call, "resourceUuid");
    if (!given) {
        zs_uuid_new(out);
        return 0;
    }
    json_t *old = zs_store_get(call->svc->store, call->txn, collection, given);
    if (old) {
        json_decref(old);
        *error = zs_error(ZS_SYS_INVALID, "resourceUuid[%s] is already used by another resource", given);
        return -1;
    }
    snprintf(out, 33, "%s", given);
    return 0;
}

int zs_call_attach_tags(zs_call_t *call, const char *uuid, const char *resource_type,
                        json_t **error)
{
    json_t *sys = json_object_get(call->req->body, "systemTags");
    json_t *user = json_object_get(call->req->body, "userTags");
    if (json_array_size(sys) == 0 && json_array_size(user) == 0)
        return 0;
    json_t *body = json_pack("{s:s, s:s, s:O?, s:O?, s:s}", "resourceUuid", uuid, "resourceType",
                             resource_type, "systemTags", sys, "userTags", user, "accountUuid",
                             zs_msg_account(call->req));
    json_t *res = zs_bus_request(call->svc->bus, "tags", "AttachTags", call->req->caller, body,
                                 10000, error);
    if (!res)
        return -1;
    json_decref(res);
    return 0;
}

json_t *zs_call_store_fail(zs_call_t *call, json_t **error, int rc)
{
    return zs_call_fail(call, error, ZS_SYS_INTERNAL, "store: %s", zs_store_strerror(rc));
}

/* ---- queries ------------------------------------------------------------------------- */

static json_t *resolve_tags(void *ctx, const char *tag_type, const char *op, const char *value,
                            json_t **error)
{
    zs_call_t *call = ctx;
    zs_service_t *svc = call->svc;
    if (svc->def->tag_resources)
        return svc->def->tag_resources(svc, tag_type, op, value, error);
    json_t *res = zs_bus_request(svc->bus, "tags", "TagResources", NULL,
                                 json_pack("{s:s, s:s, s:s}", "type", tag_type, "op", op,
                                           "value", value), 10000, error);
    json_t *uuids = json_incref(json_object_get(res, "uuids"));
    json_decref(res);
    if (!uuids && !*error)
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
    json_t *res_body = zs_bus_request(call->svc->bus, res->service, "QueryValues", call->req->caller,
                                      json_pack("{s:s, s:s, s:s}", "resource", res->name,
                                                "condition", condition, "field", join->remote),
                                      10000, error);
    json_t *values = json_incref(json_object_get(res_body, "values"));
    json_decref(res_body);
    if (!values && !*error)
        *error = zs_error(ZS_SYS_FAILED, "service %s answered without values", res->service);
    return values;
}

#define FOREACH_MODULE(svc, m) \
    for (const zs_module_t *const *m##_p = (svc)->def->modules, *m; m##_p && (m = *m##_p); m##_p++)

/* The module declaring resource `res`, or NULL. */
static const zs_module_t *module_of(const zs_service_t *svc, const zs_resource_t *res)
{
    FOREACH_MODULE(svc, m)
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

static zs_handler_fn *find_handler(const zs_service_t *svc, const zs_api_t *api)
{
    FOREACH_MODULE(svc, m)
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

/* ---- job memory (exactly-once execution of async jobs) ------------------------------- */

static json_t *remembered(zs_service_t *svc, MDB_txn *txn, const char *id)
{
    MDB_val v;
    if (zs_store_kv_get(svc->store, txn, JOBS_DB, id, strlen(id), &v) != 0)
        return NULL;
    char err[128];
    return zs_unpack(v.mv_data, v.mv_size, NULL, err);
}

static void remember(zs_service_t *svc, MDB_txn *txn, const zs_msg_t *reply)
{
    json_t *o = json_pack("{s:b, s:i, s:O, s:I}", "ok", reply->ok, "st", reply->status,
                          "body", reply->body, "at", (json_int_t)zs_now_ms());
    char *buf;
    size_t len;
    if (zs_pack(o, &buf, &len) == 0) {
        zs_store_kv_put(svc->store, txn, JOBS_DB, reply->id, strlen(reply->id), buf, len);
        free(buf);
        unsigned char key[8 + 48];
        uint64_t at = (uint64_t)zs_now_ms();
        for (int i = 0; i < 8; i++)
            key[i] = (unsigned char)(at >> (56 - 8 * i));
        size_t idlen = strlen(reply->id);
        memcpy(key + 8, reply->id, idlen);
        zs_store_kv_put(svc->store, txn, JOBS_TIME_DB, key, 8 + idlen, "", 0);
    }
    json_decref(o);
}

/* Forgets executed job ids older than JOB_MEMORY_MS, at most 1000 a call. The walk only
 * collects keys; deleting happens after it (no deletes under an open cursor). */
typedef struct {
    uint64_t before;
    size_t n;
    unsigned char keys[1000][8 + 48];
    size_t lens[1000];
} forget_t;

static int collect_old(void *arg, const MDB_val *key, const MDB_val *val)
{
    (void)val;
    forget_t *f = arg;
    if (f->n == 1000 || key->mv_size < 8 || key->mv_size > 8 + 48)
        return 1;
    const unsigned char *k = key->mv_data;
    uint64_t at = 0;
    for (int i = 0; i < 8; i++)
        at = at << 8 | k[i];
    if (at >= f->before)
        return 1;
    memcpy(f->keys[f->n], k, key->mv_size);
    f->lens[f->n++] = key->mv_size;
    return 0;
}

static int forget_old_jobs(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    forget_t *f = calloc(1, sizeof *f);
    if (!f)
        return ENOMEM;
    f->before = (uint64_t)(zs_now_ms() - JOB_MEMORY_MS);
    zs_store_kv_walk(svc->store, txn, JOBS_TIME_DB, NULL, 0, collect_old, f);
    for (size_t i = 0; i < f->n; i++) {
        zs_store_kv_del(svc->store, txn, JOBS_DB, f->keys[i] + 8, f->lens[i] - 8);
        zs_store_kv_del(svc->store, txn, JOBS_TIME_DB, f->keys[i], f->lens[i]);
    }
    free(f);
    return 0;
}

/* ---- the batch ----------------------------------------------------------------------- */

static bool needs_write(const zs_msg_t *m)
{
    const zs_api_t *api = zs_api_find(m->api);
    return m->job || (api && (api->flags & (ZS_API_ASYNC | ZS_API_WRITES)));
}

/* Handles one request; returns false when the handler deferred its answer (no reply). */
static bool handle(zs_service_t *svc, MDB_txn *batch_txn, bool write, const zs_msg_t *req,
                   zs_msg_t *reply)
{
    const zs_api_t *api = zs_api_find(req->api);
    json_t *error = NULL, *result = NULL;
    zs_call_t call = {svc, api, req, batch_txn, 0, NULL};

    if (req->job && write) {
        json_t *known = remembered(svc, batch_txn, req->id);
        if (known) {   /* a re-dispatch: answer what the first execution answered */
            zs_msg_reply(reply, req, json_is_true(json_object_get(known, "ok")),
                         (int)json_integer_value(json_object_get(known, "st")),
                         json_incref(json_object_get(known, "body")));
            json_decref(known);
            zs_log(ZS_INFO, req->id, "%s: already executed, answering the stored outcome", req->api);
            return true;
        }
    }
    zs_log(ZS_DEBUG, req->id, "handling %s", req->api);
    zs_handler_fn *fn = api ? find_handler(svc, api) : NULL;
    if (!api || (strcmp(api->service, svc->def->name) != 0 && strcmp(api->service, "*") != 0)) {
        error = zs_error(ZS_SYS_INVALID, "service %s does not serve API[%s]", svc->def->name, req->api);
    } else if (!fn) {
        error = zs_error(ZS_SYS_FAILED, "API[%s] is not implemented by this suite yet", api->name);
    } else if (req->deadline && zs_now_ms() > req->deadline) {
        error = zs_error(ZS_SYS_TIMEOUT, "%s reached its deadline before it could start", api->name);
    } else if ((api->flags & ZS_API_ADMIN) && req->caller && !zs_msg_admin(req)) {
        error = zs_error(ZS_ID_DENIED, "API[%s] is for admin accounts only", api->name);
    } else if (zs_api_validate(api, req->body, &error) != 0) {
        call.status = 400;
    } else {
        MDB_txn *child = NULL;
        int rc = write ? zs_store_begin(svc->store, batch_txn, true, &child) : 0;
        if (rc != 0) {
            error = zs_error(ZS_SYS_INTERNAL, "store: %s", zs_store_strerror(rc));
        } else {
            call.txn = write ? child : batch_txn;
            size_t events_before = json_array_size(svc->pending_events);
            size_t afters_before = svc->nafters;
            result = fn(&call, &error);
            if (result == zs_call_deferred()) {
                if (write)
                    mdb_txn_commit(child);
                return false;
            }
            if (!result && !error)
                error = zs_error(ZS_SYS_INTERNAL, "%s failed without saying why", api->name);
            if (write) {
                if (result && (rc = mdb_txn_commit(child)) != 0) {
                    json_decref(result);
                    result = NULL;
                    error = zs_error(ZS_SYS_INTERNAL, "store: %s", zs_store_strerror(rc));
                } else if (!result) {
                    mdb_txn_abort(child);
                }
            }
            if (!result)   /* a rolled-back request announces and sends nothing */
                drop_afters(svc, afters_before);
            if (!result)
                while (json_array_size(svc->pending_events) > events_before)
                    json_array_remove(svc->pending_events, json_array_size(svc->pending_events) - 1);
        }
    }
    if (result)
        zs_msg_reply(reply, req, true, call.status, result);
    else
        zs_msg_reply(reply, req, false, call.status, error);
    if (call.reply_api)
        snprintf(reply->api, sizeof reply->api, "%s", call.reply_api);
    if (req->job && write)
        remember(svc, batch_txn, reply);
    return true;
}

/* Sends a reply to the peer `identity` (consumed) and clears it. */
static void send_reply(zs_service_t *svc, zframe_t **identity, zs_msg_t *reply)
{
    char *buf;
    size_t len;
    if (*identity && zs_msg_encode(reply, &buf, &len) == 0) {
        zmsg_t *z = zmsg_new();
        zmsg_append(z, identity);
        zmsg_addmem(z, buf, len);
        free(buf);
        if (zmsg_send(&z, svc->router) != 0)
            zs_log(ZS_WARN, reply->id, "reply to %s lost: the caller is gone", reply->api);
        zmsg_destroy(&z);
    }
    zframe_destroy(identity);
    zs_msg_clear(reply);
}

/* Commits a batch. Fault injection for tests (beanstalkd style): with
 * fault.commit-failures = N the first N batch commits fail as a full disk would (EIO). */
static int commit_batch(MDB_txn *txn)
{
    static int64_t faults = -1;
    if (faults < 0)
        faults = zs_config_int("fault.commit-failures", 0);
    if (faults > 0) {
        faults--;
        mdb_txn_abort(txn);
        zs_warn("fault injection: failing a batch commit (%lld more)", (long long)faults);
        return EIO;
    }
    return mdb_txn_commit(txn);
}

/* Sends a bare envelope of `kind` about `req` to the peer `identity` (borrowed). */
static void send_note(zs_service_t *svc, zframe_t *identity, const zs_msg_t *req, bool ok,
                      int status, json_t *body, char kind)
{
    zs_msg_t note;
    zs_msg_reply(&note, req, ok, status, body);
    note.kind = kind;
    zframe_t *id = zframe_dup(identity);
    send_reply(svc, &id, &note);
}

/* Takes what waits on the ROUTER into the queue: an async job is acknowledged at once (the
 * broker then stops re-sending it) and a job already queued is only acknowledged again; a
 * request beyond the queue's bound is answered 503 SYS.1010 at once. At most 4 queues'
 * worth per call, so the loop keeps running batches under a flood. */
static void intake(zs_service_t *svc)
{
    for (size_t taken = 0; taken < 4 * svc->qmax && (zsock_events(svc->router) & ZMQ_POLLIN); taken++) {
        zframe_t *id = NULL;
        zs_msg_t m;
        if (zs_bus_recv(svc->router, &m, &id) != 0)
            continue;
        if (m.kind != 'Q') {
            zs_msg_clear(&m);
            zframe_destroy(&id);
        } else if (m.job && zhashx_lookup(svc->queued_jobs, m.id)) {
            send_note(svc, id, &m, true, 0, NULL, 'A');
            zs_msg_clear(&m);
            zframe_destroy(&id);
        } else if (svc->qlen == svc->qmax) {
            zs_msg_t busy;
            zs_msg_reply(&busy, &m, false, 503,
                         zs_error(ZS_SYS_BUSY, "service %s is busy (%zu requests waiting); retry later",
                                  svc->def->name, svc->qlen));
            send_reply(svc, &id, &busy);
            zs_msg_clear(&m);
        } else {
            if (m.job) {
                zhashx_insert(svc->queued_jobs, m.id, svc);
                send_note(svc, id, &m, true, 0, NULL, 'A');
            }
            struct queued *q = &svc->queue[(svc->qhead + svc->qlen++) % svc->qmax];
            q->identity = id;
            q->req = m;
        }
    }
}

static void run_batch(zs_service_t *svc)
{
    static zs_msg_t reqs[ZS_SERVICE_BATCH];
    static outgoing_t out[ZS_SERVICE_BATCH];
    int n = 0;
    bool write = false;
    while (n < ZS_SERVICE_BATCH && svc->qlen) {
        struct queued *q = &svc->queue[svc->qhead];
        svc->qhead = (svc->qhead + 1) % svc->qmax;
        svc->qlen--;
        reqs[n] = q->req;
        out[n].identity = q->identity;
        if (reqs[n].job)
            zhashx_delete(svc->queued_jobs, reqs[n].id);
        write |= needs_write(&reqs[n]);
        n++;
    }
    if (n == 0)
        return;
    MDB_txn *txn;
    int rc = zs_store_begin(svc->store, NULL, write, &txn);
    /* Fault injection for tests: fault.write-delay-us makes every write request this much
     * slower, a service with a fraction of its capacity (tests/e2e/test_overload.py). */
    static int64_t write_delay_us = -1;
    if (write_delay_us < 0)
        write_delay_us = zs_config_int("fault.write-delay-us", 0);
    for (int i = 0; i < n; i++) {
        if (write_delay_us > 0 && needs_write(&reqs[i]))
            usleep((useconds_t)write_delay_us);
        svc->current_identity = out[i].identity;
        if (rc == 0) {
            if (!handle(svc, txn, write, &reqs[i], &out[i].reply))
                zframe_destroy(&out[i].identity);   /* deferred: the token holds a copy */
        } else
            zs_msg_reply(&out[i].reply, &reqs[i], false, 500,
                         zs_error(ZS_SYS_INTERNAL, "store: %s", zs_store_strerror(rc)));
    }
    if (rc == 0) {
        rc = write ? commit_batch(txn) : (mdb_txn_abort(txn), 0);
        if (rc != 0) {   /* nothing of the batch is durable: every answer becomes a failure */
            zs_errorf("commit failed: %s", zs_store_strerror(rc));
            for (int i = 0; i < n; i++) {
                if (!out[i].identity)
                    continue;
                zs_msg_clear(&out[i].reply);
                zs_msg_reply(&out[i].reply, &reqs[i], false, 500,
                             zs_error(ZS_SYS_INTERNAL, "store commit failed: %s", zs_store_strerror(rc)));
            }
        }
    }
    for (int i = 0; i < n; i++) {
        if (out[i].identity)
            send_reply(svc, &out[i].identity, &out[i].reply);
        zs_msg_clear(&reqs[i]);
    }
    flush_events(svc, rc == 0);
}

int zs_service_write(zs_service_t *svc, int (*fn)(zs_service_t *, MDB_txn *, void *), void *arg)
{
    MDB_txn *txn;
    int rc = zs_store_begin(svc->store, NULL, true, &txn);
    if (rc != 0)
        return rc;
    rc = fn(svc, txn, arg);
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    flush_events(svc, rc == 0);
    return rc;
}

/* ---- process ------------------------------------------------------------------------- */

static int setup(zs_service_t *svc, const char *bind)
{
    char dir[1024], process[64], why[1500];
    snprintf(dir, sizeof dir, "%s/%s", zs_config_data_dir(), svc->def->name);
    snprintf(process, sizeof process, "zs-%s", svc->def->name);
    int prepared = zs_node_prepare_endpoint(bind);
    if (prepared != 0)
        snprintf(why, sizeof why, "cannot create the directory of %s", bind);
    if (prepared != 0 || zs_identity_claim_store(dir, process, why, sizeof why) != 0 ||
        zs_identity_claim_endpoint(bind, process, why, sizeof why) != 0) {
        zs_errorf("refusing to start: %s", why);
        return -1;
    }
    const zs_resource_t *resources[128];
    size_t n = 0;
    FOREACH_MODULE(svc, m)
        for (const zs_resource_t *const *r = m->resources; r && *r && n < 127; r++)
            resources[n++] = *r;
    resources[n] = NULL;
    svc->store = zs_store_open(dir, resources, svc->def->schema_version, 0);
    if (!svc->store)
        return -1;
    static const char *const builtin_dbs[] = {JOBS_DB, JOBS_TIME_DB, NULL};
    for (const char *const *d = builtin_dbs; *d; d++)
        if (zs_store_kv_open(svc->store, *d) != 0)
            return -1;
    FOREACH_MODULE(svc, m)
        for (const char *const *d = m->kv_dbs; d && *d; d++)
            if (zs_store_kv_open(svc->store, *d) != 0)
                return -1;
    svc->qmax = (size_t)zs_config_int("bus.queue-max", 4096);
    if (svc->qmax < ZS_SERVICE_BATCH)
        svc->qmax = ZS_SERVICE_BATCH;
    svc->queue = calloc(svc->qmax, sizeof *svc->queue);
    svc->queued_jobs = zhashx_new();
    svc->router = zsock_new(ZMQ_ROUTER);
    zs_bus_tune(svc->router);
    zsock_set_router_mandatory(svc->router, 1);
    if (zs_bus_keys_server(svc->router, bind) != 0) {
        zs_errorf("cannot bind %s: CurveZMQ keys are not loaded", bind);
        return -1;
    }
    if (zsock_bind(svc->router, "%s", bind) < 0) {
        zs_errorf("cannot bind %s: %s", bind, zmq_strerror(zmq_errno()));
        return -1;
    }
    svc->bus = zs_bus_new();
    svc->pub = zs_events_publisher();
    const char *topics[64];
    n = 0;
    FOREACH_MODULE(svc, m)
        for (const char *const *t = m->topics; t && *t && n < 63; t++)
            topics[n++] = *t;
    topics[n] = NULL;
    if (n)
        svc->sub = zs_events_subscriber(topics);
    svc->pending_events = json_array();
    svc->poller = zpoller_new(svc->router, NULL);
    if (svc->sub)
        zpoller_add(svc->poller, svc->sub);
    svc->node_bus = zs_bus_new();
    svc->node = zs_node_new(svc->def->name, svc->node_bus);
    FOREACH_MODULE(svc, m)
        if (m->start && m->start(svc) != 0) {
            zs_errorf("module %s failed to start", m->name);
            return -1;
        }
    return 0;
}

static void loop(zs_service_t *svc)
{
    zpoller_t *poller = svc->poller;
    int64_t next_tick = zs_mono_ms();
    while (!stopping) {
        int64_t wait = svc->qlen ? 0 : next_tick - zs_mono_ms();
        void *which = zpoller_wait(poller, wait > 0 ? (int)wait : 0);
        if (which && which != svc->router && which != svc->sub) {
            for (int i = 0; i < svc->nwatches; i++)
                if (svc->watches[i].sock == which)
                    svc->watches[i].fn(svc, which);
        } else if (which && which == svc->sub) {
            char topic[128];
            json_t *body = zs_events_recv(svc->sub, topic, sizeof topic);
            FOREACH_MODULE(svc, m)
                if (body && m->on_event)
                    m->on_event(svc, topic, body);
            json_decref(body);
        }
        intake(svc);
        if (svc->qlen)
            run_batch(svc);
        if (zs_mono_ms() >= next_tick) {
            next_tick = zs_mono_ms() + 1000;
            zs_node_tick(svc->node);
            FOREACH_MODULE(svc, m)
                if (m->tick)
                    m->tick(svc);
            static int ticks;
            if (++ticks % 60 == 0)
                zs_service_write(svc, forget_old_jobs, NULL);
        }
    }
}

int zs_service_main(const zs_service_def_t *def, int argc, char **argv)
{
    char process[64];
    snprintf(process, sizeof process, "zs-%s", def->name);
    if (zs_node_init(process, argc, argv) != 0)
        return 2;
    char ep_key[64];
    snprintf(ep_key, sizeof ep_key, "bus.%s.bind", def->name);
    char first[1024];
    char room[ZS_CONFIG_ENDPOINTS_SIZE];
    snprintf(first, sizeof first, "%s", zs_config_endpoints(def->name, room));
    first[strcspn(first, ",")] = '\0';
    const char *bind = zs_config_get(ep_key, first);

    zs_service_t svc = {.def = def};
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int rc = 0;
    if (setup(&svc, bind) != 0) {
        zs_errorf("%s failed to start", process);
        rc = 1;
    } else {
        zs_info("%s serving on %s (data %s/%s)", process, bind, zs_config_data_dir(), def->name);
        loop(&svc);
        zs_info("%s stopping", process);
    }
    if (svc.store)
        FOREACH_MODULE(&svc, m)
            if (m->stop)
                m->stop(&svc);
    zs_node_destroy(&svc.node);
    zpoller_destroy(&svc.poller);
    zs_bus_destroy(&svc.node_bus);
    zs_bus_destroy(&svc.bus);
    free(svc.afters);
    for (; svc.qlen; svc.qlen--, svc.qhead = (svc.qhead + 1) % svc.qmax) {
        zframe_destroy(&svc.queue[svc.qhead].identity);
        zs_msg_clear(&svc.queue[svc.qhead].req);
    }
    free(svc.queue);
    zhashx_destroy(&svc.queued_jobs);
    zsock_destroy(&svc.router);
    zsock_destroy(&svc.sub);
    zsock_destroy(&svc.pub);
    json_decref(svc.pending_events);
    zs_store_close(&svc.store);
    return rc;
}
