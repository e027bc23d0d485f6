/* query_plan.c — choosing and walking a plan: direct uuid gets, one index (keys, range or
 * prefix), or a scan, whichever would load the fewest records; and the count shortcut that
 * answers from the store's counts. A plan only narrows candidates, it never decides a match.
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
 * Running: the plan */


void zq_plan_free(plan_t *p)
{
    for (size_t i = 0; i < p->nuuids; i++)
        free(p->uuids[i]);
    free(p->uuids);
    for (size_t i = 0; i < p->nkeys; i++)
        free(p->keys[i].b);
    free(p->keys);
    free(p->lo.b);
    free(p->hi.b);
    free(p->prefix.b);
    memset(p, 0, sizeof *p);
}

/* Keeps the cheaper of *best and *cand (ties keep *best: a scan beats an index that would
 * load every record anyway). */
static void plan_offer(plan_t *best, plan_t *cand)
{
    if (cand->estimate < best->estimate) {
        zq_plan_free(best);
        *best = *cand;
    } else {
        zq_plan_free(cand);
    }
}

static bool index_usable(const run_t *r, const zs_field_t *f)
{
    return f && zs_store_indexed(r->store, r->q->res->collection, f->name);
}

static bool bytes_encode(zs_ftype_t type, const json_t *v, bytes_t *out)
{
    unsigned char buf[KEY_SIZE];
    int n = zs_store_index_key(type, v, buf, sizeof buf);
    if (n <= 0)
        return false;
    out->b = malloc((size_t)n);
    if (!out->b)
        return false;
    memcpy(out->b, buf, (size_t)n);
    out->n = (size_t)n;
    return true;
}

static int bytes_cmp(const void *a, const void *b)
{
    const bytes_t *x = a, *y = b;
    int d = memcmp(x->b, y->b, x->n < y->n ? x->n : y->n);
    return d ? d : (x->n > y->n) - (x->n < y->n);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Direct gets of the uuids in `values` (a JSON array of strings), in uuid order. */
static bool plan_uuids(const json_t *values, plan_t *p)
{
    memset(p, 0, sizeof *p);
    p->kind = P_UUIDS;
    p->uuids = calloc(json_array_size(values) + 1, sizeof *p->uuids);
    if (!p->uuids)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) {
        if (!json_is_string(v) || !(p->uuids[p->nuuids] = strdup(json_string_value(v)))) {
            zq_plan_free(p);
            return false;
        }
        p->nuuids++;
    }
    qsort(p->uuids, p->nuuids, sizeof *p->uuids, str_cmp);
    size_t n = 0;
    for (i = 0; i < p->nuuids; i++) {
        if (n && strcmp(p->uuids[n - 1], p->uuids[i]) == 0)
            free(p->uuids[i]);
        else
            p->uuids[n++] = p->uuids[i];
    }
    p->nuuids = p->estimate = n;
    return true;
}

/* Equality lookups of `values` (JSON array, typed like f) in f's index, walked in key order;
 * the estimate is exact (index counts). False when a value is not indexable. */
static bool plan_keys(const run_t *r, const zs_field_t *f, const json_t *values, plan_t *p)
{
    memset(p, 0, sizeof *p);
    p->kind = P_KEYS;
    p->field = f;
    p->keys = calloc(json_array_size(values) + 1, sizeof *p->keys);
    if (!p->keys)
        return false;
    size_t i;
    json_t *v;
    json_array_foreach(values, i, v) {
        if (!bytes_encode(f->type, v, &p->keys[p->nkeys])) {
            zq_plan_free(p);
            return false;
        }
        p->nkeys++;
    }
    qsort(p->keys, p->nkeys, sizeof *p->keys, bytes_cmp);
    size_t n = 0;
    for (i = 0; i < p->nkeys; i++) {
        if (n && bytes_cmp(&p->keys[n - 1], &p->keys[i]) == 0) {
            free(p->keys[i].b);
        } else {
            p->keys[n++] = p->keys[i];
            p->estimate += zs_store_index_count(r->store, r->txn, r->q->res->collection,
                                                f->name, p->keys[i].b, p->keys[i].n);
        }
    }
    p->nkeys = n;
    return true;
}

/* Tightens one bound of a range with condition value v; `lower` says which bound. */
static bool bound_merge(const json_t **bound, bool *inc, const json_t *v, bool v_inc, bool lower)
{
    if (!*bound) {
        *bound = v, *inc = v_inc;
        return true;
    }
    bool ok;
    int d = zq_cmp_scalar(v, *bound, &ok);
    if (!ok)
        return false;
    if (lower ? d > 0 : d < 0)
        *bound = v, *inc = v_inc;
    else if (d == 0)
        *inc = *inc && v_inc;
    return true;
}

/* One index range from every range condition on field f. Ranges have no exact count, so the
 * estimate is a guess in the manner of SQL planners: a third of the collection for one
 * bound, a tenth for two. An empty range becomes a lookup of no key at all. */
static bool plan_range(const run_t *r, const zs_field_t *f, size_t total, plan_t *p)
{
    const zs_query_t *q = r->q;
    const json_t *lo = NULL, *hi = NULL;
    bool lo_inc = false, hi_inc = false;
    for (size_t i = 0; i < q->nconds; i++) {
        const cond_t *c = &q->conds[i];
        if (c->kind != C_FIELD || c->field != f)
            continue;
        bool ok = true;
        if (c->op == OP_GT || c->op == OP_GE)
            ok = bound_merge(&lo, &lo_inc, c->value, c->op == OP_GE, true);
        else if (c->op == OP_LT || c->op == OP_LE)
            ok = bound_merge(&hi, &hi_inc, c->value, c->op == OP_LE, false);
        if (!ok)
            return false;
    }
    memset(p, 0, sizeof *p);
    p->field = f;
    if (lo && hi) {
        bool ok;
        int d = zq_cmp_scalar(lo, hi, &ok);
        if (!ok)
            return false;
        if (d > 0 || (d == 0 && !(lo_inc && hi_inc))) {
            p->kind = P_KEYS;
            return true;
        }
    }
    p->kind = P_RANGE;
    p->lo_inc = lo_inc;
    p->hi_inc = hi_inc;
    if ((lo && !bytes_encode(f->type, lo, &p->lo)) || (hi && !bytes_encode(f->type, hi, &p->hi))) {
        zq_plan_free(p);
        return false;
    }
    p->estimate = lo && hi ? total / 10 + 1 : total / 3 + 1;
    return true;
}

/* LIKE "abc%" walks the keys starting with "abc"; guessed at a tenth of the collection. */
static bool plan_prefix(const cond_t *c, size_t total, plan_t *p)
{
    size_t n = zq_like_prefix(c->raw);
    memset(p, 0, sizeof *p);
    if (!n || c->field->type != ZS_FT_STRING)
        return false;
    char *lit = strndup(c->raw, n);
    json_t *v = lit ? json_string(lit) : NULL;
    bool ok = v && bytes_encode(ZS_FT_STRING, v, &p->prefix);
    json_decref(v);
    free(lit);
    p->kind = P_PREFIX;
    p->field = c->field;
    p->estimate = total / 10 + 1;
    return ok;
}

/* The values an index could look up for condition c, as a new JSON array typed like the
 * index's field, or NULL when c is no lookup. */
static json_t *lookup_values(const cond_t *c)
{
    if (c->kind == C_FIELD && c->op == OP_EQ)
        return json_pack("[O]", c->value);
    if (c->kind == C_FIELD && c->op == OP_IN)
        return json_incref(c->list);
    if (c->kind == C_FIELD && c->op == OP_LIKE && c->field->type == ZS_FT_STRING
        && zq_like_exact(c->raw))
        return json_pack("[s]", c->raw);
    if ((c->kind == C_TAG && !op_negative(c->op))
        || (c->kind == C_JOIN && c->local && c->local->type == ZS_FT_STRING)) {
        json_t *a = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(c->set, k, v)
            json_array_append_new(a, json_string(k));
        return a;
    }
    return NULL;
}

/* The field whose values lookup_values gives: uuid for tags. */
static const zs_field_t *lookup_field(const zs_resource_t *res, const cond_t *c)
{
    return c->kind == C_FIELD ? c->field
         : c->kind == C_JOIN  ? c->local
                              : zs_resource_field(res, "uuid", false);
}

/* Whether an earlier condition already proposed a range on the same field. */
static bool range_seen(const zs_query_t *q, size_t upto, const zs_field_t *f)
{
    for (size_t j = 0; j < upto; j++) {
        const cond_t *c = &q->conds[j];
        if (c->kind == C_FIELD && c->field == f
            && (c->op == OP_GT || c->op == OP_GE || c->op == OP_LT || c->op == OP_LE))
            return true;
    }
    return false;
}

void zq_plan_choose(const run_t *r, plan_t *best)
{
    const zs_query_t *q = r->q;
    size_t total = zs_store_count(r->store, r->txn, q->res->collection);
    memset(best, 0, sizeof *best);
    best->kind = P_SCAN;
    best->estimate = total;
    for (size_t i = 0; i < q->nconds; i++) {
        const cond_t *c = &q->conds[i];
        const zs_field_t *f = lookup_field(q->res, c);
        plan_t cand;
        json_t *values = f ? lookup_values(c) : NULL;
        if (values && strcmp(f->name, "uuid") == 0) {
            if (plan_uuids(values, &cand))
                plan_offer(best, &cand);
        } else if (values && index_usable(r, f)) {
            if (plan_keys(r, f, values, &cand))
                plan_offer(best, &cand);
        }
        json_decref(values);
        if (c->kind != C_FIELD || !index_usable(r, f))
            continue;
        if (c->op == OP_LIKE && plan_prefix(c, total, &cand))
            plan_offer(best, &cand);
        else if ((c->op == OP_GT || c->op == OP_GE || c->op == OP_LT || c->op == OP_LE)
                 && !range_seen(q, i, f) && plan_range(r, f, total, &cand))
            plan_offer(best, &cand);
    }
}

/* Writes what plan p is into the query's own buffer: "scan", "key:uuid" or "index:<field>". */
void zq_plan_name(zs_query_t *q, const plan_t *p)
{
    if (p->kind == P_SCAN)
        snprintf(q->plan, sizeof q->plan, "scan");
    else if (p->kind == P_UUIDS)
        snprintf(q->plan, sizeof q->plan, "key:uuid");
    else
        snprintf(q->plan, sizeof q->plan, "index:%s", p->field->name);
}

int zq_plan_run(run_t *r, const plan_t *p)
{
    zs_store_t *s = r->store;
    const char *coll = r->q->res->collection;
    const char *f = p->field ? p->field->name : NULL;
    int rc = 0;
    switch (p->kind) {
    case P_SCAN:
        rc = zs_store_scan(s, r->txn, coll, zq_feed_record, r);
        break;
    case P_UUIDS:
        for (size_t i = 0; i < p->nuuids && !r->stop; i++)
            zq_feed_uuid(r, p->uuids[i]);
        break;
    case P_KEYS:
        for (size_t i = 0; i < p->nkeys && !r->stop && rc == 0; i++)
            rc = zs_store_index_walk(s, r->txn, coll, f, p->keys[i].b, p->keys[i].n, true,
                                     p->keys[i].b, p->keys[i].n, true, NULL, 0, zq_feed_uuid, r);
        break;
    case P_RANGE:
        rc = zs_store_index_walk(s, r->txn, coll, f, p->lo.b, p->lo.n, p->lo_inc, p->hi.b,
                                 p->hi.n, p->hi_inc, NULL, 0, zq_feed_uuid, r);
        break;
    case P_PREFIX:
        rc = zs_store_index_walk(s, r->txn, coll, f, NULL, 0, false, NULL, 0, false,
                                 p->prefix.b, p->prefix.n, zq_feed_uuid, r);
        break;
    }
    return r->stop ? 0 : rc;
}

/* count=true with at most one indexed equality (or ?=) and nothing else to check: the answer
 * comes from the collection's or the index's counts, without reading a record. */
bool zq_count_shortcut(run_t *r)
{
    zs_query_t *q = r->q;
    if (!q->count || q->group || r->visible || q->nconds > 1)
        return false;
    if (q->nconds == 0) {
        r->total = zs_store_count(r->store, r->txn, q->res->collection);
        snprintf(q->plan, sizeof q->plan, "count-all");
        return true;
    }
    const cond_t *c = &q->conds[0];
    if (c->kind != C_FIELD || (c->op != OP_EQ && c->op != OP_IN) || !index_usable(r, c->field)
        || strcmp(c->field->name, "uuid") == 0)
        return false;
    json_t *values = lookup_values(c);
    plan_t p;
    bool ok = values && plan_keys(r, c->field, values, &p);
    json_decref(values);
    if (!ok)
        return false;
    r->total = p.estimate;
    snprintf(q->plan, sizeof q->plan, "count-index:%s", c->field->name);
    zq_plan_free(&p);
    return true;
}

