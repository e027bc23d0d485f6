/* probe_query — the query engine alone, in this process, on the store zs-bench-fill_tags
 * wrote: the same two questions the HTTP probe asks (q=resourceUuid=<one>, q=tag=<one>),
 * so the bench can tell the engine's share of the latency from the bus and HTTP's, and put
 * it beside SQLite answering in-process too.
 *
 *   zs-bench-probe_query <data dir> <count> <requests> <seconds>
 *
 * Each timed request is what the service does for a query: parse the parameters, begin a
 * read transaction, plan + run (records rendered), end the transaction. Every answer's size
 * is checked. Run it while no zs-tags writes the store. Prints "name: value unit" lines.
 */
#include "api.h"
#include "bench_rows.h"
#include "query.h"
#include "store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const zs_resource_t zs_res_system_tag;

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One question: returns the number of records in the answer, or -1. */
static long ask(zs_store_t *store, const char *cond, size_t *examined)
{
    json_t *params = json_pack("{s:[s]}", "q", cond), *error = NULL;
    zs_query_t *q = zs_query_parse(&zs_res_system_tag, params, &error);
    MDB_txn *txn = NULL;
    json_t *reply = NULL;
    zs_query_stats_t stats = {0, ""};
    if (q && zs_store_begin(store, NULL, false, &txn) == 0) {
        reply = zs_query_run(q, store, txn, NULL, NULL, NULL, &stats, &error);
        mdb_txn_abort(txn);
    }
    long n = reply ? (long)json_array_size(json_object_get(reply, "inventories")) : -1;
    if (!reply)
        fprintf(stderr, "query %s failed: %s\n", cond,
                error ? json_string_value(json_object_get(error, "details")) : "?");
    *examined = stats.examined;
    json_decref(reply);
    json_decref(error);
    json_decref(params);
    zs_query_destroy(&q);
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s <data dir> <count> <requests> <seconds>\n", argv[0]);
        return 2;
    }
    unsigned long count = strtoul(argv[2], NULL, 10);
    long requests = strtol(argv[3], NULL, 10);
    double seconds = strtod(argv[4], NULL);
    if (count == 0 || requests <= 0 || requests > 10000000 || seconds <= 0) {
        fprintf(stderr, "bad count, requests or seconds\n");
        return 2;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tags", argv[1]);
    zs_store_t *store = zs_store_open(dir, zs_resources_tags, BENCH_TAGS_SCHEMA, 0);
    double *lat = malloc((size_t)requests * sizeof *lat);
    if (!store || !lat) {
        fprintf(stderr, "cannot open the store in %s\n", dir);
        return 1;
    }
    static const char *const fields[] = {"resourceUuid", "tag"};
    int rc = 0;
    for (int f = 0; f < 2 && rc == 0; f++) {
        unsigned seed = 42;
        long n = 0;
        size_t max_examined = 0;
        long expect = f == 0 ? BENCH_TAGS_PER_RESOURCE : 1;
        double end = now_ms() + seconds * 1000;
        for (long k = -50; k < requests && rc == 0; k++) {   /* 50 warm-up requests */
            unsigned long i = (unsigned long)rand_r(&seed) % count;
            char value[64], cond[96];
            if (f == 0)
                bench_resource_uuid(i / BENCH_TAGS_PER_RESOURCE, value);
            else
                bench_tag(i, value, sizeof value);
            snprintf(cond, sizeof cond, "%s=%s", fields[f], value);
            size_t examined;
            double t = now_ms();
            long got = ask(store, cond, &examined);
            double dt = now_ms() - t;
            /* the last resource may hold fewer tags when count is not a multiple */
            if (got != expect && !(f == 0 && got > 0 && i / BENCH_TAGS_PER_RESOURCE
                                                         == (count - 1) / BENCH_TAGS_PER_RESOURCE)) {
                fprintf(stderr, "%s: %ld records, expected %ld\n", cond, got, expect);
                rc = 1;
            }
            if (k < 0)
                continue;
            lat[n++] = dt;
            if (examined > max_examined)
                max_examined = examined;
            if (now_ms() > end)
                break;
        }
        if (rc != 0 || n == 0)
            break;
        qsort(lat, (size_t)n, sizeof *lat, cmp_double);
        printf("query_engine_%s_p50: %.3f ms\n", fields[f], lat[n / 2]);
        printf("query_engine_%s_p99: %.3f ms\n", fields[f], lat[(size_t)((double)n * 0.99)]);
        printf("query_engine_%s_max_examined: %zu records\n", fields[f], max_examined);
    }
    free(lat);
    zs_store_close(&store);
    return rc;
}
