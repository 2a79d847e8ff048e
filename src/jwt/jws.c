/* jws.c - compact JWS for session tokens, ES256 signed and verified with
 * OpenSSL EVP directly (the protected header is built here byte for byte;
 * cjose's header handling would re-serialise it through jansson). The raw
 * signature check also verifies RS256 and PS256 for external tokens
 * (jws_external.c); jws_verify itself accepts ES256 only.
 *
 * Thread safety: jws_sign and jws_verify_signature create a fresh
 * EVP_PKEY_CTX per call and only read the key, so any number of threads may
 * verify with one shared key. Signing with a shared key is also safe, but
 * OpenSSL 3 serialises on the shared EVP_PKEY: give each signing thread its
 * own jwt_key_clone (jwk.h). */
#include "jwt/jws.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/xalloc.h"
#include "crypto/crypto.h"
#include "jwt/b64url.h"
#include "jwt/jwk_internal.h"
#include "jwt/jws_internal.h"

#define ES256_SCALAR_LEN 32
#define ES256_SIG_LEN 64
#define ECDSA_DER_MAX 80        /* 72 is the most a P-256 ECDSA-Sig-Value takes */
#define JWS_SIG_B64_MAX 128     /* an ES256 signature is 86 characters */
#define JWS_HEADER_JSON_MAX 512 /* {"alg","kid" (63 chars, escaped),"typ"} */
#define PS256_SALT_LEN 32       /* RFC 7518 section 3.5: salt as long as the hash */

/* The order n of P-256, big-endian: r and s must lie in [1, n - 1]. */
static const unsigned char p256_order[ES256_SCALAR_LEN] = {
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* Header parameters that would let the token choose its own key or make us
 * process extensions we do not implement (RFC 7515 4.1, RFC 7797, RFC 8725). */
static const char *const jws_forbidden_headers[] = {
    "jwk", "jku", "x5u", "x5c", "x5t", "x5t#S256", "crit", "b64",
};

/* Appends the base64url form of data[n]; chunks are multiples of 3 bytes so
 * their encodings concatenate. Returns 0 or -1 (buffer full). */
static int append_b64(buf_t *out, const void *data, size_t n)
{
    enum { CHUNK = 768 };
    char enc[CHUNK / 3 * 4 + 1];
    const unsigned char *p = data;
    while (n > 0) {
        size_t take = n > CHUNK ? CHUNK : n;
        size_t m = b64url_encode(p, take, enc);
        if (buf_append(out, enc, m) != 0)
            return -1;
        p += take;
        n -= take;
    }
    return 0;
}

/* Writes the protected header {"alg":...,"kid":...,"typ":"JWT"} into h. */
static int header_json(const jwt_key *k, buf_t *h)
{
    const char *kid = jwt_key_kid(k);
    int rc = buf_printf(h, "{\"alg\":\"%s\",\"kid\":", jwt_alg_name(jwt_key_alg(k)));
    if (rc == 0)
        rc = buf_json_string(h, kid, strlen(kid));
    if (rc == 0)
        rc = buf_puts(h, ",\"typ\":\"JWT\"}");
    return rc;
}

/* ES256 over msg: SHA-256, ECDSA, then DER converted to r || s. */
static int es256_sign(EVP_PKEY *pkey, const void *msg, size_t n, unsigned char sig[ES256_SIG_LEN])
{
    unsigned char md[CRYPTO_SHA256_LEN], der[ECDSA_DER_MAX];
    const unsigned char *p = der;
    size_t derlen = sizeof(der);
    const BIGNUM *r = NULL, *s = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    ECDSA_SIG *es = NULL;
    int rc = -1;

    crypto_sha256(msg, n, md);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL || EVP_PKEY_sign_init(ctx) != 1 ||
        EVP_PKEY_sign(ctx, der, &derlen, md, sizeof(md)) != 1)
        goto out;
    es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    if (es == NULL)
        goto out;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, ES256_SCALAR_LEN) != ES256_SCALAR_LEN ||
        BN_bn2binpad(s, sig + ES256_SCALAR_LEN, ES256_SCALAR_LEN) != ES256_SCALAR_LEN)
        goto out;
    rc = 0;
out:
    if (rc != 0)
        ERR_clear_error();
    ECDSA_SIG_free(es);
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

/* Length of the compact ES256 token for a header and payload of these sizes. */
static size_t es256_compact_len(size_t hlen, size_t plen)
{
    return b64url_encoded_len(hlen) + 1 + b64url_encoded_len(plen) + 1 +
           b64url_encoded_len(ES256_SIG_LEN);
}

static void buf_truncate(buf_t *b, size_t len)
{
    if (b->data != NULL) {
        b->len = len;
        b->data[len] = '\0';
    }
}

int jws_sign(const jwt_key *k, const char *payload, size_t len, buf_t *out, err_t *e)
{
    unsigned char sig[ES256_SIG_LEN];
    size_t start = out->len;
    buf_t hdr; /* header JSON; freed at out */
    int rc = -1;

    buf_init(&hdr, JWS_HEADER_JSON_MAX);
    if (k == NULL || !jwt_key_has_private(k) || jwt_key_alg(k) != JWT_ALG_ES256 ||
        header_json(k, &hdr) != 0) {
        err_set(e, ERR_INTERNAL, "signing key has no private ES256 part");
        goto out;
    }
    /* Never make a token that jws_verify would refuse as too long. */
    if (len > JWS_MAX_LEN || es256_compact_len(hdr.len, len) > JWS_MAX_LEN) {
        err_set(e, ERR_INVALID_REQUEST, "session token would be longer than %d bytes", JWS_MAX_LEN);
        goto out;
    }
    if (append_b64(out, hdr.data, hdr.len) != 0 || buf_append(out, ".", 1) != 0 ||
        append_b64(out, payload, len) != 0) {
        err_set(e, ERR_INTERNAL, "output buffer is too small for the session token");
        goto out;
    }
    /* The signing input is exactly what was appended so far. */
    if (es256_sign(jwt_key__pkey(k), out->data + start, out->len - start, sig) != 0) {
        err_set(e, ERR_INTERNAL, "signing the session token failed");
        goto out;
    }
    if (buf_append(out, ".", 1) != 0 || append_b64(out, sig, sizeof(sig)) != 0) {
        err_set(e, ERR_INTERNAL, "output buffer is too small for the session token");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        buf_truncate(out, start); /* all or nothing */
    buf_free(&hdr);
    return rc;
}

int jws_sign_signature(const jwt_key *k, const void *signing_input, size_t n, unsigned char *sig,
                       size_t *siglen)
{
    if (k == NULL || !jwt_key_has_private(k) || jwt_key_alg(k) != JWT_ALG_ES256 || sig == NULL ||
        siglen == NULL || *siglen < ES256_SIG_LEN)
        return -1;
    if (es256_sign(jwt_key__pkey(k), signing_input, n, sig) != 0)
        return -1;
    *siglen = ES256_SIG_LEN;
    return 0;
}

/* 1 when the big-endian scalar b is in [1, n - 1]. The values are public,
 * so memcmp's timing is harmless. */
static int es256_scalar_ok(const unsigned char *b)
{
    static const unsigned char zero[ES256_SCALAR_LEN];
    return memcmp(b, zero, ES256_SCALAR_LEN) != 0 && memcmp(b, p256_order, ES256_SCALAR_LEN) < 0;
}

/* r || s as the DER ECDSA-Sig-Value OpenSSL verifies. Returns the length or -1. */
static int es256_sig_to_der(const unsigned char *rs, unsigned char der[ECDSA_DER_MAX])
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, ES256_SCALAR_LEN, NULL);
    BIGNUM *s = BN_bin2bn(rs + ES256_SCALAR_LEN, ES256_SCALAR_LEN, NULL);
    unsigned char *p = der;
    int len = -1;

    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by es now */
    if (i2d_ECDSA_SIG(es, NULL) > ECDSA_DER_MAX)
        goto out;
    len = i2d_ECDSA_SIG(es, &p);
out:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return len;
}

/* ES256: r || s, both in [1, n - 1], then ECDSA over SHA-256(input). */
static int es256_verify(const jwt_key *k, const void *signing_input, size_t n,
                        const unsigned char *sig, size_t siglen)
{
    unsigned char md[CRYPTO_SHA256_LEN], der[ECDSA_DER_MAX];
    EVP_PKEY_CTX *ctx = NULL;
    int ok = 0, derlen;

    /* Explicit range checks (r = 0 or s = 0 is CVE-2022-21449) before
     * OpenSSL, which checks them again. */
    if (siglen != ES256_SIG_LEN || !es256_scalar_ok(sig) ||
        !es256_scalar_ok(sig + ES256_SCALAR_LEN))
        return 0;
    derlen = es256_sig_to_der(sig, der);
    if (derlen <= 0)
        goto out;
    crypto_sha256(signing_input, n, md);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, jwt_key__pkey(k), NULL);
    if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1)
        goto out;
    ok = EVP_PKEY_verify(ctx, der, (size_t)derlen, md, sizeof(md)) == 1;
out:
    if (!ok)
        ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* Sets the padding parameters of a verification context: PKCS #1 v1.5
 * with a SHA-256 DigestInfo (RS256), or PSS with SHA-256, MGF1-SHA-256 and
 * a salt of exactly 32 bytes (PS256). Returns 1 or 0. */
static int rsa_set_padding(EVP_PKEY_CTX *ctx, jwt_alg alg)
{
    if (alg == JWT_ALG_RS256)
        return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) > 0 &&
               EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0;
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) > 0 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, PS256_SALT_LEN) > 0;
}

/* RS256 / PS256: the signature must be exactly as long as the modulus (RFC
 * 8017 8.2.2 / 8.1.2 step 1, checked here rather than left to OpenSSL, so
 * no zero-padded or shortened form is ever accepted), then OpenSSL
 * verifies over SHA-256(input) with the key's pinned padding. */
static int rsa_verify(const jwt_key *k, const void *signing_input, size_t n,
                      const unsigned char *sig, size_t siglen)
{
    unsigned char md[CRYPTO_SHA256_LEN];
    EVP_PKEY *pkey = jwt_key__pkey(k);
    EVP_PKEY_CTX *ctx = NULL;
    int ok = 0, size = EVP_PKEY_get_size(pkey);

    if (size <= 0 || siglen != (size_t)size)
        return 0;
    crypto_sha256(signing_input, n, md);
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1 || !rsa_set_padding(ctx, jwt_key_alg(k)))
        goto out;
    ok = EVP_PKEY_verify(ctx, sig, siglen, md, sizeof(md)) == 1;
out:
    if (!ok)
        ERR_clear_error();
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

int jws_verify_signature(const jwt_key *k, const void *signing_input, size_t n, const void *sig,
                         size_t siglen)
{
    if (k == NULL || sig == NULL || (signing_input == NULL && n > 0))
        return 0;
    switch (jwt_key_alg(k)) {
    case JWT_ALG_ES256:
        return es256_verify(k, signing_input, n, sig, siglen);
    case JWT_ALG_RS256:
    case JWT_ALG_PS256:
        return rsa_verify(k, signing_input, n, sig, siglen);
    }
    return 0;
}

int jws__split(const char *c, size_t len, jws_segment seg[3])
{
    const char *d1 = memchr(c, '.', len);
    if (d1 == NULL)
        return -1;
    const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - c));
    if (d2 == NULL)
        return -1;
    const char *sig = d2 + 1;
    size_t siglen = len - (size_t)(sig - c);
    if (memchr(sig, '.', siglen) != NULL)
        return -1;
    seg[0] = (jws_segment){c, (size_t)(d1 - c)};
    seg[1] = (jws_segment){d1 + 1, (size_t)(d2 - d1 - 1)};
    seg[2] = (jws_segment){sig, siglen};
    return seg[0].n == 0 || seg[1].n == 0 || seg[2].n == 0 ? -1 : 0;
}

json_t *jws__header_decode(jws_segment h, int *malformed)
{
    unsigned char raw[JWS_HEADER_B64_MAX / 4 * 3 + 1];
    size_t rawlen = 0;
    err_t pe;
    json_t *hdr = NULL;

    *malformed = 1;
    if (h.n > JWS_HEADER_B64_MAX || b64url_decode(h.p, h.n, raw, &rawlen) != 0)
        return NULL;
    *malformed = 0;
    hdr = json_parse_strict((const char *)raw, rawlen, JWS_HEADER_DEPTH, 0, &pe);
    if (hdr != NULL && !json_is_object(hdr)) {
        json_decref(hdr);
        hdr = NULL;
    }
    return hdr;
}

const char *jws__first_member(const json_t *hdr, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (json_object_get(hdr, names[i]) != NULL)
            return names[i];
    return NULL;
}

unsigned char *jws__payload_decode(jws_segment p, size_t *outlen)
{
    unsigned char *out = xmalloc(p.n / 4 * 3 + 3);
    if (b64url_decode(p.p, p.n, out, outlen) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* Strictly decodes the header and parses it as a JSON object (duplicate
 * keys refused). Returns a new reference or NULL. */
static json_t *jws_header_parse(jws_segment h, err_t *e)
{
    int malformed;
    json_t *hdr = jws__header_decode(h, &malformed);
    if (hdr == NULL)
        err_set(e, ERR_UNAUTHORIZED,
                malformed ? "session token is malformed"
                          : "session token header is not a valid JSON object");
    return hdr;
}

/* Applies the header rules and finds the key: no forbidden parameter, "alg"
 * exactly "ES256" (session tokens use no other algorithm, even though
 * jwt_alg_from_name knows RS256 and PS256), "typ" absent or "JWT", a known
 * "kid", and the key's pinned algorithm equal to "alg". Returns the
 * borrowed key or NULL. */
static const jwt_key *jws_header_key(const json_t *hdr, jws_key_lookup lookup, void *ctx, err_t *e)
{
    const char *forbidden =
        jws__first_member(hdr, jws_forbidden_headers,
                          sizeof(jws_forbidden_headers) / sizeof(jws_forbidden_headers[0]));
    if (forbidden != NULL) {
        err_set(e, ERR_UNAUTHORIZED, "session token has the forbidden header \"%s\"", forbidden);
        return NULL;
    }
    const json_t *alg = json_object_get(hdr, "alg"), *kid = json_object_get(hdr, "kid"),
                 *typ = json_object_get(hdr, "typ");
    if (!json_is_string(alg) || jwt_alg_from_name(json_string_value(alg)) != JWT_ALG_ES256) {
        err_set(e, ERR_UNAUTHORIZED, "session token uses an unsupported algorithm");
        return NULL;
    }
    if (typ != NULL && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0)) {
        err_set(e, ERR_UNAUTHORIZED, "session token type is not JWT");
        return NULL;
    }
    if (!json_is_string(kid)) {
        err_set(e, ERR_UNAUTHORIZED, "session token has no key id");
        return NULL;
    }
    const jwt_key *k = lookup(ctx, json_string_value(kid));
    if (k == NULL) {
        err_set(e, ERR_UNAUTHORIZED, "session token key id is unknown");
        return NULL;
    }
    if (jwt_key_alg(k) != JWT_ALG_ES256 ||
        strcmp(json_string_value(alg), jwt_alg_name(jwt_key_alg(k))) != 0) {
        err_set(e, ERR_UNAUTHORIZED, "session token algorithm does not match its key");
        return NULL;
    }
    return k;
}

json_t *jws_verify(const char *compact, size_t len, jws_key_lookup lookup, void *ctx, err_t *e)
{
    jws_segment seg[3];
    json_t *hdr = NULL, *claims = NULL, *ret = NULL;
    const jwt_key *k = NULL; /* borrowed from the caller's lookup */
    unsigned char sig[JWS_SIG_B64_MAX / 4 * 3 + 1];
    unsigned char *payload = NULL; /* owned; freed at out */
    size_t siglen = 0, plen = 0;
    err_t pe;

    if (compact == NULL || lookup == NULL || len > JWS_MAX_LEN) {
        err_set(e, ERR_UNAUTHORIZED, "session token is missing or too long");
        goto out;
    }
    if (jws__split(compact, len, seg) != 0) {
        err_set(e, ERR_UNAUTHORIZED, "session token is malformed");
        goto out;
    }
    hdr = jws_header_parse(seg[0], e);
    if (hdr == NULL)
        goto out;
    k = jws_header_key(hdr, lookup, ctx, e);
    if (k == NULL)
        goto out;
    /* Cheap strict decoding of the rest before the costly signature check. */
    if (seg[2].n > JWS_SIG_B64_MAX || b64url_decode(seg[2].p, seg[2].n, sig, &siglen) != 0 ||
        (payload = jws__payload_decode(seg[1], &plen)) == NULL) {
        err_set(e, ERR_UNAUTHORIZED, "session token is malformed");
        goto out;
    }
    /* The signing input is the ASCII text "header.payload". */
    if (!jws_verify_signature(k, compact, seg[0].n + 1 + seg[1].n, sig, siglen)) {
        err_set(e, ERR_UNAUTHORIZED, "session token signature is invalid");
        goto out;
    }
    claims = json_parse_strict((const char *)payload, plen, JSON_MAX_DEPTH, 0, &pe);
    if (claims == NULL || !json_is_object(claims)) {
        err_set(e, ERR_UNAUTHORIZED, "session token payload is not a valid JSON object");
        goto out;
    }
    ret = claims;
    claims = NULL;
out:
    json_decref(claims);
    json_decref(hdr);
    free(payload);
    return ret;
}
