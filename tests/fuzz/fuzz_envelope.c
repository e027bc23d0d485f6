/* libFuzzer harness: bus envelopes (msg.h) from hostile bytes. Whatever decodes must
 * re-encode and decode to the same message. */
#include "msg.h"
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The body a message carries: a reply rendered once (msg.h) carries it as JSON text, which
 * must parse when zs_msg_pack rendered it. */
static json_t *body_of(const zs_msg_t *m)
{
    if (!m->json)
        return json_incref(m->body);
    json_t *body = json_loadb(m->json, m->json_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    assert(body);
    return body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zs_msg_t m;
    if (zs_msg_decode(data, size, &m, NULL) != 0)
        return 0;
    char *buf;
    size_t len;
    assert(zs_msg_encode(&m, &buf, &len) == 0);
    zs_msg_t again;
    assert(zs_msg_decode(buf, len, &again, NULL) == 0);
    assert(again.kind == m.kind && strcmp(again.api, m.api) == 0 && strcmp(again.id, m.id) == 0);
    if (m.json) {   /* a decoded text is sent on as it came, unparsed */
        assert(again.json && again.json_len == m.json_len && memcmp(again.json, m.json, m.json_len) == 0);
    } else {        /* a body may come back rendered */
        json_t *after = body_of(&again);
        assert(json_equal(after, m.body));
        json_decref(after);
    }
    free(buf);
    zs_msg_clear(&again);
    zs_msg_clear(&m);
    return 0;
}
