/* error.c — see error.h. */
#include "error.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct { const char *code, *text; } descriptions[] = {
    {"SYS.1000", "An internal error happened in system"},
    {"SYS.1001", "A message or a operation timeout"},
    {"SYS.1003", "A resource can not be found"},
    {"SYS.1006", "An operation failed"},
    {"SYS.1007", "One or more API argument is invalid"},
    {"SYS.1010", "The service is busy and not ready for more work; retry later"},
    {"SYS.1017", "A message or a operation cancelled"},
    {"ID.1000", "Unable to authenticate a user"},
    {"ID.1001", "The session is invalid, either wrong session id or the session has been expired"},
    {"ID.1002", "The user doesn't have permission to perform the operation"},
    {"ID.1006", "Max number of active sessions exceeded"},
    {"LICENSE.1000", "The license has expired"},
    {"LICENSE.1001", "The license capacity is exceeded"},
    {"LICENSE.1002", "The license is not issued for this installation"},
    {"LICENSE.1004", "The license is older than the one installed"},
    {"LICENSE.1006", "The license is invalid"},
    {"LICENSE.1008", "The add-on license needs a primary license that allows add-ons"},
    {"LONG_JOB.1000", "The long job was canceled"},
    {"LONG_JOB.1001", "The long job failed"},
    {"LONG_JOB.1002", "The long job was interrupted"},
    {"LONG_JOB.1003", "The operation is not supported by this long job"},
};

const char *zs_error_description(const char *code)
{
    for (size_t i = 0; i < sizeof descriptions / sizeof descriptions[0]; i++)
        if (strcmp(descriptions[i].code, code) == 0)
            return descriptions[i].text;
    return "An error happened";
}

json_t *zs_error(const char *code, const char *fmt, ...)
{
    char details[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof details, fmt, ap);
    va_end(ap);
    return json_pack("{s:s, s:s, s:s}", "code", code, "description", zs_error_description(code),
                     "details", details);
}

const char *zs_error_code(const json_t *error)
{
    const char *c = json_string_value(json_object_get(error, "code"));
    return c ? c : "";
}

json_t *zs_error_param(const char *api, const char *field, const char *why)
{
    return zs_error(ZS_SYS_INVALID, "field[%s] of %s %s", field, api, why);
}

const char *zs_error_details(const json_t *error)
{
    const char *d = json_string_value(json_object_get(error, "details"));
    return d ? d : "";
}

int zs_fail(json_t **error, const char *code, const char *fmt, ...)
{
    if (!error)
        return -1;
    char details[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof details, fmt, ap);
    va_end(ap);
    *error = zs_error(code, "%s", details);
    return -1;
}
