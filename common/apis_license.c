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
/* A license is a LicenseInventory; an add-on (it has modules) a LicenseAddOnInventory. */
static const zs_class_t addon_class = {
    "org.zstack.license.LicenseAddOnInventory", NULL, NULL, NULL, "hostNum",
};
static const zs_class_t license_class = {
    "org.zstack.license.LicenseInventory", NULL, &addon_class, "modules",
    "uuid user prodInfo cpuNum vmNum capacity issuedDate expiredDate uploadDate "
    "source platformId availableHostNum availableCpuNum availableVmNum",
};
const zs_resource_t zs_res_license_record = {
    "LicenseRecord", "licenses", NULL, &license_class, "license", NULL,
    record_fields, NULL,
};

const zs_resource_t *const zs_resources_license[] = {&zs_res_license_record, NULL};

/* additionSession (the SDK's): a session for license servers of other products; accepted,
 * nothing here needs it. */
static const zs_param_t p_update[] = {
    {"managementNodeUuid", ZS_P_UUID, true, 0, 0, NULL},
    /* base64 of a file of at most 64 KiB */
    {"license", ZS_P_STRING, true, 1, 90000, NULL},
    {"additionSession", ZS_P_OBJECT, false, 0, 0, NULL},
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
static const zs_param_t p_info[] = {
    {"additionSession", ZS_P_ANY, false, 0, 0, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const char *const record_sorts[] = {"issuedDate", "expiredDate", "uploadDate", NULL};
static const char *const directions[] = {"asc", "desc", NULL};
static const zs_param_t p_records[] = {
    {"limit", ZS_P_INT, false, 0, 1000, NULL},
    {"start", ZS_P_INT, false, 0, 0, NULL},
    {"replyWithCount", ZS_P_BOOL, false, 0, 0, NULL},
    {"count", ZS_P_BOOL, false, 0, 0, NULL},
    {"sortBy", ZS_P_STRING, false, 0, 0, record_sorts},
    {"sortDirection", ZS_P_STRING, false, 0, 0, directions},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_any[] = {{NULL, 0, false, 0, 0, NULL}};

#define LIC "org.zstack.license."
static const zs_typed_t info_reply[] = {
    {"inventory", &license_class}, {"additions", &addon_class}, {NULL, NULL},
};
static const zs_typed_t addons_reply[] = {{"addons", &addon_class}, {NULL, NULL}};
const zs_api_t zs_apis_license[] = {
    {"GetLicenseInfo", LIC "APIGetLicenseInfoMsg", "GET", "/licenses", NULL, ZS_API_NO_SESSION,
     "license", p_info, ZS_REPLY_OTHER, NULL, info_reply},
    {"GetLicenseCapabilities", LIC "APIGetLicenseCapabilitiesMsg", "GET", "/licenses/capabilities",
     NULL, 0, "license", p_any, ZS_REPLY_OTHER, NULL, NULL},
    {"GetLicenseAddOns", LIC "APIGetLicenseAddOnsMsg", "GET", "/licenses/addons", NULL,
     ZS_API_NO_SESSION, "license", p_any, ZS_REPLY_OTHER, NULL, addons_reply},
    {"GetLicenseRecords", LIC "APIGetLicenseRecordsMsg", "GET", "/licenses/records", NULL,
     ZS_API_NO_SESSION, "license", p_records, ZS_REPLY_INVENTORIES, &zs_res_license_record, NULL},
    {"UpdateLicense", LIC "APIUpdateLicenseMsg", "PUT", "/licenses/mn/{managementNodeUuid}/actions",
     "updateLicense", ZS_API_ASYNC | ZS_API_ADMIN, "license", p_update, ZS_REPLY_INVENTORY,
     &zs_res_license_record, NULL},
    {"DeleteLicense", LIC "APIDeleteLicenseMsg", "DELETE", "/licenses/mn/{managementNodeUuid}/actions",
     NULL, ZS_API_ASYNC | ZS_API_ADMIN, "license", p_delete, ZS_REPLY_EMPTY, NULL, NULL},
    /* Sync, as the SDK calls it: re-reading a few small files answers at once. */
    {"ReloadLicense", LIC "APIReloadLicenseMsg", "PUT", "/licenses/actions", "reloadLicense",
     ZS_API_ADMIN | ZS_API_WRITES, "license", p_reload, ZS_REPLY_INVENTORY, &zs_res_license_record,
     NULL},
    /* Bus only: may this API run / would this usage fit? Body {api | module, hosts?, cpus?}:
     * {} when allowed, else LICENSE.1000 (a module of the API is not licensed or its license
     * expired) or LICENSE.1001 (hosts/cpus beyond hostNum/cpuNum). Called by the services
     * whose APIs are licensed (svc-license's module catalog says which). */
    {"CheckLicense", NULL, NULL, NULL, NULL, ZS_API_INTERNAL, "license", p_any, ZS_REPLY_OTHER,
     NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
