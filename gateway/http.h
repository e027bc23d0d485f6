/* http.h — the gateway's HTTP plumbing over civetweb: reading a bounded body, parsing query
 * strings, and writing a whole JSON response in one write (headers and body together: two
 * writes meet Nagle + delayed ACK and cost 40 ms a request). Called on civetweb worker
 * threads; nothing here keeps state between calls. */
#ifndef ZS_GATEWAY_HTTP_H
#define ZS_GATEWAY_HTTP_H
#include <civetweb.h>
#include <jansson.h>

#define HTTP_MAX_QUERY_PARAMS 256
#define HTTP_MAX_JSON_DEPTH 20

/* Reads the request body, at most `limit` bytes. Returns 0 and a malloc'd NUL-terminated
 * buffer in *body (caller frees; NULL when there is no body), 413 when the body is larger
 * than limit, 400 on a read error or a body cut short of its Content-Length. */
int http_read_body(struct mg_connection *conn, size_t limit, char **body, size_t *len);

/* Parses a query string into an object: name -> string, or -> array of strings when the name
 * repeats. "q" and "fields" are always arrays. Returns a new object, or NULL with *why set
 * (static text) on too many parameters or bad encoding. */
json_t *http_parse_query(const char *qs, const char **why);

/* Scans JSON text without recursing or allocating: returns 0 when no array/object nests
 * deeper than `limit` levels, else the depth at which the scan stopped (> limit). Brackets
 * inside strings do not count; malformed text is left for the real parser to refuse. */
int http_json_depth(const char *text, size_t len, int limit);

/* Parses a JSON request body: must be an object no deeper than HTTP_MAX_JSON_DEPTH (checked
 * by http_json_depth before jansson sees a byte).
 * Returns a new reference or NULL with a message in err[256]. */
json_t *http_parse_json(const char *body, size_t len, char *err);

/* Sends `status` with `body` (stolen; NULL = no body) as JSON, plus optional extra header
 * lines (each ending "\r\n"). Returns status (civetweb logs it). */
int http_reply(struct mg_connection *conn, int status, json_t *body, const char *extra_headers);

/* Sends `status` with `len` bytes of JSON text (borrowed) as the body, as http_reply does. */
int http_reply_text(struct mg_connection *conn, int status, const char *text, size_t len,
                    const char *extra_headers);

/* Sends an error body {"error": error} (error stolen). */
int http_error(struct mg_connection *conn, int status, json_t *error);

/* The text of an HTTP status code ("Accepted"). */
const char *http_status_text(int status);

#endif
