/* uuid.h — ZStack resource uuids: a v4 UUID written as 32 lowercase hex chars, no dashes.
 * Any thread may call these. */
#ifndef ZS_UUID_H
#define ZS_UUID_H
#include <stdbool.h>

#define ZS_UUID_LEN 32

/* Writes a fresh random uuid and its NUL into out[33]. Returns out. */
char *zs_uuid_new(char out[ZS_UUID_LEN + 1]);

/* True when s is exactly 32 lowercase hex characters. NULL is not valid. */
bool zs_uuid_valid(const char *s);

#endif
