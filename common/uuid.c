/* uuid.c — see uuid.h. Randomness comes from libsodium (getrandom underneath). */
#include "uuid.h"
#include <sodium.h>
#include <string.h>

char *zs_uuid_new(char out[ZS_UUID_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[ZS_UUID_LEN] = '\0';
    return out;
}

bool zs_uuid_valid(const char *s)
{
    if (!s || strlen(s) != ZS_UUID_LEN)
        return false;
    for (int i = 0; i < ZS_UUID_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}
