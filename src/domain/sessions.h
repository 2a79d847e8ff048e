/* sessions.h - issuing and verifying session tokens (DESIGN sections 2-4).
 *
 * HTTP-free: the api layer passes headers and bodies in and maps err_t to
 * replies. The caller supplies the worker's own signing key and
 * verification keys (directory_signing_key / directory_verify_keys). */
#ifndef TESSERA_DOMAIN_SESSIONS_H
#define TESSERA_DOMAIN_SESSIONS_H

#include <jansson.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "domain/directory.h"
#include "domain/token_request.h"
#include "jwt/jwk.h"
#include "jwt/jws_cache.h"
#include "store/store.h"

#define SESSION_AUDIENCE "tessera:session"
/* Leeway for exp/nbf: Tessera checks tokens it issued itself, on clocks
 * kept in step by NTP, so a few seconds are enough (docs/DECISIONS.md). */
#define SESSION_SKEW_SECONDS 5
#define SESSION_DEFAULT_TTL 86400

typedef struct {
    const char *issuer;     /* base URL, the "iss" claim */
    const char *client;     /* client address, for the audit event */
    const char *request_id;
    const char *idp_id;     /* token exchange: the provider that vouched for the user, else NULL */
} session_context;

typedef struct {
    buf_t token;            /* the session JWT: a secret, never log it */
    int64_t expires_in;
    store_session record;   /* to be committed before the reply */
    store_audit audit;
} session_issued;

/* Checks the Authorization header of a public API call: a known, unexpired,
 * unrevoked Embed access token of an existing org. *tok receives it.
 * Errors: ERR_UNAUTHORIZED, or ERR_FORBIDDEN for an admin-type token. */
int sessions_authenticate(directory *d, const char *authorization, int64_t now, store_token *tok,
                          err_t *e);

/* Issues a session for req under tok. out->token must be buf_init'ed by the
 * caller (and freed by it). Nothing is written: the caller commits
 * out->record and out->audit. */
int sessions_issue(directory *d, const jwt_key *signer, const store_token *tok,
                   const token_request *req, const session_context *ctx, int64_t now,
                   session_issued *out, err_t *e);

/* The audit event of a refused token request whose access token was valid
 * (tok): session.denied, target the request's email when it was parsed
 * (req may be NULL), detail {reason: the error code, detail, email?,
 * correlation_id?}. Never a secret: details never echo tokens. Refusals
 * without a valid access token are logged and counted, not audited (an
 * anonymous flood must not grow the database). */
void sessions_denied_audit(const store_token *tok, const token_request *req, const err_t *why,
                           const session_context *ctx, int64_t now, store_audit *out);

/* The audit event of an open embed switching to a new session (the host's
 * TOKEN_CHANGE): session.refreshed, from the verified claims. */
void sessions_refreshed_audit(const json_t *claims, const session_context *ctx, int64_t now, store_audit *out);

/* Issues a session for a platform user who signed in with a password
 * (private embeds): no access token, so the token has no "atid". */
int sessions_issue_signin(directory *d, const jwt_key *signer, const store_user *user,
                          const session_context *ctx, int64_t now, session_issued *out, err_t *e);

typedef enum { SESSION_OK, SESSION_INVALID, SESSION_EXPIRED, SESSION_REVOKED } session_status;

/* Verifies a session token: signature with the key pinned to its kid, iss,
 * aud, exp/nbf (with skew), the org still exists, and the access token it
 * was minted with still exists and is not revoked. Returns the claims (new
 * reference) or NULL with *status and *e (ERR_UNAUTHORIZED) set. A session
 * from a sign-in (no "atid") must belong to a platform user who still
 * exists. */
typedef struct {
    jwt_key *const *keys; /* the verification keys (current and retired) */
    size_t nkeys;
    jws_cache *verified;  /* tokens these keys verified before; NULL: none */
} session_keys;

json_t *sessions_verify(directory *d, const session_keys *keys, const char *issuer, const char *token,
                        size_t len, int64_t now, session_status *status, err_t *e);

/* What decides whether a verified session is still live. */
typedef struct {
    char org_id[STORE_ID_MAX];
    char jti[STORE_ID_MAX];
    char atid[STORE_ID_MAX];   /* "" for a sign-in session */
    char user_type[12];
    char user_id[STORE_ID_MAX];
    int64_t expires_at;
} session_ref;

/* The ref of verified claims (missing members are left empty). */
void sessions_ref_of(const json_t *claims, session_ref *out);

/* Whether the session is still live now, in memory only: not expired, not
 * revoked (by jti or with all of its user's), its org exists, and its
 * access token (or, for a sign-in, its platform user) still does. Sets *e
 * unless SESSION_OK. */
session_status sessions_live(directory *d, const session_ref *r, int64_t now, err_t *e);

/* The stable user id of an external (embed) user: same org + email, same id. */
void sessions_external_user_id(const char *org_id, const char *email, char out[STORE_ID_MAX]);

#endif
