/* events.c — see events.h. */
#include "events.h"
#include "bus.h"
#include "buskeys.h"
#include "config.h"
#include "log.h"
#include "msg.h"
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

json_t *zs_events_recv(zsock_t *sub, char *topic, size_t size)
{
    zmsg_t *z = zmsg_recv(sub);
    if (!z)
        return NULL;
    json_t *body = NULL;
    char *t = zmsg_popstr(z);
    zframe_t *f = zmsg_pop(z);
    zs_msg_t m;
    if (t && f && zs_msg_decode(zframe_data(f), zframe_size(f), &m, NULL) == 0) {
        snprintf(topic, size, "%s", t);
        body = json_incref(m.body);
        zs_msg_clear(&m);
    }
    free(t);
    zframe_destroy(&f);
    zmsg_destroy(&z);
    return body;
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

/* The actor: events flow in -> out, subscriptions out -> in, until $TERM on the pipe. */
static void proxy_run(zsock_t *pipe, void *arg)
{
    proxy_t *p = arg;
    zpoller_t *poller = zpoller_new(pipe, p->in, p->out, NULL);
    zsock_signal(pipe, 0);
    for (void *which; (which = zpoller_wait(poller, -1));) {
        zmsg_t *m = zmsg_recv(which);
        if (!m)
            break;
        if (which == pipe) {
            char *cmd = zmsg_popstr(m);
            bool term = cmd && strcmp(cmd, "$TERM") == 0;
            free(cmd);
            zmsg_destroy(&m);
            if (term)
                break;
            continue;
        }
        zmsg_send(&m, which == p->in ? p->out : p->in);
        zmsg_destroy(&m);
    }
    zpoller_destroy(&poller);
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
