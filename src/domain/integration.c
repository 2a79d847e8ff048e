/* integration.c - integrations: validation, the sealed client secret, admin operations. */
#include "domain/integration.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/uuid.h"
#include "crypto/crypto.h"
#include "domain/idp.h"

#define SECRET_KEY_PURPOSE "tessera integration secrets v1"

/* https, or http to a loopback host; no query, fragment or user info. */
static int check_url(const char *what, const char *url, err_t *e)
{
    if (admin_check_text(what, url, STORE_URL_MAX - 1, 1, e) != 0)
        return -1;
    if (!idp_url_allowed(url) || strpbrk(url, " \"<>\\^`{|}?#@") != NULL)
        return err_set(e, ERR_INVALID_REQUEST,
                       "%s must be an https:// URL without query or fragment (http:// only for 127.0.0.1, "
                       "localhost or [::1])",
                       what);
    return 0;
}

static int seal_secret(directory *d, store_integration *g, const char *secret, err_t *e)
{
    unsigned char key[CRYPTO_AEAD_KEY_LEN];
    size_t n = strlen(secret);
    directory_derive_key(d, SECRET_KEY_PURPOSE, key);
    int rc = crypto_aead_seal(key, g->id, strlen(g->id), secret, n, g->client_secret_sealed);
    explicit_bzero(key, sizeof(key));
    if (rc != 0)
        return err_set(e, ERR_INTERNAL, "cannot seal the client secret");
    g->client_secret_sealed_len = n + CRYPTO_AEAD_OVERHEAD;
    return 0;
}

int integration_client_secret(directory *d, const store_integration *g, char *out, err_t *e)
{
    unsigned char key[CRYPTO_AEAD_KEY_LEN];
    size_t n = g->client_secret_sealed_len;
    if (n < CRYPTO_AEAD_OVERHEAD || n - CRYPTO_AEAD_OVERHEAD > INTEGRATION_SECRET_MAX)
        return err_set(e, ERR_INTERNAL, "the integration's stored client secret has a bad length");
    directory_derive_key(d, SECRET_KEY_PURPOSE, key);
    int rc = crypto_aead_open(key, g->id, strlen(g->id), g->client_secret_sealed, n, (unsigned char *)out);
    explicit_bzero(key, sizeof(key));
    if (rc != 0)
        return err_set(e, ERR_INTERNAL, "the integration's client secret cannot be opened (wrong master key?)");
    out[n - CRYPTO_AEAD_OVERHEAD] = '\0';
    return 0;
}

/* Checks every given field of spec, then copies them over *g. */
static int apply_spec(directory *d, store_integration *g, const integration_spec *s, err_t *e)
{
    if ((s->name && admin_check_name("name", s->name, e)) || (s->base_url && check_url("base_url", s->base_url, e)) ||
        (s->token_url && check_url("token_url", s->token_url, e)) ||
        (s->client_id && admin_check_text("client_id", s->client_id, sizeof(g->client_id) - 1, 1, e)) ||
        (s->client_secret && admin_check_text("client_secret", s->client_secret, INTEGRATION_SECRET_MAX, 1, e)) ||
        (s->audience && admin_check_text("audience", s->audience, sizeof(g->audience) - 1, 0, e)) ||
        (s->scope && admin_check_text("scope", s->scope, sizeof(g->scope) - 1, 0, e)))
        return -1;
    if (s->name)
        snprintf(g->name, sizeof(g->name), "%s", s->name);
    if (s->base_url) {
        size_t n = strlen(s->base_url);
        while (n > 0 && s->base_url[n - 1] == '/')
            n--; /* calls append "/<path>" */
        snprintf(g->base_url, sizeof(g->base_url), "%.*s", (int)n, s->base_url);
    }
    if (s->token_url)
        snprintf(g->token_url, sizeof(g->token_url), "%s", s->token_url);
    if (s->client_id)
        snprintf(g->client_id, sizeof(g->client_id), "%s", s->client_id);
    if (s->audience)
        snprintf(g->audience, sizeof(g->audience), "%s", s->audience);
    if (s->scope)
        snprintf(g->scope, sizeof(g->scope), "%s", s->scope);
    return s->client_secret ? seal_secret(d, g, s->client_secret, e) : 0;
}

int admin_integration_add(const admin_ctx *c, directory *d, const char *org_id, const integration_spec *spec,
                          store_integration *out, err_t *e)
{
    static const char *const required[] = {"name", "base_url", "token_url", "client_id", "client_secret"};
    const char *given[] = {spec->name, spec->base_url, spec->token_url, spec->client_id, spec->client_secret};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (given[i] == NULL || given[i][0] == '\0')
            return err_set(e, ERR_INVALID_REQUEST, "%s is required", required[i]);
    memset(out, 0, sizeof(*out));
    uuid_v4(out->id);
    snprintf(out->org_id, sizeof(out->org_id), "%s", org_id);
    out->created_at = clock_now();
    if (apply_spec(d, out, spec, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, "integration.added", out->id);
    return c->store->ops->integration_insert(c->store, out, &a, e);
}

int admin_integration_update(const admin_ctx *c, directory *d, const char *org_id, const char *id,
                             const integration_spec *spec, store_integration *out, err_t *e)
{
    if (c->store->ops->integration_get(c->store, org_id, id, out, e) != 0 || apply_spec(d, out, spec, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, spec->client_secret ? "integration.secret_changed" : "integration.updated", id);
    return c->store->ops->integration_update(c->store, out, &a, e);
}

int admin_integration_remove(const admin_ctx *c, const char *org_id, const char *id, err_t *e)
{
    store_audit a;
    admin_audit_init(&a, c, org_id, "integration.removed", id);
    return c->store->ops->integration_delete(c->store, org_id, id, &a, e);
}

json_t *integration_json(const store_integration *g)
{
    char created[21];
    clock_iso8601(g->created_at, created);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "id", g->id, "name", g->name, "base_url",
                     g->base_url, "token_url", g->token_url, "client_id", g->client_id, "has_client_secret",
                     g->client_secret_sealed_len > 0, "audience", g->audience, "scope", g->scope, "created_at",
                     created);
}
