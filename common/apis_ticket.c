/* apis_ticket.c — API rows and resources of svc-ticket (apis.md §10), and the views of the
 * same tickets for other clouds' clients (§11). Fields flagged hidden are the service's own
 * bookkeeping (who submitted, who may approve, the order number of the Huawei view...). */
#include "api.h"

static const zs_field_t ticket_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "description", .type = ZS_FT_STRING},
    {.name = "status", .type = ZS_FT_STRING, .indexed = true},
    {.name = "request", .type = ZS_FT_JSON},
    {.name = "accountSystemType", .type = ZS_FT_STRING, .indexed = true},
    {.name = "accountSystemContext", .type = ZS_FT_JSON},
    {.name = "ticketTypeUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "currentFlowUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "flowCollectionUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "submitterUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "executionStatus", .type = ZS_FT_STRING, .indexed = true},
    {.name = "executeResults", .type = ZS_FT_JSON},
    {.name = "severity", .type = ZS_FT_INT, .indexed = true},
    {.name = "categoryId", .type = ZS_FT_STRING, .indexed = true},
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    /* bookkeeping; submitter: the caller identity the requests run as */
    {.name = "submitter", .type = ZS_FT_JSON, .hidden = true},
    {.name = "submitterName", .type = ZS_FT_STRING, .indexed = true, .hidden = true},
    /* account uuids of the collection's flows */
    {.name = "approvers", .type = ZS_FT_JSON, .hidden = true},
    /* sequence of the last history row */
    {.name = "historySeq", .type = ZS_FT_INT, .hidden = true},
    /* Huawei view: order_id, marker */
    {.name = "orderId", .type = ZS_FT_INT, .indexed = true, .hidden = true},
    /* Huawei view: gmt_finished */
    {.name = "executionEndDate", .type = ZS_FT_EPOCH, .hidden = true},
    {0},
};
static const zs_join_t ticket_joins[] = {
    {.name = "flowCollection", .resource = "TicketFlowCollection", .local = "flowCollectionUuid",
     .remote = "uuid"},
    {.name = "histories", .resource = "TicketStatusHistory", .local = "uuid",
     .remote = "ticketUuid"},
    {.name = "currentFlow", .resource = "TicketFlow", .local = "currentFlowUuid", .remote = "uuid"},
    {0},
};
static const zs_class_t request_class = {
    .name = "org.zstack.ticket.entity.TicketRequest", .may_lack = "requestName",
};
static const zs_typed_t ticket_members[] = {{.field = "request", .klass = &request_class}, {0}};
static const zs_class_t ticket_class = {
    .name = "org.zstack.ticket.entity.TicketInventory", .members = ticket_members,
    .may_lack = "description currentFlowUuid accountSystemContext",
};
const zs_resource_t zs_res_ticket = {
    .name = "Ticket", .collection = "tickets", .klass = &ticket_class, .service = "ticket",
    .vo = "TicketVO", .fields = ticket_fields, .joins = ticket_joins,
};

static const zs_field_t history_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "sequence", .type = ZS_FT_INT},
    {.name = "ticketUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "fromStatus", .type = ZS_FT_STRING, .indexed = true},
    {.name = "toStatus", .type = ZS_FT_STRING, .indexed = true},
    {.name = "comment", .type = ZS_FT_STRING},
    {.name = "operatorType", .type = ZS_FT_STRING},
    {.name = "operatorUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "flowName", .type = ZS_FT_STRING},
    {.name = "executeResults", .type = ZS_FT_JSON}, /* the final row of an execution */
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {0},
};
static const zs_join_t history_joins[] = {
    {.name = "ticket", .resource = "Ticket", .local = "ticketUuid", .remote = "uuid"},
    {0},
};
static const zs_class_t history_class = {
    .name = "org.zstack.ticket.entity.TicketStatusHistoryInventory",
    .may_lack = "fromStatus comment operationContextType operationContext operatorType "
                "operatorUuid flowName",
};
const zs_resource_t zs_res_ticket_history = {
    .name = "TicketStatusHistory", .collection = "ticket_histories", .klass = &history_class,
    .service = "ticket", .vo = "TicketStatusHistoryVO", .fields = history_fields,
    .joins = history_joins,
};

static const zs_field_t type_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "description", .type = ZS_FT_STRING},
    {.name = "type", .type = ZS_FT_STRING},
    {.name = "requests", .type = ZS_FT_STRING},
    {.name = "adminOnly", .type = ZS_FT_BOOL},
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {0},
};
static const zs_class_t type_class = {
    .name = "org.zstack.ticket.entity.TicketTypeInventory", .may_lack = "description type requests",
};
const zs_resource_t zs_res_ticket_type = {
    .name = "TicketType", .collection = "ticket_types", .klass = &type_class, .service = "ticket",
    .vo = "TicketTypeVO", .fields = type_fields,
};

static const zs_field_t collection_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "description", .type = ZS_FT_STRING},
    {.name = "isDefault", .type = ZS_FT_BOOL, .indexed = true},
    {.name = "state", .type = ZS_FT_STRING, .indexed = true},
    {.name = "projectUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "ticketTypeUuids", .type = ZS_FT_JSON},
    {.name = "flows", .type = ZS_FT_JSON},
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {0},
};
static const zs_join_t collection_joins[] = {
    {.name = "flow", .resource = "TicketFlow", .local = "uuid", .remote = "collectionUuid"},
    {0},
};
/* Our flows name their approver: they are IAM2 flows (TicketFlowInventory + approverUuid,
 * valid); a collection created for a project is an IAM2 collection. */
static const zs_class_t iam2_flow_class = {
    .name = "org.zstack.ticket.iam2.entity.IAM2TicketFlowInventory",
};
static const zs_class_t flow_class = {
    .name = "org.zstack.ticket.entity.TicketFlowInventory", .variant = &iam2_flow_class,
    .variant_field = "approverUuid",
    .may_lack = "description parentFlowUuid flowContext flowContextType",
};
static const zs_typed_t collection_members[] = {{.field = "flows", .klass = &flow_class}, {0}};
static const zs_class_t iam2_collection_class = {
    .name = "org.zstack.ticket.iam2.entity.IAM2TicketFlowCollectionInventory",
    .members = collection_members,
};
static const zs_class_t collection_class = {
    .name = "org.zstack.ticket.entity.TicketFlowCollectionInventory", .members = collection_members,
    .variant = &iam2_collection_class, .variant_field = "projectUuid",
    .may_lack = "description status",
};
const zs_resource_t zs_res_ticket_flow_collection = {
    .name = "TicketFlowCollection", .collection = "ticket_flow_collections",
    .klass = &collection_class, .service = "ticket", .vo = "TicketFlowCollectionVO",
    .fields = collection_fields, .joins = collection_joins,
};

static const zs_field_t flow_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "collectionUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "parentFlowUuid", .type = ZS_FT_STRING},
    {.name = "approverUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "approverTitle", .type = ZS_FT_STRING},
    {.name = "position", .type = ZS_FT_INT},
    {.name = "valid", .type = ZS_FT_BOOL}, /* the approver existed when it was set */
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {0},
};
static const zs_join_t flow_joins[] = {
    {.name = "flowCollection", .resource = "TicketFlowCollection", .local = "collectionUuid",
     .remote = "uuid"},
    {0},
};
const zs_resource_t zs_res_ticket_flow = {
    .name = "TicketFlow", .collection = "ticket_flows", .klass = &flow_class, .service = "ticket",
    .vo = "TicketFlowVO", .fields = flow_fields, .joins = flow_joins,
};

const zs_resource_t *const zs_resources_ticket[] = {
    &zs_res_ticket, &zs_res_ticket_history, &zs_res_ticket_type, &zs_res_ticket_flow_collection,
    &zs_res_ticket_flow, NULL,
};

static const char *const system_types[] = {"iam2", "account", NULL};
static const char *const status_events[] = {"open", "approve", "cancel", "reject", "reopen", NULL};
static const char *const state_events[] = {"enable", "disable", NULL};
static const char *const order_statuses[] = {"READY", "PROCESSING", "ABNORMAL", "PAUSED",
                                             "CANCELED", "FINISHED", NULL};

/* requests: each item is checked by the service (apiName, executeTimes, apiBody). */
static const zs_param_t p_create_ticket[] = {
    {.name = "name", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {.name = "description", .type = ZS_P_STRING, .max = 2048},
    {.name = "requests", .type = ZS_P_ARRAY, .required = true, .min = 1, .max = 100},
    {.name = "flowCollectionUuid", .type = ZS_P_UUID},
    {.name = "accountSystemType", .type = ZS_P_STRING, .required = true, .choices = system_types},
    {.name = "accountSystemContext", .type = ZS_P_OBJECT},
    {.name = "ticketTypeUuid", .type = ZS_P_UUID},
    {.name = "severity", .type = ZS_P_INT, .min = 1, .max = 2},
    {.name = "categoryId", .type = ZS_P_STRING, .min = 1, .max = 64},
    {0},
};
static const zs_param_t p_update_request[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "requests", .type = ZS_P_ARRAY, .required = true, .min = 1, .max = 100},
    {.name = "description", .type = ZS_P_STRING, .max = 2048},
    {0},
};
static const zs_param_t p_change_status[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "statusEvent", .type = ZS_P_STRING, .required = true, .choices = status_events},
    {.name = "comment", .type = ZS_P_STRING, .max = 2048},
    {0},
};
static const char *const delete_modes[] = {"Permissive", "Enforcing", NULL};
static const zs_param_t p_delete[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "deleteMode", .type = ZS_P_STRING, .choices = delete_modes},
    {0},
};
/* projectUuid: the SDK's (IAM2 project of the collection); kept, shown, queryable. */
static const zs_param_t p_create_collection[] = {
    {.name = "name", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {.name = "projectUuid", .type = ZS_P_UUID},
    {.name = "description", .type = ZS_P_STRING, .max = 2048},
    {.name = "isDefault", .type = ZS_P_BOOL},
    {.name = "flows", .type = ZS_P_ARRAY, .required = true, .min = 1, .max = 20},
    {.name = "ticketTypeUuids", .type = ZS_P_LIST, .max = 100},
    {0},
};
static const zs_param_t p_update_collection[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "name", .type = ZS_P_STRING, .min = 1, .max = 255},
    {.name = "description", .type = ZS_P_STRING, .max = 2048},
    {.name = "isDefault", .type = ZS_P_BOOL},
    {.name = "flows", .type = ZS_P_ARRAY, .min = 1, .max = 20},
    {0},
};
static const zs_param_t p_collection_state[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "stateEvent", .type = ZS_P_STRING, .required = true, .choices = state_events},
    {0},
};
/* Foreign views: every parameter optional (api.h, ZS_API_FOREIGN). */
static const zs_param_t p_script_orders[] = {
    {.name = "limit", .type = ZS_P_INT, .min = 1, .max = 1000},
    {.name = "marker", .type = ZS_P_INT},
    {.name = "start_time", .type = ZS_P_INT},
    {.name = "end_time", .type = ZS_P_INT},
    {.name = "creator", .type = ZS_P_STRING, .min = 1, .max = 255},
    {.name = "status", .type = ZS_P_STRING, .choices = order_statuses},
    {.name = "name_like", .type = ZS_P_STRING, .min = 1, .max = 255},
    {0},
};
static const zs_param_t p_get_ticket[] = {
    {.name = "TicketId", .type = ZS_P_STRING, .max = 64},
    {.name = "Uid", .type = ZS_P_STRING, .max = 64},
    {0},
};
static const zs_param_t p_any[] = {{0}};

#define T "org.zstack.ticket.api."
#define ASYNC ZS_API_ASYNC
#define ADMIN ZS_API_ADMIN
const zs_api_t zs_apis_ticket[] = {
    {.name = "CreateTicket", .klass = T "APICreateTicketMsg", .method = "POST", .path = "/tickets",
     .flags = ASYNC | ZS_API_CREATE, .service = "ticket", .params = p_create_ticket,
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_ticket},
    {.name = "QueryTicket", .klass = T "APIQueryTicketMsg", .method = "GET", .path = "/tickets",
     .flags = ZS_API_QUERY, .service = "ticket", .params = p_any, .reply = ZS_REPLY_INVENTORIES,
     .resource = &zs_res_ticket},
    {.name = "UpdateTicketRequest", .klass = T "APIUpdateTicketRequestMsg", .method = "PUT",
     .path = "/tickets/{uuid}/actions", .action = "updateTicketRequest", .flags = ASYNC,
     .service = "ticket", .params = p_update_request, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_ticket},
    {.name = "ChangeTicketStatus", .klass = T "APIChangeTicketStatusMsg", .method = "PUT",
     .path = "/tickets/{uuid}/actions", .action = "changeTicketStatus", .flags = ASYNC,
     .service = "ticket", .params = p_change_status, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_ticket},
    {.name = "DeleteTicket", .klass = T "APIDeleteTicketMsg", .method = "DELETE",
     .path = "/tickets/{uuid}", .flags = ASYNC, .service = "ticket", .params = p_delete,
     .reply = ZS_REPLY_EMPTY},
    {.name = "QueryTicketHistory", .klass = T "APIQueryTicketHistoryMsg", .method = "GET",
     .path = "/tickets/histories", .flags = ZS_API_QUERY, .service = "ticket", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_ticket_history},
    {.name = "QueryTicketType", .klass = T "APIQueryTicketTypeMsg", .method = "GET",
     .path = "/ticket-types", .flags = ZS_API_QUERY, .service = "ticket", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_ticket_type},
    {.name = "CreateTicketFlowCollection", .klass = T "APICreateTicketFlowCollectionMsg",
     .method = "POST", .path = "/tickets/flow-collections",
     .flags = ASYNC | ADMIN | ZS_API_CREATE, .service = "ticket", .params = p_create_collection,
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_ticket_flow_collection},
    {.name = "QueryTicketFlowCollection", .klass = T "APIQueryTicketFlowCollectionMsg",
     .method = "GET", .path = "/tickets/flow-collections", .flags = ZS_API_QUERY,
     .service = "ticket", .params = p_any, .reply = ZS_REPLY_INVENTORIES,
     .resource = &zs_res_ticket_flow_collection},
    {.name = "UpdateTicketFlowCollection", .klass = T "APIUpdateTicketFlowCollectionMsg",
     .method = "PUT", .path = "/tickets/flow-collections/{uuid}/actions",
     .action = "updateIAM2TicketFlowCollection|updateTicketFlowCollection",
     .flags = ASYNC | ADMIN, .service = "ticket", .params = p_update_collection,
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_ticket_flow_collection},
    {.name = "ChangeTicketFlowCollectionState", .klass = T "APIChangeTicketFlowCollectionStateMsg",
     .method = "PUT", .path = "/tickets/flow-collections/{uuid}/actions",
     .action = "changeTicketFlowCollectionState", .flags = ASYNC | ADMIN, .service = "ticket",
     .params = p_collection_state, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_ticket_flow_collection},
    {.name = "DeleteTicketFlowCollection", .klass = T "APIDeleteTicketFlowCollectionMsg",
     .method = "DELETE", .path = "/tickets/flow-collections/{uuid}", .flags = ASYNC | ADMIN,
     .service = "ticket", .params = p_delete, .reply = ZS_REPLY_EMPTY},
    {.name = "QueryTicketFlow", .klass = T "APIQueryTicketFlowMsg", .method = "GET",
     .path = "/tickets/flow", .flags = ZS_API_QUERY, .service = "ticket", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_ticket_flow},
    /* §11: Huawei COC "Displaying the Script Tickets" (GET /v1/job/script/orders) and Alibaba
     * GetTicket (GET /?Action=GetTicket). */
    {.name = "ListScriptOrders", .method = "GET", .path = "/job/script/orders",
     .flags = ZS_API_FOREIGN, .service = "ticket", .params = p_script_orders,
     .reply = ZS_REPLY_OTHER},
    {.name = "AliyunGetTicket", .method = "GET", .path = "/", .action = "GetTicket",
     .flags = ZS_API_FOREIGN | ZS_API_ROOT, .service = "ticket", .params = p_get_ticket,
     .reply = ZS_REPLY_OTHER},
    {0},
};
