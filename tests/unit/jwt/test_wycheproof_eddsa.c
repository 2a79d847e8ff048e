/* test_wycheproof_eddsa.c - Project Wycheproof's Ed25519 vectors
 * (ed25519_test.json) against Tessera's verifiers, which refuse EdDSA.
 *
 * Decision (read with RFC 7515 4.1.1 and RFC 8725 3.1/3.2). Tessera
 * verifies ES256 session tokens and RS256/PS256/ES256 identity-provider
 * tokens, nothing else: jwt_alg has no EdDSA and jwks_parse keeps only
 * "RSA" and "EC" keys. RFC 8725 3.1 requires the verifier to use only the
 * algorithms its caller allows, and RFC 7515 4.1.1 makes a JWS whose alg is
 * not supported, or has no key for it, invalid. So no vector can verify:
 * for Wycheproof "valid" means "a correct Ed25519 signature", and a correct
 * signature in an algorithm we do not offer must still be refused, at the
 * algorithm check, before any signature arithmetic. This test proves that
 * with every vector of the file, valid ones included, sent as an attacker
 * (or a misconfigured identity provider) would send it:
 *
 *  - the group's public key, an OKP/Ed25519 JWK, is refused at JWKS import
 *    (alone: "no usable signing key"; with "alg":"EdDSA" too) and by
 *    jwt_key_import_public for each algorithm we have; published next to
 *    an EC P-256 key under the same kid, it is skipped and only the EC key
 *    is kept, pinned to ES256;
 *  - each (msg, sig) made into header.payload.signature with the header
 *    {"alg":"EdDSA","kid":<the group's kid>}: jws_verify (the kid naming a
 *    real ES256 session key) must refuse it as "unsupported algorithm" and
 *    jws_verify_external (the mixed set above, RS256/PS256/ES256 allowed)
 *    as "algorithm EdDSA is not allowed", without asking for a JWKS
 *    refetch (*unknown_kid stays 0). A vector with an empty message or
 *    signature makes an empty segment, refused as malformed by both before
 *    the header is read (RFC 7515 allows an empty payload; no token of
 *    ours has one) - counted apart;
 *  - the same token relabelled {"alg":"ES256"} (an Ed25519 signature is 64
 *    bytes, like ES256's r || s): both verifiers must refuse it at the
 *    signature check.
 *
 * The signature in these tokens is over msg, not over the JWS signing
 * input, so even an EdDSA verifier would refuse them; what is tested is
 * that ours never gets that far. DESIGN.md section 3 also lists EdDSA as
 * selectable per deployment for session tokens: not implemented yet; when
 * it is, this file must require the valid vectors to verify. */
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

typedef struct {
    wp_labels at_alg;    /* EdDSA token refused at the alg check by both verifiers */
    wp_labels malformed; /* empty message or signature: refused as malformed by both */
    size_t relabelled;   /* ES256-relabelled token refused at the signature by both */
    size_t keys_refused; /* OKP keys refused by every import path */
} eddsa_counts;

static const jwt_key *lookup_any(void *ctx, const char *kid)
{
    (void)kid;
    return ctx;
}

/* A JWKS text {"keys":keys} (new string, caller frees); takes over keys. */
static char *jwks_text(json_t *keys)
{
    json_t *root = json_pack("{s:o}", "keys", keys);
    char *s = json_dumps(root, JSON_COMPACT);
    assert_non_null(s);
    json_decref(root);
    return s;
}

/* The OKP key must be refused by jwks_parse (alone, also with "alg":"EdDSA"
 * and "use":"sig") and by jwt_key_import_public for every jwt_alg. */
static void assert_okp_refused(const json_t *okp)
{
    err_t e;
    json_t *labelled = json_deep_copy(okp);
    json_object_set_new(labelled, "alg", json_string("EdDSA"));
    json_object_set_new(labelled, "use", json_string("sig"));
    const json_t *forms[] = {okp, labelled};
    for (size_t i = 0; i < 2; i++) {
        jwks_set *set = wp_idp_set(forms[i], &e);
        assert_null(set);
        assert_int_equal(e.cls, ERR_INVALID_REQUEST);
        assert_string_equal(e.detail, "JWKS has no usable signing key");
        char *s = json_dumps(forms[i], JSON_COMPACT);
        for (int a = JWT_ALG_ES256; a <= JWT_ALG_MAX; a++) {
            err_clear(&e);
            assert_null(jwt_key_import_public(s, strlen(s), (jwt_alg)a, "ed", &e));
            const char *want = a == JWT_ALG_ES256 ? "not an EC P-256 key" : "not an RSA key";
            if (strstr(e.detail, want) == NULL)
                fail_msg("OKP import as %s: \"%s\"", jwt_alg_name((jwt_alg)a), e.detail);
        }
        free(s);
    }
    json_decref(labelled);
}

/* The OKP key and our EC key under the OKP key's kid, as one JWKS: only
 * the EC key may survive, pinned to ES256. */
static jwks_set *mixed_set(const json_t *okp, const jwt_key *es256)
{
    buf_t b;
    err_t e;
    buf_init(&b, 4096);
    assert_int_equal(jwt_key_export_public(es256, &b), 0);
    json_t *ec = json_loads(b.data, 0, NULL);
    assert_non_null(ec);
    buf_free(&b);
    json_object_set_new(ec, "kid", json_string(wp_str(okp, "kid")));
    char *s = jwks_text(json_pack("[O,o]", okp, ec));
    jwks_set *set = jwks_parse(s, strlen(s), WP_IDP_ALGS, WP_NIDP_ALGS, &e);
    free(s);
    if (set == NULL)
        fail_msg("mixed set refused: %s", e.detail);
    assert_int_equal(jwks_set_count(set), 1);
    assert_non_null(jwks_find(set, wp_str(okp, "kid"), JWT_ALG_ES256));
    assert_null(jwks_find(set, wp_str(okp, "kid"), JWT_ALG_RS256));
    assert_null(jwks_find(set, wp_str(okp, "kid"), JWT_ALG_PS256));
    return set;
}

/* base64url({"alg":<alg>,"kid":<kid>}) "." base64url(msg) "." base64url(sig). */
static char *token(const char *alg, const char *kid, const unsigned char *msg, size_t mlen,
                   const unsigned char *sig, size_t slen)
{
    json_t *h = json_pack("{s:s,s:s}", "alg", alg, "kid", kid);
    char *hs = json_dumps(h, JSON_COMPACT);
    buf_t b;
    buf_init(&b, JWS_MAX_LEN);
    tk_append_b64(&b, hs, strlen(hs));
    assert_int_equal(buf_append(&b, ".", 1), 0);
    tk_append_b64(&b, msg, mlen);
    assert_int_equal(buf_append(&b, ".", 1), 0);
    tk_append_b64(&b, sig, slen);
    free(hs);
    json_decref(h);
    return buf_take(&b);
}

/* Verifies tok with both verifiers; each must refuse it with exactly the
 * given detail, and the external one must not ask for a JWKS refetch. */
static void assert_both_refuse(const char *tok, const jwt_key *es256, const jwks_set *set,
                               const char *session_detail, const char *subject_detail, long tc)
{
    err_t e;
    int unknown_kid = -1;
    err_clear(&e);
    json_t *j = jws_verify(tok, strlen(tok), lookup_any, (void *)es256, &e);
    if (j != NULL || strcmp(e.detail, session_detail) != 0)
        fail_msg("tcId %ld: session verifier: \"%s\", wanted \"%s\"", tc, e.detail, session_detail);
    err_clear(&e);
    j = jws_verify_external(tok, strlen(tok), set, WP_IDP_ALGS, WP_NIDP_ALGS, &unknown_kid, &e);
    if (j != NULL || strcmp(e.detail, subject_detail) != 0)
        fail_msg("tcId %ld: external verifier: \"%s\", wanted \"%s\"", tc, e.detail,
                 subject_detail);
    assert_int_equal(e.cls, ERR_UNAUTHORIZED);
    assert_int_equal(unknown_kid, 0);
}

static void run_vector(const json_t *t, const char *kid, const jwt_key *es256, const jwks_set *set,
                       eddsa_counts *c)
{
    size_t mlen, slen;
    unsigned char *msg = wp_hex_decode_new(wp_str(t, "msg"), &mlen);
    unsigned char *sig = wp_hex_decode_new(wp_str(t, "sig"), &slen);
    int empty = mlen == 0 || slen == 0;
    char *ed = token("EdDSA", kid, msg, mlen, sig, slen);
    char *es = token("ES256", kid, msg, mlen, sig, slen);

    if (empty) {
        assert_both_refuse(ed, es256, set, "session token is malformed",
                           "subject token is malformed", wp_tc(t));
        assert_both_refuse(es, es256, set, "session token is malformed",
                           "subject token is malformed", wp_tc(t));
        wp_count_label(&c->malformed, t);
    } else {
        assert_both_refuse(ed, es256, set, "session token uses an unsupported algorithm",
                           "subject token algorithm EdDSA is not allowed", wp_tc(t));
        assert_both_refuse(es, es256, set, "session token signature is invalid",
                           "subject token signature is invalid", wp_tc(t));
        wp_count_label(&c->at_alg, t);
        c->relabelled++;
    }
    free(ed);
    free(es);
    free(msg);
    free(sig);
}

static void test_ed25519(void **state)
{
    (void)state;
    json_t *root = wp_load("ed25519_test.json");
    const json_t *g, *t;
    size_t gi, ti;
    eddsa_counts c = {0};
    err_t e;
    jwt_key *es256 = jwt_key_generate(JWT_ALG_ES256, "session-key", &e);
    assert_non_null(es256);

    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        const json_t *okp = json_object_get(g, "publicKeyJwk");
        assert_string_equal(wp_str(okp, "kty"), "OKP");
        assert_okp_refused(okp);
        c.keys_refused++;
        jwks_set *set = mixed_set(okp, es256);
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            run_vector(t, wp_str(okp, "kid"), es256, set, &c);
        }
        jwks_free(set);
    }
    printf("ed25519: %zu OKP keys refused by jwks_parse and jwt_key_import_public; EdDSA "
           "tokens refused at the alg check by both verifiers: %zu valid, %zu invalid, %zu "
           "acceptable; empty message or signature, refused as malformed by both: %zu valid, "
           "%zu invalid; relabelled ES256, refused at the signature by both: %zu\n",
           c.keys_refused, c.at_alg.valid, c.at_alg.invalid, c.at_alg.acceptable, c.malformed.valid,
           c.malformed.invalid, c.relabelled);
    wp_assert_all_run(root, NULL,
                      (wp_labels){c.at_alg.valid + c.malformed.valid,
                                  c.at_alg.invalid + c.malformed.invalid,
                                  c.at_alg.acceptable + c.malformed.acceptable});
    assert_int_equal(c.keys_refused, json_array_size(json_object_get(root, "testGroups")));
    assert_int_equal(c.malformed.valid + c.malformed.invalid, 5); /* 4 empty msgs, 1 empty sig */
    jwt_key_free(es256);
    json_decref(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ed25519),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
