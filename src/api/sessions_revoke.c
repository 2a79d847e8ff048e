/* Revoking sessions:
 *   POST /api/v1/public/sessions/revoke                    Embed access token (the host's backend)
 *   POST /api/v1/organizations/{org}/sessions/revoke       admin (console or admin token)
 *   GET  /api/v1/organizations/{org}/sessions?email=E      admin: a user's live sessions
 * Body {"email": ...} (every live session of that user) or {"jti": ...}
 * (one session); reply {"revoked": n} ({"data": {...}} on the admin API). */
#include <stdlib.h>
#include <string.h>

#include "api/admin_api.h"
#include "api/api.h"
#include "core/clock.h"
#include "core/xalloc.h"
#include "domain/email.h"
#include "domain/revocation.h"
#include "domain/sessions.h"

/* Revokes what body names, for org_id as c; *count set. 0, or -1 with *e. */
static int revoke_from_body(http_request *req, const admin_ctx *c, const char *org_id, int64_t *count, err_t *e)
{
    json_t *body = api_read_json(req, 4096, 4);
    if (body == NULL)
        return 1; /* api_read_json replied */
    json_t *email = json_object_get(body, "email"), *jti = json_object_get(body, "jti");
    int rc;
    if ((email != NULL) == (jti != NULL))
        rc = err_set(e, ERR_INVALID_REQUEST, "give exactly one of email (all of a user's sessions) and jti (one session)");
    else if (!json_is_string(email ? email : jti))
        rc = err_set(e, ERR_INVALID_REQUEST, "%s must be a string", email ? "email" : "jti");
    else if (email != NULL)
        rc = revoke_user_sessions(c, org_id, json_string_value(email), count, e);
    else if ((rc = revoke_session(c, org_id, json_string_value(jti), e)) == 0)
        *count = 1;
    json_decref(body);
    return rc;
}

void api_public_sessions_revoke(api_worker *w, http_request *req, const route_params *params)
{
    (void)params;
    store_token tok;
    err_t e;
    int64_t count = 0;
    if (sessions_authenticate(w->app->dir, http_header(req, "Authorization"), clock_now(), &tok, &e) != 0) {
        http_reply_error(req, &e);
        return;
    }
    char actor[STORE_EMAIL_MAX];
    snprintf(actor, sizeof(actor), "token:%s", tok.id);
    admin_ctx c = {w->store, actor, http_client(req), http_request_id(req)};
    int rc = revoke_from_body(req, &c, tok.org_id, &count, &e);
    if (rc < 0) {
        http_reply_error(req, &e);
    } else if (rc == 0) {
        recorder_touch_token(w->app->rec, tok.id);
        char text[48];
        int n = snprintf(text, sizeof(text), "{\"revoked\":%lld}", (long long)count);
        http_add_header(req, "Cache-Control", "no-store");
        http_reply(req, 200, "application/json", xstrndup(text, (size_t)n), (size_t)n);
    }
}

void api_admin_sessions_revoke(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    err_t e;
    int64_t count = 0;
    if (admin_begin(w, req, p, &c) != 0)
        return;
    int rc = revoke_from_body(req, &c.ctx, c.org_id, &count, &e);
    if (rc < 0)
        http_reply_error(req, &e);
    else if (rc == 0)
        api_reply_data(req, 200, json_pack("{s:I}", "revoked", (json_int_t)count));
}

static int add_session(void *ctx, const void *rec)
{
    const store_session *s = rec;
    json_array_append_new(ctx, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "jti", s->jti, "email", s->email,
                                         "user_id", s->user_id, "user_type", s->user_type, "access_token_id",
                                         s->atid, "issued_at", admin_time_json(s->issued_at), "expires_at",
                                         admin_time_json(s->expires_at), "revoked_at",
                                         admin_time_json(s->revoked_at)));
    return 0;
}

void api_admin_sessions_list(api_worker *w, http_request *req, const route_params *p)
{
    admin_caller c;
    err_t e;
    char email[STORE_EMAIL_MAX], raw[STORE_EMAIL_MAX * 3];
    if (admin_begin(w, req, p, &c) != 0)
        return;
    if (admin_query_param(req, "email", raw, sizeof(raw)) == NULL) {
        err_set(&e, ERR_INVALID_REQUEST, "give ?email= (the user whose live sessions to list)");
        http_reply_error(req, &e);
        return;
    }
    if (email_normalize(raw, strlen(raw), email, &e) != 0) {
        http_reply_error(req, &e);
        return;
    }
    json_t *list = json_array();
    if (w->store->ops->session_each_email(w->store, c.org_id, email, clock_now(), add_session, list, &e) != 0) {
        json_decref(list);
        http_reply_error(req, &e);
        return;
    }
    api_reply_data(req, 200, list);
}
