/* jws.h - compact JWS signing and verification for session tokens
 * (ES256 only; external tokens are verified by jws_external.h).
 *
 * Verification never trusts the header: the key is found by "kid" through
 * the caller's lookup and its pinned algorithm must equal the header's "alg"
 * exactly; "none", HMAC and any algorithm the key was not made for are
 * refused, and "jwk", "jku", "x5u", "x5c" and "crit" headers are refused
 * (also "x5t", "x5t#S256" and "b64"; "typ", when present, must be "JWT").
 * Order of checks and thread safety: docs/internals/CRYPTO.md. */
#ifndef TESSERA_JWT_JWS_H
#define TESSERA_JWT_JWS_H

#include <jansson.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"
#include "jwt/jwk.h"

#define JWS_MAX_LEN 16384 /* longest compact token accepted */

/* Appends header.payload.signature to out, with the protected header
 * {"alg":<key alg>,"kid":<kid>,"typ":"JWT"}. payload is the claims JSON.
 * k must have a private part. Returns 0, or -1 with *e set and out left as
 * it was: ERR_INVALID_REQUEST when the token would exceed JWS_MAX_LEN,
 * ERR_INTERNAL when out is full or the key cannot sign. */
int jws_sign(const jwt_key *k, const char *payload, size_t len, buf_t *out, err_t *e);

/* Finds the verification key for kid; NULL when unknown. */
typedef const jwt_key *(*jws_key_lookup)(void *ctx, const char *kid);

/* Verifies a compact JWS and returns its payload parsed as a JSON object
 * (new reference; duplicate keys rejected), or NULL with *e set to
 * ERR_UNAUTHORIZED and a detail naming the failed check (never the token). */
json_t *jws_verify(const char *compact, size_t len, jws_key_lookup lookup, void *ctx, err_t *e);

/* Raw signature check with k's pinned algorithm: sig is the JWS form
 * (ES256: r || s, 64 bytes; RS256/PS256: exactly as many bytes as the
 * modulus; PS256 = PSS, SHA-256, MGF1-SHA-256, salt 32). Returns 1 valid,
 * 0 invalid. Used by jws_verify, jws_verify_external and the test vectors. */
int jws_verify_signature(const jwt_key *k, const void *signing_input, size_t n, const void *sig,
                         size_t siglen);

/* Added: the raw counterpart of jws_verify_signature. Writes the JWS form
 * of a signature over signing_input (for ES256, r || s) into sig[*siglen];
 * *siglen is the room on entry (64 is enough for ES256) and the length on
 * return. k must have a private part. Returns 0 or -1. Session tokens use
 * jws_sign; this is for tests and other JWS layouts. */
#define JWS_SIG_MAX 64
int jws_sign_signature(const jwt_key *k, const void *signing_input, size_t n, unsigned char *sig,
                       size_t *siglen);

#endif
