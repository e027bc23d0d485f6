/* cleanup.c — see cleanup.h. */
#include "cleanup.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include <string.h>

#define OUTBOX "cleanup-outbox"
#define MAX_KEY 255
#define RETRY_BATCH 8

typedef struct {
    char uuid[MAX_KEY + 1];
    char type[128];
} cleanup_t;

/* The module's state (zs_service_module_state). */
typedef struct {
    json_t *handed_off;         /* keys whose cleanup went to svc-tags or svc-gc */
    bool retrying;              /* a retry round is out on a pool thread */
    json_t *in_flight;          /* uuid -> true while an attempt about it is out */
} cleanup_state_t;

static cleanup_state_t *state_of(zs_service_t *svc)
{
    return zs_service_module_state(svc, &zs_cleanup_module);
}

static int64_t timeout_ms(void)
{
    return zs_config_int("cleanup.timeout-ms", 1000);
}

static const char *error_details(const json_t *error)
{
    const char *d = json_string_value(json_object_get(error, "details"));
    return d ? d : "unknown error";
}

/* Deletes the tags now, or hands the work to svc-gc. True when someone has it. On a pool
 * thread (zs_service_remote). */
static bool attempt(zs_bus_t *bus, const char *uuid, const char *type)
{
    json_t *error = NULL;
    json_t *res = zs_bus_request(bus, "tags", "DeleteResourceTags", NULL,
                                 json_pack("{s:s}", "resourceUuid", uuid), timeout_ms(), &error);
    if (res) {
        json_decref(res);
        return true;
    }
    char name[400];
    snprintf(name, sizeof name, "delete tags of %s[uuid:%s]", type, uuid);
    zs_info("cleanup: svc-tags could not delete the tags of %s %s (%s); handing it to svc-gc", type,
            uuid, error_details(error));
    json_decref(error);
    error = NULL;
    res = zs_bus_request(bus, "gc", "SubmitGCJob", NULL,
                         json_pack("{s:s, s:s, s:{s:s}, s:s}", "name", name, "runnerClass",
                                   "tags:DeleteResourceTags", "context", "resourceUuid", uuid,
                                   "type", "EventBased"),
                         timeout_ms(), &error);
    if (res) {
        zs_info("cleanup: gc job %s will delete the tags of %s %s",
                json_string_value(json_object_get(json_object_get(res, "inventory"), "uuid")), type, uuid);
        json_decref(res);
        return true;
    }
    zs_errorf("cleanup: NEITHER svc-tags NOR svc-gc is reachable: the tags of deleted %s %s are "
              "kept in this service's cleanup outbox and retried every %lld s (%s)", type, uuid,
              (long long)zs_config_int("cleanup.retry", 30), error_details(error));
    json_decref(error);
    return false;
}

/* Attempts on a pool thread: `todo` [{uuid, type}] in order, until one finds nobody to
 * take it; `handed` collects the uuids someone took. */
typedef struct {
    json_t *todo, *handed;
    bool retry;   /* the module's retry round (not an after-commit attempt) */
} attempts_t;

static void attempt_all(zs_bus_t *bus, void *arg)
{
    attempts_t *a = arg;
    size_t i;
    json_t *e;
    json_array_foreach(a->todo, i, e) {
        const char *uuid = json_string_value(json_object_get(e, "uuid"));
        if (!attempt(bus, uuid, json_string_value(json_object_get(e, "type"))))
            break;   /* both unreachable: the rest waits for the next round */
        json_array_append_new(a->handed, json_string(uuid));
    }
}

static void attempted(zs_service_t *svc, void *arg)
{
    attempts_t *a = arg;
    cleanup_state_t *st = svc ? state_of(svc) : NULL;   /* NULL: the service is stopping */
    size_t i;
    json_t *e;
    json_array_foreach(a->todo, i, e)
        if (st)
            json_object_del(st->in_flight, json_string_value(json_object_get(e, "uuid")));
    if (st)
        json_array_extend(st->handed_off, a->handed);
    if (st && a->retry)
        st->retrying = false;
    json_decref(a->todo);
    json_decref(a->handed);
    free(a);
}

static void post_attempts(zs_service_t *svc, json_t *todo, bool retry)
{
    attempts_t *a = calloc(1, sizeof *a);
    size_t i;
    json_t *e;
    json_array_foreach(todo, i, e)
        json_object_set_new(state_of(svc)->in_flight, json_string_value(json_object_get(e, "uuid")), json_true());
    a->todo = todo;
    a->handed = json_array();
    a->retry = retry;
    zs_service_remote(svc, attempt_all, attempted, a);
}

static void after_commit(zs_service_t *svc, void *arg)
{
    cleanup_t *c = arg;
    post_attempts(svc, json_pack("[{s:s, s:s}]", "uuid", c->uuid, "type", c->type), false);
    free(c);
}

int zs_cleanup_resource_deleted(zs_call_t *call, const char *uuid, const char *resource_type)
{
    if (!uuid || !resource_type || strlen(uuid) > MAX_KEY || !*uuid)
        return EINVAL;
    json_t *entry = json_pack("{s:s, s:I}", "resourceType", resource_type, "at",
                              (json_int_t)zs_now_ms());
    char *text = json_dumps(entry, JSON_COMPACT);
    json_decref(entry);
    int rc = text ? zs_store_kv_put(zs_service_store(call->svc), call->txn, OUTBOX, uuid,
                                    strlen(uuid), text, strlen(text))
                  : ENOMEM;
    free(text);
    if (rc != 0 && rc != EINVAL)   /* EINVAL: the service has no outbox (logged by the store) */
        return rc;
    zs_service_publish(call->svc, "resource.deleted",
                       json_pack("{s:s, s:s}", "resourceUuid", uuid, "resourceType", resource_type));
    cleanup_t *c = calloc(1, sizeof *c);
    if (!c)
        return ENOMEM;
    snprintf(c->uuid, sizeof c->uuid, "%s", uuid);
    snprintf(c->type, sizeof c->type, "%s", resource_type);
    zs_service_after_commit(call->svc, after_commit, c, free);
    return 0;
}

/* ---- the module: forget handed-off records, retry the others ------------------------- */

static int forget(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    json_t *keys = arg;
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        int rc = zs_store_kv_del(zs_service_store(svc), txn, OUTBOX, json_string_value(k),
                                 json_string_length(k));
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
    }
    return 0;
}

static int collect(void *arg, const MDB_val *key, const MDB_val *val)
{
    json_t *list = arg;
    if (json_array_size(list) >= RETRY_BATCH)
        return 1;
    json_t *v = json_loadb(val->mv_data, val->mv_size, 0, NULL);
    const char *type = json_string_value(json_object_get(v, "resourceType"));
    if (key->mv_size <= MAX_KEY)
        json_array_append_new(list, json_pack("{s:s%, s:s}", "uuid", (const char *)key->mv_data,
                                              key->mv_size, "type", type ? type : "unknown"));
    json_decref(v);
    return 0;
}

/* Every cleanup.retry seconds: the records left in the outbox go out again (one round at a
 * time). */
static void retry(zs_service_t *svc)
{
    cleanup_state_t *st = state_of(svc);
    if (st->retrying)
        return;
    json_t *list = json_array();
    MDB_txn *txn;
    if (zs_store_begin(zs_service_store(svc), NULL, false, &txn) == 0) {
        zs_store_kv_walk(zs_service_store(svc), txn, OUTBOX, NULL, 0, collect, list);
        mdb_txn_abort(txn);
    }
    for (size_t i = json_array_size(list); i-- > 0;)   /* being attempted already */
        if (json_object_get(st->in_flight, json_string_value(json_object_get(json_array_get(list, i), "uuid"))))
            json_array_remove(list, i);
    if (!json_array_size(list)) {
        json_decref(list);
        return;
    }
    st->retrying = true;
    post_attempts(svc, list, true);
}

/* Once a second: the records handed off are forgotten. */
static void cleanup_tick(zs_service_t *svc)
{
    cleanup_state_t *st = state_of(svc);
    if (json_array_size(st->handed_off) == 0)
        return;
    int rc = zs_service_write(svc, forget, st->handed_off);
    if (rc != 0)
        zs_errorf("cleanup: cannot clear the outbox: %s", zs_store_strerror(rc));
    json_array_clear(st->handed_off);
}

static void cleanup_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    cleanup_state_t *st = state;
    json_decref(st->handed_off);
    json_decref(st->in_flight);
    free(st);
}

static void *cleanup_create(zs_service_t *svc)
{
    cleanup_state_t *st = calloc(1, sizeof *st);
    if (!st)
        return NULL;
    st->handed_off = json_array();
    st->in_flight = json_object();
    /* What a previous run left is retried on the loop's first turn, then every round (at
     * most once a second, as when the module's tick ran it). */
    int64_t every = zs_config_int("cleanup.retry", 30) * 1000;
    if (!st->handed_off || !st->in_flight ||
        zs_service_every(svc, every < 1000 ? 1000 : every, retry) != 0) {
        cleanup_destroy(svc, st);
        return NULL;
    }
    return st;
}

static const char *const kv_dbs[] = {OUTBOX, NULL};

const zs_module_t zs_cleanup_module = {
    .name = "cleanup",
    .kv_dbs = kv_dbs,
    .create = cleanup_create,
    .destroy = cleanup_destroy,
    .tick = cleanup_tick,
};
