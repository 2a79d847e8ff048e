#include "domain/admin.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "crypto/crypto.h"
#include "domain/email.h"
#include "domain/sessions.h"
#include "domain/token_limit.h"

/* ---- audit events ---- */

void admin_audit_init(store_audit *a, const admin_ctx *c, const char *org_id, const char *action,
                       const char *target)
{
    memset(a, 0, sizeof(*a));
    uuid_v7(a->id);
    snprintf(a->org_id, sizeof(a->org_id), "%s", org_id ? org_id : "");
    a->at = clock_now();
    snprintf(a->actor, sizeof(a->actor), "%s", c->actor ? c->actor : "cli");
    snprintf(a->action, sizeof(a->action), "%s", action);
    snprintf(a->target, sizeof(a->target), "%s", target);
    snprintf(a->client, sizeof(a->client), "%s", c->client ? c->client : "");
    snprintf(a->request_id, sizeof(a->request_id), "%s", c->request_id ? c->request_id : "");
    snprintf(a->detail, sizeof(a->detail), "{}");
}

/* Sets the audit detail to {"name": <name>} (JSON-escaped). */
static void audit_detail_name(store_audit *a, const char *key, const char *value)
{
    buf_t b;
    buf_init(&b, sizeof(a->detail) - 1);
    buf_puts(&b, "{");
    buf_json_string(&b, key, strlen(key));
    buf_puts(&b, ":");
    buf_json_string(&b, value, strlen(value));
    buf_puts(&b, "}");
    snprintf(a->detail, sizeof(a->detail), "%s", b.len ? buf_str(&b) : "{}");
    buf_free(&b);
}

/* ---- validation ---- */

int admin_check_name(const char *what, const char *name, err_t *e)
{
    size_t n = strlen(name);
    if (n == 0 || n > STORE_NAME_MAX - 1)
        return err_set(e, ERR_INVALID_REQUEST, "%s must be 1 to %d bytes", what, STORE_NAME_MAX - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return err_set(e, ERR_INVALID_REQUEST, "%s must not contain control characters", what);
    return 0;
}

int admin_check_text(const char *what, const char *v, size_t max, int required, err_t *e)
{
    size_t n = strlen(v);
    if ((required && n == 0) || n > max)
        return err_set(e, ERR_INVALID_REQUEST, "%s must be %d to %zu bytes", what, required ? 1 : 0, max);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return err_set(e, ERR_INVALID_REQUEST, "%s must not contain control characters", what);
    return 0;
}

int admin_normalize_origin(const char *in, char *out, size_t cap, err_t *e)
{
    const char *host;
    if (strncasecmp(in, "https://", 8) == 0)
        host = in + 8;
    else if (strncasecmp(in, "http://", 7) == 0)
        host = in + 7;
    else
        return err_set(e, ERR_INVALID_REQUEST, "origin must start with https:// or http://");
    size_t n = strlen(in);
    if (n >= cap || n > 253 + 14)
        return err_set(e, ERR_INVALID_REQUEST, "origin is too long");
    if (*host == '\0')
        return err_set(e, ERR_INVALID_REQUEST, "origin has no host");
    for (const char *p = host; *p; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '-' || ch == '.' || ch == ':' || ch == '[' || ch == ']';
        if (!ok)
            return err_set(e, ERR_INVALID_REQUEST,
                           "origin must be scheme://host[:port] with no path, query or user info");
    }
    for (size_t i = 0; i <= n; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
    return 0;
}

int admin_origins_contain(const char *list, const char *origin, size_t n)
{
    for (const char *p = list; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len == n && memcmp(p, origin, n) == 0)
            return 1;
        p += len + (nl ? 1 : 0);
    }
    return 0;
}

json_t *admin_origins_json(const char *list)
{
    json_t *arr = json_array();
    for (const char *p = list; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        json_array_append_new(arr, json_stringn(p, n));
        p += n + (nl ? 1 : 0);
    }
    return arr;
}

int admin_origins_text(const char *const *origins, size_t n, char out[STORE_ORIGINS_MAX], err_t *e)
{
    if (n > ADMIN_MAX_ORIGINS)
        return err_set(e, ERR_INVALID_REQUEST, "at most %d allowed origins", ADMIN_MAX_ORIGINS);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        char norm[300];
        if (admin_normalize_origin(origins[i], norm, sizeof(norm), e) != 0)
            return -1;
        if (admin_origins_contain(out, norm, strlen(norm))) /* the list is a set */
            continue;
        used += (size_t)snprintf(out + used, STORE_ORIGINS_MAX - used, "%s%s", used ? "\n" : "", norm);
    }
    return 0;
}

int admin_check_role(const char *role, err_t *e)
{
    static const char *const roles[] = {"owner", "admin", "developer", "end-user"};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(role, roles[i]) == 0)
            return 0;
    return err_set(e, ERR_INVALID_REQUEST, "role must be owner, admin, developer or end-user");
}

int admin_check_permission(const char *perm, err_t *e)
{
    static const char *const perms[] = {"apps:view", "apps:update"};
    for (size_t i = 0; i < 2; i++)
        if (strcmp(perm, perms[i]) == 0)
            return 0;
    return err_set(e, ERR_INVALID_REQUEST, "permission must be apps:view or apps:update");
}

/* ---- finding by id or name ---- */

typedef struct {
    const char *name;
    size_t rec_size;
    size_t name_offset;
    void *out;
    int matches;
} name_search;

static int on_named(void *ctx, const void *rec)
{
    name_search *ns = ctx;
    if (strcmp((const char *)rec + ns->name_offset, ns->name) == 0) {
        if (ns->matches++ == 0)
            memcpy(ns->out, rec, ns->rec_size);
    }
    return 0;
}

static int resolve_name(name_search *ns, const char *what, const char *name, err_t *e)
{
    if (ns->matches == 0)
        return err_set(e, ERR_NOT_FOUND, "no %s with id or name '%s'", what, name);
    if (ns->matches > 1)
        return err_set(e, ERR_CONFLICT, "%d %ss are named '%s'; use the id", ns->matches, what, name);
    return 0;
}

int admin_find_org(store *s, const char *id_or_name, store_org *out, err_t *e)
{
    err_t ignore;
    if (uuid_is_valid(id_or_name) && s->ops->org_get(s, id_or_name, out, &ignore) == 0)
        return 0;
    name_search ns = {id_or_name, sizeof(*out), offsetof(store_org, name), out, 0};
    if (s->ops->org_each(s, on_named, &ns, e) != 0)
        return -1;
    return resolve_name(&ns, "organization", id_or_name, e);
}

int admin_find_group(store *s, const char *org_id, const char *id_or_name, store_group *out, err_t *e)
{
    err_t ignore;
    if (uuid_is_valid(id_or_name) && s->ops->group_get(s, org_id, id_or_name, out, &ignore) == 0)
        return 0;
    name_search ns = {id_or_name, sizeof(*out), offsetof(store_group, name), out, 0};
    if (s->ops->group_each(s, org_id, on_named, &ns, e) != 0)
        return -1;
    return resolve_name(&ns, "group", id_or_name, e);
}

int admin_find_app(store *s, const char *org_id, const char *id_or_name, store_app *out, err_t *e)
{
    err_t ignore;
    if (uuid_is_valid(id_or_name) && s->ops->app_get(s, org_id, id_or_name, out, &ignore) == 0)
        return 0;
    name_search ns = {id_or_name, sizeof(*out), offsetof(store_app, name), out, 0};
    if (s->ops->app_each(s, org_id, on_named, &ns, e) != 0)
        return -1;
    return resolve_name(&ns, "application", id_or_name, e);
}

/* ---- operations ---- */

int admin_org_create(const admin_ctx *c, const char *name, store_org *out, err_t *e)
{
    if (admin_check_name("organization name", name, e) != 0)
        return -1;
    memset(out, 0, sizeof(*out));
    uuid_v4(out->id);
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(out->type, sizeof(out->type), "standard");
    out->session_ttl = SESSION_DEFAULT_TTL;
    out->session_ttl_max = SESSION_DEFAULT_TTL;
    out->created_at = clock_now();
    store_audit a;
    admin_audit_init(&a, c, out->id, "org.created", out->id);
    audit_detail_name(&a, "name", name);
    return c->store->ops->org_insert(c->store, out, &a, e);
}

int admin_org_update(const admin_ctx *c, const char *org_id, const char *name, int64_t session_ttl,
                     store_org *out, err_t *e)
{
    if (c->store->ops->org_get(c->store, org_id, out, e) != 0)
        return -1;
    if (name != NULL && admin_check_name("organization name", name, e) != 0)
        return -1;
    if (session_ttl < 0 || session_ttl > ADMIN_SESSION_TTL_MAX)
        return err_set(e, ERR_INVALID_REQUEST, "session lifetime must be 1 to %d seconds", ADMIN_SESSION_TTL_MAX);
    if (name != NULL)
        str_copy(out->name, sizeof(out->name), name);
    if (session_ttl > 0)
        out->session_ttl = session_ttl;
    store_audit a;
    admin_audit_init(&a, c, org_id, "org.updated", org_id);
    buf_t b;
    buf_init(&b, sizeof(a.detail) - 1);
    buf_puts(&b, "{\"name\":");
    buf_json_string(&b, out->name, strlen(out->name));
    buf_printf(&b, ",\"session_ttl\":%lld}", (long long)out->session_ttl);
    snprintf(a.detail, sizeof(a.detail), "%s", buf_str(&b));
    buf_free(&b);
    return c->store->ops->org_update(c->store, out, &a, e);
}

int admin_user_add(const admin_ctx *c, const char *org_id, const char *email, const char *name,
                   const char *role, const char *password, store_user *out, err_t *e)
{
    memset(out, 0, sizeof(*out));
    if (email_normalize(email, strlen(email), out->email, e) != 0 || admin_check_role(role, e) != 0 ||
        (name && name[0] && admin_check_name("user name", name, e) != 0))
        return -1;
    if (password != NULL) {
        size_t n = strlen(password);
        if (n < 12 || n > 1024)
            return err_set(e, ERR_INVALID_REQUEST, "password must be 12 to 1024 characters");
        if (crypto_password_hash(password, out->password_hash) != 0)
            return err_set(e, ERR_INTERNAL, "cannot hash the password");
    }
    uuid_v4(out->id);
    snprintf(out->org_id, sizeof(out->org_id), "%s", org_id);
    snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
    snprintf(out->role, sizeof(out->role), "%s", role);
    out->created_at = clock_now();
    store_audit a;
    admin_audit_init(&a, c, org_id, "user.added", out->id);
    audit_detail_name(&a, "email", out->email);
    return c->store->ops->user_insert(c->store, out, &a, e);
}

int admin_token_create(const admin_ctx *c, const char *org_id, const char *name, const char *type,
                       int64_t expires_at, int64_t rate_rps, int64_t rate_burst, store_token *out,
                       char *value, err_t *e)
{
    int64_t now = clock_now();
    if (admin_check_name("token name", name, e) != 0)
        return -1;
    if (!access_token_type_valid(type))
        return err_set(e, ERR_INVALID_REQUEST, "token type must be embed or admin");
    if (expires_at <= now)
        return err_set(e, ERR_INVALID_REQUEST, "token expiry must be in the future");
    if (expires_at > now + (int64_t)ADMIN_TOKEN_MAX_DAYS * 86400)
        return err_set(e, ERR_INVALID_REQUEST, "token expiry must be within %d days", ADMIN_TOKEN_MAX_DAYS);
    if (token_limit_check(rate_rps, rate_burst, e) != 0)
        return -1;
    if (rate_rps != STORE_RATE_DEFAULT && strcmp(type, "embed") != 0)
        return err_set(e, ERR_INVALID_REQUEST,
                       "rate limits apply to Embed tokens (on the token endpoint)");
    memset(out, 0, sizeof(*out));
    uuid_v4(out->id);
    snprintf(out->org_id, sizeof(out->org_id), "%s", org_id);
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(out->type, sizeof(out->type), "%s", type);
    snprintf(out->created_by, sizeof(out->created_by), "%s", c->actor ? c->actor : "cli");
    out->created_at = now;
    out->expires_at = expires_at;
    out->rate_rps = rate_rps;
    out->rate_burst = rate_burst;
    access_token_generate(type, value, out->prefix, out->hash);
    store_audit a;
    admin_audit_init(&a, c, org_id, "token.created", out->id);
    buf_t b;
    buf_init(&b, sizeof(a.detail) - 1);
    buf_puts(&b, "{\"name\":");
    buf_json_string(&b, name, strlen(name));
    buf_printf(&b, ",\"type\":\"%s\",\"prefix\":\"%s\",\"expires_at\":%lld", type, out->prefix,
               (long long)expires_at);
    if (rate_rps == STORE_RATE_OFF)
        buf_puts(&b, ",\"rate_limit\":\"off\"");
    else if (rate_rps != STORE_RATE_DEFAULT)
        buf_printf(&b, ",\"rate_limit\":{\"rps\":%lld,\"burst\":%lld}", (long long)rate_rps,
                   (long long)rate_burst);
    buf_puts(&b, "}");
    snprintf(a.detail, sizeof(a.detail), "%s", buf_str(&b));
    buf_free(&b);
    if (c->store->ops->token_insert(c->store, out, &a, e) != 0) {
        explicit_bzero(value, ACCESS_TOKEN_LEN);
        return -1;
    }
    return 0;
}

int admin_token_revoke(const admin_ctx *c, const char *org_id, const char *token_id, err_t *e)
{
    store_token t;
    if (c->store->ops->token_get(c->store, org_id, token_id, &t, e) != 0)
        return -1;
    if (t.revoked_at != 0)
        return err_set(e, ERR_CONFLICT, "token %s is already revoked", token_id);
    store_audit a;
    admin_audit_init(&a, c, org_id, "token.revoked", token_id);
    audit_detail_name(&a, "name", t.name);
    return c->store->ops->token_revoke(c->store, org_id, token_id, clock_now(), &a, e);
}

int admin_group_create(const admin_ctx *c, const char *org_id, const char *name, store_group *out,
                       err_t *e)
{
    if (admin_check_name("group name", name, e) != 0)
        return -1;
    memset(out, 0, sizeof(*out));
    uuid_v4(out->id);
    snprintf(out->org_id, sizeof(out->org_id), "%s", org_id);
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->created_at = clock_now();
    store_audit a;
    admin_audit_init(&a, c, org_id, "group.created", out->id);
    audit_detail_name(&a, "name", name);
    return c->store->ops->group_insert(c->store, out, &a, e);
}

int admin_group_grant(const admin_ctx *c, const char *org_id, const char *group_id,
                      const char *app_id, const char *permission, err_t *e)
{
    store_group g;
    store_app app;
    if (admin_check_permission(permission, e) != 0 ||
        c->store->ops->group_get(c->store, org_id, group_id, &g, e) != 0 ||
        c->store->ops->app_get(c->store, org_id, app_id, &app, e) != 0)
        return -1;
    store_grant grant = {0};
    snprintf(grant.org_id, sizeof(grant.org_id), "%s", org_id);
    snprintf(grant.group_id, sizeof(grant.group_id), "%s", group_id);
    snprintf(grant.app_id, sizeof(grant.app_id), "%s", app_id);
    snprintf(grant.permission, sizeof(grant.permission), "%s", permission);
    store_audit a;
    admin_audit_init(&a, c, org_id, "group.granted", group_id);
    snprintf(a.detail, sizeof(a.detail), "{\"app_id\":\"%s\",\"permission\":\"%s\"}", app_id, permission);
    return c->store->ops->grant_insert(c->store, &grant, &a, e);
}

int admin_group_add_member(const admin_ctx *c, const char *org_id, const char *group_id,
                           const char *email, err_t *e)
{
    char norm[STORE_EMAIL_MAX];
    store_group g;
    store_user u;
    if (email_normalize(email, strlen(email), norm, e) != 0 ||
        c->store->ops->group_get(c->store, org_id, group_id, &g, e) != 0)
        return -1;
    if (c->store->ops->user_find_email(c->store, org_id, norm, &u, e) != 0)
        return err_set(e, ERR_NOT_FOUND, "no platform user with that email in this organization");
    store_member m = {0};
    snprintf(m.org_id, sizeof(m.org_id), "%s", org_id);
    snprintf(m.group_id, sizeof(m.group_id), "%s", group_id);
    snprintf(m.user_id, sizeof(m.user_id), "%s", u.id);
    store_audit a;
    admin_audit_init(&a, c, org_id, "group.member_added", group_id);
    audit_detail_name(&a, "user_id", u.id);
    return c->store->ops->member_insert(c->store, &m, &a, e);
}

int admin_app_create(const admin_ctx *c, const char *org_id, const char *name, const char *mode,
                     const char *const *origins, size_t norigins, store_app *out, err_t *e)
{
    if (admin_check_name("application name", name, e) != 0)
        return -1;
    if (strcmp(mode, "public") != 0 && strcmp(mode, "private") != 0 && strcmp(mode, "sso") != 0)
        return err_set(e, ERR_INVALID_REQUEST, "mode must be public, private or sso");
    memset(out, 0, sizeof(*out));
    if (admin_origins_text(origins, norigins, out->allowed_origins, e) != 0)
        return -1;
    uuid_v4(out->id);
    snprintf(out->org_id, sizeof(out->org_id), "%s", org_id);
    snprintf(out->name, sizeof(out->name), "%s", name);
    snprintf(out->mode, sizeof(out->mode), "%s", mode);
    out->created_at = clock_now();
    store_audit a;
    admin_audit_init(&a, c, org_id, "app.created", out->id);
    audit_detail_name(&a, "name", name);
    return c->store->ops->app_insert(c->store, out, &a, e);
}
