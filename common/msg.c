/* msg.c — see msg.h. */
#include "msg.h"
#include "error.h"
#include "pack.h"
#include <stdio.h>
#include <string.h>

int zs_msg_encode(const zs_msg_t *m, char **buf, size_t *len)
{
    char kind[2] = {m->kind, 0};
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:b, s:I, s:b, s:i}", "v", 1, "k", kind,
                          "api", m->api, "id", m->id, "job", m->job, "dl", (json_int_t)m->deadline,
                          "ok", m->ok, "st", m->status);
    if (!o)
        return -1;
    /* Without its caller a request would read as a system call: a member that could not be
     * added fails the encoding. */
    int rc = (m->caller && json_object_set(o, "caller", m->caller) != 0) ||
             json_object_set_new(o, "body", m->body ? json_incref(m->body) : json_object()) != 0
                 ? -1 : zs_pack(o, buf, len);
    json_decref(o);
    return rc;
}

static int copy_text(char *dst, size_t size, json_t *v)
{
    const char *s = json_string_value(v);
    if (!s || strlen(s) >= size)
        return -1;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

int zs_msg_decode(const void *buf, size_t len, zs_msg_t *m, json_t **error)
{
    memset(m, 0, sizeof *m);
    zs_pack_limits_t limits = zs_pack_default_limits;
    limits.max_bytes = ZS_MSG_MAX_BYTES;
    json_t *o = zs_unpack(buf, len, &limits, error);
    if (!o)
        return -1;
    const char *why = NULL;
    json_t *kind = json_object_get(o, "k");
    if (!json_is_object(o))
        why = "envelope is not a map";
    else if (json_integer_value(json_object_get(o, "v")) != 1)
        why = "unsupported envelope version";
    else if (!json_is_string(kind) || json_string_length(kind) != 1 ||
             !json_string_value(kind)[0] || !strchr("QREA", json_string_value(kind)[0]))
        why = "bad message kind";
    else if (copy_text(m->api, sizeof m->api, json_object_get(o, "api")))
        why = "bad api name";
    else if (copy_text(m->id, sizeof m->id, json_object_get(o, "id")))
        why = "bad request id";
    else if (!json_is_boolean(json_object_get(o, "job")) || !json_is_boolean(json_object_get(o, "ok")))
        why = "bad flags";
    else if (!json_is_integer(json_object_get(o, "dl")) || !json_is_integer(json_object_get(o, "st")))
        why = "bad deadline or status";
    json_t *caller = json_object_get(o, "caller");
    json_int_t st = json_integer_value(json_object_get(o, "st"));
    if (!why && caller && !json_is_object(caller))
        why = "bad caller";
    else if (!why && st != 0 && (st < 100 || st > 599))
        why = "status out of range";
    if (why) {
        json_decref(o);
        memset(m, 0, sizeof *m);
        return zs_fail(error, ZS_SYS_INVALID, "envelope: %s", why);
    }
    m->kind = json_string_value(kind)[0];
    m->job = json_is_true(json_object_get(o, "job"));
    m->ok = json_is_true(json_object_get(o, "ok"));
    m->deadline = json_integer_value(json_object_get(o, "dl"));
    m->status = (int)json_integer_value(json_object_get(o, "st"));
    m->caller = json_incref(caller);
    m->body = json_incref(json_object_get(o, "body"));
    if (!m->body)
        m->body = json_object();
    json_decref(o);
    if (!m->body) {
        zs_msg_clear(m);
        return zs_fail(error, ZS_SYS_INTERNAL, "envelope: out of memory");
    }
    return 0;
}

void zs_msg_clear(zs_msg_t *m)
{
    json_decref(m->caller);
    json_decref(m->body);
    memset(m, 0, sizeof *m);
}

void zs_msg_reply(zs_msg_t *r, const zs_msg_t *req, bool ok, int status, json_t *body)
{
    memset(r, 0, sizeof *r);
    r->kind = 'R';
    memcpy(r->api, req->api, sizeof r->api);
    memcpy(r->id, req->id, sizeof r->id);
    r->job = req->job;
    r->ok = ok;
    r->status = status;
    r->body = body ? body : json_object();
}

const char *zs_msg_account(const zs_msg_t *m)
{
    const char *a = json_string_value(json_object_get(m->caller, "accountUuid"));
    return a ? a : "";
}

bool zs_msg_admin(const zs_msg_t *m)
{
    return json_is_true(json_object_get(m->caller, "admin"));
}
