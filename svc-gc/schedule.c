/* schedule.c — see schedule.h. */
#include "schedule.h"
#include "backoff.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "runner.h"
#include "uuid.h"
#include <stdlib.h>
#include <string.h>

#define MAX_IN_FLIGHT 256
#define MAX_SCAN 10000
#define NOTHING (-1)   /* a zs_service_write function's "nothing changed": abort, no fsync */

#define ADOPT_RETRY_MS 2000   /* after the core could not list the live gc nodes */

/* The module's state (zs_service_module_state). */
typedef struct {
    zactor_t *runner;
    zhashx_t *in_flight;      /* job uuid -> (void *)1 */
    bool asking;              /* the live gc nodes are being asked for (a pool thread) */
    bool ask_failed;          /* the last ask got no answer: ask again in ADOPT_RETRY_MS */
} sched_t;

static sched_t *sched_of(zs_service_t *svc)
{
    return zs_service_module_state(svc, &sched_module);
}

/* ---- helpers ------------------------------------------------------------------------- */

int sched_runner_class(const char *runner_class, char service[32], char api[64])
{
    const char *colon = strchr(runner_class, ':');
    if (!colon || colon == runner_class || (size_t)(colon - runner_class) >= 32 ||
        strlen(colon + 1) == 0 || strlen(colon + 1) >= 64)
        return -1;
    snprintf(service, 32, "%.*s", (int)(colon - runner_class), runner_class);
    snprintf(api, 64, "%s", colon + 1);
    const zs_api_t *a = zs_api_find(api);
    if (!a || strcmp(a->name, api) != 0 ||
        (strcmp(a->service, service) != 0 && strcmp(a->service, "*") != 0))
        return -1;
    return 0;
}

bool sched_in_flight(zs_service_t *svc, const char *uuid)
{
    sched_t *S = sched_of(svc);
    return S && zhashx_lookup(S->in_flight, uuid) != NULL;
}

static int64_t attempt_timeout_ms(void)
{
    return zs_config_int("gc.attempt-timeout-ms", 10000);
}

int64_t sched_lease_until(void)
{
    return zs_now_ms() + attempt_timeout_ms() + 5000;
}

int64_t sched_interval_ms(const json_t *rec)
{
    json_int_t own = json_integer_value(json_object_get(rec, "interval"));
    return (own > 0 ? own : zs_config_int("gc.interval", 60)) * 1000;
}

/* interval × 2^(failures-1), capped at gc.max-interval (never below the interval), ±10 %. */
static int64_t backoff_ms(const json_t *rec, int failures)
{
    return zs_backoff_ms(sched_interval_ms(rec), zs_config_int("gc.max-interval", 3600) * 1000,
                         failures, 90, 110);
}

static const char *str(const json_t *rec, const char *key)
{
    const char *s = json_string_value(json_object_get(rec, key));
    return s ? s : "";
}

/* Hands one job to the runner (no write). */
static void dispatch(sched_t *S, const json_t *rec)
{
    char service[32], api[64];
    const char *uuid = str(rec, "uuid");
    if (sched_runner_class(str(rec, "runnerClass"), service, api) != 0) {
        zs_warn("gc job %s names no runnable message (%s)", uuid, str(rec, "runnerClass"));
        return;
    }
    json_t *context = json_loads(str(rec, "context"), 0, NULL);
    if (runner_send(S->runner, uuid, service, api, context, attempt_timeout_ms()) == 0)
        zhashx_insert(S->in_flight, uuid, (void *)1);
    json_decref(context);
}

static void run_after_commit(zs_service_t *svc, void *arg)
{
    json_t *rec = arg;
    dispatch(sched_of(svc), rec);
    json_decref(rec);
}

void sched_run_after_commit(zs_service_t *svc, json_t *rec)
{
    zs_service_after_commit(svc, run_after_commit, rec, zs_drop_json);
}

/* Collects index hits into an array, at most MAX_SCAN. */
static int collect(void *arg, const char *uuid)
{
    json_t *a = arg;
    if (json_array_size(a) >= MAX_SCAN)
        return 1;
    json_array_append_new(a, json_string(uuid));
    return 0;
}

/* Every job with `status` (new array of uuids). */
static json_t *with_status(zs_service_t *svc, MDB_txn *txn, const char *status)
{
    json_t *uuids = json_array(), *v = json_string(status);
    unsigned char key[ZS_STORE_KEY_SIZE];
    int klen = zs_store_index_key(ZS_FT_STRING, v, key, sizeof key);
    json_decref(v);
    zs_store_index_walk(zs_service_store(svc), txn, GC_JOBS, "status", key, (size_t)klen, true,
                        key, (size_t)klen, true, NULL, 0, collect, uuids);
    return uuids;
}

/* ---- running due jobs ---------------------------------------------------------------- */

typedef struct {
    json_t *uuids;   /* candidates */
    json_t *ready;   /* records marked Processing, to dispatch after commit */
} due_t;

static int mark_processing(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    due_t *d = arg;
    zs_store_t *store = zs_service_store(svc);
    int64_t now = zs_now_ms();
    size_t i;
    json_t *u;
    json_array_foreach(d->uuids, i, u) {
        json_t *rec = zs_store_get(store, txn, GC_JOBS, json_string_value(u));
        if (!rec || strcmp(str(rec, "managementNodeUuid"), zs_service_node(svc)) != 0 ||
            strcmp(str(rec, "status"), "Done") == 0 ||
            json_integer_value(json_object_get(rec, "nextRunDate")) > now) {
            json_decref(rec);
            continue;
        }
        json_object_set_new(rec, "status", json_string("Processing"));
        json_object_set_new(rec, "nextRunDate", json_integer(sched_lease_until()));
        json_object_set_new(rec, "lastOpDate", json_integer(now));
        int rc = zs_store_put(store, txn, GC_JOBS, json_string_value(u), rec);
        if (rc != 0) {
            json_decref(rec);
            return rc;
        }
        json_array_append_new(d->ready, rec);
    }
    return 0;
}

typedef struct {
    const sched_t *S;
    json_t *uuids;
} collecting_t;

static int collect_due(void *arg, const char *uuid)
{
    collecting_t *c = arg;
    if (json_array_size(c->uuids) + zhashx_size(c->S->in_flight) >= MAX_IN_FLIGHT)
        return 1;
    if (!zhashx_lookup(c->S->in_flight, uuid))
        json_array_append_new(c->uuids, json_string(uuid));
    return 0;
}

static void run_due(zs_service_t *svc)
{
    sched_t *S = sched_of(svc);
    if (zhashx_size(S->in_flight) >= MAX_IN_FLIGHT)
        return;
    zs_store_t *store = zs_service_store(svc);
    MDB_txn *txn;
    if (zs_store_begin(store, NULL, false, &txn) != 0)
        return;
    unsigned char hi[ZS_STORE_KEY_SIZE];
    json_t *now = json_integer(zs_now_ms());
    int hlen = zs_store_index_key(ZS_FT_TIME, now, hi, sizeof hi);
    json_decref(now);
    due_t d = {json_array(), json_array()};
    collecting_t c = {S, d.uuids};
    zs_store_index_walk(store, txn, GC_JOBS, "nextRunDate", NULL, 0, false, hi, (size_t)hlen, true,
                        NULL, 0, collect_due, &c);
    mdb_txn_abort(txn);
    if (json_array_size(d.uuids) && zs_service_write(svc, mark_processing, &d) == 0) {
        size_t i;
        json_t *rec;
        json_array_foreach(d.ready, i, rec)
            dispatch(S, rec);
    }
    json_decref(d.uuids);
    json_decref(d.ready);
}

/* ---- outcomes ------------------------------------------------------------------------ */

static int record_outcome(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    json_t *o = arg;
    const char *uuid = str(o, "uuid");
    zs_store_t *store = zs_service_store(svc);
    json_t *rec = zs_store_get(store, txn, GC_JOBS, uuid);
    if (!rec || strcmp(str(rec, "status"), "Done") == 0) {   /* deleted meanwhile */
        json_decref(rec);
        return 0;
    }
    int64_t now = zs_now_ms();
    int attempts = (int)json_integer_value(json_object_get(rec, "attempts")) + 1;
    json_object_set_new(rec, "attempts", json_integer(attempts));
    json_object_set_new(rec, "lastOpDate", json_integer(now));
    if (json_is_true(json_object_get(o, "ok"))) {
        json_object_del(rec, "lastError");
        json_object_del(rec, "failures");
        json_object_del(rec, "failingNotified");
        if (strcmp(str(rec, "type"), "CycleBased") == 0) {
            json_object_set_new(rec, "status", json_string("Idle"));
            json_object_set_new(rec, "nextRunDate", json_integer(now + sched_interval_ms(rec)));
        } else {
            json_object_set_new(rec, "status", json_string("Done"));
            json_object_del(rec, "nextRunDate");
            zs_info("gc job %s (%s) done after %d attempt(s)", uuid, str(rec, "name"), attempts);
        }
    } else {
        int failures = (int)json_integer_value(json_object_get(rec, "failures")) + 1;
        char why[512];
        snprintf(why, sizeof why, "%s", str(o, "error"));
        json_object_set_new(rec, "failures", json_integer(failures));
        json_object_set_new(rec, "lastError", json_string(why));
        json_object_set_new(rec, "status", json_string("Idle"));
        json_object_set_new(rec, "nextRunDate", json_integer(now + backoff_ms(rec, failures)));
        zs_log(ZS_INFO, uuid, "gc job %s attempt %d failed: %s", str(rec, "name"), attempts, why);
        if (failures >= zs_config_int("gc.failing-attempts", 5) &&
            !json_is_true(json_object_get(rec, "failingNotified"))) {
            json_object_set_new(rec, "failingNotified", json_true());
            zs_warn("gc job %s (%s) keeps failing: %d attempts, last error: %s", uuid,
                    str(rec, "name"), attempts, why);
            zs_service_publish(svc, "gc.failing",
                               json_pack("{s:s, s:s, s:i, s:s}", "uuid", uuid, "name",
                                         str(rec, "name"), "attempts", attempts, "lastError", why));
        }
    }
    int rc = zs_store_put(store, txn, GC_JOBS, uuid, rec);
    json_decref(rec);
    return rc;
}

static void on_runner(zs_service_t *svc, void *sock)
{
    (void)sock;
    sched_t *S = sched_of(svc);
    json_t *o;
    while ((o = runner_recv(S->runner))) {
        const char *uuid = json_string_value(json_object_get(o, "uuid"));
        if (uuid) {
            zhashx_delete(S->in_flight, uuid);
            int rc = zs_service_write(svc, record_outcome, o);
            if (rc != 0)
                zs_errorf("recording the outcome of gc job %s failed: %s", uuid, zs_store_strerror(rc));
        }
        json_decref(o);
    }
}

/* ---- adoption ------------------------------------------------------------------------ */

typedef struct {
    const char *dead;   /* adopt the jobs of this node... */
    const json_t *live; /* ...or of every node not in this array of live gc node uuids */
    int adopted;
} adopt_t;

static bool orphaned(zs_service_t *svc, const adopt_t *a, const char *owner)
{
    if (strcmp(owner, zs_service_node(svc)) == 0)
        return false;
    if (a->dead)
        return strcmp(owner, a->dead) == 0;
    size_t i;
    json_t *u;
    json_array_foreach(a->live, i, u)
        if (strcmp(json_string_value(u), owner) == 0)
            return false;
    return true;
}

static int adopt_in(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    adopt_t *a = arg;
    zs_store_t *store = zs_service_store(svc);
    static const char *const open_states[] = {"Idle", "Processing"};
    int64_t now = zs_now_ms();
    for (int s = 0; s < 2; s++) {
        json_t *uuids = with_status(svc, txn, open_states[s]);
        size_t i;
        json_t *u;
        int rc = 0;
        json_array_foreach(uuids, i, u) {
            json_t *rec = zs_store_get(store, txn, GC_JOBS, json_string_value(u));
            if (rec && orphaned(svc, a, str(rec, "managementNodeUuid"))) {
                json_object_set_new(rec, "managementNodeUuid", json_string(zs_service_node(svc)));
                json_object_set_new(rec, "lastOpDate", json_integer(now));
                if (s == 1) {   /* its attempt died with its node: run it again now */
                    json_object_set_new(rec, "status", json_string("Idle"));
                    json_object_set_new(rec, "nextRunDate", json_integer(now));
                }
                rc = zs_store_put(store, txn, GC_JOBS, json_string_value(u), rec);
                a->adopted++;
            }
            json_decref(rec);
            if (rc != 0)
                break;
        }
        json_decref(uuids);
        if (rc != 0)
            return rc;
    }
    return a->adopted ? 0 : NOTHING;
}

/* Adopts the open jobs of node `dead`, or with dead NULL those of every node not in
 * `live` (the gc nodes svc-core knows). Loop thread. */
static void adopt(zs_service_t *svc, const char *dead, const json_t *live)
{
    adopt_t a = {dead, live, 0};
    int rc = zs_service_write(svc, adopt_in, &a);
    if (rc != 0 && rc != NOTHING)
        zs_errorf("gc: adopting orphaned jobs failed: %s", zs_store_strerror(rc));
    else if (a.adopted)
        zs_info("gc: adopted %d job(s) of %s", a.adopted, dead ? dead : "gc nodes that are gone");
}

/* The live gc nodes, asked of svc-core from a pool thread: arg is a json array filled with
 * {"values": [...]} or {"error": ...}. */
static void ask_live_nodes(zs_bus_t *bus, void *arg)
{
    json_t *error = NULL;
    json_t *res = zs_bus_request(bus, "core", "QueryValues", NULL,
                                 json_pack("{s:s, s:s, s:s}", "resource", "ManagementNode",
                                           "condition", "role=gc", "field", "uuid"),
                                 2000, &error);
    json_array_append_new(arg, res ? res : json_pack("{s:o}", "error", error));
}

static void live_nodes_known(zs_service_t *svc, void *arg)
{
    json_t *answer = json_array_get(arg, 0);
    const json_t *live = json_object_get(answer, "values");
    sched_t *S = svc ? sched_of(svc) : NULL;   /* NULL: the service is stopping */
    if (S) {
        S->asking = false;
        S->ask_failed = !json_is_array(live);
    }
    if (S && json_is_array(live)) {
        adopt(svc, NULL, live);
    } else if (S) {
        zs_debug("gc: cannot list the live gc nodes yet: %s",
                 json_string_value(json_object_get(json_object_get(answer, "error"), "details")));
    }
    json_decref(arg);
}

static void ask_for_orphans(zs_service_t *svc, sched_t *S)
{
    if (S->asking)
        return;   /* until the answer comes back */
    S->asking = true;
    zs_service_remote(svc, ask_live_nodes, live_nodes_known, json_array());
}

/* At start and every gc.adopt-interval seconds. */
static void adopt_round(zs_service_t *svc)
{
    ask_for_orphans(svc, sched_of(svc));
}

/* Every ADOPT_RETRY_MS: again soon when the core did not answer. */
static void adopt_retry(zs_service_t *svc)
{
    sched_t *S = sched_of(svc);
    if (S->ask_failed)
        ask_for_orphans(svc, S);
}

/* ---- EventBased triggers ------------------------------------------------------------- */

typedef struct {
    const char *topic;
    const json_t *body;
    int fired;
} fire_t;

static bool trigger_matches(const json_t *trigger, const char *topic, const json_t *body)
{
    if (strcmp(str(trigger, "topic"), topic) != 0)
        return false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)json_object_get(trigger, "match"), k, v)
        if (!json_equal(v, json_object_get(body, k)))
            return false;
    return true;
}

static int fire_in(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    fire_t *f = arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *uuids = with_status(svc, txn, "Idle");
    int64_t now = zs_now_ms();
    size_t i;
    json_t *u;
    int rc = 0;
    json_array_foreach(uuids, i, u) {
        json_t *rec = zs_store_get(store, txn, GC_JOBS, json_string_value(u));
        if (rec && strcmp(str(rec, "type"), "EventBased") == 0 &&
            strcmp(str(rec, "managementNodeUuid"), zs_service_node(svc)) == 0 &&
            trigger_matches(json_object_get(rec, "trigger"), f->topic, f->body)) {
            json_object_set_new(rec, "nextRunDate", json_integer(now));
            rc = zs_store_put(store, txn, GC_JOBS, json_string_value(u), rec);
            f->fired++;
        }
        json_decref(rec);
        if (rc != 0)
            break;
    }
    json_decref(uuids);
    return rc != 0 ? rc : f->fired ? 0 : NOTHING;
}

static void sched_event(zs_service_t *svc, const char *topic, json_t *body)
{
    const char *role = str(body, "role"), *uuid = str(body, "uuid");
    if ((strcmp(topic, "node.dead") == 0 || strcmp(topic, "node.left") == 0) &&
        strcmp(role, "gc") == 0 && *uuid && strcmp(uuid, zs_service_node(svc)) != 0)
        adopt(svc, uuid, NULL);
    fire_t f = {topic, body, 0};
    if (zs_service_write(svc, fire_in, &f) == 0 && f.fired) {
        zs_info("gc: %s (%s) triggered %d job(s)", topic, role, f.fired);
        run_due(svc);
    }
}

/* ---- the sweep of Done jobs, itself a CycleBased job --------------------------------- */

static int ensure_sweep(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *name = json_string(GC_SWEEP_JOB);
    json_t *uuids = zs_store_find(store, txn, GC_JOBS, "name", name, 16);
    json_decref(name);
    size_t n = json_array_size(uuids);
    json_decref(uuids);
    if (n)
        return 0;
    char uuid[ZS_UUID_LEN + 1];
    int64_t now = zs_now_ms();
    json_int_t interval = zs_config_int("gc.sweep-interval", 3600);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I}",
                            "uuid", zs_uuid_new_ordered(uuid), "name", GC_SWEEP_JOB, "runnerClass",
                            "gc:ExpireGCJobs", "context", "{}", "status", "Idle", "type",
                            "CycleBased", "managementNodeUuid", zs_service_node(svc), "attempts", 0,
                            "interval", interval, "nextRunDate", (json_int_t)(now + interval * 1000),
                            "createDate", (json_int_t)now, "lastOpDate", (json_int_t)now);
    int rc = zs_store_put(store, txn, GC_JOBS, uuid, rec);
    json_decref(rec);
    return rc;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static void sched_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    sched_t *S = state;
    zactor_destroy(&S->runner);
    zhashx_destroy(&S->in_flight);
    free(S);
}

/* The runner, its outcomes watched, the CycleBased sweep of Done jobs registered; what the
 * previous instance left is adopted on the loop's first turn (adopt_round). */
static void *sched_create(zs_service_t *svc)
{
    sched_t *S = calloc(1, sizeof *S);
    if (!S)
        return NULL;
    S->in_flight = zhashx_new();
    S->runner = runner_new();
    int64_t adopt_every = zs_config_int("gc.adopt-interval", 30) * 1000;
    int rc = -1;
    if (S->in_flight && S->runner && zs_service_watch(svc, S->runner, on_runner) == 0 &&
        zs_service_every(svc, adopt_every < 1000 ? 1000 : adopt_every, adopt_round) == 0 &&
        zs_service_every(svc, ADOPT_RETRY_MS, adopt_retry) == 0) {
        rc = zs_service_write(svc, ensure_sweep, NULL);
        if (rc != 0)
            zs_errorf("gc: cannot register the sweep of Done jobs: %s", zs_store_strerror(rc));
    }
    if (rc != 0) {
        sched_destroy(svc, S);
        return NULL;
    }
    return S;
}

/* Once a second: what is due runs. */
static void sched_tick(zs_service_t *svc)
{
    run_due(svc);
}

static const char *const topics[] = {"node.", NULL};

const zs_module_t sched_module = {
    .name = "gc-schedule",
    .topics = topics,
    .create = sched_create,
    .destroy = sched_destroy,
    .tick = sched_tick,
    .on_event = sched_event,
};
