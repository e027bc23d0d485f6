/* runner.h — the thread that sends GC jobs' messages, so the service loop never waits on a
 * target service.
 *
 * The runner is a CZMQ actor with its own zs_bus_t. The loop hands it attempts with
 * runner_send; it sends each message (system caller, deadline = now + timeout) to the target
 * service with zs_bus_call (an idempotent request: re-sent to the next instance when one does
 * not answer), waits for the reply (or the timeout, or "unreachable" when no connection comes
 * up) while still listening to its pipe, and posts the outcome back on the pipe.
 * The loop watches the actor (zs_service_watch) and reads outcomes with runner_recv.
 * Attempts run one after another, in the order given.
 *
 * GC messages must be idempotent: an attempt that timed out may still have been executed.
 *
 * Threads: every function runs on the service loop thread; the actor's own thread only
 * touches its bus and its pipe.
 */
#ifndef ZS_GC_RUNNER_H
#define ZS_GC_RUNNER_H
#include <czmq.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Starts the runner thread. Returns the actor (destroy with zactor_destroy, which stops
 * any attempt in progress at once), or NULL. */
zactor_t *runner_new(void);

/* Queues one attempt: send `api` with body `context` (borrowed) to `service`, waiting at most
 * timeout_ms. `uuid` names the attempt in the outcome. Returns 0 or -1. */
int runner_send(zactor_t *runner, const char *uuid, const char *service, const char *api,
                const json_t *context, int64_t timeout_ms);

/* Reads one outcome from the actor: {"uuid", "ok": bool, "error": text} (new reference), or
 * NULL when the pipe held nothing readable. */
json_t *runner_recv(zactor_t *runner);

#endif
