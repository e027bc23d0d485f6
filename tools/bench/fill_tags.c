/* fill_tags — writes N system tag records straight into a STOPPED svc-tags store, for the
 * query bench (tools/bench/bench_query.sh).
 *
 *   zs-bench-fill-tags <data dir> <count> <csv file>
 *
 * Opens <data dir>/tags through common/store.h with svc-tags' own resource descriptors (so
 * every index the service keeps is filled in the same transaction as its record) and writes
 * `count` tags in transactions of BATCH records. Tag i is "bench::tag-<i>" on resource
 * "<resource uuid of i / TAGS_PER_RESOURCE>", so q=tag=<one> matches one record and
 * q=resourceUuid=<one> matches BENCH_TAGS_PER_RESOURCE (bench_rows.h). The same rows go to <csv file>
 * (uuid,resourceUuid,resourceType,tag,type,createDate) for the SQLite reference.
 * Never run it against the store of a running zs-tags: LMDB allows one writer process at a
 * time only by convention here, and the service assumes it is the only one.
 */
#include "api.h"
#include "bench_rows.h"
#include "store.h"
#include "tag_identity.h"
#include "uuid.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 100000

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s <data dir> <count> <csv file>\n", argv[0]);
        return 2;
    }
    char *end;
    unsigned long count = strtoul(argv[2], &end, 10);
    if (*end || count == 0 || count > 100000000UL) {
        fprintf(stderr, "count must be 1..100000000\n");
        return 2;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tags", argv[1]);
    zs_store_t *store = zs_store_open(dir, zs_resources_tags, BENCH_TAGS_SCHEMA, 0);
    FILE *csv = fopen(argv[3], "w");
    if (!store || !csv) {
        fprintf(stderr, "cannot open the store in %s or %s\n", dir, argv[3]);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long long base = (long long)time(NULL) * 1000 - (long long)count;
    int rc = 0;
    for (unsigned long i = 0; i < count && rc == 0;) {
        MDB_txn *txn;
        if ((rc = zs_store_begin(store, NULL, true, &txn)) != 0)
            break;
        for (unsigned long n = 0; n < BATCH && i < count && rc == 0; n++, i++) {
            char uuid[ZS_UUID_LEN + 1], ruuid[33], tag[64];
            zs_uuid_new(uuid);
            bench_resource_uuid(i / BENCH_TAGS_PER_RESOURCE, ruuid);
            bench_tag(i, tag, sizeof tag);
            long long ms = base + (long long)i;
            json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:s}", "uuid", uuid,
                                    "resourceUuid", ruuid, "resourceType", "VmInstanceVO",
                                    "tag", tag, "type", "System", "inherent", 0,
                                    "createDate", (json_int_t)ms, "lastOpDate", (json_int_t)ms,
                                    "accountUuid", "bench");
            char identity[33];   /* what svc-tags' duplicate check looks up */
            zs_tag_identity("System", ruuid, tag, identity);
            json_object_set_new(rec, "identity", json_string(identity));
            rc = rec ? zs_store_put(store, txn, "tags", uuid, rec) : 12;
            json_decref(rec);
            fprintf(csv, "%s,%s,VmInstanceVO,%s,System,%lld\n", uuid, ruuid, tag, ms);
        }
        if (rc == 0 && i == count)   /* every tag has its identity: nothing to back-fill */
            rc = zs_store_kv_put(store, txn, "meta", ZS_TAG_IDENTITY_MARK,
                                 strlen(ZS_TAG_IDENTITY_MARK), "1", 1);
        if (rc == 0)
            rc = mdb_txn_commit(txn);
        else
            mdb_txn_abort(txn);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    zs_store_close(&store);
    if (fclose(csv) != 0 && rc == 0)
        rc = 5;
    if (rc != 0) {
        fprintf(stderr, "fill failed: %s\n", zs_store_strerror(rc));
        return 1;
    }
    fprintf(stderr, "filled %lu tags in %.1f s\n", count,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
