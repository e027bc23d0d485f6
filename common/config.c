/* config.c — see config.h. Each layer is a small growable table searched linearly: the
 * configuration is a few dozen keys, read mostly at start. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    struct row { char *key, *value; } *rows;
    size_t n, cap;
} layer_t;
static layer_t flags, file, defaults;

/* Endpoint defaults made by zs_config_endpoints: kept apart from the layers (read-only once
 * loaded), appended under a lock, freed only by zs_config_reset. */
typedef struct endpoint_default {
    struct endpoint_default *next;
    char text[];
} endpoint_default_t;
static endpoint_default_t *endpoint_defaults;
static pthread_mutex_t endpoint_defaults_lock = PTHREAD_MUTEX_INITIALIZER;

/* Configuration is made at start, where running out of memory can only end the process. */
static void *need(void *p)
{
    if (!p) {
        fprintf(stderr, "config: out of memory\n");
        exit(1);
    }
    return p;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static void put(layer_t *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->rows[i].key, key) == 0) {
            free(l->rows[i].value);
            l->rows[i].value = need(strdup(value));
            return;
        }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 32;
        l->rows = need(realloc(l->rows, l->cap * sizeof *l->rows));
    }
    l->rows[l->n].key = need(strdup(key));
    l->rows[l->n].value = need(strdup(value));
    l->n++;
}

static const char *find(const layer_t *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->rows[i].key, key) == 0)
            return l->rows[i].value;
    return NULL;
}

static void clear(layer_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].key);
        free(l->rows[i].value);
    }
    free(l->rows);
    *l = (layer_t){0};
}

void zs_config_set(const char *key, const char *value) { put(&flags, key, value); }
void zs_config_default(const char *key, const char *value) { put(&defaults, key, value); }

void zs_config_reset(void)
{
    clear(&flags);
    clear(&file);
    clear(&defaults);
    while (endpoint_defaults) {
        endpoint_default_t *next = endpoint_defaults->next;
        free(endpoint_defaults);
        endpoint_defaults = next;
    }
}

/* Cuts a comment: ';' or '#' at the start or after whitespace. */
static void strip_comment(char *s)
{
    for (char *p = s; *p; p++)
        if ((*p == ';' || *p == '#') && (p == s || isspace((unsigned char)p[-1]))) {
            *p = '\0';
            return;
        }
}

int zs_config_load(const char *path)
{
    if (!path)
        path = getenv("ZS_CONFIG");
    if (!path || !*path)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "config: cannot open %s\n", path);
        return -1;
    }
    char line[1024], section[128] = "";
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            fprintf(stderr, "config: %s:%d: line longer than %zu bytes\n", path, lineno,
                    sizeof line - 1);
            rc = -1;
            break;
        }
        strip_comment(line);
        char *s = trim(line);
        if (!*s)
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (!end || end[1] || end - s - 1 >= (long)sizeof section) {
                fprintf(stderr, "config: %s:%d: bad section\n", path, lineno);
                rc = -1;
                break;
            }
            *end = '\0';
            snprintf(section, sizeof section, "%s", trim(s + 1));
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq || eq == s) {
            fprintf(stderr, "config: %s:%d: expected key = value\n", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char key[300];
        snprintf(key, sizeof key, "%s%s%s", section, *section ? "." : "", trim(s));
        put(&file, key, trim(eq + 1));
    }
    fclose(f);
    return rc;
}

const char *zs_config_get(const char *key, const char *fallback)
{
    const char *v = find(&flags, key);
    if (v)
        return v;
    char env[300] = "ZS_";
    size_t n = 3;
    for (const char *k = key; *k && n < sizeof env - 1; k++)
        env[n++] = (*k == '.' || *k == '-') ? '_' : (char)toupper((unsigned char)*k);
    env[n] = '\0';
    if ((v = getenv(env)))
        return v;
    if ((v = find(&file, key)) || (v = find(&defaults, key)))
        return v;
    return fallback;
}

int64_t zs_config_int(const char *key, int64_t fallback)
{
    const char *v = zs_config_get(key, NULL);
    if (!v || !*v)
        return fallback;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno == ERANGE) {
        fprintf(stderr, "config: %s = \"%s\": not an integer (a decimal number is expected)\n",
                key, v);
        exit(2);
    }
    return x;
}

bool zs_config_bool(const char *key, bool fallback)
{
    const char *v = zs_config_get(key, NULL);
    if (!v)
        return fallback;
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0;
}

const char *zs_config_data_dir(void)
{
    return zs_config_get("data.dir", "./var");
}

const char *zs_config_endpoints(const char *service)
{
    char key[128];
    snprintf(key, sizeof key, "bus.%s", service);
    const char *v = zs_config_get(key, NULL);
    if (v)
        return v;
    char def[1200];
    snprintf(def, sizeof def, "ipc://%s/bus/%s.ipc", zs_config_data_dir(), service);
    pthread_mutex_lock(&endpoint_defaults_lock);
    endpoint_default_t *d = endpoint_defaults;
    while (d && strcmp(d->text, def) != 0)
        d = d->next;
    if (!d) {
        d = need(malloc(sizeof *d + strlen(def) + 1));
        strcpy(d->text, def);
        d->next = endpoint_defaults;
        endpoint_defaults = d;
    }
    pthread_mutex_unlock(&endpoint_defaults_lock);
    return d->text;
}

/* The host part of one endpoint into out ("" for this host: ipc://, loopback). */
static void endpoint_host(const char *ep, size_t len, char *out, size_t size)
{
    out[0] = '\0';
    if (len < 6 || strncmp(ep, "tcp://", 6) != 0)
        return;
    const char *h = ep + 6, *end = ep + len, *stop = end;
    if (*h == '[') {   /* [v6]:port */
        const char *close = memchr(h, ']', (size_t)(end - h));
        stop = close ? close + 1 : end;
    } else {
        for (const char *p = h; p < end; p++)
            if (*p == ':')
                stop = p;
    }
    snprintf(out, size, "%.*s", (int)(stop - h), h);
    if (strncmp(out, "127.", 4) == 0 || strcmp(out, "localhost") == 0 || strcmp(out, "[::1]") == 0)
        out[0] = '\0';
}

int zs_config_check_topology(const char *const *stateful, char *why, size_t size)
{
    for (const char *const *s = stateful; *s; s++) {
        const char *list = zs_config_endpoints(*s);
        char first[256] = "", host[256];
        bool have_first = false;
        for (const char *p = list; *p;) {
            size_t len = strcspn(p, ",");
            const char *ep = p;
            while (len && isspace((unsigned char)*ep))
                ep++, len--;
            endpoint_host(ep, len, host, sizeof host);
            if (!have_first) {
                snprintf(first, sizeof first, "%s", host);
                have_first = true;
            } else if (strcmp(first, host) != 0) {
                snprintf(why, size, "bus.%s = %s names instances on two hosts (%s, %s): a stateful "
                         "service has exactly one store, so all its instances must share it on one "
                         "host (see docs/deployment.md); run one instance and let the orchestrator "
                         "move it", *s, list, *first ? first : "this host", *host ? host : "this host");
                return -1;
            }
            p += strcspn(p, ",");
            if (*p)
                p++;
        }
    }
    return 0;
}
