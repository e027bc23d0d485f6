/* metrics.h — the gateway's Prometheus metrics (GET /metrics): requests by API and status,
 * a latency histogram per API. Counters are atomics: any worker thread may count. */
#ifndef ZS_GATEWAY_METRICS_H
#define ZS_GATEWAY_METRICS_H
#include "api.h"
#include <civetweb.h>
#include <stdint.h>

/* Counts one request of `api` (NULL: unrouted) answered with `status` after `ms`. */
void metrics_count(const zs_api_t *api, int status, int64_t ms);
/* Writes the text exposition format and returns 200 when the caller may read it, else
 * answers 403: with gateway.metrics-token set, the request must carry
 * "Authorization: Bearer <token>"; otherwise gateway.metrics-access decides: "loopback"
 * (default: clients on the gateway's host only), "open" (anyone) or "off". */
int metrics_serve(struct mg_connection *conn);

#endif
