/* token_exchange.h - OAuth 2.0 Token Exchange on the token endpoint: a
 * request's subject_token, issued by one of the org's trusted identity
 * providers, is verified (signature against the provider's JWKS, claims,
 * email) and then kept server-side, sealed, with the session it bought.
 * docs/TOKEN-EXCHANGE.md is the user's guide; the checks' order is in
 * docs/internals/CRYPTO.md. */
#ifndef TESSERA_DOMAIN_TOKEN_EXCHANGE_H
#define TESSERA_DOMAIN_TOKEN_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "domain/directory.h"
#include "domain/jwks_cache.h"
#include "domain/token_request.h"
#include "store/store.h"

#define TOKEN_EXCHANGE_SKEW 60 /* seconds of leeway for the provider's exp/nbf/iat */

/* Verifies req's subject token for org_id and sets *idp to the provider
 * that issued it. Errors: ERR_INVALID_REQUEST when the org trusts no
 * provider ("token exchange is not configured for this organization"),
 * ERR_UNAUTHORIZED naming the failed check (never echoing the token),
 * ERR_UNAVAILABLE when the provider's JWKS cannot be fetched. */
int token_exchange_verify(directory *d, jwks_cache *jwks, const char *org_id, const token_request *req,
                          int64_t now, store_idp *idp, err_t *e);

/* Seals the subject token under a key derived from the master key (the
 * session's jti as additional data) and stores it until expires_at. */
int token_exchange_keep(directory *d, store *s, const char *org_id, const char *idp_id, const char *jti,
                        const token_request *req, int64_t expires_at, err_t *e);

/* A subject token opened again: a secret, bzero it after use. */
typedef struct {
    char token[STORE_SUBJECT_TOKEN_MAX + 1];
    size_t len;
    char type[64];
} subject_token;

/* The subject token kept for the session jti of org_id. ERR_NOT_FOUND when
 * there is none (or it has expired or ended). */
int token_exchange_subject(directory *d, store *s, const char *org_id, const char *jti, int64_t now,
                           subject_token *out, err_t *e);

#endif
