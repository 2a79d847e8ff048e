/* jws_cache.h - a small cache of compact JWS already verified, so that a
 * session token presented again and again (every /api/v1/me, every embed
 * watch) costs a table lookup instead of an ECDSA verification.
 *
 * What is cached is only what jws_verify computes, which depends on nothing
 * but the token's bytes and the verification keys: the payload it returned.
 * Everything that depends on time or state (exp/nbf, revocation, the org and
 * access token still existing) is still checked by the caller on every use.
 * The owner clears the cache whenever its set of verification keys changes.
 *
 * One cache belongs to one thread (a worker); nothing here locks. Slots are
 * direct-mapped: a token's slot comes from a hash keyed with a random seed
 * of the process, and a hit needs the whole token equal (compared in
 * constant time), so a token that merely collides is verified as usual.
 * Memory is bounded: at most `slots` entries, tokens up to
 * JWS_CACHE_MAX_TOKEN bytes; an entry whose "exp" has passed is a miss and
 * is dropped. docs/internals/CRYPTO.md. */
#ifndef TESSERA_JWT_JWS_CACHE_H
#define TESSERA_JWT_JWS_CACHE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "jwt/jws.h"

#define JWS_CACHE_MAX_TOKEN 4096 /* longer tokens are verified every time */

typedef struct jws_cache jws_cache;

/* slots is rounded up to a power of two (at least 1). */
jws_cache *jws_cache_new(size_t slots);
void jws_cache_free(jws_cache *c); /* NULL is fine */

/* Forgets every entry (the verification keys changed). */
void jws_cache_clear(jws_cache *c);

/* jws_verify through the cache: the payload of a token verified before and
 * whose "exp" (when it has one) is after now, or else jws_verify's answer,
 * remembered when it is a success. Returns a new reference, or NULL with *e
 * set as jws_verify does. The returned object is shared with the cache:
 * callers must not modify it. c may be NULL (no caching). */
json_t *jws_cache_verify(jws_cache *c, const char *compact, size_t len, jws_key_lookup lookup, void *ctx,
                         int64_t now, err_t *e);

/* Hits and misses since creation (for tests and metrics). */
void jws_cache_stats(const jws_cache *c, uint64_t *hits, uint64_t *misses);

#endif
