/* service_runner.h — a real service (service.h) run inside a unit-test program: made, run and
 * destroyed on a thread of its own (the loop thread), in a data directory of the test's (its
 * bus endpoint defaults to <dir>/bus/<name>.ipc). A process holds one service at a time, and
 * a service's claims on its store and endpoint last as long as the process, so each test
 * gives its service a fresh directory. Used by test_broker.c and test_runtime.c; static
 * inline, as each tests/unit/test_*.c is a program of its own. */
#ifndef ZS_SERVICE_RUNNER_H
#define ZS_SERVICE_RUNNER_H
#include "service.h"
#include "testutil.h"
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const zs_service_def_t *def;
    char dir[256];               /* --data-dir */
    _Atomic(zs_service_t *) svc; /* set once made, NULL again when it stopped */
    atomic_bool failed;          /* zs_service_new refused */
    bool started;                /* the thread exists */
    pthread_t thread;
} service_runner_t;

/* new, run, destroy on this thread, as service.h asks. */
static inline void *service_runner_loop(void *arg)
{
    service_runner_t *r = arg;
    char prog[64], flag[] = "--data-dir";
    snprintf(prog, sizeof prog, "zs-%s", r->def->name);
    char *argv[] = {prog, flag, r->dir, NULL};
    zs_service_t *svc = zs_service_new(r->def, 3, argv);
    if (!svc) {
        atomic_store(&r->failed, true);
        return NULL;
    }
    atomic_store(&r->svc, svc);
    zs_service_run(svc);
    atomic_store(&r->svc, NULL);
    zs_service_destroy(&svc);
    return NULL;
}

/* Starts a service of `def` with data directory `dir` and waits until it is made (a test
 * failure when it does not start within 10 s). Returns the service. */
static inline zs_service_t *service_runner_start(service_runner_t *r, const zs_service_def_t *def,
                                                 const char *dir)
{
    memset(r, 0, sizeof *r);
    r->def = def;
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    ck_assert_int_eq(pthread_create(&r->thread, NULL, service_runner_loop, r), 0);
    r->started = true;
    for (int i = 0; i < 1000 && !atomic_load(&r->svc) && !atomic_load(&r->failed); i++)
        usleep(10000);
    ck_assert_msg(atomic_load(&r->svc), "service %s did not start", def->name);
    return atomic_load(&r->svc);
}

/* Stops the service and waits for its thread; nothing when none was started. Safe in a
 * checked teardown, after a failed test. */
static inline void service_runner_stop(service_runner_t *r)
{
    if (!r->started)
        return;
    for (int i = 0; i < 1000 && !atomic_load(&r->svc) && !atomic_load(&r->failed); i++)
        usleep(10000);   /* still being made: stop it once it exists */
    zs_service_t *svc = atomic_load(&r->svc);
    if (svc)
        zs_service_stop(svc);
    pthread_join(r->thread, NULL);
    r->started = false;
}

/* The main() of a program whose tests each run a service (test_broker.c, test_runtime.c): a
 * fresh base directory (test_make_dir `what`, its path into base_dir) for the tests' data
 * directories, the tests (NULL-terminated) in one case with a 60 s timeout and `teardown`
 * after each (it stops the test's service, after a failure too), then the directory removed.
 * No ZS_CONFIG file: the tests configure through flags and the environment. Returns the
 * program's exit code. */
static inline int service_tests_main(const char *what, char *base_dir, size_t size,
                                     void (*teardown)(void), const TTest *const *tests)
{
    unsetenv("ZS_CONFIG");
    if (!test_make_dir(base_dir, size, what))
        return 1;
    Suite *s = suite_create(what);
    TCase *tc = tcase_create(what);
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, teardown);
    for (; *tests; tests++)
        tcase_add_test(tc, *tests);
    suite_add_tcase(s, tc);
    int failed = test_run_suite(s);
    test_remove_dir(base_dir);
    return failed;
}

#endif
