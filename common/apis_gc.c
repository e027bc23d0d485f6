/* apis_gc.c — API rows and resources of svc-gc (apis.md §7, seed 004 §4.6).
 *
 * A GC job record: the inventory fields of the seed (uuid, name, runnerClass, context as JSON
 * text, status, managementNodeUuid, type, createDate, lastOpDate) plus ours (attempts,
 * lastError, nextRunDate), and hidden scheduling state: `trigger` (EventBased: {topic, match}),
 * `interval` (seconds, when the submitter chose one), `failures`, `failingNotified`. */
#include "api.h"

static const zs_field_t gc_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"runnerClass", ZS_FT_STRING, true, false},
    {"context", ZS_FT_STRING, false, false},
    {"status", ZS_FT_STRING, true, false},          /* Idle, Processing, Done */
    {"managementNodeUuid", ZS_FT_STRING, true, false},
    {"type", ZS_FT_STRING, true, false},            /* TimeBased, EventBased, CycleBased */
    {"attempts", ZS_FT_INT, false, false},
    {"lastError", ZS_FT_STRING, false, false},
    {"nextRunDate", ZS_FT_TIME, true, false},       /* absent once Done */
    {"createDate", ZS_FT_TIME, true, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    {"trigger", ZS_FT_JSON, false, true},
    {"interval", ZS_FT_INT, false, true},
    {"failures", ZS_FT_INT, false, true},           /* failed attempts in a row */
    {"failingNotified", ZS_FT_BOOL, false, true},
    {NULL, 0, false, false},
};
static const zs_class_t gc_class = {
    "org.zstack.core.gc.GarbageCollectorInventory", NULL, NULL, NULL, NULL,
};
const zs_resource_t zs_res_gc_job = {
    "GarbageCollector", "gcjobs", NULL, &gc_class, "gc",
    "GarbageCollectorVO", gc_fields, NULL,
};

const zs_resource_t *const zs_resources_gc[] = {&zs_res_gc_job, NULL};

static const char *const gc_types[] = {"TimeBased", "EventBased", "CycleBased", NULL};

static const zs_param_t p_uuid[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_submit[] = {
    {"name", ZS_P_STRING, true, 1, 255, NULL},
    {"runnerClass", ZS_P_STRING, true, 3, 160, NULL},
    {"context", ZS_P_OBJECT, false, 0, 0, NULL},
    {"type", ZS_P_STRING, false, 0, 0, gc_types},
    {"trigger", ZS_P_OBJECT, false, 0, 0, NULL},
    {"interval", ZS_P_INT, false, 1, 31536000, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_expire[] = {
    {"days", ZS_P_INT, false, 0, 36500, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_any[] = {{NULL, 0, false, 0, 0, NULL}};

#define GC "org.zstack.core.gc."
const zs_api_t zs_apis_gc[] = {
    {"QueryGCJob", GC "APIQueryGCJobMsg", "GET", "/gc-jobs", NULL, ZS_API_QUERY | ZS_API_ADMIN,
     "gc", p_any, ZS_REPLY_INVENTORIES, &zs_res_gc_job, NULL},
    {"TriggerGCJob", GC "APITriggerGCJobMsg", "PUT", "/gc-jobs/{uuid}/actions", "triggerGCJob",
     ZS_API_ASYNC | ZS_API_ADMIN, "gc", p_uuid, ZS_REPLY_EMPTY, NULL, NULL},
    {"DeleteGCJob", GC "APIDeleteGCJobMsg", "DELETE", "/gc-jobs/{uuid}", NULL,
     ZS_API_ASYNC | ZS_API_ADMIN, "gc", p_uuid, ZS_REPLY_EMPTY, NULL, NULL},
    /* Bus only: services hand deferred cleanup to svc-gc; ExpireGCJobs is the target of
     * svc-gc's own CycleBased housekeeping job (Done jobs go after gc.done-retention-days). */
    {"SubmitGCJob", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "gc", p_submit,
     ZS_REPLY_INVENTORY, &zs_res_gc_job, NULL},
    {"ExpireGCJobs", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "gc", p_expire,
     ZS_REPLY_OTHER, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
