/* offload.c - the pool of threads for slow handlers (see offload.h). */
#include "api/offload.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/xalloc.h"

#define OFFLOAD_MAX_THREADS 16

typedef struct {
    offload_fn fn;
    void *job;
} offload_item;

typedef struct {
    offload *pool;
    store *store;
    pthread_t thread;
} offload_thread;

struct offload {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    offload_item *queue; /* ring of max_queue items */
    size_t max_queue, head, len;
    int stopping;
    offload_thread threads[OFFLOAD_MAX_THREADS];
    unsigned nthreads;
};

static void *run(void *arg)
{
    offload_thread *t = arg;
    offload *o = t->pool;
    for (;;) {
        pthread_mutex_lock(&o->lock);
        while (o->len == 0 && !o->stopping)
            pthread_cond_wait(&o->wake, &o->lock);
        if (o->len == 0) {
            pthread_mutex_unlock(&o->lock);
            return NULL;
        }
        offload_item item = o->queue[o->head];
        o->head = (o->head + 1) % o->max_queue;
        o->len--;
        pthread_mutex_unlock(&o->lock);
        item.fn(item.job, t->store);
    }
}

offload *offload_start(const char *db_url, unsigned nthreads, size_t max_queue, err_t *e)
{
    if (nthreads == 0 || nthreads > OFFLOAD_MAX_THREADS || max_queue == 0) {
        err_set(e, ERR_INTERNAL, "offload: bad pool size");
        return NULL;
    }
    offload *o = xcalloc(1, sizeof(*o));
    pthread_mutex_init(&o->lock, NULL);
    pthread_cond_init(&o->wake, NULL);
    o->queue = xcalloc(max_queue, sizeof(*o->queue));
    o->max_queue = max_queue;
    for (unsigned i = 0; i < nthreads; i++) {
        offload_thread *t = &o->threads[i];
        t->pool = o;
        t->store = store_open(db_url, e);
        if (t->store == NULL || pthread_create(&t->thread, NULL, run, t) != 0) {
            if (t->store != NULL) {
                t->store->ops->close(t->store);
                err_set(e, ERR_INTERNAL, "offload: cannot start a thread");
            }
            offload_stop(o);
            return NULL;
        }
        o->nthreads++;
    }
    return o;
}

int offload_submit(offload *o, offload_fn fn, void *job)
{
    int rc = -1;
    pthread_mutex_lock(&o->lock);
    if (!o->stopping && o->len < o->max_queue) {
        o->queue[(o->head + o->len) % o->max_queue] = (offload_item){fn, job};
        o->len++;
        pthread_cond_signal(&o->wake);
        rc = 0;
    }
    pthread_mutex_unlock(&o->lock);
    return rc;
}

void offload_stop(offload *o)
{
    if (o == NULL)
        return;
    pthread_mutex_lock(&o->lock);
    o->stopping = 1;
    pthread_cond_broadcast(&o->wake);
    pthread_mutex_unlock(&o->lock);
    for (unsigned i = 0; i < o->nthreads; i++) {
        pthread_join(o->threads[i].thread, NULL);
        o->threads[i].store->ops->close(o->threads[i].store);
    }
    pthread_cond_destroy(&o->wake);
    pthread_mutex_destroy(&o->lock);
    free(o->queue);
    free(o);
}
