/* outbox.h — durable webhook deliveries (rest.md "Webhook delivery").
 *
 * A delivery record is written in the same transaction as the job's completion
 * (outbox_add), so a job is never reported done with its hook unrecorded. A curl thread
 * (libcurl multi) makes the attempts over at most webhook.connections-per-receiver (default
 * 16) keep-alive connections per receiver, the rest queued; their outcomes come back to the
 * loop, which records them with its next batch (a delivery is not sent again before its
 * outcome is durable) and schedules the next attempt: exponential backoff from webhook.retry-base-ms
 * (default 2000) with ±50 % jitter, up to webhook.window seconds (default 24 h); 410 Gone
 * stops at once. Each attempt times out after webhook.timeout seconds (default 10). With
 * webhook.secret set, deliveries carry Standard-Webhooks signature headers.
 *
 * All functions run on the broker's loop thread.
 */
#ifndef ZS_BROKER_OUTBOX_H
#define ZS_BROKER_OUTBOX_H
#include "service.h"

/* The outbox, a module of the broker service: RetryWebhookDelivery, and EnqueueWebhook (bus
 * only: {url, body, jobUuid?, success?}). Its create starts the curl thread; its tick (once
 * a second) sends the deliveries that are due (pending ones of a previous run included). */
extern const zs_module_t outbox_module;

/* Records a delivery of `body` (the poll body of job `job_uuid`) to `url`, inside `txn`;
 * it is attempted once that transaction has committed. Returns 0 or an LMDB code. The
 * service must have outbox_module. */
int outbox_add(zs_service_t *svc, MDB_txn *txn, const char *job_uuid, const char *url,
               bool success, const json_t *body);

/* Checks a hook URL at submit (target.h: parsed by curl_url; an IP host judged by the
 * policy now, every host judged again on its address at connect time, where a refusal
 * fails the delivery for good). NULL when acceptable, else the reason. */
const char *outbox_url_refusal(const char *url);

#endif
