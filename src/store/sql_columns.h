/* sql_columns.h - inside src/store/: the column lists every dialect's
 * statements use. Each record's SELECT, INSERT, binder and row reader
 * (store_sql.c) use the same order, in every dialect. */
#ifndef TESSERA_STORE_SQL_COLUMNS_H
#define TESSERA_STORE_SQL_COLUMNS_H

#define ORG_COLS "id, name, type, session_ttl, session_ttl_max, created_at"
#define USER_COLS "id, org_id, email, name, role, password_hash, created_at"
#define TOKEN_COLS                                                                                 \
    "id, org_id, name, type, prefix, hash, created_by, created_at, expires_at, last_used_at, "     \
    "revoked_at, rate_limit_rps, rate_limit_burst"
#define GROUP_COLS "id, org_id, name, created_at"
#define GRANT_COLS "org_id, group_id, app_id, permission"
#define MEMBER_COLS "org_id, group_id, user_id"
#define APP_COLS "id, org_id, name, mode, allowed_origins, created_at"
#define IDP_COLS \
    "id, org_id, name, issuer, jwks_uri, jwks, audience, email_claim, algorithms, created_at"
#define INTEGRATION_COLS \
    "id, org_id, name, base_url, token_url, client_id, client_secret, audience, scope, created_at"
#define SUBJECT_COLS "jti, org_id, idp_id, token_type, sealed, expires_at"
#define VERSION_COLS "id, org_id, app_id, version, created_by, created_at, file_count, total_bytes"
#define KEY_COLS "kid, alg, state, sealed_private, public_jwk, created_at"
#define SESSION_COLS                                                                               \
    "jti, org_id, user_id, email, user_type, atid, issued_at, expires_at, revoked_at"
#define AUDIT_COLS "id, org_id, at, actor, action, target, client, request_id, detail"
#define CONSOLE_COLS "id_hash, org_id, user_id, csrf_token, created_at, expires_at"
#define WEBHOOK_COLS                                                                               \
    "id, org_id, url, secret_sealed, events, enabled, cursor, failures, next_attempt_at, "         \
    "last_error, created_at"
#define DELIVERY_COLS                                                                              \
    "id, org_id, webhook_id, event_id, event_type, attempt, status_code, error, duration_ms, at"

#endif
