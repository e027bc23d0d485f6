/* buskeys.c — see buskeys.h. */
#include "buskeys.h"
#include "config.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ZS_BUS_ROLES[] = {"gateway", "broker", "core", "tags", "ticket", "longjob",
                                    "license", "gc", NULL};

/* The bus names a process may connect to, and the role whose certificate serves each. */
static const char *const servers[][2] = {
    {"broker", "broker"}, {"core", "core"}, {"tags", "tags"}, {"ticket", "ticket"},
    {"longjob", "longjob"}, {"license", "license"}, {"gc", "gc"},
    {"events-in", "broker"}, {"events-out", "broker"},
};
#define NSERVERS (sizeof servers / sizeof servers[0])

static bool active;
static bool plain;                      /* bus.plain-tcp: CURVE deliberately off */
static zcert_t *own;                    /* this process's certificate */
static char server_key[NSERVERS][41];   /* Z85 public key of each server, "" when not loaded */
static zactor_t *auth;

const char *zs_bus_keys_dir(void)
{
    static char dflt[1100];
    if (!dflt[0])
        snprintf(dflt, sizeof dflt, "%s/keys", zs_config_data_dir());
    return zs_config_get("bus.keys", dflt);
}

static bool is_tcp(const char *endpoints)
{
    return endpoints && strstr(endpoints, "tcp://") != NULL;
}

static int missing(const char *path)
{
    zs_errorf("bus: %s is missing: the bus uses tcp and needs CurveZMQ keys; "
              "create them with `zs-keys generate %s` (and give every host the same directory)",
              path, zs_bus_keys_dir());
    return -1;
}

void zs_bus_keys_stop(void)
{
    zactor_destroy(&auth);
    zcert_destroy(&own);
}

int zs_bus_keys_init(const char *role)
{
    bool tcp = false;
    char room[ZS_CONFIG_ENDPOINTS_SIZE];
    for (size_t i = 0; i < NSERVERS; i++)
        tcp |= is_tcp(zs_config_endpoints(servers[i][0], room));
    if (!tcp)
        return 0;
    if (zs_config_bool("bus.plain-tcp", false)) {
        plain = true;
        zs_warn("bus: bus.plain-tcp is set: tcp endpoints are NOT authenticated nor encrypted; "
                "anyone who reaches them is trusted");
        return 0;
    }
    const char *dir = zs_bus_keys_dir();
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.secret", dir, role);
    own = zcert_load(path);
    if (!own || !strcmp(zcert_secret_txt(own), "0000000000000000000000000000000000000000"))
        return missing(path);
    for (size_t i = 0; i < NSERVERS; i++) {
        if (!is_tcp(zs_config_endpoints(servers[i][0], room)))
            continue;
        snprintf(path, sizeof path, "%s/public/%s.cert", dir, servers[i][1]);
        zcert_t *c = zcert_load(path);
        if (!c)
            return missing(path);
        snprintf(server_key[i], sizeof server_key[i], "%s", zcert_public_txt(c));
        zcert_destroy(&c);
    }
    /* zauth answers the ZAP requests of every socket of this process's ZeroMQ context:
     * CURVE clients are admitted only when their certificate is in <keys>/public. */
    auth = zactor_new(zauth, NULL);
    if (!auth)
        return -1;
    snprintf(path, sizeof path, "%s/public", dir);
    zstr_sendx(auth, "CURVE", path, NULL);
    zsock_wait(auth);
    atexit(zs_bus_keys_stop);
    active = true;
    zs_info("bus: CurveZMQ on tcp endpoints (keys in %s)", dir);
    return 0;
}

bool zs_bus_keys_active(void)
{
    return active;
}

int zs_bus_keys_server(zsock_t *sock, const char *endpoint)
{
    if (!is_tcp(endpoint) || plain)
        return 0;
    if (!active)
        return -1;
    zsock_set_zap_domain(sock, "zs");
    zcert_apply(own, sock);
    zsock_set_curve_server(sock, 1);
    return 0;
}

int zs_bus_keys_client(zsock_t *sock, const char *endpoints, const char *service)
{
    if (!is_tcp(endpoints) || plain)
        return 0;
    for (size_t i = 0; active && i < NSERVERS; i++)
        if (strcmp(servers[i][0], service) == 0 && server_key[i][0]) {
            zcert_apply(own, sock);
            zsock_set_curve_serverkey(sock, server_key[i]);
            return 0;
        }
    return -1;
}
