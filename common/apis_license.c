/* apis_license.c — API rows and resources of svc-license (apis.md §8, seed 004 §4.7).
 * Installed licenses are files (see svc-license); the store keeps the record of every license
 * ever accepted (GetLicenseRecords). Dates of licenses are "yyyy-MM-dd HH:mm:ss" strings, as
 * LicenseInventory shows them. */
#include "api.h"

static const zs_field_t record_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "licenseType", .type = ZS_FT_STRING, .indexed = true},
    {.name = "user", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING},
    {.name = "modules", .type = ZS_FT_JSON},
    {.name = "licenseRequest", .type = ZS_FT_STRING},
    {.name = "issuedDate", .type = ZS_FT_STRING},
    {.name = "expiredDate", .type = ZS_FT_STRING},
    {.name = "uploadDate", .type = ZS_FT_STRING, .indexed = true},
    {.name = "hostNum", .type = ZS_FT_INT},
    {.name = "cpuNum", .type = ZS_FT_INT},
    {.name = "allowAddOns", .type = ZS_FT_BOOL},
    {.name = "managementNodeUuid", .type = ZS_FT_STRING},
    {.name = "source", .type = ZS_FT_STRING}, /* "UpdateLicense" or "file" (ReloadLicense) */
    /* the signed file, kept for audits */
    {.name = "license", .type = ZS_FT_STRING, .hidden = true},
    {0},
};
/* A license is a LicenseInventory; an add-on (it has modules) a LicenseAddOnInventory. */
static const zs_class_t addon_class = {
    .name = "org.zstack.license.LicenseAddOnInventory", .may_lack = "hostNum",
};
static const zs_class_t license_class = {
    .name = "org.zstack.license.LicenseInventory", .variant = &addon_class,
    .variant_field = "modules",
    .may_lack = "uuid user prodInfo cpuNum vmNum capacity issuedDate expiredDate uploadDate "
                "source platformId availableHostNum availableCpuNum availableVmNum",
};
const zs_resource_t zs_res_license_record = {
    .name = "LicenseRecord", .collection = "licenses", .klass = &license_class,
    .service = "license", .fields = record_fields,
};

const zs_resource_t *const zs_resources_license[] = {&zs_res_license_record, NULL};

/* additionSession (the SDK's): a session for license servers of other products; accepted,
 * nothing here needs it. */
static const zs_param_t p_update[] = {
    {.name = "managementNodeUuid", .type = ZS_P_UUID, .required = true},
    /* base64 of a file of at most 64 KiB */
    {.name = "license", .type = ZS_P_STRING, .required = true, .min = 1, .max = 90000},
    {.name = "additionSession", .type = ZS_P_OBJECT},
    {0},
};
static const zs_param_t p_delete[] = {
    {.name = "managementNodeUuid", .type = ZS_P_UUID, .required = true},
    {.name = "uuid", .type = ZS_P_UUID},
    {.name = "module", .type = ZS_P_STRING, .min = 1, .max = 64},
    {0},
};
static const zs_param_t p_reload[] = {
    {.name = "managementNodeUuids", .type = ZS_P_LIST, .max = 100},
    {0},
};
static const zs_param_t p_info[] = {
    {.name = "additionSession", .type = ZS_P_ANY},
    {0},
};
static const char *const record_sorts[] = {"issuedDate", "expiredDate", "uploadDate", NULL};
static const char *const directions[] = {"asc", "desc", NULL};
static const zs_param_t p_records[] = {
    {.name = "limit", .type = ZS_P_INT, .max = 1000},
    {.name = "start", .type = ZS_P_INT},
    {.name = "replyWithCount", .type = ZS_P_BOOL},
    {.name = "count", .type = ZS_P_BOOL},
    {.name = "sortBy", .type = ZS_P_STRING, .choices = record_sorts},
    {.name = "sortDirection", .type = ZS_P_STRING, .choices = directions},
    {0},
};
static const zs_param_t p_any[] = {{0}};

#define LIC "org.zstack.license."
static const zs_typed_t info_reply[] = {
    {.field = "inventory", .klass = &license_class},
    {.field = "additions", .klass = &addon_class},
    {0},
};
static const zs_typed_t addons_reply[] = {{.field = "addons", .klass = &addon_class}, {0}};
const zs_api_t zs_apis_license[] = {
    {.name = "GetLicenseInfo", .klass = LIC "APIGetLicenseInfoMsg", .method = "GET",
     .path = "/licenses", .flags = ZS_API_NO_SESSION, .service = "license", .params = p_info,
     .reply = ZS_REPLY_OTHER, .typed = info_reply},
    {.name = "GetLicenseCapabilities", .klass = LIC "APIGetLicenseCapabilitiesMsg", .method = "GET",
     .path = "/licenses/capabilities", .service = "license", .params = p_any,
     .reply = ZS_REPLY_OTHER},
    {.name = "GetLicenseAddOns", .klass = LIC "APIGetLicenseAddOnsMsg", .method = "GET",
     .path = "/licenses/addons", .flags = ZS_API_NO_SESSION, .service = "license",
     .params = p_any, .reply = ZS_REPLY_OTHER, .typed = addons_reply},
    {.name = "GetLicenseRecords", .klass = LIC "APIGetLicenseRecordsMsg", .method = "GET",
     .path = "/licenses/records", .flags = ZS_API_NO_SESSION, .service = "license",
     .params = p_records, .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_license_record},
    {.name = "UpdateLicense", .klass = LIC "APIUpdateLicenseMsg", .method = "PUT",
     .path = "/licenses/mn/{managementNodeUuid}/actions", .action = "updateLicense",
     .flags = ZS_API_ASYNC | ZS_API_ADMIN, .service = "license", .params = p_update,
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_license_record},
    {.name = "DeleteLicense", .klass = LIC "APIDeleteLicenseMsg", .method = "DELETE",
     .path = "/licenses/mn/{managementNodeUuid}/actions", .flags = ZS_API_ASYNC | ZS_API_ADMIN,
     .service = "license", .params = p_delete, .reply = ZS_REPLY_EMPTY},
    /* Sync, as the SDK calls it: re-reading a few small files answers at once. */
    {.name = "ReloadLicense", .klass = LIC "APIReloadLicenseMsg", .method = "PUT",
     .path = "/licenses/actions", .action = "reloadLicense",
     .flags = ZS_API_ADMIN | ZS_API_WRITES, .service = "license", .params = p_reload,
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_license_record},
    /* Bus only: may this API run / would this usage fit? Body {api | module, hosts?, cpus?}:
     * {} when allowed, else LICENSE.1000 (a module of the API is not licensed or its license
     * expired) or LICENSE.1001 (hosts/cpus beyond hostNum/cpuNum). Called by the services
     * whose APIs are licensed (svc-license's module catalog says which). */
    {.name = "CheckLicense", .flags = ZS_API_INTERNAL, .service = "license", .params = p_any,
     .reply = ZS_REPLY_OTHER},
    {0},
};
