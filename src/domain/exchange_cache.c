/* exchange_cache.c - the in-memory cache of exchanged access tokens. */
#include "domain/exchange_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hmap.h"
#include "core/xalloc.h"
#include "store/store.h"

typedef struct {
    int64_t expires_at;
    char token[]; /* a secret */
} cached_token;

struct exchange_cache {
    pthread_mutex_t lock;
    hmap entries; /* integration_id "/" user_id -> cached_token* (owned) */
};

static void free_entry(void *p)
{
    cached_token *t = p;
    if (t != NULL) {
        explicit_bzero(t->token, strlen(t->token));
        free(t);
    }
}

exchange_cache *exchange_cache_new(void)
{
    exchange_cache *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    hmap_init(&c->entries);
    return c;
}

void exchange_cache_free(exchange_cache *c)
{
    if (c == NULL)
        return;
    hmap_free(&c->entries, free_entry);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static void entry_key(const char *integration_id, const char *user_id, char out[2 * STORE_ID_MAX + 1])
{
    snprintf(out, 2 * STORE_ID_MAX + 1, "%s/%s", integration_id, user_id);
}

int exchange_cache_get(exchange_cache *c, const char *integration_id, const char *user_id, int64_t now, char *out,
                       size_t cap)
{
    char key[2 * STORE_ID_MAX + 1];
    entry_key(integration_id, user_id, key);
    int rc = -1;
    pthread_mutex_lock(&c->lock);
    cached_token *t = hmap_get(&c->entries, key);
    if (t != NULL && now < t->expires_at && strlen(t->token) < cap) {
        memcpy(out, t->token, strlen(t->token) + 1);
        rc = 0;
    }
    pthread_mutex_unlock(&c->lock);
    return rc;
}

typedef struct {
    int64_t now;
    char (*keys)[2 * STORE_ID_MAX + 1];
    size_t n;
} expired_walk;

static void find_expired(void *ctx, const char *key, void *val)
{
    expired_walk *w = ctx;
    if (((cached_token *)val)->expires_at <= w->now && w->n < EXCHANGE_CACHE_MAX)
        snprintf(w->keys[w->n++], sizeof(w->keys[0]), "%s", key);
}

/* Keeps the map bounded (lock held): expired entries go; if that is not
 * enough, everything goes (entries are only a saving, never needed). */
static void make_room(exchange_cache *c, int64_t now)
{
    if (c->entries.len < EXCHANGE_CACHE_MAX)
        return;
    expired_walk w = {now, xmalloc(EXCHANGE_CACHE_MAX * sizeof(*w.keys)), 0};
    hmap_each(&c->entries, find_expired, &w);
    for (size_t i = 0; i < w.n; i++)
        free_entry(hmap_del(&c->entries, w.keys[i]));
    free(w.keys);
    if (c->entries.len >= EXCHANGE_CACHE_MAX) {
        hmap_free(&c->entries, free_entry);
        hmap_init(&c->entries);
    }
}

void exchange_cache_put(exchange_cache *c, const char *integration_id, const char *user_id, const char *token,
                        int64_t now, int64_t expires_in)
{
    size_t n = strlen(token);
    int64_t expires_at = now + expires_in - EXCHANGE_EARLY_EXPIRY;
    if (expires_at <= now || n >= EXCHANGE_TOKEN_MAX)
        return;
    char key[2 * STORE_ID_MAX + 1];
    entry_key(integration_id, user_id, key);
    cached_token *t = xmalloc(sizeof(*t) + n + 1);
    t->expires_at = expires_at;
    memcpy(t->token, token, n + 1);
    pthread_mutex_lock(&c->lock);
    make_room(c, now);
    free_entry(hmap_put(&c->entries, key, t));
    pthread_mutex_unlock(&c->lock);
}

void exchange_cache_drop(exchange_cache *c, const char *integration_id, const char *user_id)
{
    char key[2 * STORE_ID_MAX + 1];
    entry_key(integration_id, user_id, key);
    pthread_mutex_lock(&c->lock);
    free_entry(hmap_del(&c->entries, key));
    pthread_mutex_unlock(&c->lock);
}
