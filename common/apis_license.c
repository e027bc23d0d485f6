/* apis_license.c — API rows and resources of svc-license (apis.md §8, seed 004 §4.7).
 * Installed licenses are files (see svc-license); the store keeps the record of every license
 * ever accepted (GetLicenseRecords). Dates of licenses are "yyyy-MM-dd HH:mm:ss" strings, as
 * LicenseInventory shows them. */
#include "api.h"

static const zs_field_t record_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"licenseType", ZS_FT_STRING, true, false},
    {"user", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, false, false},
    {"modules", ZS_FT_JSON, false, false},
    {"licenseRequest", ZS_FT_STRING, false, false},
    {"issuedDate", ZS_FT_STRING, false, false},
    {"expiredDate", ZS_FT_STRING, false, false},
    {"uploadDate", ZS_FT_STRING, true, false},
    {"hostNum", ZS_FT_INT, false, false},
    {"cpuNum", ZS_FT_INT, false, false},
    {"allowAddOns", ZS_FT_BOOL, false, false},
    {"managementNodeUuid", ZS_FT_STRING, false, false},
    {"source", ZS_FT_STRING, false, false},       /* "UpdateLicense" or "file" (ReloadLicense) */
    {"license", ZS_FT_STRING, false, true},       /* the signed file, kept for audits */
    {NULL, 0, false, false},
};
const zs_resource_t zs_res_license_record = {
    "LicenseRecord", "licenses", NULL, "org.zstack.license.LicenseInventory", "license", NULL,
    record_fields, NULL,
};

const zs_resource_t *const zs_resources_license[] = {&zs_res_license_record, NULL};

static const zs_param_t p_update[] = {
    {"managementNodeUuid", ZS_P_UUID, true, 0, 0, NULL},
    /* base64 of a file of at most 64 KiB */
    {"license", ZS_P_STRING, true, 1, 90000, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_delete[] = {
    {"managementNodeUuid", ZS_P_UUID, true, 0, 0, NULL},
    {"uuid", ZS_P_UUID, false, 0, 0, NULL},
    {"module", ZS_P_STRING, false, 1, 64, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_reload[] = {
    {"managementNodeUuids", ZS_P_LIST, false, 0, 100, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_any[] = {{NULL, 0, false, 0, 0, NULL}};

#define LIC "org.zstack.license."
#define INV LIC "LicenseInventory"
const zs_api_t zs_apis_license[] = {
    {"GetLicenseInfo", LIC "APIGetLicenseInfoMsg", "GET", "/licenses", NULL, ZS_API_NO_SESSION,
     "license", p_any, ZS_REPLY_INVENTORY, NULL, INV},
    {"GetLicenseCapabilities", LIC "APIGetLicenseCapabilitiesMsg", "GET", "/licenses/capabilities",
     NULL, 0, "license", p_any, ZS_REPLY_OTHER, NULL, NULL},
    {"GetLicenseAddOns", LIC "APIGetLicenseAddOnsMsg", "GET", "/licenses/addons", NULL,
     ZS_API_NO_SESSION, "license", p_any, ZS_REPLY_OTHER, NULL, NULL},
    {"GetLicenseRecords", LIC "APIGetLicenseRecordsMsg", "GET", "/licenses/records", NULL,
     ZS_API_NO_SESSION, "license", p_any, ZS_REPLY_INVENTORIES, NULL, INV},
    {"UpdateLicense", LIC "APIUpdateLicenseMsg", "PUT", "/licenses/mn/{managementNodeUuid}/actions",
     "updateLicense", ZS_API_ASYNC | ZS_API_ADMIN, "license", p_update, ZS_REPLY_INVENTORY, NULL, INV},
    {"DeleteLicense", LIC "APIDeleteLicenseMsg", "DELETE", "/licenses/mn/{managementNodeUuid}/actions",
     NULL, ZS_API_ASYNC | ZS_API_ADMIN, "license", p_delete, ZS_REPLY_EMPTY, NULL, NULL},
    {"ReloadLicense", LIC "APIReloadLicenseMsg", "PUT", "/licenses/actions", "reloadLicense",
     ZS_API_ASYNC | ZS_API_ADMIN, "license", p_reload, ZS_REPLY_INVENTORY, NULL, INV},
    /* Bus only: may this API run / would this usage fit? Body {api | module, hosts?, cpus?}:
     * {} when allowed, else LICENSE.1000 (a module of the API is not licensed or its license
     * expired) or LICENSE.1001 (hosts/cpus beyond hostNum/cpuNum). Called by the services
     * whose APIs are licensed (svc-license's module catalog says which). */
    {"CheckLicense", NULL, NULL, NULL, NULL, ZS_API_INTERNAL, "license", p_any, ZS_REPLY_OTHER,
     NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
