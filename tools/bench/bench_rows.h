/* bench_rows.h — the rows of the query bench, shared by the filler and the engine probe:
 * tag i is "bench::tag-<i>" on resource bench_resource_uuid(i / BENCH_TAGS_PER_RESOURCE). */
#ifndef ZS_BENCH_ROWS_H
#define ZS_BENCH_ROWS_H
#include <stdio.h>

#define BENCH_TAGS_PER_RESOURCE 4
#define BENCH_TAGS_SCHEMA 1     /* svc-tags' schema version (svc-tags/tags.c) */

/* A resource uuid that is a pure function of r, spread over the key space like a random one. */
static inline void bench_resource_uuid(unsigned long r, char out[33])
{
    unsigned long long a = (r + 1) * 0x9E3779B97F4A7C15ULL, b = a ^ (a >> 29) ^ (r << 17);
    snprintf(out, 33, "%016llx%016llx", a, b * 0xBF58476D1CE4E5B9ULL);
}

static inline void bench_tag(unsigned long i, char *out, size_t size)
{
    snprintf(out, size, "bench::tag-%lu", i);
}

#endif
