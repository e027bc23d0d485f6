/* libFuzzer harness: the HTTP front as a hostile client meets it. Each input is sent as raw
 * bytes over a loopback TCP connection to an in-process civetweb server configured as the
 * gateway configures it (same callbacks: guard_http_error for civetweb's own errors), whose
 * handler runs the gateway's own request functions up to the bus: framing refusal
 * (guard_framing_refusal), bounded body read (http_read_body), JSON depth pre-scan and parse
 * (http_parse_json), query string (http_parse_query), routing (route_find), validation
 * against the API table, and the webhook URL policy (target_url_refusal) on X-Web-Hook.
 * So request lines, headers, bodies and query strings all go through civetweb's parser and
 * ours. The answer is read to its end; a hang shows as a libFuzzer timeout. */
#include "api.h"
#include "../../broker/target.c"
#include "../../gateway/guard.c"
#include "../../gateway/http.c"
#include "../../gateway/route.c"
#include "fuzz_route.h"
#include <errno.h>
#include <poll.h>
#include <stdint.h>

static int port;

static int handle(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *ambiguous = guard_framing_refusal(conn);
    if (ambiguous)
        return http_error(conn, 400, zs_error(ZS_SYS_INVALID, "%s", ambiguous));
    char *text = NULL;
    size_t len = 0;
    int rc = http_read_body(conn, 64 * 1024, &text, &len);
    if (rc != 0)
        return http_error(conn, rc, zs_error(ZS_SYS_INVALID, "body"));
    char err[256];
    json_t *body = text ? http_parse_json(text, len, err) : NULL;
    free(text);
    const char *why = NULL;
    json_t *params = http_parse_query(ri->query_string, &why);
    const char *hook = mg_get_header(conn, "X-Web-Hook");
    if (hook)
        (void)target_url_refusal(hook, NULL, 0);
    const char *uri = ri->local_uri ? ri->local_uri : "/";
    const char *path = strncmp(uri, "/zstack/v1", 10) == 0 ? uri + 10 : uri;
    fuzz_route_and_validate(ri->request_method, path, body, params);
    json_decref(params);
    json_decref(body);
    return http_reply(conn, 200, json_object(), NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mg_init_library(0);
    guard_init(4);
    struct mg_callbacks cb = {0};
    cb.http_error = guard_http_error;
    const char *options[] = {"listening_ports", "127.0.0.1:0", "num_threads", "4",
                             "enable_keep_alive", "yes", "request_timeout_ms", "2000", NULL};
    struct mg_context *ctx = mg_start(&cb, NULL, options);
    struct mg_server_port sp;
    if (!ctx || mg_get_server_ports(ctx, 1, &sp) != 1)
        abort();
    port = sp.port;
    mg_set_request_handler(ctx, "/", handle, NULL);
    return 0;   /* the server lives as long as the fuzzer */
}

/* connect(), carried on when a signal interrupts it: libFuzzer's timeout timer (SIGALRM,
 * every second) lands in it now and then, and the connection then completes on its own. */
static int connect_through_signals(int fd, const struct sockaddr_in *to)
{
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) == 0)
        return 0;
    if (errno != EINTR)
        return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int rc;
    while ((rc = poll(&p, 1, 5000)) < 0 && errno == EINTR)
        ;
    int error = 0;
    socklen_t len = sizeof error;
    if (rc != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
        errno = error ? error : ETIMEDOUT;
        return -1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Closed with a reset: thousands of inputs a second would otherwise run the machine out
     * of ports in TIME_WAIT. */
    struct linger reset = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    if (fd < 0 || connect_through_signals(fd, &to) != 0) {
        perror("fuzz_http: connect to the in-process server");
        abort();
    }
    for (size_t sent = 0; sent < size;) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;   /* the server may answer and close before reading everything */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    char buf[65536];
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (poll(&p, 1, 5000) > 0 && recv(fd, buf, sizeof buf, 0) > 0)
        ;
    close(fd);
    return 0;
}
