/* test_claims_external.c - the claims checks on an identity provider's
 * token (external_claims_check): each rule, its exact skew boundaries, and
 * details that never carry claim values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "jwt/claims.h"

#define NOW 1700000000
#define SKEW 60
#define ISS "https://idp.example.com/oauth2/default"
#define AUD "api://tessera"
#define EMAIL "ann@example.com"

static external_claims_expect expect_default(void)
{
    external_claims_expect x = {
        .iss = ISS, .aud = AUD, .email_claim = NULL, .now = NOW, .skew = SKEW};
    return x;
}

/* A valid claim set; tests change one member at a time. */
static json_t *good_claims(void)
{
    json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s,s:b}", "iss", ISS, "aud", AUD, "sub",
                          "00u1", "iat", (json_int_t)NOW - 10, "nbf", (json_int_t)NOW - 10, "exp",
                          (json_int_t)NOW + 3600, "email", EMAIL, "email_verified", 1);
    assert_non_null(c);
    return c;
}

static void check_ok(const json_t *c, const external_claims_expect *x, const char *want_email)
{
    err_t e;
    const char *email = "unset";
    int expired = -1;
    err_clear(&e);
    if (external_claims_check(c, x, &email, &expired, &e) != 0)
        fail_msg("refused: %s", e.detail);
    assert_string_equal(email, want_email);
    assert_int_equal(expired, 0);
}

/* Refused with ERR_UNAUTHORIZED and exactly the detail `why`; *expired as
 * given; *email NULL. */
static void check_fails(const json_t *c, const external_claims_expect *x, const char *why,
                        int want_expired)
{
    err_t e;
    const char *email = "unset";
    int expired = -1;
    err_clear(&e);
    assert_int_equal(external_claims_check(c, x, &email, &expired, &e), -1);
    assert_int_equal(e.cls, ERR_UNAUTHORIZED);
    assert_string_equal(e.detail, why);
    assert_int_equal(expired, want_expired);
    assert_null(email);
}

/* good_claims() with member name set to v (NULL: removed), checked with x. */
static void with_member(const char *name, json_t *v, const external_claims_expect *x,
                        const char *why)
{
    json_t *c = good_claims();
    if (v == NULL)
        json_object_del(c, name);
    else
        json_object_set_new(c, name, v);
    if (why == NULL)
        check_ok(c, x,
                 json_string_value(json_object_get(
                     c, x->email_claim && *x->email_claim ? x->email_claim : "email")));
    else
        check_fails(c, x, why, strstr(why, "expired") != NULL);
    json_decref(c);
}

static void test_accepts_good(void **state)
{
    (void)state;
    external_claims_expect x = expect_default();
    json_t *c = good_claims();
    check_ok(c, &x, EMAIL);
    /* Output pointers may be NULL. */
    err_t e;
    assert_int_equal(external_claims_check(c, &x, NULL, NULL, &e), 0);
    /* Optional claims absent. */
    json_object_del(c, "nbf");
    json_object_del(c, "iat");
    json_object_del(c, "email_verified");
    check_ok(c, &x, EMAIL);
    json_decref(c);
}

static void test_issuer(void **state)
{
    (void)state;
    external_claims_expect x = expect_default();
    const char *why = "subject token issuer does not match";
    with_member("iss", json_string(ISS "/"), &x, why);
    with_member("iss", json_string("https://IDP.example.com/oauth2/default"), &x, why);
    with_member("iss", json_string(""), &x, why);
    with_member("iss", json_pack("[s]", ISS), &x, why);
    with_member("iss", json_null(), &x, why);
    with_member("iss", NULL, &x, why);
    x.iss = NULL;
    json_t *c = good_claims();
    err_t e;
    assert_int_equal(external_claims_check(c, &x, NULL, NULL, &e), -1);
    assert_int_equal(e.cls, ERR_INTERNAL);
    assert_int_equal(external_claims_check(c, NULL, NULL, NULL, &e), -1);
    assert_int_equal(e.cls, ERR_INTERNAL);
    json_decref(c);
}

static void test_audience(void **state)
{
    (void)state;
    external_claims_expect x = expect_default();
    const char *why = "subject token audience does not include the configured audience";
    with_member("aud", json_pack("[s,s]", "other", AUD), &x, NULL);
    with_member("aud", json_pack("[s]", AUD), &x, NULL);
    with_member("aud", json_string("other"), &x, why);
    with_member("aud", json_string(AUD "/"), &x, why);
    with_member("aud", json_pack("[s,s]", "a", "b"), &x, why);
    with_member("aud", json_pack("[s,i]", AUD, 1), &x, why); /* a non-string element */
    with_member("aud", json_pack("[]"), &x, why);
    with_member("aud", json_integer(1), &x, why);
    with_member("aud", NULL, &x, why);
    /* No configured audience: no audience check at all. */
    x.aud = NULL;
    with_member("aud", json_string("anything"), &x, NULL);
    with_member("aud", NULL, &x, NULL);
    x.aud = "";
    with_member("aud", json_integer(7), &x, NULL);
}

/* exp > now - skew: exp = now - 60 is expired, now - 59 is not. */
static void test_expiry(void **state)
{
    (void)state;
    external_claims_expect x = expect_default();
    const char *why = "subject token has expired";
    with_member("exp", json_integer(NOW - SKEW), &x, why);
    with_member("exp", json_integer(NOW - SKEW - 1), &x, why);
    with_member("exp", json_integer(0), &x, why);
    with_member("exp", json_integer(INT64_MIN), &x, why);
    with_member("exp", json_integer(NOW - SKEW + 1), &x, NULL);
    with_member("exp", json_integer(INT64_MAX), &x, NULL);
    const char *shape = "subject token has no integer exp claim";
    with_member("exp", NULL, &x, shape);
    with_member("exp", json_real(NOW + 100.0), &x, shape);
    with_member("exp", json_string("1800000000"), &x, shape);
    with_member("exp", json_null(), &x, shape);
    /* Skew 0 (and negative skew counts as 0). */
    x.skew = 0;
    with_member("exp", json_integer(NOW), &x, why);
    with_member("exp", json_integer(NOW + 1), &x, NULL);
    x.skew = -100;
    with_member("exp", json_integer(NOW), &x, why);
    with_member("exp", json_integer(NOW + 1), &x, NULL);
}

/* nbf <= now + skew: now + 60 passes, now + 61 does not. */
static void test_not_before(void **state)
{
    (void)state;
    external_claims_expect x = expect_default();
    const char *why = "subject token is not valid yet";
    with_member("nbf", json_integer(NOW + SKEW), &x, NULL);
    with_member("nbf", json_integer(NOW + SKEW + 1), &x, why);
    with_member("nbf", json_integer(INT64_MAX), &x, why);
    with_member("nbf", json_integer(INT64_MIN), &x, NULL);
    with_member("nbf", json_real(NOW), &x, "subject token nbf claim is not an integer");
    with_member("nbf", json_string("0"), &x, "subject token nbf claim is not an integer");
    x.now = INT64_MAX - 10; /* now + skew saturates instead of overflowing */
    json_t *c = good_claims();
    json_object_set_new(c, "exp", json_integer(INT64_MAX));
    json_object_set_new(c, "nbf", json_integer(INT64_MAX));
    json_object_set_new(c, "iat", json_integer(INT64_MAX));
    check_ok(c, &x, EMAIL);
    json_decref(c);
}

/* iat <= now + skew when present. */
static void test_issued_at(void **state)
{
    (void)state;
    external_claims_expect x = expect_default();
    const char *why = "subject token was issued in the future";
    with_member("iat", json_integer(NOW + SKEW), &x, NULL);
    with_member("iat", json_integer(NOW + SKEW + 1), &x, why);
    with_member("iat", json_integer(0), &x, NULL);
    with_member("iat", json_real(NOW), &x, "subject token iat claim is not an integer");
    with_member("iat", json_true(), &x, "subject token iat claim is not an integer");
}

static void test_email_claim(void **state)
{
    (void)state;
    external_claims_expect x = expect_default();
    with_member("email", NULL, &x, "subject token has no email claim 'email'");
    with_member("email", json_string(""), &x, "subject token has no email claim 'email'");
    with_member("email", json_integer(1), &x, "subject token has no email claim 'email'");
    with_member("email", json_pack("[s]", EMAIL), &x, "subject token has no email claim 'email'");
    /* A configured claim name (e.g. Entra's preferred_username or upn). */
    x.email_claim = "upn";
    with_member("upn", json_string("bob@example.org"), &x, NULL);
    with_member("upn", NULL, &x, "subject token has no email claim 'upn'");
    json_t *c = good_claims();
    json_object_set_new(c, "upn", json_string("bob@example.org"));
    check_ok(c, &x, "bob@example.org");
    json_decref(c);
    x.email_claim = "";
    with_member("email", json_string("c@example.net"), &x, NULL);
}

/* email_verified: absent, true or "true" pass; false and "false" are
 * refused as false; any other value as not a boolean. */
static void test_email_verified(void **state)
{
    (void)state;
    external_claims_expect x = expect_default();
    const char *is_false = "subject token email_verified is false";
    const char *not_bool = "subject token email_verified is not a boolean";
    with_member("email_verified", json_true(), &x, NULL);
    with_member("email_verified", json_string("true"), &x, NULL);
    with_member("email_verified", NULL, &x, NULL);
    with_member("email_verified", json_false(), &x, is_false);
    with_member("email_verified", json_string("false"), &x, is_false);
    with_member("email_verified", json_string("False"), &x, not_bool);
    with_member("email_verified", json_string("TRUE"), &x, not_bool);
    with_member("email_verified", json_string("yes"), &x, not_bool);
    with_member("email_verified", json_string(""), &x, not_bool);
    with_member("email_verified", json_integer(1), &x, not_bool);
    with_member("email_verified", json_integer(0), &x, not_bool);
    with_member("email_verified", json_null(), &x, not_bool);
}

/* The first failing check is reported; details never echo values. */
static void test_order_and_details(void **state)
{
    (void)state;
    external_claims_expect x = expect_default();
    json_t *c = good_claims();
    json_object_set_new(c, "iss", json_string("https://evil.example/"));
    json_object_set_new(c, "exp", json_integer(1));
    check_fails(c, &x, "subject token issuer does not match", 0);
    json_object_set_new(c, "iss", json_string(ISS));
    check_fails(c, &x, "subject token has expired", 1);
    json_decref(c);
    json_t *arr = json_pack("[]");
    check_fails(arr, &x, "subject token claims are not an object", 0);
    json_decref(arr);
    check_fails(NULL, &x, "subject token claims are not an object", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_good),      cmocka_unit_test(test_issuer),
        cmocka_unit_test(test_audience),          cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_not_before),        cmocka_unit_test(test_issued_at),
        cmocka_unit_test(test_email_claim),       cmocka_unit_test(test_email_verified),
        cmocka_unit_test(test_order_and_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
