/* jobs.c — the long job APIs and the state machine (apis.md §9).
 *
 *   Waiting:   start -> Running, fail -> Failed, cancel -> Canceled
 *   Running:   succeed -> Succeeded, fail -> Failed, suspend -> Suspended,
 *              cancel -> Canceling -> Canceled
 *   Suspended: resume -> Running, fail -> Failed, cancel -> Canceled
 *   Canceling: canceled -> Canceled, succeed -> Succeeded (it finished first)
 * Final: Succeeded, Failed, Canceled. A job is Suspended when the service owning its API
 * stays unreachable (worker.c); ResumeLongJob re-sends the same request (same id), which
 * the service runs at most once.
 */
#include "cleanup.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "longjob.h"
#include "uuid.h"
#include <string.h>

#define LONG_JOB_NOT_SUPPORTED "LONG_JOB.1003"

static const struct {
    const char *simple;
    job_kind_t kind;
} builtins[] = {
    {"APIBackupDatabaseMsg", JOB_BACKUP},
    {"APICleanupExpiredMsg", JOB_CLEANUP},
};

int job_kind(const char *job_name, const zs_api_t **api)
{
    const char *simple = strrchr(job_name, '.');
    simple = simple ? simple + 1 : job_name;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(simple, builtins[i].simple) == 0)
            return (int)builtins[i].kind;
    *api = zs_api_find(job_name);
    return *api ? JOB_API : -1;
}

json_t *job_params(const json_t *job_data, const char **why)
{
    json_t *params;
    if (!job_data || json_is_null(job_data))
        return json_object();
    if (json_is_string(job_data)) {
        json_error_t jerr;
        params = json_loads(json_string_value(job_data), JSON_REJECT_DUPLICATES, &jerr);
    } else {
        params = json_deep_copy(job_data);
    }
    if (!json_is_object(params)) {
        json_decref(params);
        *why = "jobData must be a JSON object, or JSON text of one";
        return NULL;
    }
    return params;
}

char *job_failure_text(const char *message, const json_t *error)
{
    const char *details = json_string_value(json_object_get(error, "details"));
    json_t *o = json_pack("{s:s, s:s, s:O?}", "message", message, "detail",
                          details ? details : zs_error_code(error), "cause", error);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

void job_finalize(zs_service_t *svc, json_t *rec, const char *state)
{
    int64_t now = zs_now_ms();
    int64_t secs = (now - json_integer_value(json_object_get(rec, "createDate"))) / 1000;
    json_object_set_new(rec, "state", json_string(state));
    json_object_set_new(rec, "executeTime", json_integer(secs < 1 ? 1 : secs));
    json_object_set_new(rec, "lastOpDate", json_integer(now));
    zs_service_publish(svc, "longjob.finished",
                       json_pack("{s:O, s:O?, s:O, s:s, s:O?, s:O?}", "uuid",
                                 json_object_get(rec, "uuid"), "name", json_object_get(rec, "name"),
                                 "jobName", json_object_get(rec, "jobName"), "state", state,
                                 "accountUuid", json_object_get(rec, "accountUuid"), "jobResult",
                                 json_object_get(rec, "jobResult")));
}

static const char *state_of(const json_t *rec)
{
    return json_string_value(json_object_get(rec, "state"));
}

static bool is_final(const char *state)
{
    return strcmp(state, "Succeeded") == 0 || strcmp(state, "Failed") == 0 ||
           strcmp(state, "Canceled") == 0;
}

/* The job named by the call's uuid, if the caller may act on it; NULL + *error otherwise. */
static json_t *load_job(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    json_t *rec = zs_store_get(zs_service_store(call->svc), call->txn, LONGJOBS, uuid);
    if (!rec) {
        zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "longjob[uuid:%s] is not found", uuid);
        return NULL;
    }
    const char *owner = json_string_value(json_object_get(rec, "accountUuid"));
    if (call->req->caller && !zs_msg_admin(call->req) &&
        (!owner || strcmp(owner, zs_msg_account(call->req)) != 0)) {
        json_decref(rec);
        zs_call_fail(call, error, ZS_ID_DENIED, "longjob[uuid:%s] belongs to another account", uuid);
        return NULL;
    }
    return rec;
}

/* Writes rec and answers its inventory. Steals rec. */
static json_t *save(zs_call_t *call, json_t *rec, bool inventory, json_t **error)
{
    json_object_set_new(rec, "lastOpDate", json_integer(zs_now_ms()));
    int rc = zs_store_put(zs_service_store(call->svc), call->txn, LONGJOBS,
                          json_string_value(json_object_get(rec, "uuid")), rec);
    json_t *out = rc != 0    ? zs_call_store_fail(call, error, rc)
                  : inventory ? zs_call_inventory(&zs_res_longjob, rec)
                              : json_object();
    json_decref(rec);
    return out;
}

/* ---- SubmitLongJob ------------------------------------------------------------------- */

/* A backup path with a newline or another control character would forge lines in logs and
 * in the MANIFEST readers' tools: refused. */
static bool has_control(const char *p)
{
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* Checks jobName/jobData as the wrapped API itself would (400 / 503 ID.1002). Returns 0. */
static int check_job(zs_call_t *call, const char *job_name, const json_t *job_data, json_t **error)
{
    const zs_api_t *api = NULL;
    int kind = job_kind(job_name, &api);
    if (kind < 0) {
        zs_call_invalid(call, error, "%s is not an API", job_name);
        return -1;
    }
    const char *why = NULL;
    json_t *params = job_params(job_data, &why);
    if (!params) {
        zs_call_invalid(call, error, "%s", why);
        return -1;
    }
    int rc = -1;
    bool admin = !call->req->caller || zs_msg_admin(call->req);
    if (kind == JOB_API) {
        if (!(api->flags & ZS_API_ASYNC) || (api->flags & ZS_API_INTERNAL) ||
            strcmp(api->service, "longjob") == 0)
            zs_call_invalid(call, error, "%s cannot run as a long job: only the asynchronous APIs "
                            "of other services can", job_name);
        else if ((api->flags & ZS_API_ADMIN) && !admin)
            zs_call_fail(call, error, ZS_ID_DENIED, "API[%s] is for admin accounts only", api->name);
        else if (zs_api_validate(api, params, error) != 0)
            call->status = 400;
        else
            rc = 0;
    } else if (!admin) {
        zs_call_fail(call, error, ZS_ID_DENIED, "%s is for admin accounts only", job_name);
    } else if (kind == JOB_BACKUP) {
        json_t *path = json_object_get(params, "path");
        const char *p = json_string_value(path);
        if (json_object_size(params) > (path ? 1u : 0u))
            zs_call_invalid(call, error, "jobData of %s takes only \"path\"", job_name);
        else if (path && (!p || p[0] != '/' || strlen(p) > 900 || strstr(p, "/../") ||
                          has_control(p)))
            zs_call_invalid(call, error, "jobData.path must be an absolute directory path "
                            "(at most 900 characters, no '..', no control characters)");
        else
            rc = 0;
    } else if (json_object_size(params) != 0) {
        zs_call_invalid(call, error, "%s takes no jobData", job_name);
    } else {
        rc = 0;
    }
    json_decref(params);
    return rc;
}

static json_t *submit(zs_call_t *call, json_t **error)
{
    const char *job_name = zs_call_str(call, "jobName");
    json_t *data = json_object_get(call->req->body, "jobData");
    if (check_job(call, job_name, data, error) != 0)
        return NULL;
    char uuid[ZS_UUID_LEN + 1];
    if (zs_call_new_uuid(call, LONGJOBS, uuid, error) != 0)
        return NULL;
    char *text = data && !json_is_null(data)
                     ? (json_is_string(data) ? strdup(json_string_value(data))
                                             : json_dumps(data, JSON_COMPACT))
                     : NULL;
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:O?, s:O?, s:s, s:s, s:s?, s:O?, s:s, s:s, s:I, s:I, s:O?}",
                            "uuid", uuid, "name", json_object_get(call->req->body, "name"),
                            "description", json_object_get(call->req->body, "description"),
                            "apiId", call->req->id, "jobName", job_name, "jobData", text,
                            "targetResourceUuid",
                            json_object_get(call->req->body, "targetResourceUuid"),
                            "state", "Waiting", "managementNodeUuid", zs_service_node(call->svc),
                            "createDate", (json_int_t)now, "lastOpDate", (json_int_t)now,
                            "caller", call->req->caller);
    free(text);
    json_object_set_new(rec, "accountUuid", json_string(zs_msg_account(call->req)));
    if (zs_call_attach_tags(call, uuid, "LongJobVO", error) != 0) {
        json_decref(rec);
        return NULL;
    }
    runner_try_start(call->svc, call->txn, rec);
    zs_log(ZS_INFO, call->req->id, "longjob %s (%s) submitted: %s", uuid, job_name, state_of(rec));
    return save(call, rec, true, error);
}

/* ---- transitions --------------------------------------------------------------------- */

static void lower(char *out, size_t size, const char *state)
{
    snprintf(out, size, "%s", state);
    for (char *c = out; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
}

/* Refuses an operation on `rec` (released here) because of its state: 503 SYS.1006 with
 * "cannot <verb> longjob that is <state><why>", the state in lower case as ZStack says it. */
static json_t *refuse_state(zs_call_t *call, json_t **error, json_t *rec, const char *verb,
                            const char *why)
{
    char low[32];
    lower(low, sizeof low, state_of(rec));
    json_decref(rec);
    return zs_call_fail(call, error, ZS_SYS_FAILED, "cannot %s longjob that is %s%s", verb, low, why);
}

static json_t *cancel(zs_call_t *call, json_t **error)
{
    json_t *rec = load_job(call, error);
    if (!rec)
        return NULL;
    const char *state = state_of(rec);
    const char *uuid = json_string_value(json_object_get(rec, "uuid"));
    if (strcmp(state, "Succeeded") == 0 || strcmp(state, "Failed") == 0)
        return refuse_state(call, error, rec, "cancel", "");
    if (strcmp(state, "Canceled") == 0 || strcmp(state, "Canceling") == 0) {
        json_decref(rec);
        return json_object();   /* already (being) canceled */
    }
    if (strcmp(state, "Running") == 0) {
        const zs_api_t *api = NULL;
        if (job_kind(json_string_value(json_object_get(rec, "jobName")), &api) == JOB_API) {
            json_decref(rec);
            return zs_call_fail(call, error, LONG_JOB_NOT_SUPPORTED,
                                "longjob[uuid:%s] runs API %s, which cannot be canceled once sent",
                                zs_call_str(call, "uuid"), api->name);
        }
        json_object_set_new(rec, "state", json_string("Canceling"));
        runner_cancel(call->svc, uuid);
        return save(call, rec, false, error);
    }
    /* Waiting or Suspended: nothing runs, it ends here. */
    json_object_set_new(rec, "jobResult", json_null());
    job_finalize(call->svc, rec, "Canceled");
    runner_finish_progress(call->svc, json_string_value(json_object_get(rec, "apiId")));
    return save(call, rec, false, error);
}

static json_t *resume(zs_call_t *call, json_t **error)
{
    json_t *rec = load_job(call, error);
    if (!rec)
        return NULL;
    if (strcmp(state_of(rec), "Suspended") != 0) {
        return refuse_state(call, error, rec, "resume", ": only a suspended job resumes");
    }
    json_object_set_new(rec, "jobResult", json_null());
    runner_resume(call->svc, rec);
    return save(call, rec, true, error);
}

static json_t *rerun(zs_call_t *call, json_t **error)
{
    json_t *rec = load_job(call, error);
    if (!rec)
        return NULL;
    if (!is_final(state_of(rec))) {
        return refuse_state(call, error, rec, "rerun", ": only a finished job reruns");
    }
    static const char *const cleared[] = {"jobResult", "executeTime", "runId", "runStartedAt",
                                          "target", NULL};
    for (const char *const *k = cleared; *k; k++)
        json_object_del(rec, *k);
    json_object_set_new(rec, "apiId", json_string(call->req->id));
    json_object_set_new(rec, "state", json_string("Waiting"));
    json_object_set_new(rec, "managementNodeUuid", json_string(zs_service_node(call->svc)));
    /* It runs as whoever reruns it. */
    json_object_set(rec, "caller", call->req->caller ? call->req->caller : json_null());
    runner_try_start(call->svc, call->txn, rec);
    return save(call, rec, true, error);
}

static json_t *update(zs_call_t *call, json_t **error)
{
    json_t *rec = load_job(call, error);
    if (!rec)
        return NULL;
    static const char *const fields[] = {"name", "description", NULL};
    for (const char *const *k = fields; *k; k++) {
        json_t *v = json_object_get(call->req->body, *k);
        if (v)
            json_object_set(rec, *k, v);
    }
    return save(call, rec, true, error);
}

static json_t *delete_job(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *known = zs_store_get(store, call->txn, LONGJOBS, uuid);
    if (!known)
        return json_object();   /* an unknown job is already deleted */
    json_decref(known);
    json_t *rec = load_job(call, error);
    if (!rec)
        return NULL;
    if (!is_final(state_of(rec))) {
        return refuse_state(call, error, rec, "delete", ": cancel it or wait until it ends");
    }
    json_decref(rec);
    int rc = zs_store_del(store, call->txn, LONGJOBS, uuid);
    if (rc == 0)   /* publishes "resource.deleted"; its tags go even if svc-tags is down now */
        rc = zs_cleanup_resource_deleted(call, uuid, "LongJobVO");
    return rc == 0 ? json_object() : zs_call_store_fail(call, error, rc);
}

static bool visible(zs_call_t *call, const json_t *rec)
{
    const char *owner = json_string_value(json_object_get(rec, "accountUuid"));
    return owner && strcmp(owner, zs_msg_account(call->req)) == 0;
}

static const zs_resource_t *const resources[] = {&zs_res_longjob, NULL};

static const zs_handler_t handlers[] = {
    {"SubmitLongJob", submit},
    {"CancelLongJob", cancel},
    {"ResumeLongJob", resume},
    {"RerunLongJob", rerun},
    {"UpdateLongJob", update},
    {"DeleteLongJob", delete_job},
    /* ZStack's CleanLongJob removes a finished job's record: the same rules as DeleteLongJob
     * (final states only, an unknown uuid is already clean). */
    {"CleanLongJob", delete_job},
    {NULL, NULL},
};

const zs_module_t longjob_module = {
    .name = "longjob",
    .resources = resources,
    .handlers = handlers,
    .visible = visible,
};
