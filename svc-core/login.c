/* login.c — see login.h. */
#include "login.h"
#include "clock.h"
#include "config.h"
#include "core.h"
#include "error.h"
#include "log.h"
#include <czmq.h>
#include <sodium.h>
#include <stdatomic.h>

#define MAX_TRACKED 100000   /* names or addresses remembered; beyond, the table starts over */

typedef struct {
    zs_deferred_t *token;
    json_t *account;      /* the record, or a copy of the dummy */
    char *password;
    char *name, *address; /* address may be NULL (a call from the bus, not the gateway) */
    bool known, ok;
} job_t;

typedef struct {
    int failures;
    int64_t last_failure, blocked_until;   /* monotonic ms */
} strikes_t;

/* The module's state (zs_service_module_state). */
typedef struct {
    zactor_t *hasher;
    atomic_bool stopping;      /* read by the hasher: skip what is left */
    json_t *dummy;             /* no password matches it; costs what a real hash costs */
    zhashx_t *by_name, *by_address;
    size_t queued;
    zlistx_t *in_flight;       /* jobs handed to the hasher, for a clean stop */
} login_t;

static login_t *login_of(zs_service_t *svc)
{
    return zs_service_module_state(svc, &login_module);
}

static void job_free(job_t **j)
{
    if (!*j)
        return;
    json_decref((*j)->account);
    if ((*j)->password)
        sodium_memzero((*j)->password, strlen((*j)->password));
    free((*j)->password);
    free((*j)->name);
    free((*j)->address);
    free(*j);
    *j = NULL;
}

/* ---- throttling ---------------------------------------------------------------------- */

static void strikes_free(void **item)
{
    free(*item);
    *item = NULL;
}

static int64_t delay_ms(int failures, int free_failures)
{
    int over = failures - free_failures;
    if (over < 0)
        return 0;
    int64_t max = zs_config_int("core.login-max-delay", 900) * 1000;
    int64_t d = 1000;
    for (int i = 0; i < over && d < max; i++)
        d *= 2;
    return d < max ? d : max;
}

/* Milliseconds `key` must still wait, 0 when it may try now. */
static int64_t wait_of(zhashx_t *table, const char *key, int64_t now)
{
    strikes_t *s = key ? zhashx_lookup(table, key) : NULL;
    if (!s)
        return 0;
    if (now - s->last_failure > zs_config_int("core.login-window", 900) * 1000 && s->blocked_until <= now) {
        zhashx_delete(table, key);
        return 0;
    }
    return s->blocked_until > now ? s->blocked_until - now : 0;
}

static void strike(zhashx_t *table, const char *key, int free_failures, int64_t now)
{
    if (!key)
        return;
    strikes_t *s = zhashx_lookup(table, key);
    if (!s) {
        if (zhashx_size(table) >= MAX_TRACKED) {
            zs_warn("login throttling: %d entries tracked, starting over", MAX_TRACKED);
            zhashx_purge(table);
        }
        s = calloc(1, sizeof *s);
        zhashx_insert(table, key, s);
    }
    s->failures++;
    s->last_failure = now;
    s->blocked_until = now + delay_ms(s->failures, free_failures);
}

static int free_for_names(void)
{
    return (int)zs_config_int("core.login-free-failures", 5);
}

static int free_for_addresses(void)
{
    return (int)zs_config_int("core.login-address-free-failures", 20);
}

/* ---- the hashing thread -------------------------------------------------------------- */

/* Messages on the pipe, both ways: [job_t *] as one frame of sizeof(job_t *) bytes. */
static void send_job(zsock_t *sock, job_t *j)
{
    zframe_t *f = zframe_new(&j, sizeof j);
    zframe_send(&f, sock, 0);
}

static job_t *recv_job(zmsg_t *m)
{
    zframe_t *f = zmsg_first(m);
    job_t *j = NULL;
    if (f && zframe_size(f) == sizeof j)
        memcpy(&j, zframe_data(f), sizeof j);
    return j;
}

/* The hashing thread; arg is the state's `stopping`. */
static void hasher_actor(zsock_t *pipe, void *arg)
{
    atomic_bool *stopping = arg;
    zsock_signal(pipe, 0);
    for (zmsg_t *m; (m = zmsg_recv(pipe));) {
        job_t *j = recv_job(m);
        zmsg_destroy(&m);
        if (!j)
            break;   /* $TERM */
        j->ok = !atomic_load(stopping) && accounts_password_ok(j->account, j->password) && j->known;
        send_job(pipe, j);
    }
}

/* ---- the loop side ------------------------------------------------------------------- */

static int open_session(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    json_t **out = arg;
    json_t *error = NULL;
    zs_call_t call = {.svc = svc, .txn = txn};
    const char *uuid = json_string_value(json_object_get(out[0], "uuid"));
    out[1] = accounts_new_session(&call, uuid, &error);
    out[2] = error;
    return out[1] ? 0 : -1;
}

static void finish(zs_service_t *svc, login_t *L, job_t *j)
{
    int64_t now = zs_mono_ms();
    if (!j->ok) {
        strike(L->by_name, j->name, free_for_names(), now);
        strike(L->by_address, j->address, free_for_addresses(), now);
        zs_deferred_answer(svc, &j->token, false, 0, NULL,
                           zs_error(ZS_ID_AUTH, "wrong account name or password"));
        return;
    }
    zhashx_delete(L->by_name, j->name);
    json_t *out[3] = {j->account, NULL, NULL};
    int rc = zs_service_write(svc, open_session, out);
    if (rc == 0) {
        zs_deferred_answer(svc, &j->token, true, 0, NULL, out[1]);
        return;
    }
    json_decref(out[1]);   /* made, but its commit failed: never answer success */
    zs_deferred_answer(svc, &j->token, false, 0, NULL,
                       out[2] ? out[2] : zs_error(ZS_SYS_INTERNAL, "store: %s", zs_store_strerror(rc)));
}

/* Every verdict waiting on the pipe (the loop calls this when it is readable). */
static void on_verdict(zs_service_t *svc, void *sock)
{
    login_t *L = login_of(svc);
    while (zsock_events(sock) & ZMQ_POLLIN) {
        zmsg_t *m = zmsg_recv(sock);
        job_t *j = m ? recv_job(m) : NULL;
        zmsg_destroy(&m);
        if (!j)
            return;
        void *handle = zlistx_find(L->in_flight, j);
        if (handle)
            zlistx_delete(L->in_flight, handle);
        L->queued--;
        finish(svc, L, j);
        job_free(&j);
    }
}

json_t *login_begin(zs_call_t *call, json_t *account, json_t **error)
{
    const char *name = zs_call_str(call, "accountName");
    const char *address = json_string_value(json_object_get(call->req->caller, "clientAddress"));
    login_t *L = login_of(call->svc);
    int64_t now = zs_mono_ms();
    int64_t wait = wait_of(L->by_name, name, now);
    const char *what = "account";
    int64_t wait_address = wait_of(L->by_address, address, now);
    if (wait_address > wait) {
        wait = wait_address;
        what = "client address";
    }
    if (wait > 0) {
        json_decref(account);
        call->status = 429;
        return zs_call_fail(call, error, ZS_ID_AUTH, "too many failed logins for this %s; retry in %lld s",
                            what, (long long)(wait + 999) / 1000);
    }
    if (L->queued >= (size_t)zs_config_int("core.login-queue", 64)) {
        json_decref(account);
        return zs_call_fail(call, error, ZS_SYS_TIMEOUT, "too many logins are being checked; retry later");
    }
    job_t *j = calloc(1, sizeof *j);
    j->known = account != NULL;
    j->account = account ? account : json_deep_copy(L->dummy);
    j->password = strdup(zs_call_str(call, "password"));
    j->name = strdup(name);
    j->address = address ? strdup(address) : NULL;
    j->token = zs_call_defer(call);
    zlistx_add_end(L->in_flight, j);
    L->queued++;
    send_job(zactor_sock(L->hasher), j);
    return zs_call_deferred();
}

/* Ends the hasher (it skips what is left) and answers what it had not answered. */
static void login_destroy(zs_service_t *svc, void *state)
{
    login_t *L = state;
    atomic_store(&L->stopping, true);
    zactor_destroy(&L->hasher);
    for (job_t *j = L->in_flight ? zlistx_first(L->in_flight) : NULL; j; j = zlistx_next(L->in_flight)) {
        zs_deferred_answer(svc, &j->token, false, 0, NULL,
                           zs_error(ZS_SYS_TIMEOUT, "the core service is stopping; retry the login"));
        job_free(&j);
    }
    zlistx_destroy(&L->in_flight);
    zhashx_destroy(&L->by_name);
    zhashx_destroy(&L->by_address);
    json_decref(L->dummy);
    free(L);
}

static void *login_create(zs_service_t *svc)
{
    login_t *L = calloc(1, sizeof *L);
    if (!L)
        return NULL;
    atomic_init(&L->stopping, false);
    L->dummy = accounts_dummy();
    L->by_name = zhashx_new();
    L->by_address = zhashx_new();
    zhashx_set_destructor(L->by_name, strikes_free);
    zhashx_set_destructor(L->by_address, strikes_free);
    L->in_flight = zlistx_new();
    L->hasher = zactor_new(hasher_actor, &L->stopping);
    if (!L->dummy || !L->hasher || zs_service_watch(svc, L->hasher, on_verdict) != 0) {
        login_destroy(svc, L);
        return NULL;
    }
    return L;
}

const zs_module_t login_module = {
    .name = "login",
    .create = login_create,
    .destroy = login_destroy,
};
