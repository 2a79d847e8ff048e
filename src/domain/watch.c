/* watch.c - the hub of open embeds watching their session. */
#include "domain/watch.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/xalloc.h"

typedef struct {
    session_ref ref;
    int64_t deadline;
    watch_resolve_fn fn;
    void *ctx;
    session_status status; /* while being resolved */
} watcher;

struct watch_hub {
    pthread_mutex_t lock;
    watcher *items;
    size_t n, max;
    int closed;
};

watch_hub *watch_hub_new(size_t max_watchers)
{
    watch_hub *h = xcalloc(1, sizeof(*h));
    pthread_mutex_init(&h->lock, NULL);
    h->items = xcalloc(max_watchers, sizeof(*h->items));
    h->max = max_watchers;
    return h;
}

int watch_hub_add(watch_hub *h, const session_ref *ref, int64_t deadline, watch_resolve_fn fn, void *ctx)
{
    int rc = -1;
    pthread_mutex_lock(&h->lock);
    if (!h->closed && h->n < h->max) {
        h->items[h->n++] = (watcher){*ref, deadline, fn, ctx, SESSION_OK};
        rc = 0;
    }
    pthread_mutex_unlock(&h->lock);
    return rc;
}

/* Moves the watchers that are done (all of them with all) out of the hub (lock held), into *out. */
static size_t take(watch_hub *h, directory *d, int64_t now, int all, watcher **out)
{
    size_t kept = 0, taken = 0;
    *out = NULL;
    for (size_t i = 0; i < h->n; i++) {
        watcher *w = &h->items[i];
        err_t e;
        w->status = all ? SESSION_OK : sessions_live(d, &w->ref, now, &e);
        if (all || w->status != SESSION_OK || now >= w->deadline) {
            *out = xrealloc(*out, (taken + 1) * sizeof(**out));
            (*out)[taken++] = *w;
        } else {
            h->items[kept++] = *w;
        }
    }
    h->n = kept;
    return taken;
}

static void resolve(watcher *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        list[i].fn(list[i].ctx, list[i].status);
    free(list);
}

void watch_hub_check(watch_hub *h, directory *d, int64_t now)
{
    watcher *done;
    pthread_mutex_lock(&h->lock);
    size_t n = take(h, d, now, 0, &done);
    pthread_mutex_unlock(&h->lock);
    resolve(done, n);
}

void watch_hub_close(watch_hub *h)
{
    watcher *done;
    pthread_mutex_lock(&h->lock);
    h->closed = 1;
    size_t n = take(h, NULL, 0, 1, &done);
    pthread_mutex_unlock(&h->lock);
    resolve(done, n);
}

void watch_hub_free(watch_hub *h)
{
    if (h == NULL)
        return;
    watch_hub_close(h);
    pthread_mutex_destroy(&h->lock);
    free(h->items);
    free(h);
}
