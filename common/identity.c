/* identity.c — see identity.h. */
#define _GNU_SOURCE
#include "identity.h"
#include "clock.h"
#include "error.h"
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Which kernel and PID namespace this process lives in: "<boot id>/pid:[inode]". */
static void pid_namespace(char *out, size_t size)
{
    char boot[64] = "?", ns[64] = "?";
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (f) {
        if (fgets(boot, sizeof boot, f))
            boot[strcspn(boot, "\n")] = '\0';
        fclose(f);
    }
    ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1);
    ns[n > 0 ? n : 1] = '\0';
    snprintf(out, size, "%s/%s", boot, ns);
}

static int lock(int fd, short type, off_t start, bool wait)
{
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = 1};
    return fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
}

/* Writes who holds the lock: "<process> host <name> pid <pid> pidns <ns> since <date>". */
static void write_holder(int fd, const char *process)
{
    char host[128] = "?", ns[128], line[512], date[40];
    gethostname(host, sizeof host - 1);
    pid_namespace(ns, sizeof ns);
    zs_date_format_iso(zs_now_ms(), date, sizeof date);
    int n = snprintf(line, sizeof line, "%s host %s pid %d pidns %s since %s\n", process, host,
                     (int)getpid(), ns, date);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n)
        return;   /* the lock still holds; only the refusal message of others is poorer */
}

static void read_holder(int fd, char *out, size_t size)
{
    ssize_t n = pread(fd, out, size - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    if (!*out)
        snprintf(out, size, "an unnamed process");
}

/* The lock file's descriptor, or -1 and *error. */
static int open_lock(const char *path, json_t **error)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        zs_fail(error, ZS_SYS_FAILED, "cannot open lock file %s: %s", path, strerror(errno));
    return fd;
}

/* mkdir -p, new directories 0700 (stores hold password hashes). 0 or -1 (errno set). */
static int mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int zs_identity_claim_store(const char *dir, const char *process, json_t **error)
{
    if (mkdirs(dir) != 0)
        return zs_fail(error, ZS_SYS_FAILED, "cannot create %s: %s", dir, strerror(errno));
    char path[1100];
    snprintf(path, sizeof path, "%s/owner.lock", dir);
    int fd = open_lock(path, error);
    if (fd < 0)
        return -1;
    /* Byte 1 serializes claims; byte 0 is held shared by every instance of the owning PID
     * namespace, exclusively only while the first one writes its name. */
    if (lock(fd, F_WRLCK, 1, true) != 0) {
        zs_fail(error, ZS_SYS_FAILED, "cannot lock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    int rc = 0;
    if (lock(fd, F_WRLCK, 0, false) == 0) {
        write_holder(fd, process);
        lock(fd, F_RDLCK, 0, false);   /* converts in place: never unlocked in between */
    } else {
        char holder[512], mine[128], theirs[128] = "";
        read_holder(fd, holder, sizeof holder);
        pid_namespace(mine, sizeof mine);
        const char *at = strstr(holder, " pidns ");
        if (at)
            sscanf(at + 7, "%127s", theirs);
        if (strcmp(mine, theirs) == 0 && lock(fd, F_RDLCK, 0, false) == 0) {
            rc = 0;   /* another instance of the same PID namespace: share the store */
        } else {
            rc = zs_fail(error, ZS_SYS_FAILED, "store %s is held by a live process of another "
                         "PID namespace or host (%s); one store belongs to the instances of one "
                         "PID namespace (docs/deployment.md)", dir, holder);
        }
    }
    struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1};
    fcntl(fd, F_OFD_SETLK, &fl);
    if (rc != 0)
        close(fd);
    return rc;   /* on success fd stays open: the lock lives as long as the process */
}

int zs_identity_claim_endpoint(const char *endpoint, const char *process, json_t **error)
{
    if (strncmp(endpoint, "ipc://", 6) != 0)
        return 0;
    char path[1100];
    snprintf(path, sizeof path, "%s.lock", endpoint + 6);
    int fd = open_lock(path, error);
    if (fd < 0)
        return -1;
    if (lock(fd, F_WRLCK, 0, false) != 0) {
        char holder[512];
        read_holder(fd, holder, sizeof holder);
        zs_fail(error, ZS_SYS_FAILED, "endpoint %s is already served by a live process (%s)",
                endpoint, holder);
        close(fd);
        return -1;
    }
    write_holder(fd, process);
    return 0;
}
