/* change_listener.h - applies another node's changes as soon as the database
 * signals them (PostgreSQL LISTEN/NOTIFY, store.h wait_change), instead of at
 * the serve loop's next poll.
 *
 * The serve loop still polls changes_since every SERVE_REFRESH_MS: that is
 * what guarantees a change is applied within a second, with or without
 * notifications (a lost notification, a proxy that drops them, SQLite). The
 * listener only makes it sooner. It has its own store handle and thread;
 * directory_refresh and watch_hub_check are thread-safe. */
#ifndef TESSERA_DOMAIN_CHANGE_LISTENER_H
#define TESSERA_DOMAIN_CHANGE_LISTENER_H

#include "core/err.h"
#include "domain/directory.h"
#include "domain/watch.h"

typedef struct change_listener change_listener;

/* Opens its own handle on db_url and starts the thread. NULL with *e set. */
change_listener *change_listener_start(const char *db_url, directory *d, watch_hub *h, err_t *e);
/* Stops the thread (within CHANGE_LISTENER_WAIT_MS) and closes its handle. NULL is fine. */
void change_listener_stop(change_listener *l);

#endif
