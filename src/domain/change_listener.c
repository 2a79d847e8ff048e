/* change_listener.c - see change_listener.h. */
#include "domain/change_listener.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xalloc.h"

#define CHANGE_LISTENER_WAIT_MS 500 /* longest wait between looks at the stop flag */
#define CHANGE_LISTENER_RETRY_MS 1000

struct change_listener {
    store *store; /* owned */
    directory *dir;
    watch_hub *watch;
    pthread_t thread;
    pthread_mutex_t lock;
    int stopping;
};

static int stopping(change_listener *l)
{
    pthread_mutex_lock(&l->lock);
    int s = l->stopping;
    pthread_mutex_unlock(&l->lock);
    return s;
}

static void *run(void *arg)
{
    change_listener *l = arg;
    int warned = 0;
    while (!stopping(l)) {
        err_t e;
        int rc = l->store->ops->wait_change(l->store, CHANGE_LISTENER_WAIT_MS, &e);
        if (rc < 0) {
            /* The poll in the serve loop carries on; try again in a while. */
            if (!warned)
                log_msg(LOG_WARN, "change notifications unavailable; relying on polling", "error", e.detail, NULL);
            warned = 1;
            struct timespec pause = {CHANGE_LISTENER_RETRY_MS / 1000, 0};
            nanosleep(&pause, NULL);
            continue;
        }
        warned = 0;
        if (rc == 0)
            continue;
        if (directory_refresh(l->dir, l->store, &e) != 0)
            log_msg(LOG_WARN, "cannot apply store changes; retrying", "error", e.detail, NULL);
        watch_hub_check(l->watch, l->dir, clock_now());
    }
    return NULL;
}

change_listener *change_listener_start(const char *db_url, directory *d, watch_hub *h, err_t *e)
{
    store *s = store_open(db_url, e);
    if (s == NULL)
        return NULL;
    change_listener *l = xcalloc(1, sizeof(*l));
    l->store = s;
    l->dir = d;
    l->watch = h;
    pthread_mutex_init(&l->lock, NULL);
    if (pthread_create(&l->thread, NULL, run, l) != 0) {
        err_set(e, ERR_INTERNAL, "cannot start the change listener thread");
        pthread_mutex_destroy(&l->lock);
        s->ops->close(s);
        free(l);
        return NULL;
    }
    return l;
}

void change_listener_stop(change_listener *l)
{
    if (l == NULL)
        return;
    pthread_mutex_lock(&l->lock);
    l->stopping = 1;
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    pthread_mutex_destroy(&l->lock);
    l->store->ops->close(l->store);
    free(l);
}
