/* fuzz_jws_external.c - identity provider tokens: jws_verify_external
 * (src/jwt/jws_external.h) against a JWKS parsed by jwks_parse that holds
 * the fixed test keys of fuzz_keys.h: "fuzz-es256-a" (EC, no "alg": ES256),
 * "fuzz-es256-b" (EC, "alg":"ES256") and "fuzz-rsa" (RSA, no "alg": RS256
 * and PS256).
 *
 * Input: a selector byte, then the rest. Selector bits 0-2 are the allowed
 * algorithms (bit 0 ES256, bit 1 RS256, bit 2 PS256; none set = all three).
 * - bit 3 clear, verify: the rest is a compact token.
 * - bit 3 set, sign: the rest is "header\npayload"; both are signed as they
 *   are, by OpenSSL alone, with the key and algorithm of bits 4-5 (0 key a
 *   ES256, 1 key b ES256, 2 RSA RS256, 3 RSA PS256), so that mutations of a
 *   header reach the checks that only run once a signature is valid. The
 *   signed token must then be refused after any one-byte change (the byte
 *   and mask are the first two bytes of the payload line).
 * Oracles: an accepted token has three segments, a header that is a JSON
 * object without jwk/jku/x5u/x5c/crit/b64, whose "alg" is allowed and
 * usable with the key its "kid" names in the set; its signature verifies
 * with OpenSSL alone under that key (so a token not signed by the test keys
 * is never accepted); the claims equal its payload. A refusal is
 * ERR_UNAUTHORIZED, whose detail quotes no part of the token, and
 * unknown_kid is 1 only for a kid the set lacks. An accepted token's claims
 * then go through external_claims_check, as token exchange does
 * (check_exchange_claims says what must hold). */
#include "core/json.h"
#include "fuzz_keys.h"
#include "jwt/claims.h"
#include "jwt/jwks.h"
#include "jwt/jws_external.h"

#define KID_RSA FUZZ_KID_RSA
/* What the provider's tokens must carry, and the clock of the claim checks
 * (the seeds are made for these: tests/fuzz/corpus_gen.c). */
#define IDP_ISSUER "https://idp.example.com/"
#define IDP_AUDIENCE "api://tessera"
#define NOW 1700000000
#define SKEW 60

/* The provider: its JWKS as Tessera parsed it, and OpenSSL's view of each
 * key for the independent check. */
static struct {
    jwks_set *set;
    EVP_PKEY *ec[2];
    EVP_PKEY *rsa;
} idp;

/* OpenSSL's key for kid in this provider, or NULL. */
static EVP_PKEY *pkey_for_kid(const char *kid)
{
    if (kid == NULL)
        return NULL;
    if (strcmp(kid, FUZZ_KID_A) == 0)
        return idp.ec[0];
    if (strcmp(kid, FUZZ_KID_B) == 0)
        return idp.ec[1];
    return strcmp(kid, KID_RSA) == 0 ? idp.rsa : NULL;
}

/* The allowed algorithms of the selector into allowed[3]; their number. */
static size_t allowed_algs(uint8_t sel, jwt_alg allowed[3])
{
    static const jwt_alg all[3] = {JWT_ALG_ES256, JWT_ALG_RS256, JWT_ALG_PS256};
    size_t n = 0;
    for (int i = 0; i < 3; i++)
        if ((sel & 7) == 0 || (sel & (1u << i)))
            allowed[n++] = all[i];
    return n;
}

static int alg_allowed(jwt_alg a, const jwt_alg *allowed, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (allowed[i] == a)
            return 1;
    return 0;
}

/* What must hold of a token jws_verify_external accepted. */
static void check_accepted(const char *tok, size_t len, const jwt_alg *allowed, size_t nallowed,
                           const json_t *claims)
{
    static const char *const forbidden[] = {"jwk", "jku", "x5u", "x5c", "crit", "b64"};
    fuzz_segment seg[3];
    size_t signing_len = 0;
    FUZZ_CHECK(fuzz_segments_decode(tok, len, seg, &signing_len) == 0);
    json_t *hdr = json_loadb((const char *)seg[0].p, seg[0].n, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(hdr));
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
        FUZZ_CHECK(json_object_get(hdr, forbidden[i]) == NULL);
    jwt_alg alg = jwt_alg_from_name(json_string_value(json_object_get(hdr, "alg")));
    FUZZ_CHECK(alg != 0 && alg_allowed(alg, allowed, nallowed));
    const char *kid = json_string_value(json_object_get(hdr, "kid"));
    EVP_PKEY *pk = pkey_for_kid(kid);
    FUZZ_CHECK(pk != NULL);
    FUZZ_CHECK((pk == idp.rsa) == (alg != JWT_ALG_ES256)); /* the key's type fits the alg */
    FUZZ_CHECK(fuzz_verify(pk, alg, tok, signing_len, seg[2].p, seg[2].n));
    json_t *payload = json_loadb((const char *)seg[1].p, seg[1].n, JSON_REJECT_DUPLICATES, NULL);
    FUZZ_CHECK(json_is_object(payload) && json_equal(payload, claims));
    json_decref(payload);
    json_decref(hdr);
    fuzz_segments_free(seg);
}

/* What token exchange does next with the claims of a verified token:
 * external_claims_check. Accepted only with "iss" the provider's, "aud"
 * ours (string or in an array), an integer "exp" > now - skew, "nbf" and
 * "iat" (when present) integers <= now + skew, a non-empty email and
 * "email_verified" absent, true or "true"; "expired" only for a past exp;
 * a refusal's detail quotes no claim value. */
static void check_exchange_claims(const json_t *claims)
{
    const external_claims_expect x = {IDP_ISSUER, IDP_AUDIENCE, NULL, NOW, SKEW};
    const char *email = NULL;
    int expired = -1;
    err_t e;
    const json_t *exp = json_object_get(claims, "exp");
    if (external_claims_check(claims, &x, &email, &expired, &e) == 0) {
        fuzz_note("claims: valid");
        const json_t *aud = json_object_get(claims, "aud"), *v;
        int aud_ok = json_is_string(aud) && strcmp(json_string_value(aud), IDP_AUDIENCE) == 0;
        size_t i;
        for (i = 0; i < json_array_size(aud); i++) {
            v = json_array_get(aud, i);
            aud_ok |= json_is_string(v) && strcmp(json_string_value(v), IDP_AUDIENCE) == 0;
        }
        FUZZ_CHECK(expired == 0 && aud_ok);
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(claims, "iss")), IDP_ISSUER) == 0);
        FUZZ_CHECK(json_is_integer(exp) && json_integer_value(exp) > NOW - SKEW);
        static const char *const not_after_now[] = {"nbf", "iat"};
        for (i = 0; i < 2; i++) {
            v = json_object_get(claims, not_after_now[i]);
            FUZZ_CHECK(v == NULL || (json_is_integer(v) && json_integer_value(v) <= NOW + SKEW));
        }
        FUZZ_CHECK(email != NULL && email[0] != '\0' &&
                   email == json_string_value(json_object_get(claims, "email")));
        v = json_object_get(claims, "email_verified");
        FUZZ_CHECK(v == NULL || json_is_true(v) ||
                   (json_is_string(v) && strcmp(json_string_value(v), "true") == 0));
    } else {
        fuzz_note("claims: refused: %s", e.detail);
        FUZZ_CHECK(e.cls == ERR_UNAUTHORIZED && email == NULL && (expired == 0 || expired == 1));
        if (expired)
            FUZZ_CHECK(json_is_integer(exp) && json_integer_value(exp) <= NOW - SKEW);
        char *text = json_dumps(claims, JSON_COMPACT);
        FUZZ_CHECK(text != NULL && fuzz_detail_quotes_nothing(e.detail, text, strlen(text)));
        free(text);
    }
}

/* jws_verify_external of tok[len], with the oracles; 1 when accepted. */
static int verify(const char *tok, size_t len, const jwt_alg *allowed, size_t nallowed)
{
    err_t e;
    int unknown_kid = -1;
    json_t *claims = jws_verify_external(tok, len, idp.set, allowed, nallowed, &unknown_kid, &e);
    FUZZ_CHECK(unknown_kid == 0 || unknown_kid == 1);
    if (claims != NULL) {
        fuzz_note("accepted");
        FUZZ_CHECK(unknown_kid == 0);
        check_accepted(tok, len, allowed, nallowed, claims);
        check_exchange_claims(claims);
        json_decref(claims);
        return 1;
    }
    fuzz_note("refused: %s", e.detail);
    FUZZ_CHECK(e.cls == ERR_UNAUTHORIZED && e.detail[0] != '\0');
    FUZZ_CHECK(fuzz_detail_quotes_nothing(e.detail, tok, len));
    if (unknown_kid) /* only said of a kid that none of the set's keys has */
        FUZZ_CHECK(strstr(e.detail, "key id is unknown") != NULL);
    return 0;
}

static void sign_mode(uint8_t sel, const jwt_alg *allowed, size_t nallowed, const uint8_t *data,
                      size_t size)
{
    static const jwt_alg sign_alg[4] = {JWT_ALG_ES256, JWT_ALG_ES256, JWT_ALG_RS256, JWT_ALG_PS256};
    int which = (sel >> 4) & 3;
    EVP_PKEY *pk = which < 2 ? idp.ec[which] : idp.rsa;
    fuzz_reader r = {data, size};
    size_t hn, pn;
    char *hdr = fuzz_field(&r, &hn);
    char *payload = fuzz_rest(&r, &pn);
    buf_t tok;
    if (hn + pn > JWS_MAX_LEN) { /* longer tokens are refused before any parsing */
        free(hdr);
        free(payload);
        return;
    }
    fuzz_compact(pk, sign_alg[which], hdr, hn, payload, pn, &tok);
    if (verify(tok.data, tok.len, allowed, nallowed) && pn >= 2) {
        /* any one-byte change to an accepted token must make it refused */
        tok.data[(unsigned char)payload[0] % tok.len] ^= (char)(payload[1] ? payload[1] : 1);
        FUZZ_CHECK(!verify(tok.data, tok.len, allowed, nallowed));
    }
    buf_free(&tok);
    free(hdr);
    free(payload);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    static const jwt_alg all[3] = {JWT_ALG_ES256, JWT_ALG_RS256, JWT_ALG_PS256};
    buf_t a, b, rsa, doc;
    err_t e;
    idp.ec[0] = fuzz_pkey(fuzz_ec_a_pem);
    idp.ec[1] = fuzz_pkey(fuzz_ec_b_pem);
    idp.rsa = fuzz_pkey(fuzz_rsa_pem);
    fuzz_ec_jwk(idp.ec[0], 0, ",\"kid\":\"" FUZZ_KID_A "\"", &a);
    fuzz_ec_jwk(idp.ec[1], 0, ",\"kid\":\"" FUZZ_KID_B "\",\"alg\":\"ES256\",\"use\":\"sig\"", &b);
    fuzz_rsa_jwk(idp.rsa, ",\"kid\":\"" KID_RSA "\"", &rsa);
    buf_init(&doc, 16384);
    FUZZ_CHECK(buf_printf(&doc, "{\"keys\":[%s,%s,%s]}", a.data, b.data, rsa.data) == 0);
    idp.set = jwks_parse(doc.data, doc.len, all, 3, &e);
    FUZZ_CHECK(idp.set != NULL && jwks_set_count(idp.set) == 3);
    buf_free(&doc);
    buf_free(&rsa);
    buf_free(&b);
    buf_free(&a);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jwt_alg allowed[3];
    if (size == 0)
        return 0;
    size_t nallowed = allowed_algs(data[0], allowed);
    if (data[0] & 8)
        sign_mode(data[0], allowed, nallowed, data + 1, size - 1);
    else
        verify((const char *)data + 1, size - 1, allowed, nallowed);
    return 0;
}
