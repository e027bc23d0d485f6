/* service_internal.h — what the runtime's files (service*.c) share: the service object.
 * Not for handlers: they use service.h. */
#ifndef ZS_SERVICE_INTERNAL_H
#define ZS_SERVICE_INTERNAL_H
#include "node.h"
#include "remote.h"
#include "service.h"

#define JOBS_DB "executed-jobs"
#define JOBS_TIME_DB "executed-jobs-by-time"
#define JOB_MEMORY_MS (24LL * 3600 * 1000)   /* how long an executed job id is remembered */
#define OUTBOX_DB "outbox"                    /* zs_call_send_after_commit's records */

struct zs_service {
    const zs_service_def_t *def;
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
    struct queued {
        zframe_t *identity;
        zs_msg_t req;
        json_t *memo;   /* other services' answers gathered for it (zs_call_remote), or NULL */
        int rounds;     /* times it went to the pool for them */
    } *queue;
    size_t qhead, qlen, qmax;
    /* Requests at the remote pool for other services' answers; counted against qmax, so
     * each finds its place in the ring again when it comes back. */
    size_t away;
    zs_remote_t *remote;          /* the pool: work that waits on other services */
    zhashx_t *held;               /* outbox key -> held reply (service_remote.c) */
    json_t *outbox_in_flight;     /* outbox keys with an attempt out */
    bool outbox_retrying;         /* the tick's round is out */
    int64_t outbox_next_retry;    /* monotonic ms */
    zhashx_t *queued_jobs;
    zs_node_t *node;
    void *data;
    json_t *pending_events;   /* [[topic, body], ...] published after commit */
};

typedef struct {
    zframe_t *identity;
    zs_msg_t reply;
} outgoing_t;


/* service_remote.c: the pool, requests that went for other services' answers, the outbox. */
int service_remote_start(zs_service_t *svc);   /* 0 or -1 */
void service_remote_stop(zs_service_t *svc);   /* before the modules stop */
void service_remote_tick(zs_service_t *svc);
/* Sends a request whose handler asked other services (asks, stolen) to the pool; it comes
 * back to the queue with the answers. Takes q's contents. */
void service_send_away(zs_service_t *svc, struct queued *q, json_t *asks);
/* Keeps a committed request's reply until the first attempt of each outbox key in `keys`
 * (borrowed) ended; takes *identity and *reply. */
void service_hold_reply(zs_service_t *svc, const json_t *keys, zframe_t **identity, zs_msg_t *reply);
/* Sends a reply to the peer `identity` (consumed) and clears it (service.c). */
void service_send_reply(zs_service_t *svc, zframe_t **identity, zs_msg_t *reply);

#endif
