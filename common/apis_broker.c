/* apis_broker.c — API rows and resources of the job broker (rest.md async jobs and webhook
 * delivery, apis.md §12). */
#include "api.h"

static const zs_field_t job_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "api", .type = ZS_FT_STRING},
    {.name = "service", .type = ZS_FT_STRING},
    /* Running, Succeeded, Failed, Expired */
    {.name = "state", .type = ZS_FT_STRING, .indexed = true},
    {.name = "deadline", .type = ZS_FT_EPOCH},
    /* when the result (or tombstone) goes */
    {.name = "expireAt", .type = ZS_FT_EPOCH, .indexed = true},
    {.name = "webhook", .type = ZS_FT_STRING},
    {.name = "request", .type = ZS_FT_JSON, .hidden = true},
    {.name = "result", .type = ZS_FT_JSON, .hidden = true},
    {.name = "status", .type = ZS_FT_INT},
    {.name = "createDate", .type = ZS_FT_TIME},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {0},
};
const zs_resource_t zs_res_api_job = {
    .name = "ApiJob", .collection = "jobs", .service = "broker", .fields = job_fields,
};

static const zs_field_t delivery_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "jobUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "url", .type = ZS_FT_STRING},
    {.name = "attempts", .type = ZS_FT_INT},
    {.name = "status", .type = ZS_FT_STRING, .indexed = true}, /* Pending, Delivered, Failed */
    {.name = "lastStatusCode", .type = ZS_FT_INT},
    {.name = "lastError", .type = ZS_FT_STRING},
    {.name = "nextAttemptDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "createDate", .type = ZS_FT_TIME},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {.name = "success", .type = ZS_FT_BOOL, .hidden = true},
    {.name = "body", .type = ZS_FT_STRING, .hidden = true},
    {0},
};
static const zs_class_t delivery_class = {
    .name = "org.zstack.header.webhook.WebhookDeliveryInventory",
};
const zs_resource_t zs_res_webhook_delivery = {
    .name = "WebhookDelivery", .collection = "deliveries", .klass = &delivery_class,
    .service = "broker", .fields = delivery_fields,
};

const zs_resource_t *const zs_resources_broker[] = {
    &zs_res_api_job, &zs_res_webhook_delivery, NULL,
};

static const zs_param_t p_get_job[] = {
    {.name = "uuid", .type = ZS_P_STRING, .required = true, .min = 1, .max = 64},
    {.name = "wait", .type = ZS_P_INT, .max = 60},
    {0},
};
static const zs_param_t p_uuid[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {0},
};
static const zs_param_t p_submit[] = {
    {.name = "api", .type = ZS_P_STRING, .required = true, .min = 1, .max = 127},
    {.name = "id", .type = ZS_P_UUID, .required = true},
    {.name = "params", .type = ZS_P_OBJECT, .required = true},
    {.name = "deadline", .type = ZS_P_INT, .required = true},
    {.name = "webhook", .type = ZS_P_STRING, .max = 2048},
    {0},
};
static const zs_param_t p_any[] = {{0}};

const zs_api_t zs_apis_broker[] = {
    {.name = "GetApiJob", .klass = "org.zstack.header.rest.APIGetApiJobMsg", .method = "GET",
     .path = "/api-jobs/{uuid}", .flags = ZS_API_NO_SESSION, .service = "broker",
     .params = p_get_job, .reply = ZS_REPLY_OTHER},
    {.name = "QueryWebhookDelivery", .method = "GET", .path = "/webhook-deliveries",
     .flags = ZS_API_QUERY | ZS_API_ADMIN, .service = "broker", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_webhook_delivery},
    {.name = "RetryWebhookDelivery", .method = "PUT", .path = "/webhook-deliveries/{uuid}/actions",
     .action = "retryWebhookDelivery", .flags = ZS_API_ADMIN | ZS_API_WRITES,
     .service = "broker", .params = p_uuid, .reply = ZS_REPLY_EMPTY},
    /* Bus only: the gateway hands an async call to the broker. */
    {.name = "SubmitJob", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "broker",
     .params = p_submit, .reply = ZS_REPLY_OTHER},
    /* Bus only: another service's webhook (e.g. notification.webhook-url) through the same
     * durable outbox as job webhooks; X-Job-UUID carries jobUuid (default: a fresh uuid). */
    {.name = "EnqueueWebhook", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "broker",
     .params = (const zs_param_t[]){
         {.name = "url", .type = ZS_P_STRING, .required = true, .min = 1, .max = 2048},
         {.name = "body", .type = ZS_P_OBJECT, .required = true},
         {.name = "jobUuid", .type = ZS_P_STRING, .min = 1, .max = 64},
         {.name = "success", .type = ZS_P_BOOL},
         {0}},
     .reply = ZS_REPLY_OTHER},
    {0},
};
