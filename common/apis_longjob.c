/* apis_longjob.c — API rows and resources of svc-longjob (apis.md §9, seed 004 §4.8), plus
 * the bus-only "CleanupExpired" that any service may answer (service "*": a service without
 * a handler for it answers "not implemented", which the cleanup job reports as such). */
#include "api.h"

static const zs_field_t longjob_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"description", ZS_FT_STRING, false, false},
    {"apiId", ZS_FT_STRING, true, false},
    {"jobName", ZS_FT_STRING, true, false},
    {"jobData", ZS_FT_STRING, false, false},
    {"jobResult", ZS_FT_STRING, false, false},
    {"state", ZS_FT_STRING, true, false},
    {"targetResourceUuid", ZS_FT_STRING, true, false},
    {"managementNodeUuid", ZS_FT_STRING, true, false},
    {"executeTime", ZS_FT_INT, false, false},
    {"createDate", ZS_FT_TIME, true, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    /* Kept for the service, never shown: who submitted (visibility, and the identity the
     * wrapped API runs as), the id of the current run, where a backup goes. */
    {"accountUuid", ZS_FT_STRING, false, true},
    {"caller", ZS_FT_JSON, false, true},
    {"runId", ZS_FT_STRING, false, true},
    {"runStartedAt", ZS_FT_EPOCH, false, true},
    {"target", ZS_FT_STRING, false, true},
    {NULL, 0, false, false},
};
static const zs_class_t longjob_class = {
    "org.zstack.header.longjob.LongJobInventory", NULL, NULL, NULL,
    "name description jobData jobResult targetResourceUuid executeTime",
};
const zs_resource_t zs_res_longjob = {
    "LongJob", "longjobs", NULL, &longjob_class, "longjob",
    "LongJobVO", longjob_fields, NULL,
};

const zs_resource_t *const zs_resources_longjob[] = {&zs_res_longjob, NULL};

static const zs_param_t p_submit[] = {
    {"name", ZS_P_STRING, false, 0, 255, NULL},
    {"description", ZS_P_STRING, false, 0, 2048, NULL},
    {"jobName", ZS_P_STRING, true, 1, 255, NULL},
    {"jobData", ZS_P_ANY, false, 0, 0, NULL},
    {"targetResourceUuid", ZS_P_STRING, false, 0, 255, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_uuid[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_update[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"name", ZS_P_STRING, false, 0, 255, NULL},
    {"description", ZS_P_STRING, false, 0, 2048, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_any[] = {{NULL, 0, false, 0, 0, NULL}};

#define LJ "org.zstack.header.longjob."
const zs_api_t zs_apis_longjob[] = {
    {"SubmitLongJob", LJ "APISubmitLongJobMsg", "POST", "/longjobs", NULL,
     ZS_API_ASYNC | ZS_API_CREATE, "longjob", p_submit, ZS_REPLY_INVENTORY, &zs_res_longjob, NULL},
    {"QueryLongJob", LJ "APIQueryLongJobMsg", "GET", "/longjobs", NULL, ZS_API_QUERY, "longjob",
     p_any, ZS_REPLY_INVENTORIES, &zs_res_longjob, NULL},
    {"CancelLongJob", LJ "APICancelLongJobMsg", "PUT", "/longjobs/{uuid}/actions", "cancelLongJob",
     ZS_API_ASYNC, "longjob", p_uuid, ZS_REPLY_EMPTY, NULL, NULL},
    {"ResumeLongJob", LJ "APIResumeLongJobMsg", "PUT", "/longjobs/{uuid}/actions", "resumeLongJob",
     ZS_API_ASYNC, "longjob", p_uuid, ZS_REPLY_INVENTORY, &zs_res_longjob, NULL},
    {"RerunLongJob", LJ "APIRerunLongJobMsg", "PUT", "/longjobs/{uuid}/actions", "rerunLongJob",
     ZS_API_ASYNC, "longjob", p_uuid, ZS_REPLY_INVENTORY, &zs_res_longjob, NULL},
    {"UpdateLongJob", LJ "APIUpdateLongJobMsg", "PUT", "/longjobs/{uuid}/actions", "updateLongJob",
     ZS_API_ASYNC, "longjob", p_update, ZS_REPLY_INVENTORY, &zs_res_longjob, NULL},
    {"CleanLongJob", LJ "APICleanLongJobMsg", "PUT", "/longjobs/{uuid}/actions", "cleanLongJob",
     ZS_API_ASYNC, "longjob", p_uuid, ZS_REPLY_EMPTY, NULL, NULL},
    {"DeleteLongJob", LJ "APIDeleteLongJobMsg", "DELETE", "/longjobs/{uuid}", NULL, ZS_API_ASYNC,
     "longjob", p_uuid, ZS_REPLY_EMPTY, NULL, NULL},
    /* Bus only: sweep what has expired in the answering service; answers what it did. */
    {"CleanupExpired", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "*", p_any,
     ZS_REPLY_OTHER, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
