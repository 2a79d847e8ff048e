/* claims.c - encoding and checking the session token's claims (DESIGN 3),
 * and checking an external identity provider's token claims. */
#include "jwt/claims.h"

#include <inttypes.h>
#include <string.h>

#include "core/json.h"

/* Appends ,"name":<json string s> (no comma for the first member). */
static int put_str(buf_t *b, const char *name, const char *s, int first)
{
    if (s == NULL)
        return -1;
    if (buf_puts(b, first ? "\"" : ",\"") != 0 || buf_puts(b, name) != 0 || buf_puts(b, "\":") != 0)
        return -1;
    return buf_json_string(b, s, strlen(s));
}

static int put_int(buf_t *b, const char *name, int64_t v)
{
    return buf_printf(b, ",\"%s\":%" PRId64, name, v);
}

/* "rbac_group_objects":[{"id":...,"name":...},...], always present. */
static int put_groups(buf_t *b, const claims_group *g, size_t n)
{
    if (n > 0 && g == NULL)
        return -1;
    int rc = buf_puts(b, ",\"rbac_group_objects\":[");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = buf_puts(b, i == 0 ? "{" : ",{");
        if (rc == 0)
            rc = put_str(b, "id", g[i].id, 1);
        if (rc == 0)
            rc = put_str(b, "name", g[i].name, 0);
        if (rc == 0)
            rc = buf_puts(b, "}");
    }
    return rc == 0 ? buf_puts(b, "]") : -1;
}

/* 1 when raw[n] is one JSON object and nothing after it. This keeps a
 * caller's mistake from splicing extra claims next to "metadata"; the text
 * itself was validated when the request was parsed. */
static int raw_is_one_object(const char *raw, size_t n)
{
    return n >= 2 && raw[0] == '{' && raw[n - 1] == '}' && json_value_end(raw, n, 0) == n;
}

static int claims_encode_members(const session_claims *c, buf_t *out)
{
    int rc = buf_puts(out, "{");
    rc = rc ? rc : put_str(out, "iss", c->iss, 1);
    rc = rc ? rc : put_str(out, "aud", c->aud, 0);
    rc = rc ? rc : put_str(out, "sub", c->sub, 0);
    rc = rc ? rc : put_str(out, "jti", c->jti, 0);
    rc = rc ? rc : put_int(out, "iat", c->iat);
    rc = rc ? rc : put_int(out, "nbf", c->nbf);
    rc = rc ? rc : put_int(out, "exp", c->exp);
    rc = rc ? rc : put_str(out, "org_id", c->org_id, 0);
    rc = rc ? rc : put_str(out, "org_type", c->org_type, 0);
    rc = rc ? rc : put_str(out, "user_email", c->user_email, 0);
    rc = rc ? rc : put_str(out, "user_id", c->user_id, 0);
    if (c->user_name != NULL)
        rc = rc ? rc : put_str(out, "user_name", c->user_name, 0);
    rc = rc ? rc : put_str(out, "user_type", c->user_type, 0);
    if (c->rbac_role != NULL)
        rc = rc ? rc : put_str(out, "rbac_role", c->rbac_role, 0);
    rc = rc ? rc : put_groups(out, c->groups, c->ngroups);
    if (c->atid != NULL)
        rc = rc ? rc : put_str(out, "atid", c->atid, 0);
    if (c->metadata_raw != NULL) {
        if (!raw_is_one_object(c->metadata_raw, c->metadata_len))
            return -1;
        rc = rc ? rc : buf_puts(out, ",\"metadata\":");
        rc = rc ? rc : buf_append(out, c->metadata_raw, c->metadata_len);
    }
    return rc ? rc : buf_puts(out, "}");
}

int claims_encode(const session_claims *c, buf_t *out)
{
    size_t start = out->len;
    if (c != NULL && claims_encode_members(c, out) == 0)
        return 0;
    if (out->data != NULL) {
        out->len = start; /* all or nothing */
        out->data[start] = '\0';
    }
    return -1;
}

/* a - b and a + b clamped to the int64_t range. */
static int64_t sat_sub(int64_t a, int64_t b)
{
    if (b > 0 && a < INT64_MIN + b)
        return INT64_MIN;
    return a - b;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    return a + b;
}

static int nonempty_string(const json_t *claims, const char *name)
{
    const json_t *v = json_object_get(claims, name);
    return json_is_string(v) && json_string_length(v) > 0;
}

/* "aud" equals want, or is an array of strings one of which equals want. */
static int aud_ok(const json_t *aud, const char *want)
{
    const json_t *v;
    size_t i;
    int found = 0;
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (!json_is_array(aud))
        return 0;
    json_array_foreach(aud, i, v)
    {
        if (!json_is_string(v))
            return 0;
        if (strcmp(json_string_value(v), want) == 0)
            found = 1;
    }
    return found;
}

/* Presence and types: exp and iat integers (reals, strings and absence are
 * refused), nbf an integer when present, sub/jti/org_id non-empty strings. */
static int claims_check_shape(const json_t *claims, err_t *e)
{
    const json_t *nbf = json_object_get(claims, "nbf");
    if (!json_is_object(claims))
        return err_set(e, ERR_UNAUTHORIZED, "session token claims are not an object");
    if (!json_is_integer(json_object_get(claims, "exp")))
        return err_set(e, ERR_UNAUTHORIZED, "session token has no integer exp claim");
    if (!json_is_integer(json_object_get(claims, "iat")))
        return err_set(e, ERR_UNAUTHORIZED, "session token has no integer iat claim");
    if (nbf != NULL && !json_is_integer(nbf))
        return err_set(e, ERR_UNAUTHORIZED, "session token nbf claim is not an integer");
    if (!nonempty_string(claims, "sub") || !nonempty_string(claims, "jti") ||
        !nonempty_string(claims, "org_id"))
        return err_set(e, ERR_UNAUTHORIZED, "session token lacks sub, jti or org_id");
    return 0;
}

int claims_check(const json_t *claims, const claims_expect *x, int *expired, err_t *e)
{
    if (expired != NULL)
        *expired = 0;
    if (x == NULL || x->iss == NULL || x->aud == NULL)
        return err_set(e, ERR_INTERNAL, "claims_check needs an issuer and an audience");
    if (claims_check_shape(claims, e) != 0)
        return -1;
    const json_t *iss = json_object_get(claims, "iss");
    if (!json_is_string(iss) || strcmp(json_string_value(iss), x->iss) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "session token issuer is not accepted");
    if (!aud_ok(json_object_get(claims, "aud"), x->aud))
        return err_set(e, ERR_UNAUTHORIZED, "session token audience is not accepted");
    int64_t skew = x->skew > 0 ? x->skew : 0;
    const json_t *nbf = json_object_get(claims, "nbf");
    if (nbf != NULL && json_integer_value(nbf) > sat_add(x->now, skew))
        return err_set(e, ERR_UNAUTHORIZED, "session token is not valid yet");
    if (json_integer_value(json_object_get(claims, "exp")) <= sat_sub(x->now, skew)) {
        if (expired != NULL)
            *expired = 1;
        return err_set(e, ERR_UNAUTHORIZED, "session token has expired");
    }
    return 0;
}

/* The time claims of an external token: exp required, nbf and iat
 * optional, all integers, checked against now with skew. */
static int external_check_times(const json_t *claims, int64_t now, int64_t skew, int *expired,
                                err_t *e)
{
    const json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf"),
                 *iat = json_object_get(claims, "iat");
    if (!json_is_integer(exp))
        return err_set(e, ERR_UNAUTHORIZED, "subject token has no integer exp claim");
    if (json_integer_value(exp) <= sat_sub(now, skew)) {
        if (expired != NULL)
            *expired = 1;
        return err_set(e, ERR_UNAUTHORIZED, "subject token has expired");
    }
    if (nbf != NULL && !json_is_integer(nbf))
        return err_set(e, ERR_UNAUTHORIZED, "subject token nbf claim is not an integer");
    if (nbf != NULL && json_integer_value(nbf) > sat_add(now, skew))
        return err_set(e, ERR_UNAUTHORIZED, "subject token is not valid yet");
    if (iat != NULL && !json_is_integer(iat))
        return err_set(e, ERR_UNAUTHORIZED, "subject token iat claim is not an integer");
    if (iat != NULL && json_integer_value(iat) > sat_add(now, skew))
        return err_set(e, ERR_UNAUTHORIZED, "subject token was issued in the future");
    return 0;
}

/* "email_verified" absent, true, or the string "true" (Cognito sends the
 * strings "true" and "false"). Returns 0 or -1 with *e set. */
static int external_check_email_verified(const json_t *claims, err_t *e)
{
    const json_t *v = json_object_get(claims, "email_verified");
    if (v == NULL || json_is_true(v))
        return 0;
    if (json_is_string(v) && strcmp(json_string_value(v), "true") == 0)
        return 0;
    if (json_is_false(v) || (json_is_string(v) && strcmp(json_string_value(v), "false") == 0))
        return err_set(e, ERR_UNAUTHORIZED, "subject token email_verified is false");
    return err_set(e, ERR_UNAUTHORIZED, "subject token email_verified is not a boolean");
}

int external_claims_check(const json_t *claims, const external_claims_expect *x, const char **email,
                          int *expired, err_t *e)
{
    if (email != NULL)
        *email = NULL;
    if (expired != NULL)
        *expired = 0;
    if (x == NULL || x->iss == NULL)
        return err_set(e, ERR_INTERNAL, "external_claims_check needs an issuer");
    if (!json_is_object(claims))
        return err_set(e, ERR_UNAUTHORIZED, "subject token claims are not an object");
    const json_t *iss = json_object_get(claims, "iss");
    if (!json_is_string(iss) || strcmp(json_string_value(iss), x->iss) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "subject token issuer does not match");
    if (x->aud != NULL && x->aud[0] != '\0' && !aud_ok(json_object_get(claims, "aud"), x->aud))
        return err_set(e, ERR_UNAUTHORIZED,
                       "subject token audience does not include the configured audience");
    if (external_check_times(claims, x->now, x->skew > 0 ? x->skew : 0, expired, e) != 0)
        return -1;
    const char *name =
        x->email_claim != NULL && x->email_claim[0] != '\0' ? x->email_claim : "email";
    if (!nonempty_string(claims, name))
        return err_set(e, ERR_UNAUTHORIZED, "subject token has no email claim '%s'", name);
    if (external_check_email_verified(claims, e) != 0)
        return -1;
    if (email != NULL)
        *email = json_string_value(json_object_get(claims, name));
    return 0;
}
