/* integration_call.h - one call of an embedded app to a host API on the
 * signed-in user's behalf (docs/TOKEN-EXCHANGE.md, "Integrations"):
 *
 *   1. the session's subject token is opened (it never leaves the server);
 *   2. it is exchanged at the integration's token URL (RFC 8693, client
 *      credentials by HTTP Basic) for an access token to the host API,
 *      unless one for this user is cached (exchange_cache.h);
 *   3. the call is forwarded to <base_url><path>?<query> with
 *      "Authorization: Bearer <exchanged token>" and only the request headers
 *      of integration_request_headers; the reply's status, body and the
 *      headers of integration_response_headers come back.
 *
 * Blocking (outbound HTTP): run it off the HTTP threads (api/offload.h). */
#ifndef TESSERA_DOMAIN_INTEGRATION_CALL_H
#define TESSERA_DOMAIN_INTEGRATION_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "domain/directory.h"
#include "domain/exchange_cache.h"
#include "http/client.h"
#include "store/store.h"

#define INTEGRATION_EXCHANGE_TIMEOUT_MS 10000
#define INTEGRATION_CALL_TIMEOUT_MS 15000
#define INTEGRATION_RESPONSE_MAX (4 * 1024 * 1024)
#define INTEGRATION_DEFAULT_EXPIRES_IN 300 /* when the token URL gives no expires_in */

typedef struct {
    /* the verified session */
    const char *org_id;
    const char *jti;
    const char *user_id;
    /* the call */
    const char *integration_id;
    const char *method;       /* GET POST PUT PATCH DELETE */
    const char *path;         /* raw, starts with '/', checked by integration_path_ok */
    const char *query;        /* raw, without '?'; "" for none */
    const char *const *headers; /* "Name: value" lines to forward, NULL-terminated (may be NULL) */
    const char *body;
    size_t body_len;
    const char *request_id;
} integration_call_request;

/* Names of the caller's request headers that are forwarded, and (lower
 * case) of the API's response headers that are relayed besides
 * Content-Type. NULL-terminated. */
extern const char *const integration_request_headers[];
extern const char *const integration_response_headers[];

/* The API's answer: status, content_type, body and the relayed headers;
 * free with http_client_response_free. */
typedef http_client_response integration_call_response;

/* 1 when path (raw) may be appended to a base URL: starts with '/', only
 * RFC 3986 path characters and %XX escapes, no "." or ".." segment (also
 * not percent-encoded), no encoded '/', at most 2048 bytes. Likewise
 * integration_query_ok for the raw query. */
int integration_path_ok(const char *path);
int integration_query_ok(const char *query);

/* Performs the call; *out is always initialised. Errors: ERR_NOT_FOUND (no such integration in the
 * org), ERR_CONFLICT (the session has no subject token), ERR_BAD_GATEWAY
 * (the token URL refused or failed, the API was unreachable, redirected,
 * or answered too much), ERR_INTERNAL. The API's own statuses, 4xx and 5xx
 * alike, are a success here (out->status). */
int integration_call(directory *d, exchange_cache *cache, store *s, const integration_call_request *r, int64_t now,
                     integration_call_response *out, err_t *e);

#endif
