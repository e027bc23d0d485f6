/* progress.c — task progress (apis.md §4, seed 004 §4.3).
 *
 * Any service reports steps of the API call it is serving over the bus ("ReportProgress",
 * keyed by that call's apiId) and says when the call is over ("FinishProgress"); clients
 * read them with GetTaskProgress. Each report is one entry (a Task step, or a Progress
 * percentage), optionally the child of an earlier entry (parentUuid), so a job can show a
 * tree of steps. Entries go progress.keep-after-finish seconds (default 300) after their
 * API finished, and in any case progress.max-age seconds (default 24 h) after they were
 * reported: both are one `expireAt` instant, indexed, swept by the tick.
 *
 * Ownership: a report carries the accountUuid of the call it is about; GetTaskProgress
 * shows the entries of an apiId to that account and to admins only (to anyone else the
 * apiId looks unknown: an empty list). Entries reported without an account are admin-only.
 */
#include "clock.h"
#include "config.h"
#include "core.h"
#include "error.h"
#include "log.h"
#include "uuid.h"
#include <string.h>

#define PROGRESS "progress"
#define MAX_PER_API 1000           /* entries kept for one apiId */
#define MAX_TEXT 4096              /* content / arguments */
#define SWEEP_BATCH 1000

static const zs_field_t progress_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "apiId", .type = ZS_FT_STRING, .indexed = true},
    {.name = "parentUuid", .type = ZS_FT_STRING},
    {.name = "taskName", .type = ZS_FT_STRING},
    {.name = "type", .type = ZS_FT_STRING},
    {.name = "content", .type = ZS_FT_STRING},
    {.name = "opaque", .type = ZS_FT_JSON},
    {.name = "arguments", .type = ZS_FT_STRING},
    {.name = "time", .type = ZS_FT_EPOCH, .indexed = true},
    {.name = "totalSteps", .type = ZS_FT_INT},
    {.name = "currentStep", .type = ZS_FT_INT},
    {.name = "seq", .type = ZS_FT_INT, .hidden = true}, /* orders entries reported in the same ms */
    {.name = "expireAt", .type = ZS_FT_EPOCH, .indexed = true, .hidden = true},
    {0},
};
/* Not in zs_resources_core: no query API serves it, GetTaskProgress builds its own reply. */
static const zs_resource_t progress_res = {
    .name = "TaskProgress", .collection = PROGRESS, .service = "core", .fields = progress_fields,
};

/* The module's state (zs_service_module_state). */
typedef struct {
    int64_t next_seq;   /* orders the entries reported in one ms; grows across restarts too */
} progress_t;

static int64_t max_age_ms(void)
{
    return zs_config_int("progress.max-age", 24 * 3600) * 1000;
}

static int64_t keep_after_finish_ms(void)
{
    return zs_config_int("progress.keep-after-finish", 300) * 1000;
}

/* The uuids of every entry of apiId (at most MAX_PER_API + 1). */
static json_t *entries_of(zs_call_t *call, const char *api_id)
{
    json_t *v = json_string(api_id);
    json_t *uuids = zs_store_find(zs_service_store(call->svc), call->txn, PROGRESS, "apiId", v,
                                  MAX_PER_API + 1);
    json_decref(v);
    return uuids;
}

/* A bus message is as hostile as an HTTP one: check every member we keep. */
static const char *report_refusal(const json_t *b)
{
    const json_t *v;
    if (!zs_uuid_valid(json_string_value(json_object_get(b, "apiId"))))
        return "apiId must be a uuid";
    if ((v = json_object_get(b, "taskUuid")) && !zs_uuid_valid(json_string_value(v)))
        return "taskUuid must be a uuid";
    if ((v = json_object_get(b, "parentUuid")) && !zs_uuid_valid(json_string_value(v)))
        return "parentUuid must be a uuid";
    v = json_object_get(b, "taskName");
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 1024)
        return "taskName must be 1..1024 characters";
    v = json_object_get(b, "type");
    if (v && (!json_is_string(v) || (strcmp(json_string_value(v), "Task") != 0 &&
                                     strcmp(json_string_value(v), "Progress") != 0)))
        return "type must be Task or Progress";
    static const char *const texts[] = {"content", "arguments"};
    for (int i = 0; i < 2; i++)
        if ((v = json_object_get(b, texts[i])) &&
            (!json_is_string(v) || json_string_length(v) > MAX_TEXT))
            return "content and arguments must be text of at most 4096 characters";
    if ((v = json_object_get(b, "accountUuid")) && !zs_uuid_valid(json_string_value(v)))
        return "accountUuid must be a uuid";
    if ((v = json_object_get(b, "opaque")) && !json_is_object(v))
        return "opaque must be an object";
    static const char *const steps[] = {"totalSteps", "currentStep"};
    for (int i = 0; i < 2; i++)
        if ((v = json_object_get(b, steps[i])) &&
            (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000))
            return "totalSteps and currentStep must be integers 0..1000000";
    return NULL;
}

/* ReportProgress {apiId, taskName, type?, content?, parentUuid?, taskUuid?, opaque?,
 * arguments?, totalSteps?, currentStep?} -> {taskUuid}. A taskUuid that names an entry of
 * the same apiId updates it (a step's content moving on); otherwise a new entry is made. */
static json_t *progress_report(zs_call_t *call, json_t **error)
{
    const json_t *b = call->req->body;
    const char *why = report_refusal(b);
    if (why)
        return zs_call_invalid(call, error, "ReportProgress: %s", why);
    const char *api_id = zs_call_str(call, "apiId"), *task = zs_call_str(call, "taskUuid");
    zs_store_t *store = zs_service_store(call->svc);
    int64_t now = zs_now_ms();
    json_t *rec = task ? zs_store_get(store, call->txn, PROGRESS, task) : NULL;
    if (rec && strcmp(json_string_value(json_object_get(rec, "apiId")), api_id) != 0) {
        json_decref(rec);
        return zs_call_invalid(call, error, "ReportProgress: task %s belongs to another API call", task);
    }
    char uuid[ZS_UUID_LEN + 1];
    if (!rec) {
        json_t *uuids = entries_of(call, api_id);
        size_t n = json_array_size(uuids);
        json_decref(uuids);
        if (n >= MAX_PER_API)
            return zs_call_fail(call, error, ZS_SYS_FAILED, "API call %s has %d progress entries already",
                                api_id, MAX_PER_API);
        if (task)
            snprintf(uuid, sizeof uuid, "%s", task);
        else
            zs_uuid_new_ordered(uuid);
        rec = json_pack("{s:s, s:s, s:I}", "uuid", uuid, "apiId", api_id,
                        "expireAt", (json_int_t)(now + max_age_ms()));
    } else {
        snprintf(uuid, sizeof uuid, "%s", task);
    }
    static const char *const copied[] = {"parentUuid", "taskName", "type", "content", "opaque",
                                         "arguments", "totalSteps", "currentStep", "accountUuid", NULL};
    for (const char *const *k = copied; *k; k++) {
        json_t *v = json_object_get(b, *k);
        if (v)
            json_object_set(rec, *k, v);
    }
    if (!json_object_get(rec, "type"))
        json_object_set_new(rec, "type", json_string("Task"));
    json_object_set_new(rec, "time", json_integer(now));
    progress_t *P = zs_service_module_state(call->svc, &progress_module);
    json_object_set_new(rec, "seq", json_integer(P->next_seq++));
    int rc = zs_store_put(store, call->txn, PROGRESS, uuid, rec);
    json_decref(rec);
    return rc == 0 ? json_pack("{s:s}", "taskUuid", uuid) : zs_call_store_fail(call, error, rc);
}

/* FinishProgress {apiId}: the call is over; its entries go keep-after-finish from now. */
static json_t *progress_finish(zs_call_t *call, json_t **error)
{
    const char *api_id = zs_call_str(call, "apiId");
    if (!zs_uuid_valid(api_id))
        return zs_call_invalid(call, error, "FinishProgress: apiId must be a uuid");
    zs_store_t *store = zs_service_store(call->svc);
    int64_t until = zs_now_ms() + keep_after_finish_ms();
    json_t *uuids = entries_of(call, api_id);
    size_t i;
    json_t *u;
    int rc = 0;
    json_array_foreach(uuids, i, u) {
        json_t *rec = zs_store_get(store, call->txn, PROGRESS, json_string_value(u));
        if (rec && json_integer_value(json_object_get(rec, "expireAt")) > until) {
            json_object_set_new(rec, "expireAt", json_integer(until));
            rc = zs_store_put(store, call->txn, PROGRESS, json_string_value(u), rec);
        }
        json_decref(rec);
        if (rc != 0)
            break;
    }
    json_decref(uuids);
    return rc == 0 ? json_object() : zs_call_store_fail(call, error, rc);
}

/* ---- GetTaskProgress ----------------------------------------------------------------- */

static int by_time(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t tx = json_integer_value(json_object_get(x, "time"));
    json_int_t ty = json_integer_value(json_object_get(y, "time"));
    if (tx != ty)
        return tx < ty ? -1 : 1;
    json_int_t sx = json_integer_value(json_object_get(x, "seq"));
    json_int_t sy = json_integer_value(json_object_get(y, "seq"));
    return (sx > sy) - (sx < sy);
}

/* One entry as the seed shows it (taskUuid, time as epoch-ms number...). */
static json_t *inventory(const json_t *rec)
{
    json_t *inv = zs_resource_render(&progress_res, rec, NULL);
    json_object_set(inv, "taskUuid", json_object_get(rec, "uuid"));
    json_object_del(inv, "uuid");
    json_object_del(inv, "apiId");
    return inv;
}

static const char *str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

/* The index in recs[0..n) of the entry with uuid `uuid`, or -1. */
static long find_entry(json_t **recs, size_t n, const char *uuid)
{
    for (size_t i = 0; uuid && i < n; i++)
        if (strcmp(str(recs[i], "uuid"), uuid) == 0)
            return (long)i;
    return -1;
}

/* Entry i with its subTasks tree (children in time order: recs is sorted). `depth` bounds
 * the recursion should reported parent links form a cycle. */
static json_t *tree(json_t **recs, size_t n, size_t i, int depth)
{
    json_t *inv = inventory(recs[i]);
    json_t *subs = json_array();
    for (size_t k = 0; depth < 64 && k < n; k++) {
        const char *parent = str(recs[k], "parentUuid");
        if (k != i && parent && strcmp(parent, str(recs[i], "uuid")) == 0)
            json_array_append_new(subs, tree(recs, n, k, depth + 1));
    }
    if (json_array_size(subs))
        json_object_set_new(inv, "subTasks", subs);
    else
        json_decref(subs);
    return inv;
}

static json_t *progress_get(zs_call_t *call, json_t **error)
{
    (void)error;
    const char *api_id = zs_call_str(call, "apiId");
    bool all = json_is_true(json_object_get(call->req->body, "all"));
    zs_store_t *store = zs_service_store(call->svc);
    json_t *uuids = entries_of(call, api_id);
    size_t n = 0;
    json_t **recs = calloc(json_array_size(uuids) + 1, sizeof *recs);
    size_t i;
    json_t *u;
    json_array_foreach(uuids, i, u) {
        json_t *rec = zs_store_get(store, call->txn, PROGRESS, json_string_value(u));
        if (rec)
            recs[n++] = rec;
    }
    json_decref(uuids);
    if (call->req->caller && !zs_msg_admin(call->req)) {
        const char *me = zs_msg_account(call->req);
        for (i = 0; i < n; i++) {
            const char *owner = str(recs[i], "accountUuid");
            if (!owner || !me || strcmp(owner, me) != 0)
                break;
        }
        if (i < n) {   /* not all the caller's: answer as for an unknown apiId */
            for (i = 0; i < n; i++)
                json_decref(recs[i]);
            n = 0;
        }
    }
    qsort(recs, n, sizeof *recs, by_time);
    json_t *list = json_array();
    if (all) {
        for (i = 0; i < n; i++)
            if (find_entry(recs, n, str(recs[i], "parentUuid")) < 0)
                json_array_append_new(list, tree(recs, n, i, 0));
    } else if (n) {
        /* The newest entry, then its ancestors, each inserted in front: root first. */
        long at = (long)n - 1;
        for (int depth = 0; at >= 0 && depth < 64; depth++) {
            json_array_insert_new(list, 0, inventory(recs[at]));
            at = find_entry(recs, n, str(recs[at], "parentUuid"));
        }
    }
    for (i = 0; i < n; i++)
        json_decref(recs[i]);
    free(recs);
    return json_pack("{s:o}", "inventories", list);
}

/* ---- expiry -------------------------------------------------------------------------- */

typedef struct {
    int n;         /* entries the last sweep deleted */
    int deleted;   /* since the counter was reset */
} sweep_t;

/* Deletes up to SWEEP_BATCH entries whose expireAt has passed. */
static int sweep(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    sweep_t *s = arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *due = zs_store_find_upto(store, txn, PROGRESS, "expireAt", zs_now_ms(), SWEEP_BATCH);
    int rc = zs_store_del_all(store, txn, PROGRESS, due);
    s->n = (int)json_array_size(due);
    s->deleted += s->n;
    json_decref(due);
    return rc;
}

static void progress_tick(zs_service_t *svc)
{
    sweep_t sweeper = {0, 0};
    zs_service_write(svc, sweep, &sweeper);
}

/* CleanupExpired (bus only; the APICleanupExpiredMsg long job asks every service). */
static json_t *progress_cleanup(zs_call_t *call, json_t **error)
{
    sweep_t sweeper = {0, 0};
    do {
        int rc = sweep(call->svc, call->txn, &sweeper);
        if (rc != 0)
            return zs_call_store_fail(call, error, rc);
    } while (sweeper.n == SWEEP_BATCH);
    return json_pack("{s:i}", "taskProgressesDeleted", sweeper.deleted);
}

static void *progress_create(zs_service_t *svc)
{
    (void)svc;
    progress_t *P = malloc(sizeof *P);
    if (P)
        P->next_seq = zs_now_ms() * 1000;
    return P;
}

static void progress_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    free(state);
}

static const zs_resource_t *const resources[] = {&progress_res, NULL};

static const zs_handler_t handlers[] = {
    {"GetTaskProgress", progress_get},
    {"ReportProgress", progress_report},
    {"FinishProgress", progress_finish},
    {"CleanupExpired", progress_cleanup},
    {NULL, NULL},
};

const zs_module_t progress_module = {
    .name = "progress",
    .resources = resources,
    .handlers = handlers,
    .create = progress_create,
    .destroy = progress_destroy,
    .tick = progress_tick,
};
