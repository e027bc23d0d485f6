/* store_index.c — the store's secondary indexes (store.h): the order-preserving key
 * encoding, walks over an index, and the equality and "due" lookups built on them. */
#include "store_internal.h"
#include "log.h"
#include <errno.h>
#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Index keys */

static int put_u64(uint64_t u, unsigned char *buf, size_t size)
{
    if (size < 8)
        return -1;
    for (int i = 7; i >= 0; i--, u >>= 8)
        buf[i] = (unsigned char)u;
    return 8;
}

/* Encodes like zs_store_index_key but tells the two refusals apart, because a record whose
 * indexed field has the wrong type must be refused (it would silently vanish from queries),
 * while null, absent and over-long values are simply left out of the index.
 * Returns the length, -1 (nothing to index) or -2 (wrong type). */
static int encode_value(zs_ftype_t type, const json_t *v, unsigned char *buf, size_t size,
                        bool entry);

/* The key of an index ENTRY: a string longer than ZS_STORE_MAX_INDEXED_STRING bytes is
 * indexed under its first ZS_STORE_MAX_INDEXED_STRING bytes, so range and prefix walks still
 * find it (a truncated key compares with any shorter bound exactly as the whole value does);
 * the query engine re-checks every record it loads, so the cut never changes a result. */
int zst_encode_key(zs_ftype_t type, const json_t *v, unsigned char *buf, size_t size)
{
    return encode_value(type, v, buf, size, true);
}

static int encode_value(zs_ftype_t type, const json_t *v, unsigned char *buf, size_t size,
                        bool entry)
{
    if (!v || json_is_null(v))
        return -1;
    switch (type) {
    case ZS_FT_STRING: {
        if (!json_is_string(v))
            return -2;
        size_t n = json_string_length(v);
        const char *s = json_string_value(v);
        if (n == 0) {
            /* LMDB keys cannot be empty: "" is the single byte 0, which sorts first. */
            if (size < 1)
                return -1;
            buf[0] = 0;
            return 1;
        }
        /* A leading NUL would collide with the encoding of "". A LOOKUP key as long as the
         * cut cannot tell a value from the longer ones cut to it: refused (callers scan). */
        if (s[0] == '\0' || (!entry && n >= ZS_STORE_MAX_INDEXED_STRING))
            return -1;
        if (n > ZS_STORE_MAX_INDEXED_STRING)
            n = ZS_STORE_MAX_INDEXED_STRING;
        if (n > size)
            return -1;
        memcpy(buf, s, n);
        return (int)n;
    }
    case ZS_FT_INT:
    case ZS_FT_TIME:
    case ZS_FT_EPOCH:
        if (!json_is_integer(v))
            return -2;
        /* Flipping the sign bit makes two's complement sort as unsigned big-endian bytes. */
        return put_u64((uint64_t)json_integer_value(v) ^ (UINT64_C(1) << 63), buf, size);
    case ZS_FT_REAL: {
        if (!json_is_number(v))     /* integers are fine: "3" parses as one */
            return -2;
        double d = json_number_value(v);
        if (d == 0)
            d = 0;                  /* -0.0 == 0.0, so both must share one key */
        uint64_t u;
        memcpy(&u, &d, sizeof u);
        /* IEEE 754 bits sort as sign-magnitude: negatives are inverted whole, positives get
         * the sign bit set, and the result sorts as unsigned. */
        u = (u >> 63) ? ~u : u | (UINT64_C(1) << 63);
        return put_u64(u, buf, size);
    }
    case ZS_FT_BOOL:
        if (!json_is_boolean(v))
            return -2;
        if (size < 1)
            return -1;
        buf[0] = json_is_true(v) ? 1 : 0;
        return 1;
    case ZS_FT_JSON:
    default:
        return -1;
    }
}

int zs_store_index_key(zs_ftype_t type, const json_t *value, unsigned char *buf, size_t size)
{
    int n = encode_value(type, value, buf, size, false);
    return n < 0 ? -1 : n;
}

/* Values of different types that encode alike may share one index. */
int zst_type_class(zs_ftype_t t)
{
    return t == ZS_FT_TIME || t == ZS_FT_EPOCH ? ZS_FT_INT : (int)t;
}

/* ---------------------------------------------------------------------------------------------
 * Index walks */

bool zs_store_indexed(zs_store_t *self, const char *collection, const char *field)
{
    return zst_index_find(zst_coll_find(self, collection), field) != NULL;
}

/* The bounds of one walk, compared with the index's own comparator so that they agree with
 * LMDB's order by construction. */
typedef struct {
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val lo, hi, prefix;
    bool has_lo, has_hi, has_prefix, lo_inclusive, hi_inclusive;
} walk_t;

static int walk_cmp(const walk_t *w, const MDB_val *a, const MDB_val *b)
{
    return mdb_cmp(w->txn, w->dbi, a, b);
}

/* True when key k is past the end of the walk. */
static bool walk_done(const walk_t *w, const MDB_val *k)
{
    if (w->has_prefix && (k->mv_size < w->prefix.mv_size
                          || memcmp(k->mv_data, w->prefix.mv_data, w->prefix.mv_size) != 0))
        return true;
    if (w->has_hi) {
        int c = walk_cmp(w, k, &w->hi);
        return c > 0 || (c == 0 && !w->hi_inclusive);
    }
    return false;
}

/* Positions the cursor on the first entry of the walk. */
static int walk_start(const walk_t *w, MDB_cursor *cur, MDB_val *k, MDB_val *v)
{
    const MDB_val *from = NULL;    /* empty keys do not exist: an empty bound is the start */
    if (w->has_prefix && w->prefix.mv_size > 0)
        from = &w->prefix;
    if (w->has_lo && w->lo.mv_size > 0 && (!from || walk_cmp(w, &w->lo, from) > 0))
        from = &w->lo;
    int rc;
    if (from) {                     /* SET_RANGE overwrites the key it is given */
        *k = *from;
        rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    } else {
        rc = mdb_cursor_get(cur, k, v, MDB_FIRST);
    }
    /* An exclusive lower bound skips every duplicate of that one key. */
    if (rc == 0 && w->has_lo && !w->lo_inclusive && walk_cmp(w, k, &w->lo) == 0)
        rc = mdb_cursor_get(cur, k, v, MDB_NEXT_NODUP);
    return rc;
}

int zs_store_index_walk(zs_store_t *self, MDB_txn *txn, const char *collection, const char *field,
                        const unsigned char *lo, size_t lo_len, bool lo_inclusive,
                        const unsigned char *hi, size_t hi_len, bool hi_inclusive,
                        const unsigned char *prefix, size_t prefix_len,
                        zs_store_uuid_fn *fn, void *arg)
{
    const zs_index_t *x = zst_index_find(zst_coll_get(self, collection), field);
    if (!x)
        return EINVAL;
    walk_t w = {
        .txn = txn, .dbi = x->dbi,
        .lo = {lo_len, (void *)lo}, .hi = {hi_len, (void *)hi},
        .prefix = {prefix_len, (void *)prefix},
        .has_lo = lo != NULL, .has_hi = hi != NULL, .has_prefix = prefix != NULL,
        .lo_inclusive = lo_inclusive, .hi_inclusive = hi_inclusive,
    };
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, x->dbi, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    /* MDB_NEXT visits every duplicate uuid of a key before moving to the next key. */
    for (rc = walk_start(&w, cur, &k, &v); rc == 0 && !walk_done(&w, &k);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char uuid[KEY_MAX + 1];
        int r = fn(arg, zst_uuid_str(&v, uuid));
        if (r) {
            rc = r;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

size_t zs_store_index_count(zs_store_t *self, MDB_txn *txn, const char *collection,
                            const char *field, const unsigned char *key, size_t len)
{
    const zs_index_t *x = zst_index_find(zst_coll_get(self, collection), field);
    if (!x || !key || len == 0)
        return 0;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, x->dbi, &cur) != 0)
        return 0;
    MDB_val k = {len, (void *)key}, v;
    size_t n = 0;
    if (mdb_cursor_get(cur, &k, &v, MDB_SET) == 0 && mdb_cursor_count(cur, &n) != 0)
        n = 0;
    mdb_cursor_close(cur);
    return n;
}

/* ---------------------------------------------------------------------------------------------
 * Equality lookups */

typedef struct {
    json_t *uuids;
    size_t max;
} find_t;

#define FIND_FULL (-1)   /* not an LMDB nor an errno code */

static int find_collect(void *arg, const char *uuid)
{
    find_t *f = arg;
    if (json_array_size(f->uuids) >= f->max)
        return FIND_FULL;
    return json_array_append_new(f->uuids, json_string(uuid)) == 0 ? 0 : ENOMEM;
}

/* What a lookup returns: the uuids, or NULL (logged) when its walk failed. */
static json_t *find_result(const zs_store_t *self, const char *collection, find_t *f, int rc)
{
    if (rc == 0 || rc == FIND_FULL)
        return f->uuids;
    zs_errorf("store %s: lookup in %s failed: %s", self->dir, collection, zs_store_strerror(rc));
    json_decref(f->uuids);
    return NULL;
}

json_t *zs_store_find(zs_store_t *self, MDB_txn *txn, const char *collection, const char *field,
                      const json_t *value, size_t max)
{
    find_t f = {json_array(), max};
    const zs_coll_t *c = zst_coll_find(self, collection);
    const zs_index_t *x = c ? zst_index_find(c, field) : NULL;
    unsigned char key[ZS_STORE_KEY_SIZE];
    int len = x ? zs_store_index_key(x->type, value, key, sizeof key) : -1;
    int rc = len > 0 ? zs_store_index_walk(self, txn, collection, field, key, (size_t)len, true,
                                           key, (size_t)len, true, NULL, 0, find_collect, &f)
                     : 0;
    return find_result(self, collection, &f, rc);
}

json_t *zs_store_find_one(zs_store_t *self, MDB_txn *txn, const char *collection,
                          const char *field, const json_t *value)
{
    json_t *uuids = zs_store_find(self, txn, collection, field, value, 1);
    json_t *rec = json_array_size(uuids)
                      ? zs_store_get(self, txn, collection, json_string_value(json_array_get(uuids, 0)))
                      : NULL;
    json_decref(uuids);
    return rec;
}

json_t *zs_store_find_upto(zs_store_t *self, MDB_txn *txn, const char *collection,
                           const char *field, int64_t upto, size_t max)
{
    find_t f = {json_array(), max};
    const zs_coll_t *c = zst_coll_find(self, collection);
    const zs_index_t *x = c ? zst_index_find(c, field) : NULL;
    json_t *v = json_integer(upto);
    unsigned char key[ZS_STORE_KEY_SIZE];
    int len = x ? zs_store_index_key(x->type, v, key, sizeof key) : -1;
    json_decref(v);
    int rc = len > 0 ? zs_store_index_walk(self, txn, collection, field, NULL, 0, false, key,
                                           (size_t)len, true, NULL, 0, find_collect, &f)
                     : 0;
    return find_result(self, collection, &f, rc);
}
