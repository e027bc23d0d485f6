/* metrics.c — see metrics.h. Slots: one per API row (+1 for unrouted requests) × the status
 * codes the suite answers. */
#include "metrics.h"
#include "config.h"
#include "error.h"
#include "http.h"
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SLOTS 513
static const int statuses[] = {200, 202, 400, 401, 403, 404, 405, 413, 429, 500, 503};
#define NSTATUS (sizeof statuses / sizeof statuses[0])
static const int64_t bounds_ms[] = {1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000};
#define NBOUNDS (sizeof bounds_ms / sizeof bounds_ms[0])

static atomic_ullong counts[MAX_SLOTS][NSTATUS];
static atomic_ullong buckets[MAX_SLOTS][NBOUNDS + 1];
static atomic_ullong sum_ms[MAX_SLOTS];

static size_t slot_of(const zs_api_t *api)
{
    if (!api)
        return 0;
    for (size_t i = 0; i < zs_api_count() && i + 1 < MAX_SLOTS; i++)
        if (zs_api_at(i) == api)
            return i + 1;
    return 0;
}

void metrics_count(const zs_api_t *api, int status, int64_t ms)
{
    size_t slot = slot_of(api);
    for (size_t s = 0; s < NSTATUS; s++)
        if (statuses[s] == status)
            atomic_fetch_add(&counts[slot][s], 1);
    size_t b = 0;
    while (b < NBOUNDS && ms > bounds_ms[b])
        b++;
    atomic_fetch_add(&buckets[slot][b], 1);
    atomic_fetch_add(&sum_ms[slot], (unsigned long long)(ms < 0 ? 0 : ms));
}

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < *cap - *len) {
            *len += (size_t)n;
            return;
        }
        *cap *= 2;
        *buf = realloc(*buf, *cap);
    }
}

static bool loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 || strncmp(addr, "::ffff:127.", 11) == 0;
}

/* NULL when `conn` may read the metrics, else why not. */
static const char *refusal(struct mg_connection *conn)
{
    const char *token = zs_config_get("gateway.metrics-token", NULL);
    if (token && *token) {
        const char *h = mg_get_header(conn, "Authorization");
        size_t n = strlen(token);
        if (h && strncasecmp(h, "Bearer ", 7) == 0 && strlen(h + 7) == n && sodium_memcmp(h + 7, token, n) == 0)
            return NULL;
        return "the metrics need Authorization: Bearer <gateway.metrics-token>";
    }
    const char *access = zs_config_get("gateway.metrics-access", "loopback");
    if (strcmp(access, "open") == 0)
        return NULL;
    if (strcmp(access, "loopback") == 0 && loopback(mg_get_request_info(conn)->remote_addr))
        return NULL;
    return "the metrics are readable from the gateway's own host only (gateway.metrics-access)";
}

int metrics_serve(struct mg_connection *conn)
{
    const char *why = refusal(conn);
    if (why)
        return http_error(conn, 403, zs_error(ZS_ID_DENIED, "%s", why));
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    buf[0] = '\0';
    append(&buf, &len, &cap, "# TYPE zs_requests_total counter\n");
    for (size_t slot = 0; slot <= zs_api_count() && slot < MAX_SLOTS; slot++) {
        const char *name = slot ? zs_api_at(slot - 1)->name : "unrouted";
        for (size_t s = 0; s < NSTATUS; s++) {
            unsigned long long c = atomic_load(&counts[slot][s]);
            if (c)
                append(&buf, &len, &cap, "zs_requests_total{api=\"%s\",code=\"%d\"} %llu\n", name,
                       statuses[s], c);
        }
    }
    append(&buf, &len, &cap, "# TYPE zs_request_duration_ms histogram\n");
    for (size_t slot = 0; slot <= zs_api_count() && slot < MAX_SLOTS; slot++) {
        const char *name = slot ? zs_api_at(slot - 1)->name : "unrouted";
        unsigned long long total = 0;
        for (size_t b = 0; b <= NBOUNDS; b++)
            total += atomic_load(&buckets[slot][b]);
        if (!total)
            continue;
        unsigned long long acc = 0;
        for (size_t b = 0; b < NBOUNDS; b++) {
            acc += atomic_load(&buckets[slot][b]);
            append(&buf, &len, &cap, "zs_request_duration_ms_bucket{api=\"%s\",le=\"%lld\"} %llu\n",
                   name, (long long)bounds_ms[b], acc);
        }
        append(&buf, &len, &cap, "zs_request_duration_ms_bucket{api=\"%s\",le=\"+Inf\"} %llu\n", name, total);
        append(&buf, &len, &cap, "zs_request_duration_ms_sum{api=\"%s\"} %llu\n", name,
               atomic_load(&sum_ms[slot]));
        append(&buf, &len, &cap, "zs_request_duration_ms_count{api=\"%s\"} %llu\n", name, total);
    }
    char head[256];
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                        "Content-Length: %zu\r\n\r\n", len);
    char *all = malloc((size_t)hlen + len);
    memcpy(all, head, (size_t)hlen);
    memcpy(all + hlen, buf, len);
    mg_write(conn, all, (size_t)hlen + len);
    free(all);
    free(buf);
    return 200;
}
