/* worker.c — one thread per running job (see longjob.h). Everything here runs on the
 * worker's thread with its own bus client; the loop is told the outcome over inproc. */
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "longjob.h"
#include "uuid.h"
#include <string.h>

typedef enum { OUT_OK, OUT_FAILED, OUT_CANCELED, OUT_SUSPENDED, OUT_STOPPED } outcome_t;

typedef struct {
    worker_t *w;
    zs_bus_t *bus;
    char root[ZS_UUID_LEN + 1];   /* the job's root progress entry */
} run_t;

static bool stopping(const worker_t *w)
{
    return atomic_load(&w->stop);
}

/* Reports one progress entry under the job's apiId (best effort: progress is advisory).
 * Writes its uuid into out (size 33) when out is not NULL. */
static void report(run_t *r, const char *parent, const char *type, const char *name,
                   const char *content, int total, int current, char *out)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "apiId", r->w->api_id, "type", type, "taskName", name);
    if (parent && *parent)
        json_object_set_new(body, "parentUuid", json_string(parent));
    const char *owner = json_string_value(json_object_get(r->w->caller, "accountUuid"));
    if (owner)   /* GetTaskProgress shows the entries to this account (and admins) only */
        json_object_set_new(body, "accountUuid", json_string(owner));
    if (content)
        json_object_set_new(body, "content", json_string(content));
    if (total > 0) {
        json_object_set_new(body, "totalSteps", json_integer(total));
        json_object_set_new(body, "currentStep", json_integer(current));
    }
    json_t *error = NULL;
    json_t *res = zs_bus_request(r->bus, "core", "ReportProgress", NULL, body, 2000, &error);
    if (out)
        snprintf(out, ZS_UUID_LEN + 1, "%s", res ? json_string_value(json_object_get(res, "taskUuid")) : "");
    if (!res)
        zs_log(ZS_DEBUG, r->w->uuid, "progress not reported: %s",
               json_string_value(json_object_get(error, "details")));
    json_decref(res);
    json_decref(error);
}

static void percent(run_t *r, int done, int total, const char *what)
{
    char pct[8];
    snprintf(pct, sizeof pct, "%d", total > 0 ? done * 100 / total : 100);
    report(r, r->root, "Progress", what, pct, total, done, NULL);
}

/* ---- an API of the suite ------------------------------------------------------------- */

/* Sends the API's request with the run's id (the owning service executes an id at most
 * once and answers a re-send with the stored outcome, so re-sending is safe), re-sends it
 * every longjob.resend-ms while no answer comes (the service may have restarted and lost
 * the request), and gives up as Suspended when the service stays unreachable for
 * longjob.suspend-after-ms, or Failed after longjob.api-timeout seconds. The stop flag is
 * an atomic, not a socket, so the waiting is done in zs_bus_calls of STEP_MS each: the first
 * after a due (re-)send sends, the others only wait (resume). */
#define STEP_MS 200
static outcome_t run_api(run_t *r, json_t **result, json_t **error)
{
    worker_t *w = r->w;
    const zs_api_t *api = w->api;
    if (!api || !(api->flags & ZS_API_ASYNC) || (api->flags & ZS_API_INTERNAL)) {
        *error = zs_error(ZS_SYS_INVALID, "%s is not an API", w->job_name);
        return OUT_FAILED;
    }
    json_t *params = json_deep_copy(w->params);
    if (zs_api_validate(api, params, error) != 0) {
        json_decref(params);
        return OUT_FAILED;
    }
    zs_msg_t req = {.kind = 'Q', .job = true, .body = params,
                    .caller = w->caller ? json_deep_copy(w->caller) : NULL};
    snprintf(req.api, sizeof req.api, "%s", api->name);
    snprintf(req.id, sizeof req.id, "%s", w->run_id);
    int64_t resend = zs_config_int("longjob.resend-ms", 5000);
    int64_t suspend_after = zs_config_int("longjob.suspend-after-ms", 30000);
    int64_t give_up = zs_mono_ms() + zs_config_int("longjob.api-timeout", 3600) * 1000;
    int64_t next_send = 0, unreachable_since = 0;
    outcome_t out = OUT_FAILED;
    if (!zs_bus_socket(r->bus, api->service)) {   /* no endpoint or no keys: waiting won't help */
        *error = zs_error(ZS_SYS_TIMEOUT, "service %s, which runs %s, has no bus connection",
                          api->service, api->name);
        zs_msg_clear(&req);
        return OUT_SUSPENDED;
    }
    for (;;) {
        int64_t now = zs_mono_ms();
        if (stopping(w)) {
            out = OUT_STOPPED;
            break;
        }
        if (now >= give_up) {
            *error = zs_error(ZS_SYS_TIMEOUT, "%s did not answer within longjob.api-timeout", api->name);
            break;
        }
        bool send = now >= next_send;
        zs_msg_t reply;
        int rc = zs_bus_call(r->bus, api->service, &req,
                             &(zs_bus_call_opts_t){.timeout_ms = STEP_MS, .resume = !send}, &reply);
        if (rc == ZS_BUS_OK) {
            if (reply.ok) {
                *result = json_incref(reply.body);
                out = OUT_OK;
            } else {
                *error = json_incref(reply.body);
            }
            zs_msg_clear(&reply);
            break;
        }
        zs_msg_clear(&reply);
        if (rc == ZS_BUS_UNREACHABLE) {
            if (!unreachable_since)
                unreachable_since = now;
            next_send = now + 500;
            if (now - unreachable_since >= suspend_after) {
                *error = zs_error(ZS_SYS_TIMEOUT, "service %s, which runs %s, is not reachable",
                                  api->service, api->name);
                out = OUT_SUSPENDED;
                break;
            }
        } else if (send) {
            unreachable_since = 0;
            next_send = now + resend;
        }
    }
    zs_msg_clear(&req);
    return out;
}

/* ---- built-in jobs ------------------------------------------------------------------- */

static bool backup_cancelled(void *arg)
{
    run_t *r = arg;
    return atomic_load(&r->w->cancel) || stopping(r->w);
}

static void backup_progress(void *arg, int done, int total, const char *store)
{
    char what[128];
    snprintf(what, sizeof what, "backup of store %s done", store);
    percent(arg, done, total, what);
}

static outcome_t run_backup(run_t *r, json_t **result, json_t **error)
{
    backup_t b = {r->w->uuid, r->w->target, r->bus, backup_cancelled, backup_progress, r};
    int rc = backup_run(&b, result, error);
    return rc == 0 ? OUT_OK : rc == 1 ? (stopping(r->w) ? OUT_STOPPED : OUT_CANCELED) : OUT_FAILED;
}

/* Asks every service owning APIs to sweep what has expired ("CleanupExpired"); the result
 * says, per service, what it did or why it could not. */
static outcome_t run_cleanup(run_t *r, json_t **result, json_t **error)
{
    (void)error;
    const char *services[32];
    int n = (int)zs_api_services(services, 32);
    json_t *report_of = json_object();
    for (int i = 0; i < n; i++) {
        if (backup_cancelled(r)) {
            json_decref(report_of);
            return stopping(r->w) ? OUT_STOPPED : OUT_CANCELED;
        }
        json_t *err = NULL;
        json_t *res = zs_bus_request(r->bus, services[i], "CleanupExpired", NULL, json_object(),
                                     10000, &err);
        json_object_set_new(report_of, services[i], res ? res : json_pack("{s:o}", "error", err));
        char what[96];
        snprintf(what, sizeof what, "cleanup of service %s done", services[i]);
        percent(r, i + 1, n, what);
    }
    *result = json_pack("{s:o}", "services", report_of);
    return OUT_OK;
}

/* ---- the thread ---------------------------------------------------------------------- */

static void tell_loop(worker_t *w, outcome_t out, json_t *result, json_t *error)
{
    static const char *const names[] = {"ok", "failed", "canceled", "suspended"};
    json_t *msg = json_pack("{s:s, s:s, s:s}", "uuid", w->uuid, "runId", w->run_id, "outcome",
                            names[out]);
    if (result)
        json_object_set(msg, "result", result);
    if (error)
        json_object_set(msg, "error", error);
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    zsock_t *push = zsock_new_push(w->done_endpoint);
    if (push) {
        zsock_set_linger(push, 5000);   /* the message must reach the loop before close */
        zstr_send(push, text);
        zsock_destroy(&push);
    }
    free(text);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    run_t r = {w, zs_bus_new(), ""};
    const char *klass = w->api && w->api->klass ? w->api->klass : w->job_name;
    report(&r, NULL, "Task", klass, w->kind == JOB_BACKUP ? "backup of every service's store"
                                    : w->kind == JOB_CLEANUP ? "cleanup of expired records"
                                                             : "running the API",
           0, 0, r.root);
    json_t *result = NULL, *error = NULL;
    outcome_t out = w->kind == JOB_BACKUP  ? run_backup(&r, &result, &error)
                    : w->kind == JOB_CLEANUP ? run_cleanup(&r, &result, &error)
                                             : run_api(&r, &result, &error);
    if (out == OUT_OK && w->kind == JOB_API)
        percent(&r, 1, 1, klass);
    if (out != OUT_STOPPED && out != OUT_SUSPENDED) {
        json_t *e = NULL;
        json_decref(zs_bus_request(r.bus, "core", "FinishProgress", NULL,
                                   json_pack("{s:s}", "apiId", w->api_id), 2000, &e));
        json_decref(e);
    }
    if (out != OUT_STOPPED && !stopping(w))
        tell_loop(w, out, result, error);
    json_decref(result);
    json_decref(error);
    zs_bus_destroy(&r.bus);
    return NULL;
}

int worker_start(worker_t *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? 0 : -1;
}

void worker_free(worker_t **w)
{
    if (!*w)
        return;
    json_decref((*w)->params);
    json_decref((*w)->caller);
    free(*w);
    *w = NULL;
}
