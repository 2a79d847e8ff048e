/* routes.c - every route of the HTTP API, its authentication and handler.
 *
 *   method  path                      auth                     handler
 *   POST    /api/v1/public/token      Embed access token       api_public_token
 *   POST    /api/v1/public/sessions/revoke  Embed access token api_public_sessions_revoke
 *   GET     /api/v1/me                session token (Bearer)   api_me
 *   GET     /.well-known/jwks.json    none                     api_jwks
 *   GET     /healthz                  none                     api_healthz
 *   GET     /readyz                   none                     api_readyz
 *   GET     /metrics                  loopback, or metrics token  api_metrics
 *   GET     /sdk/{file}               none (CORS *)            api_sdk_file
 *   GET     /assets/embed/{file}      none                     api_embed_asset
 *   GET     /embed/applications/{app}[/{path}], /code-mode/... none   api_embed_page
 *   GET     /api/v1/embed/apps/{app}  none                     api_embed_app
 *   POST    /api/v1/embed/session     session token (optional) api_embed_session
 *   POST    /api/v1/embed/login       email + password         api_embed_login
 *   POST    /api/v1/embed/csp-report  none                     api_embed_csp_report
 *   POST    /api/v1/embed/watch       session token (long poll) api_embed_watch
 *   GET     /apps/{app}/{ticket}/{path}  app ticket            api_app_file
 *   *       /api/v1/integrations/{id}/proxy[/{path}]  session token   api_integration_proxy
 *   POST    /api/v1/auth/login        email + password         api_auth_login
 *   GET     /api/v1/auth/session      console cookie           api_auth_session
 *   POST    /api/v1/auth/logout       console cookie + CSRF    api_auth_logout
 *   GET     /console/{file}           none (never framable)    api_console_file
 *   *       /api/v1/organizations/{org}/...  admin token, or console cookie (+ CSRF
 *           for changes); role checked in admin_begin (api/admin_api.c)
 *
 * Authentication is done by each handler through the domain layer, so the
 * table stays a plain list. api_dispatch adds what applies to every route:
 * the route pattern as the request's metrics label, and the limit on failed
 * authentications per client address (api/limits.h) on the credentialed
 * paths: a client over it gets 429 before any handler runs, and every 401
 * answered to a request that carried an Authorization header counts. */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/limits.h"
#include "core/log.h"
#include "domain/admin.h"

static const route api_routes[] = {
    {"POST", "/api/v1/public/token", (const void *)api_public_token},
    {"POST", "/api/v1/public/sessions/revoke", (const void *)api_public_sessions_revoke},
    {"GET", "/api/v1/me", (const void *)api_me},
    {"GET", "/.well-known/jwks.json", (const void *)api_jwks},
    {"GET", "/healthz", (const void *)api_healthz},
    {"GET", "/readyz", (const void *)api_readyz},
    {"GET", "/metrics", (const void *)api_metrics},
    {"GET", "/sdk/{file*}", (const void *)api_sdk_file},
    {"GET", "/assets/embed/{file*}", (const void *)api_embed_asset},
    {"GET", "/embed/applications/{app}/{path*}", (const void *)api_embed_page},
    {"GET", "/code-mode/embed/applications/{app}/{path*}", (const void *)api_embed_page},
    {"GET", "/api/v1/embed/apps/{app}", (const void *)api_embed_app},
    {"POST", "/api/v1/embed/session", (const void *)api_embed_session},
    {"POST", "/api/v1/embed/login", (const void *)api_embed_login},
    {"POST", "/api/v1/embed/csp-report", (const void *)api_embed_csp_report},
    {"POST", "/api/v1/embed/watch", (const void *)api_embed_watch},
    {"GET", "/apps/{app}/{ticket}/{path*}", (const void *)api_app_file},
#define PROXY "/api/v1/integrations/{integration}/proxy"
    {"GET", PROXY, (const void *)api_integration_proxy},
    {"GET", PROXY "/{path*}", (const void *)api_integration_proxy},
    {"POST", PROXY "/{path*}", (const void *)api_integration_proxy},
    {"PUT", PROXY "/{path*}", (const void *)api_integration_proxy},
    {"PATCH", PROXY "/{path*}", (const void *)api_integration_proxy},
    {"DELETE", PROXY "/{path*}", (const void *)api_integration_proxy},
#undef PROXY
    {"POST", "/api/v1/auth/login", (const void *)api_auth_login},
    {"GET", "/api/v1/auth/session", (const void *)api_auth_session},
    {"POST", "/api/v1/auth/logout", (const void *)api_auth_logout},
    {"GET", "/console/{file*}", (const void *)api_console_file},
#define ORG "/api/v1/organizations/{org}"
    {"GET", ORG, (const void *)api_admin_org_get},
    {"GET", ORG "/access-tokens", (const void *)api_admin_tokens_list},
    {"POST", ORG "/access-tokens", (const void *)api_admin_tokens_create},
    {"DELETE", ORG "/access-tokens/{id}", (const void *)api_admin_tokens_revoke},
    {"PATCH", ORG "/access-tokens/{id}", (const void *)api_admin_tokens_update},
    {"GET", ORG "/groups", (const void *)api_admin_groups_list},
    {"POST", ORG "/groups", (const void *)api_admin_groups_create},
    {"GET", ORG "/groups/{group}", (const void *)api_admin_group_get},
    {"PATCH", ORG "/groups/{group}", (const void *)api_admin_group_update},
    {"DELETE", ORG "/groups/{group}", (const void *)api_admin_group_delete},
    {"POST", ORG "/groups/{group}/members", (const void *)api_admin_group_add_member},
    {"DELETE", ORG "/groups/{group}/members/{user}", (const void *)api_admin_group_remove_member},
    {"PUT", ORG "/groups/{group}/permissions", (const void *)api_admin_group_permissions},
    {"GET", ORG "/applications", (const void *)api_admin_apps_list},
    {"POST", ORG "/applications", (const void *)api_admin_apps_create},
    {"GET", ORG "/applications/{app}", (const void *)api_admin_app_get},
    {"PATCH", ORG "/applications/{app}", (const void *)api_admin_app_update},
    {"GET", ORG "/applications/{app}/versions", (const void *)api_admin_versions_list},
    {"POST", ORG "/applications/{app}/versions", (const void *)api_admin_versions_create},
    {"GET", ORG "/applications/{app}/embed-snippet", (const void *)api_admin_embed_snippet},
    {"GET", ORG "/members", (const void *)api_admin_members_list},
    {"POST", ORG "/members", (const void *)api_admin_members_add},
    {"PATCH", ORG "/members/{user}", (const void *)api_admin_member_update},
    {"DELETE", ORG "/members/{user}", (const void *)api_admin_member_remove},
    {"GET", ORG "/idps", (const void *)api_admin_idps_list},
    {"POST", ORG "/idps", (const void *)api_admin_idps_create},
    {"GET", ORG "/idps/{idp}", (const void *)api_admin_idp_get},
    {"PATCH", ORG "/idps/{idp}", (const void *)api_admin_idp_update},
    {"DELETE", ORG "/idps/{idp}", (const void *)api_admin_idp_delete},
    {"GET", ORG "/integrations", (const void *)api_admin_integrations_list},
    {"POST", ORG "/integrations", (const void *)api_admin_integrations_create},
    {"GET", ORG "/integrations/{integration}", (const void *)api_admin_integration_get},
    {"PATCH", ORG "/integrations/{integration}", (const void *)api_admin_integration_update},
    {"DELETE", ORG "/integrations/{integration}", (const void *)api_admin_integration_delete},
    {"GET", ORG "/webhooks", (const void *)api_admin_webhooks_list},
    {"POST", ORG "/webhooks", (const void *)api_admin_webhooks_create},
    {"GET", ORG "/webhooks/{webhook}", (const void *)api_admin_webhook_get},
    {"PATCH", ORG "/webhooks/{webhook}", (const void *)api_admin_webhook_update},
    {"DELETE", ORG "/webhooks/{webhook}", (const void *)api_admin_webhook_delete},
    {"POST", ORG "/webhooks/{webhook}/rotate-secret", (const void *)api_admin_webhook_rotate_secret},
    {"GET", ORG "/webhooks/{webhook}/deliveries", (const void *)api_admin_webhook_deliveries},
    {"POST", ORG "/webhooks/{webhook}/test", (const void *)api_admin_webhook_test},
    {"GET", ORG "/sessions", (const void *)api_admin_sessions_list},
    {"POST", ORG "/sessions/revoke", (const void *)api_admin_sessions_revoke},
    {"GET", ORG "/signing-keys", (const void *)api_admin_keys_list},
    {"POST", ORG "/signing-keys/rotate", (const void *)api_admin_keys_rotate},
    {"GET", ORG "/audit", (const void *)api_admin_audit},
    {"GET", ORG "/audit/export", (const void *)api_admin_audit_export},
#undef ORG
};

/* Requests that change what the directory holds: admin API writes and revocations. */
static int is_admin_change(http_request *req)
{
    static const char prefix[] = "/api/v1/organizations/";
    if (strcmp(http_method(req), "GET") == 0 || strcmp(http_method(req), "HEAD") == 0)
        return 0;
    return strncmp(http_path(req), prefix, sizeof(prefix) - 1) == 0 ||
           strcmp(http_path(req), "/api/v1/public/sessions/revoke") == 0;
}

/* Read-your-writes: an admin change (a new access token, a grant, an app's
 * origins...) is applied to this node's directory before the reply leaves,
 * so the caller's next request here already sees it. Other nodes and CLI
 * changes arrive through the serve loop's poll. The handler only recorded
 * its reply; the HTTP layer sends it after dispatch returns. */
static void see_own_change(api_worker *w)
{
    err_t e;
    if (directory_refresh(w->app->dir, w->store, &e) != 0)
        log_msg(LOG_ERROR, "directory refresh after an admin change failed", "error", e.detail, NULL);
}

/* The route's handler, between the checks of the failed-authentication
 * limit. */
static void run_route(api_app *app, api_worker *w, http_request *req, const route *match,
                      const route_params *params)
{
    err_t e;
    int guarded = api_auth_guarded(http_path(req));
    http_set_route(req, match->pattern);
    if (guarded && api_auth_check(app, req, &e) != 0) {
        http_reply_error(req, &e);
        return;
    }
    ((api_handler)match->target)(w, req, params);
    if (guarded && http_status(req) == 401 && http_header(req, "Authorization") != NULL)
        api_auth_failed(app, req);
}

void api_dispatch(void *app, void *worker, http_request *req)
{
    const route *match = NULL;
    route_params params;
    char allow[64];
    err_t e;
    switch (router_match(api_routes, sizeof(api_routes) / sizeof(api_routes[0]), http_method(req),
                         http_path(req), &match, &params, allow, sizeof(allow))) {
    case ROUTE_FOUND:
        run_route(app, worker, req, match, &params);
        if (is_admin_change(req))
            see_own_change(worker);
        return;
    case ROUTE_BAD_METHOD:
        err_set(&e, ERR_METHOD_NOT_ALLOWED, "method %s is not allowed here; allowed: %s",
                http_method(req), allow);
        http_add_header(req, "Allow", allow);
        break;
    case ROUTE_NOT_FOUND:
        err_set(&e, ERR_NOT_FOUND, "no such endpoint");
        break;
    }
    http_reply_error(req, &e);
}

size_t api_body_limit(const char *method, const char *path)
{
    static const char prefix[] = "/api/v1/organizations/", suffix[] = "/versions";
    size_t n = strlen(path);
    if (strcmp(method, "POST") == 0 && strncmp(path, prefix, sizeof(prefix) - 1) == 0 &&
        n > sizeof(suffix) - 1 && strcmp(path + n - (sizeof(suffix) - 1), suffix) == 0)
        return ADMIN_UPLOAD_MAX;
    return HTTP_MAX_BODY;
}

int api_require_json(http_request *req)
{
    const char *ct = http_header(req, "Content-Type");
    if (ct != NULL) {
        while (*ct == ' ')
            ct++;
        size_t n = strlen("application/json");
        if (strncasecmp(ct, "application/json", n) == 0 &&
            (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return 0;
    }
    err_t e;
    err_set(&e, ERR_UNSUPPORTED_MEDIA, "Content-Type must be application/json");
    http_reply_error(req, &e);
    return -1;
}
