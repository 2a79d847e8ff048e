/* test_jws.c - signing, strict verification and key handling for session
 * tokens. Hostile tokens are built with a valid ES256 signature over the
 * hostile header (jws_sign_signature), so each rejection is due to the rule
 * under test and not merely to a bad signature. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/err.h"
#include "crypto/crypto.h"
#include "jwt/b64url.h"
#include "jwt/jwk.h"
#include "jwt/jws.h"

#define KID "kid-2024-a"
#define PAYLOAD "{\"sub\":\"user-1\",\"n\":1}"

typedef struct {
    const jwt_key *keys[4];
    size_t n;
} keyring;

static jwt_key *g_key;
static keyring g_ring;

static const jwt_key *ring_lookup(void *ctx, const char *kid)
{
    keyring *r = ctx;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(jwt_key_kid(r->keys[i]), kid) == 0)
            return r->keys[i];
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    err_t e;
    g_key = jwt_key_generate(JWT_ALG_ES256, KID, &e);
    if (g_key == NULL)
        return -1;
    g_ring.keys[0] = g_key;
    g_ring.n = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    jwt_key_free(g_key);
    return 0;
}

static void append_b64(buf_t *b, const void *data, size_t n)
{
    char *enc = malloc(b64url_encoded_len(n) + 1);
    assert_non_null(enc);
    size_t m = b64url_encode(data, n, enc);
    assert_int_equal(buf_append(b, enc, m), 0);
    free(enc);
}

/* header.payload.signature over raw JSON texts, signed with k (any header
 * bytes, even hostile ones). Caller frees. */
static char *make_token(const jwt_key *k, const char *hdr, const char *payload)
{
    buf_t b;
    unsigned char sig[JWS_SIG_MAX];
    size_t siglen = sizeof(sig);
    buf_init(&b, 1 << 20);
    append_b64(&b, hdr, strlen(hdr));
    assert_int_equal(buf_append(&b, ".", 1), 0);
    append_b64(&b, payload, strlen(payload));
    assert_int_equal(jws_sign_signature(k, b.data, b.len, sig, &siglen), 0);
    assert_int_equal(siglen, 64);
    assert_int_equal(buf_append(&b, ".", 1), 0);
    append_b64(&b, sig, siglen);
    return buf_take(&b);
}

static char *sign_ok(const jwt_key *k, const char *payload)
{
    buf_t b;
    err_t e;
    buf_init(&b, JWS_MAX_LEN);
    assert_int_equal(jws_sign(k, payload, strlen(payload), &b, &e), 0);
    return buf_take(&b);
}

static json_t *verify_n(const char *tok, size_t n, err_t *e)
{
    err_clear(e);
    return jws_verify(tok, n, ring_lookup, &g_ring, e);
}

static void expect_accept(const char *tok)
{
    err_t e;
    json_t *j = verify_n(tok, strlen(tok), &e);
    if (j == NULL)
        fail_msg("rejected: %s", e.detail);
    assert_true(json_is_object(j));
    json_decref(j);
}

/* Rejected with ERR_UNAUTHORIZED, a detail containing `why`, and nothing of
 * the token in the detail. */
static void expect_reject_n(const char *tok, size_t n, const char *why)
{
    err_t e;
    json_t *j = verify_n(tok, n, &e);
    if (j != NULL) {
        json_decref(j);
        fail_msg("accepted a token that must fail (%s)", why);
    }
    assert_int_equal(e.cls, ERR_UNAUTHORIZED);
    if (strstr(e.detail, why) == NULL)
        fail_msg("detail \"%s\" does not mention \"%s\"", e.detail, why);
    assert_null(strstr(e.detail, "eyJ"));
    assert_null(strstr(e.detail, KID));
}

static void expect_reject(const char *tok, const char *why)
{
    expect_reject_n(tok, strlen(tok), why);
}

static void reject_header(const char *hdr, const char *why)
{
    char *tok = make_token(g_key, hdr, PAYLOAD);
    expect_reject(tok, why);
    free(tok);
}

static void test_round_trip(void **state)
{
    (void)state;
    err_t e;
    char *tok = sign_ok(g_key, PAYLOAD);
    json_t *j = verify_n(tok, strlen(tok), &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "sub")), "user-1");
    assert_int_equal(json_integer_value(json_object_get(j, "n")), 1);
    json_decref(j);
    free(tok);
}

static char *segment(const char *tok, int which)
{
    const char *p = tok;
    for (int i = 0; i < which; i++)
        p = strchr(p, '.') + 1;
    const char *end = strchr(p, '.');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static void assert_segment_decodes_to(const char *tok, int which, const char *want)
{
    char *seg = segment(tok, which);
    unsigned char raw[512];
    size_t n = 0;
    assert_int_equal(b64url_decode(seg, strlen(seg), raw, &n), 0);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(raw, want, n);
    free(seg);
}

static void test_header_exact(void **state)
{
    (void)state;
    char *tok = sign_ok(g_key, PAYLOAD);
    assert_segment_decodes_to(tok, 0, "{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"typ\":\"JWT\"}");
    assert_segment_decodes_to(tok, 1, PAYLOAD);
    char *sig = segment(tok, 2);
    assert_int_equal(strlen(sig), 86);
    free(sig);
    free(tok);
}

/* A kid needing JSON escapes is escaped in the header and still verifies. */
static void test_header_kid_escaped(void **state)
{
    (void)state;
    err_t e;
    jwt_key *k = jwt_key_generate(JWT_ALG_ES256, "a\"b\\c/\xc3\xa9", &e);
    assert_non_null(k);
    char *tok = sign_ok(k, PAYLOAD);
    assert_segment_decodes_to(
        tok, 0, "{\"alg\":\"ES256\",\"kid\":\"a\\\"b\\\\c/\xc3\xa9\",\"typ\":\"JWT\"}");
    keyring saved = g_ring;
    g_ring.keys[g_ring.n++] = k;
    expect_accept(tok);
    g_ring = saved;
    free(tok);
    jwt_key_free(k);
}

/* Swaps the character at tok[i] for another alphabet character. */
static void flip_char(char *tok, size_t i)
{
    tok[i] = tok[i] == 'A' ? 'B' : 'A';
}

static void test_tamper(void **state)
{
    (void)state;
    char *tok = sign_ok(g_key, PAYLOAD);
    size_t d1 = (size_t)(strchr(tok, '.') - tok), d2 = (size_t)(strrchr(tok, '.') - tok);
    size_t spots[] = {0, d1 / 2, d1 + 1, (d1 + d2) / 2, d2 + 1, d2 + 40};
    for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
        char saved = tok[spots[i]];
        flip_char(tok, spots[i]);
        err_t e;
        json_t *j = verify_n(tok, strlen(tok), &e);
        assert_null(j);
        assert_int_equal(e.cls, ERR_UNAUTHORIZED);
        tok[spots[i]] = saved;
    }
    /* The signature over a changed payload in particular is reported as such. */
    flip_char(tok, d1 + 2);
    expect_reject(tok, "signature is invalid");
    free(tok);
}

static void test_hostile_tokens_are_really_signed(void **state)
{
    (void)state;
    /* Sanity check for make_token: an ordinary header passes. */
    char *tok = make_token(g_key, "{\"alg\":\"ES256\",\"kid\":\"" KID "\"}", PAYLOAD);
    expect_accept(tok);
    free(tok);
    tok = make_token(g_key, "{\"kid\":\"" KID "\",\"typ\":\"JWT\",\"alg\":\"ES256\"}", PAYLOAD);
    expect_accept(tok);
    free(tok);
}

static void test_alg_pinning(void **state)
{
    (void)state;
    const char *bad[] = {"none",  "None",  "NONE",   "HS256",  "RS256", "ES384", "ES512",
                         "PS256", "es256", "ES256 ", " ES256", "EdDSA", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char hdr[128];
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"kid\":\"" KID "\",\"typ\":\"JWT\"}", bad[i]);
        reject_header(hdr, "unsupported algorithm");
    }
    reject_header("{\"kid\":\"" KID "\"}", "unsupported algorithm");
    reject_header("{\"alg\":null,\"kid\":\"" KID "\"}", "unsupported algorithm");
    reject_header("{\"alg\":[\"ES256\"],\"kid\":\"" KID "\"}", "unsupported algorithm");
    reject_header("{\"alg\":\"ES256\\u0000\",\"kid\":\"" KID "\"}", "header is not");
}

/* alg "none" with an empty signature, the classic unsigned token. */
static void test_alg_none_unsigned(void **state)
{
    (void)state;
    buf_t b;
    const char *hdr = "{\"alg\":\"none\",\"kid\":\"" KID "\"}";
    buf_init(&b, 4096);
    append_b64(&b, hdr, strlen(hdr));
    buf_puts(&b, ".");
    append_b64(&b, PAYLOAD, strlen(PAYLOAD));
    buf_puts(&b, ".");
    expect_reject(b.data, "malformed");
    b.len--; /* without the trailing dot: two segments */
    b.data[b.len] = '\0';
    expect_reject(b.data, "malformed");
    buf_free(&b);
}

/* HS256 "signed" with the public JWK text as the HMAC key (key confusion). */
static void test_alg_hs256_key_confusion(void **state)
{
    (void)state;
    buf_t b, jwk;
    unsigned char mac[CRYPTO_SHA256_LEN];
    const char *hdr = "{\"alg\":\"HS256\",\"kid\":\"" KID "\",\"typ\":\"JWT\"}";
    buf_init(&b, 4096);
    buf_init(&jwk, 4096);
    assert_int_equal(jwt_key_export_public(g_key, &jwk), 0);
    append_b64(&b, hdr, strlen(hdr));
    buf_puts(&b, ".");
    append_b64(&b, PAYLOAD, strlen(PAYLOAD));
    crypto_hmac_sha256(jwk.data, jwk.len, b.data, b.len, mac);
    buf_puts(&b, ".");
    append_b64(&b, mac, sizeof(mac));
    expect_reject(b.data, "unsupported algorithm");
    buf_free(&b);
    buf_free(&jwk);
}

/* A key whose pinned algorithm differs from a supported header alg cannot be
 * tested until a second algorithm exists; the pin is the exact name match. */
static void test_alg_name_table(void **state)
{
    (void)state;
    assert_string_equal(jwt_alg_name(JWT_ALG_ES256), "ES256");
    assert_int_equal(jwt_alg_from_name("ES256"), JWT_ALG_ES256);
    assert_int_equal(jwt_alg_from_name("es256"), 0);
    assert_int_equal(jwt_alg_from_name("none"), 0);
    assert_int_equal(jwt_alg_from_name("HS256"), 0);
    assert_int_equal(jwt_alg_from_name(NULL), 0);
}

static void test_kid_rules(void **state)
{
    (void)state;
    reject_header("{\"alg\":\"ES256\"}", "no key id");
    reject_header("{\"alg\":\"ES256\",\"kid\":1}", "no key id");
    reject_header("{\"alg\":\"ES256\",\"kid\":null}", "no key id");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"other\"}", "key id is unknown");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"\"}", "key id is unknown");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID " \"}", "key id is unknown");
}

static void test_forbidden_headers(void **state)
{
    (void)state;
    buf_t pub;
    char hdr[1024];
    buf_init(&pub, 4096);
    assert_int_equal(jwt_key_export_public(g_key, &pub), 0);
    /* Even the verifier's own key, embedded, is refused. */
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"jwk\":%s}", pub.data);
    reject_header(hdr, "forbidden header \"jwk\"");
    buf_free(&pub);
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"jku\":\"https://evil/\"}",
                  "forbidden header \"jku\"");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"x5u\":\"https://evil/\"}",
                  "forbidden header \"x5u\"");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"x5c\":[\"MIIB\"]}",
                  "forbidden header \"x5c\"");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"x5t\":\"abc\"}",
                  "forbidden header \"x5t\"");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"crit\":[\"exp\"],\"exp\":1}",
                  "forbidden header \"crit\"");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"crit\":[]}",
                  "forbidden header \"crit\"");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"b64\":false,\"crit\":[\"b64\"]}",
                  "forbidden header");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"b64\":true}",
                  "forbidden header \"b64\"");
}

static void test_header_shape(void **state)
{
    (void)state;
    reject_header("{\"alg\":\"ES256\",\"alg\":\"none\",\"kid\":\"" KID "\"}", "header is not");
    reject_header("{\"alg\":\"none\",\"alg\":\"ES256\",\"kid\":\"" KID "\"}", "header is not");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"kid\":\"" KID "\"}", "header is not");
    reject_header("[\"ES256\"]", "header is not");
    reject_header("\"ES256\"", "header is not");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\"", "header is not");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\"} x", "header is not");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"typ\":\"at+jwt\"}", "type is not JWT");
    reject_header("{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"typ\":1}", "type is not JWT");
}

static void test_payload_rules(void **state)
{
    (void)state;
    const char *hdr = "{\"alg\":\"ES256\",\"kid\":\"" KID "\",\"typ\":\"JWT\"}";
    const char *bad[] = {
        "foo", "[1,2]", "\"str\"", "1", "{\"a\":1,\"a\":2}", "{\"a\":1", "{\"a\":\"\\u0000\"}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *tok = make_token(g_key, hdr, bad[i]);
        expect_reject(tok, "payload is not a valid JSON object");
        free(tok);
    }
    char *tok = make_token(g_key, hdr, "{}");
    expect_accept(tok);
    free(tok);
}

/* r = s = 0 (CVE-2022-21449), r or s equal to the group order n. */
static void test_special_signatures(void **state)
{
    (void)state;
    static const unsigned char order[32] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
        0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
    };
    unsigned char sig[64];
    char *tok = sign_ok(g_key, PAYLOAD);
    size_t in_len = (size_t)(strrchr(tok, '.') - tok);
    char *good = segment(tok, 2);
    unsigned char good_sig[64];
    size_t n;
    assert_int_equal(b64url_decode(good, strlen(good), good_sig, &n), 0);
    assert_int_equal(jws_verify_signature(g_key, tok, in_len, good_sig, 64), 1);
    assert_int_equal(jws_verify_signature(g_key, tok, in_len, good_sig, 63), 0);
    assert_int_equal(jws_verify_signature(g_key, tok, in_len - 1, good_sig, 64), 0);

    memset(sig, 0, sizeof(sig));
    assert_int_equal(jws_verify_signature(g_key, tok, in_len, sig, 64), 0);
    memcpy(sig, good_sig, 32); /* s = 0 */
    assert_int_equal(jws_verify_signature(g_key, tok, in_len, sig, 64), 0);
    memset(sig, 0, 32); /* r = 0 */
    memcpy(sig + 32, good_sig + 32, 32);
    assert_int_equal(jws_verify_signature(g_key, tok, in_len, sig, 64), 0);
    memcpy(sig, order, 32); /* r = n */
    assert_int_equal(jws_verify_signature(g_key, tok, in_len, sig, 64), 0);
    memcpy(sig, good_sig, 32); /* s = n */
    memcpy(sig + 32, order, 32);
    assert_int_equal(jws_verify_signature(g_key, tok, in_len, sig, 64), 0);

    /* And through jws_verify: the r = s = 0 token. */
    buf_t b;
    buf_init(&b, 4096);
    buf_append(&b, tok, in_len + 1);
    memset(sig, 0, sizeof(sig));
    append_b64(&b, sig, sizeof(sig));
    expect_reject(b.data, "signature is invalid");
    buf_free(&b);
    free(good);
    free(tok);
}

/* Strict base64url in every segment: no '=', '+', '/', whitespace or other
 * characters, even where the signature would otherwise still match. */
static void test_encoding_rules(void **state)
{
    (void)state;
    char *tok = sign_ok(g_key, PAYLOAD);
    size_t len = strlen(tok);
    char *t = malloc(len + 8);

    /* '=' padding on any segment. */
    size_t d1 = (size_t)(strchr(tok, '.') - tok), d2 = (size_t)(strrchr(tok, '.') - tok);
    size_t cuts[] = {d1, d2, len};
    for (size_t i = 0; i < 3; i++) {
        memcpy(t, tok, cuts[i]);
        t[cuts[i]] = '=';
        memcpy(t + cuts[i] + 1, tok + cuts[i], len - cuts[i] + 1);
        expect_reject(t, "malformed");
    }
    /* '+' and '/' (standard base64) and whitespace in each segment. */
    const char bad[] = {'+', '/', ' ', '\n', '%', '\0'};
    size_t spots[] = {1, d1 + 1, d2 + 1};
    for (size_t s = 0; s < 3; s++)
        for (size_t i = 0; i < sizeof(bad); i++) {
            memcpy(t, tok, len + 1);
            t[spots[s]] = bad[i];
            expect_reject_n(t, len, "malformed");
        }
    free(t);
    free(tok);
}

static void test_segment_count(void **state)
{
    (void)state;
    char *tok = sign_ok(g_key, PAYLOAD);
    size_t len = strlen(tok);
    char *t = malloc(len + 16);
    size_t d1 = (size_t)(strchr(tok, '.') - tok), d2 = (size_t)(strrchr(tok, '.') - tok);

    expect_reject_n(tok, d2, "malformed");     /* two segments */
    expect_reject_n(tok, d2 + 1, "malformed"); /* empty signature */
    snprintf(t, len + 16, "%s.", tok);
    expect_reject(t, "malformed"); /* four segments, last empty */
    snprintf(t, len + 16, "%s.AAAA", tok);
    expect_reject(t, "malformed"); /* four segments */
    snprintf(t, len + 16, "%s", tok + d1);
    expect_reject(t, "malformed"); /* empty header */
    memcpy(t, tok, d1 + 1);
    memcpy(t + d1 + 1, tok + d2, len - d2 + 1);
    expect_reject(t, "malformed"); /* empty payload */
    expect_reject("", "");
    expect_reject("..", "malformed");
    expect_reject(".", "malformed");
    expect_reject("abc", "malformed");
    free(t);
    free(tok);
}

static char *padded_payload(size_t len)
{
    char *p = malloc(len + 1);
    memcpy(p, "{\"p\":\"", 6);
    memset(p + 6, 'x', len - 8);
    memcpy(p + len - 2, "\"}", 3);
    return p;
}

/* Tokens of exactly JWS_MAX_LEN verify; one byte more does not. */
static void test_length_limit(void **state)
{
    (void)state;
    int found_exact = 0, found_over = 0;
    for (int sp = 0; sp < 4 && !(found_exact && found_over); sp++) {
        char hdr[128];
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",%*s\"kid\":\"" KID "\"}", sp, "");
        for (size_t plen = 12000; plen < 12400; plen++) {
            size_t total = b64url_encoded_len(strlen(hdr)) + 1 + b64url_encoded_len(plen) + 1 + 86;
            if (total != JWS_MAX_LEN && total != JWS_MAX_LEN + 1)
                continue;
            char *p = padded_payload(plen);
            char *tok = make_token(g_key, hdr, p);
            assert_int_equal(strlen(tok), total);
            if (total == JWS_MAX_LEN) {
                expect_accept(tok);
                found_exact = 1;
            } else {
                expect_reject(tok, "too long");
                found_over = 1;
            }
            free(tok);
            free(p);
        }
    }
    assert_true(found_exact && found_over);
}

/* jws_sign refuses to make a token verification would refuse, and leaves
 * the output buffer as it was. */
static void test_sign_length_limit(void **state)
{
    (void)state;
    buf_t b;
    err_t e;
    char *p = padded_payload(13000);
    buf_init(&b, 1 << 20);
    buf_puts(&b, "prefix");
    assert_int_equal(jws_sign(g_key, p, strlen(p), &b, &e), -1);
    assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    assert_string_equal(b.data, "prefix");
    /* A full output buffer is the caller's problem, and leaves it empty. */
    buf_t small;
    buf_init(&small, 100);
    assert_int_equal(jws_sign(g_key, PAYLOAD, strlen(PAYLOAD), &small, &e), -1);
    assert_int_equal(e.cls, ERR_INTERNAL);
    assert_int_equal(small.len, 0);
    buf_free(&small);
    buf_free(&b);
    free(p);
}

static void test_sign_needs_private(void **state)
{
    (void)state;
    buf_t pub, out;
    err_t e;
    unsigned char sig[64];
    size_t siglen = sizeof(sig);
    buf_init(&pub, 4096);
    buf_init(&out, 4096);
    assert_int_equal(jwt_key_export_public(g_key, &pub), 0);
    jwt_key *k = jwt_key_import_public(pub.data, pub.len, JWT_ALG_ES256, KID, &e);
    assert_non_null(k);
    assert_int_equal(jwt_key_has_private(k), 0);
    assert_int_equal(jws_sign(k, PAYLOAD, strlen(PAYLOAD), &out, &e), -1);
    assert_int_equal(out.len, 0);
    assert_int_equal(jws_sign_signature(k, "x", 1, sig, &siglen), -1);
    assert_int_equal(jwt_key_export_private(k, &out), -1);
    /* The public copy verifies the original's tokens. */
    char *tok = sign_ok(g_key, PAYLOAD);
    keyring saved = g_ring;
    g_ring.keys[0] = k;
    expect_accept(tok);
    g_ring = saved;
    free(tok);
    jwt_key_free(k);
    buf_free(&pub);
    buf_free(&out);
}

static void test_clone(void **state)
{
    (void)state;
    err_t e;
    jwt_key *orig = jwt_key_generate(JWT_ALG_ES256, KID, &e);
    assert_non_null(orig);
    jwt_key *copy = jwt_key_clone(orig);
    assert_non_null(copy);
    assert_string_equal(jwt_key_kid(copy), KID);
    assert_int_equal(jwt_key_alg(copy), JWT_ALG_ES256);
    assert_int_equal(jwt_key_has_private(copy), 1);

    keyring saved = g_ring;
    g_ring.keys[0] = orig;
    char *tok = sign_ok(copy, PAYLOAD);
    expect_accept(tok); /* clone signs, original verifies */
    free(tok);
    jwt_key *copy2 = jwt_key_clone(copy);
    jwt_key_free(orig); /* the clones do not depend on the original */
    g_ring.keys[0] = copy2;
    tok = sign_ok(copy, PAYLOAD);
    expect_accept(tok);
    free(tok);
    g_ring = saved;
    jwt_key_free(copy);
    jwt_key_free(copy2);
}

static void test_private_round_trip(void **state)
{
    (void)state;
    buf_t priv, pub1, pub2;
    err_t e;
    buf_init(&priv, 4096);
    buf_init(&pub1, 4096);
    buf_init(&pub2, 4096);
    assert_int_equal(jwt_key_export_private(g_key, &priv), 0);
    json_t *j = json_loads(priv.data, 0, NULL);
    assert_non_null(json_object_get(j, "d"));
    json_decref(j);
    /* kid and alg come from the arguments, not the JSON. */
    jwt_key *k = jwt_key_import_private(priv.data, priv.len, JWT_ALG_ES256, "other-kid", &e);
    assert_non_null(k);
    assert_string_equal(jwt_key_kid(k), "other-kid");
    assert_int_equal(jwt_key_has_private(k), 1);
    assert_int_equal(jwt_key_export_public(g_key, &pub1), 0);
    assert_int_equal(jwt_key_export_public(k, &pub2), 0);
    assert_non_null(strstr(pub2.data, "\"kid\":\"other-kid\""));
    /* Same key material: what k signs, g_key verifies. */
    char *tok = sign_ok(k, PAYLOAD);
    size_t in_len = (size_t)(strrchr(tok, '.') - tok);
    char *sigseg = segment(tok, 2);
    unsigned char sig[64];
    size_t n;
    assert_int_equal(b64url_decode(sigseg, strlen(sigseg), sig, &n), 0);
    assert_int_equal(jws_verify_signature(g_key, tok, in_len, sig, n), 1);
    free(sigseg);
    free(tok);
    jwt_key_free(k);
    buf_free(&priv);
    buf_free(&pub1);
    buf_free(&pub2);
}

static void test_public_export(void **state)
{
    (void)state;
    buf_t pub;
    buf_init(&pub, 4096);
    assert_int_equal(jwt_key_export_public(g_key, &pub), 0);
    assert_null(strchr(pub.data, ' '));
    assert_null(strchr(pub.data, '\n'));
    json_t *j = json_loads(pub.data, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 7);
    assert_null(json_object_get(j, "d"));
    assert_string_equal(json_string_value(json_object_get(j, "kty")), "EC");
    assert_string_equal(json_string_value(json_object_get(j, "crv")), "P-256");
    assert_string_equal(json_string_value(json_object_get(j, "kid")), KID);
    assert_string_equal(json_string_value(json_object_get(j, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(j, "use")), "sig");
    assert_int_equal(json_string_length(json_object_get(j, "x")), 43);
    assert_int_equal(json_string_length(json_object_get(j, "y")), 43);
    json_decref(j);
    buf_free(&pub);
}

/* A JWK text with one member replaced or added: {"kty":..,"crv":..,x,y,<extra>}. */
static jwt_key *import_variant(const char *kty, const char *crv, const char *extra, int priv,
                               err_t *e)
{
    buf_t full, out;
    char json[1024];
    buf_init(&full, 4096);
    buf_init(&out, 4096);
    assert_int_equal(jwt_key_export_private(g_key, &full), 0);
    json_t *j = json_loads(full.data, 0, NULL);
    snprintf(json, sizeof(json), "{\"kty\":%s,\"crv\":%s,\"x\":\"%s\",\"y\":\"%s\",\"d\":\"%s\"%s}",
             kty, crv, json_string_value(json_object_get(j, "x")),
             json_string_value(json_object_get(j, "y")), json_string_value(json_object_get(j, "d")),
             extra);
    json_decref(j);
    jwt_key *k = priv ? jwt_key_import_private(json, strlen(json), JWT_ALG_ES256, KID, e)
                      : jwt_key_import_public(json, strlen(json), JWT_ALG_ES256, KID, e);
    buf_free(&full);
    buf_free(&out);
    return k;
}

static void expect_import_ok(const char *kty, const char *crv, const char *extra, int priv)
{
    err_t e;
    jwt_key *k = import_variant(kty, crv, extra, priv, &e);
    if (k == NULL)
        fail_msg("import failed: %s", e.detail);
    assert_int_equal(jwt_key_has_private(k), priv);
    jwt_key_free(k);
}

static void expect_import_fails(const char *kty, const char *crv, const char *extra, int priv)
{
    err_t e;
    err_clear(&e);
    jwt_key *k = import_variant(kty, crv, extra, priv, &e);
    assert_null(k);
    assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    assert_null(strstr(e.detail, "\"d\":")); /* never the key text */
}

static void test_import_rules(void **state)
{
    (void)state;
    expect_import_ok("\"EC\"", "\"P-256\"", "", 0);
    expect_import_ok("\"EC\"", "\"P-256\"", "", 1);
    expect_import_ok("\"EC\"", "\"P-256\"", ",\"alg\":\"ES256\",\"use\":\"sig\"", 0);
    expect_import_ok("\"EC\"", "\"P-256\"", ",\"key_ops\":[\"verify\"]", 0);
    expect_import_ok("\"EC\"", "\"P-256\"", ",\"key_ops\":[\"sign\",\"verify\"]", 1);
    expect_import_fails("\"EC\"", "\"P-384\"", "", 0);
    expect_import_fails("\"EC\"", "\"P-521\"", "", 0);
    expect_import_fails("\"EC\"", "\"secp256k1\"", "", 0);
    expect_import_fails("\"RSA\"", "\"P-256\"", "", 0);
    expect_import_fails("\"oct\"", "\"P-256\"", "", 0);
    expect_import_fails("\"OKP\"", "\"P-256\"", "", 0);
    expect_import_fails("\"ec\"", "\"P-256\"", "", 0);
    expect_import_fails("1", "\"P-256\"", "", 0);
    expect_import_fails("\"EC\"", "\"P-256\"", ",\"alg\":\"ES384\"", 0);
    expect_import_fails("\"EC\"", "\"P-256\"", ",\"alg\":\"HS256\"", 0);
    expect_import_fails("\"EC\"", "\"P-256\"", ",\"alg\":\"ES521\"", 0);
    expect_import_fails("\"EC\"", "\"P-256\"", ",\"use\":\"enc\"", 0);
    expect_import_fails("\"EC\"", "\"P-256\"", ",\"key_ops\":[\"encrypt\"]", 0);
    expect_import_fails("\"EC\"", "\"P-256\"", ",\"key_ops\":[\"verify\"]", 1);
    expect_import_fails("\"EC\"", "\"P-256\"", ",\"key_ops\":\"verify\"", 0);
    expect_import_fails("\"EC\"", "\"P-256\"", ",\"kty\":\"EC\"", 0); /* duplicate */
}

static void import_text_fails(const char *json, int priv)
{
    err_t e;
    jwt_key *k = priv ? jwt_key_import_private(json, strlen(json), JWT_ALG_ES256, KID, &e)
                      : jwt_key_import_public(json, strlen(json), JWT_ALG_ES256, KID, &e);
    assert_null(k);
    assert_int_equal(e.cls, ERR_INVALID_REQUEST);
}

static void test_import_bad_material(void **state)
{
    (void)state;
    /* Wycheproof's key with y changed by one bit: not on the curve. */
    import_text_fails("{\"kty\":\"EC\",\"crv\":\"P-256\","
                      "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                      "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgnw\"}",
                      0);
    /* Short x, padded x, missing y. */
    import_text_fails("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\","
                      "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\"}",
                      0);
    import_text_fails("{\"kty\":\"EC\",\"crv\":\"P-256\","
                      "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY=\","
                      "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\"}",
                      0);
    import_text_fails("{\"kty\":\"EC\",\"crv\":\"P-256\","
                      "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\"}",
                      0);
    /* A private import needs d, and d must belong to x, y. */
    import_text_fails("{\"kty\":\"EC\",\"crv\":\"P-256\","
                      "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                      "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\"}",
                      1);
    import_text_fails("{\"kty\":\"EC\",\"crv\":\"P-256\","
                      "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                      "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\","
                      "\"d\":\"yy49oPcINGK2ps0LmtxpB6UTEOiITghHBif6wDqmJ3d\"}",
                      1);
    import_text_fails("{\"kty\":\"EC\",\"crv\":\"P-256\","
                      "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                      "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\","
                      "\"d\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                      1);
    import_text_fails("", 0);
    import_text_fails("[]", 0);
    import_text_fails("{\"kty\":\"EC\"", 0);
    /* The Wycheproof pair itself imports, as public and as private. */
    err_t e;
    const char *ok = "{\"kty\":\"EC\",\"crv\":\"P-256\","
                     "\"x\":\"04N0xi21hshyvBp7I167sbE_bXqyqkAPfefdklMO7wY\","
                     "\"y\":\"UI8exy-C06a7DUnjIdENkxeFtHM4-l_41LqEw9nVgmw\","
                     "\"d\":\"yy49oPcINGK2ps0LmtxpB6UTEOiITghHBif6wDqmJ3c\"}";
    jwt_key *k = jwt_key_import_private(ok, strlen(ok), JWT_ALG_ES256, KID, &e);
    assert_non_null(k);
    jwt_key_free(k);
    k = jwt_key_import_public(ok, strlen(ok), JWT_ALG_ES256, KID, &e);
    assert_non_null(k);
    assert_int_equal(jwt_key_has_private(k), 0); /* "d" ignored */
    jwt_key_free(k);
}

static void test_kid_and_alg_arguments(void **state)
{
    (void)state;
    err_t e;
    char long_kid[65];
    memset(long_kid, 'k', 64);
    long_kid[64] = '\0';
    assert_null(jwt_key_generate(JWT_ALG_ES256, long_kid, &e));
    assert_int_equal(e.cls, ERR_INVALID_REQUEST);
    long_kid[63] = '\0';
    jwt_key *k = jwt_key_generate(JWT_ALG_ES256, long_kid, &e);
    assert_non_null(k);
    assert_string_equal(jwt_key_kid(k), long_kid);
    jwt_key_free(k);
    assert_null(jwt_key_generate(JWT_ALG_ES256, "", &e));
    assert_null(jwt_key_generate(JWT_ALG_ES256, NULL, &e));
    assert_null(jwt_key_generate(JWT_ALG_ES256, "a\nb", &e));
    assert_null(jwt_key_generate((jwt_alg)0, "k", &e));
    assert_null(jwt_key_generate((jwt_alg)7, "k", &e));
}

/* Several threads verify with one shared key while others sign with their
 * own clones (the production arrangement). */
typedef struct {
    const char *tok;
    int failures;
} verify_job;

static void *verify_worker(void *arg)
{
    verify_job *job = arg;
    for (int i = 0; i < 100; i++) {
        err_t e;
        json_t *j = jws_verify(job->tok, strlen(job->tok), ring_lookup, &g_ring, &e);
        if (j == NULL)
            job->failures++;
        json_decref(j);
    }
    return NULL;
}

static void *sign_worker(void *arg)
{
    verify_job *job = arg;
    jwt_key *mine = jwt_key_clone(g_key);
    for (int i = 0; i < 100; i++) {
        buf_t b;
        err_t e;
        buf_init(&b, JWS_MAX_LEN);
        json_t *j = NULL;
        if (mine == NULL || jws_sign(mine, PAYLOAD, strlen(PAYLOAD), &b, &e) != 0 ||
            (j = jws_verify(b.data, b.len, ring_lookup, &g_ring, &e)) == NULL)
            job->failures++;
        json_decref(j);
        buf_free(&b);
    }
    jwt_key_free(mine);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    enum { NV = 4, NS = 2 };
    pthread_t t[NV + NS];
    verify_job jobs[NV + NS];
    char *tok = sign_ok(g_key, PAYLOAD);
    for (int i = 0; i < NV + NS; i++) {
        jobs[i] = (verify_job){tok, 0};
        assert_int_equal(
            pthread_create(&t[i], NULL, i < NV ? verify_worker : sign_worker, &jobs[i]), 0);
    }
    for (int i = 0; i < NV + NS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_header_exact),
        cmocka_unit_test(test_header_kid_escaped),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_hostile_tokens_are_really_signed),
        cmocka_unit_test(test_alg_pinning),
        cmocka_unit_test(test_alg_none_unsigned),
        cmocka_unit_test(test_alg_hs256_key_confusion),
        cmocka_unit_test(test_alg_name_table),
        cmocka_unit_test(test_kid_rules),
        cmocka_unit_test(test_forbidden_headers),
        cmocka_unit_test(test_header_shape),
        cmocka_unit_test(test_payload_rules),
        cmocka_unit_test(test_special_signatures),
        cmocka_unit_test(test_encoding_rules),
        cmocka_unit_test(test_segment_count),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_sign_length_limit),
        cmocka_unit_test(test_sign_needs_private),
        cmocka_unit_test(test_clone),
        cmocka_unit_test(test_private_round_trip),
        cmocka_unit_test(test_public_export),
        cmocka_unit_test(test_import_rules),
        cmocka_unit_test(test_import_bad_material),
        cmocka_unit_test(test_kid_and_alg_arguments),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
