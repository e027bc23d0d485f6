/* service.h — the runtime every service process is built on (svc-* and the broker's job side).
 *
 * A service is an object, zs_service_t, made from a definition (zs_service_def_t: a name and
 * a list of modules, each with its resources, handlers and hooks). zs_service_new loads the
 * configuration, opens the service's LMDB store (<data dir>/<name>/), binds a ROUTER on its
 * bus endpoint, registers with the core service as a management node and starts the
 * modules; zs_service_run runs the service loop until SIGINT/SIGTERM or zs_service_stop:
 *
 *   poll (bus ROUTER, event SUB, watched sockets, the stop pipe, until the next timer)
 *   take what waits on the ROUTER into the service's queue (at most bus.queue-max requests;
 *       beyond it a request is answered at once 503 SYS.1010 "busy"; an async job is
 *       acknowledged to its sender, envelope kind 'A', as it enters the queue)
 *   take up to ZS_SERVICE_BATCH requests from the queue
 *   run them all in ONE write transaction, each in its own nested transaction (a failing
 *       request rolls back only itself)           <- group commit
 *   commit once (fsync), then send every reply and publish the events the handlers queued
 *   run the timers that are due (zs_service_every; the modules' tick is one of them)
 *
 * so an API that answered success is durable, and throughput comes from batching, not from
 * turning fsync off. A batch holding only read APIs runs in a read transaction. The ROUTER is
 * a CURVE server when it binds tcp (buskeys.h).
 *
 * Async jobs (msg.job) are executed at most once per id: the reply is stored with the
 * handler's writes in the same transaction ("jobs" database) and a re-dispatched job gets
 * the stored reply. A request whose deadline has passed is not executed (SYS.1001).
 *
 * Which handler runs an API is one rule, zs_service_def_handler: a module's handler of that
 * name, else the bus-only APIs every service answers — "Ping", "Exists" (does record uuid of
 * a resource live here; with "owner", zs_record_owner, when an account owns it),
 * "QueryValues" (join resolution), "CopyStore" (store_copy.h) — else, for a query API
 * (ZS_API_QUERY) with a resource, the query engine (zs_service_query). A service refuses to
 * start when an API row it owns (api.h: api->service is its name) has no handler.
 *
 * Threads: zs_service_new, zs_service_run and zs_service_destroy run on one thread, the loop
 * thread; handlers, tick, on_event and every other function here run on it only, except
 * zs_service_stop (any thread, or a signal handler). Other threads of a service talk to it
 * over the bus (their own zs_bus_t), like any other client.
 */
#ifndef ZS_SERVICE_H
#define ZS_SERVICE_H
#include "api.h"
#include "bus.h"
#include "msg.h"
#include "query.h"
#include "store.h"
#include <jansson.h>

#define ZS_SERVICE_BATCH 512

typedef struct zs_service zs_service_t;

/* One request being handled. */
typedef struct {
    zs_service_t *svc;
    const zs_api_t *api;
    const zs_msg_t *req;   /* req->body: the validated parameters; req->caller: who asks */
    MDB_txn *txn;          /* this request's transaction (nested write, or the batch's read) */
    int status;            /* HTTP status hint of the reply; 0 = the default (200 / 503) */
    const char *reply_api; /* the reply concerns this API (for its schema); NULL: call->api */
    /* The runtime's own (zs_call_remote, zs_call_send_after_commit); handlers leave them: */
    json_t *memo;          /* other services' answers gathered for this request, or NULL */
    json_t *asks;          /* questions of this run that memo could not answer, or NULL */
    json_t *held;          /* outbox keys whose first attempt the reply waits for, or NULL */
} zs_call_t;

/* A handler returns the result body (new reference) on success, or NULL with *error set to
 * an error object (new reference). It may set call->status (e.g. 400). */
typedef json_t *(zs_handler_fn)(zs_call_t *call, json_t **error);

typedef struct {
    const char *api;
    zs_handler_fn *fn;
} zs_handler_t;

/* A module: one part of a service (accounts, sessions, hosts... in the core service), with
 * its resources, handlers and hooks. A service is a list of modules, so a new part of a
 * service is a new module file plus one line in the service's module list (the file that
 * defines its zs_service_def_t, e.g. svc-core/core.c). */
typedef struct {
    const char *name;                        /* for logs */
    const zs_resource_t *const *resources;   /* NULL-terminated, or NULL: what the store holds */
    const zs_handler_t *handlers;            /* terminated by {NULL}, or NULL */
    const char *const *topics;               /* event topics to receive (NULL: none) */
    const char *const *kv_dbs;               /* extra raw databases (NULL-terminated) or NULL */
    /* All optional. The module's state, in place of file statics (one service object, one
     * state; zs_service_module_state finds it): create makes it once the store is open,
     * before any module's start (NULL aborts the start: create releases what it made);
     * destroy releases it once every module's stop has run. create runs in the order of
     * the modules, so a module's create may reach the state of a module listed before it;
     * destroy runs in the reverse order. */
    void *(*create)(zs_service_t *svc);
    void (*destroy)(zs_service_t *svc, void *state);
    int (*start)(zs_service_t *svc);         /* after every create; non-zero aborts */
    void (*tick)(zs_service_t *svc);         /* about once a second (a runtime timer) */
    /* Every event of the service's topics reaches every module that has on_event. */
    void (*on_event)(zs_service_t *svc, const char *topic, json_t *body);
    /* Called when the service is destroyed, also when the start failed before this
     * module's start ran (its state may then be NULL). */
    void (*stop)(zs_service_t *svc);
    /* Permission rule of the generic query handler for this module's resources: may the
     * (non-admin) caller see rec? NULL: everyone sees everything. */
    bool (*visible)(zs_call_t *call, const json_t *rec);
} zs_module_t;

typedef struct {
    const char *name;                        /* "tags": bus endpoint, store dir, node role */
    unsigned schema_version;
    const zs_module_t *const *modules;       /* NULL-terminated */
    /* Local answer to tag conditions (the tag service itself); NULL: ask svc-tags. */
    json_t *(*tag_resources)(zs_service_t *svc, const char *tag_type, const char *op,
                             const char *value, json_t **error);
} zs_service_def_t;

/* A service of `def` (borrowed; must outlive it), started: command line and configuration
 * read (node.h zs_node_init: [--config FILE] [--bind ENDPOINT] ..., process-wide), the store
 * and the bus endpoint (bus.<name>.bind, default the first endpoint of bus.<name>) claimed
 * and opened, the node registered, every module's start run. From here to
 * zs_service_destroy, SIGINT and SIGTERM stop it (zs_service_stop); signal handlers are
 * process-wide, so a process holds one service at a time. Returns NULL after logging why
 * (an API row of the service without a handler, another service in the process, a bad
 * command line or configuration, a store or endpoint in use, a module that failed). The
 * caller owns the service. Its claims on the store and the endpoint (identity.h) last as
 * long as the process, so a process makes a given service once. */
zs_service_t *zs_service_new(const zs_service_def_t *def, int argc, char **argv);

/* Runs the service loop until zs_service_stop (or a signal) asks it to stop; returns the
 * process exit code (0). A stop requested before the call makes it return at once. */
int zs_service_run(zs_service_t *self);

/* Asks zs_service_run to return: it finishes the batch it is running and returns. Any
 * thread may call it, and a signal handler may (it sets an atomic flag and writes a byte
 * into a pipe the loop polls). The service stays valid until zs_service_destroy. */
void zs_service_stop(zs_service_t *self);

/* Stops the modules (their stop), says goodbye to the core, closes the endpoint and the
 * store, gives SIGINT/SIGTERM back to their default, frees the service and NULLs *self_p.
 * Nothing when *self_p is NULL. Not while zs_service_run runs. */
void zs_service_destroy(zs_service_t **self_p);

/* A process's main(): new, run, destroy. Returns the exit code (1: it did not start). */
int zs_service_main(const zs_service_def_t *def, int argc, char **argv);

/* The handler the runtime of `def` runs for `api`: the first module (in def's order) with a
 * handler of that name, else a builtin (Ping, Exists, QueryValues, CopyStore), else the
 * generic query handler for a ZS_API_QUERY row with a resource; NULL when none. It does not
 * look at api->service: that `def` serves `api` at all (api->service is def->name or "*")
 * is checked apart. Any thread (definitions and rows are immutable). */
zs_handler_fn *zs_service_def_handler(const zs_service_def_t *def, const zs_api_t *api);

zs_store_t *zs_service_store(zs_service_t *svc);
/* The service's name ("tags"). Borrowed. */
const char *zs_service_name(const zs_service_t *svc);
/* The loop thread's bus client, for sends that do not wait for an answer (zs_bus_send);
 * calls that wait go through zs_call_remote or zs_service_remote (the rule below). */
zs_bus_t *zs_service_bus(zs_service_t *svc);
/* This process's management node uuid. Borrowed. */
const char *zs_service_node(zs_service_t *svc);
/* The state `module` (one of the service's modules, compared by address) made with its
 * create, from the moment create returned until its destroy is called; NULL for a module
 * without create or not in the service. Borrowed: the module owns it. Loop thread only. */
void *zs_service_module_state(zs_service_t *svc, const zs_module_t *module);

/* Queues an event to publish once the current batch has committed (so no event announces
 * a change that was rolled back). `body` is stolen. Loop thread only. */
void zs_service_publish(zs_service_t *svc, const char *topic, json_t *body);

/* Runs fn(svc, arg) on the loop thread once the current batch (or zs_service_write) has
 * committed, e.g. to send work that must not leave before it is durable; fn owns arg. When
 * the commit fails or the request that queued it is rolled back, fn is not run and
 * drop(arg) is called instead (drop NULL: arg needs no release; zs_drop_json for a json_t,
 * free for malloc'd memory). Loop thread only. */
void zs_service_after_commit(zs_service_t *svc, void (*fn)(zs_service_t *svc, void *arg),
                             void *arg, void (*drop)(void *arg));
/* A drop function for after-commit arguments that are json_t references. */
void zs_drop_json(void *arg);

/* Adds `sock` (a zsock_t or an actor) to the loop's poller: fn runs on the loop thread each
 * time it is readable and must drain it. There is no fixed bound on the number of watched
 * sockets. Returns 0, or -1 (logged) when memory runs out. Loop thread only. */
int zs_service_watch(zs_service_t *svc, void *sock, void (*fn)(zs_service_t *svc, void *sock));

/* A timer: fn(svc) runs on the loop thread on the loop's next turn, then about every `ms`
 * milliseconds, until the service stops (never after zs_service_run returned). Limits: the
 * loop looks at its timers between batches, so a timer runs late by up to one batch (and
 * by the time the timers before it took); a late timer runs once, not once per period it
 * missed, and its next run is `ms` after this one began. Timers run in the order they were
 * made. There is no way to cancel one: fn checks the module's state for work to skip.
 * Any number of timers. Returns 0, or -1 when ms < 1, fn is NULL or memory runs out. Loop
 * thread only (start or create hooks included). */
int zs_service_every(zs_service_t *svc, int64_t ms, void (*fn)(zs_service_t *svc));

/* Deferred replies (long polls). A handler that cannot answer yet calls zs_call_defer, keeps
 * the token, and returns zs_call_deferred(). The answer is sent later with
 * zs_deferred_answer (which frees the token and NULLs *d); `api` names the API the reply
 * concerns (NULL: the request's), `body` is stolen. Not for async jobs. Loop thread only. */
typedef struct zs_deferred zs_deferred_t;
zs_deferred_t *zs_call_defer(zs_call_t *call);
json_t *zs_call_deferred(void);
void zs_deferred_answer(zs_service_t *svc, zs_deferred_t **d, bool ok, int status,
                        const char *api, json_t *body);

/* Queues a write for the loop's next batch: fn(svc, txn, arg) runs inside that batch's
 * transaction, before its requests, so the work that arrives on watched sockets and events
 * (job completions, notifications) shares one commit (one fsync) with the requests of the
 * same turn instead of committing once per message. fn runs in a nested transaction of its
 * own: a non-zero return rolls back its writes, its after-commit actions and its events, and
 * nothing else. done(svc, arg, rc) is then called exactly once, after the batch's commit:
 * rc 0 when fn's writes are durable, else fn's return, the commit's LMDB code, or ECANCELED
 * when the service stops first, or ENOMEM at once when the queue cannot grow; done owns arg.
 * Not for handlers, which write in the call's transaction: a write a handler queues runs in
 * the next batch whatever becomes of its request. Loop thread only. */
void zs_service_write_later(zs_service_t *svc, int (*fn)(zs_service_t *svc, MDB_txn *txn, void *arg),
                            void (*done)(zs_service_t *svc, void *arg, int rc), void *arg);

/* Runs fn inside a write transaction of its own, committed at once (for tick work).
 * fn returns 0 to commit, non-zero to abort. Returns fn's value or an LMDB code. */
int zs_service_write(zs_service_t *svc, int (*fn)(zs_service_t *svc, MDB_txn *txn, void *arg),
                     void *arg);

/* Runs the query engine for a query API call (what the generic handler does), with the
 * given extra conditions (NULL-terminated, may be NULL). For handlers that add rules. */
json_t *zs_service_query(zs_call_t *call, const zs_resource_t *res, const char *const *extra,
                         json_t **error);

/* For create APIs (apis.md preamble): the new resource's uuid is the `resourceUuid`
 * parameter when given (503 SYS.1007 when a record of `collection` already has it), else a
 * fresh one. Writes it into out and returns 0, or -1 with *error. */
int zs_call_new_uuid(zs_call_t *call, const char *collection, char out[33], json_t **error);

/* Attaches the request's systemTags/userTags (if any) to the new resource. The tags are
 * checked here (format, resource type, a user tag given twice: 400 SYS.1007), then sent to
 * svc-tags (bus-only AttachTags) with zs_call_send_after_commit, so they are attached exactly
 * once if and only if the creation commits. Returns 0, or -1 with *error (the handler then
 * fails, so the creation rolls back). */
int zs_call_attach_tags(zs_call_t *call, const char *uuid, const char *resource_type,
                        json_t **error);

/* ---- Other services: never from the loop thread ---------------------------------------
 * THE RULE: handlers, ticks, on_event and after-commit functions run on the loop thread
 * while it holds a batch (or between batches); none of them may wait on another service
 * (no zs_bus_call / zs_bus_request on zs_service_bus). A slow or stopped peer would stall
 * every request of the batch and every batch after it, and two services asking each other
 * would wait on each other until both time out. Three ways instead: */

/* 1. A handler that needs another service's answer (does the resource exist? may this run?)
 * asks with zs_call_remote. When this run of the request already has the answer it is
 * returned at once. Otherwise the call returns NULL with *error set to a marker: the handler
 * returns it as its error (releasing what it holds), the runtime rolls the request back,
 * makes the call from a pool thread outside any batch (zs_service_remote), and runs the
 * request again from the start with the answer at hand. A handler may ask several questions
 * (each first asking costs one round; at most ZS_CALL_REMOTE_ROUNDS rounds, then the
 * request fails SYS.1006). The answers are what the other service said before this run:
 * like any read of another service, they may be stale by the time the batch commits.
 * Returns the result body (new reference), or NULL with *error (new reference): the marker,
 * or the other service's error / SYS.1001 when it did not answer within timeout_ms.
 * `caller` is borrowed (may be NULL), `body` is stolen. */
#define ZS_CALL_REMOTE_ROUNDS 8
json_t *zs_call_remote(zs_call_t *call, const char *service, const char *api,
                       const json_t *caller, json_t *body, int64_t timeout_ms, json_t **error);
/* True when `error` is zs_call_remote's marker: a handler asking several questions in a loop
 * may go on asking the others (one round for all) and return the marker at the end. */
bool zs_call_is_pending(const json_t *error);

/* 2. A request that must change another service when, and only when, it commits (tags of a
 * new resource) calls zs_call_send_after_commit: `api` with `body` (stolen) is recorded in
 * the request's transaction (the service's "outbox" database) and, once the batch has
 * committed, sent to `service` as a job whose id is the record's, from a pool thread, again
 * after a failure (every outbox.retry seconds, default 10, also after a restart) until the
 * service answers; the receiver executes a job id at most once. The request's reply waits
 * for the first attempt (at most outbox.hold-ms, default 5000), so a client that reads
 * right after the answer sees the change. Returns 0 or an LMDB code. */
int zs_call_send_after_commit(zs_call_t *call, const char *service, const char *api, json_t *body);

/* 3. Outside handlers (tick, on_event, after commit): work(bus, arg) runs on one of the
 * service's pool threads (service.remote-threads, default 4) with that thread's own bus
 * client, and may wait on other services; then done(svc, arg) runs on the loop thread and
 * releases arg. When the service stops first, done(NULL, arg) only releases it. work must
 * touch nothing but arg and its bus. Loop thread only. */
void zs_service_remote(zs_service_t *svc, void (*work)(zs_bus_t *bus, void *arg),
                       void (*done)(zs_service_t *svc, void *arg), void *arg);

/* Helpers for handlers. */
/* The string parameter `name` of the request, or NULL. Borrowed. */
const char *zs_call_str(const zs_call_t *call, const char *name);
/* {"inventory": rendered rec} (new reference). */
json_t *zs_call_inventory(const zs_resource_t *res, const json_t *rec);
/* Sets *error to a 400 SYS.1007 error (details from fmt) and returns NULL. */
json_t *zs_call_invalid(zs_call_t *call, json_t **error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets *error to SYS.1000 "store: <LMDB's reason for rc>" and returns NULL. */
json_t *zs_call_store_fail(zs_call_t *call, json_t **error, int rc);
/* Sets *error (code, details) and returns NULL; status stays 503. */
json_t *zs_call_fail(zs_call_t *call, json_t **error, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
