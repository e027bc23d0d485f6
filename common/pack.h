/* pack.h — JSON values (jansson) to msgpack and back. msgpack is the bus and storage format;
 * jansson is the in-memory document every handler works with.
 *
 * Decoding treats its input as hostile: before anything is allocated the bytes are walked
 * once and refused when they exceed the limits (total size, nesting depth, element count,
 * string length), when a container claims more elements than bytes remain, when a map key is
 * not a string, when a string is not UTF-8, or when the type is ext/bin/an int beyond int64.
 * Also refused: map keys holding a NUL byte, duplicate map keys, NaN and infinite reals.
 * Any thread may call these; nothing is shared.
 */
#ifndef ZS_PACK_H
#define ZS_PACK_H
#include "error.h"
#include <jansson.h>
#include <msgpack.h>
#include <stddef.h>

typedef struct {
    size_t max_bytes;     /* whole input; default 8 MiB */
    unsigned max_depth;   /* containers inside containers (a top-level array is depth 1);
                           * default 32, which is also the most msgpack-c can decode:
                           * larger values act as 32 */
    size_t max_elements;  /* sum of all array + map entries; default 1,000,000 */
    size_t max_string;    /* one string; default 4 MiB */
} zs_pack_limits_t;

/* The defaults above. */
extern const zs_pack_limits_t zs_pack_default_limits;

/* Encodes `value` as msgpack. Returns 0 and sets *buf (malloc'd: the caller frees it) and
 * *len; -1 when memory runs out or `value` is NULL or nests deeper than 32 (which also
 * stops a cyclic value). Integers, reals, strings, true/false/null, arrays and objects map
 * to their msgpack counterparts, integers in their shortest msgpack form. */
int zs_pack(const json_t *value, char **buf, size_t *len);

/* The calling thread's two encode buffers, kept from call to call (no allocation once grown;
 * one grown beyond 1 MiB is released at its next start), freed when the thread ends: one for
 * stored records, one for bus messages, so a message can be encoded while a record's bytes
 * are still in use. */
typedef enum { ZS_PACK_RECORD, ZS_PACK_MESSAGE } zs_pack_scratch_t;

/* Empties the calling thread's buffer `which` and returns a packer writing into it (valid on
 * this thread until the next zs_pack_start of the same buffer), or NULL when memory ran out. */
msgpack_packer *zs_pack_start(zs_pack_scratch_t which);

/* What has been written since zs_pack_start(which): *buf is borrowed, valid until this
 * thread's next zs_pack_start(which). Only after a zs_pack_start(which) that succeeded. */
void zs_pack_result(zs_pack_scratch_t which, const char **buf, size_t *len);

/* Packs `value` as zs_pack does, into `pk` (to build a larger value by hand, as the bus
 * envelope does). Returns 0, or -1 as zs_pack. */
int zs_pack_into(msgpack_packer *pk, const json_t *value);

/* Packs the str `key`, then `value` rendered once as JSON text (json_dumps with `flags`) as a
 * msgpack str, straight into `pk`, which must come from zs_pack_start: for a reader that
 * writes the JSON as it comes (the gateway, rest.md's bodies) instead of decoding msgpack
 * into jansson and rendering it itself. Returns 0; 1 when the text would be longer than
 * `max` bytes; -1 when memory runs out or jansson cannot render `value`. On 1 and -1 nothing
 * is left written. */
int zs_pack_json_text(msgpack_packer *pk, const char *key, const json_t *value, size_t flags, size_t max);

/* zs_pack into the thread's record buffer: *buf is borrowed (zs_pack_result). Returns 0 or -1
 * as zs_pack. */
int zs_pack_borrowed(const json_t *value, const char **buf, size_t *len);

/* Validates `buf` as zs_unpack does and decodes it, without converting, into the calling
 * thread's reused zone. Returns the root, valid until this thread's next zs_unpack_raw or
 * zs_unpack and only while `buf` lives (strings point into it); NULL with *error set as by
 * zs_unpack. For readers taking a few members of a map themselves (the bus envelope). */
const msgpack_object *zs_unpack_raw(const void *buf, size_t len, const zs_pack_limits_t *limits,
                                    json_t **error);

/* Converts an object from zs_unpack_raw (or a member of one) to jansson with zs_unpack's
 * rules. Returns a new reference, or NULL with *error set as by zs_unpack. */
json_t *zs_unpack_object(const msgpack_object *o, json_t **error);

/* Ends the use of what zs_unpack_raw returned on this thread: the zone keeps its first chunk
 * and gives back what a large value made it take (else a thread that decoded one large
 * message would hold that memory while idle). */
void zs_unpack_done(void);

/* Decodes exactly one msgpack value filling all `len` bytes (trailing bytes are an error).
 * Returns a new reference, or NULL and, when `error` is not NULL, *error = SYS.1007 whose
 * details say why the input is refused (e.g. "msgpack: nesting deeper than 32"), or SYS.1000
 * "msgpack: out of memory". `limits` NULL means zs_pack_default_limits. */
json_t *zs_unpack(const void *buf, size_t len, const zs_pack_limits_t *limits, json_t **error);

#endif
