/* testutil.h — helpers the unit-test programs share. Each tests/unit/test_*.c is a program
 * of its own (Makefile: $(BUILD)/tests/%), so the helpers are static inline here. */
#ifndef ZS_TESTUTIL_H
#define ZS_TESTUTIL_H
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Room for the path test_temp_file makes. */
#define TEST_TEMP_PATH_SIZE 32

/* Writes `text` into a new file /tmp/zs-test-XXXXXX and its name into `path`; returns `path`.
 * The test removes the file. */
static inline char *test_temp_file(char path[TEST_TEMP_PATH_SIZE], const char *text)
{
    snprintf(path, TEST_TEMP_PATH_SIZE, "/tmp/zs-test-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* Runs every test of `s` (check's output, CK_NORMAL; CK_FORK as the environment says) and
 * frees it. Returns the program's exit code: 0 when every check passed, else 1. */
static inline int test_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/* Makes a fresh directory /tmp/zs-unit-<what>-<pid> (0700) and writes its path into dir.
 * Returns false (after saying why on stderr) when it cannot be made. */
static inline bool test_make_dir(char *dir, size_t size, const char *what)
{
    snprintf(dir, size, "/tmp/zs-unit-%s-%d", what, (int)getpid());
    if (mkdir(dir, 0700) != 0) {
        perror(dir);
        return false;
    }
    return true;
}

/* Removes dir and everything in it (a test_make_dir directory); complains on stderr only. */
static inline void test_remove_dir(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

#endif
