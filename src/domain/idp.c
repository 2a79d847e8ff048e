/* idp.c - trusted identity providers: validation and admin operations. */
#include "domain/idp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "jwt/jwks.h"

static int loopback_host(const char *host, size_t n)
{
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (n == strlen(names[i]) && strncasecmp(host, names[i], n) == 0)
            return 1;
    return 0;
}

int idp_url_allowed(const char *url)
{
    if (strncasecmp(url, "https://", 8) == 0)
        return url[8] != '\0' && url[8] != '/';
    if (strncasecmp(url, "http://", 7) != 0)
        return 0;
    const char *host = url + 7;
    size_t n = strcspn(host, ":/?#");
    if (host[0] == '[')
        n = strcspn(host, "]") + 1;
    return loopback_host(host, n);
}

static int check_url(const char *what, const char *url, err_t *e)
{
    if (admin_check_text(what, url, STORE_URL_MAX - 1, 1, e) != 0)
        return -1;
    if (strpbrk(url, " \"<>\\^`{|}") != NULL || !idp_url_allowed(url))
        return err_set(e, ERR_INVALID_REQUEST,
                       "%s must be an https:// URL (http:// only for 127.0.0.1, localhost or [::1])", what);
    return 0;
}

/* "RS256, ES256" -> "RS256,ES256": known names only, no repeats. */
static int normalize_algorithms(const char *in, char out[64], err_t *e)
{
    static const char *const known[] = {"RS256", "PS256", "ES256"};
    int seen[3] = {0};
    buf_t b;
    buf_init(&b, 63);
    const char *p = in;
    int rc = -1;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        size_t k = 0;
        while (k < 3 && !(strlen(known[k]) == n && strncmp(p, known[k], n) == 0))
            k++;
        if (k == 3) {
            err_set(e, ERR_INVALID_REQUEST, "algorithms may be RS256, PS256 and ES256 only");
            goto out;
        }
        if (!seen[k]) {
            seen[k] = 1;
            buf_printf(&b, "%s%s", b.len ? "," : "", known[k]);
        }
        p += n;
    }
    if (b.len == 0) {
        err_set(e, ERR_INVALID_REQUEST, "algorithms must name at least one of RS256, PS256, ES256");
        goto out;
    }
    snprintf(out, 64, "%s", buf_str(&b));
    rc = 0;
out:
    buf_free(&b);
    return rc;
}

size_t idp_algorithms(const store_idp *p, jwt_alg out[IDP_MAX_ALGS])
{
    size_t n = 0;
    const char *s = p->algorithms;
    while (*s != '\0' && n < IDP_MAX_ALGS) {
        char name[8] = "";
        size_t len = strcspn(s, ",");
        if (len < sizeof(name)) {
            memcpy(name, s, len);
            name[len] = '\0';
            jwt_alg a = jwt_alg_from_name(name);
            if (a != 0)
                out[n++] = a;
        }
        s += len;
        if (*s == ',')
            s++;
    }
    return n;
}

json_t *idp_json(const store_idp *p)
{
    char created[21];
    clock_iso8601(p->created_at, created);
    json_t *algs = json_array();
    jwt_alg list[IDP_MAX_ALGS];
    size_t n = idp_algorithms(p, list);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(algs, json_string(jwt_alg_name(list[i])));
    json_t *jwks = p->jwks[0] ? json_loads(p->jwks, 0, NULL) : NULL;
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:s}", "id", p->id, "name", p->name, "issuer",
                     p->issuer, "jwks_uri", p->jwks_uri[0] ? json_string(p->jwks_uri) : json_null(), "jwks",
                     jwks ? jwks : json_null(), "audience", p->audience, "email_claim", p->email_claim,
                     "algorithms", algs, "created_at", created);
}

static int check_email_claim(const char *v, err_t *e)
{
    size_t n = strlen(v);
    if (n == 0 || n > 63 || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:/") != n)
        return err_set(e, ERR_INVALID_REQUEST,
                       "email_claim must be 1 to 63 letters, digits or _ - . : / (e.g. email, upn)");
    return 0;
}

/* An inline JWKS must hold at least one key usable with the algorithms. */
static int check_inline_jwks(const store_idp *p, err_t *e)
{
    jwt_alg algs[IDP_MAX_ALGS];
    size_t nalgs = idp_algorithms(p, algs);
    err_t why;
    jwks_set *set = jwks_parse(p->jwks, strlen(p->jwks), algs, nalgs, &why);
    if (set == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "jwks: %s", why.detail);
    jwks_free(set);
    return 0;
}

/* Applies spec over *p (fields in spec replace those in p), then checks the whole record. */
static int apply_spec(store_idp *p, const idp_spec *spec, err_t *e)
{
    if (spec->name != NULL && (admin_check_name("name", spec->name, e) != 0))
        return -1;
    if (spec->issuer != NULL && check_url("issuer", spec->issuer, e) != 0)
        return -1;
    if (spec->jwks_uri != NULL && spec->jwks != NULL && spec->jwks_uri[0] && spec->jwks[0])
        return err_set(e, ERR_INVALID_REQUEST, "give jwks_uri or an inline jwks, not both");
    if (spec->jwks_uri != NULL && spec->jwks_uri[0] && check_url("jwks_uri", spec->jwks_uri, e) != 0)
        return -1;
    if (spec->jwks != NULL && strlen(spec->jwks) > STORE_JWKS_MAX - 1)
        return err_set(e, ERR_INVALID_REQUEST, "an inline jwks must be at most %d bytes", STORE_JWKS_MAX - 1);
    if (spec->audience != NULL && admin_check_text("audience", spec->audience, sizeof(p->audience) - 1, 0, e) != 0)
        return -1;
    if (spec->email_claim != NULL && check_email_claim(spec->email_claim, e) != 0)
        return -1;
    if (spec->algorithms != NULL && normalize_algorithms(spec->algorithms, p->algorithms, e) != 0)
        return -1;
    if (spec->name != NULL)
        snprintf(p->name, sizeof(p->name), "%s", spec->name);
    if (spec->issuer != NULL)
        snprintf(p->issuer, sizeof(p->issuer), "%s", spec->issuer);
    if (spec->jwks_uri != NULL && spec->jwks_uri[0]) {
        snprintf(p->jwks_uri, sizeof(p->jwks_uri), "%s", spec->jwks_uri);
        p->jwks[0] = '\0';
    }
    if (spec->jwks != NULL && spec->jwks[0]) {
        snprintf(p->jwks, sizeof(p->jwks), "%s", spec->jwks);
        p->jwks_uri[0] = '\0';
    }
    if (spec->audience != NULL)
        snprintf(p->audience, sizeof(p->audience), "%s", spec->audience);
    if (spec->email_claim != NULL)
        snprintf(p->email_claim, sizeof(p->email_claim), "%s", spec->email_claim);
    if (p->jwks_uri[0] == '\0' && p->jwks[0] == '\0')
        return err_set(e, ERR_INVALID_REQUEST, "give jwks_uri (where the provider publishes its keys) or an inline jwks");
    return p->jwks[0] ? check_inline_jwks(p, e) : 0;
}

static void audit_detail(store_audit *a, const store_idp *p)
{
    buf_t b;
    buf_init(&b, sizeof(a->detail) - 1);
    buf_puts(&b, "{\"issuer\":");
    buf_json_string(&b, p->issuer, strnlen(p->issuer, 400));
    buf_puts(&b, "}");
    snprintf(a->detail, sizeof(a->detail), "%s", b.len ? buf_str(&b) : "{}");
    buf_free(&b);
}

int admin_idp_add(const admin_ctx *c, const char *org_id, const idp_spec *spec, store_idp *out, err_t *e)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->email_claim, sizeof(out->email_claim), "%s", IDP_DEFAULT_EMAIL_CLAIM);
    snprintf(out->algorithms, sizeof(out->algorithms), "%s", IDP_DEFAULT_ALGORITHMS);
    if (spec->issuer == NULL || spec->issuer[0] == '\0')
        return err_set(e, ERR_INVALID_REQUEST, "issuer is required (the exact \"iss\" of the provider's tokens)");
    if (apply_spec(out, spec, e) != 0)
        return -1;
    if (spec->name == NULL || spec->name[0] == '\0')
        snprintf(out->name, sizeof(out->name), "%.200s", out->issuer);
    uuid_v4(out->id);
    snprintf(out->org_id, sizeof(out->org_id), "%s", org_id);
    out->created_at = clock_now();
    store_audit a;
    admin_audit_init(&a, c, org_id, "idp.added", out->id);
    audit_detail(&a, out);
    return c->store->ops->idp_insert(c->store, out, &a, e);
}

int admin_idp_update(const admin_ctx *c, const char *org_id, const char *idp_id, const idp_spec *spec,
                     store_idp *out, err_t *e)
{
    if (c->store->ops->idp_get(c->store, org_id, idp_id, out, e) != 0)
        return -1;
    if (apply_spec(out, spec, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, "idp.updated", out->id);
    audit_detail(&a, out);
    return c->store->ops->idp_update(c->store, out, &a, e);
}

int admin_idp_remove(const admin_ctx *c, const char *org_id, const char *idp_id, err_t *e)
{
    store_audit a;
    admin_audit_init(&a, c, org_id, "idp.removed", idp_id);
    return c->store->ops->idp_delete(c->store, org_id, idp_id, &a, e);
}
