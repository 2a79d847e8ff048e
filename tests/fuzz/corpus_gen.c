/* corpus_gen.c - writes the seed files of tests/fuzz/corpus/ that carry
 * signatures or key material: valid session tokens (jws_verify), valid
 * identity provider tokens and signed header/payload pairs (jws_external),
 * and JWK Sets of the test keys (jwks), all made with the keys of
 * fuzz_keys.h, the ones the targets trust.
 *
 * Deterministic: RSA PKCS #1 v1.5 is; PSS gets a salt and ECDSA a nonce
 * derived here from the key and the message (HMAC-SHA256, in the spirit of
 * RFC 6979; OpenSSL 3.0 has no deterministic ECDSA), so running it again
 * rewrites the same bytes. Test material only: never a way to sign real
 * tokens. Usage: fuzz_corpus_gen tests/fuzz/corpus (tests/fuzz/run
 * --regen-corpus does it). */
#include <errno.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <sys/stat.h>

#include "fuzz_keys.h"

static const char *root;

/* Writes data[n] to root/dir/name (dir created when missing). */
static void put(const char *dir, const char *name, const void *data, size_t n)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, dir);
    FUZZ_CHECK(mkdir(path, 0755) == 0 || errno == EEXIST);
    snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL && fwrite(data, 1, n, f) == n && fclose(f) == 0);
}

/* ES256 r || s over msg[n] with the nonce k = HMAC-SHA256(d, msg) mod n. */
static void es256_sign_deterministic(EVP_PKEY *pk, const void *msg, size_t n, unsigned char sig[64])
{
    BN_CTX *bn = BN_CTX_new();
    EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *kg = EC_POINT_new(g);
    BIGNUM *d = NULL, *k = BN_new(), *z = BN_new(), *r = BN_new(), *s = BN_new(), *x = BN_new();
    unsigned char dbytes[32], digest[32], kbytes[32];
    unsigned int klen = sizeof(kbytes);
    FUZZ_CHECK(bn && g && kg && k && z && r && s && x);
    FUZZ_CHECK(EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1);
    const BIGNUM *order = EC_GROUP_get0_order(g);
    FUZZ_CHECK(BN_bn2binpad(d, dbytes, 32) == 32);
    FUZZ_CHECK(EVP_Digest(msg, n, digest, NULL, EVP_sha256(), NULL) == 1);
    FUZZ_CHECK(HMAC(EVP_sha256(), dbytes, 32, digest, 32, kbytes, &klen) != NULL);
    FUZZ_CHECK(BN_bin2bn(kbytes, 32, k) && BN_nnmod(k, k, order, bn) && !BN_is_zero(k));
    FUZZ_CHECK(BN_bin2bn(digest, 32, z) != NULL);
    /* r = x(kG) mod n; s = k^-1 (z + r d) mod n */
    FUZZ_CHECK(EC_POINT_mul(g, kg, k, NULL, NULL, bn) == 1);
    FUZZ_CHECK(EC_POINT_get_affine_coordinates(g, kg, x, NULL, bn) == 1);
    FUZZ_CHECK(BN_nnmod(r, x, order, bn) && BN_mod_mul(s, r, d, order, bn) &&
               BN_mod_add(s, s, z, order, bn));
    FUZZ_CHECK(BN_mod_inverse(k, k, order, bn) != NULL && BN_mod_mul(s, s, k, order, bn));
    FUZZ_CHECK(BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32);
    OPENSSL_cleanse(dbytes, sizeof(dbytes));
    OPENSSL_cleanse(kbytes, sizeof(kbytes));
    BN_clear_free(d);
    BN_clear_free(k);
    BN_free(z);
    BN_free(r);
    BN_free(s);
    BN_free(x);
    EC_POINT_free(kg);
    EC_GROUP_free(g);
    BN_CTX_free(bn);
}

/* RS256 (deterministic) or PS256 with a salt derived from the message. */
static size_t rsa_sign(EVP_PKEY *pk, jwt_alg alg, const void *msg, size_t n, unsigned char *sig)
{
    if (alg == JWT_ALG_RS256)
        return fuzz_sign(pk, alg, msg, n, sig);
    /* PSS by hand: EM = maskedDB || H || 0xbc, salt = SHA-256(msg) (32 bytes) */
    unsigned char mhash[32], salt[32], m2[8 + 64], h[32], em[512];
    size_t emlen = (size_t)EVP_PKEY_get_size(pk), dblen = emlen - 32 - 1;
    FUZZ_CHECK(EVP_Digest(msg, n, mhash, NULL, EVP_sha256(), NULL) == 1);
    FUZZ_CHECK(EVP_Digest(mhash, 32, salt, NULL, EVP_sha256(), NULL) == 1);
    memset(m2, 0, 8);
    memcpy(m2 + 8, mhash, 32);
    memcpy(m2 + 40, salt, 32);
    FUZZ_CHECK(EVP_Digest(m2, sizeof(m2), h, NULL, EVP_sha256(), NULL) == 1);
    memset(em, 0, dblen);
    em[dblen - 32 - 1] = 0x01;
    memcpy(em + dblen - 32, salt, 32);
    for (uint32_t c = 0, done = 0; done < dblen; c++) { /* MGF1-SHA-256 */
        unsigned char cnt[36], mask[32];
        memcpy(cnt, h, 32);
        cnt[32] = (unsigned char)(c >> 24), cnt[33] = (unsigned char)(c >> 16);
        cnt[34] = (unsigned char)(c >> 8), cnt[35] = (unsigned char)c;
        FUZZ_CHECK(EVP_Digest(cnt, 36, mask, NULL, EVP_sha256(), NULL) == 1);
        for (size_t i = 0; i < 32 && done < dblen; i++)
            em[done++] ^= mask[i];
    }
    em[0] &= 0x7f; /* modulus of 2048 bits: emBits = 2047 */
    memcpy(em + dblen, h, 32);
    em[emlen - 1] = 0xbc;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
    size_t siglen = 512;
    FUZZ_CHECK(ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
               EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) > 0 &&
               EVP_PKEY_sign(ctx, sig, &siglen, em, emlen) == 1);
    EVP_PKEY_CTX_free(ctx);
    FUZZ_CHECK(fuzz_verify(pk, alg, msg, n, sig, siglen));
    return siglen;
}

/* base64url(hdr) "." base64url(payload) "." signature, into out. */
static void token(EVP_PKEY *pk, jwt_alg alg, const char *hdr, const char *payload, buf_t *out)
{
    unsigned char sig[512];
    char *enc = malloc(b64url_encoded_len(strlen(hdr) + strlen(payload)) + 1);
    char sigenc[700];
    FUZZ_CHECK(enc != NULL);
    buf_init(out, 65536);
    b64url_encode(hdr, strlen(hdr), enc);
    FUZZ_CHECK(buf_puts(out, enc) == 0 && buf_puts(out, ".") == 0);
    b64url_encode(payload, strlen(payload), enc);
    FUZZ_CHECK(buf_puts(out, enc) == 0);
    size_t siglen = 64;
    if (alg == JWT_ALG_ES256)
        es256_sign_deterministic(pk, out->data, out->len, sig);
    else
        siglen = rsa_sign(pk, alg, out->data, out->len, sig);
    FUZZ_CHECK(fuzz_verify(pk, alg, out->data, out->len, sig, siglen));
    b64url_encode(sig, siglen, sigenc);
    FUZZ_CHECK(buf_puts(out, ".") == 0 && buf_puts(out, sigenc) == 0);
    free(enc);
}

/* A seed: the selector byte, then text[n]. */
static void seed(const char *dir, const char *name, uint8_t sel, const char *text, size_t n)
{
    unsigned char *b = malloc(n + 1);
    FUZZ_CHECK(b != NULL);
    b[0] = sel;
    memcpy(b + 1, text, n);
    put(dir, name, b, n + 1);
    free(b);
}

static const char session_claims[] =
    "{\"iss\":\"https://"
    "sso.example.com\",\"aud\":\"tessera:session\",\"sub\":\"0190f2a4-2c1e-7d3a-9b1c-"
    "5e6f7a8b9c0d\","
    "\"jti\":\"0190f2a4-2c1e-7d3a-9b1c-5e6f7a8b9c0e\",\"iat\":1700000000,\"nbf\":1700000000,"
    "\"exp\":1700086400,"
    "\"org_id\":\"0190f2a4-2c1e-7d3a-9b1c-5e6f7a8b9c0f\",\"org_type\":\"standard\",\"user_email\":"
    "\"ada@example.com\","
    "\"user_id\":\"0190f2a4-2c1e-7d3a-9b1c-5e6f7a8b9c0d\",\"user_name\":\"Ada\",\"user_type\":"
    "\"external\","
    "\"rbac_group_objects\":[{\"id\":\"0190f2a4-2c1e-7d3a-9b1c-5e6f7a8b9c10\",\"name\":\"Staff\"}],"
    "\"metadata\":{\"correlationId\":\"c-1\"}}";
static const char idp_claims[] =
    "{\"iss\":\"https://idp.example.com/\",\"aud\":\"api://"
    "tessera\",\"sub\":\"00u1abcd\",\"email\":\"ada@example.com\","
    "\"email_verified\":true,\"iat\":1700000000,\"exp\":1700003600,\"scp\":[\"openid\",\"email\"]}";

/* A signed seed: the selector byte, then a token of hdr and payload signed
 * by pk with alg. */
typedef struct {
    const char *name;
    uint8_t sel;
    int key; /* 0 key a, 1 key b, 2 RSA */
    jwt_alg alg;
    const char *hdr, *payload;
} signed_seed;

static void put_signed(const char *dir, const signed_seed *s, size_t n, EVP_PKEY *const keys[3])
{
    for (size_t i = 0; i < n; i++) {
        buf_t t;
        token(keys[s[i].key], s[i].alg, s[i].hdr, s[i].payload, &t);
        seed(dir, s[i].name, s[i].sel, t.data, t.len);
        buf_free(&t);
    }
}

#define HDR_ES(kid, rest) "{\"alg\":\"ES256\",\"kid\":\"" kid "\"" rest "}"

static void gen_jws_verify(EVP_PKEY *const keys[3])
{
    static const signed_seed tokens[] = {
        {"valid-key-a", 0, 0, JWT_ALG_ES256, HDR_ES(FUZZ_KID_A, ",\"typ\":\"JWT\""),
         session_claims},
        {"valid-key-b-no-typ", 0, 1, JWT_ALG_ES256, HDR_ES(FUZZ_KID_B, ""), "{\"sub\":\"x\"}"},
        {"wrong-key-for-kid", 1, 0, JWT_ALG_ES256, HDR_ES(FUZZ_KID_B, ",\"typ\":\"JWT\""),
         session_claims},
        {"signed-jku", 0, 0, JWT_ALG_ES256, HDR_ES(FUZZ_KID_A, ",\"jku\":\"https://evil.example\""),
         "{}"},
        {"signed-duplicate-kid", 0, 0, JWT_ALG_ES256,
         HDR_ES(FUZZ_KID_A, ",\"kid\":\"" FUZZ_KID_B "\""), "{}"},
    };
    put_signed("jws_verify", tokens, sizeof(tokens) / sizeof(tokens[0]), keys);
    /* sign mode: where (2 bytes), xor mask, then the payload */
    static const char sign_a[] =
        "\x00\x10\x01{\"iss\":\"https://sso.example.com\",\"aud\":"
        "[\"x\",\"tessera:session\"],\"sub\":\"a\",\"jti\":\"j\",\"org_id\":\"o\","
        "\"iat\":1700000000,\"nbf\":1700000030,\"exp\":1700000001}";
    static const char sign_b[] = "\x01\x00\x80{\"metadata\":{\"k\":[1,2,{\"n\":null}]}}";
    static const char sign_bad[] = "\x00\x00\x01[1,2]";
    seed("jws_verify", "sign-key-a", 2, sign_a, sizeof(sign_a) - 1);
    seed("jws_verify", "sign-key-b", 3, sign_b, sizeof(sign_b) - 1);
    seed("jws_verify", "sign-array-payload", 2, sign_bad, sizeof(sign_bad) - 1);
    /* regression: clock_iso8601 of an exp after year 9999 (docs/FUZZING.md, Findings) */
    static const char sign_huge_exp[] = "\x00\x00\x01{\"exp\":100000000000000}";
    seed("jws_verify", "sign-huge-exp", 2, sign_huge_exp, sizeof(sign_huge_exp) - 1);
}

static void gen_jws_external(EVP_PKEY *const keys[3])
{
    static const signed_seed tokens[] = {
        {"rs256", 0, 2, JWT_ALG_RS256,
         "{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID_RSA "\",\"typ\":\"JWT\"}", idp_claims},
        {"rs256-only-es256-allowed", 1, 2, JWT_ALG_RS256,
         "{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID_RSA "\",\"typ\":\"JWT\"}", idp_claims},
        {"ps256-at-jwt", 0, 2, JWT_ALG_PS256,
         "{\"alg\":\"PS256\",\"kid\":\"" FUZZ_KID_RSA "\",\"typ\":\"at+jwt\"}", idp_claims},
        {"es256-key-a-x5t", 0, 0, JWT_ALG_ES256,
         HDR_ES(FUZZ_KID_A, ",\"x5t\":\"bm90LWEtdGh1bWJwcmludA\""), idp_claims},
        {"es256-key-b", 1, 1, JWT_ALG_ES256, HDR_ES(FUZZ_KID_B, ",\"typ\":\"application/JWT\""),
         idp_claims},
        {"unknown-kid", 0, 2, JWT_ALG_RS256, "{\"alg\":\"RS256\",\"kid\":\"rotated-away\"}",
         idp_claims},
    };
    put_signed("jws_external", tokens, sizeof(tokens) / sizeof(tokens[0]), keys);
    /* sign mode (selector 8 | key << 4): header line, then the payload
     * (whose first two bytes pick the tampering) */
    static const char *const pairs[][2] = {
        {HDR_ES(FUZZ_KID_A, ""), "{\"sub\":\"x\"}"},
        {HDR_ES(FUZZ_KID_B, ",\"crit\":[\"exp\"]"), "{\"sub\":\"x\"}"},
        {"{\"alg\":\"RS256\",\"kid\":\"" FUZZ_KID_RSA "\",\"jwk\":{\"kty\":\"RSA\"}}",
         "{\"sub\":\"x\"}"},
        {"{\"alg\":\"PS256\",\"kid\":\"" FUZZ_KID_RSA "\",\"typ\":\"at+JWT\",\"x5t#S256\":\"abc\"}",
         idp_claims},
    };
    for (int i = 0; i < 4; i++) {
        char name[32];
        buf_t in;
        buf_init(&in, 4096);
        FUZZ_CHECK(buf_printf(&in, "%s\n%s", pairs[i][0], pairs[i][1]) == 0);
        snprintf(name, sizeof(name), "sign-%d", i);
        seed("jws_external", name, (uint8_t)(8 | i << 4), in.data, in.len);
        buf_free(&in);
    }
}

static void gen_jwks(EVP_PKEY *a, EVP_PKEY *b, EVP_PKEY *rsa)
{
    static const char dir[] = "jwks";
    buf_t ka, kb, kr, doc;
    fuzz_ec_jwk(a, 0, ",\"kid\":\"" FUZZ_KID_A "\",\"use\":\"sig\"", &ka);
    fuzz_ec_jwk(b, 0, ",\"kid\":\"" FUZZ_KID_B "\",\"alg\":\"ES256\"", &kb);
    fuzz_rsa_jwk(rsa, ",\"kid\":\"" FUZZ_KID_RSA "\",\"alg\":\"RS256\",\"x5c\":[\"MIIBfake\"]",
                 &kr);
    buf_init(&doc, 65536);
    FUZZ_CHECK(buf_printf(&doc, "{\"keys\":[%s,%s,%s]}", ka.data, kb.data, kr.data) == 0);
    seed(dir, "three-keys", 0, doc.data, doc.len);
    doc.len = 0;
    FUZZ_CHECK(buf_printf(&doc, "{\"keys\":[%s,%s,{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},42]}",
                          kr.data, kb.data) == 0);
    seed(dir, "skipped-entries", 2, doc.data, doc.len);
    doc.len = 0;
    FUZZ_CHECK(buf_printf(&doc, "{\"keys\":[%s,%s]}", kb.data, kb.data) == 0);
    seed(dir, "duplicate-kid", 0, doc.data, doc.len);
    buf_free(&kr);
    fuzz_rsa_jwk(rsa, "", &kr);
    doc.len = 0;
    FUZZ_CHECK(buf_printf(&doc, "{\"keys\":[%s]}", kr.data) == 0);
    seed(dir, "single-key-no-kid", 6, doc.data, doc.len);
    seed(dir, "jwk-rsa", 8 | 6, kr.data, kr.len);
    seed(dir, "jwk-ec", 8 | 1, ka.data, ka.len);
    buf_free(&ka);
    fuzz_ec_jwk(a, 1, ",\"key_ops\":[\"verify\"]", &ka);
    seed(dir, "jwk-ec-with-private", 8, ka.data, ka.len);
    buf_free(&doc);
    buf_free(&kr);
    buf_free(&kb);
    buf_free(&ka);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    root = argv[1];
    EVP_PKEY *a = fuzz_pkey(fuzz_ec_a_pem), *b = fuzz_pkey(fuzz_ec_b_pem),
             *rsa = fuzz_pkey(fuzz_rsa_pem);
    EVP_PKEY *const keys[3] = {a, b, rsa};
    gen_jws_verify(keys);
    gen_jws_external(keys);
    gen_jwks(a, b, rsa);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(b);
    EVP_PKEY_free(a);
    return 0;
}
