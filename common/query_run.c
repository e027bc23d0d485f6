/* query_run.c — zs_query_run (see query.h): the overview of how a query runs.
 *
 * A query is a list of parsed conditions plus paging, sort and reply-shape options. Running
 * it resolves tag and join conditions into sets of strings, picks a plan (direct uuid gets,
 * one index, or a scan), passes every candidate record through ALL the conditions (a plan
 * only narrows the candidates, it never decides a match, so an index can only cost speed,
 * never correctness as long as it is complete) and hands the matches to a sink that counts
 * them, groups them, collects sort keys, or renders the requested page.
 *
 * This file: resolving tag and join conditions, the sinks, ordering, paging and the reply.
 * Parsing is in query_cond.c and query_parse.c, the plan in query_plan.c; what they share is
 * in query_internal.h.
 */
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
 * Running: resolving tag and join conditions */

/* A set (object of keys) from the array of strings a resolver returned; integers count as
 * their decimal text, anything else is ignored. */
static json_t *set_from(json_t *array)
{
    json_t *set = json_object();
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v) {
        char buf[32];
        const char *key = json_string_value(v);
        if (json_is_integer(v))
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v)), key = buf;
        if (key && set)
            json_object_set_new_nocheck(set, key, json_true());
    }
    return set;
}

static int resolve_one(cond_t *c, const zs_query_resolver_t *rs, json_t **error)
{
    bool have = rs && (c->kind == C_TAG ? rs->tag_resources != NULL : rs->join_values != NULL);
    if (!have) {
        char q[QUOTE_SIZE];
        *error = zs_error(ZS_SYS_FAILED, "query condition[%s] needs %s, which is not "
                          "available here", zq_quote(c->text, SHOWN, q),
                          c->kind == C_TAG ? "the tag service" : "a join lookup");
        return -1;
    }
    json_t *err = NULL;
    json_t *values = c->kind == C_TAG
                         ? rs->tag_resources(rs->ctx, c->tag_type, zq_op_text[op_positive(c->op)],
                                             c->raw, &err)
                         : rs->join_values(rs->ctx, c->join, c->remote, &err);
    if (!values) {
        char q[QUOTE_SIZE];
        *error = err ? err : zs_error(ZS_SYS_FAILED, "query condition[%s] could not be "
                                      "resolved", zq_quote(c->text, SHOWN, q));
        return -1;
    }
    json_decref(err);
    json_decref(c->set);
    c->set = set_from(values);
    json_decref(values);
    if (!c->set) {
        *error = zq_oom();
        return -1;
    }
    return 0;
}

static int resolve_all(zs_query_t *q, const zs_query_resolver_t *rs, json_t **error)
{
    for (size_t i = 0; i < q->nconds; i++)
        if (q->conds[i].kind != C_FIELD && resolve_one(&q->conds[i], rs, error) != 0)
            return -1;
    return 0;
}

/* Resolved sets belong to one run: the next one asks again. */
static void resolved_drop(zs_query_t *q)
{
    for (size_t i = 0; i < q->nconds; i++)
        if (q->conds[i].kind != C_FIELD) {
            json_decref(q->conds[i].set);
            q->conds[i].set = NULL;
        }
}

/* =============================================================================================
 * Running: the sinks that receive matching records */


static void run_fail(run_t *r, json_t *error)
{
    if (!r->error)
        r->error = error;
    else
        json_decref(error);
    r->stop = true;
}

/* Key of the group a value belongs to: the field's canonical text, one key for null/absent,
 * and the JSON text for values of a type the field does not have. */
static char *group_key(const zs_field_t *f, const json_t *v)
{
    char *k = NULL, buf[64], *heap;
    const char *c = zq_canon(f->type, v, buf, sizeof buf, &heap);
    if (!v || json_is_null(v)) {
        k = strdup("n");
    } else if (c) {
        if (asprintf(&k, "v%s", c) < 0)
            k = NULL;
    } else {
        char *d = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (d && asprintf(&k, "x%s", d) < 0)
            k = NULL;
        free(d);
    }
    free(heap);
    return k;
}

static bool groups_grow(run_t *r)
{
    if (r->ngroups < r->gcap)
        return true;
    size_t cap = r->gcap ? r->gcap * 2 : 16;
    group_t *g = realloc(r->groups, cap * sizeof *g);
    if (!g)
        return false;
    r->groups = g;
    r->gcap = cap;
    return true;
}

static void sink_group_count(run_t *r, const json_t *rec)
{
    json_t *v = json_object_get(rec, r->q->group->name);
    char *key = group_key(r->q->group, v);
    json_t *at = key ? json_object_get(r->seen, key) : NULL;
    if (!key || (!at && !groups_grow(r))) {
        free(key);
        run_fail(r, zq_oom());
        return;
    }
    if (at) {
        r->groups[json_integer_value(at)].count++;
    } else {
        group_t *g = &r->groups[r->ngroups];
        g->value = v && !json_is_null(v) ? json_deep_copy(v) : NULL;
        g->count = 1;
        g->seq = r->ngroups;
        json_object_set_new_nocheck(r->seen, key, json_integer((json_int_t)r->ngroups++));
    }
    free(key);
    r->total++;
}

static void sink_collect(run_t *r, const char *uuid, const json_t *rec)
{
    if (r->nentries == r->ecap) {
        size_t cap = r->ecap ? r->ecap * 2 : 64;
        entry_t *e = realloc(r->entries, cap * sizeof *e);
        if (!e) {
            run_fail(r, zq_oom());
            return;
        }
        r->entries = e;
        r->ecap = cap;
    }
    json_t *v = json_object_get(rec, r->q->sort->name);
    entry_t *e = &r->entries[r->nentries];
    e->key = v && !json_is_null(v) ? json_deep_copy(v) : NULL;
    e->uuid = strdup(uuid);
    e->group = r->q->group ? group_key(r->q->group, json_object_get(rec, r->q->group->name))
                           : NULL;
    e->seq = r->nentries;
    r->nentries++;
    if (!e->uuid || (r->q->group && !e->group))
        run_fail(r, zq_oom());
}

/* No sort asked: records arrive in their final order, so the page is rendered as they come
 * and the walk ends with the page unless the total is wanted too. */
static void sink_stream(run_t *r, const json_t *rec)
{
    zs_query_t *q = r->q;
    if (q->group) {
        char *key = group_key(q->group, json_object_get(rec, q->group->name));
        if (!key) {
            run_fail(r, zq_oom());
            return;
        }
        bool seen = json_object_get(r->seen, key) != NULL;
        if (!seen)
            json_object_set_new_nocheck(r->seen, key, json_true());
        free(key);
        if (seen)
            return;
    }
    size_t i = r->total++;
    if (i >= q->start && i - q->start < q->limit &&
        json_array_append_new(r->page, zs_resource_render(q->res, rec, q->fields)) != 0)
        run_fail(r, zq_oom());   /* a page missing a record would mislead */
    if (!q->with_count && r->total >= q->start + q->limit)
        r->stop = true;
}

/* One candidate record: counted as examined, tested, then handed to the sink. */
static void consider(run_t *r, const char *uuid, const json_t *rec)
{
    zs_query_t *q = r->q;
    r->examined++;
    const char *own = json_string_value(json_object_get(rec, "uuid"));
    for (size_t i = 0; i < q->nconds; i++)
        if (!zq_cond_match(&q->conds[i], rec, own ? own : uuid))
            return;
    if (r->visible && !r->visible(r->visible_arg, rec))
        return;
    switch (r->mode) {
    case M_COUNT:
        r->total++;
        break;
    case M_GROUP_COUNT:
        sink_group_count(r, rec);
        break;
    case M_SORTED:
        sink_collect(r, uuid, rec);
        break;
    case M_STREAM:
        sink_stream(r, rec);
        break;
    }
}

int zq_feed_record(void *arg, const char *uuid, json_t *rec)
{
    run_t *r = arg;
    consider(r, uuid, rec);
    return r->stop ? 1 : 0;
}

int zq_feed_uuid(void *arg, const char *uuid)
{
    run_t *r = arg;
    json_t *rec = zs_store_get(r->store, r->txn, r->q->res->collection, uuid);
    if (rec)                    /* an index entry whose record is gone: the record wins */
        consider(r, uuid, rec);
    json_decref(rec);
    return r->stop ? 1 : 0;
}

/* =============================================================================================
 * Running: ordering, paging and the reply */

/* A total order for sorting: null first, then numbers, strings, booleans, arrays, objects;
 * values of one kind by value (other JSON by their text). */
static int cmp_sort(const json_t *a, const json_t *b)
{
    bool an = !a || json_is_null(a), bn = !b || json_is_null(b);
    if (an || bn)
        return (int)bn - (int)an;
    bool ok;
    int d = zq_cmp_scalar(a, b, &ok);
    if (ok)
        return d;
    static const int rank[] = {[JSON_OBJECT] = 5, [JSON_ARRAY] = 4, [JSON_STRING] = 2,
                               [JSON_INTEGER] = 1, [JSON_REAL] = 1, [JSON_TRUE] = 3,
                               [JSON_FALSE] = 3, [JSON_NULL] = 0};
    int ra = rank[json_typeof(a)], rb = rank[json_typeof(b)];
    if (ra != rb)
        return ra < rb ? -1 : 1;
    char *x = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    char *y = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    d = x && y ? strcmp(x, y) : 0;
    free(x);
    free(y);
    return (d > 0) - (d < 0);
}

static int entry_cmp(const void *a, const void *b, void *desc)
{
    const entry_t *x = a, *y = b;
    int d = cmp_sort(x->key, y->key);
    if (*(bool *)desc)
        d = -d;
    return d ? d : (x->seq > y->seq) - (x->seq < y->seq);
}

static int group_cmp(const void *a, const void *b, void *desc)
{
    const group_t *x = a, *y = b;
    int d = cmp_sort(x->value, y->value);
    if (*(bool *)desc)
        d = -d;
    return d ? d : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Sorts the collected entries, keeps the first of each group when grouping, then loads and
 * renders the records of the page. */
static void finish_sorted(run_t *r)
{
    zs_query_t *q = r->q;
    if (r->nentries > 1)        /* entries is NULL when nothing matched */
        qsort_r(r->entries, r->nentries, sizeof *r->entries, entry_cmp, &q->desc);
    if (q->group) {
        json_t *seen = json_object();
        size_t n = 0;
        for (size_t i = 0; i < r->nentries; i++) {
            entry_t *e = &r->entries[i];
            if (json_object_get(seen, e->group)) {
                json_decref(e->key);
                free(e->uuid);
                free(e->group);
                continue;
            }
            json_object_set_new_nocheck(seen, e->group, json_true());
            r->entries[n++] = *e;
        }
        r->nentries = n;
        json_decref(seen);
    }
    r->total = r->nentries;
    for (size_t i = q->start; i < r->nentries && i - q->start < q->limit; i++) {
        json_t *rec = zs_store_get(r->store, r->txn, q->res->collection, r->entries[i].uuid);
        if (rec && json_array_append_new(r->page, zs_resource_render(q->res, rec, q->fields)) != 0)
            run_fail(r, zq_oom());
        json_decref(rec);
    }
}

static json_t *group_value(const zs_field_t *f, const json_t *v)
{
    char buf[48];
    if (!v)
        return json_null();
    if (f->type == ZS_FT_TIME && json_is_integer(v))
        return json_string(zs_date_format(json_integer_value(v), buf, sizeof buf));
    return json_incref((json_t *)v);
}

/* Groups in value order (descending when sorted descending on the group field itself), then
 * start/limit applied to the groups. */
static json_t *finish_groups(run_t *r)
{
    zs_query_t *q = r->q;
    bool desc = q->sort == q->group && q->desc;
    if (r->ngroups > 1)
        qsort_r(r->groups, r->ngroups, sizeof *r->groups, group_cmp, &desc);
    json_t *out = json_array();
    for (size_t i = q->start; i < r->ngroups && i - q->start < q->limit; i++) {
        json_t *g = json_object();
        json_object_set_new(g, q->group->name, group_value(q->group, r->groups[i].value));
        json_object_set_new(g, "count", json_integer((json_int_t)r->groups[i].count));
        json_array_append_new(out, g);
    }
    return out;
}

static void run_free(run_t *r)
{
    json_decref(r->page);
    json_decref(r->seen);
    for (size_t i = 0; i < r->ngroups; i++)
        json_decref(r->groups[i].value);
    free(r->groups);
    for (size_t i = 0; i < r->nentries; i++) {
        json_decref(r->entries[i].key);
        free(r->entries[i].uuid);
        free(r->entries[i].group);
    }
    free(r->entries);
    json_decref(r->error);
}

static sink_t sink_mode(const zs_query_t *q)
{
    if (q->count)
        return q->group ? M_GROUP_COUNT : M_COUNT;
    return q->sort ? M_SORTED : M_STREAM;
}

/* Feeds the candidates of the chosen plan into the sink and completes the sink's work. */
static void run_execute(run_t *r)
{
    zs_query_t *q = r->q;
    if (zq_count_shortcut(r))
        return;
    if ((r->mode == M_STREAM || r->mode == M_SORTED) && q->limit == 0 && !q->with_count) {
        snprintf(q->plan, sizeof q->plan, "none");  /* an empty page needs no record */
        return;
    }
    plan_t p;
    zq_plan_choose(r, &p);
    zq_plan_name(q, &p);
    int rc = zq_plan_run(r, &p);
    zq_plan_free(&p);
    if (rc && !r->error)
        run_fail(r, zs_error(ZS_SYS_INTERNAL, "query of %s: store: %s", q->res->name,
                             zs_store_strerror(rc)));
    if (!r->error && r->mode == M_SORTED)
        finish_sorted(r);
}

static json_t *reply_build(run_t *r)
{
    zs_query_t *q = r->q;
    if (r->mode == M_COUNT)
        return json_pack("{s:I}", "total", (json_int_t)r->total);
    if (r->mode == M_GROUP_COUNT)
        return json_pack("{s:I, s:o}", "total", (json_int_t)r->total, "groups",
                         finish_groups(r));
    json_t *reply = json_pack("{s:O}", "inventories", r->page);
    if (reply && q->with_count)
        json_object_set_new(reply, "total", json_integer((json_int_t)r->total));
    return reply;
}

json_t *zs_query_run(zs_query_t *self, zs_store_t *store, MDB_txn *txn,
                     const zs_query_resolver_t *resolver,
                     zs_query_visible_fn *visible, void *visible_arg,
                     zs_query_stats_t *stats, json_t **error)
{
    run_t r = {
        .q = self, .store = store, .txn = txn, .visible = visible, .visible_arg = visible_arg,
        .mode = sink_mode(self), .page = json_array(), .seen = json_object(),
    };
    json_t *reply = NULL;
    snprintf(self->plan, sizeof self->plan, "none");
    if (!r.page || !r.seen)
        run_fail(&r, zq_oom());
    else if (resolve_all(self, resolver, &r.error) != 0)
        r.stop = true;
    else
        run_execute(&r);
    if (!r.error && !(reply = reply_build(&r)))
        r.error = zq_oom();
    if (stats) {
        stats->examined = r.examined;
        snprintf(stats->plan, sizeof stats->plan, "%s", self->plan);
    }
    if (r.error && error) {
        *error = r.error;
        r.error = NULL;
    }
    resolved_drop(self);
    run_free(&r);
    return reply;
}
