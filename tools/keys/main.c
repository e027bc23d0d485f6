/* zs-keys — makes the CurveZMQ certificates of the tcp bus (common/buskeys.h).
 *
 *   zs-keys generate DIR
 *
 * creates DIR (0700), DIR/<role>.secret (0600, a czmq certificate with both keys) for every
 * role of the suite, and DIR/public/<role>.cert (its public certificate; DIR/public is the
 * store of allowed clients). Idempotent: an existing secret is kept, and its public
 * certificate is written again from it. Exit 0, or 1 with the reason on stderr. */
#include "buskeys.h"
#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int make_dir(const char *path, mode_t mode)
{
    if (mkdir(path, mode) != 0 && errno != EEXIST) {
        fprintf(stderr, "zs-keys: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int one_role(const char *dir, const char *role)
{
    char secret[4096], pub[4096];
    snprintf(secret, sizeof secret, "%s/%s.secret", dir, role);
    snprintf(pub, sizeof pub, "%s/public/%s.cert", dir, role);
    zcert_t *cert = zsys_file_exists(secret) ? zcert_load(secret) : NULL;
    bool fresh = !cert;
    if (!cert) {
        cert = zcert_new();
        zcert_set_meta(cert, "role", "%s", role);
        if (!cert || zcert_save_secret(cert, secret) != 0) {
            fprintf(stderr, "zs-keys: cannot write %s\n", secret);
            zcert_destroy(&cert);
            return -1;
        }
    }
    /* public certificates are public: readable by the other processes' users too */
    int rc = chmod(secret, 0600) == 0 && zcert_save_public(cert, pub) == 0 && chmod(pub, 0644) == 0
                 ? 0 : -1;
    if (rc != 0)
        fprintf(stderr, "zs-keys: cannot write %s\n", pub);
    else
        printf("%s %s\n", fresh ? "created" : "kept   ", secret);
    zcert_destroy(&cert);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "generate") != 0) {
        fprintf(stderr, "usage: zs-keys generate DIR\n");
        return 2;
    }
    zsys_handler_set(NULL);
    umask(077);   /* secrets are never readable by others, not even for a moment */
    const char *dir = argv[2];
    char pub[4096];
    snprintf(pub, sizeof pub, "%s/public", dir);
    if (make_dir(dir, 0700) != 0 || chmod(dir, 0700) != 0 || make_dir(pub, 0755) != 0 ||
        chmod(pub, 0755) != 0)
        return 1;
    for (const char *const *r = ZS_BUS_ROLES; *r; r++)
        if (one_role(dir, *r) != 0)
            return 1;
    return 0;
}
