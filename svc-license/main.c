/* zs-license — licenses (apis.md §8, seed 004 §4.7).
 *
 * A license is a file signed by the issuer (Ed25519, common/license.h) whose public key is in
 * license.trusted-keys. Installed licenses are the files of the license directory
 * (installed.h); the store keeps the record of every license ever accepted. With nothing
 * installed the suite runs as Community (no host limit, no expiry).
 *
 * Enforcement: services whose APIs are licensed ask CheckLicense over the bus (the core's
 * AddHost/AddKVMHost/UpdateHost do). The catalog below says which module covers which API; a module is
 * licensed by the primary license (primary modules) and/or by add-ons naming it. This
 * service never calls another service synchronously (the core calls it from its handlers);
 * the host usage it shows is polled from the core without blocking (HostUsage).
 *
 * Events: "license.expiring" {uuid, expiredDate, daysLeft} once when a license in force has
 * 30 days or less left, "license.expired" {uuid} once at expiry (remembered in the store). */
#define _GNU_SOURCE             /* qsort_r */
#include "clock.h"
#include "config.h"
#include "error.h"
#include "installed.h"
#include "license.h"
#include "log.h"
#include "service.h"
#include "uuid.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RECORDS "licenses"
#define META_DB "license-meta"
#define EVENTS_DB "license-events"
#define DAY_MS (24LL * 3600 * 1000)
#define EXPIRING_DAYS 30

extern const zs_resource_t zs_res_license_record;

/* Which module covers which API. `primary`: licensed by the primary license (Community
 * included); add-ons may license any module by naming it. */
static const struct {
    const char *module;
    bool primary;
    const char *const apis[8];
} catalog[] = {
    {"host", true, {"AddHost", "AddKVMHost", "UpdateHost", NULL}},
};
#define CATALOG_SIZE (sizeof catalog / sizeof catalog[0])

typedef struct {
    char dir[1024];
    const char *trusted;       /* config, borrowed */
    char installation[33];
    char *request;             /* the licenseRequest of this installation */
    installed_t st;
    json_t *noted;             /* event keys already published ("<uuid>:expired" -> true) */
    zs_bus_t *usage_bus;       /* non-blocking HostUsage polls of the core */
    zsock_t *usage_sock;
    int64_t hosts, cpus, next_poll;
    bool usage_known;
} lic_t;

static lic_t *lic(zs_service_t *svc)
{
    return zs_service_data(svc);
}

static void rescan(lic_t *l)
{
    if (installed_scan(l->dir, l->trusted, l->installation, &l->st) != 0)
        zs_warn("cannot read the license directory %s: %s", l->dir, strerror(errno));
}

/* ---- inventories --------------------------------------------------------------------- */

static void set_date(json_t *inv, const char *key, int64_t ms)
{
    char buf[32];
    if (ms >= 0)
        json_object_set_new(inv, key, json_string(zs_date_format_iso(ms, buf, sizeof buf)));
}

static void copy(json_t *inv, const json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);
    if (v)
        json_object_set(inv, key, v);
}

/* LicenseInventory of the primary in force, or of Community. */
static json_t *primary_inventory(zs_service_t *svc)
{
    lic_t *l = lic(svc);
    const json_t *p = l->st.primary;
    json_t *inv = json_object();
    int64_t now = zs_now_ms();
    json_int_t hosts = ZS_LICENSE_UNLIMITED, cpus = ZS_LICENSE_UNLIMITED;
    if (p) {
        copy(inv, p, "uuid");
        copy(inv, p, "user");
        copy(inv, p, "licenseType");
        set_date(inv, "issuedDate", zs_license_date(p, "issuedDate"));
        set_date(inv, "expiredDate", installed_expires(p));
        set_date(inv, "uploadDate", json_integer_value(json_object_get(p, "_uploadMs")));
        hosts = json_integer_value(json_object_get(p, "hostNum"));
        cpus = json_object_get(p, "cpuNum") ? json_integer_value(json_object_get(p, "cpuNum")) : -1;
    } else {
        json_object_set_new(inv, "licenseType", json_string("Community"));
    }
    json_object_set_new(inv, "licenseRequest", json_string(l->request));
    json_object_set_new(inv, "hostNum", json_integer(hosts));
    if (cpus >= 0)
        json_object_set_new(inv, "cpuNum", json_integer(cpus));
    if (l->usage_known) {
        json_object_set_new(inv, "availableHostNum", json_integer(hosts > l->hosts ? hosts - l->hosts : 0));
        if (cpus >= 0)
            json_object_set_new(inv, "availableCpuNum", json_integer(cpus > l->cpus ? cpus - l->cpus : 0));
    }
    json_object_set_new(inv, "expired", json_boolean(p && installed_expired(p, now)));
    json_object_set_new(inv, "managementNodeUuid", json_string(zs_service_node(svc)));
    return inv;
}

/* LicenseAddOnInventory of an installed add-on. */
static json_t *addon_inventory(zs_service_t *svc, const json_t *a)
{
    json_t *inv = json_object();
    static const char *const keys[] = {"uuid", "name", "user", "licenseType", "modules", NULL};
    for (const char *const *k = keys; *k; k++)
        copy(inv, a, *k);
    set_date(inv, "issuedDate", zs_license_date(a, "issuedDate"));
    set_date(inv, "expiredDate", installed_expires(a));
    set_date(inv, "uploadDate", json_integer_value(json_object_get(a, "_uploadMs")));
    json_object_set_new(inv, "expired", json_boolean(installed_expired(a, zs_now_ms())));
    json_object_set_new(inv, "managementNodeUuid", json_string(zs_service_node(svc)));
    return inv;
}

/* ---- read APIs ----------------------------------------------------------------------- */

/* Every add-on installed (in force or idle), as LicenseAddOnInventory. */
static json_t *addons_of(zs_service_t *svc)
{
    lic_t *l = lic(svc);
    json_t *list = json_array();
    json_t *sets[] = {l->st.addons, l->st.idle_addons};
    for (int s = 0; s < 2; s++) {
        size_t i;
        json_t *a;
        json_array_foreach(sets[s], i, a)
            json_array_append_new(list, addon_inventory(svc, a));
    }
    return list;
}

static json_t *get_info(zs_call_t *call, json_t **error)
{
    (void)error;
    return json_pack("{s:o, s:o}", "inventory", primary_inventory(call->svc), "additions",
                     addons_of(call->svc));
}

static json_t *get_addons(zs_call_t *call, json_t **error)
{
    (void)error;
    return json_pack("{s:o}", "addons", addons_of(call->svc));
}

/* Is `module` licensed now? Returns NULL, or the error saying why not (new reference). */
static json_t *module_refusal(lic_t *l, const char *module)
{
    int64_t now = zs_now_ms();
    bool primary_module = false;
    for (size_t c = 0; c < CATALOG_SIZE; c++)
        primary_module |= catalog[c].primary && strcmp(catalog[c].module, module) == 0;
    const json_t *dead = NULL;
    if (primary_module) {
        if (!l->st.primary || !installed_expired(l->st.primary, now))
            return NULL;
        dead = l->st.primary;
    }
    size_t i;
    json_t *a;
    json_array_foreach(l->st.addons, i, a) {
        size_t j;
        json_t *m;
        json_array_foreach(json_object_get(a, "modules"), j, m)
            if (strcmp(json_string_value(m), module) == 0) {
                if (!installed_expired(a, now))
                    return NULL;
                dead = a;
            }
    }
    if (!dead)
        return zs_error("LICENSE.1000", "module[%s] is not licensed: install an add-on license for it",
                        module);
    char date[32];
    return zs_error("LICENSE.1000", "the %s license[uuid:%s] licensing module[%s] expired on %s",
                    json_string_value(json_object_get(dead, "licenseType")),
                    json_string_value(json_object_get(dead, "uuid")), module,
                    zs_date_format_iso(installed_expires(dead), date, sizeof date));
}

static json_t *get_capabilities(zs_call_t *call, json_t **error)
{
    (void)error;
    lic_t *l = lic(call->svc);
    json_t *caps = json_object();
    for (size_t c = 0; c < CATALOG_SIZE; c++)
        json_object_set_new(caps, catalog[c].module, json_false());
    json_t *sets[] = {l->st.addons, l->st.idle_addons};
    for (int s = 0; s < 2; s++) {
        size_t i, j;
        json_t *a, *m;
        json_array_foreach(sets[s], i, a)
            json_array_foreach(json_object_get(a, "modules"), j, m)
                json_object_set_new(caps, json_string_value(m), json_false());
    }
    const char *module;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(caps, tmp, module, v) {
        json_t *refusal = module_refusal(l, module);
        json_object_set_new(caps, module, json_boolean(refusal == NULL));
        json_decref(refusal);
    }
    return json_pack("{s:o}", "capabilities", caps);
}

typedef struct {
    json_t *list;
} collect_t;

static int collect_record(void *arg, const char *uuid, json_t *rec)
{
    (void)uuid;
    collect_t *c = arg;
    json_t *inv = zs_resource_render(&zs_res_license_record, rec, NULL);
    int64_t exp;
    const char *e = json_string_value(json_object_get(rec, "expiredDate"));
    json_object_set_new(inv, "expired", json_boolean(e && zs_date_parse(e, &exp) && zs_now_ms() >= exp));
    json_array_append_new(c->list, inv);
    return json_array_size(c->list) >= 100000;
}

/* Records ordered by a date field (the "yyyy-MM-dd HH:mm:ss" strings sort as text), then
 * uuid; `sort->desc` reverses. */
typedef struct {
    const char *field;
    bool desc;
} record_sort_t;

static int by_date(const void *a, const void *b, void *arg)
{
    const record_sort_t *sort = arg;
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *ux = json_string_value(json_object_get(x, sort->field));
    const char *uy = json_string_value(json_object_get(y, sort->field));
    int c = strcmp(ux ? ux : "", uy ? uy : "");
    if (!c)
        c = strcmp(json_string_value(json_object_get(x, "uuid")), json_string_value(json_object_get(y, "uuid")));
    return sort->desc ? -c : c;
}

/* Every record, sorted (sortBy, default uploadDate; sortDirection), then the page
 * [start, start + limit); total counts them all. */
static json_t *get_records(zs_call_t *call, json_t **error)
{
    collect_t c = {json_array()};
    int rc = zs_store_scan(zs_service_store(call->svc), call->txn, RECORDS, collect_record, &c);
    if (rc != 0 && rc != 1) {
        json_decref(c.list);
        return zs_call_store_fail(call, error, rc);
    }
    const json_t *body = call->req->body;
    const char *by = zs_call_str(call, "sortBy"), *dir = zs_call_str(call, "sortDirection");
    record_sort_t sort = {by ? by : "uploadDate", dir && strcmp(dir, "desc") == 0};
    json_int_t start = json_integer_value(json_object_get(body, "start"));
    json_t *limit = json_object_get(body, "limit");
    size_t n = json_array_size(c.list);
    json_t **items = malloc((n ? n : 1) * sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(c.list, i));
    qsort_r(items, n, sizeof *items, by_date, &sort);
    json_array_clear(c.list);
    for (size_t i = 0; i < n; i++)
        if ((json_int_t)i >= start && (!limit || (json_int_t)i < start + json_integer_value(limit)))
            json_array_append_new(c.list, items[i]);
        else
            json_decref(items[i]);
    free(items);
    return json_pack("{s:o, s:I}", "inventories", c.list, "total", (json_int_t)n);
}

/* ---- CheckLicense (bus only) --------------------------------------------------------- */

static json_t *check_license(zs_call_t *call, json_t **error)
{
    lic_t *l = lic(call->svc);
    const char *api = zs_call_str(call, "api"), *module = zs_call_str(call, "module");
    if (module && (*error = module_refusal(l, module)))
        return NULL;
    for (size_t c = 0; api && c < CATALOG_SIZE; c++)
        for (const char *const *a = catalog[c].apis; *a; a++)
            if (strcmp(*a, api) == 0 && (*error = module_refusal(l, catalog[c].module)))
                return NULL;
    const json_t *p = l->st.primary;
    json_t *hosts = json_object_get(call->req->body, "hosts");
    json_t *cpus = json_object_get(call->req->body, "cpus");
    json_int_t max_hosts = p ? json_integer_value(json_object_get(p, "hostNum")) : ZS_LICENSE_UNLIMITED;
    json_t *max_cpus = p ? json_object_get(p, "cpuNum") : NULL;
    const char *who = p ? json_string_value(json_object_get(p, "licenseType")) : "Community";
    if (json_is_integer(hosts) && json_integer_value(hosts) > max_hosts)
        return zs_call_fail(call, error, "LICENSE.1001",
                            "the %s license allows %lld hosts (hostNum); %s would make %lld", who,
                            (long long)max_hosts, api ? api : "this", (long long)json_integer_value(hosts));
    if (json_is_integer(cpus) && max_cpus && json_integer_value(cpus) > json_integer_value(max_cpus))
        return zs_call_fail(call, error, "LICENSE.1001",
                            "the %s license allows %lld cpus (cpuNum); %s would make %lld", who,
                            (long long)json_integer_value(max_cpus), api ? api : "this",
                            (long long)json_integer_value(cpus));
    return json_object();
}

/* ---- UpdateLicense / ReloadLicense / DeleteLicense ------------------------------------ */

/* Stores the record of an accepted license unless it is already recorded. */
static int record(zs_call_t *call, const json_t *p, const char *text, const char *source)
{
    zs_store_t *store = zs_service_store(call->svc);
    const char *uuid = json_string_value(json_object_get(p, "uuid"));
    json_t *old = zs_store_get(store, call->txn, RECORDS, uuid);
    if (old) {
        json_decref(old);
        return 0;
    }
    char now[32];
    json_t *rec = json_object();
    static const char *const keys[] = {"uuid", "licenseType", "user", "name", "modules",
                                       "licenseRequest", "issuedDate", "expiredDate", "hostNum",
                                       "cpuNum", "allowAddOns", NULL};
    for (const char *const *k = keys; *k; k++)
        copy(rec, p, *k);
    json_object_set_new(rec, "uploadDate", json_string(zs_date_format_iso(zs_now_ms(), now, sizeof now)));
    json_object_set_new(rec, "managementNodeUuid", json_string(zs_service_node(call->svc)));
    json_object_set_new(rec, "source", json_string(source));
    json_object_set_new(rec, "license", json_string(text));
    int rc = zs_store_put(store, call->txn, RECORDS, uuid, rec);
    json_decref(rec);
    return rc;
}

static json_t *entry_by_uuid(lic_t *l, const char *uuid)
{
    size_t i;
    json_t *e;
    json_array_foreach(l->st.all, i, e)
        if (strcmp(json_string_value(json_object_get(e, "uuid")), uuid) == 0)
            return e;
    return NULL;
}

/* Validates an offered license. Returns its payload (new reference) or NULL + *error. */
static json_t *admit(zs_call_t *call, const unsigned char *text, size_t len, json_t **error)
{
    lic_t *l = lic(call->svc);
    char why[256];
    json_t *p = zs_license_open((const char *)text, len, l->trusted, why, sizeof why);
    const char *bad = p ? zs_license_check_payload(p) : NULL;
    if (!p || bad) {
        json_decref(p);
        return zs_call_fail(call, error, "LICENSE.1006", "%s%s", bad ? "the license payload is invalid: " : "",
                            bad ? bad : why);
    }
    const char *req = json_string_value(json_object_get(p, "licenseRequest"));
    char id[33];
    if (zs_license_request_parse(req, id, NULL) != 0 || strcmp(id, l->installation) != 0) {
        json_decref(p);
        return zs_call_fail(call, error, "LICENSE.1002",
                            "the license was issued for the licenseRequest of another installation "
                            "[%s]; this installation is [%s]: issue it for the licenseRequest that "
                            "GetLicenseInfo shows", zs_uuid_valid(id) ? id : "unreadable", l->installation);
    }
    const char *uuid = json_string_value(json_object_get(p, "uuid"));
    int64_t issued = zs_license_date(p, "issuedDate");
    const json_t *current = NULL;
    if (zs_license_is_addon(p)) {
        if (!l->st.primary || !json_is_true(json_object_get(l->st.primary, "allowAddOns"))) {
            zs_call_fail(call, error, "LICENSE.1008",
                         "add-on license[uuid:%s] needs a primary license that allows add-ons; %s",
                         uuid, l->st.primary ? "the installed primary license does not (allowAddOns)"
                                             : "none is installed (Community)");
            json_decref(p);
            return NULL;
        }
        size_t i;
        json_t *a;
        json_array_foreach(l->st.addons, i, a)
            if (strcmp(json_string_value(json_object_get(a, "name")),
                       json_string_value(json_object_get(p, "name"))) == 0)
                current = a;
    } else {
        current = l->st.primary;
    }
    if (current && strcmp(json_string_value(json_object_get(current, "uuid")), uuid) != 0 &&
        zs_license_date(current, "issuedDate") > issued) {
        char a[32], b[32];
        const char *cur = json_string_value(json_object_get(current, "uuid"));
        zs_call_fail(call, error, "LICENSE.1004",
                     "license[uuid:%s] was issued on %s, before the installed license[uuid:%s] (issued %s)",
                     uuid, zs_date_format_iso(issued, a, sizeof a), cur,
                     zs_date_format_iso(zs_license_date(current, "issuedDate"), b, sizeof b));
        json_decref(p);
        return NULL;
    }
    return p;
}

static json_t *update_license(zs_call_t *call, json_t **error)
{
    lic_t *l = lic(call->svc);
    const char *b64 = zs_call_str(call, "license");
    size_t len;
    unsigned char *text = zs_base64_decode(b64, strlen(b64), ZS_LICENSE_MAX_BYTES, &len);
    if (!text)
        return zs_call_fail(call, error, "LICENSE.1006",
                            "license must be the base64 of a license file of at most %d bytes",
                            ZS_LICENSE_MAX_BYTES);
    json_t *p = admit(call, text, len, error);
    if (!p) {
        free(text);
        return NULL;
    }
    const char *uuid = json_string_value(json_object_get(p, "uuid"));
    int rc = record(call, p, (const char *)text, "UpdateLicense");
    json_t *out = NULL;
    if (rc != 0) {
        zs_call_store_fail(call, error, rc);
    } else if ((rc = installed_write(l->dir, uuid, (const char *)text, len)) != 0) {
        zs_call_fail(call, error, ZS_SYS_INTERNAL, "cannot write the license into %s: %s", l->dir, strerror(rc));
    } else {
        /* The new license replaces the one it supersedes (the primary, or the add-on of the
         * same name): their files go. */
        bool addon = zs_license_is_addon(p);
        size_t i;
        json_t *e;
        json_array_foreach(l->st.all, i, e) {
            bool same_kind = addon ? zs_license_is_addon(e) &&
                                         strcmp(json_string_value(json_object_get(e, "name")),
                                                json_string_value(json_object_get(p, "name"))) == 0
                                   : !zs_license_is_addon(e);
            if (same_kind && strcmp(json_string_value(json_object_get(e, "uuid")), uuid) != 0 &&
                (rc = installed_remove(l->dir, e)) != 0)
                zs_warn("cannot remove superseded license file %s: %s",
                        json_string_value(json_object_get(e, "_file")), strerror(rc));
        }
        rescan(l);
        json_t *now = entry_by_uuid(l, uuid);
        zs_info("license %s (%s, %s) installed", uuid, json_string_value(json_object_get(p, "licenseType")),
                json_string_value(json_object_get(p, "user")));
        out = json_pack("{s:o}", "inventory", addon && now ? addon_inventory(call->svc, now)
                                                           : primary_inventory(call->svc));
    }
    json_decref(p);
    free(text);
    return out;
}

static json_t *reload_license(zs_call_t *call, json_t **error)
{
    lic_t *l = lic(call->svc);
    rescan(l);
    size_t i;
    json_t *e;
    json_array_foreach(l->st.all, i, e) {
        int rc = record(call, e, json_string_value(json_object_get(e, "_text")), "file");
        if (rc != 0)
            return zs_call_store_fail(call, error, rc);
    }
    zs_info("licenses reloaded from %s: %zu valid files", l->dir, json_array_size(l->st.all));
    return json_pack("{s:o}", "inventory", primary_inventory(call->svc));
}

static json_t *delete_license(zs_call_t *call, json_t **error)
{
    lic_t *l = lic(call->svc);
    const char *uuid = zs_call_str(call, "uuid"), *module = zs_call_str(call, "module");
    json_t *doomed = json_array();
    size_t i, j;
    json_t *e, *m;
    if (uuid) {
        if (entry_by_uuid(l, uuid))
            json_array_append(doomed, entry_by_uuid(l, uuid));
    } else if (module) {
        json_array_foreach(l->st.all, i, e)
            json_array_foreach(json_object_get(e, "modules"), j, m)
                if (zs_license_is_addon(e) && strcmp(json_string_value(m), module) == 0) {
                    json_array_append(doomed, e);
                    break;
                }
    } else if (l->st.primary) {
        json_array_append(doomed, l->st.primary);
    }
    if ((uuid || module) && json_array_size(doomed) == 0) {
        json_decref(doomed);
        return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "no installed license %s[%s]",
                            uuid ? "with uuid" : "licensing module", uuid ? uuid : module);
    }
    int rc = 0;
    json_array_foreach(doomed, i, e) {
        if ((rc = installed_remove(l->dir, e)) != 0)
            break;
        zs_info("license %s removed", json_string_value(json_object_get(e, "uuid")));
    }
    json_decref(doomed);
    rescan(l);
    if (rc != 0)
        return zs_call_fail(call, error, ZS_SYS_INTERNAL, "cannot remove a license file from %s: %s",
                            l->dir, strerror(rc));
    return json_object();
}

/* ---- start, tick, stop --------------------------------------------------------------- */

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

static int license_start(zs_service_t *svc)
{
    lic_t *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    zs_service_set_data(svc, l);
    const char *dir = zs_config_get("license.dir", NULL);
    if (dir)
        snprintf(l->dir, sizeof l->dir, "%s", dir);
    else
        snprintf(l->dir, sizeof l->dir, "%s/license", zs_config_data_dir());
    l->trusted = zs_config_get("license.trusted-keys", "");
    if (zs_service_write(svc, ensure_installation, l->installation) != 0)
        return -1;
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
    rescan(l);
    l->usage_bus = zs_bus_new();
    l->usage_sock = l->usage_bus ? zs_bus_socket(l->usage_bus, "core") : NULL;
    if (!l->request || !l->usage_sock)
        return -1;
    zs_service_watch(svc, l->usage_sock, on_usage);
    zs_info("installation %s; %s license in force", l->installation,
            l->st.primary ? json_string_value(json_object_get(l->st.primary, "licenseType")) : "Community");
    return 0;
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
    if (zs_mono_ms() >= l->next_poll) {
        l->next_poll = zs_mono_ms() + zs_config_int("license.usage-poll-ms", 2000);
        zs_msg_t q = {.kind = 'Q', .deadline = now + 5000};
        snprintf(q.api, sizeof q.api, "HostUsage");
        zs_uuid_new(q.id);
        q.body = json_object();
        zs_bus_send(l->usage_bus, "core", &q);   /* no core yet: the next poll tries again */
        zs_msg_clear(&q);
    }
}

static void license_stop(zs_service_t *svc)
{
    lic_t *l = lic(svc);
    if (!l)
        return;
    installed_clear(&l->st);
    json_decref(l->noted);
    free(l->request);
    zs_bus_destroy(&l->usage_bus);
    free(l);
    zs_service_set_data(svc, NULL);
}

static const zs_resource_t *const resources[] = {&zs_res_license_record, NULL};
static const char *const kv_dbs[] = {META_DB, EVENTS_DB, NULL};

static const zs_handler_t handlers[] = {
    {"GetLicenseInfo", get_info},
    {"GetLicenseCapabilities", get_capabilities},
    {"GetLicenseAddOns", get_addons},
    {"GetLicenseRecords", get_records},
    {"UpdateLicense", update_license},
    {"DeleteLicense", delete_license},
    {"ReloadLicense", reload_license},
    {"CheckLicense", check_license},
    {NULL, NULL},
};

static const zs_module_t license_module = {
    .name = "license",
    .resources = resources,
    .handlers = handlers,
    .kv_dbs = kv_dbs,
    .start = license_start,
    .tick = license_tick,
    .stop = license_stop,
};
static const zs_module_t *const modules[] = {&license_module, NULL};

static const zs_service_def_t license = {
    .name = "license",
    .schema_version = 1,
    .modules = modules,
};

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    return zs_service_main(&license, argc, argv);
}
