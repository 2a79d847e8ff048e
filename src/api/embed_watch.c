/* POST /api/v1/embed/watch - the embed page's long poll: answers at once
 * when the session token is no longer valid, else holds the request until
 * the session ends (revoked, expired, its access token revoked) or
 * WATCH_WAIT_SECONDS pass, then {"data": {"status": "ok"}} and the page asks
 * again. The token travels in the Authorization header, never in a URL. */
#include "api/api.h"
#include "core/clock.h"
#include "domain/sessions.h"
#include "domain/watch.h"

static const char *status_code(session_status st)
{
    return st == SESSION_REVOKED ? "revoked" : st == SESSION_EXPIRED ? "expired" : "invalid";
}

static void on_resolved(void *ctx, session_status st)
{
    http_request *req = ctx;
    if (st == SESSION_OK) {
        http_add_header(req, "Cache-Control", "no-store");
        api_reply_data(req, 200, json_pack("{s:s}", "status", "ok"));
    } else {
        err_t e;
        err_set(&e, ERR_UNAUTHORIZED, "%s", st == SESSION_REVOKED ? "the session has been revoked" : "the session has expired");
        http_reply_error_code(req, &e, status_code(st));
    }
    http_resume(req);
}

void api_embed_watch(api_worker *w, http_request *req, const route_params *params)
{
    (void)params;
    err_t e;
    session_status st;
    int64_t now = clock_now();
    json_t *claims = api_session_claims(w, req, now, &st, &e);
    if (claims == NULL) {
        http_reply_error_code(req, &e, status_code(st));
        return;
    }
    session_ref ref;
    sessions_ref_of(claims, &ref);
    json_decref(claims);
    http_suspend(req);
    if (watch_hub_add(w->app->watch, &ref, now + WATCH_WAIT_SECONDS, on_resolved, req) != 0) {
        err_set(&e, ERR_UNAVAILABLE, "too many open embeds are watching their session; retry shortly");
        http_reply_error(req, &e);
        http_resume(req);
    }
}
