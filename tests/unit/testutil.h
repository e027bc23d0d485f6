/* testutil.h — helpers the unit-test programs share. Each tests/unit/test_*.c is a program
 * of its own (Makefile: $(BUILD)/tests/%), so the helpers are static inline here. */
#ifndef ZS_TESTUTIL_H
#define ZS_TESTUTIL_H
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

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

#endif
