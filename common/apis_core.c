/* apis_core.c — API rows and resources of the core service (apis.md §1, §2), plus the
 * bus-only APIs every service answers (service "*", see service.h). */
#include "api.h"
#include <limits.h>

static const zs_field_t account_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "description", .type = ZS_FT_STRING},
    {.name = "type", .type = ZS_FT_STRING, .indexed = true},
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {.name = "passwordHash", .type = ZS_FT_STRING, .hidden = true},
    {0},
};
static const zs_class_t account_class = {
    .name = "org.zstack.header.identity.AccountInventory", .may_lack = "description",
};
const zs_resource_t zs_res_account = {
    .name = "Account", .collection = "accounts", .klass = &account_class, .service = "core",
    .vo = "AccountVO", .fields = account_fields,
};

static const zs_field_t session_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "accountUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "userUuid", .type = ZS_FT_STRING},
    {.name = "userType", .type = ZS_FT_STRING},
    {.name = "expiredDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "createDate", .type = ZS_FT_TIME},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {0},
};
static const zs_class_t session_class = {.name = "org.zstack.header.identity.SessionInventory"};
const zs_resource_t zs_res_session = {
    .name = "Session", .collection = "sessions", .klass = &session_class, .service = "core",
    .vo = "SessionVO", .fields = session_fields,
};

static const zs_field_t node_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "hostName", .type = ZS_FT_STRING},
    {.name = "joinDate", .type = ZS_FT_TIME},
    {.name = "heartBeat", .type = ZS_FT_TIME},
    {.name = "role", .type = ZS_FT_STRING, .indexed = true},
    {.name = "version", .type = ZS_FT_STRING},
    {.name = "state", .type = ZS_FT_STRING},
    {.name = "pid", .type = ZS_FT_INT},
    {.name = "createDate", .type = ZS_FT_TIME},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {0},
};
static const zs_class_t node_class = {
    .name = "org.zstack.header.managementnode.ManagementNodeInventory",
};
const zs_resource_t zs_res_node = {
    .name = "ManagementNode", .collection = "nodes", .klass = &node_class, .service = "core",
    .vo = "ManagementNodeVO", .fields = node_fields,
};

/* Notifications (apis.md §5, svc-core/notifications.c). accountUuid: who else may see it
 * (besides admins); webhookPending: not yet handed to the broker's webhook outbox. */
static const zs_field_t notification_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "content", .type = ZS_FT_STRING},
    {.name = "arguments", .type = ZS_FT_STRING},
    {.name = "sender", .type = ZS_FT_STRING, .indexed = true},
    {.name = "status", .type = ZS_FT_STRING, .indexed = true},
    {.name = "resourceUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "resourceType", .type = ZS_FT_STRING, .indexed = true},
    {.name = "type", .type = ZS_FT_STRING, .indexed = true},
    {.name = "time", .type = ZS_FT_EPOCH, .indexed = true},
    {.name = "opaque", .type = ZS_FT_JSON},
    {.name = "createDate", .type = ZS_FT_TIME},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {.name = "accountUuid", .type = ZS_FT_STRING, .hidden = true},
    {.name = "webhookPending", .type = ZS_FT_BOOL, .indexed = true, .hidden = true},
    {0},
};
static const zs_class_t notification_class = {
    .name = "org.zstack.core.notification.NotificationInventory",
};
const zs_resource_t zs_res_notification = {
    .name = "Notification", .collection = "notifications", .klass = &notification_class,
    .service = "core", .vo = "NotificationVO", .fields = notification_fields,
};

/* Hosts (apis.md §6, svc-core/hosts.c). usedCpu/usedMemory are what UpdateHost reports;
 * the capacities (ZStack's names: totalCpuCapacity = cpuNum x over-provisioning ratio,
 * availableCpuCapacity, totalMemoryCapacity, availableMemoryCapacity) are derived from
 * them, and so are our earlier names availableCpu/availableMemory (kept for our clients).
 * username/sshPort: hosts added as KVM hosts (AddKVMHost; their inventory is a
 * KVMHostInventory). */
static const zs_field_t host_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "description", .type = ZS_FT_STRING},
    {.name = "managementIp", .type = ZS_FT_STRING, .indexed = true},
    {.name = "zoneUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "clusterUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "hypervisorType", .type = ZS_FT_STRING, .indexed = true},
    {.name = "cpuNum", .type = ZS_FT_INT},
    {.name = "totalCpuCapacity", .type = ZS_FT_INT},
    {.name = "availableCpuCapacity", .type = ZS_FT_INT},
    {.name = "totalMemoryCapacity", .type = ZS_FT_INT},
    {.name = "availableMemoryCapacity", .type = ZS_FT_INT},
    {.name = "totalMemory", .type = ZS_FT_INT},
    {.name = "availableCpu", .type = ZS_FT_INT},
    {.name = "availableMemory", .type = ZS_FT_INT},
    {.name = "username", .type = ZS_FT_STRING},
    {.name = "sshPort", .type = ZS_FT_INT},
    {.name = "state", .type = ZS_FT_STRING, .indexed = true},
    {.name = "status", .type = ZS_FT_STRING, .indexed = true},
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "lastOpDate", .type = ZS_FT_TIME},
    {.name = "usedCpu", .type = ZS_FT_INT, .hidden = true},
    {.name = "usedMemory", .type = ZS_FT_INT, .hidden = true},
    {0},
};
static const zs_class_t kvm_host_class = {
    .name = "org.zstack.kvm.KVMHostInventory", .may_lack = "osDistribution osRelease osVersion",
};
static const zs_class_t host_class = {
    .name = "org.zstack.header.host.HostInventory", .variant = &kvm_host_class,
    .variant_field = "username",
    .may_lack = "zoneUuid description cpuSockets ipmiAddress ipmiUsername ipmiPort "
                "ipmiPowerStatus cpuStatus memoryStatus diskStatus nicStatus gpuStatus "
                "powerSupplyStatus fanStatus raidStatus temperatureStatus architecture",
};
const zs_resource_t zs_res_host = {
    .name = "Host", .collection = "hosts", .klass = &host_class, .service = "core", .vo = "HostVO",
    .fields = host_fields,
};

static const zs_class_t capacity_class = {
    .name = "org.zstack.header.allocator.datatypes.CpuMemoryCapacityData",
};
static const zs_typed_t capacity_reply[] = {
    {.field = "capacityData", .klass = &capacity_class},
    {0},
};

/* Task progress entries nest: subTasks are entries too. */
static const zs_class_t progress_class;
static const zs_typed_t progress_members[] = {{.field = "subTasks", .klass = &progress_class}, {0}};
static const zs_class_t progress_class = {
    .name = "org.zstack.header.core.progress.TaskProgressInventory", .members = progress_members,
    .may_lack = "parentUuid content opaque subTasks arguments",
};
static const zs_typed_t progress_reply[] = {
    {.field = "inventories", .klass = &progress_class},
    {0},
};

const zs_resource_t *const zs_resources_core[] = {
    &zs_res_account, &zs_res_session, &zs_res_node, &zs_res_notification, &zs_res_host, NULL,
};

static const char *const account_types[] = {"SystemAdmin", "Normal", NULL};

/* The SDK's accountType/captchaUuid/verifyCode/clientInfo are accepted and ignored: there is
 * one account system and no captcha here. */
static const zs_param_t p_login[] = {
    {.name = "accountName", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {.name = "password", .type = ZS_P_STRING, .required = true, .min = 1, .max = 1024},
    {.name = "accountType", .type = ZS_P_STRING, .max = 255},
    {.name = "captchaUuid", .type = ZS_P_STRING, .max = 255},
    {.name = "verifyCode", .type = ZS_P_STRING, .max = 255},
    {.name = "clientInfo", .type = ZS_P_OBJECT},
    {0},
};
static const zs_param_t p_session[] = {
    {.name = "sessionUuid", .type = ZS_P_UUID, .required = true},
    {0},
};
static const zs_param_t p_logout[] = {
    {.name = "sessionUuid", .type = ZS_P_UUID, .required = true},
    {.name = "clientInfo", .type = ZS_P_OBJECT},
    {0},
};
static const zs_param_t p_renew[] = {
    {.name = "sessionUuid", .type = ZS_P_UUID, .required = true},
    {.name = "duration", .type = ZS_P_INT, .min = 1, .max = 31536000},
    {0},
};
static const zs_param_t p_create_account[] = {
    {.name = "name", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {.name = "password", .type = ZS_P_STRING, .required = true, .min = 8, .max = 255},
    {.name = "type", .type = ZS_P_STRING, .choices = account_types},
    {.name = "description", .type = ZS_P_STRING, .max = 2048},
    {0},
};
static const char *const delete_modes[] = {"Permissive", "Enforcing", NULL};
/* Who may update an account is decided by the session (self or admin), as apis.md says;
 * oldPassword, when sent, must match (ID.1000 otherwise). */
static const zs_param_t p_update_account[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "name", .type = ZS_P_STRING, .min = 1, .max = 255},
    {.name = "password", .type = ZS_P_STRING, .min = 8, .max = 255},
    {.name = "oldPassword", .type = ZS_P_STRING, .max = 1024},
    {.name = "description", .type = ZS_P_STRING, .max = 2048},
    {0},
};
static const zs_param_t p_delete[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "deleteMode", .type = ZS_P_STRING, .choices = delete_modes},
    {0},
};
static const zs_param_t p_ready[] = {
    {.name = "managementNodeId", .type = ZS_P_STRING, .max = 64},
    {0},
};
static const zs_param_t p_any[] = {{0}};

#define ID "org.zstack.header.identity."
#define MN "org.zstack.header.managementnode."
const zs_api_t zs_apis_core[] = {
    {.name = "LogInByAccount", .klass = ID "APILogInByAccountMsg", .method = "PUT",
     .path = "/accounts/login", .action = "logInByAccount|loginByAccount",
     .flags = ZS_API_NO_SESSION | ZS_API_WRITES, .service = "core", .params = p_login,
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_session},
    {.name = "LogOut", .klass = ID "APILogOutMsg", .method = "DELETE",
     .path = "/accounts/sessions/{sessionUuid}", .flags = ZS_API_NO_SESSION | ZS_API_WRITES,
     .service = "core", .params = p_logout, .reply = ZS_REPLY_EMPTY},
    {.name = "ValidateSession", .klass = ID "APIValidateSessionMsg", .method = "GET",
     .path = "/accounts/sessions/{sessionUuid}/valid", .flags = ZS_API_NO_SESSION,
     .service = "core", .params = p_session, .reply = ZS_REPLY_OTHER},
    {.name = "RenewSession", .klass = ID "APIRenewSessionMsg", .method = "PUT",
     .path = "/accounts/sessions/{sessionUuid}/renew", .action = "renewSession",
     .flags = ZS_API_ASYNC, .service = "core", .params = p_renew, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_session},
    {.name = "CreateAccount", .klass = ID "APICreateAccountMsg", .method = "POST",
     .path = "/accounts", .flags = ZS_API_ASYNC | ZS_API_ADMIN | ZS_API_CREATE,
     .service = "core", .params = p_create_account, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_account},
    {.name = "QueryAccount", .klass = ID "APIQueryAccountMsg", .method = "GET", .path = "/accounts",
     .flags = ZS_API_QUERY, .service = "core", .params = p_any, .reply = ZS_REPLY_INVENTORIES,
     .resource = &zs_res_account},
    {.name = "UpdateAccount", .klass = ID "APIUpdateAccountMsg", .method = "PUT",
     .path = "/accounts/{uuid}", .action = "updateAccount", .flags = ZS_API_ASYNC,
     .service = "core", .params = p_update_account, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_account},
    {.name = "DeleteAccount", .klass = ID "APIDeleteAccountMsg", .method = "DELETE",
     .path = "/accounts/{uuid}", .flags = ZS_API_ASYNC | ZS_API_ADMIN, .service = "core",
     .params = p_delete, .reply = ZS_REPLY_EMPTY},
    {.name = "QueryManagementNode", .klass = MN "APIQueryManagementNodeMsg", .method = "GET",
     .path = "/management-nodes", .flags = ZS_API_QUERY, .service = "core", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_node},
    {.name = "GetVersion", .klass = MN "APIGetVersionMsg", .method = "PUT",
     .path = "/management-nodes/actions", .action = "getVersion", .flags = ZS_API_NO_SESSION,
     .service = "core", .params = p_any, .reply = ZS_REPLY_OTHER},
    {.name = "GetCurrentTime", .klass = MN "APIGetCurrentTimeMsg", .method = "PUT",
     .path = "/management-nodes/actions", .action = "getCurrentTime",
     .flags = ZS_API_NO_SESSION, .service = "core", .params = p_any, .reply = ZS_REPLY_OTHER},
    {.name = "IsReadyToGo", .klass = MN "APIIsReadyToGoMsg", .method = "GET",
     .path = "/management-nodes/ready", .flags = ZS_API_NO_SESSION, .service = "core",
     .params = p_ready, .reply = ZS_REPLY_OTHER},
    /* Bus only. */
    {.name = "CheckSession", .flags = ZS_API_INTERNAL, .service = "core", .params = p_session,
     .reply = ZS_REPLY_OTHER},
    {.name = "Heartbeat", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "core",
     .params = p_any, .reply = ZS_REPLY_OTHER},
    {.name = "NodeLeave", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "core",
     .params = p_any, .reply = ZS_REPLY_OTHER},
    /* Answered by every service's runtime (service.h). */
    {.name = "Ping", .flags = ZS_API_INTERNAL, .service = "*", .params = p_any,
     .reply = ZS_REPLY_OTHER},
    {.name = "Exists", .flags = ZS_API_INTERNAL, .service = "*", .params = p_any,
     .reply = ZS_REPLY_OTHER},
    {.name = "QueryValues", .flags = ZS_API_INTERNAL, .service = "*", .params = p_any,
     .reply = ZS_REPLY_OTHER},
    /* A chunk of a consistent copy of the service's store, for backups (store_copy.h). */
    {.name = "CopyStore", .flags = ZS_API_INTERNAL, .service = "*", .params = p_any,
     .reply = ZS_REPLY_OTHER},
    /* Task progress (apis.md §4, svc-core/progress.c). Report/Finish are bus only: any
     * service reports steps of the API call (apiId) it serves, and says when it is over. */
    {.name = "GetTaskProgress", .klass = "org.zstack.header.core.progress.APIGetTaskProgressMsg",
     .method = "GET", .path = "/task-progresses/{apiId}", .service = "core",
     .params = (const zs_param_t[]){
         {.name = "apiId", .type = ZS_P_UUID, .required = true},
         {.name = "all", .type = ZS_P_BOOL},
         {0}},
     .reply = ZS_REPLY_OTHER, .typed = progress_reply},
    {.name = "ReportProgress", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "core",
     .params = p_any, .reply = ZS_REPLY_OTHER},
    {.name = "FinishProgress", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "core",
     .params = p_any, .reply = ZS_REPLY_OTHER},
    /* Notifications (apis.md §5, svc-core/notifications.c). */
    {.name = "QueryNotification", .klass = "org.zstack.core.notification.APIQueryNotificationMsg",
     .method = "GET", .path = "/notifications", .flags = ZS_API_QUERY, .service = "core",
     .params = p_any, .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_notification},
    {.name = "UpdateNotificationsStatus",
     .klass = "org.zstack.core.notification.APIUpdateNotificationsStatusMsg", .method = "PUT",
     .path = "/notifications/actions", .action = "updateNotificationsStatus",
     .flags = ZS_API_ASYNC, .service = "core",
     .params = (const zs_param_t[]){
         {.name = "uuids", .type = ZS_P_LIST, .required = true, .min = 1, .max = 1000},
         {.name = "status", .type = ZS_P_STRING, .required = true,
          .choices = (const char *const[]){"Unread", "Read", NULL}},
         {0}},
     .reply = ZS_REPLY_EMPTY},
    {.name = "DeleteNotifications",
     .klass = "org.zstack.core.notification.APIDeleteNotificationsMsg", .method = "DELETE",
     .path = "/notifications", .flags = ZS_API_ASYNC, .service = "core",
     .params = (const zs_param_t[]){
         {.name = "uuids", .type = ZS_P_LIST, .required = true, .min = 1, .max = 1000},
         {0}},
     .reply = ZS_REPLY_EMPTY},
    /* Hosts (apis.md §6, svc-core/hosts.c). HostUsage is bus only (svc-license polls it). */
    {.name = "AddHost", .klass = "org.zstack.header.host.APIAddHostMsg", .method = "POST",
     .path = "/hosts", .flags = ZS_API_ASYNC | ZS_API_ADMIN | ZS_API_CREATE, .service = "core",
     .params = (const zs_param_t[]){
         {.name = "name", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
         {.name = "managementIp", .type = ZS_P_ADDRESS, .required = true, .min = 1, .max = 253},
         {.name = "zoneUuid", .type = ZS_P_UUID, .required = true},
         {.name = "clusterUuid", .type = ZS_P_UUID, .required = true},
         {.name = "cpuNum", .type = ZS_P_INT, .required = true, .min = 1, .max = 1048576},
         {.name = "totalMemory", .type = ZS_P_INT, .required = true, .min = 1},
         {.name = "description", .type = ZS_P_STRING, .max = 2048},
         {0}},
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_host},
    /* The SDK's way to add a host. There is no hypervisor to connect to: username/password
     * are what ZStack would log in with; the password is checked present and not kept. The
     * capacity ZStack learns by connecting comes here (optional cpuNum/totalMemory) or later
     * with UpdateHost; zoneUuid (optional) is ours, as ZStack finds it from the cluster. */
    {.name = "AddKVMHost", .klass = "org.zstack.kvm.APIAddKVMHostMsg", .method = "POST",
     .path = "/hosts/kvm", .flags = ZS_API_ASYNC | ZS_API_ADMIN | ZS_API_CREATE,
     .service = "core",
     .params = (const zs_param_t[]){
         {.name = "name", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
         {.name = "managementIp", .type = ZS_P_ADDRESS, .required = true, .min = 1, .max = 253},
         {.name = "clusterUuid", .type = ZS_P_UUID, .required = true},
         {.name = "username", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
         {.name = "password", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
         {.name = "sshPort", .type = ZS_P_INT, .min = 1, .max = 65535},
         {.name = "description", .type = ZS_P_STRING, .max = 2048},
         {.name = "zoneUuid", .type = ZS_P_UUID},
         {.name = "cpuNum", .type = ZS_P_INT, .max = 1048576},
         {.name = "totalMemory", .type = ZS_P_INT},
         {0}},
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_host},
    {.name = "QueryHost", .klass = "org.zstack.header.host.APIQueryHostMsg", .method = "GET",
     .path = "/hosts", .flags = ZS_API_QUERY, .service = "core", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_host},
    {.name = "UpdateHost", .klass = "org.zstack.header.host.APIUpdateHostMsg", .method = "PUT",
     .path = "/hosts/{uuid}/actions", .action = "updateHost",
     .flags = ZS_API_ASYNC | ZS_API_ADMIN, .service = "core",
     .params = (const zs_param_t[]){
         {.name = "uuid", .type = ZS_P_UUID, .required = true},
         {.name = "name", .type = ZS_P_STRING, .min = 1, .max = 255},
         {.name = "description", .type = ZS_P_STRING, .max = 2048},
         {.name = "managementIp", .type = ZS_P_ADDRESS, .min = 1, .max = 253},
         {.name = "cpuNum", .type = ZS_P_INT, .min = 1, .max = 1048576},
         {.name = "totalMemory", .type = ZS_P_INT, .min = 1},
         {.name = "usedCpu", .type = ZS_P_INT, .max = LONG_MAX}, /* never negative */
         {.name = "usedMemory", .type = ZS_P_INT, .max = LONG_MAX},
         {.name = "state", .type = ZS_P_STRING,
          .choices = (const char *const[]){"Enabled", "Disabled", NULL}},
         {.name = "status", .type = ZS_P_STRING,
          .choices = (const char *const[]){"Connected", "Disconnected", NULL}},
         {0}},
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_host},
    {.name = "DeleteHost", .klass = "org.zstack.header.host.APIDeleteHostMsg", .method = "DELETE",
     .path = "/hosts/{uuid}", .flags = ZS_API_ASYNC | ZS_API_ADMIN, .service = "core",
     .params = p_delete, .reply = ZS_REPLY_EMPTY},
    {.name = "GetCpuMemoryCapacity",
     .klass = "org.zstack.header.allocator.APIGetCpuMemoryCapacityMsg", .method = "GET",
     .path = "/hosts/capacities/cpu-memory", .service = "core",
     .params = (const zs_param_t[]){
         {.name = "zoneUuids", .type = ZS_P_LIST, .max = 1000},
         {.name = "clusterUuids", .type = ZS_P_LIST, .max = 1000},
         {.name = "hostUuids", .type = ZS_P_LIST, .max = 1000},
         {.name = "hypervisorType", .type = ZS_P_STRING,
          .choices = (const char *const[]){"KVM", "ESX", NULL}},
         {.name = "all", .type = ZS_P_BOOL},
         {0}},
     .reply = ZS_REPLY_OTHER, .typed = capacity_reply},
    {.name = "HostUsage", .flags = ZS_API_INTERNAL, .service = "core", .params = p_any,
     .reply = ZS_REPLY_OTHER},
    {0},
};
