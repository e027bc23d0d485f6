/* store_kv.c — the store's raw key/value databases (store.h). */
#include "store_internal.h"
#include "log.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

int zst_kv_add(zs_store_t *self, const char *name, MDB_dbi dbi)
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

int zs_store_kv_open(zs_store_t *self, const char *db)
{
    MDB_dbi dbi;
    if (!db || !*db || strlen(db) > KEY_MAX || strchr(db, '@') || zst_coll_find(self, db))
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
    return rc ? rc : zst_kv_add(self, db, dbi);
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
