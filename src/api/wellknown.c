/* GET /.well-known/jwks.json and GET /healthz. */
#include <string.h>

#include "api/api.h"
#include "core/xalloc.h"

void api_jwks(api_worker *w, http_request *req, const route_params *params)
{
    (void)params;
    char *jwks = directory_jwks(w->app->dir);
    http_add_header(req, "Cache-Control", "public, max-age=300");
    http_add_header(req, "Access-Control-Allow-Origin", "*");
    http_reply(req, 200, "application/json", jwks, strlen(jwks));
}

void api_healthz(api_worker *w, http_request *req, const route_params *params)
{
    (void)w;
    (void)params;
    const char *ok = "{\"status\":\"ok\"}";
    http_reply(req, 200, "application/json", xstrdup(ok), strlen(ok));
}
