/* store.c — see store.h. */
#define _GNU_SOURCE             /* strerrordesc_np: a thread-safe strerror */
#include "store.h"
#include "log.h"
#include "pack.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MAP_SIZE ((size_t)16 << 30)
#define MIN_MAX_DBS      128
#define MAX_READERS      256
#define KEY_MAX          511        /* LMDB's default key (and dup value) limit */
#define SCHEMA_KEY       "schema_version"

/* One secondary index: "<collection>@<field>". */
typedef struct {
    char *field;
    zs_ftype_t type;
    MDB_dbi dbi;
} zs_index_t;

/* One collection; its indexes are contiguous in the store's index array. */
typedef struct {
    char *name;
    MDB_dbi dbi;
    zs_index_t *idx;
    size_t nidx;
} zs_coll_t;

/* One raw key/value database. */
typedef struct {
    char *name;
    MDB_dbi dbi;
} zs_kv_t;

/* Every table is filled at open (kvs also by zs_store_kv_open during start-up) and read-only
 * afterwards, so any thread may look names up without a lock. */
struct zs_store {
    MDB_env *env;
    char *dir;
    zs_coll_t *colls;
    size_t ncolls;
    zs_index_t *indexes;
    size_t nindexes;
    zs_kv_t *kvs;
    size_t nkvs;
};

/* Records were checked when written; these limits only keep a damaged file from exhausting
 * memory or the stack, so they are far looser than the bus defaults. */
static const zs_pack_limits_t record_limits = {
    .max_bytes = SIZE_MAX, .max_depth = 128, .max_elements = SIZE_MAX, .max_string = SIZE_MAX,
};

/* ---------------------------------------------------------------------------------------------
 * Small helpers */

static int mkdir_p(const char *path)
{
    if (!path || !*path)
        return EINVAL;
    char *p = strdup(path);
    if (!p)
        return ENOMEM;
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = errno;
        *s = c;
        if (!c)
            break;
    }
    free(p);
    struct stat st;
    if (rc == 0 && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = ENOTDIR;
    return rc;
}

/* The uuid as an LMDB key/value; EINVAL when LMDB could not store it. */
static int uuid_val(const char *uuid, MDB_val *v)
{
    size_t n = uuid ? strlen(uuid) : 0;
    if (n == 0 || n > KEY_MAX)
        return EINVAL;
    v->mv_size = n;
    v->mv_data = (void *)uuid;
    return 0;
}

/* Copies an LMDB uuid value into a C string (buf holds KEY_MAX + 1 bytes). */
static const char *uuid_str(const MDB_val *v, char *buf)
{
    size_t n = v->mv_size > KEY_MAX ? KEY_MAX : v->mv_size;
    memcpy(buf, v->mv_data, n);
    buf[n] = '\0';
    return buf;
}

static const zs_coll_t *coll_find(const zs_store_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->ncolls; i++)
        if (strcmp(self->colls[i].name, name) == 0)
            return &self->colls[i];
    return NULL;
}

/* Same as coll_find, but says so in the log: an unknown collection is a programming error. */
static const zs_coll_t *coll_get(const zs_store_t *self, const char *name)
{
    const zs_coll_t *c = coll_find(self, name);
    if (!c)
        zs_errorf("store %s: unknown collection \"%s\"", self->dir, name ? name : "(null)");
    return c;
}

static const zs_index_t *index_find(const zs_coll_t *c, const char *field)
{
    for (size_t i = 0; c && field && i < c->nidx; i++)
        if (strcmp(c->idx[i].field, field) == 0)
            return &c->idx[i];
    return NULL;
}

static bool kv_find(const zs_store_t *self, const char *db, MDB_dbi *dbi)
{
    for (size_t i = 0; db && i < self->nkvs; i++)
        if (strcmp(self->kvs[i].name, db) == 0) {
            *dbi = self->kvs[i].dbi;
            return true;
        }
    return false;
}

static int kv_get_dbi(const zs_store_t *self, const char *db, MDB_dbi *dbi)
{
    if (kv_find(self, db, dbi))
        return 0;
    zs_errorf("store %s: raw database \"%s\" was not opened (zs_store_kv_open)", self->dir,
              db ? db : "(null)");
    return EINVAL;
}

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
static int encode_key(zs_ftype_t type, const json_t *v, unsigned char *buf, size_t size)
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
static int type_class(zs_ftype_t t)
{
    return t == ZS_FT_TIME || t == ZS_FT_EPOCH ? ZS_FT_INT : (int)t;
}

/* ---------------------------------------------------------------------------------------------
 * Opening: the tables, then every database in one write transaction */

static int index_add(zs_store_t *self, zs_coll_t *c, const zs_resource_t *res,
                     const zs_field_t *f)
{
    if (f->type == ZS_FT_JSON) {
        zs_warn("store %s: %s.%s is JSON and cannot be indexed", self->dir, res->name, f->name);
        return 0;
    }
    if (strlen(c->name) + 1 + strlen(f->name) > KEY_MAX) {
        zs_errorf("store %s: index name %s@%s too long", self->dir, c->name, f->name);
        return -1;
    }
    const zs_index_t *old = index_find(c, f->name);
    if (old) {
        if (type_class(old->type) == type_class(f->type))
            return 0;
        zs_errorf("store %s: %s.%s: the resources of collection %s index it with different types",
                  self->dir, res->name, f->name, c->name);
        return -1;
    }
    zs_index_t *x = &self->indexes[self->nindexes++];
    x->field = strdup(f->name);
    x->type = f->type;
    c->nidx++;
    return x->field ? 0 : -1;
}

static bool coll_name_ok(const zs_store_t *self, const zs_resource_t *res)
{
    const char *n = res->collection;
    if (n && *n && !strchr(n, '@') && strcmp(n, "meta") != 0 && strlen(n) <= KEY_MAX)
        return true;
    zs_errorf("store %s: resource %s has an invalid collection name", self->dir,
              res->name ? res->name : "?");
    return false;
}

/* Fills colls and indexes from the descriptors: one collection per distinct name, with the
 * union of the indexed fields of every resource stored in it. */
static int tables_build(zs_store_t *self, const zs_resource_t *const *resources)
{
    size_t nres = 0, nfields = 0;
    for (; resources && resources[nres]; nres++)
        for (const zs_field_t *f = resources[nres]->fields; f && f->name; f++)
            nfields += f->indexed;
    self->colls = calloc(nres + 1, sizeof *self->colls);
    self->indexes = calloc(nfields + 1, sizeof *self->indexes);
    if (!self->colls || !self->indexes)
        return -1;
    for (size_t i = 0; i < nres; i++) {
        if (!coll_name_ok(self, resources[i]))
            return -1;
        if (coll_find(self, resources[i]->collection))
            continue;
        zs_coll_t *c = &self->colls[self->ncolls++];
        c->name = strdup(resources[i]->collection);
        c->idx = self->indexes + self->nindexes;
        if (!c->name)
            return -1;
        for (size_t j = i; j < nres; j++) {
            if (strcmp(resources[j]->collection, c->name) != 0)
                continue;
            for (const zs_field_t *f = resources[j]->fields; f && f->name; f++)
                if (f->indexed && index_add(self, c, resources[j], f) != 0)
                    return -1;
        }
    }
    return 0;
}

static int kv_add(zs_store_t *self, const char *name, MDB_dbi dbi)
{
    zs_kv_t *kvs = realloc(self->kvs, (self->nkvs + 1) * sizeof *kvs);
    if (!kvs)
        return ENOMEM;
    self->kvs = kvs;
    kvs[self->nkvs].name = strdup(name);
    if (!kvs[self->nkvs].name)
        return ENOMEM;
    kvs[self->nkvs++].dbi = dbi;
    return 0;
}

/* Stores `version` in a new environment, refuses a newer one, and records the upgrade of an
 * older one so that the old binary will refuse the upgraded data. */
static int schema_check(zs_store_t *self, MDB_txn *txn, MDB_dbi meta, unsigned version)
{
    MDB_val k = {strlen(SCHEMA_KEY), SCHEMA_KEY}, v;
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (rc == 0) {
        char text[24];
        char *end;
        if (v.mv_size == 0 || v.mv_size >= sizeof text) {
            zs_errorf("store %s: unreadable schema version", self->dir);
            return MDB_INCOMPATIBLE;
        }
        memcpy(text, v.mv_data, v.mv_size);
        text[v.mv_size] = '\0';
        unsigned long stored = strtoul(text, &end, 10);
        if (*end) {
            zs_errorf("store %s: unreadable schema version \"%s\"", self->dir, text);
            return MDB_INCOMPATIBLE;
        }
        if (stored > version) {
            zs_errorf("store %s: data has schema version %lu, newer than this program's %u",
                      self->dir, stored, version);
            return MDB_VERSION_MISMATCH;
        }
        if (stored == version)
            return 0;
        zs_info("store %s: schema version %lu -> %u", self->dir, stored, version);
    }
    char text[24];
    int n = snprintf(text, sizeof text, "%u", version);
    v.mv_size = (size_t)n;
    v.mv_data = text;
    return mdb_put(txn, meta, &k, &v, 0);
}

/* Indexes the records already in a collection, for an index that did not exist before (a
 * field newly flagged `indexed`): otherwise queries through it would miss old records. */
static int index_backfill(zs_store_t *self, MDB_txn *txn, const zs_coll_t *c,
                          const zs_index_t *x)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, c->dbi, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    size_t added = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char err[128];
        json_t *rec = zs_unpack(v.mv_data, v.mv_size, &record_limits, err);
        unsigned char buf[ZS_STORE_KEY_SIZE];
        int n = rec ? encode_key(x->type, json_object_get(rec, x->field), buf, sizeof buf) : -1;
        json_decref(rec);
        if (n < 0)
            continue;
        MDB_val ik = {(size_t)n, buf};
        rc = mdb_put(txn, x->dbi, &ik, &k, MDB_NODUPDATA);
        if (rc && rc != MDB_KEYEXIST)
            break;
        added++;
    }
    mdb_cursor_close(cur);
    if (added)
        zs_info("store %s: new index %s@%s: %zu records indexed", self->dir, c->name, x->field,
                added);
    return rc == MDB_NOTFOUND || rc == MDB_KEYEXIST ? 0 : rc;
}

static int index_open(zs_store_t *self, MDB_txn *txn, const zs_coll_t *c, zs_index_t *x)
{
    char name[KEY_MAX + 1];
    snprintf(name, sizeof name, "%s@%s", c->name, x->field);
    int rc = mdb_dbi_open(txn, name, MDB_DUPSORT, &x->dbi);
    if (rc != MDB_NOTFOUND)
        return rc;
    rc = mdb_dbi_open(txn, name, MDB_DUPSORT | MDB_CREATE, &x->dbi);
    return rc ? rc : index_backfill(self, txn, c, x);
}

static int dbs_open(zs_store_t *self, unsigned schema_version)
{
    MDB_txn *txn;
    MDB_dbi meta;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc)
        return rc;
    rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &meta);
    if (rc == 0)
        rc = schema_check(self, txn, meta, schema_version);
    for (size_t i = 0; rc == 0 && i < self->ncolls; i++) {
        zs_coll_t *c = &self->colls[i];
        rc = mdb_dbi_open(txn, c->name, MDB_CREATE, &c->dbi);
        for (size_t j = 0; rc == 0 && j < c->nidx; j++)
            rc = index_open(self, txn, c, &c->idx[j]);
    }
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    return rc ? rc : kv_add(self, "meta", meta);
}

static int env_open(zs_store_t *self, size_t map_size)
{
    int rc = mdb_env_create(&self->env);
    if (rc)
        return rc;
    /* Room for every database we know of plus raw ones opened later. */
    size_t want = 1 + self->ncolls + self->nindexes + 64;
    MDB_dbi maxdbs = want > MIN_MAX_DBS ? (MDB_dbi)want : MIN_MAX_DBS;
    if ((rc = mdb_env_set_maxdbs(self->env, maxdbs))
        || (rc = mdb_env_set_maxreaders(self->env, MAX_READERS))
        || (rc = mdb_env_set_mapsize(self->env, map_size ? map_size : DEFAULT_MAP_SIZE))
        || (rc = mdb_env_open(self->env, self->dir, MDB_NOTLS, 0600)))
        return rc;
    /* Reader slots of crashed processes would otherwise pin old pages forever. */
    int dead = 0;
    rc = mdb_reader_check(self->env, &dead);
    if (dead > 0)
        zs_warn("store %s: cleared %d stale reader slots", self->dir, dead);
    return rc;
}

zs_store_t *zs_store_open(const char *dir, const zs_resource_t *const *resources,
                          unsigned schema_version, size_t map_size)
{
    zs_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup(dir ? dir : "");
    if (!self->dir || tables_build(self, resources) != 0) {
        zs_store_close(&self);
        return NULL;
    }
    int rc = mkdir_p(dir);
    if (rc == 0)
        rc = env_open(self, map_size);
    if (rc == 0)
        rc = dbs_open(self, schema_version);
    if (rc) {
        zs_errorf("store %s: cannot open: %s", self->dir, zs_store_strerror(rc));
        zs_store_close(&self);
    }
    return self;
}

void zs_store_close(zs_store_t **self_p)
{
    zs_store_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->env)
        mdb_env_close(self->env);
    for (size_t i = 0; i < self->ncolls; i++)
        free(self->colls[i].name);
    for (size_t i = 0; i < self->nindexes; i++)
        free(self->indexes[i].field);
    for (size_t i = 0; i < self->nkvs; i++)
        free(self->kvs[i].name);
    free(self->colls);
    free(self->indexes);
    free(self->kvs);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

MDB_env *zs_store_env(zs_store_t *self)
{
    return self->env;
}

const char *zs_store_strerror(int rc)
{
    if (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE)
        return mdb_strerror(rc);
    if (rc == 0)
        return "success";
    const char *s = rc > 0 ? strerrordesc_np(rc) : NULL;
    return s ? s : "unknown error";
}

int zs_store_begin(zs_store_t *self, MDB_txn *parent, bool write, MDB_txn **txn)
{
    return mdb_txn_begin(self->env, parent, write ? 0 : MDB_RDONLY, txn);
}

/* ---------------------------------------------------------------------------------------------
 * Records */

/* Reads and decodes record k. MDB_NOTFOUND when absent, MDB_CORRUPTED when undecodable. */
static int record_read(const zs_store_t *self, MDB_txn *txn, const zs_coll_t *c,
                       MDB_val *k, json_t **rec)
{
    MDB_val v;
    *rec = NULL;
    int rc = mdb_get(txn, c->dbi, k, &v);
    if (rc)
        return rc;
    char err[128];
    *rec = zs_unpack(v.mv_data, v.mv_size, &record_limits, err);
    if (*rec)
        return 0;
    zs_errorf("store %s: %s/%.*s: undecodable record: %s", self->dir, c->name,
              (int)k->mv_size, (const char *)k->mv_data, err);
    return MDB_CORRUPTED;
}

json_t *zs_store_get(zs_store_t *self, MDB_txn *txn, const char *collection, const char *uuid)
{
    const zs_coll_t *c = coll_get(self, collection);
    MDB_val k;
    json_t *rec;
    if (!c || uuid_val(uuid, &k) != 0)
        return NULL;
    int rc = record_read(self, txn, c, &k, &rec);
    if (rc && rc != MDB_NOTFOUND && rc != MDB_CORRUPTED)
        zs_errorf("store %s: get %s/%s: %s", self->dir, collection, uuid, zs_store_strerror(rc));
    return rec;
}

/* Moves record k's entry in index x from the value in `old` to the one in `rec` (either may
 * be NULL). Unchanged values cost nothing. */
static int index_move(MDB_txn *txn, const zs_index_t *x, MDB_val *k, const json_t *old,
                      const json_t *rec)
{
    unsigned char ob[ZS_STORE_KEY_SIZE], nb[ZS_STORE_KEY_SIZE];
    int on = old ? encode_key(x->type, json_object_get(old, x->field), ob, sizeof ob) : -1;
    int nn = rec ? encode_key(x->type, json_object_get(rec, x->field), nb, sizeof nb) : -1;
    if (on == nn && (on < 0 || memcmp(ob, nb, (size_t)on) == 0))
        return 0;
    int rc = 0;
    if (on >= 0) {
        MDB_val ik = {(size_t)on, ob};
        rc = mdb_del(txn, x->dbi, &ik, k);
        if (rc == MDB_NOTFOUND)     /* already missing: nothing to undo */
            rc = 0;
    }
    if (rc == 0 && nn >= 0) {
        MDB_val ik = {(size_t)nn, nb};
        rc = mdb_put(txn, x->dbi, &ik, k, MDB_NODUPDATA);
        if (rc == MDB_KEYEXIST)
            rc = 0;
    }
    return rc;
}

/* Refuses a record before anything is written, so that a refusal leaves the transaction
 * usable. */
static int record_check(const zs_store_t *self, const zs_coll_t *c, const char *uuid,
                        const json_t *rec)
{
    if (!json_is_object(rec))
        return EINVAL;
    for (size_t i = 0; i < c->nidx; i++) {
        unsigned char buf[ZS_STORE_KEY_SIZE];
        const zs_index_t *x = &c->idx[i];
        if (encode_key(x->type, json_object_get(rec, x->field), buf, sizeof buf) == -2) {
            zs_errorf("store %s: put %s/%s: indexed field %s has the wrong JSON type",
                      self->dir, c->name, uuid, x->field);
            return EINVAL;
        }
    }
    return 0;
}

int zs_store_put(zs_store_t *self, MDB_txn *txn, const char *collection, const char *uuid,
                 const json_t *rec)
{
    const zs_coll_t *c = coll_get(self, collection);
    MDB_val k;
    if (!c || uuid_val(uuid, &k) != 0)
        return EINVAL;
    int rc = record_check(self, c, uuid, rec);
    if (rc)
        return rc;
    json_t *old;
    rc = record_read(self, txn, c, &k, &old);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    rc = 0;
    for (size_t i = 0; rc == 0 && i < c->nidx; i++)
        rc = index_move(txn, &c->idx[i], &k, old, rec);
    json_decref(old);
    if (rc)
        return rc;
    char *buf;
    size_t len;
    if (zs_pack(rec, &buf, &len) != 0)
        return ENOMEM;
    MDB_val v = {len, buf};
    rc = mdb_put(txn, c->dbi, &k, &v, 0);
    free(buf);
    return rc;
}

int zs_store_del(zs_store_t *self, MDB_txn *txn, const char *collection, const char *uuid)
{
    const zs_coll_t *c = coll_get(self, collection);
    MDB_val k;
    if (!c || uuid_val(uuid, &k) != 0)
        return EINVAL;
    json_t *old;
    int rc = record_read(self, txn, c, &k, &old);
    if (rc)
        return rc;
    for (size_t i = 0; rc == 0 && i < c->nidx; i++)
        rc = index_move(txn, &c->idx[i], &k, old, NULL);
    json_decref(old);
    return rc ? rc : mdb_del(txn, c->dbi, &k, NULL);
}

int zs_store_scan(zs_store_t *self, MDB_txn *txn, const char *collection,
                  zs_store_each_fn *fn, void *arg)
{
    const zs_coll_t *c = coll_get(self, collection);
    if (!c)
        return EINVAL;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, c->dbi, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char err[128], uuid[KEY_MAX + 1];
        json_t *rec = zs_unpack(v.mv_data, v.mv_size, &record_limits, err);
        if (!rec) {
            zs_errorf("store %s: %s/%s: undecodable record: %s", self->dir, c->name,
                      uuid_str(&k, uuid), err);
            rc = MDB_CORRUPTED;
            break;
        }
        int r = fn(arg, uuid_str(&k, uuid), rec);
        json_decref(rec);
        if (r) {
            rc = r;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

size_t zs_store_count(zs_store_t *self, MDB_txn *txn, const char *collection)
{
    const zs_coll_t *c = coll_get(self, collection);
    MDB_stat st;
    return c && mdb_stat(txn, c->dbi, &st) == 0 ? st.ms_entries : 0;
}

/* ---------------------------------------------------------------------------------------------
 * Index walks */

bool zs_store_indexed(zs_store_t *self, const char *collection, const char *field)
{
    return index_find(coll_find(self, collection), field) != NULL;
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
    const zs_index_t *x = index_find(coll_get(self, collection), field);
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
        int r = fn(arg, uuid_str(&v, uuid));
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
    const zs_index_t *x = index_find(coll_get(self, collection), field);
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
 * Raw key/value databases */

int zs_store_kv_open(zs_store_t *self, const char *db)
{
    MDB_dbi dbi;
    if (!db || !*db || strlen(db) > KEY_MAX || strchr(db, '@') || coll_find(self, db))
        return EINVAL;
    if (kv_find(self, db, &dbi))
        return 0;
    MDB_txn *txn;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc)
        return rc;
    rc = mdb_dbi_open(txn, db, MDB_CREATE, &dbi);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    return rc ? rc : kv_add(self, db, dbi);
}

int zs_store_kv_get(zs_store_t *self, MDB_txn *txn, const char *db, const void *key, size_t klen,
                    MDB_val *val)
{
    MDB_dbi dbi;
    int rc = kv_get_dbi(self, db, &dbi);
    MDB_val k = {klen, (void *)key};
    return rc ? rc : mdb_get(txn, dbi, &k, val);
}

int zs_store_kv_put(zs_store_t *self, MDB_txn *txn, const char *db, const void *key, size_t klen,
                    const void *val, size_t vlen)
{
    MDB_dbi dbi;
    int rc = kv_get_dbi(self, db, &dbi);
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    return rc ? rc : mdb_put(txn, dbi, &k, &v, 0);
}

int zs_store_kv_del(zs_store_t *self, MDB_txn *txn, const char *db, const void *key, size_t klen)
{
    MDB_dbi dbi;
    int rc = kv_get_dbi(self, db, &dbi);
    MDB_val k = {klen, (void *)key};
    return rc ? rc : mdb_del(txn, dbi, &k, NULL);
}

int zs_store_kv_walk(zs_store_t *self, MDB_txn *txn, const char *db, const void *from, size_t flen,
                     zs_store_kv_fn *fn, void *arg)
{
    MDB_dbi dbi;
    MDB_cursor *cur;
    int rc = kv_get_dbi(self, db, &dbi);
    if (rc || (rc = mdb_cursor_open(txn, dbi, &cur)))
        return rc;
    MDB_val k = {flen, (void *)from}, v;
    rc = from && flen ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)
                      : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int r = fn(arg, &k, &v);
        if (r) {
            rc = r;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---------------------------------------------------------------------------------------------
 * Backup */

int zs_store_backup(zs_store_t *self, const char *dest)
{
    int rc = mkdir_p(dest);
    return rc ? rc : mdb_env_copy2(self->env, dest, MDB_CP_COMPACT);
}

/* ---------------------------------------------------------------------------------------------
 * Equality lookups */

typedef struct {
    json_t *uuids;
    size_t max;
} find_t;

static int find_collect(void *arg, const char *uuid)
{
    find_t *f = arg;
    if (json_array_size(f->uuids) >= f->max)
        return 1;
    json_array_append_new(f->uuids, json_string(uuid));
    return 0;
}

json_t *zs_store_find(zs_store_t *self, MDB_txn *txn, const char *collection, const char *field,
                      const json_t *value, size_t max)
{
    find_t f = {json_array(), max};
    const zs_coll_t *c = coll_find(self, collection);
    const zs_index_t *x = c ? index_find(c, field) : NULL;
    unsigned char key[ZS_STORE_KEY_SIZE];
    int len = x ? zs_store_index_key(x->type, value, key, sizeof key) : -1;
    if (len > 0)
        zs_store_index_walk(self, txn, collection, field, key, (size_t)len, true, key, (size_t)len,
                            true, NULL, 0, find_collect, &f);
    return f.uuids;
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
    const zs_coll_t *c = coll_find(self, collection);
    const zs_index_t *x = c ? index_find(c, field) : NULL;
    json_t *v = json_integer(upto);
    unsigned char key[ZS_STORE_KEY_SIZE];
    int len = x ? zs_store_index_key(x->type, v, key, sizeof key) : -1;
    json_decref(v);
    if (len > 0)
        zs_store_index_walk(self, txn, collection, field, NULL, 0, false, key, (size_t)len, true,
                            NULL, 0, find_collect, &f);
    return f.uuids;
}
