/* apis_gc.c — API rows and resources of svc-gc (apis.md §7, seed 004 §4.6).
 *
 * A GC job record: the inventory fields of the seed (uuid, name, runnerClass, context as JSON
 * text, status, managementNodeUuid, type, createDate, lastOpDate) plus ours (attempts,
 * lastError, nextRunDate), and hidden scheduling state: `trigger` (EventBased: {topic, match}),
 * `interval` (seconds, when the submitter chose one), `failures`, `failingNotified`. */
#include "api.h"

static const zs_field_t gc_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "runnerClass", .type = ZS_FT_STRING, .indexed = true},
    {.name = "context", .type = ZS_FT_STRING},
    {.name = "status", .type = ZS_FT_STRING, .indexed = true}, /* Idle, Processing, Done */
    {.name = "managementNodeUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "type", .type = ZS_FT_STRING, .indexed = true}, /* TimeBased, EventBased, CycleBased */
    {.name = "attempts", .type = ZS_FT_INT},
    {.name = "lastError", .type = ZS_FT_STRING},
    {.name = "nextRunDate", .type = ZS_FT_TIME, .indexed = true}, /* absent once Done */
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {.name = "trigger", .type = ZS_FT_JSON, .hidden = true},
    {.name = "interval", .type = ZS_FT_INT, .hidden = true},
    {.name = "failures", .type = ZS_FT_INT, .hidden = true}, /* failed attempts in a row */
    {.name = "failingNotified", .type = ZS_FT_BOOL, .hidden = true},
    {0},
};
static const zs_class_t gc_class = {.name = "org.zstack.core.gc.GarbageCollectorInventory"};
const zs_resource_t zs_res_gc_job = {
    .name = "GarbageCollector", .collection = "gcjobs", .klass = &gc_class, .service = "gc",
    .vo = "GarbageCollectorVO", .fields = gc_fields,
};

const zs_resource_t *const zs_resources_gc[] = {&zs_res_gc_job, NULL};

static const char *const gc_types[] = {"TimeBased", "EventBased", "CycleBased", NULL};

static const zs_param_t p_uuid[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {0},
};
static const zs_param_t p_submit[] = {
    {.name = "name", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {.name = "runnerClass", .type = ZS_P_STRING, .required = true, .min = 3, .max = 160},
    {.name = "context", .type = ZS_P_OBJECT},
    {.name = "type", .type = ZS_P_STRING, .choices = gc_types},
    {.name = "trigger", .type = ZS_P_OBJECT},
    {.name = "interval", .type = ZS_P_INT, .min = 1, .max = 31536000},
    {0},
};
static const zs_param_t p_expire[] = {
    {.name = "days", .type = ZS_P_INT, .max = 36500},
    {0},
};
static const zs_param_t p_any[] = {{0}};

#define GC "org.zstack.core.gc."
const zs_api_t zs_apis_gc[] = {
    {.name = "QueryGCJob", .klass = GC "APIQueryGCJobMsg", .method = "GET", .path = "/gc-jobs",
     .flags = ZS_API_QUERY | ZS_API_ADMIN, .service = "gc", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_gc_job},
    {.name = "TriggerGCJob", .klass = GC "APITriggerGCJobMsg", .method = "PUT",
     .path = "/gc-jobs/{uuid}/actions", .action = "triggerGCJob",
     .flags = ZS_API_ASYNC | ZS_API_ADMIN, .service = "gc", .params = p_uuid,
     .reply = ZS_REPLY_EMPTY},
    {.name = "DeleteGCJob", .klass = GC "APIDeleteGCJobMsg", .method = "DELETE",
     .path = "/gc-jobs/{uuid}", .flags = ZS_API_ASYNC | ZS_API_ADMIN, .service = "gc",
     .params = p_uuid, .reply = ZS_REPLY_EMPTY},
    /* Bus only: services hand deferred cleanup to svc-gc; ExpireGCJobs is the target of
     * svc-gc's own CycleBased housekeeping job (Done jobs go after gc.done-retention-days). */
    {.name = "SubmitGCJob", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "gc",
     .params = p_submit, .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_gc_job},
    {.name = "ExpireGCJobs", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "gc",
     .params = p_expire, .reply = ZS_REPLY_OTHER},
    {0},
};
