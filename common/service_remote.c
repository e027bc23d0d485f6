/* service_remote.c — the part of the runtime that talks to other services without the loop
 * waiting (service.h, "Other services: never from the loop thread"): the pool, requests that
 * went for other services' answers (zs_call_remote), and the outbox of sends after commit
 * (zs_call_send_after_commit) with the replies that wait for them. */
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "service_internal.h"
#include "uuid.h"
#include <string.h>

/* ---- the pool ------------------------------------------------------------------------ */

typedef struct {
    void (*work)(zs_bus_t *, void *);
    void (*done)(zs_service_t *, void *);
    void *arg;
} task_t;

static void task_work(zs_bus_t *bus, void *arg)
{
    task_t *t = arg;
    t->work(bus, t->arg);
}

static void task_done(void *owner, void *arg, bool ran)
{
    task_t *t = arg;
    (void)ran;   /* not run, or the service is stopping: owner is NULL, done only releases */
    t->done(owner, t->arg);
    free(t);
}

void zs_service_remote(zs_service_t *svc, void (*work)(zs_bus_t *, void *),
                       void (*done)(zs_service_t *, void *), void *arg)
{
    task_t *t = malloc(sizeof *t);
    *t = (task_t){work, done, arg};
    zs_remote_post(svc->remote, task_work, task_done, t);
}

static void on_remote_finished(zs_service_t *svc, void *sock)
{
    (void)sock;
    zs_remote_finish(svc->remote, svc);
}

/* ---- zs_call_remote: questions asked from a handler ----------------------------------- */

/* The marker is a real error object (code and details readable, in case a handler looks)
 * made once per process and recognised by its address. Loop thread only, like handlers. */
static json_t *pending_marker;

static json_t *marker(void)
{
    if (!pending_marker)
        pending_marker = zs_error(ZS_SYS_FAILED, "waiting for the answer of another service");
    return json_incref(pending_marker);
}

bool zs_call_is_pending(const json_t *error)
{
    return error && error == pending_marker;
}

/* The memo key of a question: what was asked, of whom, by whom. New string (free). */
static char *question_key(const char *service, const char *api, const json_t *caller, const json_t *body)
{
    json_t *q = json_pack("[s, s, O?, O?]", service, api, caller, body);
    char *key = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(q);
    return key;
}

json_t *zs_call_remote(zs_call_t *call, const char *service, const char *api,
                       const json_t *caller, json_t *body, int64_t timeout_ms, json_t **error)
{
    char *key = question_key(service, api, caller, body);
    if (!key) {
        json_decref(body);
        *error = zs_error(ZS_SYS_INTERNAL, "cannot encode a question to %s", service);
        return NULL;
    }
    json_t *answer = json_object_get(call->memo, key);
    if (answer) {
        free(key);
        json_decref(body);
        json_t *result = json_object_get(answer, "result");
        if (result)
            return json_incref(result);
        *error = json_incref(json_object_get(answer, "error"));
        return NULL;
    }
    if (!call->asks)
        call->asks = json_array();
    json_array_append_new(call->asks, json_pack("{s:s, s:s, s:s, s:O*, s:o*, s:I}", "key", key,
                                                "service", service, "api", api, "caller", caller,
                                                "body", body, "timeout", (json_int_t)timeout_ms));
    free(key);
    *error = marker();
    return NULL;
}

/* A request at the pool: its questions are asked there, then it queues again. */
typedef struct {
    struct queued q;
    json_t *asks;
} away_t;

static void ask_all(zs_bus_t *bus, void *arg)
{
    away_t *a = arg;
    size_t i;
    json_t *ask;
    if (!a->q.memo)
        a->q.memo = json_object();
    json_array_foreach(a->asks, i, ask) {
        json_t *error = NULL;
        json_t *result = zs_bus_request(bus, json_string_value(json_object_get(ask, "service")),
                                        json_string_value(json_object_get(ask, "api")),
                                        json_object_get(ask, "caller"),
                                        json_incref(json_object_get(ask, "body")),
                                        json_integer_value(json_object_get(ask, "timeout")), &error);
        json_object_set_new(a->q.memo, json_string_value(json_object_get(ask, "key")),
                            result ? json_pack("{s:o}", "result", result)
                                   : json_pack("{s:o}", "error", error));
    }
}

static void back_from_pool(zs_service_t *svc, void *arg)
{
    away_t *a = arg;
    if (svc) {   /* its place was kept (svc->away): the ring has room */
        svc->away--;
        svc->queue[(svc->qhead + svc->qlen++) % svc->qmax] = a->q;
    } else {
        zframe_destroy(&a->q.identity);
        zs_msg_clear(&a->q.req);
        json_decref(a->q.memo);
    }
    json_decref(a->asks);
    free(a);
}

void service_send_away(zs_service_t *svc, struct queued *q, json_t *asks)
{
    away_t *a = calloc(1, sizeof *a);
    a->q = *q;
    a->q.rounds++;
    a->asks = asks;
    memset(q, 0, sizeof *q);
    if (a->q.req.job)   /* a re-dispatch meanwhile is acknowledged, not queued twice */
        zhashx_insert(svc->queued_jobs, a->q.req.id, svc);
    svc->away++;
    zs_log(ZS_DEBUG, a->q.req.id, "%s waits for %zu answer(s) of other services", a->q.req.api,
           json_array_size(asks));
    zs_service_remote(svc, ask_all, back_from_pool, a);
}

/* ---- the outbox: sends after commit -------------------------------------------------- */

/* A reply waiting for the first attempts of its request's outbox sends. */
typedef struct {
    zframe_t *identity;
    zs_msg_t reply;
    size_t waiting;
} held_t;

/* Attempts at outbox records, in order, until one is not taken. */
typedef struct {
    json_t *items;      /* [[key, {service, api, caller?, body}], ...] */
    json_t *sent;       /* keys the services answered (either way: each ran, or refused) */
    int64_t timeout_ms;
    bool retry;         /* the tick's round */
} attempt_t;

int zs_call_send_after_commit(zs_call_t *call, const char *service, const char *api, json_t *body)
{
    char key[ZS_UUID_LEN + 1];
    zs_uuid_new(key);
    json_t *rec = json_pack("{s:s, s:s, s:O*, s:o}", "service", service, "api", api, "caller",
                            call->req->caller, "body", body);
    char *text = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
    json_decref(rec);
    if (!text)
        return ENOMEM;
    int rc = zs_store_kv_put(call->svc->store, call->txn, OUTBOX_DB, key, strlen(key), text, strlen(text));
    free(text);
    if (rc != 0)
        return rc;
    if (!call->held)
        call->held = json_array();
    json_array_append_new(call->held, json_string(key));
    return 0;
}

/* Sends one record as a job whose id is its key. True when the service answered. */
static bool send_record(zs_bus_t *bus, const char *key, const json_t *rec, int64_t timeout_ms)
{
    const char *service = json_string_value(json_object_get(rec, "service"));
    zs_msg_t req = {.kind = 'Q', .job = true, .deadline = zs_now_ms() + timeout_ms};
    snprintf(req.id, sizeof req.id, "%s", key);   /* the receiver runs this id once */
    snprintf(req.api, sizeof req.api, "%s", json_string_value(json_object_get(rec, "api")));
    req.caller = json_incref(json_object_get(rec, "caller"));
    req.body = json_incref(json_object_get(rec, "body"));
    zs_msg_t reply;
    /* idempotent: a job id runs once at the receiver, so another instance may get it again */
    zs_bus_call_opts_t opts = {.timeout_ms = timeout_ms, .idempotent = true};
    bool sent = zs_bus_call(bus, service, &req, &opts, &reply) == ZS_BUS_OK;
    if (sent && !reply.ok)   /* checked before commit: a refusal now is a bug or a store failure */
        zs_log(ZS_ERROR, key, "outbox: %s refused %s: %s", service, req.api,
               json_string_value(json_object_get(reply.body, "details")));
    else if (!sent)
        zs_log(ZS_WARN, key, "outbox: %s did not take %s (%s); retried every %lld s", service,
               req.api, json_string_value(json_object_get(reply.body, "details")),
               (long long)zs_config_int("outbox.retry", 10));
    zs_msg_clear(&reply);
    zs_msg_clear(&req);
    return sent;
}

static void attempt_all(zs_bus_t *bus, void *arg)
{
    attempt_t *a = arg;
    size_t i;
    json_t *item;
    json_array_foreach(a->items, i, item) {
        const char *key = json_string_value(json_array_get(item, 0));
        if (!send_record(bus, key, json_array_get(item, 1), a->timeout_ms))
            break;   /* its service is not answering: the rest waits for the next round */
        json_array_append_new(a->sent, json_string(key));
    }
}

static int forget_sent(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    size_t i;
    json_t *k;
    json_array_foreach((json_t *)arg, i, k) {
        int rc = zs_store_kv_del(svc->store, txn, OUTBOX_DB, json_string_value(k), json_string_length(k));
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
    }
    return 0;
}

static void release_held(zs_service_t *svc, const char *key)
{
    held_t *h = zhashx_lookup(svc->held, key);
    if (!h)
        return;
    zhashx_delete(svc->held, key);
    if (--h->waiting == 0) {
        service_send_reply(svc, &h->identity, &h->reply);
        free(h);
    }
}

static void attempts_ended(zs_service_t *svc, void *arg)
{
    attempt_t *a = arg;
    size_t i;
    json_t *item;
    if (svc && json_array_size(a->sent)) {
        int rc = zs_service_write(svc, forget_sent, a->sent);
        if (rc != 0)   /* sent again later: the receiver answers a known id from memory */
            zs_errorf("outbox: cannot forget %zu sent record(s): %s", json_array_size(a->sent),
                      zs_store_strerror(rc));
    }
    json_array_foreach(a->items, i, item) {
        const char *key = json_string_value(json_array_get(item, 0));
        if (svc) {
            json_object_del(svc->outbox_in_flight, key);
            release_held(svc, key);
        }
    }
    if (svc && a->retry)
        svc->outbox_retrying = false;
    json_decref(a->items);
    json_decref(a->sent);
    free(a);
}

static void post_attempts(zs_service_t *svc, json_t *items, int64_t timeout_ms, bool retry)
{
    attempt_t *a = calloc(1, sizeof *a);
    a->items = items;
    a->sent = json_array();
    a->timeout_ms = timeout_ms;
    a->retry = retry;
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item)
        json_object_set_new(svc->outbox_in_flight, json_string_value(json_array_get(item, 0)), json_true());
    zs_service_remote(svc, attempt_all, attempts_ended, a);
}

/* After the commit of the request that recorded `keys`: its reply waits for their first
 * attempt, which goes out now. */
void service_hold_reply(zs_service_t *svc, const json_t *keys, zframe_t **identity, zs_msg_t *reply)
{
    MDB_txn *txn;
    if (zs_store_begin(svc->store, NULL, false, &txn) != 0) {
        service_send_reply(svc, identity, reply);   /* the tick's round sends them */
        return;
    }
    held_t *h = calloc(1, sizeof *h);
    h->identity = *identity;
    *identity = NULL;
    h->reply = *reply;
    memset(reply, 0, sizeof *reply);
    json_t *items = json_array();
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *key = json_string_value(k);
        MDB_val v;
        json_t *rec = zs_store_kv_get(svc->store, txn, OUTBOX_DB, key, strlen(key), &v) == 0
                          ? json_loadb(v.mv_data, v.mv_size, 0, NULL) : NULL;
        if (!rec)
            continue;
        json_array_append_new(items, json_pack("[s, o]", key, rec));
        h->waiting++;
        zhashx_insert(svc->held, key, h);
    }
    mdb_txn_abort(txn);
    if (h->waiting == 0) {
        service_send_reply(svc, &h->identity, &h->reply);
        free(h);
        json_decref(items);
        return;
    }
    post_attempts(svc, items, zs_config_int("outbox.hold-ms", 5000), false);
}

static int collect_due(void *arg, const MDB_val *key, const MDB_val *val)
{
    json_t **ctx = arg;   /* {due, in_flight} */
    if (json_array_size(ctx[0]) >= 256)
        return 1;
    char k[ZS_UUID_LEN + 1];
    if (key->mv_size != ZS_UUID_LEN)
        return 0;
    memcpy(k, key->mv_data, ZS_UUID_LEN);
    k[ZS_UUID_LEN] = '\0';
    json_t *rec = json_object_get(ctx[1], k) ? NULL : json_loadb(val->mv_data, val->mv_size, 0, NULL);
    if (rec)
        json_array_append_new(ctx[0], json_pack("[s, o]", k, rec));
    return 0;
}

/* Records whose attempt failed (or that a previous run left) go out again, one round at a
 * time, in key order, stopping at the first service that does not answer. */
void service_remote_tick(zs_service_t *svc)
{
    if (svc->outbox_retrying || zs_mono_ms() < svc->outbox_next_retry)
        return;
    svc->outbox_next_retry = zs_mono_ms() + zs_config_int("outbox.retry", 10) * 1000;
    MDB_txn *txn;
    if (zs_store_begin(svc->store, NULL, false, &txn) != 0)
        return;
    json_t *ctx[2] = {json_array(), svc->outbox_in_flight};
    zs_store_kv_walk(svc->store, txn, OUTBOX_DB, NULL, 0, collect_due, ctx);
    mdb_txn_abort(txn);
    if (!json_array_size(ctx[0])) {
        json_decref(ctx[0]);
        return;
    }
    svc->outbox_retrying = true;
    post_attempts(svc, ctx[0], 10000, true);
}

/* ---- start / stop -------------------------------------------------------------------- */

int service_remote_start(zs_service_t *svc)
{
    int64_t threads = zs_config_int("service.remote-threads", 4);
    svc->remote = zs_remote_new(threads < 1 ? 1 : (size_t)threads);
    if (!svc->remote)
        return -1;
    svc->held = zhashx_new();
    svc->outbox_in_flight = json_object();
    /* Records a previous run left go out shortly after start, once the bus is up. */
    svc->outbox_next_retry = zs_mono_ms() + 2000;
    zs_service_watch(svc, zs_remote_signal(svc->remote), on_remote_finished);
    return 0;
}

void service_remote_stop(zs_service_t *svc)
{
    zs_remote_destroy(&svc->remote);
    if (!svc->held)
        return;   /* not started */
    /* Replies still held: their sends are recorded and go out after the restart. */
    for (held_t *h = zhashx_first(svc->held); h; h = zhashx_next(svc->held)) {
        if (--h->waiting == 0) {
            service_send_reply(svc, &h->identity, &h->reply);
            free(h);
        }
    }
    zhashx_destroy(&svc->held);
    json_decref(svc->outbox_in_flight);
    svc->outbox_in_flight = NULL;
}
