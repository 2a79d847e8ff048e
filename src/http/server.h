/* server.h - the HTTP server: libmicrohttpd underneath, one epoll daemon
 * (one thread) per worker, all sharing the listening port (SO_REUSEPORT).
 *
 * Each worker has a context made by the caller (worker_ctx[i]) that only
 * that worker's thread uses, e.g. its own signing-key copy. Handlers run on
 * the worker thread; a handler either replies before returning, or calls
 * http_suspend() and later, from any thread, sets the reply and calls
 * http_resume(). Request memory belongs to the server and is freed when the
 * response has been sent. */
#ifndef TESSERA_HTTP_SERVER_H
#define TESSERA_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "http/forwarded.h"

#define HTTP_MAX_BODY (64 * 1024)
#define HTTP_MAX_HEADER_BYTES (16 * 1024) /* over it: JSON 431 */
#define HTTP_POOL_BYTES (32 * 1024)       /* per-connection memory; headers beyond it: libmicrohttpd's own 431 */

typedef struct http_request http_request;
typedef struct http_server http_server;

typedef void (*http_handler)(void *app, void *worker, http_request *req);

typedef struct {
    const char *listen;            /* "HOST:PORT" or "[V6]:PORT"; port 0 = any free port */
    unsigned workers;              /* threads, >= 1 */
    void **worker_ctx;             /* workers entries, passed to handle() */
    http_handler handle;
    void *app;
    unsigned max_connections;      /* across all workers */
    unsigned idle_timeout_seconds; /* closes connections idle (or slow) this long */
    /* The largest body accepted for method + path; NULL = HTTP_MAX_BODY. */
    size_t (*body_limit)(const char *method, const char *path);
    /* Reverse proxies whose X-Forwarded-For is believed (http/forwarded.h);
     * NULL or empty = none. Copied. */
    const http_proxies *trusted_proxies;
    /* Called on the worker thread once a reply has been sent (not for
     * connections that ended without one), with its status and the seconds
     * since the request line arrived; NULL = nothing. req is still valid. */
    void (*completed)(void *app, http_request *req, int status, double seconds);
} http_config;

/* Checks a --listen value without binding. 0, or -1 with ERR_INVALID_REQUEST. */
int http_listen_check(const char *listen, err_t *e);

http_server *http_server_start(const http_config *cfg, err_t *e);
int http_server_port(const http_server *s);
/* "HOST:PORT" actually bound (IPv6 in brackets). Valid while s lives. */
const char *http_server_address(const http_server *s);
/* Stops accepting new connections; requests in progress continue, and every
 * reply from now on closes its connection (Connection: close), so kept-alive
 * clients move to another node. */
void http_server_quiesce(http_server *s);
/* Requests currently being handled (including suspended ones). */
unsigned http_server_inflight(http_server *s);
/* Milliseconds since the latest request began. */
int64_t http_server_quiet_ms(http_server *s);
/* Refuses new requests (503, Retry-After: 1, nothing done), waits a bounded
 * time for those in flight, then closes every connection and frees the
 * server. Whatever resumes suspended requests must still be running. */
void http_server_stop(http_server *s);

/* ---- request, valid until the reply is sent ---- */
const char *http_method(const http_request *r);
const char *http_path(const http_request *r);      /* raw path, no query, not decoded */
const char *http_query(const http_request *r);     /* raw query without '?', "" if none */
const char *http_header(const http_request *r, const char *name); /* NULL if absent */
/* Client IP address text: the connection's peer, or with trusted proxies
 * the address they forwarded (http/forwarded.h). */
const char *http_client(const http_request *r);
const char *http_request_id(const http_request *r);
const char *http_body(const http_request *r, size_t *len);
/* A label for the request's metrics, e.g. the route pattern that matched:
 * a string that outlives the request (not copied). NULL until set. */
void http_set_route(http_request *r, const char *route);
const char *http_route(const http_request *r);
/* The status of the reply set so far, 0 before one is set. */
int http_status(const http_request *r);

/* ---- replies ---- */
/* Adds a response header (copied). Call before http_reply*. */
void http_add_header(http_request *r, const char *name, const char *value);
/* Sets the reply; takes ownership of body (malloc'd, may be NULL if len 0). */
void http_reply(http_request *r, int status, const char *content_type, char *body, size_t len);
/* Sets the reply to data that outlives the request (e.g. an embedded asset). */
void http_reply_static(http_request *r, int status, const char *content_type, const void *data,
                       size_t len);
/* Sets a JSON reply from b (the buffer's memory is taken; b is left empty). */
void http_reply_json(http_request *r, int status, buf_t *b);
/* The DESIGN section 4 error reply for e (401 adds WWW-Authenticate). */
void http_reply_error(http_request *r, const err_t *e);
/* The same with a "code" member (embed errors: expired, invalid, ...). */
void http_reply_error_code(http_request *r, const err_t *e, const char *code);

/* ---- asynchronous replies ---- */
/* Only from the handler, on the worker thread. */
void http_suspend(http_request *r);
/* From any thread, after the reply is set. */
void http_resume(http_request *r);

#endif
