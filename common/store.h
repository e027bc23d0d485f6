/* store.h — a service's LMDB environment: typed msgpack records keyed by uuid, with secondary
 * indexes kept in the same transaction, plus raw key/value databases.
 *
 * Layout inside one environment (var/<service>/):
 *   "meta"                  raw: "schema_version" (decimal text) and other raw keys
 *   "<collection>"          uuid -> msgpack map (the record)
 *   "<collection>@<field>"  MDB_DUPSORT: encoded field value -> uuid, for every indexed field
 *   any other name          raw key/value databases opened with zs_store_kv_open
 * Index keys are order-preserving encodings (see zs_store_index_key): strings as their bytes,
 * INT/TIME/EPOCH as 8 bytes big-endian with the sign bit flipped, REAL as its IEEE bits made
 * to sort as unsigned, BOOL as one byte 0/1, so range and prefix scans walk the index in
 * value order. Null or absent values have no index entry; JSON fields are never indexed.
 * An index that appears for a collection which already holds records (a field newly flagged
 * `indexed`) is filled from those records at open. Dropped indexes are left in the file.
 *
 * Threads: a zs_store_t may be shared by the threads of one process (the env is opened with
 * MDB_NOTLS). LMDB allows one write transaction at a time per environment: by convention only
 * the service's writer (the service loop, see service.h) begins write transactions. Read
 * transactions may be used by any thread, one thread at a time each.
 *
 * Errors (error.h's rule): functions returning int return 0 on success or an LMDB / errno
 * code, printable with zs_store_strerror (test `!= 0`: LMDB's codes are negative, errno's
 * positive). MDB_NOTFOUND means "no such record". Functions returning a record or a list
 * return NULL when they fail, after logging the code: the callers' store is broken or memory
 * ran out, nothing a caller could put better.
 */
#ifndef ZS_STORE_H
#define ZS_STORE_H
#include "resource.h"
#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct zs_store zs_store_t;

/* Buffer size for zs_store_index_key; the longest string value that is indexed. */
#define ZS_STORE_KEY_SIZE 512
#define ZS_STORE_MAX_INDEXED_STRING 500

/* Called for each record of a scan, in key order. `rec` is borrowed for the call only.
 * Return 0 to continue, anything else to stop (that value is returned by the scan).
 * The callback must not write the collection being walked (collect uuids, then write). */
typedef int (zs_store_each_fn)(void *arg, const char *uuid, json_t *rec);
/* Called for each uuid of an index walk; same return convention. */
typedef int (zs_store_uuid_fn)(void *arg, const char *uuid);

/* Opens or creates the environment in directory `dir` (created if missing) for the given
 * resources (NULL-terminated array, or NULL; several resources may share one collection and
 * then the union of their indexed fields is indexed), with the given map size in bytes
 * (0: 16 GiB). Stores `schema_version` in a new environment, refuses (NULL, message logged)
 * one whose stored version is newer, and records the new version over an older one (so the
 * older program then refuses the data). Runs mdb_reader_check. Returns NULL on failure
 * (logged). */
zs_store_t *zs_store_open(const char *dir, const zs_resource_t *const *resources,
                          unsigned schema_version, size_t map_size);
/* Closes the environment and NULLs *self_p. No transaction may be open. */
void zs_store_close(zs_store_t **self_p);

MDB_env *zs_store_env(zs_store_t *self);
const char *zs_store_strerror(int rc);

/* Begins a transaction. `parent` non-NULL makes a nested write transaction. Returns 0/code. */
int zs_store_begin(zs_store_t *self, MDB_txn *parent, bool write, MDB_txn **txn);

/* The record `uuid` of `collection` as a new JSON object, or NULL when absent (or unreadable,
 * logged). */
json_t *zs_store_get(zs_store_t *self, MDB_txn *txn, const char *collection, const char *uuid);

/* Inserts or replaces record `uuid`, updating every index of the collection (old values are
 * removed from the indexes, new ones added). `rec` is borrowed. Returns 0/code.
 * EINVAL (nothing written, the transaction stays usable) when `rec` is not an object, the
 * collection is unknown, or an indexed field holds a non-null value of the wrong JSON type
 * (such a record would silently be missing from index lookups). After any other error the
 * transaction must be aborted, as always with LMDB. */
int zs_store_put(zs_store_t *self, MDB_txn *txn, const char *collection, const char *uuid,
                 const json_t *rec);

/* Deletes record `uuid` and its index entries. Returns 0, MDB_NOTFOUND, or a code. */
int zs_store_del(zs_store_t *self, MDB_txn *txn, const char *collection, const char *uuid);

/* Deletes every record whose uuid is a string of the array `uuids` (borrowed; NULL or empty
 * deletes nothing); uuids already gone are skipped. Returns 0 or the first other code, after
 * which the transaction must be aborted. */
int zs_store_del_all(zs_store_t *self, MDB_txn *txn, const char *collection, const json_t *uuids);

/* Walks every record of the collection in uuid order. Returns 0, the callback's non-zero
 * value, or an LMDB code. */
int zs_store_scan(zs_store_t *self, MDB_txn *txn, const char *collection,
                  zs_store_each_fn *fn, void *arg);

/* Number of records in the collection (O(1), from LMDB's statistics); 0 for an unknown
 * collection. */
size_t zs_store_count(zs_store_t *self, MDB_txn *txn, const char *collection);

/* True when `field` of `collection` has an index. */
bool zs_store_indexed(zs_store_t *self, const char *collection, const char *field);

/* Encodes `value` (a JSON value of the field's type) as an index key into buf (size >=
 * ZS_STORE_KEY_SIZE). Returns the key length, or -1 when the value is null, does not fit the
 * type (REAL also takes integers), or is not indexable:
 *  - a string of ZS_STORE_MAX_INDEXED_STRING bytes or more, or starting with a NUL byte:
 *    a query on such a value must scan. (Records whose string is longer than that ARE in
 *    the index, under their first ZS_STORE_MAX_INDEXED_STRING bytes, so range and prefix
 *    walks with shorter bounds find them; callers re-check the whole value. Strings that
 *    start with a NUL byte have no entry.)
 *  - "" is encoded as the single byte 0 (LMDB keys cannot be empty); it sorts first.
 *  - JSON values.
 * So a non-empty string's key is its bytes, and a LIKE 'abc%' prefix walk may pass the raw
 * bytes "abc" (prefix_len 0 walks the whole index, "" included). */
int zs_store_index_key(zs_ftype_t type, const json_t *value, unsigned char *buf, size_t size);

/* Walks the uuids whose indexed `field` lies between the encoded keys lo and hi, in key
 * order and, under one key, in uuid order.
 * lo NULL: from the start; hi NULL: to the end; `hi_inclusive`/`lo_inclusive` as named.
 * An equality lookup is lo == hi, both inclusive. `prefix` non-NULL (normally with lo/hi
 * NULL; all given bounds apply) walks every key starting with those prefix_len bytes
 * (prefix LIKE). Returns 0, the callback's value, or a code (EINVAL: no such index). The
 * callback must not write the collection being walked. */
int zs_store_index_walk(zs_store_t *self, MDB_txn *txn, const char *collection, const char *field,
                        const unsigned char *lo, size_t lo_len, bool lo_inclusive,
                        const unsigned char *hi, size_t hi_len, bool hi_inclusive,
                        const unsigned char *prefix, size_t prefix_len,
                        zs_store_uuid_fn *fn, void *arg);

/* Number of uuids under exactly the encoded key (O(1): mdb_cursor_count). */
size_t zs_store_index_count(zs_store_t *self, MDB_txn *txn, const char *collection,
                            const char *field, const unsigned char *key, size_t len);

/* Raw key/value databases. Each must be opened once with zs_store_kv_open right after
 * zs_store_open, before the store is shared and while no transaction is open: LMDB only lets
 * transactions begun after a database handle was committed use it, so handles are not
 * opened lazily. "meta" is always open. The other functions return EINVAL (and log) for a
 * database that was not opened. zs_store_kv_get sets *val to memory owned by LMDB, valid
 * until the transaction ends. */
/* Opens (creating it if needed, in its own write transaction) raw database `db`. The name
 * may not be a collection's nor contain '@'. Returns 0 (also when already open)/code. */
int zs_store_kv_open(zs_store_t *self, const char *db);
int zs_store_kv_get(zs_store_t *self, MDB_txn *txn, const char *db, const void *key, size_t klen,
                    MDB_val *val);
int zs_store_kv_put(zs_store_t *self, MDB_txn *txn, const char *db, const void *key, size_t klen,
                    const void *val, size_t vlen);
int zs_store_kv_del(zs_store_t *self, MDB_txn *txn, const char *db, const void *key, size_t klen);
/* Walks a raw database in key order from `from` (NULL: the start). fn returns 0 to go on. */
typedef int (zs_store_kv_fn)(void *arg, const MDB_val *key, const MDB_val *val);
int zs_store_kv_walk(zs_store_t *self, MDB_txn *txn, const char *db, const void *from, size_t flen,
                     zs_store_kv_fn *fn, void *arg);

/* Writes a consistent hot copy of the environment into directory `dest` (created if
 * missing; it must not already hold a data.mdb: EEXIST) with mdb_env_copy2 and compaction.
 * Returns 0/code. Any thread. */
int zs_store_backup(zs_store_t *self, const char *dest);

/* Equality lookups over an index. `value` is a JSON value of the field's type (borrowed).
 * zs_store_find returns a new array of at most `max` uuids (empty when none, or when the
 * value is not indexable), or NULL when the walk failed (logged); zs_store_find_one returns
 * the first matching record (new reference) or NULL. */
json_t *zs_store_find(zs_store_t *self, MDB_txn *txn, const char *collection, const char *field,
                      const json_t *value, size_t max);
json_t *zs_store_find_one(zs_store_t *self, MDB_txn *txn, const char *collection,
                          const char *field, const json_t *value);
/* What is due: a new array of at most `max` uuids whose indexed INT/TIME/EPOCH `field` is
 * <= `upto` (epoch ms for dates), in field order (NULL when the walk failed, logged). Records
 * without the field are not listed.
 * For the expiry and retry sweeps of the services. */
json_t *zs_store_find_upto(zs_store_t *self, MDB_txn *txn, const char *collection,
                           const char *field, int64_t upto, size_t max);

#endif
