/* http.c — see http.h. */
#include "http.h"
#include "error.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int http_read_body(struct mg_connection *conn, size_t limit, char **body, size_t *len)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    *body = NULL;
    *len = 0;
    if (ri->content_length > (long long)limit)
        return 413;   /* refused before reading a byte */
    size_t cap = ri->content_length >= 0 ? (size_t)ri->content_length + 1 : 4096;
    char *buf = malloc(cap);
    if (!buf)
        return 400;
    size_t n = 0;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > limit + 1) {
                free(buf);
                return 413;
            }
            cap = cap * 2 > limit + 2 ? limit + 2 : cap * 2;
            char *bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                return 400;
            }
            buf = bigger;
        }
        int r = mg_read(conn, buf + n, cap - n - 1);
        if (r < 0) {
            free(buf);
            return 400;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > limit) {
            free(buf);
            return 413;
        }
    }
    if (ri->content_length >= 0 && n < (size_t)ri->content_length) {
        free(buf);
        return 400;   /* cut short: the client closed, or the guard shut an overdue body */
    }
    buf[n] = '\0';
    if (n == 0) {
        free(buf);
        return 0;
    }
    *body = buf;
    *len = n;
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes %XX and '+' of [s, s+n) into a new string (NULL when out of memory). A '%' not
 * followed by two hex digits is a literal '%', as WHATWG URL parsing has it: ZStack users type
 * LIKE patterns (`q=tag~=reserved%`) raw in curl and browsers. UTF-8 is checked afterwards. */
static char *url_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int a = s[i] == '%' && i + 2 < n ? hexval(s[i + 1]) : -1;
        int b = a >= 0 ? hexval(s[i + 2]) : -1;
        if (b >= 0) {
            *o++ = (char)(a * 16 + b);
            i += 2;
        } else {
            *o++ = s[i] == '+' ? ' ' : s[i];
        }
    }
    *o = '\0';
    return out;
}

json_t *http_parse_query(const char *qs, const char **why)
{
    json_t *params = json_object();
    int count = 0;
    for (const char *p = qs; p && *p;) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0) {
            if (++count > HTTP_MAX_QUERY_PARAMS) {
                *why = "too many query parameters";
                json_decref(params);
                return NULL;
            }
            const char *eq = memchr(p, '=', n);
            size_t klen = eq ? (size_t)(eq - p) : n;
            char *key = url_decode(p, klen);
            char *val = eq ? url_decode(eq + 1, n - klen - 1) : strdup("");
            json_t *v = val ? json_string(val) : NULL;
            if (!key || !v) {
                free(key);
                free(val);
                json_decref(v);
                *why = "the query string is not valid percent-encoded UTF-8";
                json_decref(params);
                return NULL;
            }
            json_t *old = json_object_get(params, key);
            bool list = strcmp(key, "q") == 0 || strcmp(key, "fields") == 0;
            if (json_is_array(old)) {
                json_array_append_new(old, v);
            } else if (old || list) {
                json_t *arr = old ? json_pack("[O]", old) : json_array();
                json_array_append_new(arr, v);
                json_object_set_new(params, key, arr);
            } else {
                json_object_set_new(params, key, v);
            }
            free(key);
            free(val);
        }
        p = end ? end + 1 : NULL;
    }
    return params;
}

int http_json_depth(const char *text, size_t len, int limit)
{
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit)
                return depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

json_t *http_parse_json(const char *body, size_t len, char *err)
{
    /* Refused before jansson runs: its parser recurses once per level on a worker stack. */
    if (http_json_depth(body, len, HTTP_MAX_JSON_DEPTH) != 0) {
        snprintf(err, 256, "the JSON body nests deeper than %d levels", HTTP_MAX_JSON_DEPTH);
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        snprintf(err, 256, "malformed JSON body: %s (line %d, column %d)", je.text, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(v)) {
        snprintf(err, 256, "the JSON body must be an object");
        json_decref(v);
        return NULL;
    }
    return v;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

int http_reply_text(struct mg_connection *conn, int status, const char *text, size_t len,
                    const char *extra_headers)
{
    char head[1024];
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\n"
                        "Content-Length: %zu\r\n%s\r\n",
                        status, http_status_text(status), len, extra_headers ? extra_headers : "");
    if (hlen < 0 || (size_t)hlen >= sizeof head)
        return 500;
    char *all = malloc((size_t)hlen + len);
    if (all) {
        memcpy(all, head, (size_t)hlen);
        if (len)
            memcpy(all + hlen, text, len);
        mg_write(conn, all, (size_t)hlen + len);
        free(all);
    }
    return status;
}

int http_reply(struct mg_connection *conn, int status, json_t *body, const char *extra_headers)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    int rc = http_reply_text(conn, status, text, text ? strlen(text) : 0, extra_headers);
    free(text);
    return rc;
}

int http_error(struct mg_connection *conn, int status, json_t *error)
{
    return http_reply(conn, status, json_pack("{s:o}", "error", error), NULL);
}
