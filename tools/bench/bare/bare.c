/* zs-bench-bare — the reference of `make bench`: a bare civetweb handler that answers every
 * request with the same bytes (a file given on the command line), written in one call, with
 * the same civetweb options as the gateway. The suite's throughput is reported as a ratio
 * against this server measured in the same run.
 *   zs-bench-bare <host:port> <body file> [threads]                      */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *response;
static size_t response_len;
static volatile sig_atomic_t stopping;

static int handler(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    mg_write(conn, response, response_len);
    return 200;
}

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s host:port body-file [threads]\n", argv[0]);
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
    char head[256];
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                     "Content-Length: %zu\r\n\r\n", n);
    response_len = (size_t)h + n;
    response = malloc(response_len);
    memcpy(response, head, (size_t)h);
    memcpy(response + h, body, n);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    const char *options[] = {"listening_ports", argv[1], "num_threads", argc > 3 ? argv[3] : "32",
                             "enable_keep_alive", "yes", "tcp_nodelay", "1", NULL};
    mg_init_library(0);
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    if (!ctx) {
        fprintf(stderr, "cannot listen on %s\n", argv[1]);
        return 1;
    }
    mg_set_request_handler(ctx, "/", handler, NULL);
    while (!stopping)
        usleep(100 * 1000);
    mg_stop(ctx);
    mg_exit_library();
    free(response);
    return 0;
}
