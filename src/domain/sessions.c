#include "domain/sessions.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "domain/access_token.h"
#include "jwt/claims.h"
#include "jwt/jws.h"
#include "jwt/jws_cache.h"

int sessions_authenticate(directory *d, const char *authorization, int64_t now, store_token *tok,
                          err_t *e)
{
    char hash[65];
    if (access_token_from_header(authorization, hash, e) != 0)
        return -1;
    if (directory_token_by_hash(d, hash, tok) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "access token is not recognized");
    if (tok->revoked_at != 0)
        return err_set(e, ERR_UNAUTHORIZED, "access token has been revoked");
    if (tok->expires_at <= now) {
        char when[21];
        clock_iso8601(tok->expires_at, when);
        return err_set(e, ERR_UNAUTHORIZED, "access token expired at %s", when);
    }
    if (strcmp(tok->type, "embed") != 0)
        return err_set(e, ERR_FORBIDDEN,
                       "this endpoint needs an Embed access token; the token given is of type '%s'",
                       tok->type);
    store_org org;
    if (directory_org(d, tok->org_id, &org) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "access token is not recognized");
    return 0;
}

void sessions_external_user_id(const char *org_id, const char *email, char out[STORE_ID_MAX])
{
    char ns[64];
    snprintf(ns, sizeof(ns), "tessera:external-user:%s", org_id);
    uuid_from_name(ns, email, out);
}

typedef struct {
    claims_group items[TOKEN_REQ_MAX_GROUPS + DIRECTORY_MAX_USER_GROUPS];
    char ids[TOKEN_REQ_MAX_GROUPS + DIRECTORY_MAX_USER_GROUPS][STORE_ID_MAX];
    char names[TOKEN_REQ_MAX_GROUPS + DIRECTORY_MAX_USER_GROUPS][STORE_NAME_MAX];
    size_t n;
} group_set;

static void group_set_add(group_set *gs, const char *id, const char *name)
{
    for (size_t i = 0; i < gs->n; i++)
        if (strcmp(gs->ids[i], id) == 0)
            return;
    str_copy(gs->ids[gs->n], STORE_ID_MAX, id);
    str_copy(gs->names[gs->n], STORE_NAME_MAX, name);
    gs->items[gs->n].id = gs->ids[gs->n];
    gs->items[gs->n].name = gs->names[gs->n];
    gs->n++;
}

/* Resolves the requested group ids; unknown or foreign ones are all named. */
static int resolve_groups(directory *d, const char *org_id, const token_request *req, group_set *gs,
                          err_t *e)
{
    char unknown[ERR_DETAIL_MAX] = "";
    size_t nunknown = 0, used = 0;
    for (size_t i = 0; i < req->ngroups; i++) {
        char name[STORE_NAME_MAX];
        if (directory_group_name(d, org_id, req->group_ids[i], name) == 0) {
            group_set_add(gs, req->group_ids[i], name);
            continue;
        }
        if (used + 40 < sizeof(unknown) - 40)
            used += (size_t)snprintf(unknown + used, sizeof(unknown) - used, "%s%s",
                                     nunknown ? ", " : "", req->group_ids[i]);
        nunknown++;
    }
    if (nunknown > 0)
        return err_set(e, ERR_INVALID_REQUEST, "unknown groupIds (not groups of this organization): %s%s",
                       unknown, used + 80 >= sizeof(unknown) ? ", ..." : "");
    return 0;
}

static int add_platform_groups(directory *d, const char *org_id, char (*ids)[STORE_ID_MAX],
                               size_t n, group_set *gs)
{
    for (size_t i = 0; i < n; i++) {
        char name[STORE_NAME_MAX];
        if (directory_group_name(d, org_id, ids[i], name) == 0)
            group_set_add(gs, ids[i], name);
    }
    return 0;
}

/* Fills the fields every session audit event shares. */
static void audit_base(store_audit *a, const char *org_id, const char *actor, const char *action, const char *target,
                       const session_context *ctx, int64_t now)
{
    memset(a, 0, sizeof(*a));
    uuid_v7(a->id);
    snprintf(a->org_id, sizeof(a->org_id), "%s", org_id);
    a->at = now;
    snprintf(a->actor, sizeof(a->actor), "%s", actor);
    snprintf(a->action, sizeof(a->action), "%s", action);
    snprintf(a->target, sizeof(a->target), "%s", target);
    snprintf(a->client, sizeof(a->client), "%s", ctx->client ? ctx->client : "");
    snprintf(a->request_id, sizeof(a->request_id), "%s", ctx->request_id ? ctx->request_id : "");
}

/* Issues a session in org_id; atid is the access token's id, or NULL for a
 * sign-in; actor names who asked, for the audit event. */
static int issue(directory *d, const jwt_key *signer, const char *org_id, const char *atid,
                 const char *actor, const token_request *req, const session_context *ctx,
                 int64_t now, session_issued *out, err_t *e)
{
    static __thread group_set gs; /* large; one per worker thread */
    static __thread char member_of[DIRECTORY_MAX_USER_GROUPS][STORE_ID_MAX];
    gs.n = 0;
    if (signer == NULL)
        return err_set(e, ERR_UNAVAILABLE, "no signing key is available yet");
    store_org org;
    if (directory_org(d, org_id, &org) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "access token is not recognized");
    if (resolve_groups(d, org.id, req, &gs, e) != 0)
        return -1;

    store_user user;
    char user_id[STORE_ID_MAX];
    const char *user_type = "external", *role = NULL, *name = req->name[0] ? req->name : NULL;
    if (req->platform_user) {
        size_t nmember = 0;
        if (directory_user_by_email(d, org.id, req->email, &user, member_of, DIRECTORY_MAX_USER_GROUPS,
                                    &nmember) != 0)
            return err_set(e, ERR_UNAUTHORIZED, "no platform user with this email in this organization");
        add_platform_groups(d, org.id, member_of, nmember, &gs);
        snprintf(user_id, sizeof(user_id), "%s", user.id);
        user_type = "superblocks";
        role = user.role;
        if (name == NULL && user.name[0])
            name = user.name;
    } else {
        sessions_external_user_id(org.id, req->email, user_id);
    }

    int64_t ttl = org.session_ttl > 0 ? org.session_ttl : SESSION_DEFAULT_TTL;
    char jti[STORE_ID_MAX];
    uuid_v7(jti);
    session_claims c = {
        .iss = ctx->issuer, .aud = SESSION_AUDIENCE, .sub = user_id, .jti = jti,
        .iat = now, .nbf = now, .exp = now + ttl,
        .org_id = org.id, .org_type = org.type[0] ? org.type : "standard",
        .user_email = req->email, .user_id = user_id, .user_name = name, .user_type = user_type,
        .rbac_role = role, .atid = atid, .groups = gs.items, .ngroups = gs.n,
        .metadata_raw = req->metadata_raw, .metadata_len = req->metadata_len,
    };
    buf_t payload;
    buf_init(&payload, 64 * 1024);
    int rc = -1;
    if (claims_encode(&c, &payload) != 0) {
        err_set(e, ERR_INVALID_REQUEST, "session claims are too large");
        goto out;
    }
    if (jws_sign(signer, payload.data, payload.len, &out->token, e) != 0)
        goto out;
    out->expires_in = ttl;

    store_session *r = &out->record;
    memset(r, 0, sizeof(*r));
    snprintf(r->jti, sizeof(r->jti), "%s", jti);
    snprintf(r->org_id, sizeof(r->org_id), "%s", org.id);
    snprintf(r->user_id, sizeof(r->user_id), "%s", user_id);
    snprintf(r->email, sizeof(r->email), "%s", req->email);
    snprintf(r->user_type, sizeof(r->user_type), "%s", user_type);
    snprintf(r->atid, sizeof(r->atid), "%s", atid ? atid : "");
    r->issued_at = now;
    r->expires_at = now + ttl;

    store_audit *a = &out->audit;
    audit_base(a, org.id, actor, "session.issued", jti, ctx, now);
    buf_t detail;
    buf_init(&detail, sizeof(a->detail) - 1);
    buf_puts(&detail, "{\"email\":");
    buf_json_string(&detail, req->email, strlen(req->email));
    buf_printf(&detail, ",\"user_id\":\"%s\",\"user_type\":\"%s\",\"groups\":%zu,\"expires_at\":%lld", user_id,
               user_type, gs.n, (long long)(now + ttl));
    if (ctx->idp_id != NULL)
        buf_printf(&detail, ",\"idp_id\":\"%s\"", ctx->idp_id);
    if (req->correlation_id[0] != '\0') {
        buf_puts(&detail, ",\"correlation_id\":");
        buf_json_string(&detail, req->correlation_id, strlen(req->correlation_id));
    }
    buf_puts(&detail, "}");
    snprintf(a->detail, sizeof(a->detail), "%s", buf_str(&detail));
    buf_free(&detail);
    rc = 0;
out:
    buf_free(&payload);
    return rc;
}

void sessions_denied_audit(const store_token *tok, const token_request *req, const err_t *why,
                           const session_context *ctx, int64_t now, store_audit *out)
{
    char actor[STORE_EMAIL_MAX];
    const char *email = req != NULL ? req->email : "";
    snprintf(actor, sizeof(actor), "token:%s", tok->id);
    audit_base(out, tok->org_id, actor, "session.denied", email, ctx, now);
    buf_t detail;
    buf_init(&detail, sizeof(out->detail) - 1);
    const char *code = err_code(why->cls);
    buf_puts(&detail, "{\"reason\":");
    buf_json_string(&detail, code, strlen(code));
    buf_puts(&detail, ",\"detail\":");
    buf_json_string(&detail, why->detail, strnlen(why->detail, 400));
    if (email[0] != '\0') {
        buf_puts(&detail, ",\"email\":");
        buf_json_string(&detail, email, strlen(email));
    }
    if (req != NULL && req->correlation_id[0] != '\0') {
        buf_puts(&detail, ",\"correlation_id\":");
        buf_json_string(&detail, req->correlation_id, strlen(req->correlation_id));
    }
    buf_puts(&detail, "}");
    snprintf(out->detail, sizeof(out->detail), "%s", buf_str(&detail));
    buf_free(&detail);
}

void sessions_refreshed_audit(const json_t *claims, const session_context *ctx, int64_t now, store_audit *out)
{
    session_ref ref;
    const char *email = json_string_value(json_object_get(claims, "user_email"));
    char actor[STORE_EMAIL_MAX];
    sessions_ref_of(claims, &ref);
    snprintf(actor, sizeof(actor), "%s%s", ref.atid[0] ? "token:" : "", ref.atid[0] ? ref.atid : (email ? email : ""));
    audit_base(out, ref.org_id, actor, "session.refreshed", ref.jti, ctx, now);
    buf_t detail;
    buf_init(&detail, sizeof(out->detail) - 1);
    buf_puts(&detail, "{\"email\":");
    buf_json_string(&detail, email ? email : "", email ? strlen(email) : 0);
    buf_printf(&detail, ",\"user_id\":\"%s\",\"user_type\":\"%s\",\"expires_at\":%lld}", ref.user_id, ref.user_type,
               (long long)ref.expires_at);
    snprintf(out->detail, sizeof(out->detail), "%s", buf_str(&detail));
    buf_free(&detail);
}

int sessions_issue(directory *d, const jwt_key *signer, const store_token *tok,
                   const token_request *req, const session_context *ctx, int64_t now,
                   session_issued *out, err_t *e)
{
    char actor[STORE_EMAIL_MAX];
    snprintf(actor, sizeof(actor), "token:%s", tok->id);
    return issue(d, signer, tok->org_id, tok->id, actor, req, ctx, now, out, e);
}

int sessions_issue_signin(directory *d, const jwt_key *signer, const store_user *user,
                          const session_context *ctx, int64_t now, session_issued *out, err_t *e)
{
    static __thread token_request req;
    memset(&req, 0, sizeof(req));
    str_copy(req.email, sizeof(req.email), user->email);
    req.platform_user = 1;
    return issue(d, signer, user->org_id, NULL, user->email, &req, ctx, now, out, e);
}

static const jwt_key *find_key(void *ctx, const char *kid)
{
    const session_keys *sk = ctx;
    for (size_t i = 0; i < sk->nkeys; i++)
        if (strcmp(jwt_key_kid(sk->keys[i]), kid) == 0)
            return sk->keys[i];
    return NULL;
}

json_t *sessions_verify(directory *d, const session_keys *keys, const char *issuer, const char *token,
                        size_t len, int64_t now, session_status *status, err_t *e)
{
    *status = SESSION_INVALID;
    json_t *claims = jws_cache_verify(keys->verified, token, len, find_key, (void *)keys, now, e);
    if (claims == NULL)
        return NULL;
    claims_expect x = {.iss = issuer, .aud = SESSION_AUDIENCE, .now = now, .skew = SESSION_SKEW_SECONDS};
    int expired = 0;
    if (claims_check(claims, &x, &expired, e) != 0) {
        *status = expired ? SESSION_EXPIRED : SESSION_INVALID;
        goto fail;
    }
    session_ref ref;
    sessions_ref_of(claims, &ref);
    *status = sessions_live(d, &ref, now, e);
    if (*status != SESSION_OK)
        goto fail;
    return claims;
fail:
    json_decref(claims);
    return NULL;
}

void sessions_ref_of(const json_t *claims, session_ref *out)
{
    const char *v;
    memset(out, 0, sizeof(*out));
    if ((v = json_string_value(json_object_get(claims, "org_id"))) != NULL)
        str_copy(out->org_id, sizeof(out->org_id), v);
    if ((v = json_string_value(json_object_get(claims, "jti"))) != NULL)
        str_copy(out->jti, sizeof(out->jti), v);
    if ((v = json_string_value(json_object_get(claims, "atid"))) != NULL)
        str_copy(out->atid, sizeof(out->atid), v);
    if ((v = json_string_value(json_object_get(claims, "user_type"))) != NULL)
        str_copy(out->user_type, sizeof(out->user_type), v);
    if ((v = json_string_value(json_object_get(claims, "user_id"))) != NULL)
        str_copy(out->user_id, sizeof(out->user_id), v);
    out->expires_at = json_integer_value(json_object_get(claims, "exp"));
}

session_status sessions_live(directory *d, const session_ref *r, int64_t now, err_t *e)
{
    store_org org;
    if (r->expires_at <= now - SESSION_SKEW_SECONDS) {
        err_set(e, ERR_UNAUTHORIZED, "session has expired");
        return SESSION_EXPIRED;
    }
    if (directory_session_revoked(d, r->jti)) {
        err_set(e, ERR_UNAUTHORIZED, "session has been revoked");
        return SESSION_REVOKED;
    }
    if (directory_org(d, r->org_id, &org) != 0) {
        err_set(e, ERR_UNAUTHORIZED, "session token's organization does not exist");
        return SESSION_INVALID;
    }
    if (r->atid[0] != '\0') {
        store_token tok;
        if (directory_token_by_id(d, r->atid, &tok) != 0 || strcmp(tok.org_id, r->org_id) != 0 || tok.revoked_at != 0) {
            err_set(e, ERR_UNAUTHORIZED, "session has been revoked (its access token was revoked or deleted)");
            return SESSION_REVOKED;
        }
        return SESSION_OK;
    }
    store_user user;
    if (strcmp(r->user_type, "superblocks") != 0 || r->user_id[0] == '\0' ||
        directory_user_by_id(d, r->user_id, &user) != 0 || strcmp(user.org_id, r->org_id) != 0) {
        err_set(e, ERR_UNAUTHORIZED, "session has been revoked (its user no longer exists)");
        return SESSION_REVOKED;
    }
    return SESSION_OK;
}
