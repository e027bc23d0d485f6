/* node.h — what every process of the suite does to be one: read its command line and
 * configuration, name itself in the logs, and be a management node (register with the core
 * service, heartbeat every node.heartbeat-interval seconds, default 5, say goodbye on exit).
 *
 * Threads: zs_node_init runs first in main(), before any thread. A zs_node_t belongs to the
 * thread that owns the zs_bus_t it was given.
 */
#ifndef ZS_NODE_H
#define ZS_NODE_H
#include "bus.h"

#define ZS_VERSION "4.0.0"

typedef struct zs_node zs_node_t;

/* Parses [--config FILE] [--bind ENDPOINT] [--listen HOST:PORT] [--data-dir DIR] [--check],
 * loads the configuration (flags > ZS_* variables > the file > defaults, config.h), refuses
 * a configuration that puts a stateful service on several hosts (docs/deployment.md),
 * starts logging as `process` ("zs-tags"), turns off CZMQ's own signal handling, and loads
 * the CurveZMQ keys of the role when the bus uses tcp (buskeys.h). Returns 0, or -1 after
 * printing why on stderr (a missing key file: its path and the `zs-keys generate` command).
 * --bind sets bus.<role>.bind where role is process without "zs-".
 * --check (services only: the health probe of containers) does not return: it asks the
 * instance at this configuration's bind endpoint for "Ping" and exits 0 (answered within
 * 3 s) or 1. */
int zs_node_init(const char *process, int argc, char **argv);

/* Creates the directory of an ipc:// endpoint (nothing for tcp://), owner-only (0700): ipc
 * endpoints carry no CURVE, the directory is what keeps other users out. Returns 0, or -1
 * (logged). */
int zs_node_prepare_endpoint(const char *endpoint);

/* A management node of `role` ("gateway", "tags"...) with a fresh uuid; sends the first
 * heartbeat at once through `bus` (borrowed; must outlive the node). NULL when memory ran
 * out (logged); a core that does not answer is not a failure (the next beats retry). */
zs_node_t *zs_node_new(const char *role, zs_bus_t *bus);
/* Call about once a second: heartbeats when due and drains the core's answers. */
void zs_node_tick(zs_node_t *self);
/* Tells the core this node leaves, then frees. */
void zs_node_destroy(zs_node_t **self_p);
const char *zs_node_uuid(const zs_node_t *self);

#endif
