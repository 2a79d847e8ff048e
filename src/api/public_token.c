/* POST /api/v1/public/token - an Embed access token buys a session token;
 * with a subject_token, only for the user a trusted identity provider
 * vouches for (token exchange, docs/TOKEN-EXCHANGE.md). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/limits.h"
#include "core/clock.h"
#include "core/log.h"
#include "domain/sessions.h"
#include "domain/token_exchange.h"
#include "domain/token_request.h"

void api_public_token(api_worker *w, http_request *req, const route_params *params)
{
    (void)params;
    api_app *app = w->app;
    int64_t now = clock_now();
    err_t e;
    store_token tok;
    token_request treq;
    store_idp *idp = NULL;
    session_issued out;
    buf_init(&out.token, 32 * 1024);
    buf_t reply;
    buf_init(&reply, 40 * 1024);
    treq.subject_token_len = 0;
    int audited = 0, parsed = 0; /* a refusal is audited once the token passed (and its rate limit) */

    if (sessions_authenticate(app->dir, http_header(req, "Authorization"), now, &tok, &e) != 0 ||
        api_limit_token(app, req, &tok, &e) != 0)
        goto fail;
    audited = 1;
    if (api_require_json(req) != 0)
        goto out;
    size_t len;
    const char *body = http_body(req, &len);
    if (token_request_parse(body, len, &treq, &e) != 0)
        goto fail;
    parsed = 1;
    session_context ctx = {app->base_url, http_client(req), http_request_id(req), NULL};
    if (treq.has_subject_token) {
        idp = malloc(sizeof(*idp));
        if (idp == NULL && err_set(&e, ERR_INTERNAL, "out of memory"))
            goto fail;
        if (token_exchange_verify(app->dir, app->jwks, tok.org_id, &treq, now, idp, &e) != 0)
            goto fail;
        ctx.idp_id = idp->id;
    }
    if (sessions_issue(app->dir, api_worker_signer(w), &tok, &treq, &ctx, now, &out, &e) != 0)
        goto fail;
    if (idp != NULL &&
        token_exchange_keep(app->dir, w->store, tok.org_id, idp->id, out.record.jti, &treq, out.record.expires_at, &e) != 0)
        goto fail;

    buf_puts(&reply, "{\"access_token\":");
    buf_json_string(&reply, out.token.data, out.token.len);
    buf_printf(&reply, ",\"token_type\":\"Bearer\",\"expires_in\":%lld}", (long long)out.expires_in);
    recorder_touch_token(app->rec, tok.id);
    api_reply_after_commit(w, req, &reply, &out.record, &out.audit);
    goto out;
fail:
    log_msg(LOG_INFO, "token request refused", "request_id", http_request_id(req), "client",
            http_client(req), "error", err_code(e.cls), "reason", e.detail, NULL);
    if (audited) {
        store_audit denied;
        session_context dctx = {app->base_url, http_client(req), http_request_id(req), NULL};
        sessions_denied_audit(&tok, parsed ? &treq : NULL, &e, &dctx, now, &denied);
        recorder_submit(app->rec, NULL, &denied, NULL, NULL); /* best effort: a refusal waits for no commit */
    }
    http_reply_error(req, &e);
out:
    explicit_bzero(treq.subject_token, treq.subject_token_len);
    free(idp);
    if (out.token.data)
        explicit_bzero(out.token.data, out.token.len);
    buf_free(&out.token);
    buf_free(&reply);
}
