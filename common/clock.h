/* clock.h — time as the suite counts it (epoch milliseconds) and ZStack's date forms.
 * All functions are thread-safe (they use the _r libc variants). */
#ifndef ZS_CLOCK_H
#define ZS_CLOCK_H
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Wall clock, epoch milliseconds. */
int64_t zs_now_ms(void);
/* Monotonic clock in milliseconds, for deadlines inside one process. */
int64_t zs_mono_ms(void);

/* Writes ZStack's JSON date form of `ms` ("Jan 6, 2017 3:51:16 AM", UTC) into out.
 * Returns out. 32 bytes are always enough. */
char *zs_date_format(int64_t ms, char *out, size_t size);
/* Writes "yyyy-MM-dd HH:mm:ss" (UTC). Returns out. */
char *zs_date_format_iso(int64_t ms, char *out, size_t size);

/* Parses a timestamp given in a query condition: epoch ms digits, "yyyy-MM-dd HH:mm:ss",
 * or the JSON date form. Returns true and sets *ms on success. */
bool zs_date_parse(const char *s, int64_t *ms);

#endif
