/* requests.c — checking the requests of a ticket (see ticket.h). */
#include "error.h"
#include "ticket.h"
#include <math.h>
#include <string.h>

/* executeTimes: an integer, or the SDK's integral real (1.0). 0 when absent, -1 when bad. */
static long execute_times(const json_t *v)
{
    if (!v)
        return 0;
    if (json_is_integer(v))
        return json_integer_value(v) >= 1 ? (long)json_integer_value(v) : -1;
    if (json_is_real(v)) {
        double d = json_real_value(v);
        return d >= 1 && d <= 1e9 && floor(d) == d ? (long)d : -1;
    }
    return -1;
}

static json_t *check_one(zs_call_t *call, size_t i, const json_t *item, json_t **error)
{
    if (!json_is_object(item))
        return zs_call_invalid(call, error, "requests[%zu] must be an object {requestName, apiName, "
                               "executeTimes, apiBody}", i);
    json_t *name = json_object_get(item, "requestName");
    json_t *api_name = json_object_get(item, "apiName");
    json_t *body = json_object_get(item, "apiBody");
    if (name && (!json_is_string(name) || json_string_length(name) > 255))
        return zs_call_invalid(call, error, "requests[%zu].requestName must be a string of at most 255 characters", i);
    if (!json_is_string(api_name) || json_string_length(api_name) == 0 || json_string_length(api_name) > 255)
        return zs_call_invalid(call, error, "requests[%zu].apiName is mandatory: the API to run "
                               "(e.g. org.zstack.header.tag.APICreateSystemTagMsg)", i);
    long times = execute_times(json_object_get(item, "executeTimes"));
    if (times < 0 || times > TICKET_MAX_EXECUTE_TIMES)
        return zs_call_invalid(call, error, "requests[%zu].executeTimes must be an integer between 1 and %d",
                               i, TICKET_MAX_EXECUTE_TIMES);
    if (body && !json_is_object(body) && !json_is_null(body))
        return zs_call_invalid(call, error, "requests[%zu].apiBody must be an object", i);
    const char *aname = json_string_value(api_name);
    const zs_api_t *api = zs_api_find(aname);
    if (!api || !api->method || !(api->flags & ZS_API_ASYNC) ||
        (api->flags & (ZS_API_INTERNAL | ZS_API_FOREIGN)))
        return zs_call_fail(call, error, ZS_SYS_INVALID, "invalid request. no API[%.255s] found", aname);
    if ((api->flags & ZS_API_ADMIN) && !zs_msg_admin(call->req))
        return zs_call_fail(call, error, ZS_ID_DENIED, "requests[%zu]: API[%s] is for admin accounts only",
                            i, api->name);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    size_t size = text ? strlen(text) : 0;
    free(text);
    if (size > TICKET_MAX_API_BODY)
        return zs_call_invalid(call, error, "requests[%zu].apiBody is %zu bytes of JSON; at most %d",
                               i, size, TICKET_MAX_API_BODY);
    json_t *params = json_is_object(body) ? json_deep_copy(body) : json_object();
    json_t *why = NULL;
    int rc = zs_api_validate(api, params, &why);
    json_decref(params);
    if (rc != 0) {
        json_t *out = zs_call_invalid(call, error, "requests[%zu] (%s): %s", i, api->name,
                                      json_string_value(json_object_get(why, "details")));
        json_decref(why);
        return out;
    }
    json_t *out = json_pack("{s:O, s:I, s:o}", "apiName", api_name, "executeTimes",
                            (json_int_t)(times ? times : 1), "apiBody",
                            json_is_object(body) ? json_deep_copy(body) : json_object());
    if (name)
        json_object_set(out, "requestName", name);
    return out;
}

json_t *requests_check(zs_call_t *call, const json_t *requests, json_t **error)
{
    if (!json_is_array(requests) || json_array_size(requests) == 0)
        return zs_call_invalid(call, error, "requests must be a non-empty list");
    json_t *out = json_array();
    size_t i, calls = 0;
    json_t *item;
    json_array_foreach(requests, i, item) {
        json_t *checked = check_one(call, i, item, error);
        if (!checked) {
            json_decref(out);
            return NULL;
        }
        calls += (size_t)json_integer_value(json_object_get(checked, "executeTimes"));
        json_array_append_new(out, checked);
    }
    if (calls > TICKET_MAX_CALLS) {
        json_decref(out);
        return zs_call_invalid(call, error, "the requests make %zu API calls; a ticket may make at most %d",
                               calls, TICKET_MAX_CALLS);
    }
    return out;
}

size_t requests_calls(const json_t *requests)
{
    size_t i, n = 0;
    json_t *item;
    json_array_foreach(requests, i, item)
        n += (size_t)json_integer_value(json_object_get(item, "executeTimes"));
    return n;
}
