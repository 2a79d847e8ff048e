/* revocation.c - revoking sessions by id or by user. */
#include "domain/revocation.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/uuid.h"
#include "domain/email.h"

int revoke_session(const admin_ctx *c, const char *org_id, const char *jti, err_t *e)
{
    if (!uuid_is_valid(jti))
        return err_set(e, ERR_INVALID_REQUEST, "jti must be a session id (the jti claim of a session token)");
    store_audit a;
    admin_audit_init(&a, c, org_id, "session.revoked", jti);
    snprintf(a.detail, sizeof(a.detail), "{\"jti\":\"%s\"}", jti);
    if (c->store->ops->session_revoke(c->store, org_id, jti, clock_now(), &a, e) != 0) {
        if (e->cls == ERR_NOT_FOUND)
            err_set(e, ERR_NOT_FOUND, "no live session with that jti in this organization");
        return -1;
    }
    metrics_count(METRIC_REVOCATIONS, "jti");
    return 0;
}

int revoke_user_sessions(const admin_ctx *c, const char *org_id, const char *email, int64_t *count, err_t *e)
{
    char norm[STORE_EMAIL_MAX];
    *count = 0;
    if (email_normalize(email, strlen(email), norm, e) != 0)
        return -1;
    store_audit a;
    admin_audit_init(&a, c, org_id, "session.revoked", norm);
    buf_t detail;
    buf_init(&detail, sizeof(a.detail) - 1);
    buf_puts(&detail, "{\"email\":");
    buf_json_string(&detail, norm, strlen(norm));
    buf_puts(&detail, ",\"all_sessions\":true}");
    snprintf(a.detail, sizeof(a.detail), "%s", buf_str(&detail));
    buf_free(&detail);
    if (c->store->ops->session_revoke_email(c->store, org_id, norm, clock_now(), &a, count, e) != 0)
        return -1;
    metrics_count(METRIC_REVOCATIONS, "email");
    return 0;
}
