/* session.h — the gateway's cache of sessions. A request's `Authorization: OAuth <uuid>` is
 * checked against the core service (CheckSession) and the answer cached for
 * gateway.session-cache-ms (default 10000). The core publishes "session.revoked" on logout,
 * expiry and account deletion; the cache drops the entry when the event arrives, and never
 * serves an entry past the session's own expiry.
 * Thread-safe (one mutex); call session_cache_start once before the server starts. */
#ifndef ZS_GATEWAY_SESSION_H
#define ZS_GATEWAY_SESSION_H
#include "bus.h"
#include <jansson.h>

/* Starts the event listener thread. 0 or -1. */
int session_cache_start(void);
void session_cache_stop(void);

/* The caller identity of `session_uuid` ({accountUuid, accountName, admin, session}), a new
 * reference, or NULL with *error (ID.1001, or SYS.1001 when the core cannot be reached).
 * `bus` is the calling thread's. */
json_t *session_check(zs_bus_t *bus, const char *session_uuid, json_t **error);

/* Forgets a session at once (logout through this gateway). */
void session_forget(const char *session_uuid);

#endif
