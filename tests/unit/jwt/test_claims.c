/* test_claims.c - session token claims: exact encoding and checking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "jwt/claims.h"

#define NOW 1700000000

static const claims_group two_groups[] = {
    {"0b6c5b1e-0000-4000-8000-000000000001", "Admins"},
    {"0b6c5b1e-0000-4000-8000-000000000002", "Say \"hi\" \\ \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"},
};

static session_claims full_claims(void)
{
    session_claims c = {
        .iss = "https://sso.example.com",
        .aud = "https://sso.example.com",
        .sub = "user-42",
        .jti = "jti-1",
        .iat = NOW,
        .nbf = NOW,
        .exp = NOW + 86400,
        .org_id = "org-1",
        .org_type = "embed",
        .user_email = "ann@example.com",
        .user_id = "user-42",
        .user_name = "Ann \"The\" Admin",
        .user_type = "external",
        .rbac_role = "admin",
        .atid = "at-9",
        .groups = two_groups,
        .ngroups = 2,
        .metadata_raw = "{\"isAdmin\":true}",
        .metadata_len = 16,
    };
    return c;
}

static char *encode(const session_claims *c)
{
    buf_t b;
    buf_init(&b, 1 << 16);
    assert_int_equal(claims_encode(c, &b), 0);
    return buf_take(&b);
}

static void test_encode_full_exact(void **state)
{
    (void)state;
    session_claims c = full_claims();
    char *s = encode(&c);
    const char *want =
        "{\"iss\":\"https://sso.example.com\",\"aud\":\"https://sso.example.com\","
        "\"sub\":\"user-42\",\"jti\":\"jti-1\",\"iat\":1700000000,\"nbf\":1700000000,"
        "\"exp\":1700086400,\"org_id\":\"org-1\",\"org_type\":\"embed\","
        "\"user_email\":\"ann@example.com\",\"user_id\":\"user-42\","
        "\"user_name\":\"Ann \\\"The\\\" Admin\",\"user_type\":\"external\","
        "\"rbac_role\":\"admin\",\"rbac_group_objects\":["
        "{\"id\":\"0b6c5b1e-0000-4000-8000-000000000001\",\"name\":\"Admins\"},"
        "{\"id\":\"0b6c5b1e-0000-4000-8000-000000000002\","
        "\"name\":\"Say \\\"hi\\\" \\\\ \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}],"
        "\"atid\":\"at-9\",\"metadata\":{\"isAdmin\":true}}";
    assert_string_equal(s, want);
    /* Parses, and the non-ASCII name came through unchanged. */
    json_error_t je;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    assert_non_null(j);
    json_t *g = json_array_get(json_object_get(j, "rbac_group_objects"), 1);
    assert_string_equal(json_string_value(json_object_get(g, "name")), two_groups[1].name);
    assert_string_equal(json_string_value(json_object_get(j, "user_name")), "Ann \"The\" Admin");
    json_decref(j);
    free(s);
}

static void test_encode_optional_absent(void **state)
{
    (void)state;
    session_claims c = full_claims();
    c.user_name = NULL;
    c.rbac_role = NULL;
    c.groups = NULL;
    c.ngroups = 0;
    c.metadata_raw = NULL;
    c.metadata_len = 0;
    char *s = encode(&c);
    assert_null(strstr(s, "user_name"));
    assert_null(strstr(s, "rbac_role"));
    assert_null(strstr(s, "metadata"));
    assert_non_null(strstr(s, ",\"user_type\":\"external\",\"rbac_group_objects\":[],"
                              "\"atid\":\"at-9\"}"));
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "rbac_group_objects")), 0);
    json_decref(j);
    free(s);
}

/* Control characters and DEL are escaped; the output is always valid JSON. */
static void test_encode_escapes(void **state)
{
    (void)state;
    session_claims c = full_claims();
    c.user_name = "a\nb\tc\rd\001e\037f\177g</script>";
    char *s = encode(&c);
    assert_non_null(strstr(s, "\"user_name\":\"a\\nb\\tc\\rd\\u0001e\\u001ff\\u007fg</script>\""));
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "user_name")), c.user_name);
    json_decref(j);
    free(s);
}

/* metadata is copied byte for byte: whitespace, escapes, unicode, nesting. */
static void test_encode_metadata_raw(void **state)
{
    (void)state;
    const char *meta = "{ \"nested\" : {\"a\" : [1, 2.50, {\"b\":null}]},\n"
                       "\t\"name\":\"J\\u00f6rg \xe2\x9c\x93\", \"esc\":\"q\\\"}\\\\\","
                       " \"big\": 12345678901234567890 }";
    session_claims c = full_claims();
    c.metadata_raw = meta;
    c.metadata_len = strlen(meta);
    char *s = encode(&c);
    const char *m = strstr(s, ",\"metadata\":");
    assert_non_null(m);
    m += strlen(",\"metadata\":");
    assert_int_equal(strlen(m), strlen(meta) + 1);
    assert_memory_equal(m, meta, strlen(meta));
    assert_string_equal(m + strlen(meta), "}");
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, NULL);
    assert_non_null(j);
    json_t *md = json_object_get(j, "metadata");
    assert_string_equal(json_string_value(json_object_get(md, "name")), "J\xc3\xb6rg \xe2\x9c\x93");
    json_decref(j);
    free(s);
}

/* Anything but one JSON object as metadata is refused (no claim splicing). */
static void test_encode_metadata_must_be_one_object(void **state)
{
    (void)state;
    const char *bad[] = {"",    "[]", "\"x\"",        "1", "{}, \"iss\":\"evil\"", "{},{}",
                         "{} ", "{",  "{\"a\":\"}\"", "}{"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        session_claims c = full_claims();
        buf_t b;
        buf_init(&b, 1 << 16);
        buf_puts(&b, "keep");
        c.metadata_raw = bad[i];
        c.metadata_len = strlen(bad[i]);
        assert_int_equal(claims_encode(&c, &b), -1);
        assert_string_equal(b.data, "keep");
        buf_free(&b);
    }
}

static void test_encode_failures_leave_buffer(void **state)
{
    (void)state;
    session_claims c = full_claims();
    buf_t b;
    buf_init(&b, 100); /* too small */
    assert_int_equal(claims_encode(&c, &b), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    buf_init(&b, 1 << 16);
    c.sub = NULL; /* required */
    assert_int_equal(claims_encode(&c, &b), -1);
    assert_int_equal(b.len, 0);
    c = full_claims();
    c.ngroups = 1;
    c.groups = NULL;
    assert_int_equal(claims_encode(&c, &b), -1);
    buf_free(&b);
}

/* ---- claims_check ---- */

static const claims_expect expect = {
    .iss = "https://sso.example.com",
    .aud = "https://sso.example.com",
    .now = NOW + 100,
    .skew = 30,
};

static json_t *good_claims(void)
{
    session_claims c = full_claims();
    char *s = encode(&c);
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    free(s);
    assert_non_null(j);
    return j;
}

static void check_ok(const json_t *j, const claims_expect *x)
{
    err_t e;
    int expired = -1;
    if (claims_check(j, x, &expired, &e) != 0)
        fail_msg("rejected: %s", e.detail);
    assert_int_equal(expired, 0);
}

static void check_fails(const json_t *j, const claims_expect *x, int want_expired, const char *why)
{
    err_t e;
    int expired = -1;
    err_clear(&e);
    assert_int_equal(claims_check(j, x, &expired, &e), -1);
    assert_int_equal(e.cls, ERR_UNAUTHORIZED);
    assert_int_equal(expired, want_expired);
    if (strstr(e.detail, why) == NULL)
        fail_msg("detail \"%s\" does not mention \"%s\"", e.detail, why);
}

static void test_check_good(void **state)
{
    (void)state;
    json_t *j = good_claims();
    check_ok(j, &expect);
    err_t e;
    assert_int_equal(claims_check(j, &expect, NULL, &e), 0); /* expired may be NULL */
    json_decref(j);
}

static void test_check_expired(void **state)
{
    (void)state;
    json_t *j = good_claims();
    claims_expect x = expect;
    x.now = NOW + 86400 + 30; /* exp == now - skew: expired */
    check_fails(j, &x, 1, "expired");
    x.now = NOW + 86400 + 29; /* inside the skew */
    check_ok(j, &x);
    x.skew = 0;
    x.now = NOW + 86400; /* exp == now: expired */
    check_fails(j, &x, 1, "expired");
    x.now = NOW + 86399;
    check_ok(j, &x);
    json_decref(j);
}

static void test_check_nbf(void **state)
{
    (void)state;
    json_t *j = good_claims();
    claims_expect x = expect;
    json_object_set_new(j, "nbf", json_integer(NOW + 1000));
    x.now = NOW + 1000 - 31;
    check_fails(j, &x, 0, "not valid yet");
    x.now = NOW + 1000 - 30; /* within the skew */
    check_ok(j, &x);
    json_object_set_new(j, "nbf", json_real(1.0));
    check_fails(j, &x, 0, "nbf");
    json_object_set_new(j, "nbf", json_string("1"));
    check_fails(j, &x, 0, "nbf");
    json_object_del(j, "nbf"); /* optional */
    check_ok(j, &x);
    json_decref(j);
}

static void test_check_iss_aud(void **state)
{
    (void)state;
    json_t *j = good_claims();
    json_object_set_new(j, "iss", json_string("https://evil.example.com"));
    check_fails(j, &expect, 0, "issuer");
    json_object_set_new(j, "iss", json_string("https://sso.example.com/"));
    check_fails(j, &expect, 0, "issuer");
    json_object_del(j, "iss");
    check_fails(j, &expect, 0, "issuer");
    json_object_set_new(j, "iss", json_string("https://sso.example.com"));
    check_ok(j, &expect);

    json_object_set_new(j, "aud", json_string("https://other.example.com"));
    check_fails(j, &expect, 0, "audience");
    json_object_set_new(j, "aud", json_pack("[ss]", "a", "https://sso.example.com"));
    check_ok(j, &expect);
    json_object_set_new(j, "aud", json_pack("[ss]", "a", "b"));
    check_fails(j, &expect, 0, "audience");
    json_object_set_new(j, "aud", json_pack("[is]", 1, "https://sso.example.com"));
    check_fails(j, &expect, 0, "audience");
    json_object_set_new(j, "aud", json_array());
    check_fails(j, &expect, 0, "audience");
    json_object_set_new(j, "aud", json_integer(1));
    check_fails(j, &expect, 0, "audience");
    json_object_del(j, "aud");
    check_fails(j, &expect, 0, "audience");
    json_decref(j);
}

static void test_check_exp_types(void **state)
{
    (void)state;
    json_t *j = good_claims();
    json_object_set_new(j, "exp", json_real(NOW + 86400.0));
    check_fails(j, &expect, 0, "exp");
    json_object_set_new(j, "exp", json_real(1e300));
    check_fails(j, &expect, 0, "exp");
    json_object_set_new(j, "exp", json_string("1700086400"));
    check_fails(j, &expect, 0, "exp");
    json_object_set_new(j, "exp", json_true());
    check_fails(j, &expect, 0, "exp");
    json_object_del(j, "exp");
    check_fails(j, &expect, 0, "exp");
    /* The largest integer is simply far in the future. */
    json_object_set_new(j, "exp", json_integer(INT64_MAX));
    check_ok(j, &expect);
    json_object_set_new(j, "exp", json_integer(INT64_MIN));
    check_fails(j, &expect, 1, "expired");
    json_decref(j);
}

#define EXP_BASE                                                                                   \
    "{\"iss\":\"https://sso.example.com\",\"aud\":\"https://sso.example.com\",\"sub\":\"s\","      \
    "\"jti\":\"j\",\"org_id\":\"o\",\"iat\":1700000000,\"exp\":%s}"

/* Through the parser: 1e300 is a real, 2^63 does not fit; both fail. */
static void test_check_exp_parsed(void **state)
{
    (void)state;
    const char *exps[] = {"1e300", "1700086400.0", "1.7000864e9"};
    char text[512];
    for (size_t i = 0; i < sizeof(exps) / sizeof(exps[0]); i++) {
        snprintf(text, sizeof(text), EXP_BASE, exps[i]);
        json_t *j = json_loads(text, 0, NULL);
        assert_non_null(j);
        check_fails(j, &expect, 0, "exp");
        json_decref(j);
    }
    snprintf(text, sizeof(text), EXP_BASE, "9223372036854775808");
    assert_null(json_loads(text, 0, NULL)); /* never reaches claims_check */
    snprintf(text, sizeof(text), EXP_BASE, "9223372036854775807");
    json_t *j = json_loads(text, 0, NULL);
    check_ok(j, &expect);
    json_decref(j);
}

static void test_check_required_strings(void **state)
{
    (void)state;
    const char *names[] = {"sub", "jti", "org_id"};
    for (size_t i = 0; i < 3; i++) {
        json_t *j = good_claims();
        json_object_del(j, names[i]);
        check_fails(j, &expect, 0, names[i]);
        json_object_set_new(j, names[i], json_string(""));
        check_fails(j, &expect, 0, names[i]);
        json_object_set_new(j, names[i], json_integer(5));
        check_fails(j, &expect, 0, names[i]);
        json_decref(j);
    }
    json_t *j = good_claims();
    json_object_del(j, "iat");
    check_fails(j, &expect, 0, "iat");
    json_object_set_new(j, "iat", json_real(1.5));
    check_fails(j, &expect, 0, "iat");
    json_decref(j);
    j = json_array();
    check_fails(j, &expect, 0, "not an object");
    json_decref(j);
}

/* Expiry is reported as expiry only once everything else is right. */
static void test_check_expired_flag_only_for_expiry(void **state)
{
    (void)state;
    json_t *j = good_claims();
    claims_expect x = expect;
    x.now = NOW + 10 * 86400;
    check_fails(j, &x, 1, "expired");
    json_object_set_new(j, "iss", json_string("nope"));
    check_fails(j, &x, 0, "issuer");
    json_decref(j);
}

static void test_check_skew_edges(void **state)
{
    (void)state;
    json_t *j = good_claims();
    claims_expect x = expect;
    x.skew = -5; /* treated as 0 */
    x.now = NOW + 86400;
    check_fails(j, &x, 1, "expired");
    x.skew = INT64_MAX; /* no overflow */
    check_ok(j, &x);
    x.now = INT64_MIN; /* exp passes, nbf is far in the future */
    check_fails(j, &x, 0, "not valid yet");
    x.now = INT64_MAX;
    x.skew = 0;
    check_fails(j, &x, 1, "expired");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_full_exact),
        cmocka_unit_test(test_encode_optional_absent),
        cmocka_unit_test(test_encode_escapes),
        cmocka_unit_test(test_encode_metadata_raw),
        cmocka_unit_test(test_encode_metadata_must_be_one_object),
        cmocka_unit_test(test_encode_failures_leave_buffer),
        cmocka_unit_test(test_check_good),
        cmocka_unit_test(test_check_expired),
        cmocka_unit_test(test_check_nbf),
        cmocka_unit_test(test_check_iss_aud),
        cmocka_unit_test(test_check_exp_types),
        cmocka_unit_test(test_check_exp_parsed),
        cmocka_unit_test(test_check_required_strings),
        cmocka_unit_test(test_check_expired_flag_only_for_expiry),
        cmocka_unit_test(test_check_skew_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
