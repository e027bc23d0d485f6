/* tag_identity.h — the identity of a tag: the hex of a 16-byte BLAKE2b hash (libsodium) of
 * (type, resource uuid, tag text). svc-tags keeps it in each tag record's hidden, indexed
 * "identity" field, so the duplicate check of a create is one index lookup however many tags
 * the resource already has (the hash only narrows: the fields themselves decide).
 * Any thread; pure function. */
#ifndef ZS_TAG_IDENTITY_H
#define ZS_TAG_IDENTITY_H

/* Key in the store's "meta" database, present once every stored tag has its identity (svc-tags
 * fills in tags stored before the index existed at its first start, then sets it). */
#define ZS_TAG_IDENTITY_MARK "tags-identity-index"

/* Writes the 32 hex characters and a NUL into out. */
void zs_tag_identity(const char *type, const char *resource_uuid, const char *tag, char out[33]);

#endif
