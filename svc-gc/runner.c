/* runner.c — see runner.h. */
#include "runner.h"
#include "bus.h"
#include "clock.h"
#include "error.h"
#include "log.h"
#include "uuid.h"
#include <string.h>

#define MAX_QUEUED 1024

typedef struct {
    zsock_t *pipe;
    zs_bus_t *bus;
    zlist_t *queue;    /* command texts (char *) read while an attempt was running */
    bool stopping;
} worker_t;

/* Reads one command from the pipe: queued, or stopping set on $TERM. */
static void take_command(worker_t *w)
{
    char *cmd = zstr_recv(w->pipe);
    if (!cmd || strcmp(cmd, "$TERM") == 0) {
        w->stopping = true;
        zstr_free(&cmd);
        return;
    }
    if (zlist_size(w->queue) >= MAX_QUEUED) {   /* the loop bounds what it hands us */
        zs_warn("gc runner: queue full, dropping an attempt (it is retried when due)");
        zstr_free(&cmd);
        return;
    }
    zlist_append(w->queue, cmd);
}

/* Sends req and waits for its reply, while still taking commands from the pipe. GC messages
 * are idempotent (runner.h), so one an instance does not answer goes to the next. Returns
 * ZS_BUS_OK, ZS_BUS_TIMEOUT or ZS_BUS_UNREACHABLE with *reply (see bus.h), or
 * ZS_BUS_CANCELLED when stopping (*reply empty). */
static int call(worker_t *w, const char *service, const zs_msg_t *req, zs_msg_t *reply)
{
    zs_bus_call_opts_t opts = {.idempotent = true, .cancel = w->pipe};
    int rc;
    while ((rc = zs_bus_call(w->bus, service, req, &opts, reply)) == ZS_BUS_CANCELLED) {
        take_command(w);
        if (w->stopping)
            break;
        opts.resume = true;   /* a command queued: keep waiting for the same reply */
    }
    return rc;
}

static void attempt(worker_t *w, const char *text)
{
    json_t *cmd = json_loads(text, 0, NULL);
    const char *uuid = json_string_value(json_object_get(cmd, "uuid"));
    const char *service = json_string_value(json_object_get(cmd, "service"));
    const char *api = json_string_value(json_object_get(cmd, "api"));
    if (!uuid || !service || !api) {
        json_decref(cmd);
        return;
    }
    zs_msg_t req = {.kind = 'Q'};
    req.deadline = zs_now_ms() + json_integer_value(json_object_get(cmd, "timeout"));
    snprintf(req.api, sizeof req.api, "%s", api);
    zs_uuid_new(req.id);
    req.body = json_incref(json_object_get(cmd, "context"));
    if (!json_is_object(req.body)) {
        json_decref(req.body);
        req.body = json_object();
    }
    zs_msg_t reply;
    int rc = call(w, service, &req, &reply);
    zs_msg_clear(&req);
    if (rc == ZS_BUS_CANCELLED) {
        json_decref(cmd);
        return;
    }
    bool ok = rc == ZS_BUS_OK && reply.ok;
    char why[512] = "";
    if (!ok) {   /* the service's refusal, or the bus's SYS.1001 (no answer, unreachable) */
        const char *details = json_string_value(json_object_get(reply.body, "details"));
        snprintf(why, sizeof why, "%s: %s", zs_error_code(reply.body), details ? details : "");
    }
    zs_msg_clear(&reply);
    json_t *out = json_pack("{s:s, s:b, s:s}", "uuid", uuid, "ok", ok, "error", ok ? "" : why);
    char *o = json_dumps(out, JSON_COMPACT);
    if (o)
        zstr_send(w->pipe, o);
    free(o);
    json_decref(out);
    json_decref(cmd);
}

static void runner_actor(zsock_t *pipe, void *arg)
{
    (void)arg;
    worker_t w = {pipe, zs_bus_new(), zlist_new(), false};
    zsock_signal(pipe, 0);
    while (!w.stopping) {
        char *next = zlist_pop(w.queue);
        if (next) {
            attempt(&w, next);
            zstr_free(&next);
            continue;
        }
        take_command(&w);   /* blocks until the loop hands us something */
    }
    char *left;
    while ((left = zlist_pop(w.queue)))
        zstr_free(&left);
    zlist_destroy(&w.queue);
    zs_bus_destroy(&w.bus);
}

zactor_t *runner_new(void)
{
    return zactor_new(runner_actor, NULL);
}

int runner_send(zactor_t *runner, const char *uuid, const char *service, const char *api,
                const json_t *context, int64_t timeout_ms)
{
    json_t *cmd = json_pack("{s:s, s:s, s:s, s:O?, s:I}", "uuid", uuid, "service", service, "api",
                            api, "context", (json_t *)context, "timeout", (json_int_t)timeout_ms);
    char *text = cmd ? json_dumps(cmd, JSON_COMPACT) : NULL;
    int rc = text ? zstr_send(runner, text) : -1;
    free(text);
    json_decref(cmd);
    return rc;
}

json_t *runner_recv(zactor_t *runner)
{
    if (!(zsock_events(zactor_sock(runner)) & ZMQ_POLLIN))
        return NULL;
    char *text = zstr_recv(runner);
    json_t *out = text ? json_loads(text, 0, NULL) : NULL;
    zstr_free(&text);
    return out;
}
