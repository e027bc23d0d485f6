/* events.c — see events.h. */
#include "events.h"
#include "bus.h"
#include "buskeys.h"
#include "config.h"
#include "log.h"
#include "msg.h"
#include <errno.h>
#include <string.h>

zsock_t *zs_events_publisher(void)
{
    zsock_t *pub = zsock_new(ZMQ_PUB);
    if (!pub) {
        zs_warn("events: cannot create the publisher: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    zs_bus_tune(pub);
    zsock_set_reconnect_ivl(pub, 10);
    zsock_set_reconnect_ivl_max(pub, 1000);
    char room[ZS_CONFIG_ENDPOINTS_SIZE];
    const char *in = zs_config_endpoints("events-in", room);
    if (zs_bus_keys_client(pub, in, "events-in") != 0 || zsock_connect(pub, "%s", in) != 0) {
        zs_warn("events: cannot connect the publisher");
        zsock_destroy(&pub);
    }
    return pub;
}

int zs_events_publish(zsock_t *pub, const char *topic, json_t *body)
{
    zs_msg_t m = {.kind = 'E', .body = body};
    snprintf(m.api, sizeof m.api, "%s", topic);
    const char *buf;
    size_t len;
    int rc = -1;
    if (pub && zs_msg_pack(&m, &buf, &len) == 0) {
        void *s = zsock_resolve(pub);
        rc = zmq_send(s, topic, strlen(topic), ZMQ_SNDMORE) >= 0 && zmq_send(s, buf, len, 0) >= 0 ? 0 : -1;
    }
    zs_msg_clear(&m);
    return rc;
}

zsock_t *zs_events_subscriber(const char *const *topics)
{
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub) {
        zs_warn("events: cannot create the subscriber: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    zs_bus_tune(sub);
    zsock_set_reconnect_ivl(sub, 10);
    zsock_set_reconnect_ivl_max(sub, 1000);
    if (!topics)
        zsock_set_subscribe(sub, "");
    for (const char *const *t = topics; t && *t; t++)
        zsock_set_subscribe(sub, *t);
    char room[ZS_CONFIG_ENDPOINTS_SIZE];
    const char *out = zs_config_endpoints("events-out", room);
    if (zs_bus_keys_client(sub, out, "events-out") != 0 || zsock_connect(sub, "%s", out) != 0) {
        zs_warn("events: cannot connect the subscriber");
        zsock_destroy(&sub);
    }
    return sub;
}

/* One event, [topic, envelope]; `flags` 0 or ZMQ_DONTWAIT for its first frame (the rest of
 * a message arrives with it). */
static json_t *recv_event(zsock_t *sub, char *topic, size_t size, int flags)
{
    void *s = zsock_resolve(sub);
    zmq_msg_t t;
    zmq_msg_init(&t);
    if (zmq_msg_recv(&t, s, flags) < 0) {
        int e = errno;
        zmq_msg_close(&t);
        errno = e;
        return NULL;
    }
    json_t *body = NULL;
    if (zmq_msg_more(&t)) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        zs_msg_t m;
        /* frames beyond [topic, envelope] are dropped with their event */
        if (zmq_msg_recv(&f, s, 0) >= 0 && zs_bus_last_frame(s, &f) && zmq_msg_size(&f)
            && zs_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), &m, NULL) == 0) {
            snprintf(topic, size, "%.*s", (int)zmq_msg_size(&t), (const char *)zmq_msg_data(&t));
            body = json_incref(m.body);
            zs_msg_clear(&m);
        }
        zmq_msg_close(&f);
    }
    zmq_msg_close(&t);
    if (!body)
        errno = EPROTO;
    return body;
}

json_t *zs_events_recv(zsock_t *sub, char *topic, size_t size)
{
    return recv_event(sub, topic, size, 0);
}

json_t *zs_events_try_recv(zsock_t *sub, char *topic, size_t size)
{
    return recv_event(sub, topic, size, ZMQ_DONTWAIT);
}

/* Binds one side of the proxy, tuned and (on tcp) a CURVE server like every bus socket. */
static zsock_t *proxy_side(int type, const char *endpoint)
{
    zsock_t *s = zsock_new(type);
    if (!s)
        return NULL;
    zs_bus_tune(s);
    if (zs_bus_keys_server(s, endpoint) != 0 || zsock_bind(s, "%s", endpoint) < 0) {
        zs_errorf("events: cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
        zsock_destroy(&s);
    }
    return s;
}

typedef struct {
    zsock_t *in, *out;
} proxy_t;

/* Forwards what waits on `from` to `to`, at most `burst` messages, frame by frame (a message's
 * frames arrive together). Receiving until there is nothing left costs one poll a burst;
 * asking the poller before every event cost ZeroMQ a poll and a getpid per socket per event. */
static void forward(void *from, void *to, int burst)
{
    for (int n = 0; n < burst; n++) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, from, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&frame);
            return;
        }
        for (;;) {
            bool more = zmq_msg_more(&frame);
            if (zmq_msg_send(&frame, to, more ? ZMQ_SNDMORE : 0) < 0)
                zmq_msg_close(&frame);   /* XPUB drops at its high-water mark, as PUB does */
            if (!more)
                break;
            zmq_msg_init(&frame);
            if (zmq_msg_recv(&frame, from, 0) < 0) {
                zmq_msg_close(&frame);
                return;
            }
        }
    }
}

/* The actor: events flow in -> out, subscriptions out -> in, until $TERM on the pipe. */
static void proxy_run(zsock_t *pipe, void *arg)
{
    proxy_t *p = arg;
    void *in = zsock_resolve(p->in), *out = zsock_resolve(p->out);
    zmq_pollitem_t items[] = {{zsock_resolve(pipe), 0, ZMQ_POLLIN, 0}, {in, 0, ZMQ_POLLIN, 0},
                              {out, 0, ZMQ_POLLIN, 0}};
    zsock_signal(pipe, 0);
    for (;;) {
        if (zmq_poll(items, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            char *cmd = zstr_recv(pipe);
            bool term = !cmd || strcmp(cmd, "$TERM") == 0;
            zstr_free(&cmd);
            if (term)
                break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            forward(in, out, 1000);
        if (items[2].revents & ZMQ_POLLIN)
            forward(out, in, 1000);
    }
    zsock_destroy(&p->in);
    zsock_destroy(&p->out);
    free(p);
}

zactor_t *zs_events_proxy_new(void)
{
    proxy_t *p = calloc(1, sizeof *p);
    if (!p) {
        zs_errorf("events: cannot start the proxy: out of memory");
        return NULL;
    }
    char room[ZS_CONFIG_ENDPOINTS_SIZE];
    p->in = proxy_side(ZMQ_XSUB, zs_config_endpoints("events-in", room));
    p->out = p->in ? proxy_side(ZMQ_XPUB, zs_config_endpoints("events-out", room)) : NULL;
    if (!p->out) {
        zsock_destroy(&p->in);
        free(p);
        return NULL;
    }
    /* The sockets move to the actor's thread (thread creation is the memory barrier
     * ZeroMQ asks for) and are used there only. */
    return zactor_new(proxy_run, p);
}
