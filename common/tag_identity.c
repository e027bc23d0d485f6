/* tag_identity.c — see tag_identity.h. */
#include "tag_identity.h"
#include <sodium.h>
#include <string.h>

void zs_tag_identity(const char *type, const char *resource_uuid, const char *tag, char out[33])
{
    crypto_generichash_state st;
    unsigned char h[16];
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    /* the NUL terminators keep ("ab","c") and ("a","bc") apart */
    crypto_generichash_update(&st, (const unsigned char *)type, strlen(type) + 1);
    crypto_generichash_update(&st, (const unsigned char *)resource_uuid, strlen(resource_uuid) + 1);
    crypto_generichash_update(&st, (const unsigned char *)tag, strlen(tag));
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(out, 33, h, sizeof h);
}
