/* zs — the command-line client, driven by the API table: every API of the suite is a command.
 *
 *   zs list                                   every API with its method and path
 *   zs login <account> <password>             prints a session uuid (export ZS_SESSION=...)
 *   zs <API> [name=value ...]                 calls the API; async ones are followed to their
 *                                             result (long poll); prints the JSON answer
 * Values are JSON when they parse as JSON (numbers, true, ["a","b"], {...}), else strings.
 * ZS_URL (default http://127.0.0.1:8080) and ZS_SESSION select the suite and the session.
 * Exit status: 0 on 2xx, 1 otherwise. */
#include "api.h"
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len;
} buffer_t;

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
    buffer_t *b = arg;
    char *more = realloc(b->data, b->len + size * n + 1);
    if (!more)
        return 0;
    b->data = more;
    memcpy(b->data + b->len, p, size * n);
    b->len += size * n;
    b->data[b->len] = '\0';
    return size * n;
}

/* Performs one HTTP call; returns the status and the parsed body (new reference or NULL). */
static long http(const char *method, const char *url, const char *body, json_t **out)
{
    CURL *c = curl_easy_init();
    buffer_t b = {NULL, 0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json;charset=UTF-8");
    const char *session = getenv("ZS_SESSION");
    char auth[128];
    if (session) {
        snprintf(auth, sizeof auth, "Authorization: OAuth %s", session);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "zs: cannot reach %s\n", url);
    *out = b.data ? json_loads(b.data, 0, NULL) : NULL;
    free(b.data);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static json_t *parse_value(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

static void append_query(char *url, size_t size, const char *key, const json_t *v)
{
    char *enc_key = curl_easy_escape(NULL, key, 0);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            append_query(url, size, key, e);
    } else {
        char *text = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
        char *enc = curl_easy_escape(NULL, text, 0);
        snprintf(url + strlen(url), size - strlen(url), "%c%s=%s", strchr(url, '?') ? '&' : '?', enc_key, enc);
        curl_free(enc);
        free(text);
    }
    curl_free(enc_key);
}

/* Builds the URL (path placeholders filled from params, which loses them) and the body. */
static int build(const zs_api_t *api, json_t *params, const char *base, char *url, size_t size,
                 char **body)
{
    snprintf(url, size, "%s/zstack/v1", base);
    for (const char *p = api->path; *p;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
            const char *v = json_string_value(json_object_get(params, name));
            if (!v) {
                fprintf(stderr, "zs: %s needs %s=...\n", api->name, name);
                return -1;
            }
            snprintf(url + strlen(url), size - strlen(url), "%s", v);
            json_object_del(params, name);
            p = end + 1;
        } else {
            size_t n = strcspn(p, "{");
            snprintf(url + strlen(url), size - strlen(url), "%.*s", (int)n, p);
            p += n;
        }
    }
    *body = NULL;
    if (strcmp(api->method, "GET") == 0 || strcmp(api->method, "DELETE") == 0) {
        const char *k;
        json_t *v;
        json_object_foreach(params, k, v)
            append_query(url, size, k, v);
        return 0;
    }
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)strcspn(api->action ? api->action : "params", "|"),
             api->action ? api->action : "params");
    json_t *doc = json_pack("{s:O}", key, params);
    *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return 0;
}

static int print(long status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_INDENT(2)) : NULL;
    printf("%s\n", text ? text : "");
    free(text);
    json_decref(body);
    return status >= 200 && status < 300 ? 0 : 1;
}

static int call(const zs_api_t *api, int argc, char **argv, const char *base)
{
    json_t *params = json_object();
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "zs: arguments are name=value, got '%s'\n", argv[i]);
            json_decref(params);
            return 2;
        }
        *eq = '\0';
        json_t *v = parse_value(eq + 1), *old = json_object_get(params, argv[i]);
        if (old && !json_is_array(old))   /* repeated: a list (q=a q=b) */
            json_object_set_new(params, argv[i], json_pack("[O]", old));
        old = json_object_get(params, argv[i]);
        if (json_is_array(old) && !json_is_array(v))
            json_array_append_new(old, v);
        else
            json_object_set_new(params, argv[i], v);
    }
    char url[8192], *body;
    int rc = build(api, params, base, url, sizeof url, &body);
    json_decref(params);
    if (rc != 0)
        return 2;
    json_t *out;
    long status = http(api->method, url, body, &out);
    free(body);
    while (status == 202 && json_string_value(json_object_get(out, "location"))) {
        char poll[2048];
        snprintf(poll, sizeof poll, "%s?wait=30", json_string_value(json_object_get(out, "location")));
        json_decref(out);
        status = http("GET", poll, NULL, &out);
    }
    return print(status, out);
}

int main(int argc, char **argv)
{
    const char *base = getenv("ZS_URL") ? getenv("ZS_URL") : "http://127.0.0.1:8080";
    if (argc < 2) {
        fprintf(stderr, "usage: zs list | zs login <account> <password> | zs <API> [name=value ...]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 0;
    if (strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < zs_api_count(); i++) {
            const zs_api_t *a = zs_api_at(i);
            if (a->method)
                printf("%-32s %-6s /zstack/v1%s%s%s\n", a->name, a->method, a->path,
                       a->action ? "  " : "", a->action ? a->action : "");
        }
    } else if (strcmp(argv[1], "login") == 0 && argc == 4) {
        unsigned char d[crypto_hash_sha512_BYTES];
        char hex[129], arg_name[300], arg_pw[200];
        crypto_hash_sha512(d, (const unsigned char *)argv[3], strlen(argv[3]));
        sodium_bin2hex(hex, sizeof hex, d, sizeof d);
        snprintf(arg_name, sizeof arg_name, "accountName=%s", argv[2]);
        snprintf(arg_pw, sizeof arg_pw, "password=%s", hex);
        char *args[] = {arg_name, arg_pw};
        rc = call(zs_api_find("LogInByAccount"), 2, args, base);
    } else {
        const zs_api_t *api = zs_api_find(argv[1]);
        if (!api || !api->method) {
            fprintf(stderr, "zs: no API named %s (zs list shows them)\n", argv[1]);
            rc = 2;
        } else {
            rc = call(api, argc - 2, argv + 2, base);
        }
    }
    curl_global_cleanup();
    return rc;
}
