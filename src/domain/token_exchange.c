/* token_exchange.c - verifying, keeping and reopening subject tokens. */
#include "domain/token_exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "crypto/crypto.h"
#include "domain/email.h"
#include "domain/idp.h"
#include "jwt/b64url.h"
#include "jwt/claims.h"
#include "jwt/jws_external.h"

#define SUBJECT_KEY_PURPOSE "tessera subject tokens v1"

/* The "iss" of a compact JWS, read before any verification only to pick the
 * provider whose keys will then verify it; nothing else is trusted from it. */
static int unverified_issuer(const char *token, size_t len, char iss[STORE_URL_MAX], err_t *e)
{
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    int rc = err_set(e, ERR_UNAUTHORIZED, "subject token is not a signed JWT with an \"iss\" claim");
    if (dot2 == NULL)
        return rc;
    size_t n = (size_t)(dot2 - dot1 - 1), outlen = 0;
    unsigned char *payload = malloc(n + 1);
    if (payload == NULL || b64url_decode(dot1 + 1, n, payload, &outlen) != 0) {
        free(payload);
        return rc;
    }
    err_t why;
    json_t *claims = json_parse_strict((const char *)payload, outlen, JSON_MAX_DEPTH, 0, &why);
    json_t *v = json_is_object(claims) ? json_object_get(claims, "iss") : NULL;
    if (json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < STORE_URL_MAX) {
        memcpy(iss, json_string_value(v), json_string_length(v) + 1);
        rc = 0;
    }
    json_decref(claims);
    free(payload);
    return rc;
}

/* Signature check against an inline JWKS. */
static json_t *verify_inline(const store_idp *idp, const token_request *req, const jwt_alg *algs, size_t nalgs,
                             err_t *e)
{
    err_t why;
    jwks_set *set = jwks_parse(idp->jwks, strlen(idp->jwks), algs, nalgs, &why);
    if (set == NULL) {
        err_set(e, ERR_INTERNAL, "the identity provider's inline JWKS is not usable: %s", why.detail);
        return NULL;
    }
    json_t *claims = jws_verify_external(req->subject_token, req->subject_token_len, set, algs, nalgs, NULL, e);
    jwks_free(set);
    return claims;
}

/* Signature check against the provider's published JWKS; once more after a
 * refetch when the token names a kid the cached set lacks (a rotation). */
static json_t *verify_published(jwks_cache *jwks, const store_idp *idp, const token_request *req,
                                const jwt_alg *algs, size_t nalgs, int64_t now, err_t *e)
{
    json_t *claims = NULL;
    for (int attempt = 0; attempt < 2 && claims == NULL; attempt++) {
        int unknown_kid = 0;
        jwks_ref *ref = jwks_cache_get(jwks, idp->jwks_uri, now, attempt == 1, e);
        if (ref == NULL)
            return NULL;
        claims = jws_verify_external(req->subject_token, req->subject_token_len, jwks_ref_set(ref), algs, nalgs,
                                     &unknown_kid, e);
        jwks_ref_release(ref);
        if (!unknown_kid)
            break;
    }
    return claims;
}

/* The email claim must be the request's email (both normalised). */
static int same_email(const char *claimed, const token_request *req, err_t *e)
{
    char norm[STORE_EMAIL_MAX];
    err_t why;
    if (email_normalize(claimed, strlen(claimed), norm, &why) != 0 || strcmp(norm, req->email) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "subject token email does not match the request's email");
    return 0;
}

int token_exchange_verify(directory *d, jwks_cache *jwks, const char *org_id, const token_request *req,
                          int64_t now, store_idp *idp, err_t *e)
{
    char iss[STORE_URL_MAX];
    if (directory_idp_count(d, org_id) == 0)
        return err_set(e, ERR_INVALID_REQUEST, "token exchange is not configured for this organization");
    if (unverified_issuer(req->subject_token, req->subject_token_len, iss, e) != 0)
        return -1;
    if (directory_idp_by_issuer(d, org_id, iss, idp) != 0)
        return err_set(e, ERR_UNAUTHORIZED,
                       "subject token issuer is not a trusted identity provider of this organization");
    jwt_alg algs[IDP_MAX_ALGS];
    size_t nalgs = idp_algorithms(idp, algs);
    json_t *claims = idp->jwks[0] ? verify_inline(idp, req, algs, nalgs, e)
                                  : verify_published(jwks, idp, req, algs, nalgs, now, e);
    if (claims == NULL)
        return -1;
    external_claims_expect x = {idp->issuer, idp->audience, idp->email_claim, now, TOKEN_EXCHANGE_SKEW};
    const char *email = NULL;
    int rc = external_claims_check(claims, &x, &email, NULL, e);
    if (rc == 0)
        rc = same_email(email, req, e);
    json_decref(claims);
    return rc;
}

int token_exchange_keep(directory *d, store *s, const char *org_id, const char *idp_id, const char *jti,
                        const token_request *req, int64_t expires_at, err_t *e)
{
    size_t len = req->subject_token_len;
    if (len > STORE_SUBJECT_TOKEN_MAX)
        return err_set(e, ERR_INVALID_REQUEST, "subject_token is too long");
    unsigned char key[CRYPTO_AEAD_KEY_LEN];
    store_subject_token *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    snprintf(t->jti, sizeof(t->jti), "%s", jti);
    snprintf(t->org_id, sizeof(t->org_id), "%s", org_id);
    snprintf(t->idp_id, sizeof(t->idp_id), "%s", idp_id);
    snprintf(t->token_type, sizeof(t->token_type), "%s", req->subject_token_type);
    t->expires_at = expires_at;
    directory_derive_key(d, SUBJECT_KEY_PURPOSE, key);
    int rc = crypto_aead_seal(key, jti, strlen(jti), req->subject_token, len, t->sealed);
    explicit_bzero(key, sizeof(key));
    t->sealed_len = len + CRYPTO_AEAD_OVERHEAD;
    if (rc != 0)
        rc = err_set(e, ERR_INTERNAL, "cannot seal the subject token");
    else
        rc = s->ops->subject_token_put(s, t, e);
    free(t);
    return rc;
}

int token_exchange_subject(directory *d, store *s, const char *org_id, const char *jti, int64_t now,
                           subject_token *out, err_t *e)
{
    unsigned char key[CRYPTO_AEAD_KEY_LEN];
    store_subject_token *t = malloc(sizeof(*t));
    int rc = -1;
    if (t == NULL)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (s->ops->subject_token_get(s, org_id, jti, now, t, e) != 0)
        goto out;
    if (t->sealed_len < CRYPTO_AEAD_OVERHEAD || t->sealed_len - CRYPTO_AEAD_OVERHEAD > STORE_SUBJECT_TOKEN_MAX) {
        err_set(e, ERR_INTERNAL, "a stored subject token has a bad length");
        goto out;
    }
    directory_derive_key(d, SUBJECT_KEY_PURPOSE, key);
    rc = crypto_aead_open(key, jti, strlen(jti), t->sealed, t->sealed_len, (unsigned char *)out->token);
    explicit_bzero(key, sizeof(key));
    if (rc != 0) {
        err_set(e, ERR_INTERNAL, "a stored subject token cannot be opened (wrong master key?)");
        goto out;
    }
    out->len = t->sealed_len - CRYPTO_AEAD_OVERHEAD;
    out->token[out->len] = '\0';
    snprintf(out->type, sizeof(out->type), "%s", t->token_type);
out:
    free(t);
    return rc;
}
