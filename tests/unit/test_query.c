/* test_query.c — the query engine: condition grammar and operator semantics (through
 * zs_query_match_one), every refusal of zs_query_parse, and whole queries over a real store
 * of a few thousand records, checked against a brute-force filter of the same records —
 * including that the planner uses the indexes it should (stats.examined, stats.plan). */
#define _GNU_SOURCE             /* nftw, open_memstream */
#include "query.h"
#include "clock.h"
#include "error.h"
#include "store.h"
#include "testutil.h"
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------------------------------------
 * The test resources */

static const zs_field_t thing_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "color", .type = ZS_FT_STRING, .indexed = true},
    {.name = "size", .type = ZS_FT_INT, .indexed = true},
    {.name = "weight", .type = ZS_FT_REAL},
    {.name = "enabled", .type = ZS_FT_BOOL, .indexed = true},
    {.name = "description", .type = ZS_FT_STRING},
    {.name = "createDate", .type = ZS_FT_TIME, .indexed = true},
    {.name = "time", .type = ZS_FT_EPOCH},
    {.name = "meta", .type = ZS_FT_JSON},
    {.name = "ownerUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "secret", .type = ZS_FT_STRING, .hidden = true},
    {0},
};
static const zs_join_t thing_joins[] = {
    {.name = "owner", .resource = "Owner", .local = "ownerUuid", .remote = "uuid"},
    {0},
};
static const zs_resource_t thing = {
    .name = "Thing", .collection = "things", .fields = thing_fields, .joins = thing_joins,
};
/* Shares the collection, seeing only red things (like SystemTag/UserTag share "tags"). */
static const zs_resource_t red_thing = {
    .name = "RedThing", .collection = "things", .fixed = "color=red", .fields = thing_fields,
};

#define N_RECORDS 3000
#define BASE_MS   1483674676000LL   /* 2017-01-06 03:51:16 UTC */

/* ---------------------------------------------------------------------------------------------
 * Helpers */

static json_t *params_of(const char *text)
{
    json_error_t jerr;
    json_t *p = json_loads(text, JSON_ALLOW_NUL, &jerr);
    ck_assert_msg(p != NULL, "bad test params %s: %s", text, jerr.text);
    return p;
}

/* Asserts zs_query_parse refuses `params` with SYS.1007 and details containing `needle`. */
static void parse_fails(const zs_resource_t *res, const char *params, const char *needle)
{
    json_t *p = params_of(params);
    json_t *err = NULL;
    zs_query_t *q = zs_query_parse(res, p, &err);
    ck_assert_msg(q == NULL, "accepted: %s", params);
    ck_assert_ptr_nonnull(err);
    ck_assert_str_eq(zs_error_code(err), ZS_SYS_INVALID);
    const char *details = json_string_value(json_object_get(err, "details"));
    ck_assert_msg(details && strstr(details, needle), "%s: details [%s] lack [%s]", params,
                  details ? details : "(none)", needle);
    json_decref(err);
    json_decref(p);
}

static void parse_ok(const char *params)
{
    json_t *p = params_of(params);
    json_t *err = NULL;
    zs_query_t *q = zs_query_parse(&thing, p, &err);
    ck_assert_msg(q != NULL, "refused %s: %s", params,
                  err ? json_string_value(json_object_get(err, "details")) : "?");
    zs_query_destroy(&q);
    ck_assert_ptr_null(q);
    json_decref(p);
}

/* The record the grammar tests match against. */
static json_t *sample(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:f, s:b, s:n, s:I, s:I, s:{s:i}, s:s, s:s}",
                     "uuid", "u-1", "name", "alpha", "color", "red", "size", (json_int_t)10,
                     "weight", 2.5, "enabled", 1, "description", "createDate",
                     (json_int_t)BASE_MS, "time", (json_int_t)1000, "meta", "a", 1,
                     "ownerUuid", "o-1", "secret", "x");
}

/* Match of one condition against `rec`: 1, 0, or -1 (a refusal; the error is checked). */
static int match(const json_t *rec, const char *cond)
{
    json_t *err = NULL;
    int rc = zs_query_match_one(&thing, rec, cond, &err);
    if (rc < 0) {
        ck_assert_ptr_nonnull(err);
        ck_assert_str_eq(zs_error_code(err), ZS_SYS_INVALID);
        json_decref(err);
    } else {
        ck_assert_ptr_null(err);
    }
    return rc;
}

static int match_s(const char *cond)
{
    json_t *rec = sample();
    int rc = match(rec, cond);
    json_decref(rec);
    return rc;
}

/* A record with one string field set, for LIKE and split tests. */
static int match_name(const char *name, const char *cond)
{
    json_t *rec = json_pack("{s:s, s:s}", "uuid", "u", "name", name);
    int rc = match(rec, cond);
    json_decref(rec);
    return rc;
}

/* One condition and what zs_query_match_one must answer for it (1 match, 0 no match, -1 an
 * error), on the sample record when name is NULL, else on a record whose only field besides
 * uuid is that name. */
typedef struct {
    const char *name;
    const char *cond;
    int want;
} match_case_t;

static void check_matches(const match_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const match_case_t *c = &cases[i];
        int got = c->name ? match_name(c->name, c->cond) : match_s(c->cond);
        ck_assert_msg(got == c->want, "\"%s\" on %s%s%s: %d, expected %d", c->cond,
                      c->name ? "name \"" : "the sample", c->name ? c->name : "", c->name ? "\"" : "",
                      got, c->want);
    }
}
/* CHECK_MATCHES({name or NULL, cond, want}, ...): checks every case in order. */
#define CHECK_MATCHES(...)                                                                      \
    do {                                                                                        \
        static const match_case_t cases_[] = {__VA_ARGS__};                                     \
        check_matches(cases_, sizeof cases_ / sizeof cases_[0]);                                \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * Grammar and semantics */

START_TEST(test_operators_string)
{
    CHECK_MATCHES(
        {NULL, "name=alpha", 1},
        {NULL, "name=alph", 0},
        {NULL, "name!=alpha", 0},
        {NULL, "name!=beta", 1},
        {NULL, "name>alp", 1},
        {NULL, "name>alpha", 0},
        {NULL, "name>=alpha", 1},
        {NULL, "name<b", 1},
        {NULL, "name<alpha", 0},
        {NULL, "name<=alpha", 1},
        {NULL, "name?=beta,alpha", 1},
        {NULL, "name?=beta,gamma", 0},
        {NULL, "name!?=beta,gamma", 1},
        {NULL, "name!?=alpha", 0},
        {NULL, "name~=al%", 1},
        {NULL, "name~=be%", 0},
        {NULL, "name!~=be%", 1},
        {NULL, "name!~=%ph%", 0},
        {NULL, "name=", 0},
        {"", "name=", 1}
    );
}
END_TEST

START_TEST(test_operators_numbers)
{
    /* numerically, not as text: "9" > "10" as strings, 9 < 10 as numbers */
    CHECK_MATCHES(
        {NULL, "size>9", 1},
        {NULL, "size<9", 0},
        {NULL, "size=10", 1},
        {NULL, "size=+10", 1},
        {NULL, "size!=10", 0},
        {NULL, "size>=10", 1},
        {NULL, "size<=10", 1},
        {NULL, "size>-5", 1},
        {NULL, "size?=1,10,100", 1},
        {NULL, "size!?=1,100", 1},
        {NULL, "size~=1%", 1},       /* LIKE reads the number as text */
        {"10", "name>9", 0}, /* strings compare bytewise */
        {NULL, "weight>2.4", 1},
        {NULL, "weight=2.5", 1},
        {NULL, "weight=2.50", 1},
        {NULL, "weight<2", 0},
        {NULL, "weight?=1,2.5", 1},
        {NULL, "time=1000", 1},
        {NULL, "time>999", 1},
        /* a JSON field: compared as its compact JSON text */
        {NULL, "meta={\"a\":1}", 1},
        {NULL, "meta~=%\"a\"%", 1}
    );
}
END_TEST

START_TEST(test_operators_bool)
{
    CHECK_MATCHES(
        {NULL, "enabled=true", 1},
        {NULL, "enabled=TRUE", 1},
        {NULL, "enabled=false", 0},
        {NULL, "enabled!=false", 1},
        {NULL, "enabled?=false,true", 1},
        {NULL, "enabled=yes", -1},
        {NULL, "enabled=1", -1}
    );
}
END_TEST

START_TEST(test_timestamps)
{
    /* the same instant in the three forms */
    CHECK_MATCHES(
        {NULL, "createDate=1483674676000", 1},
        {NULL, "createDate=2017-01-06 03:51:16", 1},
        {NULL, "createDate=Jan 6, 2017 3:51:16 AM", 1},
        {NULL, "createDate>2017-01-06 03:51:15", 1},
        {NULL, "createDate>Jan 6, 2017 3:51:16 AM", 0},
        {NULL, "createDate<Jan 6, 2017 3:51:17 AM", 1},
        {NULL, "createDate>=1483674676000", 1},
        {NULL, "createDate<=1483674675999", 0},
        {NULL, "createDate?=1,2017-01-06 03:51:16", 1},
        /* LIKE reads a timestamp as SQL prints it */
        {NULL, "createDate~=2017-01-06%", 1},
        {NULL, "createDate~=2017-02%", 0},
        {NULL, "time<2017-01-06 03:51:16", 1},
        {NULL, "createDate=yesterday", -1},
        {NULL, "createDate=2017-13-45 99:99:99", -1},
        {NULL, "time=-5", -1}
    );
}
END_TEST

START_TEST(test_split_precedence)
{
    /* "!=" comes first in the list: split there, even though "=" appears later */
    CHECK_MATCHES(
        {"x", "name!=b=c", 1},
        {"b=c", "name!=b=c", 0},
        /* "=" comes before ">" in the list: "a=b>c" is a = "b>c" */
        {"b>c", "name=b>c", 1},
        {"b", "name=b>c", 0},
        /* "?=" before "=": the value keeps the later "=" */
        {"a=b", "name?=x,a=b", 1}
    );
    /* ">=" comes before "=" in the list, so "name=a>=b" is field "name=a" (unknown) */
    json_t *err = NULL;
    json_t *rec = sample();
    ck_assert_int_eq(zs_query_match_one(&thing, rec, "name=a>=b", &err), -1);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(err, "details")),
                                 "field[name=a]"));
    json_decref(err);
    /* "~=" before "=": value "a=%" */
    CHECK_MATCHES(
        {"a=1", "name~=a=%", 1},
        /* "!~=" and "!?=" do not contain "!=" */
        {"abc", "name!~=x%", 1},
        {"abc", "name!?=x,y", 1},
        /* ">" is tried before "<": "name<b>" is field "name<b", and "name>a<" is name > "a<" */
        {"a", "name<b>", -1},
        {"b", "name>a<", 1},
        {"a", "name>a<", 0}
    );
    json_decref(rec);
}
END_TEST

START_TEST(test_null_forms)
{
    CHECK_MATCHES(
        {NULL, "description is null", 1},
        {NULL, "description not null", 0},
        {NULL, "description=null", 1},
        {NULL, "description!=null", 0},
        {NULL, "description IS NULL", 1},
        {NULL, "name is null", 0},
        {NULL, "name not null", 1},
        {NULL, "name=null", 0},
        {NULL, "name!=null", 1},
        {NULL, "size=null", 0},       /* a null test, not an integer */
        {NULL, "size not null", 1},
        /* absent counts as null */
        {"x", "size is null", 1},
        /* SQL: comparisons with null are false, negated ones too */
        {NULL, "description!=abc", 0},
        {NULL, "description!?=abc", 0},
        {NULL, "description!~=abc%", 0},
        {NULL, "description<zzz", 0},
        /* no field before the suffix */
        {NULL, " is null", -1},
        {NULL, "   not null", -1}
    );
}
END_TEST

START_TEST(test_like)
{
    CHECK_MATCHES(
        {"abc", "name~=abc", 1},     /* no wildcard: equality */
        {"abcd", "name~=abc", 0},
        {"", "name~=%", 1},          /* % matches the empty run */
        {"abc", "name~=%", 1},
        {"abc", "name~=abc%", 1},
        {"abc", "name~=%abc", 1},
        {"abc", "name~=a%c", 1},
        {"ac", "name~=a%c", 1},
        {"ab", "name~=a%c", 0},
        {"abc", "name~=a_c", 1},
        {"ac", "name~=a_c", 0},
        {"abbc", "name~=a_c", 0},
        {"a\xc3\xa9" "c", "name~=a_c", 1},   /* _ is one character */
        {"\xc3\xa9t\xc3\xa9", "name~=_t_", 1},
        {"abc", "name~=___", 1},
        {"abc", "name~=____", 0},
        {"abc", "name~=%%%", 1},
        {"aXbXc", "name~=%b%", 1},
        {"mississippi", "name~=%iss%ppi", 1},
        {"mississippi", "name~=%iss%ppx", 0},
        {"abcabd", "name~=%abd", 1},
        {"a\\b", "name~=a\\b", 1},   /* no escape character */
        {"ABC", "name~=abc", 0},     /* bytewise, like = */
        {"abc", "name!~=a%", 0},
        {"abc", "name!~=b%", 1}
    );
}
END_TEST

START_TEST(test_sets)
{
    CHECK_MATCHES(
        {"b", "name?=a,b,c", 1},
        {"d", "name?=a,b,c", 0},
        {"", "name?=a,,c", 1},       /* an empty member */
        {"a b", "name?=a b,c", 1},   /* spaces are data */
        {"d", "name!?=a,b,c", 1},
        {"a", "name!?=a,a,a", 0},
        {NULL, "size?=010", 1},               /* numerically */
        {NULL, "size?=1,x", -1},
        {NULL, "size?=", -1},
        {NULL, "weight?=2.5e0", 1}
    );
}
END_TEST

START_TEST(test_match_one_refusals)
{
    json_t *rec = sample();
    ck_assert_int_eq(match(rec, "nosuch=1"), -1);
    ck_assert_int_eq(match(rec, "secret=x"), -1);            /* hidden: not queryable */
    ck_assert_int_eq(match(rec, "name"), -1);
    ck_assert_int_eq(match(rec, "=x"), -1);
    ck_assert_int_eq(match(rec, "size=abc"), -1);
    ck_assert_int_eq(match(rec, "size=1.5"), -1);
    ck_assert_int_eq(match(rec, "size=99999999999999999999"), -1);
    ck_assert_int_eq(match(rec, "weight=abc"), -1);
    ck_assert_int_eq(match(rec, "weight=inf"), -1);
    ck_assert_int_eq(match(rec, "owner.name=x"), -1);        /* needs a resolver */
    ck_assert_int_eq(match(rec, "__systemTag__=x"), -1);
    ck_assert_int_eq(match(rec, "nojoin.name=x"), -1);
    json_decref(rec);
}
END_TEST

START_TEST(test_parse_errors)
{
    parse_fails(&thing, "{\"q\": [\"nosuch=1\"]}", "field[nosuch] is not a queryable field of Thing");
    parse_fails(&thing, "{\"q\": \"secret=x\"}", "field[secret]");
    parse_fails(&thing, "{\"q\": [\"name\"]}", "condition[name]");
    parse_fails(&thing, "{\"q\": [\"name\"]}", "no operator");
    parse_fails(&thing, "{\"q\": [\"=abc\"]}", "condition[=abc]");
    parse_fails(&thing, "{\"q\": [\"size=abc\"]}", "size=abc");
    parse_fails(&thing, "{\"q\": [\"size=abc\"]}", "not an integer");
    parse_fails(&thing, "{\"q\": [\"enabled=maybe\"]}", "enabled=maybe");
    parse_fails(&thing, "{\"q\": [\"createDate>soon\"]}", "createDate>soon");
    parse_fails(&thing, "{\"q\": [\"nojoin.name=x\"]}", "field[nojoin.name]");
    parse_fails(&thing, "{\"q\": [\"owner.=x\"]}", "owner.=x");
    parse_fails(&thing, "{\"q\": [\"__systemTag__ is null\"]}", "__systemTag__");
    parse_fails(&thing, "{\"q\": [\"__userTag__=null\"]}", "__userTag__");
    parse_fails(&thing, "{\"q\": [1]}", "parameter[q]");
    parse_fails(&thing, "{\"q\": {}}", "parameter[q]");
    parse_fails(&thing, "{\"q\": [\"name=a\\u0000b\"]}", "NUL");
    parse_fails(&thing, "{\"limit\": \"abc\"}", "parameter[limit]");
    parse_fails(&thing, "{\"limit\": \"-1\"}", "parameter[limit]");
    parse_fails(&thing, "{\"limit\": -1}", "parameter[limit]");
    parse_fails(&thing, "{\"limit\": \"100001\"}", "parameter[limit]");
    parse_fails(&thing, "{\"limit\": \"1.5\"}", "parameter[limit]");
    parse_fails(&thing, "{\"limit\": \"\"}", "parameter[limit]");
    parse_fails(&thing, "{\"limit\": 2.0}", "parameter[limit]");
    parse_fails(&thing, "{\"limit\": [\"1\", \"2\"]}", "parameter[limit]");
    parse_fails(&thing, "{\"start\": \"-3\"}", "parameter[start]");
    parse_fails(&thing, "{\"start\": \"x\"}", "parameter[start]");
    parse_fails(&thing, "{\"start\": \"99999999999999999999999\"}", "parameter[start]");
    parse_fails(&thing, "{\"count\": \"maybe\"}", "parameter[count]");
    parse_fails(&thing, "{\"replyWithCount\": \"1\"}", "parameter[replyWithCount]");
    parse_fails(&thing, "{\"sort\": \"+nosuch\"}", "field[nosuch]");
    parse_fails(&thing, "{\"sort\": \"-secret\"}", "parameter[sort]");
    parse_fails(&thing, "{\"sortBy\": \"nosuch\"}", "parameter[sortBy]");
    parse_fails(&thing, "{\"sortBy\": \"name\", \"sortDirection\": \"up\"}",
                "parameter[sortDirection]");
    parse_fails(&thing, "{\"fields\": \"name,nosuch\"}", "field[nosuch]");
    parse_fails(&thing, "{\"fields\": [\"name\", 3]}", "parameter[fields]");
    parse_fails(&thing, "{\"fields\": \"secret\"}", "parameter[fields]");
    parse_fails(&thing, "{\"groupBy\": \"nosuch\"}", "parameter[groupBy]");
}
END_TEST

START_TEST(test_parse_limits)
{
    /* 64 conditions are fine, 65 are not */
    json_t *q = json_array();
    for (int i = 0; i < ZS_QUERY_MAX_CONDITIONS; i++)
        json_array_append_new(q, json_sprintf("size>%d", i));
    json_t *p = json_pack("{s:O}", "q", q);
    json_t *err = NULL;
    zs_query_t *query = zs_query_parse(&thing, p, &err);
    ck_assert_ptr_nonnull(query);
    zs_query_destroy(&query);
    json_array_append_new(q, json_string("size>0"));
    query = zs_query_parse(&thing, p, &err);
    ck_assert_ptr_null(query);
    ck_assert_str_eq(zs_error_code(err), ZS_SYS_INVALID);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(err, "details")), "at most 64"));
    json_decref(err);
    json_decref(p);
    json_decref(q);

    /* 4096 bytes are fine, 4097 are not */
    char cond[ZS_QUERY_MAX_CONDITION_BYTES + 2];
    memcpy(cond, "name=", 5);
    memset(cond + 5, 'x', sizeof cond - 5);
    cond[ZS_QUERY_MAX_CONDITION_BYTES] = '\0';
    p = json_pack("{s:s}", "q", cond);
    query = zs_query_parse(&thing, p, &err);
    ck_assert_ptr_nonnull(query);
    zs_query_destroy(&query);
    json_decref(p);
    cond[ZS_QUERY_MAX_CONDITION_BYTES] = 'x';
    cond[ZS_QUERY_MAX_CONDITION_BYTES + 1] = '\0';
    p = json_pack("{s:[s]}", "q", cond);
    err = NULL;
    query = zs_query_parse(&thing, p, &err);
    ck_assert_ptr_null(query);
    ck_assert_str_eq(zs_error_code(err), ZS_SYS_INVALID);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(err, "details")), "4096"));
    json_decref(err);
    json_decref(p);

    /* zs_query_add takes more conditions, and refuses bad ones */
    p = params_of("{\"q\": \"size>1\"}");
    query = zs_query_parse(&thing, p, NULL);
    ck_assert_int_eq(zs_query_add(query, "color=red", NULL), 0);
    err = NULL;
    ck_assert_int_eq(zs_query_add(query, "nosuch=1", &err), -1);
    ck_assert_str_eq(zs_error_code(err), ZS_SYS_INVALID);
    json_decref(err);
    ck_assert_int_eq(zs_query_add(query, "nosuch=1", NULL), -1);   /* NULL error is allowed */
    zs_query_destroy(&query);
    zs_query_destroy(&query);                                       /* twice is harmless */
    json_decref(p);
}
END_TEST

/* Refusals quoting what they refuse must stay valid JSON text: bytes that are not UTF-8 and
 * long quotes cut inside a character would otherwise make the error itself impossible. */
START_TEST(test_error_quoting)
{
    struct { json_t *params; const char *needle; } cases[] = {
        {json_pack("{s:[o]}", "q", json_stringn_nocheck("name\xff=1", 7)), "field[name?]"},
        {json_pack("{s:[o]}", "q", json_stringn_nocheck("size=\xc3", 6)), "value[?]"},
        {json_pack("{s:o}", "limit", json_stringn_nocheck("\xe2\x82", 2)), "not [??]"},
        {json_pack("{s:o}", "sort", json_stringn_nocheck("+n\xc0\xaf", 4)), "field[n??]"},
        {json_pack("{s:[o]}", "q", json_stringn_nocheck("a\x00b=1", 5)), "NUL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *err = NULL;
        ck_assert_ptr_null(zs_query_parse(&thing, cases[i].params, &err));
        ck_assert_msg(err != NULL, "case %zu: no error object", i);
        const char *d = json_string_value(json_object_get(err, "details"));
        ck_assert_msg(strstr(d, cases[i].needle), "case %zu: [%s]", i, d);
        json_decref(err);
        json_decref(cases[i].params);
    }
    /* a long value of 2-byte characters is cut between characters */
    char cond[1024] = "size=";
    for (int i = 0; i < 300; i++)
        strcat(cond, "\xc3\xa9");
    json_t *err = NULL;
    json_t *rec = sample();
    ck_assert_int_eq(zs_query_match_one(&thing, rec, cond, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(err, "details")), "..."));
    json_decref(err);
    json_decref(rec);
}
END_TEST

START_TEST(test_parse_accepts)
{
    parse_ok("{}");
    parse_ok("{\"q\": []}");
    parse_ok("{\"q\": \"name=a\", \"limit\": \"0\", \"start\": \"0\"}");
    parse_ok("{\"limit\": 100000, \"start\": 5000000}");
    parse_ok("{\"limit\": [\"10\"]}");
    parse_ok("{\"count\": true, \"replyWithCount\": \"FALSE\"}");
    parse_ok("{\"sort\": \"+name\"}");
    parse_ok("{\"sort\": \" name\"}");          /* '+' after URL decoding */
    parse_ok("{\"sort\": \"-createDate\"}");
    parse_ok("{\"sort\": \"size\"}");
    parse_ok("{\"sortBy\": \"size\", \"sortDirection\": \"DESC\"}");
    parse_ok("{\"fields\": \"name, size,,\"}");
    parse_ok("{\"fields\": [\"name,size\", \"uuid\"]}");
    parse_ok("{\"fields\": \"\"}");
    parse_ok("{\"groupBy\": \"color\", \"count\": \"true\"}");
    parse_ok("{\"q\": [\"owner.name=x\", \"__systemTag__!~=%a\", \"__userTag__?=a,b\"]}");
    parse_ok("{\"other\": {\"ignored\": true}}");
    zs_query_t *q = zs_query_parse(&thing, NULL, NULL);     /* no parameters at all */
    ck_assert_ptr_nonnull(q);
    zs_query_destroy(&q);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * A real store */

static char store_dir[64];
static zs_store_t *store;
static json_t *records;      /* every record, in uuid order */

static const char *const colors[] = {"red", "green", "blue", "black", "white"};

static unsigned lcg_state = 12345;
static unsigned lcg(void)
{
    lcg_state = lcg_state * 1103515245u + 12345u;
    return (lcg_state >> 8) & 0xffffff;
}

static json_t *make_record(int i)
{
    char uuid[40], name[32];
    unsigned h = (unsigned)i * 2654435761u;
    snprintf(uuid, sizeof uuid, "%08x%024d", h, i);
    snprintf(name, sizeof name, "thing-%04d", i);
    json_t *r = json_pack("{s:s, s:s, s:s, s:i, s:f, s:b, s:I, s:I, s:{s:i}, s:s}",
                          "uuid", uuid, "name", name, "color", colors[lcg() % 5],
                          "size", (int)(lcg() % 50), "weight", (lcg() % 1000) / 10.0,
                          "enabled", (int)(lcg() % 2), "createDate",
                          (json_int_t)(BASE_MS + (json_int_t)(lcg() % 2000) * 60000),
                          "time", (json_int_t)(lcg() % 1000000), "meta", "k", i % 3,
                          "secret", "s3cr3t");
    char owner[16];
    snprintf(owner, sizeof owner, "owner-%d", i % 7);
    json_object_set_new(r, "ownerUuid", json_string(owner));
    if (i % 7 != 3) {
        char d[32];
        snprintf(d, sizeof d, "desc %d", i % 13);
        json_object_set_new(r, "description", json_string(d));
    }
    if (i % 11 == 0)
        json_object_del(r, "size");       /* some records lack an indexed field */
    return r;
}

static int uuid_order(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    return strcmp(json_string_value(json_object_get(x, "uuid")),
                  json_string_value(json_object_get(y, "uuid")));
}

static void store_setup(void)
{
    snprintf(store_dir, sizeof store_dir, "/tmp/test_query.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(store_dir));
    const zs_resource_t *res[] = {&thing, &red_thing, NULL};
    store = zs_store_open(store_dir, res, 1, (size_t)256 << 20);
    ck_assert_ptr_nonnull(store);
    MDB_txn *txn;
    ck_assert_int_eq(zs_store_begin(store, NULL, true, &txn), 0);
    json_t **all = calloc(N_RECORDS, sizeof *all);
    for (int i = 0; i < N_RECORDS; i++) {
        all[i] = make_record(i);
        ck_assert_int_eq(zs_store_put(store, txn, "things",
                                      json_string_value(json_object_get(all[i], "uuid")),
                                      all[i]), 0);
    }
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    qsort(all, N_RECORDS, sizeof *all, uuid_order);
    records = json_array();
    for (int i = 0; i < N_RECORDS; i++)
        json_array_append_new(records, all[i]);
    free(all);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void store_teardown(void)
{
    zs_store_close(&store);
    json_decref(records);
    records = NULL;
    nftw(store_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Runs `params` (JSON text) on `res`; asserts success. */
static json_t *run_ex(const zs_resource_t *res, const char *params,
                      const zs_query_resolver_t *rs, zs_query_visible_fn *visible,
                      void *varg, zs_query_stats_t *st)
{
    json_t *p = params_of(params);
    json_t *err = NULL;
    zs_query_t *q = zs_query_parse(res, p, &err);
    ck_assert_msg(q != NULL, "refused %s: %s", params,
                  err ? json_string_value(json_object_get(err, "details")) : "?");
    MDB_txn *txn;
    ck_assert_int_eq(zs_store_begin(store, NULL, false, &txn), 0);
    zs_query_stats_t local;
    json_t *reply = zs_query_run(q, store, txn, rs, visible, varg, st ? st : &local, &err);
    ck_assert_msg(reply != NULL, "run %s failed: %s", params,
                  err ? json_string_value(json_object_get(err, "details")) : "?");
    mdb_txn_abort(txn);
    zs_query_destroy(&q);
    json_decref(p);
    return reply;
}

static json_t *run(const char *params, zs_query_stats_t *st)
{
    return run_ex(&thing, params, NULL, NULL, NULL, st);
}

/* The records matching every condition, by zs_query_match_one, in uuid order. */
static json_t *brute(const char *const *conds, size_t n)
{
    json_t *out = json_array();
    size_t i;
    json_t *rec;
    json_array_foreach(records, i, rec) {
        bool ok = true;
        for (size_t j = 0; ok && j < n; j++) {
            int m = zs_query_match_one(&thing, rec, conds[j], NULL);
            ck_assert_int_ge(m, 0);
            ok = m == 1;
        }
        if (ok)
            json_array_append(out, rec);
    }
    return out;
}

static int str_cmp_p(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The uuids of a list of records, sorted, as one comma-joined string (for set equality). */
static char *uuid_set(const json_t *list)
{
    size_t n = json_array_size(list);
    const char **u = calloc(n + 1, sizeof *u);
    for (size_t i = 0; i < n; i++)
        u[i] = json_string_value(json_object_get(json_array_get(list, i), "uuid"));
    qsort(u, n, sizeof *u, str_cmp_p);
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s,", u[i] ? u[i] : "(none)");
    fclose(f);
    free(u);
    return s;
}

/* Asserts the query of `conds` (all records) equals the brute-force filter as a set. */
static void check_conds(const char *const *conds, size_t n, zs_query_stats_t *st)
{
    json_t *q = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(q, json_string(conds[i]));
    json_t *p = json_pack("{s:o, s:s, s:b}", "q", q, "limit", "100000", "replyWithCount", 1);
    char *text = json_dumps(p, JSON_COMPACT);
    json_t *reply = run(text, st);
    json_t *want = brute(conds, n);
    json_t *got = json_object_get(reply, "inventories");
    char *a = uuid_set(got), *b = uuid_set(want);
    ck_assert_msg(strcmp(a, b) == 0, "%s: %zu records, brute force %zu", text,
                  json_array_size(got), json_array_size(want));
    ck_assert_int_eq(json_integer_value(json_object_get(reply, "total")),
                     json_array_size(want));
    free(a);
    free(b);
    free(text);
    json_decref(want);
    json_decref(reply);
    json_decref(p);
}

static void check1(const char *cond, zs_query_stats_t *st)
{
    check_conds(&cond, 1, st);
}

static size_t count_where(const char *field, const char *value)
{
    size_t n = 0, i;
    json_t *rec;
    json_array_foreach(records, i, rec) {
        const char *v = json_string_value(json_object_get(rec, field));
        n += v && strcmp(v, value) == 0;
    }
    return n;
}

START_TEST(test_store_equals_brute_force)
{
    static const char *const single[] = {
        "color=red", "color!=red", "color?=red,blue", "color!?=red,blue,nope",
        "color~=bl%", "color~=%e%", "color!~=%e%", "color~=red", "color>c", "color<=green",
        "size=7", "size!=7", "size>40", "size>=40", "size<3", "size<=3", "size?=1,2,3,99",
        "size!?=1,2,3", "size is null", "size not null", "size=null", "size~=1_",
        "weight>50.5", "weight<=10", "weight?=0,0.5", "enabled=true", "enabled!=true",
        "description is null", "description not null", "description=desc 3",
        "description~=desc 1%", "description!?=desc 1,desc 2", "createDate>2017-01-20 00:00:00",
        "createDate<=Jan 10, 2017 12:00:00 PM", "createDate=1483674676000",
        "createDate~=2017-01-1%", "time>500000", "time<=2017-01-01 00:00:00",
        "meta={\"k\":1}", "name~=thing-00%", "name~=thing-0_1%", "name>thing-2990",
        "name=thing-0042", "uuid?=nonexistent", "ownerUuid=owner-3", "ownerUuid~=owner-%",
        "name~=%", "name!~=%",
    };
    for (size_t i = 0; i < sizeof single / sizeof *single; i++)
        check1(single[i], NULL);

    static const char *const combos[][4] = {
        {"color=red", "size>10", "enabled=true", NULL},
        {"size>=10", "size<20", NULL},
        {"size>20", "size<10", NULL},
        {"size>10", "size>20", "size<=30", "size<30"},
        {"color?=red,green", "description is null", NULL},
        {"name~=thing-1%", "color!=red", NULL},
        {"createDate>=2017-01-10 00:00:00", "createDate<2017-01-12 00:00:00", "size<25", NULL},
        {"ownerUuid=owner-1", "color=blue", "weight>20", NULL},
        {"enabled=false", "size?=1,2,3,4,5", "name!~=%7", NULL},
        {"color=nosuch", "size>1", NULL},
    };
    for (size_t i = 0; i < sizeof combos / sizeof *combos; i++) {
        size_t n = 0;
        while (n < 4 && combos[i][n])
            n++;
        check_conds(combos[i], n, NULL);
    }
}
END_TEST

/* Random conjunctions of random conditions: the planner's choices must never change a
 * result. */
START_TEST(test_store_random_queries)
{
    static const char *const ops[] = {"=", "!=", ">", ">=", "<", "<=", "?=", "!?="};
    char conds[4][128];
    const char *ptrs[4];
    lcg_state = 777;
    for (int round = 0; round < 60; round++) {
        size_t n = 1 + lcg() % 3;
        for (size_t j = 0; j < n; j++) {
            const char *op = ops[lcg() % 8];
            switch (lcg() % 5) {
            case 0:
                snprintf(conds[j], sizeof conds[j], "color%s%s", op, colors[lcg() % 5]);
                break;
            case 1:
                snprintf(conds[j], sizeof conds[j], "size%s%u", op, lcg() % 55);
                break;
            case 2:
                snprintf(conds[j], sizeof conds[j], "createDate%s%lld", op,
                         BASE_MS + (long long)(lcg() % 2000) * 60000);
                break;
            case 3:
                snprintf(conds[j], sizeof conds[j], "name%sthing-%04u", op, lcg() % 3000);
                break;
            default:
                snprintf(conds[j], sizeof conds[j], "enabled%s%s", op,
                         lcg() % 2 ? "true" : "false");
                break;
            }
            ptrs[j] = conds[j];
        }
        check_conds(ptrs, n, NULL);
    }
}
END_TEST

START_TEST(test_store_plans)
{
    zs_query_stats_t st;
    size_t reds = count_where("color", "red");
    ck_assert_uint_gt(reds, 100);

    /* an indexed equality loads only the matching records */
    check1("color=red", &st);
    ck_assert_str_eq(st.plan, "index:color");
    ck_assert_uint_eq(st.examined, reds);

    /* a non-indexed condition scans */
    check1("description=desc 3", &st);
    ck_assert_str_eq(st.plan, "scan");
    ck_assert_uint_eq(st.examined, N_RECORDS);

    /* the most selective index wins */
    const char *two[] = {"color=red", "name=thing-0042"};
    check_conds(two, 2, &st);
    ck_assert_str_eq(st.plan, "index:name");
    ck_assert_uint_eq(st.examined, 1);

    /* ?= sums its members */
    check1("color?=red,red,blue", &st);
    ck_assert_str_eq(st.plan, "index:color");
    ck_assert_uint_eq(st.examined, reds + count_where("color", "blue"));

    /* uuid lookups are direct gets */
    const char *u = json_string_value(json_object_get(json_array_get(records, 17), "uuid"));
    char cond[128];
    snprintf(cond, sizeof cond, "uuid=%s", u);
    check1(cond, &st);
    ck_assert_str_eq(st.plan, "key:uuid");
    ck_assert_uint_eq(st.examined, 1);
    check1("uuid?=nope,nope2", &st);
    ck_assert_str_eq(st.plan, "key:uuid");
    ck_assert_uint_eq(st.examined, 0);

    /* ranges and prefixes use the index */
    const char *range[] = {"size>=10", "size<12"};
    check_conds(range, 2, &st);
    ck_assert_str_eq(st.plan, "index:size");
    check1("name~=thing-00%", &st);
    ck_assert_str_eq(st.plan, "index:name");
    ck_assert_uint_eq(st.examined, 100);
    check1("createDate<2017-01-06 05:00:00", &st);
    ck_assert_str_eq(st.plan, "index:createDate");
    const char *empty[] = {"size>20", "size<=20"};
    check_conds(empty, 2, &st);
    ck_assert_uint_eq(st.examined, 0);

    /* an equality matching nothing loads nothing */
    check1("color=purple", &st);
    ck_assert_uint_eq(st.examined, 0);

    /* a LIKE that is not a prefix cannot use the index */
    check1("name~=%-0042", &st);
    ck_assert_str_eq(st.plan, "scan");
}
END_TEST

START_TEST(test_store_count)
{
    zs_query_stats_t st;
    json_t *r = run("{\"count\": \"true\"}", &st);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), N_RECORDS);
    ck_assert_ptr_null(json_object_get(r, "inventories"));
    ck_assert_str_eq(st.plan, "count-all");
    ck_assert_uint_eq(st.examined, 0);
    json_decref(r);

    r = run("{\"count\": true, \"q\": \"color=red\"}", &st);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), count_where("color", "red"));
    ck_assert_str_eq(st.plan, "count-index:color");
    ck_assert_uint_eq(st.examined, 0);
    json_decref(r);

    r = run("{\"count\": true, \"q\": \"color?=red,white\"}", &st);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")),
                     count_where("color", "red") + count_where("color", "white"));
    ck_assert_str_eq(st.plan, "count-index:color");
    json_decref(r);

    /* two conditions: records are read, through the better index */
    r = run("{\"count\": true, \"q\": [\"color=red\", \"description is null\"]}", &st);
    const char *c2[] = {"color=red", "description is null"};
    json_t *want = brute(c2, 2);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), json_array_size(want));
    ck_assert_str_eq(st.plan, "index:color");
    ck_assert_uint_eq(st.examined, count_where("color", "red"));
    json_decref(want);
    json_decref(r);

    /* the fixed condition of a resource counts as a condition */
    r = run_ex(&red_thing, "{\"count\": true}", NULL, NULL, NULL, &st);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), count_where("color", "red"));
    ck_assert_str_eq(st.plan, "count-index:color");
    json_decref(r);
    r = run_ex(&red_thing, "{\"q\": \"color=blue\", \"replyWithCount\": true}", NULL, NULL, NULL,
               &st);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), 0);
    json_decref(r);
}
END_TEST

static bool even_size(void *arg, const json_t *rec)
{
    (*(int *)arg)++;
    return json_integer_value(json_object_get(rec, "size")) % 2 == 0;
}

START_TEST(test_store_visible)
{
    int calls = 0;
    zs_query_stats_t st;
    json_t *r = run_ex(&thing, "{\"count\": true, \"q\": \"color=red\"}", NULL, even_size, &calls,
                       &st);
    size_t want = 0, i;
    json_t *rec;
    json_array_foreach(records, i, rec)
        want += strcmp(json_string_value(json_object_get(rec, "color")), "red") == 0
                && json_integer_value(json_object_get(rec, "size")) % 2 == 0;
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), want);
    ck_assert_str_eq(st.plan, "index:color");    /* no count shortcut past a visibility rule */
    ck_assert_int_eq(calls, count_where("color", "red"));
    json_decref(r);
}
END_TEST

START_TEST(test_store_paging)
{
    zs_query_stats_t st;
    /* no sort, no count: the walk stops with the page */
    json_t *r = run("{\"limit\": 10}", &st);
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")), 10);
    ck_assert_ptr_null(json_object_get(r, "total"));
    ck_assert_str_eq(st.plan, "scan");
    ck_assert_uint_eq(st.examined, 10);
    /* default order of a scan: uuid order */
    for (size_t i = 0; i < 10; i++)
        ck_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(json_object_get(r, "inventories"), i), "uuid")),
                         json_string_value(json_object_get(json_array_get(records, i), "uuid")));
    json_decref(r);

    r = run("{\"limit\": 10, \"start\": 20}", &st);
    ck_assert_uint_eq(st.examined, 30);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(r, "inventories"), 0), "uuid")),
                     json_string_value(json_object_get(json_array_get(records, 20), "uuid")));
    json_decref(r);

    /* replyWithCount keeps counting past the page */
    r = run("{\"limit\": 10, \"replyWithCount\": true}", &st);
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")), 10);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), N_RECORDS);
    ck_assert_uint_eq(st.examined, N_RECORDS);
    json_decref(r);

    /* default limit 1000 */
    r = run("{}", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")), ZS_QUERY_DEFAULT_LIMIT);
    json_decref(r);

    /* limit 0 */
    r = run("{\"limit\": \"0\", \"replyWithCount\": \"true\", \"q\": \"color=red\"}", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), count_where("color", "red"));
    json_decref(r);
    r = run("{\"limit\": 0}", &st);
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")), 0);
    ck_assert_uint_eq(st.examined, 0);
    json_decref(r);

    /* start past the end */
    r = run("{\"start\": 5000, \"replyWithCount\": true}", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), N_RECORDS);
    json_decref(r);

    /* sorted pages, concatenated, are the whole sorted list */
    json_t *all = json_array();
    for (int start = 0; start < N_RECORDS; start += 700) {
        char p[128];
        snprintf(p, sizeof p, "{\"sort\": \"-name\", \"limit\": 700, \"start\": %d}", start);
        r = run(p, NULL);
        json_array_extend(all, json_object_get(r, "inventories"));
        json_decref(r);
    }
    ck_assert_int_eq(json_array_size(all), N_RECORDS);
    for (int i = 0; i < N_RECORDS; i++) {
        char name[32];
        snprintf(name, sizeof name, "thing-%04d", N_RECORDS - 1 - i);
        ck_assert_str_eq(json_string_value(json_object_get(json_array_get(all, i), "name")), name);
    }
    json_decref(all);
}
END_TEST

/* Asserts `list` is ordered by `field` (asc or desc), nulls first ascending / last descending,
 * and ties in uuid order when the plan was a scan. */
static void assert_sorted(const json_t *list, const char *field, bool desc, bool ties_by_uuid)
{
    for (size_t i = 1; i < json_array_size(list); i++) {
        json_t *a = json_object_get(json_array_get(list, i - 1), field);
        json_t *b = json_object_get(json_array_get(list, i), field);
        int d;
        if (!a || !b)
            d = (a != NULL) - (b != NULL);
        else if (json_is_string(a))
            d = strcmp(json_string_value(a), json_string_value(b));
        else if (json_is_number(a))
            d = (json_number_value(a) > json_number_value(b))
                - (json_number_value(a) < json_number_value(b));
        else
            d = (int)json_is_true(a) - (int)json_is_true(b);
        if (desc)
            d = -d;
        ck_assert_msg(d <= 0, "%s not sorted at %zu", field, i);
        if (d == 0 && ties_by_uuid)
            ck_assert_msg(strcmp(json_string_value(json_object_get(json_array_get(list, i - 1), "uuid")),
                                 json_string_value(json_object_get(json_array_get(list, i), "uuid"))) < 0,
                          "%s: tie not stable at %zu", field, i);
    }
}

START_TEST(test_store_sort)
{
    static const char *const specs[][2] = {
        {"+size", "size"}, {"-size", "size"}, {"+weight", "weight"}, {"-enabled", "enabled"},
        {"+description", "description"}, {"-description", "description"}, {"+color", "color"},
    };
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
        char p[160];
        snprintf(p, sizeof p, "{\"sort\": \"%s\", \"limit\": 100000, \"q\": \"weight>10\"}",
                 specs[i][0]);
        zs_query_stats_t st;
        json_t *r = run(p, &st);
        json_t *inv = json_object_get(r, "inventories");
        const char *w = "weight>10";
        json_t *want = brute(&w, 1);
        ck_assert_int_eq(json_array_size(inv), json_array_size(want));
        assert_sorted(inv, specs[i][1], specs[i][0][0] == '-', strcmp(st.plan, "scan") == 0);
        json_decref(want);
        json_decref(r);
    }
    /* nulls sort first ascending */
    json_t *r = run("{\"sortBy\": \"size\", \"sortDirection\": \"asc\", \"limit\": 3}", NULL);
    ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(r, "inventories"), 0), "size"));
    json_decref(r);
    /* timestamps sort as instants, even though rendered as text */
    r = run("{\"sort\": \"-createDate\", \"limit\": 100000, \"fields\": \"createDate,uuid\"}", NULL);
    json_t *inv = json_object_get(r, "inventories");
    ck_assert_int_eq(json_array_size(inv), N_RECORDS);
    json_int_t max = 0;
    size_t i;
    json_t *rec;
    json_array_foreach(records, i, rec)
        if (json_integer_value(json_object_get(rec, "createDate")) > max)
            max = json_integer_value(json_object_get(rec, "createDate"));
    char buf[48];
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(inv, 0), "createDate")),
                     zs_date_format(max, buf, sizeof buf));
    json_decref(r);
    /* sort with an index plan and a page */
    r = run("{\"sort\": \"+size\", \"q\": \"color=red\", \"limit\": 5, \"start\": 3, "
            "\"replyWithCount\": true}", NULL);
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), count_where("color", "red"));
    json_decref(r);
}
END_TEST

START_TEST(test_store_fields_render)
{
    json_t *r = run("{\"q\": \"name=thing-0042\"}", NULL);
    json_t *one = json_array_get(json_object_get(r, "inventories"), 0);
    ck_assert_ptr_nonnull(one);
    ck_assert_ptr_null(json_object_get(one, "secret"));          /* hidden */
    ck_assert(json_is_string(json_object_get(one, "createDate")));   /* TIME as date text */
    ck_assert(json_is_integer(json_object_get(one, "time")));        /* EPOCH as number */
    json_decref(r);

    r = run("{\"q\": \"name=thing-0042\", \"fields\": [\"name\", \"size,uuid\"]}", NULL);
    one = json_array_get(json_object_get(r, "inventories"), 0);
    ck_assert_int_eq(json_object_size(one), 3);
    ck_assert_ptr_nonnull(json_object_get(one, "name"));
    ck_assert_ptr_nonnull(json_object_get(one, "size"));
    ck_assert_ptr_nonnull(json_object_get(one, "uuid"));
    json_decref(r);

    r = run("{\"limit\": 5, \"fields\": \"color\"}", NULL);
    size_t i;
    json_t *rec;
    json_array_foreach(json_object_get(r, "inventories"), i, rec) {
        ck_assert_int_eq(json_object_size(rec), 1);
        ck_assert_ptr_nonnull(json_object_get(rec, "color"));
    }
    json_decref(r);
}
END_TEST

START_TEST(test_store_group_by)
{
    /* with count: one group per color, counts as brute force */
    json_t *r = run("{\"groupBy\": \"color\", \"count\": true, \"q\": \"size>10\"}", NULL);
    const char *c = "size>10";
    json_t *want = brute(&c, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), json_array_size(want));
    json_t *groups = json_object_get(r, "groups");
    ck_assert_int_eq(json_array_size(groups), 5);
    size_t sum = 0, i;
    json_t *g;
    const char *prev = "";
    json_array_foreach(groups, i, g) {
        const char *color = json_string_value(json_object_get(g, "color"));
        ck_assert_ptr_nonnull(color);
        ck_assert_int_gt(strcmp(color, prev), 0);            /* groups in value order */
        prev = color;
        size_t n = 0, j;
        json_t *rec;
        json_array_foreach(want, j, rec)
            n += strcmp(json_string_value(json_object_get(rec, "color")), color) == 0;
        ck_assert_int_eq(json_integer_value(json_object_get(g, "count")), n);
        sum += n;
    }
    ck_assert_uint_eq(sum, json_array_size(want));
    json_decref(want);
    json_decref(r);

    /* null is a group of its own */
    r = run("{\"groupBy\": \"description\", \"count\": true}", NULL);
    groups = json_object_get(r, "groups");
    ck_assert_int_eq(json_array_size(groups), 14);
    g = json_array_get(groups, 0);
    ck_assert(json_is_null(json_object_get(g, "description")));
    const char *isnull = "description is null";
    want = brute(&isnull, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(g, "count")), json_array_size(want));
    json_decref(want);
    json_decref(r);

    /* without count: one record per distinct value, the first one met */
    r = run("{\"groupBy\": \"color\", \"replyWithCount\": true}", NULL);
    json_t *inv = json_object_get(r, "inventories");
    ck_assert_int_eq(json_array_size(inv), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), 5);
    json_t *rec;
    json_array_foreach(inv, i, rec) {
        /* first in uuid order (the scan's order) of its color */
        size_t j;
        json_t *x = NULL;
        json_array_foreach(records, j, x)
            if (json_equal(json_object_get(x, "color"), json_object_get(rec, "color")))
                break;
        ck_assert_str_eq(json_string_value(json_object_get(x, "uuid")),
                         json_string_value(json_object_get(rec, "uuid")));
    }
    json_decref(r);

    /* without count, sorted: the first of each group in sort order */
    r = run("{\"groupBy\": \"color\", \"sort\": \"-name\", \"limit\": 2, \"start\": 1, "
            "\"replyWithCount\": true}", NULL);
    inv = json_object_get(r, "inventories");
    ck_assert_int_eq(json_array_size(inv), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), 5);
    json_decref(r);

    /* groups of a timestamp render as dates */
    r = run("{\"groupBy\": \"createDate\", \"count\": true, \"q\": \"name=thing-0001\"}", NULL);
    g = json_array_get(json_object_get(r, "groups"), 0);
    ck_assert(json_is_string(json_object_get(g, "createDate")));
    json_decref(r);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Tags and joins through a resolver */

typedef struct {
    int tag_calls, join_calls;
    char last_op[8], last_type[8], last_cond[64];
    bool fail;
} mock_t;

/* "has tag" = every record whose name ends in 0; the tag value is ignored. */
static json_t *mock_tags(void *ctx, const char *type, const char *op, const char *value,
                         json_t **error)
{
    mock_t *m = ctx;
    (void)value;
    m->tag_calls++;
    snprintf(m->last_op, sizeof m->last_op, "%s", op);
    snprintf(m->last_type, sizeof m->last_type, "%s", type);
    if (m->fail) {
        *error = zs_error(ZS_SYS_FAILED, "tag service down");
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *rec;
    json_array_foreach(records, i, rec) {
        const char *name = json_string_value(json_object_get(rec, "name"));
        if (name[strlen(name) - 1] == '0')
            json_array_append(out, json_object_get(rec, "uuid"));
    }
    json_array_append_new(out, json_string("some-other-resource"));
    return out;
}

/* Owners: owner.name=alice -> owner-1 and owner-2; anything else -> none. */
static json_t *mock_join(void *ctx, const zs_join_t *join, const char *condition, json_t **error)
{
    mock_t *m = ctx;
    (void)error;
    m->join_calls++;
    snprintf(m->last_cond, sizeof m->last_cond, "%s", condition);
    ck_assert_str_eq(join->name, "owner");
    if (strcmp(condition, "name=alice") == 0)
        return json_pack("[ss]", "owner-1", "owner-2");
    return json_array();
}

START_TEST(test_store_tags)
{
    mock_t m = {0};
    zs_query_resolver_t rs = {.ctx = &m, .tag_resources = mock_tags, .join_values = mock_join};
    zs_query_stats_t st;
    json_t *r = run_ex(&thing, "{\"q\": \"__systemTag__=foo\", \"limit\": 100000}", &rs, NULL,
                       NULL, &st);
    ck_assert_str_eq(m.last_op, "=");
    ck_assert_str_eq(m.last_type, "System");
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")), N_RECORDS / 10);
    ck_assert_str_eq(st.plan, "key:uuid");
    ck_assert_uint_eq(st.examined, N_RECORDS / 10);
    json_decref(r);

    /* negative: records with no matching tag, asked with the positive operator */
    r = run_ex(&thing, "{\"q\": [\"__userTag__!~=f%\", \"color=red\"], \"limit\": 100000}", &rs,
               NULL, NULL, &st);
    ck_assert_str_eq(m.last_op, "~=");
    ck_assert_str_eq(m.last_type, "User");
    size_t want = 0, i;
    json_t *rec;
    json_array_foreach(records, i, rec) {
        const char *name = json_string_value(json_object_get(rec, "name"));
        want += name[strlen(name) - 1] != '0'
                && strcmp(json_string_value(json_object_get(rec, "color")), "red") == 0;
    }
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")), want);
    ck_assert_str_eq(st.plan, "index:color");
    json_decref(r);

    r = run_ex(&thing, "{\"q\": \"__systemTag__!?=a,b\", \"count\": true}", &rs, NULL, NULL, NULL);
    ck_assert_str_eq(m.last_op, "?=");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), N_RECORDS - N_RECORDS / 10);
    json_decref(r);

    /* a failing resolver's error is the query's error */
    m.fail = true;
    json_t *p = params_of("{\"q\": \"__systemTag__=foo\"}");
    zs_query_t *q = zs_query_parse(&thing, p, NULL);
    MDB_txn *txn;
    ck_assert_int_eq(zs_store_begin(store, NULL, false, &txn), 0);
    json_t *err = NULL;
    ck_assert_ptr_null(zs_query_run(q, store, txn, &rs, NULL, NULL, NULL, &err));
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(err, "details")), "down"));
    json_decref(err);
    /* no resolver at all: SYS.1006 */
    err = NULL;
    ck_assert_ptr_null(zs_query_run(q, store, txn, NULL, NULL, NULL, NULL, &err));
    ck_assert_str_eq(zs_error_code(err), ZS_SYS_FAILED);
    json_decref(err);
    mdb_txn_abort(txn);
    zs_query_destroy(&q);
    json_decref(p);
}
END_TEST

START_TEST(test_store_joins)
{
    mock_t m = {0};
    zs_query_resolver_t rs = {.ctx = &m, .tag_resources = mock_tags, .join_values = mock_join};
    zs_query_stats_t st;
    json_t *r = run_ex(&thing, "{\"q\": \"owner.name=alice\", \"limit\": 100000}", &rs, NULL, NULL,
                       &st);
    ck_assert_str_eq(m.last_cond, "name=alice");
    ck_assert_int_eq(json_array_size(json_object_get(r, "inventories")),
                     count_where("ownerUuid", "owner-1") + count_where("ownerUuid", "owner-2"));
    ck_assert_str_eq(st.plan, "index:ownerUuid");
    ck_assert_uint_eq(st.examined,
                      count_where("ownerUuid", "owner-1") + count_where("ownerUuid", "owner-2"));
    json_decref(r);

    r = run_ex(&thing, "{\"q\": \"owner.name!=bob\", \"count\": true}", &rs, NULL, NULL, &st);
    ck_assert_str_eq(m.last_cond, "name!=bob");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "total")), 0);
    ck_assert_uint_eq(st.examined, 0);
    json_decref(r);

    r = run_ex(&thing, "{\"q\": \"owner.name is null\"}", &rs, NULL, NULL, NULL);
    ck_assert_str_eq(m.last_cond, "name is null");
    json_decref(r);

    /* the same query runs twice, asking the resolver each time */
    json_t *p = params_of("{\"q\": \"owner.name=alice\", \"count\": true}");
    zs_query_t *q = zs_query_parse(&thing, p, NULL);
    MDB_txn *txn;
    ck_assert_int_eq(zs_store_begin(store, NULL, false, &txn), 0);
    int before = m.join_calls;
    for (int i = 0; i < 2; i++) {
        r = zs_query_run(q, store, txn, &rs, NULL, NULL, NULL, NULL);
        ck_assert_int_eq(json_integer_value(json_object_get(r, "total")),
                         count_where("ownerUuid", "owner-1") + count_where("ownerUuid", "owner-2"));
        json_decref(r);
    }
    ck_assert_int_eq(m.join_calls, before + 2);
    mdb_txn_abort(txn);
    zs_query_destroy(&q);
    json_decref(p);
}
END_TEST

static Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *g = tcase_create("grammar");
    tcase_add_test(g, test_operators_string);
    tcase_add_test(g, test_operators_numbers);
    tcase_add_test(g, test_operators_bool);
    tcase_add_test(g, test_timestamps);
    tcase_add_test(g, test_split_precedence);
    tcase_add_test(g, test_null_forms);
    tcase_add_test(g, test_like);
    tcase_add_test(g, test_sets);
    tcase_add_test(g, test_match_one_refusals);
    tcase_add_test(g, test_parse_errors);
    tcase_add_test(g, test_parse_limits);
    tcase_add_test(g, test_parse_accepts);
    tcase_add_test(g, test_error_quoting);
    suite_add_tcase(s, g);

    TCase *st = tcase_create("store");
    tcase_add_unchecked_fixture(st, store_setup, store_teardown);
    tcase_set_timeout(st, 300);
    tcase_add_test(st, test_store_equals_brute_force);
    tcase_add_test(st, test_store_random_queries);
    tcase_add_test(st, test_store_plans);
    tcase_add_test(st, test_store_count);
    tcase_add_test(st, test_store_visible);
    tcase_add_test(st, test_store_paging);
    tcase_add_test(st, test_store_sort);
    tcase_add_test(st, test_store_fields_render);
    tcase_add_test(st, test_store_group_by);
    tcase_add_test(st, test_store_tags);
    tcase_add_test(st, test_store_joins);
    suite_add_tcase(s, st);
    return s;
}

int main(void)
{
    return test_run_suite(query_suite());
}
