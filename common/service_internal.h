/* service_internal.h — the service object's insides, shared by the files of the runtime
 * (service.c, service_batch.c, service_builtins.c, service_call.c, service_jobs.c) and by no
 * one else: modules see only service.h.
 *
 *   service.c          the object: new / run / stop / destroy, the loop, watches
 *   service_batch.c    intake into the bounded queue, the batch (group commit), replies and
 *                      deferred replies, events and actions that wait for the commit
 *   service_builtins.c which handler runs an API (zs_service_def_handler), the builtins
 *                      every service answers, the generic query handler and its resolvers
 *   service_call.c     zs_call_* helpers for handlers
 *   service_jobs.c     job memory: exactly-once execution of async jobs
 *   service_remote.c   work that talks to other services: the pool, requests that went for
 *                      other services' answers (zs_call_remote), the outbox of sends after
 *                      commit and the replies that wait for them
 *
 * Everything here runs on the loop thread, except what service.h says of zs_service_stop.
 */
#ifndef ZS_SERVICE_INTERNAL_H
#define ZS_SERVICE_INTERNAL_H
#include "node.h"
#include "remote.h"
#include "service.h"
#include <stdatomic.h>

#define JOBS_DB "executed-jobs"
#define JOBS_TIME_DB "executed-jobs-by-time"
#define OUTBOX_DB "outbox"                    /* zs_call_send_after_commit's records */

/* A request taken off the ROUTER, waiting for a batch. */
struct queued {
    zframe_t *identity;
    zs_msg_t req;
    json_t *memo;   /* other services' answers gathered for it (zs_call_remote), or NULL */
    int rounds;     /* times it went to the pool for them */
};

/* The reply to one request of the batch being run, and who it goes to (NULL: the handler
 * deferred it, or it is sent). */
typedef struct {
    zframe_t *identity;
    zs_msg_t reply;
} outgoing_t;

struct zs_service {
    const zs_service_def_t *def;
    char process[64];             /* "zs-tags", for logs */
    char bind[1024];              /* the ROUTER's endpoint */
    zs_store_t *store;
    zs_bus_t *bus, *node_bus;
    zsock_t *router, *sub, *pub;
    struct watch { void *sock; void (*fn)(zs_service_t *, void *); } *watches;
    size_t nwatches, cap_watches;
    /* zs_service_every's timers, in the order they were made. */
    struct timer { int64_t every, next; void (*fn)(zs_service_t *); } *timers;
    size_t ntimers, cap_timers;
    void **states;                /* module i's state (zs_module_t.create), or NULL */
    struct after { void (*fn)(zs_service_t *, void *); void *arg; void (*drop)(void *); } *afters;
    size_t nafters, cap_afters;
    /* zs_service_write_later's writes, waiting for the next batch. */
    struct later {
        int (*fn)(zs_service_t *, MDB_txn *, void *);
        void (*done)(zs_service_t *, void *, int);
        void *arg;
        int rc;
    } *laters;
    size_t nlaters, cap_laters;
    zframe_t *current_identity;   /* of the request being handled (for deferral) */
    /* Requests taken off the ROUTER, waiting for a batch: a ring of at most qmax. Beyond it a
     * request is refused at once (SYS.1010) instead of waiting in a queue that takes
     * minutes to drain. queued_jobs holds the ids of the async jobs in it. */
    struct queued *queue;
    size_t qhead, qlen, qmax;
    zhashx_t *queued_jobs;
    /* Requests at the remote pool for other services' answers; counted against qmax, so
     * each finds its place in the ring again when it comes back. */
    size_t away;
    zs_remote_t *remote;          /* the pool: work that waits on other services */
    zhashx_t *held;               /* outbox key -> held reply */
    json_t *outbox_in_flight;     /* outbox keys with an attempt out */
    bool outbox_retrying;         /* the tick's round is out */
    int64_t outbox_next_retry;    /* monotonic ms */
    struct queued *batch_taken;   /* ZS_SERVICE_BATCH requests, their replies and the */
    outgoing_t *batch_out;        /* outbox keys each reply waits for (NULL: none), */
    json_t **batch_held;          /* reused by every batch */
    zs_node_t *node;
    json_t *pending_events;       /* [[topic, body], ...] published after commit */
    /* Fault injection for tests (from the configuration, read once at start). */
    int64_t commit_faults;        /* fault.commit-failures: batch commits still to fail */
    int64_t write_delay_us;       /* fault.write-delay-us: added to every write request */
    /* Stopping: zs_service_stop sets `stopping` and writes a byte into wake[1]; the loop polls
     * wake[0] (a raw file handle among its poll items) so it returns at once. */
    atomic_bool stopping;
    int wake[2];
};

/* for each module m of def, in order */
#define FOREACH_MODULE(def, m) \
    for (const zs_module_t *const *m##_p = (def)->modules, *m; m##_p && (m = *m##_p); m##_p++)

/* service_batch.c: takes what waits on the ROUTER into the queue (see service.h). */
void service_intake(zs_service_t *svc);
/* service_batch.c: runs the writes queued by zs_service_write_later and up to
 * ZS_SERVICE_BATCH queued requests in one transaction, commits, replies, then calls the
 * writes' done. Nothing when both are empty. */
void service_run_batch(zs_service_t *svc);
/* service_batch.c: calls the done of every queued write with ECANCELED (at teardown). */
void service_cancel_laters(zs_service_t *svc);

/* service_jobs.c: the stored outcome {ok, st, body, at} of job `id` (new reference), or NULL
 * when it was not executed (or is forgotten). */
json_t *service_remembered(zs_service_t *svc, MDB_txn *txn, const char *id);
/* service_jobs.c: stores the outcome of the job `reply` answers, in txn. */
void service_remember(zs_service_t *svc, MDB_txn *txn, const zs_msg_t *reply);
/* service_jobs.c: forgets executed job ids older than a day, at most 1000 a call (a
 * zs_service_write function). */
int service_forget_old_jobs(zs_service_t *svc, MDB_txn *txn, void *arg);

/* service_batch.c: sends a reply to the peer `identity` (consumed) and clears it. */
void service_send_reply(zs_service_t *svc, zframe_t **identity, zs_msg_t *reply);

/* service_remote.c: the pool, requests that went for other services' answers, the outbox. */
int service_remote_start(zs_service_t *svc);   /* 0 or -1 */
void service_remote_stop(zs_service_t *svc);   /* before the modules stop */
void service_remote_tick(zs_service_t *svc);
/* Sends a request whose handler asked other services (asks, stolen) to the pool; it comes
 * back to the queue with the answers. Takes q's contents (and zeroes q). */
void service_send_away(zs_service_t *svc, struct queued *q, json_t *asks);
/* Keeps a committed request's reply until the first attempt of each outbox key in `keys`
 * (borrowed) ended; takes *identity and *reply. */
void service_hold_reply(zs_service_t *svc, const json_t *keys, zframe_t **identity, zs_msg_t *reply);

#endif
