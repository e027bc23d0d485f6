/* service.c — the service object (service.h): its making (store, ROUTER, events, node,
 * modules), the loop, stopping, and its teardown. */
#define _GNU_SOURCE   /* pipe2 */
#include "buskeys.h"
#include "clock.h"
#include "config.h"
#include "events.h"
#include "identity.h"
#include "log.h"
#include "service_internal.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

zs_store_t *zs_service_store(zs_service_t *svc) { return svc->store; }
const char *zs_service_name(const zs_service_t *svc) { return svc->def->name; }
zs_bus_t *zs_service_bus(zs_service_t *svc) { return svc->bus; }
const char *zs_service_node(zs_service_t *svc) { return zs_node_uuid(svc->node); }

void *zs_service_module_state(zs_service_t *svc, const zs_module_t *module)
{
    size_t i = 0;
    FOREACH_MODULE(svc->def, m) {
        if (m == module)
            return svc->states ? svc->states[i] : NULL;
        i++;
    }
    return NULL;
}

/* items (n used of *cap, each `size` bytes) with room for one more: the same or a moved
 * array, or NULL when out of memory (items is then untouched). */
static void *grow(void *items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return items;
    size_t cap2 = *cap ? *cap * 2 : 8;
    void *p = realloc(items, cap2 * size);
    if (p)
        *cap = cap2;
    return p;
}

int zs_service_watch(zs_service_t *svc, void *sock, void (*fn)(zs_service_t *, void *))
{
    struct watch *w = grow(svc->watches, svc->nwatches, &svc->cap_watches, sizeof *w);
    if (!w) {
        zs_errorf("%s: cannot watch one more socket (%zu watched): out of memory", svc->process,
                  svc->nwatches);
        return -1;
    }
    svc->watches = w;
    svc->watches[svc->nwatches++] = (struct watch){sock, fn};
    return 0;
}

/* ---- timers -------------------------------------------------------------------------- */

static int add_timer(zs_service_t *svc, int64_t every, int64_t first, void (*fn)(zs_service_t *))
{
    struct timer *t = every >= 1 && fn ? grow(svc->timers, svc->ntimers, &svc->cap_timers, sizeof *t)
                                       : NULL;
    if (!t)
        return -1;
    svc->timers = t;
    svc->timers[svc->ntimers++] = (struct timer){every, first, fn};
    return 0;
}

int zs_service_every(zs_service_t *svc, int64_t ms, void (*fn)(zs_service_t *))
{
    return add_timer(svc, ms, zs_mono_ms(), fn);
}

/* Milliseconds until the next timer is due (0: one is), at most 1000. */
static int64_t until_next_timer(zs_service_t *svc)
{
    int64_t now = zs_mono_ms(), wait = 1000;
    for (size_t i = 0; i < svc->ntimers; i++)
        if (svc->timers[i].next - now < wait)
            wait = svc->timers[i].next - now;
    return wait > 0 ? wait : 0;
}

static void run_timers(zs_service_t *svc)
{
    /* By index, fn copied first: a timer may make another (the array may move). */
    for (size_t i = 0; i < svc->ntimers && !atomic_load(&svc->stopping); i++) {
        int64_t now = zs_mono_ms();
        if (now < svc->timers[i].next)
            continue;
        svc->timers[i].next = now + svc->timers[i].every;
        void (*fn)(zs_service_t *) = svc->timers[i].fn;
        fn(svc);
    }
}

/* The runtime's own once-a-second timer: the node's heartbeat, the outbox's retries, the
 * modules' tick. */
static void tick(zs_service_t *svc)
{
    zs_node_tick(svc->node);
    service_remote_tick(svc);
    FOREACH_MODULE(svc->def, m)
        if (m->tick)
            m->tick(svc);
}

static void forget_old_jobs(zs_service_t *svc)
{
    zs_service_write(svc, service_forget_old_jobs, NULL);
}

/* ---- stopping ------------------------------------------------------------------------ */

/* SIGINT and SIGTERM are process-wide, so their handler cannot find a service by itself:
 * from zs_service_new to zs_service_destroy this holds the write end of that service's wake
 * pipe (-1: no service holds the signals). The only file-static of the runtime; the stop
 * request itself lives in the object. */
static volatile sig_atomic_t signal_wake_fd = -1;

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    if (signal_wake_fd >= 0 && write(signal_wake_fd, "s", 1) < 0) {
        /* the pipe is full: a stop is already pending */
    }
    errno = saved;
}

void zs_service_stop(zs_service_t *svc)
{
    atomic_store(&svc->stopping, true);
    if (write(svc->wake[1], "s", 1) < 0) {
        /* the pipe is full: the loop wakes anyway */
    }
}

/* ---- start ---------------------------------------------------------------------------- */

static int setup(zs_service_t *svc, const char *bind)
{
    char dir[1024], process[64];
    snprintf(dir, sizeof dir, "%s/%s", zs_config_data_dir(), svc->def->name);
    snprintf(process, sizeof process, "zs-%s", svc->def->name);
    json_t *error = NULL;
    if (zs_node_prepare_endpoint(bind) != 0)
        return -1;
    if (zs_identity_claim_store(dir, process, &error) != 0 ||
        zs_identity_claim_endpoint(bind, process, &error) != 0) {
        zs_errorf("refusing to start: %s", zs_error_details(error));
        json_decref(error);
        return -1;
    }
    size_t n = 0;
    FOREACH_MODULE(svc->def, m)
        for (const zs_resource_t *const *r = m->resources; r && *r; r++)
            n++;
    const zs_resource_t **resources = calloc(n + 1, sizeof *resources);
    if (!resources)
        return -1;
    n = 0;
    FOREACH_MODULE(svc->def, m)
        for (const zs_resource_t *const *r = m->resources; r && *r; r++)
            resources[n++] = *r;
    svc->store = zs_store_open(dir, resources, svc->def->schema_version, 0);
    free(resources);
    if (!svc->store)
        return -1;
    static const char *const builtin_dbs[] = {JOBS_DB, JOBS_TIME_DB, OUTBOX_DB, NULL};
    for (const char *const *d = builtin_dbs; *d; d++)
        if (zs_store_kv_open(svc->store, *d) != 0)
            return -1;
    FOREACH_MODULE(svc->def, m)
        for (const char *const *d = m->kv_dbs; d && *d; d++)
            if (zs_store_kv_open(svc->store, *d) != 0)
                return -1;
    svc->qmax = (size_t)zs_config_int("bus.queue-max", 4096);
    if (svc->qmax < ZS_SERVICE_BATCH)
        svc->qmax = ZS_SERVICE_BATCH;
    svc->queue = calloc(svc->qmax, sizeof *svc->queue);
    svc->queued_jobs = zhashx_new();
    svc->batch_taken = calloc(ZS_SERVICE_BATCH, sizeof *svc->batch_taken);
    svc->batch_out = calloc(ZS_SERVICE_BATCH, sizeof *svc->batch_out);
    svc->batch_held = calloc(ZS_SERVICE_BATCH, sizeof *svc->batch_held);
    /* Fault injection for tests (beanstalkd style): fault.commit-failures = N fails the first
     * N batch commits as a full disk would; fault.write-delay-us makes every write request
     * this much slower, a service with a fraction of its capacity (test_overload.py). */
    svc->commit_faults = zs_config_int("fault.commit-failures", 0);
    svc->write_delay_us = zs_config_int("fault.write-delay-us", 0);
    svc->router = zsock_new(ZMQ_ROUTER);
    zs_bus_tune(svc->router);
    zsock_set_router_mandatory(svc->router, 1);
    if (zs_bus_keys_server(svc->router, bind) != 0) {
        zs_errorf("cannot bind %s: CurveZMQ keys are not loaded", bind);
        return -1;
    }
    if (zsock_bind(svc->router, "%s", bind) < 0) {
        zs_errorf("cannot bind %s: %s", bind, zmq_strerror(zmq_errno()));
        return -1;
    }
    svc->bus = zs_bus_new();
    svc->pub = zs_events_publisher();
    n = 0;
    FOREACH_MODULE(svc->def, m)
        for (const char *const *t = m->topics; t && *t; t++)
            n++;
    if (n) {
        const char **topics = calloc(n + 1, sizeof *topics);
        if (!topics)
            return -1;
        n = 0;
        FOREACH_MODULE(svc->def, m)
            for (const char *const *t = m->topics; t && *t; t++)
                topics[n++] = *t;
        svc->sub = zs_events_subscriber(topics);
        free(topics);
    }
    svc->pending_events = json_array();
    svc->node_bus = zs_bus_new();
    svc->node = zs_node_new(svc->def->name, svc->node_bus);
    if (add_timer(svc, 1000, zs_mono_ms(), tick) != 0 ||
        add_timer(svc, 60 * 1000, zs_mono_ms() + 60 * 1000, forget_old_jobs) != 0 ||
        service_remote_start(svc) != 0)
        return -1;
    n = 0;
    FOREACH_MODULE(svc->def, m)
        n++;
    svc->states = calloc(n ? n : 1, sizeof *svc->states);
    if (!svc->states)
        return -1;
    n = 0;
    FOREACH_MODULE(svc->def, m) {
        if (m->create && !(svc->states[n] = m->create(svc))) {
            zs_errorf("module %s failed to start (making its state)", m->name);
            return -1;
        }
        n++;
    }
    FOREACH_MODULE(svc->def, m)
        if (m->start && m->start(svc) != 0) {
            zs_errorf("module %s failed to start", m->name);
            return -1;
        }
    return 0;
}


/* Delivers what waits on the event subscription to the modules, at most 512 events (so a
 * flood of events cannot starve the requests). */
static void take_events(zs_service_t *svc)
{
    for (int n = 0; n < 512; n++) {
        char topic[128];
        json_t *body = zs_events_try_recv(svc->sub, topic, sizeof topic);
        if (!body && errno == EAGAIN)
            break;
        FOREACH_MODULE(svc->def, m)
            if (body && m->on_event)
                m->on_event(svc, topic, body);
        json_decref(body);
    }
}

/* The loop's poll items: ROUTER, wake-up pipe, event subscription (when there is one), then
 * the watched sockets in their order. Rebuilt each turn: a handler may add a watch. Returns
 * how many, or 0 when memory for them runs out (logged; the loop tries again). */
static size_t poll_items(zs_service_t *svc, zmq_pollitem_t **items, size_t *cap)
{
    size_t n = 3 + svc->nwatches;
    if (n > *cap) {
        zmq_pollitem_t *grown = realloc(*items, n * sizeof **items);
        if (!grown) {
            zs_errorf("%s: cannot poll %zu sockets: out of memory", svc->process, n);
            return 0;
        }
        *items = grown;
        *cap = n;
    }
    zmq_pollitem_t *it = *items;
    it[0] = (zmq_pollitem_t){zsock_resolve(svc->router), 0, ZMQ_POLLIN, 0};
    it[1] = (zmq_pollitem_t){NULL, svc->wake[0], ZMQ_POLLIN, 0};
    it[2] = (zmq_pollitem_t){svc->sub ? zsock_resolve(svc->sub) : NULL, -1, svc->sub ? ZMQ_POLLIN : 0, 0};
    for (size_t i = 0; i < svc->nwatches; i++)
        it[3 + i] = (zmq_pollitem_t){zsock_resolve(svc->watches[i].sock), 0, ZMQ_POLLIN, 0};
    return n;
}

int zs_service_run(zs_service_t *svc)
{
    zs_info("%s serving on %s (data %s/%s)", svc->process, svc->bind, zs_config_data_dir(),
            svc->def->name);
    zmq_pollitem_t *items = NULL;
    size_t cap = 0;
    while (!atomic_load(&svc->stopping)) {
        int64_t wait = svc->qlen || svc->nlaters ? 0 : until_next_timer(svc);
        /* One zmq_poll tells which sockets have input, all of them (asking each socket again,
         * zsock_events, costs ZeroMQ a poll and a getpid per socket per turn). */
        size_t n = poll_items(svc, &items, &cap);
        if (n == 0) {   /* out of memory for the poll items (logged): try again shortly */
            usleep(10 * 1000);
            continue;
        }
        if (zmq_poll(items, (int)n, (long)wait) < 0) {
            if (errno == ETERM)   /* ZeroMQ is shutting down: nothing more will arrive */
                break;
            continue;   /* EINTR: a signal; the wake-up pipe says whether to stop */
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char drain[64];
            while (read(svc->wake[0], drain, sizeof drain) > 0)
                ;
            atomic_store(&svc->stopping, true);   /* a signal wrote it */
        }
        /* Every socket with input, not only the first: under load the ROUTER would starve the
         * others. What their handlers write joins this turn's batch (zs_service_write_later). */
        size_t nwatches = n - 3;   /* a handler may add watches: they are polled next turn */
        for (size_t i = 0; i < nwatches; i++)
            if (items[3 + i].revents & ZMQ_POLLIN)
                svc->watches[i].fn(svc, svc->watches[i].sock);
        if (items[2].revents & ZMQ_POLLIN)
            take_events(svc);
        if (items[0].revents & ZMQ_POLLIN)
            service_intake(svc);
        if (svc->qlen || svc->nlaters)
            service_run_batch(svc);
        run_timers(svc);
    }
    free(items);
    if (svc->nlaters)   /* what the last turn received is stored before the service goes */
        service_run_batch(svc);
    zs_info("%s stopping", svc->process);
    return 0;
}

/* ---- the object ---------------------------------------------------------------------- */

/* Every API row owned by the service (api->service == its name) has a handler. 0, or -1
 * after logging the first that has none. */
static int check_handlers(const zs_service_def_t *def)
{
    for (size_t i = 0; i < zs_api_count(); i++) {
        const zs_api_t *api = zs_api_at(i);
        if (strcmp(api->service, def->name) == 0 && !zs_service_def_handler(def, api)) {
            zs_errorf("zs-%s refusing to start: API[%s] of service %s has no handler in its "
                      "modules (service.h: zs_service_def_handler)", def->name, api->name, def->name);
            return -1;
        }
    }
    return 0;
}

zs_service_t *zs_service_new(const zs_service_def_t *def, int argc, char **argv)
{
    if (check_handlers(def) != 0)
        return NULL;
    if (signal_wake_fd >= 0) {
        zs_errorf("zs-%s refusing to start: another service runs in this process", def->name);
        return NULL;
    }
    zs_service_t *svc = calloc(1, sizeof *svc);
    if (!svc)
        return NULL;
    svc->def = def;
    svc->wake[0] = svc->wake[1] = -1;
    snprintf(svc->process, sizeof svc->process, "zs-%s", def->name);
    if (zs_node_init(svc->process, argc, argv) != 0) {
        zs_service_destroy(&svc);
        return NULL;
    }
    char ep_key[64];
    snprintf(ep_key, sizeof ep_key, "bus.%s.bind", def->name);
    char first[1024];
    char room[ZS_CONFIG_ENDPOINTS_SIZE];
    snprintf(first, sizeof first, "%s", zs_config_endpoints(def->name, room));
    first[strcspn(first, ",")] = '\0';
    snprintf(svc->bind, sizeof svc->bind, "%s", zs_config_get(ep_key, first));

    if (pipe2(svc->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        zs_errorf("%s failed to start: pipe: %s", svc->process, strerror(errno));
        zs_service_destroy(&svc);
        return NULL;
    }
    signal_wake_fd = svc->wake[1];
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (setup(svc, svc->bind) != 0) {
        zs_errorf("%s failed to start", svc->process);
        zs_service_destroy(&svc);
    }
    return svc;
}

void zs_service_destroy(zs_service_t **self_p)
{
    zs_service_t *svc = *self_p;
    if (!svc)
        return;
    *self_p = NULL;
    /* The pool first: tasks still out end (done with no service) while modules are alive. */
    service_remote_stop(svc);
    service_cancel_laters(svc);
    if (svc->store)
        FOREACH_MODULE(svc->def, m)
            if (m->stop)
                m->stop(svc);
    /* In reverse: a module's create may have used the state of one listed before it. */
    size_t n = 0;
    FOREACH_MODULE(svc->def, m)
        n++;
    for (size_t i = n; svc->states && i-- > 0;) {
        const zs_module_t *m = svc->def->modules[i];
        void *state = svc->states[i];
        if (state && m->destroy) {
            svc->states[i] = NULL;   /* gone for zs_service_module_state from here */
            m->destroy(svc, state);
        }
    }
    free(svc->states);
    free(svc->timers);
    free(svc->watches);
    zs_node_destroy(&svc->node);
    zs_bus_destroy(&svc->node_bus);
    zs_bus_destroy(&svc->bus);
    free(svc->afters);
    for (; svc->qlen; svc->qlen--, svc->qhead = (svc->qhead + 1) % svc->qmax) {
        zframe_destroy(&svc->queue[svc->qhead].identity);
        zs_msg_clear(&svc->queue[svc->qhead].req);
        json_decref(svc->queue[svc->qhead].memo);
    }
    free(svc->queue);
    free(svc->batch_taken);
    free(svc->batch_out);
    free(svc->batch_held);
    zhashx_destroy(&svc->queued_jobs);
    zsock_destroy(&svc->router);
    zsock_destroy(&svc->sub);
    zsock_destroy(&svc->pub);
    json_decref(svc->pending_events);
    zs_store_close(&svc->store);
    if (svc->wake[1] >= 0 && signal_wake_fd == svc->wake[1]) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal_wake_fd = -1;
    }
    for (int i = 0; i < 2; i++)
        if (svc->wake[i] >= 0)
            close(svc->wake[i]);
    zs_log_init("zs");   /* the log named the process by svc->process, freed now */
    free(svc);
}

int zs_service_main(const zs_service_def_t *def, int argc, char **argv)
{
    zs_service_t *svc = zs_service_new(def, argc, argv);
    int rc = svc ? zs_service_run(svc) : 1;
    zs_service_destroy(&svc);
    return rc;
}
