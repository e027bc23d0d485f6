/* config.h — the suite's configuration: one INI file, ZS_* environment variables and
 * command-line flags.
 *
 * A key is "<section>.<name>" (`[gateway]` + `listen = ...` gives "gateway.listen"); keys
 * outside a section have no prefix. Precedence, highest first:
 *   1. command-line flags (zs_config_set, from zs_node_init),
 *   2. the environment: key "gateway.listen" is ZS_GATEWAY_LISTEN (upper case, '.' and '-'
 *      become '_'),
 *   3. the configuration file (--config FILE, else $ZS_CONFIG, else none),
 *   4. defaults (zs_config_default, and the fallback argument of the getters).
 * File syntax: `[section]`, `key = value`; a comment starts with ';' or '#' at the start of a
 * line or after whitespace (so `tcp://h:1 ; the broker` is `tcp://h:1`, `a#b` stays `a#b`).
 * Lines are at most 1023 bytes.
 *
 * Load once at process start, before any thread exists; afterwards the getters may be called
 * from any thread (the tables are read-only by then). A layer holds any number of keys.
 * Running out of memory while setting or loading ends the process with a message (it only
 * happens at start).
 */
#ifndef ZS_CONFIG_H
#define ZS_CONFIG_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads `path` (NULL: $ZS_CONFIG, else no file) into the file layer. Returns 0, or -1 with a
 * message on stderr when the file cannot be opened or parsed. */
int zs_config_load(const char *path);

/* Sets a value of the flag layer (command-line flags): it wins over everything. */
void zs_config_set(const char *key, const char *value);
/* Sets a value of the default layer: anything else wins over it. */
void zs_config_default(const char *key, const char *value);
/* Forgets every layer (tests only; no thread may be reading). */
void zs_config_reset(void);

/* The value of `key`, or `fallback` when unset. Borrowed; valid until exit. */
const char *zs_config_get(const char *key, const char *fallback);
/* A whole decimal integer; `fallback` when unset or empty. A value that is not one (text,
 * trailing characters, out of the int64 range) is a configuration error: the message names
 * the key and the value on stderr and the process exits with status 2, since running on a
 * default the operator did not ask for would hide the mistake. Services read their integer
 * settings at start, so a malformed one stops them there. */
int64_t zs_config_int(const char *key, int64_t fallback);
bool zs_config_bool(const char *key, bool fallback);

/* The data directory (data.dir, default "./var"). */
const char *zs_config_data_dir(void);

/* The bus endpoint list of a service ("tags", "core", "broker", ...): comma separated.
 * Default: ipc://<data dir>/bus/<service>.ipc, made on first use into a list of its own (the
 * configuration tables are not written after load); any thread. Borrowed; valid until exit
 * (or zs_config_reset). */
const char *zs_config_endpoints(const char *service);

/* Checks that bus.<service> of every name in `stateful` (NULL-terminated) names endpoints of
 * one host only: a stateful service has one store, so its instances must share it on one
 * host (docs/deployment.md). ipc:// and loopback tcp:// endpoints count as this host.
 * Returns 0, or -1 with the reason in `why`. */
int zs_config_check_topology(const char *const *stateful, char *why, size_t size);

#endif
