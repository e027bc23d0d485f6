/* outbox.c — see outbox.h. */
#include "outbox.h"
#include "backoff.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "target.h"
#include "uuid.h"
#include <arpa/inet.h>
#include <curl/curl.h>
#include <czmq.h>
#include <sodium.h>
#include <stdatomic.h>
#include <strings.h>

#define COLL "deliveries"
#define MAX_IN_FLIGHT 2000
#define MAX_IDLE_HANDLES 64   /* curl easy handles kept for reuse by the sender */

extern const zs_resource_t zs_res_webhook_delivery;

/* The module's state (zs_service_module_state). */
typedef struct {
    zactor_t *sender;
    CURLM *multi;            /* used by the sender thread; curl_multi_wakeup is thread-safe */
    zhashx_t *in_flight;     /* delivery uuids handed to the sender, not yet answered */
    atomic_bool woken;       /* the sender was woken for deliveries it has not taken yet: one
                              * wake-up (a system call) serves a whole batch's deliveries */
} outbox_t;

static outbox_t *outbox_of(zs_service_t *svc)
{
    return zs_service_module_state(svc, &outbox_module);
}

const char *outbox_url_refusal(const char *url)
{
    return target_url_refusal(url, NULL, 0);
}

/* ---- the sender thread --------------------------------------------------------------- */

/* The loop and the sender speak in multi-part messages of plain strings (zsock_send
 * pictures), not JSON documents: a delivery is [uuid, jobUuid, url, "1"|"0" (success), body]
 * (the body is stored as text already), an outcome [uuid, code, error, "1"|"0" (refused)].
 * ZeroMQ hands over a multi-part message whole, so once its first frame is read the others
 * are there to read. */

typedef struct {
    char uuid[ZS_UUID_LEN + 1];
    char *body;
    struct curl_slist *headers;
    char error[CURL_ERROR_SIZE];
    char host[256];     /* the URL's host, for the connect-time check */
    bool refused;       /* the target address is not allowed: the delivery fails for good */
    char refusal[CURL_ERROR_SIZE];   /* why (curl writes its own text into error) */
} attempt_t;

/* Every connection curl opens for a hook goes through here: the address it is about to
 * connect to is judged by target.h, whatever name, DNS answer or URL trick led there. */
static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    attempt_t *a = arg;
    (void)purpose;
    char why[200];
    if (a->refused)   /* refused at start_attempt already */
        return CURL_SOCKET_BAD;
    if (!target_address_allowed(a->host, &addr->addr, why, sizeof why)) {
        a->refused = true;
        snprintf(a->refusal, sizeof a->refusal, "refused before connecting: %.200s", why);
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* Standard-Webhooks: v1,<base64 HMAC-SHA256 of "id.timestamp.body">. */
static struct curl_slist *sign(struct curl_slist *h, const char *id, const char *body)
{
    const char *secret = zs_config_get("webhook.secret", NULL);
    if (!secret || !*secret)
        return h;
    unsigned char key[256];
    size_t klen = 0;
    if (strncmp(secret, "whsec_", 6) == 0) {
        if (sodium_base642bin(key, sizeof key, secret + 6, strlen(secret + 6), NULL, &klen, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0)
            klen = 0;
    } else {
        klen = strlen(secret) < sizeof key ? strlen(secret) : sizeof key;
        memcpy(key, secret, klen);
    }
    char ts[32], line[256];
    snprintf(ts, sizeof ts, "%lld", (long long)(zs_now_ms() / 1000));
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&st, key, klen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)id, strlen(id));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, strlen(ts));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    char b64[sodium_base64_ENCODED_LEN(sizeof mac, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    snprintf(line, sizeof line, "webhook-id: %s", id);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "webhook-timestamp: %s", ts);
    h = curl_slist_append(h, line);
    snprintf(line, sizeof line, "webhook-signature: v1,%s", b64);
    return curl_slist_append(h, line);
}

/* Ends attempt `c`: its handle goes back to `idle` (reset, for the next attempt: setting up
 * a fresh one per delivery showed in the broker's profile) unless enough wait there. */
static void free_attempt(CURLM *multi, CURL *c, zlistx_t *idle)
{
    attempt_t *a;
    curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&a);
    curl_multi_remove_handle(multi, c);
    if (idle && zlistx_size(idle) < MAX_IDLE_HANDLES) {
        curl_easy_reset(c);
        zlistx_add_end(idle, c);
    } else {
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(a->headers);
    free(a->body);
    free(a);
}

/* Starts the delivery whose first frame, its uuid, was just read from `pipe`; `body` is read
 * into the attempt, which owns it. */
static void start_attempt(CURLM *multi, zsock_t *pipe, const char *uuid, zlistx_t *active, zlistx_t *idle)
{
    char *job = zstr_recv(pipe), *url = zstr_recv(pipe), *success = zstr_recv(pipe), *body = zstr_recv(pipe);
    attempt_t *a = calloc(1, sizeof *a);
    if (!a || !job || !url || !success || !body) {
        /* Out of memory: reported as a failed attempt, so that the loop records it and
         * schedules the next one (the delivery stays in flight until an outcome comes). */
        zsock_send(pipe, "sisi", uuid, 0, "out of memory starting the attempt", 0);
        free(a);
        zstr_free(&job), zstr_free(&url), zstr_free(&success), zstr_free(&body);
        return;
    }
    snprintf(a->uuid, sizeof a->uuid, "%s", uuid);
    a->body = body;
    char line[128];
    a->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    snprintf(line, sizeof line, "X-Job-UUID: %.64s", job);
    a->headers = curl_slist_append(a->headers, line);
    snprintf(line, sizeof line, "X-Job-Success: %s", strcmp(success, "1") == 0 ? "true" : "false");
    a->headers = curl_slist_append(a->headers, line);
    a->headers = sign(a->headers, a->uuid, a->body);
    const char *bad = target_url_refusal(url, a->host, sizeof a->host);   /* the policy may have changed */
    if (bad) {
        a->refused = true;
        snprintf(a->refusal, sizeof a->refusal, "refused: %.200s", bad);
    }
    CURL *c = zlistx_detach(idle, NULL);
    if (!c)
        c = curl_easy_init();
    /* A refused URL still goes through curl (one path for every outcome) but never leaves
     * the process: open_checked refuses its socket, and a literal address needs no DNS. */
    curl_easy_setopt(c, CURLOPT_URL, bad ? "http://127.0.0.1/" : url);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, a);
    curl_easy_setopt(c, CURLOPT_PROXY, "");   /* no proxy from the environment: we judge the target */
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, a->body);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, a->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)zs_config_int("webhook.timeout", 10) * 1000);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, a->error);
    curl_easy_setopt(c, CURLOPT_PRIVATE, a);
    curl_multi_add_handle(multi, c);
    zlistx_add_end(active, c);
    zstr_free(&job), zstr_free(&url), zstr_free(&success);
}

static void finish_attempts(CURLM *multi, zsock_t *pipe, zlistx_t *active, zlistx_t *idle)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *c = m->easy_handle;
        attempt_t *a;
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_PRIVATE, (char **)&a);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        const char *err = m->data.result == CURLE_OK ? "" : a->error[0] ? a->error
                                                                        : curl_easy_strerror(m->data.result);
        zsock_send(pipe, "sisi", a->uuid, (int)code, a->refused ? a->refusal : err, (int)a->refused);
        zlistx_delete(active, zlistx_find(active, c));
        free_attempt(multi, c, idle);
    }
}

/* The curl thread; arg is the outbox (its multi handle and wake-up flag). */
static void sender_actor(zsock_t *pipe, void *arg)
{
    outbox_t *O = arg;
    CURLM *multi = O->multi;
    zsock_signal(pipe, 0);
    zlistx_t *active = zlistx_new(), *idle = zlistx_new();
    bool running = true;
    while (running) {
        int n = 0;
        curl_multi_poll(multi, NULL, 0, 1000, &n);
        /* Cleared before taking what waits: a delivery sent from here on wakes this thread
         * again (the wake-up is kept until the next poll), one sent before is taken below.
         * Received until none is left (zstr_recv_nowait): asking before each one
         * (zsock_events) cost libzmq a poll and a getpid per delivery. */
        atomic_store(&O->woken, false);
        for (char *cmd; (cmd = zstr_recv_nowait(pipe));) {
            if (strcmp(cmd, "$TERM") == 0) {
                running = false;
                zstr_free(&cmd);
                break;
            }
            start_attempt(multi, pipe, cmd, active, idle);
            zstr_free(&cmd);
        }
        int still;
        curl_multi_perform(multi, &still);
        finish_attempts(multi, pipe, active, idle);
    }
    /* Attempts still in flight are abandoned; their records stay Pending and are retried
     * after the next start. */
    for (CURL *c = zlistx_first(active); c; c = zlistx_next(active))
        free_attempt(multi, c, NULL);
    for (CURL *c = zlistx_first(idle); c; c = zlistx_next(idle))
        curl_easy_cleanup(c);
    zlistx_destroy(&active);
    zlistx_destroy(&idle);
}

/* ---- records ------------------------------------------------------------------------- */

static void send_attempt(outbox_t *O, const json_t *rec)
{
    const char *uuid = json_string_value(json_object_get(rec, "uuid"));
    if (!uuid || zhashx_lookup(O->in_flight, uuid) || zhashx_size(O->in_flight) >= MAX_IN_FLIGHT)
        return;
    const char *job = json_string_value(json_object_get(rec, "jobUuid")),
               *url = json_string_value(json_object_get(rec, "url")),
               *body = json_string_value(json_object_get(rec, "body"));
    if (zsock_send(O->sender, "sssis", uuid, job ? job : "", url ? url : "",
                   (int)json_is_true(json_object_get(rec, "success")), body ? body : "{}") != 0)
        return;   /* left Pending: the tick sends it again */
    zhashx_insert(O->in_flight, uuid, (void *)1);
    if (!atomic_exchange(&O->woken, true))
        curl_multi_wakeup(O->multi);
}

static void send_after_commit(zs_service_t *svc, void *arg)
{
    json_t *rec = arg;
    send_attempt(outbox_of(svc), rec);
    json_decref(rec);
}

int outbox_add(zs_service_t *svc, MDB_txn *txn, const char *job_uuid, const char *url,
               bool success, const json_t *body)
{
    char uuid[ZS_UUID_LEN + 1];
    zs_uuid_new_ordered(uuid);
    int64_t now = zs_now_ms();
    char *text = json_dumps(body, JSON_COMPACT);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:I, s:I, s:b, s:s}", "uuid", uuid,
                            "jobUuid", job_uuid, "url", url, "attempts", 0, "status", "Pending",
                            "nextAttemptDate", (json_int_t)now, "createDate", (json_int_t)now,
                            "lastOpDate", (json_int_t)now, "success", success, "body",
                            text ? text : "{}");
    free(text);
    int rc = zs_store_put(zs_service_store(svc), txn, COLL, uuid, rec);
    if (rc == 0)
        zs_service_after_commit(svc, send_after_commit, rec, zs_drop_json);
    else
        json_decref(rec);
    return rc;
}

/* Next attempt: base × 2^(attempts-1), capped at an hour, ±50 % jitter. */
static int64_t backoff_ms(int attempts)
{
    return zs_backoff_ms(zs_config_int("webhook.retry-base-ms", 2000), 3600 * 1000, attempts, 50, 150);
}

/* An attempt's outcome, as the sender reported it. */
typedef struct {
    char uuid[ZS_UUID_LEN + 1];
    int code;                       /* the HTTP status, 0 when none came */
    bool refused;                   /* the target was refused: failed for good */
    char error[CURL_ERROR_SIZE];    /* why it failed, "" on a 2xx */
} outcome_t;

typedef struct {
    size_t n, cap;
    outcome_t *at;
} outcomes_t;

static void outcomes_free(outcomes_t *o)
{
    if (o)
        free(o->at);
    free(o);
}

static int record_result(zs_service_t *svc, MDB_txn *txn, const outcome_t *r)
{
    const char *uuid = r->uuid, *err = r->error;
    int code = r->code;
    zs_store_t *store = zs_service_store(svc);
    json_t *rec = zs_store_get(store, txn, COLL, uuid);
    if (!rec)
        return 0;
    int64_t now = zs_now_ms();
    int attempts = (int)json_integer_value(json_object_get(rec, "attempts")) + 1;
    json_object_set_new(rec, "attempts", json_integer(attempts));
    json_object_set_new(rec, "lastOpDate", json_integer(now));
    if (code)
        json_object_set_new(rec, "lastStatusCode", json_integer(code));
    const char *status = "Pending";
    if (code >= 200 && code < 300) {
        status = "Delivered";
        json_object_del(rec, "lastError");
    } else {
        char why[512];
        snprintf(why, sizeof why, "%s", err && *err ? err : "");
        if (!*why)
            snprintf(why, sizeof why, "the receiver answered HTTP %d", code);
        json_object_set_new(rec, "lastError", json_string(why));
        int64_t window = zs_config_int("webhook.window", 24 * 3600) * 1000;
        if (code == 410 || r->refused)
            status = "Failed";
        else if (now - json_integer_value(json_object_get(rec, "createDate")) > window)
            status = "Failed";
    }
    json_object_set_new(rec, "status", json_string(status));
    if (strcmp(status, "Pending") == 0)
        json_object_set_new(rec, "nextAttemptDate", json_integer(now + backoff_ms(attempts)));
    else
        json_object_del(rec, "nextAttemptDate");   /* leaves the index of due deliveries */
    int rc = zs_store_put(store, txn, COLL, uuid, rec);
    zs_log(strcmp(status, "Delivered") == 0 ? ZS_DEBUG : ZS_INFO,
           json_string_value(json_object_get(rec, "jobUuid")), "webhook %s attempt %d: %s", uuid,
           attempts, strcmp(status, "Delivered") == 0 ? "delivered" : json_string_value(json_object_get(rec, "lastError")));
    json_decref(rec);
    return rc;
}

/* Records every attempt outcome waiting on the sender's pipe in ONE transaction (one fsync
 * for the lot, like the batches of the service loop). */
static int record_results(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    const outcomes_t *o = arg;
    for (size_t i = 0; i < o->n; i++) {
        int rc = record_result(svc, txn, &o->at[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* After the batch that recorded the outcomes committed (rc 0) or failed: only now do the
 * deliveries leave the in-flight set, so the tick cannot send one again while its outcome
 * waits for the commit. Not recorded: they stay Pending and are attempted again. */
static void results_recorded(zs_service_t *svc, void *arg, int rc)
{
    outbox_t *O = outbox_of(svc);
    outcomes_t *o = arg;
    for (size_t i = 0; i < o->n; i++)
        zhashx_delete(O->in_flight, o->at[i].uuid);
    if (rc != 0)
        zs_errorf("recording %zu webhook attempts failed: %s", o->n, zs_store_strerror(rc));
    outcomes_free(o);
}

/* Reads the rest of the outcome whose uuid frame was just read into the next place of `o`,
 * grown as needed. Returns false when memory runs out (the outcome is lost: its delivery
 * stays Pending and in flight until the broker restarts, like one the sender never sent). */
static bool take_outcome(void *sock, outcomes_t *o, const char *uuid)
{
    char *code = zstr_recv(sock), *error = zstr_recv(sock), *refused = zstr_recv(sock);
    bool ok = code && error && refused;
    if (ok && o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 64;
        outcome_t *at = realloc(o->at, cap * sizeof *at);
        ok = at != NULL;
        if (at)
            o->at = at, o->cap = cap;
    }
    if (ok) {
        outcome_t *r = &o->at[o->n++];
        snprintf(r->uuid, sizeof r->uuid, "%s", uuid);
        r->code = atoi(code);
        r->refused = strcmp(refused, "1") == 0;
        snprintf(r->error, sizeof r->error, "%s", error);
    }
    zstr_free(&code), zstr_free(&error), zstr_free(&refused);
    return ok;
}

static void on_sender(zs_service_t *svc, void *sock)
{
    outcomes_t *o = calloc(1, sizeof *o);
    if (!o)
        return;   /* read again on the next turn */
    for (char *uuid; o->n < 1024 && (uuid = zstr_recv_nowait(sock));) {
        if (!take_outcome(sock, o, uuid))
            zs_errorf("out of memory reading the outcome of webhook delivery %s", uuid);
        zstr_free(&uuid);
    }
    /* Recorded in the loop's next batch: one commit (one fsync) with the jobs and requests
     * of that turn, not one of its own. */
    if (o->n)
        zs_service_write_later(svc, record_results, results_recorded, o);
    else
        outcomes_free(o);
}

/* ---- due deliveries ------------------------------------------------------------------ */

/* Once a second: sends the deliveries that are due. */
static void outbox_tick(zs_service_t *svc)
{
    outbox_t *O = outbox_of(svc);
    if (zhashx_size(O->in_flight) >= MAX_IN_FLIGHT)
        return;
    zs_store_t *store = zs_service_store(svc);
    MDB_txn *txn;
    if (zs_store_begin(store, NULL, false, &txn) != 0)
        return;
    json_t *due = zs_store_find_upto(store, txn, COLL, "nextAttemptDate", zs_now_ms(),
                                     MAX_IN_FLIGHT - zhashx_size(O->in_flight));
    size_t i;
    json_t *u;
    json_array_foreach(due, i, u) {
        json_t *rec = zs_store_get(store, txn, COLL, json_string_value(u));
        if (rec && strcmp(json_string_value(json_object_get(rec, "status")), "Pending") == 0)
            send_attempt(O, rec);
        json_decref(rec);
    }
    mdb_txn_abort(txn);
    json_decref(due);
}

static json_t *outbox_retry(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *rec = zs_store_get(store, call->txn, COLL, uuid);
    if (!rec)
        return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "webhook delivery[%s] is not found", uuid);
    /* A retry starts a fresh window: the delivery is due now. */
    int64_t now = zs_now_ms();
    json_object_set_new(rec, "status", json_string("Pending"));
    json_object_set_new(rec, "nextAttemptDate", json_integer(now));
    json_object_set_new(rec, "createDate", json_integer(now));
    json_object_set_new(rec, "lastOpDate", json_integer(now));
    int rc = zs_store_put(store, call->txn, COLL, uuid, rec);
    if (rc != 0) {
        json_decref(rec);
        return zs_call_store_fail(call, error, rc);
    }
    zs_service_after_commit(call->svc, send_after_commit, rec, zs_drop_json);
    return json_object();
}

static json_t *outbox_enqueue(zs_call_t *call, json_t **error)
{
    const char *url = zs_call_str(call, "url"), *job = zs_call_str(call, "jobUuid");
    const char *why = outbox_url_refusal(url);
    if (why)
        return zs_call_invalid(call, error, "webhook url[%.200s]: %s", url, why);
    char fresh[ZS_UUID_LEN + 1];
    json_t *success = json_object_get(call->req->body, "success");
    int rc = outbox_add(call->svc, call->txn, job ? job : zs_uuid_new_ordered(fresh), url,
                        !success || json_is_true(success), json_object_get(call->req->body, "body"));
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    return json_object();
}

static void outbox_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    outbox_t *O = state;
    zactor_destroy(&O->sender);
    if (O->multi)
        curl_multi_cleanup(O->multi);
    zhashx_destroy(&O->in_flight);
    curl_global_cleanup();
    free(O);
}

static void *outbox_create(zs_service_t *svc)
{
    outbox_t *O = calloc(1, sizeof *O);
    if (!O)
        return NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    O->multi = curl_multi_init();
    O->in_flight = zhashx_new();
    if (O->multi) {
        curl_multi_setopt(O->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 256L);
        /* A few keep-alive connections per receiver, each reused for many deliveries, the
         * rest queued in curl: a burst opening hundreds of connections to one receiver
         * overflows its accept queue, and a dropped SYN is retried after 1 s, then 3 s. */
        curl_multi_setopt(O->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                          (long)zs_config_int("webhook.connections-per-receiver", 16));
        O->sender = zactor_new(sender_actor, O);
    }
    if (!O->multi || !O->sender || zs_service_watch(svc, O->sender, on_sender) != 0) {
        outbox_destroy(svc, O);
        return NULL;
    }
    return O;
}

static const zs_resource_t *const resources[] = {&zs_res_webhook_delivery, NULL};

static const zs_handler_t handlers[] = {
    {"RetryWebhookDelivery", outbox_retry},
    {"EnqueueWebhook", outbox_enqueue},
    {NULL, NULL},
};

const zs_module_t outbox_module = {
    .name = "webhooks",
    .resources = resources,
    .handlers = handlers,
    .create = outbox_create,
    .destroy = outbox_destroy,
    .tick = outbox_tick,
};
