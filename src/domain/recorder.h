/* recorder.h - group commit of session records and audit events.
 *
 * Request threads submit records and get a callback once the batch that
 * holds them is durably committed (or failed). One thread owns its own
 * store handle and commits whatever has queued up in one transaction, so
 * throughput does not fall to one fsync per request. Last-used times of
 * access tokens are coalesced and written at most once a second. */
#ifndef TESSERA_DOMAIN_RECORDER_H
#define TESSERA_DOMAIN_RECORDER_H

#include "core/err.h"
#include "store/store.h"

#define RECORDER_MAX_PENDING 16384

typedef struct recorder recorder;

/* Called on the recorder thread after the commit; ok = 1 when durable. */
typedef void (*recorder_done_fn)(void *ctx, int ok);

/* Starts the thread; it owns s (closes it at stop). NULL with *e on failure. */
recorder *recorder_start(store *s, err_t *e);

/* Queues one session record and/or one audit event (either may be NULL;
 * both are copied). Returns 0, or -1 when the queue is full or stopping
 * (done is then not called). */
int recorder_submit(recorder *r, const store_session *session, const store_audit *audit,
                    recorder_done_fn done, void *ctx);

/* Notes that an access token was used now (written within a second). */
void recorder_touch_token(recorder *r, const char *token_id);

/* Commits everything queued, calls every pending callback, joins the
 * thread and closes the store. */
void recorder_stop(recorder *r);

#endif
