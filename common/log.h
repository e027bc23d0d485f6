/* log.h — structured one-line logs on stderr:
 *   2026-11-25T17:03:40.123Z INFO zs-tags req=<id> message
 * Any thread may log; each line is written with one write(2) so lines never interleave.
 * The level threshold comes from ZS_LOG_LEVEL (debug|info|warn|error, default info). */
#ifndef ZS_LOG_H
#define ZS_LOG_H

enum zs_log_level { ZS_DEBUG, ZS_INFO, ZS_WARN, ZS_ERROR };

/* Names the process in every line; call once at start (the string is borrowed). */
void zs_log_init(const char *process);
/* True when lines of `level` are written (to skip building expensive messages). */
int zs_log_enabled(enum zs_log_level level);
/* Writes a line; `req` is the request/job id or NULL. */
void zs_log(enum zs_log_level level, const char *req, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define zs_debug(...) zs_log(ZS_DEBUG, NULL, __VA_ARGS__)
#define zs_info(...)  zs_log(ZS_INFO, NULL, __VA_ARGS__)
#define zs_warn(...)  zs_log(ZS_WARN, NULL, __VA_ARGS__)
#define zs_errorf(...) zs_log(ZS_ERROR, NULL, __VA_ARGS__)

#endif
