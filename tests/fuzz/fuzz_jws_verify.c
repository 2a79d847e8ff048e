/* fuzz_jws_verify.c - session tokens: jws_verify and jws_sign
 * (src/jwt/jws.h), with fixed test keys (fuzz_keys.h): two ES256 keys
 * ("fuzz-es256-a", "fuzz-es256-b") and an RS256 key under kid "fuzz-rsa",
 * which a session verifier must never accept.
 *
 * Input: a selector byte, then
 * - selector % 4 = 0 or 1, verify: the rest is a compact token. Oracles:
 *   an accepted token has exactly three non-empty segments, a header that
 *   is a JSON object with "alg" "ES256", the kid of an ES256 key, no
 *   jwk/jku/x5u/x5c/x5t/x5t#S256/crit/b64 and "typ" absent or "JWT"; its
 *   signature verifies with OpenSSL alone under that kid's public key (so
 *   only a token signed by the test key passes); the returned claims equal
 *   the decoded payload. A refused token gets ERR_UNAUTHORIZED and one of
 *   the fixed details (never any part of the token).
 * - selector % 4 = 2 or 3, sign (key a or b): three bytes choose a
 *   tampering (position, xor mask), the rest is the payload. jws_sign
 *   succeeds exactly when the token fits JWS_MAX_LEN, writes the fixed
 *   header and the payload byte for byte with a signature OpenSSL accepts;
 *   jws_verify then accepts it exactly when the payload is a strict JSON
 *   object (else it fails at the payload stage, after the signature), and
 *   refuses it when its kid names the other key and after any single-byte
 *   change.
 * Then, for every accepted token, what the server does next: claims_check,
 * the user JSON and expiry text of /api/v1/me (check_session_use), and
 * jws_cache_verify, which must give jws_verify's answer (check_cache_agrees). */
#include "api/api.h"
#include "core/clock.h"
#include "core/json.h"
#include "domain/sessions.h"
#include "fuzz_keys.h"
#include "jwt/claims.h"
#include "jwt/jws.h"
#include "jwt/jws_cache.h"

#define ISSUER "https://sso.example.com"
#define NOW 1700000000 /* the clock of every check: inputs choose exp and nbf around it */
#define SKEW 60

/* The signing keys (Tessera's and OpenSSL's view of each) and the RSA key. */
static struct {
    EVP_PKEY *pkey[2];
    jwt_key *key[2];
    jwt_key *rsa;
} keys;

static const char *const kids[2] = {FUZZ_KID_A, FUZZ_KID_B};

static const jwt_key *lookup(void *ctx, const char *kid)
{
    (void)ctx;
    for (int i = 0; i < 2; i++)
        if (strcmp(kid, kids[i]) == 0)
            return keys.key[i];
    return strcmp(kid, FUZZ_KID_RSA) == 0 ? keys.rsa : NULL;
}

/* Each ES256 kid resolves to the other ES256 key. */
static const jwt_key *lookup_swapped(void *ctx, const char *kid)
{
    (void)ctx;
    for (int i = 0; i < 2; i++)
        if (strcmp(kid, kids[i]) == 0)
            return keys.key[1 - i];
    return NULL;
}

/* The details jws_verify may give: fixed texts, never quoting the token. A
 * new check needs its detail added here (after making sure it leaks
 * nothing). */
static int detail_known(const char *d)
{
    static const char *const fixed[] = {
        "session token is missing or too long",
        "session token is malformed",
        "session token header is not a valid JSON object",
        "session token uses an unsupported algorithm",
        "session token type is not JWT",
        "session token has no key id",
        "session token key id is unknown",
        "session token algorithm does not match its key",
        "session token signature is invalid",
        "session token payload is not a valid JSON object",
    };
    static const char *const forbidden[] = {"jwk", "jku",      "x5u",  "x5c",
                                            "x5t", "x5t#S256", "crit", "b64"};
    char text[ERR_DETAIL_MAX];
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(d, fixed[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
        snprintf(text, sizeof(text), "session token has the forbidden header \"%s\"", forbidden[i]);
        if (strcmp(d, text) == 0)
            return 1;
    }
    return 0;
}

/* The index of the ES256 key a header names, or -1. */
static int header_key_index(const json_t *hdr)
{
    const char *kid = json_string_value(json_object_get(hdr, "kid"));
    for (int i = 0; kid != NULL && i < 2; i++)
        if (strcmp(kid, kids[i]) == 0)
            return i;
    return -1;
}

/* What must hold of a token jws_verify accepted. */
static void check_accepted(const char *tok, size_t len, const json_t *claims)
{
    static const char *const forbidden[] = {"jwk", "jku",      "x5u",  "x5c",
                                            "x5t", "x5t#S256", "crit", "b64"};
    fuzz_segment seg[3];
    size_t signing_len = 0;
    FUZZ_CHECK(fuzz_segments_decode(tok, len, seg, &signing_len) == 0);
    FUZZ_CHECK(seg[0].n > 0 && seg[1].n > 0 && seg[2].n == 64);
    json_t *hdr = json_loadb((const char *)seg[0].p, seg[0].n, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(hdr));
    FUZZ_CHECK(json_is_string(json_object_get(hdr, "alg")) &&
               strcmp(json_string_value(json_object_get(hdr, "alg")), "ES256") == 0);
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
        FUZZ_CHECK(json_object_get(hdr, forbidden[i]) == NULL);
    const json_t *typ = json_object_get(hdr, "typ");
    FUZZ_CHECK(typ == NULL || (json_is_string(typ) && strcmp(json_string_value(typ), "JWT") == 0));
    int ki = header_key_index(hdr);
    FUZZ_CHECK(ki >= 0);
    FUZZ_CHECK(fuzz_verify(keys.pkey[ki], JWT_ALG_ES256, tok, signing_len, seg[2].p, seg[2].n));
    json_t *payload = json_loadb((const char *)seg[1].p, seg[1].n, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(payload) && json_equal(payload, claims));
    json_decref(payload);
    json_decref(hdr);
    fuzz_segments_free(seg);
}

/* What the server does with the claims of a verified session token
 * (api_session_claims, /api/v1/me, the embed session), with the oracles:
 * claims_check accepts only the documented claims (iss, aud, exp > now -
 * skew, nbf <= now + skew, integer iat, non-empty sub, jti and org_id) and
 * says "expired" only for an exp that is past; the user JSON and the
 * expiry text are built whatever the (signed) claims hold. */
static void check_session_use(json_t *claims)
{
    const claims_expect x = {ISSUER, SESSION_AUDIENCE, NOW, SKEW};
    int expired = -1;
    err_t e;
    const json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
    if (claims_check(claims, &x, &expired, &e) == 0) {
        fuzz_note("claims: valid");
        FUZZ_CHECK(expired == 0);
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(claims, "iss")), ISSUER) == 0);
        FUZZ_CHECK(json_is_integer(exp) && json_integer_value(exp) > NOW - SKEW);
        FUZZ_CHECK(nbf == NULL || (json_is_integer(nbf) && json_integer_value(nbf) <= NOW + SKEW));
        FUZZ_CHECK(json_is_integer(json_object_get(claims, "iat")));
        static const char *const ids[] = {"sub", "jti", "org_id"};
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
            const char *v = json_string_value(json_object_get(claims, ids[i]));
            FUZZ_CHECK(v != NULL && v[0] != '\0');
        }
    } else {
        fuzz_note("claims: refused: %s", e.detail);
        FUZZ_CHECK(e.cls == ERR_UNAUTHORIZED && (expired == 0 || expired == 1));
        if (expired)
            FUZZ_CHECK(json_is_integer(exp) && json_integer_value(exp) <= NOW - SKEW);
    }
    char when[21 + 1];
    memset(when, 'x', sizeof(when));
    clock_iso8601((int64_t)json_integer_value(exp), when); /* as /api/v1/me does */
    FUZZ_CHECK(strlen(when) == 20 && when[21] == 'x');
    json_t *user = api_user_json(claims, "type");
    FUZZ_CHECK(json_is_object(user));
    json_decref(user);
}

/* jws_cache_verify (a fresh cache: the answer must not depend on earlier
 * inputs) gives jws_verify's answer want, on the first call and on the
 * second, which may be served from the cache. */
static void check_cache_agrees(const char *tok, size_t len, const json_t *want)
{
    jws_cache *c = jws_cache_new(4);
    err_t e;
    FUZZ_CHECK(c != NULL);
    for (int round = 0; round < 2; round++) {
        json_t *got = jws_cache_verify(c, tok, len, lookup, NULL, NOW, &e);
        FUZZ_CHECK(want == NULL ? got == NULL && detail_known(e.detail)
                                : got != NULL && json_equal(got, want));
        json_decref(got);
    }
    jws_cache_free(c);
}

static void fuzz_verify_mode(const uint8_t *data, size_t size)
{
    err_t e;
    json_t *claims = jws_verify((const char *)data, size, lookup, NULL, &e);
    if (claims != NULL) {
        fuzz_note("verify: accepted");
        check_accepted((const char *)data, size, claims);
        check_session_use(claims);
    } else {
        fuzz_note("verify: refused: %s", e.detail);
        FUZZ_CHECK(e.cls == ERR_UNAUTHORIZED && detail_known(e.detail));
    }
    check_cache_agrees((const char *)data, size, claims);
    json_decref(claims);
}

/* Length of the token jws_sign makes for a payload of n bytes with kid. */
static size_t expected_len(const char *kid, size_t n)
{
    char hdr[128];
    int hn = snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
    return b64url_encoded_len((size_t)hn) + 1 + b64url_encoded_len(n) + 1 + b64url_encoded_len(64);
}

/* The token jws_sign made for payload[n] with key ki, read independently. */
static void check_signed(const buf_t *tok, int ki, const char *payload, size_t n)
{
    char hdr[128];
    fuzz_segment seg[3];
    size_t signing_len = 0;
    snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kids[ki]);
    FUZZ_CHECK(tok->len == expected_len(kids[ki], n) && tok->len <= JWS_MAX_LEN);
    FUZZ_CHECK(fuzz_segments_decode(tok->data, tok->len, seg, &signing_len) == 0);
    FUZZ_CHECK(seg[0].n == strlen(hdr) && memcmp(seg[0].p, hdr, seg[0].n) == 0);
    FUZZ_CHECK(seg[1].n == n && (n == 0 || memcmp(seg[1].p, payload, n) == 0));
    FUZZ_CHECK(
        fuzz_verify(keys.pkey[ki], JWT_ALG_ES256, tok->data, signing_len, seg[2].p, seg[2].n));
    fuzz_segments_free(seg);
}

/* jws_verify of a token just signed for payload[n]. */
static void check_verifies(const buf_t *tok, const char *payload, size_t n)
{
    err_t e, pe;
    json_t *want = json_parse_strict(payload, n, JSON_MAX_DEPTH, 0, &pe);
    json_t *got = jws_verify(tok->data, tok->len, lookup, NULL, &e);
    if (json_is_object(want)) {
        FUZZ_CHECK(got != NULL && json_equal(got, want));
        check_session_use(got);
    } else if (n == 0) { /* an empty segment is refused before anything else */
        FUZZ_CHECK(got == NULL && strcmp(e.detail, "session token is malformed") == 0);
    } else {
        FUZZ_CHECK(got == NULL &&
                   strcmp(e.detail, "session token payload is not a valid JSON object") == 0);
    }
    check_cache_agrees(tok->data, tok->len, got);
    json_decref(got);
    json_decref(want);
    FUZZ_CHECK(jws_verify(tok->data, tok->len, lookup_swapped, NULL, &e) == NULL);
    FUZZ_CHECK(n == 0 || strcmp(e.detail, "session token signature is invalid") == 0);
}

static void fuzz_sign_mode(int ki, const uint8_t *data, size_t size)
{
    fuzz_reader r = {data, size};
    size_t where = (size_t)fuzz_byte(&r) << 8 | fuzz_byte(&r);
    uint8_t mask = fuzz_byte(&r);
    size_t n;
    char *payload = fuzz_rest(&r, &n);
    buf_t tok;
    err_t e;
    buf_init(&tok, 2 * JWS_MAX_LEN);
    int rc = jws_sign(keys.key[ki], payload, n, &tok, &e);
    if (expected_len(kids[ki], n) > JWS_MAX_LEN) {
        FUZZ_CHECK(rc != 0 && e.cls == ERR_INVALID_REQUEST && tok.len == 0);
    } else {
        FUZZ_CHECK(rc == 0);
        check_signed(&tok, ki, payload, n);
        check_verifies(&tok, payload, n);
        tok.data[where % tok.len] ^= (char)(mask ? mask : 1);
        FUZZ_CHECK(jws_verify(tok.data, tok.len, lookup, NULL, &e) == NULL);
    }
    buf_free(&tok);
    free(payload);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    keys.pkey[0] = fuzz_pkey(fuzz_ec_a_pem);
    keys.pkey[1] = fuzz_pkey(fuzz_ec_b_pem);
    for (int i = 0; i < 2; i++)
        keys.key[i] = fuzz_jwt_key_private(keys.pkey[i], kids[i]);
    EVP_PKEY *rsa = fuzz_pkey(fuzz_rsa_pem);
    buf_t jwk;
    err_t e;
    fuzz_rsa_jwk(rsa, "", &jwk);
    keys.rsa = jwt_key_import_public(jwk.data, jwk.len, JWT_ALG_RS256, FUZZ_KID_RSA, &e);
    FUZZ_CHECK(keys.rsa != NULL);
    buf_free(&jwk);
    EVP_PKEY_free(rsa);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t mode = data[0] % 4;
    if (mode < 2)
        fuzz_verify_mode(data + 1, size - 1);
    else
        fuzz_sign_mode(mode - 2, data + 1, size - 1);
    return 0;
}
