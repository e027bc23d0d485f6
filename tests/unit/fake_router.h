/* fake_router.h — what the unit tests' fake services (a ROUTER in a czmq actor of its own,
 * test_bus.c, test_broker.c) share: opening, sending one envelope to a peer, failing loudly.
 * Static inline: each tests/unit/test_*.c is a program of its own. */
#ifndef ZS_FAKE_ROUTER_H
#define ZS_FAKE_ROUTER_H
#include "msg.h"
#include <czmq.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* A fake runs in its own thread, where check's assertions cannot stop a test (CK_FORK=no):
 * a broken fake aborts the program instead, naming what failed. */
static inline void fake_must(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fake service: %s failed\n", what);
        abort();
    }
}

/* Sends `m` (encoded, borrowed) to `peer` (borrowed: its identity frame) on `router`. */
static inline void fake_send(zsock_t *router, zframe_t *peer, const zs_msg_t *m)
{
    char *buf;
    size_t len;
    fake_must(zs_msg_encode(m, &buf, &len) == 0, "encode");
    zmsg_t *out = zmsg_new();
    zframe_t *to = zframe_dup(peer);
    zmsg_append(out, &to);
    zmsg_addmem(out, buf, len);
    free(buf);
    fake_must(zmsg_send(&out, router) == 0, "send");
}

/* A fake's start, inside its czmq actor: a ROUTER bound on `endpoint` (aborts when it cannot
 * be), the actor's readiness signalled, and a poller on the pipe and the ROUTER into *poller.
 * The fake destroys both. */
static inline zsock_t *fake_open(zsock_t *pipe, const char *endpoint, zpoller_t **poller)
{
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    fake_must(router && zsock_bind(router, "%s", endpoint) == 0, "bind");
    zsock_signal(pipe, 0);
    *poller = zpoller_new(pipe, router, NULL);
    return router;
}

#endif
