/* client.h - outbound HTTP requests (libcurl): fetching an identity
 * provider's JWKS, the RFC 8693 exchange, and forwarding proxied calls.
 *
 * Every request is bounded: a total timeout, a response size limit, http and
 * https only, and no redirects followed (a 3xx is returned as it is). Nothing
 * here logs; callers decide what may be logged (never a header value that
 * carries a credential). Thread-safe after http_client_global_init(). */
#ifndef TESSERA_HTTP_CLIENT_H
#define TESSERA_HTTP_CLIENT_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

#define HTTP_CLIENT_MAX_HEADERS 32

typedef struct {
    const char *method;       /* "GET", "POST", ... */
    const char *url;
    const char *const *headers; /* "Name: value" lines, NULL-terminated; may be NULL */
    const char *body;         /* NULL = none */
    size_t body_len;
    long timeout_ms;          /* whole request, connect included */
    size_t max_response;      /* bytes of body; more is ERR_TOO_LARGE */
} http_client_request;

typedef struct {
    long status;
    buf_t body;               /* the caller buf_free()s it */
    char cache_control[256];  /* the response's Cache-Control, "" when absent */
    char content_type[128];
    /* Other response headers the caller asked to keep (see keep_headers). */
    char *headers[HTTP_CLIENT_MAX_HEADERS]; /* "Name: value", owned */
    size_t nheaders;
} http_client_response;

/* Once per process, before any thread makes a request. */
void http_client_global_init(void);
void http_client_global_cleanup(void);

/* Performs req. keep_headers: lower-case names of response headers to copy
 * into resp->headers (NULL-terminated list, or NULL for none). Returns 0
 * when a response arrived (any status), or -1 with ERR_UNAVAILABLE (cannot
 * connect, timeout, TLS failure), ERR_TOO_LARGE (response over the limit)
 * or ERR_INVALID_REQUEST (a URL that is not http or https). The detail names
 * the host at most, never the query or a header. */
int http_client_perform(const http_client_request *req, const char *const *keep_headers,
                        http_client_response *resp, err_t *e);

/* Like http_client_perform, and cancelled(ctx) is polled during the
 * transfer (at least once a second): nonzero aborts it with ERR_UNAVAILABLE
 * ("cancelled"), so a thread stopping is not held by a slow server. */
int http_client_perform_cancellable(const http_client_request *req, const char *const *keep_headers,
                                    int (*cancelled)(void *ctx), void *ctx, http_client_response *resp,
                                    err_t *e);

void http_client_response_free(http_client_response *resp);

#endif
