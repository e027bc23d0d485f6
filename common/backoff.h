/* backoff.h — how long to wait before trying again: the delay doubles with each failure up
 * to a cap, and is drawn at random around that value so that the retries of a burst do not
 * all come back at the same moment. Used by the broker (job re-dispatch, webhook attempts)
 * and svc-gc (failed GC jobs).
 *
 * Pure functions of their arguments and the system's random source: any thread.
 */
#ifndef ZS_BACKOFF_H
#define ZS_BACKOFF_H
#include <stdint.h>

/* The delay before attempt `attempt` + 1, in ms, with `attempt` >= 1 attempts made:
 * base × 2^(attempt-1), at most max(cap, base); then drawn uniformly between low_pct and
 * high_pct percent of that value (e.g. 50, 150: ±50 %; 50, 100: between half and all of
 * it). base < 1 counts as 1; attempt < 1 as 1. */
int64_t zs_backoff_ms(int64_t base, int64_t cap, int attempt, int low_pct, int high_pct);

#endif
