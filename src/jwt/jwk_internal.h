/* jwk_internal.h - what jws.c and jwks.c need from a jwt_key; not for other
 * modules.
 *
 * Nothing outside src/crypto and src/jwt includes OpenSSL headers, so this
 * header stays inside src/jwt. */
#ifndef TESSERA_JWT_JWK_INTERNAL_H
#define TESSERA_JWT_JWK_INTERNAL_H

#include <jansson.h>
#include <openssl/evp.h>

#include "core/err.h"
#include "jwt/jwk.h"

/* The key's OpenSSL form (borrowed; lives as long as k). It is only read:
 * each sign/verify makes its own EVP_PKEY_CTX, so concurrent use is safe,
 * though signing threads should each hold a clone for speed (jwk.h). */
EVP_PKEY *jwt_key__pkey(const jwt_key *k);

/* Imports an already parsed public JWK object (a member of a JWKS) pinned
 * to alg, with the same rules as jwt_key_import_public. The key has no kid
 * of its own (jwt_key_kid returns ""): the JWKS entry holding it keeps the
 * kid. Caller frees. NULL with *e set (ERR_INVALID_REQUEST) on failure. */
jwt_key *jwt_key__import_public_obj(const json_t *obj, jwt_alg alg, err_t *e);

/* From jwk_rsa.c: the OpenSSL form of an RSA public key given as the JWK's
 * base64url "n" and "e" (RFC 7518 section 6.3.1), after every check listed
 * at jwt_key_import_public. Returns a new key (caller frees) or NULL with
 * *e set to ERR_INVALID_REQUEST naming the failed rule. */
EVP_PKEY *jwt_key__rsa_public_new(const char *n_b64, const char *e_b64, err_t *e);

#endif
