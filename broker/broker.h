/* broker.h — the job broker (zs-broker): owns every async API job (jobs.h), delivers
 * webhooks (outbox.h), and runs the event proxy every process publishes to and subscribes
 * from. One module, in broker.c; main.c runs it. Loop thread only (service.h). */
#ifndef ZS_BROKER_H
#define ZS_BROKER_H
#include "service.h"

extern const zs_service_def_t zs_broker_service;

#endif
