/* metrics.h — the gateway's Prometheus metrics (GET /metrics): requests by API and status,
 * a latency histogram per API. Counters are atomics: any worker thread may count. */
#ifndef ZS_GATEWAY_METRICS_H
#define ZS_GATEWAY_METRICS_H
#include "api.h"
#include <civetweb.h>
#include <stdint.h>

/* Counts one request of `api` (NULL: unrouted) answered with `status` after `ms`. */
void metrics_count(const zs_api_t *api, int status, int64_t ms);
/* Writes the text exposition format. Returns 200. */
int metrics_serve(struct mg_connection *conn);

#endif
