/* fake_router.h — what the unit tests' fake services (a ROUTER in a thread of its own,
 * test_bus.c, test_broker.c) share: sending one envelope to a peer, and failing loudly.
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

#endif
