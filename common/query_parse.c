/* query_parse.c — the query object and its parameters: q, limit, start, count, sort, fields,
 * groupBy; zs_query_parse, _add, _destroy and _match_one.
 * Part of the query module (see query.h; shared pieces in query_internal.h). */
#define _GNU_SOURCE             /* qsort_r, asprintf, strndup */
#include "query_internal.h"
#include "clock.h"
#include "error.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* =============================================================================================
 * The query object and its parameters */


static int query_append(zs_query_t *self, const char *text, size_t len, json_t **error)
{
    if (self->nconds == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        cond_t *c = realloc(self->conds, cap * sizeof *c);
        if (!c) {
            *error = zq_oom();
            return -1;
        }
        self->conds = c;
        self->cap = cap;
    }
    if (zq_cond_parse(self->res, text, len, &self->conds[self->nconds], error) != 0)
        return -1;
    self->nconds++;
    return 0;
}

static json_t *bad_param(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_t *bad_param(const char *name, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return zs_error(ZS_SYS_INVALID, "query parameter[%s] %s", name, why);
}

/* The single text value of parameter `name`, or NULL when absent. Strings are taken as they
 * are, integers and booleans as their text; a repeated parameter (an array) must hold one. */
static int param_text(const json_t *params, const char *name, char *buf, size_t size,
                      const char **text, json_t **error)
{
    const json_t *v = json_object_get(params, name);
    *text = NULL;
    if (json_is_array(v) && json_array_size(v) == 1)
        v = json_array_get(v, 0);
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v))
        *text = json_string_value(v);
    else if (json_is_integer(v))
        *text = buf, snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        *text = json_is_true(v) ? "true" : "false";
    else {
        *error = bad_param(name, "must be given once, as a string, an integer or a boolean");
        return -1;
    }
    return 0;
}

/* A non-negative integer parameter of at most `max`. */
static int param_size(const json_t *params, const char *name, size_t max, size_t dflt,
                      size_t *out, json_t **error)
{
    char buf[32];
    const char *t;
    if (param_text(params, name, buf, sizeof buf, &t, error) != 0)
        return -1;
    *out = dflt;
    if (!t)
        return 0;
    size_t n = strlen(t);
    unsigned long long v = 0;
    bool ok = n > 0 && n <= 18 && strspn(t, "0123456789") == n;
    if (ok)
        v = strtoull(t, NULL, 10);
    if (!ok || v > max) {
        char q[QUOTE_SIZE];
        *error = bad_param(name, "must be an integer from 0 to %zu, not [%s]", max,
                           zq_quote(t, 32, q));
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int param_flag(const json_t *params, const char *name, bool *out, json_t **error)
{
    char buf[32];
    const char *t;
    if (param_text(params, name, buf, sizeof buf, &t, error) != 0)
        return -1;
    *out = false;
    if (!t || strcasecmp(t, "false") == 0)
        return 0;
    if (strcasecmp(t, "true") == 0) {
        *out = true;
        return 0;
    }
    char q[QUOTE_SIZE];
    *error = bad_param(name, "must be true or false, not [%s]", zq_quote(t, 32, q));
    return -1;
}

/* A visible field named by parameter `param`. */
static const zs_field_t *param_field(const zs_resource_t *res, const char *param,
                                     const char *name, json_t **error)
{
    const zs_field_t *f = zs_resource_field(res, name, true);
    char q[QUOTE_SIZE];
    if (!f)
        *error = bad_param(param, "names field[%s], which is not a field of %s",
                           zq_quote(name, SHOWN, q), res->name);
    return f;
}

/* sort=+f / -f (a '+' the URL decoding turned into a space counts too; a bare name is
 * ascending), else sortBy=f with sortDirection=asc|desc. */
static int parse_sort(zs_query_t *self, const json_t *params, json_t **error)
{
    char sbuf[32], bbuf[32], dbuf[32];
    const char *sort, *by, *dir;
    if (param_text(params, "sort", sbuf, sizeof sbuf, &sort, error) != 0
        || param_text(params, "sortBy", bbuf, sizeof bbuf, &by, error) != 0
        || param_text(params, "sortDirection", dbuf, sizeof dbuf, &dir, error) != 0)
        return -1;
    if (dir && strcasecmp(dir, "asc") != 0 && strcasecmp(dir, "desc") != 0) {
        char q[QUOTE_SIZE];
        *error = bad_param("sortDirection", "must be asc or desc, not [%s]", zq_quote(dir, 32, q));
        return -1;
    }
    if (sort) {
        self->desc = *sort == '-';
        if (*sort == '-' || *sort == '+' || *sort == ' ')
            sort++;
        self->sort = param_field(self->res, "sort", sort, error);
        return self->sort ? 0 : -1;
    }
    if (by) {
        self->desc = dir && strcasecmp(dir, "desc") == 0;
        self->sort = param_field(self->res, "sortBy", by, error);
        return self->sort ? 0 : -1;
    }
    return 0;
}

/* Adds the comma-separated names of `text` to self->fields. */
static int fields_add(zs_query_t *self, const char *text, json_t **error)
{
    for (const char *p = text;; p++) {
        size_t n = strcspn(p, ",");
        const char *s = p, *e = p + n;
        while (s < e && *s == ' ')
            s++;
        while (e > s && e[-1] == ' ')
            e--;
        if (e > s) {
            char *name = strndup(s, (size_t)(e - s));
            const zs_field_t *f = name ? param_field(self->res, "fields", name, error) : NULL;
            free(name);
            if (!f) {
                if (!*error)
                    *error = zq_oom();
                return -1;
            }
            bool dup = false;
            size_t i;
            json_t *v;
            json_array_foreach(self->fields, i, v)
                dup = dup || strcmp(json_string_value(v), f->name) == 0;
            if (!dup)
                json_array_append_new(self->fields, json_string(f->name));
        }
        p += n;
        if (!*p)
            return 0;
    }
}

static int parse_fields(zs_query_t *self, const json_t *params, json_t **error)
{
    const json_t *v = json_object_get(params, "fields");
    if (!v || json_is_null(v))
        return 0;
    self->fields = json_array();
    if (!self->fields) {
        *error = zq_oom();
        return -1;
    }
    if (json_is_string(v)) {
        if (fields_add(self, json_string_value(v), error) != 0)
            return -1;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            if (!json_is_string(x)) {
                *error = bad_param("fields", "must be field names");
                return -1;
            }
            if (fields_add(self, json_string_value(x), error) != 0)
                return -1;
        }
    } else {
        *error = bad_param("fields", "must be a comma-separated list of field names");
        return -1;
    }
    if (json_array_size(self->fields) == 0) {   /* "fields=" asks for nothing in particular */
        json_decref(self->fields);
        self->fields = NULL;
    }
    return 0;
}

static int parse_q(zs_query_t *self, const json_t *params, json_t **error)
{
    const json_t *q = json_object_get(params, "q");
    if (!q || json_is_null(q))
        return 0;
    if (json_is_string(q))
        return query_append(self, json_string_value(q), json_string_length(q), error);
    if (!json_is_array(q)) {
        *error = bad_param("q", "must be condition strings");
        return -1;
    }
    if (json_array_size(q) > ZS_QUERY_MAX_CONDITIONS) {
        *error = bad_param("q", "has %zu conditions; at most %d are allowed",
                           json_array_size(q), ZS_QUERY_MAX_CONDITIONS);
        return -1;
    }
    size_t i;
    json_t *c;
    json_array_foreach(q, i, c) {
        if (!json_is_string(c)) {
            *error = bad_param("q", "must be condition strings");
            return -1;
        }
        if (query_append(self, json_string_value(c), json_string_length(c), error) != 0)
            return -1;
    }
    return 0;
}

zs_query_t *zs_query_parse(const zs_resource_t *res, const json_t *params, json_t **error)
{
    json_t *err = NULL;
    zs_query_t *self = calloc(1, sizeof *self);
    if (!self) {
        if (error)
            *error = zq_oom();
        return NULL;
    }
    self->res = res;
    snprintf(self->plan, sizeof self->plan, "none");
    char buf[32];
    const char *group = NULL;
    int rc = parse_q(self, params, &err);
    if (rc == 0 && res->fixed)
        rc = query_append(self, res->fixed, strlen(res->fixed), &err);
    if (rc == 0)
        rc = param_size(params, "limit", ZS_QUERY_MAX_LIMIT, ZS_QUERY_DEFAULT_LIMIT,
                        &self->limit, &err);
    /* start is bounded only so that start + limit cannot overflow. */
    if (rc == 0)
        rc = param_size(params, "start", (size_t)999999999999999999ULL, 0, &self->start, &err);
    if (rc == 0)
        rc = param_flag(params, "count", &self->count, &err);
    if (rc == 0)
        rc = param_flag(params, "replyWithCount", &self->with_count, &err);
    if (rc == 0)
        rc = parse_sort(self, params, &err);
    if (rc == 0)
        rc = parse_fields(self, params, &err);
    if (rc == 0)
        rc = param_text(params, "groupBy", buf, sizeof buf, &group, &err);
    if (rc == 0 && group && *group) {
        self->group = param_field(res, "groupBy", group, &err);
        rc = self->group ? 0 : -1;
    }
    if (rc != 0) {
        zs_query_destroy(&self);
        if (error)
            *error = err;
        else
            json_decref(err);
        return NULL;
    }
    return self;
}

int zs_query_add(zs_query_t *self, const char *condition, json_t **error)
{
    json_t *err = NULL;
    if (query_append(self, condition, strlen(condition), &err) == 0)
        return 0;
    if (error)
        *error = err;
    else
        json_decref(err);
    return -1;
}

void zs_query_destroy(zs_query_t **self_p)
{
    zs_query_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->nconds; i++)
        zq_cond_free(&self->conds[i]);
    free(self->conds);
    json_decref(self->fields);
    free(self);
    *self_p = NULL;
}

int zs_query_match_one(const zs_resource_t *res, const json_t *rec, const char *condition,
                       json_t **error)
{
    cond_t c;
    json_t *err = NULL;
    int rc = -1;
    if (zq_cond_parse(res, condition, strlen(condition), &c, &err) == 0) {
        if (c.kind == C_FIELD)
            rc = zq_cond_match(&c, rec, NULL) ? 1 : 0;
        else
            err = zq_bad_cond(condition, "join and tag conditions cannot be tested on one record");
        zq_cond_free(&c);
    }
    if (error && err)
        *error = err;
    else
        json_decref(err);
    return rc;
}

