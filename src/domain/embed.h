/* embed.h - what the embed page asks of the server (docs/EMBED.md):
 * whether a session may view an app, and tickets for the app's files. */
#ifndef TESSERA_DOMAIN_EMBED_H
#define TESSERA_DOMAIN_EMBED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "domain/directory.h"
#include "domain/sessions.h"
#include "jwt/jwk.h"
#include "store/store.h"

#define EMBED_TICKET_LEN 76            /* base64url characters */
#define EMBED_PUBLIC_TICKET_TTL 3600   /* seconds, for anonymous viewers of public apps */

typedef struct {
    store_app app;
    json_t *claims;       /* the verified session (new reference), NULL for anonymous */
    int64_t expires_at;   /* of the session, 0 for anonymous */
    char frame_url[STORE_ID_MAX + EMBED_TICKET_LEN + 32];
} embed_access;

/* Decides whether the session token (NULL or "" = none) may view app_id:
 * the token verifies, belongs to the app's org, the app's mode admits it
 * (public: anyone; sso: any session; private: platform users only) and,
 * unless the app is public, the session's groups grant apps:view (owners
 * and admins may view every app of their org). On success fills *out
 * (caller calls embed_access_release). On failure returns -1 with *e and
 * *code set to one of "expired", "invalid", "revoked", "forbidden". */
int embed_open(directory *d, const session_keys *keys, const char *issuer,
               const char *app_id, const char *token, size_t token_len, int64_t now,
               embed_access *out, const char **code, err_t *e);
void embed_access_release(embed_access *a);

/* Checks a ticket from an app file URL: issued for app_id by this
 * deployment, not expired, and its access token (if any) not revoked.
 * 0, or -1 with ERR_NOT_FOUND (a bad ticket looks like a missing file). */
int embed_ticket_check(directory *d, const char *app_id, const char *ticket, int64_t now, err_t *e);

#endif
