/* guard.h — what keeps a few hostile clients from silencing the gateway.
 *
 * civetweb gives every connection a worker thread for as long as it is open, so the gateway
 * bounds what one client can hold:
 *  - connections per client address (gateway.max-connections-per-client, default 16): a
 *    sweeper thread looks at the gateway's accepted sockets ten times a second and shuts
 *    the connections of an address beyond its bound, so a pile of idle sockets from one
 *    address holds at most that many workers, and only until civetweb's read timeout
 *    (0: no bound, for a gateway behind a proxy, where every client has its address);
 *  - the time a request body may take (gateway.body-timeout-ms, default 10000; 0: no bound):
 *    civetweb's read timeout is per read, so a body sent a byte at a time would hold its
 *    worker for as long as the client likes; the handler marks the body it reads and the
 *    sweeper shuts the connection once the whole body is overdue (headers need no such help:
 *    civetweb bounds their whole arrival by request_timeout_ms);
 *  - calls waiting on one service (gateway.max-waiting-per-service, default a quarter of
 *    the worker threads; up to seven eighths while the service answered a call within the
 *    last 250 ms, so a busy but serving service is not refused): beyond the bound a call to
 *    a serving service queues, first come first served, for up to a second while the
 *    service keeps answering (or, busy after idleness, has had less than 250 ms to answer);
 *    a call to a stalled one (calls waiting, no answer for 250 ms) is answered 503 at once,
 *    so a stalled service cannot pin every worker;
 *  - request framing: two Content-Lengths, or Content-Length with Transfer-Encoding, are
 *    refused (a proxy in front could read another request boundary than ours);
 *  - civetweb's own error answers (bad request line, 411, 413 of headers, timeouts) are
 *    turned into the API's JSON error body.
 * The read timeouts themselves are civetweb options set in main.c.
 * guard_init runs once before the server starts; everything else is thread-safe. */
#ifndef ZS_GATEWAY_GUARD_H
#define ZS_GATEWAY_GUARD_H
#include <civetweb.h>
#include <stdbool.h>

/* Reads the bounds; `threads` is the civetweb worker count. Call before mg_start. */
void guard_init(int threads);

/* Starts / stops the sweeper of the server `ctx` (after mg_start; stop before mg_stop).
 * guard_start returns 0 or -1. */
int guard_start(struct mg_context *ctx);
void guard_stop(void);

/* Marks the body of `conn`'s request as being read from now on: returns a slot to pass to
 * guard_body_end once the read is over (-1 when every slot is taken: that body goes unbounded,
 * which cannot happen with one slot per worker). Called by the worker serving `conn`. */
int guard_body_begin(const struct mg_connection *conn);
void guard_body_end(int slot);

/* civetweb's http_error callback: its own errors answered with a JSON error body. */
int guard_http_error(struct mg_connection *conn, int status, const char *message);

/* NULL when the request's body framing is unambiguous, else why not (static text). */
const char *guard_framing_refusal(const struct mg_connection *conn);

/* Takes one of `service`'s waiting slots ("login" names the logins' own slots): true when taken (call guard_leave after the
 * call), false when the service already has its bound of waiting calls. */
bool guard_enter(const char *service);
void guard_leave(const char *service);

#endif
