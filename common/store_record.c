/* store_record.c — records of the store (store.h): get, put and delete, keeping every index
 * of the collection in the same transaction; scan and count. */
#include "store_internal.h"
#include "log.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Records were checked when written; these limits only keep a damaged file from exhausting
 * memory or the stack, so they are far looser than the bus defaults. */
const zs_pack_limits_t zst_record_limits = {
    .max_bytes = SIZE_MAX, .max_depth = 128, .max_elements = SIZE_MAX, .max_string = SIZE_MAX,
};

/* The uuid as an LMDB key/value; EINVAL when LMDB could not store it. */
int zst_uuid_val(const char *uuid, MDB_val *v)
{
    size_t n = uuid ? strlen(uuid) : 0;
    if (n == 0 || n > KEY_MAX)
        return EINVAL;
    v->mv_size = n;
    v->mv_data = (void *)uuid;
    return 0;
}

/* Copies an LMDB uuid value into a C string (buf holds KEY_MAX + 1 bytes). */
const char *zst_uuid_str(const MDB_val *v, char *buf)
{
    size_t n = v->mv_size > KEY_MAX ? KEY_MAX : v->mv_size;
    memcpy(buf, v->mv_data, n);
    buf[n] = '\0';
    return buf;
}

/* The code of a record zs_unpack refused with `error`: ENOMEM when memory ran out (the record
 * may be sound), else MDB_CORRUPTED. */
static int undecodable(const json_t *error)
{
    return strcmp(zs_error_code(error), ZS_SYS_INTERNAL) == 0 ? ENOMEM : MDB_CORRUPTED;
}

/* Reads and decodes record k. MDB_NOTFOUND when absent, MDB_CORRUPTED when undecodable,
 * ENOMEM when memory ran out. */
static int record_read(const zs_store_t *self, MDB_txn *txn, const zs_coll_t *c,
                       MDB_val *k, json_t **rec)
{
    MDB_val v;
    *rec = NULL;
    int rc = mdb_get(txn, c->dbi, k, &v);
    if (rc)
        return rc;
    json_t *error = NULL;
    *rec = zs_unpack(v.mv_data, v.mv_size, &zst_record_limits, &error);
    if (*rec)
        return 0;
    zs_errorf("store %s: %s/%.*s: undecodable record: %s", self->dir, c->name,
              (int)k->mv_size, (const char *)k->mv_data, zs_error_details(error));
    rc = undecodable(error);
    json_decref(error);
    return rc;
}

json_t *zs_store_get(zs_store_t *self, MDB_txn *txn, const char *collection, const char *uuid)
{
    const zs_coll_t *c = zst_coll_get(self, collection);
    MDB_val k;
    json_t *rec;
    if (!c || zst_uuid_val(uuid, &k) != 0)
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
    int on = old ? zst_encode_key(x->type, json_object_get(old, x->field), ob, sizeof ob) : -1;
    int nn = rec ? zst_encode_key(x->type, json_object_get(rec, x->field), nb, sizeof nb) : -1;
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
        if (zst_encode_key(x->type, json_object_get(rec, x->field), buf, sizeof buf) == -2) {
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
    const zs_coll_t *c = zst_coll_get(self, collection);
    MDB_val k;
    if (!c || zst_uuid_val(uuid, &k) != 0)
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
    const char *buf;
    size_t len;
    if (zs_pack_borrowed(rec, &buf, &len) != 0)
        return ENOMEM;
    MDB_val v = {len, (void *)buf};   /* mdb_put copies it */
    return mdb_put(txn, c->dbi, &k, &v, 0);
}

int zs_store_del(zs_store_t *self, MDB_txn *txn, const char *collection, const char *uuid)
{
    const zs_coll_t *c = zst_coll_get(self, collection);
    MDB_val k;
    if (!c || zst_uuid_val(uuid, &k) != 0)
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

int zs_store_del_all(zs_store_t *self, MDB_txn *txn, const char *collection, const json_t *uuids)
{
    for (size_t i = 0; i < json_array_size(uuids); i++) {
        int rc = zs_store_del(self, txn, collection, json_string_value(json_array_get(uuids, i)));
        if (rc != 0 && rc != MDB_NOTFOUND)
            return rc;
    }
    return 0;
}

int zs_store_scan(zs_store_t *self, MDB_txn *txn, const char *collection,
                  zs_store_each_fn *fn, void *arg)
{
    const zs_coll_t *c = zst_coll_get(self, collection);
    if (!c)
        return EINVAL;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, c->dbi, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char uuid[KEY_MAX + 1];
        json_t *error = NULL, *rec = zs_unpack(v.mv_data, v.mv_size, &zst_record_limits, &error);
        if (!rec) {
            zs_errorf("store %s: %s/%s: undecodable record: %s", self->dir, c->name,
                      zst_uuid_str(&k, uuid), zs_error_details(error));
            rc = undecodable(error);
            json_decref(error);
            break;
        }
        int r = fn(arg, zst_uuid_str(&k, uuid), rec);
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
    const zs_coll_t *c = zst_coll_get(self, collection);
    MDB_stat st;
    return c && mdb_stat(txn, c->dbi, &st) == 0 ? st.ms_entries : 0;
}
