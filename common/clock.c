/* clock.c — see clock.h. Dates are rendered and read in UTC. */
#define _GNU_SOURCE
#include "clock.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t zs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t zs_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char *zs_date_format(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int h12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
    snprintf(out, size, "%s %d, %d %d:%02d:%02d %s", months[tm.tm_mon], tm.tm_mday,
             tm.tm_year + 1900, h12, tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
    return out;
}

char *zs_date_format_iso(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
    return out;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

bool zs_date_parse(const char *s, int64_t *ms)
{
    if (!s)
        return false;
    if (all_digits(s)) {
        if (strlen(s) > 15)
            return false;
        *ms = strtoll(s, NULL, 10);
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
    if (!end || *end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(s, "%b %d, %Y %I:%M:%S %p", &tm);
        if (!end || *end)
            return false;
    }
    *ms = (int64_t)timegm(&tm) * 1000;
    return true;
}
