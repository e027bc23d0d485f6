/* store_internal.h — INTERNAL to the store module: NOT a public header.
 *
 * What the pieces of the store share: the store object with its tables of collections,
 * indexes and raw databases, and the helpers one piece calls in another. Only store.c,
 * store_record.c, store_index.c and store_kv.c include it; everyone else uses store.h.
 * The pieces:
 *   store.c         the environment: opening (tables, schema version, databases, new indexes
 *                   filled), closing, transactions, backup; the table lookups
 *   store_record.c  records: get, put and delete with their index entries, scan, count
 *   store_index.c   index keys (the order-preserving encoding), index walks, equality and
 *                   "due" lookups
 *   store_kv.c      raw key/value databases
 */
#ifndef ZS_STORE_INTERNAL_H
#define ZS_STORE_INTERNAL_H

#include "store.h"
#include "pack.h"

#define KEY_MAX          511        /* LMDB's default key (and dup value) limit */

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
 * memory or the stack, so they are far looser than the bus defaults (store_record.c). */
extern const zs_pack_limits_t zst_record_limits;

/* ---- the tables (store.c) ---- */

/* The collection named `name`, or NULL. */
const zs_coll_t *zst_coll_find(const zs_store_t *self, const char *name);
/* Same as zst_coll_find, but says so in the log: an unknown collection is a programming
 * error. */
const zs_coll_t *zst_coll_get(const zs_store_t *self, const char *name);
/* The index of `field` in collection c (may be NULL), or NULL. */
const zs_index_t *zst_index_find(const zs_coll_t *c, const char *field);

/* ---- records (store_record.c) ---- */

/* The uuid as an LMDB key/value; EINVAL when LMDB could not store it. */
int zst_uuid_val(const char *uuid, MDB_val *v);
/* Copies an LMDB uuid value into a C string (buf holds KEY_MAX + 1 bytes). */
const char *zst_uuid_str(const MDB_val *v, char *buf);

/* ---- index keys (store_index.c) ---- */

/* The key of an index ENTRY for value v of a field of `type` into buf: its length, -1 when
 * the value has no entry (null, absent, JSON, a leading NUL), -2 when it has the wrong JSON
 * type. A string longer than ZS_STORE_MAX_INDEXED_STRING is cut to that (see store.h). */
int zst_encode_key(zs_ftype_t type, const json_t *v, unsigned char *buf, size_t size);
/* Values of different types that encode alike may share one index: their common class. */
int zst_type_class(zs_ftype_t t);

/* ---- raw databases (store_kv.c) ---- */

/* Adds raw database `name` (handle dbi) to the store's table. Returns 0 or ENOMEM. */
int zst_kv_add(zs_store_t *self, const char *name, MDB_dbi dbi);

#endif
