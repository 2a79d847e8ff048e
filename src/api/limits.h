/* limits.h - the rate limits of the HTTP API (docs/API.md#limits), all in
 * memory and per node:
 *
 *   per access token on POST /api/v1/public/token: a token bucket, the
 *     token's own setting or TOKEN_LIMIT_DEFAULT_* (domain/token_limit.h);
 *   per session (jti) on the integration proxy: API_SESSION_RPS/BURST;
 *   per client address, failed authentications on the credentialed
 *     endpoints: more than API_AUTH_FAILURES within API_AUTH_WINDOW seconds
 *     and the address gets 429 there until that window ends. Loopback
 *     clients are exempt: behind a reverse proxy on the same host every
 *     client would share 127.0.0.1, and one attacker would lock everyone
 *     out (with --trust-proxy the real client address is limited).
 *
 * A refusal is ERR_RATE_LIMITED (429 rate_limited) with Retry-After and the
 * RateLimit-Limit, -Remaining, -Reset and -Policy fields of
 * draft-ietf-httpapi-ratelimit-headers-06 (allowed requests that carry
 * fields get the first three); it is counted in
 * tessera_rate_limited_total{limit} and writes nothing. */
#ifndef TESSERA_API_LIMITS_H
#define TESSERA_API_LIMITS_H

#include "api/api.h"

#define API_SESSION_RPS 20
#define API_SESSION_BURST 40
#define API_AUTH_FAILURES 30
#define API_AUTH_WINDOW 60
#define API_TOKEN_BUCKETS 16384   /* entries, i.e. tokens tracked at once */
#define API_SESSION_BUCKETS 65536 /* sessions tracked at once */
#define API_AUTH_CLIENTS 100000   /* failing addresses tracked at once */

/* Creates and frees app's limiters. */
void api_limits_init(api_app *app);
void api_limits_free(api_app *app);

/* Takes one request from tok's bucket. 0, with the RateLimit-* fields added
 * to req (none when the token has no limit); or -1 with *e set, Retry-After
 * and the fields added: reply with *e. */
int api_limit_token(api_app *app, http_request *req, const store_token *tok, err_t *e);

/* The same for a session's calls through the integration proxy; the fields
 * are added to refusals only (a host API's own answer passes unchanged). */
int api_limit_session(api_app *app, http_request *req, const char *jti, err_t *e);

/* 1 when the failed-authentication limit applies to path: the endpoints
 * that take an access token, a session token or the metrics token. */
int api_auth_guarded(const char *path);
/* -1 with *e set and Retry-After added when req's client address is over
 * the failed-authentication limit; else 0 (always for loopback clients). */
int api_auth_check(api_app *app, http_request *req, err_t *e);
/* Counts one failed authentication for req's client address (not for a
 * loopback client). */
void api_auth_failed(api_app *app, http_request *req);

#endif
