/* jwks.h - an identity provider's JWK Set (RFC 7517 section 5), parsed once
 * into the public keys that may verify its tokens (jws_external.h).
 *
 * A jwks_set is immutable once built: any number of threads may look keys
 * up and verify with them concurrently. Each usable key is identified by
 * its kid and carries the algorithms it may verify; lookups are by
 * (kid, alg), so a key is never used with an algorithm it was not
 * published for. Rules and the decisions behind them: docs/internals/
 * CRYPTO.md, "External tokens (token exchange)". */
#ifndef TESSERA_JWT_JWKS_H
#define TESSERA_JWT_JWKS_H

#include <stddef.h>

#include "core/err.h"
#include "jwt/jwk.h"

#define JWKS_JSON_MAX (256 * 1024) /* longest JWKS document accepted */
#define JWKS_MAX_KEYS 100          /* most entries in "keys" (skipped ones included) */
#define JWKS_KID_MAX 255           /* longest kid kept (bytes); longer keys are skipped */

typedef struct jwks_set jwks_set;

/* Parses a JWKS document json[len] and keeps the keys usable for one of
 * allowed[nallowed] (distinct JWT_ALG_* values, 1 to JWT_ALG_MAX of them).
 *
 * The document must be at most JWKS_JSON_MAX bytes of strict JSON (no
 * duplicate members, depth <= 4) whose top level is an object with a "keys"
 * array of at most JWKS_MAX_KEYS entries. An entry is skipped (not an
 * error) when it is not an object, its "use" is present and not "sig", its
 * kty is neither "RSA" nor "EC", its "alg" is present and not an allowed
 * algorithm of its key type, its "kid" is not a string of 1..JWKS_KID_MAX
 * bytes without control characters, it has no kid while "keys" has more
 * than one entry, or jwt_key_import_public refuses it for one of its
 * algorithms. A key's algorithms are its "alg" when present, else every
 * allowed algorithm of its type (RSA: RS256, PS256; EC P-256: ES256).
 *
 * Errors (NULL, *e set, ERR_INVALID_REQUEST): the document breaks a rule
 * above, no entry is usable, or two usable entries share a kid and an
 * algorithm (no "first wins": such a set is ambiguous and refused whole).
 * ERR_INTERNAL when allowed is empty or names an unknown algorithm.
 * Details name the rule and the entry's index, never key material.
 * Caller frees with jwks_free. */
jwks_set *jwks_parse(const char *json, size_t len, const jwt_alg *allowed, size_t nallowed,
                     err_t *e);

void jwks_free(jwks_set *s); /* NULL is fine */

/* Number of usable keys (entries kept, whatever their number of algs). */
size_t jwks_set_count(const jwks_set *s);

/* The key for (kid, alg), borrowed (lives as long as s), pinned to alg, or
 * NULL. kid NULL finds the set's one kid-less key, which exists only when
 * that key was the document's only entry; a kid never matches it. The
 * key's own jwt_key_kid is "" (the set keeps the kid). */
const jwt_key *jwks_find(const jwks_set *s, const char *kid, jwt_alg alg);

/* 1 when some usable key has this kid (NULL: the kid-less key), whatever
 * its algorithms; lets a caller tell "unknown kid" (refetch the JWKS) from
 * "kid known, algorithm not usable with it". */
int jwks_has_kid(const jwks_set *s, const char *kid);

#endif
