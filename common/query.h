/* query.h — the query engine of every query API (rest.md "Query APIs").
 *
 * parse:  HTTP query parameters (as a JSON object, see zs_query_parse) -> zs_query_t,
 *         validated against the resource descriptor: every field must exist (400 naming it).
 * plan:   direct gets for uuid=/uuid?= and positive tag conditions; else the most selective
 *         secondary index usable by an =, ?=, range (bounds on one field combine), prefix
 *         LIKE ("abc%") or join condition (exact counts for lookups, guesses for ranges);
 *         otherwise a scan. The plan only picks candidates: every record it loads is tested
 *         against every condition, so the plan never changes a result.
 * run:    filter -> sort -> start/limit (or count / groupBy) -> fields; builds the reply
 *         object ({"inventories": [...]} [+ "total"], or {"total": n} [+ "groups"]).
 *
 * Condition semantics (rest.md "Query APIs" has the grammar):
 *   - values are typed by the field: INT/REAL numerically, TIME/EPOCH as instants (epoch ms,
 *     "yyyy-MM-dd HH:mm:ss" or "Jan 6, 2017 3:51:16 AM", UTC), BOOL true/false (any case),
 *     STRING bytewise; JSON fields compare as their compact JSON text (numerically when both
 *     sides are numbers). A value that does not parse for its field is a 400.
 *   - like SQL, a null or absent field satisfies only "is null"; every other comparison with
 *     it is false, the negated ones (!=, !?=, !~=) included.
 *   - LIKE: % any run (also empty), _ one UTF-8 character, no escape character; it reads
 *     numbers as their text and TIME fields as "yyyy-MM-dd HH:mm:ss".
 *   - __systemTag__ / __userTag__: the resolver is asked with the positive operator; !=, !?=
 *     and !~= keep the records that carry no matching tag. "is null"/"not null" on tags is
 *     refused (400).
 *   - "<join>.<rest>": `rest` goes as a condition to the resolver; records whose join->local
 *     value is among the values it returns match.
 *
 * Reply order: `sort` (stable; nulls first ascending, last descending), else the plan's
 * order: uuid order for scans and uuid gets, index order (value, then uuid) for index plans.
 * groupBy + count: groups in value order (descending when sorted "-<groupBy field>"), with
 * start/limit applied to the groups; total = matching records. groupBy without count: the
 * first record met (in reply order) of each distinct value, total = number of groups.
 *
 * Threads: a zs_query_t belongs to the thread that parsed it. Running needs a read (or write)
 * transaction of the store that owns the resource.
 */
#ifndef ZS_QUERY_H
#define ZS_QUERY_H
#include "resource.h"
#include "store.h"
#include <jansson.h>
#include <stdbool.h>

#define ZS_QUERY_MAX_CONDITIONS 64
#define ZS_QUERY_MAX_CONDITION_BYTES 4096
#define ZS_QUERY_DEFAULT_LIMIT 1000
#define ZS_QUERY_MAX_LIMIT 100000

typedef struct zs_query zs_query_t;

/* How a query reaches data it does not own. Each callback returns a new JSON array of
 * strings, or NULL and sets *error (a new error object, see error.h). */
typedef struct {
    void *ctx;
    /* uuids of resources carrying a tag of `tag_type` ("System" or "User") whose `tag` matches
     * the positive operator `op` ("=", "~=", "?=", ...) and `value`. */
    json_t *(*tag_resources)(void *ctx, const char *tag_type, const char *op, const char *value,
                             json_t **error);
    /* values of field join->remote over the records of resource join->resource matching
     * the single condition `condition` (e.g. "name=prod"). */
    json_t *(*join_values)(void *ctx, const zs_join_t *join, const char *condition,
                           json_t **error);
} zs_query_resolver_t;

/* Optional visibility rule (permissions): return true when the caller may see `rec`. */
typedef bool (zs_query_visible_fn)(void *arg, const json_t *rec);

/* What one run did, for the metrics and the tests proving index use. */
#define ZS_QUERY_PLAN_SIZE 96
typedef struct {
    size_t examined;      /* records read from the store and tested (a sorted reply reads
                           * its page once more; those reads are not counted) */
    char plan[ZS_QUERY_PLAN_SIZE];  /* a copy, so it outlives the query: "scan",
                           * "key:uuid", "index:<field>", "count-index:<field>" (answered
                           * from index counts), "count-all", "none" (nothing to read);
                           * a field name too long for the buffer is cut */
} zs_query_stats_t;

/* Parses `params` (may be NULL), an object whose members are the query parameters:
 *   "q": array of condition strings (or one string),  "limit", "start": strings or integers,
 *   "count", "replyWithCount": "true"/"false" or booleans,  "sort": "+f"/"-f",
 *   "sortBy", "sortDirection": "asc"|"desc",  "fields": array or comma-separated string,
 *   "groupBy": field name.
 * A repeated scalar parameter (an array) must hold exactly one value. Any other member is
 * ignored (the caller has already taken what is its own). At most ZS_QUERY_MAX_CONDITIONS
 * q conditions of at most ZS_QUERY_MAX_CONDITION_BYTES each; quoted user text in errors is
 * cut and made valid UTF-8.
 * The resource's `fixed` condition, if any, is added. Returns NULL and sets *error
 * (SYS.1007, details naming the parameter, field or condition) on bad input. */
zs_query_t *zs_query_parse(const zs_resource_t *res, const json_t *params, json_t **error);

/* Adds one more condition (same syntax as q), e.g. a permission filter; not counted against
 * the q limit. 0, or -1 and *error (when error is not NULL). */
int zs_query_add(zs_query_t *self, const char *condition, json_t **error);

void zs_query_destroy(zs_query_t **self_p);

/* Runs the query; it may run again later (tags and joins are resolved anew each run).
 * `resolver` may be NULL (then tag and join conditions fail with SYS.1006 "not available");
 * a resolver's error is returned as it is. `visible` may be NULL; it is asked only about
 * records that match every condition, before they are counted. Without sort or count, the
 * walk ends once start + limit records matched, unless replyWithCount wants the total.
 * Returns the reply object (new reference), or NULL and *error (when error is not NULL).
 * `stats` may be NULL. */
json_t *zs_query_run(zs_query_t *self, zs_store_t *store, MDB_txn *txn,
                     const zs_query_resolver_t *resolver,
                     zs_query_visible_fn *visible, void *visible_arg,
                     zs_query_stats_t *stats, json_t **error);

/* Tests one record against one condition string outside any query (used by the tag service
 * to answer tag_resources with the same operator semantics). Returns 1 match, 0 no match,
 * -1 bad condition (+ *error). */
int zs_query_match_one(const zs_resource_t *res, const json_t *rec, const char *condition,
                       json_t **error);

#endif
