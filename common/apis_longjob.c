/* apis_longjob.c — API rows and resources of svc-longjob (apis.md §9, seed 004 §4.8), plus
 * the bus-only "CleanupExpired" that any service may answer (service "*": a service without
 * a handler for it answers "not implemented", which the cleanup job reports as such). */
#include "api.h"

static const zs_field_t longjob_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "description", .type = ZS_FT_STRING},
    {.name = "apiId", .type = ZS_FT_STRING, .indexed = true},
    {.name = "jobName", .type = ZS_FT_STRING, .indexed = true},
    {.name = "jobData", .type = ZS_FT_STRING},
    {.name = "jobResult", .type = ZS_FT_STRING},
    {.name = "state", .type = ZS_FT_STRING, .indexed = true},
    {.name = "targetResourceUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "managementNodeUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "executeTime", .type = ZS_FT_INT},
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    /* Kept for the service, never shown: who submitted (visibility, and the identity the
     * wrapped API runs as), the id of the current run, where a backup goes. */
    {.name = "accountUuid", .type = ZS_FT_STRING, .hidden = true},
    {.name = "caller", .type = ZS_FT_JSON, .hidden = true},
    {.name = "runId", .type = ZS_FT_STRING, .hidden = true},
    {.name = "runStartedAt", .type = ZS_FT_EPOCH, .hidden = true},
    {.name = "target", .type = ZS_FT_STRING, .hidden = true},
    {0},
};
static const zs_class_t longjob_class = {
    .name = "org.zstack.header.longjob.LongJobInventory",
    .may_lack = "name description jobData jobResult targetResourceUuid executeTime",
};
const zs_resource_t zs_res_longjob = {
    .name = "LongJob", .collection = "longjobs", .klass = &longjob_class, .service = "longjob",
    .vo = "LongJobVO", .fields = longjob_fields,
};

const zs_resource_t *const zs_resources_longjob[] = {&zs_res_longjob, NULL};

static const zs_param_t p_submit[] = {
    {.name = "name", .type = ZS_P_STRING, .max = 255},
    {.name = "description", .type = ZS_P_STRING, .max = 2048},
    {.name = "jobName", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {.name = "jobData", .type = ZS_P_ANY},
    {.name = "targetResourceUuid", .type = ZS_P_STRING, .max = 255},
    {0},
};
static const zs_param_t p_uuid[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {0},
};
static const zs_param_t p_update[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "name", .type = ZS_P_STRING, .max = 255},
    {.name = "description", .type = ZS_P_STRING, .max = 2048},
    {0},
};
static const zs_param_t p_any[] = {{0}};

#define LJ "org.zstack.header.longjob."
const zs_api_t zs_apis_longjob[] = {
    {.name = "SubmitLongJob", .klass = LJ "APISubmitLongJobMsg", .method = "POST",
     .path = "/longjobs", .flags = ZS_API_ASYNC | ZS_API_CREATE, .service = "longjob",
     .params = p_submit, .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_longjob},
    {.name = "QueryLongJob", .klass = LJ "APIQueryLongJobMsg", .method = "GET", .path = "/longjobs",
     .flags = ZS_API_QUERY, .service = "longjob", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_longjob},
    {.name = "CancelLongJob", .klass = LJ "APICancelLongJobMsg", .method = "PUT",
     .path = "/longjobs/{uuid}/actions", .action = "cancelLongJob", .flags = ZS_API_ASYNC,
     .service = "longjob", .params = p_uuid, .reply = ZS_REPLY_EMPTY},
    {.name = "ResumeLongJob", .klass = LJ "APIResumeLongJobMsg", .method = "PUT",
     .path = "/longjobs/{uuid}/actions", .action = "resumeLongJob", .flags = ZS_API_ASYNC,
     .service = "longjob", .params = p_uuid, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_longjob},
    {.name = "RerunLongJob", .klass = LJ "APIRerunLongJobMsg", .method = "PUT",
     .path = "/longjobs/{uuid}/actions", .action = "rerunLongJob", .flags = ZS_API_ASYNC,
     .service = "longjob", .params = p_uuid, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_longjob},
    {.name = "UpdateLongJob", .klass = LJ "APIUpdateLongJobMsg", .method = "PUT",
     .path = "/longjobs/{uuid}/actions", .action = "updateLongJob", .flags = ZS_API_ASYNC,
     .service = "longjob", .params = p_update, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_longjob},
    {.name = "CleanLongJob", .klass = LJ "APICleanLongJobMsg", .method = "PUT",
     .path = "/longjobs/{uuid}/actions", .action = "cleanLongJob", .flags = ZS_API_ASYNC,
     .service = "longjob", .params = p_uuid, .reply = ZS_REPLY_EMPTY},
    {.name = "DeleteLongJob", .klass = LJ "APIDeleteLongJobMsg", .method = "DELETE",
     .path = "/longjobs/{uuid}", .flags = ZS_API_ASYNC, .service = "longjob", .params = p_uuid,
     .reply = ZS_REPLY_EMPTY},
    /* Bus only: sweep what has expired in the answering service; answers what it did. */
    {.name = "CleanupExpired", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "*",
     .params = p_any, .reply = ZS_REPLY_OTHER},
    {0},
};
