/* admission.c — installing and removing licenses (license_svc.h): UpdateLicense (admit a
 * signed license, write its file, drop the one it supersedes), ReloadLicense (rescan the
 * directory) and DeleteLicense, each recording what it accepted in the store. */
#include "clock.h"
#include "error.h"
#include "license.h"
#include "license_svc.h"
#include "log.h"
#include "uuid.h"
#include <stdlib.h>
#include <string.h>

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
        lic_copy(rec, p, *k);
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
    json_t *p = zs_license_open((const char *)text, len, l->trusted, error);
    if (!p)
        return NULL;
    const char *bad = zs_license_check_payload(p);
    if (bad) {
        json_decref(p);
        return zs_call_fail(call, error, ZS_LICENSE_INVALID, "the license payload is invalid: %s", bad);
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
        lic_rescan(l);
        json_t *now = entry_by_uuid(l, uuid);
        zs_info("license %s (%s, %s) installed", uuid, json_string_value(json_object_get(p, "licenseType")),
                json_string_value(json_object_get(p, "user")));
        out = json_pack("{s:o}", "inventory", addon && now ? lic_addon_inventory(call->svc, now)
                                                           : lic_primary_inventory(call->svc));
    }
    json_decref(p);
    free(text);
    return out;
}

static json_t *reload_license(zs_call_t *call, json_t **error)
{
    lic_t *l = lic(call->svc);
    lic_rescan(l);
    size_t i;
    json_t *e;
    json_array_foreach(l->st.all, i, e) {
        int rc = record(call, e, json_string_value(json_object_get(e, "_text")), "file");
        if (rc != 0)
            return zs_call_store_fail(call, error, rc);
    }
    zs_info("licenses reloaded from %s: %zu valid files", l->dir, json_array_size(l->st.all));
    return json_pack("{s:o}", "inventory", lic_primary_inventory(call->svc));
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
    lic_rescan(l);
    if (rc != 0)
        return zs_call_fail(call, error, ZS_SYS_INTERNAL, "cannot remove a license file from %s: %s",
                            l->dir, strerror(rc));
    return json_object();
}

static const zs_handler_t handlers[] = {
    {"UpdateLicense", update_license},
    {"DeleteLicense", delete_license},
    {"ReloadLicense", reload_license},
    {NULL, NULL},
};

const zs_module_t license_admission_module = {
    .name = "license-admission",
    .handlers = handlers,
};
