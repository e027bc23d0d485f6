/* session.c — see session.h. */
#include "session.h"
#include "guard.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "events.h"
#include "log.h"
#include <czmq.h>
#include <pthread.h>

#define MAX_CACHED 100000

typedef struct {
    json_t *identity;
    int64_t cached_until;   /* monotonic ms */
    int64_t expires;        /* the session's own expiry, epoch ms */
} entry_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static zhashx_t *cache;
static zactor_t *listener;

static void entry_free(void **item)
{
    entry_t *e = *item;
    if (e) {
        json_decref(e->identity);
        free(e);
    }
    *item = NULL;
}

void session_forget(const char *session_uuid)
{
    pthread_mutex_lock(&lock);
    zhashx_delete(cache, session_uuid);
    pthread_mutex_unlock(&lock);
}

static void listen_actor(zsock_t *pipe, void *arg)
{
    (void)arg;
    static const char *const topics[] = {"session.revoked", NULL};
    zsock_t *sub = zs_events_subscriber(topics);
    zsock_signal(pipe, 0);
    zpoller_t *poller = zpoller_new(pipe, sub, NULL);
    for (;;) {
        void *which = zpoller_wait(poller, -1);
        if (!which || which == pipe)
            break;   /* $TERM or interrupted */
        char topic[64];
        json_t *body = zs_events_recv(sub, topic, sizeof topic);
        const char *uuid = json_string_value(json_object_get(body, "sessionUuid"));
        if (uuid)
            session_forget(uuid);
        json_decref(body);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&sub);
}

int session_cache_start(void)
{
    cache = zhashx_new();
    zhashx_set_destructor(cache, entry_free);
    listener = zactor_new(listen_actor, NULL);
    return listener ? 0 : -1;
}

void session_cache_stop(void)
{
    zactor_destroy(&listener);
    zhashx_destroy(&cache);
}

json_t *session_check(zs_bus_t *bus, const char *session_uuid, json_t **error)
{
    int64_t mono = zs_mono_ms(), now = zs_now_ms();
    pthread_mutex_lock(&lock);
    entry_t *e = zhashx_lookup(cache, session_uuid);
    json_t *identity = NULL;
    if (e && e->cached_until > mono && e->expires > now)
        identity = json_incref(e->identity);
    pthread_mutex_unlock(&lock);
    if (identity)
        return identity;

    if (!guard_enter("core")) {
        *error = zs_error(ZS_SYS_TIMEOUT, "too many calls are waiting on service[core]");
        return NULL;
    }
    json_t *res = zs_bus_request(bus, "core", "CheckSession", NULL,
                                 json_pack("{s:s}", "sessionUuid", session_uuid), 10000, error);
    guard_leave("core");
    if (!res)
        return NULL;
    identity = json_pack("{s:O, s:O, s:O, s:s}", "accountUuid", json_object_get(res, "accountUuid"),
                         "accountName", json_object_get(res, "accountName"),
                         "admin", json_object_get(res, "admin"), "session", session_uuid);
    entry_t *fresh = calloc(1, sizeof *fresh);
    fresh->identity = json_incref(identity);
    fresh->cached_until = mono + zs_config_int("gateway.session-cache-ms", 10000);
    fresh->expires = json_integer_value(json_object_get(res, "expiredDate"));
    json_decref(res);
    pthread_mutex_lock(&lock);
    if (zhashx_size(cache) >= MAX_CACHED)
        zhashx_purge(cache);
    zhashx_update(cache, session_uuid, fresh);
    pthread_mutex_unlock(&lock);
    return identity;
}
