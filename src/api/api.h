/* api.h - the HTTP API: shared state, per-worker state and the dispatcher.
 *
 * api_app is shared by all workers (read-only after start, apart from the
 * thread-safe directory and recorder). api_worker belongs to one worker
 * thread: its own copies of the signing and verification keys, re-taken
 * when the directory's key generation changes. */
#ifndef TESSERA_API_API_H
#define TESSERA_API_API_H

#include <stddef.h>
#include <stdint.h>

#include "domain/directory.h"
#include "domain/sessions.h"
#include "domain/jwks_cache.h"
#include "domain/exchange_cache.h"
#include "domain/watch.h"
#include "api/offload.h"
#include "domain/ratelimit.h"
#include "domain/recorder.h"
#include "domain/throttle.h"
#include "http/router.h"
#include "http/server.h"
#include "jwt/jwk.h"

typedef struct {
    directory *dir;
    recorder *rec;
    throttle *signin_by_email;  /* failed embed sign-ins per (org, email) */
    throttle *signin_by_client; /* failed embed sign-ins per client address */
    jwks_cache *jwks;           /* identity providers' key sets (token exchange) */
    exchange_cache *exchanges;  /* access tokens from RFC 8693 exchanges, per (integration, user) */
    offload *offload;           /* threads for integration calls */
    ratelimit *token_buckets;   /* per access token on the token endpoint (api/limits.h) */
    ratelimit *session_buckets; /* per session on the integration proxy */
    throttle *auth_failures;    /* failed authentications per client address */
    unsigned char metrics_token_hash[32]; /* SHA-256 of the /metrics bearer token ... */
    int metrics_token_set;                /* ... when one is configured */
    watch_hub *watch;           /* open embeds long-polling for the end of their session */
    char base_url[256]; /* no trailing '/'; the "iss" of session tokens */
    char origin[256];   /* scheme://host[:port] of base_url */
} api_app;

/* Session tokens each worker remembers as verified (jwt/jws_cache.h): about
 * 3 KB each with their payload, so 3 MB per worker at most. */
#define API_VERIFIED_TOKENS_PER_WORKER 1024

typedef struct {
    api_app *app;
    store *store; /* this worker's own handle (reads of app files) */
    jwt_key *signer;
    uint64_t signer_gen;
    jwt_key **verify_keys;
    uint64_t verify_gen;
    session_keys session_keys; /* verify_keys and the tokens they verified */
} api_worker;

typedef void (*api_handler)(api_worker *w, http_request *req, const route_params *params);

/* store is the worker's own handle; the worker closes it. */
api_worker *api_worker_new(api_app *app, store *s);
void api_worker_free(api_worker *w);
/* The worker's signing key, refreshed if the keys changed; NULL if none. */
const jwt_key *api_worker_signer(api_worker *w);
/* The worker's verification keys and its cache of tokens they verified,
 * both renewed when the keys changed. */
const session_keys *api_worker_verify_keys(api_worker *w);

/* The http_handler: routes the request (api/routes.c). */
void api_dispatch(void *app, void *worker, http_request *req);
/* The http_config.completed hook: request metrics (api/observability.c). */
void api_completed(void *app, http_request *req, int status, double seconds);

/* Handlers, one file per resource. */
void api_public_token(api_worker *w, http_request *req, const route_params *params);
void api_me(api_worker *w, http_request *req, const route_params *params);
void api_jwks(api_worker *w, http_request *req, const route_params *params);
void api_healthz(api_worker *w, http_request *req, const route_params *params);
void api_readyz(api_worker *w, http_request *req, const route_params *params);
void api_metrics(api_worker *w, http_request *req, const route_params *params);
void api_sdk_file(api_worker *w, http_request *req, const route_params *params);
void api_embed_asset(api_worker *w, http_request *req, const route_params *params);
void api_embed_page(api_worker *w, http_request *req, const route_params *params);
void api_embed_app(api_worker *w, http_request *req, const route_params *params);
void api_embed_session(api_worker *w, http_request *req, const route_params *params);
void api_embed_login(api_worker *w, http_request *req, const route_params *params);
void api_embed_csp_report(api_worker *w, http_request *req, const route_params *params);
void api_embed_watch(api_worker *w, http_request *req, const route_params *params);
void api_app_file(api_worker *w, http_request *req, const route_params *params);
void api_integration_proxy(api_worker *w, http_request *req, const route_params *params);
void api_public_sessions_revoke(api_worker *w, http_request *req, const route_params *params);
void api_admin_sessions_revoke(api_worker *w, http_request *req, const route_params *params);
void api_admin_sessions_list(api_worker *w, http_request *req, const route_params *params);

void api_auth_login(api_worker *w, http_request *req, const route_params *params);
void api_auth_session(api_worker *w, http_request *req, const route_params *params);
void api_auth_logout(api_worker *w, http_request *req, const route_params *params);
void api_console_file(api_worker *w, http_request *req, const route_params *params);
void api_admin_org_get(api_worker *w, http_request *req, const route_params *params);
void api_admin_idps_list(api_worker *w, http_request *req, const route_params *params);
void api_admin_idps_create(api_worker *w, http_request *req, const route_params *params);
void api_admin_idp_get(api_worker *w, http_request *req, const route_params *params);
void api_admin_idp_update(api_worker *w, http_request *req, const route_params *params);
void api_admin_idp_delete(api_worker *w, http_request *req, const route_params *params);
void api_admin_integrations_list(api_worker *w, http_request *req, const route_params *params);
void api_admin_integrations_create(api_worker *w, http_request *req, const route_params *params);
void api_admin_integration_get(api_worker *w, http_request *req, const route_params *params);
void api_admin_integration_update(api_worker *w, http_request *req, const route_params *params);
void api_admin_integration_delete(api_worker *w, http_request *req, const route_params *params);
void api_admin_webhooks_list(api_worker *w, http_request *req, const route_params *params);
void api_admin_webhooks_create(api_worker *w, http_request *req, const route_params *params);
void api_admin_webhook_get(api_worker *w, http_request *req, const route_params *params);
void api_admin_webhook_update(api_worker *w, http_request *req, const route_params *params);
void api_admin_webhook_delete(api_worker *w, http_request *req, const route_params *params);
void api_admin_webhook_rotate_secret(api_worker *w, http_request *req, const route_params *params);
void api_admin_webhook_deliveries(api_worker *w, http_request *req, const route_params *params);
void api_admin_webhook_test(api_worker *w, http_request *req, const route_params *params);
void api_admin_tokens_list(api_worker *w, http_request *req, const route_params *params);
void api_admin_tokens_create(api_worker *w, http_request *req, const route_params *params);
void api_admin_tokens_revoke(api_worker *w, http_request *req, const route_params *params);
void api_admin_tokens_update(api_worker *w, http_request *req, const route_params *params);
void api_admin_groups_list(api_worker *w, http_request *req, const route_params *params);
void api_admin_groups_create(api_worker *w, http_request *req, const route_params *params);
void api_admin_group_get(api_worker *w, http_request *req, const route_params *params);
void api_admin_group_update(api_worker *w, http_request *req, const route_params *params);
void api_admin_group_delete(api_worker *w, http_request *req, const route_params *params);
void api_admin_group_add_member(api_worker *w, http_request *req, const route_params *params);
void api_admin_group_remove_member(api_worker *w, http_request *req, const route_params *params);
void api_admin_group_permissions(api_worker *w, http_request *req, const route_params *params);
void api_admin_apps_list(api_worker *w, http_request *req, const route_params *params);
void api_admin_apps_create(api_worker *w, http_request *req, const route_params *params);
void api_admin_app_get(api_worker *w, http_request *req, const route_params *params);
void api_admin_app_update(api_worker *w, http_request *req, const route_params *params);
void api_admin_versions_list(api_worker *w, http_request *req, const route_params *params);
void api_admin_versions_create(api_worker *w, http_request *req, const route_params *params);
void api_admin_embed_snippet(api_worker *w, http_request *req, const route_params *params);
void api_admin_members_list(api_worker *w, http_request *req, const route_params *params);
void api_admin_members_add(api_worker *w, http_request *req, const route_params *params);
void api_admin_member_update(api_worker *w, http_request *req, const route_params *params);
void api_admin_member_remove(api_worker *w, http_request *req, const route_params *params);
void api_admin_keys_list(api_worker *w, http_request *req, const route_params *params);
void api_admin_keys_rotate(api_worker *w, http_request *req, const route_params *params);
void api_admin_audit(api_worker *w, http_request *req, const route_params *params);
void api_admin_audit_export(api_worker *w, http_request *req, const route_params *params);

/* The body limit for method + path: ADMIN_UPLOAD_MAX for bundle uploads,
 * HTTP_MAX_BODY otherwise. */
size_t api_body_limit(const char *method, const char *path);

/* The user of a verified session as the API shows it: {id, email, name,
 * <type_key>, role?, groups, metadata}. New reference. */
json_t *api_user_json(json_t *claims, const char *type_key);

/* The token of an "Authorization: Bearer <token>" header, or NULL with *e
 * set (ERR_UNAUTHORIZED); *len receives its length. */
const char *api_bearer(const char *header, size_t *len, err_t *e);
/* The verified claims (new reference) of the session token in the request's
 * Authorization header, with the worker's keys; NULL with *e and *status
 * (SESSION_INVALID when there is no usable Bearer token) otherwise. */
json_t *api_session_claims(api_worker *w, http_request *req, int64_t now, session_status *status, err_t *e);

/* Replies 200 with reply (taken) once record and audit are committed by the
 * recorder; 503 instead if they cannot be. The request is suspended until
 * then. Call as the handler's last step. */
void api_reply_after_commit(api_worker *w, http_request *req, buf_t *reply,
                            const store_session *record, const store_audit *audit);

/* Replies status with {"data": data} (data is taken). */
void api_reply_data(http_request *req, int status, json_t *data);
/* The request's JSON object body (Content-Type, size and depth checked), or
 * NULL after replying with the error. Caller json_decref's. */
json_t *api_read_json(http_request *req, size_t max_len, size_t max_depth);

/* Requires "Content-Type: application/json" (parameters allowed). 0 or -1
 * after replying 415. */
int api_require_json(http_request *req);

#endif
