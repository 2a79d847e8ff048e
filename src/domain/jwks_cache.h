/* jwks_cache.h - identity providers' published key sets (JWKS), fetched
 * over HTTP and shared by every worker thread.
 *
 * A set is kept for as long as its Cache-Control max-age says (clamped to
 * JWKS_MIN_TTL..JWKS_MAX_TTL; JWKS_DEFAULT_TTL without one), refetched when
 * stale, and refetched early at most once per JWKS_MIN_TTL when a token
 * names a kid the set lacks (a key rotation at the provider). When a refetch
 * fails the previous set stays in use for up to JWKS_STALE_GRACE beyond its
 * age; with no set at all the caller gets ERR_UNAVAILABLE (HTTP 503). After
 * a failed fetch the next attempt waits JWKS_RETRY_AFTER, so a down provider
 * is not hammered and requests fail fast. Fetches of one URI are serialized:
 * concurrent requests wait for the one fetch. Thread-safe. */
#ifndef TESSERA_DOMAIN_JWKS_CACHE_H
#define TESSERA_DOMAIN_JWKS_CACHE_H

#include <stdint.h>

#include "core/err.h"
#include "jwt/jwks.h"

#define JWKS_MIN_TTL 60
#define JWKS_DEFAULT_TTL 300
#define JWKS_MAX_TTL 86400
#define JWKS_STALE_GRACE 86400
#define JWKS_RETRY_AFTER 2
#define JWKS_FETCH_TIMEOUT_MS 5000

typedef struct jwks_cache jwks_cache;
typedef struct jwks_ref jwks_ref; /* a counted reference to one immutable set */

jwks_cache *jwks_cache_new(void);
void jwks_cache_free(jwks_cache *c); /* every reference must have been released */

/* The set published at uri, fetching it when there is none or it is stale,
 * or (unknown_kid) when the last fetch is at least JWKS_MIN_TTL old.
 * Release the reference with jwks_ref_release. NULL with *e set otherwise. */
jwks_ref *jwks_cache_get(jwks_cache *c, const char *uri, int64_t now, int unknown_kid, err_t *e);
const jwks_set *jwks_ref_set(const jwks_ref *r);
void jwks_ref_release(jwks_ref *r);

/* The lifetime a Cache-Control value grants, in seconds (clamped). Pure. */
int64_t jwks_cache_ttl(const char *cache_control);

#endif
