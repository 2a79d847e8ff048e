/* test_jws_external.c - verifying identity providers' tokens against their
 * JWKS (jws_verify_external). Hostile tokens carry valid signatures over
 * their hostile headers wherever a signature is possible, so each
 * rejection is due to the rule under test. */
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
#include "crypto/crypto.h"
#include "jwt/jwk.h"
#include "jwt/jwks.h"
#include "jwt/jws.h"
#include "jwt/jws_external.h"

#include "jwt_test_keys.h"

#define PAYLOAD "{\"iss\":\"https://idp.example.com/\",\"sub\":\"00u1\",\"n\":1}"
#define H_RS "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"JWT\"}"
#define H_PS "{\"alg\":\"PS256\",\"kid\":\"rsa-1\"}"
#define H_ES "{\"alg\":\"ES256\",\"kid\":\"ec-1\"}"

static const jwt_alg ALL[] = {JWT_ALG_RS256, JWT_ALG_PS256, JWT_ALG_ES256};

static EVP_PKEY *g_rsa;   /* kid rsa-1, no alg member: RS256 and PS256 */
static EVP_PKEY *g_ps;    /* kid ps-only, alg PS256 */
static EVP_PKEY *g_other; /* not in the set */
static jwt_key *g_ec;     /* kid ec-1 (ES256 pair; the set has its public half) */
static char *g_rsa_jwk;   /* g_rsa's public JWK text as published */
static jwks_set *g_set;

static int setup(void **state)
{
    (void)state;
    err_t e;
    buf_t b, ec;
    g_rsa = tk_rsa_generate(2048);
    g_ps = tk_rsa_generate(2048);
    g_other = tk_rsa_generate(2048);
    g_ec = jwt_key_generate(JWT_ALG_ES256, "ec-1", &e);
    g_rsa_jwk = tk_rsa_jwk(g_rsa, ",\"kid\":\"rsa-1\",\"use\":\"sig\"");
    char *ps = tk_rsa_jwk(g_ps, ",\"kid\":\"ps-only\",\"alg\":\"PS256\"");
    buf_init(&ec, 4096);
    jwt_key_export_public(g_ec, &ec);
    buf_init(&b, 1 << 16);
    buf_printf(&b, "{\"keys\":[%s,%s,%s]}", g_rsa_jwk, ps, ec.data);
    g_set = jwks_parse(b.data, b.len, ALL, 3, &e);
    free(ps);
    buf_free(&b);
    buf_free(&ec);
    return g_set != NULL && jwks_set_count(g_set) == 3 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    jwks_free(g_set);
    EVP_PKEY_free(g_rsa);
    EVP_PKEY_free(g_ps);
    EVP_PKEY_free(g_other);
    jwt_key_free(g_ec);
    free(g_rsa_jwk);
    return 0;
}

static json_t *verify_with(const char *tok, size_t n, const jwks_set *set, const jwt_alg *allowed,
                           size_t nallowed, int *unknown, err_t *e)
{
    err_clear(e);
    *unknown = -1; /* must always be written */
    return jws_verify_external(tok, n, set, allowed, nallowed, unknown, e);
}

static void expect_accept_in(const char *tok, const jwks_set *set)
{
    err_t e;
    int unknown;
    json_t *j = verify_with(tok, strlen(tok), set, ALL, 3, &unknown, &e);
    if (j == NULL)
        fail_msg("rejected: %s", e.detail);
    assert_int_equal(unknown, 0);
    assert_true(json_is_object(j));
    json_decref(j);
}

static void expect_accept(const char *tok)
{
    expect_accept_in(tok, g_set);
}

/* Rejected with ERR_UNAUTHORIZED, a detail containing why, *unknown_kid
 * equal to want_unknown, and nothing of the token in the detail. */
static void expect_reject_full(const char *tok, size_t n, const jwks_set *set,
                               const jwt_alg *allowed, size_t nallowed, const char *why,
                               int want_unknown)
{
    err_t e;
    int unknown;
    json_t *j = verify_with(tok, n, set, allowed, nallowed, &unknown, &e);
    if (j != NULL) {
        json_decref(j);
        fail_msg("accepted a token that must fail (%s)", why);
    }
    assert_int_equal(e.cls, ERR_UNAUTHORIZED);
    if (strstr(e.detail, why) == NULL)
        fail_msg("detail \"%s\" does not mention \"%s\"", e.detail, why);
    assert_int_equal(unknown, want_unknown);
    assert_null(strstr(e.detail, "eyJ"));
    assert_null(strstr(e.detail, "rsa-1"));
    assert_null(strstr(e.detail, "ec-1"));
    assert_null(strstr(e.detail, "idp.example"));
    assert_true(strncmp(e.detail, "subject token ", 14) == 0);
}

static void expect_reject_n(const char *tok, size_t n, const char *why)
{
    expect_reject_full(tok, n, g_set, ALL, 3, why, 0);
}

static void expect_reject(const char *tok, const char *why)
{
    expect_reject_n(tok, strlen(tok), why);
}

static void reject_rs(const char *hdr, const char *payload, const char *why)
{
    char *tok = tk_rsa_token(g_rsa, TK_PKCS1, hdr, payload);
    expect_reject(tok, why);
    free(tok);
}

static void accept_rs(const char *hdr)
{
    char *tok = tk_rsa_token(g_rsa, TK_PKCS1, hdr, PAYLOAD);
    expect_accept(tok);
    free(tok);
}

static void test_round_trips(void **state)
{
    (void)state;
    err_t e;
    int unknown;
    char *rs = tk_rsa_token(g_rsa, TK_PKCS1, H_RS, PAYLOAD);
    json_t *j = verify_with(rs, strlen(rs), g_set, ALL, 3, &unknown, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "sub")), "00u1");
    json_decref(j);
    char *ps = tk_rsa_token(g_rsa, TK_PS256_SALT, H_PS, PAYLOAD);
    expect_accept(ps);
    char *ps2 = tk_rsa_token(g_ps, TK_PS256_SALT, "{\"alg\":\"PS256\",\"kid\":\"ps-only\"}", "{}");
    expect_accept(ps2);
    char *es = tk_es256_token(g_ec, H_ES, PAYLOAD);
    expect_accept(es);
    /* unknown_kid may be NULL. */
    j = jws_verify_external(es, strlen(es), g_set, ALL, 3, NULL, &e);
    assert_non_null(j);
    json_decref(j);
    free(rs);
    free(ps);
    free(ps2);
    free(es);
}

/* The caller's allowed list at verification time narrows further. */
static void test_allowed_at_verify(void **state)
{
    (void)state;
    const jwt_alg ps_only[] = {JWT_ALG_PS256}, es_only[] = {JWT_ALG_ES256};
    char *rs = tk_rsa_token(g_rsa, TK_PKCS1, H_RS, PAYLOAD);
    expect_reject_full(rs, strlen(rs), g_set, ps_only, 1, "algorithm RS256 is not allowed", 0);
    expect_reject_full(rs, strlen(rs), g_set, es_only, 1, "algorithm RS256 is not allowed", 0);
    free(rs);
    char *es = tk_es256_token(g_ec, H_ES, PAYLOAD);
    expect_reject_full(es, strlen(es), g_set, ps_only, 1, "algorithm ES256 is not allowed", 0);
    free(es);
}

static void test_alg_refused(void **state)
{
    (void)state;
    const struct {
        const char *alg, *why;
    } cases[] = {
        {"none", "algorithm none is not allowed"},   {"None", "algorithm is not allowed"},
        {"NONE", "algorithm is not allowed"},        {"HS256", "algorithm HS256 is not allowed"},
        {"HS384", "algorithm HS384 is not allowed"}, {"HS512", "algorithm HS512 is not allowed"},
        {"RS384", "algorithm RS384 is not allowed"}, {"RS512", "algorithm RS512 is not allowed"},
        {"PS384", "algorithm PS384 is not allowed"}, {"ES384", "algorithm ES384 is not allowed"},
        {"EdDSA", "algorithm EdDSA is not allowed"}, {"rs256", "algorithm is not allowed"},
        {"RS256 ", "algorithm is not allowed"},      {"", "algorithm is not allowed"},
    };
    char hdr[128];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"rsa-1\"}", cases[i].alg);
        reject_rs(hdr, PAYLOAD, cases[i].why);
    }
    reject_rs("{\"kid\":\"rsa-1\"}", PAYLOAD, "has no algorithm");
    reject_rs("{\"alg\":null,\"kid\":\"rsa-1\"}", PAYLOAD, "has no algorithm");
    reject_rs("{\"alg\":[\"RS256\"],\"kid\":\"rsa-1\"}", PAYLOAD, "has no algorithm");
    /* A long or hostile alg value is never echoed. */
    reject_rs("{\"alg\":\"eyJhbGciOiJIUzI1NiJ9%s\",\"kid\":\"rsa-1\"}", PAYLOAD,
              "algorithm is not allowed");
}

/* "none" tokens: empty signature, or no third segment at all. */
static void test_alg_none_unsigned(void **state)
{
    (void)state;
    buf_t b;
    tk_signing_input(&b, "{\"alg\":\"none\",\"kid\":\"rsa-1\"}", PAYLOAD);
    expect_reject(b.data, "malformed");
    buf_puts(&b, ".");
    expect_reject(b.data, "malformed");
    buf_puts(&b, "AA");
    expect_reject(b.data, "algorithm none is not allowed");
    buf_free(&b);
}

/* HS256 "signed" with the public key as the HMAC secret: the PEM text (the
 * classic RS256 -> HS256 confusion), the published JWK text, and the raw
 * modulus bytes. The alg check refuses them before any key is touched. */
static void hs256_attempt(const void *secret, size_t n, const char *kid)
{
    buf_t b;
    unsigned char mac[CRYPTO_SHA256_LEN];
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    tk_signing_input(&b, hdr, PAYLOAD);
    crypto_hmac_sha256(secret, n, b.data, b.len, mac);
    buf_puts(&b, ".");
    tk_append_b64(&b, mac, sizeof(mac));
    expect_reject(b.data, "algorithm HS256 is not allowed");
    buf_free(&b);
}

static void test_hs256_key_confusion(void **state)
{
    (void)state;
    char *pem = tk_rsa_pem(g_rsa);
    hs256_attempt(pem, strlen(pem), "rsa-1");
    hs256_attempt(g_rsa_jwk, strlen(g_rsa_jwk), "rsa-1");
    buf_t ec;
    buf_init(&ec, 4096);
    jwt_key_export_public(g_ec, &ec);
    hs256_attempt(ec.data, ec.len, "ec-1");
    buf_free(&ec);
    free(pem);
}

static void test_forbidden_headers(void **state)
{
    (void)state;
    char hdr[4096];
    /* Even the right key, embedded, is refused. */
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jwk\":%s}", g_rsa_jwk);
    reject_rs(hdr, PAYLOAD, "forbidden header \"jwk\"");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"jku\":\"https://evil.example/jwks\"}",
              PAYLOAD, "forbidden header \"jku\"");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5u\":\"https://evil.example/c\"}", PAYLOAD,
              "forbidden header \"x5u\"");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5c\":[\"MIIB\"]}", PAYLOAD,
              "forbidden header \"x5c\"");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"crit\":[\"exp\"],\"exp\":1}", PAYLOAD,
              "forbidden header \"crit\"");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"b64\":false}", PAYLOAD,
              "forbidden header \"b64\"");
    reject_rs("{\"alg\":\"HS256\",\"kid\":\"rsa-1\",\"jku\":\"https://evil.example/\"}", PAYLOAD,
              "forbidden header \"jku\"");
    /* Thumbprints are tolerated as strings (Entra ID v1 sends x5t) and ignored. */
    accept_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5t\":\"bm90LWEtdGh1bWI\"}");
    accept_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5t#S256\":\"bm90LWEtdGh1bWI\"}");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5t\":{}}", PAYLOAD,
              "\"x5t\" is not a string");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x5t#S256\":1}", PAYLOAD,
              "\"x5t#S256\" is not a string");
}

/* typ: absent, JWT or at+jwt, with or without "application/", any case. */
static void test_typ(void **state)
{
    (void)state;
    const char *ok[] = {"JWT",
                        "jwt",
                        "Jwt",
                        "at+jwt",
                        "AT+JWT",
                        "application/at+jwt",
                        "application/jwt",
                        "Application/JWT",
                        "APPLICATION/AT+JWT"};
    const char *bad[] = {"JOSE",
                         "application/jose",
                         "JWS",
                         "at+JWT ",
                         " JWT",
                         "",
                         "application/",
                         "application/json",
                         "id_token+jwt",
                         "text/jwt",
                         "application/application/jwt",
                         "dpop+jwt",
                         "secevent+jwt",
                         "logout+jwt"};
    char hdr[160];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"%s\"}", ok[i]);
        accept_rs(hdr);
    }
    accept_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":\"%s\"}", bad[i]);
        reject_rs(hdr, PAYLOAD, "type is not JWT or at+jwt");
    }
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":null}", PAYLOAD, "type is not");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"typ\":[\"JWT\"]}", PAYLOAD, "type is not");
}

static void test_kid_rules(void **state)
{
    (void)state;
    /* Unknown kid: flagged, so the caller may refetch the JWKS. */
    char *tok =
        tk_rsa_token(g_other, TK_PKCS1, "{\"alg\":\"RS256\",\"kid\":\"rotated-2\"}", PAYLOAD);
    expect_reject_full(tok, strlen(tok), g_set, ALL, 3, "key id is unknown", 1);
    free(tok);
    tok = tk_rsa_token(g_rsa, TK_PKCS1, "{\"alg\":\"RS256\",\"kid\":\"RSA-1\"}", PAYLOAD);
    expect_reject_full(tok, strlen(tok), g_set, ALL, 3, "key id is unknown", 1);
    free(tok);
    tok = tk_rsa_token(g_rsa, TK_PKCS1, "{\"alg\":\"RS256\",\"kid\":\"\"}", PAYLOAD);
    expect_reject_full(tok, strlen(tok), g_set, ALL, 3, "key id is unknown", 1);
    free(tok);
    /* Header failures before the kid never raise the flag, even with an
     * unknown kid. */
    tok = tk_rsa_token(g_rsa, TK_PKCS1, "{\"alg\":\"HS256\",\"kid\":\"rotated-2\"}", PAYLOAD);
    expect_reject_full(tok, strlen(tok), g_set, ALL, 3, "not allowed", 0);
    free(tok);
    tok = tk_rsa_token(g_rsa, TK_PKCS1, "{\"alg\":\"RS256\",\"kid\":\"rotated-2\",\"jku\":\"x\"}",
                       PAYLOAD);
    expect_reject_full(tok, strlen(tok), g_set, ALL, 3, "forbidden", 0);
    free(tok);

    /* Kid known, alg not one the key was published for. */
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"ps-only\"}", PAYLOAD, "not usable with its key");
    reject_rs("{\"alg\":\"ES256\",\"kid\":\"rsa-1\"}", PAYLOAD, "not usable with its key");
    tok = tk_es256_token(g_ec, "{\"alg\":\"ES256\",\"kid\":\"ps-only\"}", PAYLOAD);
    expect_reject(tok, "not usable with its key");
    free(tok);
    tok = tk_rsa_token(g_rsa, TK_PKCS1, "{\"alg\":\"RS256\",\"kid\":\"ec-1\"}", PAYLOAD);
    expect_reject(tok, "not usable with its key");
    free(tok);

    /* No kid, or a kid that is not a string. */
    reject_rs("{\"alg\":\"RS256\"}", PAYLOAD, "has no key id");
    reject_rs("{\"alg\":\"RS256\",\"kid\":null}", PAYLOAD, "key id is not a string");
    reject_rs("{\"alg\":\"RS256\",\"kid\":1}", PAYLOAD, "key id is not a string");
    reject_rs("{\"alg\":\"RS256\",\"kid\":[\"rsa-1\"]}", PAYLOAD, "key id is not a string");
}

/* A set whose only key has no kid: tokens without kid use it; a token with
 * a kid is "unknown kid". */
static void test_kidless_set(void **state)
{
    (void)state;
    err_t e;
    char *jwk = tk_rsa_jwk(g_rsa, ",\"alg\":\"RS256\"");
    buf_t b;
    buf_init(&b, 1 << 16);
    buf_printf(&b, "{\"keys\":[%s]}", jwk);
    jwks_set *s = jwks_parse(b.data, b.len, ALL, 3, &e);
    assert_non_null(s);
    char *tok = tk_rsa_token(g_rsa, TK_PKCS1, "{\"alg\":\"RS256\"}", PAYLOAD);
    expect_accept_in(tok, s);
    free(tok);
    tok = tk_rsa_token(g_rsa, TK_PKCS1, "{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", PAYLOAD);
    expect_reject_full(tok, strlen(tok), s, ALL, 3, "key id is unknown", 1);
    free(tok);
    tok = tk_rsa_token(g_rsa, TK_PS256_SALT, "{\"alg\":\"PS256\"}", PAYLOAD);
    expect_reject_full(tok, strlen(tok), s, ALL, 3, "not usable with its key", 0);
    free(tok);
    jwks_free(s);
    buf_free(&b);
    free(jwk);
}

static void test_header_and_payload_json(void **state)
{
    (void)state;
    reject_rs("{\"alg\":\"RS256\",\"alg\":\"none\",\"kid\":\"rsa-1\"}", PAYLOAD,
              "header is not a valid JSON object");
    reject_rs("{\"alg\":\"none\",\"kid\":\"rsa-1\",\"alg\":\"RS256\"}", PAYLOAD,
              "header is not a valid JSON object");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"ec-1\",\"kid\":\"rsa-1\"}", PAYLOAD,
              "header is not a valid JSON object");
    reject_rs("[\"RS256\"]", PAYLOAD, "header is not a valid JSON object");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\"", PAYLOAD, "header is not a valid JSON object");
    reject_rs("{\"alg\":\"RS256\",\"kid\":\"rsa-1\",\"x\":{\"y\":{}}}", PAYLOAD,
              "header is not a valid JSON object");
    reject_rs("{\"alg\":\"RS256\\u0000\",\"kid\":\"rsa-1\"}", PAYLOAD, "header is not");

    const char *bad[] = {"foo",      "[1,2]",
                         "\"str\"",  "1",
                         "null",     "{\"a\":1,\"a\":2}",
                         "{\"a\":1", "{\"a\":\"\\u0000\"}",
                         "{} {}",    "\xff"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        reject_rs(H_RS, bad[i], "payload is not a valid JSON object");
    char *tok = tk_rsa_token(g_rsa, TK_PKCS1, H_RS, "{}");
    expect_accept(tok);
    free(tok);
}

static void test_signatures(void **state)
{
    (void)state;
    /* Signed by a key outside the set, under a known kid. */
    char *tok = tk_rsa_token(g_other, TK_PKCS1, H_RS, PAYLOAD);
    expect_reject(tok, "signature is invalid");
    free(tok);
    /* PS256 with the wrong salt length; PSS under an RS256 header and the
     * reverse. */
    tok = tk_rsa_token(g_rsa, 20, H_PS, PAYLOAD);
    expect_reject(tok, "signature is invalid");
    free(tok);
    tok = tk_rsa_token(g_rsa, TK_PS256_SALT, H_RS, PAYLOAD);
    expect_reject(tok, "signature is invalid");
    free(tok);
    tok = tk_rsa_token(g_rsa, TK_PKCS1, H_PS, PAYLOAD);
    expect_reject(tok, "signature is invalid");
    free(tok);

    /* Tampered payload, tampered signature, signature stripped or cut. */
    tok = tk_rsa_token(g_rsa, TK_PKCS1, H_RS, PAYLOAD);
    size_t len = strlen(tok), d1 = (size_t)(strchr(tok, '.') - tok);
    size_t d2 = (size_t)(strrchr(tok, '.') - tok);
    char *t = malloc(len + 8);
    memcpy(t, tok, len + 1);
    t[d1 + 3] = t[d1 + 3] == 'A' ? 'B' : 'A';
    expect_reject(t, "signature is invalid");
    memcpy(t, tok, len + 1);
    t[d2 + 10] = t[d2 + 10] == 'A' ? 'B' : 'A';
    expect_reject(t, "signature is invalid");
    expect_reject_n(tok, d2, "malformed");
    expect_reject_n(tok, d2 + 1, "malformed");
    /* The signature one byte short, with a zero byte before or after it. */
    unsigned char sig[1100], longer[1101];
    size_t in_len, n = tk_split_sig(tok, sig, &in_len);
    assert_int_equal(n, 256);
    longer[0] = 0;
    memcpy(longer + 1, sig, n);
    const struct {
        const unsigned char *p;
        size_t n;
    } variants[] = {{sig, n - 1}, {sig + 1, n - 1}, {longer, n + 1}};
    for (size_t i = 0; i < 3; i++) {
        buf_t b;
        buf_init(&b, 1 << 16);
        buf_append(&b, tok, in_len + 1);
        tk_append_b64(&b, variants[i].p, variants[i].n);
        expect_reject(b.data, "signature is invalid");
        buf_free(&b);
    }
    sig[n] = 0;
    buf_t b;
    buf_init(&b, 1 << 16);
    buf_append(&b, tok, in_len + 1);
    tk_append_b64(&b, sig, n + 1);
    expect_reject(b.data, "signature is invalid");
    buf_free(&b);
    /* The signature of another token, whole. */
    char *other = tk_rsa_token(g_rsa, TK_PKCS1, H_RS, "{}");
    memcpy(t, tok, d2 + 1);
    strcpy(t + d2 + 1, strrchr(other, '.') + 1);
    expect_reject(t, "signature is invalid");
    free(other);
    free(t);
    free(tok);
}

/* Strict base64url in every segment, and the segment count. */
static void test_encoding(void **state)
{
    (void)state;
    char *tok = tk_rsa_token(g_rsa, TK_PKCS1, H_RS, PAYLOAD);
    size_t len = strlen(tok), d1 = (size_t)(strchr(tok, '.') - tok);
    size_t d2 = (size_t)(strrchr(tok, '.') - tok);
    char *t = malloc(len + 16);
    size_t cuts[] = {d1, d2, len};
    for (size_t i = 0; i < 3; i++) {
        memcpy(t, tok, cuts[i]);
        t[cuts[i]] = '=';
        memcpy(t + cuts[i] + 1, tok + cuts[i], len - cuts[i] + 1);
        expect_reject(t, "malformed");
        memcpy(t + cuts[i] + 1, "==", 2);
        memcpy(t + cuts[i] + 3, tok + cuts[i], len - cuts[i] + 1);
        expect_reject(t, "malformed");
    }
    const char bad[] = {'+', '/', ' ', '\n', '%', '\0', '*', '\x80'};
    size_t spots[] = {1, d1 + 1, d2 + 1};
    for (size_t s = 0; s < 3; s++)
        for (size_t i = 0; i < sizeof(bad); i++) {
            memcpy(t, tok, len + 1);
            t[spots[s]] = bad[i];
            expect_reject_n(t, len, "malformed");
        }
    snprintf(t, len + 16, "%s.", tok);
    expect_reject(t, "malformed");
    snprintf(t, len + 16, "%s.AAAA", tok);
    expect_reject(t, "malformed");
    expect_reject_n(tok + d1, len - d1, "malformed");
    expect_reject("", "malformed");
    expect_reject("..", "malformed");
    expect_reject("abc", "malformed");
    free(t);
    free(tok);
}

/* One token of `total` characters: accepted at JWS_MAX_LEN, refused above. */
static void length_case(const char *hdr, size_t plen, size_t total)
{
    char *p = malloc(plen + 1);
    memcpy(p, "{\"p\":\"", 6);
    memset(p + 6, 'x', plen - 8);
    memcpy(p + plen - 2, "\"}", 3);
    char *tok = tk_rsa_token(g_rsa, TK_PKCS1, hdr, p);
    assert_int_equal(strlen(tok), total);
    if (total == JWS_MAX_LEN)
        expect_accept(tok);
    else
        expect_reject(tok, "too long");
    free(tok);
    free(p);
}

/* Tokens of exactly JWS_MAX_LEN verify; one byte more does not. */
static void test_length_limit(void **state)
{
    (void)state;
    int found_exact = 0, found_over = 0;
    for (int sp = 0; sp < 4 && !(found_exact && found_over); sp++)
        for (size_t plen = 11500; plen < 12400; plen++) {
            char hdr[64];
            snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",%*s\"kid\":\"rsa-1\"}", sp, "");
            size_t total = b64url_encoded_len(strlen(hdr)) + 2 + b64url_encoded_len(256) +
                           b64url_encoded_len(plen);
            if (total == JWS_MAX_LEN && !found_exact) {
                length_case(hdr, plen, total);
                found_exact = 1;
            } else if (total == JWS_MAX_LEN + 1 && !found_over) {
                length_case(hdr, plen, total);
                found_over = 1;
            }
        }
    assert_true(found_exact && found_over);
}

static void test_arguments(void **state)
{
    (void)state;
    err_t e;
    int unknown;
    char *tok = tk_rsa_token(g_rsa, TK_PKCS1, H_RS, PAYLOAD);
    const jwt_alg none[] = {(jwt_alg)0};
    assert_null(verify_with(tok, strlen(tok), NULL, ALL, 3, &unknown, &e));
    assert_int_equal(e.cls, ERR_INTERNAL);
    assert_int_equal(unknown, 0);
    assert_null(verify_with(tok, strlen(tok), g_set, NULL, 3, &unknown, &e));
    assert_int_equal(e.cls, ERR_INTERNAL);
    assert_null(verify_with(tok, strlen(tok), g_set, ALL, 0, &unknown, &e));
    assert_int_equal(e.cls, ERR_INTERNAL);
    assert_null(verify_with(tok, strlen(tok), g_set, none, 1, &unknown, &e));
    assert_int_equal(e.cls, ERR_INTERNAL);
    assert_null(verify_with(NULL, 10, g_set, ALL, 3, &unknown, &e));
    assert_int_equal(e.cls, ERR_UNAUTHORIZED);
    free(tok);
}

typedef struct {
    const char *tok;
    int failures;
} verify_job;

static void *verify_worker(void *arg)
{
    verify_job *job = arg;
    for (int i = 0; i < 40; i++) {
        err_t e;
        json_t *j = jws_verify_external(job->tok, strlen(job->tok), g_set, ALL, 3, NULL, &e);
        if (j == NULL)
            job->failures++;
        json_decref(j);
    }
    return NULL;
}

/* One shared set, many verifying threads, all three algorithms. */
static void test_threads(void **state)
{
    (void)state;
    enum { NT = 6 };
    char *toks[3] = {tk_rsa_token(g_rsa, TK_PKCS1, H_RS, PAYLOAD),
                     tk_rsa_token(g_rsa, TK_PS256_SALT, H_PS, PAYLOAD),
                     tk_es256_token(g_ec, H_ES, PAYLOAD)};
    pthread_t t[NT];
    verify_job jobs[NT];
    for (int i = 0; i < NT; i++) {
        jobs[i] = (verify_job){toks[i % 3], 0};
        assert_int_equal(pthread_create(&t[i], NULL, verify_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < NT; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    for (int i = 0; i < 3; i++)
        free(toks[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_allowed_at_verify),
        cmocka_unit_test(test_alg_refused),
        cmocka_unit_test(test_alg_none_unsigned),
        cmocka_unit_test(test_hs256_key_confusion),
        cmocka_unit_test(test_forbidden_headers),
        cmocka_unit_test(test_typ),
        cmocka_unit_test(test_kid_rules),
        cmocka_unit_test(test_kidless_set),
        cmocka_unit_test(test_header_and_payload_json),
        cmocka_unit_test(test_signatures),
        cmocka_unit_test(test_encoding),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_arguments),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
