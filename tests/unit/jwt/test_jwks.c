/* test_jwks.c - parsing an identity provider's JWK Set: which entries are
 * kept, skipped or make the whole set an error, and lookups by (kid, alg). */
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
#include "jwt/jwk.h"
#include "jwt/jwks.h"
#include "jwt/jws.h"

#include "jwt_test_keys.h"

static const jwt_alg ALL[] = {JWT_ALG_RS256, JWT_ALG_PS256, JWT_ALG_ES256};
static const jwt_alg RS_ONLY[] = {JWT_ALG_RS256};

static EVP_PKEY *g_rsa, *g_rsa2;
static jwt_key *g_ec; /* ES256 pair */

static int setup(void **state)
{
    (void)state;
    err_t e;
    g_rsa = tk_rsa_generate(2048);
    g_rsa2 = tk_rsa_generate(2048);
    g_ec = jwt_key_generate(JWT_ALG_ES256, "ec-source", &e);
    return g_ec == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_rsa);
    EVP_PKEY_free(g_rsa2);
    jwt_key_free(g_ec);
    return 0;
}

/* Sets or removes (value NULL) a string member. */
static void set_str(json_t *o, const char *name, const char *value)
{
    if (value == NULL)
        json_object_del(o, name);
    else
        json_object_set_new(o, name, json_string(value));
}

/* An RSA JWK object as an identity provider publishes it: kty, n, e, and
 * kid/alg/use when not NULL, plus an x5t and an x5c to look real. */
static json_t *rsa_entry(EVP_PKEY *pk, const char *kid, const char *alg, const char *use)
{
    char *text = tk_rsa_jwk(pk, ",\"x5t\":\"bm90LWEtdGh1bWJwcmludA\",\"x5c\":[\"MIIBfake\"]");
    json_t *o = json_loads(text, 0, NULL);
    assert_non_null(o);
    free(text);
    set_str(o, "kid", kid);
    set_str(o, "alg", alg);
    set_str(o, "use", use);
    return o;
}

/* The EC P-256 public JWK of g_ec with kid/alg/use as given (NULL: absent). */
static json_t *ec_entry(const char *kid, const char *alg, const char *use)
{
    buf_t b;
    buf_init(&b, 4096);
    assert_int_equal(jwt_key_export_public(g_ec, &b), 0);
    json_t *o = json_loads(b.data, 0, NULL);
    assert_non_null(o);
    buf_free(&b);
    set_str(o, "kid", kid);
    set_str(o, "alg", alg);
    set_str(o, "use", use);
    return o;
}

/* {"keys":[...]} text from the entries (references stolen). Caller frees. */
static char *set_text(json_t **entries, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, entries[i]);
    json_t *root = json_pack("{s:o}", "keys", arr);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static jwks_set *parse(const char *text, const jwt_alg *allowed, size_t n, err_t *e)
{
    err_clear(e);
    return jwks_parse(text, text ? strlen(text) : 0, allowed, n, e);
}

/* Parses entries with ALL allowed; must succeed with `count` keys. */
static jwks_set *parse_ok(json_t **entries, size_t n, size_t count)
{
    err_t e;
    char *text = set_text(entries, n);
    jwks_set *s = parse(text, ALL, 3, &e);
    free(text);
    if (s == NULL)
        fail_msg("JWKS refused: %s", e.detail);
    assert_int_equal(jwks_set_count(s), count);
    return s;
}

static void parse_text_fails(const char *text, const jwt_alg *allowed, size_t n, err_class cls,
                             const char *why)
{
    err_t e;
    jwks_set *s = parse(text, allowed, n, &e);
    if (s != NULL) {
        jwks_free(s);
        fail_msg("JWKS accepted, expected failure (%s)", why);
    }
    assert_int_equal(e.cls, cls);
    if (strstr(e.detail, why) == NULL)
        fail_msg("detail \"%s\" does not mention \"%s\"", e.detail, why);
}

static void parse_fails(json_t **entries, size_t n, const char *why)
{
    char *text = set_text(entries, n);
    parse_text_fails(text, ALL, 3, ERR_INVALID_REQUEST, why);
    free(text);
}

/* A key of s really verifies what pk signs (RS256). */
static void assert_verifies(const jwt_key *k, EVP_PKEY *pk, int saltlen)
{
    unsigned char sig[1024];
    size_t n = tk_rsa_sign(pk, saltlen, "abc", 3, sig);
    assert_non_null(k);
    assert_int_equal(jws_verify_signature(k, "abc", 3, sig, n), 1);
}

/* One RSA key (alg RS256) and one EC key (no alg), as Auth0/Okta publish. */
static void test_real_looking_set(void **state)
{
    (void)state;
    json_t *entries[] = {rsa_entry(g_rsa, "rsa-1", "RS256", "sig"), ec_entry("ec-1", NULL, "sig")};
    jwks_set *s = parse_ok(entries, 2, 2);
    assert_verifies(jwks_find(s, "rsa-1", JWT_ALG_RS256), g_rsa, TK_PKCS1);
    assert_int_equal(jwt_key_alg(jwks_find(s, "rsa-1", JWT_ALG_RS256)), JWT_ALG_RS256);
    assert_string_equal(jwt_key_kid(jwks_find(s, "rsa-1", JWT_ALG_RS256)), "");
    assert_null(jwks_find(s, "rsa-1", JWT_ALG_PS256)); /* pinned by its alg member */
    assert_null(jwks_find(s, "rsa-1", JWT_ALG_ES256));
    assert_non_null(jwks_find(s, "ec-1", JWT_ALG_ES256));
    assert_null(jwks_find(s, "ec-1", JWT_ALG_RS256));
    assert_null(jwks_find(s, "rsa-2", JWT_ALG_RS256));
    assert_null(jwks_find(s, NULL, JWT_ALG_RS256));
    assert_null(jwks_find(s, "rsa-1", (jwt_alg)0));
    assert_null(jwks_find(s, "rsa-1", (jwt_alg)7));
    assert_int_equal(jwks_has_kid(s, "rsa-1"), 1);
    assert_int_equal(jwks_has_kid(s, "ec-1"), 1);
    assert_int_equal(jwks_has_kid(s, "RSA-1"), 0);
    assert_int_equal(jwks_has_kid(s, NULL), 0);
    jwks_free(s);
}

/* Without "alg", an RSA key serves every allowed RSA algorithm. */
static void test_rsa_without_alg(void **state)
{
    (void)state;
    json_t *entries[] = {rsa_entry(g_rsa, "k", NULL, NULL)};
    jwks_set *s = parse_ok(entries, 1, 1);
    assert_verifies(jwks_find(s, "k", JWT_ALG_RS256), g_rsa, TK_PKCS1);
    assert_verifies(jwks_find(s, "k", JWT_ALG_PS256), g_rsa, TK_PS256_SALT);
    assert_null(jwks_find(s, "k", JWT_ALG_ES256));
    jwks_free(s);

    /* Only RS256 allowed: the same key is kept for RS256 only. */
    err_t e;
    json_t *one[] = {rsa_entry(g_rsa, "k", NULL, NULL)};
    char *text = set_text(one, 1);
    s = parse(text, RS_ONLY, 1, &e);
    assert_non_null(s);
    assert_non_null(jwks_find(s, "k", JWT_ALG_RS256));
    assert_null(jwks_find(s, "k", JWT_ALG_PS256));
    jwks_free(s);
    free(text);
}

static void test_use_and_alg_filters(void **state)
{
    (void)state;
    /* use enc skipped, use sig kept, use absent kept, non-string use skipped. */
    json_t *a[] = {rsa_entry(g_rsa, "enc", "RS256", "enc"),
                   rsa_entry(g_rsa2, "sig", "RS256", "sig"), ec_entry("nouse", NULL, NULL)};
    jwks_set *s = parse_ok(a, 3, 2);
    assert_int_equal(jwks_has_kid(s, "enc"), 0);
    assert_non_null(jwks_find(s, "sig", JWT_ALG_RS256));
    assert_non_null(jwks_find(s, "nouse", JWT_ALG_ES256));
    jwks_free(s);
    json_t *b[] = {rsa_entry(g_rsa, "enc", NULL, "enc")};
    parse_fails(b, 1, "no usable signing key");
    json_t *c[] = {rsa_entry(g_rsa, "x", NULL, NULL), rsa_entry(g_rsa2, "y", NULL, NULL)};
    json_object_set_new(c[0], "use", json_integer(1));
    s = parse_ok(c, 2, 1);
    assert_int_equal(jwks_has_kid(s, "x"), 0);
    jwks_free(s);

    /* An alg member that is not allowed, unknown, or of another key type. */
    json_t *d[] = {rsa_entry(g_rsa, "ps", "PS256", NULL), rsa_entry(g_rsa, "rs384", "RS384", NULL),
                   rsa_entry(g_rsa, "es", "ES256", NULL), ec_entry("ec-rs", "RS256", NULL),
                   ec_entry("ec-num", NULL, NULL),        rsa_entry(g_rsa2, "rs", "RS256", NULL)};
    json_object_set_new(d[4], "alg", json_integer(256));
    char *text = set_text(d, 6);
    err_t e;
    s = parse(text, RS_ONLY, 1, &e);
    assert_non_null(s);
    assert_int_equal(jwks_set_count(s), 1);
    assert_non_null(jwks_find(s, "rs", JWT_ALG_RS256));
    assert_int_equal(jwks_has_kid(s, "ps"), 0);
    jwks_free(s);
    free(text);
}

/* Key types and material our import refuses are skipped, not fatal. */
static void test_unusable_keys_skipped(void **state)
{
    (void)state;
    EVP_PKEY *small = tk_rsa_generate(1024);
    json_t *entries[] = {
        json_pack("{s:s,s:s,s:s}", "kty", "oct", "kid", "hmac", "k", "c2VjcmV0"),
        json_pack("{s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519", "kid", "ed", "x",
                  "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
        ec_entry("p384", NULL, NULL),
        rsa_entry(small, "small", "RS256", NULL),
        rsa_entry(g_rsa, "ops", NULL, NULL),
        json_string("not an object"),
        json_pack("{s:s}", "kid", "no-kty"),
        rsa_entry(g_rsa2, "good", NULL, NULL),
    };
    set_str(entries[2], "crv", "P-384");
    json_object_set_new(entries[4], "key_ops", json_pack("[s]", "encrypt"));
    jwks_set *s = parse_ok(entries, 8, 1);
    assert_int_equal(jwks_has_kid(s, "good"), 1);
    jwks_free(s);
    EVP_PKEY_free(small);
}

static void test_document_rules(void **state)
{
    (void)state;
    parse_text_fails("[]", ALL, 3, ERR_INVALID_REQUEST, "object with a \"keys\" array");
    parse_text_fails("\"keys\"", ALL, 3, ERR_INVALID_REQUEST, "strict JSON");
    parse_text_fails("{}", ALL, 3, ERR_INVALID_REQUEST, "\"keys\" array");
    parse_text_fails("{\"keys\":{}}", ALL, 3, ERR_INVALID_REQUEST, "\"keys\" array");
    parse_text_fails("{\"keys\":[]}", ALL, 3, ERR_INVALID_REQUEST, "no usable signing key");
    parse_text_fails("{\"keys\":[1,\"a\",null,[]]}", ALL, 3, ERR_INVALID_REQUEST, "no usable");
    parse_text_fails("{\"keys\":[],\"keys\":[]}", ALL, 3, ERR_INVALID_REQUEST, "duplicate");
    parse_text_fails("{\"keys\":[", ALL, 3, ERR_INVALID_REQUEST, "strict JSON");
    parse_text_fails("", ALL, 3, ERR_INVALID_REQUEST, "strict JSON");
    parse_text_fails(NULL, ALL, 3, ERR_INVALID_REQUEST, "missing");
    parse_text_fails("{\"keys\":[{\"a\":{\"b\":{}}}]}", ALL, 3, ERR_INVALID_REQUEST, "deeper");

    /* Allowed algorithms are the caller's duty. */
    json_t *one[] = {ec_entry("k", NULL, NULL)};
    char *text = set_text(one, 1);
    const jwt_alg bad[] = {(jwt_alg)0}, bad2[] = {JWT_ALG_ES256, (jwt_alg)9};
    parse_text_fails(text, NULL, 1, ERR_INTERNAL, "allowed");
    parse_text_fails(text, ALL, 0, ERR_INTERNAL, "allowed");
    parse_text_fails(text, bad, 1, ERR_INTERNAL, "unknown");
    parse_text_fails(text, bad2, 2, ERR_INTERNAL, "unknown");
    free(text);

    assert_int_equal(jwks_set_count(NULL), 0);
    assert_null(jwks_find(NULL, "k", JWT_ALG_ES256));
    assert_int_equal(jwks_has_kid(NULL, "k"), 0);
    jwks_free(NULL);
}

/* At most 100 entries (skipped ones count) and 256 KiB of JSON. */
static void test_limits(void **state)
{
    (void)state;
    json_t *entries[JWKS_MAX_KEYS + 1];
    char kid[16];
    for (size_t i = 0; i <= JWKS_MAX_KEYS; i++) {
        snprintf(kid, sizeof(kid), "k%zu", i);
        entries[i] = ec_entry(kid, NULL, NULL);
    }
    json_t *last = entries[JWKS_MAX_KEYS];
    jwks_set *s = parse_ok(entries, JWKS_MAX_KEYS, JWKS_MAX_KEYS);
    assert_non_null(jwks_find(s, "k99", JWT_ALG_ES256));
    jwks_free(s);
    json_t *more[JWKS_MAX_KEYS + 1];
    for (size_t i = 0; i < JWKS_MAX_KEYS; i++)
        more[i] = json_string("skipped");
    more[JWKS_MAX_KEYS] = last;
    parse_fails(more, JWKS_MAX_KEYS + 1, "more than 100 keys");

    /* Padding with whitespace: exactly the limit parses, one byte more does not. */
    json_t *one[] = {ec_entry("k", NULL, NULL)};
    char *text = set_text(one, 1);
    size_t n = strlen(text);
    char *big = malloc(JWKS_JSON_MAX + 2);
    memcpy(big, text, n);
    memset(big + n, ' ', JWKS_JSON_MAX + 1 - n);
    big[JWKS_JSON_MAX + 1] = '\0';
    err_t e;
    assert_null(jwks_parse(big, JWKS_JSON_MAX + 1, ALL, 3, &e));
    assert_non_null(strstr(e.detail, "longer than"));
    s = jwks_parse(big, JWKS_JSON_MAX, ALL, 3, &e);
    assert_non_null(s);
    jwks_free(s);
    free(big);
    free(text);
}

/* Duplicate kids: refused (the whole set) when two usable keys share a kid
 * and an algorithm; allowed when their algorithms are disjoint (RFC 7517
 * 4.5: the same kid for alternative keys of different types). */
static void test_duplicate_kids(void **state)
{
    (void)state;
    json_t *a[] = {rsa_entry(g_rsa, "dup", "RS256", NULL), rsa_entry(g_rsa2, "dup", "RS256", NULL)};
    parse_fails(a, 2, "repeats the kid");
    json_t *b[] = {rsa_entry(g_rsa, "dup", NULL, NULL), rsa_entry(g_rsa2, "dup", "PS256", NULL)};
    parse_fails(b, 2, "repeats the kid");
    json_t *c[] = {rsa_entry(g_rsa, "same", NULL, NULL), rsa_entry(g_rsa, "same", NULL, NULL)};
    parse_fails(c, 2, "repeats the kid"); /* even the identical key twice */

    json_t *d[] = {rsa_entry(g_rsa, "dup", "RS256", NULL), rsa_entry(g_rsa2, "dup", "PS256", NULL),
                   ec_entry("dup", NULL, NULL)};
    jwks_set *s = parse_ok(d, 3, 3);
    assert_verifies(jwks_find(s, "dup", JWT_ALG_RS256), g_rsa, TK_PKCS1);
    assert_verifies(jwks_find(s, "dup", JWT_ALG_PS256), g_rsa2, TK_PS256_SALT);
    assert_non_null(jwks_find(s, "dup", JWT_ALG_ES256));
    jwks_free(s);

    /* A skipped entry does not conflict with a kept one. */
    json_t *e[] = {rsa_entry(g_rsa, "dup", "RS256", "enc"),
                   rsa_entry(g_rsa2, "dup", "RS256", NULL)};
    s = parse_ok(e, 2, 1);
    assert_verifies(jwks_find(s, "dup", JWT_ALG_RS256), g_rsa2, TK_PKCS1);
    jwks_free(s);
}

/* A key without kid is kept only when it is the document's only entry; it
 * then matches tokens without kid, and no kid matches it. */
static void test_kidless_key(void **state)
{
    (void)state;
    json_t *a[] = {rsa_entry(g_rsa, NULL, "RS256", NULL)};
    jwks_set *s = parse_ok(a, 1, 1);
    assert_verifies(jwks_find(s, NULL, JWT_ALG_RS256), g_rsa, TK_PKCS1);
    assert_null(jwks_find(s, "", JWT_ALG_RS256));
    assert_null(jwks_find(s, "any", JWT_ALG_RS256));
    assert_int_equal(jwks_has_kid(s, NULL), 1);
    assert_int_equal(jwks_has_kid(s, ""), 0);
    jwks_free(s);

    json_t *b[] = {rsa_entry(g_rsa, NULL, "RS256", NULL), rsa_entry(g_rsa2, "k", "RS256", NULL)};
    s = parse_ok(b, 2, 1);
    assert_int_equal(jwks_has_kid(s, NULL), 0);
    jwks_free(s);
    /* Not even when the other entry is skipped. */
    json_t *c[] = {rsa_entry(g_rsa, NULL, "RS256", NULL), rsa_entry(g_rsa2, "k", "RS256", "enc")};
    parse_fails(c, 2, "no usable signing key");
}

static void test_kid_rules(void **state)
{
    (void)state;
    char long_kid[JWKS_KID_MAX + 2];
    memset(long_kid, 'k', sizeof(long_kid) - 1);
    long_kid[JWKS_KID_MAX + 1] = '\0';
    json_t *a[] = {ec_entry(long_kid, NULL, NULL), ec_entry("", NULL, NULL),
                   ec_entry("a\tb", NULL, NULL), ec_entry("del\x7f", NULL, NULL),
                   ec_entry("x", NULL, NULL)};
    json_t *b = ec_entry("num", NULL, NULL);
    json_object_set_new(b, "kid", json_integer(5));
    json_t *all[] = {a[0], a[1], a[2], a[3], a[4], b};
    jwks_set *s = parse_ok(all, 6, 1);
    assert_int_equal(jwks_has_kid(s, "x"), 1);
    jwks_free(s);
    long_kid[JWKS_KID_MAX] = '\0'; /* exactly 255 bytes is fine */
    json_t *c[] = {ec_entry(long_kid, NULL, NULL), ec_entry("k\xc3\xa9", NULL, NULL)};
    s = parse_ok(c, 2, 2);
    assert_non_null(jwks_find(s, long_kid, JWT_ALG_ES256));
    assert_non_null(jwks_find(s, "k\xc3\xa9", JWT_ALG_ES256));
    jwks_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_looking_set),    cmocka_unit_test(test_rsa_without_alg),
        cmocka_unit_test(test_use_and_alg_filters), cmocka_unit_test(test_unusable_keys_skipped),
        cmocka_unit_test(test_document_rules),      cmocka_unit_test(test_limits),
        cmocka_unit_test(test_duplicate_kids),      cmocka_unit_test(test_kidless_key),
        cmocka_unit_test(test_kid_rules),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
