/* jws_external.h - verifying a compact JWS issued by an external identity
 * provider (Okta, Auth0, Entra ID, Cognito...): the subject_token of OAuth
 * 2.0 Token Exchange (RFC 8693).
 *
 * Same stance as jws_verify for session tokens: the header never chooses
 * the key or the algorithm. The key comes from the provider's JWKS by
 * "kid", the header's "alg" must be one of the caller's allowed algorithms
 * and one the key was published for; "none", HMAC and everything else are
 * refused. Claims are checked separately (claims.h,
 * external_claims_check). Order of checks: docs/internals/CRYPTO.md,
 * "External tokens (token exchange)". */
#ifndef TESSERA_JWT_JWS_EXTERNAL_H
#define TESSERA_JWT_JWS_EXTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"
#include "jwt/jwk.h"
#include "jwt/jwks.h"
#include "jwt/jws.h"

/* Verifies compact[len] (at most JWS_MAX_LEN bytes) with a key of set and
 * returns its payload parsed as a JSON object (new reference; duplicate
 * members refused), or NULL with *e set to ERR_UNAUTHORIZED and a detail
 * that names the failed check and never quotes the token (the one
 * exception: a refused "alg" that is a registered JOSE algorithm name is
 * named, e.g. "subject token algorithm HS256 is not allowed", from a
 * static table, not from the token). ERR_INTERNAL when set or allowed is
 * missing, or allowed lists no known algorithm.
 *
 * allowed[nallowed]: the algorithms this provider may use (e.g. RS256
 * only). *unknown_kid (may be NULL) is set to 1 only when the token passed
 * every header check but its "kid" is not in set: the provider may have
 * rotated its keys, so the caller may refetch the JWKS (rate-limited: a
 * forger can choose any kid) and verify once more. It is 0 otherwise. */
json_t *jws_verify_external(const char *compact, size_t len, const jwks_set *set,
                            const jwt_alg *allowed, size_t nallowed, int *unknown_kid, err_t *e);

#endif
