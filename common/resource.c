/* resource.c — see resource.h. */
#include "resource.h"
#include "clock.h"
#include <string.h>

const zs_field_t *zs_resource_field(const zs_resource_t *res, const char *name, bool visible_only)
{
    for (const zs_field_t *f = res->fields; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return visible_only && f->hidden ? NULL : f;
    return NULL;
}

const zs_join_t *zs_resource_join(const zs_resource_t *res, const char *name)
{
    for (const zs_join_t *j = res->joins; j && j->name; j++)
        if (strcmp(j->name, name) == 0)
            return j;
    return NULL;
}

static bool wanted(const json_t *fields, const char *name)
{
    if (!fields)
        return true;
    size_t i;
    json_t *v;
    json_array_foreach(fields, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
            return true;
    return false;
}

json_t *zs_resource_render(const zs_resource_t *res, const json_t *rec, const json_t *fields)
{
    json_t *out = json_object();
    for (const zs_field_t *f = res->fields; f->name; f++) {
        json_t *v = json_object_get(rec, f->name);
        if (!v || json_is_null(v) || f->hidden || !wanted(fields, f->name))
            continue;
        char buf[48];
        int rc = f->type == ZS_FT_TIME && json_is_integer(v)
                     ? json_object_set_new(out, f->name, json_string(zs_date_format(
                                               json_integer_value(v), buf, sizeof buf)))
                     : json_object_set(out, f->name, v);
        if (rc != 0) {   /* memory ran out: a record without some fields would mislead */
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

const char *zs_record_owner(const zs_resource_t *res, const json_t *rec)
{
    if (strcmp(res->name, "Account") == 0)
        return json_string_value(json_object_get(rec, "uuid"));
    const char *owner = json_string_value(json_object_get(rec, "accountUuid"));
    return owner ? owner : json_string_value(json_object_get(rec, "submitterUuid"));
}
