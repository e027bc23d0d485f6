/* route.c — see route.h. */
#include "route.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEGMENTS 16

typedef struct {
    const char *start[MAX_SEGMENTS];
    size_t len[MAX_SEGMENTS];
    int n;
} segments_t;

static int split(const char *path, segments_t *s)
{
    s->n = 0;
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        if (s->n == MAX_SEGMENTS)
            return -1;
        const char *e = strchr(p, '/');
        s->start[s->n] = p;
        s->len[s->n] = e ? (size_t)(e - p) : strlen(p);
        s->n++;
        p += s->len[s->n - 1];
    }
    return 0;
}

static bool is_placeholder(const char *seg, size_t len)
{
    return len > 2 && seg[0] == '{' && seg[len - 1] == '}';
}

/* The path templates of every API row, split once (the table never changes). */
static segments_t *templates;
static pthread_once_t templates_once = PTHREAD_ONCE_INIT;

static void split_templates(void)
{
    templates = calloc(zs_api_count(), sizeof *templates);
    for (size_t i = 0; i < zs_api_count(); i++)
        if (zs_api_at(i)->path && split(zs_api_at(i)->path, &templates[i]) != 0)
            templates[i].n = -1;   /* too deep: never matches */
}

/* The split template of row i. */
static const segments_t *template_of(size_t i)
{
    pthread_once(&templates_once, split_templates);
    return &templates[i];
}

/* Matches template `tpl` (plus an optional trailing "{uuid}") against the request segments.
 * Returns the number of literal segments matched, or -1. Binds placeholders into params. */
static int match_split(const segments_t *tpl, bool with_uuid, const segments_t *req, json_t *params)
{
    if (tpl->n < 0 || tpl->n + (with_uuid ? 1 : 0) != req->n)
        return -1;
    int literals = 0;
    for (int i = 0; i < req->n; i++) {
        const char *ts = i < tpl->n ? tpl->start[i] : "{uuid}";
        size_t tl = i < tpl->n ? tpl->len[i] : 6;
        if (is_placeholder(ts, tl)) {
            if (params) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(tl - 2), ts + 1);
                json_object_set_new(params, name, json_stringn(req->start[i], req->len[i]));
            }
        } else if (tl == req->len[i] && memcmp(ts, req->start[i], tl) == 0) {
            literals++;
        } else {
            return -1;
        }
    }
    return literals;
}

/* Does the body name one of the API's action keys ("a|b" aliases)? Returns the key. */
static const char *named_action(const zs_api_t *api, const json_t *body)
{
    if (!api->action)
        return "";
    const char *p = api->action;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)body, key, v)
            if (strlen(key) == n && memcmp(key, p, n) == 0)
                return key;
        p += n + (bar ? 1 : 0);
    }
    return NULL;
}

int route_find(const char *method, const char *path, const json_t *body, route_t *route)
{
    memset(route, 0, sizeof *route);
    segments_t req;
    if (split(path, &req) != 0) {
        route->status = 404;
        return 404;
    }
    int best = -1;
    bool path_known = false, action_missing = false;
    for (size_t i = 0; i < zs_api_count(); i++) {
        const zs_api_t *a = zs_api_at(i);
        if (!a->method || (a->flags & ZS_API_ROOT))
            continue;
        int score = match_split(template_of(i), false, &req, NULL);
        bool with_uuid = false;
        if (score < 0 && (a->flags & ZS_API_QUERY)) {
            score = match_split(template_of(i), true, &req, NULL);
            with_uuid = true;
        }
        if (score < 0)
            continue;
        path_known = true;
        if (strcmp(a->method, method) != 0 || score < best)
            continue;
        const char *action = named_action(a, body);
        if (!action) {
            action_missing = true;
            continue;
        }
        if (score == best && route->api)
            continue;   /* first row wins a tie */
        best = score;
        json_decref(route->path_params);
        route->path_params = json_object();
        match_split(template_of(i), with_uuid, &req, route->path_params);
        route->api = a;
        route->action = *action ? action : NULL;
    }
    route->status = route->api ? 0 : action_missing ? 400 : path_known ? 405 : 404;
    return route->status;
}

int route_find_root(const char *method, const char *uri, const char *rpc_action, route_t *route)
{
    memset(route, 0, sizeof *route);
    segments_t req;
    bool path_known = false;
    if (split(uri, &req) == 0)
        for (size_t i = 0; i < zs_api_count(); i++) {
            const zs_api_t *a = zs_api_at(i);
            if (!a->method || !(a->flags & ZS_API_ROOT) || !a->action || !rpc_action ||
                strcmp(a->action, rpc_action) != 0 || match_split(template_of(i), false, &req, NULL) < 0)
                continue;
            path_known = true;
            if (strcmp(a->method, method) != 0)
                continue;
            route->api = a;
            route->path_params = json_object();
            match_split(template_of(i), false, &req, route->path_params);
            break;
        }
    route->status = route->api ? 0 : path_known ? 405 : 404;
    return route->status;
}
