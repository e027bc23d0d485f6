/* uuid.c — see uuid.h. Randomness comes from libsodium (getrandom underneath). */
#include "uuid.h"
#include "clock.h"
#include <sodium.h>
#include <stdint.h>
#include <string.h>

static char *hex_of(const unsigned char b[16], char out[ZS_UUID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[ZS_UUID_LEN] = '\0';
    return out;
}

char *zs_uuid_new(char out[ZS_UUID_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    return hex_of(b, out);
}

char *zs_uuid_new_ordered(char out[ZS_UUID_LEN + 1])
{
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    uint64_t ms = (uint64_t)zs_now_ms();
    for (int i = 0; i < 6; i++)   /* big-endian, so the hex text sorts by time */
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);   /* version 7 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 9562 variant */
    return hex_of(b, out);
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
