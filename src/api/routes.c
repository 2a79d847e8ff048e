/* routes.c - every route of the HTTP API, its authentication and handler.
 *
 *   method  path                      auth                     handler
 *   POST    /api/v1/public/token      Embed access token       api_public_token
 *   GET     /api/v1/me                session token (Bearer)   api_me
 *   GET     /.well-known/jwks.json    none                     api_jwks
 *   GET     /healthz                  none                     api_healthz
 *   GET     /sdk/{file}               none (CORS *)            api_sdk_file
 *   GET     /assets/embed/{file}      none                     api_embed_asset
 *   GET     /embed/applications/{app}[/{path}], /code-mode/... none   api_embed_page
 *   GET     /api/v1/embed/apps/{app}  none                     api_embed_app
 *   POST    /api/v1/embed/session     session token (optional) api_embed_session
 *   POST    /api/v1/embed/login       email + password         api_embed_login
 *   POST    /api/v1/embed/csp-report  none                     api_embed_csp_report
 *   GET     /apps/{app}/{ticket}/{path}  app ticket            api_app_file
 *
 * Authentication is done by each handler through the domain layer, so the
 * table stays a plain list. */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "core/log.h"

static const route api_routes[] = {
    {"POST", "/api/v1/public/token", (const void *)api_public_token},
    {"GET", "/api/v1/me", (const void *)api_me},
    {"GET", "/.well-known/jwks.json", (const void *)api_jwks},
    {"GET", "/healthz", (const void *)api_healthz},
    {"GET", "/sdk/{file*}", (const void *)api_sdk_file},
    {"GET", "/assets/embed/{file*}", (const void *)api_embed_asset},
    {"GET", "/embed/applications/{app}/{path*}", (const void *)api_embed_page},
    {"GET", "/code-mode/embed/applications/{app}/{path*}", (const void *)api_embed_page},
    {"GET", "/api/v1/embed/apps/{app}", (const void *)api_embed_app},
    {"POST", "/api/v1/embed/session", (const void *)api_embed_session},
    {"POST", "/api/v1/embed/login", (const void *)api_embed_login},
    {"POST", "/api/v1/embed/csp-report", (const void *)api_embed_csp_report},
    {"GET", "/apps/{app}/{ticket}/{path*}", (const void *)api_app_file},
};

void api_dispatch(void *app, void *worker, http_request *req)
{
    (void)app;
    const route *match = NULL;
    route_params params;
    char allow[64];
    err_t e;
    switch (router_match(api_routes, sizeof(api_routes) / sizeof(api_routes[0]), http_method(req),
                         http_path(req), &match, &params, allow, sizeof(allow))) {
    case ROUTE_FOUND:
        ((api_handler)match->target)(worker, req, &params);
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
