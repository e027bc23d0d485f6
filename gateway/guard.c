/* guard.c — see guard.h. */
#include "guard.h"
#include "api.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include <arpa/inet.h>
#include <czmq.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVICES 32

static int per_client;
static int per_service;       /* calls that may wait on a service that has stopped answering */
static int per_live_service;  /* ... on one that answered within LIVE_MS */
static int64_t body_timeout_ms;

/* A service that answered a call this recently is serving, not stalled: its waiting calls are
 * in flight and leave soon, so it may hold more workers (never all: others keep a share).
 * One that has answered nothing this long while calls waited on it is stalled. One that was
 * idle and became busy less than this ago is neither yet: a burst after idleness fills its
 * smaller bound before the first answer can come back; the calls beyond it wait (briefly) to
 * learn which it is rather than being refused as if it had stalled. */
#define LIVE_MS 250
/* A call finding a serving service full waits for a slot while the service keeps answering
 * (checked every ADMIT_CHECK_MS), at most ADMIT_WAIT_MS. Not less: a durable service's answers
 * come in group commits, and one slow fsync leaves no slot free for 100 ms or more without the
 * service being in trouble. */
#define ADMIT_WAIT_MS 1000
#define ADMIT_CHECK_MS 50

#define SWEEP_MS 100

static int ports[8], nports;   /* the listening ports */
static pthread_t sweeper;
static bool sweeping;
static atomic_bool stopping;

/* Calls finding a serving service full queue up: while any call queues, newcomers queue too,
 * so a slot freed goes to a call that has waited rather than to the worker that just freed it
 * (that worker, on a kept-alive connection, is back first and would take every slot: the
 * waiting calls then time out as 503 under a load the service is keeping up with). */
static struct {
    char name[32];
    atomic_int waiting;
    _Atomic int64_t answered_ms;   /* when a call to it last came back, zs_mono_ms */
    _Atomic int64_t busy_ms;       /* when it last became busy (a call took a slot with none
                                      waiting), zs_mono_ms */
    atomic_int queued;             /* calls in the slow path of guard_enter */
    pthread_mutex_t lock;          /* held by queued calls between their checks and waits */
    pthread_cond_t freed;          /* a slot was given back while calls queued */
} services[MAX_SERVICES];
static size_t nservices;

/* The bodies being read: one slot per worker thread, taken by guard_body_begin. A slot names
 * its connection by the client's address and port, which the sweeper reads off the socket. */
typedef struct {
    bool used;
    char addr[sizeof ((struct mg_request_info *)0)->remote_addr];
    int port;
    int64_t since;   /* zs_mono_ms */
} body_slot_t;
static body_slot_t *bodies;
static int nbodies;
static pthread_mutex_t bodies_lock = PTHREAD_MUTEX_INITIALIZER;

static void add_service(const char *name)
{
    for (size_t i = 0; i < nservices; i++)
        if (strcmp(services[i].name, name) == 0)
            return;
    if (nservices < MAX_SERVICES) {
        snprintf(services[nservices].name, sizeof services[0].name, "%s", name);
        pthread_condattr_t monotonic;
        pthread_condattr_init(&monotonic);
        pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
        pthread_mutex_init(&services[nservices].lock, NULL);
        pthread_cond_init(&services[nservices].freed, &monotonic);
        pthread_condattr_destroy(&monotonic);
        nservices++;
    }
}

void guard_init(int threads)
{
    per_client = (int)zs_config_int("gateway.max-connections-per-client", 16);
    int quarter = threads / 4 > 0 ? threads / 4 : 1;
    per_service = (int)zs_config_int("gateway.max-waiting-per-service", quarter);
    per_live_service = threads - threads / 8 > per_service ? threads - threads / 8 : per_service;
    body_timeout_ms = zs_config_int("gateway.body-timeout-ms", 10000);
    nbodies = threads > 0 ? threads : 1;
    bodies = calloc((size_t)nbodies, sizeof *bodies);
    if (!bodies)
        nbodies = 0;   /* out of memory at start: bodies go unbounded rather than the gateway down */
    add_service("core");     /* sessions */
    add_service("broker");   /* async submits */
    add_service("login");    /* logins: main.c gives them slots apart from the core's */
    for (size_t i = 0; i < zs_api_count(); i++)
        add_service(zs_api_at(i)->service);
}

/* ---- connections per address --------------------------------------------------------- */

static bool is_ours(const struct sockaddr_storage *local)
{
    int port = local->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)local)->sin_port)
             : local->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)local)->sin6_port)
             : -1;
    for (int i = 0; i < nports; i++)
        if (ports[i] == port)
            return true;
    return false;
}

/* The peer address and port of an accepted socket of the gateway's listening ports, or false. */
static bool peer_of(int fd, char text[INET6_ADDRSTRLEN], int *port)
{
    struct sockaddr_storage local, peer;
    socklen_t llen = sizeof local, plen = sizeof peer;
    if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0 || !is_ours(&local)
        || getpeername(fd, (struct sockaddr *)&peer, &plen) != 0)
        return false;
    if (peer.ss_family == AF_INET) {
        *port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
        return inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, text, INET6_ADDRSTRLEN);
    }
    *port = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
    return inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, text, INET6_ADDRSTRLEN);
}

/* True when the connection addr:port has been reading its body longer than the deadline. */
static bool body_overdue(const char *addr, int port, int64_t now)
{
    bool overdue = false;
    pthread_mutex_lock(&bodies_lock);
    for (int i = 0; i < nbodies && !overdue; i++)
        overdue = bodies[i].used && bodies[i].port == port && now - bodies[i].since > body_timeout_ms
                  && strcmp(bodies[i].addr, addr) == 0;
    pthread_mutex_unlock(&bodies_lock);
    return overdue;
}

/* One pass over the process's sockets: the connections of an address beyond its bound
 * (the newest ones: descriptors are listed in ascending order), and those whose body is
 * overdue, are shut; civetweb's worker then reads end-of-file and frees itself, or never
 * waits on the connection at all. */
static void sweep(zhashx_t *counts)
{
    int64_t now = zs_mono_ms();
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        char addr[INET6_ADDRSTRLEN];
        int port;
        if (*end || end == e->d_name || !peer_of((int)fd, addr, &port))
            continue;
        if (body_timeout_ms > 0 && body_overdue(addr, port, now)) {
            zs_warn("client %s:%d sent its body slower than %lld ms: closing", addr, port,
                    (long long)body_timeout_ms);
            shutdown((int)fd, SHUT_RDWR);
            continue;
        }
        if (per_client <= 0)
            continue;
        intptr_t open = (intptr_t)zhashx_lookup(counts, addr) + 1;
        zhashx_update(counts, addr, (void *)open);
        if (open > per_client) {
            if (open == per_client + 1)
                zs_warn("client %s has more than %d connections open: closing the extra ones", addr, per_client);
            shutdown((int)fd, SHUT_RDWR);
        }
    }
    closedir(d);
    zhashx_purge(counts);
}

static void *sweeper_run(void *arg)
{
    (void)arg;
    zhashx_t *counts = zhashx_new();
    while (!atomic_load(&stopping)) {
        sweep(counts);
        usleep(SWEEP_MS * 1000);
    }
    zhashx_destroy(&counts);
    return NULL;
}

int guard_start(struct mg_context *ctx)
{
    struct mg_server_port sp[8];
    int n = mg_get_server_ports(ctx, 8, sp);
    for (int i = 0; i < n && nports < 8; i++)
        ports[nports++] = sp[i].port;
    atomic_store(&stopping, false);
    if (per_client <= 0 && body_timeout_ms <= 0)
        return 0;   /* nothing to sweep for */
    sweeping = pthread_create(&sweeper, NULL, sweeper_run, NULL) == 0;
    return sweeping ? 0 : -1;
}

void guard_stop(void)
{
    atomic_store(&stopping, true);
    if (sweeping)
        pthread_join(sweeper, NULL);
    sweeping = false;
}

/* ---- bodies -------------------------------------------------------------------------- */

int guard_body_begin(const struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int slot = -1;
    pthread_mutex_lock(&bodies_lock);
    for (int i = 0; i < nbodies && slot < 0; i++)
        if (!bodies[i].used) {
            slot = i;
            bodies[i].used = true;
            snprintf(bodies[i].addr, sizeof bodies[i].addr, "%s", ri->remote_addr);
            bodies[i].port = ri->remote_port;
            bodies[i].since = zs_mono_ms();
        }
    pthread_mutex_unlock(&bodies_lock);
    return slot;
}

void guard_body_end(int slot)
{
    if (slot < 0)
        return;
    pthread_mutex_lock(&bodies_lock);
    bodies[slot].used = false;
    pthread_mutex_unlock(&bodies_lock);
}

/* ---- civetweb's own errors ----------------------------------------------------------- */

int guard_http_error(struct mg_connection *conn, int status, const char *message)
{
    http_reply(conn, status,
               json_pack("{s:o}", "error", zs_error(status >= 500 ? ZS_SYS_INTERNAL : ZS_SYS_INVALID,
                                                     "%.200s", message)),
               "Connection: close\r\n");
    return 0;
}

/* ---- framing ------------------------------------------------------------------------- */

const char *guard_framing_refusal(const struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int lengths = 0, encodings = 0;
    for (int i = 0; i < ri->num_headers; i++) {
        if (strcasecmp(ri->http_headers[i].name, "Content-Length") == 0)
            lengths++;
        else if (strcasecmp(ri->http_headers[i].name, "Transfer-Encoding") == 0)
            encodings++;
    }
    if (lengths > 1)
        return "the request has more than one Content-Length header";
    if (lengths && encodings)
        return "the request has both Content-Length and Transfer-Encoding headers";
    if (encodings > 1)
        return "the request has more than one Transfer-Encoding header";
    return NULL;
}

/* ---- waiting on services ------------------------------------------------------------- */

static int service_index(const char *service)
{
    for (size_t i = 0; i < nservices; i++)
        if (strcmp(services[i].name, service) == 0)
            return (int)i;
    return -1;
}

/* Takes a slot if one is free for `limit`: true when taken. */
static bool take_slot(int i, int limit)
{
    int n = atomic_load(&services[i].waiting);
    while (n < limit)
        if (atomic_compare_exchange_weak(&services[i].waiting, &n, n + 1)) {
            if (n == 0)   /* idle until now: whether it stalls is judged from here */
                atomic_store(&services[i].busy_ms, zs_mono_ms());
            return true;
        }
    return false;
}

static bool is_live(int i)
{
    return zs_mono_ms() - atomic_load(&services[i].answered_ms) < LIVE_MS;
}

/* Not live, and not just out of idleness: its calls wait and nothing comes back. */
static bool is_stalled(int i)
{
    return !is_live(i) && zs_mono_ms() - atomic_load(&services[i].busy_ms) >= LIVE_MS;
}

bool guard_enter(const char *service)
{
    int i = service_index(service);
    if (i < 0)
        return true;
    if (atomic_load(&services[i].queued) == 0 &&
        take_slot(i, is_live(i) ? per_live_service : per_service))
        return true;
    if (is_stalled(i))
        return false;   /* refuse at once */
    /* serving but full (or busy for less than LIVE_MS, not answering yet): its calls leave
     * within milliseconds, so wait briefly for a slot rather than refuse (a refusal answered
     * at once is retried at once: churn) */
    int64_t until = zs_mono_ms() + ADMIT_WAIT_MS;
    pthread_mutex_lock(&services[i].lock);
    atomic_fetch_add(&services[i].queued, 1);   /* before the check: see guard_leave */
    bool taken = false;
    for (;;) {
        if ((taken = take_slot(i, is_live(i) ? per_live_service : per_service)) || is_stalled(i))
            break;
        if (zs_mono_ms() >= until)
            break;
        struct timespec check;
        clock_gettime(CLOCK_MONOTONIC, &check);
        check.tv_nsec += ADMIT_CHECK_MS * 1000000L;
        check.tv_sec += check.tv_nsec / 1000000000L;
        check.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&services[i].freed, &services[i].lock, &check);
    }
    atomic_fetch_sub(&services[i].queued, 1);
    pthread_mutex_unlock(&services[i].lock);
    return taken;
}

void guard_leave(const char *service)
{
    int i = service_index(service);
    if (i < 0)
        return;
    atomic_store(&services[i].answered_ms, zs_mono_ms());
    atomic_fetch_sub(&services[i].waiting, 1);
    /* Sequentially consistent with the queued call's increment then check: either it sees
     * this slot free or this sees it queued and wakes it (under the lock, so not before it
     * waits). One slot was freed: one waiter is woken, not all of them to fight for it. */
    if (atomic_load(&services[i].queued) > 0) {
        pthread_mutex_lock(&services[i].lock);
        pthread_cond_signal(&services[i].freed);
        pthread_mutex_unlock(&services[i].lock);
    }
}

