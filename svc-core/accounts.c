/* accounts.c — accounts and sessions (apis.md §1, rest.md "Login and sessions").
 *
 * Passwords, as ZStack's clients use them (zstack-sdk.md): what CreateAccount/UpdateAccount
 * receive is the very string LogInByAccount will send (the SDK and CLI send the SHA-512 hex of
 * the password to all three). What is stored is an Argon2id hash (libsodium crypto_pwhash_str)
 * of that string, so the stored form is salted and slow and never what the client sends. Only
 * the built-in admin's password comes in plain (config) and is turned into its SHA-512 hex
 * first, the string its clients will log in with. */
#include "clock.h"
#include "config.h"
#include "core.h"
#include "login.h"
#include "error.h"
#include "log.h"
#include "uuid.h"
#include <ctype.h>
#include <sodium.h>
#include <string.h>

#define ACCOUNTS "accounts"
#define SESSIONS "sessions"
#define DEFAULT_SESSION_S 7200
#define MAX_SESSIONS 500

static void sha512_hex(const char *plain, char out[129])
{
    unsigned char d[crypto_hash_sha512_BYTES];
    crypto_hash_sha512(d, (const unsigned char *)plain, strlen(plain));
    sodium_bin2hex(out, 129, d, sizeof d);
}

/* The secret as compared: lower-cased, so a SHA-512 hex matches in either case. At most
 * 1024 chars (the login parameter's bound; create/update allow fewer). */
#define SECRET_MAX 1024

/* Argon2id of the normalised secret. Returns 0 or -1. */
static int password_hash(const char *secret, char out[crypto_pwhash_STRBYTES])
{
    char lower[SECRET_MAX + 1];
    snprintf(lower, sizeof lower, "%s", secret);
    for (char *c = lower; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    size_t mem = (size_t)zs_config_int("core.pwhash-memory", 16 * 1024 * 1024);
    return crypto_pwhash_str(out, lower, strlen(lower), crypto_pwhash_OPSLIMIT_INTERACTIVE, mem);
}

bool accounts_password_ok(const json_t *account, const char *secret)
{
    const char *hash = json_string_value(json_object_get(account, "passwordHash"));
    char lower[SECRET_MAX + 1];
    snprintf(lower, sizeof lower, "%s", secret);
    for (char *c = lower; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return hash && crypto_pwhash_str_verify(hash, lower, strlen(lower)) == 0;
}

json_t *accounts_dummy(void)
{
    unsigned char noise[32];
    char hex[65], hash[crypto_pwhash_STRBYTES];
    randombytes_buf(noise, sizeof noise);
    sodium_bin2hex(hex, sizeof hex, noise, sizeof noise);
    if (password_hash(hex, hash) != 0)
        return NULL;
    return json_pack("{s:s}", "passwordHash", hash);
}

static bool is_admin(const json_t *account)
{
    const char *t = json_string_value(json_object_get(account, "type"));
    return t && strcmp(t, "SystemAdmin") == 0;
}

static json_t *find_by_name(zs_call_t *call, const char *name)
{
    json_t *v = json_string(name);
    json_t *rec = zs_store_find_one(zs_service_store(call->svc), call->txn, ACCOUNTS, "name", v);
    json_decref(v);
    return rec;
}

/* ---- bootstrap ----------------------------------------------------------------------- */

static int create_admin(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *name = json_string("admin");
    json_t *existing = zs_store_find_one(store, txn, ACCOUNTS, "name", name);
    json_decref(name);
    if (existing) {
        json_decref(existing);
        return 0;
    }
    const char *password = zs_config_get("admin.password", NULL);
    if (!password || !*password) {
        password = "password";
        zs_warn("*** the admin account was created with ZStack's default password 'password'. "
                "Change it now (UpdateAccount), or set ZS_ADMIN_PASSWORD before the first start. ***");
    }
    char digest[129], hash[crypto_pwhash_STRBYTES], uuid[ZS_UUID_LEN + 1];
    sha512_hex(password, digest);
    if (password_hash(digest, hash) != 0)
        return ENOMEM;
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "uuid", zs_uuid_new_ordered(uuid),
                            "name", "admin", "type", "SystemAdmin", "description",
                            "the built-in administrator", "passwordHash", hash, "createDate",
                            (json_int_t)now, "lastOpDate", (json_int_t)now);
    int rc = zs_store_put(store, txn, ACCOUNTS, uuid, rec);
    json_decref(rec);
    if (rc == 0)
        zs_info("created account admin (%s)", uuid);
    return rc;
}

static int accounts_bootstrap(zs_service_t *svc)
{
    int rc = zs_service_write(svc, create_admin, NULL);
    if (rc != 0)
        zs_errorf("cannot create the admin account: %s", zs_store_strerror(rc));
    return rc;
}

/* ---- sessions ------------------------------------------------------------------------ */

static void revoke_session(zs_call_t *call, const char *session_uuid);

/* Deletes the account's sessions that are past their expiry. */
static void drop_expired_sessions(zs_call_t *call, const char *account_uuid)
{
    zs_store_t *store = zs_service_store(call->svc);
    json_t *acc = json_string(account_uuid);
    json_t *uuids = zs_store_find(store, call->txn, SESSIONS, "accountUuid", acc, 100000);
    json_decref(acc);
    int64_t now = zs_now_ms();
    size_t i;
    json_t *u;
    json_array_foreach(uuids, i, u) {
        json_t *s = zs_store_get(store, call->txn, SESSIONS, json_string_value(u));
        if (s && json_integer_value(json_object_get(s, "expiredDate")) <= now &&
            zs_store_del(store, call->txn, SESSIONS, json_string_value(u)) == 0)
            revoke_session(call, json_string_value(u));
        json_decref(s);
    }
    json_decref(uuids);
}

/* Ends the account's oldest session, so that a new one can start. Returns 0 or an LMDB code. */
static int drop_oldest_session(zs_call_t *call, const char *account_uuid)
{
    zs_store_t *store = zs_service_store(call->svc);
    json_t *acc = json_string(account_uuid);
    json_t *uuids = zs_store_find(store, call->txn, SESSIONS, "accountUuid", acc, 100000);
    json_decref(acc);
    const char *oldest = NULL;
    int64_t oldest_date = INT64_MAX;
    size_t i;
    json_t *u;
    json_array_foreach(uuids, i, u) {
        json_t *s = zs_store_get(store, call->txn, SESSIONS, json_string_value(u));
        int64_t created = json_integer_value(json_object_get(s, "createDate"));
        if (s && created < oldest_date) {
            oldest_date = created;
            oldest = json_string_value(u);
        }
        json_decref(s);
    }
    int rc = oldest ? zs_store_del(store, call->txn, SESSIONS, oldest) : MDB_NOTFOUND;
    if (rc == 0)
        revoke_session(call, oldest);
    json_decref(uuids);
    return rc;
}

json_t *accounts_new_session(zs_call_t *call, const char *account_uuid, json_t **error)
{
    zs_store_t *store = zs_service_store(call->svc);
    json_t *acc = json_string(account_uuid);
    unsigned char key[ZS_STORE_KEY_SIZE];
    int klen = zs_store_index_key(ZS_FT_STRING, acc, key, sizeof key);
    json_decref(acc);
    size_t n = klen > 0 ? zs_store_index_count(store, call->txn, SESSIONS, "accountUuid", key, (size_t)klen) : 0;
    size_t max = (size_t)zs_config_int("core.max-sessions", MAX_SESSIONS);
    if (n >= max) {   /* expired sessions the sweeper has not reached yet do not count */
        drop_expired_sessions(call, account_uuid);
        n = zs_store_index_count(store, call->txn, SESSIONS, "accountUuid", key, (size_t)klen);
    }
    /* At the limit the oldest session gives way: a forgotten script cannot lock the account out. */
    if (n >= max && drop_oldest_session(call, account_uuid) != 0)
        return zs_call_fail(call, error, ZS_ID_MAX_SESSION,
                            "account[%s] already has %zu active sessions", account_uuid, n);
    char uuid[ZS_UUID_LEN + 1];
    int64_t now = zs_now_ms();
    int64_t life = zs_config_int("core.session-timeout", DEFAULT_SESSION_S) * 1000;
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "uuid", zs_uuid_new(uuid),
                            "accountUuid", account_uuid, "userUuid", account_uuid, "userType",
                            "AccountVO", "expiredDate",
                            (json_int_t)(now + life), "createDate", (json_int_t)now, "lastOpDate",
                            (json_int_t)now);
    int rc = zs_store_put(store, call->txn, SESSIONS, uuid, rec);
    if (rc != 0) {
        json_decref(rec);
        return zs_call_store_fail(call, error, rc);
    }
    json_t *out = zs_call_inventory(&zs_res_session, rec);
    json_decref(rec);
    return out;
}

/* The password check runs off the loop thread, at the same cost for an unknown name, and
 * under throttling: login.h. */
static json_t *accounts_login(zs_call_t *call, json_t **error)
{
    return login_begin(call, find_by_name(call, zs_call_str(call, "accountName")), error);
}

static void revoke_session(zs_call_t *call, const char *session_uuid)
{
    zs_service_publish(call->svc, "session.revoked", json_pack("{s:s}", "sessionUuid", session_uuid));
}

static json_t *accounts_logout(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "sessionUuid");
    int rc = zs_store_del(zs_service_store(call->svc), call->txn, SESSIONS, uuid);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return zs_call_store_fail(call, error, rc);
    revoke_session(call, uuid);
    return json_object();
}

/* The live session record, or NULL when unknown or expired. */
static json_t *live_session(zs_call_t *call, const char *uuid)
{
    json_t *s = zs_store_get(zs_service_store(call->svc), call->txn, SESSIONS, uuid);
    if (s && json_integer_value(json_object_get(s, "expiredDate")) <= zs_now_ms()) {
        json_decref(s);
        return NULL;
    }
    return s;
}

static json_t *accounts_validate(zs_call_t *call, json_t **error)
{
    (void)error;
    json_t *s = live_session(call, zs_call_str(call, "sessionUuid"));
    json_decref(s);
    return json_pack("{s:b}", "valid", s != NULL);
}

static json_t *accounts_renew(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "sessionUuid");
    json_t *s = live_session(call, uuid);
    if (!s)
        return zs_call_fail(call, error, ZS_ID_SESSION, "session[%s] is unknown or expired", uuid);
    if (!zs_msg_admin(call->req) &&
        strcmp(json_string_value(json_object_get(s, "accountUuid")), zs_msg_account(call->req)) != 0) {
        json_decref(s);
        return zs_call_fail(call, error, ZS_ID_DENIED, "session[%s] belongs to another account", uuid);
    }
    json_t *d = json_object_get(call->req->body, "duration");
    int64_t life = (d ? json_integer_value(d) : zs_config_int("core.session-timeout", DEFAULT_SESSION_S)) * 1000;
    int64_t now = zs_now_ms();
    json_object_set_new(s, "expiredDate", json_integer(now + life));
    json_object_set_new(s, "lastOpDate", json_integer(now));
    int rc = zs_store_put(zs_service_store(call->svc), call->txn, SESSIONS, uuid, s);
    json_t *out = rc == 0 ? zs_call_inventory(&zs_res_session, s) : zs_call_store_fail(call, error, rc);
    json_decref(s);
    return out;
}

static json_t *accounts_check_session(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "sessionUuid");
    json_t *s = live_session(call, uuid);
    json_t *acc = s ? zs_store_get(zs_service_store(call->svc), call->txn, ACCOUNTS,
                                   json_string_value(json_object_get(s, "accountUuid")))
                    : NULL;
    json_t *out = NULL;
    if (acc)
        out = json_pack("{s:O, s:O, s:b, s:O}", "accountUuid", json_object_get(acc, "uuid"),
                        "accountName", json_object_get(acc, "name"), "admin", is_admin(acc),
                        "expiredDate", json_object_get(s, "expiredDate"));
    else
        zs_call_fail(call, error, ZS_ID_SESSION, "session[%s] is unknown, logged out or expired", uuid);
    json_decref(s);
    json_decref(acc);
    return out;
}

static int expire_sessions(zs_service_t *svc, MDB_txn *txn, void *arg)
{
    (void)arg;
    zs_store_t *store = zs_service_store(svc);
    json_t *due = zs_store_find_upto(store, txn, SESSIONS, "expiredDate", zs_now_ms(), 1000);
    int rc = zs_store_del_all(store, txn, SESSIONS, due);
    size_t i;
    json_t *u;
    if (rc == 0)
        json_array_foreach(due, i, u)
            zs_service_publish(svc, "session.revoked", json_pack("{s:s}", "sessionUuid", json_string_value(u)));
    json_decref(due);
    return rc;
}

static void sessions_expire(zs_service_t *svc)
{
    zs_service_write(svc, expire_sessions, NULL);
}

/* ---- accounts ------------------------------------------------------------------------ */

static bool accounts_visible(zs_call_t *call, const json_t *rec)
{
    return strcmp(json_string_value(json_object_get(rec, "uuid")), zs_msg_account(call->req)) == 0;
}

static json_t *accounts_create(zs_call_t *call, json_t **error)
{
    const char *name = zs_call_str(call, "name");
    json_t *taken = find_by_name(call, name);
    if (taken) {
        json_decref(taken);
        return zs_call_fail(call, error, ZS_SYS_INVALID, "an account named %s already exists", name);
    }
    char uuid[ZS_UUID_LEN + 1], hash[crypto_pwhash_STRBYTES];
    if (zs_call_new_uuid(call, ACCOUNTS, uuid, error) != 0)
        return NULL;
    if (password_hash(zs_call_str(call, "password"), hash) != 0)
        return zs_call_fail(call, error, ZS_SYS_INTERNAL, "cannot hash the password: out of memory");
    const char *type = zs_call_str(call, "type");
    int64_t now = zs_now_ms();
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "uuid", uuid, "name", name, "type",
                            type ? type : "Normal", "passwordHash", hash, "createDate",
                            (json_int_t)now, "lastOpDate", (json_int_t)now);
    if (zs_call_str(call, "description"))
        json_object_set_new(rec, "description", json_string(zs_call_str(call, "description")));
    int rc = zs_store_put(zs_service_store(call->svc), call->txn, ACCOUNTS, uuid, rec);
    json_t *out = NULL;
    if (rc != 0)
        zs_call_store_fail(call, error, rc);
    else if (zs_call_attach_tags(call, uuid, "AccountVO", error) == 0)
        out = zs_call_inventory(&zs_res_account, rec);
    json_decref(rec);
    return out;
}

static json_t *accounts_update(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    if (!zs_msg_admin(call->req) && strcmp(uuid, zs_msg_account(call->req)) != 0)
        return zs_call_fail(call, error, ZS_ID_DENIED, "only an admin may update another account");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *rec = zs_store_get(store, call->txn, ACCOUNTS, uuid);
    if (!rec)
        return zs_call_fail(call, error, ZS_SYS_NOT_FOUND, "account[%s] is not found", uuid);
    const char *name = zs_call_str(call, "name");
    if (name && strcmp(name, json_string_value(json_object_get(rec, "name"))) != 0) {
        json_t *taken = find_by_name(call, name);
        if (taken) {
            json_decref(taken);
            json_decref(rec);
            return zs_call_fail(call, error, ZS_SYS_INVALID, "an account named %s already exists", name);
        }
        json_object_set_new(rec, "name", json_string(name));
    }
    if (zs_call_str(call, "description"))
        json_object_set_new(rec, "description", json_string(zs_call_str(call, "description")));
    const char *old_password = zs_call_str(call, "oldPassword");
    if (old_password && !accounts_password_ok(rec, old_password)) {   /* the SDK's check, when sent */
        json_decref(rec);
        return zs_call_fail(call, error, ZS_ID_AUTH, "oldPassword does not match the account's password");
    }
    if (zs_call_str(call, "password")) {
        char hash[crypto_pwhash_STRBYTES];
        if (password_hash(zs_call_str(call, "password"), hash) != 0) {
            json_decref(rec);
            return zs_call_fail(call, error, ZS_SYS_INTERNAL, "cannot hash the password: out of memory");
        }
        json_object_set_new(rec, "passwordHash", json_string(hash));
    }
    json_object_set_new(rec, "lastOpDate", json_integer(zs_now_ms()));
    int rc = zs_store_put(store, call->txn, ACCOUNTS, uuid, rec);
    json_t *out = rc == 0 ? zs_call_inventory(&zs_res_account, rec) : zs_call_store_fail(call, error, rc);
    json_decref(rec);
    return out;
}

static int count_admins(void *arg, const char *uuid)
{
    (void)uuid;
    (*(int *)arg)++;
    return 0;
}

static json_t *accounts_delete(zs_call_t *call, json_t **error)
{
    const char *uuid = zs_call_str(call, "uuid");
    zs_store_t *store = zs_service_store(call->svc);
    json_t *rec = zs_store_get(store, call->txn, ACCOUNTS, uuid);
    if (!rec)
        return json_object();   /* deleting what is not there succeeds, as in ZStack */
    if (is_admin(rec)) {
        int admins = 0;
        json_t *t = json_string("SystemAdmin");
        unsigned char key[ZS_STORE_KEY_SIZE];
        int klen = zs_store_index_key(ZS_FT_STRING, t, key, sizeof key);
        json_decref(t);
        zs_store_index_walk(store, call->txn, ACCOUNTS, "type", key, (size_t)klen, true, key,
                            (size_t)klen, true, NULL, 0, count_admins, &admins);
        if (admins <= 1) {
            json_decref(rec);
            return zs_call_fail(call, error, ZS_SYS_FAILED, "account[%s] is the last admin account; "
                                "it cannot be deleted", uuid);
        }
    }
    json_decref(rec);
    /* Its sessions end with it. */
    json_t *acc = json_string(uuid);
    json_t *sessions = zs_store_find(store, call->txn, SESSIONS, "accountUuid", acc, 100000);
    json_decref(acc);
    size_t i;
    json_t *s;
    int rc = 0;
    json_array_foreach(sessions, i, s) {
        if ((rc = zs_store_del(store, call->txn, SESSIONS, json_string_value(s))) != 0)
            break;
        revoke_session(call, json_string_value(s));
    }
    json_decref(sessions);
    if (rc == 0)
        rc = zs_store_del(store, call->txn, ACCOUNTS, uuid);
    if (rc != 0)
        return zs_call_store_fail(call, error, rc);
    if ((rc = zs_cleanup_resource_deleted(call, uuid, "AccountVO")) != 0)
        return zs_call_store_fail(call, error, rc);
    return json_object();
}

static const zs_resource_t *const resources[] = {&zs_res_account, &zs_res_session, NULL};

static const zs_handler_t handlers[] = {
    {"LogInByAccount", accounts_login},
    {"LogOut", accounts_logout},
    {"ValidateSession", accounts_validate},
    {"RenewSession", accounts_renew},
    {"CheckSession", accounts_check_session},
    {"CreateAccount", accounts_create},
    {"UpdateAccount", accounts_update},
    {"DeleteAccount", accounts_delete},
    {NULL, NULL},
};

const zs_module_t accounts_module = {
    .name = "accounts",
    .resources = resources,
    .handlers = handlers,
    .start = accounts_bootstrap,
    .tick = sessions_expire,
    .visible = accounts_visible,
};
