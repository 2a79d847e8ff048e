/* Observability: GET /metrics (Prometheus text format 0.0.4), GET /readyz,
 * and the per-request hook that feeds the request metrics.
 *
 * Who may read /metrics (it reveals traffic volume): with a metrics token
 * configured (serve --metrics-token-file, TESSERA_METRICS_TOKEN), whoever
 * sends it as a Bearer token, from anywhere; without one, only loopback
 * clients whose request did not come through a proxy (no Forwarded or
 * X-Forwarded-For field). The token is compared by its SHA-256, in
 * constant time, and never logged. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/log.h"
#include "core/metrics.h"
#include "crypto/crypto.h"
#include "http/forwarded.h"

#define TOKEN_ROUTE "/api/v1/public/token"
#define SIGNIN_ROUTE "/api/v1/embed/login"

/* 0 when req may read the metrics, else -1 with *e. */
static int metrics_allowed(const api_app *app, http_request *req, err_t *e)
{
    if (app->metrics_token_set) {
        size_t len = 0;
        const char *token = api_bearer(http_header(req, "Authorization"), &len, e);
        unsigned char hash[CRYPTO_SHA256_LEN];
        if (token == NULL)
            return err_set(e, ERR_UNAUTHORIZED,
                           "/metrics needs 'Authorization: Bearer <metrics token>'");
        crypto_sha256(token, len, hash);
        if (!crypto_equal(hash, app->metrics_token_hash, sizeof(hash)))
            return err_set(e, ERR_UNAUTHORIZED, "the metrics token is not recognized");
        return 0;
    }
    if (!http_addr_is_loopback(http_client(req)) || http_header(req, "X-Forwarded-For") != NULL ||
        http_header(req, "Forwarded") != NULL)
        return err_set(e, ERR_FORBIDDEN,
                       "/metrics is served to loopback clients only, unless the server has "
                       "a metrics token (tessera serve --metrics-token-file)");
    return 0;
}

void api_metrics(api_worker *w, http_request *req, const route_params *params)
{
    (void)params;
    err_t e;
    buf_t b;
    if (metrics_allowed(w->app, req, &e) != 0) {
        http_reply_error(req, &e);
        return;
    }
    buf_init(&b, METRICS_RENDER_MAX);
    if (metrics_render(&b) != 0) {
        log_msg(LOG_ERROR, "metrics exposition is over its size limit", "request_id",
                http_request_id(req), NULL);
        buf_free(&b);
        err_set(&e, ERR_INTERNAL, "the metrics could not be rendered");
        http_reply_error(req, &e);
        return;
    }
    size_t len = b.len;
    http_add_header(req, "Cache-Control", "no-store");
    http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", buf_take(&b), len);
}

/* Ready = this worker's database handle answers a trivial query and a
 * signing key is loaded. A handle whose connection was cut (a PostgreSQL
 * restart) fails the first statement and reconnects on the next: asked
 * twice, so a database that is back counts as back. */
void api_readyz(api_worker *w, http_request *req, const route_params *params)
{
    (void)params;
    int64_t seq;
    err_t e;
    http_add_header(req, "Cache-Control", "no-store");
    if (w->store->ops->change_latest(w->store, &seq, &e) != 0 &&
        w->store->ops->change_latest(w->store, &seq, &e) != 0) {
        char detail[ERR_DETAIL_MAX];
        snprintf(detail, sizeof(detail), "%s", e.detail);
        err_set(&e, ERR_UNAVAILABLE, "the database does not answer: %.200s", detail);
    } else if (api_worker_signer(w) == NULL) {
        err_set(&e, ERR_UNAVAILABLE, "no signing key is loaded");
    } else {
        static const char ready[] = "{\"status\":\"ready\"}";
        http_reply_static(req, 200, "application/json", ready, sizeof(ready) - 1);
        return;
    }
    log_msg(LOG_WARN, "not ready", "reason", e.detail, "request_id", http_request_id(req), NULL);
    json_t *doc = json_pack("{s:s, s:s, s:s}", "status", "not_ready", "error", err_code(e.cls),
                            "error_description", e.detail);
    char *text = json_dumps(doc, JSON_COMPACT);
    http_reply(req, 503, "application/json", text, strlen(text));
    json_decref(doc);
}

void api_completed(void *app, http_request *req, int status, double seconds)
{
    (void)app;
    const char *pattern = http_route(req);
    metrics_http_request(pattern, http_method(req), status, seconds);
    if (pattern == NULL)
        return;
    if (strcmp(pattern, TOKEN_ROUTE) == 0) {
        if (status == 200)
            metrics_count(METRIC_SESSIONS_ISSUED, NULL);
        else
            metrics_count(METRIC_SESSIONS_REFUSED, err_code_for_status(status));
    } else if (status == 200 && strcmp(pattern, SIGNIN_ROUTE) == 0) {
        metrics_count(METRIC_SESSIONS_ISSUED, NULL);
    }
}
