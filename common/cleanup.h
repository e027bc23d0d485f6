/* cleanup.h — what happens to the rest of the suite when a service deletes a resource
 * (apis.md §3 "When any resource of the suite is deleted, its tags are deleted too").
 *
 * In the handler that deletes a resource, call zs_cleanup_resource_deleted. It
 *   1. records the cleanup in the service's own store, in the handler's transaction (raw
 *      database "cleanup-outbox", opened by zs_cleanup_module), so it is exactly as durable
 *      as the deletion itself;
 *   2. publishes "resource.deleted" {resourceUuid, resourceType} (for every subscriber);
 *   3. once the deletion has committed, from a pool thread (zs_service_remote), asks svc-tags (DeleteResourceTags) with a short
 *      timeout (cleanup.timeout-ms, default 1000); when svc-tags cannot be reached, submits
 *      a GC job to svc-gc instead (EventBased on svc-tags coming back, retried every
 *      gc.interval meanwhile); when svc-gc cannot be reached either, logs an error and leaves
 *      the record in the outbox;
 *   4. the module's tick forgets records that were handed off, and every cleanup.retry
 *      seconds (default 30) retries the ones left (svc-tags and svc-gc both down, or the
 *      process died between commit and step 3).
 * A service using it lists &zs_cleanup_module in its modules. Without the module, step 1 is
 * skipped (the store logs that the database is not open) and the cleanup is best effort.
 *
 * Threads: the service loop thread only (it is called from handlers).
 */
#ifndef ZS_CLEANUP_H
#define ZS_CLEANUP_H
#include "service.h"

extern const zs_module_t zs_cleanup_module;

/* Arranges the cleanup of resource `uuid` (at most 255 chars) of type `resource_type` (its
 * VO name, e.g. "TicketVO"), deleted by the current request. Returns 0, or an LMDB code when
 * the cleanup could not be recorded (the handler should then fail, rolling back the
 * deletion). */
int zs_cleanup_resource_deleted(zs_call_t *call, const char *uuid, const char *resource_type);

#endif
