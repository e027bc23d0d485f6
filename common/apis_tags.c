/* apis_tags.c — API rows and resources of svc-tags (apis.md §3). System and user tags share
 * one collection; each resource view carries its `type` as a fixed condition. */
#include "api.h"

/* The fields both views have. */
#define TAG_FIELDS_COMMON \
    {.name = "uuid", .type = ZS_FT_STRING}, \
    {.name = "resourceUuid", .type = ZS_FT_STRING, .indexed = true}, \
    {.name = "resourceType", .type = ZS_FT_STRING, .indexed = true}, \
    {.name = "tag", .type = ZS_FT_STRING, .indexed = true}, \
    {.name = "type", .type = ZS_FT_STRING, .indexed = true}, \
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true}, \
    {.name = "lastOpDate", .type = ZS_FT_TIME}, \
    {.name = "accountUuid", .type = ZS_FT_STRING, .hidden = true}, \
    /* hash of (type, resourceUuid, tag): the duplicate check's index (svc-tags) */ \
    {.name = "identity", .type = ZS_FT_STRING, .indexed = true, .hidden = true}

static const zs_field_t system_tag_fields[] = {
    TAG_FIELDS_COMMON,
    {.name = "inherent", .type = ZS_FT_BOOL},
    {0},
};
static const zs_field_t user_tag_fields[] = {
    TAG_FIELDS_COMMON,
    {0},
};
static const zs_class_t system_tag_class = {.name = "org.zstack.header.tag.SystemTagInventory"};
static const zs_class_t user_tag_class = {
    .name = "org.zstack.header.tag.UserTagInventory", .may_lack = "tagPatternUuid tagPattern",
};
const zs_resource_t zs_res_system_tag = {
    .name = "SystemTag", .collection = "tags", .fixed = "type=System", .klass = &system_tag_class,
    .service = "tags", .vo = "SystemTagVO", .fields = system_tag_fields,
};
const zs_resource_t zs_res_user_tag = {
    .name = "UserTag", .collection = "tags", .fixed = "type=User", .klass = &user_tag_class,
    .service = "tags", .vo = "UserTagVO", .fields = user_tag_fields,
};
const zs_resource_t *const zs_resources_tags[] = {&zs_res_system_tag, &zs_res_user_tag, NULL};

static const char *const delete_modes[] = {"Permissive", "Enforcing", NULL};
static const char *const tag_types[] = {"System", "User", NULL};

static const zs_param_t p_create_tag[] = {
    {.name = "resourceType", .type = ZS_P_RESOURCE_TYPE, .required = true, .min = 3, .max = 255},
    {.name = "resourceUuid", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {.name = "tag", .type = ZS_P_TAG, .required = true, .min = 1, .max = 512},
    {0},
};
static const zs_param_t p_create_tags[] = {
    {.name = "resourceUuid", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {.name = "resourceType", .type = ZS_P_RESOURCE_TYPE, .required = true, .min = 3, .max = 255},
    {.name = "tags", .type = ZS_P_LIST, .required = true, .min = 1, .max = 1000},
    {0},
};
static const zs_param_t p_update_tag[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "tag", .type = ZS_P_TAG, .required = true, .min = 1, .max = 512},
    {0},
};
static const zs_param_t p_delete_tag[] = {
    {.name = "uuid", .type = ZS_P_UUID, .required = true},
    {.name = "deleteMode", .type = ZS_P_STRING, .choices = delete_modes},
    {0},
};
static const zs_param_t p_tag_resources[] = {
    {.name = "type", .type = ZS_P_STRING, .required = true, .choices = tag_types},
    {.name = "op", .type = ZS_P_STRING, .required = true, .min = 1, .max = 4},
    {.name = "value", .type = ZS_P_STRING, .required = true, .max = 4096},
    {0},
};
static const zs_param_t p_resource_tags[] = {
    {.name = "resourceUuid", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {0},
};
static const zs_param_t p_attach_tags[] = {
    {.name = "resourceUuid", .type = ZS_P_STRING, .required = true, .min = 1, .max = 255},
    {.name = "resourceType", .type = ZS_P_STRING, .required = true, .min = 3, .max = 255},
    {.name = "systemTags", .type = ZS_P_LIST, .max = 100},
    {.name = "userTags", .type = ZS_P_LIST, .max = 100},
    {.name = "accountUuid", .type = ZS_P_STRING, .max = 64},
    {0},
};
static const zs_param_t p_any[] = {{0}};

#define TAG "org.zstack.header.tag."
const zs_api_t zs_apis_tags[] = {
    {.name = "CreateSystemTag", .klass = TAG "APICreateSystemTagMsg", .method = "POST",
     .path = "/system-tags", .flags = ZS_API_ASYNC, .service = "tags", .params = p_create_tag,
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_system_tag},
    {.name = "CreateSystemTags", .klass = TAG "APICreateSystemTagsMsg", .method = "POST",
     .path = "/system-tags/{resourceUuid}/tags", .flags = ZS_API_ASYNC, .service = "tags",
     .params = p_create_tags, .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_system_tag},
    {.name = "QuerySystemTag", .klass = TAG "APIQuerySystemTagMsg", .method = "GET",
     .path = "/system-tags", .flags = ZS_API_QUERY, .service = "tags", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_system_tag},
    {.name = "UpdateSystemTag", .klass = TAG "APIUpdateSystemTagMsg", .method = "PUT",
     .path = "/system-tags/{uuid}/actions", .action = "updateSystemTag", .flags = ZS_API_ASYNC,
     .service = "tags", .params = p_update_tag, .reply = ZS_REPLY_INVENTORY,
     .resource = &zs_res_system_tag},
    {.name = "CreateUserTag", .klass = TAG "APICreateUserTagMsg", .method = "POST",
     .path = "/user-tags", .flags = ZS_API_ASYNC, .service = "tags", .params = p_create_tag,
     .reply = ZS_REPLY_INVENTORY, .resource = &zs_res_user_tag},
    {.name = "QueryUserTag", .klass = TAG "APIQueryUserTagMsg", .method = "GET",
     .path = "/user-tags", .flags = ZS_API_QUERY, .service = "tags", .params = p_any,
     .reply = ZS_REPLY_INVENTORIES, .resource = &zs_res_user_tag},
    {.name = "DeleteTag", .klass = TAG "APIDeleteTagMsg", .method = "DELETE",
     .path = "/tags/{uuid}", .flags = ZS_API_ASYNC, .service = "tags", .params = p_delete_tag,
     .reply = ZS_REPLY_EMPTY},
    /* Bus only: tag conditions of other services' queries, and cleanup of a deleted resource. */
    {.name = "TagResources", .flags = ZS_API_INTERNAL, .service = "tags", .params = p_tag_resources,
     .reply = ZS_REPLY_OTHER},
    {.name = "AttachTags", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "tags",
     .params = p_attach_tags, .reply = ZS_REPLY_OTHER},
    {.name = "DeleteResourceTags", .flags = ZS_API_INTERNAL | ZS_API_WRITES, .service = "tags",
     .params = p_resource_tags, .reply = ZS_REPLY_OTHER},
    {0},
};
