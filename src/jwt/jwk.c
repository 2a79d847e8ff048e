/* jwk.c - session-token signing keys, and identity providers' public keys.
 *
 * An ES256 jwt_key holds the same P-256 key twice: as a cjose JWK (random
 * generation, private JWK export) and as an OpenSSL EVP_PKEY built from the
 * JWK's coordinates (what jws.c signs and verifies with; see
 * jwk_internal.h). An RS256/PS256 key is public only: its base64url n and e
 * (for export) and the EVP_PKEY built by jwk_rsa.c. Imports are strict: the
 * JSON is parsed with json_parse_strict, every member that names a key
 * type, curve, algorithm or use must agree with the algorithm the caller
 * pins, coordinates must be full-length base64url, and OpenSSL checks the
 * point (and, for a private key, that d matches it). */
#include "jwt/jwk.h"

#include <cjose/cjose.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/xalloc.h"
#include "jwt/b64url.h"
#include "jwt/jwk_internal.h"

#define KID_MAX 63
#define P256_COORD_LEN 32
#define P256_COORD_B64_LEN 43 /* b64url_encoded_len(32) */
#define JWK_JSON_MAX 4096     /* far above any P-256 JWK or 8192-bit RSA JWK */
#define JWK_JSON_DEPTH 2      /* key_ops is the only nested member */

struct jwt_key {
    jwt_alg alg;
    int has_private;
    char kid[KID_MAX + 1];
    char x[P256_COORD_B64_LEN + 1]; /* ES256: public coordinates, base64url */
    char y[P256_COORD_B64_LEN + 1];
    char *n, *e;      /* RS256/PS256: modulus and exponent, base64url; owned */
    cjose_jwk_t *jwk; /* ES256 only; owned; released in jwt_key_free */
    EVP_PKEY *pkey;   /* owned; freed in jwt_key_free */
};

const char *jwt_alg_name(jwt_alg alg)
{
    switch (alg) {
    case JWT_ALG_ES256:
        return "ES256";
    case JWT_ALG_RS256:
        return "RS256";
    case JWT_ALG_PS256:
        return "PS256";
    }
    return "unknown";
}

jwt_alg jwt_alg_from_name(const char *name)
{
    for (int a = 1; name != NULL && a <= JWT_ALG_MAX; a++)
        if (strcmp(name, jwt_alg_name((jwt_alg)a)) == 0)
            return (jwt_alg)a;
    return (jwt_alg)0;
}

static int alg_is_rsa(jwt_alg alg)
{
    return alg == JWT_ALG_RS256 || alg == JWT_ALG_PS256;
}

/* 1..63 bytes, no control characters (kids end up in headers and logs). */
static int kid_ok(const char *kid)
{
    if (kid == NULL)
        return 0;
    size_t n = strnlen(kid, KID_MAX + 1);
    if (n == 0 || n > KID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)kid[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

/* Keys with a private part (generated or imported) are ES256 only; public
 * keys may also be RS256 or PS256. */
static int check_alg_kid(jwt_alg alg, const char *kid, int with_private, err_t *e)
{
    if (alg != JWT_ALG_ES256 && (with_private || !alg_is_rsa(alg)))
        return err_set(e, ERR_INVALID_REQUEST, "unsupported signing algorithm");
    if (!kid_ok(kid))
        return err_set(e, ERR_INVALID_REQUEST,
                       "key id must be 1 to %d characters without control characters", KID_MAX);
    return 0;
}

/* A P-256 coordinate or scalar: exactly 43 base64url characters (RFC 7518
 * section 6.2.1.2 requires the full 32-byte length). */
static int coord_decode(const char *b64, unsigned char out[P256_COORD_LEN + 1])
{
    size_t n = 0;
    if (strlen(b64) != P256_COORD_B64_LEN || b64url_decode(b64, P256_COORD_B64_LEN, out, &n) != 0 ||
        n != P256_COORD_LEN)
        return -1;
    return 0;
}

/* The member `name` of obj as a string, NULL when absent; *bad set when it
 * is present but not a string. */
static const char *member_str(const json_t *obj, const char *name, int *bad)
{
    json_t *v = json_object_get(obj, name);
    if (v == NULL)
        return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/* key_ops, when present, must be an array of strings that contains op. */
static int key_ops_allow(const json_t *obj, const char *op)
{
    json_t *ops = json_object_get(obj, "key_ops"), *v;
    size_t i;
    if (ops == NULL)
        return 1;
    if (!json_is_array(ops))
        return 0;
    int found = 0;
    json_array_foreach(ops, i, v)
    {
        if (!json_is_string(v))
            return 0;
        if (strcmp(json_string_value(v), op) == 0)
            found = 1;
    }
    return found;
}

typedef struct {
    const char *x, *y, *d; /* borrowed from the parsed JSON; d NULL if absent */
} ec_members;

typedef struct {
    const char *n, *e; /* borrowed from the parsed JSON */
} rsa_members;

/* The members every key type shares: "alg" (if present) the pinned
 * algorithm, "use" (if present) "sig", "key_ops" (if present) allowing op. */
static int jwk_check_usage(const json_t *obj, jwt_alg alg, const char *op, err_t *e)
{
    int bad = 0;
    const char *jalg = member_str(obj, "alg", &bad), *use = member_str(obj, "use", &bad);
    if (bad)
        return err_set(e, ERR_INVALID_REQUEST, "JWK member has the wrong type");
    if (jalg != NULL && strcmp(jalg, jwt_alg_name(alg)) != 0)
        return err_set(e, ERR_INVALID_REQUEST, "JWK alg does not match the pinned algorithm %s",
                       jwt_alg_name(alg));
    if (use != NULL && strcmp(use, "sig") != 0)
        return err_set(e, ERR_INVALID_REQUEST, "JWK use is not \"sig\"");
    if (!key_ops_allow(obj, op))
        return err_set(e, ERR_INVALID_REQUEST, "JWK key_ops do not allow \"%s\"", op);
    return 0;
}

/* Checks that obj is a JWK usable as an `alg` key for `op` ("sign" or
 * "verify") and collects its coordinates. */
static int jwk_read_ec(const json_t *obj, jwt_alg alg, const char *op, ec_members *m, err_t *e)
{
    int bad = 0;
    const char *kty = member_str(obj, "kty", &bad), *crv = member_str(obj, "crv", &bad);
    m->x = member_str(obj, "x", &bad);
    m->y = member_str(obj, "y", &bad);
    m->d = member_str(obj, "d", &bad);
    if (bad)
        return err_set(e, ERR_INVALID_REQUEST, "JWK member has the wrong type");
    if (kty == NULL || strcmp(kty, "EC") != 0 || crv == NULL || strcmp(crv, "P-256") != 0)
        return err_set(e, ERR_INVALID_REQUEST, "JWK is not an EC P-256 key, as %s needs",
                       jwt_alg_name(alg));
    if (jwk_check_usage(obj, alg, op, e) != 0)
        return -1;
    if (m->x == NULL || m->y == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "JWK has no x or y coordinate");
    return 0;
}

/* The RSA counterpart of jwk_read_ec (public keys only: "verify"). */
static int jwk_read_rsa(const json_t *obj, jwt_alg alg, rsa_members *m, err_t *e)
{
    int bad = 0;
    const char *kty = member_str(obj, "kty", &bad);
    m->n = member_str(obj, "n", &bad);
    m->e = member_str(obj, "e", &bad);
    if (bad)
        return err_set(e, ERR_INVALID_REQUEST, "JWK member has the wrong type");
    if (kty == NULL || strcmp(kty, "RSA") != 0)
        return err_set(e, ERR_INVALID_REQUEST, "JWK is not an RSA key, as %s needs",
                       jwt_alg_name(alg));
    if (jwk_check_usage(obj, alg, "verify", e) != 0)
        return -1;
    if (m->n == NULL || m->e == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "JWK has no modulus n or exponent e");
    return 0;
}

/* Builds the OpenSSL key from raw coordinates (and d when not NULL), then
 * lets OpenSSL check it: the point must be on the curve, and d must be in
 * range and match the point. Returns a new key (caller frees) or NULL. */
static EVP_PKEY *ec_pkey_new(const unsigned char *x, const unsigned char *y, const unsigned char *d)
{
    unsigned char pub[1 + 2 * P256_COORD_LEN];
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    BIGNUM *dbn = NULL;
    EVP_PKEY_CTX *ctx = NULL, *check = NULL;
    EVP_PKEY *pkey = NULL, *ret = NULL;

    pub[0] = 0x04; /* uncompressed point */
    memcpy(pub + 1, x, P256_COORD_LEN);
    memcpy(pub + 1 + P256_COORD_LEN, y, P256_COORD_LEN);
    if (bld == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)))
        goto out;
    if (d != NULL) {
        dbn = BN_secure_new();
        if (dbn == NULL || BN_bin2bn(d, P256_COORD_LEN, dbn) == NULL ||
            !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, dbn))
            goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) != 1)
        goto out;
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (check == NULL || (d ? EVP_PKEY_check(check) : EVP_PKEY_public_check(check)) != 1)
        goto out;
    ret = pkey;
    pkey = NULL;
out:
    if (ret == NULL)
        ERR_clear_error(); /* leave no stale errors for other code */
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    OSSL_PARAM_free(params); /* wipes the secure part holding d */
    BN_clear_free(dbn);
    OSSL_PARAM_BLD_free(bld);
    return ret;
}

/* The cjose form of the same key, with kid set. NULL on failure. */
static cjose_jwk_t *ec_cjose_new(unsigned char *x, unsigned char *y, unsigned char *d,
                                 const char *kid)
{
    cjose_err cerr;
    cjose_jwk_ec_keyspec spec = {
        .crv = CJOSE_JWK_EC_P_256,
        .d = d,
        .dlen = d ? P256_COORD_LEN : 0,
        .x = x,
        .xlen = P256_COORD_LEN,
        .y = y,
        .ylen = P256_COORD_LEN,
    };
    cjose_jwk_t *jwk = cjose_jwk_create_EC_spec(&spec, &cerr);
    if (jwk != NULL && !cjose_jwk_set_kid(jwk, kid, strlen(kid), &cerr)) {
        cjose_jwk_release(jwk);
        jwk = NULL;
    }
    return jwk;
}

/* The one constructor behind every EC import; m->d is used only with_private. */
static jwt_key *key_build_ec(jwt_alg alg, const char *kid, const ec_members *m, int with_private,
                             err_t *e)
{
    unsigned char x[P256_COORD_LEN + 1], y[P256_COORD_LEN + 1], d[P256_COORD_LEN + 1];
    unsigned char *dp = with_private ? d : NULL;
    jwt_key *k = NULL, *ret = NULL;

    if (coord_decode(m->x, x) != 0 || coord_decode(m->y, y) != 0) {
        err_set(e, ERR_INVALID_REQUEST, "JWK coordinates are not 32-byte base64url values");
        goto out;
    }
    if (dp != NULL && (m->d == NULL || coord_decode(m->d, dp) != 0)) {
        err_set(e, ERR_INVALID_REQUEST, "JWK has no valid private key \"d\"");
        goto out;
    }
    k = xcalloc(1, sizeof(*k));
    k->alg = alg;
    k->has_private = dp != NULL;
    str_copy(k->kid, sizeof(k->kid), kid);
    str_copy(k->x, sizeof(k->x), m->x);
    str_copy(k->y, sizeof(k->y), m->y);
    k->pkey = ec_pkey_new(x, y, dp);
    if (k->pkey == NULL) {
        err_set(e, ERR_INVALID_REQUEST,
                dp ? "JWK is not a valid P-256 key pair" : "JWK is not a valid P-256 point");
        goto out;
    }
    k->jwk = ec_cjose_new(x, y, dp, kid);
    if (k->jwk == NULL) {
        err_set(e, ERR_INTERNAL, "cannot create the JWK");
        goto out;
    }
    ret = k;
    k = NULL;
out:
    OPENSSL_cleanse(d, sizeof(d));
    jwt_key_free(k);
    return ret;
}

/* The constructor behind every RSA import (public only). */
static jwt_key *key_build_rsa(jwt_alg alg, const char *kid, const rsa_members *m, err_t *e)
{
    EVP_PKEY *pkey = jwt_key__rsa_public_new(m->n, m->e, e);
    if (pkey == NULL)
        return NULL;
    jwt_key *k = xcalloc(1, sizeof(*k));
    k->alg = alg;
    str_copy(k->kid, sizeof(k->kid), kid);
    k->n = xstrdup(m->n);
    k->e = xstrdup(m->e);
    k->pkey = pkey;
    return k;
}

/* Builds the key from a parsed JWK object. A private import needs "d" and
 * key_ops (if any) allowing "sign"; a public one ignores private members.
 * alg and kid were checked by the caller (kid may be "" for JWKS keys). */
static jwt_key *key_from_obj(const json_t *obj, jwt_alg alg, const char *kid, int with_private,
                             err_t *e)
{
    ec_members ec;
    rsa_members rsa;

    if (!json_is_object(obj)) {
        err_set(e, ERR_INVALID_REQUEST, "JWK is not a JSON object");
        return NULL;
    }
    if (alg_is_rsa(alg))
        return jwk_read_rsa(obj, alg, &rsa, e) == 0 ? key_build_rsa(alg, kid, &rsa, e) : NULL;
    if (jwk_read_ec(obj, alg, with_private ? "sign" : "verify", &ec, e) != 0)
        return NULL;
    return key_build_ec(alg, kid, &ec, with_private, e);
}

/* Parses jwk_json strictly and builds the key (key_from_obj). */
static jwt_key *key_from_text(const char *jwk_json, size_t len, jwt_alg alg, const char *kid,
                              int with_private, err_t *e)
{
    json_t *obj = NULL;
    jwt_key *k = NULL;

    if (jwk_json == NULL || len > JWK_JSON_MAX) {
        err_set(e, ERR_INVALID_REQUEST, "JWK is missing or longer than %d bytes", JWK_JSON_MAX);
        goto out;
    }
    /* The parse error names a position only, never the (possibly secret) text. */
    obj = json_parse_strict(jwk_json, len, JWK_JSON_DEPTH, 0, e);
    if (obj != NULL)
        k = key_from_obj(obj, alg, kid, with_private, e);
out:
    json_decref(obj);
    return k;
}

jwt_key *jwt_key_import_private(const char *jwk_json, size_t len, jwt_alg alg, const char *kid,
                                err_t *e)
{
    if (check_alg_kid(alg, kid, 1, e) != 0)
        return NULL;
    return key_from_text(jwk_json, len, alg, kid, 1, e);
}

jwt_key *jwt_key_import_public(const char *jwk_json, size_t len, jwt_alg alg, const char *kid,
                               err_t *e)
{
    if (check_alg_kid(alg, kid, 0, e) != 0)
        return NULL;
    return key_from_text(jwk_json, len, alg, kid, 0, e);
}

jwt_key *jwt_key__import_public_obj(const json_t *obj, jwt_alg alg, err_t *e)
{
    if (alg != JWT_ALG_ES256 && !alg_is_rsa(alg)) {
        err_set(e, ERR_INVALID_REQUEST, "unsupported signing algorithm");
        return NULL;
    }
    return key_from_obj(obj, alg, "", 0, e);
}

jwt_key *jwt_key_generate(jwt_alg alg, const char *kid, err_t *e)
{
    cjose_err cerr;
    cjose_jwk_t *jwk = NULL;
    char *json = NULL; /* the private JWK; wiped before it is freed */
    jwt_key *k = NULL;

    if (check_alg_kid(alg, kid, 1, e) != 0)
        goto out;
    jwk = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &cerr);
    json = jwk ? cjose_jwk_to_json(jwk, true, &cerr) : NULL;
    if (json == NULL) {
        err_set(e, ERR_INTERNAL, "cannot generate a P-256 key");
        goto out;
    }
    k = jwt_key_import_private(json, strlen(json), alg, kid, e);
out:
    if (json != NULL) {
        OPENSSL_cleanse(json, strlen(json));
        cjose_get_dealloc()(json);
    }
    cjose_jwk_release(jwk);
    return k;
}

int jwt_key_export_private(const jwt_key *k, buf_t *out)
{
    cjose_err cerr;
    if (k == NULL || !k->has_private)
        return -1;
    char *json = cjose_jwk_to_json(k->jwk, true, &cerr);
    if (json == NULL)
        return -1;
    int rc = buf_puts(out, json);
    OPENSSL_cleanse(json, strlen(json));
    cjose_get_dealloc()(json);
    return rc;
}

/* The key material members, up to and including "kid": */
static int export_material(const jwt_key *k, buf_t *out)
{
    if (alg_is_rsa(k->alg))
        return buf_printf(out, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\",\"kid\":", k->n, k->e);
    return buf_printf(
        out, "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":", k->x, k->y);
}

int jwt_key_export_public(const jwt_key *k, buf_t *out)
{
    if (k == NULL)
        return -1;
    size_t start = out->len;
    int rc = export_material(k, out);
    if (rc == 0)
        rc = buf_json_string(out, k->kid, strlen(k->kid));
    if (rc == 0)
        rc = buf_printf(out, ",\"alg\":\"%s\",\"use\":\"sig\"}", jwt_alg_name(k->alg));
    if (rc != 0 && out->data != NULL) {
        out->len = start; /* all or nothing */
        out->data[start] = '\0';
    }
    return rc;
}

jwt_key *jwt_key_clone(const jwt_key *k)
{
    buf_t json;
    jwt_key *copy = NULL;

    if (k == NULL)
        return NULL;
    /* A fresh import gives the copy its own EVP_PKEY and cjose JWK. */
    buf_init(&json, JWK_JSON_MAX);
    if (k->has_private) {
        if (jwt_key_export_private(k, &json) == 0)
            copy = key_from_text(json.data, json.len, k->alg, k->kid, 1, NULL);
    } else if (jwt_key_export_public(k, &json) == 0) {
        copy = key_from_text(json.data, json.len, k->alg, k->kid, 0, NULL);
    }
    if (json.data != NULL)
        OPENSSL_cleanse(json.data, json.len);
    buf_free(&json);
    return copy;
}

const char *jwt_key_kid(const jwt_key *k)
{
    return k->kid;
}

jwt_alg jwt_key_alg(const jwt_key *k)
{
    return k->alg;
}

int jwt_key_has_private(const jwt_key *k)
{
    return k != NULL && k->has_private;
}

EVP_PKEY *jwt_key__pkey(const jwt_key *k)
{
    return k->pkey;
}

void jwt_key_free(jwt_key *k)
{
    if (k == NULL)
        return;
    cjose_jwk_release(k->jwk);
    EVP_PKEY_free(k->pkey);
    free(k->n);
    free(k->e);
    free(k);
}
