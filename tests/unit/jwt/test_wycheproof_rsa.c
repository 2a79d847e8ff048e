/* test_wycheproof_rsa.c - Project Wycheproof vectors against the RSA and
 * external-token code (test_wycheproof.c covers the ES256 session path).
 *
 * (a) rsa_signature_2048_sha256_test.json through jws_verify_signature,
 *     each key imported by jwt_key_import_public (RS256) and by jwks_parse;
 * (b) json_web_signature_test.json: every group's key published as a JWKS
 *     (jwks_parse) and every token through jws_verify_external;
 * (c) json_web_key_test.json: every group's key set through jwks_parse and
 *     every token through jws_verify_external; the RSA key rules (ROCA,
 *     1024 bits, e = 1) checked at import as well;
 * (d) the JWS cases of json_web_crypto_test.json as in (b).
 * Each part prints its counts. How labels map to our rules is written where
 * each file is read. */
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
#include "jwt/jwks.h"
#include "jwt/jws.h"
#include "jwt/jws_external.h"
#include "wycheproof.h"

/* jws_verify_external's detail once header, kid, alg, strict base64url and
 * the signature have all passed and only the payload was refused (every
 * payload in these files is "foo", "Test" or similar, never an object). */
#define PAYLOAD_STAGE "subject token payload is not a valid JSON object"

/* Appends the base64urlUInt of a Wycheproof hex integer (two's complement,
 * so it may carry leading zero octets, which a JWK must not). */
static void append_uint_b64(buf_t *b, const char *hex)
{
    size_t n;
    unsigned char *raw = wp_hex_decode_new(hex, &n), *p = raw;
    while (n > 1 && *p == 0) {
        p++;
        n--;
    }
    char *enc = malloc(b64url_encoded_len(n) + 1);
    b64url_encode(p, n, enc);
    buf_puts(b, enc);
    free(enc);
    free(raw);
}

static jwt_key *import_json(const json_t *jwk, jwt_alg alg, err_t *e)
{
    char *s = json_dumps(jwk, JSON_COMPACT);
    assert_non_null(s);
    err_clear(e);
    jwt_key *k = jwt_key_import_public(s, strlen(s), alg, "wycheproof", e);
    free(s);
    return k;
}

/* The group's key from publicKey.modulus/publicExponent, as a JWK. */
static jwt_key *import_modulus(const json_t *pub)
{
    buf_t b;
    err_t e;
    buf_init(&b, 1 << 16);
    buf_puts(&b, "{\"kty\":\"RSA\",\"n\":\"");
    append_uint_b64(&b, wp_str(pub, "modulus"));
    buf_puts(&b, "\",\"e\":\"");
    append_uint_b64(&b, wp_str(pub, "publicExponent"));
    buf_puts(&b, "\"}");
    jwt_key *k = jwt_key_import_public(b.data, b.len, JWT_ALG_RS256, "wycheproof", &e);
    if (k == NULL)
        fail_msg("modulus import refused: %s", e.detail);
    buf_free(&b);
    return k;
}

static void assert_same_public_key(const jwt_key *a, const jwt_key *b)
{
    buf_t ea, eb;
    buf_init(&ea, 1 << 16);
    buf_init(&eb, 1 << 16);
    assert_int_equal(jwt_key_export_public(a, &ea), 0);
    assert_int_equal(jwt_key_export_public(b, &eb), 0);
    assert_string_equal(ea.data, eb.data);
    buf_free(&ea);
    buf_free(&eb);
}

static int has_flag(const json_t *t, const char *flag)
{
    const json_t *v;
    size_t i;
    json_array_foreach(json_object_get(t, "flags"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), flag) == 0)
            return 1;
    }
    return 0;
}

/* The keys jwks_parse makes of a group's keyJwk, as an identity provider
 * would publish it: *rs256 from the JWK as it is ("alg":"RS256", so it
 * must have no PS256 pin), *ps256 from the JWK without "alg" (imported
 * for both RSA algorithms). Both sets go to sets[2] (caller frees). */
static void idp_keys(const json_t *jwk, jwks_set *sets[2], const jwt_key **rs256,
                     const jwt_key **ps256)
{
    err_t e;
    const char *kid = wp_str(jwk, "kid");
    json_t *no_alg = json_deep_copy(jwk);
    assert_int_equal(json_object_del(no_alg, "alg"), 0);
    sets[0] = wp_idp_set(jwk, &e);
    sets[1] = wp_idp_set(no_alg, &e);
    assert_non_null(sets[0]);
    assert_non_null(sets[1]);
    *rs256 = jwks_find(sets[0], kid, JWT_ALG_RS256);
    assert_non_null(*rs256);
    assert_null(jwks_find(sets[0], kid, JWT_ALG_PS256));
    *ps256 = jwks_find(sets[1], kid, JWT_ALG_PS256);
    assert_non_null(*ps256);
    json_decref(no_alg);
}

/* (a) RSASSA-PKCS1-v1_5 with SHA-256 (RS256), 2048-bit keys.
 *
 * Keys: each group's keyJwk, which must equal the key built from
 * publicKey.modulus/publicExponent. Two groups use e = 3 ("SmallPublicKey",
 * labelled valid): our import takes any odd e >= 3, so they verify. Each
 * vector is checked with the key imported directly and with the RS256 key
 * jwks_parse makes of the same JWK (the identity-provider path); both must
 * give the expected answer. The same key published without "alg" is also
 * pinned to PS256: under that pin every vector, valid ones included, must
 * be rejected (a PKCS #1 v1.5 signature is never a PSS one), except a
 * real PSS signature: tcId 255-257 ("WrongPrimitive", labelled invalid for
 * RS256) are RSASSA-PSS signatures, and exactly one of them, tcId 257,
 * uses the PS256 parameters (SHA-256, MGF1-SHA-256, 32-byte salt) and must
 * verify under that pin - a cross-check of our PSS settings.
 * Decision on "acceptable": the one such case (tcId 8, "MissingNull": a
 * DigestInfo without the NULL parameters) must be rejected. RFC 8017 9.2
 * has exactly one encoding per digest and OpenSSL compares the whole
 * encoded block, so no legacy encoding is ever accepted. Signatures must
 * be exactly as long as the modulus. */
static void test_rsa_pkcs1_sha256(void **state)
{
    (void)state;
    json_t *root = wp_load("rsa_signature_2048_sha256_test.json"), *g, *t;
    size_t gi, ti, failures = 0, ps256_rejected = 0, ps256_accepted = 0;
    wp_labels ok = {0, 0, 0}; /* cases answered as expected, per label */

    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        err_t e;
        jwks_set *sets[2];
        const jwt_key *ext, *ext_ps;
        jwt_key *k = import_json(json_object_get(g, "keyJwk"), JWT_ALG_RS256, &e);
        if (k == NULL)
            fail_msg("group %zu: keyJwk refused: %s", gi, e.detail);
        jwt_key *k2 = import_modulus(json_object_get(g, "publicKey"));
        assert_same_public_key(k, k2);
        jwt_key_free(k2);
        idp_keys(json_object_get(g, "keyJwk"), sets, &ext, &ext_ps);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            size_t mlen, slen;
            const char *result = wp_str(t, "result");
            unsigned char *msg = wp_hex_decode_new(wp_str(t, "msg"), &mlen);
            unsigned char *sig = wp_hex_decode_new(wp_str(t, "sig"), &slen);
            int got = jws_verify_signature(k, msg, mlen, sig, slen);
            int got_ext = jws_verify_signature(ext, msg, mlen, sig, slen);
            int want = strcmp(result, "valid") == 0;
            if (!jws_verify_signature(ext_ps, msg, mlen, sig, slen)) {
                ps256_rejected++;
            } else if (has_flag(t, "WrongPrimitive")) {
                ps256_accepted++;
            } else {
                failures++;
                printf("tcId %ld: %s, accepted under the PS256 pin\n", wp_tc(t), result);
            }
            if (got != want || got_ext != want) {
                failures++;
                printf("tcId %ld: %s, direct key %s, IdP key %s\n", wp_tc(t), result,
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
        jwks_free(sets[0]);
        jwks_free(sets[1]);
        jwt_key_free(k);
    }
    printf("rsa_signature_2048_sha256: with the direct and the JWKS key: %zu valid accepted, %zu "
           "invalid rejected, %zu acceptable rejected, %zu failures; under the PS256 pin of the "
           "same keys: %zu rejected, %zu PSS (WrongPrimitive) accepted\n",
           ok.valid, ok.invalid, ok.acceptable, failures, ps256_rejected, ps256_accepted);
    assert_int_equal(failures, 0);
    wp_assert_all_run(root, NULL, ok);
    assert_int_equal(ok.valid, 9);
    assert_int_equal(ok.invalid, 249);
    assert_int_equal(ok.acceptable, 1);
    assert_int_equal(ps256_accepted, 1);
    assert_int_equal(ps256_rejected + ps256_accepted, ok.valid + ok.invalid + ok.acceptable);
    json_decref(root);
}

typedef struct {
    size_t total;
    size_t valid_ok;         /* every check passed; payload refused as not JSON */
    size_t valid_empty;      /* empty payload refused as malformed, raw signature good */
    size_t valid_key_scope;  /* the set was refused: HMAC, ES512, RS384 ... keys */
    size_t valid_alg_scope;  /* header alg outside RS256/PS256/ES256 */
    size_t invalid_rejected; /* refused before the payload stage */
    size_t invalid_by_set;   /* of which: the set itself was refused */
    size_t failures;
} ext_counts;

/* 1 when the key (or every key of the set) is of a type or algorithm we do
 * not verify at all, so a refused set is out of scope, not a bug. */
static int key_out_of_scope(const json_t *key)
{
    const char *kty = wp_str(key, "kty"), *alg = wp_str(key, "alg");
    if (kty == NULL || (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0))
        return 1;
    return alg != NULL && jwt_alg_from_name(alg) == 0;
}

static int set_out_of_scope(const json_t *keys)
{
    const json_t *arr = json_object_get(keys, "keys"), *k;
    size_t i;
    if (arr == NULL)
        return key_out_of_scope(keys);
    json_array_foreach(arr, i, k)
    {
        if (!key_out_of_scope(k))
            return 0;
    }
    return 1;
}

/* The decoded protected header of a compact token, or NULL. */
static json_t *token_header(const char *jws)
{
    const char *dot = strchr(jws, '.');
    unsigned char raw[2048];
    size_t n;
    if (dot == NULL || dot - jws > 2000 || b64url_decode(jws, (size_t)(dot - jws), raw, &n) != 0)
        return NULL;
    return json_loadb((const char *)raw, n, 0, NULL);
}

/* 1 when the header's alg is one we never verify (RS384, PS512, HS256...). */
static int alg_out_of_scope(const char *jws)
{
    json_t *h = token_header(jws);
    int out = h != NULL && jwt_alg_from_name(wp_str(h, "alg")) == 0;
    json_decref(h);
    return out;
}

/* The raw signature of a compact token, checked with the set's key for its
 * header's kid and alg (for tokens whose empty payload we refuse). */
static int raw_signature_ok(const jwks_set *set, const char *jws)
{
    json_t *h = token_header(jws);
    const char *dot = strrchr(jws, '.');
    unsigned char sig[1100];
    size_t n;
    int ok = 0;
    if (h != NULL && dot != NULL && strlen(dot + 1) <= 1400 &&
        b64url_decode(dot + 1, strlen(dot + 1), sig, &n) == 0) {
        const jwt_key *k = jwks_find(set, wp_str(h, "kid"), jwt_alg_from_name(wp_str(h, "alg")));
        ok = k != NULL && jws_verify_signature(k, jws, (size_t)(dot - jws), sig, n);
    }
    json_decref(h);
    return ok;
}

/* Runs one token; returns 1 when it got past every check but the payload,
 * 0 when refused earlier (accepting outright is impossible here). */
static int reaches_payload(const char *jws, const jwks_set *set, long tc)
{
    err_t e;
    err_clear(&e);
    json_t *j = jws_verify_external(jws, strlen(jws), set, WP_IDP_ALGS, WP_NIDP_ALGS, NULL, &e);
    if (j != NULL) {
        json_decref(j);
        fail_msg("tcId %ld: accepted outright", tc);
    }
    assert_int_equal(e.cls, ERR_UNAUTHORIZED);
    return strcmp(e.detail, PAYLOAD_STAGE) == 0;
}

/* Classifies one labelled-valid token (see the comments of (b) and (c)). */
static void count_valid(ext_counts *c, const jwks_set *set, const json_t *keys, const char *jws,
                        long tc)
{
    const char *dot1 = strchr(jws, '.');
    int empty_payload = dot1 != NULL && dot1[1] == '.';
    if (set == NULL && set_out_of_scope(keys))
        c->valid_key_scope++;
    else if (set != NULL && reaches_payload(jws, set, tc) && raw_signature_ok(set, jws))
        c->valid_ok++;
    else if (alg_out_of_scope(jws))
        c->valid_alg_scope++;
    else if (set != NULL && empty_payload && raw_signature_ok(set, jws))
        c->valid_empty++;
    else {
        c->failures++;
        printf("tcId %ld: valid, refused\n", tc);
    }
}

static void count_invalid(ext_counts *c, const jwks_set *set, const char *jws, long tc)
{
    if (set == NULL) {
        c->invalid_rejected++;
        c->invalid_by_set++;
    } else if (!reaches_payload(jws, set, tc)) {
        c->invalid_rejected++;
    } else {
        c->failures++;
        printf("tcId %ld: invalid, reached the payload stage\n", tc);
    }
}

/* Runs every test of a group against the set made of its key(s). */
static void run_group(const json_t *g, const json_t *keys, ext_counts *c)
{
    err_t e;
    jwks_set *set = wp_idp_set(keys, &e);
    const json_t *t;
    size_t ti;
    json_array_foreach(json_object_get(g, "tests"), ti, t)
    {
        long tc = wp_tc(t);
        const char *result = wp_str(t, "result");
        char *jws = wp_token_text(t, "jws"); /* JSON serialization: its text */
        c->total++;
        assert_non_null(jws);
        if (strcmp(result, "valid") == 0)
            count_valid(c, set, keys, jws, tc);
        else if (strcmp(result, "invalid") == 0)
            count_invalid(c, set, jws, tc);
        else
            fail_msg("tcId %ld: unexpected label %s", tc, result);
        free(jws);
    }
    jwks_free(set);
}

/* Runs every JWS group of a JSON Web file, each against the set made of
 * its "public" key(s), else its "private" ones (JWE groups are left to
 * test_wycheproof_jwe.c). */
static void run_file(const json_t *root, ext_counts *c)
{
    const json_t *g;
    size_t gi;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *keys = json_object_get(g, "public");
        if (!wp_group_has(g, "jws"))
            continue;
        run_group(g, keys != NULL ? keys : json_object_get(g, "private"), c);
    }
}

/* The counts per label: every case lands in exactly one of these. */
static wp_labels ext_labels(const ext_counts *c)
{
    wp_labels l = {c->valid_ok + c->valid_empty + c->valid_key_scope + c->valid_alg_scope,
                   c->invalid_rejected, 0};
    assert_int_equal(l.valid + l.invalid, c->total);
    return l;
}

static void print_counts(const char *name, const ext_counts *c)
{
    printf("%s: %zu tests: valid: %zu passed every check but the non-JSON payload, %zu empty "
           "payload refused (raw signature good), %zu key type/alg out of scope, %zu header alg "
           "out of scope; invalid: %zu rejected (%zu because the key set was refused); %zu "
           "failures\n",
           name, c->total, c->valid_ok, c->valid_empty, c->valid_key_scope, c->valid_alg_scope,
           c->invalid_rejected, c->invalid_by_set, c->failures);
}

/* (b) json_web_signature_test.json. Each group's key ("public", else
 * "private") is published alone as a JWKS and parsed with RS256, PS256 and
 * ES256 allowed; every token goes through jws_verify_external.
 *
 *  - valid: must pass every check and be refused only for its non-JSON
 *    payload (PAYLOAD_STAGE), with the raw signature checked separately.
 *    Out of scope, and counted as such: keys we never verify with (HMAC,
 *    P-521, RS384/RS512/PS384/PS512 keys: the set is refused), the RFC
 *    7520 figure-20 tokens whose header says PS384 under a PS256 key
 *    (contested label; we refuse any alg we do not implement), tcId 372/373
 *    (HMAC, and '?' inside base64url), and an empty payload segment
 *    (tcId 259, 272 ...), which we refuse as malformed because no token of
 *    ours has an empty payload; its raw signature must still verify.
 *  - invalid: must be refused before the payload stage (or the set
 *    refused: "use":"enc", "key_ops":["encrypt"]), so no invalid case
 *    passes merely because its payload is not JSON. */
static void test_json_web_signature(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_signature_test.json");
    ext_counts c = {0};
    run_file(root, &c);
    print_counts("json_web_signature (external)", &c);
    assert_int_equal(c.failures, 0);
    wp_assert_all_run(root, NULL, ext_labels(&c));
    /* RS256: 33, 260-263, 345, 349; PS256: 273-275, 287, 288; ES256: 18, 378. */
    assert_int_equal(c.valid_ok, 14);
    assert_int_equal(c.valid_empty, 2);
    json_decref(root);
}

/* (c) json_web_key_test.json: each group's key set through jwks_parse and
 * each token through jws_verify_external, with the rules of (b). The RSA
 * groups: tcId 5 (RS256) must pass every check; 6 ("use":"enc"), 7 (a ROCA
 * modulus), 8 (1024 bits) and 9 (e = 1) must be refused - each of their
 * sets holds no usable key, and the reason is checked at import below. The
 * labelled-valid HMAC cases are out of scope. */
static void test_json_web_key(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_key_test.json");
    ext_counts c = {0};
    run_file(root, &c);
    print_counts("json_web_key (external)", &c);
    assert_int_equal(c.failures, 0);
    wp_assert_all_run(root, NULL, ext_labels(&c));
    assert_int_equal(c.valid_ok, 1);
    json_decref(root);
}

/* (d) json_web_crypto_test.json, its 49 JWS cases (the 34 JWE cases are
 * test_wycheproof_jwe.c's), with the rules of (b). tcId 33 (RS256) and 18
 * (ES256) must pass every check; tcId 46, signed with a ROCA modulus, is
 * refused because its set is (the key is refused at import); tcId 17, a
 * JSON-serialized JWS stored as an object, is sent as its JSON text and
 * refused as malformed; the HMAC sets (tcId 1-17, 48, 49) are out of scope
 * or refused, and tcId 47's mixed set keeps only its EC key, under which
 * the HS256 token is refused at the alg check. */
static void test_json_web_crypto_jws(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_crypto_test.json");
    ext_counts c = {0};
    run_file(root, &c);
    print_counts("json_web_crypto, JWS cases (external)", &c);
    assert_int_equal(c.failures, 0);
    wp_assert_all_run(root, "jws", ext_labels(&c));
    assert_int_equal(c.total, 49);
    assert_int_equal(c.valid_ok, 2);
    json_decref(root);
}

/* The first key with this kid in any group's set of json_web_key_test. */
static const json_t *find_key(const json_t *root, const char *kid)
{
    const json_t *g, *k;
    size_t gi, ki;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *set = json_object_get(g, "public");
        json_array_foreach(json_object_get(set, "keys"), ki, k)
        {
            const char *e = wp_str(k, "e");
            if (wp_str(k, "kid") != NULL && strcmp(wp_str(k, "kid"), kid) == 0 &&
                (strcmp(kid, "RS256_2048") != 0 || (e != NULL && strcmp(e, "AQ") == 0)))
                return k;
        }
    }
    fail_msg("no key %s", kid);
    return NULL;
}

/* Each refused RSA key of (c) is refused for the reason the test names. */
static void test_rsa_key_reasons(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_key_test.json");
    const struct {
        const char *kid, *why;
    } cases[] = {
        {"kid-rsa-roca-sign", "ROCA"},
        {"RS256_1024", "2048 to 8192 bits"},
        {"RS256_2048", "exponent"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err_t e;
        jwt_key *k = import_json(find_key(root, cases[i].kid), JWT_ALG_RS256, &e);
        assert_null(k);
        if (strstr(e.detail, cases[i].why) == NULL)
            fail_msg("%s: detail \"%s\" lacks \"%s\"", cases[i].kid, e.detail, cases[i].why);
    }
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsa_pkcs1_sha256),
        cmocka_unit_test(test_json_web_signature),
        cmocka_unit_test(test_json_web_key),
        cmocka_unit_test(test_rsa_key_reasons),
        cmocka_unit_test(test_json_web_crypto_jws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
