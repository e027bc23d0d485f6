/* test_pack.c — zs_pack / zs_unpack: round trips of every JSON type, the msgpack forms other
 * encoders produce, and every way zs_unpack refuses hostile input (with its reason). */
#include "pack.h"
#include "testutil.h"
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A byte array literal and its length, as two arguments. */
#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static void roundtrip(json_t *v)
{
    char *buf;
    size_t len;
    json_t *error = NULL;
    ck_assert_int_eq(zs_pack(v, &buf, &len), 0);
    json_t *back = zs_unpack(buf, len, NULL, &error);
    ck_assert_msg(back != NULL, "round trip refused: %s", zs_error_details(error));
    ck_assert_msg(json_equal(v, back), "round trip changed the value");
    ck_assert_int_eq(json_typeof(v), json_typeof(back));   /* 1.0 must stay a real */
    json_decref(back);
    free(buf);
    json_decref(v);
}

/* Asserts that the bytes are refused with SYS.1007 and exactly `reason` as its details. */
static void refused_lim(const uint8_t *b, size_t n, const zs_pack_limits_t *lim,
                        const char *reason)
{
    json_t *error = NULL;
    json_t *v = zs_unpack(b, n, lim, &error);
    if (v)
        json_decref(v);
    ck_assert_msg(v == NULL, "accepted, expected: %s", reason);
    ck_assert_str_eq(zs_error_code(error), ZS_SYS_INVALID);
    ck_assert_str_eq(zs_error_details(error), reason);
    json_decref(error);
}

static void refused(const uint8_t *b, size_t n, const char *reason)
{
    refused_lim(b, n, NULL, reason);
}

/* Decodes bytes that must be accepted; the caller owns the result. */
static json_t *accepted(const uint8_t *b, size_t n)
{
    json_t *error = NULL;
    json_t *v = zs_unpack(b, n, NULL, &error);
    ck_assert_msg(v != NULL, "refused: %s", zs_error_details(error));
    ck_assert_ptr_null(error);   /* untouched on success */
    return v;
}

/* `depth` arrays inside each other, the innermost holding `inner` (or nothing when NULL). */
static json_t *nested(unsigned depth, json_t *inner)
{
    json_t *v = json_array();
    if (inner)
        json_array_append_new(v, inner);
    for (unsigned i = 1; i < depth; i++) {
        json_t *outer = json_array();
        json_array_append_new(outer, v);
        v = outer;
    }
    return v;
}

static json_t *string_of(size_t n, char c)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    json_t *v = json_stringn(s, n);
    free(s);
    return v;
}

/* ---- round trips ---------------------------------------------------------------------- */

START_TEST(roundtrip_scalars)
{
    roundtrip(json_null());
    roundtrip(json_true());
    roundtrip(json_false());
}
END_TEST

START_TEST(roundtrip_integers)
{
    /* Each side of every msgpack integer width. */
    static const json_int_t ints[] = {
        0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL, INT64_MAX,
        -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN, (json_int_t)INT32_MIN - 1,
        INT64_MIN, INT64_MIN + 1,
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        roundtrip(json_integer(ints[i]));
}
END_TEST

START_TEST(roundtrip_reals)
{
    static const double reals[] = {
        0.0, -0.0, 0.1, -1.5, 1.0, 3.141592653589793, 1e308, -1e-300, 5e-324, DBL_MAX,
        -DBL_MAX, 9007199254740993.0,
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        roundtrip(json_real(reals[i]));
}
END_TEST

START_TEST(roundtrip_strings)
{
    roundtrip(json_string(""));
    roundtrip(json_string("hello"));
    roundtrip(json_string("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87"));
    roundtrip(json_stringn("a\0b", 3));                 /* NUL inside a value is fine */
    /* Both sides of fixstr / str8 / str16 / str32. */
    static const size_t sizes[] = { 31, 32, 255, 256, 65535, 65536, 200000 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        roundtrip(string_of(sizes[i], 'x'));
}
END_TEST

START_TEST(roundtrip_containers)
{
    roundtrip(json_array());
    roundtrip(json_object());
    roundtrip(json_pack("[[], {}, [[]], {s:{}}]", "a"));
    roundtrip(json_pack("{s:[i,f,s,b,n], s:{s:{s:[I]}}, s:s}",
                        "list", 1, 2.5, "three", 1, "deep", "er", "est", (json_int_t)-7,
                        "\xc3\xbcnicode key \xe2\x9c\x93", "value"));
    /* Both sides of fixarray / array16 / array32, and of fixmap / map16. */
    static const size_t sizes[] = { 15, 16, 65535, 65536 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        json_t *a = json_array();
        for (size_t k = 0; k < sizes[i]; k++)
            json_array_append_new(a, json_integer((json_int_t)k));
        roundtrip(a);
    }
    for (size_t n = 15; n <= 17; n++) {
        json_t *o = json_object();
        char key[32];
        for (size_t k = 0; k < n; k++) {
            snprintf(key, sizeof key, "k%zu", k);
            json_object_set_new(o, key, json_integer((json_int_t)k));
        }
        roundtrip(o);
    }
    roundtrip(nested(32, json_string("bottom")));      /* the deepest allowed */
}
END_TEST

/* zs_pack picks the shortest forms, as other msgpack encoders do. */
START_TEST(pack_encoding)
{
    struct { json_t *v; const char *bytes; size_t n; } cases[] = {
        { json_integer(1), "\x01", 1 },
        { json_integer(-1), "\xff", 1 },
        { json_integer(200), "\xcc\xc8", 2 },
        { json_integer(-200), "\xd1\xff\x38", 3 },
        { json_real(1.5), "\xcb\x3f\xf8\0\0\0\0\0\0", 9 },
        { json_string("a"), "\xa1" "a", 2 },
        { json_null(), "\xc0", 1 },
        { json_false(), "\xc2", 1 },
        { json_true(), "\xc3", 1 },
        { json_array(), "\x90", 1 },
        { json_object(), "\x80", 1 },
        { json_pack("{s:[n]}", "k"), "\x81\xa1k\x91\xc0", 5 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *buf;
        size_t len;
        ck_assert_int_eq(zs_pack(cases[i].v, &buf, &len), 0);
        ck_assert_uint_eq(len, cases[i].n);
        ck_assert_mem_eq(buf, cases[i].bytes, len);
        free(buf);
        json_decref(cases[i].v);
    }
}
END_TEST

START_TEST(pack_refuses)
{
    char *buf;
    size_t len;
    ck_assert_int_eq(zs_pack(NULL, &buf, &len), -1);
    json_t *deep = nested(3000, NULL);
    ck_assert_int_eq(zs_pack(deep, &buf, &len), -1);
    json_decref(deep);
}
END_TEST

/* Forms zs_pack never writes but other encoders do. */
START_TEST(unpack_foreign_forms)
{
    struct { const uint8_t *b; size_t n; json_int_t want; } ints[] = {
        { BYTES(0xcc, 0xc8), 200 },
        { BYTES(0xcd, 0x00, 0x01), 1 },
        { BYTES(0xce, 0xff, 0xff, 0xff, 0xff), 4294967295LL },
        { BYTES(0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), INT64_MAX },
        { BYTES(0xd0, 0x05), 5 },
        { BYTES(0xd0, 0x80), -128 },
        { BYTES(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), INT64_MIN },
        { BYTES(0xd3, 0, 0, 0, 0, 0, 0, 0, 0x2a), 42 },
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        json_t *v = accepted(ints[i].b, ints[i].n);
        ck_assert(json_is_integer(v));
        ck_assert_int_eq(json_integer_value(v), ints[i].want);
        json_decref(v);
    }
    json_t *v = accepted(BYTES(0xca, 0x3f, 0xc0, 0x00, 0x00));     /* float32 1.5 */
    ck_assert(json_is_real(v));
    ck_assert(json_real_value(v) == 1.5);
    json_decref(v);

    v = accepted(BYTES(0xd9, 0x02, 'h', 'i'));                     /* str8 */
    ck_assert_str_eq(json_string_value(v), "hi");
    json_decref(v);

    v = accepted(BYTES(0xdc, 0x00, 0x01, 0xc3));                   /* array16 [true] */
    ck_assert(json_is_true(json_array_get(v, 0)));
    json_decref(v);

    v = accepted(BYTES(0xdf, 0, 0, 0, 1, 0xda, 0, 1, 'k', 0xc0));  /* map32 {"k": null} */
    ck_assert(json_is_null(json_object_get(v, "k")));
    json_decref(v);
}
END_TEST

/* ---- refusals --------------------------------------------------------------------------- */

START_TEST(refuse_empty)
{
    refused(NULL, 0, "msgpack: empty input");
    refused((const uint8_t *)"x", 0, "msgpack: empty input");   /* only len counts */
    refused_lim(NULL, 5, NULL, "msgpack: no input buffer");
    ck_assert_ptr_null(zs_unpack(NULL, 0, NULL, NULL));  /* error is optional */
}
END_TEST

START_TEST(refuse_max_bytes)
{
    zs_pack_limits_t lim = zs_pack_default_limits;
    lim.max_bytes = 4;
    refused_lim(BYTES(0x94, 1, 2, 3, 4), &lim, "msgpack: input of 5 bytes exceeds the 4-byte limit");
    json_t *v = zs_unpack((const uint8_t[]){ 0x93, 1, 2, 3 }, 4, &lim, NULL);
    ck_assert_ptr_nonnull(v);
    json_decref(v);
}
END_TEST

START_TEST(refuse_depth)
{
    char *buf;
    size_t len;
    json_t *deep = nested(33, NULL);
    ck_assert_int_eq(zs_pack(deep, &buf, &len), 0);
    refused((const uint8_t *)buf, len, "msgpack: nesting deeper than 32");

    /* msgpack-c cannot go deeper, so a larger limit still stops at 32. */
    zs_pack_limits_t lim = zs_pack_default_limits;
    lim.max_depth = 100;
    refused_lim((const uint8_t *)buf, len, &lim, "msgpack: nesting deeper than 32");
    free(buf);
    json_decref(deep);

    lim.max_depth = 2;
    refused_lim(BYTES(0x91, 0x81, 0xa1, 'k', 0x90), &lim, "msgpack: nesting deeper than 2");
    json_t *v = zs_unpack((const uint8_t[]){ 0x91, 0x81, 0xa1, 'k', 0x01 }, 5, &lim, NULL);
    ck_assert_ptr_nonnull(v);
    json_decref(v);
    lim.max_depth = 0;
    refused_lim(BYTES(0x90), &lim, "msgpack: nesting deeper than 0");
}
END_TEST

START_TEST(refuse_elements)
{
    zs_pack_limits_t lim = zs_pack_default_limits;
    lim.max_elements = 5;
    /* [[1,2],[3]] is 2 + 2 + 1 = 5 entries: just allowed. */
    json_t *v = zs_unpack((const uint8_t[]){ 0x92, 0x92, 1, 2, 0x91, 3 }, 6, &lim, NULL);
    ck_assert_ptr_nonnull(v);
    json_decref(v);
    refused_lim(BYTES(0x92, 0x92, 1, 2, 0x92, 3, 4), &lim,
                "msgpack: more than 5 elements in total");
    /* map entries count once each */
    refused_lim(BYTES(0x82, 0xa1, 'a', 0x93, 1, 2, 3, 0xa1, 'b', 0x91, 0), &lim,
                "msgpack: more than 5 elements in total");
}
END_TEST

START_TEST(refuse_string_length)
{
    zs_pack_limits_t lim = zs_pack_default_limits;
    lim.max_string = 3;
    refused_lim(BYTES(0xa4, 'a', 'b', 'c', 'd'), &lim,
                "msgpack: string of 4 bytes exceeds the 3-byte limit");
    refused_lim(BYTES(0x81, 0xa4, 'a', 'b', 'c', 'd', 0xc0), &lim,
                "msgpack: string of 4 bytes exceeds the 3-byte limit");   /* keys too */
    json_t *v = zs_unpack((const uint8_t[]){ 0xa3, 'a', 'b', 'c' }, 4, &lim, NULL);
    ck_assert_ptr_nonnull(v);
    json_decref(v);
}
END_TEST

START_TEST(refuse_claims)
{
    refused(BYTES(0xdd, 0xff, 0xff, 0xff, 0xff, 1, 2, 3),
            "msgpack: array claims 4294967295 elements but 3 bytes remain");
    refused(BYTES(0xdf, 0, 0, 0, 2, 0xa1, 'a', 1),
            "msgpack: map claims 2 entries but 3 bytes remain");
    refused(BYTES(0xde, 0xff, 0xff),
            "msgpack: map claims 65535 entries but 0 bytes remain");
    /* The claim fits (4 bytes for 2 entries) but the first value eats the second key. */
    refused(BYTES(0x82, 0xa1, 'a', 0xa1, 'b'),
            "msgpack: input ends where a map key should start");
    refused(BYTES(0x92, 0xa2, 'a', 'b'),
            "msgpack: input ends where a value should start");
    refused(BYTES(0xdb, 0, 0, 0, 0x10, 'a'),
            "msgpack: string claims 16 bytes but 1 bytes remain");
    refused(BYTES(0xdb, 0xff, 0xff, 0xff, 0xff),
            "msgpack: string of 4294967295 bytes exceeds the 4194304-byte limit");
}
END_TEST

START_TEST(refuse_types)
{
    refused(BYTES(0xc4, 0x01, 0x00), "msgpack: bin values are not accepted (type byte 0xc4)");
    refused(BYTES(0xc5, 0x00, 0x00), "msgpack: bin values are not accepted (type byte 0xc5)");
    refused(BYTES(0xc7, 0x01, 0x01, 0x00), "msgpack: ext values are not accepted (type byte 0xc7)");
    refused(BYTES(0xd4, 0x01, 0x00), "msgpack: ext values are not accepted (type byte 0xd4)");
    refused(BYTES(0xd6, 0xff, 0, 0, 0, 0),   /* the timestamp ext */
            "msgpack: ext values are not accepted (type byte 0xd6)");
    refused(BYTES(0x91, 0xc4, 0x00), "msgpack: bin values are not accepted (type byte 0xc4)");
    refused(BYTES(0xc1), "msgpack: type byte 0xc1 is never used");
}
END_TEST

START_TEST(refuse_uint64_beyond_int64)
{
    refused(BYTES(0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0),
            "msgpack: integer 9223372036854775808 is beyond int64");
    refused(BYTES(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
            "msgpack: integer 18446744073709551615 is beyond int64");
}
END_TEST

START_TEST(refuse_non_string_key)
{
    refused(BYTES(0x81, 0x01, 0x02), "msgpack: map key is not a string (type byte 0x01)");
    refused(BYTES(0x81, 0x90, 0x02), "msgpack: map key is not a string (type byte 0x90)");
    refused(BYTES(0x81, 0xc0, 0x02), "msgpack: map key is not a string (type byte 0xc0)");
    refused(BYTES(0x81, 0xc4, 0x01, 'k', 0x02),
            "msgpack: map key is not a string (type byte 0xc4)");
}
END_TEST

START_TEST(refuse_bad_keys)
{
    refused(BYTES(0x81, 0xa3, 'a', 0, 'b', 0x01), "msgpack: map key contains a NUL byte");
    refused(BYTES(0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02), "msgpack: duplicate map key \"a\"");
}
END_TEST

START_TEST(refuse_invalid_utf8)
{
    refused(BYTES(0xa2, 0xc3, 0x28), "msgpack: string of 2 bytes is not valid UTF-8");
    refused(BYTES(0xa2, 0xc0, 0x80), "msgpack: string of 2 bytes is not valid UTF-8");  /* overlong */
    refused(BYTES(0xa3, 0xed, 0xa0, 0x80), "msgpack: string of 3 bytes is not valid UTF-8");
    refused(BYTES(0xa1, 0xff), "msgpack: string of 1 bytes is not valid UTF-8");
    refused(BYTES(0x91, 0xa1, 0x80), "msgpack: string of 1 bytes is not valid UTF-8");
    refused(BYTES(0x81, 0xa2, 0xc3, 0x28, 0x01), "msgpack: string of 2 bytes is not valid UTF-8");
}
END_TEST

/* Decoding reuses one zone per thread: a value of 200,000 elements (which grows the zone), a
 * small one, then the large one again all decode whole and right, and the borrowed record
 * buffer holds zs_pack's bytes. */
START_TEST(unpack_reuses_its_zone)
{
    json_t *large = json_array();
    for (int i = 0; i < 200000; i++)
        json_array_append_new(large, json_integer(i));
    json_t *small = json_pack("{s:s, s:[b,n]}", "a", "b", "c", 1);
    char *lb, *sb;
    size_t ll, sl;
    ck_assert_int_eq(zs_pack(large, &lb, &ll), 0);
    ck_assert_int_eq(zs_pack(small, &sb, &sl), 0);
    for (int round = 0; round < 2; round++) {
        json_t *l = zs_unpack(lb, ll, NULL, NULL), *s = zs_unpack(sb, sl, NULL, NULL);
        ck_assert(l && s && json_equal(l, large) && json_equal(s, small));
        json_decref(l);
        json_decref(s);
    }
    const char *borrowed;
    size_t bl;
    ck_assert_int_eq(zs_pack_borrowed(small, &borrowed, &bl), 0);
    ck_assert(bl == sl && memcmp(borrowed, sb, sl) == 0);
    free(lb);
    free(sb);
    json_decref(large);
    json_decref(small);
}
END_TEST

START_TEST(refuse_non_finite)
{
    refused(BYTES(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0), "msgpack: real is NaN or infinite");
    refused(BYTES(0xcb, 0xff, 0xf0, 0, 0, 0, 0, 0, 0), "msgpack: real is NaN or infinite");
    refused(BYTES(0xca, 0x7f, 0x80, 0, 0), "msgpack: real is NaN or infinite");
}
END_TEST

START_TEST(refuse_trailing)
{
    refused(BYTES(0x01, 0x02), "msgpack: 1 trailing bytes after the value");
    refused(BYTES(0x90, 0x90, 0x90), "msgpack: 2 trailing bytes after the value");
    refused(BYTES(0xa1, 'a', 0x00), "msgpack: 1 trailing bytes after the value");
}
END_TEST

/* Every proper prefix of a valid buffer is refused, and cleanly (ASan watches). */
START_TEST(refuse_every_truncation)
{
    json_t *doc = json_pack("{s:[i,I,f,s,b,n,{}], s:{s:[[],[s]]}, s:s, s:I}",
                            "a", 1, (json_int_t)300000, 2.5, "str", 0,
                            "b", "c", "x\xc3\xa9",
                            "long", "0123456789012345678901234567890123456789",
                            "neg", (json_int_t)-5000000000LL);
    char *buf;
    size_t len;
    ck_assert_int_eq(zs_pack(doc, &buf, &len), 0);
    for (size_t cut = 0; cut < len; cut++) {
        /* A fresh heap copy of exactly `cut` bytes, so any over-read hits a redzone. */
        char *part = malloc(cut ? cut : 1);
        memcpy(part, buf, cut);
        json_t *error = NULL;
        json_t *v = zs_unpack(part, cut, NULL, &error);
        ck_assert_msg(v == NULL, "prefix of %zu bytes accepted", cut);
        ck_assert_msg(strncmp(zs_error_details(error), "msgpack: ", 9) == 0, "no reason at cut %zu", cut);
        json_decref(error);
        free(part);
    }
    json_t *whole = zs_unpack(buf, len, NULL, NULL);
    ck_assert(json_equal(whole, doc));
    json_decref(whole);
    free(buf);
    json_decref(doc);
}
END_TEST

static Suite *pack_suite(void)
{
    Suite *s = suite_create("pack");
    TCase *rt = tcase_create("roundtrip");
    tcase_add_test(rt, roundtrip_scalars);
    tcase_add_test(rt, roundtrip_integers);
    tcase_add_test(rt, roundtrip_reals);
    tcase_add_test(rt, roundtrip_strings);
    tcase_add_test(rt, roundtrip_containers);
    tcase_add_test(rt, pack_encoding);
    tcase_add_test(rt, pack_refuses);
    tcase_add_test(rt, unpack_foreign_forms);
    tcase_add_test(rt, unpack_reuses_its_zone);
    suite_add_tcase(s, rt);

    TCase *bad = tcase_create("refuse");
    tcase_add_test(bad, refuse_empty);
    tcase_add_test(bad, refuse_max_bytes);
    tcase_add_test(bad, refuse_depth);
    tcase_add_test(bad, refuse_elements);
    tcase_add_test(bad, refuse_string_length);
    tcase_add_test(bad, refuse_claims);
    tcase_add_test(bad, refuse_types);
    tcase_add_test(bad, refuse_uint64_beyond_int64);
    tcase_add_test(bad, refuse_non_string_key);
    tcase_add_test(bad, refuse_bad_keys);
    tcase_add_test(bad, refuse_invalid_utf8);
    tcase_add_test(bad, refuse_non_finite);
    tcase_add_test(bad, refuse_trailing);
    tcase_add_test(bad, refuse_every_truncation);
    suite_add_tcase(s, bad);
    return s;
}

int main(void)
{
    return test_run_suite(pack_suite());
}
