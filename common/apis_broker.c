/* apis_broker.c — API rows and resources of the job broker (rest.md async jobs and webhook
 * delivery, apis.md §12). */
#include "api.h"

static const zs_field_t job_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"api", ZS_FT_STRING, false, false},
    {"service", ZS_FT_STRING, false, false},
    {"state", ZS_FT_STRING, true, false},           /* Running, Succeeded, Failed, Expired */
    {"deadline", ZS_FT_EPOCH, false, false},
    {"expireAt", ZS_FT_EPOCH, true, false},         /* when the result (or tombstone) goes */
    {"webhook", ZS_FT_STRING, false, false},
    {"request", ZS_FT_JSON, false, true},
    {"result", ZS_FT_JSON, false, true},
    {"status", ZS_FT_INT, false, false},
    {"createDate", ZS_FT_TIME, false, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    {NULL, 0, false, false},
};
const zs_resource_t zs_res_api_job = {
    "ApiJob", "jobs", NULL, NULL, "broker", NULL, job_fields, NULL,
};

static const zs_field_t delivery_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"jobUuid", ZS_FT_STRING, true, false},
    {"url", ZS_FT_STRING, false, false},
    {"attempts", ZS_FT_INT, false, false},
    {"status", ZS_FT_STRING, true, false},          /* Pending, Delivered, Failed */
    {"lastStatusCode", ZS_FT_INT, false, false},
    {"lastError", ZS_FT_STRING, false, false},
    {"nextAttemptDate", ZS_FT_TIME, true, false},
    {"createDate", ZS_FT_TIME, false, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    {"success", ZS_FT_BOOL, false, true},
    {"body", ZS_FT_STRING, false, true},
    {NULL, 0, false, false},
};
static const zs_class_t delivery_class = {
    "org.zstack.header.webhook.WebhookDeliveryInventory", NULL, NULL, NULL,
    NULL,
};
const zs_resource_t zs_res_webhook_delivery = {
    "WebhookDelivery", "deliveries", NULL, &delivery_class,
    "broker", NULL, delivery_fields, NULL,
};

const zs_resource_t *const zs_resources_broker[] = {&zs_res_api_job, &zs_res_webhook_delivery, NULL};

static const zs_param_t p_get_job[] = {
    {"uuid", ZS_P_STRING, true, 1, 64, NULL},
    {"wait", ZS_P_INT, false, 0, 60, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_uuid[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_submit[] = {
    {"api", ZS_P_STRING, true, 1, 127, NULL},
    {"id", ZS_P_UUID, true, 0, 0, NULL},
    {"params", ZS_P_OBJECT, true, 0, 0, NULL},
    {"deadline", ZS_P_INT, true, 0, 0, NULL},
    {"webhook", ZS_P_STRING, false, 0, 2048, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_any[] = {{NULL, 0, false, 0, 0, NULL}};

const zs_api_t zs_apis_broker[] = {
    {"GetApiJob", "org.zstack.header.rest.APIGetApiJobMsg", "GET", "/api-jobs/{uuid}", NULL,
     ZS_API_NO_SESSION, "broker", p_get_job, ZS_REPLY_OTHER, NULL, NULL},
    {"QueryWebhookDelivery", NULL, "GET", "/webhook-deliveries", NULL, ZS_API_QUERY | ZS_API_ADMIN,
     "broker", p_any, ZS_REPLY_INVENTORIES, &zs_res_webhook_delivery, NULL},
    {"RetryWebhookDelivery", NULL, "PUT", "/webhook-deliveries/{uuid}/actions",
     "retryWebhookDelivery", ZS_API_ADMIN | ZS_API_WRITES, "broker", p_uuid, ZS_REPLY_EMPTY, NULL,
     NULL},
    /* Bus only: the gateway hands an async call to the broker. */
    {"SubmitJob", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "broker", p_submit,
     ZS_REPLY_OTHER, NULL, NULL},
    /* Bus only: another service's webhook (e.g. notification.webhook-url) through the same
     * durable outbox as job webhooks; X-Job-UUID carries jobUuid (default: a fresh uuid). */
    {"EnqueueWebhook", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "broker",
     (const zs_param_t[]){{"url", ZS_P_STRING, true, 1, 2048, NULL},
                          {"body", ZS_P_OBJECT, true, 0, 0, NULL},
                          {"jobUuid", ZS_P_STRING, false, 1, 64, NULL},
                          {"success", ZS_P_BOOL, false, 0, 0, NULL},
                          {NULL, 0, false, 0, 0, NULL}},
     ZS_REPLY_OTHER, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
