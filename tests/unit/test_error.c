/* test_error.c — error.h's convention through the functions that follow it: zs_fail and the
 * error accessors, and the error paths of functions that hand their reason out as an error
 * object (license files, API parameters, queries): the code and details a caller receives,
 * `error` left untouched on success, and NULL accepted when the caller wants no reason. */
#include "api.h"
#include "error.h"
#include "license.h"
#include "query.h"
#include "testutil.h"
#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(fail_builds_an_error_only_when_asked)
{
    json_t *error = NULL;
    ck_assert_int_eq(zs_fail(&error, ZS_SYS_INVALID, "field[%s] is %d", "x", 5), -1);
    ck_assert_str_eq(zs_error_code(error), "SYS.1007");
    ck_assert_str_eq(zs_error_details(error), "field[x] is 5");
    ck_assert_str_eq(json_string_value(json_object_get(error, "description")),
                     zs_error_description(ZS_SYS_INVALID));
    json_decref(error);
    ck_assert_int_eq(zs_fail(NULL, ZS_SYS_INVALID, "nobody reads this"), -1);
    /* the accessors take NULL: zs_error returns NULL when memory is exhausted */
    ck_assert_str_eq(zs_error_code(NULL), "");
    ck_assert_str_eq(zs_error_details(NULL), "");
    json_t *bare = json_object();
    ck_assert_str_eq(zs_error_details(bare), "");
    json_decref(bare);
}
END_TEST

/* A signed license file for `payload`, and the base64 public key that verifies it. */
static char *signed_license(const json_t *payload, char **pub_b64)
{
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    *pub_b64 = zs_base64_encode(pk, sizeof pk);
    return zs_license_sign(payload, sk);
}

/* zs_license_open refuses `text` with LICENSE.1006 and details containing `part`. */
static void license_refused(const char *text, size_t len, const char *trusted, const char *part)
{
    json_t *error = NULL;
    ck_assert_ptr_null(zs_license_open(text, len, trusted, &error));
    ck_assert_str_eq(zs_error_code(error), ZS_LICENSE_INVALID);
    ck_assert_msg(strstr(zs_error_details(error), part), "%s", zs_error_details(error));
    json_decref(error);
    ck_assert_ptr_null(zs_license_open(text, len, trusted, NULL));   /* reason optional */
}

START_TEST(license_open_reasons)
{
    ck_assert_int_eq(sodium_init() >= 0, 1);
    json_t *payload = json_pack("{s:s}", "licenseType", "Paid");
    char *pub, *text = signed_license(payload, &pub);
    ck_assert_ptr_nonnull(text);
    json_t *error = NULL;
    json_t *p = zs_license_open(text, strlen(text), pub, &error);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_null(error);   /* untouched on success */
    ck_assert(json_equal(p, payload));
    json_decref(p);

    license_refused(text, ZS_LICENSE_MAX_BYTES + 1, pub, "larger than");
    license_refused("{\"format\": \"other\"}", 19, pub, "not a license file");
    license_refused(text, strlen(text), "", "no issuer key is trusted");
    /* another issuer's key: the signature does not verify */
    char *other_pub, *other = signed_license(payload, &other_pub);
    license_refused(text, strlen(text), other_pub, "does not verify");
    free(other);
    free(other_pub);
    /* a payload that is not base64, and a signed payload that is not an object */
    json_t *file = json_loads(text, 0, NULL);
    json_object_set_new(file, "payload", json_string("***"));
    char *bad = json_dumps(file, 0);
    license_refused(bad, strlen(bad), NULL, "not valid base64");
    free(bad);
    json_decref(file);
    json_t *list = json_pack("[i]", 1);
    char *list_pub, *list_text = signed_license(list, &list_pub);
    license_refused(list_text, strlen(list_text), list_pub, "not a JSON object");
    free(list_text);
    free(list_pub);
    json_decref(list);

    free(text);
    free(pub);
    json_decref(payload);
}
END_TEST

START_TEST(api_validation_reason_is_optional)
{
    const zs_api_t *a = zs_api_find("CreateSystemTag");
    json_t *error = NULL, *params = json_pack("{s:s}", "resourceType", "VmInstanceVO");
    ck_assert_int_eq(zs_api_validate(a, params, NULL), -1);   /* tag and resourceUuid missing */
    ck_assert_int_eq(zs_api_validate(a, params, &error), -1);
    ck_assert_str_eq(zs_error_code(error), ZS_SYS_INVALID);
    ck_assert_msg(strstr(zs_error_details(error), "of CreateSystemTag is mandatory"), "%s",
                  zs_error_details(error));
    json_decref(error);
    error = NULL;
    json_t *number = json_integer(1);
    ck_assert_int_eq(zs_api_validate(a, number, &error), -1);
    json_decref(number);
    ck_assert_msg(strstr(zs_error_details(error), "must be a JSON object"), "%s",
                  zs_error_details(error));
    json_decref(error);
    error = NULL;
    json_object_set_new(params, "tag", json_string("a::b"));
    json_object_set_new(params, "resourceUuid", json_string("0123456789abcdef0123456789abcdef"));
    ck_assert_int_eq(zs_api_validate(a, params, &error), 0);
    ck_assert_ptr_null(error);   /* untouched on success */
    json_decref(params);
}
END_TEST

START_TEST(query_condition_value_reasons)
{
    json_t *error = NULL;
    json_t *rec = json_pack("{s:s, s:s}", "uuid", "0123456789abcdef0123456789abcdef", "tag", "a");
    /* createDate is a TIME field: a value that is not a timestamp is named with its field */
    ck_assert_int_eq(zs_query_match_one(&zs_res_system_tag, rec, "createDate>yesterday", &error), -1);
    ck_assert_str_eq(zs_error_code(error), ZS_SYS_INVALID);
    ck_assert_msg(strstr(zs_error_details(error), "value[yesterday] of field[createDate] is not a "
                                                  "timestamp"), "%s", zs_error_details(error));
    json_decref(error);
    error = NULL;
    ck_assert_int_eq(zs_query_match_one(&zs_res_system_tag, rec, "createDate?=1,x", &error), -1);
    ck_assert_msg(strstr(zs_error_details(error), "value[x] of field[createDate]"), "%s",
                  zs_error_details(error));
    json_decref(error);
    error = NULL;
    ck_assert_int_eq(zs_query_match_one(&zs_res_system_tag, rec, "tag=a", &error), 1);
    ck_assert_ptr_null(error);
    json_decref(rec);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("error");
    TCase *t = tcase_create("all");
    tcase_add_test(t, fail_builds_an_error_only_when_asked);
    tcase_add_test(t, license_open_reasons);
    tcase_add_test(t, api_validation_reason_is_optional);
    tcase_add_test(t, query_condition_value_reasons);
    suite_add_tcase(s, t);
    return test_run_suite(s);
}
