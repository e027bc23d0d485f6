/* msg.c — see msg.h. */
#include "msg.h"
#include "error.h"
#include "pack.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The envelope is written and read member by member: building it as a jansson object (and
 * reading it back as one) cost a dozen allocations per message on every hop. */

static int pack_key(msgpack_packer *pk, const char *key)
{
    size_t n = strlen(key);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, key, n) ? -1 : 0;
}

static int pack_text(msgpack_packer *pk, const char *key, const char *text)
{
    size_t n = strlen(text);
    return pack_key(pk, key) || msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, text, n) ? -1 : 0;
}

static int pack_bool(msgpack_packer *pk, const char *key, bool v)
{
    return pack_key(pk, key) || (v ? msgpack_pack_true(pk) : msgpack_pack_false(pk)) ? -1 : 0;
}

static int pack_int(msgpack_packer *pk, const char *key, int64_t v)
{
    return pack_key(pk, key) || msgpack_pack_int64(pk, v) ? -1 : 0;
}

/* A reply the requester will write as it comes: the body rendered as rest.md's bodies are
 * (compact, members in their order; an object or an array, as json_dumps renders by
 * default), at most as long as a decoder takes one string. */
static bool renders_json(const zs_msg_t *m)
{
    return m->kind == 'R' && m->want_json && m->ok && (json_is_object(m->body) || json_is_array(m->body))
           && (m->status == 0 || m->status == 200);
}

static int pack_body(msgpack_packer *pk, const zs_msg_t *m)
{
    if (m->json && m->kind == 'R' && m->ok)   /* decoded as text: sent on as it came */
        return pack_key(pk, "json") || msgpack_pack_str(pk, m->json_len)
               || msgpack_pack_str_body(pk, m->json, m->json_len);
    if (renders_json(m)) {
        int rc = zs_pack_json_text(pk, "json", m->body, JSON_COMPACT, zs_pack_default_limits.max_string);
        if (rc <= 0)
            return rc;   /* longer than a string may be: sent as a body after all */
    }
    return pack_key(pk, "body") || (m->body ? zs_pack_into(pk, m->body) : msgpack_pack_map(pk, 0));
}

int zs_msg_pack(const zs_msg_t *m, const char **buf, size_t *len)
{
    msgpack_packer *pk = zs_pack_start(ZS_PACK_MESSAGE);
    char kind[2] = {m->kind, 0};
    /* Without its caller a request would read as a system call: a member that could not be
     * written fails the encoding. */
    int rc = !pk || msgpack_pack_map(pk, 9 + (m->caller != NULL) + m->want_json)
             || pack_int(pk, "v", 1) || pack_text(pk, "k", kind) || pack_text(pk, "api", m->api)
             || pack_text(pk, "id", m->id) || pack_bool(pk, "job", m->job)
             || pack_int(pk, "dl", m->deadline) || pack_bool(pk, "ok", m->ok)
             || pack_int(pk, "st", m->status)
             || (m->caller && (pack_key(pk, "caller") || zs_pack_into(pk, m->caller)))
             || (m->want_json && pack_bool(pk, "rj", true))
             || pack_body(pk, m);
    if (rc)
        return -1;
    zs_pack_result(ZS_PACK_MESSAGE, buf, len);
    return 0;
}

int zs_msg_encode(const zs_msg_t *m, char **buf, size_t *len)
{
    const char *bytes;
    if (zs_msg_pack(m, &bytes, len) != 0 || !(*buf = malloc(*len)))
        return -1;
    memcpy(*buf, bytes, *len);
    return 0;
}

/* Printable ASCII without spaces (api names, topics, ids), shorter than `size`, copied with
 * its NUL. */
static int copy_text(char *dst, size_t size, const msgpack_object *v)
{
    if (!v || v->type != MSGPACK_OBJECT_STR || v->via.str.size >= size)
        return -1;
    for (uint32_t i = 0; i < v->via.str.size; i++)
        if (v->via.str.ptr[i] <= ' ' || v->via.str.ptr[i] > '~')
            return -1;
    memcpy(dst, v->via.str.ptr, v->via.str.size);
    dst[v->via.str.size] = 0;
    return 0;
}

/* A malloc'd NUL-terminated copy of str `v`, or NULL when memory runs out. */
static char *text_copy(const msgpack_object *v, size_t *len)
{
    char *t = malloc(v->via.str.size + 1);
    if (t) {
        memcpy(t, v->via.str.ptr, v->via.str.size);
        t[v->via.str.size] = 0;
        *len = v->via.str.size;
    }
    return t;
}

static bool is_int(const msgpack_object *v)
{
    return v && (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER);
}

static int64_t int_of(const msgpack_object *v)
{
    return v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (int64_t)v->via.u64 : v->via.i64;
}

static bool is_bool(const msgpack_object *v)
{
    return v && v->type == MSGPACK_OBJECT_BOOLEAN;
}

/* The envelope's members, found by name; NULL when absent. */
enum { V, K, API, ID, JOB, DL, OK, ST, CALLER, BODY, RJ, JSON, NMEMBERS };
static const char *const member_names[NMEMBERS] = {"v", "k", "api", "id", "job", "dl", "ok", "st",
                                                   "caller", "body", "rj", "json"};

/* Finds the members of map `o`: NULL when every name appears at most once, else why not. */
static const char *members_of(const msgpack_object *o, const msgpack_object *found[NMEMBERS])
{
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        for (int j = 0; j < NMEMBERS; j++)
            if (kv->key.via.str.size == strlen(member_names[j])
                && memcmp(kv->key.via.str.ptr, member_names[j], kv->key.via.str.size) == 0) {
                if (found[j])
                    return "a member appears twice";
                found[j] = &kv->val;
            }
    }
    return NULL;
}

int zs_msg_decode(const void *buf, size_t len, zs_msg_t *m, json_t **error)
{
    memset(m, 0, sizeof *m);
    zs_pack_limits_t limits = zs_pack_default_limits;
    limits.max_bytes = ZS_MSG_MAX_BYTES;
    const msgpack_object *o = zs_unpack_raw(buf, len, &limits, error);
    if (!o)
        return -1;
    const msgpack_object *f[NMEMBERS] = {0};
    const char *why = o->type != MSGPACK_OBJECT_MAP ? "envelope is not a map" : members_of(o, f);
    if (why)
        ;
    else if (!is_int(f[V]) || int_of(f[V]) != 1)
        why = "unsupported envelope version";
    else if (!f[K] || f[K]->type != MSGPACK_OBJECT_STR || f[K]->via.str.size != 1
             || !f[K]->via.str.ptr[0] || !strchr("QREA", f[K]->via.str.ptr[0]))
        why = "bad message kind";
    else if (copy_text(m->api, sizeof m->api, f[API]))
        why = "bad api name";
    else if (copy_text(m->id, sizeof m->id, f[ID]))
        why = "bad request id";
    else if (!is_bool(f[JOB]) || !is_bool(f[OK]))
        why = "bad flags";
    else if (!is_int(f[DL]) || !is_int(f[ST]))
        why = "bad deadline or status";
    else if (f[CALLER] && f[CALLER]->type != MSGPACK_OBJECT_MAP)
        why = "bad caller";
    else if (int_of(f[ST]) != 0 && (int_of(f[ST]) < 100 || int_of(f[ST]) > 599))
        why = "status out of range";
    else if (f[RJ] && !is_bool(f[RJ]))
        why = "bad rj flag";
    else if (f[JSON] && (f[JSON]->type != MSGPACK_OBJECT_STR || f[BODY] || f[K]->via.str.ptr[0] != 'R'
                         || !f[OK]->via.boolean))
        why = "json text only instead of the body of a successful reply";
    if (why) {
        zs_unpack_done();
        memset(m, 0, sizeof *m);
        return zs_fail(error, ZS_SYS_INVALID, "envelope: %s", why);
    }
    m->kind = f[K]->via.str.ptr[0];
    m->job = f[JOB]->via.boolean;
    m->ok = f[OK]->via.boolean;
    m->deadline = int_of(f[DL]);
    m->status = (int)int_of(f[ST]);
    m->want_json = f[RJ] && f[RJ]->via.boolean;
    if (f[JSON] && !(m->json = text_copy(f[JSON], &m->json_len))) {
        zs_unpack_done();
        memset(m, 0, sizeof *m);
        return zs_fail(error, ZS_SYS_INTERNAL, "envelope: out of memory");
    }
    if (f[CALLER])
        m->caller = zs_unpack_object(f[CALLER], error);
    if (!f[CALLER] || m->caller)   /* no body is an empty one */
        m->body = f[BODY] ? zs_unpack_object(f[BODY], error) : json_object();
    bool had_body = f[BODY] != NULL;
    zs_unpack_done();   /* f[] points into the zone: not past here */
    if (!m->body) {
        zs_msg_clear(m);
        if (!had_body && error && !*error)
            *error = zs_error(ZS_SYS_INTERNAL, "envelope: out of memory");
        return -1;
    }
    return 0;
}

void zs_msg_clear(zs_msg_t *m)
{
    json_decref(m->caller);
    json_decref(m->body);
    free(m->json);
    memset(m, 0, sizeof *m);
}

void zs_msg_reply(zs_msg_t *r, const zs_msg_t *req, bool ok, int status, json_t *body)
{
    memset(r, 0, sizeof *r);
    r->kind = 'R';
    memcpy(r->api, req->api, sizeof r->api);
    memcpy(r->id, req->id, sizeof r->id);
    r->job = req->job;
    r->want_json = req->want_json;
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
