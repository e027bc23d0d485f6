/* license_svc.c — the license service (license_svc.h): its state module (the installation
 * id and licenseRequest, the scan of the license directory, host usage polls of the core,
 * the expiry events) and its module list. */
#include "clock.h"
#include "config.h"
#include "license.h"
#include "license_svc.h"
#include "log.h"
#include "uuid.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (24LL * 3600 * 1000)
#define EXPIRING_DAYS 30

void lic_rescan(lic_t *l)
{
    if (installed_scan(l->dir, l->trusted, l->installation, &l->st) != 0)
        zs_warn("cannot read the license directory %s: %s", l->dir, strerror(errno));
}

/* ---- create, tick, destroy --------------------------------------------------------------- */

static int ensure_installation(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    char *id = arg;
    MDB_val v;
    zs_store_t *store = zs_service_store(svc);
    if (zs_store_kv_get(store, txn, META_DB, "installationId", 14, &v) == 0 && v.mv_size == 32) {
        memcpy(id, v.mv_data, 32);
        id[32] = '\0';
        return 0;
    }
    zs_uuid_new(id);
    zs_info("new installation %s", id);
    return zs_store_kv_put(store, txn, META_DB, "installationId", 14, id, 32);
}

static int load_noted(void *arg, const MDB_val *key, const MDB_val *val)
{
    (void)val;
    char k[128];
    snprintf(k, sizeof k, "%.*s", (int)(key->mv_size < 127 ? key->mv_size : 127), (const char *)key->mv_data);
    json_object_set_new(arg, k, json_true());
    return 0;
}

static void on_usage(zs_service_t *svc, void *sock)
{
    lic_t *l = lic(svc);
    zs_msg_t reply;
    while (zsock_events(sock) & ZMQ_POLLIN) {
        if (zs_bus_recv(sock, &reply, NULL) != 0)
            continue;
        json_t *h = json_object_get(reply.body, "hosts"), *c = json_object_get(reply.body, "cpus");
        if (reply.ok && json_is_integer(h) && json_is_integer(c)) {
            l->hosts = json_integer_value(h);
            l->cpus = json_integer_value(c);
            l->usage_known = true;
        }
        zs_msg_clear(&reply);
    }
}

static void license_destroy(zs_service_t *svc, void *state);
static void poll_usage(zs_service_t *svc);

static void *license_create(zs_service_t *svc)
{
    lic_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    const char *dir = zs_config_get("license.dir", NULL);
    if (dir)
        snprintf(l->dir, sizeof l->dir, "%s", dir);
    else
        snprintf(l->dir, sizeof l->dir, "%s/license", zs_config_data_dir());
    l->trusted = zs_config_get("license.trusted-keys", "");
    if (zs_service_write(svc, ensure_installation, l->installation) != 0) {
        license_destroy(svc, l);
        return NULL;
    }
    char thumb[33] = "";
    char first[128];
    snprintf(first, sizeof first, "%s", l->trusted);
    first[strcspn(first, ", ")] = '\0';
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    if (*first && zs_license_key_parse(first, pk, sizeof pk) == 0)
        zs_license_thumbprint(pk, thumb);
    else
        zs_warn("no valid issuer key in license.trusted-keys: only Community can run");
    l->request = zs_license_request_new(l->installation, thumb);
    l->noted = json_object();
    MDB_txn *txn;
    if (zs_store_begin(zs_service_store(svc), NULL, false, &txn) == 0) {
        zs_store_kv_walk(zs_service_store(svc), txn, EVENTS_DB, NULL, 0, load_noted, l->noted);
        mdb_txn_abort(txn);
    }
    lic_rescan(l);
    l->usage_bus = zs_bus_new();
    l->usage_sock = l->usage_bus ? zs_bus_socket(l->usage_bus, "core") : NULL;
    if (!l->request || !l->usage_sock || zs_service_watch(svc, l->usage_sock, on_usage) != 0 ||
        zs_service_every(svc, zs_config_int("license.usage-poll-ms", 2000), poll_usage) != 0) {
        license_destroy(svc, l);
        return NULL;
    }
    zs_info("installation %s; %s license in force", l->installation,
            l->st.primary ? json_string_value(json_object_get(l->st.primary, "licenseType")) : "Community");
    return l;
}

typedef struct {
    const char *key;
    const char *topic;
    json_t *body;
} notice_t;

static int note_event(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    notice_t *n = arg;
    MDB_val v;
    zs_store_t *store = zs_service_store(svc);
    if (zs_store_kv_get(store, txn, EVENTS_DB, n->key, strlen(n->key), &v) == 0)
        return 0;   /* another copy of the service already sent it */
    int rc = zs_store_kv_put(store, txn, EVENTS_DB, n->key, strlen(n->key), "1", 1);
    if (rc == 0)
        zs_service_publish(svc, n->topic, json_incref(n->body));
    return rc;
}

static void notify(zs_service_t *svc, const json_t *e, int64_t now)
{
    lic_t *l = lic(svc);
    int64_t exp = installed_expires(e);
    if (exp < 0 || exp - now > EXPIRING_DAYS * DAY_MS)
        return;
    const char *uuid = json_string_value(json_object_get(e, "uuid"));
    bool expired = now >= exp;
    char key[64], date[32];
    snprintf(key, sizeof key, "%s:%s", uuid, expired ? "expired" : "expiring");
    if (json_object_get(l->noted, key))
        return;
    notice_t n = {key, expired ? "license.expired" : "license.expiring", NULL};
    n.body = expired ? json_pack("{s:s}", "uuid", uuid)
                     : json_pack("{s:s, s:s, s:I}", "uuid", uuid, "expiredDate",
                                 zs_date_format_iso(exp, date, sizeof date), "daysLeft",
                                 (json_int_t)((exp - now + DAY_MS - 1) / DAY_MS));
    if (zs_service_write(svc, note_event, &n) == 0) {
        json_object_set_new(l->noted, key, json_true());
        zs_log(expired ? ZS_WARN : ZS_INFO, NULL, "license %s %s (%s)", uuid,
               expired ? "has expired" : "expires soon", n.topic);
    }
    json_decref(n.body);
}

static void license_tick(zs_service_t *svc)
{
    lic_t *l = lic(svc);
    int64_t now = zs_now_ms();
    if (l->st.primary)
        notify(svc, l->st.primary, now);
    size_t i;
    json_t *a;
    json_array_foreach(l->st.addons, i, a)
        notify(svc, a, now);
}

/* Every license.usage-poll-ms: asks the core for the host usage (the answer: on_usage). */
static void poll_usage(zs_service_t *svc)
{
    zs_msg_t q = {.kind = 'Q', .deadline = zs_now_ms() + 5000};
    snprintf(q.api, sizeof q.api, "HostUsage");
    zs_uuid_new(q.id);
    q.body = json_object();
    zs_bus_send(lic(svc)->usage_bus, "core", &q);   /* no core yet: the next poll tries again */
    zs_msg_clear(&q);
}

static void license_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    lic_t *l = state;
    installed_clear(&l->st);
    json_decref(l->noted);
    free(l->request);
    zs_bus_destroy(&l->usage_bus);
    free(l);
}

static const zs_resource_t *const resources[] = {&zs_res_license_record, NULL};
static const char *const kv_dbs[] = {META_DB, EVENTS_DB, NULL};

const zs_module_t license_state_module = {
    .name = "license",
    .resources = resources,
    .kv_dbs = kv_dbs,
    .create = license_create,
    .destroy = license_destroy,
    .tick = license_tick,
};
/* The state module first: its create makes what the others' handlers use. */
static const zs_module_t *const modules[] = {
    &license_state_module,
    &license_inventory_module,
    &license_admission_module,
    NULL,
};

const zs_service_def_t zs_license_service = {
    .name = "license",
    .schema_version = 1,
    .modules = modules,
};
