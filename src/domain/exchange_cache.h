/* exchange_cache.h - access tokens obtained by RFC 8693 exchanges, kept in
 * memory per (integration, user) until shortly before they expire, so an
 * app's calls do not each cost a round trip to the token URL. Never
 * written anywhere; bounded; thread-safe. */
#ifndef TESSERA_DOMAIN_EXCHANGE_CACHE_H
#define TESSERA_DOMAIN_EXCHANGE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define EXCHANGE_TOKEN_MAX 8192     /* longest exchanged token kept */
#define EXCHANGE_CACHE_MAX 10000    /* entries */
#define EXCHANGE_EARLY_EXPIRY 30    /* seconds before expires_in that an entry is dropped */

typedef struct exchange_cache exchange_cache;

exchange_cache *exchange_cache_new(void);
void exchange_cache_free(exchange_cache *c);

/* Copies the token cached for (integration_id, user_id) into out[cap] when
 * one is still valid at now: 0, else -1. */
int exchange_cache_get(exchange_cache *c, const char *integration_id, const char *user_id, int64_t now, char *out,
                       size_t cap);
/* Keeps token until now + expires_in - EXCHANGE_EARLY_EXPIRY (nothing when that is not in the future). */
void exchange_cache_put(exchange_cache *c, const char *integration_id, const char *user_id, const char *token,
                        int64_t now, int64_t expires_in);
/* Forgets the entry (the backend refused the token). */
void exchange_cache_drop(exchange_cache *c, const char *integration_id, const char *user_id);

#endif
