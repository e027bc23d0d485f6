/* service_call.c — helpers for handlers (zs_call_*, service.h): parameters, replies, errors,
 * and what create APIs share (resourceUuid, tags). */
#include "error.h"
#include "service_internal.h"
#include "uuid.h"
#include <stdarg.h>
#include <string.h>

const char *zs_call_str(const zs_call_t *call, const char *name)
{
    return json_string_value(json_object_get(call->req->body, name));
}

json_t *zs_call_inventory(const zs_resource_t *res, const json_t *rec)
{
    return json_pack("{s:o}", "inventory", zs_resource_render(res, rec, NULL));
}

json_t *zs_call_invalid(zs_call_t *call, json_t **error, const char *fmt, ...)
{
    char details[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof details, fmt, ap);
    va_end(ap);
    call->status = 400;
    *error = zs_error(ZS_SYS_INVALID, "%s", details);
    return NULL;
}

json_t *zs_call_fail(zs_call_t *call, json_t **error, const char *code, const char *fmt, ...)
{
    (void)call;
    char details[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof details, fmt, ap);
    va_end(ap);
    *error = zs_error(code, "%s", details);
    return NULL;
}

int zs_call_new_uuid(zs_call_t *call, const char *collection, char out[33], json_t **error)
{
    const char *given = zs_call_str(call, "resourceUuid");
    if (!given) {
        zs_uuid_new_ordered(out);
        return 0;
    }
    json_t *old = zs_store_get(call->svc->store, call->txn, collection, given);
    if (old) {
        json_decref(old);
        *error = zs_error(ZS_SYS_INVALID, "resourceUuid[%s] is already used by another resource", given);
        return -1;
    }
    snprintf(out, 33, "%s", given);
    return 0;
}

int zs_call_attach_tags(zs_call_t *call, const char *uuid, const char *resource_type,
                        json_t **error)
{
    json_t *sys = json_object_get(call->req->body, "systemTags");
    json_t *user = json_object_get(call->req->body, "userTags");
    if (json_array_size(sys) == 0 && json_array_size(user) == 0)
        return 0;
    /* Everything svc-tags would refuse is refused here, before the creation commits: once
     * it has, the tags must go through. */
    static const char *const lists[] = {"systemTags", "userTags"};
    for (int k = 0; k < 2; k++) {
        const json_t *list = k ? user : sys, *t;
        size_t i;
        json_array_foreach(list, i, t) {
            const char *tag = json_string_value(t);
            const char *why = tag ? zs_tag_refusal(tag) : "must be a string";
            if (!why)
                why = zs_resource_type_refusal(resource_type);
            for (size_t j = 0; !why && k == 1 && j < i; j++)
                if (json_equal(json_array_get(list, j), (json_t *)t))
                    why = "is given twice";
            if (why) {
                zs_call_invalid(call, error, "%s[%zu] (%.80s): %s", lists[k], i, tag ? tag : "", why);
                return -1;
            }
        }
    }
    json_t *body = json_pack("{s:s, s:s, s:O?, s:O?, s:s?}", "resourceUuid", uuid, "resourceType",
                             resource_type, "systemTags", sys, "userTags", user, "accountUuid",
                             zs_msg_account(call->req));
    int rc = zs_call_send_after_commit(call, "tags", "AttachTags", body);
    if (rc != 0) {
        zs_call_store_fail(call, error, rc);
        return -1;
    }
    return 0;
}

json_t *zs_call_store_fail(zs_call_t *call, json_t **error, int rc)
{
    return zs_call_fail(call, error, ZS_SYS_INTERNAL, "store: %s", zs_store_strerror(rc));
}
