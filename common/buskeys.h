/* buskeys.h — CurveZMQ on the tcp bus, with czmq's zcert, zcertstore and zauth.
 *
 * Keys live in one directory (config `bus.keys`, env ZS_BUS_KEYS, default <data dir>/keys),
 * made by `zs-keys generate DIR`:
 *   DIR/<role>.secret        0600, the czmq certificate (public + secret key) of a process role
 *   DIR/public/<role>.cert   the public certificate of each role; this directory is the store
 *                            of allowed clients (zcertstore, given to zauth)
 * Roles: ZS_BUS_ROLES (several instances of one role share its certificate).
 *
 * When any bus endpoint of the configuration is tcp://, zs_bus_keys_init loads the process's
 * own certificate and the public certificate of every service reachable over tcp, and starts
 * a zauth actor that admits only clients whose certificate is in DIR/public. Then every socket
 * that binds a tcp endpoint is a CURVE server and every socket that connects one is a CURVE
 * client of that service's certificate; a peer without an allowed certificate never gets a
 * message through (the handshake fails before any frame is delivered). ipc:// endpoints stay
 * plain; their directory is owner-only (zs_node_prepare_endpoint).
 *
 * `bus.plain-tcp = yes` turns CURVE off on tcp (logged as a warning at every start): only for a
 * network that is private and authenticated by other means, and for measuring what CURVE
 * costs (tools/bench/bench_curve.sh). Never on a shared network.
 *
 * Threads: zs_bus_keys_init runs once in main() before other threads (zs_node_init calls it);
 * afterwards the other functions may be called from any thread (read-only state).
 */
#ifndef ZS_BUSKEYS_H
#define ZS_BUSKEYS_H
#include <czmq.h>
#include <stdbool.h>

/* Every role that has a certificate, NULL-terminated. */
extern const char *const ZS_BUS_ROLES[];

/* The key directory (bus.keys, default <data dir>/keys). Borrowed. */
const char *zs_bus_keys_dir(void);

/* Loads this process's keys when the bus uses tcp (see above); `role` is the process's role
 * ("tags", "gateway"...). Returns 0 (also when nothing is needed), or -1 after logging which
 * file is missing and the `zs-keys generate` command that makes it. */
int zs_bus_keys_init(const char *role);

/* True when tcp endpoints are secured (zs_bus_keys_init found tcp in the configuration and
 * bus.plain-tcp is not set). */
bool zs_bus_keys_active(void);

/* Before binding `endpoint` on `sock`: makes it a CURVE server when the endpoint is tcp://.
 * Returns 0, or -1 when it is tcp and keys were not loaded (the caller must not bind). */
int zs_bus_keys_server(zsock_t *sock, const char *endpoint);

/* Before connecting `sock` to the endpoints of `service` (a comma list): makes it a CURVE
 * client of that service's certificate when any endpoint is tcp://. "events-in" and
 * "events-out" are served by the broker. Returns 0, or -1 (keys not loaded: don't connect). */
int zs_bus_keys_client(zsock_t *sock, const char *endpoints, const char *service);

/* Stops zauth (registered with atexit by zs_bus_keys_init; idempotent). */
void zs_bus_keys_stop(void);

#endif
