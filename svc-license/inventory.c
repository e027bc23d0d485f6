/* inventory.c — what is installed and licensed (license_svc.h): the inventories, the read
 * APIs (GetLicenseInfo, GetLicenseCapabilities, GetLicenseAddOns, GetLicenseRecords) and the
 * bus-only CheckLicense, with the catalog of licensed modules. */
#define _GNU_SOURCE             /* qsort_r */
#include "clock.h"
#include "error.h"
#include "license.h"
#include "license_svc.h"
#include <stdlib.h>
#include <string.h>

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

/* ---- inventories --------------------------------------------------------------------- */

static void set_date(json_t *inv, const char *key, int64_t ms)
{
    char buf[32];
    if (ms >= 0)
        json_object_set_new(inv, key, json_string(zs_date_format_iso(ms, buf, sizeof buf)));
}

void lic_copy(json_t *inv, const json_t *from, const char *key)
{
    json_t *v = json_object_get(from, key);
    if (v)
        json_object_set(inv, key, v);
}

/* LicenseInventory of the primary in force, or of Community. */
json_t *lic_primary_inventory(zs_service_t *svc)
{
    lic_t *l = lic(svc);
    const json_t *p = l->st.primary;
    json_t *inv = json_object();
    int64_t now = zs_now_ms();
    json_int_t hosts = ZS_LICENSE_UNLIMITED, cpus = ZS_LICENSE_UNLIMITED;
    if (p) {
        lic_copy(inv, p, "uuid");
        lic_copy(inv, p, "user");
        lic_copy(inv, p, "licenseType");
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
json_t *lic_addon_inventory(zs_service_t *svc, const json_t *a)
{
    json_t *inv = json_object();
    static const char *const keys[] = {"uuid", "name", "user", "licenseType", "modules", NULL};
    for (const char *const *k = keys; *k; k++)
        lic_copy(inv, a, *k);
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
            json_array_append_new(list, lic_addon_inventory(svc, a));
    }
    return list;
}

static json_t *get_info(zs_call_t *call, json_t **error)
{
    (void)error;
    return json_pack("{s:o, s:o}", "inventory", lic_primary_inventory(call->svc), "additions",
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

static const zs_handler_t handlers[] = {
    {"GetLicenseInfo", get_info},
    {"GetLicenseCapabilities", get_capabilities},
    {"GetLicenseAddOns", get_addons},
    {"GetLicenseRecords", get_records},
    {"CheckLicense", check_license},
    {NULL, NULL},
};

const zs_module_t license_inventory_module = {
    .name = "license-inventory",
    .handlers = handlers,
};
