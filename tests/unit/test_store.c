/* test_store.c — the LMDB store: records, indexes kept in step with them, walks, raw
 * databases, schema versions, backups, and a randomized index/record consistency check. */
#define _GNU_SOURCE             /* nftw, strndup, mkdtemp */
#include "store.h"
#include "testutil.h"
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VERSION 3

static const zs_field_t vm_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "name", .type = ZS_FT_STRING, .indexed = true},
    {.name = "cpu", .type = ZS_FT_INT, .indexed = true},
    {.name = "created", .type = ZS_FT_TIME, .indexed = true},
    {.name = "score", .type = ZS_FT_REAL, .indexed = true},
    {.name = "on", .type = ZS_FT_BOOL, .indexed = true},
    {.name = "note", .type = ZS_FT_STRING},
    {.name = "extra", .type = ZS_FT_JSON},
    {0}};
static const zs_resource_t vm_res = {.name = "Vm", .collection = "vms", .fields = vm_fields};

/* Two resources in one collection, each indexing fields the other does not. */
static const zs_field_t stag_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "resourceUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "tag", .type = ZS_FT_STRING, .indexed = true},
    {.name = "type", .type = ZS_FT_STRING},
    {0}};
static const zs_field_t utag_fields[] = {
    {.name = "uuid", .type = ZS_FT_STRING},
    {.name = "resourceUuid", .type = ZS_FT_STRING, .indexed = true},
    {.name = "tag", .type = ZS_FT_STRING},
    {.name = "createDate", .type = ZS_FT_EPOCH, .indexed = true},
    {0}};
static const zs_resource_t stag_res = {.name = "SystemTag", .collection = "tags",
                                       .fixed = "type=System", .fields = stag_fields};
static const zs_resource_t utag_res = {.name = "UserTag", .collection = "tags",
                                       .fixed = "type=User", .fields = utag_fields};

static const zs_resource_t *const resources[] = {&vm_res, &stag_res, &utag_res, NULL};

static char tmpdir[64];
static char dbdir[128];
static zs_store_t *st;

/* ---------------------------------------------------------------------------------------------
 * Helpers */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/zs-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(dbdir, sizeof dbdir, "%s/var/svc", tmpdir);    /* two levels: mkdir -p */
    st = zs_store_open(dbdir, resources, VERSION, 64 << 20);
    ck_assert_ptr_nonnull(st);
}

static void teardown(void)
{
    zs_store_close(&st);
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A 32-hex uuid for a small number, so expectations can be written as numbers. */
static const char *U(unsigned n)
{
    static char bufs[8][33];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 33, "%032x", n);
    return b;
}

static MDB_txn *begin(bool write)
{
    MDB_txn *txn;
    ck_assert_int_eq(zs_store_begin(st, NULL, write, &txn), 0);
    return txn;
}

static void commit(MDB_txn *txn)
{
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
}

static void put(MDB_txn *txn, const char *coll, unsigned n, json_t *rec)
{
    int rc = zs_store_put(st, txn, coll, U(n), rec);
    ck_assert_msg(rc == 0, "put %u: %s", n, zs_store_strerror(rc));
    json_decref(rec);
}

/* Stores vms 1 and 2, each {name, cpu}, in one committed transaction. */
static void commit_two_vms(const char *name1, int cpu1, const char *name2, int cpu2)
{
    MDB_txn *txn = begin(true);
    put(txn, "vms", 1, json_pack("{s:s, s:i}", "name", name1, "cpu", cpu1));
    put(txn, "vms", 2, json_pack("{s:s, s:i}", "name", name2, "cpu", cpu2));
    commit(txn);
}

/* Collects walked uuids as "n,n,n" (numbers parsed back from the hex). */
typedef struct {
    char *s;
    size_t len, cap;
    int calls, stop_at, stop_value;
} collect_t;

static void collect_add(collect_t *c, const char *text)
{
    size_t n = strlen(text);
    if (c->len + n + 2 > c->cap) {
        c->cap = (c->len + n + 2) * 2;
        c->s = realloc(c->s, c->cap);
        ck_assert_ptr_nonnull(c->s);
    }
    if (c->len)
        c->s[c->len++] = ',';
    memcpy(c->s + c->len, text, n + 1);
    c->len += n;
}

static int collect_fn(void *arg, const char *uuid)
{
    collect_t *c = arg;
    char num[24];
    snprintf(num, sizeof num, "%lu", strtoul(uuid, NULL, 16));
    collect_add(c, num);
    return ++c->calls == c->stop_at ? c->stop_value : 0;
}

/* The result of the last walk; freed by the next one. */
static char *walked;

static const char *keep(collect_t *c)
{
    free(walked);
    walked = c->s ? c->s : strdup("");
    return walked;
}

/* Walks `field` between the JSON values lo and hi (NULL: open end; both stolen). */
static const char *range(MDB_txn *txn, const char *coll, const char *field, zs_ftype_t type,
                         json_t *lo, bool loi, json_t *hi, bool hii)
{
    unsigned char lb[ZS_STORE_KEY_SIZE], hb[ZS_STORE_KEY_SIZE];
    int ln = lo ? zs_store_index_key(type, lo, lb, sizeof lb) : 0;
    int hn = hi ? zs_store_index_key(type, hi, hb, sizeof hb) : 0;
    ck_assert(ln >= 0 && hn >= 0);
    collect_t c = {0};
    int rc = zs_store_index_walk(st, txn, coll, field, lo ? lb : NULL, (size_t)ln, loi,
                                 hi ? hb : NULL, (size_t)hn, hii, NULL, 0, collect_fn, &c);
    ck_assert_int_eq(rc, 0);
    json_decref(lo);
    json_decref(hi);
    return keep(&c);
}

static const char *eq(MDB_txn *txn, const char *coll, const char *field, zs_ftype_t type,
                      json_t *v)
{
    return range(txn, coll, field, type, v, true, json_incref(v), true);
}

static const char *all(MDB_txn *txn, const char *coll, const char *field)
{
    collect_t c = {0};
    ck_assert_int_eq(zs_store_index_walk(st, txn, coll, field, NULL, 0, false, NULL, 0, false,
                                         NULL, 0, collect_fn, &c), 0);
    return keep(&c);
}

static const char *prefix(MDB_txn *txn, const char *coll, const char *field, const char *p)
{
    collect_t c = {0};
    ck_assert_int_eq(zs_store_index_walk(st, txn, coll, field, NULL, 0, false, NULL, 0, false,
                                         (const unsigned char *)p, strlen(p), collect_fn, &c),
                     0);
    return keep(&c);
}

static size_t count_of(MDB_txn *txn, const char *coll, const char *field, zs_ftype_t type,
                       json_t *v)
{
    unsigned char b[ZS_STORE_KEY_SIZE];
    int n = zs_store_index_key(type, v, b, sizeof b);
    json_decref(v);
    ck_assert_int_gt(n, 0);
    return zs_store_index_count(st, txn, coll, field, b, (size_t)n);
}

/* ---------------------------------------------------------------------------------------------
 * Records */

START_TEST(t_put_get_del)
{
    MDB_txn *txn = begin(true);
    json_t *rec = json_pack("{s:s, s:s, s:i, s:{s:[i,i]}, s:n}", "uuid", U(1), "name", "alpha",
                            "cpu", 2, "extra", "a", 1, 2, "note");
    ck_assert_int_eq(zs_store_put(st, txn, "vms", U(1), rec), 0);
    json_t *got = zs_store_get(st, txn, "vms", U(1));
    ck_assert(json_equal(got, rec));
    json_decref(got);
    ck_assert_uint_eq(zs_store_count(st, txn, "vms"), 1);
    commit(txn);

    txn = begin(false);
    got = zs_store_get(st, txn, "vms", U(1));
    ck_assert(json_equal(got, rec));
    json_decref(got);
    ck_assert_ptr_null(zs_store_get(st, txn, "vms", U(2)));
    ck_assert_str_eq(all(txn, "vms", "name"), "1");
    mdb_txn_abort(txn);

    txn = begin(true);
    ck_assert_int_eq(zs_store_del(st, txn, "vms", U(1)), 0);
    ck_assert_int_eq(zs_store_del(st, txn, "vms", U(1)), MDB_NOTFOUND);
    ck_assert_ptr_null(zs_store_get(st, txn, "vms", U(1)));
    ck_assert_uint_eq(zs_store_count(st, txn, "vms"), 0);
    ck_assert_str_eq(all(txn, "vms", "name"), "");
    ck_assert_str_eq(all(txn, "vms", "cpu"), "");
    ck_assert_str_eq(all(txn, "vms", "uuid"), "");
    commit(txn);
    json_decref(rec);
}
END_TEST

/* zs_store_del_all: every listed record goes with its index entries, absent ones are skipped,
 * an unknown collection is the error it is for zs_store_del. */
START_TEST(t_del_all)
{
    commit_two_vms("alpha", 1, "beta", 2);
    MDB_txn *txn = begin(true);
    json_t *uuids = json_pack("[s,s,s]", U(1), U(7), U(2));
    ck_assert_int_eq(zs_store_del_all(st, txn, "vms", uuids), 0);
    ck_assert_uint_eq(zs_store_count(st, txn, "vms"), 0);
    ck_assert_str_eq(all(txn, "vms", "name"), "");
    ck_assert_int_eq(zs_store_del_all(st, txn, "vms", NULL), 0);
    ck_assert_int_eq(zs_store_del_all(st, txn, "nope", uuids), EINVAL);
    commit(txn);
    json_decref(uuids);
}
END_TEST

START_TEST(t_update_moves_index)
{
    commit_two_vms("alpha", 1, "alpha", 1);

    MDB_txn *txn = begin(true);
    put(txn, "vms", 1, json_pack("{s:s, s:i}", "name", "beta", "cpu", 1));
    ck_assert_str_eq(eq(txn, "vms", "name", ZS_FT_STRING, json_string("alpha")), "2");
    ck_assert_str_eq(eq(txn, "vms", "name", ZS_FT_STRING, json_string("beta")), "1");
    /* the unchanged field keeps exactly one entry per record */
    ck_assert_uint_eq(count_of(txn, "vms", "cpu", ZS_FT_INT, json_integer(1)), 2);
    ck_assert_str_eq(all(txn, "vms", "name"), "2,1");
    commit(txn);

    /* null and absent values leave the index */
    txn = begin(true);
    put(txn, "vms", 1, json_pack("{s:n}", "name"));
    ck_assert_str_eq(all(txn, "vms", "name"), "2");
    ck_assert_str_eq(all(txn, "vms", "cpu"), "2");
    put(txn, "vms", 1, json_pack("{s:s}", "name", "gamma"));
    ck_assert_str_eq(all(txn, "vms", "name"), "2,1");
    commit(txn);
}
END_TEST

START_TEST(t_refusals)
{
    MDB_txn *txn = begin(true);
    /* a wrongly typed indexed field is refused before anything is written */
    json_t *bad = json_pack("{s:s, s:s}", "name", "x", "cpu", "two");
    ck_assert_int_eq(zs_store_put(st, txn, "vms", U(1), bad), EINVAL);
    json_object_set_new(bad, "cpu", json_real(2.0));
    ck_assert_int_eq(zs_store_put(st, txn, "vms", U(1), bad), EINVAL);
    json_object_set_new(bad, "cpu", json_integer(2));
    json_object_set_new(bad, "on", json_integer(1));
    ck_assert_int_eq(zs_store_put(st, txn, "vms", U(1), bad), EINVAL);
    json_decref(bad);
    ck_assert_str_eq(all(txn, "vms", "name"), "");
    /* a wrongly typed field that is not indexed is the caller's business */
    put(txn, "vms", 1, json_pack("{s:s, s:i, s:i}", "name", "x", "note", 5, "score", 2));

    json_t *arr = json_array(), *obj = json_object();
    ck_assert_int_eq(zs_store_put(st, txn, "vms", U(2), arr), EINVAL);
    ck_assert_int_eq(zs_store_put(st, txn, "nope", U(2), obj), EINVAL);
    ck_assert_int_eq(zs_store_put(st, txn, "vms", "", obj), EINVAL);
    ck_assert_int_eq(zs_store_put(st, txn, "vms", NULL, obj), EINVAL);
    ck_assert_int_eq(zs_store_del(st, txn, "nope", U(1)), EINVAL);
    ck_assert_ptr_null(zs_store_get(st, txn, "nope", U(1)));
    ck_assert_int_eq(zs_store_index_walk(st, txn, "vms", "note", NULL, 0, 0, NULL, 0, 0, NULL, 0,
                                         collect_fn, NULL), EINVAL);
    json_decref(arr);
    json_decref(obj);
    commit(txn);    /* the refusals left the transaction usable */

    txn = begin(false);
    ck_assert_str_eq(all(txn, "vms", "name"), "1");
    mdb_txn_abort(txn);
}
END_TEST

START_TEST(t_indexed)
{
    ck_assert(zs_store_indexed(st, "vms", "name"));
    ck_assert(zs_store_indexed(st, "vms", "created"));
    ck_assert(!zs_store_indexed(st, "vms", "note"));
    ck_assert(!zs_store_indexed(st, "vms", "extra"));
    ck_assert(zs_store_indexed(st, "tags", "tag"));          /* SystemTag's */
    ck_assert(zs_store_indexed(st, "tags", "createDate"));   /* UserTag's */
    ck_assert(zs_store_indexed(st, "tags", "resourceUuid"));
    ck_assert(!zs_store_indexed(st, "tags", "uuid"));
    ck_assert(!zs_store_indexed(st, "nope", "name"));
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Index keys and walks */

START_TEST(t_index_key)
{
    unsigned char b[ZS_STORE_KEY_SIZE];
    json_t *v;
#define KEY(t, val) (v = (val), n = zs_store_index_key((t), v, b, sizeof b), json_decref(v), n)
    int n;
    ck_assert_int_eq(KEY(ZS_FT_BOOL, json_true()), 1);
    ck_assert_int_eq(b[0], 1);
    ck_assert_int_eq(KEY(ZS_FT_BOOL, json_false()), 1);
    ck_assert_int_eq(b[0], 0);
    ck_assert_int_eq(KEY(ZS_FT_INT, json_integer(1)), 8);
    ck_assert(memcmp(b, "\x80\0\0\0\0\0\0\x01", 8) == 0);
    ck_assert_int_eq(KEY(ZS_FT_INT, json_integer(-1)), 8);
    ck_assert(memcmp(b, "\x7f\xff\xff\xff\xff\xff\xff\xff", 8) == 0);
    ck_assert_int_eq(KEY(ZS_FT_TIME, json_integer(0)), 8);
    ck_assert_int_eq(KEY(ZS_FT_EPOCH, json_integer(0)), 8);
    ck_assert_int_eq(KEY(ZS_FT_REAL, json_integer(3)), 8);       /* integers are numbers */
    ck_assert_int_eq(KEY(ZS_FT_STRING, json_string("abc")), 3);
    ck_assert(memcmp(b, "abc", 3) == 0);
    ck_assert_int_eq(KEY(ZS_FT_STRING, json_string("")), 1);
    ck_assert_int_eq(b[0], 0);

    ck_assert_int_eq(KEY(ZS_FT_INT, json_real(1.0)), -1);
    ck_assert_int_eq(KEY(ZS_FT_INT, json_string("1")), -1);
    ck_assert_int_eq(KEY(ZS_FT_BOOL, json_integer(1)), -1);
    ck_assert_int_eq(KEY(ZS_FT_STRING, json_integer(1)), -1);
    ck_assert_int_eq(KEY(ZS_FT_JSON, json_pack("{s:i}", "a", 1)), -1);
    ck_assert_int_eq(KEY(ZS_FT_JSON, json_string("a")), -1);
    ck_assert_int_eq(KEY(ZS_FT_INT, json_null()), -1);
    ck_assert_int_eq(zs_store_index_key(ZS_FT_INT, NULL, b, sizeof b), -1);
    ck_assert_int_eq(KEY(ZS_FT_STRING, json_stringn("\0a", 2)), -1);

    char big[502];
    memset(big, 'x', sizeof big);
    /* lookups: a key as long as the cut cannot tell a value from longer ones cut to it */
    ck_assert_int_eq(KEY(ZS_FT_STRING, json_stringn(big, 499)), 499);
    ck_assert_int_eq(KEY(ZS_FT_STRING, json_stringn(big, 500)), -1);
    ck_assert_int_eq(KEY(ZS_FT_STRING, json_stringn(big, 501)), -1);
    /* too small a buffer */
    v = json_integer(5);
    ck_assert_int_eq(zs_store_index_key(ZS_FT_INT, v, b, 7), -1);
    json_decref(v);
    v = json_string("abcd");
    ck_assert_int_eq(zs_store_index_key(ZS_FT_STRING, v, b, 3), -1);
    json_decref(v);
#undef KEY
}
END_TEST

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

/* Encodes x and y (both stolen) as index keys of `type` and checks that the keys compare as
 * the values do: `want` is -1, 0 or 1 (x < y, x == y, x > y). */
static void check_key_order(zs_ftype_t type, json_t *x, json_t *y, int want, const char *what)
{
    unsigned char a[8], b[8];
    ck_assert_int_eq(zs_store_index_key(type, x, a, sizeof a), 8);
    ck_assert_int_eq(zs_store_index_key(type, y, b, sizeof b), 8);
    ck_assert_msg(sign(memcmp(a, b, 8)) == want, "%s: keys do not order as the values", what);
    json_decref(x);
    json_decref(y);
}

/* The encodings must order exactly like the numbers. */
START_TEST(t_index_key_order)
{
    static const int64_t ints[] = {INT64_MIN, INT64_MIN + 1, -1000000000000, -65536, -256, -2,
                                   -1, 0, 1, 2, 255, 256, 65536, 1000000000000, INT64_MAX - 1,
                                   INT64_MAX};
    size_t ni = sizeof ints / sizeof *ints;
    char what[128];
    for (size_t i = 0; i < ni; i++)
        for (size_t j = 0; j < ni; j++) {
            snprintf(what, sizeof what, "%lld vs %lld", (long long)ints[i], (long long)ints[j]);
            check_key_order(ZS_FT_INT, json_integer(ints[i]), json_integer(ints[j]),
                            (ints[i] > ints[j]) - (ints[i] < ints[j]), what);
        }
    static const double reals[] = {-1e308, -1e10, -2.5, -1.0, -1e-300, -0.0, 0.0, 4.9e-324,
                                   1e-300, 0.5, 1.0, 2.5, 1e10, 1e308};
    size_t nr = sizeof reals / sizeof *reals;
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < nr; j++) {
            snprintf(what, sizeof what, "%g vs %g", reals[i], reals[j]);
            check_key_order(ZS_FT_REAL, json_real(reals[i]), json_real(reals[j]),
                            (reals[i] > reals[j]) - (reals[i] < reals[j]), what);
        }
}
END_TEST

START_TEST(t_int_range)
{
    MDB_txn *txn = begin(true);
    static const int64_t cpu[] = {0, -100, -1, 0, 1, 100, INT64_MIN, INT64_MAX, -1};
    for (unsigned i = 1; i <= 8; i++)
        put(txn, "vms", i, json_pack("{s:I}", "cpu", (json_int_t)cpu[i]));
    commit(txn);

    txn = begin(false);
#define I(x) json_integer(x)
    ck_assert_str_eq(all(txn, "vms", "cpu"), "6,1,2,8,3,4,5,7");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, I(-1), true, I(1), true), "2,8,3,4");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, I(-1), false, I(1), false), "3");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, I(-1), false, NULL, 0), "3,4,5,7");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, I(-1), true, NULL, 0), "2,8,3,4,5,7");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, NULL, 0, I(0), true), "6,1,2,8,3");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, NULL, 0, I(0), false), "6,1,2,8");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, I(-50), true, I(50), true), "2,8,3,4");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, I(5), true, I(-5), true), "");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, I(INT64_MAX), false, NULL, 0), "");
    ck_assert_str_eq(range(txn, "vms", "cpu", ZS_FT_INT, NULL, 0, I(INT64_MIN), true), "6");
    ck_assert_str_eq(eq(txn, "vms", "cpu", ZS_FT_INT, I(-1)), "2,8");
    ck_assert_str_eq(eq(txn, "vms", "cpu", ZS_FT_INT, I(2)), "");
    ck_assert_uint_eq(count_of(txn, "vms", "cpu", ZS_FT_INT, I(-1)), 2);
    ck_assert_uint_eq(count_of(txn, "vms", "cpu", ZS_FT_INT, I(100)), 1);
    ck_assert_uint_eq(count_of(txn, "vms", "cpu", ZS_FT_INT, I(42)), 0);
    ck_assert_uint_eq(zs_store_index_count(st, txn, "vms", "note", (const unsigned char *)"a",
                                           1), 0);
#undef I
    mdb_txn_abort(txn);
}
END_TEST

START_TEST(t_time_range)
{
    MDB_txn *txn = begin(true);
    put(txn, "vms", 1, json_pack("{s:I}", "created", (json_int_t)1700000000000));
    put(txn, "vms", 2, json_pack("{s:I}", "created", (json_int_t)-86400000));
    put(txn, "vms", 3, json_pack("{s:I}", "created", (json_int_t)-1));
    put(txn, "vms", 4, json_pack("{s:I}", "created", (json_int_t)0));
    put(txn, "vms", 5, json_pack("{s:I}", "created", (json_int_t)-315619200000));  /* 1960 */
    /* EPOCH in the shared collection */
    put(txn, "tags", 6, json_pack("{s:I}", "createDate", (json_int_t)-5));
    put(txn, "tags", 7, json_pack("{s:I}", "createDate", (json_int_t)5));
    commit(txn);

    txn = begin(false);
#define I(x) json_integer(x)
    ck_assert_str_eq(all(txn, "vms", "created"), "5,2,3,4,1");
    ck_assert_str_eq(range(txn, "vms", "created", ZS_FT_TIME, I(-86400000), true, I(0), false),
                     "2,3");
    ck_assert_str_eq(range(txn, "vms", "created", ZS_FT_TIME, I(-86400001), false, I(-1), true),
                     "2,3");
    ck_assert_str_eq(range(txn, "vms", "created", ZS_FT_TIME, I(-1), false, NULL, 0), "4,1");
    ck_assert_str_eq(range(txn, "tags", "createDate", ZS_FT_EPOCH, NULL, 0, I(0), true), "6");
    ck_assert_str_eq(range(txn, "tags", "createDate", ZS_FT_EPOCH, I(-5), false, NULL, 0), "7");
#undef I
    mdb_txn_abort(txn);
}
END_TEST

START_TEST(t_real_and_bool)
{
    MDB_txn *txn = begin(true);
    put(txn, "vms", 1, json_pack("{s:f, s:b}", "score", 1e300, "on", 1));
    put(txn, "vms", 2, json_pack("{s:f, s:b}", "score", -2.5, "on", 0));
    put(txn, "vms", 3, json_pack("{s:f, s:b}", "score", -0.0, "on", 1));
    put(txn, "vms", 4, json_pack("{s:i}", "score", 0));
    put(txn, "vms", 5, json_pack("{s:f}", "score", 0.5));
    put(txn, "vms", 6, json_pack("{s:i, s:n}", "score", 3, "on"));
    put(txn, "vms", 7, json_pack("{s:f}", "score", -1e300));
    commit(txn);

    txn = begin(false);
    ck_assert_str_eq(all(txn, "vms", "score"), "7,2,3,4,5,6,1");
    ck_assert_str_eq(eq(txn, "vms", "score", ZS_FT_REAL, json_real(0.0)), "3,4");
    ck_assert_str_eq(eq(txn, "vms", "score", ZS_FT_REAL, json_real(-0.0)), "3,4");
    ck_assert_str_eq(range(txn, "vms", "score", ZS_FT_REAL, json_real(-2.5), false,
                           json_integer(3), true), "3,4,5,6");
    ck_assert_str_eq(range(txn, "vms", "score", ZS_FT_REAL, json_real(-3), true,
                           json_real(0.25), true), "2,3,4");
    ck_assert_str_eq(all(txn, "vms", "on"), "2,1,3");
    ck_assert_str_eq(eq(txn, "vms", "on", ZS_FT_BOOL, json_true()), "1,3");
    ck_assert_str_eq(eq(txn, "vms", "on", ZS_FT_BOOL, json_false()), "2");
    mdb_txn_abort(txn);
}
END_TEST

START_TEST(t_string_range_prefix)
{
    static const char *names[] = {NULL, "", "a", "ab", "abc", "abd", "b", "ba",
                                  "\xc3\xa9t\xc3\xa9" /* été */, "AB"};
    MDB_txn *txn = begin(true);
    for (unsigned i = 1; i < sizeof names / sizeof *names; i++)
        put(txn, "vms", i, json_pack("{s:s}", "name", names[i]));
    char big[600];
    memset(big, 'a', sizeof big);
    put(txn, "vms", 20, json_pack("{s:s#}", "name", big, (int)sizeof big));  /* indexed, cut */
    put(txn, "vms", 21, json_pack("{s:s}", "name", "ab"));                   /* duplicate */
    commit(txn);

    txn = begin(false);
#define S(x) json_string(x)
    ck_assert_str_eq(all(txn, "vms", "name"), "1,9,2,20,3,21,4,5,6,7,8");
    ck_assert_str_eq(prefix(txn, "vms", "name", "ab"), "3,21,4,5");
    ck_assert_str_eq(prefix(txn, "vms", "name", "a"), "2,20,3,21,4,5");
    ck_assert_str_eq(prefix(txn, "vms", "name", "aaaa"), "20");
    ck_assert_str_eq(prefix(txn, "vms", "name", "abz"), "");
    ck_assert_str_eq(prefix(txn, "vms", "name", "\xc3"), "8");
    ck_assert_str_eq(prefix(txn, "vms", "name", "zzz"), "");
    ck_assert_str_eq(prefix(txn, "vms", "name", ""), "1,9,2,20,3,21,4,5,6,7,8");
    ck_assert_str_eq(range(txn, "vms", "name", ZS_FT_STRING, S("ab"), true, S("b"), false),
                     "3,21,4,5");
    ck_assert_str_eq(range(txn, "vms", "name", ZS_FT_STRING, S("ab"), false, S("b"), true),
                     "4,5,6");
    ck_assert_str_eq(range(txn, "vms", "name", ZS_FT_STRING, NULL, 0, S("a"), false), "1,9");
    ck_assert_str_eq(range(txn, "vms", "name", ZS_FT_STRING, S(""), false, S("a"), true),
                     "9,2");
    ck_assert_str_eq(range(txn, "vms", "name", ZS_FT_STRING, S("a"), false, S("ab"), false),
                     "20");   /* "aaa...a" (600) lies between "a" and "ab", cut or not */
    ck_assert_str_eq(eq(txn, "vms", "name", ZS_FT_STRING, S("")), "1");
    ck_assert_str_eq(eq(txn, "vms", "name", ZS_FT_STRING, S("ab")), "3,21");
    ck_assert_str_eq(eq(txn, "vms", "name", ZS_FT_STRING, S("A")), "");
    ck_assert_uint_eq(count_of(txn, "vms", "name", ZS_FT_STRING, S("ab")), 2);
    /* prefix combined with a lower bound */
    unsigned char lo[] = "abc";
    collect_t c = {0};
    ck_assert_int_eq(zs_store_index_walk(st, txn, "vms", "name", lo, 3, false, NULL, 0, false,
                                         (const unsigned char *)"ab", 2, collect_fn, &c), 0);
    ck_assert_str_eq(keep(&c), "5");
    /* the uuid index holds every record, in uuid order */
    ck_assert_str_eq(all(txn, "vms", "uuid"), "");      /* uuid not in the records */
#undef S
    mdb_txn_abort(txn);
}
END_TEST

START_TEST(t_walk_stop)
{
    MDB_txn *txn = begin(true);
    for (unsigned i = 1; i <= 5; i++)
        put(txn, "vms", i, json_pack("{s:s, s:i}", "name", "same", "cpu", (int)i));
    collect_t c = {.stop_at = 2, .stop_value = 7};
    ck_assert_int_eq(zs_store_index_walk(st, txn, "vms", "name", NULL, 0, 0, NULL, 0, 0, NULL, 0,
                                         collect_fn, &c), 7);
    ck_assert_str_eq(keep(&c), "1,2");
    commit(txn);
}
END_TEST

static int scan_fn(void *arg, const char *uuid, json_t *rec)
{
    ck_assert_int_eq(json_integer_value(json_object_get(rec, "cpu")),
                     (json_int_t)strtoul(uuid, NULL, 16));
    return collect_fn(arg, uuid);
}

START_TEST(t_scan)
{
    MDB_txn *txn = begin(true);
    for (unsigned i = 5; i >= 1; i--)
        put(txn, "vms", i, json_pack("{s:i}", "cpu", (int)i));
    collect_t c = {0};
    ck_assert_int_eq(zs_store_scan(st, txn, "vms", scan_fn, &c), 0);
    ck_assert_str_eq(keep(&c), "1,2,3,4,5");
    collect_t d = {.stop_at = 3, .stop_value = -3};
    ck_assert_int_eq(zs_store_scan(st, txn, "vms", scan_fn, &d), -3);
    ck_assert_str_eq(keep(&d), "1,2,3");
    ck_assert_int_eq(zs_store_scan(st, txn, "nope", scan_fn, &d), EINVAL);
    collect_t e = {0};
    ck_assert_int_eq(zs_store_scan(st, txn, "tags", scan_fn, &e), 0);
    ck_assert_str_eq(keep(&e), "");
    commit(txn);
}
END_TEST

START_TEST(t_shared_collection)
{
    MDB_txn *txn = begin(true);
    put(txn, "tags", 1, json_pack("{s:s, s:s, s:s}", "type", "System", "resourceUuid", U(100),
                                  "tag", "ha"));
    put(txn, "tags", 2, json_pack("{s:s, s:s, s:s, s:i}", "type", "User", "resourceUuid",
                                  U(100), "tag", "web", "createDate", 10));
    put(txn, "tags", 3, json_pack("{s:s, s:s, s:s}", "type", "System", "resourceUuid", U(200),
                                  "tag", "web"));
    commit(txn);

    txn = begin(false);
    ck_assert_uint_eq(zs_store_count(st, txn, "tags"), 3);
    ck_assert_uint_eq(zs_store_count(st, txn, "vms"), 0);
    ck_assert_str_eq(eq(txn, "tags", "resourceUuid", ZS_FT_STRING, json_string(U(100))), "1,2");
    /* "tag" is indexed for SystemTag only, yet the user tag is in it: one index per
     * collection, the union of its resources' indexed fields */
    ck_assert_str_eq(eq(txn, "tags", "tag", ZS_FT_STRING, json_string("web")), "2,3");
    ck_assert_str_eq(all(txn, "tags", "createDate"), "2");
    mdb_txn_abort(txn);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Opening, schema, reopening */

START_TEST(t_reopen)
{
    commit_two_vms("one", 1, "two", 2);
    zs_store_close(&st);
    ck_assert_ptr_null(st);
    zs_store_close(&st);            /* closing twice is harmless */

    st = zs_store_open(dbdir, resources, VERSION, 0);  /* 0: the default map size */
    ck_assert_ptr_nonnull(st);
    MDB_txn *txn = begin(false);
    ck_assert_uint_eq(zs_store_count(st, txn, "vms"), 2);
    json_t *r = zs_store_get(st, txn, "vms", U(2));
    ck_assert_str_eq(json_string_value(json_object_get(r, "name")), "two");
    json_decref(r);
    ck_assert_str_eq(eq(txn, "vms", "name", ZS_FT_STRING, json_string("one")), "1");
    ck_assert_str_eq(all(txn, "vms", "cpu"), "1,2");
    mdb_txn_abort(txn);
}
END_TEST

static char *meta_version(void)
{
    MDB_txn *txn = begin(false);
    MDB_val v;
    ck_assert_int_eq(zs_store_kv_get(st, txn, "meta", "schema_version", 14, &v), 0);
    char *s = strndup(v.mv_data, v.mv_size);
    mdb_txn_abort(txn);
    return s;
}

START_TEST(t_schema_version)
{
    char *s = meta_version();
    ck_assert_str_eq(s, "3");
    free(s);
    zs_store_close(&st);

    ck_assert_ptr_null(zs_store_open(dbdir, resources, VERSION - 1, 0));    /* newer data */
    st = zs_store_open(dbdir, resources, VERSION + 2, 0);                   /* upgrade */
    ck_assert_ptr_nonnull(st);
    s = meta_version();
    ck_assert_str_eq(s, "5");
    free(s);
    zs_store_close(&st);
    ck_assert_ptr_null(zs_store_open(dbdir, resources, VERSION, 0));        /* now refused */
    st = zs_store_open(dbdir, resources, VERSION + 2, 0);
    ck_assert_ptr_nonnull(st);
}
END_TEST

START_TEST(t_open_failures)
{
    char path[192];
    /* a file where the directory should be */
    snprintf(path, sizeof path, "%s/file", tmpdir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_ptr_null(zs_store_open(path, resources, 1, 0));
    snprintf(path, sizeof path, "%s/file/sub", tmpdir);
    ck_assert_ptr_null(zs_store_open(path, resources, 1, 0));

    /* two resources of one collection indexing one field with different types */
    static const zs_field_t a_fields[] = {{.name = "x", .type = ZS_FT_INT, .indexed = true}, {0}};
    static const zs_field_t b_fields[] = {{.name = "x", .type = ZS_FT_STRING, .indexed = true},
                                          {0}};
    static const zs_field_t c_fields[] = {{.name = "x", .type = ZS_FT_TIME, .indexed = true},
                                          {.name = "j", .type = ZS_FT_JSON, .indexed = true},
                                          {0}};
    static const zs_resource_t a = {.name = "A", .collection = "ab", .fields = a_fields};
    static const zs_resource_t b = {.name = "B", .collection = "ab", .fields = b_fields};
    static const zs_resource_t c = {.name = "C", .collection = "ab", .fields = c_fields};
    static const zs_resource_t m = {.name = "M", .collection = "meta", .fields = a_fields};
    snprintf(path, sizeof path, "%s/other", tmpdir);
    const zs_resource_t *ab[] = {&a, &b, NULL};
    ck_assert_ptr_null(zs_store_open(path, ab, 1, 0));
    const zs_resource_t *mm[] = {&m, NULL};
    ck_assert_ptr_null(zs_store_open(path, mm, 1, 0));
    /* INT and TIME encode alike and may share an index; JSON is never indexed */
    const zs_resource_t *ac[] = {&a, &c, NULL};
    zs_store_t *s = zs_store_open(path, ac, 1, 0);
    ck_assert_ptr_nonnull(s);
    ck_assert(zs_store_indexed(s, "ab", "x"));
    ck_assert(!zs_store_indexed(s, "ab", "j"));
    zs_store_close(&s);
    /* no resources at all: a raw-only store */
    snprintf(path, sizeof path, "%s/raw", tmpdir);
    s = zs_store_open(path, NULL, 1, 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(zs_store_env(s));
    zs_store_close(&s);
}
END_TEST

/* A field that becomes indexed is indexed for the records already stored. */
START_TEST(t_new_index_backfill)
{
    static const zs_field_t plain[] = {{.name = "title", .type = ZS_FT_STRING}, {0}};
    static const zs_field_t indexed[] = {{.name = "title", .type = ZS_FT_STRING, .indexed = true},
                                         {0}};
    static const zs_resource_t d1 = {.name = "Doc", .collection = "docs", .fields = plain};
    static const zs_resource_t d2 = {.name = "Doc", .collection = "docs", .fields = indexed};
    const zs_resource_t *r1[] = {&d1, NULL}, *r2[] = {&d2, NULL};
    zs_store_close(&st);
    char path[192];
    snprintf(path, sizeof path, "%s/docs", tmpdir);

    st = zs_store_open(path, r1, 1, 0);
    ck_assert_ptr_nonnull(st);
    MDB_txn *txn = begin(true);
    put(txn, "docs", 1, json_pack("{s:s}", "title", "b"));
    put(txn, "docs", 2, json_pack("{s:s}", "title", "a"));
    put(txn, "docs", 3, json_pack("{s:n}", "title"));
    put(txn, "docs", 4, json_pack("{s:i}", "title", 4));      /* wrong type: skipped */
    commit(txn);
    zs_store_close(&st);

    st = zs_store_open(path, r2, 1, 0);
    ck_assert_ptr_nonnull(st);
    txn = begin(false);
    ck_assert_str_eq(all(txn, "docs", "title"), "2,1");
    mdb_txn_abort(txn);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Raw databases */

static int kv_collect(void *arg, const MDB_val *key, const MDB_val *val)
{
    collect_t *c = arg;
    char text[128];
    snprintf(text, sizeof text, "%.*s=%.*s", (int)key->mv_size, (const char *)key->mv_data,
             (int)val->mv_size, (const char *)val->mv_data);
    collect_add(c, text);
    return ++c->calls == c->stop_at ? c->stop_value : 0;
}

START_TEST(t_kv)
{
    ck_assert_int_eq(zs_store_kv_open(st, "jobs"), 0);
    ck_assert_int_eq(zs_store_kv_open(st, "jobs"), 0);
    ck_assert_int_eq(zs_store_kv_open(st, "meta"), 0);
    ck_assert_int_eq(zs_store_kv_open(st, "vms"), EINVAL);
    ck_assert_int_eq(zs_store_kv_open(st, "vms@name"), EINVAL);
    ck_assert_int_eq(zs_store_kv_open(st, ""), EINVAL);

    MDB_txn *txn = begin(true);
    MDB_val v;
    ck_assert_int_eq(zs_store_kv_put(st, txn, "jobs", "k2", 2, "two", 3), 0);
    ck_assert_int_eq(zs_store_kv_put(st, txn, "jobs", "k1", 2, "one", 3), 0);
    ck_assert_int_eq(zs_store_kv_put(st, txn, "jobs", "k3", 2, "three", 5), 0);
    ck_assert_int_eq(zs_store_kv_put(st, txn, "jobs", "k3", 2, "drei", 4), 0);   /* replace */
    ck_assert_int_eq(zs_store_kv_put(st, txn, "nope", "k", 1, "v", 1), EINVAL);
    ck_assert_int_eq(zs_store_kv_get(st, txn, "nope", "k", 1, &v), EINVAL);
    commit(txn);

    txn = begin(false);
    ck_assert_int_eq(zs_store_kv_get(st, txn, "jobs", "k1", 2, &v), 0);
    ck_assert_uint_eq(v.mv_size, 3);
    ck_assert(memcmp(v.mv_data, "one", 3) == 0);
    ck_assert_int_eq(zs_store_kv_get(st, txn, "jobs", "k9", 2, &v), MDB_NOTFOUND);
    collect_t c = {0};
    ck_assert_int_eq(zs_store_kv_walk(st, txn, "jobs", NULL, 0, kv_collect, &c), 0);
    ck_assert_str_eq(keep(&c), "k1=one,k2=two,k3=drei");
    collect_t d = {0};
    ck_assert_int_eq(zs_store_kv_walk(st, txn, "jobs", "k15", 3, kv_collect, &d), 0);
    ck_assert_str_eq(keep(&d), "k2=two,k3=drei");
    collect_t e = {.stop_at = 1, .stop_value = 9};
    ck_assert_int_eq(zs_store_kv_walk(st, txn, "jobs", "k2", 2, kv_collect, &e), 9);
    ck_assert_str_eq(keep(&e), "k2=two");
    collect_t f = {0};
    ck_assert_int_eq(zs_store_kv_walk(st, txn, "jobs", "z", 1, kv_collect, &f), 0);
    ck_assert_str_eq(keep(&f), "");
    ck_assert_int_eq(zs_store_kv_walk(st, txn, "nope", NULL, 0, kv_collect, &f), EINVAL);
    mdb_txn_abort(txn);

    txn = begin(true);
    ck_assert_int_eq(zs_store_kv_del(st, txn, "jobs", "k2", 2), 0);
    ck_assert_int_eq(zs_store_kv_del(st, txn, "jobs", "k2", 2), MDB_NOTFOUND);
    ck_assert_int_eq(zs_store_kv_get(st, txn, "jobs", "k2", 2, &v), MDB_NOTFOUND);
    commit(txn);

    /* raw data survives a reopen; the database is opened again at start-up */
    zs_store_close(&st);
    st = zs_store_open(dbdir, resources, VERSION, 0);
    ck_assert_ptr_nonnull(st);
    ck_assert_int_eq(zs_store_kv_open(st, "jobs"), 0);
    txn = begin(false);
    collect_t g = {0};
    ck_assert_int_eq(zs_store_kv_walk(st, txn, "jobs", NULL, 0, kv_collect, &g), 0);
    ck_assert_str_eq(keep(&g), "k1=one,k3=drei");
    mdb_txn_abort(txn);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Backup */

START_TEST(t_backup)
{
    ck_assert_int_eq(zs_store_kv_open(st, "jobs"), 0);
    MDB_txn *txn = begin(true);
    for (unsigned i = 1; i <= 50; i++)
        put(txn, "vms", i, json_pack("{s:s, s:i, s:{s:i}}", "name", i % 2 ? "odd" : "even",
                                     "cpu", (int)i, "extra", "i", (int)i));
    ck_assert_int_eq(zs_store_kv_put(st, txn, "jobs", "k", 1, "v", 1), 0);
    commit(txn);

    char bk[192];
    snprintf(bk, sizeof bk, "%s/backups/one", tmpdir);
    MDB_txn *reader = begin(false);     /* a hot copy: readers may be active */
    ck_assert_int_eq(zs_store_backup(st, bk), 0);
    mdb_txn_abort(reader);
    ck_assert_int_ne(zs_store_backup(st, bk), 0);           /* never overwrites */

    zs_store_t *b = zs_store_open(bk, resources, VERSION, 0);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(zs_store_kv_open(b, "jobs"), 0);
    MDB_txn *t1 = begin(false), *t2;
    ck_assert_int_eq(zs_store_begin(b, NULL, false, &t2), 0);
    ck_assert_uint_eq(zs_store_count(b, t2, "vms"), 50);
    for (unsigned i = 1; i <= 50; i++) {
        json_t *x = zs_store_get(st, t1, "vms", U(i)), *y = zs_store_get(b, t2, "vms", U(i));
        ck_assert(x && json_equal(x, y));
        json_decref(x);
        json_decref(y);
    }
    char *orig = strdup(eq(t1, "vms", "name", ZS_FT_STRING, json_string("odd")));
    zs_store_t *saved = st;
    st = b;                 /* the helpers walk `st` */
    ck_assert_str_eq(eq(t2, "vms", "name", ZS_FT_STRING, json_string("odd")), orig);
    MDB_val v;
    ck_assert_int_eq(zs_store_kv_get(b, t2, "jobs", "k", 1, &v), 0);
    st = saved;
    free(orig);
    mdb_txn_abort(t1);
    mdb_txn_abort(t2);
    zs_store_close(&b);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Random puts and deletes: the indexes must always equal what a brute-force scan of the
 * records says they should hold. */

#define NU 120
static json_t *shadow[NU + 1];     /* committed state; NULL = absent */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static json_t *random_record(void)
{
    static const char *names[] = {"", "a", "ab", "abc", "b", "web-1", "web-2", "db"};
    static const double scores[] = {-1.5, -0.0, 0.0, 0.25, 7.0};
    json_t *r = json_object();
    unsigned k = rnd() % 10;
    if (k < 7)
        json_object_set_new(r, "name", json_string(names[rnd() % 8]));
    else if (k == 7)
        json_object_set_new(r, "name", json_null());
    else if (k == 8) {
        char big[520];
        memset(big, 'w', sizeof big);
        json_object_set_new(r, "name", json_stringn(big, sizeof big));
    }
    if (rnd() % 5)
        json_object_set_new(r, "cpu", json_integer((json_int_t)(rnd() % 11) - 5));
    if (rnd() % 4)
        json_object_set_new(r, "created", json_integer((json_int_t)(rnd() % 7) * 1000 - 3000));
    if (rnd() % 3)
        json_object_set_new(r, "score", json_real(scores[rnd() % 5]));
    if (rnd() % 2)
        json_object_set_new(r, "on", json_boolean(rnd() % 2));
    return r;
}

typedef struct {
    unsigned char key[ZS_STORE_KEY_SIZE];
    size_t len;
    unsigned uuid;
} entry_t;

/* LMDB's default order: bytes, then length; then the duplicates' order: uuid bytes. */
static int entry_cmp(const void *pa, const void *pb)
{
    const entry_t *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->key, b->key, n);
    if (c == 0)
        c = (a->len > b->len) - (a->len < b->len);
    return c ? c : (a->uuid > b->uuid) - (a->uuid < b->uuid);
}

static size_t expected_entries(const char *field, zs_ftype_t type, entry_t *out)
{
    size_t n = 0;
    for (unsigned u = 1; u <= NU; u++) {
        if (!shadow[u])
            continue;
        /* An entry's key: over-long strings are indexed under their first
         * ZS_STORE_MAX_INDEXED_STRING bytes (a lookup key of that length is refused). */
        json_t *v = json_object_get(shadow[u], field);
        json_t *cut = json_is_string(v) && json_string_length(v) >= ZS_STORE_MAX_INDEXED_STRING
                          ? json_stringn(json_string_value(v), ZS_STORE_MAX_INDEXED_STRING - 1)
                          : json_incref(v);
        int len = zs_store_index_key(type, cut, out[n].key, sizeof out[n].key);
        if (cut != v && len > 0) {   /* the real cut keeps one byte more */
            out[n].key[len] = (unsigned char)json_string_value(v)[len];
            len++;
        }
        json_decref(cut);
        if (len < 0)
            continue;
        out[n].len = (size_t)len;
        out[n++].uuid = u;
    }
    qsort(out, n, sizeof *out, entry_cmp);
    return n;
}

static void expect_list(collect_t *c, const entry_t *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char num[16];
        snprintf(num, sizeof num, "%u", e[i].uuid);
        collect_add(c, num);
    }
}

static void verify_field(MDB_txn *txn, const char *field, zs_ftype_t type)
{
    static entry_t e[NU];
    size_t n = expected_entries(field, type, e);
    collect_t want = {0};
    expect_list(&want, e, n);
    char *w = want.s ? want.s : strdup("");
    ck_assert_msg(strcmp(all(txn, "vms", field), w) == 0, "%s: index %s, records %s", field,
                  walked, w);
    free(w);
    if (n == 0)
        return;
    /* every key: equality walk and count */
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i; j < n && e[j].len == e[i].len && memcmp(e[j].key, e[i].key, e[i].len) == 0;)
            j++;
        ck_assert_uint_eq(zs_store_index_count(st, txn, "vms", field, e[i].key, e[i].len), j - i);
    }
    /* a few random ranges between existing keys */
    for (int r = 0; r < 8; r++) {
        const entry_t *lo = &e[rnd() % n], *hi = &e[rnd() % n];
        bool loi = rnd() % 2, hii = rnd() % 2;
        collect_t got = {0}, exp = {0};
        ck_assert_int_eq(zs_store_index_walk(st, txn, "vms", field, lo->key, lo->len, loi,
                                             hi->key, hi->len, hii, NULL, 0, collect_fn, &got),
                         0);
        for (size_t i = 0; i < n; i++) {
            entry_t a = e[i], l = *lo, h = *hi;
            a.uuid = l.uuid = h.uuid = 0;
            int cl = entry_cmp(&a, &l), ch = entry_cmp(&a, &h);
            if ((cl > 0 || (cl == 0 && loi)) && (ch < 0 || (ch == 0 && hii)))
                expect_list(&exp, &e[i], 1);
        }
        ck_assert_str_eq(got.s ? got.s : "", exp.s ? exp.s : "");
        free(got.s);
        free(exp.s);
    }
}

static int shadow_fn(void *arg, const char *uuid, json_t *rec)
{
    unsigned *seen = arg;
    unsigned u = (unsigned)strtoul(uuid, NULL, 16);
    ck_assert(u >= 1 && u <= NU && shadow[u]);
    ck_assert(json_equal(rec, shadow[u]));
    (*seen)++;
    return 0;
}

static void verify_all(void)
{
    MDB_txn *txn = begin(false);
    unsigned seen = 0, live = 0;
    ck_assert_int_eq(zs_store_scan(st, txn, "vms", shadow_fn, &seen), 0);
    for (unsigned u = 1; u <= NU; u++)
        live += shadow[u] != NULL;
    ck_assert_uint_eq(seen, live);
    ck_assert_uint_eq(zs_store_count(st, txn, "vms"), live);
    verify_field(txn, "name", ZS_FT_STRING);
    verify_field(txn, "cpu", ZS_FT_INT);
    verify_field(txn, "created", ZS_FT_TIME);
    verify_field(txn, "score", ZS_FT_REAL);
    verify_field(txn, "on", ZS_FT_BOOL);
    mdb_txn_abort(txn);
}

START_TEST(t_random_consistency)
{
    for (int round = 0; round < 40; round++) {
        json_t *pending[NU + 1];
        for (unsigned u = 0; u <= NU; u++)
            pending[u] = shadow[u] ? json_incref(shadow[u]) : NULL;
        bool abort_it = round % 5 == 4;
        MDB_txn *txn = begin(true);
        for (int op = 0; op < 150; op++) {
            unsigned u = 1 + (unsigned)(rnd() % NU);
            if (rnd() % 10 < 7) {
                json_t *r = random_record();
                ck_assert_int_eq(zs_store_put(st, txn, "vms", U(u), r), 0);
                json_decref(pending[u]);
                pending[u] = r;
            } else {
                int rc = zs_store_del(st, txn, "vms", U(u));
                ck_assert_int_eq(rc, pending[u] ? 0 : MDB_NOTFOUND);
                json_decref(pending[u]);
                pending[u] = NULL;
            }
        }
        if (abort_it)
            mdb_txn_abort(txn);
        else
            commit(txn);
        for (unsigned u = 0; u <= NU; u++) {
            json_t *keep_it = abort_it ? shadow[u] : pending[u];
            json_t *drop = abort_it ? pending[u] : shadow[u];
            json_decref(drop);
            shadow[u] = keep_it;
        }
        verify_all();
    }
    /* and after a reopen */
    zs_store_close(&st);
    st = zs_store_open(dbdir, resources, VERSION, 0);
    ck_assert_ptr_nonnull(st);
    verify_all();
    for (unsigned u = 0; u <= NU; u++) {
        json_decref(shadow[u]);
        shadow[u] = NULL;
    }
}
END_TEST

START_TEST(t_strerror)
{
    ck_assert_ptr_nonnull(strstr(zs_store_strerror(MDB_NOTFOUND), "MDB_NOTFOUND"));
    ck_assert_ptr_nonnull(strstr(zs_store_strerror(MDB_MAP_FULL), "MDB_MAP_FULL"));
    ck_assert_str_eq(zs_store_strerror(EINVAL), "Invalid argument");
    ck_assert_str_eq(zs_store_strerror(-5), "unknown error");
    ck_assert_str_eq(zs_store_strerror(100000), "unknown error");
    ck_assert_str_eq(zs_store_strerror(0), "success");
}
END_TEST

START_TEST(t_nested_txn)
{
    MDB_txn *txn = begin(true), *child;
    put(txn, "vms", 1, json_pack("{s:s}", "name", "kept"));
    ck_assert_int_eq(zs_store_begin(st, txn, true, &child), 0);
    put(child, "vms", 1, json_pack("{s:s}", "name", "undone"));
    mdb_txn_abort(child);
    ck_assert_str_eq(eq(txn, "vms", "name", ZS_FT_STRING, json_string("kept")), "1");
    ck_assert_str_eq(eq(txn, "vms", "name", ZS_FT_STRING, json_string("undone")), "");
    commit(txn);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, t_put_get_del);
    tcase_add_test(tc, t_del_all);
    tcase_add_test(tc, t_update_moves_index);
    tcase_add_test(tc, t_refusals);
    tcase_add_test(tc, t_indexed);
    tcase_add_test(tc, t_index_key);
    tcase_add_test(tc, t_index_key_order);
    tcase_add_test(tc, t_int_range);
    tcase_add_test(tc, t_time_range);
    tcase_add_test(tc, t_real_and_bool);
    tcase_add_test(tc, t_string_range_prefix);
    tcase_add_test(tc, t_walk_stop);
    tcase_add_test(tc, t_scan);
    tcase_add_test(tc, t_shared_collection);
    tcase_add_test(tc, t_reopen);
    tcase_add_test(tc, t_schema_version);
    tcase_add_test(tc, t_open_failures);
    tcase_add_test(tc, t_new_index_backfill);
    tcase_add_test(tc, t_kv);
    tcase_add_test(tc, t_backup);
    tcase_add_test(tc, t_random_consistency);
    tcase_add_test(tc, t_strerror);
    tcase_add_test(tc, t_nested_txn);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int failures = test_run_suite(store_suite());
    free(walked);
    return failures;
}
