#include "domain/recorder.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xalloc.h"

#define RECORDER_BATCH_MAX 512

typedef struct recorder_entry {
    struct recorder_entry *next;
    int has_session, has_audit;
    store_session session;
    store_audit audit;
    recorder_done_fn done;
    void *ctx;
} recorder_entry;

struct recorder {
    store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    recorder_entry *head, *tail; /* FIFO of owned entries */
    size_t count;
    hmap touched;          /* token id -> (void*)1, under mu */
    int64_t last_touch_ms;
    int stopping;
};

/* Takes up to RECORDER_BATCH_MAX entries off the queue (mu held); the
 * caller then owns them. */
static size_t take_batch(recorder *r, recorder_entry **batch)
{
    size_t n = 0;
    while (n < RECORDER_BATCH_MAX && r->head != NULL) {
        batch[n++] = r->head;
        r->head = r->head->next;
    }
    if (r->head == NULL)
        r->tail = NULL;
    r->count -= n;
    return n;
}

/* Commits one entry alone; 1 when durable. */
static int commit_one(recorder *r, const recorder_entry *en)
{
    err_t e;
    int ok = r->store->ops->record_batch(r->store, en->has_session ? &en->session : NULL,
                                         en->has_session, en->has_audit ? &en->audit : NULL,
                                         en->has_audit, &e) == 0;
    if (!ok)
        log_msg(LOG_ERROR, "session record not committed", "error", e.detail, NULL);
    return ok;
}

/* Commits the batch in one transaction, calls every callback and frees the
 * entries. If the batch fails, each entry is retried alone, so one bad row
 * cannot take the other requests of its group commit down with it. */
static void commit_batch(recorder *r, recorder_entry **batch, size_t n, store_session *sessions,
                         store_audit *audits)
{
    size_t ns = 0, na = 0;
    for (size_t i = 0; i < n; i++) {
        if (batch[i]->has_session)
            sessions[ns++] = batch[i]->session;
        if (batch[i]->has_audit)
            audits[na++] = batch[i]->audit;
    }
    err_t e;
    int64_t start = clock_mono_us();
    int batch_ok = r->store->ops->record_batch(r->store, sessions, ns, audits, na, &e) == 0;
    metrics_observe(METRIC_STORE_COMMIT, (double)(clock_mono_us() - start) / 1e6);
    if (!batch_ok && n > 1)
        log_msg(LOG_WARN, "session batch not committed; retrying one by one", "error", e.detail, NULL);
    else if (!batch_ok)
        log_msg(LOG_ERROR, "session record not committed", "error", e.detail, NULL);
    for (size_t i = 0; i < n; i++) {
        int ok = batch_ok || (n > 1 && commit_one(r, batch[i]));
        if (batch[i]->done)
            batch[i]->done(batch[i]->ctx, ok);
        free(batch[i]);
    }
}

typedef struct {
    const char **ids;
    size_t n;
} id_list;

static void collect_id(void *ctx, const char *key, void *val)
{
    id_list *l = ctx;
    (void)val;
    l->ids[l->n++] = xstrdup(key);
}

/* Writes coalesced last-used times (mu held on entry and exit). */
static void flush_touches(recorder *r, int force)
{
    int64_t now = clock_mono_ms();
    if (r->touched.len == 0 || (!force && now - r->last_touch_ms < 1000))
        return;
    id_list l = {xcalloc(r->touched.len, sizeof(char *)), 0};
    hmap_each(&r->touched, collect_id, &l);
    hmap_free(&r->touched, NULL);
    r->last_touch_ms = now;
    pthread_mutex_unlock(&r->mu);
    err_t e;
    if (r->store->ops->token_touch(r->store, l.ids, l.n, clock_now(), &e) != 0)
        log_msg(LOG_WARN, "token last-used times not written", "error", e.detail, NULL);
    for (size_t i = 0; i < l.n; i++)
        free((char *)l.ids[i]);
    free(l.ids);
    pthread_mutex_lock(&r->mu);
}

static void *recorder_main(void *arg)
{
    recorder *r = arg;
    recorder_entry **batch = xcalloc(RECORDER_BATCH_MAX, sizeof(*batch));
    store_session *sessions = xcalloc(RECORDER_BATCH_MAX, sizeof(*sessions));
    store_audit *audits = xcalloc(RECORDER_BATCH_MAX, sizeof(*audits));
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->count == 0 && !r->stopping) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&r->wake, &r->mu, &until);
            flush_touches(r, 0);
        }
        if (r->count == 0 && r->stopping)
            break;
        size_t n = take_batch(r, batch);
        pthread_mutex_unlock(&r->mu);
        commit_batch(r, batch, n, sessions, audits);
        pthread_mutex_lock(&r->mu);
        flush_touches(r, 0);
    }
    flush_touches(r, 1);
    pthread_mutex_unlock(&r->mu);
    free(batch);
    free(sessions);
    free(audits);
    return NULL;
}

recorder *recorder_start(store *s, err_t *e)
{
    recorder *r = xcalloc(1, sizeof(*r));
    r->store = s;
    hmap_init(&r->touched);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->wake, NULL);
    r->last_touch_ms = clock_mono_ms();
    if (pthread_create(&r->thread, NULL, recorder_main, r) != 0) {
        err_set(e, ERR_INTERNAL, "cannot start the recorder thread");
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->wake);
        free(r);
        return NULL;
    }
    return r;
}

int recorder_submit(recorder *r, const store_session *session, const store_audit *audit,
                    recorder_done_fn done, void *ctx)
{
    recorder_entry *entry = xcalloc(1, sizeof(*entry));
    entry->has_session = session != NULL;
    entry->has_audit = audit != NULL;
    if (session)
        entry->session = *session;
    if (audit)
        entry->audit = *audit;
    entry->done = done;
    entry->ctx = ctx;
    pthread_mutex_lock(&r->mu);
    if (r->stopping || r->count == RECORDER_MAX_PENDING) {
        pthread_mutex_unlock(&r->mu);
        free(entry);
        return -1;
    }
    if (r->tail)
        r->tail->next = entry;
    else
        r->head = entry;
    r->tail = entry;
    r->count++;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

void recorder_touch_token(recorder *r, const char *token_id)
{
    pthread_mutex_lock(&r->mu);
    if (hmap_get(&r->touched, token_id) == NULL)
        hmap_put(&r->touched, token_id, (void *)1);
    pthread_mutex_unlock(&r->mu);
}

void recorder_stop(recorder *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    hmap_free(&r->touched, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->wake);
    r->store->ops->close(r->store);
    free(r);
}
