/* store.c — see store.h; the environment (store_internal.h lists the pieces). */
#define _GNU_SOURCE             /* strerrordesc_np: a thread-safe strerror */
#include "store_internal.h"
#include "log.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MAP_SIZE ((size_t)16 << 30)
#define MIN_MAX_DBS      128
#define MAX_READERS      256
#define SCHEMA_KEY       "schema_version"

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

const zs_coll_t *zst_coll_find(const zs_store_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->ncolls; i++)
        if (strcmp(self->colls[i].name, name) == 0)
            return &self->colls[i];
    return NULL;
}

/* Same as zst_coll_find, but says so in the log: an unknown collection is a programming error. */
const zs_coll_t *zst_coll_get(const zs_store_t *self, const char *name)
{
    const zs_coll_t *c = zst_coll_find(self, name);
    if (!c)
        zs_errorf("store %s: unknown collection \"%s\"", self->dir, name ? name : "(null)");
    return c;
}

const zs_index_t *zst_index_find(const zs_coll_t *c, const char *field)
{
    for (size_t i = 0; c && field && i < c->nidx; i++)
        if (strcmp(c->idx[i].field, field) == 0)
            return &c->idx[i];
    return NULL;
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
    const zs_index_t *old = zst_index_find(c, f->name);
    if (old) {
        if (zst_type_class(old->type) == zst_type_class(f->type))
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
 * union of the indexed fields of every resource stored in it. 0, ENOMEM, or -1 for a bad
 * descriptor (logged). */
static int tables_build(zs_store_t *self, const zs_resource_t *const *resources)
{
    size_t nres = 0, nfields = 0;
    for (; resources && resources[nres]; nres++)
        for (const zs_field_t *f = resources[nres]->fields; f && f->name; f++)
            nfields += f->indexed;
    self->colls = calloc(nres + 1, sizeof *self->colls);
    self->indexes = calloc(nfields + 1, sizeof *self->indexes);
    if (!self->colls || !self->indexes)
        return ENOMEM;
    for (size_t i = 0; i < nres; i++) {
        if (!coll_name_ok(self, resources[i]))
            return -1;
        if (zst_coll_find(self, resources[i]->collection))
            continue;
        zs_coll_t *c = &self->colls[self->ncolls++];
        c->name = strdup(resources[i]->collection);
        c->idx = self->indexes + self->nindexes;
        if (!c->name)
            return ENOMEM;
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
        json_t *rec = zs_unpack(v.mv_data, v.mv_size, &zst_record_limits, NULL);
        unsigned char buf[ZS_STORE_KEY_SIZE];
        int n = rec ? zst_encode_key(x->type, json_object_get(rec, x->field), buf, sizeof buf) : -1;
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
    return rc ? rc : zst_kv_add(self, "meta", meta);
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
    if (!self || !(self->dir = strdup(dir ? dir : ""))) {
        zs_errorf("store %s: cannot open: out of memory", dir ? dir : "");
        free(self);
        return NULL;
    }
    int rc = tables_build(self, resources);
    if (rc == -1) {   /* said which descriptor is wrong */
        zs_store_close(&self);
        return NULL;
    }
    if (rc == 0)
        rc = mkdir_p(dir);
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
 * Backup */

int zs_store_backup(zs_store_t *self, const char *dest)
{
    int rc = mkdir_p(dest);
    return rc ? rc : mdb_env_copy2(self->env, dest, MDB_CP_COMPACT);
}
