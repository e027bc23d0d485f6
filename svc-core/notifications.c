/* notifications.c — notifications (apis.md §5, seed 004 §4.4): what an operator should see,
 * made from bus events.
 *
 *   event               notification (name, type, resource)
 *   ticket.status       "ticket", Info (Warning when toStatus is Rejected/Cancelled...), TicketVO;
 *                       sender "api" when an operator made the change
 *   ticket.executed     "ticket", Info when the execution succeeded, else Error, TicketVO
 *   longjob.finished    "longjob", Info Succeeded / Error Failed / Warning Canceled, LongJobVO
 *   gc.failing          "gc", Warning, GarbageCollectorVO
 *   license.expiring    "license", Warning, LicenseVO
 *   license.expired     "license", Error, LicenseVO
 *   node.dead           "managementNode", Error, ManagementNodeVO
 * content is a format string with %s, arguments the JSON array text of its values. A
 * notification about a ticket or a long job is also visible to the account concerned
 * (submitter / owner); admins see every notification.
 *
 * Every core instance receives every event: a notification's uuid is derived from the event
 * (BLAKE2b of topic + canonical body), so the instances write the same record once.
 * Retention: notification.retention-days (default 30), swept once a minute. When
 * notification.webhook-url is set, each new notification is handed to the broker's durable
 * webhook outbox (bus-only EnqueueWebhook; body {"inventory": ...}, X-Job-UUID = the
 * notification uuid); until the broker has accepted it the record keeps a hidden
 * webhookPending flag and the tick retries (5 s after the broker refused). */
#include "clock.h"
#include "config.h"
#include "core.h"
#include "error.h"
#include "log.h"
#include "uuid.h"
#include <sodium.h>
#include <string.h>

#define NOTES "notifications"
#define MAX_SWEEP 1000
#define NOTHING (-1)   /* a zs_service_write function's "nothing changed": abort, no fsync */

extern const zs_resource_t zs_res_notification;   /* common/apis_core.c */

#define REFUSED_WAIT_TICKS 5   /* ticks without a hand-off after the broker refused one */

/* The module's state (zs_service_module_state). */
typedef struct {
    bool handing;      /* a hand-off to the broker is out on a pool thread */
    int wait_ticks;    /* ticks still to let pass before the next hand-off */
} notes_t;

static notes_t *notes_of(zs_service_t *svc)
{
    return zs_service_module_state(svc, &notifications_module);
}

/* ---- from events --------------------------------------------------------------------- */

static const char *field(const json_t *body, const char *key)
{
    const char *s = json_string_value(json_object_get(body, key));
    return s ? s : "";
}

/* A value of the event as argument text (numbers as their digits). */
static json_t *arg_text(const json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    if (json_is_string(v))
        return json_string(json_string_value(v));
    if (json_is_integer(v))
        return json_sprintf("%lld", (long long)json_integer_value(v));
    if (!v || json_is_null(v))
        return json_string("");
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *out = json_string(text ? text : "");
    free(text);
    return out;
}

typedef struct {
    const char *name, *type, *sender, *content, *resource_key, *resource_type, *account_key;
    const char *args[5];
} note_spec_t;

static bool contains(const char *s, const char *part)
{
    return strstr(s, part) != NULL;
}

/* What the event `topic` says, or false when it is not one we notify. */
static bool spec_of(const char *topic, const json_t *b, note_spec_t *s)
{
    memset(s, 0, sizeof *s);
    s->sender = "system";
    if (strcmp(topic, "ticket.status") == 0) {
        const char *to = field(b, "toStatus");
        *s = (note_spec_t){"ticket", "Info", *field(b, "operatorUuid") ? "api" : "system",
                           "the ticket[name:%s, uuid:%s] changed its status from %s to %s",
                           "ticketUuid", "TicketVO", "submitterUuid",
                           {"name", "ticketUuid", "fromStatus", "toStatus", NULL}};
        if (contains(to, "Reject") || contains(to, "Cancel") || contains(to, "Fail"))
            s->type = "Warning";
        if (!*field(b, "fromStatus")) {   /* a new ticket */
            s->content = "the ticket[name:%s, uuid:%s] was submitted: %s";
            s->args[2] = "toStatus";
            s->args[3] = NULL;
        }
    } else if (strcmp(topic, "ticket.executed") == 0) {
        const char *st = field(b, "executionStatus");
        *s = (note_spec_t){"ticket", "Info", "system",
                           "the ticket[name:%s, uuid:%s] was executed: %s", "ticketUuid", "TicketVO",
                           "submitterUuid", {"name", "ticketUuid", "executionStatus", NULL}};
        if (contains(st, "Fail") || contains(st, "Error"))
            s->type = "Error";
    } else if (strcmp(topic, "longjob.finished") == 0) {
        const char *st = field(b, "state");
        *s = (note_spec_t){"longjob", "Info", "system",
                           "the long job[name:%s, uuid:%s, job:%s] finished: %s", "uuid", "LongJobVO",
                           "accountUuid", {"name", "uuid", "jobName", "state", NULL}};
        if (strcmp(st, "Failed") == 0) {
            s->type = "Error";
            s->content = "the long job[name:%s, uuid:%s, job:%s] failed: %s";
            s->args[3] = "jobResult";
        } else if (strcmp(st, "Canceled") == 0) {
            s->type = "Warning";
        }
    } else if (strcmp(topic, "gc.failing") == 0) {
        *s = (note_spec_t){"gc", "Warning", "system",
                           "the GC job[name:%s, uuid:%s] keeps failing after %s attempts: %s",
                           "uuid", "GarbageCollectorVO", NULL,
                           {"name", "uuid", "attempts", "lastError", NULL}};
    } else if (strcmp(topic, "license.expiring") == 0) {
        *s = (note_spec_t){"license", "Warning", "system",
                           "the license[uuid:%s] expires in %s days, on %s", "uuid", "LicenseVO",
                           NULL, {"uuid", "daysLeft", "expiredDate", NULL}};
    } else if (strcmp(topic, "license.expired") == 0) {
        *s = (note_spec_t){"license", "Error", "system", "the license[uuid:%s] has expired", "uuid",
                           "LicenseVO", NULL, {"uuid", NULL}};
    } else if (strcmp(topic, "node.dead") == 0) {
        *s = (note_spec_t){"managementNode", "Error", "system",
                           "the management node[uuid:%s, role:%s] died: it missed its heartbeats",
                           "uuid", "ManagementNodeVO", NULL, {"uuid", "role", NULL}};
    } else {
        return false;
    }
    return true;
}

/* The uuid of the notification of this event: the same in every core instance (a hash of
 * the event). When the event names its resource by uuid, the first 12 hex digits are that
 * uuid's (the rest, 80 bits, the hash's): the notifications of records made together
 * (time-ordered uuids, uuid.h) then sort together, and a burst of them is stored on a few
 * B-tree pages instead of one random page each. */
static void event_uuid(const char *topic, const json_t *body, const char *resource_uuid,
                       char out[33])
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned char h[16];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)topic, strlen(topic) + 1);
    if (text)
        crypto_generichash_update(&st, (const unsigned char *)text, strlen(text));
    crypto_generichash_final(&st, h, sizeof h);
    free(text);
    sodium_bin2hex(out, 33, h, sizeof h);
    if (zs_uuid_valid(resource_uuid))
        memcpy(out, resource_uuid, 12);
}

typedef struct {
    char topic[128];
    json_t *body;
    bool created;
} event_t;

static int create_note(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    event_t *e = arg;
    note_spec_t s;
    if (!spec_of(e->topic, e->body, &s))
        return NOTHING;
    char uuid[33];
    event_uuid(e->topic, e->body, field(e->body, s.resource_key), uuid);
    zs_store_t *store = zs_service_store(svc);
    json_t *old = zs_store_get(store, txn, NOTES, uuid);
    if (old) {   /* another core instance, or the same event again */
        json_decref(old);
        return NOTHING;
    }
    json_t *args = json_array();
    for (int i = 0; i < 5 && s.args[i]; i++)
        json_array_append_new(args, arg_text(e->body, s.args[i]));
    char *args_text = json_dumps(args, JSON_COMPACT);
    json_decref(args);
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "uuid", uuid,
                            "name", s.name, "content", s.content, "arguments",
                            args_text ? args_text : "[]", "sender", s.sender, "status", "Unread",
                            "type", s.type, "time", (json_int_t)now, "createDate", (json_int_t)now,
                            "lastOpDate", (json_int_t)now);
    free(args_text);
    const char *ruuid = field(e->body, s.resource_key);
    if (*ruuid) {
        json_object_set_new(rec, "resourceUuid", json_string(ruuid));
        json_object_set_new(rec, "resourceType", json_string(s.resource_type));
    }
    if (s.account_key && *field(e->body, s.account_key))
        json_object_set_new(rec, "accountUuid", json_string(field(e->body, s.account_key)));
    const char *hook = zs_config_get("notification.webhook-url", NULL);
    if (hook && *hook)
        json_object_set_new(rec, "webhookPending", json_true());
    int rc = zs_store_put(store, txn, NOTES, uuid, rec);
    json_decref(rec);
    e->created = rc == 0;
    return rc;
}

static void note_stored(zs_service_t *svc, void *arg, int rc)
{
    (void)svc;
    event_t *e = arg;
    if (rc != 0 && rc != NOTHING)
        zs_errorf("notification of %s lost: %s", e->topic, zs_store_strerror(rc));
    else if (e->created)
        zs_debug("notification of %s recorded", e->topic);
    json_decref(e->body);
    free(e);
}

/* Events arrive in floods under load (one per ticket change): each is stored with the
 * loop's batch, one commit for all of a turn's, not one commit per event. */
static void notes_event(zs_service_t *svc, const char *topic, json_t *body)
{
    event_t *e = calloc(1, sizeof *e);
    if (!e) {
        zs_errorf("notification of %s lost: out of memory", topic);
        return;
    }
    snprintf(e->topic, sizeof e->topic, "%s", topic);
    e->body = json_incref(body);
    zs_service_write_later(svc, create_note, note_stored, e);
}

/* ---- APIs ---------------------------------------------------------------------------- */

static bool notes_visible(zs_call_t *call, const json_t *rec)
{
    const char *owner = json_string_value(json_object_get(rec, "accountUuid"));
    return owner && strcmp(owner, zs_msg_account(call->req)) == 0;
}

/* The caller's notification `uuid` (new reference), or NULL when absent or not theirs: a
 * notification the caller cannot see is, for them, not there. */
static json_t *own_note(zs_call_t *call, const char *uuid)
{
    json_t *rec = zs_store_get(zs_service_store(call->svc), call->txn, NOTES, uuid);
    if (rec && call->req->caller && !zs_msg_admin(call->req) && !notes_visible(call, rec)) {
        json_decref(rec);
        return NULL;
    }
    return rec;
}

static json_t *update_status(zs_call_t *call, json_t **error)
{
    const char *status = zs_call_str(call, "status");
    int64_t now = zs_now_ms();
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(call->req->body, "uuids"), i, u) {
        json_t *rec = own_note(call, json_string_value(u));
        if (!rec)
            continue;
        json_object_set_new(rec, "status", json_string(status));
        json_object_set_new(rec, "lastOpDate", json_integer(now));
        int rc = zs_store_put(zs_service_store(call->svc), call->txn, NOTES, json_string_value(u), rec);
        json_decref(rec);
        if (rc != 0)
            return zs_call_store_fail(call, error, rc);
    }
    return json_object();
}

static json_t *delete_notes(zs_call_t *call, json_t **error)
{
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(call->req->body, "uuids"), i, u) {
        json_t *rec = own_note(call, json_string_value(u));
        if (!rec)
            continue;   /* deleting what is not there succeeds */
        json_decref(rec);
        int rc = zs_store_del(zs_service_store(call->svc), call->txn, NOTES, json_string_value(u));
        if (rc != 0 && rc != MDB_NOTFOUND)
            return zs_call_store_fail(call, error, rc);
    }
    return json_object();
}

/* ---- tick: retention, webhooks ------------------------------------------------------- */

static int collect(void *arg, const char *uuid)
{
    json_t *a = arg;
    if (json_array_size(a) >= MAX_SWEEP)
        return 1;
    json_array_append_new(a, json_string(uuid));
    return 0;
}

static int sweep(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    zs_store_t *store = zs_service_store(svc);
    int64_t days = zs_config_int("notification.retention-days", 30);
    json_t *before = json_integer(zs_now_ms() - days * 86400 * 1000);
    unsigned char hi[ZS_STORE_KEY_SIZE];
    int hlen = zs_store_index_key(ZS_FT_EPOCH, before, hi, sizeof hi);
    json_decref(before);
    json_t *old = json_array();
    zs_store_index_walk(store, txn, NOTES, "time", NULL, 0, false, hi, (size_t)hlen, false, NULL,
                        0, collect, old);
    int rc = zs_store_del_all(store, txn, NOTES, old);
    if (rc == 0 && json_array_size(old))
        zs_info("deleted %zu notification(s) older than %lld days", json_array_size(old), (long long)days);
    size_t n = json_array_size(old);
    json_decref(old);
    return rc ? rc : n ? 0 : NOTHING;
}

static int clear_pending(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    json_t *done = arg;
    zs_store_t *store = zs_service_store(svc);
    size_t i;
    json_t *u;
    json_array_foreach(done, i, u) {
        json_t *rec = zs_store_get(store, txn, NOTES, json_string_value(u));
        if (!rec)
            continue;
        json_object_del(rec, "webhookPending");
        int rc = zs_store_put(store, txn, NOTES, json_string_value(u), rec);
        json_decref(rec);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* A hand-off of notifications to the broker's outbox: `bodies` go out on a pool thread;
 * `done` lists the uuids the broker took. */
typedef struct {
    json_t *bodies;   /* [EnqueueWebhook body] */
    json_t *done;     /* [notification uuid] */
    bool refused;     /* the broker did not take one: wait before trying again */
} handoff_t;

static void enqueue_webhooks(zs_bus_t *bus, void *arg)
{
    handoff_t *h = arg;
    size_t i;
    json_t *body;
    json_array_foreach(h->bodies, i, body) {
        json_t *error = NULL;
        json_t *res = zs_bus_request(bus, "broker", "EnqueueWebhook", NULL, json_incref(body), 2000, &error);
        if (!res) {
            zs_warn("notification webhook: the broker did not take notification %s (%s); retrying",
                    json_string_value(json_object_get(body, "jobUuid")),
                    json_string_value(json_object_get(error, "details")));
            json_decref(error);
            h->refused = true;
            break;
        }
        json_decref(res);
        json_array_append(h->done, json_object_get(body, "jobUuid"));
    }
}

static void webhooks_handed(zs_service_t *svc, void *arg)
{
    handoff_t *h = arg;
    if (svc) {
        notes_t *N = notes_of(svc);
        N->handing = false;
        if (h->refused)
            N->wait_ticks = REFUSED_WAIT_TICKS;
        int rc = json_array_size(h->done) ? zs_service_write(svc, clear_pending, h->done) : 0;
        if (rc != 0)
            zs_errorf("notification webhook: cannot record the hand-off: %s", zs_store_strerror(rc));
    }
    json_decref(h->bodies);
    json_decref(h->done);
    free(h);
}

/* Once a second (the module's tick): hands notifications with webhookPending to the
 * broker's outbox, a few at a time, from a pool thread (the loop never waits on the broker). */
static void hand_webhooks(zs_service_t *svc)
{
    notes_t *N = notes_of(svc);
    const char *url = zs_config_get("notification.webhook-url", NULL);
    if (N->wait_ticks > 0) {
        N->wait_ticks--;
        return;
    }
    if (!url || !*url || N->handing)
        return;
    zs_store_t *store = zs_service_store(svc);
    MDB_txn *txn;
    if (zs_store_begin(store, NULL, false, &txn) != 0)
        return;
    json_t *pending = json_array();
    unsigned char key[8];
    int klen = zs_store_index_key(ZS_FT_BOOL, json_true(), key, sizeof key);
    zs_store_index_walk(store, txn, NOTES, "webhookPending", key, (size_t)klen, true, key,
                        (size_t)klen, true, NULL, 0, collect, pending);
    handoff_t *h = calloc(1, sizeof *h);
    h->bodies = json_array();
    h->done = json_array();
    size_t i;
    json_t *u;
    json_array_foreach(pending, i, u) {
        if (i == 64)
            break;
        json_t *rec = zs_store_get(store, txn, NOTES, json_string_value(u));
        if (rec)
            json_array_append_new(h->bodies,
                                  json_pack("{s:s, s:{s:o}, s:O}", "url", url, "body", "inventory",
                                            zs_resource_render(&zs_res_notification, rec, NULL),
                                            "jobUuid", json_object_get(rec, "uuid")));
        json_decref(rec);
    }
    mdb_txn_abort(txn);
    json_decref(pending);
    if (!json_array_size(h->bodies)) {
        webhooks_handed(NULL, h);
        return;
    }
    N->handing = true;
    zs_service_remote(svc, enqueue_webhooks, webhooks_handed, h);
}

/* Once a minute: the retention sweep. */
static void sweep_old(zs_service_t *svc)
{
    int rc = zs_service_write(svc, sweep, NULL);
    if (rc != 0 && rc != NOTHING)
        zs_errorf("notification retention sweep failed: %s", zs_store_strerror(rc));
}

static void *notes_create(zs_service_t *svc)
{
    notes_t *N = calloc(1, sizeof *N);
    if (N && zs_service_every(svc, 60 * 1000, sweep_old) != 0) {
        free(N);
        return NULL;
    }
    return N;
}

static void notes_destroy(zs_service_t *svc, void *state)
{
    (void)svc;
    free(state);
}

static const zs_resource_t *const resources[] = {&zs_res_notification, NULL};
static const char *const topics[] = {"ticket.status", "ticket.executed", "longjob.finished",
                                     "gc.failing", "license.expir", "node.dead", NULL};

static const zs_handler_t handlers[] = {
    {"UpdateNotificationsStatus", update_status},
    {"DeleteNotifications", delete_notes},
    {NULL, NULL},
};

const zs_module_t notifications_module = {
    .name = "notifications",
    .resources = resources,
    .handlers = handlers,
    .topics = topics,
    .create = notes_create,
    .destroy = notes_destroy,
    .tick = hand_webhooks,
    .on_event = notes_event,
    .visible = notes_visible,
};
