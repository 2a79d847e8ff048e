/* jwks_cache.c - the shared cache of identity providers' key sets. */
#include "domain/jwks_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/hmap.h"
#include "core/log.h"
#include "core/xalloc.h"
#include "http/client.h"

/* The supported algorithms: a set is parsed with all of them; each
 * provider's own list is enforced when a token is verified. */
static const jwt_alg every_alg[] = {JWT_ALG_RS256, JWT_ALG_PS256, JWT_ALG_ES256};

struct jwks_ref {
    atomic_int refs;
    jwks_set *set;
};

typedef struct {
    pthread_mutex_t fetch_lock; /* one fetch at a time; guards the fields below */
    jwks_ref *current;          /* NULL until the first good fetch */
    int64_t fetched_at;         /* of current */
    int64_t expires_at;         /* of current */
    int64_t failed_at;          /* last failed attempt, 0 = none since the last success */
    err_t last_error;
} cache_entry;

struct jwks_cache {
    pthread_mutex_t lock; /* guards entries */
    hmap entries;         /* uri -> cache_entry* (owned) */
};

static void ref_release(jwks_ref *r)
{
    if (r != NULL && atomic_fetch_sub(&r->refs, 1) == 1) {
        jwks_free(r->set);
        free(r);
    }
}

void jwks_ref_release(jwks_ref *r)
{
    ref_release(r);
}

const jwks_set *jwks_ref_set(const jwks_ref *r)
{
    return r->set;
}

jwks_cache *jwks_cache_new(void)
{
    jwks_cache *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    hmap_init(&c->entries);
    return c;
}

static void free_entry(void *p)
{
    cache_entry *en = p;
    ref_release(en->current);
    pthread_mutex_destroy(&en->fetch_lock);
    free(en);
}

void jwks_cache_free(jwks_cache *c)
{
    if (c == NULL)
        return;
    hmap_free(&c->entries, free_entry);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

int64_t jwks_cache_ttl(const char *cc)
{
    int64_t ttl = JWKS_DEFAULT_TTL;
    for (const char *p = cc; p != NULL && *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        if (n >= 8 && strncasecmp(p, "max-age=", 8) == 0) {
            char *end;
            long long v = strtoll(p + 8, &end, 10);
            if (end != p + 8 && v >= 0)
                ttl = v;
        } else if ((n == 8 && strncasecmp(p, "no-store", 8) == 0) ||
                   (n == 8 && strncasecmp(p, "no-cache", 8) == 0)) {
            ttl = 0;
        }
        p += n;
    }
    if (ttl < JWKS_MIN_TTL)
        ttl = JWKS_MIN_TTL;
    if (ttl > JWKS_MAX_TTL)
        ttl = JWKS_MAX_TTL;
    return ttl;
}

/* GETs and parses the set at uri; *ttl from its Cache-Control. */
static jwks_set *fetch(const char *uri, int64_t *ttl, err_t *e)
{
    static const char *const accept[] = {"Accept: application/json", NULL};
    http_client_request req = {"GET", uri, accept, NULL, 0, JWKS_FETCH_TIMEOUT_MS, JWKS_JSON_MAX};
    http_client_response resp;
    jwks_set *set = NULL;
    err_t why;
    if (http_client_perform(&req, NULL, &resp, &why) != 0) {
        err_set(e, ERR_UNAVAILABLE, "the identity provider's JWKS could not be fetched: %s", why.detail);
        goto out;
    }
    if (resp.status != 200) {
        err_set(e, ERR_UNAVAILABLE, "the identity provider's JWKS endpoint answered HTTP %ld", resp.status);
        goto out;
    }
    set = jwks_parse(resp.body.data ? resp.body.data : "", resp.body.len, every_alg,
                     sizeof(every_alg) / sizeof(every_alg[0]), &why);
    if (set == NULL) {
        err_set(e, ERR_UNAVAILABLE, "the identity provider's JWKS is not usable: %s", why.detail);
        goto out;
    }
    *ttl = jwks_cache_ttl(resp.cache_control);
out:
    http_client_response_free(&resp);
    return set;
}

static cache_entry *entry_for(jwks_cache *c, const char *uri)
{
    pthread_mutex_lock(&c->lock);
    cache_entry *en = hmap_get(&c->entries, uri);
    if (en == NULL) {
        en = xcalloc(1, sizeof(*en));
        pthread_mutex_init(&en->fetch_lock, NULL);
        hmap_put(&c->entries, uri, en);
    }
    pthread_mutex_unlock(&c->lock);
    return en;
}

static int needs_fetch(const cache_entry *en, int64_t now, int unknown_kid)
{
    if (en->failed_at != 0 && now - en->failed_at < JWKS_RETRY_AFTER)
        return 0;
    if (en->current == NULL || now >= en->expires_at)
        return 1;
    return unknown_kid && now - en->fetched_at >= JWKS_MIN_TTL;
}

/* Fetches into en (fetch_lock held). On failure the old set stays. */
static void refresh(cache_entry *en, const char *uri, int64_t now)
{
    int64_t ttl = 0;
    err_t e;
    jwks_set *set = fetch(uri, &ttl, &e);
    if (set == NULL) {
        en->failed_at = now;
        en->last_error = e;
        log_msg(LOG_WARN, "identity provider JWKS fetch failed", "error", e.detail, NULL);
        return;
    }
    jwks_ref *r = xmalloc(sizeof(*r));
    atomic_init(&r->refs, 1);
    r->set = set;
    ref_release(en->current);
    en->current = r;
    en->fetched_at = now;
    en->expires_at = now + ttl;
    en->failed_at = 0;
}

jwks_ref *jwks_cache_get(jwks_cache *c, const char *uri, int64_t now, int unknown_kid, err_t *e)
{
    cache_entry *en = entry_for(c, uri);
    jwks_ref *r = NULL;
    pthread_mutex_lock(&en->fetch_lock);
    if (needs_fetch(en, now, unknown_kid))
        refresh(en, uri, now);
    if (en->current != NULL && now < en->expires_at + JWKS_STALE_GRACE) {
        r = en->current;
        atomic_fetch_add(&r->refs, 1);
    } else if (en->failed_at != 0) {
        *e = en->last_error;
    } else {
        err_set(e, ERR_UNAVAILABLE, "the identity provider's JWKS could not be fetched");
    }
    pthread_mutex_unlock(&en->fetch_lock);
    return r;
}
