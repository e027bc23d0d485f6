/* Unit tests of the configuration (common/config.c) and of the identity locks
 * (common/identity.c): comments, precedence flags > environment > file > defaults, every key
 * of deploy/zs.conf.sample as shipped, the one-host rule of stateful services, and a second
 * claim of a live ipc endpoint, malformed integers (read, and refused at load), default
 * endpoints in the caller's buffer, many keys, overlong keys. Run from the repository root
 * (tests/run-all and `make test-unit` do). */
#include "config.h"
#include "identity.h"
#include "testutil.h"
#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>


START_TEST(inline_comments_are_stripped)
{
    zs_config_reset();
    char path[TEST_TEMP_PATH_SIZE];
    test_temp_file(path, "; a comment\n# another\n[bus]\nbroker = tcp://10.99.0.1:7100     ; the broker's intake\n"
                            "core = tcp://h:1\t# tab comment\nodd = a;b#c   \n[x]\nempty =\n");
    ck_assert_int_eq(zs_config_load(path), 0);
    ck_assert_str_eq(zs_config_get("bus.broker", "?"), "tcp://10.99.0.1:7100");
    ck_assert_str_eq(zs_config_get("bus.core", "?"), "tcp://h:1");
    ck_assert_str_eq(zs_config_get("bus.odd", "?"), "a;b#c");   /* not after whitespace */
    ck_assert_str_eq(zs_config_get("x.empty", "?"), "");
    unlink(path);
    zs_config_reset();
    test_temp_file(path, "[gateway\nlisten = x\n");
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
    char path[TEST_TEMP_PATH_SIZE];
    test_temp_file(path, "[gateway]\nlisten = file:2\n");
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
    test_temp_file(path, "[data]\ndir = /from/file\n");
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
    json_t *error = NULL;
    zs_config_reset();
    zs_config_set("bus.core", "tcp://core:7001");
    zs_config_set("bus.tags", "tcp://127.0.0.1:7002,tcp://127.0.0.1:7012,ipc:///tmp/x.ipc");
    ck_assert_int_eq(zs_config_check_topology(stateful, &error), 0);
    zs_config_set("bus.tags", "tcp://10.0.0.2:7002, tcp://10.0.0.2:7012");
    ck_assert_int_eq(zs_config_check_topology(stateful, &error), 0);
    ck_assert_ptr_null(error);   /* untouched on success */
    zs_config_set("bus.tags", "tcp://10.0.0.2:7002,tcp://10.0.0.3:7002");
    ck_assert_int_eq(zs_config_check_topology(stateful, &error), -1);
    const char *why = zs_error_details(error);
    ck_assert_str_eq(zs_error_code(error), ZS_SYS_INVALID);
    ck_assert_msg(strstr(why, "bus.tags") && strstr(why, "10.0.0.2") && strstr(why, "10.0.0.3"), "%s", why);
    json_decref(error);
    zs_config_set("bus.tags", "ipc:///tmp/t.ipc,tcp://hostb:7002");
    ck_assert_int_eq(zs_config_check_topology(stateful, NULL), -1);   /* the reason is optional */
    zs_config_reset();
}
END_TEST

START_TEST(a_live_ipc_endpoint_cannot_be_claimed_twice)
{
    char dir[] = "/tmp/zs-identity-XXXXXX", ep[128];
    json_t *error = NULL;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(ep, sizeof ep, "ipc://%s/tags.ipc", dir);
    ck_assert_int_eq(zs_identity_claim_endpoint(ep, "zs-tags", &error), 0);
    ck_assert_int_eq(zs_identity_claim_endpoint(ep, "zs-tags", &error), -1);
    const char *why = zs_error_details(error);
    ck_assert_str_eq(zs_error_code(error), ZS_SYS_FAILED);
    ck_assert_msg(strstr(why, "already served") && strstr(why, "zs-tags host"), "%s", why);
    json_decref(error);
    error = NULL;
    ck_assert_int_eq(zs_identity_claim_endpoint(ep, "zs-tags", NULL), -1);   /* reason optional */
    ck_assert_int_eq(zs_identity_claim_endpoint("tcp://127.0.0.1:1", "zs-tags", &error), 0);
    /* a store is shared by instances of one PID namespace */
    char store[160];
    snprintf(store, sizeof store, "%s/tags", dir);
    ck_assert_int_eq(zs_identity_claim_store(store, "zs-tags", &error), 0);
    ck_assert_int_eq(zs_identity_claim_store(store, "zs-tags", &error), 0);
    ck_assert_ptr_null(error);
    /* a directory that cannot be made: the reason names it */
    ck_assert_int_eq(zs_identity_claim_store("/dev/null/tags", "zs-tags", &error), -1);
    ck_assert_msg(strstr(zs_error_details(error), "cannot create /dev/null/tags"), "%s",
                  zs_error_details(error));
    json_decref(error);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The default endpoint of a service is computed into the caller's buffer: the tables are
 * not written (the key stays unset), and a set value is returned as is, not copied. */
START_TEST(default_endpoints_go_to_the_callers_buffer)
{
    zs_config_reset();
    unsetenv("ZS_BUS_ALPHA");
    unsetenv("ZS_BUS_BETA");
    zs_config_set("data.dir", "/d");
    char a[ZS_CONFIG_ENDPOINTS_SIZE], b[ZS_CONFIG_ENDPOINTS_SIZE];
    ck_assert_ptr_eq(zs_config_endpoints("alpha", a), a);
    ck_assert_ptr_eq(zs_config_endpoints("beta", b), b);
    ck_assert_str_eq(a, "ipc:///d/bus/alpha.ipc");
    ck_assert_str_eq(b, "ipc:///d/bus/beta.ipc");
    ck_assert_ptr_null(zs_config_get("bus.alpha", NULL));
    ck_assert_ptr_null(zs_config_get("bus.beta", NULL));
    zs_config_set("bus.alpha", "tcp://127.0.0.1:7001");   /* a set value wins over the default */
    const char *set = zs_config_endpoints("alpha", a);
    ck_assert_ptr_eq(set, zs_config_get("bus.alpha", NULL));
    ck_assert_str_eq(set, "tcp://127.0.0.1:7001");
    zs_config_reset();
}
END_TEST

/* Runs zs_config_int(key) on `value` in a child: its exit status (0 when it returned) and up
 * to size-1 bytes of what it wrote on stderr. */
static int int_in_child(const char *key, const char *value, char *err, size_t size)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        zs_config_reset();
        zs_config_set(key, value);
        zs_config_int(key, 7);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t got;
    while (n < size - 1 && (got = read(fds[0], err + n, size - 1 - n)) > 0)
        n += (size_t)got;
    err[n] = '\0';
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    return WEXITSTATUS(status);
}

START_TEST(malformed_integer_read_is_an_error_naming_the_key)
{
    zs_config_reset();
    unsetenv("ZS_GC_INTERVAL");
    ck_assert_int_eq(zs_config_int("gc.interval", 60), 60);          /* unset */
    zs_config_set("gc.interval", "-15");
    ck_assert_int_eq(zs_config_int("gc.interval", 60), -15);
    zs_config_set("gc.interval", "9223372036854775807");
    ck_assert(zs_config_int("gc.interval", 60) == INT64_MAX);
    zs_config_reset();
    static const char *const bad[] = {"10s", "abc", "1.5", "", " ", " 5", "99999999999999999999",
                                      NULL};
    for (const char *const *v = bad; *v; v++) {
        char err[512];
        ck_assert_int_eq(int_in_child("gc.interval", *v, err, sizeof err), 2);
        ck_assert_msg(strstr(err, "gc.interval") && strstr(err, *v) && strstr(err, "not an integer"),
                      "value '%s': stderr '%s'", *v, err);
    }
}
END_TEST

/* zs_config_load(path) with stderr caught into err (up to size-1 bytes). */
static int load_catching(const char *path, char *err, size_t size)
{
    char out[TEST_TEMP_PATH_SIZE];
    test_temp_file(out, "");
    fflush(stderr);
    int saved = dup(2), fd = open(out, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 2);
    close(fd);
    int rc = zs_config_load(path);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(err, 1, size - 1, f);
    err[n] = '\0';
    fclose(f);
    unlink(out);
    return rc;
}

/* A malformed integer setting fails the load at start, naming the key and the line (file)
 * or the variable (environment); it is not kept, and a good line next to it is read. */
START_TEST(malformed_integer_setting_fails_the_load)
{
    static const char *const bad[] = {"12x", "", "99999999999999999999", "1.5", "0x10", NULL};
    char path[TEST_TEMP_PATH_SIZE], text[256], err[1024];
    unsetenv("ZS_BUS_QUEUE_MAX");
    for (const char *const *v = bad; *v; v++) {
        zs_config_reset();
        snprintf(text, sizeof text, "[bus]\nattempt-ms = 500\nqueue-max = %s ; comment\n", *v);
        test_temp_file(path, text);
        ck_assert_int_eq(load_catching(path, err, sizeof err), -1);
        unlink(path);
        char where[64];
        snprintf(where, sizeof where, "%s:3: bus.queue-max = \"%s\"", path, *v);
        ck_assert_msg(strstr(err, where) && strstr(err, "not an integer"), "'%s': stderr '%s'", *v, err);
        ck_assert_ptr_null(zs_config_get("bus.queue-max", NULL));
        ck_assert_str_eq(zs_config_get("bus.attempt-ms", "?"), "500");
    }
    /* good integers of every form load */
    zs_config_reset();
    test_temp_file(path, "[bus]\nqueue-max = -15\nattempt-ms = 9223372036854775807\n[gateway]\n"
                   "threads = +8\nlisten = 12x\n");   /* not an integer setting: any text */
    ck_assert_int_eq(load_catching(path, err, sizeof err), 0);
    unlink(path);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(zs_config_int("bus.queue-max", 0), -15);
    ck_assert(zs_config_int("bus.attempt-ms", 0) == INT64_MAX);
    ck_assert_int_eq(zs_config_int("gateway.threads", 0), 8);
    /* the environment and the flags are checked at load too, file or not */
    zs_config_reset();
    setenv("ZS_BUS_QUEUE_MAX", "12x", 1);
    ck_assert_int_eq(load_catching(NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "bus.queue-max (environment ZS_BUS_QUEUE_MAX) = \"12x\""), "%s", err);
    setenv("ZS_BUS_QUEUE_MAX", "", 1);
    ck_assert_int_eq(load_catching(NULL, err, sizeof err), -1);
    setenv("ZS_BUS_QUEUE_MAX", "64", 1);
    ck_assert_int_eq(load_catching(NULL, err, sizeof err), 0);
    unsetenv("ZS_BUS_QUEUE_MAX");
    zs_config_set("gc.interval", "soon");
    ck_assert_int_eq(load_catching(NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "gc.interval (flag) = \"soon\""), "%s", err);
    zs_config_reset();
}
END_TEST

/* Every key the sources read with zs_config_int is an integer setting load checks. */
START_TEST(every_integer_read_is_declared)
{
    FILE *p = popen("grep -rhoE --include='*.c' 'zs_config_int\\(\"[^\"]+\"' "
                    "common gateway broker svc-* tools", "r");
    ck_assert_ptr_nonnull(p);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, p)) {
        char *key = strchr(line, '"') + 1;
        *strchr(key, '"') = '\0';
        ck_assert_msg(zs_config_is_integer(key), "%s is read with zs_config_int but not declared "
                      "in config.c's integer_keys", key);
        n++;
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_int_ge(n, 40);   /* the grep did see the sources (run from the repository root) */
    ck_assert(!zs_config_is_integer("gateway.listen"));
}
END_TEST

START_TEST(overlong_key_fails_the_load)
{
    char text[600], path[TEST_TEMP_PATH_SIZE], err[512];
    snprintf(text, sizeof text, "[s]\nok = 1\n%0300d = x\n", 0);
    test_temp_file(path, text);
    zs_config_reset();
    ck_assert_int_eq(load_catching(path, err, sizeof err), -1);
    unlink(path);
    ck_assert_msg(strstr(err, ":3: key longer than 255 bytes"), "%s", err);
    zs_config_reset();
}
END_TEST

/* No cap on the number of keys: every layer keeps them all. */
START_TEST(many_keys_are_all_kept)
{
    zs_config_reset();
    char key[64], value[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "many.flag%d", i);
        snprintf(value, sizeof value, "f%d", i);
        zs_config_set(key, value);
        snprintf(key, sizeof key, "many.default%d", i);
        snprintf(value, sizeof value, "d%d", i);
        zs_config_default(key, value);
    }
    char path[TEST_TEMP_PATH_SIZE];
    test_temp_file(path, "");
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("[many]\n", f);
    for (int i = 0; i < 1000; i++)
        fprintf(f, "file%d = v%d\n", i, i);
    fclose(f);
    ck_assert_int_eq(zs_config_load(path), 0);
    unlink(path);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "many.flag%d", i);
        snprintf(value, sizeof value, "f%d", i);
        ck_assert_str_eq(zs_config_get(key, "?"), value);
        snprintf(key, sizeof key, "many.default%d", i);
        snprintf(value, sizeof value, "d%d", i);
        ck_assert_str_eq(zs_config_get(key, "?"), value);
        snprintf(key, sizeof key, "many.file%d", i);
        snprintf(value, sizeof value, "v%d", i);
        ck_assert_str_eq(zs_config_get(key, "?"), value);
    }
    zs_config_reset();
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
    tcase_add_test(t, default_endpoints_go_to_the_callers_buffer);
    tcase_add_test(t, malformed_integer_read_is_an_error_naming_the_key);
    tcase_add_test(t, malformed_integer_setting_fails_the_load);
    tcase_add_test(t, every_integer_read_is_declared);
    tcase_add_test(t, overlong_key_fails_the_load);
    tcase_add_test(t, many_keys_are_all_kept);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
