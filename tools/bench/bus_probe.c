/* zs-bench-bus_probe — talks to one bus endpoint directly, as an outsider would (for the
 * tests of the CURVE bus, tests/e2e/test_e_cluster.py).
 *
 *   zs-bench-bus_probe call ENDPOINT SERVER_CERT CLIENT API BODY_JSON CALLER_JSON JOB WAIT_MS
 *       DEALER request with the given caller (e.g. a forged {"admin":true}); JOB "job" sends
 *       it as an async job. Prints the reply envelope's body and exits 0, or exits 3 when no
 *       reply came within WAIT_MS.
 *   zs-bench-bus_probe listen ENDPOINT SERVER_CERT CLIENT TOPIC WAIT_MS
 *       SUB: prints the first event of TOPIC and exits 0, or exits 3.
 *   zs-bench-bus_probe publish ENDPOINT SERVER_CERT CLIENT TOPIC BODY_JSON MS
 *       PUB: publishes the event every 50 ms for MS milliseconds.
 * SERVER_CERT: the server's public certificate file, or "-" for a plain (NULL mechanism)
 * client. CLIENT: a secret certificate file, or "new" for a fresh key pair nobody allowed.
 * Bounded: every mode ends after its WAIT_MS / MS. */
#include "clock.h"
#include "msg.h"
#include "uuid.h"
#include <czmq.h>
#include <string.h>

static zsock_t *open_socket(int type, const char *endpoint, const char *server_cert,
                            const char *client)
{
    zsock_t *s = zsock_new(type);
    zsock_set_linger(s, 0);
    if (strcmp(server_cert, "-") != 0) {
        zcert_t *server = zcert_load(server_cert);
        zcert_t *me = strcmp(client, "new") == 0 ? zcert_new() : zcert_load(client);
        if (!server || !me) {
            fprintf(stderr, "bus_probe: cannot load %s or %s\n", server_cert, client);
            exit(2);
        }
        zcert_apply(me, s);
        zsock_set_curve_serverkey(s, zcert_public_txt(server));
        zcert_destroy(&server);
        zcert_destroy(&me);
    }
    if (zsock_connect(s, "%s", endpoint) != 0) {
        fprintf(stderr, "bus_probe: cannot connect %s\n", endpoint);
        exit(2);
    }
    return s;
}

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v) {
        fprintf(stderr, "bus_probe: bad JSON %s: %s\n", text, e.text);
        exit(2);
    }
    return v;
}

static int call(char **a)
{
    zsock_t *s = open_socket(ZMQ_DEALER, a[0], a[1], a[2]);
    zs_msg_t m = {.kind = 'Q', .job = strcmp(a[6], "job") == 0};
    snprintf(m.api, sizeof m.api, "%s", a[3]);
    zs_uuid_new(m.id);
    m.body = parse(a[4]);
    m.caller = strcmp(a[5], "null") == 0 ? NULL : parse(a[5]);
    int64_t wait = atoll(a[7]);
    m.deadline = zs_now_ms() + wait + 60000;
    char *buf;
    size_t len;
    zs_msg_encode(&m, &buf, &len);
    zs_msg_clear(&m);
    zsock_set_sndtimeo(s, (int)wait);
    zmq_send(zsock_resolve(s), buf, len, 0);   /* a refused peer: never delivered */
    free(buf);
    int rc = 3;
    zpoller_t *p = zpoller_new(s, NULL);
    if (zpoller_wait(p, (int)wait) == s) {
        zframe_t *f = zframe_recv(s);
        zs_msg_t r;
        if (f && zs_msg_decode(zframe_data(f), zframe_size(f), &r, NULL) == 0) {
            char *text = json_dumps(r.body, JSON_COMPACT);
            printf("%s\n", text);
            free(text);
            zs_msg_clear(&r);
            rc = 0;
        }
        zframe_destroy(&f);
    }
    zpoller_destroy(&p);
    zsock_destroy(&s);
    return rc;
}

static int listen_for(char **a)
{
    zsock_t *s = open_socket(ZMQ_SUB, a[0], a[1], a[2]);
    zsock_set_subscribe(s, a[3]);
    int64_t end = zs_mono_ms() + atoll(a[4]);
    zpoller_t *p = zpoller_new(s, NULL);
    int rc = 3;
    while (rc && zs_mono_ms() < end && zpoller_wait(p, (int)(end - zs_mono_ms())) == s) {
        char *topic = zstr_recv(s);
        if (topic && strcmp(topic, a[3]) == 0) {
            printf("%s\n", topic);
            rc = 0;
        }
        free(topic);
        zsock_flush(s);
    }
    zpoller_destroy(&p);
    zsock_destroy(&s);
    return rc;
}

static int publish(char **a)
{
    zsock_t *s = open_socket(ZMQ_PUB, a[0], a[1], a[2]);
    zs_msg_t m = {.kind = 'E', .body = parse(a[4])};
    snprintf(m.api, sizeof m.api, "%s", a[3]);
    char *buf;
    size_t len;
    zs_msg_encode(&m, &buf, &len);
    zs_msg_clear(&m);
    for (int64_t end = zs_mono_ms() + atoll(a[5]); zs_mono_ms() < end; zclock_sleep(50)) {
        zmsg_t *z = zmsg_new();
        zmsg_addstr(z, a[3]);
        zmsg_addmem(z, buf, len);
        zmsg_send(&z, s);
    }
    free(buf);
    zsock_destroy(&s);
    return 0;
}

int main(int argc, char **argv)
{
    zsys_handler_set(NULL);
    if (argc == 10 && strcmp(argv[1], "call") == 0)
        return call(argv + 2);
    if (argc == 7 && strcmp(argv[1], "listen") == 0)
        return listen_for(argv + 2);
    if (argc == 8 && strcmp(argv[1], "publish") == 0)
        return publish(argv + 2);
    fprintf(stderr, "usage: see tools/bench/bus_probe.c\n");
    return 2;
}
