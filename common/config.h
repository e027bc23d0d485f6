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
 * Lines are at most 1023 bytes, keys (section, '.' and name) at most ZS_CONFIG_KEY_MAX; a
 * longer one is an error naming its line.
 *
 * Integer settings (the keys zs_config_is_integer knows: every key the suite reads with
 * zs_config_int, and the gateway's civetweb numbers) are checked by zs_config_load, in the
 * file, the environment and the flags: a value that is not a whole decimal int64 ("12x",
 * "", "1.5", out of range) fails the load with a message naming the key (and the file's
 * line, or the environment variable), so a process never starts on a default the operator
 * did not ask for. The layers grow as needed: there is no limit on the number of keys.
 *
 * Load once at process start, before any thread exists; afterwards the getters may be called
 * from any thread: nothing writes the tables after load (zs_config_endpoints computes its
 * default into the caller's buffer). Running out of memory while setting or loading ends the
 * process with a message (it only happens at start).
 */
#ifndef ZS_CONFIG_H
#define ZS_CONFIG_H
#include "error.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads `path` (NULL: $ZS_CONFIG, else no file) into the file layer, then checks every
 * integer setting of the file, the environment and the flag layer. Returns 0, or -1 with a
 * message on stderr when the file cannot be opened or parsed, or a value is malformed. */
int zs_config_load(const char *path);

/* Longest key: "<section>.<name>". Setting a longer one in code ends the process with a
 * message (a mistake of the program, not of the operator). */
#define ZS_CONFIG_KEY_MAX 255

/* Sets a value of the flag layer (command-line flags): it wins over everything. */
void zs_config_set(const char *key, const char *value);
/* Sets a value of the default layer: anything else wins over it. */
void zs_config_default(const char *key, const char *value);
/* Forgets every layer (tests only; no thread may be reading). */
void zs_config_reset(void);

/* The value of `key`, or `fallback` when unset. Borrowed; valid until exit. */
const char *zs_config_get(const char *key, const char *fallback);
/* A whole decimal integer; `fallback` when unset. A value that is not one (empty, text,
 * trailing characters, out of the int64 range) is a configuration error: the message names
 * the key and the value on stderr and the process exits with status 2. zs_config_load has
 * refused such values of the integer settings already; this catches the rest (a default set
 * by code, a key not declared an integer setting). */
int64_t zs_config_int(const char *key, int64_t fallback);
/* True when `key` is an integer setting, checked by zs_config_load (see above). */
bool zs_config_is_integer(const char *key);
bool zs_config_bool(const char *key, bool fallback);

/* The data directory (data.dir, default "./var"). */
const char *zs_config_data_dir(void);

/* Room for the endpoint list zs_config_endpoints may compute. */
#define ZS_CONFIG_ENDPOINTS_SIZE 1400
/* The bus endpoint list of a service ("tags", "core", "broker", ...): comma separated.
 * When bus.<service> is set: its value, borrowed, valid until exit (or zs_config_reset).
 * Else the default ipc://<data dir>/bus/<service>.ipc, written into `buf` (the caller's, of
 * ZS_CONFIG_ENDPOINTS_SIZE bytes), and `buf` is returned. Writes nothing shared: any thread.
 * A data dir too long for it (over 1024 bytes) is refused by zs_config_load; set after load,
 * it ends the process with a message. */
const char *zs_config_endpoints(const char *service, char buf[ZS_CONFIG_ENDPOINTS_SIZE]);

/* Checks that bus.<service> of every name in `stateful` (NULL-terminated) names endpoints of
 * one host only: a stateful service has one store, so its instances must share it on one
 * host (docs/deployment.md). ipc:// and loopback tcp:// endpoints count as this host.
 * Returns 0, or -1 and, when `error` is not NULL, *error = SYS.1007 naming the setting and
 * its hosts. */
int zs_config_check_topology(const char *const *stateful, json_t **error);

#endif
