/* zs-bench-bare — the reference of `make bench`: a bare civetweb handler that answers every
 * request with the same bytes (a file given on the command line), written in one call, with
 * the same civetweb options as the gateway. The suite's throughput is reported as a ratio
 * against this server measured in the same run.
 *   zs-bench-bare <host:port> <body file> [threads] [hop | local <tags store dir> <tag uuid>]
 * With "hop" each request also makes the round trip the architecture forces and nothing else:
 * the worker's own ZeroMQ DEALER sends a 16-byte request over ipc to a ROUTER in a child
 * process, which answers with the whole response; the worker writes what came back. The floor of a
 * gateway → service → gateway read on this machine, measured in the same run.
 * With "local" each request instead reads the system tag from svc-tags' LMDB store (opened
 * here too: LMDB serves readers in several processes) in a read transaction of its own,
 * renders it as svc-tags does (zs_resource_render) and writes that: what a read served without
 * the hop would cost (docs/performance.md, "What would reach the targets"). The first
 * rendering must equal the body file, the stack's own answer, byte for byte.
 * With ZS_BENCH_RECEIPTS=<file> set, it is also the bench's webhook receiver: each request
 * to /hook appends "<X-Job-UUID> <epoch ms>\n" to that file as it arrives (one write, the
 * file opened O_APPEND, so lines from several workers never interleave), so that the bench
 * can time a delivery up to its receipt, not only up to the broker's record of it. */
#include "api.h"
#include "resource.h"
#include "store.h"
#include <czmq.h>
#include <civetweb.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static char *response;
static size_t response_len;
static volatile sig_atomic_t stopping;
static char hop_endpoint[128];
static int receipts = -1;   /* ZS_BENCH_RECEIPTS, O_APPEND */

/* A 200 response with `body` (n bytes): malloc'd, *len bytes, or NULL. */
static char *with_head(const char *body, size_t n, size_t *len)
{
    char head[256];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n\r\n", n);
    char *all = malloc((size_t)h + n);
    if (all) {
        memcpy(all, head, (size_t)h);
        memcpy(all + h, body, n);
        *len = (size_t)h + n;
    }
    return all;
}

static int handler(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    mg_write(conn, response, response_len);
    return 200;
}

static int hook_handler(struct mg_connection *conn, void *cbdata)
{
    const char *job = mg_get_header(conn, "X-Job-UUID");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);   /* the broker's dates are realtime ms too */
    char line[96];
    int n = snprintf(line, sizeof line, "%.32s %lld\n", job ? job : "-",
                     (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
    if (write(receipts, line, (size_t)n) != n)
        return 500;
    return handler(conn, cbdata);
}

static zs_store_t *local_store;
static char local_uuid[64];

/* The system tag read and rendered now, with the response head: a malloc'd response of
 * *len bytes, or NULL. */
static char *local_response(size_t *len)
{
    MDB_txn *txn;
    if (zs_store_begin(local_store, NULL, false, &txn) != 0)
        return NULL;
    json_t *rec = zs_store_get(local_store, txn, zs_res_system_tag.collection, local_uuid);
    mdb_txn_abort(txn);
    /* GET <resources>/{uuid} answers as a query does (rest.md): {"inventories": [one]} */
    json_t *inv = rec ? json_pack("{s:[o]}", "inventories", zs_resource_render(&zs_res_system_tag, rec, NULL)) : NULL;
    char *text = inv ? json_dumps(inv, JSON_COMPACT) : NULL;
    json_decref(rec);
    json_decref(inv);
    char *all = text ? with_head(text, strlen(text), len) : NULL;
    free(text);
    return all;
}

static int local_handler(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    size_t len;
    char *all = local_response(&len);
    if (!all)
        return 500;
    mg_write(conn, all, len);
    free(all);
    return 200;
}

/* One DEALER per civetweb worker (a ZeroMQ socket belongs to one thread); made on the
 * worker's first request, closed when the worker ends (an open socket would keep czmq's
 * shutdown waiting at exit). */
static _Thread_local zsock_t *dealer;

static void close_dealer(const struct mg_context *ctx, int thread_type, void *thread_pointer)
{
    (void)ctx, (void)thread_type, (void)thread_pointer;
    zsock_destroy(&dealer);
}

static int hop_handler(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    if (!dealer && !(dealer = zsock_new_dealer(hop_endpoint)))
        return 500;
    zmq_send(zsock_resolve(dealer), "0123456789abcdef", 16, 0);
    zmq_msg_t body;
    zmq_msg_init(&body);
    if (zmq_msg_recv(&body, zsock_resolve(dealer), 0) < 0) {
        zmq_msg_close(&body);
        return 500;
    }
    mg_write(conn, zmq_msg_data(&body), zmq_msg_size(&body));
    zmq_msg_close(&body);
    return 200;
}

/* The child's ROUTER: answers every request with the response bytes, until the parent goes. */
static void serve_hops(void)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    zsock_t *router = zsock_new_router(hop_endpoint);
    if (!router)
        _exit(1);
    void *raw = zsock_resolve(router);
    while (!stopping && !zsys_interrupted) {   /* czmq's own SIGTERM handler sets the latter */
        zmq_msg_t id, req;
        zmq_msg_init(&id);
        zmq_msg_init(&req);
        if (zmq_msg_recv(&id, raw, 0) >= 0 && zmq_msg_recv(&req, raw, 0) >= 0) {
            zmq_msg_send(&id, raw, ZMQ_SNDMORE);
            zmq_send(raw, response, response_len, 0);
        }
        zmq_msg_close(&id);
        zmq_msg_close(&req);
    }
    zsock_destroy(&router);
    _exit(0);
}

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s host:port body-file [threads] [hop | local tags-store-dir tag-uuid]\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    char body[65536];
    size_t n = fread(body, 1, sizeof body, f);
    fclose(f);
    if (!(response = with_head(body, n, &response_len)))
        return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    bool hop = argc > 4 && strcmp(argv[4], "hop") == 0;
    bool local = argc > 6 && strcmp(argv[4], "local") == 0;
    if (local) {
        snprintf(local_uuid, sizeof local_uuid, "%s", argv[6]);
        local_store = zs_store_open(argv[5], zs_resources_tags, 1, 0);   /* svc-tags' schema 1 */
        size_t len;
        char *first = local_store ? local_response(&len) : NULL;
        bool same = first && len == response_len && memcmp(first, response, len) == 0;
        free(first);
        if (!same) {
            fprintf(stderr, "zs-bench-bare local: the tag read from %s does not render as %s\n",
                    argv[5], argv[2]);
            zs_store_close(&local_store);
            return 1;
        }
    }
    if (hop) {   /* the child forks before any ZeroMQ context exists in this process */
        snprintf(hop_endpoint, sizeof hop_endpoint, "ipc:///tmp/zs-bench-bare-%d.ipc", (int)getpid());
        pid_t child = fork();
        if (child == 0)
            serve_hops();
        if (child < 0) {
            perror("fork");
            return 1;
        }
        zsys_init();   /* once, here: the workers' first sockets would race to do it */
    }
    const char *options[] = {"listening_ports", argv[1], "num_threads", argc > 3 ? argv[3] : "64",
                             "enable_keep_alive", "yes", "tcp_nodelay", "1", NULL};
    mg_init_library(0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.exit_thread = close_dealer;
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (!ctx) {
        fprintf(stderr, "cannot listen on %s\n", argv[1]);
        return 1;
    }
    mg_set_request_handler(ctx, "/", hop ? hop_handler : local ? local_handler : handler, NULL);
    const char *receipts_file = getenv("ZS_BENCH_RECEIPTS");
    if (receipts_file && *receipts_file) {   /* an exact match: wins over "/" */
        receipts = open(receipts_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (receipts < 0) {
            perror(receipts_file);
            mg_stop(ctx);
            return 1;
        }
        mg_set_request_handler(ctx, "/hook", hook_handler, NULL);
    }
    while (!stopping && !zsys_interrupted)   /* czmq replaces the handler once a worker hops */
        usleep(100 * 1000);
    mg_stop(ctx);
    mg_exit_library();
    if (hop)
        unlink(hop_endpoint + strlen("ipc://"));
    if (receipts >= 0)
        close(receipts);
    zs_store_close(&local_store);
    free(response);
    return 0;
}
