/* events.h — bus events (PUB/SUB). Every process publishes by connecting a PUB socket to the
 * broker's event intake (endpoint "events-in"); subscribers connect SUB sockets to the
 * broker's event fan-out ("events-out"). The broker runs the XSUB/XPUB proxy between them.
 * An event is two frames: the topic text, then a msgpack envelope of kind 'E' whose api is
 * the topic and whose body is the payload.
 *
 * Topics in use: "session.revoked" {sessionUuid}, "resource.deleted" {resourceUuid,
 * resourceType}, "node.joined"/"node.dead" {uuid, role}, "ticket.status" {...},
 * "longjob.finished" {...}, "license.expiring" {...}, "gc.failing" {...}.
 *
 * Threads: a publisher or subscriber belongs to the thread that created it.
 * Delivery is at-most-once (ZeroMQ PUB/SUB): durable work must not depend on an event alone.
 */
#ifndef ZS_EVENTS_H
#define ZS_EVENTS_H
#include <czmq.h>
#include <jansson.h>

/* A PUB socket connected to the intake, or NULL (logged). */
zsock_t *zs_events_publisher(void);
/* Publishes `body` (stolen) under `topic`. Returns 0, or -1 (no publisher, the envelope
 * could not be encoded, or ZeroMQ refused it: events are at-most-once). Never blocks. */
int zs_events_publish(zsock_t *pub, const char *topic, json_t *body);

/* A SUB socket connected to the fan-out, subscribed to every topic prefix of the
 * NULL-terminated list (NULL list: everything), or NULL (logged). */
zsock_t *zs_events_subscriber(const char *const *topics);
/* Receives one event: returns its payload (new reference) and copies the topic into
 * topic[size]; NULL when nothing could be received or the event is malformed (dropped
 * silently: any process may publish). */
json_t *zs_events_recv(zsock_t *sub, char *topic, size_t size);
/* zs_events_recv without waiting: NULL with errno EAGAIN when no event is there, EPROTO when
 * the one there was malformed (dropped). For draining: a receive that finds an event costs
 * ZeroMQ no system call, asking first (zsock_events) one poll and one getpid. */
json_t *zs_events_try_recv(zsock_t *sub, char *topic, size_t size);

/* The broker's event proxy: binds the intake (XSUB, "events-in") and the fan-out (XPUB,
 * "events-out"), tuned like every bus socket and CURVE servers on tcp, and forwards events
 * in and subscriptions back on an actor thread until zactor_destroy. Returns the actor, or
 * NULL (logged) when a side cannot be bound. The ipc directories must exist. */
zactor_t *zs_events_proxy_new(void);

#endif
