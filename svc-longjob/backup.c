/* backup.c — hot, consistent copy of every service's LMDB store (APIBackupDatabaseMsg),
 * made by the stores' owners.
 *
 * Every service that owns APIs owns one store. The job asks each of them over the bus for a
 * consistent copy of its own store (CopyStore, common/store_copy.h: the owner copies one read
 * snapshot with mdb_env_copyfd2 and ships it in chunks of at most 512 KiB, with its SHA-256),
 * so it never opens another process's environment: services may run on other hosts, in
 * other PID namespaces, with their own data directories. A store that cannot be fetched
 * (service unreachable, copy failed, checksum mismatch) fails the job, naming the store.
 * Stores are written into <target>.partial-<job uuid> (directories 0700, files 0600: a
 * backup holds every account's password hash); only when all are there is a MANIFEST written
 * and the directory renamed to <target>, so a directory named <target> is always a complete
 * backup. One store at a time, cancellable between chunks; longjob.backup-step-delay-ms
 * (default 0, tests only) waits before each store so a test can cancel or kill a backup
 * midway. Backups of this process run one after the other.
 */
#define _GNU_SOURCE
#include "api.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "longjob.h"
#include "store_copy.h"
#include "uuid.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t one_at_a_time = PTHREAD_MUTEX_INITIALIZER;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void backup_discard(const char *target, const char *job_uuid)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.partial-%s", target, job_uuid);
    remove_tree(tmp);
}

static int mkdir_p(const char *path)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return errno;
            *p = '/';
        }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? errno : 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define CHUNK_TRIES 3   /* a chunk whose reply is lost is asked for again (same offset) */

/* Asks the owner of store `name` for chunk `offset` of the job's copy. The reply body (new
 * reference), or NULL with *error naming the store. */
static json_t *fetch_chunk(const backup_t *b, const char *name, const char *copy_id,
                           int64_t offset, json_t **error)
{
    json_t *err = NULL;
    for (int i = 0; i < CHUNK_TRIES; i++) {
        json_decref(err);
        err = NULL;
        json_t *res = zs_bus_request(b->bus, name, "CopyStore", NULL,
                                     json_pack("{s:s, s:I}", "job", copy_id, "offset", (json_int_t)offset),
                                     zs_config_int("longjob.backup-chunk-timeout-ms", 60000), &err);
        if (res)
            return res;
        const char *code = json_string_value(json_object_get(err, "code"));
        if (!code || strcmp(code, ZS_SYS_TIMEOUT) != 0)
            break;   /* the owner answered a refusal: asking again would get the same */
    }
    *error = zs_error(ZS_SYS_FAILED, "copying store %s failed: %s", name,
                      json_string_value(json_object_get(err, "details")) ?
                      json_string_value(json_object_get(err, "details")) : "no answer");
    json_decref(err);
    return NULL;
}

/* Fetches the owner's copy of store `name` into dest/data.mdb (created 0600) and checks its
 * SHA-256. 0, 1 cancelled, or -1 with *error. *bytes gets the size. */
static int copy_store(const backup_t *b, const char *name, const char *dest, int64_t *bytes,
                      json_t **error)
{
    int rc = mkdir_p(dest);
    char file[1400];
    snprintf(file, sizeof file, "%s/data.mdb", dest);
    int fd = rc ? -1 : open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        *error = zs_error(ZS_SYS_FAILED, "copying store %s failed: cannot create %s: %s", name,
                          file, strerror(rc ? rc : errno));
        return -1;
    }
    char copy_id[ZS_UUID_LEN + 1];   /* fresh per attempt: never an older attempt's copy */
    zs_uuid_new(copy_id);
    crypto_hash_sha256_state sum;
    crypto_hash_sha256_init(&sum);
    static unsigned char raw[ZS_STORE_COPY_CHUNK];
    int64_t offset = 0, size = -1;
    char want_sha[80] = "";
    int out = 0;
    while (out == 0 && offset != size) {
        if (b->cancelled(b->arg)) {
            out = 1;
            break;
        }
        json_t *res = fetch_chunk(b, name, copy_id, offset, error);
        if (!res) {
            out = -1;
            break;
        }
        const char *data = json_string_value(json_object_get(res, "data"));
        const char *sha = json_string_value(json_object_get(res, "sha256"));
        json_int_t total = json_integer_value(json_object_get(res, "size"));
        size_t n = 0;
        if (!data || !sha || total < 0 || (size >= 0 && total != size) ||
            json_integer_value(json_object_get(res, "offset")) != offset ||
            sodium_base642bin(raw, sizeof raw, data, strlen(data), NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            offset + (int64_t)n > total || n == 0) {
            *error = zs_error(ZS_SYS_FAILED, "copying store %s failed: its owner sent a malformed "
                              "chunk at offset %lld", name, (long long)offset);
            out = -1;
        } else {
            size = total;
            snprintf(want_sha, sizeof want_sha, "%s", sha);
            if (n && pwrite(fd, raw, n, offset) != (ssize_t)n) {
                *error = zs_error(ZS_SYS_FAILED, "copying store %s failed: writing %s: %s", name,
                                  file, strerror(errno));
                out = -1;
            }
            crypto_hash_sha256_update(&sum, raw, n);
            offset += (int64_t)n;
        }
        json_decref(res);
    }
    if (out == 0) {   /* "I have it all": the owner drops its copy (else it expires unread) */
        json_t *ignored = NULL;
        json_decref(zs_bus_request(b->bus, name, "CopyStore", NULL,
                                   json_pack("{s:s, s:I}", "job", copy_id, "offset", (json_int_t)size),
                                   5000, &ignored));
        json_decref(ignored);
    }
    if (out == 0) {
        unsigned char bin[crypto_hash_sha256_BYTES];
        char got[crypto_hash_sha256_BYTES * 2 + 1];
        crypto_hash_sha256_final(&sum, bin);
        sodium_bin2hex(got, sizeof got, bin, sizeof bin);
        if (strcmp(got, want_sha) != 0) {
            *error = zs_error(ZS_SYS_FAILED, "copying store %s failed: checksum mismatch", name);
            out = -1;
        } else if (fsync(fd) != 0) {
            *error = zs_error(ZS_SYS_FAILED, "copying store %s failed: fsync: %s", name, strerror(errno));
            out = -1;
        }
    }
    close(fd);
    *bytes = offset;
    return out;
}

/* Waits longjob.backup-step-delay-ms, watching for cancellation. True when cancelled. */
static bool step_delay(const backup_t *b)
{
    int64_t end = zs_mono_ms() + zs_config_int("longjob.backup-step-delay-ms", 0);
    while (zs_mono_ms() < end)
        if (b->cancelled(b->arg))
            return true;
        else
            usleep(20000);
    return b->cancelled(b->arg);
}

static int write_manifest(const char *dir, const json_t *manifest)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/MANIFEST", dir);
    char *text = json_dumps(manifest, JSON_INDENT(2) | JSON_SORT_KEYS);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int rc = 0;
    if (fd < 0 || !text)
        rc = fd < 0 ? errno : ENOMEM;
    else if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || fsync(fd) != 0)
        rc = errno ? errno : EIO;
    if (fd >= 0)
        close(fd);
    free(text);
    return rc;
}

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* A backup already completed by an earlier run of this job (the process died before it
 * could report): its MANIFEST names the job. */
static json_t *finished_before(const backup_t *b)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/MANIFEST", b->target);
    json_t *m = json_load_file(path, 0, NULL);
    const char *job = json_string_value(json_object_get(m, "job"));
    if (!job || strcmp(job, b->job_uuid) != 0) {
        json_decref(m);
        return NULL;
    }
    return m;
}

static int run_locked(const backup_t *b, json_t **result, json_t **error)
{
    struct stat st;
    if (lstat(b->target, &st) == 0) {
        json_t *m = finished_before(b);
        if (m) {
            *result = json_pack("{s:s, s:O, s:O, s:O}", "path", b->target, "stores",
                                json_object_get(m, "stores"), "totalBytes",
                                json_object_get(m, "totalBytes"), "totalMs", json_object_get(m, "totalMs"));
            json_decref(m);
            return 0;
        }
        *error = zs_error(ZS_SYS_FAILED, "backup directory %s already exists", b->target);
        return -1;
    }
    char tmp[1200], parent[1200];
    snprintf(tmp, sizeof tmp, "%s.partial-%s", b->target, b->job_uuid);
    snprintf(parent, sizeof parent, "%s", b->target);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent)
        *slash = '\0';
    remove_tree(tmp);   /* what an interrupted run left: start from scratch */
    int rc = mkdir_p(tmp);
    if (rc) {
        *error = zs_error(ZS_SYS_FAILED, "cannot create %s: %s", tmp, strerror(rc));
        return -1;
    }
    const char *names[64];
    size_t n = zs_api_services(names, 64);
    qsort(names, n, sizeof *names, by_name);
    json_t *stores = json_array();
    int64_t started = zs_mono_ms(), total = 0;
    int out = 0;
    for (size_t i = 0; i < n && out == 0; i++) {
        const char *name = names[i];
        if (step_delay(b)) {
            out = 1;
            break;
        }
        char dest[1300];
        snprintf(dest, sizeof dest, "%s/%s", tmp, name);
        int64_t t0 = zs_mono_ms(), bytes = 0;
        out = copy_store(b, name, dest, &bytes, error);
        if (out != 0)
            break;
        total += bytes;
        json_array_append_new(stores, json_pack("{s:s, s:I, s:I}", "name", name, "bytes",
                                                (json_int_t)bytes, "ms",
                                                (json_int_t)(zs_mono_ms() - t0)));
        b->progress(b->arg, (int)i + 1, (int)n, name);
    }
    if (out == 0 && b->cancelled(b->arg))
        out = 1;
    if (out == 0) {
        json_t *manifest = json_pack("{s:s, s:I, s:O, s:I, s:I}", "job", b->job_uuid, "createdAt",
                                     (json_int_t)zs_now_ms(), "stores", stores, "totalBytes",
                                     (json_int_t)total, "totalMs", (json_int_t)(zs_mono_ms() - started));
        rc = write_manifest(tmp, manifest);
        json_decref(manifest);
        if (rc == 0 && rename(tmp, b->target) != 0)
            rc = errno;
        if (rc != 0) {
            *error = zs_error(ZS_SYS_FAILED, "completing backup %s failed: %s", b->target, strerror(rc));
            out = -1;
        } else {
            fsync_dir(parent);
            *result = json_pack("{s:s, s:O, s:I, s:I}", "path", b->target, "stores", stores,
                                "totalBytes", (json_int_t)total, "totalMs",
                                (json_int_t)(zs_mono_ms() - started));
            zs_log(ZS_INFO, b->job_uuid, "backup of %zu stores (%lld bytes) in %s", n,
                   (long long)total, b->target);
        }
    }
    if (out != 0)
        remove_tree(tmp);   /* a canceled or failed backup leaves nothing behind */
    json_decref(stores);
    return out;
}

int backup_run(const backup_t *b, json_t **result, json_t **error)
{
    pthread_mutex_lock(&one_at_a_time);
    int rc = run_locked(b, result, error);
    pthread_mutex_unlock(&one_at_a_time);
    return rc;
}
