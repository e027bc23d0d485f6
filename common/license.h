/* license.h — the license file of the suite, shared by svc-license (which verifies) and the
 * issuer tool tools/license (which signs).
 *
 * A license file is JSON text:
 *   {"format": "zs-license-1", "key": "<issuer key thumbprint>",
 *    "payload": "<base64 of the payload JSON bytes>", "signature": "<base64 Ed25519 signature>"}
 * The signature is detached and covers the exact payload bytes, so no canonical JSON form is
 * needed. The payload (checked by zs_license_check_payload):
 *   uuid (32 hex), licenseType ("Trial" "Paid" "OEM" "Free", or "AddOn" for an add-on), user,
 *   licenseRequest (the installation it was issued for), issuedDate, expiredDate (optional:
 *   none = never expires; both "yyyy-MM-dd HH:mm:ss" UTC), hostNum, cpuNum (optional: none =
 *   unlimited), allowAddOns (bool, primaries), name + modules (add-ons).
 * A licenseRequest is the base64 of {"installationId": <32 hex>, "thumbprint": <issuer key
 * thumbprint the installation trusts, "" when none>}.
 * Keys travel as base64 text: secret keys 64 bytes, public keys 32 bytes (libsodium Ed25519).
 *
 * Any thread may call these. Strings returned as char * are malloc'd: the caller frees them.
 */
#ifndef ZS_LICENSE_H
#define ZS_LICENSE_H
#include "error.h"
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZS_LICENSE_FORMAT "zs-license-1"
#define ZS_LICENSE_MAX_BYTES (64 * 1024)   /* a license file; larger input is refused */
#define ZS_LICENSE_UNLIMITED 2147483647
#define ZS_LICENSE_INVALID "LICENSE.1006"   /* error.h: "The license is invalid" */

/* Base64 (standard alphabet, padded). encode: NUL-terminated text or NULL. decode: whitespace
 * is ignored; returns a malloc'd buffer (*len bytes, plus a NUL so text can be read as a
 * string) or NULL when the text is not base64 or decodes to more than `max` bytes. */
char *zs_base64_encode(const void *data, size_t len);
unsigned char *zs_base64_decode(const char *text, size_t text_len, size_t max, size_t *len);

/* Hex of the first 16 bytes of SHA-256(public key): 32 chars + NUL into out. */
void zs_license_thumbprint(const unsigned char pk[crypto_sign_PUBLICKEYBYTES], char out[33]);

/* Reads one base64 key of exactly `size` bytes from `text`. Returns 0 or -1. */
int zs_license_key_parse(const char *text, unsigned char *key, size_t size);

/* The license file text for `payload` (borrowed) signed with the secret key. NULL on failure. */
char *zs_license_sign(const json_t *payload, const unsigned char sk[crypto_sign_SECRETKEYBYTES]);

/* Opens the file text (text_len bytes). With `trusted_keys` (a comma list of base64 public
 * keys) the signature must verify under one of them; with NULL it is not checked (for
 * `show`). Returns the payload (new reference), or NULL and, when `error` is not NULL,
 * *error = LICENSE.1006 whose details say why. The payload is not checked: see
 * zs_license_check_payload. */
json_t *zs_license_open(const char *text, size_t text_len, const char *trusted_keys,
                        json_t **error);

/* NULL when the payload is well formed, else the reason (static text). */
const char *zs_license_check_payload(const json_t *payload);

/* Epoch ms of a payload date member ("issuedDate"/"expiredDate"); -1 when absent. */
int64_t zs_license_date(const json_t *payload, const char *member);

/* True for an add-on payload (licenseType "AddOn"). */
bool zs_license_is_addon(const json_t *payload);

/* The installationId inside a licenseRequest, copied into out[33]. Returns 0, or -1 when the
 * request does not decode to one. `thumbprint` (may be NULL) receives its thumbprint. */
int zs_license_request_parse(const char *request, char out[33], char thumbprint[33]);

/* A new licenseRequest for installation `id` trusting the key of `thumbprint` ("" = none). */
char *zs_license_request_new(const char *id, const char *thumbprint);

#endif
