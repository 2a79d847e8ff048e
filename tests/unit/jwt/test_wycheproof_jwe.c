/* test_wycheproof_jwe.c - Project Wycheproof's JWE vectors against
 * Tessera's verifiers, which accept JWS only:
 *
 * (a) json_web_encryption_test.json, all 139 cases;
 * (b) the 34 JWE cases of json_web_crypto_test.json (tcId 50-83; its 49
 *     JWS cases run in test_wycheproof.c and test_wycheproof_rsa.c, and
 *     this file checks that the two parts cover the whole file).
 *
 * Decision. Session tokens and identity-provider tokens are compact JWS
 * (DESIGN.md section 3; RFC 8693 subject tokens here are signed JWTs), and
 * Tessera holds no decryption key, so nothing in these files applies as
 * decryption: a JWE, valid or not, must be refused by both verifiers as not
 * being a JWS. RFC 7519 7.2 tells JWS from JWE by the number of segments;
 * RFC 8725 3.1 (use only the algorithms the caller allows) covers the key
 * management algs. What does apply, and is tested for every case:
 *
 *  - the token as sent (5-part compact; 4 or 1 parts for the "missing
 *    separator" cases; JSON serialization sent as its text): jws_verify
 *    and jws_verify_external must both refuse it as malformed, before any
 *    header is read;
 *  - its protected header put in a JWS shape (header.e30.<64 zero bytes>),
 *    as an attacker could: refused at the alg check ("RSA-OAEP", "dir",
 *    "ECDH-ES+A128KW"... are not signature algorithms; the "epk" JWK some
 *    carry is never used), or earlier when the header is empty or was
 *    deliberately corrupted (the "ModifiedHeader" cases);
 *  - every group's key (use "enc", JWE algs, also P-384 and "oct" keys):
 *    refused by jwks_parse ("no usable signing key") and by
 *    jwt_key_import_public for each algorithm we have.
 *
 * So each label maps to "refused": valid JWEs are out of scope, invalid
 * ones are refused for the same reason. Not applicable at all, and not
 * tested: decryption results ("pt"), the key-wrapping, padding-oracle
 * (RSA1_5, "ModifiedPkcs15Padding"), invalid-curve ("epk") and
 * compression cases - they test a decrypting library, and Tessera has
 * none (no JWE code path exists to reach). */
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
#include "jwt/jws_external.h"
#include "jwt_test_keys.h"
#include "wycheproof.h"

/* The verifiers' keys: the session ES256 key and an identity provider's
 * set with an EC and an RSA key (json_web_crypto's jws_ec and jws_rsa). */
typedef struct {
    jwt_key *es256;
    jwks_set *idp;
} verifiers;

typedef struct {
    wp_labels malformed;  /* the JWE as sent, refused as malformed by both */
    size_t header_at_alg; /* its header in a JWS shape, refused at the alg check */
    size_t header_broken; /* ... refused earlier: empty or corrupted header */
    size_t keys_refused;  /* group keys refused by jwks_parse and every import */
} jwe_counts;

static const jwt_key *lookup_any(void *ctx, const char *kid)
{
    (void)kid;
    return ctx;
}

/* The "public" key of the json_web_crypto group with this comment. */
static const json_t *crypto_key(const json_t *root, const char *comment)
{
    const json_t *g;
    size_t gi;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        if (strcmp(wp_str(g, "comment"), comment) == 0)
            return json_object_get(g, "public");
    }
    fail_msg("no group %s", comment);
    return NULL;
}

static verifiers verifiers_new(void)
{
    json_t *root = wp_load("json_web_crypto_test.json");
    const json_t *ec = crypto_key(root, "jws_ec"), *rsa = crypto_key(root, "jws_rsa");
    char *s = json_dumps(ec, JSON_COMPACT);
    err_t e;
    verifiers v;
    v.es256 = jwt_key_import_public(s, strlen(s), JWT_ALG_ES256, wp_str(ec, "kid"), &e);
    assert_non_null(v.es256);
    free(s);
    json_t *set = json_pack("{s:[O,O]}", "keys", ec, rsa);
    v.idp = wp_idp_set(set, &e);
    assert_non_null(v.idp);
    assert_int_equal(jwks_set_count(v.idp), 2);
    json_decref(set);
    json_decref(root);
    return v;
}

static void verifiers_free(verifiers *v)
{
    jwt_key_free(v->es256);
    jwks_free(v->idp);
}

/* Both verifiers must refuse tok (and the external one must not ask for a
 * JWKS refetch); returns 1 when their details are session_ok and
 * subject_ok, 0 when either is another. */
static int both_refuse(const verifiers *v, const char *tok, const char *session_ok,
                       const char *subject_ok, long tc)
{
    err_t es, ex;
    int unknown_kid = -1;
    err_clear(&es);
    err_clear(&ex);
    json_t *j = jws_verify(tok, strlen(tok), lookup_any, v->es256, &es);
    if (j != NULL)
        fail_msg("tcId %ld: session verifier accepted a JWE", tc);
    j = jws_verify_external(tok, strlen(tok), v->idp, WP_IDP_ALGS, WP_NIDP_ALGS, &unknown_kid, &ex);
    if (j != NULL)
        fail_msg("tcId %ld: external verifier accepted a JWE", tc);
    assert_int_equal(es.cls, ERR_UNAUTHORIZED);
    assert_int_equal(ex.cls, ERR_UNAUTHORIZED);
    assert_int_equal(unknown_kid, 0);
    return strcmp(es.detail, session_ok) == 0 && strcmp(ex.detail, subject_ok) == 0;
}

/* The JWE's first segment as the header of a JWS with payload {} and a
 * 64-byte all-zero signature. Caller frees. */
static char *header_as_jws(const char *jwe)
{
    static const unsigned char zero_sig[64];
    const char *dot = strchr(jwe, '.');
    size_t hlen = dot != NULL ? (size_t)(dot - jwe) : strlen(jwe);
    buf_t b;
    buf_init(&b, JWS_MAX_LEN);
    assert_int_equal(buf_append(&b, jwe, hlen), 0);
    assert_int_equal(buf_puts(&b, ".e30."), 0);
    tk_append_b64(&b, zero_sig, sizeof(zero_sig));
    return buf_take(&b);
}

static void run_case(const verifiers *v, const json_t *t, jwe_counts *c)
{
    long tc = wp_tc(t);
    char *jwe = wp_token_text(t, "jwe");
    assert_non_null(jwe);
    if (!both_refuse(v, jwe, "session token is malformed", "subject token is malformed", tc))
        fail_msg("tcId %ld: JWE not refused as malformed", tc);
    wp_count_label(&c->malformed, t);

    char *hj = header_as_jws(jwe);
    /* A "ModifiedHeader" case renames "alg" to "Alg": no algorithm at all. */
    if (both_refuse(v, hj, "session token uses an unsupported algorithm",
                    "subject token algorithm is not allowed", tc) ||
        both_refuse(v, hj, "session token uses an unsupported algorithm",
                    "subject token has no algorithm", tc))
        c->header_at_alg++;
    else if (both_refuse(v, hj, "session token is malformed", "subject token is malformed", tc) ||
             both_refuse(v, hj, "session token header is not a valid JSON object",
                         "subject token header is not a valid JSON object", tc))
        c->header_broken++;
    else
        fail_msg("tcId %ld: JWE header in a JWS refused for another reason", tc);
    free(hj);
    free(jwe);
}

/* Every key of a group ("private" and "public", one JWK or a set): no
 * import path may make a verification key of it. */
static void assert_group_keys_refused(const json_t *g, jwe_counts *c)
{
    const char *which[] = {"private", "public"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *keys = json_object_get(g, which[i]), *k;
        size_t ki;
        err_t e;
        if (keys == NULL)
            continue;
        assert_null(wp_idp_set(keys, &e));
        assert_string_equal(e.detail, "JWKS has no usable signing key");
        json_t *list = json_object_get(keys, "keys") != NULL
                           ? json_incref(json_object_get(keys, "keys"))
                           : json_pack("[O]", keys);
        json_array_foreach(list, ki, k)
        {
            char *s = json_dumps(k, JSON_COMPACT);
            for (int a = JWT_ALG_ES256; a <= JWT_ALG_MAX; a++)
                assert_null(jwt_key_import_public(s, strlen(s), (jwt_alg)a, "jwe", &e));
            free(s);
            c->keys_refused++;
        }
        json_decref(list);
    }
}

/* Runs every JWE case of root (groups whose tests carry "jwe"). */
static void run_jwe_file(const json_t *root, jwe_counts *c)
{
    verifiers v = verifiers_new();
    const json_t *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        if (!wp_group_has(g, "jwe"))
            continue;
        assert_group_keys_refused(g, c);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            run_case(&v, t, c);
        }
    }
    verifiers_free(&v);
}

static void print_counts(const char *name, const jwe_counts *c)
{
    printf("%s: refused as malformed by both verifiers: %zu valid, %zu invalid, %zu acceptable; "
           "the header in a JWS shape: %zu refused at the alg check, %zu refused earlier "
           "(empty or corrupted header); %zu keys refused by jwks_parse and every import\n",
           name, c->malformed.valid, c->malformed.invalid, c->malformed.acceptable,
           c->header_at_alg, c->header_broken, c->keys_refused);
}

static void test_json_web_encryption(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_encryption_test.json");
    jwe_counts c = {0};
    run_jwe_file(root, &c);
    print_counts("json_web_encryption", &c);
    wp_assert_all_run(root, NULL, c.malformed);
    assert_int_equal(c.header_at_alg, 134);
    assert_int_equal(c.header_broken, 5); /* empty, JSON serialization, or not a JSON header */
    assert_int_equal(c.keys_refused, 42);
    json_decref(root);
}

static void test_json_web_crypto_jwe(void **state)
{
    (void)state;
    json_t *root = wp_load("json_web_crypto_test.json");
    jwe_counts c = {0};
    run_jwe_file(root, &c);
    print_counts("json_web_crypto (JWE cases)", &c);
    wp_assert_all_run(root, "jwe", c.malformed);
    assert_int_equal(c.malformed.valid + c.malformed.invalid, 34);
    assert_int_equal(c.header_at_alg, 29);
    /* Every case is either a JWS case (run by the other two files) or a JWE
     * case (run here), never both: together they are the whole file. */
    wp_labels jws = wp_count_labels(root, "jws");
    assert_int_equal(jws.valid + jws.invalid + jws.acceptable + 34,
                     json_integer_value(json_object_get(root, "numberOfTests")));
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_web_encryption),
        cmocka_unit_test(test_json_web_crypto_jwe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
