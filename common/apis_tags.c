/* apis_tags.c — API rows and resources of svc-tags (apis.md §3). System and user tags share
 * one collection; each resource view carries its `type` as a fixed condition. */
#include "api.h"

#define TAG_FIELDS_COMMON \
    {"uuid", ZS_FT_STRING, false, false}, \
    {"resourceUuid", ZS_FT_STRING, true, false}, \
    {"resourceType", ZS_FT_STRING, true, false}, \
    {"tag", ZS_FT_STRING, true, false}, \
    {"type", ZS_FT_STRING, true, false}, \
    {"createDate", ZS_FT_TIME, true, false}, \
    {"lastOpDate", ZS_FT_TIME, false, false}, \
    {"accountUuid", ZS_FT_STRING, false, true}, \
    /* hash of (type, resourceUuid, tag): the duplicate check's index (svc-tags) */ \
    {"identity", ZS_FT_STRING, true, true}

static const zs_field_t system_tag_fields[] = {
    TAG_FIELDS_COMMON,
    {"inherent", ZS_FT_BOOL, false, false},
    {NULL, 0, false, false},
};
static const zs_field_t user_tag_fields[] = {
    TAG_FIELDS_COMMON,
    {NULL, 0, false, false},
};
static const zs_class_t system_tag_class = {
    "org.zstack.header.tag.SystemTagInventory", NULL, NULL, NULL, NULL,
};
static const zs_class_t user_tag_class = {
    "org.zstack.header.tag.UserTagInventory", NULL, NULL, NULL, "tagPatternUuid tagPattern",
};
const zs_resource_t zs_res_system_tag = {
    "SystemTag", "tags", "type=System", &system_tag_class, "tags",
    "SystemTagVO", system_tag_fields, NULL,
};
const zs_resource_t zs_res_user_tag = {
    "UserTag", "tags", "type=User", &user_tag_class, "tags",
    "UserTagVO", user_tag_fields, NULL,
};
const zs_resource_t *const zs_resources_tags[] = {&zs_res_system_tag, &zs_res_user_tag, NULL};

static const char *const delete_modes[] = {"Permissive", "Enforcing", NULL};
static const char *const tag_types[] = {"System", "User", NULL};

static const zs_param_t p_create_tag[] = {
    {"resourceType", ZS_P_RESOURCE_TYPE, true, 3, 255, NULL},
    {"resourceUuid", ZS_P_STRING, true, 1, 255, NULL},
    {"tag", ZS_P_TAG, true, 1, 512, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_create_tags[] = {
    {"resourceUuid", ZS_P_STRING, true, 1, 255, NULL},
    {"resourceType", ZS_P_RESOURCE_TYPE, true, 3, 255, NULL},
    {"tags", ZS_P_LIST, true, 1, 1000, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_update_tag[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"tag", ZS_P_TAG, true, 1, 512, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_delete_tag[] = {
    {"uuid", ZS_P_UUID, true, 0, 0, NULL},
    {"deleteMode", ZS_P_STRING, false, 0, 0, delete_modes},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_tag_resources[] = {
    {"type", ZS_P_STRING, true, 0, 0, tag_types},
    {"op", ZS_P_STRING, true, 1, 4, NULL},
    {"value", ZS_P_STRING, true, 0, 4096, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_resource_tags[] = {
    {"resourceUuid", ZS_P_STRING, true, 1, 255, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_attach_tags[] = {
    {"resourceUuid", ZS_P_STRING, true, 1, 255, NULL},
    {"resourceType", ZS_P_STRING, true, 3, 255, NULL},
    {"systemTags", ZS_P_LIST, false, 0, 100, NULL},
    {"userTags", ZS_P_LIST, false, 0, 100, NULL},
    {"accountUuid", ZS_P_STRING, false, 0, 64, NULL},
    {NULL, 0, false, 0, 0, NULL},
};
static const zs_param_t p_any[] = {{NULL, 0, false, 0, 0, NULL}};

#define TAG "org.zstack.header.tag."
const zs_api_t zs_apis_tags[] = {
    {"CreateSystemTag", TAG "APICreateSystemTagMsg", "POST", "/system-tags", NULL, ZS_API_ASYNC,
     "tags", p_create_tag, ZS_REPLY_INVENTORY, &zs_res_system_tag, NULL},
    {"CreateSystemTags", TAG "APICreateSystemTagsMsg", "POST", "/system-tags/{resourceUuid}/tags",
     NULL, ZS_API_ASYNC, "tags", p_create_tags, ZS_REPLY_INVENTORIES, &zs_res_system_tag, NULL},
    {"QuerySystemTag", TAG "APIQuerySystemTagMsg", "GET", "/system-tags", NULL, ZS_API_QUERY,
     "tags", p_any, ZS_REPLY_INVENTORIES, &zs_res_system_tag, NULL},
    {"UpdateSystemTag", TAG "APIUpdateSystemTagMsg", "PUT", "/system-tags/{uuid}/actions",
     "updateSystemTag", ZS_API_ASYNC, "tags", p_update_tag, ZS_REPLY_INVENTORY,
     &zs_res_system_tag, NULL},
    {"CreateUserTag", TAG "APICreateUserTagMsg", "POST", "/user-tags", NULL, ZS_API_ASYNC, "tags",
     p_create_tag, ZS_REPLY_INVENTORY, &zs_res_user_tag, NULL},
    {"QueryUserTag", TAG "APIQueryUserTagMsg", "GET", "/user-tags", NULL, ZS_API_QUERY, "tags",
     p_any, ZS_REPLY_INVENTORIES, &zs_res_user_tag, NULL},
    {"DeleteTag", TAG "APIDeleteTagMsg", "DELETE", "/tags/{uuid}", NULL, ZS_API_ASYNC, "tags",
     p_delete_tag, ZS_REPLY_EMPTY, NULL, NULL},
    /* Bus only: tag conditions of other services' queries, and cleanup of a deleted resource. */
    {"TagResources", NULL, NULL, NULL, NULL, ZS_API_INTERNAL, "tags", p_tag_resources,
     ZS_REPLY_OTHER, NULL, NULL},
    {"AttachTags", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "tags", p_attach_tags,
     ZS_REPLY_OTHER, NULL, NULL},
    {"DeleteResourceTags", NULL, NULL, NULL, NULL, ZS_API_INTERNAL | ZS_API_WRITES, "tags",
     p_resource_tags, ZS_REPLY_OTHER, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, NULL},
};
