/* installed.c — see installed.h. */
#include "installed.h"
#include "license.h"
#include "log.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int64_t installed_expires(const json_t *entry)
{
    return zs_license_date(entry, "expiredDate");
}

int installed_expired(const json_t *entry, int64_t now)
{
    int64_t e = installed_expires(entry);
    return e >= 0 && now >= e;
}

void installed_clear(installed_t *st)
{
    json_decref(st->all);
    json_decref(st->addons);
    json_decref(st->idle_addons);
    memset(st, 0, sizeof *st);
}

static bool is_license_name(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && name[0] != '.' && strcmp(name + n - 4, ".lic") == 0;
}

/* The entry of one file, or NULL (logged) when it is not a valid license for us. */
static json_t *read_entry(const char *dir, const char *name, const char *trusted,
                          const char *installation)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > ZS_LICENSE_MAX_BYTES) {
        if (fd >= 0)
            close(fd);
        zs_warn("license file %s skipped: not a regular file of at most %d bytes", path,
                ZS_LICENSE_MAX_BYTES);
        return NULL;
    }
    char *text = malloc((size_t)st.st_size + 1);
    ssize_t got = text ? read(fd, text, (size_t)st.st_size) : -1;
    close(fd);
    if (got != (ssize_t)st.st_size) {
        free(text);
        zs_warn("license file %s skipped: cannot be read", path);
        return NULL;
    }
    text[got] = '\0';
    json_t *error = NULL, *p = zs_license_open(text, (size_t)got, trusted, &error);
    const char *bad = p ? zs_license_check_payload(p) : zs_error_details(error);
    char id[33] = "";
    if (!bad && (zs_license_request_parse(json_string_value(json_object_get(p, "licenseRequest")), id, NULL) != 0 ||
                 strcmp(id, installation) != 0))
        bad = "issued for another installation";
    if (bad) {
        zs_warn("license file %s skipped: %s", path, bad);
        json_decref(error);
        json_decref(p);
        free(text);
        return NULL;
    }
    json_object_set_new(p, "_file", json_string(name));
    json_object_set_new(p, "_uploadMs", json_integer((json_int_t)st.st_mtim.tv_sec * 1000 +
                                                     st.st_mtim.tv_nsec / 1000000));
    json_object_set_new(p, "_text", json_string(text));
    free(text);
    return p;
}

/* Orders entries: later issuedDate wins, then later upload. */
static bool newer(const json_t *a, const json_t *b)
{
    int64_t ia = zs_license_date(a, "issuedDate"), ib = zs_license_date(b, "issuedDate");
    if (ia != ib)
        return ia > ib;
    return json_integer_value(json_object_get(a, "_uploadMs")) >
           json_integer_value(json_object_get(b, "_uploadMs"));
}

int installed_scan(const char *dir, const char *trusted, const char *installation, installed_t *out)
{
    installed_clear(out);
    out->all = json_array();
    out->addons = json_array();
    out->idle_addons = json_array();
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    size_t files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!is_license_name(e->d_name))
            continue;
        if (++files > INSTALLED_MAX_FILES) {
            zs_warn("more than %d license files in %s: the rest are ignored", INSTALLED_MAX_FILES, dir);
            break;
        }
        json_t *entry = read_entry(dir, e->d_name, trusted, installation);
        if (entry)
            json_array_append_new(out->all, entry);
    }
    closedir(d);
    size_t i;
    json_t *e;
    json_array_foreach(out->all, i, e)
        if (!zs_license_is_addon(e) && (!out->primary || newer(e, out->primary)))
            out->primary = e;
    bool allowed = out->primary && json_is_true(json_object_get(out->primary, "allowAddOns"));
    json_array_foreach(out->all, i, e) {
        if (!zs_license_is_addon(e))
            continue;
        if (!allowed) {
            json_array_append(out->idle_addons, e);
            continue;
        }
        /* newest of each name is in force; older ones of the same name are idle */
        const char *name = json_string_value(json_object_get(e, "name"));
        size_t j;
        json_t *other;
        bool placed = false;
        json_array_foreach(out->addons, j, other) {
            if (strcmp(json_string_value(json_object_get(other, "name")), name) != 0)
                continue;
            placed = true;
            if (newer(e, other)) {
                json_array_append(out->idle_addons, other);
                json_array_set(out->addons, j, e);
            } else {
                json_array_append(out->idle_addons, e);
            }
            break;
        }
        if (!placed)
            json_array_append(out->addons, e);
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

int installed_write(const char *dir, const char *uuid, const char *text, size_t len)
{
    char tmp[2048], path[2048];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return errno;
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, uuid);
    snprintf(path, sizeof path, "%s/%s.lic", dir, uuid);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    int rc = 0;
    for (size_t off = 0; off < len && rc == 0;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno != EINTR)
            rc = errno;
        else if (n > 0)
            off += (size_t)n;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = errno;
    if (rc != 0) {
        unlink(tmp);
        return rc;
    }
    return fsync_dir(dir);
}

int installed_remove(const char *dir, const json_t *entry)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, json_string_value(json_object_get(entry, "_file")));
    if (unlink(path) != 0 && errno != ENOENT)
        return errno;
    return fsync_dir(dir);
}
