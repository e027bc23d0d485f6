/* tickets.c — tickets, their status machine and their history (apis.md §10).
 *
 *   Pending ──approve──► IntermediateApproved ──approve (last flow)──► FinalApproved ─► execution
 *      │  ▲                  │
 *      │  └──reopen── Cancelled / Rejected ◄── cancel (submitter) / reject (approver)
 *
 * approve/reject: the current flow's approver or an admin. cancel/reopen/updateTicketRequest:
 * the submitter only. Every change appends a history row and queues a "ticket.status" event.
 */
#include "clock.h"
#include "error.h"
#include "ticket.h"
#include "uuid.h"
#include <string.h>

static const char *str(const json_t *rec, const char *field)
{
    return json_string_value(json_object_get(rec, field));
}

static bool same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

bool ticket_visible(const json_t *caller, const json_t *ticket)
{
    if (json_is_true(json_object_get(caller, "admin")))
        return true;
    const char *me = str(caller, "accountUuid");
    if (!me || !*me)
        return false;
    if (same(me, str(ticket, "submitterUuid")))
        return true;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(ticket, "approvers"), i, a)
        if (same(me, json_string_value(a)))
            return true;
    return false;
}

/* The module's query rule: tickets as above; a history row with its ticket. */
static bool tickets_visible(zs_call_t *call, const json_t *rec)
{
    const char *ticket_uuid = str(rec, "ticketUuid");
    if (!ticket_uuid)
        return ticket_visible(call->req->caller, rec);
    json_t *t = zs_store_get(zs_service_store(call->svc), call->txn, TICKETS, ticket_uuid);
    bool yes = t && ticket_visible(call->req->caller, t);
    json_decref(t);
    return yes;
}

int ticket_history_add(zs_service_t *svc, MDB_txn *txn, json_t *ticket, const char *from,
                       const char *to, const char *comment, const char *operator_type,
                       const char *operator_uuid, const char *flow_name, const json_t *results)
{
    json_int_t seq = json_integer_value(json_object_get(ticket, "historySeq")) + 1;
    json_object_set_new(ticket, "historySeq", json_integer(seq));
    char uuid[ZS_UUID_LEN + 1];
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:I, s:s, s:s?, s:s, s:s?, s:s, s:s?, s:s?, s:O?, s:I, s:I}",
                            "uuid", zs_uuid_new_ordered(uuid), "sequence", seq, "ticketUuid",
                            str(ticket, "uuid"), "fromStatus", from, "toStatus", to, "comment",
                            comment, "operatorType", operator_type, "operatorUuid", operator_uuid,
                            "flowName", flow_name, "executeResults", results, "createDate",
                            (json_int_t)now, "lastOpDate", (json_int_t)now);
    int rc = zs_store_put(zs_service_store(svc), txn, HISTORIES, uuid, rec);
    json_decref(rec);
    return rc;
}

void ticket_publish_status(zs_service_t *svc, const json_t *ticket, const char *from,
                           const char *to, const char *operator_uuid, const char *comment)
{
    zs_service_publish(svc, "ticket.status",
                       json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s, s:s?}", "ticketUuid",
                                 str(ticket, "uuid"), "name", str(ticket, "name"), "fromStatus", from,
                                 "toStatus", to, "operatorUuid", operator_uuid, "submitterUuid",
                                 str(ticket, "submitterUuid"), "comment", comment));
}

/* The next order number of the Huawei view (a counter kept with the writes). */
static int next_order_id(zs_call_t *call, json_int_t *out)
{
    zs_store_t *store = zs_service_store(call->svc);
    MDB_val v;
    json_int_t last = 0;
    if (zs_store_kv_get(store, call->txn, COUNTERS, "orderId", 7, &v) == 0 && v.mv_size < 24) {
        char buf[24];
        memcpy(buf, v.mv_data, v.mv_size);
        buf[v.mv_size] = '\0';
        last = strtoll(buf, NULL, 10);
    }
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)(last + 1));
    *out = last + 1;
    return zs_store_kv_put(store, call->txn, COUNTERS, "orderId", 7, buf, (size_t)n);
}

static json_t *approvers_of(const json_t *flows)
{
    json_t *out = json_array();
    size_t i;
    json_t *f;
    json_array_foreach(flows, i, f)
        json_array_append(out, json_object_get(f, "approverUuid"));
    return out;
}

/* The collection a new ticket goes through: the given one or the default; enabled. */
static json_t *pick_collection(zs_call_t *call, json_t **error)
{
    const char *given = zs_call_str(call, "flowCollectionUuid");
    json_t *c = given ? flows_collection(call->svc, call->txn, given)
                      : flows_default_collection(call->svc, call->txn);
    if (!c && given)
        return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "ticket flow collection[uuid:%s] is not found", given);
    if (!c)
        return zs_call_fail(call, error, ZS_SYS_FAILED, "no flowCollectionUuid given and no default ticket "
                            "flow collection exists: create one with isDefault=true, or name one");
    if (!same(str(c, "state"), "Enabled")) {
        zs_call_fail(call, error, ZS_SYS_FAILED, "ticket flow collection[uuid:%s] is disabled", str(c, "uuid"));
        json_decref(c);
        return NULL;
    }
    return c;
}

static int check_account_system(zs_call_t *call, json_t **error)
{
    json_t *ctx = json_object_get(call->req->body, "accountSystemContext");
    if (!same(zs_call_str(call, "accountSystemType"), "iam2"))
        return 0;
    static const char *const keys[] = {"projectUuid", "virtualIDUuid"};
    for (int i = 0; i < 2; i++) {
        const char *v = str(ctx, keys[i]);
        if (!v || !*v || strlen(v) > 64) {
            zs_call_invalid(call, error, "accountSystemContext.%s is mandatory when accountSystemType is iam2",
                            keys[i]);
            return -1;
        }
    }
    return 0;
}

/* The ticket type: the given one (must exist) or the built-in; allowed by the collection. */
static const char *pick_type(zs_call_t *call, const json_t *collection, json_t **error)
{
    const char *type = zs_call_str(call, "ticketTypeUuid");
    if (!type)
        type = BUILTIN_TYPE_UUID;
    json_t *rec = zs_store_get(zs_service_store(call->svc), call->txn, TYPES, type);
    if (!rec) {
        zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "ticket type[uuid:%s] is not found", type);
        return NULL;
    }
    json_decref(rec);
    json_t *allowed = json_object_get(collection, "ticketTypeUuids");
    if (json_array_size(allowed) == 0)
        return type;
    size_t i;
    json_t *a;
    json_array_foreach(allowed, i, a)
        if (same(json_string_value(a), type))
            return type;
    zs_call_fail(call, error, ZS_SYS_FAILED, "ticket flow collection[uuid:%s] does not serve ticket type[uuid:%s]",
                 str(collection, "uuid"), type);
    return NULL;
}

static json_t *create_ticket(zs_call_t *call, json_t **error)
{
    const json_t *caller = call->req->caller;
    const char *me = zs_msg_account(call->req);
    if (!*me)
        return zs_call_fail(call, error, ZS_ID_DENIED, "a ticket needs a submitter account");
    if (check_account_system(call, error) != 0)
        return NULL;
    json_t *requests = requests_check(call, json_object_get(call->req->body, "requests"), error);
    if (!requests)
        return NULL;
    json_t *collection = pick_collection(call, error), *flows = NULL, *rec = NULL, *out = NULL;
    const char *type = collection ? pick_type(call, collection, error) : NULL;
    char uuid[ZS_UUID_LEN + 1];
    json_int_t order = 0;
    int rc;
    if (!type)
        goto done;
    flows = flows_of(call->svc, call->txn, str(collection, "uuid"));
    if (json_array_size(flows) == 0) {
        zs_call_fail(call, error, ZS_SYS_FAILED, "ticket flow collection[uuid:%s] has no flow", str(collection, "uuid"));
        goto done;
    }
    if (zs_call_new_uuid(call, TICKETS, uuid, error) != 0)
        goto done;
    if ((rc = next_order_id(call, &order)) != 0) {
        zs_call_store_fail(call, error, rc);
        goto done;
    }
    int64_t now = zs_now_ms();
    json_t *body = call->req->body;
    json_t *severity = json_object_get(body, "severity");
    rec = json_pack("{s:s, s:s, s:O?, s:s, s:O, s:s, s:o, s:s, s:O, s:s, s:s, s:s, s:o, s:I, s:O?,"
                    " s:I, s:I, s:{s:s, s:O?, s:b}, s:s?, s:o, s:I, s:I}",
                    "uuid", uuid, "name", zs_call_str(call, "name"), "description",
                    json_object_get(body, "description"), "status", "Pending", "request", requests,
                    "accountSystemType", zs_call_str(call, "accountSystemType"),
                    "accountSystemContext",
                    json_object_get(body, "accountSystemContext")
                        ? json_incref(json_object_get(body, "accountSystemContext")) : json_object(),
                    "ticketTypeUuid", type, "flowCollectionUuid", json_object_get(collection, "uuid"),
                    "currentFlowUuid", str(json_array_get(flows, 0), "uuid"), "submitterUuid", me,
                    "executionStatus", "NotStarted", "executeResults", json_array(), "severity",
                    (json_int_t)(severity ? json_integer_value(severity) : 1), "categoryId",
                    json_object_get(body, "categoryId"), "createDate", (json_int_t)now,
                    "lastOpDate", (json_int_t)now, "submitter", "accountUuid", me, "accountName",
                    json_object_get(caller, "accountName"), "admin", zs_msg_admin(call->req),
                    "submitterName", str(caller, "accountName"), "approvers", approvers_of(flows),
                    "historySeq", (json_int_t)0, "orderId", order);
    rc = ticket_history_add(call->svc, call->txn, rec, NULL, "Pending", "ticket created", "AccountVO", me,
                            NULL, NULL);
    if (rc == 0)
        rc = zs_store_put(zs_service_store(call->svc), call->txn, TICKETS, uuid, rec);
    if (rc != 0) {
        zs_call_store_fail(call, error, rc);
        goto done;
    }
    if (zs_call_attach_tags(call, uuid, "TicketVO", error) != 0)
        goto done;
    ticket_publish_status(call->svc, rec, NULL, "Pending", me, NULL);
    out = zs_call_inventory(&zs_res_ticket, rec);
done:
    json_decref(requests);
    json_decref(collection);
    json_decref(flows);
    json_decref(rec);
    return out;
}

/* The ticket named by the request, if the caller may see it; else NULL + SYS.1003. */
static json_t *load_ticket(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    json_t *t = zs_store_get(zs_service_store(call->svc), call->txn, TICKETS, uuid);
    if (t && (!call->req->caller || ticket_visible(call->req->caller, t)))
        return t;
    json_decref(t);
    return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "ticket[uuid:%s] is not found", uuid);
}

static json_t *denied(zs_call_t *call, json_t **error, const json_t *t, const char *op)
{
    return zs_call_fail(call, error, ZS_SYS_FAILED,
                        "operation denied. the ticket is in status of %s, cannot do the operation[%s]",
                        str(t, "status"), op);
}

static bool is_submitter(zs_call_t *call, const json_t *t)
{
    return same(zs_msg_account(call->req), str(t, "submitterUuid"));
}

static json_t *save(zs_call_t *call, json_t *t, json_t **error)
{
    json_object_set_new(t, "lastOpDate", json_integer(zs_now_ms()));
    int rc = zs_store_put(zs_service_store(call->svc), call->txn, TICKETS, str(t, "uuid"), t);
    return rc == 0 ? zs_call_inventory(&zs_res_ticket, t) : zs_call_store_fail(call, error, rc);
}

static void start_after_commit(zs_service_t *svc, void *arg)
{
    execution_start(svc, arg);
    free(arg);
}

/* approve / reject: the current flow's approver or an admin. */
static json_t *decide(zs_call_t *call, json_t *t, bool approve, const char *comment, json_t **error)
{
    const char *me = zs_msg_account(call->req);
    json_t *flows = flows_of(call->svc, call->txn, str(t, "flowCollectionUuid"));
    const char *current = str(t, "currentFlowUuid");
    json_t *flow = NULL, *next = NULL, *out = NULL;
    size_t i;
    json_t *f;
    json_array_foreach(flows, i, f)
        if (same(str(f, "uuid"), current)) {
            flow = f;
            next = json_array_get(flows, i + 1);
        }
    if (!flow) {
        zs_call_fail(call, error, ZS_SYS_FAILED, "the current flow[uuid:%s] of ticket[uuid:%s] no longer exists",
                     current ? current : "", str(t, "uuid"));
        goto done;
    }
    if (!zs_msg_admin(call->req) && !same(me, str(flow, "approverUuid"))) {
        zs_call_fail(call, error, ZS_ID_DENIED, "account[uuid:%s] is not the approver of flow[%s] of ticket[uuid:%s]",
                     me, str(flow, "name"), str(t, "uuid"));
        goto done;
    }
    char from[32];
    snprintf(from, sizeof from, "%s", str(t, "status"));
    const char *to = !approve ? "Rejected" : next ? "IntermediateApproved" : "FinalApproved";
    json_object_set_new(t, "status", json_string(to));
    if (approve && next)
        json_object_set(t, "currentFlowUuid", json_object_get(next, "uuid"));
    else
        json_object_del(t, "currentFlowUuid");
    bool execute = strcmp(to, "FinalApproved") == 0;
    if (execute) {
        json_object_set_new(t, "executionStatus", json_string("Running"));
        json_object_set_new(t, "executeResults", json_array());
    }
    int rc = ticket_history_add(call->svc, call->txn, t, from, to, comment, "AccountVO", me,
                                str(flow, "name"), NULL);
    if (rc != 0) {
        zs_call_store_fail(call, error, rc);
        goto done;
    }
    out = save(call, t, error);
    if (out) {
        ticket_publish_status(call->svc, t, from, to, me, comment);
        if (execute)   /* only once the approval is durable */
            zs_service_after_commit(call->svc, start_after_commit, strdup(str(t, "uuid")), free);
    }
done:
    json_decref(flows);
    return out;
}

/* cancel / reopen: the submitter only. */
static json_t *by_submitter(zs_call_t *call, json_t *t, bool reopen, const char *comment, json_t **error)
{
    const char *me = zs_msg_account(call->req);
    if (!is_submitter(call, t))
        return zs_call_fail(call, error, ZS_ID_DENIED, "only the submitter of ticket[uuid:%s] may %s it",
                            str(t, "uuid"), reopen ? "reopen" : "cancel");
    char from[32];
    snprintf(from, sizeof from, "%s", str(t, "status"));
    const char *to = reopen ? "Pending" : "Cancelled";
    if (reopen) {   /* back to the first flow, with the collection as it is now */
        json_t *flows = flows_of(call->svc, call->txn, str(t, "flowCollectionUuid"));
        if (json_array_size(flows) == 0) {
            json_decref(flows);
            return zs_call_fail(call, error, ZS_SYS_FAILED, "ticket flow collection[uuid:%s] of ticket[uuid:%s] "
                                "no longer exists or has no flow", str(t, "flowCollectionUuid"), str(t, "uuid"));
        }
        json_object_set(t, "currentFlowUuid", json_object_get(json_array_get(flows, 0), "uuid"));
        json_object_set_new(t, "approvers", approvers_of(flows));
        json_decref(flows);
    } else {
        json_object_del(t, "currentFlowUuid");
    }
    json_object_set_new(t, "status", json_string(to));
    int rc = ticket_history_add(call->svc, call->txn, t, from, to, comment, "AccountVO", me, NULL, NULL);
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    json_t *out = save(call, t, error);
    if (out)
        ticket_publish_status(call->svc, t, from, to, me, comment);
    return out;
}

static json_t *change_status(zs_call_t *call, json_t **error)
{
    json_t *t = load_ticket(call, error);
    if (!t)
        return NULL;
    const char *event = zs_call_str(call, "statusEvent"), *status = str(t, "status");
    const char *comment = zs_call_str(call, "comment");
    bool open = same(status, "Pending") || same(status, "IntermediateApproved");
    bool closed = same(status, "Cancelled") || same(status, "Rejected");
    json_t *out;
    if ((same(event, "approve") || same(event, "reject")) && open)
        out = decide(call, t, same(event, "approve"), comment, error);
    else if (same(event, "cancel") && open)
        out = by_submitter(call, t, false, comment, error);
    else if (same(event, "reopen") && closed)
        out = by_submitter(call, t, true, comment, error);
    else   /* "open" is what a creation does; it never applies to an existing ticket */
        out = denied(call, error, t, event);
    json_decref(t);
    return out;
}

static json_t *update_request(zs_call_t *call, json_t **error)
{
    json_t *t = load_ticket(call, error), *out = NULL, *requests = NULL;
    if (!t)
        return NULL;
    const char *status = str(t, "status");
    if (!same(status, "Cancelled") && !same(status, "Rejected")) {
        out = denied(call, error, t, "updateTicketRequest");
    } else if (!is_submitter(call, t)) {
        zs_call_fail(call, error, ZS_ID_DENIED, "only the submitter of ticket[uuid:%s] may update its requests",
                     str(t, "uuid"));
    } else if ((requests = requests_check(call, json_object_get(call->req->body, "requests"), error))) {
        json_object_set(t, "request", requests);
        json_t *description = json_object_get(call->req->body, "description");
        if (description)
            json_object_set(t, "description", description);
        char st[32];
        snprintf(st, sizeof st, "%s", status);
        int rc = ticket_history_add(call->svc, call->txn, t, st, st, "requests updated", "AccountVO",
                                    zs_msg_account(call->req), NULL, NULL);
        out = rc == 0 ? save(call, t, error) : zs_call_store_fail(call, error, rc);
    }
    json_decref(requests);
    json_decref(t);
    return out;
}

static json_t *delete_ticket(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *t = zs_store_get(store, call->txn, TICKETS, uuid);
    if (!t)
        return json_object();   /* already gone */
    bool mine = zs_msg_admin(call->req) || !call->req->caller || is_submitter(call, t);
    bool running = same(str(t, "executionStatus"), "Running");
    json_decref(t);
    if (!mine)
        return zs_call_fail(call, error, ZS_ID_DENIED, "only the submitter of ticket[uuid:%s] or an admin may "
                            "delete it", uuid);
    if (running)
        return zs_call_fail(call, error, ZS_SYS_FAILED, "ticket[uuid:%s] is executing its requests; delete it "
                            "once the execution has ended", uuid);
    json_t *key = json_string(uuid);
    json_t *rows = zs_store_find(store, call->txn, HISTORIES, "ticketUuid", key, 1000000);
    json_decref(key);
    size_t i;
    json_t *u;
    int rc = 0;
    json_array_foreach(rows, i, u)
        if ((rc = zs_store_del(store, call->txn, HISTORIES, json_string_value(u))) != 0)
            break;
    json_decref(rows);
    if (rc == 0)
        rc = zs_store_del(store, call->txn, TICKETS, uuid);
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    zs_service_publish(call->svc, "resource.deleted",
                       json_pack("{s:s, s:s}", "resourceUuid", uuid, "resourceType", "TicketVO"));
    return json_object();
}

static const zs_resource_t *const resources[] = {&zs_res_ticket, &zs_res_ticket_history, NULL};
static const char *const kv_dbs[] = {COUNTERS, NULL};
static const zs_handler_t handlers[] = {
    {"CreateTicket", create_ticket},
    {"ChangeTicketStatus", change_status},
    {"UpdateTicketRequest", update_request},
    {"DeleteTicket", delete_ticket},
    {NULL, NULL},
};

const zs_module_t tickets_module = {
    .name = "tickets",
    .resources = resources,
    .handlers = handlers,
    .kv_dbs = kv_dbs,
    .visible = tickets_visible,
};
