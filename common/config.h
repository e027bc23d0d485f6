/* config.h — the suite's configuration: one INI file plus ZS_* environment overrides.
 *
 * A key is "<section>.<name>" (`[gateway]` + `listen = ...` gives "gateway.listen"); keys
 * outside a section have no prefix. The environment wins: key "gateway.listen" is overridden
 * by ZS_GATEWAY_LISTEN (upper case, '.' and '-' become '_'). Defaults make a working
 * single-host stack (see zs_config_defaults in config.c and deploy/zs.conf.sample).
 *
 * Load once at process start, before any thread exists; afterwards the getters may be called
 * from any thread (the table is read-only by then).
 */
#ifndef ZS_CONFIG_H
#define ZS_CONFIG_H
#include <stdbool.h>
#include <stdint.h>

/* Reads `path` (NULL: $ZS_CONFIG, else no file). Returns 0, or -1 with a message on stderr
 * when the file exists but cannot be parsed. */
int zs_config_load(const char *path);

/* Sets a value (used by command-line flags); overrides the file, not the environment. */
void zs_config_set(const char *key, const char *value);

/* The value of `key`, or `fallback` when unset. Borrowed; valid until exit. */
const char *zs_config_get(const char *key, const char *fallback);
int64_t zs_config_int(const char *key, int64_t fallback);
bool zs_config_bool(const char *key, bool fallback);

/* The data directory (data.dir, default "./var"). */
const char *zs_config_data_dir(void);

/* The bus endpoint list of a service ("tags", "core", "broker", ...): comma separated.
 * Default: ipc://<data dir>/bus/<service>.ipc. Borrowed. */
const char *zs_config_endpoints(const char *service);

#endif
