/* query_cond.c — the conditions of a query: parsing one condition string against a resource
 * descriptor (operators, typed values, joins, tags) and testing a record against it.
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
 * Operators */


/* The infix operators in the order rest.md tries them: the first one the condition contains
 * wins wherever it is, so "a!=b=c" is a != "b=c" and "a=b>c" is a = "b>c". */
const char *const zq_op_text[] = {
    [OP_NE] = "!=", [OP_GE] = ">=", [OP_LE] = "<=", [OP_NOT_IN] = "!?=", [OP_NOT_LIKE] = "!~=",
    [OP_LIKE] = "~=", [OP_IN] = "?=", [OP_EQ] = "=", [OP_GT] = ">", [OP_LT] = "<",
    [OP_IS_NULL] = " is null", [OP_NOT_NULL] = " not null",
};
#define INFIX_OPS (OP_LT + 1)

/* =============================================================================================
 * Conditions */


void zq_cond_free(cond_t *c)
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


/* User text as an error may zq_quote it: at most `max` (<= SHOWN) bytes, cut between
 * characters, with "..." when cut, and '?' for bytes that are not UTF-8 — an error object
 * cannot hold invalid UTF-8, and a refusal must still be able to say what it refuses. */
const char *zq_quote(const char *s, size_t max, char buf[QUOTE_SIZE])
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

json_t *zq_oom(void)
{
    return zs_error(ZS_SYS_INTERNAL, "query: out of memory");
}

/* The SYS.1007 error for a condition that cannot be used; `fmt` says why. */
json_t *zq_bad_cond(const char *text, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    char q[QUOTE_SIZE];
    return zs_error(ZS_SYS_INVALID, "query condition[%s] is invalid: %s", zq_quote(text, SHOWN, q),
                    why);
}

/* Finds the operator of `s`: sets *op, the length of the field name before it and the value
 * after it. False when `s` has none. */
static bool cond_split(const char *s, op_t *op, size_t *name_len, const char **value)
{
    for (int i = 0; i < INFIX_OPS; i++) {
        const char *at = strstr(s, zq_op_text[i]);
        if (at) {
            *op = (op_t)i;
            *name_len = (size_t)(at - s);
            *value = at + strlen(zq_op_text[i]);
            return true;
        }
    }
    size_t n = strlen(s);
    for (op_t o = OP_IS_NULL; o <= OP_NOT_NULL; o++) {
        size_t k = strlen(zq_op_text[o]);
        if (n > k && strcasecmp(s + n - k, zq_op_text[o]) == 0) {
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

/* The value `raw` of condition c, typed like its field (TIME and EPOCH become epoch ms). NULL
 * and *error when it does not parse (SYS.1007 naming the value and the field) or memory ran
 * out (SYS.1000). */
static json_t *typed_value(const cond_t *c, const char *raw, json_t **error)
{
    const char *why = NULL;
    json_t *v = NULL;
    switch (c->field->type) {
    case ZS_FT_INT: {
        long long n;
        if (parse_ll(raw, &n))
            v = json_integer(n);
        else
            why = "is not an integer";
        break;
    }
    case ZS_FT_REAL: {
        double d;
        if (parse_double(raw, &d))
            v = json_real(d);
        else
            why = "is not a number";
        break;
    }
    case ZS_FT_BOOL:
        if (strcasecmp(raw, "true") == 0)
            v = json_true();
        else if (strcasecmp(raw, "false") == 0)
            v = json_false();
        else
            why = "is not a boolean (true or false)";
        break;
    case ZS_FT_TIME:
    case ZS_FT_EPOCH: {
        int64_t ms;
        if (zs_date_parse(raw, &ms))
            v = json_integer(ms);
        else
            why = "is not a timestamp (epoch milliseconds, \"yyyy-MM-dd HH:mm:ss\" or "
                  "\"Jan 6, 2017 3:51:16 AM\")";
        break;
    }
    case ZS_FT_STRING:
    case ZS_FT_JSON:
    default:
        v = json_string(raw);
        if (!v)   /* jansson's only refusal of a NUL-terminated text */
            why = "is not valid UTF-8";
        break;
    }
    if (!v) {
        char q[QUOTE_SIZE];
        *error = why ? zq_bad_cond(c->text, "value[%s] of field[%s] %s", zq_quote(raw, 64, q),
                                   c->field->name, why)
                     : zq_oom();
    }
    return v;
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
const char *zq_canon(zs_ftype_t type, const json_t *v, char *buf, size_t size,
                     char **heap)
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
    return zq_canon(type, v, buf, size, heap);
}

/* Parses the comma-separated set of a ?= or !?= condition. */
static int cond_list(cond_t *c, json_t **error)
{
    c->list = json_array();
    c->set = json_object();
    if (!c->list || !c->set) {
        *error = zq_oom();
        return -1;
    }
    const char *p = c->raw;
    for (;;) {
        size_t n = strcspn(p, ",");
        char *item = strndup(p, n);
        json_t *v = item ? typed_value(c, item, error) : NULL;
        if (!v) {
            if (!item)
                *error = zq_oom();
            free(item);
            return -1;
        }
        char buf[64], *heap;
        const char *key = zq_canon(c->field->type, v, buf, sizeof buf, &heap);
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
                          zq_quote(name, SHOWN, q), res->name);
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
        c->value = typed_value(c, c->raw, error);
        return c->value ? 0 : -1;
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
        *error = zq_oom();
        return -1;
    }
    c->kind = C_JOIN;
    c->join = zs_resource_join(res, jname);
    if (!c->join) {
        char q[QUOTE_SIZE], qj[QUOTE_SIZE];
        *error = zs_error(ZS_SYS_INVALID, "field[%s] is not a queryable field of %s "
                          "(it has no join named %s)", zq_quote(name, SHOWN, q), res->name,
                          zq_quote(jname, 64, qj));
    }
    free(jname);
    if (!c->join)
        return -1;
    if (!dot[1]) {
        *error = zq_bad_cond(c->text, "no field after \"%s.\"", c->join->name);
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
        *error = zq_bad_cond(c->text, "%s cannot be tested for null; use %s~=%% or %s!~=%%", name,
                          name, name);
        return -1;
    }
    return 0;
}

/* Parses condition `text` (len bytes, not necessarily NUL-terminated) into *c. */
int zq_cond_parse(const zs_resource_t *res, const char *text, size_t len, cond_t *c,
                  json_t **error)
{
    memset(c, 0, sizeof *c);
    char q[QUOTE_SIZE];
    if (len > ZS_QUERY_MAX_CONDITION_BYTES) {
        *error = zs_error(ZS_SYS_INVALID, "query condition[%s] is longer than %d bytes",
                          zq_quote(text, 64, q), ZS_QUERY_MAX_CONDITION_BYTES);
        return -1;
    }
    if (memchr(text, '\0', len)) {
        *error = zs_error(ZS_SYS_INVALID, "query condition[%s] contains a NUL character",
                          zq_quote(text, SHOWN, q));
        return -1;
    }
    c->text = strndup(text, len);
    if (!c->text) {
        *error = zq_oom();
        return -1;
    }
    op_t op;
    size_t name_len;
    const char *value;
    if (!cond_split(c->text, &op, &name_len, &value)) {
        *error = zq_bad_cond(c->text, "it has no operator (one of != >= <= !?= !~= ~= ?= = > < "
                          "or the suffix \" is null\" / \" not null\")");
        zq_cond_free(c);
        return -1;
    }
    if (name_len == 0) {
        *error = zq_bad_cond(c->text, "no field name before the operator");
        zq_cond_free(c);
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
        *error = zq_oom();
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
        zq_cond_free(c);
    return rc;
}

/* =============================================================================================
 * Matching */

/* Orders a and b when they are comparable (both numbers, both strings, both booleans);
 * otherwise *ok is false. Strings compare bytewise, like the store's index. */
int zq_cmp_scalar(const json_t *a, const json_t *b, bool *ok)
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
size_t zq_like_prefix(const char *pattern)
{
    size_t n = strcspn(pattern, "%_");
    if (n == 0 || pattern[n] != '%')
        return 0;
    return pattern[n + strspn(pattern + n, "%")] ? 0 : n;
}

/* True for a pattern without wildcards: it means plain equality. */
bool zq_like_exact(const char *pattern)
{
    return pattern[strcspn(pattern, "%_")] == '\0';
}

static bool in_set(const json_t *set, zs_ftype_t type, const json_t *v)
{
    char buf[64], *heap;
    const char *key = zq_canon(type, v, buf, sizeof buf, &heap);
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
        const char *key = zq_canon(type, v, buf, sizeof buf, &heap);
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
                                   : zq_cmp_scalar(v, c->value, &ok);
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
bool zq_cond_match(const cond_t *c, const json_t *rec, const char *uuid)
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

