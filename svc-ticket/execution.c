/* execution.c — running the requests of a FinalApproved ticket, as its submitter.
 *
 * A worker thread (a czmq actor with its own bus client) runs the calls of one ticket after
 * another, in order: request i, iteration j, each sent as an async job to the API's owning
 * service with a job id derived from (ticket uuid, call number). Services execute a job id at
 * most once and remember its outcome (service.h), so sending a call again — after a timeout,
 * or after zs-ticket died between a call and its record — returns the first outcome instead
 * of running the API twice.
 *
 * Only the service loop writes the store: the worker hands each outcome over the actor pipe
 * ("DONE" uuid outcome-json), the loop appends it to the ticket's executeResults (in call
 * order; a duplicate or out-of-order outcome is ignored), and after the last one sets
 * executionStatus, writes the final history row and publishes "ticket.executed". The worker
 * ends each ticket with "END" uuid. Tickets still Running — after a restart, or when an
 * outcome was lost — are handed to the worker again by a timer of the loop (on its first
 * turn, then every RESUME_EVERY_MS); it resumes at the first call without a recorded
 * outcome.
 */
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "ticket.h"
#include "uuid.h"
#include <sodium.h>
#include <string.h>

#define RESUME_EVERY_MS 5000
#define MAX_RESULT_BYTES 4096

/* The module's state (zs_service_module_state). */
typedef struct {
    zactor_t *worker;
    zhashx_t *inflight;      /* uuids handed to the worker and not ENDed yet */
} execution_t;

static execution_t *execution_of(zs_service_t *svc)
{
    return zs_service_module_state(svc, &execution_module);
}

/* ---- the worker thread --------------------------------------------------------------- */

typedef struct {
    zsock_t *pipe;
    zs_store_t *store;
    zs_bus_t *bus;
    zlistx_t *queue;          /* char* ticket uuids */
    bool stopping;
    int64_t call_timeout_ms, retry_window_ms;
} worker_t;

/* A pipe message while the worker is busy: queue RUNs, notice $TERM. */
static void worker_command(worker_t *w)
{
    zmsg_t *m = zmsg_recv(w->pipe);
    if (!m) {
        w->stopping = true;
        return;
    }
    char *cmd = zmsg_popstr(m), *uuid = zmsg_popstr(m);
    if (cmd && strcmp(cmd, "$TERM") == 0)
        w->stopping = true;
    else if (cmd && strcmp(cmd, "RUN") == 0 && uuid)
        zlistx_add_end(w->queue, strdup(uuid));
    free(cmd);
    free(uuid);
    zmsg_destroy(&m);
}

/* Waits up to ms for the pipe (commands are handled). False when stopping. */
static bool worker_sleep(worker_t *w, int64_t ms)
{
    zpoller_t *p = zpoller_new(w->pipe, NULL);
    if (zpoller_wait(p, (int)ms) == w->pipe)
        worker_command(w);
    zpoller_destroy(&p);
    return !w->stopping;
}

/* Sends req (same id on every attempt) to `service` and waits for its reply, retrying on
 * timeouts and unreachable services until the retry window is spent. Returns 0 with
 * *reply, 1 with *reply = a SYS.1001 failure once the window is spent, -1 when stopping. */
static int worker_call(worker_t *w, const char *service, zs_msg_t *req, zs_msg_t *reply)
{
    int64_t give_up = zs_mono_ms() + w->retry_window_ms, backoff = 200;
    while (!w->stopping) {
        req->deadline = zs_now_ms() + w->call_timeout_ms;
        zs_bus_call_opts_t opts = {.cancel = w->pipe};
        int rc;
        while ((rc = zs_bus_call(w->bus, service, req, &opts, reply)) == ZS_BUS_CANCELLED) {
            worker_command(w);   /* a RUN is queued; $TERM stops */
            if (w->stopping)
                return -1;
            opts.resume = true;
        }
        if (rc == ZS_BUS_OK)
            return 0;
        zs_msg_clear(reply);
        if (zs_mono_ms() >= give_up) {
            zs_msg_reply(reply, req, false, 503,
                         zs_error(ZS_SYS_TIMEOUT, "service %s did not answer %s within %lld s", service,
                                  req->api, (long long)(w->retry_window_ms / 1000)));
            return 1;
        }
        zs_log(ZS_DEBUG, req->id, "%s: service %s unreachable or slow, retrying", req->api, service);
        if (!worker_sleep(w, backoff))
            break;
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
    return -1;
}

/* The job id of call k of a ticket: a uuid hashed from both, stable across restarts. */
static void call_id(const char *ticket_uuid, size_t k, char out[ZS_UUID_LEN + 1])
{
    char input[96];
    int n = snprintf(input, sizeof input, "ticket:%s:call:%zu", ticket_uuid, k);
    unsigned char h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)input, (unsigned long long)n, NULL, 0);
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x40);   /* looks like a v4 uuid */
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static void report(worker_t *w, const char *uuid, json_t *outcome)
{
    char *text = json_dumps(outcome, JSON_COMPACT);
    json_decref(outcome);
    if (text)
        zstr_sendx(w->pipe, "DONE", uuid, text, NULL);
    free(text);
}

/* Does the submitter's account still exist? 1 yes, 0 no, -1 stopping. */
static int submitter_exists(worker_t *w, const json_t *submitter)
{
    zs_msg_t req = {.kind = 'Q'}, reply;
    snprintf(req.api, sizeof req.api, "Exists");
    zs_uuid_new(req.id);
    req.body = json_pack("{s:s, s:O}", "resource", "Account", "uuid", json_object_get(submitter, "accountUuid"));
    int rc = worker_call(w, "core", &req, &reply);
    zs_msg_clear(&req);
    if (rc < 0)
        return -1;
    int yes = !reply.ok || json_is_true(json_object_get(reply.body, "exists"));   /* unsure: try */
    zs_msg_clear(&reply);
    return yes;
}

static json_t *outcome_of(size_t k, size_t i, size_t j, const json_t *request, const char *id,
                          zs_msg_t *reply)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:O?, s:O, s:s, s:b, s:I}", "index", (json_int_t)k,
                          "requestIndex", (json_int_t)i, "iteration", (json_int_t)j + 1,
                          "requestName", json_object_get(request, "requestName"), "apiName",
                          json_object_get(request, "apiName"), "jobUuid", id, "success", reply->ok,
                          "date", (json_int_t)zs_now_ms());
    char *text = json_dumps(reply->body, JSON_COMPACT);
    size_t size = text ? strlen(text) : 0;
    free(text);
    if (size <= MAX_RESULT_BYTES)
        json_object_set(o, reply->ok ? "result" : "error", reply->body);
    else if (reply->ok)
        json_object_set_new(o, "resultTruncated", json_integer((json_int_t)size));
    else   /* keep what says why */
        json_object_set_new(o, "error", json_pack("{s:O?, s:O?}", "code", json_object_get(reply->body, "code"),
                                                  "description", json_object_get(reply->body, "description")));
    return o;
}

/* Runs the calls of one ticket that have no recorded outcome yet. */
static void run_ticket(worker_t *w, const char *uuid)
{
    MDB_txn *txn;
    json_t *t = NULL;
    if (zs_store_begin(w->store, NULL, false, &txn) == 0) {
        t = zs_store_get(w->store, txn, TICKETS, uuid);
        mdb_txn_abort(txn);
    }
    const char *status = json_string_value(json_object_get(t, "executionStatus"));
    if (!t || !status || strcmp(status, "Running") != 0) {
        json_decref(t);
        return;
    }
    json_t *requests = json_object_get(t, "request"), *submitter = json_object_get(t, "submitter");
    size_t done = json_array_size(json_object_get(t, "executeResults")), k = 0;
    int exists = done < requests_calls(requests) ? submitter_exists(w, submitter) : 1;
    size_t i;
    json_t *r;
    json_array_foreach(requests, i, r) {
        json_int_t times = json_integer_value(json_object_get(r, "executeTimes"));
        const zs_api_t *api = zs_api_find(json_string_value(json_object_get(r, "apiName")));
        for (json_int_t j = 0; j < times && exists >= 0 && !w->stopping; j++, k++) {
            if (k < done)
                continue;
            zs_msg_t req = {.kind = 'Q', .job = true}, reply;
            call_id(uuid, k, req.id);
            if (!exists || !api) {
                zs_msg_reply(&reply, &req, false, 503,
                             !api ? zs_error(ZS_SYS_INVALID, "invalid request. no API[%s] found",
                                             json_string_value(json_object_get(r, "apiName")))
                                  : zs_error(ZS_ID_DENIED, "the submitter account[uuid:%s] no longer exists",
                                             json_string_value(json_object_get(submitter, "accountUuid"))));
            } else {
                snprintf(req.api, sizeof req.api, "%s", api->name);
                req.caller = json_deep_copy(submitter);   /* the call runs as the submitter */
                req.body = json_deep_copy(json_object_get(r, "apiBody"));
                if (!json_is_object(req.body)) {
                    json_decref(req.body);
                    req.body = json_object();
                }
                if (worker_call(w, api->service, &req, &reply) < 0) {
                    zs_msg_clear(&req);
                    break;
                }
            }
            zs_log(ZS_INFO, req.id, "ticket %s call %zu (%s #%lld): %s", uuid, k,
                   api ? api->name : "?", (long long)j + 1, reply.ok ? "ok" : "failed");
            report(w, uuid, outcome_of(k, i, (size_t)j, r, req.id, &reply));
            zs_msg_clear(&req);
            zs_msg_clear(&reply);
        }
    }
    json_decref(t);
}

static void worker_main(zsock_t *pipe, void *arg)
{
    worker_t w = {.pipe = pipe, .store = arg, .bus = zs_bus_new(), .queue = zlistx_new()};
    w.call_timeout_ms = zs_config_int("ticket.call-timeout", 60) * 1000;
    w.retry_window_ms = zs_config_int("ticket.call-retry-window", 600) * 1000;
    zlistx_set_destructor(w.queue, (zlistx_destructor_fn *)zstr_free);
    zsock_signal(pipe, 0);
    while (!w.stopping) {
        char *uuid = zlistx_detach(w.queue, NULL);
        if (!uuid) {
            worker_command(&w);   /* blocks until RUN or $TERM */
            continue;
        }
        run_ticket(&w, uuid);
        if (!w.stopping)
            zstr_sendx(pipe, "END", uuid, NULL);
        free(uuid);
    }
    zlistx_destroy(&w.queue);
    zs_bus_destroy(&w.bus);
}

/* ---- the loop side ------------------------------------------------------------------- */

void execution_start(zs_service_t *svc, const char *ticket_uuid)
{
    execution_t *E = execution_of(svc);
    if (!E || zhashx_lookup(E->inflight, ticket_uuid))
        return;
    zhashx_insert(E->inflight, ticket_uuid, (void *)1);
    zstr_sendx(E->worker, "RUN", ticket_uuid, NULL);
}

typedef struct {
    const char *uuid;
    json_t *outcome;
} record_t;

static const char *final_status(const json_t *results, size_t *ok)
{
    size_t i, n = json_array_size(results);
    json_t *r;
    *ok = 0;
    json_array_foreach(results, i, r)
        if (json_is_true(json_object_get(r, "success")))
            (*ok)++;
    return *ok == n ? "Succeeded" : *ok == 0 ? "Failed" : "PartlyFailed";
}

static int record(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    record_t *rec = arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *t = zs_store_get(store, txn, TICKETS, rec->uuid);
    const char *status = json_string_value(json_object_get(t, "executionStatus"));
    json_t *results = json_object_get(t, "executeResults");
    if (!t || !status || strcmp(status, "Running") != 0 || !json_is_array(results) ||
        (json_int_t)json_array_size(results) != json_integer_value(json_object_get(rec->outcome, "index"))) {
        json_decref(t);   /* a duplicate or a gap: the resume pass sorts it out */
        return 0;
    }
    json_array_append(results, rec->outcome);
    int64_t now = zs_now_ms();
    json_object_set_new(t, "lastOpDate", json_integer(now));
    int rc = 0;
    if (json_array_size(results) == requests_calls(json_object_get(t, "request"))) {
        size_t ok;
        const char *final = final_status(results, &ok);
        char comment[160];
        snprintf(comment, sizeof comment, "execution %s: %zu of %zu API calls succeeded", final, ok,
                 json_array_size(results));
        json_object_set_new(t, "executionStatus", json_string(final));
        json_object_set_new(t, "executionEndDate", json_integer(now));
        rc = ticket_history_add(svc, txn, t, "FinalApproved", "FinalApproved", comment, "System", NULL,
                                NULL, results);
        zs_service_publish(svc, "ticket.executed",
                           json_pack("{s:O, s:O, s:s, s:O}", "ticketUuid", json_object_get(t, "uuid"),
                                     "name", json_object_get(t, "name"), "executionStatus", final,
                                     "submitterUuid", json_object_get(t, "submitterUuid")));
        zs_info("ticket %s executed: %s", rec->uuid, comment);
    }
    if (rc == 0)
        rc = zs_store_put(store, txn, TICKETS, rec->uuid, t);
    json_decref(t);
    return rc;
}

static void on_worker(zs_service_t *svc, void *sock)
{
    execution_t *E = execution_of(svc);
    zmsg_t *m = zmsg_recv(sock);
    char *cmd = m ? zmsg_popstr(m) : NULL, *uuid = m ? zmsg_popstr(m) : NULL;
    if (cmd && uuid && strcmp(cmd, "DONE") == 0) {
        char *text = zmsg_popstr(m);
        record_t r = {uuid, text ? json_loads(text, 0, NULL) : NULL};
        int rc = r.outcome ? zs_service_write(svc, record, &r) : EINVAL;
        if (rc != 0)
            zs_warn("ticket %s: cannot record an execution outcome: %s", uuid, zs_store_strerror(rc));
        json_decref(r.outcome);
        free(text);
    } else if (cmd && uuid && strcmp(cmd, "END") == 0) {
        zhashx_delete(E->inflight, uuid);
    }
    free(cmd);
    free(uuid);
    zmsg_destroy(&m);
}

/* Hands every Running ticket that the worker does not hold to it (restart, lost outcome). */
static void resume(zs_service_t *svc)
{
    MDB_txn *txn;
    if (zs_store_begin(zs_service_store(svc), NULL, false, &txn) != 0)
        return;
    json_t *key = json_string("Running");
    json_t *uuids = zs_store_find(zs_service_store(svc), txn, TICKETS, "executionStatus", key, 10000);
    json_decref(key);
    mdb_txn_abort(txn);
    size_t i;
    json_t *u;
    json_array_foreach(uuids, i, u)
        execution_start(svc, json_string_value(u));
    json_decref(uuids);
}

static void execution_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    execution_t *E = state;
    zactor_destroy(&E->worker);
    zhashx_destroy(&E->inflight);
    free(E);
}

static void *execution_create(zs_service_t *svc)
{
    if (sodium_init() < 0)
        return NULL;
    execution_t *E = calloc(1, sizeof *E);
    if (!E)
        return NULL;
    E->inflight = zhashx_new();   /* keys copied; items are a bare marker */
    E->worker = zactor_new(worker_main, zs_service_store(svc));
    if (!E->inflight || !E->worker || zs_service_watch(svc, E->worker, on_worker) != 0 ||
        zs_service_every(svc, RESUME_EVERY_MS, resume) != 0) {
        execution_destroy(svc, E);
        return NULL;
    }
    return E;
}

const zs_module_t execution_module = {
    .name = "execution",
    .create = execution_create,
    .destroy = execution_destroy,
};
