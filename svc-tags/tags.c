/* tags.c — the tag service (tags.h): system and user tags (apis.md §3). Tags of a deleted
 * resource go with it ("resource.deleted" events, and DeleteResourceTags over the bus). */
#include "clock.h"
#include "error.h"
#include "log.h"
#include "tag_identity.h"
#include "tags.h"
#include "uuid.h"
#include <string.h>

#define TAGS "tags"

extern const zs_resource_t zs_res_system_tag, zs_res_user_tag;

/* 1..512 printable characters; "::" separates segments, none of which may be empty. */
/* A resource type owned by a service of the suite must name an existing resource, and a
 * normal account may tag only what it owns (zs_record_owner): not another account, nor an
 * admin-managed record. The same rule holds for a call an approved ticket makes (it runs as
 * its submitter). Types outside the suite cannot be checked and are accepted as given. */
static json_t *check_resource(zs_call_t *call, const char *type, const char *uuid)
{
    const zs_resource_t *res = zs_resource_find(type);
    if (!res || !res->vo)
        return NULL;   /* outside the suite: accepted as given */
    json_t *error = NULL;
    bool exists;
    char owner[ZS_UUID_LEN + 1] = "";
    if (strcmp(res->service, "tags") == 0) {
        json_t *rec = zs_store_get(zs_service_store(call->svc), call->txn, res->collection, uuid);
        exists = rec != NULL;
        const char *o = rec ? zs_record_owner(res, rec) : NULL;
        snprintf(owner, sizeof owner, "%s", o ? o : "");
        json_decref(rec);
    } else {
        json_t *reply = zs_call_remote(call, res->service, "Exists", NULL,
                                       json_pack("{s:s, s:s}", "resource", res->name, "uuid", uuid),
                                       10000, &error);
        if (!reply)
            return error;
        exists = json_is_true(json_object_get(reply, "exists"));
        const char *o = json_string_value(json_object_get(reply, "owner"));
        snprintf(owner, sizeof owner, "%s", o ? o : "");
        json_decref(reply);
    }
    if (!exists)
        return zs_error(ZS_SYS_NOT_FOUND, "%s[uuid:%s] is not found", type, uuid);
    if (!call->req->caller || zs_msg_admin(call->req))
        return NULL;
    const char *me = zs_msg_account(call->req);
    if (!*owner || !me || strcmp(owner, me) != 0)
        return zs_error(ZS_ID_DENIED, "account[%s] may not tag %s[uuid:%s]: it does not own it",
                        me ? me : "?", type, uuid);
    return NULL;
}

static void set_identity(json_t *rec)
{
    char id[33];
    zs_tag_identity(json_string_value(json_object_get(rec, "type")),
                 json_string_value(json_object_get(rec, "resourceUuid")),
                 json_string_value(json_object_get(rec, "tag")), id);
    json_object_set_new(rec, "identity", json_string(id));
}

/* The tag of `type` with text `tag` on resource `ruuid`, or NULL. */
static json_t *find_same(zs_call_t *call, const char *type, const char *ruuid, const char *tag)
{
    zs_store_t *store = zs_service_store(call->svc);
    char id[33];
    zs_tag_identity(type, ruuid, tag, id);
    json_t *key = json_string(id);
    json_t *uuids = zs_store_find(store, call->txn, TAGS, "identity", key, 16);
    json_decref(key);
    json_t *found = NULL;
    size_t i;
    json_t *u;
    json_array_foreach(uuids, i, u) {   /* the hash only narrows: the fields decide */
        json_t *rec = zs_store_get(store, call->txn, TAGS, json_string_value(u));
        if (rec && strcmp(json_string_value(json_object_get(rec, "type")), type) == 0 &&
            strcmp(json_string_value(json_object_get(rec, "resourceUuid")), ruuid) == 0 &&
            strcmp(json_string_value(json_object_get(rec, "tag")), tag) == 0) {
            found = rec;
            break;
        }
        json_decref(rec);
    }
    json_decref(uuids);
    return found;
}

/* Tags stored before the identity index existed get their identity, once (marked in meta). */
typedef struct {
    json_t *recs;
} unindexed_t;

static int collect_unindexed(void *arg, const char *uuid, json_t *rec)
{
    (void)uuid;
    if (!json_object_get(rec, "identity"))
        json_array_append(((unindexed_t *)arg)->recs, rec);
    return 0;
}

static int index_old_tags(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    zs_store_t *store = zs_service_store(svc);
    static const char mark[] = ZS_TAG_IDENTITY_MARK;
    MDB_val v;
    if (zs_store_kv_get(store, txn, "meta", mark, strlen(mark), &v) == 0)
        return 0;
    unindexed_t u = {json_array()};
    int rc = zs_store_scan(store, txn, TAGS, collect_unindexed, &u);
    size_t i;
    json_t *rec;
    json_array_foreach(u.recs, i, rec) {
        if (rc != 0)
            break;
        set_identity(rec);
        rc = zs_store_put(store, txn, TAGS, json_string_value(json_object_get(rec, "uuid")), rec);
    }
    if (json_array_size(u.recs))
        zs_info("indexed the identity of %zu existing tags", json_array_size(u.recs));
    json_decref(u.recs);
    return rc ? rc : zs_store_kv_put(store, txn, "meta", mark, strlen(mark), "1", 1);
}

static int tags_start(zs_service_t *svc)
{
    int rc = zs_service_write(svc, index_old_tags, NULL);
    if (rc != 0)
        zs_errorf("indexing existing tags failed: %s", zs_store_strerror(rc));
    return rc;
}

/* Creates one tag (or returns the existing system tag). `check` asks the owner of the
 * resource whether it exists. Returns the record (new reference) or NULL + *error. */
static json_t *create_tag(zs_call_t *call, const char *type, const char *rtype, const char *ruuid,
                          const char *tag, bool check, json_t **error)
{
    const char *why = zs_tag_refusal(tag);
    if (!why)
        why = zs_resource_type_refusal(rtype);
    if (why) {
        call->status = 400;
        *error = zs_error(ZS_SYS_INVALID, "tag[%.80s] on %s: %s", tag, rtype, why);
        return NULL;
    }
    if (check && (*error = check_resource(call, rtype, ruuid)))
        return NULL;
    json_t *same = find_same(call, type, ruuid, tag);
    if (same) {
        if (strcmp(type, "System") == 0)
            return same;   /* idempotent */
        json_decref(same);
        *error = zs_error(ZS_SYS_INVALID, "Duplicated Tag[tag:%s, type:%s, resourceType:%s, resourceUuid:%s]",
                          tag, type, rtype, ruuid);
        return NULL;
    }
    char uuid[ZS_UUID_LEN + 1];
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "uuid", zs_uuid_new_ordered(uuid),
                            "resourceUuid", ruuid, "resourceType", rtype, "tag", tag, "type", type,
                            "createDate", (json_int_t)now, "lastOpDate", (json_int_t)now,
                            "accountUuid", zs_msg_account(call->req));
    if (strcmp(type, "System") == 0)
        json_object_set_new(rec, "inherent", json_false());
    set_identity(rec);
    int rc = zs_store_put(zs_service_store(call->svc), call->txn, TAGS, uuid, rec);
    if (rc != 0) {
        json_decref(rec);
        zs_call_store_fail(call, error, rc);
        return NULL;
    }
    return rec;
}

static const zs_resource_t *view_of(const json_t *rec)
{
    return strcmp(json_string_value(json_object_get(rec, "type")), "System") == 0 ? &zs_res_system_tag
                                                                                   : &zs_res_user_tag;
}

static json_t *create_one(zs_call_t *call, const char *type, json_t **error)
{
    json_t *rec = create_tag(call, type, zs_call_str(call, "resourceType"),
                             zs_call_str(call, "resourceUuid"), zs_call_str(call, "tag"), true, error);
    if (!rec)
        return NULL;
    json_t *out = zs_call_inventory(view_of(rec), rec);
    json_decref(rec);
    return out;
}

static json_t *create_system_tag(zs_call_t *call, json_t **error)
{
    return create_one(call, "System", error);
}

static json_t *create_user_tag(zs_call_t *call, json_t **error)
{
    return create_one(call, "User", error);
}

static json_t *create_system_tags(zs_call_t *call, json_t **error)
{
    const char *rtype = zs_call_str(call, "resourceType"), *ruuid = zs_call_str(call, "resourceUuid");
    if ((*error = check_resource(call, rtype, ruuid)))
        return NULL;
    json_t *list = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(call->req->body, "tags"), i, t) {
        json_t *rec = create_tag(call, "System", rtype, ruuid, json_string_value(t), false, error);
        if (!rec) {
            json_decref(list);
            return NULL;
        }
        json_array_append_new(list, zs_resource_render(&zs_res_system_tag, rec, NULL));
        json_decref(rec);
    }
    return json_pack("{s:o}", "inventories", list);
}

static bool may_change(zs_call_t *call, const json_t *rec)
{
    const char *owner = json_string_value(json_object_get(rec, "accountUuid"));
    return zs_msg_admin(call->req) || !call->req->caller ||
           (owner && strcmp(owner, zs_msg_account(call->req)) == 0);
}

static json_t *update_system_tag(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid"), *tag = zs_call_str(call, "tag");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *rec = zs_store_get(store, call->txn, TAGS, uuid);
    if (!rec || strcmp(json_string_value(json_object_get(rec, "type")), "System") != 0) {
        json_decref(rec);
        return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "system tag[uuid:%s] is not found", uuid);
    }
    if (!may_change(call, rec)) {
        json_decref(rec);
        return zs_call_fail(call, error, ZS_ID_DENIED, "system tag[uuid:%s] belongs to another account", uuid);
    }
    const char *why = zs_tag_refusal(tag);
    if (why) {
        json_decref(rec);
        return zs_call_invalid(call, error, "tag[%.80s]: %s", tag, why);
    }
    json_object_set_new(rec, "tag", json_string(tag));
    json_object_set_new(rec, "lastOpDate", json_integer(zs_now_ms()));
    set_identity(rec);
    int rc = zs_store_put(store, call->txn, TAGS, uuid, rec);
    json_t *out = rc == 0 ? zs_call_inventory(&zs_res_system_tag, rec) : zs_call_store_fail(call, error, rc);
    json_decref(rec);
    return out;
}

static json_t *delete_tag(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid"), *mode = zs_call_str(call, "deleteMode");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *rec = zs_store_get(store, call->txn, TAGS, uuid);
    if (!rec)
        return json_object();   /* an unknown tag is already deleted */
    bool enforcing = mode && strcmp(mode, "Enforcing") == 0 && zs_msg_admin(call->req);
    const char *refusal = !may_change(call, rec) ? "belongs to another account"
                        : json_is_true(json_object_get(rec, "inherent")) && !enforcing
                            ? "is inherent: only an admin with deleteMode=Enforcing may delete it"
                            : NULL;
    json_decref(rec);
    if (refusal)
        return zs_call_fail(call, error, strstr(refusal, "another") ? ZS_ID_DENIED : ZS_SYS_FAILED,
                            "tag[uuid:%s] %s", uuid, refusal);
    int rc = zs_store_del(store, call->txn, TAGS, uuid);
    return rc == 0 || rc == MDB_NOTFOUND ? json_object() : zs_call_store_fail(call, error, rc);
}

/* ---- bus-only APIs ------------------------------------------------------------------- */

static json_t *attach_tags(zs_call_t *call, json_t **error)
{
    const char *rtype = zs_call_str(call, "resourceType"), *ruuid = zs_call_str(call, "resourceUuid");
    static const char *const kinds[][2] = {{"systemTags", "System"}, {"userTags", "User"}};
    for (int k = 0; k < 2; k++) {
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(call->req->body, kinds[k][0]), i, t) {
            json_t *rec = create_tag(call, kinds[k][1], rtype, ruuid, json_string_value(t), false, error);
            if (!rec)   /* the caller (the resource's creator) owns the tags */
                return NULL;
            json_decref(rec);
        }
    }
    return json_object();
}

static int delete_resource_tags_in(zs_service_t *svc, MDB_txn *txn, const char *ruuid)
{
    zs_store_t *store = zs_service_store(svc);
    json_t *r = json_string(ruuid);
    json_t *uuids = zs_store_find(store, txn, TAGS, "resourceUuid", r, 1000000);
    json_decref(r);
    if (!uuids)
        return EIO;   /* the index walk failed (logged): never report the tags as deleted */
    int rc = zs_store_del_all(store, txn, TAGS, uuids);
    if (rc == 0 && json_array_size(uuids))
        zs_info("deleted %zu tags of deleted resource %s", json_array_size(uuids), ruuid);
    json_decref(uuids);
    return rc;
}

static json_t *delete_resource_tags(zs_call_t *call, json_t **error)
{
    int rc = delete_resource_tags_in(call->svc, call->txn, zs_call_str(call, "resourceUuid"));
    return rc == 0 ? json_object() : zs_call_store_fail(call, error, rc);
}

static json_t *tag_resources(zs_call_t *call, json_t **error)
{
    const zs_resource_t *view = strcmp(zs_call_str(call, "type"), "System") == 0 ? &zs_res_system_tag
                                                                                 : &zs_res_user_tag;
    char cond[4200];
    snprintf(cond, sizeof cond, "tag%s%s", zs_call_str(call, "op"), zs_call_str(call, "value"));
    json_t *params = json_pack("{s:[s], s:i}", "q", cond, "limit", ZS_QUERY_MAX_LIMIT);
    /* Resolution sees every tag; the querying service applies its own visibility rules. */
    zs_query_t *q = zs_query_parse(view, params, error);
    json_t *result = q ? zs_query_run(q, zs_service_store(call->svc), call->txn, NULL, NULL, NULL, NULL, error)
                       : NULL;
    zs_query_destroy(&q);
    json_decref(params);
    if (!result) {
        call->status = 400;
        return NULL;
    }
    json_t *found = json_object_get(result, "inventories");
    if (json_array_size(found) >= ZS_QUERY_MAX_LIMIT) {   /* never a silently cut answer */
        json_decref(result);
        return zs_call_invalid(call, error, "the tag condition [%.200s] matches %d tags or more; "
                               "narrow it", cond, ZS_QUERY_MAX_LIMIT);
    }
    /* Rendered inventories carry resourceUuid; collect each once. */
    json_t *seen = json_object(), *uuids = json_array();
    size_t i;
    json_t *inv;
    json_array_foreach(found, i, inv) {
        const char *r = json_string_value(json_object_get(inv, "resourceUuid"));
        if (r && !json_object_get(seen, r)) {
            json_object_set_new(seen, r, json_true());
            json_array_append_new(uuids, json_string(r));
        }
    }
    json_decref(seen);
    json_decref(result);
    return json_pack("{s:o}", "uuids", uuids);
}

/* ---- service ------------------------------------------------------------------------- */

static bool tags_visible(zs_call_t *call, const json_t *rec)
{
    const char *owner = json_string_value(json_object_get(rec, "accountUuid"));
    return owner && strcmp(owner, zs_msg_account(call->req)) == 0;
}

static int on_deleted(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    return delete_resource_tags_in(svc, txn, arg);
}

static void tags_event(zs_service_t *svc, const char *topic, json_t *body)
{
    const char *ruuid = json_string_value(json_object_get(body, "resourceUuid"));
    if (strcmp(topic, "resource.deleted") == 0 && ruuid)
        zs_service_write(svc, on_deleted, (void *)ruuid);
}

static const zs_resource_t *const resources[] = {&zs_res_system_tag, &zs_res_user_tag, NULL};
static const char *const topics[] = {"resource.deleted", NULL};

static const zs_handler_t handlers[] = {
    {"CreateSystemTag", create_system_tag},
    {"CreateSystemTags", create_system_tags},
    {"UpdateSystemTag", update_system_tag},
    {"CreateUserTag", create_user_tag},
    {"DeleteTag", delete_tag},
    {"AttachTags", attach_tags},
    {"DeleteResourceTags", delete_resource_tags},
    {"TagResources", tag_resources},
    {NULL, NULL},
};

static const zs_module_t tags_module = {
    .name = "tags",
    .resources = resources,
    .handlers = handlers,
    .topics = topics,
    .start = tags_start,
    .on_event = tags_event,
    .visible = tags_visible,
};
static const zs_module_t *const modules[] = {&tags_module, NULL};

const zs_service_def_t zs_tags_service = {
    .name = "tags",
    .schema_version = 1,
    .modules = modules,
};
