/* apis_core.c — API rows and resources of the core service (apis.md §1, §2), plus the
 * bus-only APIs every service answers (service "*", see service.h). */
#include "api.h"
#include <limits.h>

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
static const zs_class_t account_class = {
    "org.zstack.header.identity.AccountInventory", NULL, NULL, NULL, "description",
};
const zs_resource_t zs_res_account = {
    "Account", "accounts", NULL, &account_class, "core", "AccountVO",
    account_fields, NULL,
};

static const zs_field_t session_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"accountUuid", ZS_FT_STRING, true, false},
    {"userUuid", ZS_FT_STRING, false, false},
    {"userType", ZS_FT_STRING, false, false},
    {"expiredDate", ZS_FT_TIME, true, false},
    {"createDate", ZS_FT_TIME, false, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    {NULL, 0, false, false},
};
static const zs_class_t session_class = {
    "org.zstack.header.identity.SessionInventory", NULL, NULL, NULL, NULL,
};
const zs_resource_t zs_res_session = {
    "Session", "sessions", NULL, &session_class, "core", "SessionVO",
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
static const zs_class_t node_class = {
    "org.zstack.header.managementnode.ManagementNodeInventory", NULL, NULL, NULL,
    NULL,
};
const zs_resource_t zs_res_node = {
    "ManagementNode", "nodes", NULL, &node_class,
    "core", "ManagementNodeVO", node_fields, NULL,
};

/* Notifications (apis.md §5, svc-core/notifications.c). accountUuid: who else may see it
 * (besides admins); webhookPending: not yet handed to the broker's webhook outbox. */
static const zs_field_t notification_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"content", ZS_FT_STRING, false, false},
    {"arguments", ZS_FT_STRING, false, false},
    {"sender", ZS_FT_STRING, true, false},
    {"status", ZS_FT_STRING, true, false},
    {"resourceUuid", ZS_FT_STRING, true, false},
    {"resourceType", ZS_FT_STRING, true, false},
    {"type", ZS_FT_STRING, true, false},
    {"time", ZS_FT_EPOCH, true, false},
    {"opaque", ZS_FT_JSON, false, false},
    {"createDate", ZS_FT_TIME, false, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    {"accountUuid", ZS_FT_STRING, false, true},
    {"webhookPending", ZS_FT_BOOL, true, true},
    {NULL, 0, false, false},
};
static const zs_class_t notification_class = {
    "org.zstack.core.notification.NotificationInventory", NULL, NULL, NULL,
    NULL,
};
const zs_resource_t zs_res_notification = {
    "Notification", "notifications", NULL, &notification_class,
    "core", "NotificationVO", notification_fields, NULL,
};

/* Hosts (apis.md §6, svc-core/hosts.c). usedCpu/usedMemory are what UpdateHost reports;
 * the capacities (ZStack's names: totalCpuCapacity = cpuNum x over-provisioning ratio,
 * availableCpuCapacity, totalMemoryCapacity, availableMemoryCapacity) are derived from
 * them, and so are our earlier names availableCpu/availableMemory (kept for our clients).
 * username/sshPort: hosts added as KVM hosts (AddKVMHost; their inventory is a
 * KVMHostInventory). */
static const zs_field_t host_fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"description", ZS_FT_STRING, false, false},
    {"managementIp", ZS_FT_STRING, true, false},
    {"zoneUuid", ZS_FT_STRING, true, false},
    {"clusterUuid", ZS_FT_STRING, true, false},
    {"hypervisorType", ZS_FT_STRING, true, false},
    {"cpuNum", ZS_FT_INT, false, false},
    {"totalCpuCapacity", ZS_FT_INT, false, false},
    {"availableCpuCapacity", ZS_FT_INT, false, false},
    {"totalMemoryCapacity", ZS_FT_INT, false, false},
    {"availableMemoryCapacity", ZS_FT_INT, false, false},
    {"totalMemory", ZS_FT_INT, false, false},
    {"availableCpu", ZS_FT_INT, false, false},
    {"availableMemory", ZS_FT_INT, false, false},
    {"username", ZS_FT_STRING, false, false},
    {"sshPort", ZS_FT_INT, false, false},
    {"state", ZS_FT_STRING, true, false},
    {"status", ZS_FT_STRING, true, false},
    {"createDate", ZS_FT_TIME, true, false},
    {"lastOpDate", ZS_FT_TIME, false, false},
    {"usedCpu", ZS_FT_INT, false, true},
    {"usedMemory", ZS_FT_INT, false, true},
    {NULL, 0, false, false},
};
static const zs_class_t kvm_host_class = {
    "org.zstack.kvm.KVMHostInventory", NULL, NULL, NULL, "osDistribution osRelease osVersion",
};
static const zs_class_t host_class = {
    "org.zstack.header.host.HostInventory", NULL, &kvm_host_class, "username",
    "zoneUuid description cpuSockets ipmiAddress ipmiUsername ipmiPort "
    "ipmiPowerStatus cpuStatus memoryStatus diskStatus nicStatus gpuStatus "
    "powerSupplyStatus fanStatus raidStatus temperatureStatus architecture",
};
const zs_resource_t zs_res_host = {
    "Host", "hosts", NULL, &host_class, "core", "HostVO", host_fields, NULL,
};

static const zs_class_t capacity_class = {
    "org.zstack.header.allocator.datatypes.CpuMemoryCapacityData", NULL, NULL, NULL,
    NULL,
};
static const zs_typed_t capacity_reply[] = {{"capacityData", &capacity_class}, {NULL, NULL}};

/* Task progress entries nest: subTasks are entries too. */
static const zs_class_t progress_class;
static const zs_typed_t progress_members[] = {{"subTasks", &progress_class}, {NULL, NULL}};
static const zs_class_t progress_class = {
    "org.zstack.header.core.progress.TaskProgressInventory", progress_members, NULL, NULL,
    "parentUuid content opaque subTasks arguments",
};
static const zs_typed_t progress_reply[] = {{"inventories", &progress_class}, {NULL, NULL}};

const zs_resource_t *const zs_resources_core[] = {&zs_res_account, &zs_res_session, &zs_res_node, &zs_res_notification,
                                                   &zs_res_host, NULL};

static const char *const account_types[] = {"SystemAdmin", "Normal", NULL};

/* The SDK's accountType/captchaUuid/verifyCode/clientInfo are accepted and ignored: there is
 * one account system and no captcha here. */
static const zs_param_t p_login[] = {
    {"accountName", ZS_P_STRING, true, 1, 255, NULL},
    {"password", ZS_P_STRING, true, 1, 1024, NULL},
    {"accountType", ZS_P_STRING, false, 0, 255, NULL},
    {"captchaUuid", ZS_P_STRING, false, 0, 255, NULL},
    {"verifyCode", ZS_P_STRING, false, 0, 255, NULL},
    {"clientInfo", ZS_P_OBJECT, false, 0, 0, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_session[] = {
    {"sessionUuid", ZS_P_UUID, true, 0, 0, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_logout[] = {
    {"sessionUuid", ZS_P_UUID, true, 0, 0, NULL},
    {"clientInfo", ZS_P_OBJECT, false, 0, 0, NULL},
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
static const char *const delete_modes[] = {"Permissive", "Enforcing", NULL};
/* Who may update an account is decided by the session (self or admin), as apis.md says;
 * oldPassword, when sent, must match (ID.1000 otherwise). */
static const zs_param_t p_update_account[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"name", ZS_P_STRING, false, 1, 255, NULL},
    {"password", ZS_P_STRING, false, 8, 255, NULL},
    {"oldPassword", ZS_P_STRING, false, 0, 1024, NULL},
    {"description", ZS_P_STRING, false, 0, 2048, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_delete[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"deleteMode", ZS_P_STRING, false, 0, 0, delete_modes},
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
     ZS_API_NO_SESSION | ZS_API_WRITES, "core", p_logout, ZS_REPLY_EMPTY, NULL, NULL},
    {"ValidateSession", ID "APIValidateSessionMsg", "GET", "/accounts/sessions/{sessionUuid}/valid",
     NULL, ZS_API_NO_SESSION, "core", p_session, ZS_REPLY_OTHER, NULL, NULL},
    {"RenewSession", ID "APIRenewSessionMsg", "PUT", "/accounts/sessions/{sessionUuid}/renew",
     "renewSession", ZS_API_ASYNC, "core", p_renew, ZS_REPLY_INVENTORY, &zs_res_session, NULL},
    {"CreateAccount", ID "APICreateAccountMsg", "POST", "/accounts", NULL,
     ZS_API_ASYNC | ZS_API_ADMIN | ZS_API_CREATE, "core", p_create_account, ZS_REPLY_INVENTORY,
     &zs_res_account, NULL},
    {"QueryAccount", ID "APIQueryAccountMsg", "GET", "/accounts", NULL, ZS_API_QUERY, "core",
     p_any, ZS_REPLY_INVENTORIES, &zs_res_account, NULL},
    {"UpdateAccount", ID "APIUpdateAccountMsg", "PUT", "/accounts/{uuid}", "updateAccount",
     ZS_API_ASYNC, "core", p_update_account, ZS_REPLY_INVENTORY, &zs_res_account, NULL},
    {"DeleteAccount", ID "APIDeleteAccountMsg", "DELETE", "/accounts/{uuid}", NULL,
     ZS_API_ASYNC | ZS_API_ADMIN, "core", p_delete, ZS_REPLY_EMPTY, NULL, NULL},
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
    /* A chunk of a consistent copy of the service's store, for backups (store_copy.h). */
    {"CopyStore", NULL, NULL, NULL, NULL, ZS_API_INTERNAL, "*", p_any, ZS_REPLY_OTHER, NULL, NULL},
    /* Task progress (apis.md §4, svc-core/progress.c). Report/Finish are bus only: any
     * service reports steps of the API call (apiId) it serves, and says when it is over. */
    {"GetTaskProgress", "org.zstack.header.core.progress.APIGetTaskProgressMsg", "GET",
     "/task-progresses/{apiId}", NULL, 0, "core",
     (const zs_param_t[]){{"apiId", ZS_P_UUID, true, 0, 0, NULL},
                          {"all", ZS_P_BOOL, false, 0, 0, NULL},
                          {NULL, 0, false, 0, 0, NULL}},
     ZS_REPLY_OTHER, NULL, progress_reply},
    {"ReportProgress", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "core", p_any,
     ZS_REPLY_OTHER, NULL, NULL},
    {"FinishProgress", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "core", p_any,
     ZS_REPLY_OTHER, NULL, NULL},
    /* Notifications (apis.md §5, svc-core/notifications.c). */
    {"QueryNotification", "org.zstack.core.notification.APIQueryNotificationMsg", "GET",
     "/notifications", NULL, ZS_API_QUERY, "core", p_any, ZS_REPLY_INVENTORIES,
     &zs_res_notification, NULL},
    {"UpdateNotificationsStatus", "org.zstack.core.notification.APIUpdateNotificationsStatusMsg",
     "PUT", "/notifications/actions", "updateNotificationsStatus", ZS_API_ASYNC, "core",
     (const zs_param_t[]){{"uuids", ZS_P_LIST, true, 1, 1000, NULL},
                          {"status", ZS_P_STRING, true, 0, 0,
                           (const char *const[]){"Unread", "Read", NULL}},
                          {NULL, 0, false, 0, 0, NULL}},
     ZS_REPLY_EMPTY, NULL, NULL},
    {"DeleteNotifications", "org.zstack.core.notification.APIDeleteNotificationsMsg", "DELETE",
     "/notifications", NULL, ZS_API_ASYNC, "core",
     (const zs_param_t[]){{"uuids", ZS_P_LIST, true, 1, 1000, NULL}, {NULL, 0, false, 0, 0, NULL}},
     ZS_REPLY_EMPTY, NULL, NULL},
    /* Hosts (apis.md §6, svc-core/hosts.c). HostUsage is bus only (svc-license polls it). */
    {"AddHost", "org.zstack.header.host.APIAddHostMsg", "POST", "/hosts", NULL,
     ZS_API_ASYNC | ZS_API_ADMIN | ZS_API_CREATE, "core",
     (const zs_param_t[]){{"name", ZS_P_STRING, true, 1, 255, NULL},
                          {"managementIp", ZS_P_ADDRESS, true, 1, 253, NULL},
                          {"zoneUuid", ZS_P_UUID, true, 0, 0, NULL},
                          {"clusterUuid", ZS_P_UUID, true, 0, 0, NULL},
                          {"cpuNum", ZS_P_INT, true, 1, 1048576, NULL},
                          {"totalMemory", ZS_P_INT, true, 1, 0, NULL},
                          {"description", ZS_P_STRING, false, 0, 2048, NULL},
                          {NULL, 0, false, 0, 0, NULL}},
     ZS_REPLY_INVENTORY, &zs_res_host, NULL},
    /* The SDK's way to add a host. There is no hypervisor to connect to: username/password
     * are what ZStack would log in with; the password is checked present and not kept. The
     * capacity ZStack learns by connecting comes here (optional cpuNum/totalMemory) or later
     * with UpdateHost; zoneUuid (optional) is ours, as ZStack finds it from the cluster. */
    {"AddKVMHost", "org.zstack.kvm.APIAddKVMHostMsg", "POST", "/hosts/kvm", NULL,
     ZS_API_ASYNC | ZS_API_ADMIN | ZS_API_CREATE, "core",
     (const zs_param_t[]){{"name", ZS_P_STRING, true, 1, 255, NULL},
                          {"managementIp", ZS_P_ADDRESS, true, 1, 253, NULL},
                          {"clusterUuid", ZS_P_UUID, true, 0, 0, NULL},
                          {"username", ZS_P_STRING, true, 1, 255, NULL},
                          {"password", ZS_P_STRING, true, 1, 255, NULL},
                          {"sshPort", ZS_P_INT, false, 1, 65535, NULL},
                          {"description", ZS_P_STRING, false, 0, 2048, NULL},
                          {"zoneUuid", ZS_P_UUID, false, 0, 0, NULL},
                          {"cpuNum", ZS_P_INT, false, 0, 1048576, NULL},
                          {"totalMemory", ZS_P_INT, false, 0, 0, NULL},
                          {NULL, 0, false, 0, 0, NULL}},
     ZS_REPLY_INVENTORY, &zs_res_host, NULL},
    {"QueryHost", "org.zstack.header.host.APIQueryHostMsg", "GET", "/hosts", NULL, ZS_API_QUERY,
     "core", p_any, ZS_REPLY_INVENTORIES, &zs_res_host, NULL},
    {"UpdateHost", "org.zstack.header.host.APIUpdateHostMsg", "PUT", "/hosts/{uuid}/actions",
     "updateHost", ZS_API_ASYNC | ZS_API_ADMIN, "core",
     (const zs_param_t[]){{"uuid", ZS_P_UUID, true, 0, 0, NULL},
                          {"name", ZS_P_STRING, false, 1, 255, NULL},
                          {"description", ZS_P_STRING, false, 0, 2048, NULL},
                          {"managementIp", ZS_P_ADDRESS, false, 1, 253, NULL},
                          {"cpuNum", ZS_P_INT, false, 1, 1048576, NULL},
                          {"totalMemory", ZS_P_INT, false, 1, 0, NULL},
                          {"usedCpu", ZS_P_INT, false, 0, LONG_MAX, NULL},   /* never negative */
                          {"usedMemory", ZS_P_INT, false, 0, LONG_MAX, NULL},
                          {"state", ZS_P_STRING, false, 0, 0,
                           (const char *const[]){"Enabled", "Disabled", NULL}},
                          {"status", ZS_P_STRING, false, 0, 0,
                           (const char *const[]){"Connected", "Disconnected", NULL}},
                          {NULL, 0, false, 0, 0, NULL}},
     ZS_REPLY_INVENTORY, &zs_res_host, NULL},
    {"DeleteHost", "org.zstack.header.host.APIDeleteHostMsg", "DELETE", "/hosts/{uuid}", NULL,
     ZS_API_ASYNC | ZS_API_ADMIN, "core",
     p_delete, ZS_REPLY_EMPTY, NULL, NULL},
    {"GetCpuMemoryCapacity", "org.zstack.header.allocator.APIGetCpuMemoryCapacityMsg", "GET",
     "/hosts/capacities/cpu-memory", NULL, 0, "core",
     (const zs_param_t[]){{"zoneUuids", ZS_P_LIST, false, 0, 1000, NULL},
                          {"clusterUuids", ZS_P_LIST, false, 0, 1000, NULL},
                          {"hostUuids", ZS_P_LIST, false, 0, 1000, NULL},
                          {"hypervisorType", ZS_P_STRING, false, 0, 0,
                           (const char *const[]){"KVM", "ESX", NULL}},
                          {"all", ZS_P_BOOL, false, 0, 0, NULL},
                          {NULL, 0, false, 0, 0, NULL}},
     ZS_REPLY_OTHER, NULL, capacity_reply},
    {"HostUsage", NULL, NULL, NULL, NULL, ZS_API_INTERNAL, "core", p_any, ZS_REPLY_OTHER, NULL,
     NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
