/* cli_call.c — HTTP calls driven by the API table, and the session stored by `zs login`. */
#include "cli.h"
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define URL_MAX 16384

typedef struct {
    char *data;
    size_t len;
} buffer_t;

static json_t *stored;   /* the session file's content, loaded once; NULL when none */
static bool loaded;

int cli_config_dir(char *out, size_t size, bool make)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, size, "%s/zs", xdg);
    else if (home && *home)
        n = snprintf(out, size, "%s/.config/zs", home);
    else
        return -1;
    if (n < 0 || (size_t)n >= size)
        return -1;
    if (make) {
        char parent[4096];
        snprintf(parent, sizeof parent, "%s", out);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = '\0';
            mkdir(parent, 0700);   /* ~/.config may not exist yet */
        }
        if (mkdir(out, 0700) != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

static int session_path(char *out, size_t size, bool make)
{
    char dir[4000];
    if (cli_config_dir(dir, sizeof dir, make) != 0)
        return -1;
    snprintf(out, size, "%s/session", dir);
    return 0;
}

static const json_t *stored_session(void)
{
    if (!loaded) {
        char path[4096];
        loaded = true;
        if (session_path(path, sizeof path, false) == 0)
            stored = json_load_file(path, 0, NULL);
    }
    return stored;
}

const char *cli_base_url(void)
{
    const char *env = getenv("ZS_URL");
    const char *file = json_string_value(json_object_get(stored_session(), "url"));
    return env && *env ? env : file ? file : "http://127.0.0.1:8080";
}

const char *cli_session(void)
{
    const char *env = getenv("ZS_SESSION");
    if (env && *env)
        return env;
    /* the kept session goes only to the suite that issued it, never to another ZS_URL */
    const char *url = json_string_value(json_object_get(stored_session(), "url"));
    if (!url || strcmp(url, cli_base_url()) != 0)
        return NULL;
    return json_string_value(json_object_get(stored_session(), "session"));
}

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

/* One HTTP exchange; returns the status (0 when unreachable) and the parsed body in *out
 * (new reference or NULL). */
static long http(const char *method, const char *url, const char *body, json_t **out)
{
    CURL *c = curl_easy_init();
    buffer_t b = {NULL, 0};
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json;charset=UTF-8");
    const char *session = cli_session();
    char auth[128];
    if (session) {
        snprintf(auth, sizeof auth, "Authorization: OAuth %.64s", session);
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
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "zs: cannot reach %s: %s\n", url, curl_easy_strerror(rc));
    *out = b.data ? json_loads(b.data, 0, NULL) : NULL;
    free(b.data);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static void append_query(char *url, size_t size, const char *key, const json_t *v)
{
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
            append_query(url, size, key, e);
        return;
    }
    char *enc_key = curl_easy_escape(NULL, key, 0);
    char *text = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_ENCODE_ANY);
    char *enc = curl_easy_escape(NULL, text, 0);
    size_t used = strlen(url);
    snprintf(url + used, size - used, "%c%s=%s", strchr(url, '?') ? '&' : '?', enc_key, enc);
    curl_free(enc);
    free(text);
    curl_free(enc_key);
}

/* Builds the URL (path placeholders filled from params, which loses them) and the body. */
static int build(const zs_api_t *api, json_t *params, char *url, size_t size, char **body)
{
    snprintf(url, size, "%s%s", cli_base_url(), api->flags & ZS_API_ROOT ? "" : "/zstack/v1");
    for (const char *p = api->path; *p;) {
        size_t used = strlen(url);
        if (*p == '{') {
            const char *end = strchr(p, '}');
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
            const json_t *v = json_object_get(params, name);
            if (!json_is_string(v)) {
                fprintf(stderr, "zs: %s needs %s=... (zs help %s)\n", api->name, name, api->name);
                return -1;
            }
            char *enc = curl_easy_escape(NULL, json_string_value(v), 0);
            snprintf(url + used, size - used, "%s", enc);
            curl_free(enc);
            json_object_del(params, name);
            p = end + 1;
        } else {
            size_t n = strcspn(p, "{");
            snprintf(url + used, size - used, "%.*s", (int)n, p);
            p += n;
        }
    }
    *body = NULL;
    if (strcmp(api->method, "GET") == 0 || strcmp(api->method, "DELETE") == 0) {
        if ((api->flags & ZS_API_ROOT) && api->action) {   /* RPC style: ?Action=<name> */
            json_t *a = json_string(api->action);
            append_query(url, size, "Action", a);
            json_decref(a);
        }
        const char *k;
        json_t *v;
        json_object_foreach(params, k, v)
            append_query(url, size, k, v);
        return 0;
    }
    char key[64];
    const char *action = api->action ? api->action : "params";
    snprintf(key, sizeof key, "%.*s", (int)strcspn(action, "|"), action);
    json_t *doc = json_pack("{s:O}", key, params);
    *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return 0;
}

/* Calls `api` with `params` (borrowed, modified); returns the HTTP status (0 unreachable,
 * -1 bad arguments) and the answer in *answer (new reference or NULL). */
static long invoke(const zs_api_t *api, json_t *params, json_t **answer)
{
    char *url = malloc(URL_MAX), *body;
    *answer = NULL;
    if (!url || build(api, params, url, URL_MAX, &body) != 0) {
        free(url);
        return -1;
    }
    long status = http(api->method, url, body, answer);
    free(body);
    while (status == 202 && json_string_value(json_object_get(*answer, "location"))) {
        snprintf(url, URL_MAX, "%s?wait=30", json_string_value(json_object_get(*answer, "location")));
        json_decref(*answer);
        status = http("GET", url, NULL, answer);
    }
    free(url);
    return status;
}

static json_t *parse_value(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v ? v : json_string(text);
}

/* argv's name=value words as an object; NULL (said on stderr) on a word without '='. */
static json_t *params_of(int argc, char **argv)
{
    json_t *params = json_object();
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i]) {
            fprintf(stderr, "zs: arguments are name=value, got '%s'\n", argv[i]);
            json_decref(params);
            return NULL;
        }
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - argv[i]), argv[i]);
        json_t *v = parse_value(eq + 1), *old = json_object_get(params, name);
        if (old && !json_is_array(old))   /* repeated: a list (q=a q=b) */
            json_object_set_new(params, name, json_pack("[O]", old));
        old = json_object_get(params, name);
        if (json_is_array(old) && !json_is_array(v))
            json_array_append_new(old, v);
        else
            json_object_set_new(params, name, v);
    }
    return params;
}

/* The `fields` parameter as a JSON array of names (new reference), or NULL. */
static json_t *fields_of(const json_t *params)
{
    const json_t *f = json_object_get(params, "fields");
    if (json_is_array(f))
        return json_deep_copy(f);
    if (!json_is_string(f))
        return NULL;
    json_t *out = json_array();
    const char *s = json_string_value(f);
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n)
            json_array_append_new(out, json_stringn(s, n));
        s += n + (s[n] == ',');
    }
    return out;
}

int cli_call(const zs_api_t *api, int argc, char **argv, cli_output_t out)
{
    json_t *params = params_of(argc, argv);
    if (!params)
        return CLI_USAGE;
    json_t *fields = fields_of(params), *answer;
    long status = invoke(api, params, &answer);
    json_decref(params);
    int rc = status < 0 ? CLI_USAGE : status >= 200 && status < 300 ? CLI_OK : CLI_FAILED;
    if (status > 0)
        cli_print(api, answer, fields, rc == CLI_OK, out);
    json_decref(answer);
    json_decref(fields);
    return rc;
}

/* Reads a password from the terminal without echo (or a line of stdin when not a tty). */
static int ask_password(char *out, size_t size)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool got = fgets(out, (int)size, stdin) != NULL;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    out[strcspn(out, "\r\n")] = '\0';
    return got ? 0 : -1;
}

static int store_session(const char *uuid, const char *account)
{
    char path[4096], tmp[4200];
    if (session_path(path, sizeof path, true) != 0) {
        fprintf(stderr, "zs: no config folder (set HOME or XDG_CONFIG_HOME)\n");
        return -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fprintf(stderr, "zs: cannot write %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    fchmod(fd, 0600);
    json_t *doc = json_pack("{s:s, s:s, s:s}", "url", cli_base_url(), "session", uuid, "account", account);
    char *text = json_dumps(doc, JSON_INDENT(2));
    json_decref(doc);
    size_t len = strlen(text);
    bool ok = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    free(text);
    ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
    if (!ok) {
        fprintf(stderr, "zs: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    json_decref(stored);
    stored = NULL;
    loaded = false;
    return 0;
}

int cli_login(int argc, char **argv, cli_output_t out)
{
    if (argc < 1 || argc > 2) {
        fprintf(stderr, "usage: zs login <account> [password]   (asks for the password when absent)\n");
        return CLI_USAGE;
    }
    char typed[1024];
    const char *password = argc == 2 ? argv[1] : NULL;
    if (!password) {
        if (ask_password(typed, sizeof typed) != 0)
            return CLI_USAGE;
        password = typed;
    }
    unsigned char d[crypto_hash_sha512_BYTES];
    char hex[129];
    crypto_hash_sha512(d, (const unsigned char *)password, strlen(password));
    sodium_bin2hex(hex, sizeof hex, d, sizeof d);
    sodium_memzero(typed, sizeof typed);
    json_t *params = json_pack("{s:s, s:s}", "accountName", argv[0], "password", hex), *answer;
    long status = invoke(zs_api_find("LogInByAccount"), params, &answer);
    json_decref(params);
    const char *uuid = json_string_value(json_object_get(json_object_get(answer, "inventory"), "uuid"));
    int rc = CLI_FAILED;
    if (status == 200 && uuid && store_session(uuid, argv[0]) == 0) {
        rc = CLI_OK;
        if (out == CLI_OUT_JSON)
            cli_print(zs_api_find("LogInByAccount"), answer, NULL, true, out);
        else
            printf("logged in as %s at %s (session kept in the config folder)\n", argv[0], cli_base_url());
    } else if (status > 0 && status != 200) {
        cli_print(zs_api_find("LogInByAccount"), answer, NULL, false, out);
    }
    json_decref(answer);
    return rc;
}

int cli_logout(void)
{
    const char *session = cli_session();
    char path[4096];
    if (!session) {
        fprintf(stderr, "zs: not logged in\n");
        return CLI_FAILED;
    }
    json_t *params = json_pack("{s:s}", "sessionUuid", session), *answer;
    long status = invoke(zs_api_find("LogOut"), params, &answer);
    json_decref(params);
    json_decref(answer);
    if (session_path(path, sizeof path, false) == 0)
        unlink(path);
    json_decref(stored);
    stored = NULL;
    loaded = true;
    if (status != 200)
        fprintf(stderr, "zs: the server did not end the session (HTTP %ld); forgot it here\n", status);
    return status == 200 ? CLI_OK : CLI_FAILED;
}
