/* fuzz_query.c — zs_query_parse and zs_query_match_one on hostile query parameters.
 *
 * Input: lines separated by '\n'. A line "@name=value" sets query parameter `name` (limit,
 * start, sort, sortBy, sortDirection, fields, groupBy, count, replyWithCount, or anything);
 * a repeated name becomes an array, as a repeated URL parameter does. Every other line is
 * one q condition. Bytes go in unchecked (invalid UTF-8 and NUL included), as a gateway bug
 * might let them through. When the query parses, each condition is also matched against a
 * fixed record, which drives the matcher (LIKE backtracking, typed comparisons, sets).
 * Nothing may crash, leak or hang. */
#include "query.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const zs_field_t fields[] = {
    {"uuid", ZS_FT_STRING, false, false},
    {"name", ZS_FT_STRING, true, false},
    {"size", ZS_FT_INT, true, false},
    {"weight", ZS_FT_REAL, false, false},
    {"enabled", ZS_FT_BOOL, true, false},
    {"createDate", ZS_FT_TIME, true, false},
    {"time", ZS_FT_EPOCH, false, false},
    {"meta", ZS_FT_JSON, false, false},
    {"ownerUuid", ZS_FT_STRING, true, false},
    {"secret", ZS_FT_STRING, false, true},
    {.name = NULL},
};
static const zs_join_t joins[] = {{"owner", "Owner", "ownerUuid", "uuid"}, {.name = NULL}};
static const zs_resource_t res = {
    .name = "FuzzThing", .collection = "things", .fixed = "enabled not null",
    .fields = fields, .joins = joins,
};

#define MAX_LINES 80    /* past the 64-condition limit, so that refusal is reached too */

static void param_add(json_t *params, const char *line, size_t len)
{
    const char *eq = memchr(line, '=', len);
    if (!eq || eq == line)
        return;
    char name[64];
    size_t n = (size_t)(eq - line) < sizeof name - 1 ? (size_t)(eq - line) : sizeof name - 1;
    memcpy(name, line, n);
    name[n] = '\0';
    if (memchr(name, '\0', n))
        return;                 /* an object key cannot hold NUL */
    json_t *value = json_stringn_nocheck(eq + 1, len - (size_t)(eq + 1 - line));
    json_t *old = json_object_get(params, name);
    if (!old) {
        json_object_set_new_nocheck(params, name, value);
    } else if (json_is_array(old)) {
        json_array_append_new(old, value);
    } else {
        json_t *a = json_pack("[O o]", old, value);
        json_object_set_new_nocheck(params, name, a);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *params = json_object();
    json_t *q = json_array();
    const char *p = (const char *)data, *end = p + size;
    for (int lines = 0; p <= end && lines < MAX_LINES; lines++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 0 && p[0] == '@')
            param_add(params, p + 1, len - 1);
        else if (len > 0)
            json_array_append_new(q, json_stringn_nocheck(p, len));
        if (!nl)
            break;
        p = nl + 1;
    }
    json_object_set_new_nocheck(params, "q", q);

    json_t *error = NULL;
    zs_query_t *query = zs_query_parse(&res, params, &error);
    if (query) {
        if (error)
            abort();            /* success must not leave an error behind */
        zs_query_add(query, "size>=0", NULL);
        zs_query_destroy(&query);
        if (query)
            abort();
        json_t *rec = json_pack("{s:s, s:s, s:i, s:f, s:b, s:I, s:I, s:{s:[i,s]}, s:s}",
                                "uuid", "u-1", "name", "al\xc3\xa9pha%_x", "size", 42,
                                "weight", 2.5, "enabled", 1, "createDate",
                                (json_int_t)1483674676000LL, "time", (json_int_t)1000,
                                "meta", "a", 1, "b", "ownerUuid", "o-1");
        size_t i;
        json_t *c;
        json_array_foreach(q, i, c) {
            json_t *e = NULL;
            int m = zs_query_match_one(&res, rec, json_string_value(c), &e);
            if ((m < 0) != (e != NULL))
                abort();        /* -1 exactly when there is an error */
            json_decref(e);
        }
        json_decref(rec);
    } else if (!error || !json_string_value(json_object_get(error, "details"))) {
        abort();                /* a refusal always says why */
    }
    json_decref(error);
    json_decref(params);
    return 0;
}
