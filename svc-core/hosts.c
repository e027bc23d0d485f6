/* hosts.c — hosts and their CPU/memory capacity (apis.md §6, seed 004 §4.5).
 *
 * The suite has no hypervisor: a host is registered inventory (cpuNum, totalMemory, what is
 * used) so that capacity and licensing count something real. AddHost and UpdateHost are
 * licensed APIs: they ask svc-license (CheckLicense) whether the license in force allows
 * them and the resulting host/cpu count (LICENSE.1000 expired, LICENSE.1001 beyond
 * hostNum/cpuNum). svc-license polls HostUsage to show availableHostNum/availableCpuNum.
 *
 * Capacity: totalCpu = cpuNum x host.cpu-overprovisioning (default 10), availableCpu =
 * totalCpu - usedCpu, memory in bytes; only Enabled + Connected hosts count. Sums saturate
 * at the 64-bit integer bounds (a client may register absurd sizes; nothing wraps). */
#include "clock.h"
#include "config.h"
#include "core.h"
#include "error.h"
#include "log.h"
#include "uuid.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HOSTS "hosts"

extern const zs_resource_t zs_res_host;

static json_int_t ratio(void)
{
    json_int_t r = zs_config_int("host.cpu-overprovisioning", 10);
    return r > 0 ? r : 1;
}

static json_int_t num(const json_t *rec, const char *key)
{
    return json_integer_value(json_object_get(rec, key));
}

/* Checked arithmetic: capacities are client-given 64-bit numbers, so every sum, difference
 * and product saturates at the int64 bounds instead of overflowing (undefined behaviour). */
static json_int_t sat_add(json_int_t a, json_int_t b)
{
    json_int_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN) : r;
}

static json_int_t sat_sub(json_int_t a, json_int_t b)
{
    json_int_t r;
    return __builtin_sub_overflow(a, b, &r) ? (b < 0 ? INT64_MAX : INT64_MIN) : r;
}

static json_int_t sat_mul(json_int_t a, json_int_t b)
{
    json_int_t r;
    return __builtin_mul_overflow(a, b, &r) ? ((a < 0) != (b < 0) ? INT64_MIN : INT64_MAX) : r;
}

/* cpuNum x the over-provisioning ratio. */
static json_int_t total_cpu(const json_t *rec)
{
    return sat_mul(num(rec, "cpuNum"), ratio());
}

/* ---- usage (what licenses count) ----------------------------------------------------- */

typedef struct {
    json_int_t hosts, cpus;
    const char *skip;   /* a host left out (the one being updated), or NULL */
} usage_t;

static int count_host(void *arg, const char *uuid, json_t *rec)
{
    usage_t *u = arg;
    if (u->skip && strcmp(uuid, u->skip) == 0)
        return 0;
    u->hosts++;
    u->cpus += num(rec, "cpuNum");
    return 0;
}

static int usage(zs_call_t *call, usage_t *u)
{
    return zs_store_scan(zs_service_store(call->svc), call->txn, HOSTS, count_host, u);
}

/* Asks svc-license whether `api` may run with this many hosts/cpus. 0, or -1 + *error. */
static int license_allows(zs_call_t *call, const char *api, json_int_t hosts, json_int_t cpus,
                          json_t **error)
{
    json_t *res = zs_call_remote(call, "license", "CheckLicense", call->req->caller,
                                 json_pack("{s:s, s:I, s:I}", "api", api, "hosts", hosts, "cpus", cpus),
                                 10000, error);
    json_decref(res);
    return res ? 0 : -1;
}

static json_t *hosts_usage(zs_call_t *call, json_t **error)
{
    usage_t u = {0, 0, NULL};
    int rc = usage(call, &u);
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    return json_pack("{s:I, s:I}", "hosts", u.hosts, "cpus", u.cpus);
}

/* ---- AddHost / UpdateHost / DeleteHost ----------------------------------------------- */

/* The derived capacities, under ZStack's names and our earlier ones (api: apis_core.c). */
static void set_available(json_t *rec)
{
    json_int_t total = total_cpu(rec);
    json_int_t available_cpu = sat_sub(total, num(rec, "usedCpu"));
    json_int_t available_memory = sat_sub(num(rec, "totalMemory"), num(rec, "usedMemory"));
    json_object_set_new(rec, "totalCpuCapacity", json_integer(total));
    json_object_set_new(rec, "availableCpuCapacity", json_integer(available_cpu));
    json_object_set_new(rec, "totalMemoryCapacity", json_integer(num(rec, "totalMemory")));
    json_object_set_new(rec, "availableMemoryCapacity", json_integer(available_memory));
    json_object_set_new(rec, "availableCpu", json_integer(available_cpu));
    json_object_set_new(rec, "availableMemory", json_integer(available_memory));
}

static json_t *same_ip(zs_call_t *call, const char *ip)
{
    json_t *v = json_string(ip);
    json_t *rec = zs_store_find_one(zs_service_store(call->svc), call->txn, HOSTS, "managementIp", v);
    json_decref(v);
    return rec;
}

/* AddHost and AddKVMHost (a KVM host also keeps username and sshPort, never the password). */
static json_t *add_host(zs_call_t *call, json_t **error)
{
    const char *ip = zs_call_str(call, "managementIp");
    json_t *body = call->req->body;
    json_int_t cpus = num(body, "cpuNum");
    bool kvm = strcmp(call->api->name, "AddKVMHost") == 0;
    if (zs_address_refusal(ip))
        return zs_call_invalid(call, error, "field[managementIp] of %s must be an IP address or a host name, got '%.64s'",
                               call->api->name, ip);
    json_t *other = same_ip(call, ip);
    if (other) {
        json_t *out = zs_call_fail(call, error, ZS_SYS_INVALID, "there has been a host[uuid:%s] having managementIp[%s]",
                                   json_string_value(json_object_get(other, "uuid")), ip);
        json_decref(other);
        return out;
    }
    usage_t u = {0, 0, NULL};
    int rc = usage(call, &u);
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    if (license_allows(call, call->api->name, u.hosts + 1, u.cpus + cpus, error) != 0)
        return NULL;
    char uuid[ZS_UUID_LEN + 1];
    if (zs_call_new_uuid(call, HOSTS, uuid, error) != 0)
        return NULL;
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:O, s:O?, s:s, s:O?, s:O, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:I, s:I}",
                            "uuid", uuid, "name", json_object_get(body, "name"),
                            "description", json_object_get(body, "description"), "managementIp", ip,
                            "zoneUuid", json_object_get(body, "zoneUuid"),
                            "clusterUuid", json_object_get(body, "clusterUuid"), "hypervisorType", "KVM",
                            "cpuNum", cpus, "totalMemory", num(body, "totalMemory"), "usedCpu", (json_int_t)0,
                            "usedMemory", (json_int_t)0, "state", "Enabled", "status", "Connected",
                            "createDate", (json_int_t)now, "lastOpDate", (json_int_t)now);
    if (kvm) {
        json_t *port = json_object_get(body, "sshPort");
        json_object_set(rec, "username", json_object_get(body, "username"));
        json_object_set_new(rec, "sshPort", port ? json_incref(port) : json_integer(22));
    }
    set_available(rec);
    rc = zs_store_put(zs_service_store(call->svc), call->txn, HOSTS, uuid, rec);
    json_t *out = NULL;
    if (rc != 0)
        zs_call_store_fail(call, error, rc);
    else if (zs_call_attach_tags(call, uuid, "HostVO", error) == 0)
        out = zs_call_inventory(&zs_res_host, rec);
    json_decref(rec);
    return out;
}

static json_t *update_host(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *rec = zs_store_get(store, call->txn, HOSTS, uuid);
    if (!rec)
        return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "host[uuid:%s] is not found", uuid);
    static const char *const keys[] = {"name", "description", "managementIp", "cpuNum", "totalMemory",
                                       "usedCpu", "usedMemory", "state", "status", NULL};
    const char *ip = zs_call_str(call, "managementIp");
    if (ip && zs_address_refusal(ip)) {
        json_decref(rec);
        return zs_call_invalid(call, error, "field[managementIp] of UpdateHost must be an IP address or a host name, got '%.64s'", ip);
    }
    json_t *other = ip ? same_ip(call, ip) : NULL;
    if (other && strcmp(json_string_value(json_object_get(other, "uuid")), uuid) != 0) {
        json_t *out = zs_call_fail(call, error, ZS_SYS_INVALID, "there has been a host[uuid:%s] having managementIp[%s]",
                                   json_string_value(json_object_get(other, "uuid")), ip);
        json_decref(other);
        json_decref(rec);
        return out;
    }
    json_decref(other);
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(call->req->body, *k);
        if (v)
            json_object_set(rec, *k, v);
    }
    json_t *out = NULL;
    if (num(rec, "usedCpu") < 0 || num(rec, "usedMemory") < 0) {
        out = zs_call_invalid(call, error, "usedCpu and usedMemory of host[uuid:%s] must not be negative", uuid);
    } else if (num(rec, "usedCpu") > total_cpu(rec)) {
        out = zs_call_invalid(call, error, "usedCpu[%lld] of host[uuid:%s] exceeds its %lld cpus x over-provisioning ratio %lld",
                              (long long)num(rec, "usedCpu"), uuid, (long long)num(rec, "cpuNum"), (long long)ratio());
    } else if (num(rec, "usedMemory") > num(rec, "totalMemory")) {
        out = zs_call_invalid(call, error, "usedMemory[%lld] of host[uuid:%s] exceeds its totalMemory[%lld]",
                              (long long)num(rec, "usedMemory"), uuid, (long long)num(rec, "totalMemory"));
    } else {
        usage_t u = {0, 0, uuid};
        int rc = usage(call, &u);
        if (rc != 0)
            zs_call_store_fail(call, error, rc);
        else if (license_allows(call, "UpdateHost", u.hosts + 1, u.cpus + num(rec, "cpuNum"), error) == 0) {
            set_available(rec);
            json_object_set_new(rec, "lastOpDate", json_integer(zs_now_ms()));
            rc = zs_store_put(store, call->txn, HOSTS, uuid, rec);
            out = rc == 0 ? zs_call_inventory(&zs_res_host, rec) : zs_call_store_fail(call, error, rc);
        }
    }
    json_decref(rec);
    return out;
}

static json_t *delete_host(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    int rc = zs_store_del(zs_service_store(call->svc), call->txn, HOSTS, uuid);
    if (rc == MDB_NOTFOUND)
        return json_object();   /* already gone */
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    zs_service_publish(call->svc, "resource.deleted",
                       json_pack("{s:s, s:s}", "resourceUuid", uuid, "resourceType", "HostVO"));
    return json_object();
}

/* ---- GetCpuMemoryCapacity ------------------------------------------------------------ */

typedef struct {
    json_int_t total_cpu, available_cpu, total_memory, available_memory, cpus;
} capacity_t;

/* Counts `host` into `c` when it is Enabled and Connected (and of hypervisor type `hv`, when
 * not NULL: a host without a type predates AddKVMHost and was a KVM host). */
static void count_capacity(capacity_t *c, const json_t *host, const char *hv)
{
    const char *state = json_string_value(json_object_get(host, "state"));
    const char *status = json_string_value(json_object_get(host, "status"));
    const char *type = json_string_value(json_object_get(host, "hypervisorType"));
    if (!state || !status || strcmp(state, "Enabled") != 0 || strcmp(status, "Connected") != 0)
        return;
    if (hv && strcmp(hv, type ? type : "KVM") != 0)
        return;
    json_int_t total = total_cpu(host);
    c->total_cpu = sat_add(c->total_cpu, total);
    c->available_cpu = sat_add(c->available_cpu, sat_sub(total, num(host, "usedCpu")));
    c->total_memory = sat_add(c->total_memory, num(host, "totalMemory"));
    c->available_memory = sat_add(c->available_memory, sat_sub(num(host, "totalMemory"), num(host, "usedMemory")));
    c->cpus = sat_add(c->cpus, num(host, "cpuNum"));
}

static json_t *capacity_json(const capacity_t *c, const char *uuid)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I}", "totalCpu", c->total_cpu, "availableCpu",
                          c->available_cpu, "totalMemory", c->total_memory, "availableMemory",
                          c->available_memory, "managedCpuNum", c->cpus);
    if (uuid)
        json_object_set_new(o, "resourceUuid", json_string(uuid));
    return o;
}

static void add_into(capacity_t *sum, const capacity_t *c)
{
    sum->total_cpu = sat_add(sum->total_cpu, c->total_cpu);
    sum->available_cpu = sat_add(sum->available_cpu, c->available_cpu);
    sum->total_memory = sat_add(sum->total_memory, c->total_memory);
    sum->available_memory = sat_add(sum->available_memory, c->available_memory);
    sum->cpus = sat_add(sum->cpus, c->cpus);
}

typedef struct {
    const char *hv;  /* hypervisorType asked for, or NULL */
    json_t *zones;   /* zoneUuid -> index in order */
    json_t *order;   /* zone uuids in first-seen order */
    capacity_t *caps;
    size_t n, cap;
} by_zone_t;

static int zone_of_host(void *arg, const char *uuid, json_t *rec)
{
    (void)uuid;
    by_zone_t *z = arg;
    const char *zone = json_string_value(json_object_get(rec, "zoneUuid"));
    if (!zone)
        return 0;
    json_t *idx = json_object_get(z->zones, zone);
    if (!idx) {
        if (z->n == z->cap) {
            z->cap = z->cap ? 2 * z->cap : 16;
            capacity_t *grown = realloc(z->caps, z->cap * sizeof *grown);
            if (!grown)
                return ENOMEM;
            z->caps = grown;
        }
        memset(&z->caps[z->n], 0, sizeof z->caps[z->n]);
        json_object_set_new(z->zones, zone, json_integer((json_int_t)z->n));
        json_array_append_new(z->order, json_string(zone));
        idx = json_object_get(z->zones, zone);
        z->n++;
    }
    count_capacity(&z->caps[json_integer_value(idx)], rec, z->hv);
    return 0;
}

static json_t *capacity_reply(const capacity_t *sum, const char *type, json_t *data)
{
    json_t *out = capacity_json(sum, NULL);
    json_object_set_new(out, "resourceType", json_string(type));
    json_object_set_new(out, "capacityData", data);
    return out;
}

static json_t *capacity_all(zs_call_t *call, json_t **error)
{
    by_zone_t z = {zs_call_str(call, "hypervisorType"), json_object(), json_array(), NULL, 0, 0};
    int rc = zs_store_scan(zs_service_store(call->svc), call->txn, HOSTS, zone_of_host, &z);
    json_t *out = NULL;
    if (rc != 0) {
        zs_call_store_fail(call, error, rc);
    } else {
        capacity_t sum = {0, 0, 0, 0, 0};
        json_t *data = json_array();
        for (size_t i = 0; i < z.n; i++) {
            add_into(&sum, &z.caps[i]);
            json_array_append_new(data, capacity_json(&z.caps[i], json_string_value(json_array_get(z.order, i))));
        }
        out = capacity_reply(&sum, "ZoneVO", data);
    }
    free(z.caps);
    json_decref(z.zones);
    json_decref(z.order);
    return out;
}

static json_t *get_capacity(zs_call_t *call, json_t **error)
{
    static const struct { const char *param, *field, *type; } levels[] = {
        {"hostUuids", "uuid", "HostVO"},
        {"clusterUuids", "clusterUuid", "ClusterVO"},
        {"zoneUuids", "zoneUuid", "ZoneVO"},
    };
    const char *hv = zs_call_str(call, "hypervisorType");
    if (json_is_true(json_object_get(call->req->body, "all")))
        return capacity_all(call, error);
    for (size_t l = 0; l < 3; l++) {
        json_t *list = json_object_get(call->req->body, levels[l].param);
        if (json_array_size(list) == 0)
            continue;
        size_t i;
        json_t *u;
        json_array_foreach(list, i, u)
            if (!zs_uuid_valid(json_string_value(u)))
                return zs_call_invalid(call, error, "field[%s] of GetCpuMemoryCapacity must hold uuids, got '%.64s'",
                                       levels[l].param, json_string_value(u));
        zs_store_t *store = zs_service_store(call->svc);
        capacity_t sum = {0, 0, 0, 0, 0};
        json_t *data = json_array(), *seen = json_object();
        json_array_foreach(list, i, u) {
            const char *uuid = json_string_value(u);
            if (json_object_get(seen, uuid))
                continue;
            json_object_set_new(seen, uuid, json_true());
            capacity_t c = {0, 0, 0, 0, 0};
            if (l == 0) {
                json_t *h = zs_store_get(store, call->txn, HOSTS, uuid);
                if (h)
                    count_capacity(&c, h, hv);
                json_decref(h);
            } else {
                json_t *hosts = zs_store_find(store, call->txn, HOSTS, levels[l].field, u, 1000000);
                size_t j;
                json_t *hu;
                json_array_foreach(hosts, j, hu) {
                    json_t *h = zs_store_get(store, call->txn, HOSTS, json_string_value(hu));
                    if (h)
                        count_capacity(&c, h, hv);
                    json_decref(h);
                }
                json_decref(hosts);
            }
            add_into(&sum, &c);
            json_array_append_new(data, capacity_json(&c, uuid));
        }
        json_decref(seen);
        return capacity_reply(&sum, levels[l].type, data);
    }
    return zs_call_invalid(call, error, "GetCpuMemoryCapacity needs zoneUuids, clusterUuids or hostUuids, "
                                        "or all=true");
}

/* Hosts are infrastructure: only admins see them. */
static bool hosts_visible(zs_call_t *call, const json_t *rec)
{
    (void)call;
    (void)rec;
    return false;
}

/* Hosts stored before the capacities had ZStack's names (and a hypervisor type) get them at
 * start: collected first, rewritten after the walk. */
static int collect_old_host(void *arg, const char *uuid, json_t *rec)
{
    if (!json_object_get(rec, "totalCpuCapacity"))
        json_array_append_new(arg, json_string(uuid));
    return 0;
}

static int upgrade_hosts(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *old = json_array();
    int rc = zs_store_scan(store, txn, HOSTS, collect_old_host, old);
    size_t i;
    json_t *u;
    json_array_foreach(old, i, u) {
        json_t *rec = rc == 0 ? zs_store_get(store, txn, HOSTS, json_string_value(u)) : NULL;
        if (!rec)
            continue;
        if (!json_object_get(rec, "hypervisorType"))
            json_object_set_new(rec, "hypervisorType", json_string("KVM"));
        set_available(rec);
        rc = zs_store_put(store, txn, HOSTS, json_string_value(u), rec);
        json_decref(rec);
    }
    if (rc == 0 && json_array_size(old))
        zs_info("hosts: %zu records given ZStack's capacity fields", json_array_size(old));
    json_decref(old);
    return rc;
}

static int hosts_start(zs_service_t *svc)
{
    int rc = zs_service_write(svc, upgrade_hosts, NULL);
    if (rc != 0)
        zs_errorf("cannot upgrade the host records: %s", zs_store_strerror(rc));
    return rc;
}

static const zs_resource_t *const resources[] = {&zs_res_host, NULL};

static const zs_handler_t handlers[] = {
    {"AddHost", add_host},
    {"AddKVMHost", add_host},
    {"UpdateHost", update_host},
    {"DeleteHost", delete_host},
    {"GetCpuMemoryCapacity", get_capacity},
    {"HostUsage", hosts_usage},
    {NULL, NULL},
};

const zs_module_t hosts_module = {
    .name = "hosts",
    .resources = resources,
    .handlers = handlers,
    .start = hosts_start,
    .visible = hosts_visible,
};
