/* pack.c — see pack.h.
 *
 * Decoding runs in two passes. The first (`walk_*`) reads the raw bytes with its own bounds
 * checks and allocates nothing, so a hostile header such as "array of 4 billion elements"
 * is refused before msgpack-c sizes its zone from it. Only bytes that passed the walk reach
 * msgpack_unpack_next; the second pass turns its object tree into jansson values, refusing
 * what JSON cannot hold (invalid UTF-8, NaN, keys with NUL, duplicate keys). */
#include "pack.h"
#include <msgpack.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The walk and the conversion write their reason into a char buffer of ERRLEN bytes (the walk
 * must not allocate); zs_unpack turns it into the caller's error object. */
#define ERRLEN 128
#define OOM "msgpack: out of memory"

/* msgpack-c keeps open containers on a fixed stack (MSGPACK_EMBED_STACK_SIZE, 32, fixed
 * when the library was built; its header is internal) and fails past it, so a caller's
 * larger max_depth is clamped to what the decoder can actually take. */
#define DECODER_MAX_DEPTH 32u

/* Deeper than this zs_pack gives up: jansson lets callers build arbitrarily deep (or, by
 * mistake, cyclic) values and recursion must not run off the thread's stack. */
#define PACK_MAX_DEPTH 32   /* what zs_unpack (msgpack-c) can read back */

const zs_pack_limits_t zs_pack_default_limits = {
    .max_bytes = 8u << 20,
    .max_depth = 32,
    .max_elements = 1000000,
    .max_string = 4u << 20,
};

/* ---------------------------------------------------------------------------------------
 * Encoding */

static int pack_value(msgpack_packer *pk, const json_t *v, unsigned depth);

static int pack_array(msgpack_packer *pk, const json_t *v, unsigned depth)
{
    size_t n = json_array_size(v);
    if (n > UINT32_MAX || msgpack_pack_array(pk, n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (pack_value(pk, json_array_get(v, i), depth + 1) != 0)
            return -1;
    return 0;
}

static int pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    if (n > UINT32_MAX)
        return -1;
    return msgpack_pack_str(pk, n) == 0 && msgpack_pack_str_body(pk, s, n) == 0 ? 0 : -1;
}

static int pack_object(msgpack_packer *pk, const json_t *v, unsigned depth)
{
    size_t n = json_object_size(v);
    if (n > UINT32_MAX || msgpack_pack_map(pk, n) != 0)
        return -1;
    /* jansson's iterators take a non-const object although they do not modify it. */
    json_t *obj = (json_t *)v;
    for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
        const char *key = json_object_iter_key(it);
#if JANSSON_VERSION_HEX >= 0x020e00
        size_t klen = json_object_iter_key_len(it);  /* keys may hold NUL since 2.14 */
#else
        size_t klen = strlen(key);
#endif
        if (pack_str(pk, key, klen) != 0
            || pack_value(pk, json_object_iter_value(it), depth + 1) != 0)
            return -1;
    }
    return 0;
}

static int pack_value(msgpack_packer *pk, const json_t *v, unsigned depth)
{
    if (!v || depth > PACK_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_NULL:    return msgpack_pack_nil(pk);
    case JSON_TRUE:    return msgpack_pack_true(pk);
    case JSON_FALSE:   return msgpack_pack_false(pk);
    case JSON_INTEGER: return msgpack_pack_int64(pk, json_integer_value(v));
    case JSON_REAL:    return msgpack_pack_double(pk, json_real_value(v));
    case JSON_STRING:  return pack_str(pk, json_string_value(v), json_string_length(v));
    case JSON_ARRAY:   return pack_array(pk, v, depth);
    case JSON_OBJECT:  return pack_object(pk, v, depth);
    }
    return -1;
}

/* ---------------------------------------------------------------------------------------
 * Per-thread scratch: encode buffers and a decode zone kept from call to call. A fresh 8 KiB
 * sbuffer or zone per message is an allocation in glibc's large bins, and each one made it
 * consolidate its fast bins: 1-2 % of every process's time on the bus path, plus the
 * malloc/free pairs themselves. Freed when the thread ends. */

#define SCRATCH_KEEP (1u << 20)   /* a buffer grown beyond this is released, not kept */
#define ZONE_CHUNK 8192

typedef struct {
    msgpack_sbuffer out[2];   /* zs_pack_scratch_t */
    msgpack_packer packer[2];
    msgpack_zone *zone;
    msgpack_object root;
} scratch_t;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p)
{
    scratch_t *s = p;
    for (int i = 0; i < 2; i++)
        msgpack_sbuffer_destroy(&s->out[i]);
    if (s->zone)
        msgpack_zone_free(s->zone);
    free(s);
}

static void scratch_key_make(void)
{
    pthread_key_create(&scratch_key, scratch_free);
}

static scratch_t *scratch(void)
{
    pthread_once(&scratch_once, scratch_key_make);
    scratch_t *s = pthread_getspecific(scratch_key);
    if (s)
        return s;
    s = calloc(1, sizeof *s);
    if (s && !(s->zone = msgpack_zone_new(ZONE_CHUNK))) {
        free(s);
        return NULL;
    }
    if (s && pthread_setspecific(scratch_key, s) != 0) {
        scratch_free(s);
        return NULL;
    }
    return s;
}

msgpack_packer *zs_pack_start(zs_pack_scratch_t which)
{
    scratch_t *s = scratch();
    if (!s)
        return NULL;
    msgpack_sbuffer *sb = &s->out[which];
    if (sb->alloc > SCRATCH_KEEP) {
        msgpack_sbuffer_destroy(sb);
        msgpack_sbuffer_init(sb);
    }
    sb->size = 0;
    msgpack_packer_init(&s->packer[which], sb, msgpack_sbuffer_write);
    return &s->packer[which];
}

void zs_pack_result(zs_pack_scratch_t which, const char **buf, size_t *len)
{
    const msgpack_sbuffer *sb = &scratch()->out[which];
    *buf = sb->data;
    *len = sb->size;
}

int zs_pack_into(msgpack_packer *pk, const json_t *value)
{
    return pack_value(pk, value, 0);
}

/* json_dump_callback's sink: appends to the packer's buffer. */
static int append_text(const char *text, size_t n, void *data)
{
    msgpack_packer *pk = data;
    return pk->callback(pk->data, text, n) == 0 ? 0 : -1;
}

int zs_pack_json_text(msgpack_packer *pk, const char *key, const json_t *value, size_t flags, size_t max)
{
    msgpack_sbuffer *sb = pk->data;   /* zs_pack_start's packers write into an sbuffer */
    size_t mark = sb->size, klen = strlen(key);
    /* The text's length is known once it is rendered: a str32 header is written first and
     * its length filled in after, so the text is rendered once and never copied. */
    static const char str32[5] = {(char)0xdb, 0, 0, 0, 0};
    if (msgpack_pack_str(pk, klen) || msgpack_pack_str_body(pk, key, klen)
        || pk->callback(pk->data, str32, sizeof str32)) {
        sb->size = mark;
        return -1;
    }
    size_t at = sb->size;
    if (json_dump_callback(value, append_text, pk, flags) != 0) {
        sb->size = mark;
        return -1;
    }
    size_t n = sb->size - at;
    if (n > max || n > UINT32_MAX) {
        sb->size = mark;
        return 1;
    }
    for (int i = 0; i < 4; i++)
        sb->data[at - 4 + i] = (char)(n >> (24 - 8 * i));
    return 0;
}

int zs_pack_borrowed(const json_t *value, const char **buf, size_t *len)
{
    msgpack_packer *pk = zs_pack_start(ZS_PACK_RECORD);
    if (!pk || pack_value(pk, value, 0) != 0)
        return -1;
    zs_pack_result(ZS_PACK_RECORD, buf, len);
    return 0;
}

int zs_pack(const json_t *value, char **buf, size_t *len)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    if (pack_value(&pk, value, 0) != 0) {
        msgpack_sbuffer_destroy(&sb);
        return -1;
    }
    *len = sb.size;
    *buf = msgpack_sbuffer_release(&sb);   /* sbuffer allocates with malloc: free() works */
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Validation walk: bounds, limits and types, on raw bytes, without allocating. */

typedef struct {
    const uint8_t *p, *end;
    size_t elements;          /* claimed entries so far, all containers together */
    unsigned max_depth;
    const zs_pack_limits_t *lim;
    char *err;
} walk_t;

static int fail(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, ERRLEN, fmt, ap);
    va_end(ap);
    return -1;
}

static size_t remain(const walk_t *w)
{
    return (size_t)(w->end - w->p);
}

/* Reads an n-byte big-endian unsigned (n <= 8) and advances; -1 when the input ends first. */
static int take_uint(walk_t *w, unsigned n, uint64_t *out)
{
    if (remain(w) < n)
        return fail(w->err, "msgpack: input ends inside a value (%u-byte field, %zu bytes remain)",
                    n, remain(w));
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v = v << 8 | w->p[i];
    w->p += n;
    *out = v;
    return 0;
}

static int skip(walk_t *w, unsigned n)
{
    uint64_t ignored;
    return take_uint(w, n, &ignored);
}

static bool is_str_type(uint8_t b)
{
    return (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
}

static int walk_str(walk_t *w, uint64_t n)
{
    if (n > w->lim->max_string)
        return fail(w->err, "msgpack: string of %llu bytes exceeds the %zu-byte limit",
                    (unsigned long long)n, w->lim->max_string);
    if (n > remain(w))
        return fail(w->err, "msgpack: string claims %llu bytes but %zu bytes remain",
                    (unsigned long long)n, remain(w));
    w->p += n;
    return 0;
}

static int walk_value(walk_t *w, unsigned depth);

/* `depth` is the depth of the container being opened: 1 for a top-level array. */
static int walk_container(walk_t *w, uint64_t n, bool is_map, unsigned depth)
{
    if (depth > w->max_depth)
        return fail(w->err, "msgpack: nesting deeper than %u", w->max_depth);
    /* Every element takes at least one byte, every map entry two (key and value). */
    uint64_t min_bytes = is_map ? 2 * n : n;
    if (min_bytes > remain(w))
        return fail(w->err, "msgpack: %s claims %llu %s but %zu bytes remain",
                    is_map ? "map" : "array", (unsigned long long)n,
                    is_map ? "entries" : "elements", remain(w));
    if (n > w->lim->max_elements - w->elements)
        return fail(w->err, "msgpack: more than %zu elements in total", w->lim->max_elements);
    w->elements += n;
    for (uint64_t i = 0; i < n; i++) {
        if (is_map) {
            /* Earlier entries may have used up the bytes the claim check counted on. */
            if (remain(w) == 0)
                return fail(w->err, "msgpack: input ends where a map key should start");
            if (!is_str_type(*w->p))
                return fail(w->err, "msgpack: map key is not a string (type byte 0x%02x)",
                            *w->p);
            if (walk_value(w, depth) != 0)
                return -1;
        }
        if (walk_value(w, depth) != 0)
            return -1;
    }
    return 0;
}

/* Walks one value whose enclosing container is at `depth` (0 at top level). */
static int walk_value(walk_t *w, unsigned depth)
{
    if (remain(w) == 0)
        return fail(w->err, "msgpack: input ends where a value should start");
    uint8_t b = *w->p++;
    uint64_t n = 0;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;                                   /* fixint, nil, bool: the byte is all */
    if (b <= 0x8f)
        return walk_container(w, b & 0x0f, true, depth + 1);
    if (b <= 0x9f)
        return walk_container(w, b & 0x0f, false, depth + 1);
    if (b <= 0xbf)
        return walk_str(w, b & 0x1f);
    switch (b) {
    case 0xc1:
        return fail(w->err, "msgpack: type byte 0xc1 is never used");
    case 0xc4: case 0xc5: case 0xc6:
        return fail(w->err, "msgpack: bin values are not accepted (type byte 0x%02x)", b);
    case 0xc7: case 0xc8: case 0xc9:
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        return fail(w->err, "msgpack: ext values are not accepted (type byte 0x%02x)", b);
    case 0xca: return skip(w, 4);                   /* float 32 */
    case 0xcb: return skip(w, 8);                   /* float 64 */
    case 0xcc: return skip(w, 1);                   /* uint 8 .. 32 always fit int64 */
    case 0xcd: return skip(w, 2);
    case 0xce: return skip(w, 4);
    case 0xcf:
        if (take_uint(w, 8, &n) != 0)
            return -1;
        if (n > INT64_MAX)
            return fail(w->err, "msgpack: integer %llu is beyond int64", (unsigned long long)n);
        return 0;
    case 0xd0: return skip(w, 1);                   /* int 8 .. 64 */
    case 0xd1: return skip(w, 2);
    case 0xd2: return skip(w, 4);
    case 0xd3: return skip(w, 8);
    case 0xd9: return take_uint(w, 1, &n) ? -1 : walk_str(w, n);
    case 0xda: return take_uint(w, 2, &n) ? -1 : walk_str(w, n);
    case 0xdb: return take_uint(w, 4, &n) ? -1 : walk_str(w, n);
    case 0xdc: return take_uint(w, 2, &n) ? -1 : walk_container(w, n, false, depth + 1);
    case 0xdd: return take_uint(w, 4, &n) ? -1 : walk_container(w, n, false, depth + 1);
    case 0xde: return take_uint(w, 2, &n) ? -1 : walk_container(w, n, true, depth + 1);
    case 0xdf: return take_uint(w, 4, &n) ? -1 : walk_container(w, n, true, depth + 1);
    }
    return fail(w->err, "msgpack: unknown type byte 0x%02x", b);   /* not reached */
}

static int validate(const uint8_t *buf, size_t len, const zs_pack_limits_t *lim, char *err)
{
    if (len == 0)
        return fail(err, "msgpack: empty input");
    if (!buf)
        return fail(err, "msgpack: no input buffer");
    if (len > lim->max_bytes)
        return fail(err, "msgpack: input of %zu bytes exceeds the %zu-byte limit",
                    len, lim->max_bytes);
    walk_t w = {
        .p = buf, .end = buf + len, .lim = lim, .err = err,
        .max_depth = lim->max_depth < DECODER_MAX_DEPTH ? lim->max_depth : DECODER_MAX_DEPTH,
    };
    if (walk_value(&w, 0) != 0)
        return -1;
    if (w.p != w.end)
        return fail(err, "msgpack: %zu trailing bytes after the value", remain(&w));
    return 0;
}

/* ---------------------------------------------------------------------------------------
 * Conversion: msgpack-c's object tree to jansson. Shapes are already known to be sound. */

static json_t *to_json(const msgpack_object *o, char *err);

static json_t *str_to_json(const msgpack_object_str *s, char *err)
{
    /* json_stringn checks UTF-8; a NUL inside is legal JSON text ("\u0000"). */
    json_t *j = json_stringn(s->size ? s->ptr : "", s->size);
    if (!j)
        fail(err, "msgpack: string of %u bytes is not valid UTF-8", s->size);
    return j;
}

static json_t *array_to_json(const msgpack_object_array *a, char *err)
{
    json_t *arr = json_array();
    if (!arr)
        return fail(err, OOM), NULL;
    for (uint32_t i = 0; i < a->size; i++) {
        json_t *v = to_json(&a->ptr[i], err);
        if (!v || json_array_append_new(arr, v) != 0) {
            if (v)
                fail(err, OOM);
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Adds one entry. The key is checked in place (NUL, duplicate) and handed to jansson with
 * its length, which refuses invalid UTF-8. */
static int map_entry(json_t *obj, const msgpack_object_kv *kv, char *err)
{
    const char *k = kv->key.via.str.size ? kv->key.via.str.ptr : "";
    size_t n = kv->key.via.str.size;
    if (memchr(k, 0, n))
        return fail(err, "msgpack: map key contains a NUL byte");
    if (json_object_getn(obj, k, n))
        return fail(err, "msgpack: duplicate map key \"%.*s\"", n > 40 ? 40 : (int)n, k);
    json_t *v = to_json(&kv->val, err);
    if (!v)
        return -1;
    if (json_object_setn_new(obj, k, n, v) == 0)   /* steals v, also on failure */
        return 0;
    json_t *probe = json_stringn(k, n);   /* which refusal: the key's UTF-8, or memory */
    if (probe) {
        json_decref(probe);
        return fail(err, OOM);
    }
    return fail(err, "msgpack: string of %zu bytes is not valid UTF-8", n);
}

static json_t *map_to_json(const msgpack_object_map *m, char *err)
{
    json_t *obj = json_object();
    if (!obj)
        return fail(err, OOM), NULL;
    for (uint32_t i = 0; i < m->size; i++) {
        if (m->ptr[i].key.type != MSGPACK_OBJECT_STR) {   /* the walk refused this already */
            fail(err, "msgpack: map key is not a string");
            json_decref(obj);
            return NULL;
        }
        if (map_entry(obj, &m->ptr[i], err) != 0) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}

static json_t *to_json(const msgpack_object *o, char *err)
{
    json_t *j = NULL;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        j = json_null();
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        j = json_boolean(o->via.boolean);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > INT64_MAX)                     /* the walk refused this already */
            return fail(err, "msgpack: integer beyond int64"), NULL;
        j = json_integer((json_int_t)o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        j = json_integer((json_int_t)o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        /* json_real refuses NaN and infinities, which JSON cannot write either. */
        j = json_real(o->via.f64);
        if (!j)
            return fail(err, "msgpack: real is NaN or infinite"), NULL;
        break;
    case MSGPACK_OBJECT_STR:
        return str_to_json(&o->via.str, err);
    case MSGPACK_OBJECT_ARRAY:
        return array_to_json(&o->via.array, err);
    case MSGPACK_OBJECT_MAP:
        return map_to_json(&o->via.map, err);
    default:                                            /* bin, ext: refused by the walk */
        return fail(err, "msgpack: unsupported type %d", (int)o->type), NULL;
    }
    if (!j)
        fail(err, OOM);
    return j;
}

const msgpack_object *zs_unpack_raw(const void *buf, size_t len, const zs_pack_limits_t *limits,
                                    json_t **error)
{
    char err[ERRLEN] = "";
    if (validate(buf, len, limits ? limits : &zs_pack_default_limits, err) != 0) {
        zs_fail(error, ZS_SYS_INVALID, "%s", err);
        return NULL;
    }
    scratch_t *s = scratch();
    if (!s) {
        zs_fail(error, ZS_SYS_INTERNAL, "%s", OOM);
        return NULL;
    }
    msgpack_zone_clear(s->zone);   /* keeps its first chunk: no allocation for a small value */
    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack(buf, len, &off, s->zone, &s->root);
    if (rc == MSGPACK_UNPACK_SUCCESS && off == len)
        return &s->root;
    if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
        zs_fail(error, ZS_SYS_INTERNAL, "%s", OOM);
    else   /* the walk should make this moot */
        zs_fail(error, ZS_SYS_INVALID, "msgpack: decoder refused the input (code %d)", (int)rc);
    return NULL;
}

json_t *zs_unpack_object(const msgpack_object *o, json_t **error)
{
    char err[ERRLEN] = "";
    json_t *out = to_json(o, err);
    if (!out)
        zs_fail(error, strcmp(err, OOM) == 0 ? ZS_SYS_INTERNAL : ZS_SYS_INVALID, "%s", err);
    return out;
}

void zs_unpack_done(void)
{
    pthread_once(&scratch_once, scratch_key_make);   /* no key yet: no zone to clear either */
    scratch_t *s = pthread_getspecific(scratch_key);
    if (s)
        msgpack_zone_clear(s->zone);
}

json_t *zs_unpack(const void *buf, size_t len, const zs_pack_limits_t *limits, json_t **error)
{
    const msgpack_object *o = zs_unpack_raw(buf, len, limits, error);
    json_t *value = o ? zs_unpack_object(o, error) : NULL;
    zs_unpack_done();
    return value;
}
