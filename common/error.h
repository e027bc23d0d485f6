/* error.h — the errors of the suite, and the one way a function reports that it failed.
 *
 * An error is a jansson object shaped like the "error" member of rest.md's error body:
 * {"code", "description", "details", "cause"?}. The description always comes from the code
 * (ZStack's texts), so callers only say what happened in `details`.
 *
 * THE RULE. Every common/ module follows it; the rest of the tree follows it as it is
 * touched.
 *
 * 1. Failure is said by the return value.
 *    - A function that can fail and returns int returns 0 on success and -1 on failure,
 *      unless its header documents other codes: the store returns LMDB or errno codes
 *      (store.h, printable with zs_store_strerror). Callers test `!= 0`, not `< 0` (LMDB's
 *      codes are negative, errno's positive). A function returning a count or a length
 *      returns it (>= 0), or -1.
 *    - A function returning a pointer returns NULL on failure.
 *    - bool answers a question (zs_uuid_valid; "does this text parse": zs_date_parse); it
 *      never reports that something could not be done (I/O, memory).
 *    - An HTTP status is never a return value: it is a hint carried beside a reply
 *      (zs_call_t.status, zs_msg_t.status) by the handler that chooses it. The error's code
 *      says what happened.
 *
 * 2. The reason, when the caller needs one (to answer a client, or to report it in its own
 *    words), comes out through a last parameter `json_t **error`. On failure *error receives
 *    a NEW error object (zs_error, zs_fail) that the caller owns; on success it is not
 *    touched, so the caller passes a pointer to NULL. `error` may be NULL when the caller
 *    does not want the reason: nothing is built then. (Handlers, service.h, always get one.)
 *    Reasons are never written into char buffers nor handed out as `const char **why`: an
 *    error object carries a code, so it can go to a client as it is, and zs_error_details
 *    gives its text for a log line.
 *    Two shapes are not failures and keep their own form:
 *    - checks named *_refusal (and zs_license_check_payload) answer "is this valid?": NULL
 *      when it is, else a static text saying why not, for the caller to put in its error;
 *    - a function that has no caller to tell (a constructor such as zs_store_open, start-up
 *      steps such as zs_bus_keys_init, a background step) logs its reason itself (log.h)
 *      and returns NULL or -1; its header says so ("logged"). zs_config_load and
 *      zs_node_init run before logging names the process and print to stderr instead.
 *
 * 3. Out of memory.
 *    - At start (configuration, keys, opening the store, making the service) the start
 *      fails: zs_config_* end the process with a message; the others fail like for any
 *      other reason (logged) and main() exits.
 *    - While serving, a failed allocation is a failure like any other: the function returns
 *      NULL or -1, with *error when one can be made. zs_error itself returns NULL when memory
 *      is exhausted, so *error may stay NULL after a failure: json_decref, zs_error_code and
 *      zs_error_details accept NULL, and the service runtime answers a handler that failed
 *      without an error with SYS.1000 (HTTP 503, the default status of a failed reply).
 *    - jansson's NULL returns are checked where the value is used: before it is dereferenced,
 *      stored or sent. json_pack fails as a whole (checking its result is enough);
 *      json_object_set_new / json_array_append_new of a NULL value leave the member out and
 *      return -1, and that return is checked wherever a missing member changes the meaning
 *      (a bus envelope without its caller would be a system call: zs_msg_encode fails).
 *    - Nothing aborts on a failed allocation while serving.
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

/* The "details" text of an error, or "" when there is none (also for NULL). Borrowed. */
const char *zs_error_details(const json_t *error);

/* For a function with an optional `json_t **error` that fails: when `error` is not NULL,
 * *error = zs_error(code, fmt, ...); when it is NULL nothing is built. Returns -1, so an int
 * function can `return zs_fail(error, ...)` and a pointer one `return zs_fail(...), NULL`. */
int zs_fail(json_t **error, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
