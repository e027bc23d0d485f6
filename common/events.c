/* events.c — see events.h. */
#include "events.h"
#include "bus.h"
#include "config.h"
#include "log.h"
#include "msg.h"
#include <string.h>

zsock_t *zs_events_publisher(void)
{
    zsock_t *pub = zsock_new(ZMQ_PUB);
    if (!pub)
        return NULL;
    zs_bus_tune(pub);
    zsock_set_reconnect_ivl(pub, 10);
    zsock_set_reconnect_ivl_max(pub, 1000);
    if (zsock_connect(pub, "%s", zs_config_endpoints("events-in")) != 0) {
        zs_warn("events: cannot connect the publisher");
        zsock_destroy(&pub);
    }
    return pub;
}

int zs_events_publish(zsock_t *pub, const char *topic, json_t *body)
{
    zs_msg_t m = {.kind = 'E', .body = body};
    snprintf(m.api, sizeof m.api, "%s", topic);
    char *buf;
    size_t len;
    int rc = -1;
    if (pub && zs_msg_encode(&m, &buf, &len) == 0) {
        zmsg_t *z = zmsg_new();
        zmsg_addstr(z, topic);
        zmsg_addmem(z, buf, len);
        free(buf);
        rc = zmsg_send(&z, pub);
        zmsg_destroy(&z);
    }
    zs_msg_clear(&m);
    return rc;
}

zsock_t *zs_events_subscriber(const char *const *topics)
{
    zsock_t *sub = zsock_new(ZMQ_SUB);
    if (!sub)
        return NULL;
    zs_bus_tune(sub);
    zsock_set_reconnect_ivl(sub, 10);
    zsock_set_reconnect_ivl_max(sub, 1000);
    if (!topics)
        zsock_set_subscribe(sub, "");
    for (const char *const *t = topics; t && *t; t++)
        zsock_set_subscribe(sub, *t);
    if (zsock_connect(sub, "%s", zs_config_endpoints("events-out")) != 0) {
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
    char err[128];
    if (t && f && zs_msg_decode(zframe_data(f), zframe_size(f), &m, err) == 0) {
        snprintf(topic, size, "%s", t);
        body = json_incref(m.body);
        zs_msg_clear(&m);
    }
    free(t);
    zframe_destroy(&f);
    zmsg_destroy(&z);
    return body;
}
