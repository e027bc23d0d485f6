/* msg.h — the bus envelope: every request, reply and event on the bus is one msgpack map
 *   {"v":1, "k":"Q"|"R"|"E"|"A", "api":name, "id":request id, "job":bool, "dl":deadline ms,
 *    "caller":{accountUuid, accountName, admin, session}, "ok":bool, "st":status, "body":...,
 *    "rj":bool (requests, optional), "json":text (replies, optional, instead of "body")}
 * A request's body is the API parameters; a reply's body is the result (ok) or an error
 * object (error.h); an event's body is its payload and `api` its topic.
 * Render once: a request with "rj" true says its sender writes a successful reply's body as
 * JSON text as it comes (the gateway). The reply to it (status 0 or 200) then carries the
 * body already rendered, compact, as "json": rendered once where it was built, instead of
 * encoded to msgpack there, decoded to jansson and rendered by the gateway.
 * Decoding bounds sizes and depth (pack.h) and checks every member's type.
 * Any thread may use these; a zs_msg_t belongs to one thread.
 */
#ifndef ZS_MSG_H
#define ZS_MSG_H
#include "error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZS_MSG_MAX_BYTES (16 * 1024 * 1024)

typedef struct {
    char kind;          /* 'Q' request, 'R' reply, 'E' event, 'A' acknowledgement: a service
                         * took async job `id` into its queue (the broker stops re-sending) */
    char api[128];      /* API (or event topic) name */
    char id[48];        /* request id; the job uuid for async work */
    bool job;           /* an async job: the service executes it at most once per id */
    int64_t deadline;   /* epoch ms after which the work must not start; 0 = none */
    json_t *caller;     /* owned; NULL for system calls */
    json_t *body;       /* owned; never NULL after decode (an empty object at least) */
    bool ok;            /* replies: success */
    int status;         /* replies: HTTP status hint, 0 = the default (200 / 503) */
    bool want_json;     /* requests: "rj"; a reply built by zs_msg_reply inherits it, and
                         * zs_msg_pack then renders a successful body as "json" */
    char *json;         /* decoded replies: the body as JSON text (NUL-terminated, owned,
                         * json_len bytes), body then an empty object; NULL when the reply
                         * came with a body. zs_msg_pack sends it on as it is, in a successful
                         * reply, so that a decoded message encodes to the same message. */
    size_t json_len;
} zs_msg_t;

/* Encodes into the calling thread's message buffer (pack.h: ZS_PACK_MESSAGE): *buf is
 * borrowed, valid until this thread's next zs_msg_pack or zs_msg_encode. For a message sent
 * at once (zmq_send copies it). Returns 0, or -1 as zs_msg_encode. */
int zs_msg_pack(const zs_msg_t *msg, const char **buf, size_t *len);

/* Encodes. Returns 0 and a malloc'd buffer the caller frees, or -1 (memory exhausted: an
 * envelope that would lose its caller or body is not written). */
int zs_msg_encode(const zs_msg_t *msg, char **buf, size_t *len);

/* Decodes into *msg (whose previous content is ignored). Returns 0 (the caller then owns
 * msg->caller / msg->body), or -1 with *msg zeroed and, when `error` is not NULL, *error
 * saying why: zs_unpack's error, or SYS.1007 "envelope: <which member is wrong>". The api
 * name and id must be printable ASCII without spaces; members other than the envelope's are
 * ignored, and none may appear twice. */
int zs_msg_decode(const void *buf, size_t len, zs_msg_t *msg, json_t **error);

/* Releases caller/body/json and zeroes the struct. */
void zs_msg_clear(zs_msg_t *msg);

/* Builds a reply to `req` (same api/id/job/want_json). `body` is stolen. */
void zs_msg_reply(zs_msg_t *reply, const zs_msg_t *req, bool ok, int status, json_t *body);

/* Caller helpers: account uuid ("" when none), admin flag. */
const char *zs_msg_account(const zs_msg_t *msg);
bool zs_msg_admin(const zs_msg_t *msg);

#endif
