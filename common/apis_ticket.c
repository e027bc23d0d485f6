/* apis_ticket.c — API rows and resources of svc-ticket (apis.md §10), and the views of the
 * same tickets for other clouds' clients (§11). Fields flagged hidden are the service's own
 * bookkeeping (who submitted, who may approve, the order number of the Huawei view...). */
#include "api.h"

#define END_FIELDS {NULL, 0, false, false}
#define END_PARAMS {NULL, 0, false, 0, 0, NULL}

static const zs_field_t ticket_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"description", ZS_FT_STRING, false, false},
    {"status", ZS_FT_STRING, true, false},
    {"request", ZS_FT_JSON, false, false},
    {"accountSystemType", ZS_FT_STRING, true, false},
    {"accountSystemContext", ZS_FT_JSON, false, false},
    {"ticketTypeUuid", ZS_FT_STRING, true, false},
    {"currentFlowUuid", ZS_FT_STRING, true, false},
    {"flowCollectionUuid", ZS_FT_STRING, true, false},
    {"submitterUuid", ZS_FT_STRING, true, false},
    {"executionStatus", ZS_FT_STRING, true, false},
    {"executeResults", ZS_FT_JSON, false, false},
    {"severity", ZS_FT_INT, true, false},
    {"categoryId", ZS_FT_STRING, true, false},
    {"createDate", ZS_FT_TIME, true, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    /* bookkeeping */
    {"submitter", ZS_FT_JSON, false, true},         /* caller identity the requests run as */
    {"submitterName", ZS_FT_STRING, true, true},
    {"approvers", ZS_FT_JSON, false, true},         /* account uuids of the collection's flows */
    {"historySeq", ZS_FT_INT, false, true},         /* sequence of the last history row */
    {"orderId", ZS_FT_INT, true, true},             /* Huawei view: order_id, marker */
    {"executionEndDate", ZS_FT_EPOCH, false, true}, /* Huawei view: gmt_finished */
    END_FIELDS,
};
static const zs_join_t ticket_joins[] = {
    {"flowCollection", "TicketFlowCollection", "flowCollectionUuid", "uuid"},
    {"histories", "TicketStatusHistory", "uuid", "ticketUuid"},
    {"currentFlow", "TicketFlow", "currentFlowUuid", "uuid"},
    {NULL, NULL, NULL, NULL},
};
static const zs_class_t request_class = {
    "org.zstack.ticket.entity.TicketRequest", NULL, NULL, NULL, "requestName",
};
static const zs_typed_t ticket_members[] = {{"request", &request_class}, {NULL, NULL}};
static const zs_class_t ticket_class = {
    "org.zstack.ticket.entity.TicketInventory", ticket_members, NULL, NULL,
    "description currentFlowUuid accountSystemContext",
};
const zs_resource_t zs_res_ticket = {
    "Ticket", "tickets", NULL, &ticket_class, "ticket", "TicketVO",
    ticket_fields, ticket_joins,
};

static const zs_field_t history_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"sequence", ZS_FT_INT, false, false},
    {"ticketUuid", ZS_FT_STRING, true, false},
    {"fromStatus", ZS_FT_STRING, true, false},
    {"toStatus", ZS_FT_STRING, true, false},
    {"comment", ZS_FT_STRING, false, false},
    {"operatorType", ZS_FT_STRING, false, false},
    {"operatorUuid", ZS_FT_STRING, true, false},
    {"flowName", ZS_FT_STRING, false, false},
    {"executeResults", ZS_FT_JSON, false, false},   /* the final row of an execution */
    {"createDate", ZS_FT_TIME, true, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    END_FIELDS,
};
static const zs_join_t history_joins[] = {
    {"ticket", "Ticket", "ticketUuid", "uuid"},
    {NULL, NULL, NULL, NULL},
};
static const zs_class_t history_class = {
    "org.zstack.ticket.entity.TicketStatusHistoryInventory", NULL, NULL, NULL,
    "fromStatus comment operationContextType operationContext operatorType operatorUuid flowName",
};
const zs_resource_t zs_res_ticket_history = {
    "TicketStatusHistory", "ticket_histories", NULL, &history_class, "ticket",
    "TicketStatusHistoryVO",
    history_fields, history_joins,
};

static const zs_field_t type_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"description", ZS_FT_STRING, false, false},
    {"type", ZS_FT_STRING, false, false},
    {"requests", ZS_FT_STRING, false, false},
    {"adminOnly", ZS_FT_BOOL, false, false},
    {"createDate", ZS_FT_TIME, true, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    END_FIELDS,
};
static const zs_class_t type_class = {
    "org.zstack.ticket.entity.TicketTypeInventory", NULL, NULL, NULL, "description type requests",
};
const zs_resource_t zs_res_ticket_type = {
    "TicketType", "ticket_types", NULL, &type_class, "ticket",
    "TicketTypeVO", type_fields, NULL,
};

static const zs_field_t collection_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"description", ZS_FT_STRING, false, false},
    {"isDefault", ZS_FT_BOOL, true, false},
    {"state", ZS_FT_STRING, true, false},
    {"projectUuid", ZS_FT_STRING, true, false},
    {"ticketTypeUuids", ZS_FT_JSON, false, false},
    {"flows", ZS_FT_JSON, false, false},
    {"createDate", ZS_FT_TIME, true, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    END_FIELDS,
};
static const zs_join_t collection_joins[] = {
    {"flow", "TicketFlow", "uuid", "collectionUuid"},
    {NULL, NULL, NULL, NULL},
};
/* Our flows name their approver: they are IAM2 flows (TicketFlowInventory + approverUuid,
 * valid); a collection created for a project is an IAM2 collection. */
static const zs_class_t iam2_flow_class = {
    "org.zstack.ticket.iam2.entity.IAM2TicketFlowInventory", NULL, NULL, NULL,
    NULL,
};
static const zs_class_t flow_class = {
    "org.zstack.ticket.entity.TicketFlowInventory", NULL, &iam2_flow_class, "approverUuid",
    "description parentFlowUuid flowContext flowContextType",
};
static const zs_typed_t collection_members[] = {{"flows", &flow_class}, {NULL, NULL}};
static const zs_class_t iam2_collection_class = {
    "org.zstack.ticket.iam2.entity.IAM2TicketFlowCollectionInventory", collection_members, NULL,
    NULL,
    NULL,
};
static const zs_class_t collection_class = {
    "org.zstack.ticket.entity.TicketFlowCollectionInventory", collection_members,
    &iam2_collection_class, "projectUuid",
    "description status",
};
const zs_resource_t zs_res_ticket_flow_collection = {
    "TicketFlowCollection", "ticket_flow_collections", NULL, &collection_class, "ticket",
    "TicketFlowCollectionVO",
    collection_fields, collection_joins,
};

static const zs_field_t flow_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"collectionUuid", ZS_FT_STRING, true, false},
    {"parentFlowUuid", ZS_FT_STRING, false, false},
    {"approverUuid", ZS_FT_STRING, true, false},
    {"approverTitle", ZS_FT_STRING, false, false},
    {"position", ZS_FT_INT, false, false},
    {"valid", ZS_FT_BOOL, false, false},          /* the approver existed when it was set */
    {"createDate", ZS_FT_TIME, true, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    END_FIELDS,
};
static const zs_join_t flow_joins[] = {
    {"flowCollection", "TicketFlowCollection", "collectionUuid", "uuid"},
    {NULL, NULL, NULL, NULL},
};
const zs_resource_t zs_res_ticket_flow = {
    "TicketFlow", "ticket_flows", NULL, &flow_class, "ticket",
    "TicketFlowVO", flow_fields, flow_joins,
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
    {"name", ZS_P_STRING, true, 1, 255, NULL},
    {"description", ZS_P_STRING, false, 0, 2048, NULL},
    {"requests", ZS_P_ARRAY, true, 1, 100, NULL},
    {"flowCollectionUuid", ZS_P_UUID, false, 0, 0, NULL},
    {"accountSystemType", ZS_P_STRING, true, 0, 0, system_types},
    {"accountSystemContext", ZS_P_OBJECT, false, 0, 0, NULL},
    {"ticketTypeUuid", ZS_P_UUID, false, 0, 0, NULL},
    {"severity", ZS_P_INT, false, 1, 2, NULL},
    {"categoryId", ZS_P_STRING, false, 1, 64, NULL},
    END_PARAMS,
};
static const zs_param_t p_update_request[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"requests", ZS_P_ARRAY, true, 1, 100, NULL},
    {"description", ZS_P_STRING, false, 0, 2048, NULL},
    END_PARAMS,
};
static const zs_param_t p_change_status[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"statusEvent", ZS_P_STRING, true, 0, 0, status_events},
    {"comment", ZS_P_STRING, false, 0, 2048, NULL},
    END_PARAMS,
};
static const char *const delete_modes[] = {"Permissive", "Enforcing", NULL};
static const zs_param_t p_delete[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"deleteMode", ZS_P_STRING, false, 0, 0, delete_modes},
    END_PARAMS,
};
/* projectUuid: the SDK's (IAM2 project of the collection); kept, shown, queryable. */
static const zs_param_t p_create_collection[] = {
    {"name", ZS_P_STRING, true, 1, 255, NULL},
    {"projectUuid", ZS_P_UUID, false, 0, 0, NULL},
    {"description", ZS_P_STRING, false, 0, 2048, NULL},
    {"isDefault", ZS_P_BOOL, false, 0, 0, NULL},
    {"flows", ZS_P_ARRAY, true, 1, 20, NULL},
    {"ticketTypeUuids", ZS_P_LIST, false, 0, 100, NULL},
    END_PARAMS,
};
static const zs_param_t p_update_collection[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"name", ZS_P_STRING, false, 1, 255, NULL},
    {"description", ZS_P_STRING, false, 0, 2048, NULL},
    {"isDefault", ZS_P_BOOL, false, 0, 0, NULL},
    {"flows", ZS_P_ARRAY, false, 1, 20, NULL},
    END_PARAMS,
};
static const zs_param_t p_collection_state[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"stateEvent", ZS_P_STRING, true, 0, 0, state_events},
    END_PARAMS,
};
/* Foreign views: every parameter optional (api.h, ZS_API_FOREIGN). */
static const zs_param_t p_script_orders[] = {
    {"limit", ZS_P_INT, false, 1, 1000, NULL},
    {"marker", ZS_P_INT, false, 0, 0, NULL},
    {"start_time", ZS_P_INT, false, 0, 0, NULL},
    {"end_time", ZS_P_INT, false, 0, 0, NULL},
    {"creator", ZS_P_STRING, false, 1, 255, NULL},
    {"status", ZS_P_STRING, false, 0, 0, order_statuses},
    {"name_like", ZS_P_STRING, false, 1, 255, NULL},
    END_PARAMS,
};
static const zs_param_t p_get_ticket[] = {
    {"TicketId", ZS_P_STRING, false, 0, 64, NULL},
    {"Uid", ZS_P_STRING, false, 0, 64, NULL},
    END_PARAMS,
};
static const zs_param_t p_any[] = {END_PARAMS};

#define T "org.zstack.ticket.api."
#define ASYNC ZS_API_ASYNC
#define ADMIN ZS_API_ADMIN
const zs_api_t zs_apis_ticket[] = {
    {"CreateTicket", T "APICreateTicketMsg", "POST", "/tickets", NULL, ASYNC | ZS_API_CREATE,
     "ticket", p_create_ticket, ZS_REPLY_INVENTORY, &zs_res_ticket, NULL},
    {"QueryTicket", T "APIQueryTicketMsg", "GET", "/tickets", NULL, ZS_API_QUERY, "ticket", p_any,
     ZS_REPLY_INVENTORIES, &zs_res_ticket, NULL},
    {"UpdateTicketRequest", T "APIUpdateTicketRequestMsg", "PUT", "/tickets/{uuid}/actions",
     "updateTicketRequest", ASYNC, "ticket", p_update_request, ZS_REPLY_INVENTORY, &zs_res_ticket,
     NULL},
    {"ChangeTicketStatus", T "APIChangeTicketStatusMsg", "PUT", "/tickets/{uuid}/actions",
     "changeTicketStatus", ASYNC, "ticket", p_change_status, ZS_REPLY_INVENTORY, &zs_res_ticket,
     NULL},
    {"DeleteTicket", T "APIDeleteTicketMsg", "DELETE", "/tickets/{uuid}", NULL, ASYNC, "ticket",
     p_delete, ZS_REPLY_EMPTY, NULL, NULL},
    {"QueryTicketHistory", T "APIQueryTicketHistoryMsg", "GET", "/tickets/histories", NULL,
     ZS_API_QUERY, "ticket", p_any, ZS_REPLY_INVENTORIES, &zs_res_ticket_history, NULL},
    {"QueryTicketType", T "APIQueryTicketTypeMsg", "GET", "/ticket-types", NULL, ZS_API_QUERY,
     "ticket", p_any, ZS_REPLY_INVENTORIES, &zs_res_ticket_type, NULL},
    {"CreateTicketFlowCollection", T "APICreateTicketFlowCollectionMsg", "POST",
     "/tickets/flow-collections", NULL, ASYNC | ADMIN | ZS_API_CREATE, "ticket",
     p_create_collection, ZS_REPLY_INVENTORY, &zs_res_ticket_flow_collection, NULL},
    {"QueryTicketFlowCollection", T "APIQueryTicketFlowCollectionMsg", "GET",
     "/tickets/flow-collections", NULL, ZS_API_QUERY, "ticket", p_any, ZS_REPLY_INVENTORIES,
     &zs_res_ticket_flow_collection, NULL},
    {"UpdateTicketFlowCollection", T "APIUpdateTicketFlowCollectionMsg", "PUT",
     "/tickets/flow-collections/{uuid}/actions",
     "updateIAM2TicketFlowCollection|updateTicketFlowCollection", ASYNC | ADMIN,
     "ticket", p_update_collection, ZS_REPLY_INVENTORY, &zs_res_ticket_flow_collection, NULL},
    {"ChangeTicketFlowCollectionState", T "APIChangeTicketFlowCollectionStateMsg", "PUT",
     "/tickets/flow-collections/{uuid}/actions", "changeTicketFlowCollectionState", ASYNC | ADMIN,
     "ticket", p_collection_state, ZS_REPLY_INVENTORY, &zs_res_ticket_flow_collection, NULL},
    {"DeleteTicketFlowCollection", T "APIDeleteTicketFlowCollectionMsg", "DELETE",
     "/tickets/flow-collections/{uuid}", NULL, ASYNC | ADMIN, "ticket", p_delete, ZS_REPLY_EMPTY,
     NULL, NULL},
    {"QueryTicketFlow", T "APIQueryTicketFlowMsg", "GET", "/tickets/flow", NULL, ZS_API_QUERY,
     "ticket", p_any, ZS_REPLY_INVENTORIES, &zs_res_ticket_flow, NULL},
    /* §11: Huawei COC "Displaying the Script Tickets" (GET /v1/job/script/orders) and Alibaba
     * GetTicket (GET /?Action=GetTicket). */
    {"ListScriptOrders", NULL, "GET", "/job/script/orders", NULL, ZS_API_FOREIGN, "ticket",
     p_script_orders, ZS_REPLY_OTHER, NULL, NULL},
    {"AliyunGetTicket", NULL, "GET", "/", "GetTicket", ZS_API_FOREIGN | ZS_API_ROOT, "ticket",
     p_get_ticket, ZS_REPLY_OTHER, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
