/* uuid.c — see uuid.h. Randomness comes from libsodium (getrandom underneath). */
#include "uuid.h"
#include "clock.h"
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* Random bytes are fetched from the kernel 512 at a time into a pool of the calling thread:
 * one getrandom per 32 uuids instead of one per uuid (a request id per gateway call, several
 * uuids per stored record; each system call is dear on a virtual machine). Bytes handed out
 * are wiped from the pool. A forked child must never hand out what its parent will: fork
 * moves the child to a new generation (pthread_atfork) and a pool of an older one is
 * refilled before use. */
#define POOL_BYTES 512

static atomic_uint generation;
static pthread_once_t fork_hook = PTHREAD_ONCE_INIT;
static _Thread_local struct {
    unsigned char bytes[POOL_BYTES];
    size_t left;
    unsigned generation;
} pool;

static void forked(void)
{
    atomic_fetch_add(&generation, 1);
}

static void hook_fork(void)
{
    pthread_atfork(NULL, NULL, forked);
}

static void random16(unsigned char out[16])
{
    pthread_once(&fork_hook, hook_fork);
    unsigned now = atomic_load(&generation);
    if (pool.left < 16 || pool.generation != now) {
        randombytes_buf(pool.bytes, sizeof pool.bytes);
        pool.left = sizeof pool.bytes;
        pool.generation = now;
    }
    unsigned char *p = pool.bytes + sizeof pool.bytes - pool.left;
    memcpy(out, p, 16);
    sodium_memzero(p, 16);
    pool.left -= 16;
}

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
    random16(b);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    return hex_of(b, out);
}

char *zs_uuid_new_ordered(char out[ZS_UUID_LEN + 1])
{
    unsigned char b[16];
    random16(b);
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
