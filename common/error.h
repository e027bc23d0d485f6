/* error.h — the errors of the suite.
 *
 * An error is a jansson object shaped like the "error" member of rest.md's error body:
 * {"code", "description", "details", "cause"?}. The description always comes from the code
 * (ZStack's texts), so callers only say what happened in `details`.
 *
 * Any thread may call these functions. Every function returning json_t * returns a NEW
 * reference the caller owns (json_decref), or NULL only when memory is exhausted.
 */
#ifndef ZS_ERROR_H
#define ZS_ERROR_H
#include <jansson.h>

#define ZS_SYS_INTERNAL   "SYS.1000"
#define ZS_SYS_TIMEOUT    "SYS.1001"
#define ZS_SYS_NOT_FOUND  "SYS.1003"
#define ZS_SYS_FAILED     "SYS.1006"
#define ZS_SYS_INVALID    "SYS.1007"
#define ZS_SYS_BUSY       "SYS.1010"   /* overloaded: refused at once, retry later (503) */
#define ZS_SYS_CANCELLED  "SYS.1017"
#define ZS_ID_AUTH        "ID.1000"
#define ZS_ID_SESSION     "ID.1001"
#define ZS_ID_DENIED      "ID.1002"
#define ZS_ID_MAX_SESSION "ID.1006"

/* Returns ZStack's description of `code`, or "An error happened" for an unknown code. */
const char *zs_error_description(const char *code);

/* New error with a printf-style details text. */
json_t *zs_error(const char *code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The "code" of an error object, or "" when there is none. Borrowed. */
const char *zs_error_code(const json_t *error);

/* Shorthand for the invalid-argument error of the REST layer:
 * details = "field[<field>] of <api> <why>". */
json_t *zs_error_param(const char *api, const char *field, const char *why);

#endif
