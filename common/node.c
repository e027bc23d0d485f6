/* node.c — see node.h. */
#include "node.h"
#include "api.h"
#include "buskeys.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "uuid.h"
#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct zs_node {
    char uuid[ZS_UUID_LEN + 1];
    char role[32];
    zs_bus_t *bus;
    int64_t next_beat;
    int64_t join_ms;
};

static void usage(const char *process)
{
    fprintf(stderr, "usage: %s [--config FILE] [--bind ENDPOINT] [--listen HOST:PORT] "
                    "[--data-dir DIR] [--check]\n", process);
}

/* --check: asks the instance this configuration describes (its bind endpoint, a wildcard
 * address read as loopback) for "Ping" and exits 0 when it answers within 3 s, else 1. */
static void check_and_exit(const char *process, const char *role)
{
    char key[96], ep[1024];
    snprintf(key, sizeof key, "bus.%s.bind", role);
    const char *bind = zs_config_get(key, NULL);
    if (bind)
        snprintf(ep, sizeof ep, "%s", bind);
    else {
        char room[ZS_CONFIG_ENDPOINTS_SIZE];
        const char *eps = zs_config_endpoints(role, room);
        snprintf(ep, sizeof ep, "%.*s", (int)strcspn(eps, ","), eps);
    }
    char *wild = strstr(ep, "://0.0.0.0:") ? strstr(ep, "0.0.0.0:") : strstr(ep, "://*:") ? strstr(ep, "*:") : NULL;
    if (wild) {
        char port[32];
        snprintf(port, sizeof port, "%s", strchr(wild, ':'));
        snprintf(wild, sizeof ep - (size_t)(wild - ep), "127.0.0.1%s", port);
    }
    snprintf(key, sizeof key, "bus.%s", role);
    zs_config_set(key, ep);
    zs_bus_t *bus = zs_bus_new();
    json_t *error = NULL, *res = bus ? zs_bus_request(bus, role, "Ping", NULL, json_object(), 3000, &error) : NULL;
    if (res)
        printf("%s at %s: ok\n", process, ep);
    else
        fprintf(stderr, "%s at %s: %s\n", process, ep, error ? zs_error_details(error) : "no answer");
    json_decref(res);
    json_decref(error);
    zs_bus_destroy(&bus);
    zs_bus_keys_stop();   /* before the context goes */
    zsys_shutdown();
    exit(res ? 0 : 1);
}

/* Refuses a configuration that gives a stateful service instances on several hosts (each
 * would write its own store: exactly-once and queries would be lost). Every process checks
 * every service, so a wrong setting stops the whole stack at once, loudly. */
static int check_topology(const char *process)
{
    const char *stateful[64];
    stateful[zs_api_services(stateful, 63)] = NULL;
    json_t *error = NULL;
    if (zs_config_check_topology(stateful, &error) != 0) {
        fprintf(stderr, "%s: refusing to start: %s\n", process, zs_error_details(error));
        json_decref(error);
        return -1;
    }
    return 0;
}

int zs_node_init(const char *process, int argc, char **argv)
{
    const char *config = NULL;
    const char *role = strncmp(process, "zs-", 3) == 0 ? process + 3 : process;
    zs_log_init(process);
    bool check = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0 && strcmp(role, "gateway") != 0) {
            check = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char key[96];
        if (!v) {
            usage(process);
            return -1;
        }
        if (strcmp(argv[i], "--config") == 0)
            config = v;
        else if (strcmp(argv[i], "--bind") == 0) {
            snprintf(key, sizeof key, "bus.%s.bind", role);
            zs_config_set(key, v);
        } else if (strcmp(argv[i], "--listen") == 0)
            zs_config_set("gateway.listen", v);
        else if (strcmp(argv[i], "--data-dir") == 0)
            zs_config_set("data.dir", v);
        else {
            usage(process);
            return -1;
        }
        i++;
    }
    if (zs_config_load(config) != 0)
        return -1;
    if (check_topology(process) != 0)
        return -1;
    zsys_handler_set(NULL);   /* we handle SIGINT/SIGTERM ourselves */
    zsys_set_linger(0);
    if (zs_bus_keys_init(role) != 0)   /* the --check probe talks CURVE on tcp as well */
        return -1;
    if (check)
        check_and_exit(process, role);
    return 0;
}

static int mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int zs_node_prepare_endpoint(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) != 0)
        return 0;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", endpoint + 6);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    /* ipc endpoints are plain (no CURVE): only this user may reach the sockets. A shared
     * directory (sticky, like /tmp) is not ours to close: say so and leave it. */
    struct stat st;
    if (mkdirs(dir) != 0 || stat(dir, &st) != 0) {
        zs_errorf("bus: cannot create the directory %s of endpoint %s: %s", dir, endpoint,
                  strerror(errno));
        return -1;
    }
    if (st.st_mode & S_ISVTX) {
        zs_warn("bus: ipc endpoint %s lives in a shared directory; other users may reach it",
                endpoint);
        return 0;
    }
    if (st.st_uid == geteuid() && (st.st_mode & 077) && chmod(dir, 0700) != 0) {
        zs_errorf("bus: cannot make %s owner-only: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* A beat: sent without waiting for the core's acknowledgement (the next beat retries; the
 * tick drops the acknowledgements), connect_ms to wait for a connection. The goodbye is a
 * call instead, so it is not lost when the socket closes right after. */
static bool beat(zs_node_t *self, const char *api, int64_t connect_ms, bool call)
{
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    zs_msg_t m = {.kind = 'Q', .deadline = zs_now_ms() + 10000};
    snprintf(m.api, sizeof m.api, "%s", api);
    zs_uuid_new(m.id);
    m.body = json_pack("{s:s, s:s, s:s, s:s, s:I, s:i}", "uuid", self->uuid, "role", self->role,
                       "hostName", host, "version", ZS_VERSION, "joinDate",
                       (json_int_t)self->join_ms, "pid", (int)getpid());
    bool sent = true;
    if (call) {
        zs_msg_t reply;
        zs_bus_call(self->bus, "core", &m, &(zs_bus_call_opts_t){.timeout_ms = 300}, &reply);
        zs_msg_clear(&reply);
    } else {
        sent = zs_bus_send_within(self->bus, "core", &m, connect_ms) == 0;
    }
    zs_msg_clear(&m);
    return sent;
}

zs_node_t *zs_node_new(const char *role, zs_bus_t *bus)
{
    zs_node_t *self = calloc(1, sizeof *self);
    if (!self) {
        zs_errorf("node: out of memory");
        return NULL;
    }
    zs_uuid_new(self->uuid);
    snprintf(self->role, sizeof self->role, "%s", role);
    self->bus = bus;
    self->join_ms = zs_now_ms();
    /* The connection to the core comes up asynchronously: wait for it a moment so a fresh
     * stack is ready in well under a second (a core started later gets the next beat). */
    beat(self, "Heartbeat", 500, false);
    self->next_beat = zs_mono_ms() + zs_config_int("node.heartbeat-interval", 5) * 1000;
    return self;
}

void zs_node_tick(zs_node_t *self)
{
    if (!self)
        return;
    /* Drop the core's acknowledgements of earlier beats. Safe: between calls no request of
     * this thread is waiting on that socket (zs_bus_call is synchronous). */
    zs_bus_drain(self->bus, "core");
    if (zs_mono_ms() < self->next_beat)
        return;
    if (beat(self, "Heartbeat", 0, false))
        self->next_beat = zs_mono_ms() + zs_config_int("node.heartbeat-interval", 5) * 1000;
}

void zs_node_destroy(zs_node_t **self_p)
{
    if (!*self_p)
        return;
    beat(*self_p, "NodeLeave", 0, true);
    free(*self_p);
    *self_p = NULL;
}

const char *zs_node_uuid(const zs_node_t *self)
{
    return self ? self->uuid : "";
}
