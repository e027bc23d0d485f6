/* license.c — see license.h. */
#include "license.h"
#include "clock.h"
#include "error.h"
#include "uuid.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *zs_base64_encode(const void *data, size_t len)
{
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(n);
    if (out)
        sodium_bin2base64(out, n, data, len, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

unsigned char *zs_base64_decode(const char *text, size_t text_len, size_t max, size_t *len)
{
    if (!text || text_len / 4 * 3 > max + 3)
        return NULL;
    unsigned char *out = malloc(text_len / 4 * 3 + 4);
    const char *end;
    if (!out)
        return NULL;
    if (sodium_base642bin(out, text_len / 4 * 3 + 3, text, text_len, " \t\r\n", len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || end != text + text_len ||
        *len > max) {
        free(out);
        return NULL;
    }
    out[*len] = '\0';
    return out;
}

void zs_license_thumbprint(const unsigned char pk[crypto_sign_PUBLICKEYBYTES], char out[33])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, pk, crypto_sign_PUBLICKEYBYTES);
    sodium_bin2hex(out, 33, h, 16);
}

int zs_license_key_parse(const char *text, unsigned char *key, size_t size)
{
    size_t len;
    unsigned char *raw = zs_base64_decode(text, strlen(text), size, &len);
    int rc = raw && len == size ? 0 : -1;
    if (rc == 0)
        memcpy(key, raw, size);
    if (raw)
        sodium_memzero(raw, len);
    free(raw);
    return rc;
}

char *zs_license_sign(const json_t *payload, const unsigned char sk[crypto_sign_SECRETKEYBYTES])
{
    char *bytes = json_dumps(payload, JSON_COMPACT | JSON_SORT_KEYS);
    if (!bytes)
        return NULL;
    unsigned char sig[crypto_sign_BYTES], pk[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_detached(sig, NULL, (const unsigned char *)bytes, strlen(bytes), sk);
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    char thumb[33];
    zs_license_thumbprint(pk, thumb);
    char *p64 = zs_base64_encode(bytes, strlen(bytes)), *s64 = zs_base64_encode(sig, sizeof sig);
    json_t *file = json_pack("{s:s, s:s, s:s?, s:s?}", "format", ZS_LICENSE_FORMAT, "key", thumb,
                             "payload", p64, "signature", s64);
    char *text = file && p64 && s64 ? json_dumps(file, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(file);
    free(p64);
    free(s64);
    free(bytes);
    return text;
}

static bool verifies(const unsigned char *msg, size_t len, const unsigned char *sig,
                     const char *trusted_keys)
{
    char list[4096];
    snprintf(list, sizeof list, "%s", trusted_keys);
    for (char *save, *k = strtok_r(list, ", ", &save); k; k = strtok_r(NULL, ", ", &save)) {
        unsigned char pk[crypto_sign_PUBLICKEYBYTES];
        if (zs_license_key_parse(k, pk, sizeof pk) == 0 &&
            crypto_sign_verify_detached(sig, msg, len, pk) == 0)
            return true;
    }
    return false;
}

json_t *zs_license_open(const char *text, size_t text_len, const char *trusted_keys,
                        json_t **error)
{
    if (text_len > ZS_LICENSE_MAX_BYTES) {
        return zs_fail(error, ZS_LICENSE_INVALID, "the license is larger than %d bytes",
                       ZS_LICENSE_MAX_BYTES), NULL;
    }
    json_error_t jerr;
    json_t *file = json_loadb(text, text_len, JSON_REJECT_DUPLICATES, &jerr);
    const char *format = json_string_value(json_object_get(file, "format"));
    const char *p64 = json_string_value(json_object_get(file, "payload"));
    const char *s64 = json_string_value(json_object_get(file, "signature"));
    json_t *payload = NULL;
    size_t plen = 0, slen = 0;
    unsigned char *pbytes = NULL, *sig = NULL;
    if (!file || !format || strcmp(format, ZS_LICENSE_FORMAT) != 0 || !p64 || !s64) {
        zs_fail(error, ZS_LICENSE_INVALID, "not a license file (expected a JSON object of format %s)",
                ZS_LICENSE_FORMAT);
    } else if (!(pbytes = zs_base64_decode(p64, strlen(p64), ZS_LICENSE_MAX_BYTES, &plen)) ||
               !(sig = zs_base64_decode(s64, strlen(s64), crypto_sign_BYTES, &slen)) ||
               slen != crypto_sign_BYTES) {
        zs_fail(error, ZS_LICENSE_INVALID,
                "the payload or the signature of the license is not valid base64");
    } else if (trusted_keys && !*trusted_keys) {
        zs_fail(error, ZS_LICENSE_INVALID,
                "no issuer key is trusted (configure license.trusted-keys)");
    } else if (trusted_keys && !verifies(pbytes, plen, sig, trusted_keys)) {
        zs_fail(error, ZS_LICENSE_INVALID, "the signature does not verify under any trusted issuer "
                "key (tampered, or signed by an unknown issuer)");
    } else if (!(payload = json_loadb((const char *)pbytes, plen, JSON_REJECT_DUPLICATES, &jerr)) ||
               !json_is_object(payload)) {
        json_decref(payload);
        payload = NULL;
        zs_fail(error, ZS_LICENSE_INVALID, "the license payload is not a JSON object");
    }
    free(pbytes);
    free(sig);
    json_decref(file);
    return payload;
}

static bool date_ok(const json_t *v)
{
    int64_t ms;
    const char *s = json_string_value(v);
    return s && strlen(s) == 19 && zs_date_parse(s, &ms);
}

static bool int_ok(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0 &&
           json_integer_value(v) <= ZS_LICENSE_UNLIMITED;
}

static bool module_ok(const char *m)
{
    size_t n = strlen(m);
    if (n == 0 || n > 64)
        return false;
    for (; *m; m++)
        if (!((*m >= 'a' && *m <= 'z') || (*m >= '0' && *m <= '9') || *m == '-' || *m == '_'))
            return false;
    return true;
}

const char *zs_license_check_payload(const json_t *p)
{
    static const char *const types[] = {"Trial", "Paid", "OEM", "Free", "AddOn", NULL};
    const char *type = json_string_value(json_object_get(p, "licenseType"));
    const char *user = json_string_value(json_object_get(p, "user"));
    const char *req = json_string_value(json_object_get(p, "licenseRequest"));
    if (!zs_uuid_valid(json_string_value(json_object_get(p, "uuid"))))
        return "uuid must be 32 lowercase hex characters";
    bool known = false;
    for (const char *const *t = types; type && *t; t++)
        known |= strcmp(type, *t) == 0;
    if (!known)
        return "licenseType must be one of Trial, Paid, OEM, Free, AddOn";
    if (!user || !*user || strlen(user) > 255)
        return "user must be 1..255 characters";
    if (!req || !*req || strlen(req) > 4096)
        return "licenseRequest must be 1..4096 characters";
    if (!date_ok(json_object_get(p, "issuedDate")))
        return "issuedDate must be a date yyyy-MM-dd HH:mm:ss";
    json_t *exp = json_object_get(p, "expiredDate");
    if (exp && !date_ok(exp))
        return "expiredDate must be a date yyyy-MM-dd HH:mm:ss";
    if (exp && zs_license_date(p, "expiredDate") <= zs_license_date(p, "issuedDate"))
        return "expiredDate must be after issuedDate";
    json_t *hosts = json_object_get(p, "hostNum"), *cpus = json_object_get(p, "cpuNum");
    if ((hosts && !int_ok(hosts)) || (cpus && !int_ok(cpus)))
        return "hostNum and cpuNum must be integers 0..2147483647";
    json_t *allow = json_object_get(p, "allowAddOns");
    if (allow && !json_is_boolean(allow))
        return "allowAddOns must be a boolean";
    if (!zs_license_is_addon(p)) {
        if (!hosts)
            return "a primary license needs hostNum";
        return NULL;
    }
    const char *name = json_string_value(json_object_get(p, "name"));
    if (!name || !module_ok(name))
        return "an add-on needs a name of 1..64 characters [a-z0-9_-]";
    json_t *mods = json_object_get(p, "modules");
    if (!json_is_array(mods) || json_array_size(mods) == 0 || json_array_size(mods) > 64)
        return "an add-on needs 1..64 modules";
    size_t i;
    json_t *m;
    json_array_foreach(mods, i, m)
        if (!json_is_string(m) || !module_ok(json_string_value(m)))
            return "module names are 1..64 characters [a-z0-9_-]";
    return NULL;
}

int64_t zs_license_date(const json_t *payload, const char *member)
{
    int64_t ms;
    const char *s = json_string_value(json_object_get(payload, member));
    return s && zs_date_parse(s, &ms) ? ms : -1;
}

bool zs_license_is_addon(const json_t *payload)
{
    const char *type = json_string_value(json_object_get(payload, "licenseType"));
    return type && strcmp(type, "AddOn") == 0;
}

int zs_license_request_parse(const char *request, char out[33], char thumbprint[33])
{
    size_t len;
    unsigned char *raw = request ? zs_base64_decode(request, strlen(request), 4096, &len) : NULL;
    json_t *j = raw ? json_loadb((const char *)raw, len, 0, NULL) : NULL;
    free(raw);
    const char *id = json_string_value(json_object_get(j, "installationId"));
    const char *thumb = json_string_value(json_object_get(j, "thumbprint"));
    int rc = zs_uuid_valid(id) ? 0 : -1;
    if (rc == 0) {
        snprintf(out, 33, "%s", id);
        if (thumbprint)
            snprintf(thumbprint, 33, "%s", thumb ? thumb : "");
    }
    json_decref(j);
    return rc;
}

char *zs_license_request_new(const char *id, const char *thumbprint)
{
    json_t *j = json_pack("{s:s, s:s}", "installationId", id, "thumbprint", thumbprint);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *out = text ? zs_base64_encode(text, strlen(text)) : NULL;
    free(text);
    json_decref(j);
    return out;
}
