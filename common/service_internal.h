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
 *
 * Everything here runs on the loop thread, except what service.h says of zs_service_stop.
 */
#ifndef ZS_SERVICE_INTERNAL_H
#define ZS_SERVICE_INTERNAL_H
#include "node.h"
#include "service.h"
#include <stdatomic.h>

#define JOBS_DB "executed-jobs"
#define JOBS_TIME_DB "executed-jobs-by-time"

/* A request taken off the ROUTER, waiting for a batch. */
struct queued {
    zframe_t *identity;
    zs_msg_t req;
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
    zpoller_t *poller;
    struct watch { void *sock; void (*fn)(zs_service_t *, void *); } watches[32];
    int nwatches;
    struct after { void (*fn)(zs_service_t *, void *); void *arg; void (*drop)(void *); } *afters;
    size_t nafters, cap_afters;
    zframe_t *current_identity;   /* of the request being handled (for deferral) */
    /* Requests taken off the ROUTER, waiting for a batch: a ring of at most qmax. Beyond it a
     * request is refused at once (SYS.1010) instead of waiting in a queue that takes
     * minutes to drain. queued_jobs holds the ids of the async jobs in it. */
    struct queued *queue;
    size_t qhead, qlen, qmax;
    zhashx_t *queued_jobs;
    zs_msg_t *batch_reqs;         /* ZS_SERVICE_BATCH requests and their replies, */
    outgoing_t *batch_out;        /* reused by every batch */
    zs_node_t *node;
    void *data;
    json_t *pending_events;       /* [[topic, body], ...] published after commit */
    int64_t ticks;                /* ticks run, for the hourly job-memory sweep */
    /* Fault injection for tests (from the configuration, read once at start). */
    int64_t commit_faults;        /* fault.commit-failures: batch commits still to fail */
    int64_t write_delay_us;       /* fault.write-delay-us: added to every write request */
    /* Stopping: zs_service_stop sets `stopping` and writes a byte into wake[1]; the loop polls
     * wake[0] (a raw file handle in its poller) so it returns at once. */
    atomic_bool stopping;
    int wake[2];
};

/* for each module m of def, in order */
#define FOREACH_MODULE(def, m) \
    for (const zs_module_t *const *m##_p = (def)->modules, *m; m##_p && (m = *m##_p); m##_p++)

/* service_batch.c: takes what waits on the ROUTER into the queue (see service.h). */
void service_intake(zs_service_t *svc);
/* service_batch.c: runs up to ZS_SERVICE_BATCH queued requests in one transaction, commits,
 * replies. Nothing when the queue is empty. */
void service_run_batch(zs_service_t *svc);

/* service_jobs.c: the stored outcome {ok, st, body, at} of job `id` (new reference), or NULL
 * when it was not executed (or is forgotten). */
json_t *service_remembered(zs_service_t *svc, MDB_txn *txn, const char *id);
/* service_jobs.c: stores the outcome of the job `reply` answers, in txn. */
void service_remember(zs_service_t *svc, MDB_txn *txn, const zs_msg_t *reply);
/* service_jobs.c: forgets executed job ids older than a day, at most 1000 a call (a
 * zs_service_write function). */
int service_forget_old_jobs(zs_service_t *svc, MDB_txn *txn, void *arg);

#endif
