/* webhooks_deliver.c - the delivery threads (see webhooks.h).
 *
 * WEBHOOK_THREADS threads share the webhooks by a hash of their id, so one
 * slow or dead endpoint holds up only the webhooks of its thread, and a
 * webhook is only ever worked on by one thread of the process. Every
 * WEBHOOK_POLL_MS a thread asks the store which of its webhooks are due
 * (enabled, not backing off, with new audit events of their org) and works
 * through each in order:
 *
 *   read up to WEBHOOK_SCAN_MAX events after the cursor;
 *   skip those the webhook does not take (other actions, unsubscribed types);
 *   for the next one it takes: re-read the webhook (a disable, a delete, a
 *   new URL or secret applies before the next POST), POST it, and record the
 *   attempt with webhook_progress, which moves the cursor past it on 2xx or
 *   sets the backoff otherwise (and then the webhook waits: order matters);
 *   after WEBHOOK_ROUND_MAX deliveries the next webhook gets its turn.
 *
 * The cursor moves by compare-and-set (store.h): if an admin re-enabled the
 * webhook or another node delivered meanwhile, this thread drops its view
 * and starts over from the stored cursor next time.
 *
 * Several nodes on one database: thread i of a node works only while its
 * store handle holds the lease "webhooks.<i>" (store.h lease; PostgreSQL: a
 * session advisory lock), so each shard has one deliverer at a time and
 * another node's thread takes over when the holder dies (its connection
 * closes). The compare-and-set still guards the hand-over. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "domain/webhooks.h"

/* ---- one webhook ---- */

typedef struct {
    store *store;
    directory *dir;
    int (*cancelled)(void *ctx); /* NULL in webhooks_run_once */
    void *cancel_ctx;
    int64_t now;                 /* of the pass; the clock may be ahead after a slow POST */
} deliver_env;

typedef struct {
    store_audit_entry *items; /* owned */
    size_t n;
} event_batch;

static int collect_event(void *ctx, const void *rec)
{
    event_batch *b = ctx;
    b->items[b->n++] = *(const store_audit_entry *)rec;
    return 0;
}

static int stopping(const deliver_env *env)
{
    return env->cancelled != NULL && env->cancelled(env->cancel_ctx);
}

/* Moves w's cursor to `to` (events it does not take), if it is behind. */
static int skip_to(const deliver_env *env, store_webhook *w, int64_t to)
{
    int applied = 0;
    err_t e;
    if (to <= w->cursor)
        return 0;
    store_webhook next = *w;
    next.cursor = to;
    if (env->store->ops->webhook_progress(env->store, &next, w->cursor, NULL, &applied, &e) != 0) {
        log_msg(LOG_WARN, "cannot record webhook progress; retrying", "webhook_id", w->id, "error", e.detail, NULL);
        return -1;
    }
    if (!applied)
        return -1;
    *w = next;
    return 0;
}

/* Delivers ev (of type) to w; records the attempt and moves w on. Returns 1
 * when delivered, 0 when the webhook must wait, -1 when it changed under us. */
static int deliver_one(const deliver_env *env, store_webhook *w, const store_audit_entry *ev, const char *type,
                       int64_t skipped_to)
{
    char secret[WEBHOOK_SECRET_LEN + 1];
    err_t e;
    if (webhook_secret_open(env->dir, w, secret, &e) != 0) {
        log_msg(LOG_ERROR, "cannot open a webhook secret", "webhook_id", w->id, "error", e.detail, NULL);
        return 0;
    }
    size_t len;
    char *body = webhook_payload(&ev->audit, type, &len);
    webhook_result r;
    int64_t attempt = w->failures + 1;
    webhook_post(w, secret, ev->audit.id, type, attempt, body, len, env->cancelled, env->cancel_ctx, &r);
    explicit_bzero(secret, sizeof(secret));
    free(body);
    if (r.cancelled)
        return 0; /* stopping: the event goes again next time */
    /* Whole seconds, rounded up: a backoff of n s is never shorter than n s. */
    int64_t now = (clock_now_ms() + 999) / 1000;
    if (now < env->now)
        now = env->now;
    store_webhook_delivery d;
    memset(&d, 0, sizeof(d));
    uuid_v7(d.id);
    snprintf(d.org_id, sizeof(d.org_id), "%s", w->org_id);
    snprintf(d.webhook_id, sizeof(d.webhook_id), "%s", w->id);
    snprintf(d.event_id, sizeof(d.event_id), "%s", ev->audit.id);
    snprintf(d.event_type, sizeof(d.event_type), "%s", type);
    d.attempt = attempt;
    d.status_code = r.status;
    snprintf(d.error, sizeof(d.error), "%s", r.error);
    d.duration_ms = r.duration_ms;
    d.at = now;
    store_webhook next = *w;
    if (r.delivered) {
        next.cursor = ev->seq;
        next.failures = 0;
        next.next_attempt_at = 0;
        next.last_error[0] = '\0';
    } else {
        next.cursor = skipped_to > w->cursor ? skipped_to : w->cursor;
        next.failures = w->failures + 1;
        next.next_attempt_at = now + webhook_backoff(next.failures);
        snprintf(next.last_error, sizeof(next.last_error), "%s", r.error);
        char status[16], retry[24];
        snprintf(status, sizeof(status), "%ld", r.status);
        snprintf(retry, sizeof(retry), "%lld", (long long)webhook_backoff(next.failures));
        log_msg(LOG_INFO, "webhook delivery failed", "webhook_id", w->id, "org_id", w->org_id, "event_id",
                ev->audit.id, "status", status, "error", r.error, "retry_in_s", retry, NULL);
    }
    metrics_count(METRIC_WEBHOOK_DELIVERIES, r.delivered ? "delivered" : r.status ? "rejected" : "unreachable");
    int applied = 0;
    if (env->store->ops->webhook_progress(env->store, &next, w->cursor, &d, &applied, &e) != 0) {
        if (e.cls != ERR_INVALID_REQUEST) /* else: the webhook was deleted meanwhile */
            log_msg(LOG_WARN, "cannot record a webhook delivery; the event will be sent again", "webhook_id",
                    w->id, "error", e.detail, NULL);
        return -1;
    }
    if (!applied)
        return -1;
    *w = next;
    return r.delivered ? 1 : 0;
}

/* Works through w's pending events. Returns 1 when it stopped at
 * WEBHOOK_ROUND_MAX with more to do. */
static int run_webhook(const deliver_env *env, const store_webhook *due)
{
    store *s = env->store;
    store_webhook w;
    err_t e;
    event_batch batch = {xcalloc(WEBHOOK_SCAN_MAX, sizeof(store_audit_entry)), 0};
    int delivered = 0, more = 0;
    if (s->ops->webhook_get(s, due->org_id, due->id, &w, &e) != 0)
        goto out;
    while (w.enabled && w.next_attempt_at <= env->now && !stopping(env)) {
        batch.n = 0;
        if (s->ops->audit_after(s, w.org_id, w.cursor, WEBHOOK_SCAN_MAX, collect_event, &batch, &e) != 0) {
            log_msg(LOG_WARN, "cannot read audit events for a webhook", "webhook_id", w.id, "error", e.detail, NULL);
            goto out;
        }
        if (batch.n == 0)
            goto out;
        int64_t skipped = w.cursor;
        for (size_t i = 0; i < batch.n; i++) {
            const store_audit_entry *ev = &batch.items[i];
            const char *type = webhook_event_type(ev->audit.action);
            if (type == NULL || !webhook_wants(&w, type)) {
                skipped = ev->seq;
                continue;
            }
            /* Fresh before each POST: disabled, deleted, moved or changed meanwhile? */
            store_webhook fresh;
            if (stopping(env) || s->ops->webhook_get(s, w.org_id, w.id, &fresh, &e) != 0 || !fresh.enabled ||
                fresh.cursor != w.cursor || fresh.next_attempt_at > env->now)
                goto out;
            w = fresh;
            if (!webhook_wants(&w, type)) {
                skipped = ev->seq;
                continue;
            }
            if (delivered == WEBHOOK_ROUND_MAX) {
                more = 1;
                skip_to(env, &w, skipped);
                goto out;
            }
            int rc = deliver_one(env, &w, ev, type, skipped);
            if (rc != 1)
                goto out;
            delivered++;
            skipped = ev->seq;
        }
        if (skip_to(env, &w, skipped) != 0 || batch.n < WEBHOOK_SCAN_MAX)
            goto out;
    }
out:
    free(batch.items);
    return more;
}

/* ---- the threads ---- */

/* FNV-1a of the id: which thread a webhook belongs to. */
static unsigned partition_of(const char *id, int nthreads)
{
    uint32_t h = 2166136261u;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h % (uint32_t)nthreads;
}

typedef struct {
    store_webhook *items; /* owned */
    size_t n, cap;
    int index, nthreads;
} due_list;

static int collect_due(void *ctx, const void *rec)
{
    due_list *l = ctx;
    const store_webhook *w = rec;
    if (l->index >= 0 && partition_of(w->id, l->nthreads) != (unsigned)l->index)
        return 0;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->items = xrealloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->n++] = *w;
    return 0;
}

static int run_pass(deliver_env *env, int index, int nthreads, int64_t now)
{
    due_list due = {NULL, 0, 0, index, nthreads};
    err_t e;
    int more = 0, held = 0;
    char lease[32];
    env->now = now;
    snprintf(lease, sizeof(lease), "webhooks.%d", index);
    if (env->store->ops->lease(env->store, lease, &held, &e) != 0) {
        log_msg(LOG_WARN, "cannot take the webhook delivery lease; retrying", "error", e.detail, NULL);
        return 0;
    }
    if (!held)
        return 0; /* another node delivers this shard */
    if (env->store->ops->webhook_due(env->store, now, collect_due, &due, &e) != 0)
        log_msg(LOG_WARN, "cannot list the webhooks due; retrying", "error", e.detail, NULL);
    for (size_t i = 0; i < due.n && !stopping(env); i++)
        more |= run_webhook(env, &due.items[i]);
    free(due.items);
    return more;
}

int webhooks_run_once(store *s, directory *d, int index, int nthreads, int64_t now)
{
    deliver_env env = {s, d, NULL, NULL, now};
    return run_pass(&env, index, nthreads, now);
}

typedef struct webhook_thread {
    webhook_deliverer *owner;
    store *store;
    pthread_t thread;
    int index;
} webhook_thread;

struct webhook_deliverer {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    directory *dir;
    webhook_thread threads[WEBHOOK_THREADS];
    int nthreads;
};

static int is_stopping(void *ctx)
{
    webhook_deliverer *wd = ctx;
    pthread_mutex_lock(&wd->lock);
    int s = wd->stopping;
    pthread_mutex_unlock(&wd->lock);
    return s;
}

static void *run(void *arg)
{
    webhook_thread *t = arg;
    webhook_deliverer *wd = t->owner;
    deliver_env env = {t->store, wd->dir, is_stopping, wd, 0};
    while (!is_stopping(wd)) {
        int more = run_pass(&env, t->index, WEBHOOK_THREADS, clock_now());
        if (more)
            continue;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)WEBHOOK_POLL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&wd->lock);
        if (!wd->stopping)
            pthread_cond_timedwait(&wd->wake, &wd->lock, &until);
        pthread_mutex_unlock(&wd->lock);
    }
    return NULL;
}

webhook_deliverer *webhooks_start(const char *db_url, directory *d, err_t *e)
{
    webhook_deliverer *wd = xcalloc(1, sizeof(*wd));
    pthread_mutex_init(&wd->lock, NULL);
    pthread_cond_init(&wd->wake, NULL);
    wd->dir = d;
    for (int i = 0; i < WEBHOOK_THREADS; i++) {
        webhook_thread *t = &wd->threads[i];
        t->owner = wd;
        t->index = i;
        t->store = store_open(db_url, e);
        if (t->store == NULL) {
            webhooks_stop(wd);
            return NULL;
        }
        if (pthread_create(&t->thread, NULL, run, t) != 0) {
            t->store->ops->close(t->store);
            err_set(e, ERR_INTERNAL, "cannot start a webhook delivery thread");
            webhooks_stop(wd);
            return NULL;
        }
        wd->nthreads++;
    }
    return wd;
}

void webhooks_stop(webhook_deliverer *wd)
{
    if (wd == NULL)
        return;
    pthread_mutex_lock(&wd->lock);
    wd->stopping = 1;
    pthread_cond_broadcast(&wd->wake);
    pthread_mutex_unlock(&wd->lock);
    for (int i = 0; i < wd->nthreads; i++) {
        pthread_join(wd->threads[i].thread, NULL);
        wd->threads[i].store->ops->close(wd->threads[i].store);
    }
    pthread_cond_destroy(&wd->wake);
    pthread_mutex_destroy(&wd->lock);
    free(wd);
}
