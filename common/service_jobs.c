/* service_jobs.c — job memory: an async job (msg.job) is executed at most once per id. Its
 * reply is stored with the handler's writes, in the batch's transaction (JOBS_DB, id ->
 * outcome), and indexed by time (JOBS_TIME_DB, 8-byte big-endian ms + id) so ids older than
 * JOB_MEMORY_MS can be forgotten. */
#include "clock.h"
#include "pack.h"
#include "service_internal.h"
#include <errno.h>
#include <string.h>

#define JOB_MEMORY_MS (24LL * 3600 * 1000)   /* how long an executed job id is remembered */

json_t *service_remembered(zs_service_t *svc, MDB_txn *txn, const char *id)
{
    MDB_val v;
    if (zs_store_kv_get(svc->store, txn, JOBS_DB, id, strlen(id), &v) != 0)
        return NULL;
    return zs_unpack(v.mv_data, v.mv_size, NULL, NULL);
}

void service_remember(zs_service_t *svc, MDB_txn *txn, const zs_msg_t *reply)
{
    json_t *o = json_pack("{s:b, s:i, s:O, s:I}", "ok", reply->ok, "st", reply->status,
                          "body", reply->body, "at", (json_int_t)zs_now_ms());
    const char *buf;
    size_t len;
    if (zs_pack_borrowed(o, &buf, &len) == 0) {
        zs_store_kv_put(svc->store, txn, JOBS_DB, reply->id, strlen(reply->id), buf, len);
        unsigned char key[8 + 48];
        uint64_t at = (uint64_t)zs_now_ms();
        for (int i = 0; i < 8; i++)
            key[i] = (unsigned char)(at >> (56 - 8 * i));
        size_t idlen = strlen(reply->id);
        memcpy(key + 8, reply->id, idlen);
        zs_store_kv_put(svc->store, txn, JOBS_TIME_DB, key, 8 + idlen, "", 0);
    }
    json_decref(o);
}

/* Forgets executed job ids older than JOB_MEMORY_MS, at most 1000 a call. The walk only
 * collects keys; deleting happens after it (no deletes under an open cursor). */
typedef struct {
    uint64_t before;
    size_t n;
    unsigned char keys[1000][8 + 48];
    size_t lens[1000];
} forget_t;

static int collect_old(void *arg, const MDB_val *key, const MDB_val *val)
{
    (void)val;
    forget_t *f = arg;
    if (f->n == 1000 || key->mv_size < 8 || key->mv_size > 8 + 48)
        return 1;
    const unsigned char *k = key->mv_data;
    uint64_t at = 0;
    for (int i = 0; i < 8; i++)
        at = at << 8 | k[i];
    if (at >= f->before)
        return 1;
    memcpy(f->keys[f->n], k, key->mv_size);
    f->lens[f->n++] = key->mv_size;
    return 0;
}

int service_forget_old_jobs(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    forget_t *f = calloc(1, sizeof *f);
    if (!f)
        return ENOMEM;
    f->before = (uint64_t)(zs_now_ms() - JOB_MEMORY_MS);
    zs_store_kv_walk(svc->store, txn, JOBS_TIME_DB, NULL, 0, collect_old, f);
    for (size_t i = 0; i < f->n; i++) {
        zs_store_kv_del(svc->store, txn, JOBS_DB, f->keys[i] + 8, f->lens[i] - 8);
        zs_store_kv_del(svc->store, txn, JOBS_TIME_DB, f->keys[i], f->lens[i]);
    }
    free(f);
    return 0;
}
