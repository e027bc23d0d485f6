/* query.c — see query.h.
 *
 * A query is a list of parsed conditions plus paging, sort and reply-shape options. Running
 * it resolves tag and join conditions into sets of strings, picks a plan (direct uuid gets,
 * one index, or a scan), passes every candidate record through ALL the conditions (a plan
 * only narrows the candidates, it never decides a match, so an index can only cost speed,
 * never correctness as long as it is complete) and hands the matches to a sink that counts
 * them, groups them, collects sort keys, or renders the requested page.
 */
#define _GNU_SOURCE             /* qsort_r, asprintf, strndup */
#include "query.h"
#include "clock.h"
#include "error.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KEY_SIZE 512            /* buffer zs_store_index_key asks for */
#define SHOWN    200            /* bytes of a condition quoted in an error */

/* =============================================================================================
 * Operators */

typedef enum {
    OP_NE, OP_GE, OP_LE, OP_NOT_IN, OP_NOT_LIKE, OP_LIKE, OP_IN, OP_EQ, OP_GT, OP_LT,
    OP_IS_NULL, OP_NOT_NULL
} op_t;

/* The infix operators in the order rest.md tries them: the first one the condition contains
 * wins wherever it is, so "a!=b=c" is a != "b=c" and "a=b>c" is a = "b>c". */
static const char *const op_text[] = {
    [OP_NE] = "!=", [OP_GE] = ">=", [OP_LE] = "<=", [OP_NOT_IN] = "!?=", [OP_NOT_LIKE] = "!~=",
    [OP_LIKE] = "~=", [OP_IN] = "?=", [OP_EQ] = "=", [OP_GT] = ">", [OP_LT] = "<",
    [OP_IS_NULL] = " is null", [OP_NOT_NULL] = " not null",
};
#define INFIX_OPS (OP_LT + 1)

static bool op_negative(op_t op)
{
    return op == OP_NE || op == OP_NOT_IN || op == OP_NOT_LIKE;
}

/* Tag lookups always ask for the positive form; the negation is applied here. */
static op_t op_positive(op_t op)
{
    return op == OP_NE ? OP_EQ : op == OP_NOT_IN ? OP_IN : op == OP_NOT_LIKE ? OP_LIKE : op;
}

/* =============================================================================================
 * Conditions */

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

static void cond_free(cond_t *c)
{
    free(c->text);
    free(c->raw);
    json_decref(c->value);
    json_decref(c->list);
    json_decref(c->set);
    memset(c, 0, sizeof *c);
}

/* Length of the valid UTF-8 sequence at s, or 0 (the checks jansson makes: no overlong
 * forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_valid(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
    unsigned hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    for (size_t i = 1; i < n; i++, lo = 0x80, hi = 0xBF)
        if (s[i] < lo || s[i] > hi)
            return 0;
    return n;
}

#define QUOTE_SIZE (SHOWN + 8)

/* User text as an error may quote it: at most `max` (<= SHOWN) bytes, cut between
 * characters, with "..." when cut, and '?' for bytes that are not UTF-8 — an error object
 * cannot hold invalid UTF-8, and a refusal must still be able to say what it refuses. */
static const char *quote(const char *s, size_t max, char buf[QUOTE_SIZE])
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p) {
        size_t k = utf8_valid(p);
        if (n + (k ? k : 1) > max) {
            memcpy(buf + n, "...", 4);
            return buf;
        }
        if (k)
            memcpy(buf + n, p, k);
        else
            buf[n] = '?';
        n += k ? k : 1;
        p += k ? k : 1;
    }
    buf[n] = '\0';
    return buf;
}

static json_t *oom(void)
{
    return zs_error(ZS_SYS_INTERNAL, "query: out of memory");
}

/* The SYS.1007 error for a condition that cannot be used; `fmt` says why. */
static json_t *bad_cond(const char *text, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static json_t *bad_cond(const char *text, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    char q[QUOTE_SIZE];
    return zs_error(ZS_SYS_INVALID, "query condition[%s] is invalid: %s", quote(text, SHOWN, q),
                    why);
}

/* Finds the operator of `s`: sets *op, the length of the field name before it and the value
 * after it. False when `s` has none. */
static bool cond_split(const char *s, op_t *op, size_t *name_len, const char **value)
{
    for (int i = 0; i < INFIX_OPS; i++) {
        const char *at = strstr(s, op_text[i]);
        if (at) {
            *op = (op_t)i;
            *name_len = (size_t)(at - s);
            *value = at + strlen(op_text[i]);
            return true;
        }
    }
    size_t n = strlen(s);
    for (op_t o = OP_IS_NULL; o <= OP_NOT_NULL; o++) {
        size_t k = strlen(op_text[o]);
        if (n > k && strcasecmp(s + n - k, op_text[o]) == 0) {
            size_t len = n - k;
            while (len > 0 && s[len - 1] == ' ')
                len--;
            *op = o;
            *name_len = len;
            *value = s + n;
            return true;
        }
    }
    return false;
}

/* Strict integer: optional sign and digits only, within long long. */
static bool parse_ll(const char *s, long long *out)
{
    const char *p = s + (*s == '-' || *s == '+');
    if (!*p || strspn(p, "0123456789") != strlen(p))
        return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return false;
    *out = v;
    return true;
}

/* Strict finite number: the whole text, no leading blank. */
static bool parse_double(const char *s, double *out)
{
    char *end;
    if (!*s || *s == ' ' || *s == '\t' || *s == '\n')
        return false;
    double d = strtod(s, &end);
    if (*end || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* The condition value `raw` typed like field type `type` (TIME and EPOCH become epoch ms).
 * NULL and *why when it does not parse. */
static json_t *typed_value(zs_ftype_t type, const char *raw, const char **why)
{
    switch (type) {
    case ZS_FT_INT: {
        long long v;
        if (parse_ll(raw, &v))
            return json_integer(v);
        *why = "is not an integer";
        return NULL;
    }
    case ZS_FT_REAL: {
        double d;
        if (parse_double(raw, &d))
            return json_real(d);
        *why = "is not a number";
        return NULL;
    }
    case ZS_FT_BOOL:
        if (strcasecmp(raw, "true") == 0)
            return json_true();
        if (strcasecmp(raw, "false") == 0)
            return json_false();
        *why = "is not a boolean (true or false)";
        return NULL;
    case ZS_FT_TIME:
    case ZS_FT_EPOCH: {
        int64_t ms;
        if (zs_date_parse(raw, &ms))
            return json_integer(ms);
        *why = "is not a timestamp (epoch milliseconds, \"yyyy-MM-dd HH:mm:ss\" or "
               "\"Jan 6, 2017 3:51:16 AM\")";
        return NULL;
    }
    case ZS_FT_STRING:
    case ZS_FT_JSON:
    default: {
        json_t *v = json_string(raw);
        if (!v)
            *why = "is not valid UTF-8";
        return v;
    }
    }
}

/* Text of any JSON value: a string as it is, anything else as compact JSON (then *heap holds
 * the memory to free). */
static const char *json_text(const json_t *v, char **heap)
{
    if (json_is_string(v))
        return json_string_value(v);
    *heap = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    return *heap;
}

/* The shortest text that reads back as d. */
static void real_text(double d, char *buf, size_t size)
{
    if (d == 0)
        d = 0;                  /* -0.0 == 0.0: one text for both */
    snprintf(buf, size, "%.15g", d);
    if (strtod(buf, NULL) != d)
        snprintf(buf, size, "%.17g", d);
}

/* A text that is equal for two values exactly when they compare equal as values of a field
 * of type `type`: the key of ?= sets and of groups. NULL for null, absent, or a value of a
 * type the field cannot compare (such values match no set). *heap gets memory to free. */
static const char *canon(zs_ftype_t type, const json_t *v, char *buf, size_t size, char **heap)
{
    *heap = NULL;
    if (!v || json_is_null(v))
        return NULL;
    switch (type) {
    case ZS_FT_STRING:
        return json_is_string(v) ? json_string_value(v) : NULL;
    case ZS_FT_INT:
    case ZS_FT_TIME:
    case ZS_FT_EPOCH:
        if (json_is_integer(v)) {
            snprintf(buf, size, "%lld", (long long)json_integer_value(v));
            return buf;
        }
        if (json_is_real(v)) {
            double d = json_real_value(v);
            if (d == trunc(d) && fabs(d) < 9.2e18) {
                snprintf(buf, size, "%lld", (long long)d);
                return buf;
            }
        }
        return NULL;
    case ZS_FT_REAL:
        if (!json_is_number(v))
            return NULL;
        real_text(json_number_value(v), buf, size);
        return buf;
    case ZS_FT_BOOL:
        return json_is_true(v) ? "true" : json_is_false(v) ? "false" : NULL;
    case ZS_FT_JSON:
    default:
        return json_text(v, heap);
    }
}

/* The text LIKE looks at: the canonical text, except that timestamps read as SQL would print
 * them ("2017-01-06 03:51:16"), so `createDate~=2017-01-%` works. */
static const char *like_text(zs_ftype_t type, const json_t *v, char *buf, size_t size,
                             char **heap)
{
    if (type == ZS_FT_TIME && json_is_integer(v)) {
        *heap = NULL;
        return zs_date_format_iso(json_integer_value(v), buf, size);
    }
    return canon(type, v, buf, size, heap);
}

/* Parses the comma-separated set of a ?= or !?= condition. */
static int cond_list(cond_t *c, json_t **error)
{
    c->list = json_array();
    c->set = json_object();
    if (!c->list || !c->set) {
        *error = oom();
        return -1;
    }
    const char *p = c->raw;
    for (;;) {
        size_t n = strcspn(p, ",");
        char *item = strndup(p, n);
        const char *why = NULL;
        json_t *v = item ? typed_value(c->field->type, item, &why) : NULL;
        if (!v) {
            char q[QUOTE_SIZE];
            *error = item ? bad_cond(c->text, "value[%s] of field[%s] %s", quote(item, 64, q),
                                     c->field->name, why)
                          : oom();
            free(item);
            return -1;
        }
        char buf[64], *heap;
        const char *key = canon(c->field->type, v, buf, sizeof buf, &heap);
        if (key && !json_object_get(c->set, key)) {
            json_object_set_new_nocheck(c->set, key, json_true());
            json_array_append(c->list, v);
        }
        free(heap);
        json_decref(v);
        free(item);
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

static int cond_field(const zs_resource_t *res, cond_t *c, const char *name, json_t **error)
{
    c->kind = C_FIELD;
    c->field = zs_resource_field(res, name, true);
    if (!c->field) {
        char q[QUOTE_SIZE];
        *error = zs_error(ZS_SYS_INVALID, "field[%s] is not a queryable field of %s",
                          quote(name, SHOWN, q), res->name);
        return -1;
    }
    switch (c->op) {
    case OP_IS_NULL:
    case OP_NOT_NULL:
    case OP_LIKE:
    case OP_NOT_LIKE:
        return 0;               /* LIKE keeps its pattern in raw */
    case OP_IN:
    case OP_NOT_IN:
        return cond_list(c, error);
    default: {
        const char *why = NULL;
        c->value = typed_value(c->field->type, c->raw, &why);
        if (!c->value) {
            char q[QUOTE_SIZE];
            *error = bad_cond(c->text, "value[%s] of field[%s] %s", quote(c->raw, 64, q),
                              c->field->name, why);
            return -1;
        }
        return 0;
    }
    }
}

/* "<join>.<rest>": the rest is handed whole to the resolver as a condition of the joined
 * resource, which this descriptor knows nothing about. */
static int cond_join(const zs_resource_t *res, cond_t *c, const char *name, json_t **error)
{
    const char *dot = strchr(name, '.');
    char *jname = strndup(name, (size_t)(dot - name));
    if (!jname) {
        *error = oom();
        return -1;
    }
    c->kind = C_JOIN;
    c->join = zs_resource_join(res, jname);
    if (!c->join) {
        char q[QUOTE_SIZE], qj[QUOTE_SIZE];
        *error = zs_error(ZS_SYS_INVALID, "field[%s] is not a queryable field of %s "
                          "(it has no join named %s)", quote(name, SHOWN, q), res->name,
                          quote(jname, 64, qj));
    }
    free(jname);
    if (!c->join)
        return -1;
    if (!dot[1]) {
        *error = bad_cond(c->text, "no field after \"%s.\"", c->join->name);
        return -1;
    }
    c->local = zs_resource_field(res, c->join->local, false);
    c->remote = c->text + (dot - name) + 1;
    return 0;
}

static int cond_tag(cond_t *c, const char *name, json_t **error)
{
    c->kind = C_TAG;
    c->tag_type = strcmp(name, "__systemTag__") == 0 ? "System" : "User";
    if (c->op == OP_IS_NULL || c->op == OP_NOT_NULL) {
        *error = bad_cond(c->text, "%s cannot be tested for null; use %s~=%% or %s!~=%%", name,
                          name, name);
        return -1;
    }
    return 0;
}

/* Parses condition `text` (len bytes, not necessarily NUL-terminated) into *c. */
static int cond_parse(const zs_resource_t *res, const char *text, size_t len, cond_t *c,
                      json_t **error)
{
    memset(c, 0, sizeof *c);
    char q[QUOTE_SIZE];
    if (len > ZS_QUERY_MAX_CONDITION_BYTES) {
        *error = zs_error(ZS_SYS_INVALID, "query condition[%s] is longer than %d bytes",
                          quote(text, 64, q), ZS_QUERY_MAX_CONDITION_BYTES);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        *error = zs_error(ZS_SYS_INVALID, "query condition[%s] contains a NUL character",
                          quote(text, SHOWN, q));
        return -1;
    }
    c->text = strndup(text, len);
    if (!c->text) {
        *error = oom();
        return -1;
    }
    op_t op;
    size_t name_len;
    const char *value;
    if (!cond_split(c->text, &op, &name_len, &value)) {
        *error = bad_cond(c->text, "it has no operator (one of != >= <= !?= !~= ~= ?= = > < "
                          "or the suffix \" is null\" / \" not null\")");
        cond_free(c);
        return -1;
    }
    if (name_len == 0) {
        *error = bad_cond(c->text, "no field name before the operator");
        cond_free(c);
        return -1;
    }
    /* The seed's null tests: "field=null" and "field!=null". */
    if ((op == OP_EQ || op == OP_NE) && strcmp(value, "null") == 0)
        op = op == OP_EQ ? OP_IS_NULL : OP_NOT_NULL;
    c->op = op;
    c->raw = strdup(op == OP_IS_NULL || op == OP_NOT_NULL ? "" : value);
    char *name = strndup(c->text, name_len);
    int rc;
    if (!c->raw || !name) {
        *error = oom();
        rc = -1;
    } else if (strcmp(name, "__systemTag__") == 0 || strcmp(name, "__userTag__") == 0) {
        rc = cond_tag(c, name, error);
    } else if (strchr(name, '.')) {
        rc = cond_join(res, c, name, error);
    } else {
        rc = cond_field(res, c, name, error);
    }
    free(name);
    if (rc)
        cond_free(c);
    return rc;
}

/* =============================================================================================
 * Matching */

/* Orders a and b when they are comparable (both numbers, both strings, both booleans);
 * otherwise *ok is false. Strings compare bytewise, like the store's index. */
static int cmp_scalar(const json_t *a, const json_t *b, bool *ok)
{
    *ok = true;
    if (json_is_integer(a) && json_is_integer(b)) {
        json_int_t x = json_integer_value(a), y = json_integer_value(b);
        return (x > y) - (x < y);
    }
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return (x > y) - (x < y);
    }
    if (json_is_string(a) && json_is_string(b)) {
        size_t n = json_string_length(a), m = json_string_length(b);
        int d = memcmp(json_string_value(a), json_string_value(b), n < m ? n : m);
        return d ? (d > 0) - (d < 0) : (n > m) - (n < m);
    }
    if (json_is_boolean(a) && json_is_boolean(b))
        return (int)json_is_true(a) - (int)json_is_true(b);
    *ok = false;
    return 0;
}

/* A JSON-typed field compared with a condition's text: numerically when the record holds a
 * number and the text is one, else as text (the record value printed as compact JSON). */
static int cmp_json_field(const json_t *v, const char *raw, bool *ok)
{
    double d;
    *ok = true;
    if (json_is_number(v) && parse_double(raw, &d)) {
        double x = json_number_value(v);
        return (x > d) - (x < d);
    }
    char *heap = NULL;
    const char *t = json_text(v, &heap);
    int r = t ? strcmp(t, raw) : 0;
    *ok = t != NULL;
    free(heap);
    return (r > 0) - (r < 0);
}

static size_t utf8_step(const unsigned char *s, size_t i, size_t n)
{
    unsigned char c = s[i];
    size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return i + k > n ? n - i : k;
}

/* SQL LIKE: % any run of characters (also none), _ exactly one character (a UTF-8 sequence),
 * anything else itself; no escape character. Greedy with one backtrack point, so a pattern
 * costs at most O(len(pattern) * len(text)). */
static bool like_match(const char *pattern, const char *text, size_t n)
{
    const unsigned char *p = (const unsigned char *)pattern, *t = (const unsigned char *)text;
    size_t pn = strlen(pattern), pi = 0, ti = 0, star_p = SIZE_MAX, star_t = 0;
    while (ti < n) {
        if (pi < pn && p[pi] == '%') {
            star_p = ++pi;
            star_t = ti;
        } else if (pi < pn && p[pi] == '_') {
            pi++;
            ti += utf8_step(t, ti, n);
        } else if (pi < pn && p[pi] == t[ti]) {
            pi++;
            ti++;
        } else if (star_p != SIZE_MAX) {
            star_t += utf8_step(t, star_t, n);
            ti = star_t;
            pi = star_p;
        } else {
            return false;
        }
    }
    while (pi < pn && p[pi] == '%')
        pi++;
    return pi == pn;
}

/* Length of the literal prefix of a pattern shaped "abc%" (one or more trailing %, no other
 * wildcard), which an index can serve; 0 for any other shape. */
static size_t like_prefix(const char *pattern)
{
    size_t n = strcspn(pattern, "%_");
    if (n == 0 || pattern[n] != '%')
        return 0;
    return pattern[n + strspn(pattern + n, "%")] ? 0 : n;
}

/* True for a pattern without wildcards: it means plain equality. */
static bool like_exact(const char *pattern)
{
    return pattern[strcspn(pattern, "%_")] == '\0';
}

static bool in_set(const json_t *set, zs_ftype_t type, const json_t *v)
{
    char buf[64], *heap;
    const char *key = canon(type, v, buf, sizeof buf, &heap);
    bool in = key && json_object_get(set, key);
    free(heap);
    return in;
}

/* Field conditions follow SQL: a null or absent value satisfies only "is null"; every
 * comparison with it — negated ones too — is false. So is a comparison with a value of a
 * type the field does not have. */
static bool field_match(const cond_t *c, const json_t *v)
{
    bool absent = !v || json_is_null(v);
    if (c->op == OP_IS_NULL)
        return absent;
    if (c->op == OP_NOT_NULL)
        return !absent;
    if (absent)
        return false;
    zs_ftype_t type = c->field->type;
    switch (c->op) {
    case OP_IN:
    case OP_NOT_IN: {
        char buf[64], *heap;
        const char *key = canon(type, v, buf, sizeof buf, &heap);
        bool ok = key != NULL, in = key && json_object_get(c->set, key);
        free(heap);
        return ok && (c->op == OP_IN) == in;
    }
    case OP_LIKE:
    case OP_NOT_LIKE: {
        char buf[64], *heap;
        const char *t = like_text(type, v, buf, sizeof buf, &heap);
        bool ok = t != NULL;
        bool m = ok && like_match(c->raw, t, json_is_string(v) ? json_string_length(v)
                                                                : strlen(t));
        free(heap);
        return ok && (c->op == OP_LIKE) == m;
    }
    default: {
        bool ok;
        int d = type == ZS_FT_JSON ? cmp_json_field(v, c->raw, &ok)
                                   : cmp_scalar(v, c->value, &ok);
        if (!ok)
            return false;
        switch (c->op) {
        case OP_EQ: return d == 0;
        case OP_NE: return d != 0;
        case OP_GT: return d > 0;
        case OP_GE: return d >= 0;
        case OP_LT: return d < 0;
        case OP_LE: return d <= 0;
        default: return false;
        }
    }
    }
}

/* `uuid` is the record's own uuid (tag conditions look it up in their set). */
static bool cond_match(const cond_t *c, const json_t *rec, const char *uuid)
{
    switch (c->kind) {
    case C_TAG: {
        bool in = uuid && json_object_get(c->set, uuid);
        return op_negative(c->op) ? !in : in;
    }
    case C_JOIN:
        return in_set(c->set, c->local ? c->local->type : ZS_FT_STRING,
                      json_object_get(rec, c->join->local));
    case C_FIELD:
    default:
        return field_match(c, json_object_get(rec, c->field->name));
    }
}

/* =============================================================================================
 * The query object and its parameters */

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
    const char *plan;               /* what the last run did (static text) */
};

static int query_append(zs_query_t *self, const char *text, size_t len, json_t **error)
{
    if (self->nconds == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        cond_t *c = realloc(self->conds, cap * sizeof *c);
        if (!c) {
            *error = oom();
            return -1;
        }
        self->conds = c;
        self->cap = cap;
    }
    if (cond_parse(self->res, text, len, &self->conds[self->nconds], error) != 0)
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
                           quote(t, 32, q));
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
    *error = bad_param(name, "must be true or false, not [%s]", quote(t, 32, q));
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
                           quote(name, SHOWN, q), res->name);
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
        *error = bad_param("sortDirection", "must be asc or desc, not [%s]", quote(dir, 32, q));
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
                    *error = oom();
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
        *error = oom();
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
            *error = oom();
        return NULL;
    }
    self->res = res;
    self->plan = "none";
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
        cond_free(&self->conds[i]);
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
    if (cond_parse(res, condition, strlen(condition), &c, &err) == 0) {
        if (c.kind == C_FIELD)
            rc = cond_match(&c, rec, NULL) ? 1 : 0;
        else
            err = bad_cond(condition, "join and tag conditions cannot be tested on one record");
        cond_free(&c);
    }
    if (error && err)
        *error = err;
    else
        json_decref(err);
    return rc;
}

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
                          "available here", quote(c->text, SHOWN, q),
                          c->kind == C_TAG ? "the tag service" : "a join lookup");
        return -1;
    }
    json_t *err = NULL;
    json_t *values = c->kind == C_TAG
                         ? rs->tag_resources(rs->ctx, c->tag_type, op_text[op_positive(c->op)],
                                             c->raw, &err)
                         : rs->join_values(rs->ctx, c->join, c->remote, &err);
    if (!values) {
        char q[QUOTE_SIZE];
        *error = err ? err : zs_error(ZS_SYS_FAILED, "query condition[%s] could not be "
                                      "resolved", quote(c->text, SHOWN, q));
        return -1;
    }
    json_decref(err);
    json_decref(c->set);
    c->set = set_from(values);
    json_decref(values);
    if (!c->set) {
        *error = oom();
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
    const char *c = canon(f->type, v, buf, sizeof buf, &heap);
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
        run_fail(r, oom());
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
            run_fail(r, oom());
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
        run_fail(r, oom());
}

/* No sort asked: records arrive in their final order, so the page is rendered as they come
 * and the walk ends with the page unless the total is wanted too. */
static void sink_stream(run_t *r, const json_t *rec)
{
    zs_query_t *q = r->q;
    if (q->group) {
        char *key = group_key(q->group, json_object_get(rec, q->group->name));
        if (!key) {
            run_fail(r, oom());
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
    if (i >= q->start && i - q->start < q->limit)
        json_array_append_new(r->page, zs_resource_render(q->res, rec, q->fields));
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
        if (!cond_match(&q->conds[i], rec, own ? own : uuid))
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

static int feed_record(void *arg, const char *uuid, json_t *rec)
{
    run_t *r = arg;
    consider(r, uuid, rec);
    return r->stop ? 1 : 0;
}

static int feed_uuid(void *arg, const char *uuid)
{
    run_t *r = arg;
    json_t *rec = zs_store_get(r->store, r->txn, r->q->res->collection, uuid);
    if (rec)                    /* an index entry whose record is gone: the record wins */
        consider(r, uuid, rec);
    json_decref(rec);
    return r->stop ? 1 : 0;
}

/* =============================================================================================
 * Running: the plan */

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

static void plan_free(plan_t *p)
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
        plan_free(best);
        *best = *cand;
    } else {
        plan_free(cand);
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
            plan_free(p);
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
            plan_free(p);
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
    int d = cmp_scalar(v, *bound, &ok);
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
        int d = cmp_scalar(lo, hi, &ok);
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
        plan_free(p);
        return false;
    }
    p->estimate = lo && hi ? total / 10 + 1 : total / 3 + 1;
    return true;
}

/* LIKE "abc%" walks the keys starting with "abc"; guessed at a tenth of the collection. */
static bool plan_prefix(const cond_t *c, size_t total, plan_t *p)
{
    size_t n = like_prefix(c->raw);
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
        && like_exact(c->raw))
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

static void plan_choose(const run_t *r, plan_t *best)
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

/* Plan names must outlive the query (query.h: static text), yet name a field. Each distinct
 * "<kind>:<field>" is made once and kept for the life of the process; there are at most a
 * few per indexed field of the descriptors. */
typedef struct plan_text {
    struct plan_text *next;
    char text[];
} plan_text_t;

static pthread_mutex_t plan_texts_lock = PTHREAD_MUTEX_INITIALIZER;
static plan_text_t *plan_texts;

static const char *plan_text(const char *kind, const char *field)
{
    char want[256];
    const char *out = kind;     /* without memory, the kind alone still tells something */
    if ((size_t)snprintf(want, sizeof want, "%s:%s", kind, field) >= sizeof want)
        return out;
    pthread_mutex_lock(&plan_texts_lock);
    plan_text_t *t = plan_texts;
    while (t && strcmp(t->text, want) != 0)
        t = t->next;
    if (!t && (t = malloc(sizeof *t + strlen(want) + 1))) {
        strcpy(t->text, want);
        t->next = plan_texts;
        plan_texts = t;
    }
    if (t)
        out = t->text;
    pthread_mutex_unlock(&plan_texts_lock);
    return out;
}

static const char *plan_name(const plan_t *p)
{
    return p->kind == P_SCAN    ? "scan"
         : p->kind == P_UUIDS   ? "key:uuid"
                                : plan_text("index", p->field->name);
}

static int plan_run(run_t *r, const plan_t *p)
{
    zs_store_t *s = r->store;
    const char *coll = r->q->res->collection;
    const char *f = p->field ? p->field->name : NULL;
    int rc = 0;
    switch (p->kind) {
    case P_SCAN:
        rc = zs_store_scan(s, r->txn, coll, feed_record, r);
        break;
    case P_UUIDS:
        for (size_t i = 0; i < p->nuuids && !r->stop; i++)
            feed_uuid(r, p->uuids[i]);
        break;
    case P_KEYS:
        for (size_t i = 0; i < p->nkeys && !r->stop && rc == 0; i++)
            rc = zs_store_index_walk(s, r->txn, coll, f, p->keys[i].b, p->keys[i].n, true,
                                     p->keys[i].b, p->keys[i].n, true, NULL, 0, feed_uuid, r);
        break;
    case P_RANGE:
        rc = zs_store_index_walk(s, r->txn, coll, f, p->lo.b, p->lo.n, p->lo_inc, p->hi.b,
                                 p->hi.n, p->hi_inc, NULL, 0, feed_uuid, r);
        break;
    case P_PREFIX:
        rc = zs_store_index_walk(s, r->txn, coll, f, NULL, 0, false, NULL, 0, false,
                                 p->prefix.b, p->prefix.n, feed_uuid, r);
        break;
    }
    return r->stop ? 0 : rc;
}

/* count=true with at most one indexed equality (or ?=) and nothing else to check: the answer
 * comes from the collection's or the index's counts, without reading a record. */
static bool count_shortcut(run_t *r)
{
    zs_query_t *q = r->q;
    if (!q->count || q->group || r->visible || q->nconds > 1)
        return false;
    if (q->nconds == 0) {
        r->total = zs_store_count(r->store, r->txn, q->res->collection);
        q->plan = "count-all";
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
    q->plan = plan_text("count-index", c->field->name);
    plan_free(&p);
    return true;
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
    int d = cmp_scalar(a, b, &ok);
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
        if (rec)
            json_array_append_new(r->page, zs_resource_render(q->res, rec, q->fields));
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
    if (count_shortcut(r))
        return;
    if ((r->mode == M_STREAM || r->mode == M_SORTED) && q->limit == 0 && !q->with_count) {
        q->plan = "none";       /* an empty page needs no record */
        return;
    }
    plan_t p;
    plan_choose(r, &p);
    q->plan = plan_name(&p);
    int rc = plan_run(r, &p);
    plan_free(&p);
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
    self->plan = "none";
    if (!r.page || !r.seen)
        run_fail(&r, oom());
    else if (resolve_all(self, resolver, &r.error) != 0)
        r.stop = true;
    else
        run_execute(&r);
    if (!r.error && !(reply = reply_build(&r)))
        r.error = oom();
    if (stats) {
        stats->examined = r.examined;
        stats->plan = self->plan;
    }
    if (r.error && error) {
        *error = r.error;
        r.error = NULL;
    }
    resolved_drop(self);
    run_free(&r);
    return reply;
}
