/* installed.h — the installed licenses: the *.lic files of the license directory
 * (license.dir, default <data dir>/license). The files are the truth: what is in force is
 * always computed from them (installed_scan), so an operator may drop a file there and
 * ReloadLicense, and a restart finds what was installed.
 *
 * Functions run on the service loop thread. */
#ifndef ZS_LICENSE_INSTALLED_H
#define ZS_LICENSE_INSTALLED_H
#include <jansson.h>
#include <stdint.h>

#define INSTALLED_MAX_FILES 256

/* A valid license file is an entry: its payload plus "_file" (file name), "_uploadMs" (the
 * file's modification time, epoch ms) and "_text" (the file text). */
typedef struct {
    json_t *all;          /* every valid entry (array) */
    json_t *primary;      /* the primary license in force (borrowed from all), NULL: Community */
    json_t *addons;       /* add-ons in force: newest of each name, under a primary allowing
                           * add-ons (array of borrowed entries) */
    json_t *idle_addons;  /* installed add-ons not in force (no primary allowing them) */
} installed_t;

/* Reads `dir`: files that are not valid licenses (bad signature under `trusted_keys`, bad
 * payload, issued for another installation than `installation`) are skipped with a warning.
 * Fills *out (cleared first). Returns 0, or -1 when the directory cannot be read. */
int installed_scan(const char *dir, const char *trusted_keys, const char *installation,
                   installed_t *out);
void installed_clear(installed_t *st);

/* Writes `text` as <dir>/<uuid>.lic atomically and durably (temp file, fsync, rename, fsync
 * of the directory). Returns 0 or an errno value. */
int installed_write(const char *dir, const char *uuid, const char *text, size_t len);

/* Removes the file of `entry`. Returns 0 or an errno value (ENOENT counts as done). */
int installed_remove(const char *dir, const json_t *entry);

/* Epoch ms when the entry expires, or -1 (never). */
int64_t installed_expires(const json_t *entry);
/* True when it has expired at `now`. */
int installed_expired(const json_t *entry, int64_t now);

#endif
