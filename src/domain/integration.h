/* integration.h - integrations: host APIs an embedded app calls on the
 * signed-in user's behalf. Tessera trades the session's subject token for
 * an access token at the integration's token URL (RFC 8693) and forwards
 * the call (domain/integration_call.h). This file: what an admin may
 * configure, for the admin API. The client secret is sealed under a key
 * derived from the master key and never shown again. */
#ifndef TESSERA_DOMAIN_INTEGRATION_H
#define TESSERA_DOMAIN_INTEGRATION_H

#include <jansson.h>

#include "core/err.h"
#include "domain/admin.h"
#include "domain/directory.h"
#include "store/store.h"

#define INTEGRATION_SECRET_MAX 255

/* NULL = absent (add: required fields are an error, others ""; update: keep). */
typedef struct {
    const char *name;
    const char *base_url;
    const char *token_url;
    const char *client_id;
    const char *client_secret; /* a secret */
    const char *audience;
    const char *scope;
} integration_spec;

int admin_integration_add(const admin_ctx *c, directory *d, const char *org_id, const integration_spec *spec,
                          store_integration *out, err_t *e);
int admin_integration_update(const admin_ctx *c, directory *d, const char *org_id, const char *id,
                             const integration_spec *spec, store_integration *out, err_t *e);
int admin_integration_remove(const admin_ctx *c, const char *org_id, const char *id, err_t *e);

/* {id, name, base_url, token_url, client_id, has_client_secret, audience, scope, created_at} (new reference). */
json_t *integration_json(const store_integration *g);

/* The client secret, opened into out[INTEGRATION_SECRET_MAX + 1] (bzero it after use). */
int integration_client_secret(directory *d, const store_integration *g, char *out, err_t *e);

#endif
