/* Unit tests of common/: the bus envelope, ZStack dates, configuration, uuids, API lookup,
 * parameter validation and tag identities. */
#include "api.h"
#include "clock.h"
#include "config.h"
#include "error.h"
#include "msg.h"
#include "pack.h"
#include "tag_identity.h"
#include "uuid.h"
#include "testutil.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(envelope_round_trip)
{
    zs_msg_t m = {.kind = 'Q', .job = true, .deadline = 1700000000123LL, .status = 0};
    snprintf(m.api, sizeof m.api, "CreateSystemTag");
    snprintf(m.id, sizeof m.id, "0123456789abcdef0123456789abcdef");
    m.caller = json_pack("{s:s, s:b}", "accountUuid", "abc", "admin", 1);
    m.body = json_pack("{s:s, s:[i,i]}", "tag", "x", "list", 1, 2);
    char *buf;
    size_t len;
    ck_assert_int_eq(zs_msg_encode(&m, &buf, &len), 0);
    zs_msg_t d;
    json_t *error = NULL;
    ck_assert_int_eq(zs_msg_decode(buf, len, &d, &error), 0);
    ck_assert_ptr_null(error);
    ck_assert_int_eq(d.kind, 'Q');
    ck_assert(d.job);
    ck_assert_str_eq(d.api, "CreateSystemTag");
    ck_assert_str_eq(d.id, m.id);
    ck_assert(d.deadline == m.deadline);
    ck_assert(json_equal(d.body, m.body));
    ck_assert_str_eq(zs_msg_account(&d), "abc");
    ck_assert(zs_msg_admin(&d));
    /* every truncation is refused, never misread */
    for (size_t cut = 0; cut < len; cut++) {
        zs_msg_t t;
        ck_assert_int_eq(zs_msg_decode(buf, cut, &t, &error), -1);
        ck_assert_str_eq(zs_error_code(error), ZS_SYS_INVALID);
        ck_assert_msg(strncmp(zs_error_details(error), "msgpack: ", 9) == 0, "%s",
                      zs_error_details(error));
        json_decref(error);
        error = NULL;
        ck_assert_ptr_null(t.body);   /* nothing left for the caller to free */
    }
    free(buf);
    zs_msg_clear(&d);
    zs_msg_clear(&m);
}
END_TEST

/* The envelope written as JSON text `text`, packed, is refused by zs_msg_decode as an
 * envelope fault, with *msg zeroed; the reason is optional. */
static void assert_envelope_refused(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(j);
    char *buf;
    size_t len;
    ck_assert_int_eq(zs_pack(j, &buf, &len), 0);
    zs_msg_t m;
    json_t *error = NULL;
    ck_assert_int_eq(zs_msg_decode(buf, len, &m, &error), -1);
    ck_assert_str_eq(zs_error_code(error), ZS_SYS_INVALID);
    ck_assert_msg(strncmp(zs_error_details(error), "envelope: ", 10) == 0, "%s", zs_error_details(error));
    ck_assert(m.api[0] == '\0' && !m.caller && !m.body && !m.json);
    ck_assert_int_eq(zs_msg_decode(buf, len, &m, NULL), -1);
    json_decref(error);
    free(buf);
    json_decref(j);
}

START_TEST(envelope_refuses_bad_members)
{
    static const char *const bad[] = {
        "{\"v\":2,\"k\":\"Q\",\"api\":\"a\",\"id\":\"i\",\"job\":false,\"ok\":false,\"dl\":0,\"st\":0}",
        "{\"v\":1,\"k\":\"X\",\"api\":\"a\",\"id\":\"i\",\"job\":false,\"ok\":false,\"dl\":0,\"st\":0}",
        "{\"v\":1,\"k\":\"Q\",\"api\":5,\"id\":\"i\",\"job\":false,\"ok\":false,\"dl\":0,\"st\":0}",
        "{\"v\":1,\"k\":\"Q\",\"api\":\"a\",\"id\":\"i\",\"job\":1,\"ok\":false,\"dl\":0,\"st\":0}",
        "{\"v\":1,\"k\":\"Q\",\"api\":\"a\",\"id\":\"i\",\"job\":false,\"ok\":false,\"dl\":0,\"st\":0,\"caller\":[]}",
        "{\"v\":1,\"k\":\"Q\",\"api\":\"a b\",\"id\":\"i\",\"job\":false,\"ok\":false,\"dl\":0,\"st\":0}",
        "{\"v\":1,\"k\":\"Q\",\"api\":\"a\",\"id\":\"\u00e9\",\"job\":false,\"ok\":false,\"dl\":0,\"st\":0}",
        "{\"v\":1,\"k\":\"Q\",\"api\":\"a\",\"id\":\"i\\n\",\"job\":false,\"ok\":false,\"dl\":0,\"st\":0}",
        "{\"v\":1,\"k\":\"Q\",\"api\":\"a\",\"id\":\"i\",\"job\":false,\"ok\":false,\"dl\":0}",
        "[1,2,3]",
        /* render once (msg.h): json text in a request, beside a body, in an error, not text;
         * an rj flag that is no bool */
        "{\"v\":1,\"k\":\"Q\",\"api\":\"a\",\"id\":\"i\",\"job\":false,\"ok\":true,\"dl\":0,\"st\":0,\"json\":\"{}\"}",
        "{\"v\":1,\"k\":\"R\",\"api\":\"a\",\"id\":\"i\",\"job\":false,\"ok\":true,\"dl\":0,\"st\":0,\"json\":\"{}\",\"body\":{}}",
        "{\"v\":1,\"k\":\"R\",\"api\":\"a\",\"id\":\"i\",\"job\":false,\"ok\":false,\"dl\":0,\"st\":0,\"json\":\"{}\"}",
        "{\"v\":1,\"k\":\"R\",\"api\":\"a\",\"id\":\"i\",\"job\":false,\"ok\":true,\"dl\":0,\"st\":0,\"json\":{}}",
        "{\"v\":1,\"k\":\"Q\",\"api\":\"a\",\"id\":\"i\",\"job\":false,\"ok\":true,\"dl\":0,\"st\":0,\"rj\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_envelope_refused(bad[i]);
}
END_TEST

/* Read member by member: a member twice is refused (a hostile sender must not choose which
 * one counts), other members are ignored, a missing body reads as {}. */
START_TEST(envelope_members_once)
{
    static const unsigned char twice[] = {0x89, 0xa1, 'v', 1, 0xa1, 'k', 0xa1, 'Q', 0xa3, 'a', 'p', 'i',
                                          0xa1, 'a', 0xa2, 'i', 'd', 0xa1, 'i', 0xa3, 'j', 'o', 'b', 0xc2,
                                          0xa2, 'd', 'l', 0, 0xa2, 'o', 'k', 0xc2, 0xa2, 's', 't', 0,
                                          0xa1, 'v', 1};
    zs_msg_t m;
    json_t *error = NULL;
    ck_assert_int_eq(zs_msg_decode(twice, sizeof twice, &m, &error), -1);
    ck_assert_str_eq(zs_error_details(error), "envelope: a member appears twice");
    json_decref(error);
    json_t *j = json_loads("{\"v\":1,\"k\":\"E\",\"api\":\"t.x\",\"id\":\"\",\"job\":false,\"ok\":true,"
                           "\"dl\":-5,\"st\":0,\"extra\":[1,{\"a\":null}]}", 0, NULL);
    char *buf;
    size_t len;
    ck_assert_int_eq(zs_pack(j, &buf, &len), 0);
    ck_assert_int_eq(zs_msg_decode(buf, len, &m, NULL), 0);
    ck_assert_int_eq(m.kind, 'E');
    ck_assert(m.deadline == -5 && m.ok && !m.caller);
    ck_assert(json_is_object(m.body) && json_object_size(m.body) == 0);
    zs_msg_clear(&m);
    free(buf);
    json_decref(j);
}
END_TEST

/* zs_msg_pack reuses one buffer per thread: the bytes are zs_msg_encode's, and a large message
 * in between (which the buffer does not keep) changes nothing for the next one. */
START_TEST(envelope_pack_reuses_its_buffer)
{
    zs_msg_t small = {.kind = 'R', .ok = true, .status = 202};
    snprintf(small.api, sizeof small.api, "GetTicket");
    small.body = json_pack("{s:s}", "uuid", "0123456789abcdef0123456789abcdef");
    zs_msg_t big = small;
    size_t n = 3u << 20;
    char *huge = malloc(n);
    memset(huge, 'x', n);
    big.body = json_pack("{s:s%}", "blob", huge, n);
    char *owned;
    size_t owned_len;
    ck_assert_int_eq(zs_msg_encode(&small, &owned, &owned_len), 0);
    for (int round = 0; round < 3; round++) {
        const char *buf;
        size_t len;
        ck_assert_int_eq(zs_msg_pack(&big, &buf, &len), 0);
        ck_assert(len > n);
        ck_assert_int_eq(zs_msg_pack(&small, &buf, &len), 0);
        ck_assert(len == owned_len && memcmp(buf, owned, len) == 0);
        zs_msg_t d;
        ck_assert_int_eq(zs_msg_decode(buf, len, &d, NULL), 0);
        ck_assert(json_equal(d.body, small.body) && d.status == 202);
        zs_msg_clear(&d);
    }
    free(owned);
    free(huge);
    json_decref(big.body);
    zs_msg_clear(&small);
}
END_TEST

/* Render once (msg.h): a reply to a request with "rj" carries its successful body as the JSON
 * text the gateway would have rendered; errors, 202s, bodies longer than a decoder takes as
 * one string and replies to requests without "rj" keep their msgpack body; "json" anywhere
 * but instead of a successful reply's body is refused. */
START_TEST(envelope_renders_json_once)
{
    zs_msg_t req = {.kind = 'Q', .want_json = true};
    snprintf(req.api, sizeof req.api, "GetSystemTag");
    snprintf(req.id, sizeof req.id, "0123456789abcdef0123456789abcdef");
    req.body = json_object();
    const char *buf;
    size_t len;
    zs_msg_t d;
    ck_assert_int_eq(zs_msg_pack(&req, &buf, &len), 0);
    ck_assert_int_eq(zs_msg_decode(buf, len, &d, NULL), 0);
    ck_assert(d.want_json && !d.json);
    zs_msg_t reply;
    json_t *inv = json_pack("{s:{s:s, s:i, s:f, s:b, s:n, s:[s]}}", "inventory", "uuid", "u\"é\n",
                            "n", -7, "r", 0.5, "b", 1, "z", "tags", "a::b");
    zs_msg_reply(&reply, &d, true, 0, json_incref(inv));
    zs_msg_clear(&d);
    ck_assert_int_eq(zs_msg_pack(&reply, &buf, &len), 0);
    ck_assert_int_eq(zs_msg_decode(buf, len, &d, NULL), 0);
    char *expect = json_dumps(inv, JSON_COMPACT);
    ck_assert_ptr_nonnull(d.json);
    ck_assert_str_eq(d.json, expect);
    ck_assert_uint_eq(d.json_len, strlen(expect));
    ck_assert(d.ok && json_object_size(d.body) == 0);
    /* a decoded text is sent on as it came (a hop between the owner and the gateway) */
    zs_msg_t again;
    ck_assert_int_eq(zs_msg_pack(&d, &buf, &len), 0);
    ck_assert_int_eq(zs_msg_decode(buf, len, &again, NULL), 0);
    ck_assert_ptr_nonnull(again.json);
    ck_assert_str_eq(again.json, expect);
    zs_msg_clear(&again);
    free(expect);
    zs_msg_clear(&d);
    zs_msg_clear(&reply);

    /* what keeps its body: an error, a 202, a request without rj, a body too long */
    size_t n = zs_pack_default_limits.max_string;
    char *huge = malloc(n);
    memset(huge, 'x', n);
    struct { bool want, ok; int status; json_t *body; } keep[] = {
        {true, false, 503, json_pack("{s:s}", "code", "SYS.1000")},
        {true, true, 202, json_object()},
        {false, true, 0, json_incref(inv)},
        {true, true, 200, json_pack("{s:s%}", "blob", huge, n - 8)},
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        zs_msg_t q = {.kind = 'Q', .want_json = keep[i].want};
        zs_msg_reply(&reply, &q, keep[i].ok, keep[i].status, json_incref(keep[i].body));
        ck_assert_int_eq(zs_msg_pack(&reply, &buf, &len), 0);
        ck_assert_int_eq(zs_msg_decode(buf, len, &d, NULL), 0);
        ck_assert_msg(!d.json && json_equal(d.body, keep[i].body), "case %zu", i);
        zs_msg_clear(&d);
        zs_msg_clear(&reply);
        json_decref(keep[i].body);
    }
    free(huge);
    json_decref(inv);
    zs_msg_clear(&req);
}
END_TEST

START_TEST(zstack_dates)
{
    char buf[64];
    ck_assert_str_eq(zs_date_format(1483674676000LL, buf, sizeof buf), "Jan 6, 2017 3:51:16 AM");
    ck_assert_str_eq(zs_date_format(1483718400000LL, buf, sizeof buf), "Jan 6, 2017 4:00:00 PM");
    ck_assert_str_eq(zs_date_format(1483660800000LL, buf, sizeof buf), "Jan 6, 2017 12:00:00 AM");
    ck_assert_str_eq(zs_date_format_iso(1483674676000LL, buf, sizeof buf), "2017-01-06 03:51:16");
    int64_t ms;
    ck_assert(zs_date_parse("Jan 6, 2017 3:51:16 AM", &ms) && ms == 1483674676000LL);
    ck_assert(zs_date_parse("2017-01-06 03:51:16", &ms) && ms == 1483674676000LL);
    ck_assert(zs_date_parse("1483674676000", &ms) && ms == 1483674676000LL);
    ck_assert(!zs_date_parse("yesterday", &ms));
    ck_assert(!zs_date_parse("2017-01-06", &ms));
    ck_assert(!zs_date_parse("9999999999999999999", &ms));
}
END_TEST

START_TEST(config_file_and_environment)
{
    char path[TEST_TEMP_PATH_SIZE];
    test_temp_file(path, "# comment\n[gateway]\nlisten = 127.0.0.1:9999\nthreads=8\n[webhook]\nsecret = s3cret\n");
    ck_assert_int_eq(zs_config_load(path), 0);
    ck_assert_str_eq(zs_config_get("gateway.listen", "x"), "127.0.0.1:9999");
    ck_assert_int_eq(zs_config_int("gateway.threads", 1), 8);
    setenv("ZS_GATEWAY_THREADS", "64", 1);
    ck_assert_int_eq(zs_config_int("gateway.threads", 1), 64);
    /* a malformed integer is an error, not the fallback: test_config.c */
    ck_assert_str_eq(zs_config_get("missing.key", "fallback"), "fallback");
    unlink(path);
    ck_assert_int_eq(zs_config_load("/nonexistent/zs.conf"), -1);
}
END_TEST

START_TEST(uuids)
{
    char u[33];
    zs_uuid_new(u);
    ck_assert(zs_uuid_valid(u));
    ck_assert_int_eq(u[12], '4');
    char a[33], b[33];   /* ordered: version 7, and a later one sorts after */
    zs_uuid_new_ordered(a);
    usleep(2000);
    zs_uuid_new_ordered(b);
    ck_assert(zs_uuid_valid(a) && zs_uuid_valid(b));
    ck_assert_int_eq(a[12], '7');
    ck_assert_int_lt(strcmp(a, b), 0);
    ck_assert(!zs_uuid_valid("0123456789ABCDEF0123456789abcdef"));
    ck_assert(!zs_uuid_valid("0123456789abcdef0123456789abcde"));
    ck_assert(!zs_uuid_valid(NULL));
}
END_TEST

static int text_order(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Random bits come from a pool per thread: no uuid repeats, and a forked child refills its
 * pool instead of handing out the bytes its parent hands out next. */
START_TEST(uuids_never_repeat)
{
    enum { N = 4096 };
    static char seen[N][33];
    for (int i = 0; i < N; i++)
        zs_uuid_new(seen[i]);
    qsort(seen, N, sizeof seen[0], text_order);
    for (int i = 1; i < N; i++)
        ck_assert_str_ne(seen[i - 1], seen[i]);
    char first[33];
    zs_uuid_new(first);   /* the pool is now part used: what is left would be shared by a fork */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char c[33];
        zs_uuid_new(c);
        _exit(write(fds[1], c, sizeof c) == (ssize_t)sizeof c ? 0 : 1);
    }
    char mine[33], child[33];
    zs_uuid_new(mine);
    ck_assert_int_eq(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
    int status;
    waitpid(pid, &status, 0);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert(zs_uuid_valid(child));
    ck_assert_str_ne(mine, child);
    close(fds[0]);
    close(fds[1]);
}
END_TEST

START_TEST(api_lookup_by_every_name)
{
    const zs_api_t *a = zs_api_find("CreateSystemTag");
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(zs_api_find("APICreateSystemTagMsg"), a);
    ck_assert_ptr_eq(zs_api_find("org.zstack.header.tag.APICreateSystemTagMsg"), a);
    ck_assert_ptr_null(zs_api_find("APINoSuchMsg"));
    ck_assert_ptr_nonnull(zs_resource_find("AccountVO"));
}
END_TEST

START_TEST(api_validation)
{
    const zs_api_t *a = zs_api_find("CreateAccount");
    json_t *error = NULL;
    json_t *p = json_pack("{s:s, s:s, s:s}", "name", "n", "password", "12345678", "junk", "dropped");
    ck_assert_int_eq(zs_api_validate(a, p, &error), 0);
    ck_assert_ptr_null(json_object_get(p, "junk"));
    json_decref(p);
    p = json_pack("{s:s}", "name", "n");
    ck_assert_int_eq(zs_api_validate(a, p, &error), -1);
    ck_assert_str_eq(json_string_value(json_object_get(error, "details")),
                     "field[password] of CreateAccount is mandatory, can not be null");
    json_decref(error);
    json_decref(p);
    p = json_pack("{s:s, s:s, s:s}", "name", "n", "password", "12345678", "type", "Root");
    ck_assert_int_eq(zs_api_validate(a, p, &error), -1);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(error, "details")), "SystemAdmin"));
    json_decref(error);
    json_decref(p);
    /* query-string text becomes the declared type */
    a = zs_api_find("GetApiJob");
    p = json_pack("{s:s, s:s}", "uuid", "x", "wait", "7");
    ck_assert_int_eq(zs_api_validate(a, p, &error), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(p, "wait")), 7);
    json_object_set_new(p, "wait", json_string("61"));
    ck_assert_int_eq(zs_api_validate(a, p, &error), -1);
    json_decref(error);
    json_decref(p);
    a = zs_api_find("CreateSystemTags");
    p = json_pack("{s:s, s:s, s:s}", "resourceUuid", "r", "resourceType", "VmInstanceVO", "tags", "a,b");
    ck_assert_int_eq(zs_api_validate(a, p, &error), 0);
    ck_assert_int_eq(json_array_size(json_object_get(p, "tags")), 2);
    json_decref(p);
}
END_TEST

START_TEST(acknowledgement_envelope)
{
    zs_msg_t q = {.kind = 'Q', .job = true}, a, d;
    snprintf(q.api, sizeof q.api, "CreateUserTag");
    snprintf(q.id, sizeof q.id, "0123456789abcdef0123456789abcdef");
    zs_msg_reply(&a, &q, true, 0, NULL);
    a.kind = 'A';
    char *buf;
    size_t len;
    ck_assert_int_eq(zs_msg_encode(&a, &buf, &len), 0);
    ck_assert_int_eq(zs_msg_decode(buf, len, &d, NULL), 0);
    ck_assert_int_eq(d.kind, 'A');
    ck_assert(d.job);
    ck_assert_str_eq(d.id, q.id);
    free(buf);
    zs_msg_clear(&a);
    zs_msg_clear(&d);
}
END_TEST

START_TEST(tag_identities)
{
    char a[33], b[33], c[33];
    zs_tag_identity("User", "ab", "c", a);
    zs_tag_identity("User", "a", "bc", b);   /* same bytes, other split: another identity */
    zs_tag_identity("User", "ab", "c", c);
    ck_assert_int_eq(strlen(a), 32);
    ck_assert_str_ne(a, b);
    ck_assert_str_eq(a, c);
    zs_tag_identity("System", "ab", "c", b);
    ck_assert_str_ne(a, b);
}
END_TEST

/* The schema names every typed object at any depth, subclasses by their marking field. */
START_TEST(api_schema_at_any_depth)
{
    json_t *r = json_loads("{\"inventories\": [{\"taskName\": \"a\", \"subTasks\": [{\"taskName\": \"b\"},"
                           " {\"taskName\": \"c\", \"subTasks\": [{\"taskName\": \"d\"}]}]}, 3]}", 0, NULL);
    json_t *s = zs_api_schema(zs_api_find("GetTaskProgress"), r);
    const char *tp = "org.zstack.header.core.progress.TaskProgressInventory";
    ck_assert_int_eq(json_object_size(s), 4);
    ck_assert_str_eq(json_string_value(json_object_get(s, "inventories[0]")), tp);
    ck_assert_str_eq(json_string_value(json_object_get(s, "inventories[0].subTasks[1]")), tp);
    ck_assert_str_eq(json_string_value(json_object_get(s, "inventories[0].subTasks[1].subTasks[0]")), tp);
    ck_assert_ptr_null(json_object_get(s, "inventories[1]"));   /* not an object */
    json_decref(s);
    json_decref(r);

    r = json_loads("{\"inventory\": {\"uuid\": \"u\", \"projectUuid\": \"p\", \"flows\": [{\"name\": \"x\"},"
                   " {\"approverUuid\": \"a\"}]}}", 0, NULL);
    s = zs_api_schema(zs_api_find("CreateTicketFlowCollection"), r);
    ck_assert_str_eq(json_string_value(json_object_get(s, "inventory")),
                     "org.zstack.ticket.iam2.entity.IAM2TicketFlowCollectionInventory");
    ck_assert_str_eq(json_string_value(json_object_get(s, "inventory.flows[0]")),
                     "org.zstack.ticket.entity.TicketFlowInventory");
    ck_assert_str_eq(json_string_value(json_object_get(s, "inventory.flows[1]")),
                     "org.zstack.ticket.iam2.entity.IAM2TicketFlowInventory");
    json_decref(s);
    json_decref(r);

    r = json_loads("{\"inventory\": {\"licenseType\": \"Paid\"}, \"additions\": [{\"modules\": [\"m\"]}]}", 0, NULL);
    s = zs_api_schema(zs_api_find("GetLicenseInfo"), r);
    ck_assert_str_eq(json_string_value(json_object_get(s, "inventory")), "org.zstack.license.LicenseInventory");
    ck_assert_str_eq(json_string_value(json_object_get(s, "additions[0]")), "org.zstack.license.LicenseAddOnInventory");
    json_decref(s);
    json_decref(r);

    /* a hostile nesting depth is walked only so far */
    json_t *deep = json_object(), *top = json_pack("{s:[o]}", "inventories", deep);
    for (int i = 0; i < 100; i++) {
        json_t *next = json_object();
        json_object_set_new(deep, "subTasks", json_pack("[o]", next));
        deep = next;
    }
    s = zs_api_schema(zs_api_find("GetTaskProgress"), top);
    ck_assert_int_le(json_object_size(s), 20);
    json_decref(s);
    json_decref(top);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("common");
    TCase *t = tcase_create("all");
    tcase_add_test(t, envelope_round_trip);
    tcase_add_test(t, envelope_refuses_bad_members);
    tcase_add_test(t, envelope_members_once);
    tcase_add_test(t, envelope_pack_reuses_its_buffer);
    tcase_add_test(t, envelope_renders_json_once);
    tcase_add_test(t, zstack_dates);
    tcase_add_test(t, config_file_and_environment);
    tcase_add_test(t, uuids);
    tcase_add_test(t, uuids_never_repeat);
    tcase_add_test(t, api_lookup_by_every_name);
    tcase_add_test(t, api_validation);
    tcase_add_test(t, acknowledgement_envelope);
    tcase_add_test(t, tag_identities);
    tcase_add_test(t, api_schema_at_any_depth);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
