/* broker.c — the broker service (broker.h): its modules, the event proxy, the webhook outbox
 * (outbox.h) and the job side (jobs.h). */
#include "broker.h"
#include "config.h"
#include "events.h"
#include "identity.h"
#include "jobs.h"
#include "log.h"
#include "node.h"
#include "outbox.h"
#include <czmq.h>

/* XSUB (publishers connect) <-> XPUB (subscribers connect), see zs_events_proxy_new. The
 * module's state is the proxy actor. */
static void *proxy_create(zs_service_t *svc)
{
    (void)svc;
    char in_room[ZS_CONFIG_ENDPOINTS_SIZE], out_room[ZS_CONFIG_ENDPOINTS_SIZE];
    const char *in = zs_config_endpoints("events-in", in_room),
               *out = zs_config_endpoints("events-out", out_room);
    char why[1500];   /* a second broker must not take over the live event endpoints */
    zactor_t *proxy = NULL;
    if (zs_node_prepare_endpoint(in) != 0 || zs_node_prepare_endpoint(out) != 0) {
        snprintf(why, sizeof why, "cannot create the directories of %s and %s", in, out);
    } else if (zs_identity_claim_endpoint(in, "zs-broker", why, sizeof why) == 0 &&
               zs_identity_claim_endpoint(out, "zs-broker", why, sizeof why) == 0) {
        proxy = zs_events_proxy_new();
        snprintf(why, sizeof why, "it did not start");
    }
    if (!proxy)
        zs_errorf("cannot start the event proxy: %s", why);
    return proxy;
}

static void proxy_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    zactor_t *proxy = state;
    zactor_destroy(&proxy);
}

static const zs_module_t proxy_module = {
    .name = "events",
    .create = proxy_create,
    .destroy = proxy_destroy,
};
/* The proxy first; the outbox before the jobs, whose completions record deliveries in it. */
static const zs_module_t *const modules[] = {&proxy_module, &outbox_module, &jobs_module, NULL};

const zs_service_def_t zs_broker_service = {
    .name = "broker",
    .schema_version = 1,
    .modules = modules,
};
