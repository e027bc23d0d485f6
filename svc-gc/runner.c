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

/* Sends req and waits for its reply, while still taking commands from the pipe. Returns 1 and
 * fills *reply, 0 on timeout/unreachable (why set), -1 when stopping. */
static int call(worker_t *w, const char *service, const zs_msg_t *req, int64_t deadline,
                zs_msg_t *reply, char *why, size_t size)
{
    zsock_t *s = zs_bus_socket(w->bus, service);
    char *buf;
    size_t len;
    if (!s || zs_msg_encode(req, &buf, &len) != 0) {
        snprintf(why, size, "service %s has no bus endpoint", service);
        return 0;
    }
    /* With ZMQ_IMMEDIATE a send fails until a connection is up: wait for one, at most 1 s. */
    int64_t connect_end = zs_mono_ms() + 1000;
    int rc;
    while ((rc = zmq_send(zsock_resolve(s), buf, len, ZMQ_DONTWAIT)) < 0 && !w->stopping) {
        int64_t left = connect_end - zs_mono_ms();
        if (zmq_errno() != EAGAIN || left <= 0)
            break;
        zmq_pollitem_t items[] = {{zsock_resolve(s), 0, ZMQ_POLLOUT, 0},
                                  {zsock_resolve(w->pipe), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, (long)left) > 0 && (items[1].revents & ZMQ_POLLIN))
            take_command(w);
    }
    free(buf);
    if (w->stopping)
        return -1;
    if (rc < 0) {
        snprintf(why, size, "service %s is not reachable", service);
        return 0;
    }
    for (;;) {
        int64_t left = deadline - zs_now_ms();
        if (left <= 0) {
            snprintf(why, size, "service %s did not answer %s in time", service, req->api);
            return 0;
        }
        zmq_pollitem_t items[] = {{zsock_resolve(s), 0, ZMQ_POLLIN, 0},
                                  {zsock_resolve(w->pipe), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, (long)left) < 0)
            continue;   /* EINTR */
        if (items[1].revents & ZMQ_POLLIN) {
            take_command(w);
            if (w->stopping)
                return -1;
        }
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        if (zs_bus_recv(s, reply, NULL) != 0)
            continue;
        if (reply->kind == 'R' && strcmp(reply->id, req->id) == 0)
            return 1;
        zs_msg_clear(reply);   /* the late answer of an attempt that timed out */
    }
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
    char why[512] = "";
    int rc = call(w, service, &req, req.deadline, &reply, why, sizeof why);
    zs_msg_clear(&req);
    if (rc < 0) {
        json_decref(cmd);
        return;
    }
    bool ok = rc == 1 && reply.ok;
    if (rc == 1 && !reply.ok) {
        const char *details = json_string_value(json_object_get(reply.body, "details"));
        snprintf(why, sizeof why, "%s: %s", zs_error_code(reply.body), details ? details : "");
    }
    if (rc == 1)
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
