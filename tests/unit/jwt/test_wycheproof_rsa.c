/* test_wycheproof_rsa.c - Project Wycheproof vectors against the RSA and
 * external-token code (test_wycheproof.c covers the ES256 session path).
 *
 * (a) rsa_signature_2048_sha256_test.json through jwt_key_import_public
 *     (RS256) and jws_verify_signature;
 * (b) json_web_signature_test.json: every group's key published as a JWKS
 *     (jwks_parse) and every token through jws_verify_external;
 * (c) json_web_key_test.json: every group's key set through jwks_parse and
 *     every token through jws_verify_external; the RSA key rules (ROCA,
 *     1024 bits, e = 1) checked at import as well.
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
#include "core/hex.h"
#include "jwt/b64url.h"
#include "jwt/jwk.h"
#include "jwt/jwks.h"
#include "jwt/jws.h"
#include "jwt/jws_external.h"

/* jws_verify_external's detail once header, kid, alg, strict base64url and
 * the signature have all passed and only the payload was refused (every
 * payload in these files is "foo", "Test" or similar, never an object). */
#define PAYLOAD_STAGE "subject token payload is not a valid JSON object"

static const jwt_alg ALL[] = {JWT_ALG_RS256, JWT_ALG_PS256, JWT_ALG_ES256};

static json_t *load(const char *name)
{
    char path[1024];
    json_error_t je;
    snprintf(path, sizeof(path), "%s/%s", TESSERA_VECTORS_DIR, name);
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL)
        fail_msg("cannot load %s: %s", path, je.text);
    return root;
}

static const char *str_member(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* Decodes hex into a new buffer (caller frees); *n gets the length. */
static unsigned char *hex_decode_new(const char *hex, size_t *n)
{
    size_t len = strlen(hex);
    assert_int_equal(len % 2, 0);
    unsigned char *out = malloc(len / 2 + 1);
    assert_non_null(out);
    assert_int_equal(hex_decode(hex, out, len / 2), 0);
    *n = len / 2;
    return out;
}

/* Appends the base64urlUInt of a Wycheproof hex integer (two's complement,
 * so it may carry leading zero octets, which a JWK must not). */
static void append_uint_b64(buf_t *b, const char *hex)
{
    size_t n;
    unsigned char *raw = hex_decode_new(hex, &n), *p = raw;
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
    append_uint_b64(&b, str_member(pub, "modulus"));
    buf_puts(&b, "\",\"e\":\"");
    append_uint_b64(&b, str_member(pub, "publicExponent"));
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

/* (a) RSASSA-PKCS1-v1_5 with SHA-256 (RS256), 2048-bit keys.
 *
 * Keys: each group's keyJwk, which must equal the key built from
 * publicKey.modulus/publicExponent. Two groups use e = 3 ("SmallPublicKey",
 * labelled valid): our import takes any odd e >= 3, so they verify.
 * Decision on "acceptable": the one such case (tcId 8, "MissingNull": a
 * DigestInfo without the NULL parameters) must be rejected. RFC 8017 9.2
 * has exactly one encoding per digest and OpenSSL compares the whole
 * encoded block, so no legacy encoding is ever accepted. Signatures must
 * be exactly as long as the modulus. */
static void test_rsa_pkcs1_sha256(void **state)
{
    (void)state;
    json_t *root = load("rsa_signature_2048_sha256_test.json"), *g, *t;
    size_t gi, ti, total = 0, valid_ok = 0, invalid_ok = 0, acceptable_rejected = 0, failures = 0;

    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        err_t e;
        jwt_key *k = import_json(json_object_get(g, "keyJwk"), JWT_ALG_RS256, &e);
        if (k == NULL)
            fail_msg("group %zu: keyJwk refused: %s", gi, e.detail);
        jwt_key *k2 = import_modulus(json_object_get(g, "publicKey"));
        assert_same_public_key(k, k2);
        jwt_key_free(k2);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            size_t mlen, slen;
            const char *result = str_member(t, "result");
            unsigned char *msg = hex_decode_new(str_member(t, "msg"), &mlen);
            unsigned char *sig = hex_decode_new(str_member(t, "sig"), &slen);
            int ok = jws_verify_signature(k, msg, mlen, sig, slen);
            int want = strcmp(result, "valid") == 0;
            total++;
            if (ok != want) {
                failures++;
                printf("tcId %ld: %s, %s\n", (long)json_integer_value(json_object_get(t, "tcId")),
                       result, ok ? "accepted" : "rejected");
            } else if (want) {
                valid_ok++;
            } else if (strcmp(result, "invalid") == 0) {
                invalid_ok++;
            } else {
                acceptable_rejected++;
            }
            free(msg);
            free(sig);
        }
        jwt_key_free(k);
    }
    printf("rsa_signature_2048_sha256: %zu tests: %zu valid accepted, %zu invalid rejected, "
           "%zu acceptable rejected, %zu failures\n",
           total, valid_ok, invalid_ok, acceptable_rejected, failures);
    assert_int_equal(total, json_integer_value(json_object_get(root, "numberOfTests")));
    assert_int_equal(failures, 0);
    assert_int_equal(valid_ok, 9);
    assert_int_equal(invalid_ok, 249);
    assert_int_equal(acceptable_rejected, 1);
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

/* The JWK Set text for a group: its "keys" set, or its single key. */
static jwks_set *group_set(const json_t *keys)
{
    err_t e;
    json_t *root = json_object_get(keys, "keys") != NULL ? json_incref((json_t *)keys)
                                                         : json_pack("{s:[O]}", "keys", keys);
    char *s = json_dumps(root, JSON_COMPACT);
    jwks_set *set = jwks_parse(s, strlen(s), ALL, 3, &e);
    free(s);
    json_decref(root);
    return set;
}

/* 1 when the key (or every key of the set) is of a type or algorithm we do
 * not verify at all, so a refused set is out of scope, not a bug. */
static int key_out_of_scope(const json_t *key)
{
    const char *kty = str_member(key, "kty"), *alg = str_member(key, "alg");
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
    int out = h != NULL && jwt_alg_from_name(str_member(h, "alg")) == 0;
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
        const jwt_key *k =
            jwks_find(set, str_member(h, "kid"), jwt_alg_from_name(str_member(h, "alg")));
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
    json_t *j = jws_verify_external(jws, strlen(jws), set, ALL, 3, NULL, &e);
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
    jwks_set *set = group_set(keys);
    const json_t *t;
    size_t ti;
    json_array_foreach(json_object_get(g, "tests"), ti, t)
    {
        long tc = (long)json_integer_value(json_object_get(t, "tcId"));
        const char *jws = str_member(t, "jws"), *result = str_member(t, "result");
        c->total++;
        assert_non_null(jws); /* every token in these files is compact */
        if (strcmp(result, "valid") == 0)
            count_valid(c, set, keys, jws, tc);
        else if (strcmp(result, "invalid") == 0)
            count_invalid(c, set, jws, tc);
        else
            fail_msg("tcId %ld: unexpected label %s", tc, result);
    }
    jwks_free(set);
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
    json_t *root = load("json_web_signature_test.json"), *g;
    ext_counts c = {0};
    size_t gi;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *key = json_object_get(g, "public");
        run_group(g, key != NULL ? key : json_object_get(g, "private"), &c);
    }
    print_counts("json_web_signature (external)", &c);
    assert_int_equal(c.total, json_integer_value(json_object_get(root, "numberOfTests")));
    assert_int_equal(c.failures, 0);
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
    json_t *root = load("json_web_key_test.json"), *g;
    ext_counts c = {0};
    size_t gi;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *keys = json_object_get(g, "public");
        run_group(g, keys != NULL ? keys : json_object_get(g, "private"), &c);
    }
    print_counts("json_web_key (external)", &c);
    assert_int_equal(c.total, json_integer_value(json_object_get(root, "numberOfTests")));
    assert_int_equal(c.failures, 0);
    assert_int_equal(c.valid_ok, 1);
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
            const char *e = str_member(k, "e");
            if (str_member(k, "kid") != NULL && strcmp(str_member(k, "kid"), kid) == 0 &&
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
    json_t *root = load("json_web_key_test.json");
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
