/* log.c — see log.h. */
#include "log.h"
#include "clock.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *process_name = "zs";
static int threshold = -1;

void zs_log_init(const char *process)
{
    process_name = process;
}

int zs_log_enabled(enum zs_log_level level)
{
    if (threshold < 0) {
        const char *l = getenv("ZS_LOG_LEVEL");
        threshold = !l ? ZS_INFO
                  : strcmp(l, "debug") == 0 ? ZS_DEBUG
                  : strcmp(l, "warn") == 0 ? ZS_WARN
                  : strcmp(l, "error") == 0 ? ZS_ERROR : ZS_INFO;
    }
    return (int)level >= threshold;
}

void zs_log(enum zs_log_level level, const char *req, const char *fmt, ...)
{
    if (!zs_log_enabled(level))
        return;
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    char line[4096];
    int64_t ms = zs_now_ms();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03dZ %s %s req=%s ", (int)(ms % 1000),
                  names[level], process_name, req ? req : "-");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n = m < 0 ? n : n + m;
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(2, line, (size_t)n);
    (void)w;
}
