/* jobs.c — see jobs.h. */
#include "jobs.h"
#include "backoff.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "outbox.h"
#include "uuid.h"
#include <czmq.h>
#include <errno.h>
#include <string.h>

#define COLL "jobs"
#define MAX_WAITERS 10000
#define TOMBSTONE_MS (24LL * 3600 * 1000)

extern const zs_resource_t zs_res_api_job;

typedef struct {
    zs_deferred_t *token;
    int64_t until;          /* monotonic ms */
} waiter_t;

/* One per service: jobs sent to it and not yet answered are counted (at most broker.window
 * at once, so a burst waits here, bounded by broker.max-open-jobs, instead of flooding the
 * service), and the jobs due to be sent wait in `ready`, oldest first, for a free place.
 * Keeping the due jobs in a queue lets an answer send the next one without looking at every
 * open job (a scan of all of them per answer made a backlog cost quadratic time). */
typedef struct {
    char name[32];
    size_t in_flight;
    zlistx_t *ready;        /* open_job_t* (not owned) */
} window_t;

typedef struct {
    char uuid[ZS_UUID_LEN + 1];
    char service[32];
    int64_t deadline;       /* epoch ms */
    int attempts;           /* dispatches so far */
    int64_t next_at;        /* monotonic ms before which it is not sent (again) */
    int64_t acked_until;    /* the service holds it (acknowledged) until then: not re-sent */
    window_t *window;       /* its service's */
    bool in_flight;         /* sent, not answered (counted in window->in_flight) */
    void *ready;            /* its handle in window->ready while queued there, else NULL */
    const zs_api_t *api;    /* the API the job runs */
    json_t *request;        /* {caller, params}: what each dispatch sends (also stored) */
    zlistx_t *waiters;      /* waiter_t* */
} open_job_t;

/* The answers of one turn's drain of a service socket, stored with the loop's batch. */
typedef struct {
    zs_msg_t replies[256];
    int n;
} completions_t;

/* The module's state (zs_service_module_state). */
typedef struct {
    zhashx_t *open_jobs;      /* uuid -> open_job_t* */
    zhashx_t *windows;        /* service name -> window_t* (owned) */
    size_t nwaiters;
    size_t committing;        /* submitted in the current batch, not yet tracked */
    completions_t *spare;     /* a drained set kept for the next turn: allocating its 54 KiB
                               * each turn cost glibc a consolidation of its free lists */
    /* Tunables, read once at start (broker.*): see jobs.h. */
    int64_t window_max, backoff_base_ms, backoff_cap_ms, ack_lease_ms, max_open;
} jobs_t;

static jobs_t *jobs_of(zs_service_t *svc)
{
    return zs_service_module_state(svc, &jobs_module);
}

static void window_free(void **item)
{
    window_t *w = *item;
    if (!w)
        return;
    zlistx_destroy(&w->ready);
    free(w);
    *item = NULL;
}

static window_t *window_of(jobs_t *J, const char *service)
{
    window_t *w = zhashx_lookup(J->windows, service);
    if (!w) {
        w = calloc(1, sizeof *w);
        snprintf(w->name, sizeof w->name, "%s", service);
        w->ready = zlistx_new();
        zhashx_insert(J->windows, service, w);
    }
    return w;
}

/* The job is no longer in flight (answered, refused as busy, or its attempt lapsed). */
static void land(open_job_t *j)
{
    if (j->in_flight)
        j->window->in_flight--;
    j->in_flight = false;
    j->acked_until = 0;
}

/* Delay before attempt n+1: exponential from broker.redispatch-ms, capped at
 * broker.redispatch-max-ms, with jitter (a uniform draw in [d/2, d]) so the jobs of a
 * burst do not come back together. */
static int64_t backoff_ms(const jobs_t *J, int attempts)
{
    return zs_backoff_ms(J->backoff_base_ms, J->backoff_cap_ms, attempts, 50, 100);
}

static int64_t result_ttl_ms(void)
{
    return zs_config_int("broker.result-ttl", 3 * 3600) * 1000;
}

static void open_job_free(void **item)
{
    open_job_t *j = *item;
    if (!j)
        return;
    land(j);
    if (j->ready)
        zlistx_delete(j->window->ready, j->ready);
    zlistx_destroy(&j->waiters);   /* emptied by jobs_stop */
    json_decref(j->request);
    free(j);
    *item = NULL;
}

/* Tracks an open job from its stored record (borrowed). */
static open_job_t *track(jobs_t *J, const char *uuid, const json_t *rec)
{
    open_job_t *j = calloc(1, sizeof *j);
    snprintf(j->uuid, sizeof j->uuid, "%s", uuid);
    snprintf(j->service, sizeof j->service, "%s", json_string_value(json_object_get(rec, "service")));
    j->deadline = json_integer_value(json_object_get(rec, "deadline"));
    j->api = zs_api_find(json_string_value(json_object_get(rec, "api")));
    j->window = window_of(J, j->service);
    j->request = json_incref(json_object_get(rec, "request"));
    j->waiters = zlistx_new();
    zhashx_insert(J->open_jobs, j->uuid, j);
    return j;
}

/* ---- dispatch ------------------------------------------------------------------------ */

/* Sends the job now (its window has room). */
static void send_job(zs_service_t *svc, const jobs_t *J, open_job_t *j)
{
    zs_msg_t m = {.kind = 'Q', .job = true, .deadline = j->deadline};
    snprintf(m.api, sizeof m.api, "%s", j->api->name);
    snprintf(m.id, sizeof m.id, "%s", j->uuid);
    json_t *caller = json_object_get(j->request, "caller");   /* stored null: no caller */
    m.caller = json_is_null(caller) ? NULL : json_incref(caller);
    m.body = json_incref(json_object_get(j->request, "params"));
    j->attempts++;
    j->next_at = zs_mono_ms() + backoff_ms(J, j->attempts);
    if (zs_bus_send(zs_service_bus(svc), j->service, &m) != 0) {
        zs_log(ZS_DEBUG, j->uuid, "service %s unreachable, will re-dispatch", j->service);
    } else {
        j->in_flight = true;
        j->window->in_flight++;
    }
    zs_msg_clear(&m);
}

/* Sends the jobs waiting in w->ready while w has room. */
static void fill(zs_service_t *svc, const jobs_t *J, window_t *w)
{
    while (w->in_flight < (size_t)J->window_max && zlistx_size(w->ready)) {
        open_job_t *j = zlistx_detach(w->ready, NULL);
        j->ready = NULL;
        send_job(svc, J, j);
    }
}

/* The job is due to be sent: at once when its window has room, else it waits its turn. */
static void dispatch(zs_service_t *svc, const jobs_t *J, open_job_t *j)
{
    if (!j->api || j->in_flight || j->ready)
        return;   /* no API of this broker's (the job ends at its deadline), or already on its way */
    j->ready = zlistx_add_end(j->window->ready, j);
    fill(svc, J, j->window);
}

/* Answers freed places: the waiting jobs of every service take them. */
static void fill_all(zs_service_t *svc, jobs_t *J)
{
    for (window_t *w = zhashx_first(J->windows); w; w = zhashx_next(J->windows))
        fill(svc, J, w);
}

/* Once a second: jobs whose attempt lapsed (no answer, no acknowledgement holding them) and
 * jobs not in flight whose backoff is over are due again. */
static void redispatch_due(zs_service_t *svc, jobs_t *J)
{
    int64_t mono = zs_mono_ms();
    for (open_job_t *j = zhashx_first(J->open_jobs); j; j = zhashx_next(J->open_jobs)) {
        if (j->in_flight && mono >= j->next_at && mono >= j->acked_until)
            land(j);   /* lost on the way, or its service died holding it */
        if (!j->in_flight && !j->ready && mono >= j->next_at)
            dispatch(svc, J, j);
    }
}

/* A job submitted in the current batch: tracked once it commits. */
typedef struct {
    jobs_t *jobs;
    json_t *rec;
} submitted_t;

static void dispatch_after_commit(zs_service_t *svc, void *arg)
{
    submitted_t *sub = arg;
    jobs_t *J = sub->jobs;
    J->committing--;
    dispatch(svc, J, track(J, json_string_value(json_object_get(sub->rec, "uuid")), sub->rec));
    json_decref(sub->rec);
    free(sub);
}

static void drop_submitted(void *arg)
{
    submitted_t *sub = arg;
    sub->jobs->committing--;
    json_decref(sub->rec);
    free(sub);
}

/* ---- completion ---------------------------------------------------------------------- */

/* What a poll of a finished job answers: the result body, or the error object (the gateway
 * wraps it in {"error": ...}). Returns a new reference; sets *ok and *status. */
static json_t *job_outcome(const json_t *rec, bool *ok, int *status)
{
    *ok = json_is_true(json_object_get(rec, "ok"));
    *status = (int)json_integer_value(json_object_get(rec, "status"));
    if (!*status)
        *status = *ok ? 200 : 503;
    json_t *result = json_object_get(rec, "result");
    return json_deep_copy(*ok ? result : json_object_get(result, "error"));
}

static void answer_waiters(zs_service_t *svc, jobs_t *J, open_job_t *j, const json_t *rec)
{
    waiter_t *w;
    const char *api = json_string_value(json_object_get(rec, "api"));
    while ((w = zlistx_detach(j->waiters, NULL))) {
        bool ok;
        int status;
        json_t *body = job_outcome(rec, &ok, &status);
        zs_deferred_answer(svc, &w->token, ok, status, api, body);
        free(w);
        J->nwaiters--;
    }
}

typedef struct {
    char uuid[ZS_UUID_LEN + 1];
} finished_t;

static void finished_after_commit(zs_service_t *svc, void *arg)
{
    finished_t *f = arg;
    jobs_t *J = jobs_of(svc);
    open_job_t *j = zhashx_lookup(J->open_jobs, f->uuid);
    MDB_txn *txn;
    if (j && !zlistx_size(j->waiters)) {
        zhashx_delete(J->open_jobs, f->uuid);   /* nobody long-polls it: nothing to read back */
    } else if (j && zs_store_begin(zs_service_store(svc), NULL, false, &txn) == 0) {
        json_t *rec = zs_store_get(zs_service_store(svc), txn, COLL, f->uuid);
        mdb_txn_abort(txn);
        if (rec)
            answer_waiters(svc, J, j, rec);
        json_decref(rec);
        zhashx_delete(J->open_jobs, f->uuid);
    }
    free(f);
}

/* Stores the outcome of job `uuid` unless it already has one. Returns 0 or an LMDB code. */
static int complete(zs_service_t *svc, MDB_txn *txn, const char *uuid, bool ok, int status,
                    json_t *body)
{
    zs_store_t *store = zs_service_store(svc);
    json_t *rec = zs_store_get(store, txn, COLL, uuid);
    if (!rec || strcmp(json_string_value(json_object_get(rec, "state")), "Running") != 0) {
        json_decref(rec);
        return 0;   /* unknown or already finished: a late duplicate answer */
    }
    int64_t now = zs_now_ms();
    json_t *result = ok ? json_incref(body) : json_pack("{s:O}", "error", body);
    json_object_set_new(rec, "state", json_string(ok ? "Succeeded" : "Failed"));
    json_object_del(rec, "request");   /* never dispatched again: keep only the outcome */
    json_object_set_new(rec, "ok", json_boolean(ok));
    json_object_set_new(rec, "status", json_integer(status ? status : ok ? 200 : 503));
    json_object_set_new(rec, "result", result);
    json_object_set_new(rec, "lastOpDate", json_integer(now));
    json_object_set_new(rec, "expireAt", json_integer(now + result_ttl_ms()));
    int rc = zs_store_put(store, txn, COLL, uuid, rec);
    const char *hook = json_string_value(json_object_get(rec, "webhook"));
    if (rc == 0 && hook && *hook)
        rc = outbox_add(svc, txn, uuid, hook, ok, result);
    if (rc == 0) {
        finished_t *f = calloc(1, sizeof *f);
        snprintf(f->uuid, sizeof f->uuid, "%s", uuid);
        zs_service_after_commit(svc, finished_after_commit, f, free);
        zs_log(ok ? ZS_DEBUG : ZS_INFO, uuid, "%s %s", json_string_value(json_object_get(rec, "api")),
               ok ? "succeeded" : "failed");
    }
    json_decref(rec);
    return rc;
}

static int store_completions(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    completions_t *c = arg;
    for (int i = 0; i < c->n; i++) {
        zs_msg_t *r = &c->replies[i];
        int rc = complete(svc, txn, r->id, r->ok, r->status, r->body);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The batch holding completions `arg` committed (rc 0) or failed: their jobs have left their
 * windows (finished_after_commit), so the jobs waiting for a place take them. */
/* Keeps the empty set `c` for the next turn, or frees it when one is kept already. */
static void keep_spare(jobs_t *J, completions_t *c)
{
    if (J->spare)
        free(c);
    else
        J->spare = c;
}

static void completions_stored(zs_service_t *svc, void *arg, int rc)
{
    completions_t *c = arg;
    if (rc != 0)   /* not stored: the jobs stay open and will be re-dispatched */
        zs_errorf("storing %d completions failed: %s", c->n, zs_store_strerror(rc));
    for (int i = 0; i < c->n; i++)
        zs_msg_clear(&c->replies[i]);
    if (rc == ECANCELED) {   /* the service is closing */
        free(c);
        return;
    }
    jobs_t *J = jobs_of(svc);
    c->n = 0;
    keep_spare(J, c);
    fill_all(svc, J);
}

/* A service socket is readable: the completions waiting there are stored with the loop's
 * batch (zs_service_write_later), 256 to a write. */
static void on_service_reply(zs_service_t *svc, void *sock)
{
    jobs_t *J = jobs_of(svc);
    completions_t *c = NULL;
    bool landed = false;
    for (int taken = 0; taken < 4096; taken++) {
        if (!c && (c = J->spare))
            J->spare = NULL;
        else if (!c && !(c = calloc(1, sizeof *c))) {
            zs_errorf("out of memory taking job answers: they stay queued");
            break;
        }
        if (zs_bus_try_recv(sock, &c->replies[c->n], NULL) != 0) {
            if (errno == EPROTO)   /* a bad message, dropped */
                continue;
            break;
        }
        zs_msg_t *r = &c->replies[c->n];
        open_job_t *j = r->job ? zhashx_lookup(J->open_jobs, r->id) : NULL;
        if (r->kind == 'A' && j) {   /* the service holds it: no re-send while it does */
            j->acked_until = zs_mono_ms() + J->ack_lease_ms;
            zs_msg_clear(r);
        } else if (r->kind == 'R' && r->job && !r->ok &&
                   strcmp(zs_error_code(r->body), ZS_SYS_BUSY) == 0) {
            if (j) {   /* refused, not run: sent again after its backoff */
                land(j);
                landed = true;
            }
            zs_msg_clear(r);
        } else if (r->kind == 'R' && r->job) {
            if (++c->n == 256) {
                zs_service_write_later(svc, store_completions, completions_stored, c);
                c = NULL;
            }
        } else {
            zs_msg_clear(r);
        }
    }
    if (c && c->n)
        zs_service_write_later(svc, store_completions, completions_stored, c);
    else if (c)
        keep_spare(J, c);
    if (landed)
        fill_all(svc, J);
}

/* ---- handlers ------------------------------------------------------------------------ */

static json_t *jobs_submit(zs_call_t *call, json_t **error)
{
    jobs_t *J = jobs_of(call->svc);
    const char *uuid = zs_call_str(call, "id"), *api_name = zs_call_str(call, "api");
    const char *hook = zs_call_str(call, "webhook");
    const zs_api_t *api = zs_api_find(api_name);
    if (!api || !(api->flags & ZS_API_ASYNC))
        return zs_call_invalid(call, error, "API[%s] is not an async API of the suite", api_name);
    const char *refusal = hook ? outbox_url_refusal(hook) : NULL;
    if (refusal)
        return zs_call_invalid(call, error, "X-Web-Hook: %s", refusal);
    if (zhashx_size(J->open_jobs) + J->committing >= (size_t)J->max_open)
        return zs_call_fail(call, error, ZS_SYS_BUSY, "%zu jobs are waiting to finish; retry later",
                            zhashx_size(J->open_jobs) + J->committing);
    zs_store_t *store = zs_service_store(call->svc);
    json_t *old = zs_store_get(store, call->txn, COLL, uuid);
    if (old) {
        json_decref(old);
        return zs_call_invalid(call, error, "Duplicate job uuid[%s]", uuid);
    }
    int64_t now = zs_now_ms();
    int64_t deadline = json_integer_value(json_object_get(call->req->body, "deadline"));
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:{s:O?, s:O}, s:I, s:I}",
                            "uuid", uuid, "api", api->name, "service", api->service,
                            "state", "Running", "deadline", (json_int_t)deadline,
                            "request", "caller", call->req->caller, "params",
                            json_object_get(call->req->body, "params"),
                            "createDate", (json_int_t)now, "lastOpDate", (json_int_t)now);
    if (hook)
        json_object_set_new(rec, "webhook", json_string(hook));
    int rc = zs_store_put(store, call->txn, COLL, uuid, rec);
    if (rc != 0) {
        json_decref(rec);
        return zs_call_store_fail(call, error, rc);
    }
    /* Tracked and dispatched only once the job is durable (and not at all if it rolls back). */
    submitted_t *sub = malloc(sizeof *sub);
    if (!sub) {
        json_decref(rec);
        return zs_call_store_fail(call, error, ENOMEM);
    }
    *sub = (submitted_t){J, rec};
    J->committing++;
    zs_service_after_commit(call->svc, dispatch_after_commit, sub, drop_submitted);
    call->status = 202;
    return json_pack("{s:s}", "uuid", uuid);
}

static json_t *jobs_get(zs_call_t *call, json_t **error)
{
    jobs_t *J = jobs_of(call->svc);
    const char *uuid = zs_call_str(call, "uuid");
    json_t *rec = zs_uuid_valid(uuid) ? zs_store_get(zs_service_store(call->svc), call->txn, COLL, uuid)
                                      : NULL;
    const char *state = json_string_value(json_object_get(rec, "state"));
    if (!rec || strcmp(state, "Expired") == 0) {
        json_decref(rec);
        call->status = 404;
        return zs_call_fail(call, error, ZS_SYS_NOT_FOUND,
                            "job[%s] is not found, or its result has expired", uuid);
    }
    call->reply_api = json_string_value(json_object_get(rec, "api"));
    /* reply_api must outlive rec: point at the table's own copy of the name. */
    const zs_api_t *api = zs_api_find(call->reply_api);
    call->reply_api = api ? api->name : NULL;
    json_t *out = NULL;
    if (strcmp(state, "Running") == 0) {
        json_int_t wait = json_integer_value(json_object_get(call->req->body, "wait"));
        open_job_t *j = zhashx_lookup(J->open_jobs, uuid);
        if (wait > 0 && j && J->nwaiters < MAX_WAITERS) {
            waiter_t *w = calloc(1, sizeof *w);
            w->token = zs_call_defer(call);
            w->until = zs_mono_ms() + wait * 1000;
            zlistx_add_end(j->waiters, w);
            J->nwaiters++;
            json_decref(rec);
            return zs_call_deferred();
        }
        call->status = 202;
        out = json_object();
    } else {
        bool ok;
        json_t *body = job_outcome(rec, &ok, &call->status);
        if (ok)
            out = body;
        else
            *error = body;
    }
    json_decref(rec);
    return out;
}

/* ---- periodic work ------------------------------------------------------------------- */

static int expire_timed_out(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    zlistx_t *late = arg;
    for (char *uuid = zlistx_first(late); uuid; uuid = zlistx_next(late)) {
        int rc = complete(svc, txn, uuid, false, 503,
                          zs_error(ZS_SYS_TIMEOUT, "job[%s] did not finish before its deadline", uuid));
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void check_open_jobs(zs_service_t *svc)
{
    jobs_t *J = jobs_of(svc);
    int64_t now = zs_now_ms(), mono = zs_mono_ms();
    zlistx_t *late = zlistx_new();
    zlistx_set_destructor(late, (zlistx_destructor_fn *)zstr_free);
    for (open_job_t *j = zhashx_first(J->open_jobs); j; j = zhashx_next(J->open_jobs)) {
        if (j->deadline && now > j->deadline)
            zlistx_add_end(late, strdup(j->uuid));
        /* Long polls whose wait is over get the "still running" answer. */
        zlistx_t *keep = zlistx_new();
        waiter_t *w;
        while ((w = zlistx_detach(j->waiters, NULL))) {
            if (mono < w->until) {
                zlistx_add_end(keep, w);
                continue;
            }
            zs_deferred_answer(svc, &w->token, true, 202, NULL, json_object());
            free(w);
            J->nwaiters--;
        }
        zlistx_destroy(&j->waiters);
        j->waiters = keep;
    }
    if (zlistx_size(late))
        zs_service_write(svc, expire_timed_out, late);
    zlistx_destroy(&late);
    redispatch_due(svc, J);
}

/* Finished results older than the TTL become tombstones; old tombstones go. */
static int expire_results(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *due = zs_store_find_upto(store, txn, COLL, "expireAt", zs_now_ms(), 1000);
    int rc = 0;
    size_t i;
    json_t *u;
    json_array_foreach(due, i, u) {
        const char *uuid = json_string_value(u);
        json_t *rec = zs_store_get(store, txn, COLL, uuid);
        if (!rec)
            continue;
        if (strcmp(json_string_value(json_object_get(rec, "state")), "Expired") == 0) {
            rc = zs_store_del(store, txn, COLL, uuid);
        } else {
            json_t *tomb = json_pack("{s:s, s:s, s:s, s:I}", "uuid", uuid, "state", "Expired",
                                     "api", json_string_value(json_object_get(rec, "api")),
                                     "expireAt", (json_int_t)(zs_now_ms() + TOMBSTONE_MS));
            rc = zs_store_put(store, txn, COLL, uuid, tomb);
            json_decref(tomb);
        }
        json_decref(rec);
        if (rc != 0 && rc != MDB_NOTFOUND)
            break;
        rc = 0;
    }
    json_decref(due);
    return rc;
}

static void jobs_tick(zs_service_t *svc)
{
    check_open_jobs(svc);
    zs_service_write(svc, expire_results, NULL);
}

/* ---- start / stop -------------------------------------------------------------------- */

static int collect_running(void *arg, const char *uuid)
{
    zlistx_add_end(arg, strdup(uuid));
    return 0;
}

/* Every job still Running when the broker stopped is tracked again and re-dispatched by the
 * first tick (the services answer a job they already ran with its stored outcome). */
static int load_open_jobs(zs_service_t *svc, jobs_t *J)
{
    zs_store_t *store = zs_service_store(svc);
    MDB_txn *txn;
    if (zs_store_begin(store, NULL, false, &txn) != 0)
        return -1;
    unsigned char key[16];
    json_t *running = json_string("Running");
    int klen = zs_store_index_key(ZS_FT_STRING, running, key, sizeof key);
    json_decref(running);
    zlistx_t *uuids = zlistx_new();
    zlistx_set_destructor(uuids, (zlistx_destructor_fn *)zstr_free);
    zs_store_index_walk(store, txn, COLL, "state", key, (size_t)klen, true, key, (size_t)klen,
                        true, NULL, 0, collect_running, uuids);
    for (char *uuid = zlistx_first(uuids); uuid; uuid = zlistx_next(uuids)) {
        json_t *rec = zs_store_get(store, txn, COLL, uuid);
        if (rec)
            track(J, uuid, rec);
        json_decref(rec);
    }
    mdb_txn_abort(txn);
    if (zlistx_size(uuids))
        zs_info("%zu unfinished jobs taken up again", zlistx_size(uuids));
    zlistx_destroy(&uuids);
    return 0;
}

/* One socket per service that owns async APIs; completions come back on them. */
static void watch_services(zs_service_t *svc)
{
    for (size_t i = 0; i < zs_api_count(); i++) {
        const zs_api_t *a = zs_api_at(i);
        bool first = a->flags & ZS_API_ASYNC;
        for (size_t k = 0; first && k < i; k++) {
            const zs_api_t *b = zs_api_at(k);
            first = !((b->flags & ZS_API_ASYNC) && strcmp(b->service, a->service) == 0);
        }
        zsock_t *s = first ? zs_bus_socket(zs_service_bus(svc), a->service) : NULL;
        if (s)
            zs_service_watch(svc, s, on_service_reply);
    }
}

static void jobs_destroy(zs_service_t *svc, void *state)
{
    jobs_t *J = state;
    if (J->open_jobs)   /* long polls still waiting are told "still running": pollers move on */
        for (open_job_t *j = zhashx_first(J->open_jobs); j; j = zhashx_next(J->open_jobs)) {
            waiter_t *w;
            while ((w = zlistx_detach(j->waiters, NULL))) {
                zs_deferred_answer(svc, &w->token, true, 202, NULL, json_object());
                free(w);
            }
        }
    zhashx_destroy(&J->open_jobs);
    zhashx_destroy(&J->windows);
    free(J->spare);
    free(J);
}

static void *jobs_create(zs_service_t *svc)
{
    jobs_t *J = calloc(1, sizeof *J);
    if (!J)
        return NULL;
    J->window_max = zs_config_int("broker.window", 1024);
    J->backoff_base_ms = zs_config_int("broker.redispatch-ms", 2000);
    J->backoff_cap_ms = zs_config_int("broker.redispatch-max-ms", 30000);
    J->ack_lease_ms = zs_config_int("broker.ack-lease-ms", 30000);
    J->max_open = zs_config_int("broker.max-open-jobs", 10000);
    if (J->backoff_base_ms < 1)
        J->backoff_base_ms = 1;
    J->windows = zhashx_new();
    zhashx_set_destructor(J->windows, window_free);
    J->open_jobs = zhashx_new();
    zhashx_set_destructor(J->open_jobs, open_job_free);
    watch_services(svc);
    if (load_open_jobs(svc, J) != 0) {
        jobs_destroy(svc, J);
        return NULL;
    }
    return J;
}

static const zs_resource_t *const resources[] = {&zs_res_api_job, NULL};

static const zs_handler_t handlers[] = {
    {"SubmitJob", jobs_submit},
    {"GetApiJob", jobs_get},
    {NULL, NULL},
};

const zs_module_t jobs_module = {
    .name = "jobs",
    .resources = resources,
    .handlers = handlers,
    .create = jobs_create,
    .destroy = jobs_destroy,
    .tick = jobs_tick,
};
