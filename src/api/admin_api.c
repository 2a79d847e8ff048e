/* admin_api.c - authentication and authorization of admin API calls, and
 * the JSON shapes of records. */
#include "api/admin_api.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/hex.h"
#include "core/xalloc.h"
#include "domain/access_token.h"
#include "domain/console.h"

/* The admin access token of the Authorization header, or -1 after filling *e. */
static int by_token(api_worker *w, const char *header, admin_caller *out, err_t *e)
{
    char hash[65];
    store_token tok;
    int64_t now = clock_now();
    if (access_token_from_header(header, hash, e) != 0)
        return -1;
    if (directory_token_by_hash(w->app->dir, hash, &tok) != 0 || tok.revoked_at != 0 || tok.expires_at <= now)
        return err_set(e, ERR_UNAUTHORIZED, "access token is not recognized, expired or revoked");
    if (strcmp(tok.type, "admin") != 0)
        return err_set(e, ERR_FORBIDDEN, "the admin API needs an admin access token; this one is of type '%s'",
                       tok.type);
    recorder_touch_token(w->app->rec, tok.id);
    str_copy(out->org_id, sizeof(out->org_id), tok.org_id);
    snprintf(out->actor, sizeof(out->actor), "token:%s", tok.id);
    str_copy(out->role, sizeof(out->role), "admin");
    return 0;
}

static int by_cookie(api_worker *w, http_request *req, int changes, admin_caller *out, err_t *e)
{
    console_identity id;
    if (console_identify(w->store, w->app->dir, http_header(req, "Cookie"), clock_now(), &id, e) != 0)
        return -1;
    if (changes && !console_csrf_ok(&id, http_header(req, "X-CSRF-Token")))
        return err_set(e, ERR_FORBIDDEN, "missing or wrong CSRF token (send X-CSRF-Token)");
    str_copy(out->org_id, sizeof(out->org_id), id.user.org_id);
    str_copy(out->actor, sizeof(out->actor), id.user.email);
    str_copy(out->role, sizeof(out->role), id.user.role);
    return 0;
}

int admin_begin(api_worker *w, http_request *req, const route_params *params, admin_caller *out)
{
    err_t e;
    int changes = strcmp(http_method(req), "GET") != 0 && strcmp(http_method(req), "HEAD") != 0;
    const char *auth = http_header(req, "Authorization");
    memset(out, 0, sizeof(*out));
    int rc = auth != NULL ? by_token(w, auth, out, &e) : by_cookie(w, req, changes, out, &e);
    if (rc == 0 && strcmp(out->org_id, params->value[0]) != 0)
        rc = err_set(&e, ERR_NOT_FOUND, "no such organization");
    if (rc == 0 && changes && strcmp(out->role, "owner") != 0 && strcmp(out->role, "admin") != 0)
        rc = err_set(&e, ERR_FORBIDDEN, "your role (%s) can read settings but not change them", out->role);
    if (rc != 0) {
        http_reply_error(req, &e);
        return -1;
    }
    out->ctx.store = w->store;
    out->ctx.actor = out->actor;
    out->ctx.client = http_client(req);
    out->ctx.request_id = http_request_id(req);
    return 0;
}

typedef struct {
    json_t *list;
    json_t *(*to_json)(const void *rec);
} list_walk;

static int add_item(void *ctx, const void *rec)
{
    list_walk *lw = ctx;
    json_array_append_new(lw->list, lw->to_json(rec));
    return 0;
}

void admin_reply_list(api_worker *w, http_request *req, const route_params *params, admin_each_op each,
                      json_t *(*to_json)(const void *rec))
{
    admin_caller c;
    err_t e;
    if (admin_begin(w, req, params, &c) != 0)
        return;
    list_walk lw = {json_array(), to_json};
    if (each(w->store, c.org_id, add_item, &lw, &e) != 0) {
        json_decref(lw.list);
        http_reply_error(req, &e);
        return;
    }
    api_reply_data(req, 200, lw.list);
}

void admin_reply_removed(api_worker *w, http_request *req, const route_params *params, admin_row_op op)
{
    admin_caller c;
    err_t e;
    if (admin_begin(w, req, params, &c) != 0)
        return;
    if (op(&c.ctx, c.org_id, params->value[1], &e) != 0)
        http_reply_error(req, &e);
    else
        api_reply_data(req, 200, json_pack("{s:s, s:b}", "id", params->value[1], "removed", 1));
}

json_t *admin_time_json(int64_t t)
{
    if (t == 0)
        return json_null();
    char text[21];
    clock_iso8601(t, text);
    return json_string(text);
}

json_t *admin_token_json(const store_token *t)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", t->id, "name", t->name, "type",
                     t->type, "prefix", t->prefix, "created_by", t->created_by, "created_at",
                     admin_time_json(t->created_at), "last_used_at", admin_time_json(t->last_used_at),
                     "expires_at", admin_time_json(t->expires_at), "revoked_at",
                     admin_time_json(t->revoked_at));
}

json_t *admin_app_json(const store_app *a, int64_t latest_version)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "id", a->id, "name", a->name, "mode", a->mode,
                     "allowed_origins", admin_origins_json(a->allowed_origins), "latest_version",
                     latest_version > 0 ? json_integer(latest_version) : json_null(), "created_at",
                     admin_time_json(a->created_at));
}

json_t *admin_user_json(const store_user *u)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "id", u->id, "email", u->email, "name", u->name,
                     "role", u->role, "created_at", admin_time_json(u->created_at), "has_password",
                     u->password_hash[0] != '\0');
}

json_t *admin_version_json(const store_app_version *v)
{
    return json_pack("{s:s, s:I, s:I, s:I, s:s, s:o}", "id", v->id, "version", (json_int_t)v->version, "files",
                     (json_int_t)v->file_count, "bytes", (json_int_t)v->total_bytes, "created_by",
                     v->created_by, "created_at", admin_time_json(v->created_at));
}

json_t *admin_audit_json(const store_audit *a)
{
    json_t *detail = json_loads(a->detail, 0, NULL);
    return json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:s, s:o}", "id", a->id, "at", admin_time_json(a->at),
                     "actor", a->actor, "action", a->action, "target", a->target, "client", a->client,
                     "request_id", a->request_id, "detail", detail ? detail : json_object());
}

const char *admin_query_param(http_request *req, const char *name, char *out, size_t cap)
{
    const char *query = http_query(req);
    size_t n = strlen(name);
    for (const char *q = query; q && *q;) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        if (len > n && strncmp(q, name, n) == 0 && q[n] == '=' && len - n - 1 < cap) {
            memcpy(out, q + n + 1, len - n - 1);
            out[len - n - 1] = '\0';
            /* decode %XX and '+' (only what filters need: ISO times, emails, actions);
             * an escape that is not two hex digits, or is %00, stays as it is */
            char *o = out;
            for (const char *s = out; *s; s++) {
                unsigned char byte;
                if (*s == '%' && s[1] && s[2] && hex_decode(s + 1, &byte, 1) == 0 && byte != 0) {
                    *o++ = (char)byte;
                    s += 2;
                } else {
                    *o++ = *s == '+' ? ' ' : *s;
                }
            }
            *o = '\0';
            return out;
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

int admin_string_member(http_request *req, json_t *body, const char *key, const char **out)
{
    json_t *v = json_object_get(body, key);
    *out = NULL;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        err_t e;
        err_set(&e, ERR_INVALID_REQUEST, "%s must be a string", key);
        http_reply_error(req, &e);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}
