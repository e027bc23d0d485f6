/* flows.c — flow collections (who approves, in order), their flows, and ticket types
 * (apis.md §10). Collections are admin business; everyone may read them to pick one. */
#include "clock.h"
#include "error.h"
#include "log.h"
#include "ticket.h"
#include "uuid.h"
#include <stdlib.h>
#include <string.h>

json_t *flows_collection(zs_service_t *svc, MDB_txn *txn, const char *uuid)
{
    return uuid ? zs_store_get(zs_service_store(svc), txn, COLLECTIONS, uuid) : NULL;
}

json_t *flows_default_collection(zs_service_t *svc, MDB_txn *txn)
{
    json_t *yes = json_true();
    json_t *rec = zs_store_find_one(zs_service_store(svc), txn, COLLECTIONS, "isDefault", yes);
    json_decref(yes);
    return rec;
}

static int by_position(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "position"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "position"));
    return x < y ? -1 : x > y;
}

/* Every flow of the collection, in position order. A collection has at most 20 flows (the
 * `flows` parameter rows of Create/UpdateTicketFlowCollection refuse more with a 400 naming
 * the bound), and all of them are read: no flow is left out silently. */
json_t *flows_of(zs_service_t *svc, MDB_txn *txn, const char *collection_uuid)
{
    zs_store_t *store = zs_service_store(svc);
    json_t *key = json_string(collection_uuid);
    json_t *uuids = zs_store_find(store, txn, FLOWS, "collectionUuid", key, 1000000);
    json_decref(key);
    json_t **recs = calloc(json_array_size(uuids) + 1, sizeof *recs);
    json_t *out = json_array();
    size_t n = 0, i;
    json_t *u;
    json_array_foreach(uuids, i, u) {
        json_t *rec = recs ? zs_store_get(store, txn, FLOWS, json_string_value(u)) : NULL;
        if (rec)
            recs[n++] = rec;
    }
    json_decref(uuids);
    if (n)
        qsort(recs, n, sizeof recs[0], by_position);
    for (i = 0; i < n; i++)
        json_array_append_new(out, recs[i]);
    free(recs);
    return out;
}

/* Does account `uuid` exist? Asks the core service. 1 yes, 0 no, -1 with *error. */
static int account_exists(zs_call_t *call, const char *uuid, json_t **error)
{
    json_t *res = zs_call_remote(call, "core", "Exists", NULL,
                                 json_pack("{s:s, s:s}", "resource", "Account", "uuid", uuid), 10000,
                                 error);
    if (!res)
        return -1;
    int yes = json_is_true(json_object_get(res, "exists"));
    json_decref(res);
    return yes;
}

/* Asks the core service about every approver at once (one zs_call_remote round for all).
 * Returns 0 when every answer is at hand, else -1 with *error (the marker, or a failure). */
static int ask_about_approvers(zs_call_t *call, const json_t *flows, json_t **error)
{
    size_t i;
    json_t *f, *marker = NULL;
    json_array_foreach(flows, i, f) {
        const char *approver = json_string_value(json_object_get(f, "approverUuid"));
        if (!zs_uuid_valid(approver))
            continue;   /* refused by check_flows */
        json_t *e = NULL;
        if (account_exists(call, approver, &e) >= 0)
            continue;
        if (!zs_call_is_pending(e)) {
            json_decref(marker);
            *error = e;
            return -1;
        }
        if (marker)
            json_decref(e);
        else
            marker = e;
    }
    if (!marker)
        return 0;
    *error = marker;
    return -1;
}

/* Checks the `flows` parameter: [{name, approverUuid, approverTitle?}], approvers existing
 * accounts. Returns 0 or -1 with *error. */
static int check_flows(zs_call_t *call, const json_t *flows, json_t **error)
{
    size_t i;
    json_t *f;
    if (ask_about_approvers(call, flows, error) != 0)
        return -1;
    json_array_foreach(flows, i, f) {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *approver = json_string_value(json_object_get(f, "approverUuid"));
        json_t *title = json_object_get(f, "approverTitle");
        if (!json_is_object(f) || !name || !*name || strlen(name) > 255) {
            zs_call_invalid(call, error, "flows[%zu].name is mandatory (1..255 characters)", i);
            return -1;
        }
        if (!zs_uuid_valid(approver)) {
            zs_call_invalid(call, error, "flows[%zu].approverUuid must be the uuid of an account", i);
            return -1;
        }
        if (title && (!json_is_string(title) || json_string_length(title) > 255)) {
            zs_call_invalid(call, error, "flows[%zu].approverTitle must be a string of at most 255 characters", i);
            return -1;
        }
        int yes = account_exists(call, approver, error);
        if (yes <= 0) {
            if (yes == 0)
                *error = zs_error(ZS_SYS_NOT_FOUND, "flows[%zu].approverUuid: account[uuid:%s] is not found",
                                  i, approver);
            return -1;
        }
    }
    return 0;
}

/* Writes the flow records of collection `cuuid` and sets its "flows" summary. */
static int write_flows(zs_call_t *call, json_t *collection, const json_t *flows)
{
    zs_store_t *store = zs_service_store(call->svc);
    const char *cuuid = json_string_value(json_object_get(collection, "uuid"));
    int64_t now = zs_now_ms();
    json_t *summary = json_array();
    char parent[ZS_UUID_LEN + 1] = "";
    size_t i;
    json_t *f;
    int rc = 0;
    json_array_foreach(flows, i, f) {
        char uuid[ZS_UUID_LEN + 1];
        zs_uuid_new_ordered(uuid);
        json_t *rec = json_pack("{s:s, s:O, s:s, s:O, s:O?, s:I, s:b, s:I, s:I}", "uuid", uuid, "name",
                                json_object_get(f, "name"), "collectionUuid", cuuid, "approverUuid",
                                json_object_get(f, "approverUuid"), "approverTitle",
                                json_object_get(f, "approverTitle"), "position", (json_int_t)i,
                                "valid", 1,
                                "createDate", (json_int_t)now, "lastOpDate", (json_int_t)now);
        if (*parent)
            json_object_set_new(rec, "parentFlowUuid", json_string(parent));
        rc = zs_store_put(store, call->txn, FLOWS, uuid, rec);
        json_array_append_new(summary, zs_resource_render(&zs_res_ticket_flow, rec, NULL));
        json_decref(rec);
        if (rc != 0)
            break;
        snprintf(parent, sizeof parent, "%s", uuid);
    }
    json_object_set_new(collection, "flows", summary);
    return rc;
}

static int delete_flows(zs_call_t *call, const char *cuuid)
{
    json_t *old = flows_of(call->svc, call->txn, cuuid);
    size_t i;
    json_t *f;
    int rc = 0;
    json_array_foreach(old, i, f)
        if ((rc = zs_store_del(zs_service_store(call->svc), call->txn, FLOWS,
                               json_string_value(json_object_get(f, "uuid")))) != 0)
            break;
    json_decref(old);
    return rc;
}

/* Only one default collection: clears the flag on every other. */
static int clear_other_defaults(zs_call_t *call, const char *keep)
{
    zs_store_t *store = zs_service_store(call->svc);
    json_t *yes = json_true();
    json_t *uuids = zs_store_find(store, call->txn, COLLECTIONS, "isDefault", yes, 1000);
    json_decref(yes);
    size_t i;
    json_t *u;
    int rc = 0;
    json_array_foreach(uuids, i, u) {
        if (strcmp(json_string_value(u), keep) == 0)
            continue;
        json_t *rec = zs_store_get(store, call->txn, COLLECTIONS, json_string_value(u));
        if (!rec)
            continue;
        json_object_set_new(rec, "isDefault", json_false());
        rc = zs_store_put(store, call->txn, COLLECTIONS, json_string_value(u), rec);
        json_decref(rec);
        if (rc != 0)
            break;
    }
    json_decref(uuids);
    return rc;
}

/* Tickets waiting for approval under collection `cuuid`. */
static size_t open_tickets(zs_call_t *call, const char *cuuid)
{
    zs_store_t *store = zs_service_store(call->svc);
    json_t *key = json_string(cuuid);
    json_t *uuids = zs_store_find(store, call->txn, TICKETS, "flowCollectionUuid", key, 1000000);
    json_decref(key);
    size_t n = 0, i;
    json_t *u;
    json_array_foreach(uuids, i, u) {
        json_t *t = zs_store_get(store, call->txn, TICKETS, json_string_value(u));
        const char *st = json_string_value(json_object_get(t, "status"));
        if (st && (strcmp(st, "Pending") == 0 || strcmp(st, "IntermediateApproved") == 0))
            n++;
        json_decref(t);
    }
    json_decref(uuids);
    return n;
}

static json_t *create_collection(zs_call_t *call, json_t **error)
{
    json_t *flows = json_object_get(call->req->body, "flows");
    json_t *types = json_object_get(call->req->body, "ticketTypeUuids");
    if (check_flows(call, flows, error) != 0)
        return NULL;
    size_t i;
    json_t *t;
    json_array_foreach(types, i, t) {
        json_t *type = zs_store_get(zs_service_store(call->svc), call->txn, TYPES, json_string_value(t));
        if (!type)
            return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "ticket type[uuid:%.64s] is not found",
                                json_string_value(t));
        json_decref(type);
    }
    char uuid[ZS_UUID_LEN + 1];
    if (zs_call_new_uuid(call, COLLECTIONS, uuid, error) != 0)
        return NULL;
    bool is_default = json_is_true(json_object_get(call->req->body, "isDefault"));
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:s, s:O?, s:b, s:s, s:o, s:I, s:I}", "uuid", uuid, "name",
                            zs_call_str(call, "name"), "description",
                            json_object_get(call->req->body, "description"), "isDefault", is_default,
                            "state", "Enabled", "ticketTypeUuids",
                            types ? json_incref(types) : json_array(), "createDate", (json_int_t)now,
                            "lastOpDate", (json_int_t)now);
    if (zs_call_str(call, "projectUuid"))
        json_object_set_new(rec, "projectUuid", json_string(zs_call_str(call, "projectUuid")));
    int rc = write_flows(call, rec, flows);
    if (rc == 0 && is_default)
        rc = clear_other_defaults(call, uuid);
    if (rc == 0)
        rc = zs_store_put(zs_service_store(call->svc), call->txn, COLLECTIONS, uuid, rec);
    json_t *out = NULL;
    if (rc != 0)
        zs_call_store_fail(call, error, rc);
    else if (zs_call_attach_tags(call, uuid, "TicketFlowCollectionVO", error) == 0)
        out = zs_call_inventory(&zs_res_ticket_flow_collection, rec);
    json_decref(rec);
    return out;
}

static json_t *load_collection(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    json_t *rec = flows_collection(call->svc, call->txn, uuid);
    if (!rec)
        zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "ticket flow collection[uuid:%s] is not found", uuid);
    return rec;
}

static json_t *save_collection(zs_call_t *call, json_t *rec, json_t **error)
{
    json_object_set_new(rec, "lastOpDate", json_integer(zs_now_ms()));
    int rc = zs_store_put(zs_service_store(call->svc), call->txn, COLLECTIONS,
                          json_string_value(json_object_get(rec, "uuid")), rec);
    json_t *out = rc == 0 ? zs_call_inventory(&zs_res_ticket_flow_collection, rec) : zs_call_store_fail(call, error, rc);
    json_decref(rec);
    return out;
}

static json_t *update_collection(zs_call_t *call, json_t **error)
{
    json_t *rec = load_collection(call, error);
    if (!rec)
        return NULL;
    const char *uuid = zs_call_str(call, "uuid");
    json_t *body = call->req->body, *flows = json_object_get(body, "flows");
    int rc = 0;
    if (flows) {
        size_t n = open_tickets(call, uuid);
        if (n) {
            json_decref(rec);
            return zs_call_fail(call, error, ZS_SYS_FAILED, "cannot change the flows of ticket flow "
                                "collection[uuid:%s]: %zu open tickets use it", uuid, n);
        }
        if (check_flows(call, flows, error) != 0) {
            json_decref(rec);
            return NULL;
        }
        if ((rc = delete_flows(call, uuid)) == 0)
            rc = write_flows(call, rec, flows);
    }
    static const char *const copied[] = {"name", "description", "isDefault", NULL};
    for (const char *const *k = copied; *k; k++)
        if (json_object_get(body, *k))
            json_object_set(rec, *k, json_object_get(body, *k));
    if (rc == 0 && json_is_true(json_object_get(body, "isDefault")))
        rc = clear_other_defaults(call, uuid);
    if (rc != 0) {
        json_decref(rec);
        return zs_call_store_fail(call, error, rc);
    }
    return save_collection(call, rec, error);
}

static json_t *change_collection_state(zs_call_t *call, json_t **error)
{
    json_t *rec = load_collection(call, error);
    if (!rec)
        return NULL;
    bool enable = strcmp(zs_call_str(call, "stateEvent"), "enable") == 0;
    json_object_set_new(rec, "state", json_string(enable ? "Enabled" : "Disabled"));
    return save_collection(call, rec, error);
}

static json_t *delete_collection(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    json_t *rec = flows_collection(call->svc, call->txn, uuid);
    if (!rec)
        return json_object();   /* already gone */
    json_decref(rec);
    size_t n = open_tickets(call, uuid);
    if (n)
        return zs_call_fail(call, error, ZS_SYS_FAILED, "cannot delete ticket flow collection[uuid:%s]: "
                            "%zu open tickets use it", uuid, n);
    int rc = delete_flows(call, uuid);
    if (rc == 0)
        rc = zs_store_del(zs_service_store(call->svc), call->txn, COLLECTIONS, uuid);
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    zs_service_publish(call->svc, "resource.deleted",
                       json_pack("{s:s, s:s}", "resourceUuid", uuid, "resourceType", "TicketFlowCollectionVO"));
    return json_object();
}

/* The built-in ticket type exists from the first start on. */
static int ensure_builtin_type(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *old = zs_store_get(store, txn, TYPES, BUILTIN_TYPE_UUID);
    if (old) {   /* older stores lack adminOnly */
        int rc = 0;
        if (!json_object_get(old, "adminOnly")) {
            json_object_set_new(old, "adminOnly", json_false());
            rc = zs_store_put(store, txn, TYPES, BUILTIN_TYPE_UUID, old);
        }
        json_decref(old);
        return rc;
    }
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I}", "uuid", BUILTIN_TYPE_UUID, "name",
                            BUILTIN_TYPE_NAME, "description", "built-in ticket type: create VM instances",
                            "adminOnly", 0, "createDate", (json_int_t)now, "lastOpDate", (json_int_t)now);
    int rc = zs_store_put(store, txn, TYPES, BUILTIN_TYPE_UUID, rec);
    json_decref(rec);
    if (rc == 0)
        zs_info("created the built-in ticket type %s", BUILTIN_TYPE_NAME);
    return rc;
}

/* Flows stored before they carried `valid` (IAM2TicketFlowInventory) get it, in their records
 * and in their collection's summary: collected first, rewritten after the walk. */
static int collect_old_collection(void *arg, const char *uuid, json_t *rec)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(rec, "flows"), i, f)
        if (!json_object_get(f, "valid")) {
            json_array_append_new(arg, json_string(uuid));
            break;
        }
    return 0;
}

static int upgrade_flows(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *old = json_array();
    int rc = zs_store_scan(store, txn, COLLECTIONS, collect_old_collection, old);
    size_t i, j;
    json_t *u, *f;
    json_array_foreach(old, i, u) {
        json_t *rec = rc == 0 ? zs_store_get(store, txn, COLLECTIONS, json_string_value(u)) : NULL;
        if (!rec)
            continue;
        json_array_foreach(json_object_get(rec, "flows"), j, f) {
            const char *flow_uuid = json_string_value(json_object_get(f, "uuid"));
            json_t *flow = rc == 0 && flow_uuid ? zs_store_get(store, txn, FLOWS, flow_uuid) : NULL;
            json_object_set_new(f, "valid", json_true());
            if (flow) {
                json_object_set_new(flow, "valid", json_true());
                rc = zs_store_put(store, txn, FLOWS, flow_uuid, flow);
                json_decref(flow);
            }
        }
        if (rc == 0)
            rc = zs_store_put(store, txn, COLLECTIONS, json_string_value(u), rec);
        json_decref(rec);
    }
    json_decref(old);
    return rc;
}

static int flows_start(zs_service_t *svc)
{
    int rc = zs_service_write(svc, upgrade_flows, NULL);
    if (rc != 0) {
        zs_errorf("cannot upgrade the flow records: %s", zs_store_strerror(rc));
        return rc;
    }
    rc = zs_service_write(svc, ensure_builtin_type, NULL);
    if (rc != 0)
        zs_errorf("cannot create the built-in ticket type: %s", zs_store_strerror(rc));
    return rc;
}

static const zs_resource_t *const resources[] = {
    &zs_res_ticket_type, &zs_res_ticket_flow_collection, &zs_res_ticket_flow, NULL,
};
static const zs_handler_t handlers[] = {
    {"CreateTicketFlowCollection", create_collection},
    {"UpdateTicketFlowCollection", update_collection},
    {"ChangeTicketFlowCollectionState", change_collection_state},
    {"DeleteTicketFlowCollection", delete_collection},
    {NULL, NULL},
};

const zs_module_t flows_module = {
    .name = "flows",
    .resources = resources,
    .handlers = handlers,
    .start = flows_start,
};
