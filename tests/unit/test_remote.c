/* test_remote.c — the pool that talks to other services for a service loop (remote.h). */
#include "config.h"
#include "remote.h"
#include "testutil.h"
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

typedef struct {
    int id;
    atomic_bool *gate;   /* work waits until it is true (NULL: no wait) */
    bool worked;         /* set on the pool thread */
    bool had_bus;        /* the pool thread had its own bus client */
    atomic_bool started;
    bool ran;            /* what done was told */
    int *order;          /* done appends id here */
    int *norder;
} job_t;

static void work(zs_bus_t *bus, void *arg)
{
    job_t *j = arg;
    j->had_bus = bus != NULL;
    atomic_store(&j->started, true);
    while (j->gate && !atomic_load(j->gate))
        usleep(1000);
    j->worked = true;
}

static void done(void *owner, void *arg, bool ran)
{
    job_t *j = arg;
    j->ran = ran;
    if (owner)
        j->order[(*j->norder)++] = j->id;
}

/* Waits (bounded) until `n` tasks were finished through zs_remote_finish. */
static size_t finish_until(zs_remote_t *pool, size_t n, int *owner)
{
    size_t got = 0;
    zpoller_t *p = zpoller_new(zs_remote_signal(pool), NULL);
    for (int i = 0; i < 500 && got < n; i++)
        if (zpoller_wait(p, 20))
            got += zs_remote_finish(pool, owner);
    zpoller_destroy(&p);
    return got;
}

START_TEST(tasks_run_off_thread_and_finish_on_the_owner)
{
    zs_remote_t *pool = zs_remote_new(2);
    ck_assert_ptr_nonnull(pool);
    int order[8], n = 0, owner = 0;
    job_t jobs[3];
    for (int i = 0; i < 3; i++) {
        jobs[i] = (job_t){.id = i, .order = order, .norder = &n};
        zs_remote_post(pool, work, done, &jobs[i]);
    }
    ck_assert_uint_eq(zs_remote_pending(pool), 3);
    ck_assert_uint_eq(finish_until(pool, 3, &owner), 3);
    ck_assert_int_eq(n, 3);
    for (int i = 0; i < 3; i++)
        ck_assert(jobs[i].worked && jobs[i].ran && jobs[i].had_bus);
    ck_assert_uint_eq(zs_remote_pending(pool), 0);
    zs_remote_destroy(&pool);
    ck_assert_ptr_null(pool);
}
END_TEST

/* One task stuck on a peer holds one thread; the others go on. */
START_TEST(a_stuck_task_does_not_hold_the_others)
{
    zs_remote_t *pool = zs_remote_new(2);
    atomic_bool gate = false;
    int order[8], n = 0, owner = 0;
    job_t stuck = {.id = 0, .gate = &gate, .order = order, .norder = &n};
    job_t quick[3];
    zs_remote_post(pool, work, done, &stuck);
    for (int i = 0; i < 3; i++) {
        quick[i] = (job_t){.id = i + 1, .order = order, .norder = &n};
        zs_remote_post(pool, work, done, &quick[i]);
    }
    ck_assert_uint_eq(finish_until(pool, 3, &owner), 3);
    ck_assert(!stuck.worked);
    ck_assert_int_eq(order[0], 1);
    ck_assert_int_eq(order[1], 2);
    ck_assert_int_eq(order[2], 3);
    atomic_store(&gate, true);
    ck_assert_uint_eq(finish_until(pool, 1, &owner), 1);
    ck_assert(stuck.worked && stuck.ran);
    zs_remote_destroy(&pool);
}
END_TEST

static void *open_gate_later(void *arg)
{
    usleep(50000);
    atomic_store((atomic_bool *)arg, true);
    return NULL;
}

/* Destroying the pool: the running task finishes, tasks not started are told they did not
 * run, and no done sees an owner. */
START_TEST(destroy_releases_tasks_not_run)
{
    zs_remote_t *pool = zs_remote_new(1);
    atomic_bool gate = false;
    int order[8], n = 0;
    job_t first = {.id = 0, .gate = &gate, .order = order, .norder = &n};
    job_t second = {.id = 1, .order = order, .norder = &n, .ran = true};
    zs_remote_post(pool, work, done, &first);
    zs_remote_post(pool, work, done, &second);
    for (int i = 0; i < 2000 && !atomic_load(&first.started); i++)
        usleep(1000);
    pthread_t opener;
    pthread_create(&opener, NULL, open_gate_later, &gate);
    zs_remote_destroy(&pool);   /* stops the pool while `first` waits at its gate */
    pthread_join(opener, NULL);
    ck_assert(first.worked && first.ran);
    ck_assert(!second.worked && !second.ran);
    ck_assert_int_eq(n, 0);
}
END_TEST

int main(void)
{
    setenv("ZS_DATA_DIR", "/tmp", 1);
    zs_config_load(NULL);
    Suite *s = suite_create("remote");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, tasks_run_off_thread_and_finish_on_the_owner);
    tcase_add_test(tc, a_stuck_task_does_not_hold_the_others);
    tcase_add_test(tc, destroy_releases_tasks_not_run);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
