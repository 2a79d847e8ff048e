/* ANY /api/v1/integrations/{integration}/proxy/{path} - an embedded app's
 * call to a host API on the signed-in user's behalf (domain/integration_call.h).
 * Authenticated by the session token (Bearer); the work runs on the offload
 * pool, so a slow host API never holds an HTTP thread. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/limits.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/xalloc.h"
#include "domain/integration_call.h"
#include "domain/sessions.h"

#define PROXY_PREFIX "/api/v1/integrations/"

typedef struct {
    api_app *app;
    http_request *req;
    char org_id[STORE_ID_MAX], jti[STORE_ID_MAX], user_id[STORE_ID_MAX], integration_id[STORE_ID_MAX];
    char *path, *query;
    char *headers[8]; /* "Name: value" lines to forward, NULL-terminated */
    integration_call_request call;
} proxy_job;

static void job_free(proxy_job *j)
{
    free(j->path);
    free(j->query);
    for (size_t i = 0; j->headers[i] != NULL; i++)
        free(j->headers[i]);
    free(j);
}

/* The caller's allowed headers as "Name: value" lines; a value that is not
 * printable ASCII (or over 1 KiB) is not forwarded. */
static void copy_headers(http_request *req, proxy_job *j)
{
    size_t n = 0;
    for (size_t i = 0; integration_request_headers[i] != NULL && n + 1 < sizeof(j->headers) / sizeof(j->headers[0]); i++) {
        const char *name = integration_request_headers[i], *v = http_header(req, name);
        int ok = v != NULL && strlen(v) <= 1024;
        for (const char *p = v; ok && *p; p++)
            ok = (unsigned char)*p >= 0x20 && (unsigned char)*p <= 0x7e;
        if (!ok)
            continue;
        size_t cap = strlen(name) + strlen(v) + 3;
        j->headers[n] = xmalloc(cap);
        snprintf(j->headers[n++], cap, "%s: %s", name, v);
    }
    j->headers[n] = NULL;
}

static void run_job(void *arg, store *s)
{
    proxy_job *j = arg;
    integration_call_response out;
    err_t e;
    http_add_header(j->req, "Cache-Control", "no-store");
    if (integration_call(j->app->dir, j->app->exchanges, s, &j->call, clock_now(), &out, &e) != 0) {
        log_msg(LOG_INFO, "integration call failed", "request_id", http_request_id(j->req), "integration",
                j->integration_id, "error", err_code(e.cls), "reason", e.detail, NULL);
        metrics_count(METRIC_INTEGRATION_CALLS, err_code(e.cls));
        http_reply_error(j->req, &e);
    } else {
        metrics_count(METRIC_INTEGRATION_CALLS, "ok");
        for (size_t i = 0; i < out.nheaders; i++) {
            char *colon = strchr(out.headers[i], ':');
            *colon = '\0';
            http_add_header(j->req, out.headers[i], colon + 2);
        }
        size_t len = out.body.len;
        const char *type = out.content_type[0] ? out.content_type : "application/octet-stream";
        http_reply(j->req, (int)out.status, type, buf_take(&out.body), len);
    }
    http_client_response_free(&out);
    http_resume(j->req);
    job_free(j);
}

/* The verified session's org, jti and user id into j. */
static int authenticate(api_worker *w, http_request *req, proxy_job *j, err_t *e)
{
    session_status status;
    json_t *claims = api_session_claims(w, req, clock_now(), &status, e);
    if (claims == NULL)
        return -1;
    snprintf(j->org_id, sizeof(j->org_id), "%s", json_string_value(json_object_get(claims, "org_id")));
    snprintf(j->jti, sizeof(j->jti), "%s", json_string_value(json_object_get(claims, "jti")));
    snprintf(j->user_id, sizeof(j->user_id), "%s", json_string_value(json_object_get(claims, "user_id")));
    json_decref(claims);
    return 0;
}

void api_integration_proxy(api_worker *w, http_request *req, const route_params *p)
{
    err_t e;
    proxy_job *j = xcalloc(1, sizeof(*j));
    j->app = w->app;
    j->req = req;
    snprintf(j->integration_id, sizeof(j->integration_id), "%.36s", p->value[0]);
    /* The raw path after ".../proxy" (the router matched PROXY_PREFIX "{id}/proxy[/...]"). */
    const char *rest = strchr(http_path(req) + strlen(PROXY_PREFIX), '/') + strlen("/proxy");
    j->path = xstrdup(rest[0] ? rest : "/");
    j->query = xstrdup(http_query(req));
    if (authenticate(w, req, j, &e) != 0 || api_limit_session(w->app, req, j->jti, &e) != 0)
        goto fail;
    if (!integration_path_ok(j->path) || !integration_query_ok(j->query)) {
        err_set(&e, ERR_INVALID_REQUEST, "the path or query to forward is not allowed (dot segments, encoded "
                                         "slashes and characters outside RFC 3986 are refused)");
        goto fail;
    }
    copy_headers(req, j);
    size_t body_len = 0;
    const char *body = http_body(req, &body_len);
    j->call = (integration_call_request){j->org_id, j->jti,   j->user_id,        j->integration_id,
                                        http_method(req), j->path, j->query, (const char *const *)j->headers,
                                        body,      body_len, http_request_id(req)};
    http_suspend(req);
    if (offload_submit(w->app->offload, run_job, j) != 0) {
        err_set(&e, ERR_UNAVAILABLE, "too many integration calls in flight; retry shortly");
        http_reply_error(req, &e);
        http_resume(req);
        job_free(j);
    }
    return;
fail:
    http_reply_error(req, &e);
    job_free(j);
}
