/* revocation.h - ending sessions before they expire: one by its id (jti),
 * or every live session of a user (by email). The store records it with a
 * change row per session, so every node's directory refuses the session
 * within its poll (the node that made the change at once), without a
 * database read per verification. Revoking an access token (admin.h) ends
 * every session minted with it. docs/SESSIONS.md. */
#ifndef TESSERA_DOMAIN_REVOCATION_H
#define TESSERA_DOMAIN_REVOCATION_H

#include <stdint.h>

#include "core/err.h"
#include "domain/admin.h"

/* Revokes the live session jti of org_id; audited as session.revoked.
 * ERR_INVALID_REQUEST for a jti that is not a session id, ERR_NOT_FOUND when
 * org_id has no such live session. Revoking a revoked session succeeds. */
int revoke_session(const admin_ctx *c, const char *org_id, const char *jti, err_t *e);

/* Revokes every live session of email (normalised first) in org_id; *count
 * gets how many (0 is a success). Audited as session.revoked. */
int revoke_user_sessions(const admin_ctx *c, const char *org_id, const char *email, int64_t *count, err_t *e);

#endif
