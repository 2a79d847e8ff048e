/* Static files compiled into the binary: GET /sdk/..., GET /assets/embed/... */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/assets.h"
#include "core/mime.h"
#include "http/urlpath.h"

/* Serves web/<dir>/<raw path> or a JSON 404. cors: readable from any origin
 * (the in-app library is imported by sandboxed, opaque-origin app frames). */
static void serve_asset(http_request *req, const char *dir, const char *raw, int cors)
{
    char rel[512], path[600];
    const asset *a = NULL;
    if (urlpath_decode(raw, rel, sizeof(rel)) == 0 && rel[0] != '\0' &&
        (size_t)snprintf(path, sizeof(path), "web/%s/%s", dir, rel) < sizeof(path))
        a = assets_find(path);
    if (a == NULL) {
        err_t e;
        err_set(&e, ERR_NOT_FOUND, "no such file");
        http_reply_error(req, &e);
        return;
    }
    if (cors)
        http_add_header(req, "Access-Control-Allow-Origin", "*");
    http_add_header(req, "Cache-Control", "public, max-age=300");
    http_reply_static(req, 200, mime_type_for(path), a->data, a->len);
}

void api_sdk_file(api_worker *w, http_request *req, const route_params *params)
{
    (void)w;
    serve_asset(req, "sdk", params->value[0], 1);
}

void api_embed_asset(api_worker *w, http_request *req, const route_params *params)
{
    (void)w;
    serve_asset(req, "embed", params->value[0], 0);
}
