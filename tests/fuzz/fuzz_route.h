/* fuzz_route.h — the gateway's steps after parsing that the HTTP harnesses share (fuzz_http.c,
 * fuzz_request.c): routing and validation against the API table. Include it after
 * gateway/route.c (the harnesses compile the gateway's sources into themselves). */
#ifndef ZS_FUZZ_ROUTE_H
#define ZS_FUZZ_ROUTE_H

/* Routes `method` `path` (doc: the parsed body, or NULL) and, when an API matches and the
 * query string parsed (params non-NULL, borrowed, the path parameters merged into it),
 * validates the parameters as the gateway does. Frees what the route made. */
static void fuzz_route_and_validate(const char *method, const char *path, json_t *doc,
                                    json_t *params)
{
    route_t route;
    route_find(method, path, doc, &route);
    if (route.api && params) {
        json_object_update(params, route.path_params);
        json_t *error = NULL;
        if (zs_api_validate(route.api, params, &error) != 0)
            json_decref(error);
    }
    json_decref(route.path_params);
}

#endif
