/* config.c — see config.h. Each layer is a small growable table searched linearly: the
 * configuration is a few dozen keys, read mostly at start. */
#include "config.h"
#include "error.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    struct row { char *key, *value; } *rows;
    size_t n, cap;
} layer_t;
static layer_t flags, file, defaults;

#define DATA_DIR_MAX 1024   /* fits ZS_CONFIG_ENDPOINTS_SIZE with any key-sized service name */

/* The integer settings, checked at load (config.h). Every zs_config_int key of the suite is
 * here (tests/unit/test_config.c checks the sources), and the gateway's numbers it hands to
 * civetweb as text. */
static const char *const integer_keys[] = {
    "broker.ack-lease-ms", "broker.max-open-jobs", "broker.redispatch-max-ms",
    "broker.redispatch-ms", "broker.result-ttl", "broker.window",
    "bus.attempt-ms", "bus.connect-timeout-ms", "bus.heartbeat-ivl-ms",
    "bus.heartbeat-timeout-ms", "bus.heartbeat-ttl-ms", "bus.keepalive-idle-s",
    "bus.queue-max", "bus.read-resends",
    "cleanup.retry", "cleanup.timeout-ms",
    "core.login-address-free-failures", "core.login-free-failures", "core.login-max-delay",
    "core.login-queue", "core.login-window", "core.max-sessions", "core.pwhash-memory",
    "core.ready-ping-ms", "core.session-timeout",
    "fault.commit-failures", "fault.write-delay-us",
    "gateway.body-limit", "gateway.body-timeout-ms", "gateway.job-timeout",
    "gateway.keep-alive-timeout-ms", "gateway.max-connections-per-client",
    "gateway.max-waiting-per-service", "gateway.request-timeout-ms", "gateway.session-cache-ms",
    "gateway.sync-timeout", "gateway.threads",
    "gc.adopt-interval", "gc.attempt-timeout-ms", "gc.done-retention-days",
    "gc.failing-attempts", "gc.interval", "gc.max-interval", "gc.sweep-interval",
    "host.cpu-overprovisioning",
    "license.usage-poll-ms",
    "longjob.api-timeout", "longjob.backup-chunk-timeout-ms", "longjob.backup-step-delay-ms",
    "longjob.concurrency", "longjob.resend-ms", "longjob.suspend-after-ms",
    "node.dead-after", "node.heartbeat-interval",
    "notification.retention-days",
    "outbox.hold-ms", "outbox.retry",
    "progress.keep-after-finish", "progress.max-age",
    "service.remote-threads",
    "ticket.call-retry-window", "ticket.call-timeout",
    "webhook.connections-per-receiver", "webhook.retry-base-ms", "webhook.timeout", "webhook.window",
    NULL,
};

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
    if (strlen(key) > ZS_CONFIG_KEY_MAX) {
        fprintf(stderr, "config: key longer than %d bytes: %.40s...\n", ZS_CONFIG_KEY_MAX, key);
        exit(1);
    }
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
}

bool zs_config_is_integer(const char *key)
{
    for (const char *const *k = integer_keys; *k; k++)
        if (strcmp(*k, key) == 0)
            return true;
    return false;
}

/* Reads `v` as a whole decimal int64 into *out. Returns false when it is not one. */
static bool parse_int(const char *v, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno == ERANGE || isspace((unsigned char)*v))
        return false;
    *out = x;
    return true;
}

/* The environment variable of `key` into env (ZS_CONFIG_KEY_MAX + 4 bytes). */
static void env_name(const char *key, char *env)
{
    size_t n = 3;
    memcpy(env, "ZS_", n);
    for (const char *k = key; *k; k++)
        env[n++] = (*k == '.' || *k == '-') ? '_' : (char)toupper((unsigned char)*k);
    env[n] = '\0';
}

/* The checks of zs_config_load past the file: integer settings from the environment and the
 * flags, and a data dir the default endpoints have room for. */
static int check_loaded(void)
{
    int rc = 0;
    int64_t x;
    for (const char *const *k = integer_keys; *k; k++) {
        char env[ZS_CONFIG_KEY_MAX + 4];
        env_name(*k, env);
        const char *v = getenv(env);
        if (v && !parse_int(v, &x)) {
            fprintf(stderr, "config: %s (environment %s) = \"%s\": not an integer (a decimal "
                    "number is expected)\n", *k, env, v);
            rc = -1;
        }
        if ((v = find(&flags, *k)) && !parse_int(v, &x)) {
            fprintf(stderr, "config: %s (flag) = \"%s\": not an integer (a decimal number is "
                    "expected)\n", *k, v);
            rc = -1;
        }
    }
    const char *dir = zs_config_data_dir();
    if (strlen(dir) > DATA_DIR_MAX) {
        fprintf(stderr, "config: data.dir longer than %d bytes\n", DATA_DIR_MAX);
        rc = -1;
    }
    return rc;
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

/* Reads the file `path` into the file layer. Returns 0, or -1 with a message. */
static int load_file(const char *path)
{
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
        char key[sizeof section + sizeof line];
        snprintf(key, sizeof key, "%s%s%s", section, *section ? "." : "", trim(s));
        if (strlen(key) > ZS_CONFIG_KEY_MAX) {
            fprintf(stderr, "config: %s:%d: key longer than %d bytes\n", path, lineno,
                    ZS_CONFIG_KEY_MAX);
            rc = -1;
            break;
        }
        const char *value = trim(eq + 1);
        int64_t x;
        if (zs_config_is_integer(key) && !parse_int(value, &x)) {
            /* every bad line is reported, then the load fails */
            fprintf(stderr, "config: %s:%d: %s = \"%s\": not an integer (a decimal number is "
                    "expected)\n", path, lineno, key, value);
            rc = -1;
            continue;
        }
        put(&file, key, value);
    }
    fclose(f);
    return rc;
}

int zs_config_load(const char *path)
{
    if (!path)
        path = getenv("ZS_CONFIG");
    int rc = path && *path ? load_file(path) : 0;
    if (check_loaded() != 0)
        rc = -1;
    return rc;
}

const char *zs_config_get(const char *key, const char *fallback)
{
    const char *v = find(&flags, key);
    if (v)
        return v;
    if (strlen(key) <= ZS_CONFIG_KEY_MAX) {   /* longer keys are never set anywhere */
        char env[ZS_CONFIG_KEY_MAX + 4];
        env_name(key, env);
        if ((v = getenv(env)))
            return v;
    }
    if ((v = find(&file, key)) || (v = find(&defaults, key)))
        return v;
    return fallback;
}

int64_t zs_config_int(const char *key, int64_t fallback)
{
    const char *v = zs_config_get(key, NULL);
    if (!v)
        return fallback;
    int64_t x;
    if (!parse_int(v, &x)) {
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

const char *zs_config_endpoints(const char *service, char buf[ZS_CONFIG_ENDPOINTS_SIZE])
{
    char key[ZS_CONFIG_KEY_MAX + 1];
    if (snprintf(key, sizeof key, "bus.%s", service) >= (int)sizeof key) {
        fprintf(stderr, "config: service name too long: %.40s...\n", service);
        exit(1);
    }
    const char *v = zs_config_get(key, NULL);
    if (v)
        return v;
    if (snprintf(buf, ZS_CONFIG_ENDPOINTS_SIZE, "ipc://%s/bus/%s.ipc", zs_config_data_dir(),
                 service) >= ZS_CONFIG_ENDPOINTS_SIZE) {
        fprintf(stderr, "config: data.dir longer than %d bytes\n", DATA_DIR_MAX);
        exit(2);
    }
    return buf;
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

int zs_config_check_topology(const char *const *stateful, json_t **error)
{
    for (const char *const *s = stateful; *s; s++) {
        char room[ZS_CONFIG_ENDPOINTS_SIZE];
        const char *list = zs_config_endpoints(*s, room);
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
                return zs_fail(error, ZS_SYS_INVALID, "bus.%s = %s names instances on two hosts "
                               "(%s, %s): a stateful service has exactly one store, so all its "
                               "instances must share it on one host (see docs/deployment.md); "
                               "run one instance and let the orchestrator move it", *s, list,
                               *first ? first : "this host", *host ? host : "this host");
            }
            p += strcspn(p, ",");
            if (*p)
                p++;
        }
    }
    return 0;
}
