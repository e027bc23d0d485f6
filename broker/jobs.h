/* jobs.h — the broker's async API jobs (rest.md "Sync and async APIs").
 *
 * A job is stored (fsync'd, with the batch) before it is dispatched to its service and before
 * the gateway answers 202. Its service replies on the broker's DEALER socket for that service;
 * the completion is stored (with the webhook delivery, if any, in the same transaction), then
 * long-polls waiting on it are answered. A service acknowledges a job when it queues it; an
 * acknowledged job is not re-sent for broker.ack-lease-ms. Jobs neither answered nor
 * acknowledged are re-dispatched with exponential backoff and jitter (broker.redispatch-ms
 * doubling up to broker.redispatch-max-ms; services execute a job id at most once), and a job a
 * service refused as busy (SYS.1010) likewise. At most broker.window jobs are in flight to one
 * service, and at most broker.max-open-jobs are unfinished (SubmitJob answers SYS.1010 beyond:
 * the caller is told at once). Jobs past their deadline end with SYS.1001. Results are kept broker.result-ttl seconds (default 3 h), then a tombstone
 * keeps the uuid from being reused for a day.
 *
 * Everything here runs on the broker's service loop thread.
 */
#ifndef ZS_BROKER_JOBS_H
#define ZS_BROKER_JOBS_H
#include "service.h"

/* The job side, a module of the broker service: SubmitJob (bus only, from the gateway) and
 * GetApiJob (202 / 200 / 503 / 404, with ?wait=N). Its create loads the open jobs and
 * watches the service sockets; its tick (once a second) handles deadlines, re-dispatch,
 * long-poll timeouts and result expiry. Webhooks go to outbox_module's state (outbox_add),
 * so the broker lists outbox_module before it. */
extern const zs_module_t jobs_module;

#endif
