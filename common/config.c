/* config.c — see config.h. A small fixed table: the configuration is a few dozen keys. */
#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 256
static struct { char *key, *value; } table[MAX_KEYS];
static int nkeys;

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

void zs_config_set(const char *key, const char *value)
{
    for (int i = 0; i < nkeys; i++)
        if (strcmp(table[i].key, key) == 0) {
            free(table[i].value);
            table[i].value = strdup(value);
            return;
        }
    if (nkeys == MAX_KEYS)
        return;
    table[nkeys].key = strdup(key);
    table[nkeys].value = strdup(value);
    nkeys++;
}

int zs_config_load(const char *path)
{
    if (!path)
        path = getenv("ZS_CONFIG");
    if (!path)
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
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (!end || end - s - 1 >= (long)sizeof section) {
                fprintf(stderr, "config: %s:%d: bad section\n", path, lineno);
                rc = -1;
                break;
            }
            *end = '\0';
            snprintf(section, sizeof section, "%s", trim(s + 1));
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "config: %s:%d: expected key = value\n", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char key[300];
        snprintf(key, sizeof key, "%s%s%s", section, *section ? "." : "", trim(s));
        zs_config_set(key, trim(eq + 1));
    }
    fclose(f);
    return rc;
}

const char *zs_config_get(const char *key, const char *fallback)
{
    char env[300] = "ZS_";
    size_t n = 3;
    for (const char *k = key; *k && n < sizeof env - 1; k++)
        env[n++] = (*k == '.' || *k == '-') ? '_' : (char)toupper((unsigned char)*k);
    env[n] = '\0';
    const char *v = getenv(env);
    if (v)
        return v;
    for (int i = 0; i < nkeys; i++)
        if (strcmp(table[i].key, key) == 0)
            return table[i].value;
    return fallback;
}

int64_t zs_config_int(const char *key, int64_t fallback)
{
    const char *v = zs_config_get(key, NULL);
    if (!v || !*v)
        return fallback;
    char *end;
    long long x = strtoll(v, &end, 10);
    return *end ? fallback : x;
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
    zs_config_set(key, def);   /* remembered so the pointer stays valid */
    return zs_config_get(key, NULL);
}
