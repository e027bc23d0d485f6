/* console.c — serves the web console's static files (console.h). */
#include "console.h"
#include "config.h"
#include "error.h"
#include "http.h"
#include "log.h"
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char folder[PATH_MAX];   /* written once by console_register, then read-only */

static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
};

/* The content type of a servable file name, or NULL when the name is not one we serve. */
static const char *type_of(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.' || strspn(name, "abcdefghijklmnopqrstuvwxyz"
                                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != n)
        return NULL;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && strcmp(name + n - e, types[i].ext) == 0)
            return types[i].type;
    }
    return NULL;
}

static int not_found(struct mg_connection *conn, const char *what)
{
    return http_error(conn, 404, zs_error(ZS_SYS_NOT_FOUND, "no console file %.80s in %s", what, folder));
}

/* Reads the whole file (at most CONSOLE_MAX_FILE bytes); returns a malloc'd buffer or NULL. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size >= 0 && size <= CONSOLE_MAX_FILE && fseek(f, 0, SEEK_SET) == 0
            && (data = malloc((size_t)size + 1))) {
            *len = fread(data, 1, (size_t)size, f);
            if (*len != (size_t)size) {
                free(data);
                data = NULL;
            }
        }
    }
    fclose(f);
    return data;
}

static int serve(struct mg_connection *conn, void *cbdata)
{
    (void)cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *uri = ri->local_uri ? ri->local_uri : "";
    bool head = strcmp(ri->request_method, "HEAD") == 0;
    if (strcmp(ri->request_method, "GET") != 0 && !head)
        return http_error(conn, 405, zs_error(ZS_SYS_INVALID, "the console is read with GET"));
    if (strcmp(uri, "/console") == 0) {
        mg_printf(conn, "HTTP/1.1 301 Moved Permanently\r\nLocation: /console/\r\nContent-Length: 0\r\n\r\n");
        return 301;
    }
    const char *name = strncmp(uri, "/console/", 9) == 0 ? uri + 9 : "";
    if (!*name)
        name = "index.html";
    const char *type = type_of(name);
    if (!type)
        return not_found(conn, name);
    char path[PATH_MAX + 80];
    snprintf(path, sizeof path, "%s/%s", folder, name);
    size_t len = 0;
    char *data = slurp(path, &len);
    if (!data)
        return not_found(conn, name);
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n"
              "Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n"
              "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
              "frame-ancestors 'none'; form-action 'self'; base-uri 'none'\r\n\r\n",
              type, len);
    if (!head)
        mg_write(conn, data, len);
    free(data);
    return 200;
}

void console_register(struct mg_context *ctx)
{
    const char *dir = zs_config_get("gateway.console-dir", NULL);
    char real[PATH_MAX];
    if (dir) {
        snprintf(folder, sizeof folder, "%s", dir);
    } else {   /* an installed layout (<prefix>/bin, <prefix>/share/zs/console), else the build tree */
        char exe[PATH_MAX - 32];   /* room for the suffixes below */
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        exe[n > 0 ? n : 0] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(folder, sizeof folder, "%s/../share/zs/console", n > 0 ? exe : ".");
        if (!realpath(folder, real))
            snprintf(folder, sizeof folder, "%s/../../gateway/console", n > 0 ? exe : ".");
    }
    if (realpath(folder, real))
        snprintf(folder, sizeof folder, "%s", real);
    else
        zs_warn("console folder %s not found: /console/ will answer 404", folder);
    mg_set_request_handler(ctx, "/console", serve, NULL);
}
