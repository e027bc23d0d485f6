/* zs-bench-webhook_latency — how long webhook deliveries took, read from the broker's store
 * (for tools/bench/bench_webhook.sh).
 *
 *   zs-bench-webhook_latency <broker store dir> [since epoch ms [receipts file]]
 *
 * For every delivery recorded Delivered whose createDate is at or after `since`: lastOpDate −
 * createDate, i.e. from the job's completion being written (the delivery record is made in
 * the completion's transaction) to the receiver's 2xx being recorded (its outcome written;
 * both dates in ms, from the broker's clock). Prints one line:
 *   "webhook completion->recorded: n N, p50 X ms, p99 Y ms, max Z ms; R after more than one attempt"
 * With a receipts file (lines "<job uuid> <epoch ms>", written by the receiver as each
 * delivery arrived: tools/bench/bare with ZS_BENCH_RECEIPTS), also the time from the
 * completion being written to the delivery's first arrival at the receiver, same clock:
 *   "webhook completion->received: n N, p50 X ms, p99 Y ms, max Z ms"
 * Exits 1 when the store cannot be opened or nothing was delivered. The broker may be running:
 * LMDB serves several processes; opening the store commits one empty write transaction (the
 * store's open, common/store.h), serialised with the broker's by LMDB's lock, and the scan
 * is a read transaction. */
#include "api.h"
#include "store.h"
#include <czmq.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BROKER_SCHEMA 1   /* broker/broker.c */

typedef struct {
    int64_t since;
    int64_t *ms;
    size_t n, cap;
    size_t retried;   /* delivered after more than one attempt */
    zhashx_t *arrived;   /* job uuid -> its first receipt, epoch ms (NULL without a file) */
    int64_t *rx;         /* completion -> receipt, for the records found in `arrived` */
    size_t nrx;
} took_t;

/* Reads "<job uuid> <epoch ms>" lines into a table of first arrivals: NULL when unreadable. */
static zhashx_t *read_receipts(const char *path)
{
    FILE *f = fopen(path, "r");
    zhashx_t *h = f ? zhashx_new() : NULL;
    char job[64];
    long long ms;
    while (h && fscanf(f, "%63s %lld", job, &ms) == 2)
        if (!zhashx_lookup(h, job))
            zhashx_insert(h, job, (void *)(intptr_t)ms);   /* epoch ms fit a pointer here */
    if (f)
        fclose(f);
    return h;
}

static int collect(void *arg, const char *uuid, json_t *rec)
{
    (void)uuid;
    took_t *t = arg;
    int64_t created = json_integer_value(json_object_get(rec, "createDate"));
    const char *status = json_string_value(json_object_get(rec, "status"));
    if (created < t->since || !status || strcmp(status, "Delivered") != 0)
        return 0;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 4096;
        int64_t *ms = realloc(t->ms, cap * sizeof *ms), *rx = ms ? realloc(t->rx, cap * sizeof *rx) : NULL;
        if (ms)
            t->ms = ms;
        if (rx)
            t->rx = rx;
        if (!ms || !rx)
            return ENOMEM;
        t->cap = cap;
    }
    const char *job = json_string_value(json_object_get(rec, "jobUuid"));
    intptr_t arrived = t->arrived && job ? (intptr_t)zhashx_lookup(t->arrived, job) : 0;
    if (arrived)
        t->rx[t->nrx++] = (int64_t)arrived - created;
    t->retried += json_integer_value(json_object_get(rec, "attempts")) > 1;
    t->ms[t->n++] = json_integer_value(json_object_get(rec, "lastOpDate")) - created;
    return 0;
}

static int ascending(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Prints "webhook completion-><what>: n N, p50 X ms, p99 Y ms, max Z ms" (no newline). */
static void print_spread(const char *what, int64_t *ms, size_t n)
{
    qsort(ms, n, sizeof *ms, ascending);
    printf("webhook completion->%s: n %zu, p50 %lld ms, p99 %lld ms, max %lld ms", what, n,
           (long long)ms[n / 2], (long long)ms[(size_t)((double)n * 0.99)], (long long)ms[n - 1]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s <broker store dir> [since epoch ms [receipts file]]\n", argv[0]);
        return 2;
    }
    took_t t = {.since = argc > 2 ? strtoll(argv[2], NULL, 10) : 0};
    if (argc > 3 && !(t.arrived = read_receipts(argv[3]))) {
        perror(argv[3]);
        return 1;
    }
    zs_store_t *store = zs_store_open(argv[1], zs_resources_broker, BROKER_SCHEMA, 0);
    MDB_txn *txn;
    if (!store || zs_store_begin(store, NULL, false, &txn) != 0) {
        fprintf(stderr, "cannot read the store in %s\n", argv[1]);
        zs_store_close(&store);
        return 1;
    }
    int rc = zs_store_scan(store, txn, "deliveries", collect, &t);
    mdb_txn_abort(txn);
    zs_store_close(&store);
    if (rc != 0 || t.n == 0) {
        fprintf(stderr, "no delivered webhook in %s (%s)\n", argv[1], rc ? zs_store_strerror(rc) : "none");
        free(t.ms);
        free(t.rx);
        zhashx_destroy(&t.arrived);
        return 1;
    }
    print_spread("recorded", t.ms, t.n);
    printf("; %zu after more than one attempt\n", t.retried);
    if (t.nrx) {
        print_spread("received", t.rx, t.nrx);
        printf("\n");
    }
    free(t.ms);
    free(t.rx);
    zhashx_destroy(&t.arrived);
    return 0;
}
