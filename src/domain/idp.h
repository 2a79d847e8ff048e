/* idp.h - trusted identity providers of an org (token exchange): what an
 * admin may configure, checked once here for the CLI and the admin API.
 * docs/TOKEN-EXCHANGE.md describes the fields. */
#ifndef TESSERA_DOMAIN_IDP_H
#define TESSERA_DOMAIN_IDP_H

#include <jansson.h>
#include <stddef.h>

#include "core/err.h"
#include "domain/admin.h"
#include "jwt/jwk.h"
#include "store/store.h"

#define IDP_DEFAULT_ALGORITHMS "RS256,PS256,ES256"
#define IDP_DEFAULT_EMAIL_CLAIM "email"
#define IDP_MAX_ALGS 3

/* What an admin sends. NULL = absent (add: the default; update: keep).
 * jwks_uri and jwks exclude each other; setting one clears the other. */
typedef struct {
    const char *name;
    const char *issuer;
    const char *jwks_uri;
    const char *jwks;        /* inline JWKS JSON */
    const char *audience;    /* "" = no audience check */
    const char *email_claim;
    const char *algorithms;  /* comma-separated subset of RS256, PS256, ES256 */
} idp_spec;

int admin_idp_add(const admin_ctx *c, const char *org_id, const idp_spec *spec, store_idp *out,
                  err_t *e);
int admin_idp_update(const admin_ctx *c, const char *org_id, const char *idp_id, const idp_spec *spec,
                     store_idp *out, err_t *e);
int admin_idp_remove(const admin_ctx *c, const char *org_id, const char *idp_id, err_t *e);

/* The provider as the CLI (--json) and the admin API show it (new reference):
 * {id, name, issuer, jwks_uri, jwks, audience, email_claim, algorithms[], created_at}. */
json_t *idp_json(const store_idp *p);

/* The provider's algorithms as jwt_alg values (at most IDP_MAX_ALGS). */
size_t idp_algorithms(const store_idp *p, jwt_alg out[IDP_MAX_ALGS]);

/* 1 when url may be fetched for an org: https, or http to a loopback host
 * (for development and tests; docs/TOKEN-EXCHANGE.md). */
int idp_url_allowed(const char *url);

#endif
