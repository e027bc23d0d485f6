/* nodes.c — management nodes and the global APIs (apis.md §2). Every process of the suite
 * heartbeats here; a node silent for node.dead-after beats (default 6) is removed and
 * announced ("node.dead") so its unfinished work can be taken over. */
#include "clock.h"
#include "config.h"
#include "core.h"
#include "error.h"
#include "log.h"
#include "node.h"
#include <string.h>

#define NODES "nodes"

static json_t *nodes_heartbeat(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid"), *role = zs_call_str(call, "role");
    if (!uuid || !role)
        return zs_call_invalid(call, error, "a heartbeat needs uuid and role");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *rec = zs_store_get(store, call->txn, NODES, uuid);
    int64_t now = zs_now_ms();
    bool joined = rec == NULL;
    if (joined) {
        rec = json_pack("{s:s, s:s, s:O?, s:O?, s:O?, s:O?, s:s, s:I}", "uuid", uuid, "role", role,
                        "hostName", json_object_get(call->req->body, "hostName"),
                        "version", json_object_get(call->req->body, "version"),
                        "joinDate", json_object_get(call->req->body, "joinDate"),
                        "pid", json_object_get(call->req->body, "pid"),
                        "state", "Running", "createDate", (json_int_t)now);
    }
    json_object_set_new(rec, "heartBeat", json_integer(now));
    json_object_set_new(rec, "lastOpDate", json_integer(now));
    int rc = zs_store_put(store, call->txn, NODES, uuid, rec);
    json_decref(rec);
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    if (joined) {
        zs_service_publish(call->svc, "node.joined", json_pack("{s:s, s:s}", "uuid", uuid, "role", role));
        zs_log(ZS_INFO, NULL, "management node %s (%s) joined", uuid, role);
    }
    return json_object();
}

static json_t *nodes_leave(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    int rc = uuid ? zs_store_del(zs_service_store(call->svc), call->txn, NODES, uuid) : MDB_NOTFOUND;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return zs_call_store_fail(call, error, rc);
    if (rc == 0)
        zs_service_publish(call->svc, "node.left",
                           json_pack("{s:s, s:s}", "uuid", uuid, "role", zs_call_str(call, "role")));
    return json_object();
}

static json_t *nodes_version(zs_call_t *call, json_t **error)
{
    (void)call;
    (void)error;
    return json_pack("{s:s}", "version", ZS_VERSION);
}

static json_t *nodes_time(zs_call_t *call, json_t **error)
{
    (void)call;
    (void)error;
    int64_t ms = zs_now_ms();
    return json_pack("{s:{s:I, s:I}}", "currentTime", "MillionSeconds", (json_int_t)ms, "Seconds",
                     (json_int_t)(ms / 1000));
}

static int64_t dead_after_ms(void)
{
    return zs_config_int("node.heartbeat-interval", 5) * 1000 * zs_config_int("node.dead-after", 6);
}

/* A role is alive when it answers: services are pinged over the bus (a fresh heartbeat of a
 * process that just died would lie); the core is answering this very call; gateways, which
 * have no bus endpoint, count when one heartbeated recently. Returns 1 alive, 0 not, -1 when
 * the ping's answer is not at hand yet (*marker holds zs_call_remote's marker). */
static int role_alive(zs_call_t *call, const char *role, json_t **marker)
{
    if (strcmp(role, "core") == 0)
        return 1;
    if (strcmp(role, "gateway") != 0) {
        json_t *error = NULL;
        json_t *pong = zs_call_remote(call, role, "Ping", NULL, json_object(),
                                      zs_config_int("core.ready-ping-ms", 250), &error);
        json_decref(pong);
        if (pong)
            return 1;
        if (!zs_call_is_pending(error)) {
            json_decref(error);
            return 0;
        }
        if (*marker)
            json_decref(error);
        else
            *marker = error;
        return -1;
    }
    zs_store_t *store = zs_service_store(call->svc);
    json_t *r = json_string(role);
    json_t *uuids = zs_store_find(store, call->txn, NODES, "role", r, 64);
    json_decref(r);
    int64_t live_since = zs_now_ms() - dead_after_ms();
    bool alive = false;
    size_t i;
    json_t *u;
    json_array_foreach(uuids, i, u) {
        json_t *n = zs_store_get(store, call->txn, NODES, json_string_value(u));
        alive |= n && json_integer_value(json_object_get(n, "heartBeat")) >= live_since;
        json_decref(n);
    }
    json_decref(uuids);
    return alive;
}

/* Ready when every role of core.ready-roles is alive. */
static json_t *nodes_ready(zs_call_t *call, json_t **error)
{
    const char *wanted = zs_call_str(call, "managementNodeId");
    if (wanted) {
        json_t *n = zs_store_get(zs_service_store(call->svc), call->txn, NODES, wanted);
        json_decref(n);
        if (!n)
            return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "management node[%s] is not known", wanted);
    }
    char roles[512], missing[512] = "";
    json_t *marker = NULL;   /* every role is pinged in one round */
    snprintf(roles, sizeof roles, "%s", zs_config_get("core.ready-roles", "broker,core,tags"));
    for (char *save, *r = strtok_r(roles, ",", &save); r; r = strtok_r(NULL, ",", &save))
        if (role_alive(call, r, &marker) == 0)
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                     *missing ? ", " : "", r);
    if (marker) {
        *error = marker;
        return NULL;
    }
    if (*missing)
        return zs_call_fail(call, error, ZS_SYS_FAILED, "not ready: no live %s", missing);
    return json_pack("{s:s}", "managementNodeId", wanted ? wanted : zs_service_node(call->svc));
}

typedef struct {
    json_t *dead;
    int64_t before;
} reap_t;

static int find_dead(void *arg, const char *uuid, json_t *rec)
{
    reap_t *r = arg;
    if (json_integer_value(json_object_get(rec, "heartBeat")) < r->before)
        json_array_append_new(r->dead, json_pack("{s:s, s:O}", "uuid", uuid, "role",
                                                 json_object_get(rec, "role")));
    return 0;
}

static int remove_dead(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    reap_t *r = arg;
    zs_store_t *store = zs_service_store(svc);
    zs_store_scan(store, txn, NODES, find_dead, r);
    size_t i;
    json_t *d;
    json_array_foreach(r->dead, i, d) {
        int rc = zs_store_del(store, txn, NODES, json_string_value(json_object_get(d, "uuid")));
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
        zs_log(ZS_WARN, NULL, "management node %s (%s) missed its heartbeats: declared dead",
               json_string_value(json_object_get(d, "uuid")),
               json_string_value(json_object_get(d, "role")));
        zs_service_publish(svc, "node.dead", json_incref(d));
    }
    return 0;
}

static void nodes_reap(zs_service_t *svc)
{
    reap_t r = {json_array(), zs_now_ms() - dead_after_ms()};
    zs_service_write(svc, remove_dead, &r);
    json_decref(r.dead);
}

static const zs_resource_t *const resources[] = {&zs_res_node, NULL};

static const zs_handler_t handlers[] = {
    {"Heartbeat", nodes_heartbeat},
    {"NodeLeave", nodes_leave},
    {"GetVersion", nodes_version},
    {"GetCurrentTime", nodes_time},
    {"IsReadyToGo", nodes_ready},
    {NULL, NULL},
};

const zs_module_t nodes_module = {
    .name = "nodes",
    .resources = resources,
    .handlers = handlers,
    .tick = nodes_reap,
};
