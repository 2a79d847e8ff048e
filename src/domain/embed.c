#include "domain/embed.h"

#include <stdio.h>
#include <string.h>

#include "core/hex.h"
#include "core/uuid.h"
#include "crypto/crypto.h"
#include "domain/sessions.h"
#include "jwt/b64url.h"

/* Ticket layout (57 bytes, then base64url): version 1 | exp (8, big endian)
 * | jti (16) | atid (16) | HMAC-SHA256(key, "app:" app_id | bytes 0..40) first 16.
 * Zero jti/atid for anonymous viewers of public apps. */
#define TICKET_BODY 41
#define TICKET_MAC 16
#define TICKET_BYTES (TICKET_BODY + TICKET_MAC)

static void ticket_mac(directory *d, const char *app_id, const unsigned char *body,
                       unsigned char mac[TICKET_MAC])
{
    unsigned char key[32], full[32], msg[4 + STORE_ID_MAX + TICKET_BODY];
    size_t app_len = strlen(app_id);
    directory_derive_key(d, "tessera app tickets v1", key);
    memcpy(msg, "app:", 4);
    memcpy(msg + 4, app_id, app_len);
    memcpy(msg + 4 + app_len, body, TICKET_BODY);
    crypto_hmac_sha256(key, sizeof(key), msg, 4 + app_len + TICKET_BODY, full);
    memcpy(mac, full, TICKET_MAC);
    explicit_bzero(key, sizeof(key));
}

/* 16 bytes of a UUID's text form, or zeros for NULL/"". */
static void uuid_bytes(const char *uuid, unsigned char out[16])
{
    memset(out, 0, 16);
    if (uuid == NULL || !uuid_is_valid(uuid))
        return;
    char hex[33];
    size_t n = 0;
    for (const char *p = uuid; *p && n < 32; p++)
        if (*p != '-')
            hex[n++] = *p;
    hex_decode(hex, out, 16);
}

static int bytes_zero(const unsigned char *b, size_t n)
{
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

static void ticket_make(directory *d, const char *app_id, const char *jti, const char *atid,
                        int64_t exp, char out[EMBED_TICKET_LEN + 1])
{
    unsigned char t[TICKET_BYTES];
    t[0] = 1;
    for (int i = 0; i < 8; i++)
        t[1 + i] = (unsigned char)((uint64_t)exp >> (56 - 8 * i));
    uuid_bytes(jti, t + 9);
    uuid_bytes(atid, t + 25);
    ticket_mac(d, app_id, t, t + TICKET_BODY);
    b64url_encode(t, sizeof(t), out);
}

int embed_ticket_check(directory *d, const char *app_id, const char *ticket, int64_t now, err_t *e)
{
    unsigned char t[TICKET_BYTES + 3], mac[TICKET_MAC];
    size_t n = 0;
    if (strlen(ticket) != EMBED_TICKET_LEN || b64url_decode(ticket, EMBED_TICKET_LEN, t, &n) != 0 ||
        n != TICKET_BYTES || t[0] != 1)
        return err_set(e, ERR_NOT_FOUND, "no such file");
    ticket_mac(d, app_id, t, mac);
    if (!crypto_equal(mac, t + TICKET_BODY, TICKET_MAC))
        return err_set(e, ERR_NOT_FOUND, "no such file");
    uint64_t exp = 0;
    for (int i = 0; i < 8; i++)
        exp = exp << 8 | t[1 + i];
    if ((int64_t)exp <= now)
        return err_set(e, ERR_NOT_FOUND, "no such file (the app link has expired; reload the embed)");
    if (!bytes_zero(t + 25, 16)) {
        char atid[STORE_ID_MAX];
        store_token tok;
        uuid_format(t + 25, atid);
        if (directory_token_by_id(d, atid, &tok) != 0 || tok.revoked_at != 0)
            return err_set(e, ERR_NOT_FOUND, "no such file (the session has been revoked)");
    }
    return 0;
}

/* 1 when the session's groups (or its platform role) allow viewing app. */
static int may_view(directory *d, json_t *claims, const store_app *app)
{
    const char *role = json_string_value(json_object_get(claims, "rbac_role"));
    if (role != NULL && (strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0))
        return 1;
    json_t *groups = json_object_get(claims, "rbac_group_objects");
    const char *ids[TOKEN_REQ_MAX_GROUPS + DIRECTORY_MAX_USER_GROUPS];
    size_t n = 0, i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        const char *id = json_string_value(json_object_get(g, "id"));
        if (id != NULL && n < sizeof(ids) / sizeof(ids[0]))
            ids[n++] = id;
    }
    return directory_groups_allow(d, app->org_id, ids, n, app->id, "apps:view");
}

static const char *status_code(session_status st)
{
    switch (st) {
    case SESSION_EXPIRED: return "expired";
    case SESSION_REVOKED: return "revoked";
    default: return "invalid";
    }
}

int embed_open(directory *d, const session_keys *keys, const char *issuer,
               const char *app_id, const char *token, size_t token_len, int64_t now,
               embed_access *out, const char **code, err_t *e)
{
    memset(out, 0, sizeof(*out));
    *code = "invalid";
    char version[STORE_ID_MAX];
    if (!uuid_is_valid(app_id) || directory_app(d, app_id, &out->app) != 0)
        return err_set(e, ERR_NOT_FOUND, "no such application");
    int public_app = strcmp(out->app.mode, "public") == 0;
    if (token == NULL || token_len == 0) {
        if (!public_app)
            return err_set(e, ERR_UNAUTHORIZED, "this application needs a session token");
    } else {
        session_status st;
        out->claims = sessions_verify(d, keys, issuer, token, token_len, now, &st, e);
        if (out->claims == NULL) {
            *code = status_code(st);
            return -1;
        }
        const char *org = json_string_value(json_object_get(out->claims, "org_id"));
        const char *type = json_string_value(json_object_get(out->claims, "user_type"));
        *code = "forbidden";
        if (org == NULL || strcmp(org, out->app.org_id) != 0) {
            err_set(e, ERR_FORBIDDEN, "the session belongs to another organization");
            goto fail;
        }
        if (strcmp(out->app.mode, "private") == 0 && (type == NULL || strcmp(type, "superblocks") != 0)) {
            err_set(e, ERR_FORBIDDEN, "this application is private: sign in with a platform account");
            goto fail;
        }
        if (!public_app && !may_view(d, out->claims, &out->app)) {
            err_set(e, ERR_FORBIDDEN, "your groups do not grant apps:view on this application");
            goto fail;
        }
        out->expires_at = (int64_t)json_integer_value(json_object_get(out->claims, "exp"));
    }
    *code = "invalid";
    if (directory_app_version(d, out->app.id, version) != 0) {
        err_set(e, ERR_NOT_FOUND, "application '%s' has not been deployed yet", out->app.name);
        goto fail;
    }
    char ticket[EMBED_TICKET_LEN + 1];
    const char *jti = out->claims ? json_string_value(json_object_get(out->claims, "jti")) : NULL;
    const char *atid = out->claims ? json_string_value(json_object_get(out->claims, "atid")) : NULL;
    int64_t exp = out->claims ? out->expires_at : now + EMBED_PUBLIC_TICKET_TTL;
    ticket_make(d, out->app.id, jti, atid, exp, ticket);
    snprintf(out->frame_url, sizeof(out->frame_url), "/apps/%s/%s/index.html", out->app.id, ticket);
    return 0;
fail:
    embed_access_release(out);
    return -1;
}

void embed_access_release(embed_access *a)
{
    json_decref(a->claims);
    a->claims = NULL;
}
