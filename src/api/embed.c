/* The embed runtime's server side (docs/EMBED.md):
 *   GET  /embed/applications/{app}[/{path}]   (and /code-mode/...)  the embed page
 *   GET  /api/v1/embed/apps/{app}             public app settings for the embed page
 *   POST /api/v1/embed/session                may this session view this app?
 *   POST /api/v1/embed/login                  platform-user sign-in for private apps
 *   POST /api/v1/embed/csp-report             browsers' CSP violation reports
 *   GET  /apps/{app}/{ticket}/{path}          the app's own files, sandboxed */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/assets.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "crypto/crypto.h"
#include "domain/admin.h"
#include "domain/email.h"
#include "domain/embed.h"
#include "domain/sessions.h"
#include "http/urlpath.h"

#define SIGNIN_BODY_MAX 4096

/* The allowed origins (newline-separated) as a space-separated CSP source
 * list, or 'none'. */
static void origins_csp(const char *origins, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = origins; *p && o + 2 < cap; p++)
        out[o++] = *p == '\n' ? ' ' : *p;
    out[o] = '\0';
    if (o == 0)
        snprintf(out, cap, "'none'");
}

/* The origin part of a Referer header value; length 0 when there is none. */
static size_t referer_origin(const char *referer, const char **origin)
{
    *origin = referer;
    if (referer == NULL)
        return 0;
    const char *scheme = strstr(referer, "://");
    if (scheme == NULL)
        return 0;
    const char *end = strchr(scheme + 3, '/');
    return end ? (size_t)(end - referer) : strlen(referer);
}

static void reply_not_found(http_request *req, const char *what)
{
    err_t e;
    err_set(&e, ERR_NOT_FOUND, "%s", what);
    http_reply_error(req, &e);
}

void api_embed_page(api_worker *w, http_request *req, const route_params *params)
{
    store_app app;
    const asset *page = assets_find("web/embed/index.html");
    if (!uuid_is_valid(params->value[0]) || directory_app(w->app->dir, params->value[0], &app) != 0 ||
        page == NULL) {
        http_add_header(req, "Content-Security-Policy", "frame-ancestors 'none'");
        reply_not_found(req, "no such application");
        return;
    }
    const char *origin;
    size_t n = referer_origin(http_header(req, "Referer"), &origin);
    if (n > 0 && strncmp(origin, w->app->origin, n) != 0 && !admin_origins_contain(app.allowed_origins, origin, n)) {
        char who[256];
        snprintf(who, sizeof(who), "%.*s", (int)(n < 200 ? n : 200), origin);
        log_msg(LOG_WARN, "embed refused: origin not allowed for this app", "app_id", app.id, "origin",
                who, "request_id", http_request_id(req), NULL);
    }
    char ancestors[STORE_ORIGINS_MAX + 16], csp[STORE_ORIGINS_MAX + 512];
    origins_csp(app.allowed_origins, ancestors, sizeof(ancestors));
    snprintf(csp, sizeof(csp),
             "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; "
             "base-uri 'none'; form-action 'self'; frame-ancestors %s; "
             "report-uri /api/v1/embed/csp-report",
             ancestors);
    http_add_header(req, "Content-Security-Policy", csp);
    http_add_header(req, "Referrer-Policy", "no-referrer");
    http_add_header(req, "Cache-Control", "no-store");
    http_reply_static(req, 200, "text/html; charset=utf-8", page->data, page->len);
}

void api_embed_app(api_worker *w, http_request *req, const route_params *params)
{
    store_app app;
    if (!uuid_is_valid(params->value[0]) || directory_app(w->app->dir, params->value[0], &app) != 0) {
        reply_not_found(req, "no such application");
        return;
    }
    api_reply_data(req, 200, json_pack("{s:s, s:s, s:s, s:o}", "id", app.id, "name", app.name, "mode", app.mode,
                              "allowed_origins", admin_origins_json(app.allowed_origins)));
}

void api_embed_session(api_worker *w, http_request *req, const route_params *params)
{
    (void)params;
    json_t *body = api_read_json(req, 1024, 4);
    if (body == NULL)
        return;
    err_t e;
    const char *app_id = json_string_value(json_object_get(body, "app_id"));
    const char *auth = http_header(req, "Authorization");
    const char *token = NULL, *code = "invalid";
    size_t token_len = 0;
    embed_access acc;
    if (app_id == NULL) {
        err_set(&e, ERR_INVALID_REQUEST, "app_id is required");
        http_reply_error(req, &e);
        goto out;
    }
    if (auth != NULL && (token = api_bearer(auth, &token_len, &e)) == NULL) {
        http_reply_error_code(req, &e, "invalid");
        goto out;
    }
    int64_t now = clock_now();
    if (embed_open(w->app->dir, api_worker_verify_keys(w), w->app->base_url, app_id, token, token_len, now, &acc,
                   &code, &e) != 0) {
        log_msg(LOG_INFO, "embed refused", "app_id", app_id, "code", code, "reason", e.detail,
                "request_id", http_request_id(req), NULL);
        http_reply_error_code(req, &e, code);
        goto out;
    }
    json_t *user = json_null(), *expires = json_null(), *expires_in = json_null();
    if (acc.claims != NULL && json_is_true(json_object_get(body, "refresh"))) {
        store_audit refreshed;
        session_context ctx = {w->app->base_url, http_client(req), http_request_id(req), NULL};
        sessions_refreshed_audit(acc.claims, &ctx, now, &refreshed);
        recorder_submit(w->app->rec, NULL, &refreshed, NULL, NULL); /* best effort, like the reply */
    }
    if (acc.claims != NULL) {
        char when[21];
        clock_iso8601(acc.expires_at, when);
        user = api_user_json(acc.claims, "userType");
        expires = json_string(when);
        expires_in = json_integer(acc.expires_at - now);
    }
    api_reply_data(req, 200, json_pack("{s:o, s:{s:s, s:s, s:s}, s:o, s:o, s:s}", "user", user, "app", "id",
                              acc.app.id, "name", acc.app.name, "mode", acc.app.mode, "expires_at",
                              expires, "expires_in", expires_in, "frame_url", acc.frame_url));
    embed_access_release(&acc);
out:
    json_decref(body);
}

/* Throttle keys: one per (org, email) and one per client address. */
static void signin_keys(const char *org_id, const char *email, const char *client, char *by_email,
                        char *by_client, size_t cap)
{
    snprintf(by_email, cap, "email:%s/%s", org_id, email);
    snprintf(by_client, cap, "client:%s", client);
}

/* Verifies email + password for a private app; *user on success. A wrong
 * email costs the same argon2id work as a wrong password. */
static int check_password(directory *d, const store_app *app, const char *email, const char *password,
                          store_user *user, err_t *e)
{
    static const char dummy[] =
        "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    char none[1][STORE_ID_MAX];
    size_t ngroups;
    int found = directory_user_by_email(d, app->org_id, email, user, none, 0, &ngroups) == 0 &&
                user->password_hash[0] != '\0';
    int ok = crypto_password_verify(found ? user->password_hash : dummy, password);
    if (!found || !ok)
        return err_set(e, ERR_UNAUTHORIZED, "wrong email or password");
    return 0;
}

void api_embed_login(api_worker *w, http_request *req, const route_params *params)
{
    (void)params;
    json_t *body = api_read_json(req, SIGNIN_BODY_MAX, 4);
    if (body == NULL)
        return;
    api_app *app = w->app;
    err_t e;
    store_app sapp;
    store_user user;
    char email[STORE_EMAIL_MAX], by_email[STORE_EMAIL_MAX + 64], by_client[128];
    const char *app_id = json_string_value(json_object_get(body, "app_id"));
    json_t *jemail = json_object_get(body, "email");
    const char *password = json_string_value(json_object_get(body, "password"));
    int64_t now = clock_now();
    session_issued out;
    buf_init(&out.token, 32 * 1024);
    buf_t reply;
    buf_init(&reply, 40 * 1024);

    if (app_id == NULL || !json_is_string(jemail) || password == NULL) {
        err_set(&e, ERR_INVALID_REQUEST, "app_id, email and password are required strings");
        goto fail;
    }
    if (!uuid_is_valid(app_id) || directory_app(app->dir, app_id, &sapp) != 0) {
        err_set(&e, ERR_NOT_FOUND, "no such application");
        goto fail;
    }
    if (strcmp(sapp.mode, "private") != 0) {
        err_set(&e, ERR_FORBIDDEN, "this application does not take sign-ins; it uses %s embedding", sapp.mode);
        goto fail;
    }
    if (email_normalize(json_string_value(jemail), json_string_length(jemail), email, &e) != 0)
        goto fail;
    signin_keys(sapp.org_id, email, http_client(req), by_email, by_client, sizeof(by_email));
    int64_t wait = throttle_check(app->signin_by_email, by_email, now);
    if (wait == 0)
        wait = throttle_check(app->signin_by_client, by_client, now);
    if (wait > 0) {
        char after[24];
        snprintf(after, sizeof(after), "%lld", (long long)wait);
        http_add_header(req, "Retry-After", after);
        err_set(&e, ERR_RATE_LIMITED, "too many failed sign-ins; try again in %lld seconds", (long long)wait);
        goto fail;
    }
    if (check_password(app->dir, &sapp, email, password, &user, &e) != 0) {
        throttle_fail(app->signin_by_email, by_email, now);
        throttle_fail(app->signin_by_client, by_client, now);
        log_msg(LOG_INFO, "embed sign-in refused", "app_id", sapp.id, "client", http_client(req),
                "request_id", http_request_id(req), NULL);
        goto fail;
    }
    throttle_reset(app->signin_by_email, by_email);
    session_context ctx = {app->base_url, http_client(req), http_request_id(req), NULL};
    if (sessions_issue_signin(app->dir, api_worker_signer(w), &user, &ctx, now, &out, &e) != 0)
        goto fail;
    buf_puts(&reply, "{\"data\":{\"access_token\":");
    buf_json_string(&reply, out.token.data, out.token.len);
    buf_printf(&reply, ",\"token_type\":\"Bearer\",\"expires_in\":%lld}}", (long long)out.expires_in);
    api_reply_after_commit(w, req, &reply, &out.record, &out.audit);
    goto out;
fail:
    http_reply_error(req, &e);
out:
    if (out.token.data)
        explicit_bzero(out.token.data, out.token.len);
    buf_free(&out.token);
    buf_free(&reply);
    json_decref(body);
}

void api_embed_csp_report(api_worker *w, http_request *req, const route_params *params)
{
    (void)w;
    (void)params;
    size_t len;
    const char *body = http_body(req, &len);
    json_t *root = json_parse_strict(body, len, 8, 0, NULL);
    json_t *report = json_object_get(root, "csp-report");
    const char *directive = json_string_value(json_object_get(report, "violated-directive"));
    const char *blocked = json_string_value(json_object_get(report, "blocked-uri"));
    const char *document = json_string_value(json_object_get(report, "document-uri"));
    if (report != NULL)
        log_msg(LOG_WARN, "browser refused content (CSP)", "directive", directive ? directive : "",
                "blocked", blocked ? blocked : "", "document", document ? document : "", "client",
                http_client(req), NULL);
    json_decref(root);
    http_reply(req, 204, NULL, NULL, 0);
}

typedef struct {
    http_request *req;
    int found;
} file_reply;

static int on_file(void *ctx, const void *rec)
{
    file_reply *fr = ctx;
    const store_app_file *f = rec;
    char *copy = xmalloc(f->len + 1);
    memcpy(copy, f->data, f->len);
    http_reply(fr->req, 200, f->content_type, copy, f->len);
    fr->found = 1;
    return 1;
}

void api_app_file(api_worker *w, http_request *req, const route_params *params)
{
    err_t e;
    store_app app;
    char path[512], version[STORE_ID_MAX];
    const char *app_id = params->value[0];
    if (!uuid_is_valid(app_id) || directory_app(w->app->dir, app_id, &app) != 0 ||
        embed_ticket_check(w->app->dir, app_id, params->value[1], clock_now(), &e) != 0 ||
        urlpath_decode(params->value[2], path, sizeof(path)) != 0 ||
        directory_app_version(w->app->dir, app_id, version) != 0) {
        reply_not_found(req, "no such file");
        return;
    }
    if (path[0] == '\0')
        snprintf(path, sizeof(path), "index.html");
    file_reply fr = {req, 0};
    err_t miss;
    if (w->store->ops->app_file_get(w->store, version, path, on_file, &fr, &miss) != 0) {
        /* Single-page apps: a path without an extension is a route of the app. */
        const char *last = strrchr(path, '/');
        if (strchr(last ? last : path, '.') == NULL)
            w->store->ops->app_file_get(w->store, version, "index.html", on_file, &fr, &miss);
    }
    if (!fr.found) {
        reply_not_found(req, "no such file");
        return;
    }
    char ancestors[STORE_ORIGINS_MAX + 16], csp[STORE_ORIGINS_MAX + 256];
    origins_csp(app.allowed_origins, ancestors, sizeof(ancestors));
    snprintf(csp, sizeof(csp),
             "sandbox allow-scripts allow-forms allow-popups allow-modals allow-downloads; "
             "frame-ancestors 'self' %s",
             strcmp(ancestors, "'none'") == 0 ? "" : ancestors);
    http_add_header(req, "Content-Security-Policy", csp);
    http_add_header(req, "Referrer-Policy", "no-referrer");
    http_add_header(req, "Access-Control-Allow-Origin", "*");
    http_add_header(req, "Cache-Control", "private, max-age=300");
}
