/* jwt_test_keys.h - helpers shared by the external-token tests: RSA keys
 * generated and used for signing with OpenSSL directly (Tessera never signs
 * with RSA), their public JWKs, and compact tokens built from raw header
 * and payload texts, so hostile headers can carry valid signatures.
 *
 * Everything is static inline so that each test_*.c (built on its own)
 * may include this file and use only part of it. Include after cmocka.h. */
#ifndef TESSERA_TEST_JWT_TEST_KEYS_H
#define TESSERA_TEST_JWT_TEST_KEYS_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "jwt/b64url.h"
#include "jwt/jwk.h"
#include "jwt/jws.h"

#define TK_PS256_SALT 32
#define TK_PKCS1 (-100) /* tk_rsa_sign: PKCS #1 v1.5 instead of PSS */

/* A new RSA key pair of `bits` bits, public exponent 65537. */
static inline EVP_PKEY *tk_rsa_generate(unsigned bits)
{
    EVP_PKEY *pk = EVP_RSA_gen(bits);
    assert_non_null(pk);
    return pk;
}

/* Appends the base64url of data[n] to b. */
static inline void tk_append_b64(buf_t *b, const void *data, size_t n)
{
    char *enc = malloc(b64url_encoded_len(n) + 1);
    assert_non_null(enc);
    size_t m = b64url_encode(data, n, enc);
    assert_int_equal(buf_append(b, enc, m), 0);
    free(enc);
}

/* Appends the minimal big-endian base64url of an RSA parameter. */
static inline void tk_append_bn(buf_t *b, const EVP_PKEY *pk, const char *param)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pk, param, &bn), 1);
    int n = BN_num_bytes(bn);
    unsigned char *raw = malloc((size_t)n + 1);
    assert_non_null(raw);
    assert_int_equal(BN_bn2bin(bn, raw), n);
    tk_append_b64(b, raw, (size_t)n);
    free(raw);
    BN_free(bn);
}

/* {"kty":"RSA","n":...,"e":...<extra>} (extra starts with ',' or is "").
 * Caller frees. */
static inline char *tk_rsa_jwk(const EVP_PKEY *pk, const char *extra)
{
    buf_t b;
    buf_init(&b, 1 << 16);
    assert_int_equal(buf_puts(&b, "{\"kty\":\"RSA\",\"n\":\""), 0);
    tk_append_bn(&b, pk, OSSL_PKEY_PARAM_RSA_N);
    assert_int_equal(buf_puts(&b, "\",\"e\":\""), 0);
    tk_append_bn(&b, pk, OSSL_PKEY_PARAM_RSA_E);
    assert_int_equal(buf_printf(&b, "\"%s}", extra), 0);
    return buf_take(&b);
}

/* The public key as PEM text (SubjectPublicKeyInfo). Caller frees. */
static inline char *tk_rsa_pem(EVP_PKEY *pk)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data = NULL;
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PUBKEY(bio, pk), 1);
    long n = BIO_get_mem_data(bio, &data);
    assert_true(n > 0);
    char *out = malloc((size_t)n + 1);
    assert_non_null(out);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    return out;
}

/* RSA signature over msg[n] with SHA-256: PKCS #1 v1.5 when saltlen is
 * TK_PKCS1, else PSS (MGF1-SHA-256) with that salt length (or one of
 * OpenSSL's RSA_PSS_SALTLEN_* values). sig holds 1024 bytes. */
static inline size_t tk_rsa_sign(EVP_PKEY *pk, int saltlen, const void *msg, size_t n,
                                 unsigned char *sig)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t siglen = 1024;
    assert_non_null(md);
    assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, pk), 1);
    if (saltlen != TK_PKCS1) {
        assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, saltlen) > 0);
    } else {
        assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0);
    }
    assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, n), 1);
    EVP_MD_CTX_free(md);
    return siglen;
}

/* base64url(hdr) "." base64url(payload) into a new buffer. */
static inline void tk_signing_input(buf_t *b, const char *hdr, const char *payload)
{
    buf_init(b, 1 << 20);
    tk_append_b64(b, hdr, strlen(hdr));
    assert_int_equal(buf_append(b, ".", 1), 0);
    tk_append_b64(b, payload, strlen(payload));
}

/* header.payload.signature over raw JSON texts, RSA-signed (saltlen as in
 * tk_rsa_sign). Caller frees. */
static inline char *tk_rsa_token(EVP_PKEY *pk, int saltlen, const char *hdr, const char *payload)
{
    buf_t b;
    unsigned char sig[1024];
    tk_signing_input(&b, hdr, payload);
    size_t siglen = tk_rsa_sign(pk, saltlen, b.data, b.len, sig);
    assert_int_equal(buf_append(&b, ".", 1), 0);
    tk_append_b64(&b, sig, siglen);
    return buf_take(&b);
}

/* The same with an ES256 key that has a private part. Caller frees. */
static inline char *tk_es256_token(const jwt_key *k, const char *hdr, const char *payload)
{
    buf_t b;
    unsigned char sig[JWS_SIG_MAX];
    size_t siglen = sizeof(sig);
    tk_signing_input(&b, hdr, payload);
    assert_int_equal(jws_sign_signature(k, b.data, b.len, sig, &siglen), 0);
    assert_int_equal(buf_append(&b, ".", 1), 0);
    tk_append_b64(&b, sig, siglen);
    return buf_take(&b);
}

/* Decodes the last segment of a compact token into sig (1100 bytes);
 * returns its length and sets *input_len to the signing input's length. */
static inline size_t tk_split_sig(const char *tok, unsigned char *sig, size_t *input_len)
{
    const char *dot = strrchr(tok, '.');
    size_t n = 0;
    assert_non_null(dot);
    assert_true(strlen(dot + 1) <= 1400);
    assert_int_equal(b64url_decode(dot + 1, strlen(dot + 1), sig, &n), 0);
    *input_len = (size_t)(dot - tok);
    return n;
}

#endif
