/* offload.h - a few threads for handlers that wait on other servers
 * (integration calls): the HTTP thread suspends the request and submits a
 * job; a pool thread runs it with its own store handle, sets the reply and
 * resumes the request. The queue is bounded, so a slow host API costs
 * queue slots, never the HTTP threads that serve tokens. */
#ifndef TESSERA_API_OFFLOAD_H
#define TESSERA_API_OFFLOAD_H

#include <stddef.h>

#include "core/err.h"
#include "store/store.h"

typedef struct offload offload;

/* Runs on a pool thread; s is that thread's store handle. Owns job. */
typedef void (*offload_fn)(void *job, store *s);

/* nthreads threads, each with a store opened from db_url. NULL with *e. */
offload *offload_start(const char *db_url, unsigned nthreads, size_t max_queue, err_t *e);

/* Queues fn(job). 0, or -1 when the queue is full or stopping (the caller
 * still owns job). */
int offload_submit(offload *o, offload_fn fn, void *job);

/* Runs what is queued, then joins the threads and closes their stores. */
void offload_stop(offload *o);

#endif
