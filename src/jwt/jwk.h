/* jwk.h - signing keys for session tokens (cjose underneath).
 *
 * A jwt_key holds a kid, an algorithm pinned to the key, a public key and
 * optionally the private key. Keys are not shared between threads for
 * signing: each worker takes its own copy with jwt_key_clone (a shared
 * EVP_PKEY halves ES256 throughput under OpenSSL 3). */
#ifndef TESSERA_JWT_JWK_H
#define TESSERA_JWT_JWK_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

typedef enum { JWT_ALG_ES256 = 1 } jwt_alg;

typedef struct jwt_key jwt_key;

/* "ES256" for JWT_ALG_ES256. Static string. */
const char *jwt_alg_name(jwt_alg alg);
/* Exact, case-sensitive match of a JOSE "alg" value; 0 when not supported. */
jwt_alg jwt_alg_from_name(const char *name);

/* A new random key pair. kid is copied (max 63 chars). NULL on failure. */
jwt_key *jwt_key_generate(jwt_alg alg, const char *kid, err_t *e);

/* Appends the private JWK as compact JSON (a secret: seal it before storing,
 * never log it). Returns 0 or -1 (key has no private part). */
int jwt_key_export_private(const jwt_key *k, buf_t *out);

/* Imports a private JWK produced by jwt_key_export_private. The kid and alg
 * come from the arguments, not the JSON. NULL with *e set on failure. */
jwt_key *jwt_key_import_private(const char *jwk_json, size_t len, jwt_alg alg, const char *kid,
                                err_t *e);

/* Imports a public JWK object (kty EC, crv P-256, x, y for ES256); any
 * private member is ignored. The kid/alg given are pinned to the key.
 * Both imports also refuse a JWK whose "alg" is not the pinned algorithm,
 * whose "use" is not "sig", or whose "key_ops" lack "verify" (public) or
 * "sign" (private), and a point not on the curve (docs/internals/CRYPTO.md). */
jwt_key *jwt_key_import_public(const char *jwk_json, size_t len, jwt_alg alg, const char *kid,
                               err_t *e);

/* Appends the public JWK as compact JSON with "kid", "alg" and "use":"sig". */
int jwt_key_export_public(const jwt_key *k, buf_t *out);

/* An independent copy (with the private part when k has one). */
jwt_key *jwt_key_clone(const jwt_key *k);

const char *jwt_key_kid(const jwt_key *k);
jwt_alg jwt_key_alg(const jwt_key *k);
int jwt_key_has_private(const jwt_key *k);

void jwt_key_free(jwt_key *k); /* NULL is fine */

#endif
