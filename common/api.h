/* api.h — the API table: every API of the suite declared once.
 *
 * A row says how the API is reached over HTTP (method, path template, action key), what its
 * parameters are (types, required, limits, enums), whether it is async, needs a session or an
 * admin, which service owns it, and what its reply looks like. From the rows:
 *   - the gateway routes, validates and builds bus requests (gateway/route.c);
 *   - each service dispatches requests to its handlers (service.h);
 *   - the CLI and the OpenAPI document are generated (tools/, gateway/openapi.c).
 * Adding an API = one row in common/apis_<domain>.c + one handler in its service.
 *
 * Rows are static and immutable; any thread may read them.
 */
#ifndef ZS_API_H
#define ZS_API_H
#include "resource.h"
#include <jansson.h>
#include <stdbool.h>

typedef enum {
    ZS_P_STRING,   /* JSON string (query-string text as is) */
    ZS_P_INT,      /* JSON integer, or a decimal string from a query string */
    ZS_P_REAL,     /* JSON number */
    ZS_P_BOOL,     /* true/false, or "true"/"false" */
    ZS_P_UUID,     /* 32 lowercase hex chars */
    ZS_P_LIST,     /* JSON array of strings; from a query string: repeated or comma list */
    ZS_P_OBJECT,   /* JSON object */
    ZS_P_ARRAY,    /* JSON array of anything (objects...) */
    ZS_P_ANY,      /* any JSON value; a string holding JSON text is kept as given */
    /* Strings of a format, checked by the gateway before a call is dispatched or a job stored
     * (so an async API refuses them with 400 at once, not on poll); handlers may check again
     * with the same functions below. */
    ZS_P_ADDRESS,  /* an IPv4 or IPv6 address or a DNS host name (zs_address_refusal) */
    ZS_P_TAG,      /* tag text (zs_tag_refusal) */
    ZS_P_RESOURCE_TYPE, /* a resource type name, e.g. VmInstanceVO (zs_resource_type_refusal) */
} zs_ptype_t;

typedef struct {
    const char *name;
    zs_ptype_t type;
    bool required;
    long min;                    /* strings: min chars; lists/arrays: min items; ints: min value */
    long max;                    /* same, upper bound; 0 = the type's default bound */
    const char *const *choices;  /* allowed string values, NULL-terminated; NULL = any */
} zs_param_t;

enum {
    ZS_API_ASYNC      = 1 << 0,  /* 202 + api-job through the broker */
    ZS_API_NO_SESSION = 1 << 1,  /* no Authorization needed */
    ZS_API_ADMIN      = 1 << 2,  /* admin accounts only (ID.1002 otherwise) */
    ZS_API_QUERY      = 1 << 3,  /* query API: path and path/{uuid}; params are the query's */
    ZS_API_INTERNAL   = 1 << 4,  /* bus only: no HTTP route */
    ZS_API_WRITES     = 1 << 5,  /* the handler writes the store (sync writers: login...) */
    ZS_API_CREATE     = 1 << 6,  /* takes resourceUuid/systemTags/userTags (apis.md preamble) */
    /* Another cloud's dialect (sync APIs only). The session may also come as
     * `X-Auth-Token: <uuid>`. The gateway writes no body of its own for such a row: when it
     * would refuse the call (no/bad session 401, admin only 403, bad parameters 400 — the
     * parameters are then dropped, core unreachable 503) it still hands the call to the
     * service, with caller.gatewayError = {"status": n, "error": {...}} (caller has no
     * accountUuid when the session failed), and the service answers in its dialect. A
     * successful reply is sent verbatim: its status hint (default 200) and its body as is.
     * Declare every parameter optional: the service validates them again. */
    ZS_API_FOREIGN    = 1 << 7,
    /* RPC style at the server root (Alibaba's `GET /?Action=X`): `path` is relative to the
     * server root, not to /zstack/v1, and `action` is the value the `Action` query
     * parameter must hold. */
    ZS_API_ROOT       = 1 << 8,
};

typedef enum {
    ZS_REPLY_INVENTORY,    /* {"inventory": {...}} */
    ZS_REPLY_INVENTORIES,  /* {"inventories": [...]} */
    ZS_REPLY_EMPTY,        /* {} */
    ZS_REPLY_OTHER,        /* whatever the handler builds */
} zs_reply_t;

typedef struct zs_api {
    const char *name;               /* "CreateSystemTag" */
    const char *klass;              /* "org.zstack.header.tag.APICreateSystemTagMsg" */
    const char *method;             /* "GET" "POST" "PUT" "DELETE", NULL for internal APIs */
    const char *path;               /* "/system-tags/{uuid}/actions", under /zstack/v1 */
    const char *action;             /* PUT actions: the body key(s), '|'-separated aliases */
    unsigned flags;
    const char *service;            /* owning service: "tags", "core", ... */
    const zs_param_t *params;       /* terminated by {NULL} */
    zs_reply_t reply;
    const zs_resource_t *resource;  /* the inventory's resource (schema, queries), or NULL */
    /* The reply's members that hold typed objects, {NULL}-terminated; NULL = the resource's
     * class for "inventory" and "inventories". */
    const zs_typed_t *typed;
} zs_api_t;

/* The rows live in one array per domain, common/apis_<domain>.c, each terminated by a row
 * whose name is NULL ({0}); the list of those arrays is in api.c. Likewise every domain lists
 * its resource descriptors (NULL-terminated). Rows are written with designated initializers
 * (`.name = "tag", .type = ZS_P_TAG, .required = true`), members left out being 0/NULL. */
extern const zs_api_t zs_apis_core[], zs_apis_tags[], zs_apis_ticket[], zs_apis_longjob[],
    zs_apis_license[], zs_apis_gc[], zs_apis_broker[];
extern const zs_resource_t *const zs_resources_core[], *const zs_resources_tags[],
    *const zs_resources_ticket[], *const zs_resources_longjob[], *const zs_resources_license[],
    *const zs_resources_gc[], *const zs_resources_broker[];
/* The resource descriptors themselves, by domain, for the services that own them. */
extern const zs_resource_t zs_res_account, zs_res_session, zs_res_node, zs_res_notification,
    zs_res_host;                                                        /* apis_core.c */
extern const zs_resource_t zs_res_system_tag, zs_res_user_tag;          /* apis_tags.c */
extern const zs_resource_t zs_res_ticket, zs_res_ticket_history, zs_res_ticket_type,
    zs_res_ticket_flow_collection, zs_res_ticket_flow;                  /* apis_ticket.c */
extern const zs_resource_t zs_res_longjob;                              /* apis_longjob.c */
extern const zs_resource_t zs_res_license_record;                       /* apis_license.c */
extern const zs_resource_t zs_res_gc_job;                               /* apis_gc.c */
extern const zs_resource_t zs_res_api_job, zs_res_webhook_delivery;     /* apis_broker.c */

/* Every API of the suite: the number of rows, and row i (0 <= i < count). */
size_t zs_api_count(void);
const zs_api_t *zs_api_at(size_t i);
/* The services that own APIs (every one a process with its own store: "core", "tags",
 * "broker"...), each once, in table order, into names (at most max). Returns how many. */
size_t zs_api_services(const char **names, size_t max);

/* The API named `name`: simple name ("CreateSystemTag"), ZStack class name
 * ("org.zstack.header.tag.APICreateSystemTagMsg") or simple class name
 * ("APICreateSystemTagMsg"). NULL when none. */
const zs_api_t *zs_api_find(const char *name);

/* The resource named `name` ("SystemTag") or whose vo is `name` ("TicketVO"), or NULL. */
const zs_resource_t *zs_resource_find(const char *name);

/* Checks and normalises `params` (an object; modified in place: query-string text turned into
 * ints/bools/lists, unknown members removed, "systemTags"/"userTags" kept when the API creates).
 * Returns 0, or -1 and, when `error` is not NULL, *error = SYS.1007 naming the field (SYS.1000
 * when memory ran out). */
int zs_api_validate(const zs_api_t *api, json_t *params, json_t **error);

/* The X-JSON-Schema object for `result` of `api` (new reference; {} when there is nothing to
 * describe): every object of the result that has a class (api->typed, or the resource's class
 * for "inventory"/"inventories"; then the classes' typed members, recursively) named by its
 * path, e.g. {"inventory": "org.zstack.ticket.entity.TicketInventory",
 * "inventory.request[0]": "org.zstack.ticket.entity.TicketRequest"}. */
json_t *zs_api_schema(const zs_api_t *api, const json_t *result);

/* The reply members of `api` that hold typed objects: api->typed, or else "inventory" and
 * "inventories" of its resource's class, written into `buf`. NULL when the reply has none. */
const zs_typed_t *zs_api_typed(const zs_api_t *api, zs_typed_t buf[3]);

/* NULL when `s` is an IPv4 or IPv6 address or a DNS host name (letters, digits, '-' and '.',
 * at most 253, not starting with '-' or '.'), else why not (static text). */
const char *zs_address_refusal(const char *s);

/* NULL when `s` is tag text (1..512 bytes, no control characters, "::" separating non-empty
 * segments), else why not (static text). */
const char *zs_tag_refusal(const char *s);

/* NULL when `s` is a resource type name (letters and digits ending in "VO"), else why not
 * (static text). */
const char *zs_resource_type_refusal(const char *s);

/* The parameter named `name` of `api`, or NULL. */
const zs_param_t *zs_api_param(const zs_api_t *api, const char *name);

#endif
