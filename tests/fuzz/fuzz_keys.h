/* fuzz_keys.h - fixed test keys for the JWS and JWKS fuzz targets and for
 * the corpus generator (corpus_gen.c), plus OpenSSL helpers that sign and
 * verify without Tessera's JOSE code, so that a target can check what
 * jws_verify / jws_verify_external accept against an independent verifier.
 *
 * These keys are public test material, used nowhere else: every seed token
 * in tests/fuzz/corpus was signed with them. Header-only (static inline). */
#ifndef TESSERA_FUZZ_KEYS_H
#define TESSERA_FUZZ_KEYS_H

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "core/buf.h"
#include "fuzz_util.h"
#include "jwt/b64url.h"
#include "jwt/jwk.h"

/* ES256 key "fuzz-es256-a": signs session tokens in the fuzzers. */
static const char fuzz_ec_a_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0mYxSdToNkvHe8Rx\n"
    "+mLZweNiU49yy2QJUD1B1+BVy8ihRANCAAQe8rw42y6S2+HXYDHVbV9ODDE2snkj\n"
    "oGkJHxFYWSOR7FRkw0VT+40xA2sA80oelPG07VUOFTPRmdc67xerkd8P\n"
    "-----END PRIVATE KEY-----\n";

/* ES256 key "fuzz-es256-b": a second key, so a token signed by one key and
 * labelled with the other's kid can be tried. */
static const char fuzz_ec_b_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgv3OTX86MaSUH7bDy\n"
    "gX3NwAMNfQhgeuJKUnsM/awGDVmhRANCAATlhZFDZ2YySj8X4qhT6V9mAT0xMmES\n"
    "jM4o4q247pnb7okClZ52QY5nQ7Al7A0Q7RSfFmXwVPmiQhh7eefP0PVG\n"
    "-----END PRIVATE KEY-----\n";

/* RSA 2048 key "fuzz-rsa": an identity provider's RS256/PS256 key. */
static const char fuzz_rsa_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEuwIBADANBgkqhkiG9w0BAQEFAASCBKUwggShAgEAAoIBAQC9wkb093784f3d\n"
    "30r1a8fi7xB1g35Q7/T6sm+F7J0O/wLU4LpNPBHFRO26NPVPdu6zNsdHc4m4QO1e\n"
    "HHdN9VD/T/vOgkWjDi7hKgU8O/xedFQLr/PzAj9XjWXZ4W41Hi88j9eeXEnAC9uG\n"
    "iQPfJ9h0mUhHaxMJWWLduRGRY2BtOOv04jT8IbT2nFlvawp4XnZAMKHyB0Uxw5zM\n"
    "GJnSHvUebjjbzPmsrTayVdbGyc7l/kCrX3Ta2waTx+bRo0Tzm7KZzVGB4h6jt0yK\n"
    "y8mHe1p/u6UAOKQuSBDt0lzxEo8ovurUIIgp1ankT8+bfazIgA0L1Mmf3h17H5MM\n"
    "0LCLtasRAgMBAAECgf8rs7KOeEbRYWVg09bPmXhPgKn/ERQ7pQfRNNxlBjlQWtVW\n"
    "xurLyX8jj4cF0MHZAJW4xcTfZRyH8sFiteuZaLC0HBeXV9Px2YeyaPBhDu+a+++J\n"
    "7DFNUMHbHWrM4xNz6EpjXZKq8KuLhITqVw6Ci7VYz8nK/j3uyUdGXnj3+DXHnA7E\n"
    "uSBV8ohMS6ZDqcs6msdcwbsnabyhF5/foXCBP/lrpFGrbV/0pIs+Yv8M7AXsU3wL\n"
    "RCH5SdG0R3IKauFzgk003hMNQI3aS2EHIcYUSnOCsPuvmU/yZCrjIVDcIgyqQe5y\n"
    "ZiT8DC1Uzu42KnXyTqeHHK5QlW7w5mVSiuywBykCgYEA5uTJX/HJmu4O8pbMrrZp\n"
    "q4//rjfD+BU6XXtfoRMsF4wllUK1baRSxaQd+dQRS3e0RdnKYthXehdTgQ8OczVc\n"
    "BrtixhV0UMAzF66Z681GeAwq5oMkJ3K91BVc5/E98GSeTw4u5vn2x93OMK4HlhO0\n"
    "KrhkJDhOaHLPBVk9FCWl78kCgYEA0mRzv54EARYlDwWTbn+jWE9tJ38E/yH7ZAJc\n"
    "ypDlkWN20aVpIRNQIZUfe4ZX8evHCJb2LhiRHLXsDvpbRErCSFUWpRpSNOs61TO2\n"
    "QWa0Hnl1okFh7Zu4DmgVDNVbExGsw2lTeM4Qefr9rgnPE4EoE4dK1R99/DUAZDW+\n"
    "UiBu1QkCgYEAkCtA1giqInQMn0qrqVe66WXzdvvZAFl45Q/46SGIgXd/rBBIKprV\n"
    "GBVepjTVS7MFvCu+JDQDgvd3q3kUQ7mIqadtiFOzGgy4mkvqTgMRwjmOu/ocpAkQ\n"
    "IJHqPeUzEJwzARfRD2X6wldrvJedowbQk3ApDzidNLijLSrIaYEMeIkCgYA+1btw\n"
    "DgxaGrgErYCjrsElHcuW0Su32vlOnBoEcZPugQs6f7FPLIpxDS1y4eOgH++4lAWA\n"
    "LNwh+/89Ve4uDjnKCoeR1bOZlGtkw2X6UGcY9uN4CxjpMumce99Vjt79afjz/5/r\n"
    "Y3euRpS/BrTuuVMzyeNClX419cphI1/s/Ty8qQKBgFpu8nmSc5E7bHhKU7ibfO5D\n"
    "eVFKPZ4xXpcjfrMjDb8b2lq1uNYEKOr3nwVRhdM/zkwzxnBtPqBxux1/DBlTN8RI\n"
    "4K5gWGbANY4+stcNiVPoY4RChraa0eaPIzQyQfI0IryGi/X+tsq6EF2fsxB35xQB\n"
    "4wkVhOBE6TuINiJQbJTs\n"
    "-----END PRIVATE KEY-----\n";

#define FUZZ_KID_A "fuzz-es256-a"
#define FUZZ_KID_B "fuzz-es256-b"
#define FUZZ_KID_RSA "fuzz-rsa"
#define FUZZ_PS256_SALT 32

/* The key pair in pem (PKCS #8). Caller frees with EVP_PKEY_free. */
static inline EVP_PKEY *fuzz_pkey(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    FUZZ_CHECK(bio != NULL);
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    FUZZ_CHECK(pk != NULL);
    return pk;
}

/* Appends the base64url of the big-endian param, left-padded to width
 * bytes (width 0: minimal, as RSA's n and e are written). */
static inline void fuzz_append_bn(buf_t *b, const EVP_PKEY *pk, const char *param, int width)
{
    BIGNUM *bn = NULL;
    unsigned char raw[1024];
    char enc[1400];
    FUZZ_CHECK(EVP_PKEY_get_bn_param(pk, param, &bn) == 1);
    int n = width ? width : BN_num_bytes(bn);
    FUZZ_CHECK(n > 0 && (size_t)n <= sizeof(raw) && BN_bn2binpad(bn, raw, n) == n);
    b64url_encode(raw, (size_t)n, enc);
    FUZZ_CHECK(buf_puts(b, enc) == 0);
    BN_clear_free(bn);
}

/* The JWK of an EC P-256 key, with "d" when with_private; extra is
 * appended before the closing brace (starts with ',' or is ""). Caller
 * buf_free's b. */
static inline void fuzz_ec_jwk(const EVP_PKEY *pk, int with_private, const char *extra, buf_t *b)
{
    buf_init(b, 4096);
    FUZZ_CHECK(buf_puts(b, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"") == 0);
    fuzz_append_bn(b, pk, OSSL_PKEY_PARAM_EC_PUB_X, 32);
    FUZZ_CHECK(buf_puts(b, "\",\"y\":\"") == 0);
    fuzz_append_bn(b, pk, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
    if (with_private) {
        FUZZ_CHECK(buf_puts(b, "\",\"d\":\"") == 0);
        fuzz_append_bn(b, pk, OSSL_PKEY_PARAM_PRIV_KEY, 32);
    }
    FUZZ_CHECK(buf_printf(b, "\"%s}", extra) == 0);
}

/* The public JWK of an RSA key (n, e minimal); extra as for fuzz_ec_jwk. */
static inline void fuzz_rsa_jwk(const EVP_PKEY *pk, const char *extra, buf_t *b)
{
    buf_init(b, 4096);
    FUZZ_CHECK(buf_puts(b, "{\"kty\":\"RSA\",\"n\":\"") == 0);
    fuzz_append_bn(b, pk, OSSL_PKEY_PARAM_RSA_N, 0);
    FUZZ_CHECK(buf_puts(b, "\",\"e\":\"") == 0);
    fuzz_append_bn(b, pk, OSSL_PKEY_PARAM_RSA_E, 0);
    FUZZ_CHECK(buf_printf(b, "\"%s}", extra) == 0);
}

/* Tessera's own ES256 key (with its private part) made from pk. */
static inline jwt_key *fuzz_jwt_key_private(const EVP_PKEY *pk, const char *kid)
{
    buf_t jwk;
    err_t e;
    fuzz_ec_jwk(pk, 1, "", &jwk);
    jwt_key *k = jwt_key_import_private(jwk.data, jwk.len, JWT_ALG_ES256, kid, &e);
    OPENSSL_cleanse(jwk.data, jwk.len);
    buf_free(&jwk);
    FUZZ_CHECK(k != NULL);
    return k;
}

/* Signature as JWS wants it over msg[n] with OpenSSL directly: ES256 r || s
 * (64 bytes), RS256 PKCS #1 v1.5 or PS256 PSS (salt 32). sig holds 512
 * bytes. Returns the length. */
static inline size_t fuzz_sign(EVP_PKEY *pk, jwt_alg alg, const void *msg, size_t n,
                               unsigned char *sig)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char der[80];
    size_t len = alg == JWT_ALG_ES256 ? sizeof(der) : 512;
    FUZZ_CHECK(md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, pk) == 1);
    if (alg == JWT_ALG_PS256)
        FUZZ_CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                   EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, FUZZ_PS256_SALT) > 0);
    FUZZ_CHECK(EVP_DigestSign(md, alg == JWT_ALG_ES256 ? der : sig, &len, msg, n) == 1);
    EVP_MD_CTX_free(md);
    if (alg != JWT_ALG_ES256)
        return len;
    const unsigned char *p = der;
    const BIGNUM *r, *s;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    FUZZ_CHECK(es != NULL);
    ECDSA_SIG_get0(es, &r, &s);
    FUZZ_CHECK(BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32);
    ECDSA_SIG_free(es);
    return 64;
}

/* r || s (64 bytes) as a DER ECDSA-Sig-Value in der[80]; length or -1. */
static inline int fuzz_es256_der(const unsigned char *sig, unsigned char der[80])
{
    unsigned char *dp = der;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    FUZZ_CHECK(es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1);
    int len = i2d_ECDSA_SIG(es, &dp);
    ECDSA_SIG_free(es);
    return len;
}

/* 1 when sig[siglen] is a valid alg signature of pk over msg[n], checked
 * by OpenSSL alone (ES256: exactly 64 bytes r || s, turned into DER here). */
static inline int fuzz_verify(EVP_PKEY *pk, jwt_alg alg, const void *msg, size_t n,
                              const unsigned char *sig, size_t siglen)
{
    unsigned char der[80];
    int derlen = 0, ok = 0;
    EVP_PKEY_CTX *pctx = NULL;
    if (alg == JWT_ALG_ES256 && (siglen != 64 || (derlen = fuzz_es256_der(sig, der)) <= 0))
        return 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    FUZZ_CHECK(md != NULL && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pk) == 1);
    if (alg == JWT_ALG_PS256)
        FUZZ_CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                   EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, FUZZ_PS256_SALT) > 0);
    else if (alg == JWT_ALG_RS256)
        FUZZ_CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0);
    if (alg == JWT_ALG_ES256)
        ok = EVP_DigestVerify(md, der, (size_t)derlen, msg, n) == 1;
    else
        ok = EVP_DigestVerify(md, sig, siglen, msg, n) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

/* base64url(hdr[hn]) "." base64url(payload[pn]) "." base64url(signature)
 * with OpenSSL's alg signature by pk. Caller buf_free's out. */
static inline void fuzz_compact(EVP_PKEY *pk, jwt_alg alg, const char *hdr, size_t hn,
                                const char *payload, size_t pn, buf_t *out)
{
    unsigned char sig[512];
    char *enc = malloc(b64url_encoded_len(hn > pn ? hn : pn) + 1);
    char sigenc[700];
    FUZZ_CHECK(enc != NULL);
    buf_init(out, 1 << 20);
    b64url_encode(hdr, hn, enc);
    FUZZ_CHECK(buf_puts(out, enc) == 0 && buf_puts(out, ".") == 0);
    b64url_encode(payload, pn, enc);
    FUZZ_CHECK(buf_puts(out, enc) == 0);
    size_t siglen = fuzz_sign(pk, alg, out->data, out->len, sig);
    b64url_encode(sig, siglen, sigenc);
    FUZZ_CHECK(buf_puts(out, ".") == 0 && buf_puts(out, sigenc) == 0);
    free(enc);
}

/* A decoded JWS segment: bytes (NUL-terminated, so a header can be handed
 * to a string parser) and length. */
typedef struct {
    unsigned char *p;
    size_t n;
} fuzz_segment;

static inline void fuzz_segments_free(fuzz_segment seg[3])
{
    for (int i = 0; i < 3; i++) {
        free(seg[i].p);
        seg[i].p = NULL;
    }
}

/* Splits tok[len] at its two dots and decodes the three segments with
 * b64url_decode; *signing_len gets the length of "header.payload". 0, or
 * -1 (nothing to free) when there are not exactly two dots or a segment is
 * not strict base64url. Otherwise the caller calls fuzz_segments_free. */
static inline int fuzz_segments_decode(const char *tok, size_t len, fuzz_segment seg[3],
                                       size_t *signing_len)
{
    const char *d1 = memchr(tok, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - tok)) : NULL;
    memset(seg, 0, 3 * sizeof(seg[0]));
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - tok)) != NULL)
        return -1;
    const char *start[3] = {tok, d1 + 1, d2 + 1};
    size_t n[3] = {(size_t)(d1 - tok), (size_t)(d2 - d1 - 1), len - (size_t)(d2 + 1 - tok)};
    for (int i = 0; i < 3; i++) {
        seg[i].p = malloc(n[i] * 3 / 4 + 1);
        FUZZ_CHECK(seg[i].p != NULL);
        if (b64url_decode(start[i], n[i], seg[i].p, &seg[i].n) != 0) {
            fuzz_segments_free(seg);
            return -1;
        }
        seg[i].p[seg[i].n] = '\0';
    }
    *signing_len = (size_t)(d2 - tok);
    return 0;
}

#endif
