/* store_copy.c — see store_copy.h. */
#define _GNU_SOURCE
#include "store_copy.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "log.h"
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct slot {
    char job[65];
    int fd;            /* the unlinked copy; -1: slot free */
    int64_t size, used_ms;
    char sha256[crypto_hash_sha256_BYTES * 2 + 1];
} slots[ZS_STORE_COPY_SLOTS] = {[0 ... ZS_STORE_COPY_SLOTS - 1] = {.fd = -1}};

static void drop(struct slot *s)
{
    close(s->fd);
    s->fd = -1;
    s->job[0] = '\0';
}

static bool valid_job(const char *job)
{
    size_t n = job ? strlen(job) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(job[i] == '-' || (job[i] >= '0' && job[i] <= '9') || (job[i] >= 'a' && job[i] <= 'z') ||
              (job[i] >= 'A' && job[i] <= 'Z')))
            return false;
    return true;
}

/* Hashes the whole copy. 0 or errno. */
static int hash_file(int fd, int64_t size, char *hex)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    static unsigned char buf[64 * 1024];
    for (int64_t at = 0; at < size;) {
        ssize_t n = pread(fd, buf, sizeof buf, at);
        if (n <= 0)
            return n < 0 ? errno : EIO;
        crypto_hash_sha256_update(&st, buf, (unsigned long long)n);
        at += n;
    }
    unsigned char sum[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, sum);
    sodium_bin2hex(hex, crypto_hash_sha256_BYTES * 2 + 1, sum, sizeof sum);
    return 0;
}

/* Makes the copy of `job` into a free slot. NULL with *error when impossible. */
static struct slot *make_copy(zs_call_t *call, const char *job, json_t **error)
{
    int64_t now = zs_mono_ms();
    struct slot *s = NULL;
    for (int i = 0; i < ZS_STORE_COPY_SLOTS; i++) {
        if (slots[i].fd >= 0 && now - slots[i].used_ms > ZS_STORE_COPY_IDLE_MS)
            drop(&slots[i]);   /* its job stopped asking */
        if (slots[i].fd < 0 && !s)
            s = &slots[i];
    }
    if (!s) {
        zs_call_fail(call, error, ZS_SYS_FAILED, "store %s: %d copies are already being read; try "
                     "again later", zs_service_name(call->svc), ZS_STORE_COPY_SLOTS);
        return NULL;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/.copy-XXXXXX", zs_config_data_dir(), zs_service_name(call->svc));
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        zs_call_fail(call, error, ZS_SYS_FAILED, "cannot create a copy file: %s", strerror(errno));
        return NULL;
    }
    unlink(path);   /* nothing to clean up after a crash */
    int rc = mdb_env_copyfd2(zs_store_env(zs_service_store(call->svc)), fd, MDB_CP_COMPACT);
    off_t size = rc == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (rc == 0 && size < 0)
        rc = errno;
    if (rc == 0)
        rc = hash_file(fd, size, s->sha256);
    if (rc != 0) {
        close(fd);
        zs_call_fail(call, error, ZS_SYS_FAILED, "copying store %s failed: %s",
                     zs_service_name(call->svc), zs_store_strerror(rc));
        return NULL;
    }
    snprintf(s->job, sizeof s->job, "%s", job);
    s->fd = fd;
    s->size = size;
    zs_log(ZS_INFO, job, "store %s copied for a backup: %lld bytes", zs_service_name(call->svc),
           (long long)size);
    return s;
}

json_t *zs_store_copy_handle(zs_call_t *call, json_t **error)
{
    const char *job = zs_call_str(call, "job");
    json_t *off = json_object_get(call->req->body, "offset");
    if (!valid_job(job) || !json_is_integer(off) || json_integer_value(off) < 0)
        return zs_call_invalid(call, error, "CopyStore needs job (1-64 of [0-9a-zA-Z-]) and offset >= 0");
    int64_t offset = json_integer_value(off);
    struct slot *s = NULL;
    for (int i = 0; i < ZS_STORE_COPY_SLOTS && !s; i++)
        if (slots[i].fd >= 0 && strcmp(slots[i].job, job) == 0)
            s = &slots[i];
    if (!s && offset != 0)
        return zs_call_fail(call, error, ZS_SYS_FAILED, "the copy of store %s for job %s is gone "
                            "(unread too long, or this process restarted)",
                            zs_service_name(call->svc), job);
    if (!s && !(s = make_copy(call, job, error)))
        return NULL;
    if (offset > s->size)
        return zs_call_invalid(call, error, "offset %lld is past the copy's end (%lld)",
                               (long long)offset, (long long)s->size);
    static unsigned char chunk[ZS_STORE_COPY_CHUNK];
    static char b64[ZS_STORE_COPY_CHUNK / 3 * 4 + 8];
    int64_t want = s->size - offset < ZS_STORE_COPY_CHUNK ? s->size - offset : ZS_STORE_COPY_CHUNK;
    ssize_t n = want ? pread(s->fd, chunk, (size_t)want, offset) : 0;
    if (n != want) {
        drop(s);
        return zs_call_fail(call, error, ZS_SYS_FAILED, "reading the copy of store %s failed",
                            zs_service_name(call->svc));
    }
    sodium_bin2base64(b64, sizeof b64, chunk, (size_t)n, sodium_base64_VARIANT_ORIGINAL);
    json_t *out = json_pack("{s:s, s:I, s:s, s:I, s:s}", "store", zs_service_name(call->svc),
                            "size", (json_int_t)s->size, "sha256", s->sha256, "offset",
                            (json_int_t)offset, "data", b64);
    s->used_ms = zs_mono_ms();
    if (offset == s->size)
        drop(s);   /* the job asks past its last chunk: it has it all */
    return out;
}
