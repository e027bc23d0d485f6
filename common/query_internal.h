/* query_internal.h — INTERNAL to the query module: NOT a public header.
 *
 * What the pieces of the query module share: the parsed condition, the query object, the run
 * state with its sinks, the plan, and the functions one piece calls in another. Only
 * query_cond.c, query_parse.c, query_plan.c and query_run.c include it; everyone else uses
 * query.h. The pieces:
 *   query_cond.c   operators and conditions: parse one condition, test a record against it
 *   query_parse.c  the query object and its parameters (zs_query_parse, _add, _destroy,
 *                  _match_one)
 *   query_plan.c   choosing and walking a plan; the count shortcut
 *   query_run.c    resolving tags and joins, the sinks, ordering, paging, the reply
 *                  (zs_query_run)
 * All of it runs on the caller's thread; nothing here is global state.
 */
#ifndef ZS_QUERY_INTERNAL_H
#define ZS_QUERY_INTERNAL_H

#include "query.h"
#include <stdbool.h>
#include <stddef.h>

#define KEY_SIZE   512          /* buffer zs_store_index_key asks for */
#define SHOWN      200          /* bytes of a condition quoted in an error */
#define QUOTE_SIZE (SHOWN + 8)

/* ---- conditions (query_cond.c) ---- */

typedef enum {
    OP_NE, OP_GE, OP_LE, OP_NOT_IN, OP_NOT_LIKE, OP_LIKE, OP_IN, OP_EQ, OP_GT, OP_LT,
    OP_IS_NULL, OP_NOT_NULL
} op_t;

typedef enum { C_FIELD, C_JOIN, C_TAG } ckind_t;

typedef struct {
    char *text;                 /* the condition as given: for messages */
    ckind_t kind;
    op_t op;
    char *raw;                  /* the value text after the operator ("" for null tests) */
    const zs_field_t *field;    /* C_FIELD */
    json_t *value;              /* C_FIELD compare ops: the value, typed like the field */
    json_t *list;               /* C_FIELD ?= !?=: typed values, deduplicated, given order */
    json_t *set;                /* C_FIELD ?= !?=: canonical text -> true. C_JOIN, C_TAG: the
                                 * strings resolved for the current run */
    const zs_join_t *join;      /* C_JOIN */
    const zs_field_t *local;    /* C_JOIN: descriptor of join->local (NULL if undeclared) */
    const char *remote;         /* C_JOIN: the condition on the joined resource (in text) */
    const char *tag_type;       /* C_TAG: "System" or "User" */
} cond_t;

/* ---- the query object (query_parse.c) ---- */

struct zs_query {
    const zs_resource_t *res;
    cond_t *conds;
    size_t nconds, cap;
    size_t limit, start;
    bool count, with_count;
    const zs_field_t *sort;         /* NULL: default order */
    bool desc;
    json_t *fields;                 /* array of names, or NULL for all */
    const zs_field_t *group;
    char plan[ZS_QUERY_PLAN_SIZE];  /* what the last run did (see zs_query_stats_t) */
};

/* ---- one run (query_run.c) ---- */

typedef enum { M_COUNT, M_GROUP_COUNT, M_SORTED, M_STREAM } sink_t;

/* A match remembered for sorting: the record itself is fetched again only if its position
 * falls in the requested page, so a sort over many matches holds keys, not records. */
typedef struct {
    json_t *key;                /* copy of the sort field's value; NULL when absent */
    char *uuid;
    char *group;                /* group key when grouping */
    size_t seq;                 /* arrival order: makes the sort stable */
} entry_t;

typedef struct {
    json_t *value;
    size_t count;
    size_t seq;
} group_t;

typedef struct {
    zs_query_t *q;
    zs_store_t *store;
    MDB_txn *txn;
    zs_query_visible_fn *visible;
    void *visible_arg;
    sink_t mode;
    size_t examined;
    size_t total;               /* matches so far (M_STREAM with groupBy: distinct groups) */
    bool stop;                  /* the walk must end: page complete or error */
    json_t *error;
    json_t *page;               /* M_STREAM: the rendered page */
    json_t *seen;               /* group key -> index (M_GROUP_COUNT) or true (M_STREAM) */
    group_t *groups;
    size_t ngroups, gcap;
    entry_t *entries;
    size_t nentries, ecap;
} run_t;

/* ---- the plan (query_plan.c) ---- */

typedef enum { P_SCAN, P_UUIDS, P_KEYS, P_RANGE, P_PREFIX } pkind_t;

typedef struct {
    unsigned char *b;
    size_t n;
} bytes_t;

typedef struct {
    pkind_t kind;
    const zs_field_t *field;    /* the index walked (P_KEYS, P_RANGE, P_PREFIX) */
    size_t estimate;            /* records it would load */
    char **uuids;               /* P_UUIDS: sorted, distinct */
    size_t nuuids;
    bytes_t *keys;              /* P_KEYS: sorted, distinct */
    size_t nkeys;
    bytes_t lo, hi, prefix;     /* P_RANGE (b NULL: open end), P_PREFIX */
    bool lo_inc, hi_inc;
} plan_t;

/* ---- functions shared between the pieces ---- */

/* query_cond.c */
extern const char *const zq_op_text[];      /* indexed by op_t */

static inline bool op_negative(op_t op)
{
    return op == OP_NE || op == OP_NOT_IN || op == OP_NOT_LIKE;
}

/* Tag lookups always ask for the positive form; the negation is applied by the caller. */
static inline op_t op_positive(op_t op)
{
    return op == OP_NE ? OP_EQ : op == OP_NOT_IN ? OP_IN : op == OP_NOT_LIKE ? OP_LIKE : op;
}

/* Parses condition `text` (len bytes, not NUL-terminated) into *c: 0, or -1 and *error. */
int zq_cond_parse(const zs_resource_t *res, const char *text, size_t len, cond_t *c,
                  json_t **error);
void zq_cond_free(cond_t *c);
/* Whether record `rec` (key `uuid`) meets condition c (tags and joins resolved). */
bool zq_cond_match(const cond_t *c, const json_t *rec, const char *uuid);
/* User text as an error may quote it: at most `max` (<= SHOWN) bytes, valid UTF-8; in buf. */
const char *zq_quote(const char *s, size_t max, char buf[QUOTE_SIZE]);
/* New SYS.INTERNAL "out of memory" error. */
json_t *zq_oom(void);
/* New SYS.1007 error for a condition that cannot be used; `fmt` says why. */
json_t *zq_bad_cond(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Orders comparable scalars (numbers, strings, booleans); *ok false otherwise. */
int zq_cmp_scalar(const json_t *a, const json_t *b, bool *ok);
/* Length of the literal prefix of a pattern shaped "abc%" (0 for any other shape); whether a
 * pattern has no wildcard at all (plain equality). */
size_t zq_like_prefix(const char *pattern);
bool zq_like_exact(const char *pattern);
/* Canonical text of v as a value of `type` (NULL: null/absent/incomparable); *heap to free. */
const char *zq_canon(zs_ftype_t type, const json_t *v, char *buf, size_t size, char **heap);

/* query_plan.c */
/* Picks the cheapest plan for run r into *best (zq_plan_free it). */
void zq_plan_choose(const run_t *r, plan_t *best);
/* Walks plan p, feeding every candidate to r's sink: 0 or a store error code. */
int zq_plan_run(run_t *r, const plan_t *p);
void zq_plan_free(plan_t *p);
/* Writes the name of plan p into q->plan. */
void zq_plan_name(zs_query_t *q, const plan_t *p);
/* count=true answered from the store's counts without reading records: true if it did. */
bool zq_count_shortcut(run_t *r);

/* query_run.c: the store walk callbacks that pass a candidate to the sink */
int zq_feed_record(void *arg, const char *uuid, json_t *rec);
int zq_feed_uuid(void *arg, const char *uuid);

#endif
