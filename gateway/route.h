/* route.h — maps (method, path, body) to an API row of the table (api.h).
 * Paths are relative to /zstack/v1 (or /v1). Literal segments beat placeholders; a query API
 * also answers <path>/{uuid}; several PUT actions on one path are told apart by the body's
 * action key. Thread-safe: reads the immutable table only. */
#ifndef ZS_GATEWAY_ROUTE_H
#define ZS_GATEWAY_ROUTE_H
#include "api.h"

typedef struct {
    const zs_api_t *api;   /* the API, when status is 0 */
    int status;            /* 0, 404 (no such path), 405 (path known, not this method),
                            * 400 (no action of this path is named by the body) */
    json_t *path_params;   /* placeholders bound to their segments (new reference) */
    const char *action;    /* the body key that selected the action, or NULL (borrowed) */
} route_t;

/* Routes a request. `body` may be NULL. Returns route->status. The caller releases
 * route->path_params. */
int route_find(const char *method, const char *path, const json_t *body, route_t *route);

/* Routes an RPC-style request at the server root: rows flagged ZS_API_ROOT whose `path`
 * matches `uri` and whose `action` equals `rpc_action` (the request's Action query parameter,
 * may be NULL). Returns route->status: 0, 404 (no such action there) or 405 (wrong method).
 * Rows flagged ZS_API_ROOT are never found by route_find. */
int route_find_root(const char *method, const char *uri, const char *rpc_action, route_t *route);

#endif
