/* test_jwk_rsa.c - RSA public keys (RS256, PS256): JWK import rules and raw
 * signature verification. Keys are generated and tokens signed with OpenSSL
 * in the test (Tessera only verifies RSA); crafted moduli test the size,
 * encoding and weak-key rules without generating odd-sized keys. */
#include <pthread.h>
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
#include "core/json.h"
#include "jwt/b64url.h"
#include "jwt/jwk.h"
#include "jwt/jws.h"

#include "jwt_test_keys.h"

#define KID "rsa-kid-1"
#define MSG "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0"

static EVP_PKEY *g_rsa; /* 2048-bit pair, signs in the tests */
static char *g_jwk;     /* its public JWK without alg/use/kid */

static int setup(void **state)
{
    (void)state;
    g_rsa = tk_rsa_generate(2048);
    g_jwk = tk_rsa_jwk(g_rsa, "");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(g_rsa);
    free(g_jwk);
    return 0;
}

static jwt_key *import(const char *jwk, jwt_alg alg, err_t *e)
{
    err_clear(e);
    return jwt_key_import_public(jwk, strlen(jwk), alg, KID, e);
}

static jwt_key *import_ok(const char *jwk, jwt_alg alg)
{
    err_t e;
    jwt_key *k = import(jwk, alg, &e);
    if (k == NULL)
        fail_msg("import refused: %s", e.detail);
    return k;
}

/* Refused with ERR_INVALID_REQUEST and a detail containing why. */
static void import_fails(const char *jwk, jwt_alg alg, const char *why)
{
    err_t e;
    jwt_key *k = import(jwk, alg, &e);
    if (k != NULL) {
        jwt_key_free(k);
        fail_msg("import accepted a key that must fail (%s)", why);
    }
    assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    if (strstr(e.detail, why) == NULL)
        fail_msg("detail \"%s\" does not mention \"%s\"", e.detail, why);
}

/* g_jwk with one more member (extra starts with ','). Caller frees. */
static char *jwk_with(const char *extra)
{
    return tk_rsa_jwk(g_rsa, extra);
}

/* {"kty":"RSA","n":<b64 of n[len]>,"e":<e_b64>}. Caller frees. */
static char *jwk_from_raw(const unsigned char *n, size_t len, const char *e_b64)
{
    buf_t b;
    buf_init(&b, 1 << 16);
    buf_puts(&b, "{\"kty\":\"RSA\",\"n\":\"");
    tk_append_b64(&b, n, len);
    assert_int_equal(buf_printf(&b, "\",\"e\":\"%s\"}", e_b64), 0);
    return buf_take(&b);
}

/* 1 when bn has a prime factor below 702 (such moduli are refused). */
static int has_small_factor(const BIGNUM *bn)
{
    for (BN_ULONG r = 3; r <= 701; r += 2)
        if (BN_mod_word(bn, r) == 0)
            return 1; /* composite r are multiples of smaller primes: harmless */
    return 0;
}

/* A random odd modulus of exactly `bits` bits without small factors (most
 * random odd numbers have one, and such a modulus is refused as weak).
 * Caller frees. */
static unsigned char *random_modulus(size_t bits, size_t *len)
{
    BIGNUM *bn = BN_new();
    assert_non_null(bn);
    assert_int_equal(BN_rand(bn, (int)bits, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ODD), 1);
    while (has_small_factor(bn))
        assert_int_equal(BN_add_word(bn, 2), 1);
    assert_int_equal(BN_num_bits(bn), (int)bits);
    *len = (size_t)BN_num_bytes(bn);
    unsigned char *n = malloc(*len);
    assert_non_null(n);
    assert_int_equal(BN_bn2bin(bn, n), (int)*len);
    BN_free(bn);
    return n;
}

static void test_alg_names(void **state)
{
    (void)state;
    assert_string_equal(jwt_alg_name(JWT_ALG_RS256), "RS256");
    assert_string_equal(jwt_alg_name(JWT_ALG_PS256), "PS256");
    assert_string_equal(jwt_alg_name(JWT_ALG_ES256), "ES256");
    assert_string_equal(jwt_alg_name((jwt_alg)9), "unknown");
    assert_int_equal(jwt_alg_from_name("RS256"), JWT_ALG_RS256);
    assert_int_equal(jwt_alg_from_name("PS256"), JWT_ALG_PS256);
    const char *no[] = {"rs256", "ps256", "RS384", "PS512", "RS256 ", "RSA", "unknown", ""};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_int_equal(jwt_alg_from_name(no[i]), 0);
}

static int verify(const jwt_key *k, const void *sig, size_t n)
{
    return jws_verify_signature(k, MSG, strlen(MSG), sig, n);
}

/* RS256 and PS256 signatures, each accepted only by a key pinned to its
 * algorithm, and only unmodified. */
static void test_sign_verify(void **state)
{
    (void)state;
    unsigned char rs[1024], ps[1024], bad[1100];
    size_t rsn = tk_rsa_sign(g_rsa, TK_PKCS1, MSG, strlen(MSG), rs);
    size_t psn = tk_rsa_sign(g_rsa, TK_PS256_SALT, MSG, strlen(MSG), ps);
    jwt_key *krs = import_ok(g_jwk, JWT_ALG_RS256), *kps = import_ok(g_jwk, JWT_ALG_PS256);
    assert_int_equal(rsn, 256);
    assert_int_equal(psn, 256);
    assert_int_equal(jwt_key_alg(krs), JWT_ALG_RS256);
    assert_int_equal(jwt_key_has_private(krs), 0);

    assert_int_equal(verify(krs, rs, rsn), 1);
    assert_int_equal(verify(kps, ps, psn), 1);
    /* The same key pinned to the other algorithm refuses. */
    assert_int_equal(verify(kps, rs, rsn), 0);
    assert_int_equal(verify(krs, ps, psn), 0);
    /* A changed message or signature bit. */
    assert_int_equal(jws_verify_signature(krs, MSG, strlen(MSG) - 1, rs, rsn), 0);
    assert_int_equal(jws_verify_signature(kps, "x" MSG, strlen(MSG) + 1, ps, psn), 0);
    for (size_t i = 0; i < rsn; i += 51) {
        memcpy(bad, rs, rsn);
        bad[i] ^= 0x01;
        assert_int_equal(verify(krs, bad, rsn), 0);
        memcpy(bad, ps, psn);
        bad[i] ^= 0x80;
        assert_int_equal(verify(kps, bad, psn), 0);
    }
    /* Length must be exactly the modulus length: no leading zero, no cut. */
    bad[0] = 0;
    memcpy(bad + 1, rs, rsn);
    assert_int_equal(verify(krs, bad, rsn + 1), 0);
    assert_int_equal(verify(krs, rs, rsn - 1), 0);
    assert_int_equal(verify(krs, rs, 0), 0);
    assert_int_equal(verify(krs, NULL, rsn), 0);
    assert_int_equal(jws_verify_signature(NULL, MSG, strlen(MSG), rs, rsn), 0);
    /* RSA signatures mean nothing to an ES256 key, and vice versa. */
    err_t e;
    jwt_key *es = jwt_key_generate(JWT_ALG_ES256, KID, &e);
    unsigned char esig[JWS_SIG_MAX];
    size_t esn = sizeof(esig);
    assert_int_equal(jws_sign_signature(es, MSG, strlen(MSG), esig, &esn), 0);
    assert_int_equal(verify(es, rs, rsn), 0);
    assert_int_equal(verify(krs, esig, esn), 0);
    assert_int_equal(verify(es, esig, esn), 1);
    jwt_key_free(es);
    jwt_key_free(krs);
    jwt_key_free(kps);
}

/* PS256 is exactly salt length 32 (RFC 7518 3.5): 0, 20, 31, 33 and the
 * maximum are refused. */
static void test_pss_salt_length(void **state)
{
    (void)state;
    jwt_key *k = import_ok(g_jwk, JWT_ALG_PS256);
    const int salts[] = {0, 20, 31, 33, 64, RSA_PSS_SALTLEN_MAX};
    unsigned char sig[1024];
    for (size_t i = 0; i < sizeof(salts) / sizeof(salts[0]); i++) {
        size_t n = tk_rsa_sign(g_rsa, salts[i], MSG, strlen(MSG), sig);
        assert_int_equal(verify(k, sig, n), 0);
    }
    size_t n = tk_rsa_sign(g_rsa, TK_PS256_SALT, MSG, strlen(MSG), sig);
    assert_int_equal(verify(k, sig, n), 1);
    jwt_key_free(k);
}

static void test_member_rules(void **state)
{
    (void)state;
    const struct {
        const char *extra;
        jwt_alg alg;
        int ok;
        const char *why;
    } cases[] = {
        {",\"alg\":\"RS256\",\"use\":\"sig\"", JWT_ALG_RS256, 1, ""},
        {",\"alg\":\"PS256\",\"key_ops\":[\"verify\"]", JWT_ALG_PS256, 1, ""},
        {",\"d\":\"AQAB\",\"p\":\"AQAB\"", JWT_ALG_RS256, 1, ""}, /* private members ignored */
        {",\"x5c\":[\"MIIB\"],\"x5t\":\"abc\"", JWT_ALG_RS256, 1, ""},
        {",\"alg\":\"PS256\"", JWT_ALG_RS256, 0, "alg does not match"},
        {",\"alg\":\"RS256\"", JWT_ALG_PS256, 0, "alg does not match"},
        {",\"alg\":\"RS384\"", JWT_ALG_RS256, 0, "alg does not match"},
        {",\"alg\":\"rs256\"", JWT_ALG_RS256, 0, "alg does not match"},
        {",\"use\":\"enc\"", JWT_ALG_RS256, 0, "use is not"},
        {",\"key_ops\":[\"encrypt\"]", JWT_ALG_RS256, 0, "key_ops"},
        {",\"key_ops\":\"verify\"", JWT_ALG_RS256, 0, "key_ops"},
        {",\"alg\":1", JWT_ALG_RS256, 0, "wrong type"},
        {",\"kty\":\"RSA\"", JWT_ALG_RS256, 0, "duplicate"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *jwk = jwk_with(cases[i].extra);
        if (cases[i].ok)
            jwt_key_free(import_ok(jwk, cases[i].alg));
        else
            import_fails(jwk, cases[i].alg, cases[i].why);
        free(jwk);
    }
    /* The key type must fit the pinned algorithm both ways. */
    import_fails(g_jwk, JWT_ALG_ES256, "not an EC P-256 key");
    import_fails("{\"kty\":\"EC\",\"crv\":\"P-256\","
                 "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                 "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\"}",
                 JWT_ALG_RS256, "not an RSA key");
    import_fails("{\"kty\":\"rsa\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", JWT_ALG_RS256,
                 "not an RSA key");
    import_fails("{\"kty\":\"RSA\",\"e\":\"AQAB\"}", JWT_ALG_RS256, "no modulus");
    import_fails("{\"kty\":\"RSA\",\"n\":\"AQAB\"}", JWT_ALG_PS256, "no modulus");
    import_fails("{\"kty\":\"RSA\",\"n\":1,\"e\":\"AQAB\"}", JWT_ALG_RS256, "wrong type");
    import_fails("[]", JWT_ALG_RS256, "not a JSON object");
    import_fails("{\"kty\":\"RSA\"", JWT_ALG_RS256, "malformed");
}

/* e = 1, even exponents, zero, leading zero octets, e >= 2^32, non-strict
 * base64url; e = 3 and e = 2^32 - 1 are accepted. */
static void test_exponent_rules(void **state)
{
    (void)state;
    size_t len;
    unsigned char *n = random_modulus(2048, &len);
    const struct {
        const char *e;
        int ok;
    } cases[] = {
        {"AQAB", 1},    /* 65537 */
        {"Aw", 1},      /* 3 */
        {"_____w", 1},  /* 2^32 - 1 */
        {"AQ", 0},      /* 1 */
        {"Ag", 0},      /* 2 */
        {"AQAA", 0},    /* 65536, even */
        {"AA", 0},      /* 0 */
        {"AAEAAQ", 0},  /* 65537 with a leading zero octet */
        {"AAM", 0},     /* 3 with a leading zero octet */
        {"AQAAAAE", 0}, /* 2^32 + 1 */
        {"AQAB=", 0},   /* padding */
        {"AQ+B", 0},    /* standard base64 */
        {"", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *jwk = jwk_from_raw(n, len, cases[i].e);
        if (cases[i].ok)
            jwt_key_free(import_ok(jwk, JWT_ALG_RS256));
        else
            import_fails(jwk, JWT_ALG_RS256, "exponent");
        free(jwk);
    }
    free(n);
}

/* The generated key's e = 1 / e = 2 variants: a real modulus does not save
 * a bad exponent. */
static void test_exponent_on_real_key(void **state)
{
    (void)state;
    json_t *j = json_loads(g_jwk, 0, NULL);
    const char *es[] = {"AQ", "Ag", "AQAA"};
    for (size_t i = 0; i < 3; i++) {
        json_object_set_new(j, "e", json_string(es[i]));
        char *s = json_dumps(j, JSON_COMPACT);
        import_fails(s, JWT_ALG_RS256, "exponent");
        free(s);
    }
    json_decref(j);
}

static void test_modulus_rules(void **state)
{
    (void)state;
    size_t len;
    unsigned char *n;
    char *jwk;

    /* A real 1024-bit key. */
    EVP_PKEY *small = tk_rsa_generate(1024);
    jwk = tk_rsa_jwk(small, ",\"alg\":\"RS256\"");
    import_fails(jwk, JWT_ALG_RS256, "2048 to 8192 bits");
    free(jwk);
    EVP_PKEY_free(small);

    const struct {
        size_t bits;
        int ok;
    } sizes[] = {{2047, 0}, {2048, 1}, {3072, 1}, {4096, 1}, {8192, 1}, {8193, 0}, {8200, 0}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        n = random_modulus(sizes[i].bits, &len);
        jwk = jwk_from_raw(n, len, "AQAB");
        if (sizes[i].ok)
            jwt_key_free(import_ok(jwk, JWT_ALG_PS256));
        else
            import_fails(jwk, JWT_ALG_PS256, "modulus");
        free(jwk);
        free(n);
    }

    /* A leading zero octet (RFC 7518 section 2: minimal octets), even if the
     * value itself would be fine; an even modulus. */
    n = random_modulus(2048, &len);
    unsigned char *padded = malloc(len + 1);
    padded[0] = 0;
    memcpy(padded + 1, n, len);
    jwk = jwk_from_raw(padded, len + 1, "AQAB");
    import_fails(jwk, JWT_ALG_RS256, "minimal");
    free(jwk);
    n[len - 1] &= 0xfe;
    jwk = jwk_from_raw(n, len, "AQAB");
    import_fails(jwk, JWT_ALG_RS256, "even");
    free(jwk);
    free(padded);
    free(n);

    /* Strict base64url and no room for giant inputs. */
    import_fails("{\"kty\":\"RSA\",\"n\":\"\",\"e\":\"AQAB\"}", JWT_ALG_RS256, "modulus");
    import_fails("{\"kty\":\"RSA\",\"n\":\"AA==\",\"e\":\"AQAB\"}", JWT_ALG_RS256, "modulus");
    char *big = malloc(3000);
    memset(big, 'A', 2999);
    big[2999] = '\0';
    buf_t b;
    buf_init(&b, 8192);
    buf_printf(&b, "{\"kty\":\"RSA\",\"n\":\"B%s\",\"e\":\"AQAB\"}", big);
    import_fails(b.data, JWT_ALG_RS256, "modulus");
    buf_free(&b);
    free(big);
    /* Base64 of the generated key with '+' and '/' in place of '-' and '_'. */
    jwk = strdup(g_jwk);
    int changed = 0;
    for (char *p = strstr(jwk, "\"n\":\"") + 5; *p != '"'; p++)
        if (*p == '-' || *p == '_') {
            *p = *p == '-' ? '+' : '/';
            changed = 1;
        }
    if (changed)
        import_fails(jwk, JWT_ALG_RS256, "modulus");
    free(jwk);
}

/* A modulus with a small prime factor is refused (it would be trivially
 * factored); the ROCA fingerprint is covered by test_wycheproof_rsa.c. */
static void test_weak_modulus(void **state)
{
    (void)state;
    const unsigned long factors[] = {3, 5, 7, 701};
    for (size_t f = 0; f < sizeof(factors) / sizeof(factors[0]); f++) {
        size_t len;
        unsigned char *n = random_modulus(2048, &len);
        BIGNUM *bn = BN_bin2bn(n, (int)len, NULL);
        /* n - (n mod 2f) + f is odd, divisible by f, and keeps the top bit. */
        BN_ULONG r = BN_mod_word(bn, 2 * factors[f]);
        assert_int_equal(BN_sub_word(bn, r), 1);
        assert_int_equal(BN_add_word(bn, factors[f]), 1);
        assert_int_equal(BN_num_bits(bn), 2048);
        assert_int_equal(BN_bn2bin(bn, n), (int)len);
        char *jwk = jwk_from_raw(n, len, "AQAB");
        import_fails(jwk, JWT_ALG_RS256, "weak");
        free(jwk);
        BN_free(bn);
        free(n);
    }
}

/* Export, clone, and what an RSA key can never do: sign, be generated,
 * be imported as private. */
static void test_export_clone_and_limits(void **state)
{
    (void)state;
    err_t e;
    buf_t out;
    unsigned char sig[1024];
    size_t n = tk_rsa_sign(g_rsa, TK_PKCS1, MSG, strlen(MSG), sig), siglen = sizeof(sig);
    jwt_key *k = import_ok(g_jwk, JWT_ALG_RS256);
    buf_init(&out, 8192);
    assert_int_equal(jwt_key_export_public(k, &out), 0);
    json_t *j = json_loads(out.data, JSON_REJECT_DUPLICATES, NULL);
    json_t *orig = json_loads(g_jwk, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 6);
    assert_string_equal(json_string_value(json_object_get(j, "kty")), "RSA");
    assert_string_equal(json_string_value(json_object_get(j, "alg")), "RS256");
    assert_string_equal(json_string_value(json_object_get(j, "use")), "sig");
    assert_string_equal(json_string_value(json_object_get(j, "kid")), KID);
    assert_true(json_equal(json_object_get(j, "n"), json_object_get(orig, "n")));
    assert_true(json_equal(json_object_get(j, "e"), json_object_get(orig, "e")));
    json_decref(j);
    json_decref(orig);

    jwt_key *copy = jwt_key_clone(k);
    assert_non_null(copy);
    assert_int_equal(jwt_key_alg(copy), JWT_ALG_RS256);
    assert_string_equal(jwt_key_kid(copy), KID);
    jwt_key_free(k);
    assert_int_equal(verify(copy, sig, n), 1);

    assert_int_equal(jwt_key_export_private(copy, &out), -1);
    assert_int_equal(jws_sign_signature(copy, MSG, strlen(MSG), sig, &siglen), -1);
    buf_t tok;
    buf_init(&tok, 8192);
    assert_int_equal(jws_sign(copy, "{}", 2, &tok, &e), -1);
    buf_free(&tok);
    jwt_key_free(copy);

    assert_null(jwt_key_generate(JWT_ALG_RS256, KID, &e));
    assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    assert_null(jwt_key_generate(JWT_ALG_PS256, KID, &e));
    assert_null(jwt_key_import_private(g_jwk, strlen(g_jwk), JWT_ALG_RS256, KID, &e));
    assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    assert_null(jwt_key_import_public(g_jwk, strlen(g_jwk), (jwt_alg)4, KID, &e));
    assert_null(jwt_key_import_public(g_jwk, strlen(g_jwk), JWT_ALG_RS256, "", &e));
    buf_free(&out);
}

/* Session tokens stay ES256-only: jws_verify refuses RS256/PS256 tokens
 * even when the lookup would hand it an RSA key under that kid. */
static const jwt_key *lookup_any(void *ctx, const char *kid)
{
    (void)kid;
    return ctx;
}

static void test_session_path_stays_es256(void **state)
{
    (void)state;
    err_t e;
    jwt_key *k = import_ok(g_jwk, JWT_ALG_RS256), *kp = import_ok(g_jwk, JWT_ALG_PS256);
    char *rs = tk_rsa_token(g_rsa, TK_PKCS1, "{\"alg\":\"RS256\",\"kid\":\"" KID "\"}", "{}");
    char *ps = tk_rsa_token(g_rsa, TK_PS256_SALT, "{\"alg\":\"PS256\",\"kid\":\"" KID "\"}", "{}");
    char *es = tk_rsa_token(g_rsa, TK_PKCS1, "{\"alg\":\"ES256\",\"kid\":\"" KID "\"}", "{}");
    assert_null(jws_verify(rs, strlen(rs), lookup_any, k, &e));
    assert_string_equal(e.detail, "session token uses an unsupported algorithm");
    assert_null(jws_verify(ps, strlen(ps), lookup_any, kp, &e));
    assert_string_equal(e.detail, "session token uses an unsupported algorithm");
    assert_null(jws_verify(es, strlen(es), lookup_any, k, &e));
    assert_string_equal(e.detail, "session token algorithm does not match its key");
    free(rs);
    free(ps);
    free(es);
    jwt_key_free(k);
    jwt_key_free(kp);
}

typedef struct {
    const jwt_key *k;
    const unsigned char *sig;
    size_t n;
    int failures;
} verify_job;

static void *verify_worker(void *arg)
{
    verify_job *job = arg;
    for (int i = 0; i < 50; i++)
        if (verify(job->k, job->sig, job->n) != 1)
            job->failures++;
    return NULL;
}

/* One shared RSA key, several verifying threads (the JWKS arrangement). */
static void test_threads(void **state)
{
    (void)state;
    enum { NT = 4 };
    unsigned char sig[1024];
    size_t n = tk_rsa_sign(g_rsa, TK_PS256_SALT, MSG, strlen(MSG), sig);
    jwt_key *k = import_ok(g_jwk, JWT_ALG_PS256);
    pthread_t t[NT];
    verify_job jobs[NT];
    for (int i = 0; i < NT; i++) {
        jobs[i] = (verify_job){k, sig, n, 0};
        assert_int_equal(pthread_create(&t[i], NULL, verify_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    jwt_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_sign_verify),
        cmocka_unit_test(test_pss_salt_length),
        cmocka_unit_test(test_member_rules),
        cmocka_unit_test(test_exponent_rules),
        cmocka_unit_test(test_exponent_on_real_key),
        cmocka_unit_test(test_modulus_rules),
        cmocka_unit_test(test_weak_modulus),
        cmocka_unit_test(test_export_clone_and_limits),
        cmocka_unit_test(test_session_path_stays_es256),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
