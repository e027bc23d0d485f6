/* libFuzzer harness: bus envelopes (msg.h) from hostile bytes. Whatever decodes must
 * re-encode and decode to the same message. */
#include "msg.h"
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    assert(json_equal(again.body, m.body));
    free(buf);
    zs_msg_clear(&again);
    zs_msg_clear(&m);
    return 0;
}
