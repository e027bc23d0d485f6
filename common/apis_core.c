/* apis_core.c — API rows and resources of the core service (apis.md §1, §2), plus the
 * bus-only APIs every service answers (service "*", see service.h). */
#include "api.h"

static const zs_field_t account_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"description", ZS_FT_STRING, false, false},
    {"type", ZS_FT_STRING, true, false},
    {"createDate", ZS_FT_TIME, true, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    {"passwordHash", ZS_FT_STRING, false, true},
    {NULL, 0, false, false},
};
const zs_resource_t zs_res_account = {
    "Account", "accounts", NULL, "org.zstack.header.identity.AccountInventory", "core", "AccountVO",
    account_fields, NULL,
};

static const zs_field_t session_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"accountUuid", ZS_FT_STRING, true, false},
    {"userUuid", ZS_FT_STRING, false, false},
    {"expiredDate", ZS_FT_TIME, true, false},
    {"createDate", ZS_FT_TIME, false, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    {NULL, 0, false, false},
};
const zs_resource_t zs_res_session = {
    "Session", "sessions", NULL, "org.zstack.header.identity.SessionInventory", "core", "SessionVO",
    session_fields, NULL,
};

static const zs_field_t node_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"hostName", ZS_FT_STRING, false, false},
    {"joinDate", ZS_FT_TIME, false, false},
    {"heartBeat", ZS_FT_TIME, false, false},
    {"role", ZS_FT_STRING, true, false},
    {"version", ZS_FT_STRING, false, false},
    {"state", ZS_FT_STRING, false, false},
    {"pid", ZS_FT_INT, false, false},
    {"createDate", ZS_FT_TIME, false, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    {NULL, 0, false, false},
};
const zs_resource_t zs_res_node = {
    "ManagementNode", "nodes", NULL, "org.zstack.header.managementnode.ManagementNodeInventory",
    "core", "ManagementNodeVO", node_fields, NULL,
};

const zs_resource_t *const zs_resources_core[] = {&zs_res_account, &zs_res_session, &zs_res_node, NULL};

static const char *const account_types[] = {"SystemAdmin", "Normal", NULL};

static const zs_param_t p_login[] = {
    {"accountName", ZS_P_STRING, true, 1, 255, NULL},
    {"password", ZS_P_STRING, true, 1, 1024, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_session[] = {
    {"sessionUuid", ZS_P_UUID, true, 0, 0, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_renew[] = {
    {"sessionUuid", ZS_P_UUID, true, 0, 0, NULL},
    {"duration", ZS_P_INT, false, 1, 31536000, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_create_account[] = {
    {"name", ZS_P_STRING, true, 1, 255, NULL},
    {"password", ZS_P_STRING, true, 8, 255, NULL},
    {"type", ZS_P_STRING, false, 0, 0, account_types},
    {"description", ZS_P_STRING, false, 0, 2048, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_update_account[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"name", ZS_P_STRING, false, 1, 255, NULL},
    {"password", ZS_P_STRING, false, 8, 255, NULL},
    {"description", ZS_P_STRING, false, 0, 2048, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_uuid[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_ready[] = {
    {"managementNodeId", ZS_P_STRING, false, 0, 64, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_any[] = {{NULL, 0, false, 0, 0, NULL}};

#define ID "org.zstack.header.identity."
#define MN "org.zstack.header.managementnode."
const zs_api_t zs_apis_core[] = {
    {"LogInByAccount", ID "APILogInByAccountMsg", "PUT", "/accounts/login",
     "logInByAccount|loginByAccount", ZS_API_NO_SESSION | ZS_API_WRITES, "core", p_login,
     ZS_REPLY_INVENTORY, &zs_res_session, NULL},
    {"LogOut", ID "APILogOutMsg", "DELETE", "/accounts/sessions/{sessionUuid}", NULL,
     ZS_API_NO_SESSION | ZS_API_WRITES, "core", p_session, ZS_REPLY_EMPTY, NULL, NULL},
    {"ValidateSession", ID "APIValidateSessionMsg", "GET", "/accounts/sessions/{sessionUuid}/valid",
     NULL, ZS_API_NO_SESSION, "core", p_session, ZS_REPLY_OTHER, NULL, NULL},
    {"RenewSession", ID "APIRenewSessionMsg", "PUT", "/accounts/sessions/{sessionUuid}/renew",
     "renewSession", ZS_API_WRITES, "core", p_renew, ZS_REPLY_INVENTORY, &zs_res_session, NULL},
    {"CreateAccount", ID "APICreateAccountMsg", "POST", "/accounts", NULL,
     ZS_API_ASYNC | ZS_API_ADMIN | ZS_API_CREATE, "core", p_create_account, ZS_REPLY_INVENTORY,
     &zs_res_account, NULL},
    {"QueryAccount", ID "APIQueryAccountMsg", "GET", "/accounts", NULL, ZS_API_QUERY, "core",
     p_any, ZS_REPLY_INVENTORIES, &zs_res_account, NULL},
    {"UpdateAccount", ID "APIUpdateAccountMsg", "PUT", "/accounts/{uuid}/actions", "updateAccount",
     ZS_API_ASYNC, "core", p_update_account, ZS_REPLY_INVENTORY, &zs_res_account, NULL},
    {"DeleteAccount", ID "APIDeleteAccountMsg", "DELETE", "/accounts/{uuid}", NULL,
     ZS_API_ASYNC | ZS_API_ADMIN, "core", p_uuid, ZS_REPLY_EMPTY, NULL, NULL},
    {"QueryManagementNode", MN "APIQueryManagementNodeMsg", "GET", "/management-nodes", NULL,
     ZS_API_QUERY, "core", p_any, ZS_REPLY_INVENTORIES, &zs_res_node, NULL},
    {"GetVersion", MN "APIGetVersionMsg", "PUT", "/management-nodes/actions", "getVersion",
     ZS_API_NO_SESSION, "core", p_any, ZS_REPLY_OTHER, NULL, NULL},
    {"GetCurrentTime", MN "APIGetCurrentTimeMsg", "PUT", "/management-nodes/actions",
     "getCurrentTime", ZS_API_NO_SESSION, "core", p_any, ZS_REPLY_OTHER, NULL, NULL},
    {"IsReadyToGo", MN "APIIsReadyToGoMsg", "GET", "/management-nodes/ready", NULL,
     ZS_API_NO_SESSION, "core", p_ready, ZS_REPLY_OTHER, NULL, NULL},
    /* Bus only. */
    {"CheckSession", NULL, NULL, NULL, NULL, ZS_API_INTERNAL, "core", p_session, ZS_REPLY_OTHER,
     NULL, NULL},
    {"Heartbeat", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "core", p_any,
     ZS_REPLY_OTHER, NULL, NULL},
    {"NodeLeave", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "core", p_any,
     ZS_REPLY_OTHER, NULL, NULL},
    /* Answered by every service's runtime (service.h). */
    {"Ping", NULL, NULL, NULL, NULL, ZS_API_INTERNAL, "*", p_any, ZS_REPLY_OTHER, NULL, NULL},
    {"Exists", NULL, NULL, NULL, NULL, ZS_API_INTERNAL, "*", p_any, ZS_REPLY_OTHER, NULL, NULL},
    {"QueryValues", NULL, NULL, NULL, NULL, ZS_API_INTERNAL, "*", p_any, ZS_REPLY_OTHER, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
