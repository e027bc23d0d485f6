/* broker.c — the broker service (broker.h): its module, which starts the event proxy, the
 * job side (jobs.h) and the webhook outbox (outbox.h). */
#include "broker.h"
#include "config.h"
#include "events.h"
#include "identity.h"
#include "jobs.h"
#include "log.h"
#include "node.h"
#include "outbox.h"
#include <czmq.h>

extern const zs_resource_t zs_res_api_job, zs_res_webhook_delivery;

static zactor_t *proxy;

/* XSUB (publishers connect) <-> XPUB (subscribers connect), see zs_events_proxy_new. */
static int start_proxy(void)
{
    char in_room[ZS_CONFIG_ENDPOINTS_SIZE], out_room[ZS_CONFIG_ENDPOINTS_SIZE];
    const char *in = zs_config_endpoints("events-in", in_room),
               *out = zs_config_endpoints("events-out", out_room);
    if (zs_node_prepare_endpoint(in) != 0 || zs_node_prepare_endpoint(out) != 0)
        return -1;
    json_t *error = NULL;   /* a second broker must not take over the live event endpoints */
    if (zs_identity_claim_endpoint(in, "zs-broker", &error) != 0 ||
        zs_identity_claim_endpoint(out, "zs-broker", &error) != 0) {
        zs_errorf("refusing to start: %s", zs_error_details(error));
        json_decref(error);
        return -1;
    }
    proxy = zs_events_proxy_new();
    return proxy ? 0 : -1;
}

static int broker_start(zs_service_t *svc)
{
    if (start_proxy() != 0) {
        zs_errorf("cannot start the event proxy");
        return -1;
    }
    if (outbox_start(svc) != 0 || jobs_start(svc) != 0)
        return -1;
    return 0;
}

static void broker_tick(zs_service_t *svc)
{
    jobs_tick(svc);
    outbox_tick(svc);
}

static void broker_stop(zs_service_t *svc)
{
    jobs_stop(svc);
    outbox_stop();
    zactor_destroy(&proxy);
}

static const zs_resource_t *const resources[] = {&zs_res_api_job, &zs_res_webhook_delivery, NULL};

static const zs_handler_t handlers[] = {
    {"SubmitJob", jobs_submit},
    {"GetApiJob", jobs_get},
    {"RetryWebhookDelivery", outbox_retry},
    {"EnqueueWebhook", outbox_enqueue},
    {NULL, NULL},
};

static const zs_module_t broker_module = {
    .name = "jobs",
    .resources = resources,
    .handlers = handlers,
    .start = broker_start,
    .tick = broker_tick,
    .stop = broker_stop,
};
static const zs_module_t *const modules[] = {&broker_module, NULL};

const zs_service_def_t zs_broker_service = {
    .name = "broker",
    .schema_version = 1,
    .modules = modules,
};
