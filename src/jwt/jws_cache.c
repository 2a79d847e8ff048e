#include "jwt/jws_cache.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

typedef struct {
    char *token; /* NULL: empty slot */
    size_t len;
    json_t *payload;
    int64_t exp; /* INT64_MAX when the payload has no integer "exp" */
} cache_entry;

struct jws_cache {
    cache_entry *slots;
    size_t mask;
    uint64_t seed;
    uint64_t hits, misses;
};

jws_cache *jws_cache_new(size_t slots)
{
    size_t n = 1;
    while (n < slots)
        n <<= 1;
    jws_cache *c = xcalloc(1, sizeof(*c));
    c->slots = xcalloc(n, sizeof(*c->slots));
    c->mask = n - 1;
    if (RAND_bytes((unsigned char *)&c->seed, sizeof(c->seed)) != 1)
        c->seed = (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15u; /* only spreads slots; equality decides */
    return c;
}

static void entry_drop(cache_entry *en)
{
    free(en->token);
    json_decref(en->payload);
    memset(en, 0, sizeof(*en));
}

void jws_cache_clear(jws_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i <= c->mask; i++)
        entry_drop(&c->slots[i]);
}

void jws_cache_free(jws_cache *c)
{
    if (c == NULL)
        return;
    jws_cache_clear(c);
    free(c->slots);
    free(c);
}

/* The slot of a token: a seeded mix of its length and its last 64 bytes
 * (the signature, which differs between any two tokens we issued). */
static size_t slot_of(const jws_cache *c, const char *token, size_t len)
{
    uint64_t h = c->seed ^ ((uint64_t)len * 0xff51afd7ed558ccdu);
    size_t from = len > 64 ? len - 64 : 0;
    for (size_t i = from; i < len; i += 8) {
        uint64_t v = 0;
        memcpy(&v, token + i, len - i < 8 ? len - i : 8);
        h = (h ^ v) * 0x9e3779b97f4a7c15u;
        h ^= h >> 31;
    }
    return (size_t)(h & c->mask);
}

static int64_t payload_exp(const json_t *payload)
{
    json_t *exp = json_object_get(payload, "exp");
    return json_is_integer(exp) ? (int64_t)json_integer_value(exp) : INT64_MAX;
}

json_t *jws_cache_verify(jws_cache *c, const char *compact, size_t len, jws_key_lookup lookup, void *ctx,
                         int64_t now, err_t *e)
{
    if (c == NULL || len > JWS_CACHE_MAX_TOKEN)
        return jws_verify(compact, len, lookup, ctx, e);
    cache_entry *en = &c->slots[slot_of(c, compact, len)];
    if (en->token != NULL && en->len == len && CRYPTO_memcmp(en->token, compact, len) == 0) {
        if (en->exp > now) {
            c->hits++;
            return json_incref(en->payload);
        }
        entry_drop(en);
    }
    c->misses++;
    json_t *payload = jws_verify(compact, len, lookup, ctx, e);
    if (payload == NULL)
        return NULL;
    int64_t exp = payload_exp(payload);
    if (exp <= now)
        return payload; /* the caller refuses it as expired; nothing to remember */
    entry_drop(en);
    en->token = xmalloc(len);
    memcpy(en->token, compact, len);
    en->len = len;
    en->payload = json_incref(payload);
    en->exp = exp;
    return payload;
}

void jws_cache_stats(const jws_cache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = c ? c->hits : 0;
    *misses = c ? c->misses : 0;
}
