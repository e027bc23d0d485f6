/* Unit tests of the service object (service.h): a real service made in this process (its own
 * data directory and ipc endpoint under a temporary directory), run on a thread of its own,
 * answering Ping over the bus, and stopped by zs_service_stop from another thread or by
 * SIGTERM; one service per process at a time. */
#include "bus.h"
#include "clock.h"
#include "config.h"
#include "service.h"
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A service owning no API row: it answers the builtins only. */
static const zs_service_def_t probe = {.name = "unitprobe", .schema_version = 1, .modules = NULL};

/* Each service made here gets a data directory (and so endpoint) of its own: the store and
 * endpoint claims (identity.h) last as long as the process. */
static char base_dir[200];
static atomic_int made;

typedef struct {
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
    zs_service_t *svc = zs_service_new(&probe, 3, argv);
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
static zs_service_t *start(runner_t *r, pthread_t *thread)
{
    memset(r, 0, sizeof *r);
    ck_assert_int_eq(pthread_create(thread, NULL, run_service, r), 0);
    for (int i = 0; i < 1000 && !atomic_load(&r->svc) && !atomic_load(&r->failed); i++)
        usleep(10000);
    ck_assert_msg(atomic_load(&r->svc), "the service did not start");
    return atomic_load(&r->svc);
}

static void ping(void)
{
    zs_bus_t *bus = zs_bus_new();
    json_t *error = NULL;
    json_t *res = zs_bus_request(bus, "unitprobe", "Ping", NULL, json_object(), 5000, &error);
    ck_assert_msg(res, "Ping not answered: %s", error ? json_dumps(error, 0) : "?");
    ck_assert_str_eq(json_string_value(json_object_get(res, "service")), "unitprobe");
    json_decref(res);
    zs_bus_destroy(&bus);
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
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", base_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", base_dir);
    return failed ? 1 : 0;
}
