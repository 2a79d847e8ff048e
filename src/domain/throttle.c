#include "domain/throttle.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/hmap.h"
#include "core/xalloc.h"

typedef struct {
    int64_t window_start;
    unsigned failures;
} throttle_entry;

struct throttle {
    pthread_mutex_t mu;
    hmap entries; /* key -> throttle_entry* (owned) */
    unsigned max_failures;
    int64_t window;
    unsigned max_keys;
};

throttle *throttle_new(unsigned max_failures, int64_t window_seconds, unsigned max_keys)
{
    throttle *t = xcalloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    hmap_init(&t->entries);
    t->max_failures = max_failures;
    t->window = window_seconds;
    t->max_keys = max_keys;
    return t;
}

void throttle_free(throttle *t)
{
    if (t == NULL)
        return;
    hmap_free(&t->entries, free);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int64_t throttle_check(throttle *t, const char *key, int64_t now)
{
    int64_t wait = 0;
    pthread_mutex_lock(&t->mu);
    throttle_entry *en = hmap_get(&t->entries, key);
    if (en != NULL && now - en->window_start < t->window && en->failures >= t->max_failures)
        wait = en->window_start + t->window - now;
    pthread_mutex_unlock(&t->mu);
    return wait;
}

typedef struct {
    int64_t cutoff;
    const char **stale;
    size_t n, cap;
} sweep_ctx;

static void collect_stale(void *ctx, const char *key, void *val)
{
    sweep_ctx *sc = ctx;
    if (((throttle_entry *)val)->window_start < sc->cutoff && sc->n < sc->cap)
        sc->stale[sc->n++] = key;
}

/* Drops windows that have ended (mu held). */
static void sweep(throttle *t, int64_t now)
{
    sweep_ctx sc = {now - t->window, xcalloc(t->entries.len, sizeof(char *)), 0, t->entries.len};
    hmap_each(&t->entries, collect_stale, &sc);
    for (size_t i = 0; i < sc.n; i++) {
        char *key = xstrdup(sc.stale[i]); /* the map frees its own copy */
        free(hmap_del(&t->entries, key));
        free(key);
    }
    free(sc.stale);
}

void throttle_fail(throttle *t, const char *key, int64_t now)
{
    pthread_mutex_lock(&t->mu);
    throttle_entry *en = hmap_get(&t->entries, key);
    if (en == NULL) {
        if (t->entries.len >= t->max_keys)
            sweep(t, now);
        if (t->entries.len >= t->max_keys) {
            /* Still full of live windows: refuse to track more keys rather
             * than grow; these keys are then throttled by their address. */
            pthread_mutex_unlock(&t->mu);
            return;
        }
        en = xcalloc(1, sizeof(*en));
        en->window_start = now;
        hmap_put(&t->entries, key, en);
    }
    if (now - en->window_start >= t->window) {
        en->window_start = now;
        en->failures = 0;
    }
    en->failures++;
    pthread_mutex_unlock(&t->mu);
}

void throttle_reset(throttle *t, const char *key)
{
    pthread_mutex_lock(&t->mu);
    free(hmap_del(&t->entries, key));
    pthread_mutex_unlock(&t->mu);
}
