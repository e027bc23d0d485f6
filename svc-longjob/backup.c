/* backup.c — hot, consistent copy of every service's LMDB store (APIBackupDatabaseMsg).
 *
 * Every directory <data dir>/<service>/ holding a data.mdb is a store. LMDB environments
 * are multi-process safe, so each one is opened read-only here while its service keeps
 * writing, and mdb_env_copy2(MDB_CP_COMPACT) copies one consistent snapshot of it (a read
 * transaction) — this service's own store through its open handle instead (LMDB forbids
 * opening one environment twice in a process). Stores are copied into
 * <target>.partial-<job uuid>; only when all are there is a MANIFEST written and the
 * directory renamed to <target>, so a directory named <target> is always a complete backup.
 * One store at a time, cancellable between stores; longjob.backup-step-delay-ms (default 0,
 * for tests only) waits before each store so a test can cancel or kill a backup midway.
 * Backups of this process run one after the other (an environment opened twice in one
 * process would lose its locks when either closes).
 */
#define _GNU_SOURCE
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include "longjob.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
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
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return errno;
            *p = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? errno : 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Names of the stores under the data directory, sorted (new array). */
static json_t *list_stores(void)
{
    json_t *names = json_array();
    DIR *d = opendir(zs_config_data_dir());
    if (!d)
        return names;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "backups") == 0)
            continue;
        char path[1200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s/data.mdb", zs_config_data_dir(), e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            json_array_append_new(names, json_string(e->d_name));
    }
    closedir(d);
    size_t n = json_array_size(names);
    json_t **items = calloc(n + 1, sizeof *items);
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(names, i));
    qsort(items, n, sizeof *items, by_name);
    json_array_clear(names);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(names, items[i]);
    free(items);
    return names;
}

/* Copies store `name` into dest (created). 0 or an LMDB/errno code. */
static int copy_store(const backup_t *b, const char *name, const char *dest)
{
    if (strcmp(name, "longjob") == 0 && b->own_store)
        return zs_store_backup(b->own_store, dest);
    int rc = mkdir_p(dest);
    if (rc)
        return rc;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/%s", zs_config_data_dir(), name);
    MDB_env *env;
    if ((rc = mdb_env_create(&env)) != 0)
        return rc;
    rc = mdb_env_set_maxdbs(env, 1024);
    if (rc == 0)
        rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
    int dead = 0;   /* reader slots of a backup killed midway would pin old pages for good */
    if (rc == 0 && mdb_reader_check(env, &dead) == 0 && dead > 0)
        zs_warn("store %s: cleared %d stale reader slots", name, dead);
    if (rc == 0)
        rc = mdb_env_copy2(env, dest, MDB_CP_COMPACT);
    mdb_env_close(env);
    return rc;
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
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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

/* Makes the copied file durable before the MANIFEST says it is there; fills *st. */
static int fsync_file(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fstat(fd, st) != 0 || fsync(fd) != 0 ? errno : 0;
    close(fd);
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
    json_t *names = list_stores(), *stores = json_array();
    size_t n = json_array_size(names);
    int64_t started = zs_mono_ms(), total = 0;
    int out = 0;
    for (size_t i = 0; i < n && out == 0; i++) {
        const char *name = json_string_value(json_array_get(names, i));
        if (step_delay(b)) {
            out = 1;
            break;
        }
        char dest[1300], file[1400];
        snprintf(dest, sizeof dest, "%s/%s", tmp, name);
        int64_t t0 = zs_mono_ms();
        rc = copy_store(b, name, dest);
        snprintf(file, sizeof file, "%s/data.mdb", dest);
        if (rc == 0)
            rc = fsync_file(file, &st);
        if (rc != 0) {
            *error = zs_error(ZS_SYS_FAILED, "copying store %s failed: %s", name, mdb_strerror(rc));
            out = -1;
            break;
        }
        total += st.st_size;
        json_array_append_new(stores, json_pack("{s:s, s:I, s:I}", "name", name, "bytes",
                                                (json_int_t)st.st_size, "ms",
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
    json_decref(names);
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
