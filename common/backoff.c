/* backoff.c — see backoff.h. */
#include "backoff.h"
#include <sodium.h>

int64_t zs_backoff_ms(int64_t base, int64_t cap, int attempt, int low_pct, int high_pct)
{
    int64_t d = base < 1 ? 1 : base;
    if (cap < d)
        cap = d;
    for (int i = 1; i < attempt && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    int64_t low = d * low_pct / 100, high = d * high_pct / 100;
    if (high <= low)
        return low;
    uint64_t r;
    randombytes_buf(&r, sizeof r);
    return low + (int64_t)(r % (uint64_t)(high - low + 1));
}
