/* gc.c — the GC service (gc.h): its APIs and its one module. schedule.h says when and where
 * jobs run, runner.h how their messages are sent. */
#include "clock.h"
#include "config.h"
#include "error.h"
#include "gc.h"
#include "log.h"
#include "schedule.h"
#include "uuid.h"
#include <string.h>

#define MAX_CONTEXT_BYTES 65536

extern const zs_resource_t zs_res_gc_job;

/* The trigger of an EventBased job: the given one ({topic, match}), else "the target service
 * came back" (node.joined of its role). Only node events reach svc-gc. NULL + *why. */
static json_t *trigger_of(const json_t *given, const char *service, const char **why)
{
    if (!given)
        return json_pack("{s:s, s:{s:s}}", "topic", "node.joined", "match", "role", service);
    const char *topic = json_string_value(json_object_get(given, "topic"));
    const json_t *match = json_object_get(given, "match");
    if (!topic || strncmp(topic, "node.", 5) != 0 || strlen(topic) > 64) {
        *why = "trigger.topic must be a node event (node.joined, node.left, node.dead)";
        return NULL;
    }
    if (match && (!json_is_object(match) || json_object_size(match) > 16)) {
        *why = "trigger.match must be an object of at most 16 members";
        return NULL;
    }
    return json_pack("{s:s, s:O}", "topic", topic, "match", match ? (json_t *)match : json_object());
}

static json_t *submit(zs_call_t *call, json_t **error)
{
    const char *name = zs_call_str(call, "name"), *runner_class = zs_call_str(call, "runnerClass");
    const char *type = zs_call_str(call, "type");
    type = type ? type : "TimeBased";
    char service[32], api[64];
    if (sched_runner_class(runner_class, service, api) != 0)
        return zs_call_invalid(call, error, "runnerClass[%.160s] must be <service>:<message> "
                               "naming an API of that service", runner_class);
    json_t *given = json_object_get(call->req->body, "trigger");
    json_t *trigger = NULL;
    if (strcmp(type, "EventBased") == 0) {
        const char *why = NULL;
        if (!(trigger = trigger_of(given, service, &why)))
            return zs_call_invalid(call, error, "%s", why);
    } else if (given) {
        return zs_call_invalid(call, error, "only an EventBased GC job takes a trigger");
    }
    json_t *ctx = json_object_get(call->req->body, "context");
    char *context = ctx ? json_dumps(ctx, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
    if (!context || strlen(context) > MAX_CONTEXT_BYTES) {
        free(context);
        json_decref(trigger);
        return zs_call_invalid(call, error, "context must be at most %d bytes of JSON", MAX_CONTEXT_BYTES);
    }
    zs_store_t *store = zs_service_store(call->svc);
    if (strcmp(type, "CycleBased") == 0) {   /* periodic housekeeping is registered once */
        json_t *n = json_string(name);
        json_t *same = zs_store_find_one(store, call->txn, GC_JOBS, "name", n);
        json_decref(n);
        if (same && strcmp(json_string_value(json_object_get(same, "runnerClass")), runner_class) == 0) {
            free(context);
            json_t *out = zs_call_inventory(&zs_res_gc_job, same);
            json_decref(same);
            return out;
        }
        json_decref(same);
    }
    char uuid[ZS_UUID_LEN + 1];
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "uuid",
                            zs_uuid_new_ordered(uuid), "name", name, "runnerClass", runner_class, "context",
                            context, "status", "Idle", "type", type, "managementNodeUuid",
                            zs_service_node(call->svc), "attempts", 0, "createDate",
                            (json_int_t)now, "lastOpDate", (json_int_t)now);
    free(context);
    if (trigger)
        json_object_set_new(rec, "trigger", trigger);
    json_t *interval = json_object_get(call->req->body, "interval");
    if (interval)
        json_object_set(rec, "interval", interval);
    /* The submitter has just failed once: the first run is one interval away (or the event). */
    json_object_set_new(rec, "nextRunDate", json_integer(now + sched_interval_ms(rec)));
    int rc = zs_store_put(store, call->txn, GC_JOBS, uuid, rec);
    json_t *out = rc == 0 ? zs_call_inventory(&zs_res_gc_job, rec) : zs_call_store_fail(call, error, rc);
    if (rc == 0)
        zs_info("gc job %s submitted: %s (%s, %s)", uuid, name, type, runner_class);
    json_decref(rec);
    return out;
}

static json_t *trigger(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *rec = zs_store_get(store, call->txn, GC_JOBS, uuid);
    if (!rec)
        return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "GC job[uuid:%s] is not found", uuid);
    if (strcmp(json_string_value(json_object_get(rec, "status")), "Done") == 0) {
        json_t *out = zs_call_fail(call, error, ZS_SYS_FAILED,
                                   "cannot trigger a finished GC job[uuid:%s, name:%s]", uuid,
                                   json_string_value(json_object_get(rec, "name")));
        json_decref(rec);
        return out;
    }
    if (sched_in_flight(call->svc, uuid)) {   /* it is running right now */
        json_decref(rec);
        return json_object();
    }
    /* Whoever owned it, it runs here, now. */
    json_object_set_new(rec, "managementNodeUuid", json_string(zs_service_node(call->svc)));
    json_object_set_new(rec, "status", json_string("Processing"));
    json_object_set_new(rec, "nextRunDate", json_integer(sched_lease_until()));
    json_object_set_new(rec, "lastOpDate", json_integer(zs_now_ms()));
    int rc = zs_store_put(store, call->txn, GC_JOBS, uuid, rec);
    if (rc != 0) {
        json_decref(rec);
        return zs_call_store_fail(call, error, rc);
    }
    sched_run_after_commit(call->svc, rec);
    return json_object();
}

static json_t *delete_job(zs_call_t *call, json_t **error)
{
    int rc = zs_store_del(zs_service_store(call->svc), call->txn, GC_JOBS, zs_call_str(call, "uuid"));
    return rc == 0 || rc == MDB_NOTFOUND ? json_object() : zs_call_store_fail(call, error, rc);
}

/* Deletes Done jobs older than `days` (default gc.done-retention-days, 14): the target of the
 * CycleBased sweep job. */
static json_t *expire(zs_call_t *call, json_t **error)
{
    json_t *d = json_object_get(call->req->body, "days");
    int64_t days = d ? json_integer_value(d) : zs_config_int("gc.done-retention-days", 14);
    int64_t before = zs_now_ms() - days * 86400 * 1000;
    zs_store_t *store = zs_service_store(call->svc);
    json_t *v = json_string("Done");
    json_t *uuids = zs_store_find(store, call->txn, GC_JOBS, "status", v, 10000);
    json_decref(v);
    size_t i, n = 0;
    json_t *u;
    int rc = 0;
    json_array_foreach(uuids, i, u) {
        json_t *rec = zs_store_get(store, call->txn, GC_JOBS, json_string_value(u));
        if (rec && json_integer_value(json_object_get(rec, "lastOpDate")) < before) {
            rc = zs_store_del(store, call->txn, GC_JOBS, json_string_value(u));
            n++;
        }
        json_decref(rec);
        if (rc != 0)
            break;
    }
    json_decref(uuids);
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    if (n)
        zs_info("gc: deleted %zu Done job(s) older than %lld days", n, (long long)days);
    return json_pack("{s:i}", "deleted", (int)n);
}

static const zs_resource_t *const resources[] = {&zs_res_gc_job, NULL};

static const zs_handler_t handlers[] = {
    {"SubmitGCJob", submit},
    {"TriggerGCJob", trigger},
    {"DeleteGCJob", delete_job},
    {"ExpireGCJobs", expire},
    {NULL, NULL},
};

static const zs_module_t gc_module = {
    .name = "gc",
    .resources = resources,
    .handlers = handlers,
};
static const zs_module_t *const modules[] = {&gc_module, &sched_module, NULL};

const zs_service_def_t zs_gc_service = {
    .name = "gc",
    .schema_version = 1,
    .modules = modules,
};
