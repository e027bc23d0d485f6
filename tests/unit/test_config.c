/* Unit tests of the configuration (common/config.c) and of the identity locks
 * (common/identity.c): comments, precedence flags > environment > file > defaults, every key
 * of deploy/zs.conf.sample as shipped, the one-host rule of stateful services, and a second
 * claim of a live ipc endpoint. Run from the repository root (tests/run-all does). */
#include "config.h"
#include "identity.h"
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/zs-config-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

START_TEST(inline_comments_are_stripped)
{
    zs_config_reset();
    char *path = write_temp("; a comment\n# another\n[bus]\nbroker = tcp://10.99.0.1:7100     ; the broker's intake\n"
                            "core = tcp://h:1\t# tab comment\nodd = a;b#c   \n[x]\nempty =\n");
    ck_assert_int_eq(zs_config_load(path), 0);
    ck_assert_str_eq(zs_config_get("bus.broker", "?"), "tcp://10.99.0.1:7100");
    ck_assert_str_eq(zs_config_get("bus.core", "?"), "tcp://h:1");
    ck_assert_str_eq(zs_config_get("bus.odd", "?"), "a;b#c");   /* not after whitespace */
    ck_assert_str_eq(zs_config_get("x.empty", "?"), "");
    unlink(path);
    zs_config_reset();
    path = write_temp("[gateway\nlisten = x\n");
    ck_assert_int_eq(zs_config_load(path), -1);
    unlink(path);
    ck_assert_int_eq(zs_config_load("/nonexistent/zs.conf"), -1);
}
END_TEST

START_TEST(precedence_flags_env_file_defaults)
{
    zs_config_reset();
    unsetenv("ZS_GATEWAY_LISTEN");
    zs_config_default("gateway.listen", "default:1");
    ck_assert_str_eq(zs_config_get("gateway.listen", "fallback"), "default:1");
    char *path = write_temp("[gateway]\nlisten = file:2\n");
    ck_assert_int_eq(zs_config_load(path), 0);
    unlink(path);
    ck_assert_str_eq(zs_config_get("gateway.listen", "fallback"), "file:2");
    setenv("ZS_GATEWAY_LISTEN", "env:3", 1);
    ck_assert_str_eq(zs_config_get("gateway.listen", "fallback"), "env:3");
    zs_config_set("gateway.listen", "flag:4");
    ck_assert_str_eq(zs_config_get("gateway.listen", "fallback"), "flag:4");
    /* a flag set before the file is loaded still wins (zs_node_init parses flags first) */
    zs_config_reset();
    zs_config_set("data.dir", "/from/flag");
    path = write_temp("[data]\ndir = /from/file\n");
    ck_assert_int_eq(zs_config_load(path), 0);
    unlink(path);
    ck_assert_str_eq(zs_config_data_dir(), "/from/flag");
    unsetenv("ZS_GATEWAY_LISTEN");
    zs_config_reset();
    ck_assert_str_eq(zs_config_get("gateway.listen", "fallback"), "fallback");
}
END_TEST

/* Every `key = value` line of the sample as shipped is read back with the value the file
 * shows (the text before an inline comment), and no value keeps a comment. */
START_TEST(every_key_of_the_shipped_sample)
{
    const char *sample = "deploy/zs.conf.sample";
    FILE *f = fopen(sample, "r");
    ck_assert_msg(f != NULL, "run from the repository root: %s missing", sample);
    zs_config_reset();
    ck_assert_int_eq(zs_config_load(sample), 0);
    char line[1024], section[128] = "";
    int keys = 0;
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '[') {
            ck_assert_int_eq(sscanf(s, "[%127[^]]]", section), 1);
            continue;
        }
        char name[128], value[512] = "";
        if (*s == ';' || *s == '#' || sscanf(s, "%127[^ =] = %511[^\n]", name, value) < 1)
            continue;
        for (char *c = value; *c; c++)   /* the value the reader sees: before " ;" / " #" */
            if ((*c == ';' || *c == '#') && c > value && isspace((unsigned char)c[-1])) {
                *c = '\0';
                break;
            }
        for (size_t n = strlen(value); n && isspace((unsigned char)value[n - 1]); n--)
            value[n - 1] = '\0';
        char key[300], env[300] = "ZS_";
        snprintf(key, sizeof key, "%s.%s", section, name);
        size_t e = 3;
        for (const char *k = key; *k && e < sizeof env - 1; k++)
            env[e++] = (*k == '.' || *k == '-') ? '_' : (char)toupper((unsigned char)*k);
        env[e] = '\0';
        unsetenv(env);
        const char *got = zs_config_get(key, NULL);
        ck_assert_msg(got != NULL, "%s: key %s not read", sample, key);
        ck_assert_msg(strcmp(got, value) == 0, "%s: %s = '%s', file shows '%s'", sample, key, got, value);
        ck_assert_msg(!strchr(got, ';') && !strchr(got, '#'), "%s: %s keeps a comment: %s", sample, key, got);
        keys++;
    }
    fclose(f);
    ck_assert_int_ge(keys, 30);
    zs_config_reset();
}
END_TEST

START_TEST(stateful_service_on_two_hosts_is_refused)
{
    static const char *const stateful[] = {"tags", "core", NULL};
    char why[1500];
    zs_config_reset();
    zs_config_set("bus.core", "tcp://core:7001");
    zs_config_set("bus.tags", "tcp://127.0.0.1:7002,tcp://127.0.0.1:7012,ipc:///tmp/x.ipc");
    ck_assert_int_eq(zs_config_check_topology(stateful, why, sizeof why), 0);
    zs_config_set("bus.tags", "tcp://10.0.0.2:7002, tcp://10.0.0.2:7012");
    ck_assert_int_eq(zs_config_check_topology(stateful, why, sizeof why), 0);
    zs_config_set("bus.tags", "tcp://10.0.0.2:7002,tcp://10.0.0.3:7002");
    ck_assert_int_eq(zs_config_check_topology(stateful, why, sizeof why), -1);
    ck_assert_msg(strstr(why, "bus.tags") && strstr(why, "10.0.0.2") && strstr(why, "10.0.0.3"), "%s", why);
    zs_config_set("bus.tags", "ipc:///tmp/t.ipc,tcp://hostb:7002");
    ck_assert_int_eq(zs_config_check_topology(stateful, why, sizeof why), -1);
    zs_config_reset();
}
END_TEST

START_TEST(a_live_ipc_endpoint_cannot_be_claimed_twice)
{
    char dir[] = "/tmp/zs-identity-XXXXXX", ep[128], why[1500];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(ep, sizeof ep, "ipc://%s/tags.ipc", dir);
    ck_assert_int_eq(zs_identity_claim_endpoint(ep, "zs-tags", why, sizeof why), 0);
    ck_assert_int_eq(zs_identity_claim_endpoint(ep, "zs-tags", why, sizeof why), -1);
    ck_assert_msg(strstr(why, "already served") && strstr(why, "zs-tags host"), "%s", why);
    ck_assert_int_eq(zs_identity_claim_endpoint("tcp://127.0.0.1:1", "zs-tags", why, sizeof why), 0);
    /* a store is shared by instances of one PID namespace */
    char store[160];
    snprintf(store, sizeof store, "%s/tags", dir);
    ck_assert_int_eq(zs_identity_claim_store(store, "zs-tags", why, sizeof why), 0);
    ck_assert_int_eq(zs_identity_claim_store(store, "zs-tags", why, sizeof why), 0);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *t = tcase_create("all");
    tcase_add_test(t, inline_comments_are_stripped);
    tcase_add_test(t, precedence_flags_env_file_defaults);
    tcase_add_test(t, every_key_of_the_shipped_sample);
    tcase_add_test(t, stateful_service_on_two_hosts_is_refused);
    tcase_add_test(t, a_live_ipc_endpoint_cannot_be_claimed_twice);
    suite_add_tcase(s, t);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
