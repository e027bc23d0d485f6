/* uuid.h — ZStack uuids: 32 lowercase hex chars, no dashes (a UUID without its dashes).
 * Any thread may call these. The random bits are the kernel's (getrandom), fetched in bulk
 * per thread; a forked child never repeats its parent's. */
#ifndef ZS_UUID_H
#define ZS_UUID_H
#include <stdbool.h>

#define ZS_UUID_LEN 32

/* Writes a fresh random uuid (version 4: 122 random bits) and its NUL into out[33]. For
 * what must not be guessed (session tokens) and ids that are never stored keys. Returns out. */
char *zs_uuid_new(char out[ZS_UUID_LEN + 1]);

/* Writes a fresh time-ordered uuid (version 7 of RFC 9562: the Unix time in milliseconds in
 * the first 48 bits, then 74 random bits) and its NUL into out[33]. For the keys of stored
 * records: uuids made one after the other sort together, so a batch of new records (and
 * their index entries, whose values are these uuids) lands on the same few B-tree pages
 * instead of one random page each, which is what a durable commit pays for. Reveals the
 * creation time: never for secrets. Returns out. */
char *zs_uuid_new_ordered(char out[ZS_UUID_LEN + 1]);

/* True when s is exactly 32 lowercase hex characters. NULL is not valid. */
bool zs_uuid_valid(const char *s);

#endif
