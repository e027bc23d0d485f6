/* test_bus.c — zs_bus_call, the bus's request/reply primitive, against fake service
 * instances: ROUTER sockets on inproc endpoints, each in its own thread (a czmq actor), that
 * count what they receive and answer as told. Real ZeroMQ, real encoding, the real API table
 * (Ping is a read, Heartbeat a write). */
#include "bus.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "fake_router.h"
#include "uuid.h"
#include "testutil.h"
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ATTEMPT_MS 200   /* bus.attempt-ms for these tests: re-sends come quickly */

typedef enum {
    SILENT,          /* counts, never answers */
    ANSWER,          /* answers every request (after delay_ms) */
    ANSWER_SECOND,   /* answers only the second request that reached any instance */
} behaviour_t;

typedef struct {
    char endpoint[64];
    char name[16];
    behaviour_t mode;
    int delay_ms;
    bool noise_first;         /* before the answer: a stale reply and an acknowledgement */
    atomic_int deliveries;
    atomic_int *total;        /* shared by the instances of one test */
    zactor_t *actor;
} fake_t;

static void answer(zsock_t *router, zframe_t *peer, const zs_msg_t *req, const fake_t *f)
{
    zs_msg_t m;
    if (f->noise_first) {
        zs_msg_t stale = *req;
        snprintf(stale.id, sizeof stale.id, "0123456789abcdef0123456789abcdef");
        zs_msg_reply(&m, &stale, true, 200, json_pack("{s:s}", "which", "stale"));
        fake_send(router, peer, &m);
        zs_msg_clear(&m);
        zs_msg_reply(&m, req, true, 200, json_pack("{s:s}", "which", "ack"));
        m.kind = 'A';   /* same id, but not a reply */
        fake_send(router, peer, &m);
        zs_msg_clear(&m);
    }
    zs_msg_reply(&m, req, true, 200, json_pack("{s:s, s:s}", "which", "fresh", "instance", f->name));
    fake_send(router, peer, &m);
    zs_msg_clear(&m);
}

static void fake_actor(zsock_t *pipe, void *arg)
{
    fake_t *f = arg;
    zpoller_t *poller;
    zsock_t *router = fake_open(pipe, f->endpoint, &poller);
    while (zpoller_wait(poller, -1) == router) {
        zs_msg_t req;
        zframe_t *peer = NULL;
        if (zs_bus_recv(router, &req, &peer) != 0)
            continue;
        int nth = atomic_fetch_add(f->total, 1) + 1;
        atomic_fetch_add(&f->deliveries, 1);
        if (f->mode == ANSWER || (f->mode == ANSWER_SECOND && nth == 2)) {
            zclock_sleep(f->delay_ms);
            answer(router, peer, &req, f);
        }
        zframe_destroy(&peer);
        zs_msg_clear(&req);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&router);
}

static atomic_int total;
static fake_t fakes[2];
static zs_bus_t *bus;
static char service[32];
static char unbound_dir[64];   /* the temp dir of start(0), removed by stop(0) */
static char unbound_ep[96];    /* its endpoint, which a test may bind later */

/* Starts n instances of a fresh service name (endpoints inproc://<service>-<i>, connected in
 * that order) and a fresh bus client. */
/* Starts fake instance i on `endpoint`. */
static void spawn(int i, const char *endpoint, behaviour_t mode, int delay_ms, bool noise_first)
{
    fake_t *f = &fakes[i];
    memset(f, 0, sizeof *f);
    snprintf(f->endpoint, sizeof f->endpoint, "%s", endpoint);
    snprintf(f->name, sizeof f->name, "i%d", i);
    f->mode = mode;
    f->delay_ms = delay_ms;
    f->noise_first = noise_first;
    f->total = &total;
    atomic_init(&f->deliveries, 0);
    f->actor = zactor_new(fake_actor, f);
    ck_assert_ptr_nonnull(f->actor);
}

static void start(int n, behaviour_t mode, int delay_ms, bool noise_first)
{
    static int serial;
    zs_config_reset();
    zs_config_set("bus.attempt-ms", "200");
    zs_config_set("bus.read-resends", "2");
    snprintf(service, sizeof service, "fake%d", ++serial);
    char key[64], list[512] = "";
    atomic_store(&total, 0);
    for (int i = 0; i < n; i++) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://%s-%d", service, i);
        spawn(i, ep, mode, delay_ms, noise_first);
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? "," : "", ep);
    }
    if (!n) {   /* an ipc path nobody binds (yet): an inproc connect would queue before any bind */
        char dir[] = "/tmp/test_bus.XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(unbound_dir, sizeof unbound_dir, "%s", dir);
        snprintf(unbound_ep, sizeof unbound_ep, "ipc://%s/later.ipc", dir);
        snprintf(list, sizeof list, "%s", unbound_ep);
    }
    snprintf(key, sizeof key, "bus.%s", service);
    zs_config_set(key, list);
    bus = zs_bus_new();
    ck_assert_ptr_nonnull(bus);
}

static void stop(int n)
{
    zs_bus_destroy(&bus);
    for (int i = 0; i < n; i++)
        zactor_destroy(&fakes[i].actor);
    if (!n) {
        unlink(unbound_ep + strlen("ipc://"));
        rmdir(unbound_dir);
    }
}

static void request(zs_msg_t *req, const char *api)
{
    memset(req, 0, sizeof *req);
    req->kind = 'Q';
    snprintf(req->api, sizeof req->api, "%s", api);
    zs_uuid_new(req->id);
    req->body = json_object();
}

static const char *body_str(const zs_msg_t *m, const char *key)
{
    return json_string_value(json_object_get(m->body, key));
}

START_TEST(a_reply_is_returned)
{
    start(1, ANSWER, 0, false);
    zs_msg_t req, reply;
    request(&req, "Ping");
    int rc = zs_bus_call(bus, service, &req, &(zs_bus_call_opts_t){.timeout_ms = 2000}, &reply);
    ck_assert_int_eq(rc, ZS_BUS_OK);
    ck_assert(reply.ok);
    ck_assert_int_eq(reply.kind, 'R');
    ck_assert_str_eq(reply.id, req.id);
    ck_assert_str_eq(body_str(&reply, "which"), "fresh");
    ck_assert_int_eq(atomic_load(&fakes[0].deliveries), 1);
    zs_msg_clear(&reply);
    zs_msg_clear(&req);
    stop(1);
}
END_TEST

START_TEST(stale_replies_and_acks_are_dropped)
{
    start(1, ANSWER, 0, true);   /* stale reply, then an 'A' with our id, then ours */
    zs_msg_t req, reply;
    request(&req, "Ping");
    int rc = zs_bus_call(bus, service, &req, &(zs_bus_call_opts_t){.timeout_ms = 2000}, &reply);
    ck_assert_int_eq(rc, ZS_BUS_OK);
    ck_assert_int_eq(reply.kind, 'R');
    ck_assert_str_eq(reply.id, req.id);
    ck_assert_str_eq(body_str(&reply, "which"), "fresh");
    zs_msg_clear(&reply);
    zs_msg_clear(&req);
    stop(1);
}
END_TEST

START_TEST(no_reply_times_out_at_the_deadline)
{
    start(1, SILENT, 0, false);
    zs_msg_t req, reply;
    request(&req, "Heartbeat");   /* a write: one attempt only */
    int64_t t0 = zs_mono_ms();
    int rc = zs_bus_call(bus, service, &req, &(zs_bus_call_opts_t){.timeout_ms = 400}, &reply);
    int64_t took = zs_mono_ms() - t0;
    ck_assert_int_eq(rc, ZS_BUS_TIMEOUT);
    ck_assert_int_ge(took, 390);
    ck_assert_int_lt(took, 1000);
    ck_assert(!reply.ok);
    ck_assert_int_eq(reply.status, 503);
    ck_assert_str_eq(zs_error_code(reply.body), ZS_SYS_TIMEOUT);
    ck_assert_str_eq(reply.id, req.id);
    zs_msg_clear(&reply);

    /* the earliest limit wins: the request's own deadline, before a longer timeout */
    req.deadline = zs_now_ms() + 300;
    t0 = zs_mono_ms();
    rc = zs_bus_call(bus, service, &req, &(zs_bus_call_opts_t){.timeout_ms = 5000}, &reply);
    took = zs_mono_ms() - t0;
    ck_assert_int_eq(rc, ZS_BUS_TIMEOUT);
    ck_assert_int_ge(took, 250);
    ck_assert_int_lt(took, 1000);
    zs_msg_clear(&reply);

    /* an absolute deadline in the options counts the same way */
    req.deadline = 0;
    t0 = zs_mono_ms();
    rc = zs_bus_call(bus, service, &req, &(zs_bus_call_opts_t){.deadline = zs_now_ms() + 300}, &reply);
    took = zs_mono_ms() - t0;
    ck_assert_int_eq(rc, ZS_BUS_TIMEOUT);
    ck_assert_int_ge(took, 250);
    ck_assert_int_lt(took, 1000);
    zs_msg_clear(&reply);

    /* no limit at all: refused at once, nothing sent */
    int before = atomic_load(&fakes[0].deliveries);
    t0 = zs_mono_ms();
    rc = zs_bus_call(bus, service, &req, NULL, &reply);
    ck_assert_int_eq(rc, ZS_BUS_TIMEOUT);
    ck_assert_int_lt(zs_mono_ms() - t0, 100);
    zclock_sleep(50);
    ck_assert_int_eq(atomic_load(&fakes[0].deliveries), before);
    zs_msg_clear(&reply);
    zs_msg_clear(&req);
    stop(1);
}
END_TEST

START_TEST(an_unanswered_read_goes_to_the_other_instance)
{
    start(2, ANSWER_SECOND, 0, false);   /* the first delivery is ignored, the second answered */
    zs_msg_t req, reply;
    request(&req, "Ping");
    int64_t t0 = zs_mono_ms();
    int rc = zs_bus_call(bus, service, &req, &(zs_bus_call_opts_t){.timeout_ms = 3000}, &reply);
    int64_t took = zs_mono_ms() - t0;
    ck_assert_int_eq(rc, ZS_BUS_OK);
    ck_assert_str_eq(body_str(&reply, "which"), "fresh");
    ck_assert_int_eq(atomic_load(&total), 2);
    ck_assert_int_eq(atomic_load(&fakes[0].deliveries), 1);   /* each saw it once: */
    ck_assert_int_eq(atomic_load(&fakes[1].deliveries), 1);   /* the re-send went elsewhere */
    const char *answered = body_str(&reply, "instance");
    ck_assert_ptr_nonnull(answered);
    ck_assert_int_ge(took, ATTEMPT_MS - 20);   /* after one attempt's time, not before */
    ck_assert_int_lt(took, 2 * ATTEMPT_MS + 300);
    zs_msg_clear(&reply);
    zs_msg_clear(&req);
    stop(2);
}
END_TEST

START_TEST(a_write_is_not_sent_again)
{
    start(2, SILENT, 0, false);
    zs_msg_t req, reply;
    request(&req, "Heartbeat");   /* ZS_API_WRITES */
    int rc = zs_bus_call(bus, service, &req, &(zs_bus_call_opts_t){.timeout_ms = 4 * ATTEMPT_MS}, &reply);
    ck_assert_int_eq(rc, ZS_BUS_TIMEOUT);
    zclock_sleep(50);
    ck_assert_int_eq(atomic_load(&total), 1);
    zs_msg_clear(&reply);

    /* a long poll (positive "wait") is a read answered late on purpose: not sent again */
    zs_msg_clear(&req);
    request(&req, "Ping");
    json_object_set_new(req.body, "wait", json_integer(5));
    rc = zs_bus_call(bus, service, &req, &(zs_bus_call_opts_t){.timeout_ms = 4 * ATTEMPT_MS}, &reply);
    ck_assert_int_eq(rc, ZS_BUS_TIMEOUT);
    zclock_sleep(50);
    ck_assert_int_eq(atomic_load(&total), 2);
    zs_msg_clear(&reply);

    /* the same write, declared idempotent by its caller: sent again, bus.read-resends times */
    zs_msg_clear(&req);
    request(&req, "Heartbeat");
    rc = zs_bus_call(bus, service, &req,
                     &(zs_bus_call_opts_t){.timeout_ms = 4 * ATTEMPT_MS, .idempotent = true}, &reply);
    ck_assert_int_eq(rc, ZS_BUS_TIMEOUT);
    zclock_sleep(50);
    ck_assert_int_eq(atomic_load(&total), 2 + 3);
    zs_msg_clear(&reply);
    zs_msg_clear(&req);
    stop(2);
}
END_TEST

typedef struct {
    zsock_t *tx;
    int after_ms;
} poke_t;

static void *poke_later(void *arg)
{
    poke_t *p = arg;
    zclock_sleep(p->after_ms);
    zstr_send(p->tx, "stop");
    return NULL;
}

/* A PAIR pair: *rx is the cancel socket of the call, and a thread writes "stop" on the other
 * end after_ms from now. */
static pthread_t poke(zsock_t **rx, poke_t *p, int after_ms)
{
    static int serial;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://cancel-%d", ++serial);
    *rx = zsock_new(ZMQ_PAIR);
    ck_assert_int_eq(zsock_bind(*rx, "%s", ep), 0);
    p->tx = zsock_new(ZMQ_PAIR);
    ck_assert_int_eq(zsock_connect(p->tx, "%s", ep), 0);
    p->after_ms = after_ms;
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, poke_later, p), 0);
    return t;
}

START_TEST(the_cancel_socket_interrupts_the_wait)
{
    start(1, SILENT, 0, false);
    zsock_t *rx;
    poke_t p;
    pthread_t t = poke(&rx, &p, 150);
    zs_msg_t req, reply;
    request(&req, "Heartbeat");   /* a write: exactly one delivery, however slow the poke */
    int64_t t0 = zs_mono_ms();
    int rc = zs_bus_call(bus, service, &req,
                         &(zs_bus_call_opts_t){.timeout_ms = 3000, .cancel = rx}, &reply);
    int64_t took = zs_mono_ms() - t0;
    pthread_join(t, NULL);
    ck_assert_int_eq(rc, ZS_BUS_CANCELLED);
    ck_assert_int_ge(took, 120);
    ck_assert_int_lt(took, 1000);
    ck_assert_ptr_null(reply.body);
    ck_assert_int_eq(atomic_load(&fakes[0].deliveries), 1);   /* it was sent before */
    /* the message that cancelled is left for the caller */
    ck_assert(zsock_events(rx) & ZMQ_POLLIN);
    char *m = zstr_recv(rx);
    ck_assert_str_eq(m, "stop");
    zstr_free(&m);
    zs_msg_clear(&req);
    zsock_destroy(&p.tx);
    zsock_destroy(&rx);
    stop(1);
}
END_TEST

START_TEST(a_cancelled_call_resumes_without_sending_again)
{
    start(1, ANSWER, 500, false);   /* answers half a second after receiving */
    zsock_t *rx;
    poke_t p;
    pthread_t t = poke(&rx, &p, 100);
    zs_msg_t req, reply;
    request(&req, "Heartbeat");   /* a write: any second delivery would be the resume's */
    zs_bus_call_opts_t opts = {.timeout_ms = 3000, .cancel = rx};
    int rc = zs_bus_call(bus, service, &req, &opts, &reply);
    pthread_join(t, NULL);
    ck_assert_int_eq(rc, ZS_BUS_CANCELLED);
    char *m = zstr_recv(rx);
    zstr_free(&m);
    opts.resume = true;
    rc = zs_bus_call(bus, service, &req, &opts, &reply);
    ck_assert_int_eq(rc, ZS_BUS_OK);
    ck_assert_str_eq(reply.id, req.id);
    ck_assert_str_eq(body_str(&reply, "which"), "fresh");
    zclock_sleep(50);   /* a second copy would be counted right after the answer */
    ck_assert_int_eq(atomic_load(&fakes[0].deliveries), 1);
    zs_msg_clear(&reply);
    zs_msg_clear(&req);
    zsock_destroy(&p.tx);
    zsock_destroy(&rx);
    stop(1);
}
END_TEST

START_TEST(no_instance_is_unreachable)
{
    start(0, SILENT, 0, false);   /* the endpoint is never bound */
    zs_msg_t req, reply;
    request(&req, "Heartbeat");
    int64_t t0 = zs_mono_ms();
    int rc = zs_bus_call(bus, service, &req, &(zs_bus_call_opts_t){.timeout_ms = 300}, &reply);
    int64_t took = zs_mono_ms() - t0;
    ck_assert_int_eq(rc, ZS_BUS_UNREACHABLE);
    ck_assert_int_ge(took, 250);   /* it waited for a connection, up to the deadline */
    ck_assert_int_lt(took, 1000);
    ck_assert(!reply.ok);
    ck_assert_str_eq(zs_error_code(reply.body), ZS_SYS_TIMEOUT);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(reply.body, "details")),
                                 "not reachable"));
    zs_msg_clear(&reply);
    zs_msg_clear(&req);
    stop(0);
}
END_TEST

START_TEST(a_call_cancelled_before_sending_sends_when_resumed)
{
    start(0, SILENT, 0, false);   /* no instance yet: the call waits for a connection */
    zsock_t *rx;
    poke_t p;
    pthread_t t = poke(&rx, &p, 100);
    zs_msg_t req, reply;
    request(&req, "Heartbeat");
    zs_bus_call_opts_t opts = {.timeout_ms = 3000, .cancel = rx};
    int64_t t0 = zs_mono_ms();
    int rc = zs_bus_call(bus, service, &req, &opts, &reply);
    pthread_join(t, NULL);
    ck_assert_int_eq(rc, ZS_BUS_CANCELLED);   /* the connect wait (1 s) was interrupted */
    ck_assert_int_lt(zs_mono_ms() - t0, 600);
    char *m = zstr_recv(rx);
    zstr_free(&m);
    spawn(0, unbound_ep, ANSWER, 0, false);   /* the instance comes up */
    opts.resume = true;   /* nothing was sent: resuming must send */
    rc = zs_bus_call(bus, service, &req, &opts, &reply);
    ck_assert_int_eq(rc, ZS_BUS_OK);
    ck_assert_str_eq(body_str(&reply, "which"), "fresh");
    ck_assert_int_eq(atomic_load(&fakes[0].deliveries), 1);
    zs_msg_clear(&reply);
    zs_msg_clear(&req);
    zsock_destroy(&p.tx);
    zsock_destroy(&rx);
    zactor_destroy(&fakes[0].actor);
    stop(0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bus");
    TCase *t = tcase_create("call");
    tcase_set_timeout(t, 10);
    tcase_add_test(t, a_reply_is_returned);
    tcase_add_test(t, stale_replies_and_acks_are_dropped);
    tcase_add_test(t, no_reply_times_out_at_the_deadline);
    tcase_add_test(t, an_unanswered_read_goes_to_the_other_instance);
    tcase_add_test(t, a_write_is_not_sent_again);
    tcase_add_test(t, the_cancel_socket_interrupts_the_wait);
    tcase_add_test(t, a_cancelled_call_resumes_without_sending_again);
    tcase_add_test(t, a_call_cancelled_before_sending_sends_when_resumed);
    tcase_add_test(t, no_instance_is_unreachable);
    suite_add_tcase(s, t);
    int failed = test_run_suite(s);
    zsys_shutdown();
    return failed;
}
