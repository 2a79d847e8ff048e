/* test_wycheproof.c - Project Wycheproof vectors against the ES256 code.
 *
 * (a) ecdsa_secp256r1_sha256_p1363_test.json through jws_verify_signature,
 *     each key imported both as a session key and from a JWKS (jwks_parse,
 *     the identity-provider path);
 * (b) json_web_signature_test.json through jws_verify;
 * (c) json_web_key_test.json: key import plus jws_verify;
 * (d) the JWS cases of json_web_crypto_test.json through jws_verify (its
 *     JWE cases: test_wycheproof_jwe.c);
 * (e) the base64 group of json_web_signature_test.json through the token
 *     shape checks both verifiers share (the contested '?' labels).
 * Each part prints its counts and proves, label by label, that it ran
 * every case it reads (wp_assert_all_run). How the labels map to our
 * stricter rules is written where each file is read. The external-token
 * verifier gets the same files in test_wycheproof_rsa.c. */
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
#include "jwt/b64url.h"
#include "jwt/jwk.h"
#include "jwt/jws.h"
#include "jwt/jws_internal.h"
#include "jwt/jwks.h"
#include "wycheproof.h"

/* jws_verify's detail once header, kid, alg pinning, strict base64url and
 * the signature have all passed and only the payload was refused. */
#define PAYLOAD_STAGE "session token payload is not a valid JSON object"

/* Imports a JWK object as a public ES256 key pinned to kid; NULL when our
 * import refuses it. */
static jwt_key *import_jwk(const json_t *jwk, const char *kid)
{
    err_t e;
    char *s = json_dumps(jwk, JSON_COMPACT);
    assert_non_null(s);
    jwt_key *k = jwt_key_import_public(s, strlen(s), JWT_ALG_ES256, kid, &e);
    free(s);
    return k;
}

/* A P-256 coordinate in Wycheproof hex (minimal two's-complement, so it may
 * carry a leading 00 or be shorter than 32 bytes) as 43 base64url chars. */
static void coord_b64(const char *hex, char out[44])
{
    size_t n;
    unsigned char *raw = wp_hex_decode_new(hex, &n), fixed[32] = {0};
    const unsigned char *p = raw;
    while (n > 32 && *p == 0) {
        p++;
        n--;
    }
    assert_true(n <= 32);
    memcpy(fixed + 32 - n, p, n);
    b64url_encode(fixed, 32, out);
    free(raw);
}

/* The JWK {"kty":"EC","crv":"P-256","x","y"} of publicKey.wx/wy (new reference). */
static json_t *point_jwk(const json_t *pub)
{
    char x[44], y[44];
    coord_b64(wp_str(pub, "wx"), x);
    coord_b64(wp_str(pub, "wy"), y);
    json_t *jwk = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x", x, "y", y);
    assert_non_null(jwk);
    return jwk;
}

static jwt_key *import_point(const json_t *pub, const char *kid)
{
    json_t *jwk = point_jwk(pub);
    jwt_key *k = import_jwk(jwk, kid);
    json_decref(jwk);
    return k;
}

static void assert_same_public_key(const jwt_key *a, const jwt_key *b)
{
    buf_t ea, eb;
    buf_init(&ea, 4096);
    buf_init(&eb, 4096);
    assert_int_equal(jwt_key_export_public(a, &ea), 0);
    assert_int_equal(jwt_key_export_public(b, &eb), 0);
    assert_string_equal(ea.data, eb.data);
    buf_free(&ea);
    buf_free(&eb);
}

/* The group's key as an identity provider would publish it: its JWK alone
 * in a JWKS, through jwks_parse; the ES256 key jws_verify_external would
 * use for a token whose kid is the JWK's. The set goes to *set (caller
 * frees). */
static const jwt_key *idp_key(const json_t *jwk, jwks_set **set)
{
    err_t e;
    *set = wp_idp_set(jwk, &e);
    if (*set == NULL)
        fail_msg("jwks_parse refused the key: %s", e.detail);
    const jwt_key *k = jwks_find(*set, wp_str(jwk, "kid"), JWT_ALG_ES256);
    assert_non_null(k);
    return k;
}

/* (a) Every ECDSA P-256/SHA-256 P1363 vector through jws_verify_signature.
 *
 * Keys: each group's "publicKeyJwk" when present (103 of 112 groups), else
 * a JWK built from publicKey.wx/wy; where both exist they must give the same
 * key. Each vector is checked twice, with the key imported as a session key
 * and with the key jwks_parse makes of the same JWK (what verifies an
 * identity provider's ES256 tokens); both must give the expected answer.
 * Decision on "acceptable": none occur in this revision of the file;
 * should one appear we require rejection (ES256 signatures are exactly 64
 * bytes with r, s in [1, n-1] and nothing looser is ever needed). */
static void test_ecdsa_p1363(void **state)
{
    (void)state;
    json_t *root = wp_load("ecdsa_secp256r1_sha256_p1363_test.json"), *g, *t;
    size_t gi, ti, failures = 0, from_jwk = 0, from_point = 0;
    wp_labels ok = {0, 0, 0}; /* cases answered as expected, per label */

    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *pub = json_object_get(g, "publicKey");
        json_t *jwk = json_incref(json_object_get(g, "publicKeyJwk"));
        jwks_set *set;
        jwt_key *k;
        if (jwk != NULL) {
            k = import_jwk(jwk, "wycheproof");
            jwt_key *k2 = import_point(pub, "wycheproof");
            assert_non_null(k2);
            if (k != NULL)
                assert_same_public_key(k, k2);
            jwt_key_free(k2);
            from_jwk++;
        } else {
            jwk = point_jwk(pub);
            k = import_jwk(jwk, "wycheproof");
            from_point++;
        }
        if (k == NULL)
            fail_msg("group %zu: key import failed", gi);
        const jwt_key *ext = idp_key(jwk, &set);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            size_t mlen, slen;
            const char *result = wp_str(t, "result");
            unsigned char *msg = wp_hex_decode_new(wp_str(t, "msg"), &mlen);
            unsigned char *sig = wp_hex_decode_new(wp_str(t, "sig"), &slen);
            int got = jws_verify_signature(k, msg, mlen, sig, slen);
            int got_ext = jws_verify_signature(ext, msg, mlen, sig, slen);
            int want = strcmp(result, "valid") == 0;
            if (got != want || got_ext != want) {
                failures++;
                printf("tcId %ld: %s, session key %s, IdP key %s\n", wp_tc(t), result,
                       got ? "accepted" : "rejected", got_ext ? "accepted" : "rejected");
            } else if (want) {
                ok.valid++;
            } else if (strcmp(result, "invalid") == 0) {
                ok.invalid++;
            } else {
                ok.acceptable++;
            }
            free(msg);
            free(sig);
        }
        jwks_free(set);
        jwt_key_free(k);
        json_decref(jwk);
    }
    printf("ecdsa_secp256r1_sha256_p1363: keys: %zu from JWK, %zu from point, each also from a "
           "JWKS; with both keys: %zu valid accepted, %zu invalid rejected, %zu acceptable "
           "rejected, %zu failures\n",
           from_jwk, from_point, ok.valid, ok.invalid, ok.acceptable, failures);
    assert_int_equal(failures, 0);
    wp_assert_all_run(root, NULL, ok);
    assert_int_equal(ok.valid, 173);
    assert_int_equal(ok.invalid, 89);
    json_decref(root);
}

typedef struct {
    size_t total, valid_reached_payload, invalid_rejected, rejected_by_key_import,
        other_alg_rejected, other_alg_valid, failures;
} jws_counts;

static const jwt_key *lookup_exact(void *ctx, const char *kid)
{
    const jwt_key *k = ctx;
    return k != NULL && strcmp(kid, jwt_key_kid(k)) == 0 ? k : NULL;
}

static const jwt_key *lookup_any(void *ctx, const char *kid)
{
    (void)kid;
    return ctx;
}

/* Runs one compact token; returns 1 when it got past every check but the
 * payload, 0 when rejected earlier. Accepting is impossible here (every
 * payload in these files is "foo" or similar, never a JSON object). */
static int reaches_payload(const char *jws, jws_key_lookup lookup, void *ctx, long tc)
{
    err_t e;
    err_clear(&e);
    json_t *j = jws_verify(jws, strlen(jws), lookup, ctx, &e);
    if (j != NULL) {
        json_decref(j);
        fail_msg("tcId %ld: accepted outright", tc);
    }
    assert_int_equal(e.cls, ERR_UNAUTHORIZED);
    return strcmp(e.detail, PAYLOAD_STAGE) == 0;
}

/* The raw signature of a compact token, checked on its own. */
static int raw_signature_ok(const jwt_key *k, const char *jws)
{
    const char *dot = strrchr(jws, '.');
    unsigned char sig[256];
    size_t n;
    if (dot == NULL || strlen(dot + 1) > 300 ||
        b64url_decode(dot + 1, strlen(dot + 1), sig, &n) != 0)
        return 0;
    return jws_verify_signature(k, jws, (size_t)(dot - jws), sig, n);
}

static int is_p256(const json_t *jwk)
{
    const char *kty = wp_str(jwk, "kty"), *crv = wp_str(jwk, "crv");
    return kty && crv && strcmp(kty, "EC") == 0 && strcmp(crv, "P-256") == 0;
}

static void jws_group_p256(const json_t *g, const json_t *jwk, jws_counts *c)
{
    const char *kid = wp_str(jwk, "kid") ? wp_str(jwk, "kid") : "none";
    jwt_key *k = import_jwk(jwk, kid);
    const json_t *t;
    size_t ti;
    json_array_foreach(json_object_get(g, "tests"), ti, t)
    {
        long tc = wp_tc(t);
        int valid = strcmp(wp_str(t, "result"), "valid") == 0;
        c->total++;
        if (k == NULL) {
            /* Our import refused the key (e.g. "use":"enc"): nothing verifies. */
            if (valid) {
                c->failures++;
                printf("tcId %ld: valid, key refused\n", tc);
            } else {
                c->rejected_by_key_import++;
            }
            continue;
        }
        char *jws = wp_token_text(t, "jws");
        int reached = reaches_payload(jws, lookup_exact, k, tc);
        if (valid && reached && raw_signature_ok(k, jws))
            c->valid_reached_payload++;
        else if (!valid && !reached)
            c->invalid_rejected++;
        else {
            c->failures++;
            printf("tcId %ld: %s, reached payload: %d\n", tc, valid ? "valid" : "invalid", reached);
        }
        free(jws);
    }
    jwt_key_free(k);
}

/* Tokens for other key types, verified as if their kid named our ES256 key:
 * the alg pin must stop every one before the payload. */
static void jws_group_other(const json_t *g, const jwt_key *es256, jws_counts *c)
{
    const json_t *t;
    size_t ti;
    json_array_foreach(json_object_get(g, "tests"), ti, t)
    {
        long tc = wp_tc(t);
        char *jws = wp_token_text(t, "jws");
        c->total++;
        if (reaches_payload(jws, lookup_any, (void *)es256, tc)) {
            c->failures++;
            printf("tcId %ld: non-ES256 token got past the alg pin\n", tc);
        } else if (strcmp(wp_str(t, "result"), "valid") == 0) {
            c->other_alg_valid++;
        } else {
            c->other_alg_rejected++;
        }
        free(jws);
    }
}

/* (b) json_web_signature_test.json. Groups whose key is EC P-256 (es256,
 * SpecialCaseEs256 and the two ec_key_for_encryption groups) are run through
 * jws_verify with a lookup that knows only that key under its JWK "kid"
 * (every ES256 header in the file carries "kid":"kid-ec-sign", so no
 * test-only path is needed). How the labels map to our rules:
 *
 *  - valid (tcId 18, 378): the payload is "foo", not a JSON object, so
 *    jws_verify refuses it at the last step. We require exactly that
 *    rejection (PAYLOAD_STAGE detail: header, kid, alg pin, strict base64url
 *    and signature all passed) and check the raw signature separately.
 *  - invalid: must be refused *before* the payload stage, so no invalid case
 *    passes merely because "foo" is not JSON. tcId 354 ("use":"enc") and 356
 *    ("key_ops":["encrypt"]) are refused when the key is imported.
 *  - JSON serialization (tcId 17) is not supported: rejected as malformed.
 *
 * Every other group (HS256/384/512, RS256/384/512, PS256/384/512, ES512 on
 * P-521, alg none, JSON serialization) is run with a lookup that returns the
 * ES256 key for any kid: the alg pin must refuse each token. Wycheproof
 * calls some of them valid for their own keys; for us they are out of scope
 * (session tokens are ES256 only) and are counted as "other-alg valid".
 * tcId 372/373 (a '?' inside the header/payload, labelled valid) would in
 * any case be refused by our strict base64url, by design (RFC 7515 s. 2). */
/* Runs every JWS group of a JSON Web file as described above (JWE groups
 * are left to test_wycheproof_jwe.c). */
static void run_session_jws(const json_t *root, jws_counts *c)
{
    jwt_key *es256 = NULL;
    const json_t *g;
    size_t gi;

    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *jwk = json_object_get(g, "public");
        const char *alg = jwk ? wp_str(jwk, "alg") : NULL;
        if (es256 == NULL && is_p256(jwk) && alg != NULL && strcmp(alg, "ES256") == 0)
            es256 = import_jwk(jwk, "any");
    }
    assert_non_null(es256);
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *jwk = json_object_get(g, "public");
        if (!wp_group_has(g, "jws"))
            continue;
        if (jwk == NULL)
            jwk = json_object_get(g, "private");
        if (is_p256(jwk))
            jws_group_p256(g, jwk, c);
        else
            jws_group_other(g, es256, c);
    }
    jwt_key_free(es256);
}

static void print_session_counts(const char *name, const jws_counts *c)
{
    printf("%s: %zu tests: EC P-256 groups: %zu valid passed every check but the non-JSON "
           "payload, %zu invalid rejected, %zu rejected at key import; other algorithms: %zu "
           "invalid rejected, %zu labelled valid rejected by the ES256 pin; %zu failures\n",
           name, c->total, c->valid_reached_payload, c->invalid_rejected, c->rejected_by_key_import,
           c->other_alg_rejected, c->other_alg_valid, c->failures);
}

/* The counts per label: every case lands in exactly one of these. */
static wp_labels session_labels(const jws_counts *c)
{
    wp_labels l = {c->valid_reached_payload + c->other_alg_valid,
                   c->invalid_rejected + c->rejected_by_key_import + c->other_alg_rejected, 0};
    assert_int_equal(l.valid + l.invalid, c->total);
    return l;
}

static void test_json_web_signature(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_signature_test.json");
    jws_counts c = {0};
    run_session_jws(root, &c);
    print_session_counts("json_web_signature", &c);
    assert_int_equal(c.failures, 0);
    wp_assert_all_run(root, NULL, session_labels(&c));
    assert_int_equal(c.valid_reached_payload, 2);
    assert_int_equal(c.rejected_by_key_import, 2);
    json_decref(root);
}

/* (d) json_web_crypto_test.json, its 49 JWS cases (tcId 1-49; the 34 JWE
 * cases are test_wycheproof_jwe.c's). Mostly the first groups of (b) again,
 * with the same rules, plus: tcId 17 is a JSON-serialized JWS stored as an
 * object (sent as its JSON text, refused as malformed); tcId 46 is signed
 * with a ROCA key (RS256: refused by the ES256 pin, as is every HMAC and
 * RSA token); tcId 47 (labelled invalid) and 48 (labelled valid) are
 * HS256 tokens verified against key sets, refused by the pin. tcId 18 is
 * the one ES256 case that reaches the payload stage. */
static void test_json_web_crypto_jws(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_crypto_test.json");
    jws_counts c = {0};
    run_session_jws(root, &c);
    print_session_counts("json_web_crypto (JWS cases)", &c);
    assert_int_equal(c.failures, 0);
    wp_assert_all_run(root, "jws", session_labels(&c));
    assert_int_equal(c.total, 49);
    assert_int_equal(c.valid_reached_payload, 1);
    json_decref(root);
}

/* The first step of the shared token-shape checks (jws_internal.h, as both
 * verifiers run them before alg and kid) that refuses jws, or NULL when the
 * split, the strict header, the payload and the signature all decode. */
static const char *encoding_refused_at(const char *jws)
{
    jws_segment seg[3];
    unsigned char sig[1100];
    size_t plen, slen;
    int malformed;
    const char *why = NULL;
    if (jws__split(jws, strlen(jws), seg) != 0)
        return "split";
    json_t *hdr = jws__header_decode(seg[0], &malformed);
    unsigned char *payload = jws__payload_decode(seg[1], &plen);
    if (hdr == NULL)
        why = malformed ? "header base64url" : "header JSON";
    else if (payload == NULL)
        why = "payload base64url";
    else if (seg[2].n > 1400 || b64url_decode(seg[2].p, seg[2].n, sig, &slen) != 0)
        why = "signature base64url";
    json_decref(hdr);
    free(payload);
    return why;
}

/* The token of case tcId in group g. */
static const char *case_jws(const json_t *g, long tc)
{
    const json_t *t;
    size_t ti;
    json_array_foreach(json_object_get(g, "tests"), ti, t)
    {
        if (wp_tc(t) == tc)
            return wp_str(t, "jws");
    }
    fail_msg("no tcId %ld", tc);
    return NULL;
}

/* (e) The "base64" group of json_web_signature_test.json (tcId 357-377):
 * HS256 tokens about encodings. Our verifiers refuse every one at the alg
 * pin ((b) above, and test_wycheproof_rsa.c), which would hide the
 * encoding rules, so each token is also put through the shape checks both
 * verifiers apply before the alg (encoding_refused_at). Decisions:
 *
 *  - valid 357-359 (edge-case MACs "AA...", "___...") and 376/377 (spaces,
 *    a tab and a newline inside the header JSON, RFC 8259 whitespace):
 *    must pass - strictness must not refuse a legitimate encoding.
 *  - contested, valid 372/373: a '?' inserted in the header / payload
 *    segment. Wycheproof labels them valid because the MAC is over the
 *    ASCII text, '?' included. Decision: refused. RFC 7515 section 2
 *    defines base64url with "no line breaks, whitespace, or other
 *    additional characters", and 5.2 steps 2, 4 and 6 make a failed decode
 *    a failed validation; a decoder that skips characters gives one token
 *    many encodings.
 *  - contested, invalid 367/370 ("invalidBase64Padding", "...InPayload"):
 *    in this revision of the file both tokens are byte for byte tcId 357,
 *    the valid one - the '=' the comments describe is not there. Decision:
 *    the encoding is correct (RFC 7515 section 2: no padding), so it is
 *    accepted; the test requires the tokens to stay identical to 357, so a
 *    revision that adds the padding fails here and must be refused instead
 *    ('=' is outside our alphabet; test_b64url.c covers it).
 *  - invalid 360-366, 368, 369, 371, 374, 375 (spaces, '#', '?', non-zero
 *    unused bits in "AB"): must be refused by the encoding itself, not
 *    merely by the MAC. */
static void test_json_web_signature_base64(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_signature_test.json");
    const json_t *g, *t;
    size_t gi, ti, failures = 0, contested_refused = 0, contested_same = 0;
    wp_labels ok = {0, 0, 0}; /* per label: cases decided as written above */
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        if (strcmp(wp_str(g, "comment"), "base64") != 0)
            continue;
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            long tc = wp_tc(t);
            const char *jws = wp_str(t, "jws"), *why = encoding_refused_at(jws);
            int valid = strcmp(wp_str(t, "result"), "valid") == 0;
            if (tc == 372 || tc == 373) {
                contested_refused += why != NULL;
                failures += why == NULL;
            } else if (tc == 367 || tc == 370) {
                assert_string_equal(jws, case_jws(g, 357));
                contested_same += why == NULL;
                failures += why != NULL;
            } else if ((valid && why == NULL) || (!valid && why != NULL)) {
                wp_count_label(&ok, t);
            } else {
                failures++;
                printf("tcId %ld: %s, encoding %s%s\n", tc, wp_str(t, "result"),
                       why ? "refused at " : "accepted", why ? why : "");
            }
        }
    }
    printf("json_web_signature, base64 group (shape checks): %zu valid encodings accepted, %zu "
           "invalid refused by their encoding; contested: %zu valid with '?' inserted refused, "
           "%zu invalid identical to the valid tcId 357 accepted; %zu failures\n",
           ok.valid, ok.invalid, contested_refused, contested_same, failures);
    assert_int_equal(failures, 0);
    assert_int_equal(contested_refused, 2);
    assert_int_equal(contested_same, 2);
    assert_int_equal(ok.valid, 5);
    assert_int_equal(ok.invalid, 12);
    json_decref(root);
}

typedef struct {
    jwt_key *keys[8];
    size_t n;
} ring;

static const jwt_key *ring_lookup(void *ctx, const char *kid)
{
    ring *r = ctx;
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(jwt_key_kid(r->keys[i]), kid) == 0)
            return r->keys[i];
    return NULL;
}

/* (c) json_web_key_test.json: each group is a key set. Every key is offered
 * to jwt_key_import_public (kid from the JWK), and each token is verified
 * against the keys that imported. Our import takes only EC P-256 keys whose
 * alg (if any) is ES256, use (if any) "sig" and key_ops (if any) include
 * "verify", on a valid point; so wrong_algorithm (ES521), invalid_algorithm
 * (ES224), invalid_use, invalid_point, wrong_curve and wrong_kty import
 * nothing, and their ES256 tokens - correctly signed for the original key -
 * fail as "unknown kid". Rule as in (b): invalid tokens must fail before the
 * payload stage. The labelled-valid cases (tcId 2, 5, 13-15) use HS256/384/
 * 512 or RS256 keys, which are never session-token keys: import refuses
 * them, so they are rejected and counted as out of scope. */
static void test_json_web_key(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_key_test.json"), *g, *t, *key;
    size_t gi, ti, ki, total = 0, imported = 0, offered = 0, invalid_rejected = 0,
                       valid_out_of_scope = 0, failures = 0;

    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *set = json_object_get(g, "public");
        if (set == NULL)
            set = json_object_get(g, "private");
        ring r = {.n = 0};
        json_array_foreach(json_object_get(set, "keys"), ki, key)
        {
            const char *kid = wp_str(key, "kid") ? wp_str(key, "kid") : "none";
            jwt_key *k = import_jwk(key, kid);
            offered++;
            if (k != NULL && r.n < 8) {
                r.keys[r.n++] = k;
                imported++;
            } else {
                jwt_key_free(k);
            }
        }
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            long tc = wp_tc(t);
            int valid = strcmp(wp_str(t, "result"), "valid") == 0;
            int reached = reaches_payload(wp_str(t, "jws"), ring_lookup, &r, tc);
            total++;
            if (!valid && !reached)
                invalid_rejected++;
            else if (valid && !reached && r.n == 0)
                valid_out_of_scope++;
            else {
                failures++;
                printf("tcId %ld: %s, reached payload: %d\n", tc, valid ? "valid" : "invalid",
                       reached);
            }
        }
        for (size_t i = 0; i < r.n; i++)
            jwt_key_free(r.keys[i]);
    }
    printf("json_web_key: %zu tests, %zu of %zu keys imported as ES256; %zu invalid rejected, "
           "%zu labelled valid out of scope (HMAC/RSA keys); %zu failures\n",
           total, imported, offered, invalid_rejected, valid_out_of_scope, failures);
    assert_int_equal(failures, 0);
    assert_int_equal(total, invalid_rejected + valid_out_of_scope);
    wp_assert_all_run(root, NULL, (wp_labels){valid_out_of_scope, invalid_rejected, 0});
    /* Only the EC key of jws_mixedSymmetryKeyset is a usable ES256 key. */
    assert_int_equal(imported, 1);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecdsa_p1363),
        cmocka_unit_test(test_json_web_signature),
        cmocka_unit_test(test_json_web_key),
        cmocka_unit_test(test_json_web_crypto_jws),
        cmocka_unit_test(test_json_web_signature_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
