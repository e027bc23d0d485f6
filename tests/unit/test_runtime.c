/* test_runtime.c — the service runtime's batch, after-commit and job-memory rules (service.h)
 * run for real in this process: a service "unitrt" made of one test module, on a thread of
 * its own (service_runner.h), asked over the bus. The module answers the bus-only write API
 * CleanupExpired (service "*", parameters kept as sent) as its parameters say:
 *   {"op":"hold", "ms":N}       sleeps N ms (so the requests sent meanwhile make one batch)
 *   {"op":"put", "key":K, "fail":bool, "after":bool}
 *                               writes K into its database, queues an after-commit function
 *                               when "after", then fails (SYS.1006) when "fail"
 *   {"op":"get", "key":K}       {"present": is K stored}
 *   {"op":"later", "keys":[K...], "fail":[K...]}
 *                               queues a zs_service_write_later per key that writes it (and
 *                               fails with EINVAL for the keys in "fail")
 * and records what happened (handler runs, the batch transaction each put ran in, after-commit
 * functions run or dropped) for the test thread to check. */
#include "bus.h"
#include "clock.h"
#include "error.h"
#include "service_runner.h"
#include "uuid.h"
#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROBE_DB "probe"
#define MAX_KEYS 16

/* ---- the test module (runs on the service's loop thread) ------------------------------ */

typedef struct {
    char key[32];
    size_t txn_id;        /* mdb_txn_id of the transaction the put ran in */
    bool after_ran;       /* its after-commit function ran */
    bool after_saw_it;    /* ...and a fresh read transaction found the key committed */
    bool after_dropped;   /* its after-commit function was dropped */
    int done_calls;       /* zs_service_write_later: times its done was called */
    int done_rc;          /* ...and the rc of the last */
} seen_t;

/* Written by the loop thread, read by the test thread once the replies are in; the mutex
 * orders the two. */
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static seen_t seen[MAX_KEYS];
static int nseen;
static atomic_int handler_runs;

static seen_t *seen_of(const char *key)
{
    for (int i = 0; i < nseen; i++)
        if (strcmp(seen[i].key, key) == 0)
            return &seen[i];
    if (nseen == MAX_KEYS)
        return NULL;
    seen_t *s = &seen[nseen++];
    snprintf(s->key, sizeof s->key, "%s", key);
    return s;
}

static void after_put(zs_service_t *svc, void *arg)
{
    char *key = arg;
    MDB_txn *txn = NULL;
    MDB_val v;
    bool stored = zs_store_begin(zs_service_store(svc), NULL, false, &txn) == 0 &&
                  zs_store_kv_get(zs_service_store(svc), txn, PROBE_DB, key, strlen(key), &v) == 0;
    if (txn)
        mdb_txn_abort(txn);
    pthread_mutex_lock(&seen_lock);
    seen_t *s = seen_of(key);
    if (s) {
        s->after_ran = true;
        s->after_saw_it = stored;
    }
    pthread_mutex_unlock(&seen_lock);
    free(key);
}

static void drop_put(void *arg)
{
    pthread_mutex_lock(&seen_lock);
    seen_t *s = seen_of(arg);
    if (s)
        s->after_dropped = true;
    pthread_mutex_unlock(&seen_lock);
    free(arg);
}

typedef struct {
    char key[32];
    bool fail;
} later_t;

static int later_write(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    later_t *l = arg;
    pthread_mutex_lock(&seen_lock);
    seen_t *s = seen_of(l->key);
    if (s)
        s->txn_id = mdb_txn_id(txn);
    pthread_mutex_unlock(&seen_lock);
    int rc = zs_store_kv_put(zs_service_store(svc), txn, PROBE_DB, l->key, strlen(l->key), "1", 1);
    return rc ? rc : l->fail ? EINVAL : 0;
}

static void later_done(zs_service_t *svc, void *arg, int rc)
{
    (void)svc;
    later_t *l = arg;
    pthread_mutex_lock(&seen_lock);
    seen_t *s = seen_of(l->key);
    if (s) {
        s->done_calls++;
        s->done_rc = rc;
    }
    pthread_mutex_unlock(&seen_lock);
    free(l);
}

static json_t *probe(zs_call_t *call, json_t **error)
{
    atomic_fetch_add(&handler_runs, 1);
    const char *op = zs_call_str(call, "op"), *key = zs_call_str(call, "key");
    json_t *body = call->req->body;
    zs_store_t *store = zs_service_store(call->svc);
    if (op && strcmp(op, "hold") == 0) {
        usleep((useconds_t)json_integer_value(json_object_get(body, "ms")) * 1000);
        return json_object();
    }
    if (op && strcmp(op, "later") == 0) {
        size_t i;
        json_t *k, *fail = json_object_get(body, "fail");
        json_array_foreach(json_object_get(body, "keys"), i, k) {
            later_t *l = calloc(1, sizeof *l);
            snprintf(l->key, sizeof l->key, "%s", json_string_value(k));
            for (size_t j = 0; j < json_array_size(fail); j++)
                l->fail |= json_equal(json_array_get(fail, j), k);
            zs_service_write_later(call->svc, later_write, later_done, l);
        }
        return json_object();
    }
    if (!op || !key)
        return zs_call_invalid(call, error, "op and key are required");
    if (strcmp(op, "get") == 0) {
        MDB_val v;
        return json_pack("{s:b}", "present",
                         zs_store_kv_get(store, call->txn, PROBE_DB, key, strlen(key), &v) == 0);
    }
    int rc = zs_store_kv_put(store, call->txn, PROBE_DB, key, strlen(key), "1", 1);
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    pthread_mutex_lock(&seen_lock);
    seen_t *s = seen_of(key);
    if (s)
        s->txn_id = mdb_txn_id(call->txn);
    pthread_mutex_unlock(&seen_lock);
    if (json_is_true(json_object_get(body, "after")))
        zs_service_after_commit(call->svc, after_put, strdup(key), drop_put);
    if (json_is_true(json_object_get(body, "fail")))
        return zs_call_fail(call, error, ZS_SYS_FAILED, "%s fails on purpose", key);
    return json_pack("{s:i}", "run", atomic_load(&handler_runs));
}

static const zs_handler_t handlers[] = {{"CleanupExpired", probe}, {NULL, NULL}};
static const char *const dbs[] = {PROBE_DB, NULL};
static const zs_module_t probe_module = {.name = "probe", .handlers = handlers, .kv_dbs = dbs};
static const zs_module_t *const modules[] = {&probe_module, NULL};
static const zs_service_def_t unitrt = {.name = "unitrt", .schema_version = 1, .modules = modules};

/* ---- the test side -------------------------------------------------------------------- */

static char base_dir[200];
static int made;
static service_runner_t runner;
static zs_bus_t *client;

/* A fresh service (its own data directory) and a client; `commit_failures` batch commits
 * fail first (fault.commit-failures, read when the service starts). */
static void start(const char *commit_failures)
{
    setenv("ZS_FAULT_COMMIT_FAILURES", commit_failures, 1);
    pthread_mutex_lock(&seen_lock);
    memset(seen, 0, sizeof seen);
    nseen = 0;
    pthread_mutex_unlock(&seen_lock);
    atomic_store(&handler_runs, 0);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%d", base_dir, made++);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    service_runner_start(&runner, &unitrt, dir);
    client = zs_bus_new();
    ck_assert_ptr_nonnull(client);
}

static void stop(void)
{
    zs_bus_destroy(&client);
    service_runner_stop(&runner);
}

/* A CleanupExpired request with `body` (stolen); a job when job_id is given. */
static void request(zs_msg_t *req, json_t *body, const char *job_id)
{
    memset(req, 0, sizeof *req);
    req->kind = 'Q';
    snprintf(req->api, sizeof req->api, "CleanupExpired");
    if (job_id) {
        req->job = true;
        snprintf(req->id, sizeof req->id, "%s", job_id);
    } else {
        zs_uuid_new(req->id);
    }
    req->deadline = zs_now_ms() + 10000;
    req->body = body;
}

/* Calls the service and waits for its reply (into *reply; the caller clears it). */
static void call(json_t *body, const char *job_id, zs_msg_t *reply)
{
    zs_msg_t req;
    request(&req, body, job_id);
    int rc = zs_bus_call(client, "unitrt", &req, &(zs_bus_call_opts_t){.timeout_ms = 10000}, reply);
    zs_msg_clear(&req);
    ck_assert_int_eq(rc, ZS_BUS_OK);
}

static bool present(const char *key)
{
    zs_msg_t reply;
    call(json_pack("{s:s, s:s}", "op", "get", "key", key), NULL, &reply);
    ck_assert_msg(reply.ok, "get %s failed", key);
    bool is = json_is_true(json_object_get(reply.body, "present"));
    zs_msg_clear(&reply);
    return is;
}

static seen_t seen_copy(const char *key)
{
    pthread_mutex_lock(&seen_lock);
    seen_t *s = seen_of(key), copy = s ? *s : (seen_t){0};
    pthread_mutex_unlock(&seen_lock);
    return copy;
}

/* Handler runs so far (a plain value: readable in check's failure messages). */
static int runs(void) { return atomic_load(&handler_runs); }

static json_t *put(const char *key, bool fail)
{
    return json_pack("{s:s, s:s, s:b, s:b}", "op", "put", "key", key, "fail", fail, "after", 1);
}

START_TEST(a_failing_request_rolls_back_only_itself)
{
    start("0");
    /* The hold keeps the loop busy while a, b and c arrive: the next batch takes all three. */
    json_t *bodies[4] = {json_pack("{s:s, s:i}", "op", "hold", "ms", 300), put("a", false),
                         put("b", true), put("c", false)};
    zs_msg_t reqs[4];
    for (int i = 0; i < 4; i++) {
        request(&reqs[i], bodies[i], NULL);
        ck_assert_int_eq(zs_bus_send_within(client, "unitrt", &reqs[i], 2000), 0);
    }
    zs_msg_t replies[4] = {{0}};
    zsock_t *sock = zs_bus_socket(client, "unitrt");
    for (int got = 0; got < 4;) {
        ck_assert_msg(zsock_events(sock) & ZMQ_POLLIN || zmq_poll(&(zmq_pollitem_t){
                          .socket = zsock_resolve(sock), .events = ZMQ_POLLIN}, 1, 5000) == 1,
                      "only %d of 4 replies came", got);
        zs_msg_t m;
        ck_assert_int_eq(zs_bus_recv(sock, &m, NULL), 0);
        for (int i = 0; i < 4; i++)
            if (m.kind == 'R' && strcmp(m.id, reqs[i].id) == 0 && !replies[i].id[0]) {
                replies[i] = m;
                memset(&m, 0, sizeof m);
                got++;
            }
        zs_msg_clear(&m);
    }
    ck_assert(replies[0].ok);
    ck_assert(replies[1].ok);
    ck_assert(!replies[2].ok);
    ck_assert_str_eq(zs_error_code(replies[2].body), ZS_SYS_FAILED);
    ck_assert(replies[3].ok);
    for (int i = 0; i < 4; i++) {
        zs_msg_clear(&reqs[i]);
        zs_msg_clear(&replies[i]);
    }
    /* b's write went with b; a's and c's were committed */
    ck_assert(present("a"));
    ck_assert(!present("b"));
    ck_assert(present("c"));
    /* one batch: one transaction for the three (read after the gets above: the batch's
     * after-commit functions have run by then) */
    seen_t a = seen_copy("a"), b = seen_copy("b"), c = seen_copy("c");
    ck_assert_uint_ne(a.txn_id, 0);
    ck_assert_uint_eq(a.txn_id, b.txn_id);
    ck_assert_uint_eq(a.txn_id, c.txn_id);
    /* a's and c's after-commit functions ran after the commit (they saw their writes); b's
     * was dropped, not run */
    ck_assert(a.after_ran && a.after_saw_it && !a.after_dropped);
    ck_assert(c.after_ran && c.after_saw_it && !c.after_dropped);
    ck_assert(!b.after_ran && b.after_dropped);
}
END_TEST

START_TEST(after_commit_functions_wait_for_a_successful_commit)
{
    start("1");   /* the first batch commit fails, as a full disk would */
    zs_msg_t reply;
    call(put("x", false), NULL, &reply);
    ck_assert(!reply.ok);   /* the handler succeeded, the commit did not */
    ck_assert_int_eq(reply.status, 500);
    zs_msg_clear(&reply);
    /* The loop sends a batch's replies, then runs or drops its after-commit functions: the
     * next request's answer comes after that. */
    ck_assert(!present("x"));
    seen_t x = seen_copy("x");
    ck_assert_uint_ne(x.txn_id, 0);   /* it did run */
    ck_assert(!x.after_ran && x.after_dropped);

    call(put("y", false), NULL, &reply);
    ck_assert(reply.ok);
    zs_msg_clear(&reply);
    ck_assert(present("y"));
    seen_t y = seen_copy("y");
    ck_assert(y.after_ran && y.after_saw_it && !y.after_dropped);
}
END_TEST

START_TEST(a_job_sent_again_gets_its_stored_outcome)
{
    start("0");
    char ok_job[ZS_UUID_LEN + 1], failed_job[ZS_UUID_LEN + 1];
    zs_uuid_new(ok_job);
    zs_uuid_new(failed_job);
    zs_msg_t first, again;
    call(put("j", false), ok_job, &first);
    ck_assert(first.ok);
    ck_assert_int_eq(runs(), 1);
    call(put("j", false), ok_job, &again);   /* a re-dispatch of the same job */
    ck_assert(again.ok);
    ck_assert_int_eq(runs(), 1);   /* not run again */
    ck_assert(json_equal(first.body, again.body));
    ck_assert_int_eq(json_integer_value(json_object_get(again.body, "run")), 1);
    zs_msg_clear(&first);
    zs_msg_clear(&again);

    /* a failure is an outcome too: remembered, not retried */
    call(put("k", true), failed_job, &first);
    ck_assert(!first.ok);
    ck_assert_int_eq(runs(), 2);
    call(put("k", false), failed_job, &again);
    ck_assert(!again.ok);
    ck_assert_int_eq(runs(), 2);
    ck_assert(json_equal(first.body, again.body));
    zs_msg_clear(&first);
    zs_msg_clear(&again);
    ck_assert(!present("k"));

    /* another id is another job */
    zs_uuid_new(ok_job);
    call(put("j2", false), ok_job, &first);
    ck_assert(first.ok);
    ck_assert_int_eq(runs(), 4);   /* "get k" above ran it once */
    zs_msg_clear(&first);
}
END_TEST

/* Waits up to 5 s for the done of `key`'s queued write. */
static seen_t done_of(const char *key)
{
    seen_t s = seen_copy(key);
    for (int i = 0; i < 500 && !s.done_calls; i++) {
        usleep(10000);
        s = seen_copy(key);
    }
    return s;
}

START_TEST(queued_writes_join_one_batch_and_fail_alone)
{
    start("0");
    zs_msg_t reply;
    call(json_pack("{s:s, s:[s,s,s], s:[s]}", "op", "later", "keys", "l1", "l2", "l3", "fail", "l2"),
         NULL, &reply);
    ck_assert(reply.ok);
    zs_msg_clear(&reply);
    seen_t l1 = done_of("l1"), l2 = done_of("l2"), l3 = done_of("l3");
    /* each done once: the good ones durable (rc 0), the failing one with its own code */
    ck_assert_int_eq(l1.done_calls, 1);
    ck_assert_int_eq(l1.done_rc, 0);
    ck_assert_int_eq(l2.done_calls, 1);
    ck_assert_int_eq(l2.done_rc, EINVAL);
    ck_assert_int_eq(l3.done_calls, 1);
    ck_assert_int_eq(l3.done_rc, 0);
    /* one transaction for the three: one commit */
    ck_assert_uint_ne(l1.txn_id, 0);
    ck_assert_uint_eq(l1.txn_id, l2.txn_id);
    ck_assert_uint_eq(l1.txn_id, l3.txn_id);
    /* l2's write went with l2 alone */
    ck_assert(present("l1"));
    ck_assert(!present("l2"));
    ck_assert(present("l3"));
}
END_TEST

START_TEST(a_queued_write_is_told_when_its_batch_does_not_commit)
{
    start("2");   /* the request's batch and the next (the queued write's) fail to commit */
    zs_msg_t reply;
    call(json_pack("{s:s, s:[s]}", "op", "later", "keys", "w"), NULL, &reply);
    ck_assert(!reply.ok);
    zs_msg_clear(&reply);
    seen_t w = done_of("w");
    ck_assert_int_eq(w.done_calls, 1);
    ck_assert_int_eq(w.done_rc, EIO);
    ck_assert(!present("w"));
    call(put("after", false), NULL, &reply);   /* commits work again */
    ck_assert(reply.ok);
    zs_msg_clear(&reply);
    ck_assert(present("after"));
    ck_assert_int_eq(seen_copy("w").done_calls, 1);   /* never called again */
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        a_failing_request_rolls_back_only_itself,
        after_commit_functions_wait_for_a_successful_commit,
        a_job_sent_again_gets_its_stored_outcome,
        queued_writes_join_one_batch_and_fail_alone,
        a_queued_write_is_told_when_its_batch_does_not_commit,
        NULL,
    };
    return service_tests_main("runtime", base_dir, sizeof base_dir, stop, tests);
}
