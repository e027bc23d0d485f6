/* bus.h — one thread's client side of the bus: a DEALER socket per service, connected to
 * every endpoint of that service (zs_config_endpoints), so requests are spread round-robin
 * over the service's instances and each reply comes back on the socket that sent it.
 *
 * Socket options are set explicitly: linger 0, send/receive high-water marks 10000,
 * ZMQ_MAXMSGSIZE = ZS_MSG_MAX_BYTES, ZMQ_IMMEDIATE (a request to a service with no live
 * connection fails at once instead of queueing for a stale delivery), send timeout 0,
 * ZeroMQ heartbeats (bus.heartbeat-*: a silent peer is dropped after 3 s), TCP keepalive and
 * a connect timeout (bus.connect-timeout-ms, 2 s). On tcp the DEALER is a CURVE client of the
 * service's certificate (buskeys.h).
 *
 * Threads: a zs_bus_t and its sockets belong to the thread that created it (ZeroMQ sockets
 * are not thread-safe). Create one per thread.
 */
#ifndef ZS_BUS_H
#define ZS_BUS_H
#include "msg.h"
#include <czmq.h>

typedef struct zs_bus zs_bus_t;

/* Returns a new bus client, or NULL. Needs the configuration to be loaded. */
zs_bus_t *zs_bus_new(void);
void zs_bus_destroy(zs_bus_t **self_p);

/* The DEALER socket for `service` (created and connected on first use), borrowed; NULL when
 * the service has no endpoint. */
zsock_t *zs_bus_socket(zs_bus_t *self, const char *service);

/* Sends one message without waiting. Returns 0, or -1 when the service is unreachable or its
 * queue is full. */
int zs_bus_send(zs_bus_t *self, const char *service, const zs_msg_t *msg);

/* Receives and decodes one message from `sock` (a DEALER: one frame; a ROUTER: identity
 * frame then payload, the identity is returned in *identity, caller destroys it).
 * Returns 0, or -1 (bad frame: logged and dropped). */
int zs_bus_recv(zsock_t *sock, zs_msg_t *msg, zframe_t **identity);

/* Sends `req` and waits for the reply carrying the same id, at most until req->deadline
 * (epoch ms) or timeout_ms, whichever comes first. Replies to earlier, abandoned requests
 * are discarded. A read (an API table row that neither writes nor runs async, not a job, no
 * positive "wait") not answered within bus.attempt-ms (2 s) is sent again, at most
 * bus.read-resends (2) times, and the round-robin gives it to the next instance; a read also
 * waits up to attempt-ms for a connection (an instance reconnecting), a write 1 s. Returns 0 with *reply set (success or failure reply). On timeout or an
 * unreachable service returns -1 with *reply holding a SYS.1001 failure naming the service. */
int zs_bus_call(zs_bus_t *self, const char *service, const zs_msg_t *req, int64_t timeout_ms,
                zs_msg_t *reply);

/* Convenience for service-to-service calls: builds a request (fresh id, deadline now +
 * timeout_ms), calls, and returns the result body (new reference), or NULL with *error
 * (new reference). `caller` is borrowed (may be NULL), `body` is stolen. */
json_t *zs_bus_request(zs_bus_t *self, const char *service, const char *api, const json_t *caller,
                       json_t *body, int64_t timeout_ms, json_t **error);

/* Sets the options of the header on a socket (used by servers' ROUTERs too). */
void zs_bus_tune(zsock_t *sock);

#endif
