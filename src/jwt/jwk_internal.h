/* jwk_internal.h - what jws.c needs from a jwt_key; not for other modules.
 *
 * Nothing outside src/crypto and src/jwt includes OpenSSL headers, so this
 * header stays inside src/jwt. */
#ifndef TESSERA_JWT_JWK_INTERNAL_H
#define TESSERA_JWT_JWK_INTERNAL_H

#include <openssl/evp.h>

#include "jwt/jwk.h"

/* The key's OpenSSL form (borrowed; lives as long as k). It is only read:
 * each sign/verify makes its own EVP_PKEY_CTX, so concurrent use is safe,
 * though signing threads should each hold a clone for speed (jwk.h). */
EVP_PKEY *jwt_key__pkey(const jwt_key *k);

#endif
