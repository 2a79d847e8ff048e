/* jwk.h - signing keys for session tokens (cjose underneath), and the
 * public keys of external identity providers.
 *
 * A jwt_key holds a kid, an algorithm pinned to the key, a public key and
 * optionally the private key. Keys are not shared between threads for
 * signing: each worker takes its own copy with jwt_key_clone (a shared
 * EVP_PKEY halves ES256 throughput under OpenSSL 3).
 *
 * Session tokens are ES256 only: generation and private keys exist for
 * ES256 alone. RS256 and PS256 keys are public keys imported from an
 * identity provider's JWKS, used to verify its tokens (jwks.h,
 * jws_external.h) and never to sign. */
#ifndef TESSERA_JWT_JWK_H
#define TESSERA_JWT_JWK_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

typedef enum {
    JWT_ALG_ES256 = 1, /* ECDSA P-256 SHA-256: session tokens and external tokens */
    JWT_ALG_RS256 = 2, /* RSASSA-PKCS1-v1_5 SHA-256: external tokens, verification only */
    JWT_ALG_PS256 = 3, /* RSASSA-PSS SHA-256, MGF1-SHA-256, salt 32: external, verify only */
} jwt_alg;
#define JWT_ALG_MAX JWT_ALG_PS256 /* highest jwt_alg value */

typedef struct jwt_key jwt_key;

/* "ES256", "RS256" or "PS256"; "unknown" for any other value. Static string. */
const char *jwt_alg_name(jwt_alg alg);
/* Exact, case-sensitive match of a JOSE "alg" value; 0 when not supported. */
jwt_alg jwt_alg_from_name(const char *name);

/* A new random key pair. kid is copied (max 63 chars). ES256 only (any
 * other alg: ERR_INVALID_REQUEST). NULL on failure. */
jwt_key *jwt_key_generate(jwt_alg alg, const char *kid, err_t *e);

/* Appends the private JWK as compact JSON (a secret: seal it before storing,
 * never log it). Returns 0 or -1 (key has no private part). */
int jwt_key_export_private(const jwt_key *k, buf_t *out);

/* Imports a private JWK produced by jwt_key_export_private. The kid and alg
 * come from the arguments, not the JSON; alg must be ES256. NULL with *e set
 * on failure. */
jwt_key *jwt_key_import_private(const char *jwk_json, size_t len, jwt_alg alg, const char *kid,
                                err_t *e);

/* Imports a public JWK object: kty EC, crv P-256, x, y for ES256; kty RSA,
 * n, e for RS256 and PS256 (modulus 2048 to 8192 bits, odd, without leading
 * zero octets, not a known-weak ROCA modulus and without a prime factor
 * below 702; e odd, 3 <= e < 2^32, no leading zero octet). Any private
 * member is ignored. The kid/alg given are pinned to the key. Both imports
 * also refuse a JWK whose "alg" is not the pinned algorithm, whose "use" is
 * not "sig", or whose "key_ops" lack "verify" (public) or "sign" (private),
 * and a point not on the curve (docs/internals/CRYPTO.md). */
jwt_key *jwt_key_import_public(const char *jwk_json, size_t len, jwt_alg alg, const char *kid,
                               err_t *e);

/* Appends the public JWK as compact JSON with "kid", "alg" and "use":"sig"
 * ({"kty":"EC","crv","x","y",...} or {"kty":"RSA","n","e",...}). */
int jwt_key_export_public(const jwt_key *k, buf_t *out);

/* An independent copy (with the private part when k has one). */
jwt_key *jwt_key_clone(const jwt_key *k);

const char *jwt_key_kid(const jwt_key *k);
jwt_alg jwt_key_alg(const jwt_key *k);
int jwt_key_has_private(const jwt_key *k);

void jwt_key_free(jwt_key *k); /* NULL is fine */

#endif
