/* service_batch.c — requests from the ROUTER to their replies: intake into the bounded queue,
 * the batch run in one write transaction (group commit, each request in a nested one), the
 * replies and deferred replies, and what runs once a commit is durable (events, after-commit
 * actions). */
#include "clock.h"
#include "error.h"
#include "events.h"
#include "log.h"
#include "service_internal.h"
#include <errno.h>
#include <string.h>
#include <unistd.h>

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

void zs_service_write_later(zs_service_t *svc, int (*fn)(zs_service_t *, MDB_txn *, void *),
                            void (*done)(zs_service_t *, void *, int), void *arg)
{
    if (svc->nlaters == svc->cap_laters) {
        size_t cap = svc->cap_laters ? 2 * svc->cap_laters : 64;
        struct later *l = realloc(svc->laters, cap * sizeof *l);
        if (!l) {
            done(svc, arg, ENOMEM);
            return;
        }
        svc->laters = l;
        svc->cap_laters = cap;
    }
    svc->laters[svc->nlaters++] = (struct later){fn, done, arg, 0};
}

/* Calls the done of the writes laters[0..n) (taken off the service), each with its rc. */
static void finish_laters(zs_service_t *svc, struct later *laters, size_t n)
{
    for (size_t i = 0; i < n; i++)
        laters[i].done(svc, laters[i].arg, laters[i].rc);
    free(laters);
}

/* Takes the queued writes off the service (the caller frees them): *n of them. */
static struct later *take_laters(zs_service_t *svc, size_t *n)
{
    struct later *l = svc->laters;
    *n = svc->nlaters;
    svc->laters = NULL;
    svc->nlaters = svc->cap_laters = 0;
    return l;
}

void service_cancel_laters(zs_service_t *svc)
{
    size_t n;
    struct later *l = take_laters(svc, &n);
    for (size_t i = 0; i < n; i++)
        l[i].rc = ECANCELED;
    finish_laters(svc, l, n);
}

/* Drops the events queued from index `from` on. */
static void drop_events(zs_service_t *svc, size_t from)
{
    while (json_array_size(svc->pending_events) > from)
        json_array_remove(svc->pending_events, json_array_size(svc->pending_events) - 1);
}

/* Runs the queued writes l[0..n) in `txn`, each in a nested transaction; sets each rc. */
static void run_laters(zs_service_t *svc, MDB_txn *txn, struct later *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        MDB_txn *child = NULL;
        size_t events_before = json_array_size(svc->pending_events), afters_before = svc->nafters;
        int rc = zs_store_begin(svc->store, txn, true, &child);
        if (rc == 0) {
            rc = l[i].fn(svc, child, l[i].arg);
            if (rc == 0)
                rc = mdb_txn_commit(child);
            else
                mdb_txn_abort(child);
        }
        l[i].rc = rc;
        if (rc != 0) {
            drop_afters(svc, afters_before);
            drop_events(svc, events_before);
        }
    }
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


void zs_deferred_answer(zs_service_t *svc, zs_deferred_t **d, bool ok, int status,
                        const char *api, json_t *body)
{
    zs_msg_t reply;
    zs_msg_reply(&reply, &(*d)->req, ok, status, body);
    if (api)
        snprintf(reply.api, sizeof reply.api, "%s", api);
    service_send_reply(svc, &(*d)->identity, &reply);
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

/* ---- the batch ----------------------------------------------------------------------- */

static bool needs_write(const zs_msg_t *m)
{
    const zs_api_t *api = zs_api_find(m->api);
    return m->job || (api && (api->flags & (ZS_API_ASYNC | ZS_API_WRITES)));
}

typedef enum {
    ANSWERED,   /* *reply is set (and *held: outbox keys the reply waits for, or NULL) */
    DEFERRED,   /* the handler answers later (zs_call_defer) */
    AWAY,       /* rolled back; it runs again once *asks (other services) are answered */
} outcome_t;

/* Handles one request taken from the queue. */
static outcome_t handle(zs_service_t *svc, MDB_txn *batch_txn, bool write, const struct queued *q,
                        zs_msg_t *reply, json_t **asks, json_t **held)
{
    const zs_msg_t *req = &q->req;
    const zs_api_t *api = zs_api_find(req->api);
    json_t *error = NULL, *result = NULL;
    zs_call_t call = {.svc = svc, .api = api, .req = req, .txn = batch_txn, .memo = q->memo};

    if (req->job && write) {
        json_t *known = service_remembered(svc, batch_txn, req->id);
        if (known) {   /* a re-dispatch: answer what the first execution answered */
            zs_msg_reply(reply, req, json_is_true(json_object_get(known, "ok")),
                         (int)json_integer_value(json_object_get(known, "st")),
                         json_incref(json_object_get(known, "body")));
            json_decref(known);
            zs_log(ZS_INFO, req->id, "%s: already executed, answering the stored outcome", req->api);
            return ANSWERED;
        }
    }
    zs_log(ZS_DEBUG, req->id, "handling %s", req->api);
    zs_handler_fn *fn = api ? zs_service_def_handler(svc->def, api) : NULL;
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
                return DEFERRED;
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
            if (!result) {   /* a rolled-back request announces and sends nothing */
                drop_afters(svc, afters_before);
                drop_events(svc, events_before);
            }
            if (!result && zs_call_is_pending(error)) {
                json_decref(error);
                if (json_array_size(call.asks) && q->rounds < ZS_CALL_REMOTE_ROUNDS) {
                    *asks = call.asks;
                    json_decref(call.held);
                    return AWAY;
                }
                error = zs_error(ZS_SYS_FAILED, "%s needed more answers of other services than the "
                                 "%d rounds a request may take", api->name, ZS_CALL_REMOTE_ROUNDS);
            }
            json_decref(call.asks);
            if (result)
                *held = call.held;
            else
                json_decref(call.held);
        }
    }
    if (result)
        zs_msg_reply(reply, req, true, call.status, result);
    else
        zs_msg_reply(reply, req, false, call.status, error);
    if (call.reply_api)
        snprintf(reply->api, sizeof reply->api, "%s", call.reply_api);
    if (req->job && write)
        service_remember(svc, batch_txn, reply);
    return ANSWERED;
}

void service_send_reply(zs_service_t *svc, zframe_t **identity, zs_msg_t *reply)
{
    const char *buf;
    size_t len;
    if (*identity && zs_msg_pack(reply, &buf, &len) == 0) {
        void *router = zsock_resolve(svc->router);
        if (zmq_send(router, zframe_data(*identity), zframe_size(*identity), ZMQ_SNDMORE) < 0
            || zmq_send(router, buf, len, 0) < 0)
            zs_log(ZS_WARN, reply->id, "reply to %s lost: the caller is gone", reply->api);
    }
    zframe_destroy(identity);
    zs_msg_clear(reply);
}

/* Commits a batch. Fault injection for tests (beanstalkd style): with
 * fault.commit-failures = N the first N batch commits fail as a full disk would (EIO). */
static int commit_batch(zs_service_t *svc, MDB_txn *txn)
{
    if (svc->commit_faults > 0) {
        svc->commit_faults--;
        mdb_txn_abort(txn);
        zs_warn("fault injection: failing a batch commit (%lld more)", (long long)svc->commit_faults);
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
    service_send_reply(svc, &id, &note);
}

/* Takes what waits on the ROUTER into the queue: an async job is acknowledged at once (the
 * broker then stops re-sending it) and a job already queued is only acknowledged again; a
 * request beyond the queue's bound is answered 503 SYS.1010 at once. At most 4 queues'
 * worth per call, so the loop keeps running batches under a flood. */
void service_intake(zs_service_t *svc)
{
    for (size_t taken = 0; taken < 4 * svc->qmax; taken++) {
        zframe_t *id = NULL;
        zs_msg_t m;
        if (zs_bus_try_recv(svc->router, &m, &id) != 0) {
            if (errno == EPROTO)   /* a bad message, dropped: the next may be good */
                continue;
            break;
        }
        if (m.kind != 'Q') {
            zs_msg_clear(&m);
            zframe_destroy(&id);
        } else if (m.job && zhashx_lookup(svc->queued_jobs, m.id)) {
            send_note(svc, id, &m, true, 0, NULL, 'A');
            zs_msg_clear(&m);
            zframe_destroy(&id);
        } else if (svc->qlen + svc->away >= svc->qmax) {
            zs_msg_t busy;
            zs_msg_reply(&busy, &m, false, 503,
                         zs_error(ZS_SYS_BUSY, "service %s is busy (%zu requests waiting); retry later",
                                  svc->def->name, svc->qlen));
            service_send_reply(svc, &id, &busy);
            zs_msg_clear(&m);
        } else {
            if (m.job) {
                zhashx_insert(svc->queued_jobs, m.id, svc);
                send_note(svc, id, &m, true, 0, NULL, 'A');
            }
            svc->queue[(svc->qhead + svc->qlen++) % svc->qmax] = (struct queued){.identity = id, .req = m};
        }
    }
}

void service_run_batch(zs_service_t *svc)
{
    struct queued *taken = svc->batch_taken;
    outgoing_t *out = svc->batch_out;
    json_t **held = svc->batch_held;
    int n = 0;
    bool write = false;
    while (n < ZS_SERVICE_BATCH && svc->qlen) {
        taken[n] = svc->queue[svc->qhead];
        svc->qhead = (svc->qhead + 1) % svc->qmax;
        svc->qlen--;
        out[n].identity = taken[n].identity;
        held[n] = NULL;
        if (taken[n].req.job)
            zhashx_delete(svc->queued_jobs, taken[n].req.id);
        write |= needs_write(&taken[n].req);
        n++;
    }
    /* The writes queued so far go in this batch; those their done queue go in the next. */
    size_t nlaters;
    struct later *laters = take_laters(svc, &nlaters);
    if (n == 0 && nlaters == 0)
        return;
    write |= nlaters > 0;
    MDB_txn *txn;
    int rc = zs_store_begin(svc->store, NULL, write, &txn);
    if (rc == 0)
        run_laters(svc, txn, laters, nlaters);
    for (int i = 0; i < n; i++) {
        zs_msg_t *req = &taken[i].req;
        if (svc->write_delay_us > 0 && needs_write(req))
            usleep((useconds_t)svc->write_delay_us);
        svc->current_identity = out[i].identity;
        if (rc != 0) {
            zs_msg_reply(&out[i].reply, req, false, 500,
                         zs_error(ZS_SYS_INTERNAL, "store: %s", zs_store_strerror(rc)));
            continue;
        }
        json_t *asks = NULL;
        switch (handle(svc, txn, write, &taken[i], &out[i].reply, &asks, &held[i])) {
        case ANSWERED:
            break;
        case DEFERRED:
            zframe_destroy(&out[i].identity);   /* the token holds a copy */
            break;
        case AWAY:   /* the pool takes the request (identity, message, memo) */
            service_send_away(svc, &taken[i], asks);
            out[i].identity = NULL;
            break;
        }
    }
    if (rc == 0) {
        rc = write ? commit_batch(svc, txn) : (mdb_txn_abort(txn), 0);
        if (rc != 0) {   /* nothing of the batch is durable: every answer becomes a failure */
            zs_errorf("commit failed: %s", zs_store_strerror(rc));
            for (int i = 0; i < n; i++) {
                if (!out[i].identity)
                    continue;
                zs_msg_clear(&out[i].reply);
                zs_msg_reply(&out[i].reply, &taken[i].req, false, 500,
                             zs_error(ZS_SYS_INTERNAL, "store commit failed: %s", zs_store_strerror(rc)));
            }
        }
    }
    for (int i = 0; i < n; i++) {
        if (out[i].identity && held[i] && rc == 0)
            service_hold_reply(svc, held[i], &out[i].identity, &out[i].reply);
        else if (out[i].identity)
            service_send_reply(svc, &out[i].identity, &out[i].reply);
        json_decref(held[i]);
        zs_msg_clear(&taken[i].req);   /* zeroed by service_send_away when it went away */
        json_decref(taken[i].memo);
    }
    flush_events(svc, rc == 0);
    for (size_t i = 0; rc != 0 && i < nlaters; i++)
        if (laters[i].rc == 0)   /* nothing of the batch is durable */
            laters[i].rc = rc;
    finish_laters(svc, laters, nlaters);
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
