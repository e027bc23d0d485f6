/* test_broker.c — the broker's job logic (broker/jobs.h) run for real in this process: the
 * broker service object (broker.h) on a thread of its own (service_runner.h), in a data
 * directory of its own, and a fake "tags" service (a ROUTER on the broker's bus endpoint for
 * tags, in a thread of its own) that counts the jobs it receives and answers, acknowledges, refuses or keeps silent as
 * each test tells it. Jobs are submitted with SubmitJob over the bus, as the gateway does,
 * and polled with GetApiJob. Timings come from the configuration (ZS_BROKER_* in the
 * environment, read when the broker starts); the broker looks at due re-dispatches once a
 * second (its tick), so the waits below are counted in ticks. */
#include "../../broker/broker.h"
#include "../../broker/target.h"
#include "bus.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "fake_router.h"
#include "service_runner.h"
#include "uuid.h"
#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOB_API "CreateSystemTag"   /* an async API of the tags service */
#define MAX_HELD 64

typedef enum {
    ANSWER,       /* acknowledges and answers every delivery at once, as a service does */
    SILENT,       /* neither acknowledges nor answers: the job is lost on the way */
    ACK_ONLY,     /* acknowledges, never answers: a service holding the job */
    BUSY_FIRST,   /* refuses the first delivery 503 SYS.1010 (a full queue), answers later ones */
    ANSWER_LATER, /* acknowledges at once, answers each delivery hold_ms after it came */
} behaviour_t;

typedef struct {
    zframe_t *peer;
    zs_msg_t req;
    int64_t due;   /* monotonic ms */
} held_t;

typedef struct {
    char endpoint[320];
    behaviour_t mode;
    int hold_ms;
    atomic_int deliveries;
    atomic_int outstanding, max_outstanding;   /* delivered and not yet answered */
    atomic_llong first_at, second_at;          /* zs_mono_ms of the first two deliveries */
    held_t held[MAX_HELD];
    int nheld;
    zactor_t *actor;
} fake_t;

static void reply_to(zsock_t *router, zframe_t *peer, const zs_msg_t *req, bool ok, int status,
                     json_t *body, char kind)
{
    zs_msg_t m;
    zs_msg_reply(&m, req, ok, status, body);
    m.kind = kind;
    fake_send(router, peer, &m);
    zs_msg_clear(&m);
}

/* The answer of delivery number n: what GetApiJob must give back. */
static void answer(fake_t *f, zsock_t *router, zframe_t *peer, const zs_msg_t *req, int n)
{
    reply_to(router, peer, req, true, 200, json_pack("{s:s, s:i}", "answeredBy", "fake", "delivery", n), 'R');
    atomic_fetch_sub(&f->outstanding, 1);
}

static void on_delivery(fake_t *f, zsock_t *router, zframe_t **peer, zs_msg_t *req)
{
    int n = atomic_fetch_add(&f->deliveries, 1) + 1;
    if (n == 1)
        atomic_store(&f->first_at, zs_mono_ms());
    else if (n == 2)
        atomic_store(&f->second_at, zs_mono_ms());
    int now_out = atomic_fetch_add(&f->outstanding, 1) + 1;
    for (int m = atomic_load(&f->max_outstanding); now_out > m;)
        if (atomic_compare_exchange_weak(&f->max_outstanding, &m, now_out))
            break;
    if (f->mode != SILENT && !(f->mode == BUSY_FIRST && n == 1))
        reply_to(router, *peer, req, true, 0, NULL, 'A');
    switch (f->mode) {
    case ANSWER:
        answer(f, router, *peer, req, n);
        break;
    case BUSY_FIRST:
        if (n == 1) {
            reply_to(router, *peer, req, false, 503,
                     zs_error(ZS_SYS_BUSY, "service tags is busy; retry later"), 'R');
            atomic_fetch_sub(&f->outstanding, 1);
        } else {
            answer(f, router, *peer, req, n);
        }
        break;
    case ANSWER_LATER:
        fake_must(f->nheld < MAX_HELD, "room for a held job");
        f->held[f->nheld++] = (held_t){.peer = *peer, .req = *req, .due = zs_mono_ms() + f->hold_ms};
        *peer = NULL;
        memset(req, 0, sizeof *req);   /* held now */
        break;
    case SILENT:
    case ACK_ONLY:
        break;
    }
}

/* Answers the held jobs whose time has come. */
static void answer_due(fake_t *f, zsock_t *router)
{
    int64_t now = zs_mono_ms();
    for (int i = 0; i < f->nheld;) {
        held_t *h = &f->held[i];
        if (now < h->due) {
            i++;
            continue;
        }
        answer(f, router, h->peer, &h->req, 0);
        zframe_destroy(&h->peer);
        zs_msg_clear(&h->req);
        f->held[i] = f->held[--f->nheld];
    }
}

static void fake_actor(zsock_t *pipe, void *arg)
{
    fake_t *f = arg;
    zpoller_t *poller;
    zsock_t *router = fake_open(pipe, f->endpoint, &poller);
    for (;;) {
        void *which = zpoller_wait(poller, 20);
        if (which == pipe || (!which && zpoller_terminated(poller)))
            break;
        if (which == router) {
            zs_msg_t req;
            zframe_t *peer = NULL;
            if (zs_bus_recv(router, &req, &peer) == 0) {
                fake_must(req.kind == 'Q' && req.job, "a job request");
                on_delivery(f, router, &peer, &req);
                zframe_destroy(&peer);
                zs_msg_clear(&req);
            }
        }
        answer_due(f, router);
    }
    for (int i = 0; i < f->nheld; i++) {
        zframe_destroy(&f->held[i].peer);
        zs_msg_clear(&f->held[i].req);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

/* ---- the broker, the fake and a client, made fresh for each test ---------------------- */

static char base_dir[200];
static int made;

static service_runner_t runner;
static fake_t fake;
static zs_bus_t *client;

typedef struct {
    const char *redispatch_ms, *ack_lease_ms, *window;
} timings_t;

/* Starts the fake tags service (behaving as `mode`), then a broker configured with `t`, in a
 * data directory of its own (the broker's claims on its store and endpoints last as long as
 * the process), and a bus client for the test. */
static void start(behaviour_t mode, int hold_ms, timings_t t)
{
    setenv("ZS_BROKER_REDISPATCH_MS", t.redispatch_ms, 1);
    setenv("ZS_BROKER_REDISPATCH_MAX_MS", t.redispatch_ms, 1);   /* no doubling: exact bounds */
    setenv("ZS_BROKER_ACK_LEASE_MS", t.ack_lease_ms, 1);
    setenv("ZS_BROKER_WINDOW", t.window, 1);
    char dir[256], bus_dir[300];
    snprintf(dir, sizeof dir, "%s/%d", base_dir, made++);
    snprintf(bus_dir, sizeof bus_dir, "%s/bus", dir);
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(mkdir(bus_dir, 0700), 0);

    memset(&fake, 0, sizeof fake);
    snprintf(fake.endpoint, sizeof fake.endpoint, "ipc://%s/tags.ipc", bus_dir);
    fake.mode = mode;
    fake.hold_ms = hold_ms;
    fake.actor = zactor_new(fake_actor, &fake);
    ck_assert_ptr_nonnull(fake.actor);

    service_runner_start(&runner, &zs_broker_service, dir);
    client = zs_bus_new();
    ck_assert_ptr_nonnull(client);
}

/* The checked teardown: it runs after a failed test too, so the next test finds the
 * process free of a broker. */
static void stop(void)
{
    zs_bus_destroy(&client);
    service_runner_stop(&runner);
    zactor_destroy(&fake.actor);
}

/* Submits a job of JOB_API to the broker, as the gateway does; its uuid into `uuid`. */
static void submit(char uuid[ZS_UUID_LEN + 1])
{
    zs_uuid_new(uuid);
    json_t *error = NULL;
    json_t *caller = json_pack("{s:s, s:s, s:b}", "accountUuid", "36c27e8ff05c4780bf6d2fa65700f22e",
                               "accountName", "admin", "admin", 1);   /* as the gateway sends */
    json_t *res = zs_bus_request(client, "broker", "SubmitJob", caller,
                                 json_pack("{s:s, s:s, s:{s:s, s:s}, s:I}", "id", uuid, "api", JOB_API,
                                           "params", "resourceType", "VmInstanceVO", "tag", "t",
                                           "deadline", (json_int_t)(zs_now_ms() + 120000)),
                                 5000, &error);
    json_decref(caller);
    ck_assert_msg(res, "SubmitJob refused: %s", error ? json_dumps(error, 0) : "?");
    ck_assert_str_eq(json_string_value(json_object_get(res, "uuid")), uuid);
    json_decref(res);
}

/* start(mode, 0, t), then one job submitted: its uuid into `uuid`. */
static void start_one_job(behaviour_t mode, timings_t t, char uuid[ZS_UUID_LEN + 1])
{
    start(mode, 0, t);
    submit(uuid);
}

/* GetApiJob for `uuid` (no wait); the reply into *reply (the caller clears it). */
static void get_job(const char *uuid, zs_msg_t *reply)
{
    zs_msg_t req = {.kind = 'Q', .deadline = zs_now_ms() + 5000};
    snprintf(req.api, sizeof req.api, "GetApiJob");
    zs_uuid_new(req.id);
    req.body = json_pack("{s:s}", "uuid", uuid);
    int rc = zs_bus_call(client, "broker", &req, &(zs_bus_call_opts_t){.timeout_ms = 5000}, reply);
    zs_msg_clear(&req);
    ck_assert_int_eq(rc, ZS_BUS_OK);
}

/* Polls GetApiJob until the job has an outcome (not 202) or `within_ms` passed; returns the
 * last reply's status, the reply into *reply. */
static int wait_outcome(const char *uuid, int within_ms, zs_msg_t *reply)
{
    int64_t until = zs_mono_ms() + within_ms;
    for (;;) {
        get_job(uuid, reply);
        int status = reply->status ? reply->status : reply->ok ? 200 : 503;
        if (status != 202 || zs_mono_ms() >= until)
            return status;
        zs_msg_clear(reply);
        usleep(50000);
    }
}

/* The job's status now (202 while it runs), its body left. */
static int status_now(const char *uuid)
{
    zs_msg_t reply;
    int status = wait_outcome(uuid, 0, &reply);
    zs_msg_clear(&reply);
    return status;
}

/* What the fake saw (plain values: readable in check's failure messages). */
static int delivered(void) { return atomic_load(&fake.deliveries); }
static long long second_gap(void) { return atomic_load(&fake.second_at) - atomic_load(&fake.first_at); }

static void wait_deliveries(int n, int within_ms)
{
    for (int waited = 0; delivered() < n && waited < within_ms; waited += 20)
        usleep(20000);
}

/* ---- tests ---------------------------------------------------------------------------- */

START_TEST(an_answered_job_is_dispatched_once_and_its_answer_stored)
{
    char uuid[ZS_UUID_LEN + 1];
    start_one_job(ANSWER, (timings_t){"300", "30000", "1024"}, uuid);
    zs_msg_t reply;
    ck_assert_int_eq(wait_outcome(uuid, 5000, &reply), 200);
    ck_assert(reply.ok);
    ck_assert_str_eq(json_string_value(json_object_get(reply.body, "answeredBy")), "fake");
    ck_assert_int_eq(json_integer_value(json_object_get(reply.body, "delivery")), 1);
    ck_assert_str_eq(reply.api, JOB_API);   /* the reply concerns the job's API */
    zs_msg_clear(&reply);
    /* several ticks past the backoff: an answered job is never sent again */
    usleep(2500 * 1000);
    ck_assert_int_eq(delivered(), 1);
    ck_assert_int_eq(status_now(uuid), 200);   /* still stored */
}
END_TEST

START_TEST(an_unanswered_job_is_dispatched_again_after_the_backoff)
{
    char uuid[ZS_UUID_LEN + 1];
    start_one_job(SILENT, (timings_t){"300", "30000", "1024"}, uuid);
    wait_deliveries(3, 6000);
    ck_assert_int_ge(delivered(), 3);
    /* backoff with jitter: at least half of broker.redispatch-ms between two attempts */
    ck_assert_int_ge(second_gap(), 150);
    ck_assert_int_eq(status_now(uuid), 202);   /* still running */
}
END_TEST

START_TEST(an_acknowledged_job_is_not_sent_again_within_the_lease)
{
    char uuid[ZS_UUID_LEN + 1];
    start_one_job(ACK_ONLY, (timings_t){"200", "3000", "1024"}, uuid);
    wait_deliveries(1, 3000);
    ck_assert_int_eq(delivered(), 1);
    /* the backoff (200 ms) lapses at the first tick; the acknowledgement holds it 3 s */
    long long first = atomic_load(&fake.first_at);
    usleep((useconds_t)(first + 2500 - zs_mono_ms()) * 1000);
    ck_assert_int_eq(delivered(), 1);
    /* past the lease the job counts as lost again and goes once more */
    wait_deliveries(2, 3000);
    ck_assert_int_eq(delivered(), 2);
    ck_assert_int_ge(second_gap(), 3000);
}
END_TEST

START_TEST(a_busy_refusal_is_sent_again_later)
{
    char uuid[ZS_UUID_LEN + 1];
    start_one_job(BUSY_FIRST, (timings_t){"300", "30000", "1024"}, uuid);
    zs_msg_t reply;
    ck_assert_int_eq(wait_outcome(uuid, 6000, &reply), 200);
    /* the refusal is not the job's outcome: the second delivery's answer is */
    ck_assert(reply.ok);
    ck_assert_int_eq(json_integer_value(json_object_get(reply.body, "delivery")), 2);
    zs_msg_clear(&reply);
    ck_assert_int_eq(delivered(), 2);
    ck_assert_int_ge(second_gap(), 150);
}
END_TEST

START_TEST(at_most_window_jobs_are_in_flight_to_a_service)
{
    start(ANSWER_LATER, 400, (timings_t){"20000", "30000", "4"});
    char uuids[10][ZS_UUID_LEN + 1];
    for (int i = 0; i < 10; i++)
        submit(uuids[i]);
    for (int i = 0; i < 10; i++) {
        zs_msg_t reply;
        ck_assert_int_eq(wait_outcome(uuids[i], 10000, &reply), 200);
        zs_msg_clear(&reply);
    }
    ck_assert_int_eq(delivered(), 10);   /* each once, none re-sent */
    /* the window was filled, never exceeded */
    int most = atomic_load(&fake.max_outstanding);
    ck_assert_int_eq(most, 4);
}
END_TEST

/* The built-in policy (target.h), judged on literal addresses only: nothing here connects. */
START_TEST(hooks_to_private_and_special_ranges_are_refused_by_their_range)
{
    unsetenv("ZS_WEBHOOK_ALLOW");
    unsetenv("ZS_WEBHOOK_ALLOW_LOOPBACK");
    static const struct {
        const char *url, *why;
    } refused[] = {
        {"http://0.0.0.1/h", "'this network'"},     {"http://10.1.2.3/h", "private"},
        {"http://100.64.0.1/h", "CGNAT"},           {"http://169.254.169.254/h", "cloud metadata"},
        {"http://172.16.5.4/h", "private"},         {"http://192.0.0.8/h", "IETF"},
        {"http://192.168.1.1/h", "private"},        {"http://198.18.0.1/h", "benchmarking"},
        {"http://224.0.0.1/h", "multicast"},        {"http://[::]/h", "unspecified"},
        {"http://[64:ff9b::1]/h", "NAT64"},         {"http://[fd00::1]/h", "unique-local"},
        {"http://[fe80::1]/h", "link-local"},       {"http://[ff02::1]/h", "multicast"},
        {"http://127.0.0.3/h", "loopback"},         {"http://[::1]/h", "loopback"},
        {"http://[::ffff:10.0.0.1]/h", "private"},   /* IPv4-mapped: judged as IPv4 */
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        for (int twice = 0; twice < 2; twice++) {   /* the ranges are parsed on first use */
            const char *why = target_url_refusal(refused[i].url, NULL, 0);
            ck_assert_msg(why && strstr(why, refused[i].why), "%s: %s", refused[i].url, why ? why : "allowed");
        }
    }
    /* documentation addresses (RFC 5737, RFC 3849): in no refused range */
    ck_assert_ptr_null(target_url_refusal("http://192.0.2.1/hook", NULL, 0));
    ck_assert_ptr_null(target_url_refusal("http://[2001:db8::1]/hook", NULL, 0));
    setenv("ZS_WEBHOOK_ALLOW_LOOPBACK", "true", 1);
    ck_assert_ptr_null(target_url_refusal("http://127.0.0.3/hook", NULL, 0));
    unsetenv("ZS_WEBHOOK_ALLOW_LOOPBACK");
}
END_TEST

int main(void)
{
    const TTest *tests[] = {
        an_answered_job_is_dispatched_once_and_its_answer_stored,
        an_unanswered_job_is_dispatched_again_after_the_backoff,
        an_acknowledged_job_is_not_sent_again_within_the_lease,
        a_busy_refusal_is_sent_again_later,
        at_most_window_jobs_are_in_flight_to_a_service,
        hooks_to_private_and_special_ranges_are_refused_by_their_range,
        NULL,
    };
    return service_tests_main("broker", base_dir, sizeof base_dir, stop, tests);
}
