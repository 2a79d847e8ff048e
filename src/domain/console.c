#include "domain/console.h"

#include <stdio.h>
#include <string.h>

#include "core/hex.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "crypto/crypto.h"
#include "domain/email.h"
#include "jwt/b64url.h"

#define CONSOLE_MAX_ACCOUNTS 16 /* platform users sharing one email across orgs */

/* The value of the console cookie in a Cookie header, or NULL. */
static const char *cookie_value(const char *header, char out[CONSOLE_COOKIE_LEN + 1])
{
    const char *p = header;
    size_t name_len = strlen(CONSOLE_COOKIE);
    while (p != NULL && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (strncmp(p, CONSOLE_COOKIE, name_len) == 0 && p[name_len] == '=') {
            const char *v = p + name_len + 1;
            size_t n = strcspn(v, ";");
            if (n != CONSOLE_COOKIE_LEN)
                return NULL;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
        p = strchr(p, ';');
    }
    return NULL;
}

static void random_text(char *out, size_t bytes)
{
    unsigned char raw[32];
    crypto_random(raw, bytes);
    b64url_encode(raw, bytes, out);
    explicit_bzero(raw, sizeof(raw));
}

/* The store's copy of a candidate the directory found: its password may have
 * changed since the directory last polled (tessera user passwd elsewhere). */
static int fresh_user(store *s, const store_user *cached, store_user *out)
{
    err_t miss;
    return s->ops->user_get(s, cached->org_id, cached->id, out, &miss);
}

int console_signin(const admin_ctx *c, directory *d, const char *email, const char *password,
                   int64_t now, char *cookie, console_identity *out, err_t *e)
{
    static const char dummy[] =
        "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    char norm[STORE_EMAIL_MAX];
    store_user candidates[CONSOLE_MAX_ACCOUNTS], user;
    memset(out, 0, sizeof(*out));
    if (email_normalize(email, strlen(email), norm, e) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "wrong email or password");
    size_t n = directory_users_with_email(d, norm, candidates, CONSOLE_MAX_ACCOUNTS);
    int found = 0;
    for (size_t i = 0; i < n && !found; i++) {
        if (fresh_user(c->store, &candidates[i], &user) != 0 || user.password_hash[0] == '\0')
            continue;
        if (crypto_password_verify(user.password_hash, password)) {
            out->user = user;
            found = 1;
        }
    }
    if (n == 0)
        crypto_password_verify(dummy, password); /* same work as a wrong password */
    if (!found)
        return err_set(e, ERR_UNAUTHORIZED, "wrong email or password");
    if (strcmp(out->user.role, "end-user") == 0)
        return err_set(e, ERR_FORBIDDEN, "your role (end-user) has no console access");
    if (directory_org(d, out->user.org_id, &out->org) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "wrong email or password");

    store_console_session *cs = &out->session;
    random_text(cookie, 32);
    crypto_sha256_hex(cookie, CONSOLE_COOKIE_LEN, cs->id_hash);
    random_text(cs->csrf_token, 32);
    str_copy(cs->org_id, sizeof(cs->org_id), out->user.org_id);
    str_copy(cs->user_id, sizeof(cs->user_id), out->user.id);
    cs->created_at = now;
    cs->expires_at = now + CONSOLE_SESSION_TTL;
    store_audit a;
    admin_audit_init(&a, c, out->user.org_id, "console.signed_in", out->user.id);
    str_copy(a.actor, sizeof(a.actor), out->user.email);
    if (c->store->ops->console_session_insert(c->store, cs, &a, e) != 0) {
        explicit_bzero(cookie, CONSOLE_COOKIE_LEN);
        return -1;
    }
    /* A password reset that committed while the hash was being checked: it
     * could not delete this session yet, so this sign-in does. A reset that
     * commits after this read deletes the session itself (user_update). */
    if (fresh_user(c->store, &out->user, &user) != 0 || strcmp(user.password_hash, out->user.password_hash) != 0) {
        err_t ignored;
        c->store->ops->console_session_delete(c->store, cs->id_hash, NULL, &ignored);
        explicit_bzero(cookie, CONSOLE_COOKIE_LEN);
        return err_set(e, ERR_UNAUTHORIZED, "wrong email or password");
    }
    return 0;
}

int console_identify(store *s, directory *d, const char *cookie_header, int64_t now,
                     console_identity *out, err_t *e)
{
    char value[CONSOLE_COOKIE_LEN + 1], hash[65];
    memset(out, 0, sizeof(*out));
    if (cookie_value(cookie_header, value) == NULL)
        return err_set(e, ERR_UNAUTHORIZED, "sign in to the console first");
    crypto_sha256_hex(value, CONSOLE_COOKIE_LEN, hash);
    explicit_bzero(value, sizeof(value));
    err_t miss;
    if (s->ops->console_session_get(s, hash, &out->session, &miss) != 0 || out->session.expires_at <= now ||
        directory_user_by_id(d, out->session.user_id, &out->user) != 0 ||
        strcmp(out->user.org_id, out->session.org_id) != 0 ||
        directory_org(d, out->session.org_id, &out->org) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "your console session has ended; sign in again");
    if (strcmp(out->user.role, "end-user") == 0)
        return err_set(e, ERR_FORBIDDEN, "your role (end-user) has no console access");
    return 0;
}

int console_csrf_ok(const console_identity *id, const char *csrf)
{
    size_t n = strlen(id->session.csrf_token);
    return csrf != NULL && n > 0 && strlen(csrf) == n && crypto_equal(csrf, id->session.csrf_token, n);
}

int console_signout(const admin_ctx *c, const char *cookie_header, err_t *e)
{
    char value[CONSOLE_COOKIE_LEN + 1], hash[65];
    if (cookie_value(cookie_header, value) == NULL)
        return 0;
    crypto_sha256_hex(value, CONSOLE_COOKIE_LEN, hash);
    explicit_bzero(value, sizeof(value));
    return c->store->ops->console_session_delete(c->store, hash, NULL, e);
}
