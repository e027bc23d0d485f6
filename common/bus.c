/* bus.c — see bus.h. */
#include "bus.h"
#include "api.h"
#include "buskeys.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "uuid.h"
#include <errno.h>
#include <limits.h>
#include <string.h>

#define MAX_SERVICES 16

typedef struct {
    char name[32];
    zsock_t *sock;
    char sent_id[sizeof ((zs_msg_t *)0)->id];   /* the id of the last request sent */
} conn_t;

struct zs_bus {
    conn_t conn[MAX_SERVICES];
    int n;
    int read_resends;     /* bus.read-resends and bus.attempt-ms, read once: not per call */
    int64_t attempt_ms;
};

zs_bus_t *zs_bus_new(void)
{
    zs_bus_t *self = calloc(1, sizeof(zs_bus_t));
    if (self) {
        self->read_resends = (int)zs_config_int("bus.read-resends", 2);
        self->attempt_ms = zs_config_int("bus.attempt-ms", 2000);
    }
    return self;
}

void zs_bus_destroy(zs_bus_t **self_p)
{
    if (!*self_p)
        return;
    for (int i = 0; i < (*self_p)->n; i++)
        zsock_destroy(&(*self_p)->conn[i].sock);
    free(*self_p);
    *self_p = NULL;
}

void zs_bus_tune(zsock_t *sock)
{
    zsock_set_linger(sock, 0);
    zsock_set_sndhwm(sock, 10000);
    zsock_set_rcvhwm(sock, 10000);
    zsock_set_maxmsgsize(sock, ZS_MSG_MAX_BYTES + 4096);
    /* A peer that goes silent (host down, link cut: no TCP reset) is dropped after the
     * heartbeat timeout, so a DEALER stops sending it its share of the requests. */
    zsock_set_heartbeat_ivl(sock, (int)zs_config_int("bus.heartbeat-ivl-ms", 1000));
    zsock_set_heartbeat_ttl(sock, (int)zs_config_int("bus.heartbeat-ttl-ms", 3000));
    zsock_set_heartbeat_timeout(sock, (int)zs_config_int("bus.heartbeat-timeout-ms", 3000));
    /* A connect to a host whose link is down would wait for the kernel's SYN retries (minutes);
     * give up sooner so the reconnect loop finds the host soon after it is back. */
    zsock_set_connect_timeout(sock, (int)zs_config_int("bus.connect-timeout-ms", 2000));
    zsock_set_tcp_keepalive(sock, 1);
    zsock_set_tcp_keepalive_idle(sock, (int)zs_config_int("bus.keepalive-idle-s", 10));
    zsock_set_tcp_keepalive_intvl(sock, 2);
    zsock_set_tcp_keepalive_cnt(sock, 3);
}

/* The connection to `service`, made on first use; NULL when it cannot be made. */
static conn_t *conn_of(zs_bus_t *self, const char *service)
{
    for (int i = 0; i < self->n; i++)
        if (strcmp(self->conn[i].name, service) == 0)
            return &self->conn[i];
    if (self->n == MAX_SERVICES)
        return NULL;
    char room[ZS_CONFIG_ENDPOINTS_SIZE];
    const char *eps = zs_config_endpoints(service, room);
    zsock_t *s = zsock_new(ZMQ_DEALER);
    if (!s)
        return NULL;
    zs_bus_tune(s);
    zsock_set_immediate(s, 1);
    /* Peers start in any order: retry a connection to a missing peer quickly at first
     * (a whole stack is ready in well under a second), backing off to a second. */
    zsock_set_reconnect_ivl(s, 10);
    zsock_set_reconnect_ivl_max(s, 1000);
    zsock_set_sndtimeo(s, 0);
    if (zs_bus_keys_client(s, eps, service) != 0) {
        zs_errorf("bus: no CurveZMQ keys for %s (%s): not connecting", service, eps);
        zsock_destroy(&s);
        return NULL;
    }
    char list[2048];
    snprintf(list, sizeof list, "%s", eps);
    for (char *save, *ep = strtok_r(list, ",", &save); ep; ep = strtok_r(NULL, ",", &save))
        if (zsock_connect(s, "%s", ep) != 0)
            zs_warn("bus: cannot connect to %s at %s", service, ep);
    conn_t *c = &self->conn[self->n++];
    snprintf(c->name, sizeof c->name, "%s", service);
    c->sock = s;
    return c;
}

zsock_t *zs_bus_socket(zs_bus_t *self, const char *service)
{
    conn_t *c = conn_of(self, service);
    return c ? c->sock : NULL;
}

/* With ZMQ_IMMEDIATE a send fails until a connection is up. A socket made a moment ago is
 * still connecting, so a caller may wait up to wait_ms for the pipe to become writable, or
 * until `cancel` (may be NULL) is readable. Returns ZS_BUS_OK, ZS_BUS_UNREACHABLE or
 * ZS_BUS_CANCELLED. */
static int send_within(conn_t *c, const zs_msg_t *msg, int64_t wait_ms, zsock_t *cancel)
{
    const char *buf;
    size_t len;
    if (!c || zs_msg_pack(msg, &buf, &len) != 0)
        return ZS_BUS_UNREACHABLE;
    zsock_t *s = c->sock;
    int64_t end = zs_mono_ms() + wait_ms;
    int rc = ZS_BUS_UNREACHABLE;
    for (;;) {
        if (zmq_send(zsock_resolve(s), buf, len, ZMQ_DONTWAIT) >= 0) {
            memcpy(c->sent_id, msg->id, sizeof c->sent_id);
            rc = ZS_BUS_OK;
            break;
        }
        int64_t left = end - zs_mono_ms();
        if (zmq_errno() != EAGAIN || left <= 0)
            break;
        zmq_pollitem_t items[] = {{zsock_resolve(s), 0, ZMQ_POLLOUT, 0},
                                  {cancel ? zsock_resolve(cancel) : NULL, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, cancel ? 2 : 1, (long)left) > 0 && (items[1].revents & ZMQ_POLLIN)) {
            rc = ZS_BUS_CANCELLED;
            break;
        }
    }
    return rc;
}

int zs_bus_send_within(zs_bus_t *self, const char *service, const zs_msg_t *msg, int64_t wait_ms)
{
    return send_within(conn_of(self, service), msg, wait_ms, NULL) == ZS_BUS_OK ? 0 : -1;
}

int zs_bus_send(zs_bus_t *self, const char *service, const zs_msg_t *msg)
{
    return zs_bus_send_within(self, service, msg, 0);
}

int zs_bus_drain(zs_bus_t *self, const char *service)
{
    zsock_t *s = zs_bus_socket(self, service);
    int n = 0;
    while (s && (zsock_events(s) & ZMQ_POLLIN)) {
        zmsg_t *m = zmsg_recv(s);
        zmsg_destroy(&m);
        n++;
    }
    return n;
}

bool zs_bus_last_frame(void *sock, zmq_msg_t *frame)
{
    bool last = !zmq_msg_more(frame);
    for (bool more = !last; more;) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        more = zmq_msg_recv(&extra, sock, 0) >= 0 && zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    return last;
}

/* zs_bus_recv and zs_bus_try_recv: `flags` 0 or ZMQ_DONTWAIT (for the first frame; the rest
 * of a message arrives with it). */
static int recv_message(zsock_t *sock, zs_msg_t *msg, zframe_t **identity, int flags)
{
    /* Frames straight into zmq_msg_t: a czmq zmsg costs a list and a copy per frame. */
    void *s = zsock_resolve(sock);
    zmq_msg_t first, payload;
    zmq_msg_init(&first);
    if (zmq_msg_recv(&first, s, flags) < 0) {
        int e = errno;
        zmq_msg_close(&first);
        errno = e;
        return -1;
    }
    bool whole = true;
    if (identity) {
        *identity = zframe_new(zmq_msg_data(&first), zmq_msg_size(&first));
        whole = zmq_msg_more(&first);
        zmq_msg_close(&first);
        zmq_msg_init(&payload);
        whole = whole && zmq_msg_recv(&payload, s, 0) >= 0;
    } else {
        payload = first;
    }
    json_t *error = NULL;
    int rc = -1;
    if (whole && zs_bus_last_frame(s, &payload))
        rc = zs_msg_decode(zmq_msg_data(&payload), zmq_msg_size(&payload), msg, &error);
    if (rc != 0) {
        zs_warn("bus: dropped a bad message: %s", error ? zs_error_details(error) : "missing or extra frames");
        json_decref(error);
        if (identity)
            zframe_destroy(identity);
    }
    zmq_msg_close(&payload);
    if (rc != 0)
        errno = EPROTO;
    return rc;
}

int zs_bus_recv(zsock_t *sock, zs_msg_t *msg, zframe_t **identity)
{
    return recv_message(sock, msg, identity, 0);
}

int zs_bus_try_recv(zsock_t *sock, zs_msg_t *msg, zframe_t **identity)
{
    return recv_message(sock, msg, identity, ZMQ_DONTWAIT);
}

static int failed(zs_msg_t *reply, const zs_msg_t *req, const char *service, int rc)
{
    const char *how = rc == ZS_BUS_TIMEOUT ? "did not answer" : "is not reachable for";
    zs_msg_reply(reply, req, false, 503,
                 zs_error(ZS_SYS_TIMEOUT, "service %s %s %s%s", service, how, req->api,
                          rc == ZS_BUS_TIMEOUT ? " in time" : ""));
    return rc;
}

/* Requests that may be sent twice: what the caller says is idempotent, and reads — a
 * read-only API (no job, not async, no store writes) that is not a long poll (a positive
 * "wait" is answered late on purpose). */
static bool may_resend(const zs_msg_t *req, const zs_bus_call_opts_t *opts)
{
    if (opts->idempotent)
        return true;
    const zs_api_t *api = zs_api_find(req->api);
    return !req->job && api && !(api->flags & (ZS_API_ASYNC | ZS_API_WRITES)) &&
           json_integer_value(json_object_get(req->body, "wait")) <= 0;
}

/* The epoch ms at which the call ends, 0 when nothing bounds it. */
static int64_t call_end(const zs_msg_t *req, const zs_bus_call_opts_t *opts)
{
    int64_t end = 0;
    const int64_t limits[] = {opts->timeout_ms > 0 ? zs_now_ms() + opts->timeout_ms : 0,
                              opts->deadline, req->deadline};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (limits[i] > 0 && (!end || limits[i] < end))
            end = limits[i];
    return end;
}

int zs_bus_call(zs_bus_t *self, const char *service, const zs_msg_t *req,
                const zs_bus_call_opts_t *opts, zs_msg_t *reply)
{
    static const zs_bus_call_opts_t defaults;
    if (!opts)
        opts = &defaults;
    memset(reply, 0, sizeof *reply);
    int64_t end = call_end(req, opts);
    if (!end) {
        zs_errorf("bus: call of %s to %s has no deadline: refused", req->api, service);
        return failed(reply, req, service, ZS_BUS_TIMEOUT);
    }
    /* A request whose instance does not answer within the per-attempt timeout is sent again;
     * the DEALER's round-robin hands it to the next instance. The first answer wins (both
     * carry the request's id). Such a request may also wait longer for a connection (an
     * instance reconnecting): one attempt's time; any other gives up after 1 s. */
    int resends = may_resend(req, opts) ? self->read_resends : 0;
    int64_t attempt_ms = self->attempt_ms;
    conn_t *c = conn_of(self, service);
    if (!c)
        return failed(reply, req, service, ZS_BUS_UNREACHABLE);
    zsock_t *s = c->sock;
    /* A resumed call sends only when the call it resumes did not (cancelled while it waited
     * for a connection, or the send failed). */
    if (!opts->resume || strcmp(c->sent_id, req->id) != 0) {
        int64_t grace = end - zs_now_ms(), connect_wait = resends ? attempt_ms : 1000;
        int rc = send_within(c, req, grace < connect_wait ? grace : connect_wait, opts->cancel);
        if (rc == ZS_BUS_CANCELLED)
            return rc;
        if (rc != ZS_BUS_OK)
            return failed(reply, req, service, rc);
    }
    int64_t next_resend = zs_now_ms() + attempt_ms;
    int rc = ZS_BUS_TIMEOUT;
    for (;;) {
        int64_t now = zs_now_ms(), left = end - now;
        if (resends > 0 && now >= next_resend) {
            if (send_within(c, req, 0, NULL) == ZS_BUS_OK)
                zs_log(ZS_DEBUG, req->id, "%s: no answer from %s in %lld ms, sent again", req->api,
                       service, (long long)attempt_ms);
            resends--;
            next_resend = now + attempt_ms;
        }
        if (left <= 0)
            break;
        int64_t wait = resends > 0 && next_resend - now < left ? next_resend - now : left;
        if (!opts->cancel) {
            /* Nothing else to watch: a blocking receive with a timeout. A poll then a
             * receive costs ZeroMQ twice the syscalls and a wake-up more per call, and on
             * the gateway's read path that was a measurable share of each request. */
            zsock_set_rcvtimeo(s, wait > INT_MAX ? INT_MAX : (int)wait);
            if (zs_bus_recv(s, reply, NULL) != 0) {
                if (errno == EAGAIN || errno == EINTR || errno == EPROTO)
                    continue;   /* time's up for this wait, or a bad frame dropped */
                break;
            }
        } else {
            zmq_pollitem_t items[] = {{zsock_resolve(s), 0, ZMQ_POLLIN, 0},
                                      {zsock_resolve(opts->cancel), 0, ZMQ_POLLIN, 0}};
            int n = zmq_poll(items, 2, (long)wait);
            if (n < 0 && zmq_errno() == EINTR)
                continue;
            if (n < 0)
                break;
            if (!(items[0].revents & ZMQ_POLLIN)) {
                if (items[1].revents & ZMQ_POLLIN) {
                    rc = ZS_BUS_CANCELLED;
                    break;
                }
                continue;
            }
            if (zs_bus_recv(s, reply, NULL) != 0)
                continue;
        }
        if (reply->kind == 'R' && strcmp(reply->id, req->id) == 0) {
            rc = ZS_BUS_OK;
            break;
        }
        zs_msg_clear(reply);   /* the late answer of an abandoned call, or an ack; a reply
                                  waiting behind it wins over the cancel */
    }
    if (!opts->cancel)
        zsock_set_rcvtimeo(s, -1);   /* the socket is shared with other users of the bus */
    if (rc == ZS_BUS_TIMEOUT)
        return failed(reply, req, service, rc);
    return rc;
}

json_t *zs_bus_request(zs_bus_t *self, const char *service, const char *api, const json_t *caller,
                       json_t *body, int64_t timeout_ms, json_t **error)
{
    zs_msg_t req = {.kind = 'Q', .deadline = zs_now_ms() + timeout_ms, .body = body};
    snprintf(req.api, sizeof req.api, "%s", api);
    zs_uuid_new(req.id);
    req.caller = caller ? json_deep_copy(caller) : NULL;
    zs_msg_t reply;
    zs_bus_call(self, service, &req, NULL, &reply);   /* bounded by req.deadline */
    zs_msg_clear(&req);
    json_t *out = NULL;
    if (reply.ok)
        out = json_incref(reply.body);
    else
        *error = json_incref(reply.body);
    zs_msg_clear(&reply);
    return out;
}
