/* views.c — the tickets as other clouds' clients expect them (apis.md §11):
 *   ListScriptOrders  Huawei COC GET /v1/job/script/orders (seed 002): a ticket's execution is
 *                     an "order"; keyset pagination on order_id (newest first).
 *   AliyunGetTicket   Alibaba GET /?Action=GetTicket&TicketId= (seed 003), RPC shape.
 * Both rows are ZS_API_FOREIGN (api.h): the gateway hands us its refusals in
 * caller.gatewayError and sends our replies verbatim, so every answer here — errors
 * included — is a successful handler result with a status hint, in the client's dialect.
 */
#include "error.h"
#include "ticket.h"
#include "uuid.h"
#include <string.h>

static const char *str(const json_t *rec, const char *field)
{
    return json_string_value(json_object_get(rec, field));
}

static bool is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

static const json_t *gateway_error(const zs_call_t *call, int *status)
{
    const json_t *g = json_object_get(call->req->caller, "gatewayError");
    *status = g ? (int)json_integer_value(json_object_get(g, "status")) : 0;
    return g ? json_object_get(g, "error") : NULL;
}

/* ---- Huawei COC ---------------------------------------------------------------------- */

static json_t *huawei_error(zs_call_t *call, int status, const char *details)
{
    /* APIGW.0301 is Huawei's gateway code for bad IAM credentials; the COC codes are ours. */
    const char *code = status == 401 ? "APIGW.0301" : status == 400 ? "COC.00040001"
                     : status == 403 ? "COC.00040003" : "COC.00050000";
    char msg[600];
    snprintf(msg, sizeof msg, "%s%.500s", status == 401 ? "Incorrect IAM authentication information: " : "",
             details ? details : "");
    call->status = status == 400 || status == 401 || status == 403 ? status : 500;
    return json_pack("{s:s, s:s}", "error_code", code, "error_msg", msg);
}

/* READY / PROCESSING / ABNORMAL / CANCELED / FINISHED (PAUSED never: nothing pauses). */
static const char *order_status(const json_t *t)
{
    const char *st = str(t, "status"), *ex = str(t, "executionStatus");
    if (is(st, "Cancelled") || is(st, "Rejected"))
        return "CANCELED";
    if (!is(st, "FinalApproved"))
        return "READY";
    if (is(ex, "Succeeded"))
        return "FINISHED";
    if (is(ex, "Failed") || is(ex, "PartlyFailed"))
        return "ABNORMAL";
    return "PROCESSING";
}

typedef struct {
    zs_call_t *call;
    MDB_txn *txn;
    json_int_t limit, marker, start, end;   /* marker/start/end: -1 when absent */
    const char *creator, *status, *name_like;
    size_t total;
    json_t **page;      /* ring of the last `limit` matches below the marker */
    size_t head, count;
} orders_t;

static bool order_matches(orders_t *o, const json_t *t)
{
    json_int_t created = json_integer_value(json_object_get(t, "createDate"));
    if (!ticket_visible(o->call->req->caller, t))
        return false;
    if ((o->start >= 0 && created < o->start) || (o->end >= 0 && created > o->end))
        return false;
    if (o->creator && !is(str(t, "submitterName"), o->creator) && !is(str(t, "submitterUuid"), o->creator))
        return false;
    if (o->status && !is(order_status(t), o->status))
        return false;
    return !o->name_like || (str(t, "name") && strstr(str(t, "name"), o->name_like));
}

/* Walks the orderId index (ascending): counts matches, keeps the newest page below marker. */
static int order_each(void *arg, const char *uuid)
{
    orders_t *o = arg;
    json_t *t = zs_store_get(zs_service_store(o->call->svc), o->txn, TICKETS, uuid);
    if (!t || !order_matches(o, t)) {
        json_decref(t);
        return 0;
    }
    o->total++;
    if (o->marker >= 0 && json_integer_value(json_object_get(t, "orderId")) >= o->marker) {
        json_decref(t);
        return 0;
    }
    size_t slot = (o->head + o->count) % (size_t)o->limit;
    if (o->count == (size_t)o->limit) {   /* full: drop the oldest */
        json_decref(o->page[o->head]);
        o->head = (o->head + 1) % (size_t)o->limit;
        slot = (o->head + o->count - 1) % (size_t)o->limit;
    } else {
        o->count++;
    }
    o->page[slot] = t;
    return 0;
}

static json_t *order_of(const json_t *t)
{
    json_int_t created = json_integer_value(json_object_get(t, "createDate"));
    json_t *finished = json_object_get(t, "executionEndDate");
    const char *st = str(t, "status");
    if (!finished && (is(st, "Cancelled") || is(st, "Rejected")))
        finished = json_object_get(t, "lastOpDate");
    return json_pack("{s:O, s:O, s:O, s:I, s:O?, s:o, s:O?, s:s, s:{s:O, s:O, s:O?}}",
                     "order_id", json_object_get(t, "orderId"), "order_name", json_object_get(t, "name"),
                     "execute_uuid", json_object_get(t, "uuid"), "gmt_created", created,
                     "gmt_finished", finished, "execute_costs",
                     finished ? json_integer(json_integer_value(finished) - created) : json_null(),
                     "creator", json_object_get(t, "submitterName"), "status", order_status(t),
                     "properties", "ticket_status", json_object_get(t, "status"), "execution_status",
                     json_object_get(t, "executionStatus"), "flow_collection_uuid",
                     json_object_get(t, "flowCollectionUuid"));
}

static json_int_t int_param(const zs_call_t *call, const char *name, json_int_t fallback)
{
    json_t *v = json_object_get(call->req->body, name);
    return json_is_integer(v) ? json_integer_value(v) : fallback;
}

static json_t *list_orders(zs_call_t *call, json_t **error)
{
    (void)error;
    int gstatus;
    const json_t *gerr = gateway_error(call, &gstatus);
    if (gerr)
        return huawei_error(call, gstatus, str(gerr, "details"));
    orders_t o = {.call = call, .txn = call->txn};
    o.limit = int_param(call, "limit", 100);
    o.marker = int_param(call, "marker", -1);
    o.start = int_param(call, "start_time", -1);
    o.end = int_param(call, "end_time", -1);
    o.creator = zs_call_str(call, "creator");
    o.status = zs_call_str(call, "status");
    o.name_like = zs_call_str(call, "name_like");
    if (o.limit < 1 || o.limit > 1000)
        return huawei_error(call, 400, "limit must be between 1 and 1000");
    o.page = calloc((size_t)o.limit, sizeof *o.page);
    int rc = zs_store_index_walk(zs_service_store(call->svc), call->txn, TICKETS, "orderId", NULL, 0,
                                 false, NULL, 0, false, NULL, 0, order_each, &o);
    json_t *list = json_array();
    for (size_t i = o.count; i-- > 0;) {   /* newest first */
        json_t *t = o.page[(o.head + i) % (size_t)o.limit];
        if (rc == 0)
            json_array_append_new(list, order_of(t));
        json_decref(t);
    }
    free(o.page);
    if (rc != 0) {
        json_decref(list);
        return huawei_error(call, 500, zs_store_strerror(rc));
    }
    return json_pack("{s:{s:I, s:o}}", "data", "total", (json_int_t)o.total, "data", list);
}

/* ---- Alibaba GetTicket --------------------------------------------------------------- */

/* Alibaba's request ids look like C499BB0F-630D-5BE6-B3EA-5FCD95B85503. */
static void request_id(char out[37])
{
    char u[ZS_UUID_LEN + 1];
    zs_uuid_new(u);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", u, u + 8, u + 12, u + 16, u + 20);
    for (char *c = out; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
}

static json_t *aliyun_error(zs_call_t *call, int status, const char *details)
{
    const char *code = status == 400 ? "illegal.param" : status == 401 ? "illegal.auth"
                     : status == 403 ? "No permissions" : "System.error";
    const char *text = status == 400 ? "Illegal param."
                     : status == 401 ? "You are not authorized to perform the operation."
                     : status == 403 ? "No permissions to access."
                     : "An error occurred while processing your request.";
    char msg[700], rid[37];
    snprintf(msg, sizeof msg, "%s%s%.500s", text, details ? " " : "", details ? details : "");
    request_id(rid);
    call->status = status == 400 || status == 401 || status == 403 ? status : 500;
    return json_pack("{s:s, s:b, s:s, s:s}", "RequestId", rid, "Success", false, "Code", code,
                     "Message", msg);
}

/* Alibaba's ticket statuses: 1 assigned .. 6 confirmed; labels as Alibaba shows them. */
static void aliyun_status(const json_t *t, const char **value, const char **label)
{
    static const char *const labels[] = {"", "待处理", "处理中", "待您反馈", "已反馈", "待您确认", "已完成"};
    static const char *const values[] = {"0", "1", "2", "3", "4", "5", "6"};
    const char *st = str(t, "status"), *ex = str(t, "executionStatus");
    int v = is(st, "Pending") ? 1
          : is(st, "Rejected") ? 4
          : is(st, "Cancelled") ? 6
          : is(st, "FinalApproved") && is(ex, "Succeeded") ? 6
          : is(st, "FinalApproved") && (is(ex, "Failed") || is(ex, "PartlyFailed")) ? 3
          : 2;   /* being approved or executed */
    *value = values[v];
    *label = labels[v];
}

static json_t *get_ticket(zs_call_t *call, json_t **error)
{
    (void)error;
    int gstatus;
    const json_t *gerr = gateway_error(call, &gstatus);
    if (gerr)
        return aliyun_error(call, gstatus, str(gerr, "details"));
    const char *id = zs_call_str(call, "TicketId");
    if (!id || !*id)
        return aliyun_error(call, 400, "TicketId is mandatory.");
    if (!zs_uuid_valid(id))
        return aliyun_error(call, 400, "TicketId must be a ticket uuid (32 lowercase hex characters).");
    json_t *t = zs_store_get(zs_service_store(call->svc), call->txn, TICKETS, id);
    if (!t)
        return aliyun_error(call, 400, "TicketId does not name a ticket.");
    if (!ticket_visible(call->req->caller, t)) {
        json_decref(t);
        return aliyun_error(call, 403, NULL);
    }
    const char *sv, *sl;
    aliyun_status(t, &sv, &sl);
    bool urgent = json_integer_value(json_object_get(t, "severity")) == 2;
    char rid[37];
    request_id(rid);
    json_t *out = json_pack("{s:s, s:b, s:i, s:s, s:{s:O, s:O, s:O?, s:O, s:O, s:O?, s:{s:s, s:s}, s:{s:s, s:s}}}",
                            "RequestId", rid, "Success", true, "Code", 0, "Message", "success", "Data",
                            "TicketId", json_object_get(t, "uuid"), "Title", json_object_get(t, "name"),
                            "Description", json_object_get(t, "description"), "CreateTime",
                            json_object_get(t, "createDate"), "CreatorId", json_object_get(t, "submitterUuid"),
                            "CategoryId", json_object_get(t, "categoryId"), "Status", "Label", sl, "Value",
                            sv, "Severity", "Label", urgent ? "紧急问题" : "一般问题", "Value",
                            urgent ? "2" : "1");
    json_decref(t);
    return out;
}

static const zs_handler_t handlers[] = {
    {"ListScriptOrders", list_orders},
    {"AliyunGetTicket", get_ticket},
    {NULL, NULL},
};

const zs_module_t views_module = {
    .name = "views",
    .handlers = handlers,
};
