/* zs-gateway — HTTP in, bus out. Routes every request through the API table, authenticates,
 * validates, and hands the call to its service (sync) or to the broker (async, 202).
 * Stateless: any number of gateways may run side by side. */
#include "api.h"
#include "bus.h"
#include "clock.h"
#include "config.h"
#include "console.h"
#include "error.h"
#include "guard.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "node.h"
#include "openapi.h"
#include "route.h"
#include "session.h"
#include "uuid.h"
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static _Thread_local zs_bus_t *thread_bus;   /* each civetweb worker has its own sockets */
static atomic_int waiters;                   /* long polls holding a worker thread now */
static int max_waiters;
static size_t body_limit;
static int64_t sync_timeout_ms, default_job_timeout_ms;

static zs_bus_t *bus(void)
{
    if (!thread_bus)
        thread_bus = zs_bus_new();
    return thread_bus;
}

static void exit_thread(const struct mg_context *ctx, int type, void *data)
{
    (void)ctx;
    (void)type;
    (void)data;
    zs_bus_destroy(&thread_bus);
}

/* ---- request pieces ------------------------------------------------------------------ */

typedef struct {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    const zs_api_t *api;
    json_t *params;     /* what the API receives */
    json_t *caller;     /* identity, or NULL */
    int64_t started;
    json_t *refusal;    /* ZS_API_FOREIGN rows: {"status", "error"} handed to the service */
} request_t;

static int fail(request_t *r, int status, json_t *error)
{
    return http_error(r->conn, status, error);
}

static bool foreign(const request_t *r)
{
    return r->api && (r->api->flags & ZS_API_FOREIGN);
}

/* Refuses the call: at once, or, for a row of another cloud's dialect, by recording the
 * refusal (the first one wins) for the service to answer in its dialect (api.h). Returns
 * the HTTP status sent, or 0 when the call goes on to the service. */
static int refuse(request_t *r, int status, json_t *error)
{
    if (!foreign(r))
        return fail(r, status, error);
    if (!r->refusal)
        r->refusal = json_pack("{s:i, s:o}", "status", status, "error", error);
    else
        json_decref(error);
    return 0;
}

static int invalid(request_t *r, const char *fmt, const char *arg)
{
    char details[512];
    snprintf(details, sizeof details, fmt, arg);
    return refuse(r, 400, zs_error(ZS_SYS_INVALID, "%s", details));
}

/* "http://<Host>" or the configured public URL. */
static void base_url(request_t *r, char *out, size_t size)
{
    const char *pub = zs_config_get("gateway.public-url", NULL);
    const char *host = mg_get_header(r->conn, "Host");
    if (pub)
        snprintf(out, size, "%s", pub);
    else
        snprintf(out, size, "http://%s", host ? host : "127.0.0.1");
}

static void add_location(request_t *r, json_t *body, const char *job_uuid)
{
    char base[512], loc[700];
    base_url(r, base, sizeof base);
    snprintf(loc, sizeof loc, "%s/zstack/v1/api-jobs/%s", base, job_uuid);
    json_object_set_new(body, "location", json_string(loc));
}

static bool want_schema(request_t *r)
{
    const char *h = mg_get_header(r->conn, "X-JSON-Schema");
    return h && strcasecmp(h, "true") == 0;
}

/* Sends a service's reply: its status hint or 200/503, the schema when asked. */
static int send_reply(request_t *r, zs_msg_t *reply, const char *id)
{
    int status = reply->status ? reply->status : reply->ok ? 200 : 503;
    json_t *body;
    if (reply->json && status != 202)   /* rendered once, by the service (msg.h) */
        return http_reply_text(r->conn, status, reply->json, reply->json_len, NULL);
    if (foreign(r) && reply->ok) {
        body = json_incref(reply->body);   /* the service speaks the client's dialect */
    } else if (status == 202) {
        body = json_object();
        add_location(r, body, id);
    } else if (reply->ok) {
        body = json_incref(reply->body);
        const zs_api_t *about = zs_api_find(reply->api);
        if (want_schema(r) && about) {
            json_t *schema = zs_api_schema(about, body);
            if (json_object_size(schema))
                json_object_set_new(body, "schema", schema);
            else
                json_decref(schema);
        }
    } else {
        body = json_pack("{s:O}", "error", reply->body);
    }
    /* Overload (bus.h: queues are bounded): the client is told when to come back. */
    bool busy = !reply->ok && strcmp(zs_error_code(reply->body), ZS_SYS_BUSY) == 0;
    return http_reply(r->conn, status, body, busy ? "Retry-After: 1\r\n" : NULL);
}

/* ---- authentication ------------------------------------------------------------------ */

/* Foreign rows (api.h) take the session from X-Auth-Token too, and call a missing or bad
 * session 401 and a missing admin right 403, as other clouds do. */
static int authenticate(request_t *r)
{
    if (r->api->flags & ZS_API_NO_SESSION)
        return 0;
    bool other = foreign(r);
    const char *uuid = other ? mg_get_header(r->conn, "X-Auth-Token") : NULL;
    if (!uuid) {
        const char *h = mg_get_header(r->conn, "Authorization");
        if (!h)
            return refuse(r, other ? 401 : 400,
                          zs_error(ZS_SYS_INVALID, "missing header Authorization: OAuth <session uuid>%s",
                                   other ? " (or X-Auth-Token: <session uuid>)" : ""));
        if (strncasecmp(h, "OAuth ", 6) != 0)
            return refuse(r, other ? 401 : 400,
                          zs_error(ZS_SYS_INVALID, "the Authorization header must use the OAuth scheme: "
                                                   "OAuth <session uuid>"));
        uuid = h + 6;
        while (*uuid == ' ')
            uuid++;
    }
    json_t *error = NULL;
    if (!zs_uuid_valid(uuid))
        return refuse(r, other ? 401 : 503,
                      zs_error(ZS_ID_SESSION, "session[%.64s] is not a valid session uuid", uuid));
    r->caller = session_check(bus(), uuid, &error);
    if (!r->caller)
        return refuse(r, other && strcmp(zs_error_code(error), ZS_ID_SESSION) == 0 ? 401 : 503, error);
    if ((r->api->flags & ZS_API_ADMIN) && !json_is_true(json_object_get(r->caller, "admin")))
        return refuse(r, other ? 403 : 503,
                      zs_error(ZS_ID_DENIED, "API[%s] is for admin accounts only", r->api->name));
    return 0;
}

/* ---- parameters ---------------------------------------------------------------------- */

/* systemTags/userTags may sit at the top level or inside the action/params object. */
static void take_tags(json_t *params, const json_t *body)
{
    static const char *const keys[] = {"systemTags", "userTags"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(body, keys[i]);
        if (v && !json_object_get(params, keys[i]))
            json_object_set(params, keys[i], v);
    }
}

static int build_params(request_t *r, const route_t *route, json_t *body)
{
    const char *why = NULL;
    const char *method = r->ri->request_method;
    if (strcmp(method, "GET") == 0 || strcmp(method, "DELETE") == 0) {
        r->params = http_parse_query(r->ri->query_string, &why);
        if (!r->params)
            return invalid(r, "%s", why);
    } else if (route->action) {
        json_t *inner = json_object_get(body, route->action);
        if (!json_is_object(inner) && !json_is_null(inner))
            return invalid(r, "the action %s must be a JSON object", route->action);
        r->params = json_is_object(inner) ? json_deep_copy(inner) : json_object();
        take_tags(r->params, body);
    } else {
        json_t *inner = json_object_get(body, "params");
        if (!body || !json_is_object(inner))
            return invalid(r, "%s", "the body must be {\"params\": {...}}");
        r->params = json_deep_copy(inner);
        take_tags(r->params, body);
    }
    /* Path segments win over anything the body says about them. */
    json_object_update(r->params, route->path_params);
    json_t *error = NULL;
    if (zs_api_validate(r->api, r->params, &error) != 0) {
        json_decref(r->params);   /* a foreign row's service gets the refusal, not the params */
        r->params = json_object();
        return refuse(r, 400, error);
    }
    return 0;
}

/* ---- sync and async calls ------------------------------------------------------------ */

/* The answer when `service` already has its bound of calls waiting (guard.h). */
static int busy(request_t *r, const char *service)
{
    return http_reply(r->conn, 503,
                      json_pack("{s:o}", "error",
                                zs_error(ZS_SYS_BUSY, "too many calls are waiting on service[%s]; retry later",
                                         service)),
                      "Retry-After: 1\r\n");
}

/* A login carries the client's address (the core throttles failed logins per address too);
 * no other session-less call gets a caller, which services read as a call from the bus. */
static json_t *caller_of(request_t *r)
{
    if (!r->caller && strcmp(r->api->name, "LogInByAccount") == 0)
        return json_pack("{s:s}", "clientAddress", r->ri->remote_addr);
    return json_incref(r->caller);
}

static int call_sync(request_t *r)
{
    zs_msg_t req = {.kind = 'Q', .deadline = zs_now_ms() + sync_timeout_ms};
    snprintf(req.api, sizeof req.api, "%s", r->api->name);
    zs_uuid_new(req.id);
    req.caller = caller_of(r);
    if (r->refusal) {
        json_decref(req.caller);
        req.caller = r->caller ? json_deep_copy(r->caller) : json_object();
        json_object_set(req.caller, "gatewayError", r->refusal);
    }
    req.body = json_incref(r->params);
    req.want_json = !want_schema(r);   /* a schema is built from the decoded body */
    int64_t timeout = sync_timeout_ms;
    bool counted = false;
    if (strcmp(r->api->name, "GetApiJob") == 0) {
        json_int_t wait = json_integer_value(json_object_get(r->params, "wait"));
        if (wait > 0 && atomic_fetch_add(&waiters, 1) < max_waiters) {
            counted = true;
            timeout = wait * 1000 + 5000;
            req.deadline = zs_now_ms() + timeout;
        } else {
            if (wait > 0)
                atomic_fetch_sub(&waiters, 1);
            json_object_del(req.body, "wait");   /* too many waiters: answer at once */
        }
    }
    zs_msg_t reply;
    /* Long polls have their own bound (max_waiters); every other call takes a slot of its
     * service (guard.h), logins one of their own: they wait for the slow password hasher,
     * and a flood of them must not take the slots of the core's other APIs. */
    const char *slot = strcmp(r->api->name, "LogInByAccount") == 0 ? "login" : r->api->service;
    if (!counted && !guard_enter(slot)) {
        zs_msg_clear(&req);
        return busy(r, slot);
    }
    zs_bus_call(bus(), r->api->service, &req, &(zs_bus_call_opts_t){.timeout_ms = timeout}, &reply);
    if (counted)
        atomic_fetch_sub(&waiters, 1);
    else
        guard_leave(slot);
    const char *id = json_string_value(json_object_get(r->params, "uuid"));
    int status = send_reply(r, &reply, id ? id : req.id);
    if (strcmp(r->api->name, "LogOut") == 0 && reply.ok)
        session_forget(json_string_value(json_object_get(r->params, "sessionUuid")));
    zs_msg_clear(&req);
    zs_msg_clear(&reply);
    return status;
}

static int call_async(request_t *r)
{
    char job[ZS_UUID_LEN + 1];
    const char *given = mg_get_header(r->conn, "X-Job-UUID");
    if (given && !zs_uuid_valid(given))
        return invalid(r, "X-Job-UUID[%.64s] must be 32 lowercase hex characters (a uuid without dashes)",
                       given);
    if (given)
        snprintf(job, sizeof job, "%s", given);
    else
        zs_uuid_new_ordered(job);
    int64_t timeout = default_job_timeout_ms;
    const char *t = mg_get_header(r->conn, "X-API-Timeout");
    if (t) {
        char *end;
        long long s = strtoll(t, &end, 10);
        if (*end || s <= 0 || s > 7 * 24 * 3600)
            return invalid(r, "X-API-Timeout[%.32s] must be a number of seconds (1..604800)", t);
        timeout = s * 1000;
    }
    const char *hook = mg_get_header(r->conn, "X-Web-Hook");
    zs_msg_t req = {.kind = 'Q', .deadline = zs_now_ms() + sync_timeout_ms};
    snprintf(req.api, sizeof req.api, "SubmitJob");
    zs_uuid_new(req.id);
    req.caller = json_incref(r->caller);
    req.body = json_pack("{s:s, s:s, s:O, s:I}", "api", r->api->name, "id", job, "params", r->params,
                         "deadline", (json_int_t)(zs_now_ms() + timeout));
    if (hook)
        json_object_set_new(req.body, "webhook", json_string(hook));
    zs_msg_t reply;
    if (!guard_enter("broker")) {
        zs_msg_clear(&req);
        return busy(r, "broker");
    }
    zs_bus_call(bus(), "broker", &req, &(zs_bus_call_opts_t){.timeout_ms = sync_timeout_ms}, &reply);
    guard_leave("broker");
    int status = send_reply(r, &reply, job);
    zs_msg_clear(&req);
    zs_msg_clear(&reply);
    return status;
}

/* ---- the handler --------------------------------------------------------------------- */

static const char *strip_prefix(const char *uri)
{
    if (strncmp(uri, "/zstack/v1", 10) == 0 && (uri[10] == '/' || uri[10] == '\0'))
        return uri + 10;
    if (strncmp(uri, "/v1", 3) == 0 && (uri[3] == '/' || uri[3] == '\0'))
        return uri + 3;
    return NULL;
}

static int serve(request_t *r)
{
    const char *uri = r->ri->local_uri ? r->ri->local_uri : "/";
    if (strcmp(uri, "/metrics") == 0)
        return metrics_serve(r->conn);
    if (strcmp(uri, "/healthz") == 0)   /* this gateway is up (probes); says nothing else */
        return http_reply(r->conn, 200, json_pack("{s:s}", "status", "ok"), NULL);
    const char *path = strip_prefix(uri);
    if (path && strcmp(path, "/openapi.json") == 0)
        return http_reply(r->conn, 200, openapi_document(), NULL);

    const char *ambiguous = guard_framing_refusal(r->conn);
    if (ambiguous)
        return http_reply(r->conn, 400, json_pack("{s:o}", "error", zs_error(ZS_SYS_INVALID, "%s", ambiguous)),
                          "Connection: close\r\n");
    char *text = NULL;
    size_t len = 0;
    int slot = guard_body_begin(r->conn);
    int rc = http_read_body(r->conn, body_limit, &text, &len);
    guard_body_end(slot);
    if (rc == 413)
        return fail(r, 413, zs_error(ZS_SYS_INVALID, "the request body is larger than %zu bytes", body_limit));
    if (rc != 0)
        return invalid(r, "%s", "the request body could not be read");
    json_t *body = NULL;
    char err[256];
    if (text && !(body = http_parse_json(text, len, err))) {
        free(text);
        return invalid(r, "%s", err);
    }
    free(text);

    route_t route;
    if (path) {
        route_find(r->ri->request_method, path, body, &route);
    } else {   /* the server root: RPC-style rows chosen by the Action query parameter */
        const char *why;
        json_t *qs = http_parse_query(r->ri->query_string, &why);
        route_find_root(r->ri->request_method, uri,
                        json_string_value(json_object_get(qs, "Action")), &route);
        json_decref(qs);
    }
    if (route.status) {
        json_decref(body);
        json_decref(route.path_params);
        if (route.status == 404)
            return fail(r, 404, zs_error(ZS_SYS_NOT_FOUND, "no API at %.200s", uri));
        if (route.status == 405)
            return fail(r, 405, zs_error(ZS_SYS_INVALID, "%s is not allowed on %.200s",
                                         r->ri->request_method, uri));
        return invalid(r, "%s", "the body names no action of this path");
    }
    r->api = route.api;
    rc = authenticate(r);
    if (rc == 0)
        rc = build_params(r, &route, body);
    json_decref(body);
    json_decref(route.path_params);
    if (rc != 0)
        return rc;
    if (!r->params)
        r->params = json_object();
    return (r->api->flags & ZS_API_ASYNC) && !foreign(r) ? call_async(r) : call_sync(r);
}

static int handler(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    request_t r = {conn, mg_get_request_info(conn), NULL, NULL, NULL, zs_mono_ms(), NULL};
    int status = serve(&r);
    metrics_count(r.api, status, zs_mono_ms() - r.started);
    json_decref(r.params);
    json_decref(r.caller);
    json_decref(r.refusal);
    return status;
}

/* Every request is authenticated by session (authenticate), never by civetweb's digest
 * files. Without a handler of its own civetweb looks for a /.htpasswd file on each request:
 * a filesystem call per request for a file that must never count. */
static int no_file_auth(struct mg_connection *conn, void *cbdata)
{
    (void)conn, (void)cbdata;
    return 1;
}

/* ---- process ------------------------------------------------------------------------- */

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    if (zs_node_init("zs-gateway", argc, argv) != 0)
        return 2;
    const char *listen = zs_config_get("gateway.listen", "127.0.0.1:8080");
    const char *threads = zs_config_get("gateway.threads", "64");
    body_limit = (size_t)zs_config_int("gateway.body-limit", 1024 * 1024);
    sync_timeout_ms = zs_config_int("gateway.sync-timeout", 30) * 1000;
    default_job_timeout_ms = zs_config_int("gateway.job-timeout", 1800) * 1000;
    max_waiters = atoi(threads) / 2;

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (session_cache_start() != 0)
        return 1;
    mg_init_library(0);
    guard_init(atoi(threads));
    struct mg_callbacks cb = {0};
    cb.exit_thread = exit_thread;
    cb.http_error = guard_http_error;
    /* A request's headers must arrive whole within request-timeout-ms (civetweb counts from
     * the first byte; each body read is bounded by it too, and the whole body by the guard's
     * gateway.body-timeout-ms): a silent or trickling client holds a worker no longer. */
    const char *request_timeout = zs_config_get("gateway.request-timeout-ms", "5000");
    const char *keep_alive_timeout = zs_config_get("gateway.keep-alive-timeout-ms", "2000");
    const char *options[] = {"listening_ports", listen, "num_threads", threads,
                             "enable_keep_alive", "yes", "tcp_nodelay", "1",
                             "request_timeout_ms", request_timeout,
                             "keep_alive_timeout_ms", keep_alive_timeout, NULL};
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (!ctx) {
        zs_errorf("cannot listen on %s", listen);
        session_cache_stop();
        return 1;
    }
    mg_set_auth_handler(ctx, "/", no_file_auth, NULL);
    mg_set_request_handler(ctx, "/", handler, NULL);
    console_register(ctx);
    if (guard_start(ctx) != 0) {
        zs_errorf("cannot start the connection guard");
        mg_stop(ctx);
        session_cache_stop();
        return 1;
    }
    zs_bus_t *node_bus = zs_bus_new();
    zs_node_t *node = zs_node_new("gateway", node_bus);
    zs_info("zs-gateway listening on http://%s", listen);
    while (!stopping) {
        usleep(200 * 1000);
        zs_node_tick(node);
    }
    zs_info("zs-gateway stopping");
    guard_stop();
    mg_stop(ctx);
    mg_exit_library();
    zs_node_destroy(&node);
    zs_bus_destroy(&node_bus);
    session_cache_stop();
    return 0;
}
