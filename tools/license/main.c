/* zs-license-tool — the license issuer (apis.md §8). The vendor keeps the secret key; an
 * installation trusts the public key (license.trusted-keys) and shows its licenseRequest in
 * GetLicenseInfo.
 *
 *   zs-license-tool keygen <dir>
 *       writes <dir>/issuer.key (secret, mode 0600) and <dir>/issuer.pub (base64 text)
 *   zs-license-tool issue --key <issuer.key> --request <licenseRequest> --type Paid|Trial|OEM|Free
 *       --user NAME --host-num N [--cpu-num N] --issued DATE [--expires DATE] [--allow-addons]
 *       [--addon --name NAME --modules a,b] [--uuid UUID] -o <file>
 *       DATE is "yyyy-MM-dd" or "yyyy-MM-dd HH:mm:ss" (UTC); no --expires: never expires
 *   zs-license-tool show <file> [--pub <issuer.pub>]
 *       prints the payload; with --pub also whether the signature verifies
 * Install a license with UpdateLicense (license = base64 of the file) or by copying the file
 * into the license directory as <something>.lic and calling ReloadLicense. */
#include "clock.h"
#include "license.h"
#include "uuid.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr,
            "usage: zs-license-tool keygen <dir>\n"
            "       zs-license-tool issue --key FILE --request REQUEST --type Paid|Trial|OEM|Free --user NAME\n"
            "                 --host-num N [--cpu-num N] --issued DATE [--expires DATE] [--allow-addons]\n"
            "                 [--addon --name NAME --modules a,b] [--uuid UUID] -o FILE\n"
            "       zs-license-tool show FILE [--pub FILE]\n"
            "DATE: yyyy-MM-dd or \"yyyy-MM-dd HH:mm:ss\" (UTC)\n");
    return 2;
}

/* Reads a whole small file; NULL (message printed) on failure. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(ZS_LICENSE_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, ZS_LICENSE_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || n > ZS_LICENSE_MAX_BYTES) {
        fprintf(stderr, "%s is larger than %d bytes\n", path, ZS_LICENSE_MAX_BYTES);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    *len = n;
    return buf;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    int rc = write(fd, text, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && fsync(fd) == 0 ? 0 : -1;
    close(fd);
    if (rc != 0)
        fprintf(stderr, "cannot write %s\n", path);
    return rc;
}

static int keygen(const char *dir)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    char key_path[1024], pub_path[1024], thumb[33];
    snprintf(key_path, sizeof key_path, "%s/issuer.key", dir);
    snprintf(pub_path, sizeof pub_path, "%s/issuer.pub", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char *sk64 = zs_base64_encode(sk, sizeof sk), *pk64 = zs_base64_encode(pk, sizeof pk);
    sodium_memzero(sk, sizeof sk);
    int rc = sk64 && pk64 && write_file(key_path, sk64, 0600) == 0 && write_file(pub_path, pk64, 0644) == 0 ? 0 : 1;
    if (rc == 0) {
        zs_license_thumbprint(pk, thumb);
        printf("secret key: %s (keep it with the issuer only)\npublic key: %s\nthumbprint: %s\n"
               "configure installations with:  license.trusted-keys = %s\n", key_path, pub_path,
               thumb, pk64);
    }
    if (sk64)
        sodium_memzero(sk64, strlen(sk64));
    free(sk64);
    free(pk64);
    return rc;
}

/* "yyyy-MM-dd" or "yyyy-MM-dd HH:mm:ss" -> the latter form into out[20]. */
static int date_arg(const char *s, char out[20])
{
    char full[32];
    int64_t ms;
    snprintf(full, sizeof full, strlen(s) == 10 ? "%s 00:00:00" : "%s", s);
    if (strlen(full) != 19 || !zs_date_parse(full, &ms)) {
        fprintf(stderr, "bad date '%s': use yyyy-MM-dd or \"yyyy-MM-dd HH:mm:ss\"\n", s);
        return -1;
    }
    memcpy(out, full, 20);
    return 0;
}

static int int_arg(const char *s, json_int_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 0 || v > ZS_LICENSE_UNLIMITED) {
        fprintf(stderr, "bad number '%s'\n", s);
        return -1;
    }
    *out = v;
    return 0;
}

static int issue(int argc, char **argv)
{
    const char *key = NULL, *request = NULL, *type = NULL, *user = NULL, *hosts = NULL, *cpus = NULL;
    const char *issued = NULL, *expires = NULL, *name = NULL, *modules = NULL, *uuid = NULL, *out = NULL;
    bool addon = false, allow = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--key") == 0 ? &key : strcmp(a, "--request") == 0 ? &request
                          : strcmp(a, "--type") == 0 ? &type : strcmp(a, "--user") == 0 ? &user
                          : strcmp(a, "--host-num") == 0 ? &hosts : strcmp(a, "--cpu-num") == 0 ? &cpus
                          : strcmp(a, "--issued") == 0 ? &issued : strcmp(a, "--expires") == 0 ? &expires
                          : strcmp(a, "--name") == 0 ? &name : strcmp(a, "--modules") == 0 ? &modules
                          : strcmp(a, "--uuid") == 0 ? &uuid : strcmp(a, "-o") == 0 ? &out : NULL;
        if (slot && i + 1 < argc)
            *slot = argv[++i];
        else if (strcmp(a, "--addon") == 0)
            addon = true;
        else if (strcmp(a, "--allow-addons") == 0)
            allow = true;
        else {
            fprintf(stderr, "unknown or incomplete option %s\n", a);
            return usage();
        }
    }
    if (!key || !request || !user || !issued || !out || (!addon && (!type || !hosts)) ||
        (addon && (!name || !modules)))
        return usage();
    size_t klen;
    char *ktext = slurp(key, &klen);
    unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
    int rc = ktext && zs_license_key_parse(ktext, sk, sizeof sk) == 0 ? 0 : -1;
    if (ktext)
        sodium_memzero(ktext, klen);
    free(ktext);
    if (rc != 0) {
        fprintf(stderr, "%s is not an issuer secret key (base64 of %d bytes)\n", key, crypto_sign_SECRETKEYBYTES);
        return 1;
    }
    char installation[33], trusted[33], mine[33];
    crypto_sign_ed25519_sk_to_pk(pk, sk);
    zs_license_thumbprint(pk, mine);
    if (zs_license_request_parse(request, installation, trusted) != 0) {
        fprintf(stderr, "the licenseRequest does not decode (copy it from GetLicenseInfo)\n");
        return 1;
    }
    if (*trusted && strcmp(trusted, mine) != 0) {
        fprintf(stderr, "installation %s trusts the issuer key %s, not this key (%s)\n", installation, trusted, mine);
        return 1;
    }
    char idate[20], edate[20], fresh[ZS_UUID_LEN + 1];
    json_int_t h = 0, c = 0;
    if (date_arg(issued, idate) != 0 || (expires && date_arg(expires, edate) != 0) ||
        (hosts && int_arg(hosts, &h) != 0) || (cpus && int_arg(cpus, &c) != 0))
        return 1;
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s}", "uuid", uuid ? uuid : zs_uuid_new(fresh),
                          "licenseType", addon ? "AddOn" : type, "user", user, "licenseRequest",
                          request, "issuedDate", idate);
    if (expires)
        json_object_set_new(p, "expiredDate", json_string(edate));
    if (hosts)
        json_object_set_new(p, "hostNum", json_integer(h));
    if (cpus)
        json_object_set_new(p, "cpuNum", json_integer(c));
    if (allow)
        json_object_set_new(p, "allowAddOns", json_true());
    if (addon) {
        json_t *list = json_array();
        char buf[4096];
        snprintf(buf, sizeof buf, "%s", modules);
        for (char *save, *m = strtok_r(buf, ",", &save); m; m = strtok_r(NULL, ",", &save))
            json_array_append_new(list, json_string(m));
        json_object_set_new(p, "name", json_string(name));
        json_object_set_new(p, "modules", list);
    }
    const char *bad = zs_license_check_payload(p);
    char *text = bad ? NULL : zs_license_sign(p, sk);
    sodium_memzero(sk, sizeof sk);
    rc = 1;
    if (bad)
        fprintf(stderr, "cannot issue: %s\n", bad);
    else if (text && write_file(out, text, 0644) == 0) {
        printf("issued license %s for installation %s into %s\n",
               json_string_value(json_object_get(p, "uuid")), installation, out);
        rc = 0;
    }
    free(text);
    json_decref(p);
    return rc;
}

static int show(int argc, char **argv)
{
    if (argc != 1 && !(argc == 3 && strcmp(argv[1], "--pub") == 0))
        return usage();
    size_t len, plen;
    char *text = slurp(argv[0], &len);
    char *pub = argc == 3 ? slurp(argv[2], &plen) : NULL;
    if (!text || (argc == 3 && !pub)) {
        free(text);
        free(pub);
        return 1;
    }
    json_t *error = NULL, *p = zs_license_open(text, len, NULL, &error);
    int rc = 1;
    if (!p) {
        fprintf(stderr, "%s: %s\n", argv[0], zs_error_details(error));
    } else {
        char *dump = json_dumps(p, JSON_INDENT(2) | JSON_SORT_KEYS);
        printf("%s\n", dump ? dump : "");
        free(dump);
        const char *bad = zs_license_check_payload(p);
        printf("payload: %s%s\n", bad ? "INVALID: " : "well formed", bad ? bad : "");
        rc = bad ? 1 : 0;
        if (pub) {
            json_t *v = zs_license_open(text, len, pub, &error);
            printf("signature: %s\n", v ? "valid under the given issuer key" : zs_error_details(error));
            rc |= v ? 0 : 1;
            json_decref(v);
        }
        json_decref(p);
    }
    json_decref(error);
    free(text);
    free(pub);
    return rc;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    if (argc == 3 && strcmp(argv[1], "keygen") == 0)
        return keygen(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "issue") == 0)
        return issue(argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "show") == 0)
        return show(argc - 2, argv + 2);
    return usage();
}
