/* fuzz_pack.c — libFuzzer harness for zs_unpack (run by tests/fuzz/run).
 *
 * Any input must be decoded or refused without a sanitizer report. An accepted input must
 * survive zs_pack and a second zs_unpack unchanged: what we decode we can also write, and
 * what we write we read back as the same document. */
#include "pack.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Small enough that the fuzzer's inputs reach every limit, not only depth. */
static const zs_pack_limits_t tight = {
    .max_bytes = 256, .max_depth = 4, .max_elements = 16, .max_string = 8,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *v = zs_unpack(data, size, NULL, NULL);
    /* Limits only ever refuse: what passes tight limits passes the defaults, unchanged. */
    json_t *small = zs_unpack(data, size, &tight, NULL);
    if (small && (!v || !json_equal(v, small))) {
        fprintf(stderr, "fuzz_pack: tight limits accepted what the defaults did not\n");
        abort();
    }
    json_decref(small);
    if (!v)
        return 0;

    char *buf;
    size_t len;
    if (zs_pack(v, &buf, &len) != 0) {
        fprintf(stderr, "fuzz_pack: zs_pack failed on a decoded value\n");
        abort();
    }
    json_t *error = NULL, *again = zs_unpack(buf, len, NULL, &error);
    if (!again) {
        fprintf(stderr, "fuzz_pack: own encoding refused: %s\n", zs_error_details(error));
        abort();
    }
    if (!json_equal(v, again)) {
        fprintf(stderr, "fuzz_pack: value changed in a round trip\n");
        abort();
    }
    json_decref(again);
    free(buf);
    json_decref(v);
    return 0;
}
