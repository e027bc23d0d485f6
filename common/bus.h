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
 * are not thread-safe). Create one per thread. A thread has one call in flight at a time per
 * service socket: zs_bus_call is synchronous, and it drops whatever reply is not its own.
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

/* Sends one message without waiting for a reply. With wait_ms > 0 it waits up to that long
 * for a connection to come up (ZMQ_IMMEDIATE refuses a send until one is; a socket made a
 * moment ago is still connecting). Returns 0, or -1 when the service is unreachable or its
 * queue is full. zs_bus_send is zs_bus_send_within with wait_ms 0. */
int zs_bus_send(zs_bus_t *self, const char *service, const zs_msg_t *msg);
int zs_bus_send_within(zs_bus_t *self, const char *service, const zs_msg_t *msg, int64_t wait_ms);

/* Drops every message waiting on the socket of `service`: the answers to requests sent with
 * zs_bus_send that nobody waits for (heartbeats). Returns how many. Never call it while a
 * cancelled call may be resumed (its reply would go too). */
int zs_bus_drain(zs_bus_t *self, const char *service);

/* Receives and decodes one message from `sock` (a DEALER: one frame; a ROUTER: identity
 * frame then payload, the identity is returned in *identity, caller destroys it).
 * Blocks as the socket's receive timeout says. Returns 0, or -1 with errno EPROTO (bad frame:
 * logged and dropped) or ZeroMQ's errno (EAGAIN: nothing within the timeout; EINTR; ETERM). */
int zs_bus_recv(zsock_t *sock, zs_msg_t *msg, zframe_t **identity);

/* For readers of multi-frame messages: true when `frame`, just received from `sock` (a
 * libzmq socket), was its message's last; else the frames left of that message are read and
 * dropped, and false. */
bool zs_bus_last_frame(void *sock, zmq_msg_t *frame);

/* zs_bus_recv without waiting: -1 with errno EAGAIN when nothing is there. For draining a
 * socket: asking first (zsock_events) costs ZeroMQ a poll and a getpid per message, a receive
 * that finds a message costs none. */
int zs_bus_try_recv(zsock_t *sock, zs_msg_t *msg, zframe_t **identity);

/* How zs_bus_call waits; a zeroed struct (or NULL) means the defaults. */
typedef struct {
    /* The call ends at the earliest of: timeout_ms after it starts (when > 0), `deadline`
     * (epoch ms, when > 0) and req->deadline (when set). With none of the three it fails at
     * once (ZS_BUS_TIMEOUT): every call must be bounded. */
    int64_t timeout_ms;
    int64_t deadline;
    /* A request that is not answered within bus.attempt-ms (2 s) is sent again, at most
     * bus.read-resends (2) times, and the DEALER's round-robin gives it to the next instance:
     * reads always (an API table row that neither writes nor runs async, not a job, no positive
     * "wait": a long poll is answered late on purpose); anything else only when the caller
     * sets `idempotent` (it knows that running the request twice does no harm). */
    bool idempotent;
    /* Optional: when this socket becomes readable the call returns ZS_BUS_CANCELLED at once,
     * leaving the message that woke it unread for the caller. A reply that is already
     * waiting wins over the cancel. */
    zsock_t *cancel;
    /* The call continues an earlier one with the same req (that ended ZS_BUS_CANCELLED, or a
     * short step that ended ZS_BUS_TIMEOUT while the caller polls a flag): when the last
     * request this bus sent to the service carries req->id, it is not sent again, the call
     * only waits for its reply; otherwise (cancelled while waiting for a connection, or never
     * sent) it is sent now. The resend clock starts afresh. */
    bool resume;
} zs_bus_call_opts_t;

enum {
    ZS_BUS_OK = 0,
    ZS_BUS_TIMEOUT = -1,       /* sent, not answered before the end of the call */
    ZS_BUS_UNREACHABLE = -2,   /* not sent: no endpoint, or no connection came up in time */
    ZS_BUS_CANCELLED = -3,     /* opts->cancel became readable */
};

/* The one request/reply primitive of the bus: sends `req` to `service` and waits for the reply
 * carrying req->id (kind 'R'). Messages with another id (replies to earlier, abandoned calls on
 * this socket) and acknowledgements are dropped. Before the first send it waits for a
 * connection (an instance reconnecting): a request that may be re-sent up to bus.attempt-ms, any
 * other 1 s, never beyond the end of the call.
 *
 * Returns ZS_BUS_OK with *reply set (a success or a failure reply of the service);
 * ZS_BUS_TIMEOUT or ZS_BUS_UNREACHABLE with *reply holding a SYS.1001 failure (503) naming
 * the service; ZS_BUS_CANCELLED with *reply zeroed. In every case the caller owns *reply and
 * clears it (zs_msg_clear); `req` stays the caller's. opts may be NULL.
 *
 * Threads: only the thread that owns self; the cancel socket must be that thread's too. */
int zs_bus_call(zs_bus_t *self, const char *service, const zs_msg_t *req,
                const zs_bus_call_opts_t *opts, zs_msg_t *reply);

/* Convenience for service-to-service calls: builds a request (fresh id, deadline now +
 * timeout_ms), calls with default options, and returns the result body (new reference), or
 * NULL with *error (new reference). `caller` is borrowed (may be NULL), `body` is stolen. */
json_t *zs_bus_request(zs_bus_t *self, const char *service, const char *api, const json_t *caller,
                       json_t *body, int64_t timeout_ms, json_t **error);

/* Sets the options of the header on a socket (used by servers' ROUTERs too). */
void zs_bus_tune(zsock_t *sock);

#endif
