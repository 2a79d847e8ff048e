/* watch.h - open embeds waiting to hear that their session ended (long
 * polling, docs/EMBED.md): each watcher is a live session plus a callback.
 * watch_hub_check() resolves those whose session is no longer live
 * (revoked, expired, its access token or user gone) and those whose
 * deadline passed (SESSION_OK: the page asks again). Checks are in memory
 * (sessions_live); the serve loop runs them every tick. Thread-safe;
 * callbacks run outside the hub's lock. */
#ifndef TESSERA_DOMAIN_WATCH_H
#define TESSERA_DOMAIN_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "domain/directory.h"
#include "domain/sessions.h"

#define WATCH_WAIT_SECONDS 25 /* under the HTTP layer's 30 s idle timeout */

typedef void (*watch_resolve_fn)(void *ctx, session_status status);

typedef struct watch_hub watch_hub;

watch_hub *watch_hub_new(size_t max_watchers);
/* Resolves every watcher with SESSION_OK, then frees the hub. */
void watch_hub_free(watch_hub *h);

/* Watches ref until it ends or deadline. 0, or -1 when the hub is full or
 * closed (fn is then not called). */
int watch_hub_add(watch_hub *h, const session_ref *ref, int64_t deadline, watch_resolve_fn fn, void *ctx);
void watch_hub_check(watch_hub *h, directory *d, int64_t now);
/* Resolves every watcher with SESSION_OK and refuses new ones (shutdown). */
void watch_hub_close(watch_hub *h);

#endif
