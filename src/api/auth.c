/* Console sign-in: POST /api/v1/auth/login, GET /api/v1/auth/session,
 * POST /api/v1/auth/logout; and the console's own files at /console/. */
#include <stdio.h>
#include <string.h>

#include "api/admin_api.h"
#include "core/assets.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mime.h"
#include "core/xalloc.h"
#include "domain/console.h"
#include "domain/email.h"
#include "http/urlpath.h"

static json_t *identity_json(const console_identity *id)
{
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:s}, s:{s:s, s:s}, s:s}", "user", "id", id->user.id, "email",
                     id->user.email, "name", id->user.name, "role", id->user.role, "org_id", id->user.org_id,
                     "org", "id", id->org.id, "name", id->org.name, "csrf_token", id->session.csrf_token);
}

static void set_cookie(api_worker *w, http_request *req, const char *value, int max_age)
{
    char cookie[160];
    int secure = strncmp(w->app->base_url, "https://", 8) == 0;
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s", CONSOLE_COOKIE,
             value, max_age, secure ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", cookie);
}

/* Retry-After for a throttled sign-in, 0 when it may go ahead. */
static int64_t throttled(api_app *app, const char *by_email, const char *by_client, int64_t now)
{
    int64_t wait = throttle_check(app->signin_by_email, by_email, now);
    return wait ? wait : throttle_check(app->signin_by_client, by_client, now);
}

void api_auth_login(api_worker *w, http_request *req, const route_params *p)
{
    (void)p;
    json_t *body = api_read_json(req, 4096, 4);
    if (body == NULL)
        return;
    api_app *app = w->app;
    const char *email = json_string_value(json_object_get(body, "email"));
    const char *password = json_string_value(json_object_get(body, "password"));
    char norm[STORE_EMAIL_MAX], by_email[STORE_EMAIL_MAX + 16], by_client[96], cookie[CONSOLE_COOKIE_LEN + 1];
    int64_t now = clock_now();
    console_identity id;
    err_t e;
    if (email == NULL || password == NULL) {
        err_set(&e, ERR_INVALID_REQUEST, "email and password are required strings");
        goto fail;
    }
    if (email_normalize(email, strlen(email), norm, &e) != 0)
        str_copy(norm, sizeof(norm), "(invalid)");
    snprintf(by_email, sizeof(by_email), "console:%s", norm);
    snprintf(by_client, sizeof(by_client), "client:%s", http_client(req));
    int64_t wait = throttled(app, by_email, by_client, now);
    if (wait > 0) {
        char after[24];
        snprintf(after, sizeof(after), "%lld", (long long)wait);
        http_add_header(req, "Retry-After", after);
        err_set(&e, ERR_RATE_LIMITED, "too many failed sign-ins; try again in %lld seconds", (long long)wait);
        goto fail;
    }
    admin_ctx c = {w->store, norm, http_client(req), http_request_id(req)};
    if (console_signin(&c, app->dir, email, password, now, cookie, &id, &e) != 0) {
        if (e.cls == ERR_UNAUTHORIZED) {
            throttle_fail(app->signin_by_email, by_email, now);
            throttle_fail(app->signin_by_client, by_client, now);
        }
        log_msg(LOG_INFO, "console sign-in refused", "client", http_client(req), "request_id",
                http_request_id(req), NULL);
        goto fail;
    }
    throttle_reset(app->signin_by_email, by_email);
    set_cookie(w, req, cookie, CONSOLE_SESSION_TTL);
    explicit_bzero(cookie, sizeof(cookie));
    api_reply_data(req, 200, identity_json(&id));
    json_decref(body);
    return;
fail:
    http_reply_error(req, &e);
    json_decref(body);
}

void api_auth_session(api_worker *w, http_request *req, const route_params *p)
{
    (void)p;
    console_identity id;
    err_t e;
    if (console_identify(w->store, w->app->dir, http_header(req, "Cookie"), clock_now(), &id, &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 200, identity_json(&id));
}

void api_auth_logout(api_worker *w, http_request *req, const route_params *p)
{
    (void)p;
    console_identity id;
    err_t e;
    if (console_identify(w->store, w->app->dir, http_header(req, "Cookie"), clock_now(), &id, &e) == 0 &&
        !console_csrf_ok(&id, http_header(req, "X-CSRF-Token"))) {
        err_set(&e, ERR_FORBIDDEN, "missing or wrong CSRF token (send X-CSRF-Token)");
        http_reply_error(req, &e);
        return;
    }
    admin_ctx c = {w->store, id.user.email, http_client(req), http_request_id(req)};
    if (console_signout(&c, http_header(req, "Cookie"), &e) != 0) {
        http_reply_error(req, &e);
        return;
    }
    set_cookie(w, req, "", 0);
    api_reply_data(req, 200, json_pack("{s:b}", "signed_out", 1));
}

void api_console_file(api_worker *w, http_request *req, const route_params *p)
{
    (void)w;
    char rel[512], path[600];
    const asset *a = NULL;
    if (urlpath_decode(p->value[0], rel, sizeof(rel)) == 0) {
        snprintf(path, sizeof(path), "web/console/%s", rel[0] ? rel : "index.html");
        a = assets_find(path);
    }
    if (a == NULL) {
        err_t e;
        err_set(&e, ERR_NOT_FOUND, "no such file");
        http_reply_error(req, &e);
        return;
    }
    http_add_header(req, "X-Frame-Options", "DENY");
    http_add_header(req, "Content-Security-Policy",
                    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                    "frame-ancestors 'none'");
    http_add_header(req, "Referrer-Policy", "same-origin");
    http_add_header(req, "Cache-Control", "no-cache");
    http_reply_static(req, 200, mime_type_for(path), a->data, a->len);
}
