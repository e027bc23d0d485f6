/* runner.c — the loop side of running long jobs (see longjob.h).
 *
 * Ownership: a job belongs to the node in its managementNodeUuid. Each zs-longjob process
 * holds an exclusive flock on <data dir>/longjob/nodes/<its node uuid>.lock for its whole
 * life; the kernel drops it when the process dies, even by SIGKILL. So every tick, a lock
 * file we can lock names a dead owner: its unfinished jobs are adopted and the file goes.
 * Owners without a lock file here (another host) are dead once svc-core says so ("node.dead"
 * / "node.left" events, or its management node record is gone).
 * Adopting: Waiting and Suspended jobs just change owner; Running jobs resume (an API job
 * re-sends its request with the same id while the owning service still remembers it, a
 * backup or cleanup starts again from scratch); otherwise they fail "management node is
 * unavailable". Canceling jobs end Canceled. Then the tick starts Waiting jobs of this
 * node while fewer than longjob.concurrency run, and gives every Running job of this node a
 * worker — so no job stays Running without one.
 */
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "longjob.h"
#include "uuid.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
/* A service remembers executed job ids 24 h (common/service_jobs.c); resume only well inside that. */
#define RESUME_WINDOW_MS (23LL * 3600 * 1000)

/* The module's state (zs_service_module_state). */
typedef struct {
    worker_t *workers[MAX_WORKERS];
    int n;
    zsock_t *done;                 /* PULL: workers' outcomes */
    char endpoint[64];
    char lock_dir[1024];
    int lock_fd;
    json_t *dead_nodes;            /* uuid -> true, from events and svc-core's answers */
    bool asking;                   /* a question to svc-core about owners is out */
    bool may_ask;                  /* the owners_every timer allows the next question */
    char last_default[32];         /* default backup names handed out this second */
    int same_second;
} runner_t;

#define OWNERS_EVERY_MS 10000      /* svc-core is asked about owners at most this often */

static runner_t *runner_of(zs_service_t *svc)
{
    return zs_service_module_state(svc, &runner_module);
}

static int concurrency(void)
{
    int64_t n = zs_config_int("longjob.concurrency", 4);
    return n < 1 ? 1 : n > 32 ? 32 : (int)n;
}

static const char *str(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

static bool mine(zs_service_t *svc, const json_t *rec)
{
    const char *owner = str(rec, "managementNodeUuid");
    return owner && strcmp(owner, zs_service_node(svc)) == 0;
}

static worker_t *worker_of(runner_t *R, const char *uuid)
{
    for (int i = 0; i < R->n; i++)
        if (strcmp(R->workers[i]->uuid, uuid) == 0)
            return R->workers[i];
    return NULL;
}

static void forget_worker(runner_t *R, worker_t *w)
{
    for (int i = 0; i < R->n; i++)
        if (R->workers[i] == w) {
            R->workers[i] = R->workers[--R->n];
            break;
        }
    pthread_join(w->thread, NULL);
    worker_free(&w);
}

/* Uuids of the jobs in `state` (new array). */
static json_t *jobs_in(zs_service_t *svc, MDB_txn *txn, const char *state)
{
    json_t *v = json_string(state);
    json_t *uuids = zs_store_find(zs_service_store(svc), txn, LONGJOBS, "state", v, 100000);
    json_decref(v);
    return uuids;
}

/* ---- starting ------------------------------------------------------------------------ */

/* <data dir>/backups/<yyyyMMdd-HHmmss>, with -2, -3... when that name is taken. */
static void default_target(runner_t *R, char *out, size_t size)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    if (strcmp(stamp, R->last_default) == 0)
        R->same_second++;
    else
        R->same_second = 1;
    snprintf(R->last_default, sizeof R->last_default, "%s", stamp);
    for (int n = R->same_second;; n++) {
        if (n == 1)
            snprintf(out, size, "%s/backups/%s", zs_config_data_dir(), stamp);
        else
            snprintf(out, size, "%s/backups/%s-%d", zs_config_data_dir(), stamp, n);
        struct stat st;
        if (stat(out, &st) != 0) {
            R->same_second = n;
            return;
        }
    }
}

static void spawn(runner_t *R, const json_t *rec)
{
    const char *uuid = str(rec, "uuid");
    if (worker_of(R, uuid))
        return;
    if (R->n == MAX_WORKERS) {
        zs_log(ZS_WARN, uuid, "no room for another worker; the job starts at a later tick");
        return;
    }
    worker_t *w = calloc(1, sizeof *w);
    snprintf(w->uuid, sizeof w->uuid, "%s", uuid);
    snprintf(w->run_id, sizeof w->run_id, "%s", str(rec, "runId"));
    snprintf(w->api_id, sizeof w->api_id, "%s", str(rec, "apiId"));
    snprintf(w->job_name, sizeof w->job_name, "%s", str(rec, "jobName"));
    snprintf(w->target, sizeof w->target, "%s", str(rec, "target") ? str(rec, "target") : "");
    snprintf(w->done_endpoint, sizeof w->done_endpoint, "%s", R->endpoint);
    int kind = job_kind(w->job_name, &w->api);
    w->kind = kind < 0 ? JOB_API : (job_kind_t)kind;   /* an unknown API fails in the worker */
    const char *why = NULL;
    w->params = job_params(json_object_get(rec, "jobData"), &why);
    w->caller = json_is_object(json_object_get(rec, "caller")) ? json_deep_copy(json_object_get(rec, "caller"))
                                                              : NULL;
    atomic_init(&w->cancel, strcmp(str(rec, "state"), "Canceling") == 0);
    atomic_init(&w->stop, false);
    if (worker_start(w) != 0) {
        zs_log(ZS_ERROR, uuid, "cannot start a worker thread; retrying at the next tick");
        worker_free(&w);
        return;
    }
    R->workers[R->n++] = w;
    zs_log(ZS_INFO, uuid, "longjob %s running (run %s)", w->job_name, w->run_id);
}

static void spawn_after_commit(zs_service_t *svc, void *arg)
{
    runner_t *R = runner_of(svc);
    char *uuid = arg;
    MDB_txn *txn;
    if (zs_store_begin(zs_service_store(svc), NULL, false, &txn) == 0) {
        json_t *rec = zs_store_get(zs_service_store(svc), txn, LONGJOBS, uuid);
        mdb_txn_abort(txn);
        if (rec && mine(svc, rec) && strcmp(str(rec, "state"), "Running") == 0)
            spawn(R, rec);
        json_decref(rec);
    }
    free(uuid);
}

/* The records of this node's Running and Canceling jobs (a new array). */
static json_t *busy_here(zs_service_t *svc, MDB_txn *txn)
{
    json_t *mine_busy = json_array();
    static const char *const busy[] = {"Running", "Canceling"};
    for (int s = 0; s < 2; s++) {
        json_t *uuids = jobs_in(svc, txn, busy[s]);
        size_t i;
        json_t *u;
        json_array_foreach(uuids, i, u) {
            json_t *rec = zs_store_get(zs_service_store(svc), txn, LONGJOBS, json_string_value(u));
            if (rec && mine(svc, rec))
                json_array_append(mine_busy, rec);
            json_decref(rec);
        }
        json_decref(uuids);
    }
    return mine_busy;
}

static int running_here(zs_service_t *svc, MDB_txn *txn)
{
    json_t *busy = busy_here(svc, txn);
    int n = (int)json_array_size(busy);
    json_decref(busy);
    return n;
}

static void begin_run(zs_service_t *svc, json_t *rec, bool new_run)
{
    runner_t *R = runner_of(svc);
    int64_t now = zs_now_ms();
    if (new_run) {
        char run[ZS_UUID_LEN + 1];
        json_object_set_new(rec, "runId", json_string(zs_uuid_new(run)));
        json_object_set_new(rec, "runStartedAt", json_integer(now));
        const zs_api_t *api;
        if (job_kind(str(rec, "jobName"), &api) == JOB_BACKUP) {
            const char *why;
            json_t *params = job_params(json_object_get(rec, "jobData"), &why);
            char target[1024];
            const char *path = str(params, "path");
            if (path)
                snprintf(target, sizeof target, "%s", path);
            else
                default_target(R, target, sizeof target);
            json_object_set_new(rec, "target", json_string(target));
            json_decref(params);
        }
    }
    json_object_set_new(rec, "state", json_string("Running"));
    json_object_set_new(rec, "managementNodeUuid", json_string(zs_service_node(svc)));
    json_object_set_new(rec, "lastOpDate", json_integer(now));
    zs_service_after_commit(svc, spawn_after_commit, strdup(str(rec, "uuid")), free);
}

bool runner_try_start(zs_service_t *svc, MDB_txn *txn, json_t *rec)
{
    if (running_here(svc, txn) >= concurrency())
        return false;
    begin_run(svc, rec, true);
    return true;
}

void runner_resume(zs_service_t *svc, json_t *rec)
{
    begin_run(svc, rec, false);
}

void runner_cancel(zs_service_t *svc, const char *uuid)
{
    runner_t *R = runner_of(svc);
    worker_t *w = worker_of(R, uuid);
    if (w)   /* the state (Canceling) is written in this batch; a restart reads it from there */
        atomic_store(&w->cancel, true);
}

/* On a pool thread. */
static void finish_progress(zs_bus_t *bus, void *arg)
{
    json_t *error = NULL;
    json_t *res = zs_bus_request(bus, "core", "FinishProgress", NULL,
                                 json_pack("{s:s}", "apiId", (char *)arg), 2000, &error);
    if (!res)
        zs_log(ZS_WARN, arg, "progress not closed: %s", json_string_value(json_object_get(error, "details")));
    json_decref(res);
    json_decref(error);
}

static void free_after_remote(zs_service_t *svc, void *arg)
{
    (void)svc;
    free(arg);
}

static void finish_after_commit(zs_service_t *svc, void *arg)
{
    zs_service_remote(svc, finish_progress, free_after_remote, arg);
}

void runner_finish_progress(zs_service_t *svc, const char *api_id)
{
    if (api_id)
        zs_service_after_commit(svc, finish_after_commit, strdup(api_id), free);
}

/* ---- outcomes ------------------------------------------------------------------------ */

static int apply_outcome(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    json_t *msg = arg;
    zs_store_t *store = zs_service_store(svc);
    const char *uuid = str(msg, "uuid"), *outcome = str(msg, "outcome");
    json_t *rec = zs_store_get(store, txn, LONGJOBS, uuid);
    const char *state = str(rec, "state");
    if (!rec || !mine(svc, rec) || !str(rec, "runId") || strcmp(str(rec, "runId"), str(msg, "runId")) != 0 ||
        (strcmp(state, "Running") != 0 && strcmp(state, "Canceling") != 0)) {
        json_decref(rec);
        return 0;   /* the job moved on (deleted, rerun, adopted elsewhere): stale news */
    }
    json_t *error = json_object_get(msg, "error");
    if (strcmp(outcome, "ok") == 0) {
        char *text = json_dumps(json_object_get(msg, "result"), JSON_COMPACT | JSON_ENCODE_ANY);
        json_object_set_new(rec, "jobResult", json_string(text));
        free(text);
        job_finalize(svc, rec, "Succeeded");
    } else if (strcmp(outcome, "canceled") == 0) {
        json_object_set_new(rec, "jobResult", json_null());
        job_finalize(svc, rec, "Canceled");
    } else {
        bool suspend = strcmp(outcome, "suspended") == 0;
        char *text = job_failure_text(suspend ? "longjob suspended" : "longjob failed", error);
        json_object_set_new(rec, "jobResult", json_string(text));
        free(text);
        if (suspend) {
            json_object_set_new(rec, "state", json_string("Suspended"));
            json_object_set_new(rec, "lastOpDate", json_integer(zs_now_ms()));
        } else {
            job_finalize(svc, rec, "Failed");
        }
    }
    int rc = zs_store_put(store, txn, LONGJOBS, uuid, rec);
    zs_log(ZS_INFO, uuid, "longjob %s: %s", str(rec, "jobName"), str(rec, "state"));
    json_decref(rec);
    return rc;
}

static void on_done(zs_service_t *svc, void *sock)
{
    runner_t *R = runner_of(svc);
    while (zsock_events(sock) & ZMQ_POLLIN) {
        char *text = zstr_recv(sock);
        json_t *msg = text ? json_loads(text, 0, NULL) : NULL;
        zstr_free(&text);
        const char *uuid = str(msg, "uuid");
        if (!uuid || !str(msg, "runId") || !str(msg, "outcome")) {
            json_decref(msg);
            continue;
        }
        worker_t *w = worker_of(R, uuid);
        if (w && strcmp(w->run_id, str(msg, "runId")) == 0)
            forget_worker(R, w);
        int rc = zs_service_write(svc, apply_outcome, msg);
        if (rc != 0)   /* the job stays Running here; the next tick gives it a new worker */
            zs_log(ZS_ERROR, uuid, "storing the outcome failed: %s", zs_store_strerror(rc));
        json_decref(msg);
    }
}

/* ---- taking over ----------------------------------------------------------------------- */

/* Takes over every unfinished job of the dead node `owner`. */
static int adopt(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    const char *owner = arg;
    zs_store_t *store = zs_service_store(svc);
    static const char *const open_states[] = {"Waiting", "Suspended", "Running", "Canceling"};
    int64_t now = zs_now_ms();
    for (int s = 0; s < 4; s++) {
        json_t *uuids = jobs_in(svc, txn, open_states[s]);
        size_t i;
        json_t *u;
        json_array_foreach(uuids, i, u) {
            json_t *rec = zs_store_get(store, txn, LONGJOBS, json_string_value(u));
            const char *o = str(rec, "managementNodeUuid");
            if (!rec || !o || strcmp(o, owner) != 0) {
                json_decref(rec);
                continue;
            }
            const zs_api_t *api;
            int kind = job_kind(str(rec, "jobName"), &api);
            const char *state = str(rec, "state");
            json_object_set_new(rec, "managementNodeUuid", json_string(zs_service_node(svc)));
            if (strcmp(state, "Canceling") == 0) {
                if (kind == JOB_BACKUP && str(rec, "target"))
                    backup_discard(str(rec, "target"), str(rec, "uuid"));
                json_object_set_new(rec, "jobResult", json_null());
                job_finalize(svc, rec, "Canceled");
                runner_finish_progress(svc, str(rec, "apiId"));
            } else if (strcmp(state, "Running") == 0 && kind == JOB_API &&
                       now - json_integer_value(json_object_get(rec, "runStartedAt")) > RESUME_WINDOW_MS) {
                json_t *e = zs_error(ZS_SYS_FAILED, "management node is unavailable");
                char *text = job_failure_text("management node is unavailable", e);
                json_decref(e);
                json_object_set_new(rec, "jobResult", json_string(text));
                free(text);
                job_finalize(svc, rec, "Failed");
                runner_finish_progress(svc, str(rec, "apiId"));
            } else if (strcmp(state, "Running") == 0) {
                zs_service_after_commit(svc, spawn_after_commit, strdup(str(rec, "uuid")), free);
            }
            zs_log(ZS_INFO, str(rec, "uuid"), "longjob adopted from dead node %s: %s -> %s", owner,
                   state, str(rec, "state"));
            int rc = zs_store_put(store, txn, LONGJOBS, str(rec, "uuid"), rec);
            json_decref(rec);
            if (rc != 0) {
                json_decref(uuids);
                return rc;
            }
        }
        json_decref(uuids);
    }
    return 0;
}

/* Lock files we can lock belong to dead processes of this host. */
static void adopt_local_dead(zs_service_t *svc)
{
    runner_t *R = runner_of(svc);
    DIR *d = opendir(R->lock_dir);
    if (!d)
        return;
    char mine_name[64];
    snprintf(mine_name, sizeof mine_name, "%s.lock", zs_service_node(svc));
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len != ZS_UUID_LEN + 5 || strcmp(e->d_name + ZS_UUID_LEN, ".lock") != 0 ||
            strcmp(e->d_name, mine_name) == 0)
            continue;
        char path[1400], owner[ZS_UUID_LEN + 1];
        snprintf(path, sizeof path, "%s/%s", R->lock_dir, e->d_name);
        snprintf(owner, sizeof owner, "%.32s", e->d_name);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && zs_service_write(svc, adopt, owner) == 0)
            unlink(path);   /* while still locked: no live process can hold it */
        close(fd);
    }
    closedir(d);
}

static bool has_lock_file(runner_t *R, const char *owner)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.lock", R->lock_dir, owner);
    return access(path, F_OK) == 0;
}

/* On a pool thread: which of the owners (an object whose keys are node uuids) svc-core no
 * longer knows; their values become true. */
static void ask_owners(zs_bus_t *bus, void *arg)
{
    const char *owner;
    json_t *v;
    json_object_foreach((json_t *)arg, owner, v) {
        json_t *error = NULL;
        json_t *res = zs_bus_request(bus, "core", "Exists", NULL,
                                     json_pack("{s:s, s:s}", "resource", "ManagementNode", "uuid", owner),
                                     2000, &error);
        if (res && json_is_false(json_object_get(res, "exists")))
            json_object_set(arg, owner, json_true());
        json_decref(res);
        json_decref(error);
    }
}

/* On the loop: the answers join what the events said (adopted at the next tick). */
static void owners_answered(zs_service_t *svc, void *arg)
{
    runner_t *R = svc ? runner_of(svc) : NULL;   /* NULL: the service is stopping */
    const char *owner;
    json_t *v;
    if (R) {
        R->asking = false;
        json_object_foreach((json_t *)arg, owner, v)
            if (json_is_true(v))
                json_object_set_new(R->dead_nodes, owner, json_true());
    }
    json_decref(arg);
}

static void adopt_remote_dead(zs_service_t *svc)
{
    runner_t *R = runner_of(svc);
    bool may_ask = !R->asking && R->may_ask;
    json_t *owners = json_object();
    MDB_txn *txn;
    if (zs_store_begin(zs_service_store(svc), NULL, false, &txn) == 0) {
        static const char *const open_states[] = {"Waiting", "Suspended", "Running", "Canceling"};
        for (int s = 0; s < 4; s++) {
            json_t *uuids = jobs_in(svc, txn, open_states[s]);
            size_t i;
            json_t *u;
            json_array_foreach(uuids, i, u) {
                json_t *rec = zs_store_get(zs_service_store(svc), txn, LONGJOBS, json_string_value(u));
                const char *o = str(rec, "managementNodeUuid");
                if (o && !mine(svc, rec) && !has_lock_file(R, o))
                    json_object_set_new(owners, o, json_true());
                json_decref(rec);
            }
            json_decref(uuids);
        }
        mdb_txn_abort(txn);
    }
    /* Events first; owners they did not declare dead are asked about (rate-limited). */
    json_t *unknown = json_object();
    const char *owner;
    json_t *v;
    json_object_foreach(owners, owner, v)
        if (json_object_get(R->dead_nodes, owner))
            zs_service_write(svc, adopt, (void *)owner);
        else
            json_object_set_new(unknown, owner, json_false());
    json_decref(owners);
    if (may_ask && json_object_size(unknown)) {
        R->may_ask = false;
        R->asking = true;
        zs_service_remote(svc, ask_owners, owners_answered, unknown);
    } else {
        json_decref(unknown);
    }
}

static void runner_event(zs_service_t *svc, const char *topic, json_t *body)
{
    runner_t *R = runner_of(svc);
    const char *uuid = str(body, "uuid");
    if (!uuid || !zs_uuid_valid(uuid) || (strcmp(topic, "node.dead") != 0 && strcmp(topic, "node.left") != 0))
        return;
    if (json_object_size(R->dead_nodes) >= 1000)
        json_object_clear(R->dead_nodes);
    json_object_set_new(R->dead_nodes, uuid, json_true());
}

/* ---- scheduling ---------------------------------------------------------------------- */

static int by_create_date(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "createDate"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "createDate"));
    return (x > y) - (x < y);
}

/* Starts the oldest Waiting jobs of this node while slots are free. */
static int schedule(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    int free_slots = concurrency() - running_here(svc, txn);
    if (free_slots <= 0)
        return 0;
    zs_store_t *store = zs_service_store(svc);
    json_t *uuids = jobs_in(svc, txn, "Waiting");
    size_t n = 0, i;
    json_t **recs = calloc(json_array_size(uuids) + 1, sizeof *recs);
    json_t *u;
    json_array_foreach(uuids, i, u) {
        json_t *rec = zs_store_get(store, txn, LONGJOBS, json_string_value(u));
        if (rec && mine(svc, rec))
            recs[n++] = rec;
        else
            json_decref(rec);
    }
    json_decref(uuids);
    qsort(recs, n, sizeof *recs, by_create_date);
    int rc = 0;
    for (i = 0; i < n; i++) {
        if (rc == 0 && (int)i < free_slots) {
            begin_run(svc, recs[i], true);
            rc = zs_store_put(store, txn, LONGJOBS, str(recs[i], "uuid"), recs[i]);
        }
        json_decref(recs[i]);
    }
    free(recs);
    return rc;
}

/* Every Running/Canceling job of this node has a worker. */
static void ensure_workers(zs_service_t *svc)
{
    runner_t *R = runner_of(svc);
    MDB_txn *txn;
    if (zs_store_begin(zs_service_store(svc), NULL, false, &txn) != 0)
        return;
    json_t *busy = busy_here(svc, txn);
    size_t i;
    json_t *rec;
    json_array_foreach(busy, i, rec)
        if (!worker_of(R, str(rec, "uuid")))
            spawn(R, rec);
    json_decref(busy);
    mdb_txn_abort(txn);
}

static void runner_tick(zs_service_t *svc)
{
    adopt_local_dead(svc);
    adopt_remote_dead(svc);
    zs_service_write(svc, schedule, NULL);
    ensure_workers(svc);
}

/* Every OWNERS_EVERY_MS: svc-core may be asked about owners again. */
static void owners_every(zs_service_t *svc)
{
    runner_of(svc)->may_ask = true;
}

/* ---- create / destroy ---------------------------------------------------------------- */

/* Workers stop where they are; their jobs stay Running on this node, and whoever runs
 * next (this service restarted, or another instance) takes them over through the lock. */
static void runner_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    runner_t *R = state;
    for (int i = 0; i < R->n; i++)
        atomic_store(&R->workers[i]->stop, true);
    while (R->n)
        forget_worker(R, R->workers[0]);
    zsock_destroy(&R->done);
    if (R->lock_fd >= 0)
        close(R->lock_fd);
    json_decref(R->dead_nodes);
    free(R);
}

static void *runner_create(zs_service_t *svc)
{
    runner_t *R = calloc(1, sizeof *R);
    if (!R)
        return NULL;
    R->lock_fd = -1;
    R->may_ask = true;
    R->dead_nodes = json_object();
    snprintf(R->endpoint, sizeof R->endpoint, "inproc://longjob-done-%d", (int)getpid());
    R->done = zsock_new_pull(R->endpoint);   /* binds */
    snprintf(R->lock_dir, sizeof R->lock_dir, "%s/longjob/nodes", zs_config_data_dir());
    if (!R->done || zs_service_watch(svc, R->done, on_done) != 0 ||
        zs_service_every(svc, OWNERS_EVERY_MS, owners_every) != 0 ||
        (mkdir(R->lock_dir, 0755) != 0 && errno != EEXIST)) {
        runner_destroy(svc, R);
        return NULL;
    }
    char path[1400];
    snprintf(path, sizeof path, "%s/%s.lock", R->lock_dir, zs_service_node(svc));
    R->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (R->lock_fd < 0 || flock(R->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        zs_errorf("cannot lock %s: %s", path, strerror(errno));
        runner_destroy(svc, R);
        return NULL;
    }
    return R;
}

static const char *const topics[] = {"node.dead", "node.left", NULL};

const zs_module_t runner_module = {
    .name = "longjob-runner",
    .topics = topics,
    .create = runner_create,
    .destroy = runner_destroy,
    .tick = runner_tick,
    .on_event = runner_event,
};
