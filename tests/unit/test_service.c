/* Unit tests of the service object (service.h): a real service made in this process (its own
 * data directory and ipc endpoint under a temporary directory), run on a thread of its own,
 * answering Ping over the bus, and stopped by zs_service_stop from another thread or by
 * SIGTERM; one service per process at a time. A second definition of the same service has a
 * module with state, timers and many watched sockets. */
#include "bus.h"
#include "clock.h"
#include "config.h"
#include "service.h"
#include "testutil.h"
#include <check.h>
#include <czmq.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A service owning no API row: it answers the builtins only. */
static const zs_service_def_t probe = {.name = "unitprobe", .schema_version = 1, .modules = NULL};

/* ---- a module with state, timers and watched sockets ---------------------------------- */

#define NPAIRS 40      /* more than the runtime's old fixed table of 32 watches */
#define MAX_FIRES 256

typedef struct {
    int64_t fast[MAX_FIRES], slow[MAX_FIRES];   /* zs_mono_ms of each run */
    int nfast, nslow;
    char order[MAX_FIRES];                      /* 'f' / 's' in the order they ran */
    int norder;
    int bad_every;                              /* refusals of bad zs_service_every calls */
    zsock_t *in[NPAIRS], *out[NPAIRS];
    int received;                               /* messages the watches drained */
    bool sent;
} probe_state_t;

/* What the module left behind, read once the service thread is joined. */
static atomic_int creates, destroys;
static probe_state_t *made_state, *destroyed_state;
static probe_state_t result;

static const zs_module_t probe_module;

static probe_state_t *state_of(zs_service_t *svc)
{
    return zs_service_module_state(svc, &probe_module);
}

static void fast_timer(zs_service_t *svc)
{
    probe_state_t *st = state_of(svc);
    if (st->nfast < MAX_FIRES)
        st->fast[st->nfast++] = zs_mono_ms();
    if (st->norder < MAX_FIRES)
        st->order[st->norder++] = 'f';
    if (!st->sent) {   /* every watched socket gets one message */
        for (int i = 0; i < NPAIRS; i++)
            zstr_send(st->out[i], "x");
        st->sent = true;
    }
}

static void slow_timer(zs_service_t *svc)
{
    probe_state_t *st = state_of(svc);
    if (st->nslow < MAX_FIRES)
        st->slow[st->nslow++] = zs_mono_ms();
    if (st->norder < MAX_FIRES)
        st->order[st->norder++] = 's';
}

static void on_pair(zs_service_t *svc, void *sock)
{
    while (zsock_events(sock) & ZMQ_POLLIN) {
        char *m = zstr_recv(sock);
        if (m)
            state_of(svc)->received++;
        zstr_free(&m);
    }
}

static void probe_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    probe_state_t *st = state;
    for (int i = 0; i < NPAIRS; i++) {
        zsock_destroy(&st->in[i]);
        zsock_destroy(&st->out[i]);
    }
    atomic_fetch_add(&destroys, 1);
    destroyed_state = st;
    result = *st;
    free(st);
}

static void *probe_create(zs_service_t *svc)
{
    probe_state_t *st = calloc(1, sizeof *st);
    static atomic_int serial;
    int n = atomic_fetch_add(&serial, 1);
    for (int i = 0; i < NPAIRS; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://probe-%d-%d", n, i);
        st->in[i] = zsock_new(ZMQ_PAIR);
        st->out[i] = zsock_new(ZMQ_PAIR);
        if (zsock_bind(st->in[i], "%s", ep) != 0 || zsock_connect(st->out[i], "%s", ep) != 0 ||
            zs_service_watch(svc, st->in[i], on_pair) != 0) {
            probe_destroy(svc, st);
            return NULL;
        }
    }
    st->bad_every = (zs_service_every(svc, 0, fast_timer) == -1) +
                    (zs_service_every(svc, 10, NULL) == -1);
    if (zs_service_every(svc, 50, fast_timer) != 0 || zs_service_every(svc, 200, slow_timer) != 0) {
        probe_destroy(svc, st);
        return NULL;
    }
    atomic_fetch_add(&creates, 1);
    made_state = st;
    return st;
}

/* Overrides the builtin Ping: answers from the module's state. */
static json_t *stateful_ping(zs_call_t *call, json_t **error)
{
    (void)error;
    probe_state_t *st = state_of(call->svc);
    return json_pack("{s:s, s:b, s:i}", "service", "unitprobe", "state", st == made_state,
                     "received", st ? st->received : -1);
}

static const zs_handler_t probe_handlers[] = {{"Ping", stateful_ping}, {NULL, NULL}};

static const zs_module_t probe_module = {
    .name = "probe",
    .handlers = probe_handlers,
    .create = probe_create,
    .destroy = probe_destroy,
};
static const zs_module_t *const probe_modules[] = {&probe_module, NULL};
static const zs_service_def_t probe_with_state = {
    .name = "unitprobe", .schema_version = 1, .modules = probe_modules};

/* Each service made here gets a data directory (and so endpoint) of its own: the store and
 * endpoint claims (identity.h) last as long as the process. */
static char base_dir[200];
static atomic_int made;

typedef struct {
    const zs_service_def_t *def;   /* NULL: probe */
    _Atomic(zs_service_t *) svc;
    atomic_bool failed;
    atomic_llong returned_at;   /* zs_mono_ms when zs_service_run returned, 0 before */
    int rc;
} runner_t;

/* new, run, destroy on this thread, as service.h asks. */
static void *run_service(void *arg)
{
    runner_t *r = arg;
    char prog[] = "zs-unitprobe", flag[] = "--data-dir", dir[256];
    snprintf(dir, sizeof dir, "%s/%d", base_dir, atomic_fetch_add(&made, 1));
    char *argv[] = {prog, flag, dir, NULL};
    zs_service_t *svc = zs_service_new(r->def ? r->def : &probe, 3, argv);
    if (!svc) {
        atomic_store(&r->failed, true);
        return NULL;
    }
    atomic_store(&r->svc, svc);
    r->rc = zs_service_run(svc);
    atomic_store(&r->returned_at, zs_mono_ms());
    atomic_store(&r->svc, NULL);
    zs_service_destroy(&svc);
    return NULL;
}

/* Starts the runner thread and waits until its service is made. */
static zs_service_t *start_def(runner_t *r, pthread_t *thread, const zs_service_def_t *def)
{
    memset(r, 0, sizeof *r);
    r->def = def;
    ck_assert_int_eq(pthread_create(thread, NULL, run_service, r), 0);
    for (int i = 0; i < 1000 && !atomic_load(&r->svc) && !atomic_load(&r->failed); i++)
        usleep(10000);
    ck_assert_msg(atomic_load(&r->svc), "the service did not start");
    return atomic_load(&r->svc);
}

static zs_service_t *start(runner_t *r, pthread_t *thread)
{
    return start_def(r, thread, NULL);
}

/* Pings the service; returns the answer (new reference). */
static json_t *ping_answer(void)
{
    zs_bus_t *bus = zs_bus_new();
    json_t *error = NULL;
    json_t *res = zs_bus_request(bus, "unitprobe", "Ping", NULL, json_object(), 5000, &error);
    ck_assert_msg(res, "Ping not answered: %s", error ? json_dumps(error, 0) : "?");
    ck_assert_str_eq(json_string_value(json_object_get(res, "service")), "unitprobe");
    zs_bus_destroy(&bus);
    return res;
}

static void ping(void)
{
    json_decref(ping_answer());
}

START_TEST(stop_from_another_thread)
{
    runner_t r;
    pthread_t thread;
    zs_service_t *svc = start(&r, &thread);
    ping();
    int64_t asked = zs_mono_ms();
    zs_service_stop(svc);
    pthread_join(thread, NULL);
    ck_assert_int_eq(r.rc, 0);
    /* the stop pipe wakes the loop: it does not wait for its next 1 s tick */
    long long took = atomic_load(&r.returned_at) - asked;
    ck_assert_msg(took < 900, "zs_service_run returned %lld ms after the stop", took);
}
END_TEST

START_TEST(sigterm_stops_the_service_not_the_process)
{
    runner_t r;
    pthread_t thread;
    start(&r, &thread);
    ping();
    ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
    pthread_join(thread, NULL);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_int_gt(atomic_load(&r.returned_at), 0);
}
END_TEST

START_TEST(one_service_per_process)
{
    runner_t r;
    pthread_t thread;
    zs_service_t *svc = start(&r, &thread);
    char prog[] = "zs-unitprobe", flag[] = "--data-dir", dir[256];
    snprintf(dir, sizeof dir, "%s/second", base_dir);
    char *argv[] = {prog, flag, dir, NULL};
    ck_assert_ptr_null(zs_service_new(&probe, 3, argv));
    ping();   /* the first one is untouched */
    zs_service_stop(svc);
    pthread_join(thread, NULL);
    /* destroyed, it gives the process back: another may start */
    svc = start(&r, &thread);
    zs_service_stop(svc);
    pthread_join(thread, NULL);
    ck_assert_int_eq(r.rc, 0);
}
END_TEST

START_TEST(module_state_made_once_and_reached_from_a_handler)
{
    runner_t r;
    pthread_t thread;
    atomic_store(&creates, 0);
    atomic_store(&destroys, 0);
    zs_service_t *svc = start_def(&r, &thread, &probe_with_state);
    ck_assert_int_eq(atomic_load(&creates), 1);
    ck_assert_int_eq(atomic_load(&destroys), 0);
    json_t *res = ping_answer();
    ck_assert_msg(json_is_true(json_object_get(res, "state")),
                  "the handler did not reach the state create made");
    json_decref(res);
    zs_service_stop(svc);
    pthread_join(thread, NULL);
    ck_assert_int_eq(atomic_load(&creates), 1);
    ck_assert_int_eq(atomic_load(&destroys), 1);
    ck_assert_ptr_eq(destroyed_state, made_state);   /* destroy got what create made */
}
END_TEST

START_TEST(timers_run_in_order_at_their_interval_and_stop_with_the_service)
{
    runner_t r;
    pthread_t thread;
    zs_service_t *svc = start_def(&r, &thread, &probe_with_state);
    int64_t began = zs_mono_ms();
    usleep(1000 * 1000);
    zs_service_stop(svc);
    pthread_join(thread, NULL);
    int64_t returned = atomic_load(&r.returned_at);
    ck_assert_int_eq(result.bad_every, 2);   /* ms < 1 and a NULL fn are refused */
    /* 50 ms for about a second, 200 ms likewise: roughly 20 and 5 runs */
    ck_assert_msg(result.nfast >= 12 && result.nfast <= 23, "fast timer ran %d times", result.nfast);
    ck_assert_msg(result.nslow >= 3 && result.nslow <= 7, "slow timer ran %d times", result.nslow);
    for (int i = 1; i < result.nfast; i++)
        ck_assert_msg(result.fast[i] - result.fast[i - 1] >= 45, "fast runs %lld ms apart",
                      (long long)(result.fast[i] - result.fast[i - 1]));
    for (int i = 1; i < result.nslow; i++)
        ck_assert_int_ge(result.slow[i] - result.slow[i - 1], 195);
    /* both first run on the loop's first turn, in the order they were made */
    ck_assert_int_ge(result.norder, 2);
    ck_assert_int_eq(result.order[0], 'f');
    ck_assert_int_eq(result.order[1], 's');
    ck_assert_int_lt(result.fast[0] - began, 200);
    /* none after zs_service_run returned */
    ck_assert_int_le(result.fast[result.nfast - 1], returned);
    ck_assert_int_le(result.slow[result.nslow - 1], returned);
}
END_TEST

START_TEST(more_watched_sockets_than_the_old_table_all_served)
{
    runner_t r;
    pthread_t thread;
    zs_service_t *svc = start_def(&r, &thread, &probe_with_state);
    int received = 0;
    for (int i = 0; i < 200 && received < NPAIRS; i++) {
        json_t *res = ping_answer();
        received = (int)json_integer_value(json_object_get(res, "received"));
        json_decref(res);
        usleep(10000);
    }
    zs_service_stop(svc);
    pthread_join(thread, NULL);
    ck_assert_int_eq(received, NPAIRS);
    ck_assert_int_eq(result.received, NPAIRS);
}
END_TEST

int main(void)
{
    unsetenv("ZS_CONFIG");
    snprintf(base_dir, sizeof base_dir, "/tmp/zs-unit-service-%d", (int)getpid());
    Suite *s = suite_create("service");
    TCase *tc = tcase_create("object");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, stop_from_another_thread);
    tcase_add_test(tc, sigterm_stops_the_service_not_the_process);
    tcase_add_test(tc, one_service_per_process);
    tcase_add_test(tc, module_state_made_once_and_reached_from_a_handler);
    tcase_add_test(tc, timers_run_in_order_at_their_interval_and_stop_with_the_service);
    tcase_add_test(tc, more_watched_sockets_than_the_old_table_all_served);
    suite_add_tcase(s, tc);
    int rc = test_run_suite(s);
    test_remove_dir(base_dir);
    return rc;
}
