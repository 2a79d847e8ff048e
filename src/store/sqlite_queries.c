/* sqlite_queries.c - the SQLite dialect: every statement of store_sql.c.
 * Creation order is the rowid; SQLite has one writer at a time, so rowid and
 * change_log.seq order are commit order. */
#include "store/sql.h"
#include "store/sql_columns.h"

/* Optional filters of the *_each queries: the _ORG variant binds org_id as ?1
 * and the sub-filter (if any) as ?2; the _ALL variant binds the sub-filter as
 * ?1. A sub-filter of '' matches everything. Two statements rather than
 * "(?1 = '' OR org_id = ?1)", which SQLite cannot answer from an index. */
const sql_query sqlite_queries[Q_COUNT] = {
    [Q_BEGIN] = {.name = "begin", .sql = "BEGIN IMMEDIATE"},
    [Q_COMMIT] = {.name = "commit", .sql = "COMMIT"},
    [Q_ROLLBACK] = {.name = "rollback", .sql = "ROLLBACK"},

    /* BEGIN IMMEDIATE already serializes two processes migrating at once. */
    [Q_MIG_LOCK] = {.name = "migrate", .sql = NULL},
    [Q_MIG_TABLE] = {.name = "migrate",
                     .sql = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                            "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)"},
    [Q_MIG_APPLIED] = {.name = "migrate",
                       .sql = "SELECT 1 FROM schema_migrations WHERE version = ?1",
                       .entity = "migration"},
    [Q_MIG_RECORD] = {.name = "migrate",
                      .sql = "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                      .entity = "migration"},
    [Q_MIG_MAX] = {.name = "migrate",
                   .sql = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"},

    [Q_CHANGE_APPEND] =
        {.name = "change_log",
         .sql = "INSERT INTO change_log (kind, org_id, id, at) VALUES (?1, ?2, ?3, ?4)",
         .entity = "change"},
    [Q_CHANGE_LATEST] = {.name = "change_latest",
                         .sql = "SELECT COALESCE(MAX(seq), 0) FROM change_log"},
    [Q_CHANGES_SINCE] =
        {.name = "changes_since",
         .sql = "SELECT seq, kind, org_id, id FROM change_log WHERE seq > ?1 ORDER BY seq"},

    [Q_AUDIT_INSERT] = {.name = "audit_insert",
                        .sql = "INSERT INTO audit_events (" AUDIT_COLS
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        .entity = "audit event"},
    [Q_AUDIT_EACH] = {.name = "audit_each",
                      .sql =
                          "SELECT " AUDIT_COLS " FROM audit_events WHERE org_id = ?1 AND at >= ?2 "
                          "ORDER BY at, rowid"},

    [Q_ORG_INSERT] = {.name = "org_insert",
                      .sql = "INSERT INTO orgs (" ORG_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      .entity = "org"},
    [Q_ORG_UPDATE] = {.name = "org_update",
                      .sql = "UPDATE orgs SET name = ?2, type = ?3, session_ttl = ?4, "
                             "session_ttl_max = ?5 WHERE id = ?1",
                      .entity = "org"},
    [Q_ORG_GET] = {.name = "org_get",
                   .sql = "SELECT " ORG_COLS " FROM orgs WHERE id = ?1",
                   .entity = "org"},
    [Q_ORG_EACH] = {.name = "org_each", .sql = "SELECT " ORG_COLS " FROM orgs ORDER BY rowid"},

    [Q_USER_INSERT] = {.name = "user_insert",
                       .sql =
                           "INSERT INTO users (" USER_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                       .entity = "user",
                       .conflict = "a user with this id or email already exists",
                       .missing = "referenced org does not exist"},
    [Q_USER_GET] = {.name = "user_get",
                    .sql = "SELECT " USER_COLS " FROM users WHERE org_id = ?1 AND id = ?2",
                    .entity = "user"},
    [Q_USER_FIND_EMAIL] = {.name = "user_find_email",
                           .sql =
                               "SELECT " USER_COLS " FROM users WHERE org_id = ?1 AND email = ?2",
                           .entity = "user"},
    [Q_USER_EACH_ORG] = {.name = "user_each",
                         .sql = "SELECT " USER_COLS " FROM users WHERE org_id = ?1 ORDER BY rowid"},
    [Q_USER_EACH_ALL] = {.name = "user_each",
                         .sql = "SELECT " USER_COLS " FROM users ORDER BY rowid"},
    [Q_USER_UPDATE] = {.name = "user_update",
                       .sql = "UPDATE users SET name = ?3, role = ?4, password_hash = ?5 "
                              "WHERE org_id = ?1 AND id = ?2",
                       .entity = "user"},
    /* Before the update: a new password (or none) ends the user's console
     * sign-ins, so a reset locks out whoever knew the old one. */
    [Q_USER_END_CONSOLE_SESSIONS] = {.name = "user_update",
                                     .sql = "DELETE FROM console_sessions WHERE user_id = ?2 AND "
                                            "(SELECT password_hash FROM users WHERE org_id = ?1 AND "
                                            "id = ?2) IS NOT ?5"},
    /* Before the user is deleted (the delete cascades to the memberships): one
     * "member" change per group the user is in, in membership order. */
    /* BEGIN IMMEDIATE holds the write lock: no membership can appear meanwhile. */
    [Q_USER_LOCK] = {.name = "user_delete", .sql = NULL},
    [Q_USER_MEMBER_CHANGES] = {.name = "user_delete",
                               .sql = "INSERT INTO change_log (kind, org_id, id, at) "
                                      "SELECT 'member', org_id, group_id, ?3 FROM group_members "
                                      "WHERE org_id = ?1 AND user_id = ?2 ORDER BY rowid",
                               .entity = "change"},
    /* Cascades to group_members and console_sessions (foreign keys). */
    [Q_USER_DELETE] = {.name = "user_delete",
                       .sql = "DELETE FROM users WHERE org_id = ?1 AND id = ?2",
                       .entity = "user"},
    [Q_USER_COUNT_ROLE] = {.name = "user_count_role",
                           .sql = "SELECT COUNT(*) FROM users WHERE org_id = ?1 AND role = ?2"},

    [Q_TOKEN_INSERT] = {.name = "token_insert",
                        .sql = "INSERT INTO access_tokens (" TOKEN_COLS
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                        .entity = "access token",
                        .conflict = "an access token with this id or hash already exists",
                        .missing = "referenced org does not exist"},
    [Q_TOKEN_GET] = {.name = "token_get",
                     .sql =
                         "SELECT " TOKEN_COLS " FROM access_tokens WHERE org_id = ?1 AND id = ?2",
                     .entity = "access token"},
    [Q_TOKEN_EACH_ORG] = {.name = "token_each",
                          .sql = "SELECT " TOKEN_COLS
                                 " FROM access_tokens WHERE org_id = ?1 ORDER BY rowid"},
    [Q_TOKEN_EACH_ALL] = {.name = "token_each",
                          .sql = "SELECT " TOKEN_COLS " FROM access_tokens ORDER BY rowid"},
    /* Revoking twice keeps the first revocation time. */
    [Q_TOKEN_REVOKE] = {.name = "token_revoke",
                        .sql = "UPDATE access_tokens SET revoked_at = "
                               "CASE WHEN revoked_at = 0 THEN ?3 ELSE revoked_at END "
                               "WHERE org_id = ?1 AND id = ?2",
                        .entity = "access token"},
    /* Never moves last_used_at backwards (touches may arrive out of order). */
    [Q_TOKEN_TOUCH] =
        {.name = "token_touch",
         .sql = "UPDATE access_tokens SET last_used_at = ?2 WHERE id = ?1 AND last_used_at < ?2",
         .entity = "access token"},
    [Q_TOKEN_SET_RATE] = {.name = "token_set_rate_limit",
                          .sql = "UPDATE access_tokens SET rate_limit_rps = ?3, rate_limit_burst = ?4 "
                                 "WHERE org_id = ?1 AND id = ?2",
                          .entity = "access token"},

    [Q_GROUP_INSERT] = {.name = "group_insert",
                        .sql = "INSERT INTO groups (" GROUP_COLS ") VALUES (?1, ?2, ?3, ?4)",
                        .entity = "group",
                        .missing = "referenced org does not exist"},
    [Q_GROUP_GET] = {.name = "group_get",
                     .sql = "SELECT " GROUP_COLS " FROM groups WHERE org_id = ?1 AND id = ?2",
                     .entity = "group"},
    [Q_GROUP_EACH_ORG] = {.name = "group_each",
                          .sql =
                              "SELECT " GROUP_COLS " FROM groups WHERE org_id = ?1 ORDER BY rowid"},
    [Q_GROUP_EACH_ALL] = {.name = "group_each",
                          .sql = "SELECT " GROUP_COLS " FROM groups ORDER BY rowid"},
    [Q_GROUP_UPDATE] = {.name = "group_update",
                        .sql = "UPDATE groups SET name = ?3 WHERE org_id = ?1 AND id = ?2",
                        .entity = "group"},
    /* Cascades to group_grants and group_members (foreign keys). */
    [Q_GROUP_DELETE] = {.name = "group_delete",
                        .sql = "DELETE FROM groups WHERE org_id = ?1 AND id = ?2",
                        .entity = "group"},

    /* Idempotent: an existing grant is left as it is (foreign keys still apply). */
    [Q_GRANT_INSERT] = {.name = "grant_insert",
                        .sql = "INSERT OR IGNORE INTO group_grants (" GRANT_COLS
                               ") VALUES (?1, ?2, ?3, ?4)",
                        .entity = "grant",
                        .missing = "referenced group or app does not exist in this org"},
    [Q_GRANT_EACH_ORG] = {.name = "grant_each",
                          .sql = "SELECT " GRANT_COLS " FROM group_grants WHERE org_id = ?1 "
                                 "AND (?2 = '' OR group_id = ?2) ORDER BY rowid"},
    [Q_GRANT_EACH_ALL] = {.name = "grant_each",
                          .sql = "SELECT " GRANT_COLS
                                 " FROM group_grants WHERE ?1 = '' OR group_id = ?1 "
                                 "ORDER BY rowid"},
    /* Whether the group and the app of a grant exist in its org. */
    [Q_GRANT_REFS] = {.name = "grant_delete",
                      .sql = "SELECT EXISTS (SELECT 1 FROM groups WHERE org_id = ?1 AND id = ?2), "
                             "EXISTS (SELECT 1 FROM apps WHERE org_id = ?1 AND id = ?3)"},
    [Q_GRANT_DELETE] = {.name = "grant_delete",
                        .sql = "DELETE FROM group_grants WHERE org_id = ?1 AND group_id = ?2 "
                               "AND app_id = ?3 AND permission = ?4",
                        .entity = "grant"},

    [Q_MEMBER_INSERT] = {.name = "member_insert",
                         .sql = "INSERT OR IGNORE INTO group_members (" MEMBER_COLS
                                ") VALUES (?1, ?2, ?3)",
                         .entity = "member",
                         .missing = "referenced group or user does not exist in this org"},
    [Q_MEMBER_EACH_ORG] = {.name = "member_each",
                           .sql = "SELECT " MEMBER_COLS " FROM group_members WHERE org_id = ?1 "
                                  "AND (?2 = '' OR group_id = ?2) ORDER BY rowid"},
    [Q_MEMBER_EACH_ALL] = {.name = "member_each",
                           .sql = "SELECT " MEMBER_COLS
                                  " FROM group_members WHERE ?1 = '' OR group_id = ?1 "
                                  "ORDER BY rowid"},
    [Q_MEMBER_DELETE] = {.name = "member_delete",
                         .sql = "DELETE FROM group_members WHERE org_id = ?1 AND group_id = ?2 "
                                "AND user_id = ?3",
                         .entity = "member"},

    [Q_APP_INSERT] = {.name = "app_insert",
                      .sql = "INSERT INTO apps (" APP_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      .entity = "app",
                      .missing = "referenced org does not exist"},
    [Q_APP_GET] = {.name = "app_get",
                   .sql = "SELECT " APP_COLS " FROM apps WHERE org_id = ?1 AND id = ?2",
                   .entity = "app"},
    [Q_APP_EACH_ORG] = {.name = "app_each",
                        .sql = "SELECT " APP_COLS " FROM apps WHERE org_id = ?1 ORDER BY rowid"},
    [Q_APP_EACH_ALL] = {.name = "app_each", .sql = "SELECT " APP_COLS " FROM apps ORDER BY rowid"},
    [Q_APP_UPDATE] = {.name = "app_update",
                      .sql = "UPDATE apps SET name = ?3, mode = ?4, allowed_origins = ?5 "
                             "WHERE org_id = ?1 AND id = ?2",
                      .entity = "app"},

    /* Inside the BEGIN IMMEDIATE transaction, so no other writer can take the
     * same number: no lock of its own. */
    [Q_VERSION_LOCK] = {.name = "app_version_insert", .sql = NULL},
    [Q_VERSION_NEXT] =
        {.name = "app_version_insert",
         .sql = "SELECT COALESCE(MAX(version), 0) + 1 FROM app_versions WHERE app_id = ?1"},
    [Q_VERSION_INSERT] = {.name = "app_version_insert",
                          .sql = "INSERT INTO app_versions (" VERSION_COLS
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                          .entity = "app version",
                          .missing = "referenced app does not exist in this org"},
    [Q_VERSION_EACH_ORG] = {.name = "app_version_each",
                            .sql = "SELECT " VERSION_COLS " FROM app_versions WHERE org_id = ?1 "
                                   "AND (?2 = '' OR app_id = ?2) ORDER BY rowid"},
    [Q_VERSION_EACH_ALL] = {.name = "app_version_each",
                            .sql = "SELECT " VERSION_COLS
                                   " FROM app_versions WHERE ?1 = '' OR app_id = ?1 "
                                   "ORDER BY rowid"},
    [Q_FILE_INSERT] = {.name = "app_version_insert",
                       .sql = "INSERT INTO app_files (version_id, path, content_type, data) "
                              "VALUES (?1, ?2, ?3, ?4)",
                       .entity = "app file",
                       .conflict = "two files of the bundle have the same path"},
    [Q_FILE_GET] = {.name = "app_file_get",
                    .sql = "SELECT path, content_type, data FROM app_files "
                           "WHERE version_id = ?1 AND path = ?2",
                    .entity = "app file"},

    /* Before an active key is inserted: the one active key steps down. */
    [Q_KEY_DEMOTE] = {.name = "key_insert",
                      .sql = "UPDATE signing_keys SET state = 'retiring' WHERE state = 'active'"},
    [Q_KEY_INSERT] = {.name = "key_insert",
                      .sql =
                          "INSERT INTO signing_keys (" KEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      .entity = "signing key",
                      .conflict = "a signing key with this kid exists, or another key became active at the same time"},
    [Q_KEY_GET] = {.name = "key_get",
                   .sql = "SELECT " KEY_COLS " FROM signing_keys WHERE kid = ?1",
                   .entity = "signing key"},
    [Q_KEY_EACH] = {.name = "key_each",
                    .sql = "SELECT " KEY_COLS " FROM signing_keys ORDER BY rowid"},
    [Q_KEY_SET_STATE] = {.name = "key_set_state",
                         .sql = "UPDATE signing_keys SET state = ?2 WHERE kid = ?1",
                         .entity = "signing key",
                         .conflict = "another signing key is active"},

    [Q_SESSION_INSERT] = {.name = "record_batch",
                          .sql = "INSERT INTO sessions (" SESSION_COLS
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                          .entity = "session",
                          .missing = "referenced org does not exist"},
    [Q_SESSION_GET] = {.name = "session_get",
                       .sql = "SELECT " SESSION_COLS " FROM sessions WHERE jti = ?1",
                       .entity = "session"},
    /* Matches a live session of the org whether or not it is revoked yet;
     * COALESCE keeps the first revocation time. */
    [Q_SESSION_REVOKE] = {.name = "session_revoke",
                          .sql = "UPDATE sessions SET revoked_at = CASE WHEN revoked_at = 0 THEN ?3 "
                                 "ELSE revoked_at END WHERE org_id = ?1 AND jti = ?2 AND expires_at > ?3",
                          .entity = "session"},
    /* Before the update: one change row per session it is about to revoke. */
    [Q_SESSION_REVOKE_EMAIL_CHANGES] = {.name = "session_revoke_email",
                                        .sql = "INSERT INTO change_log (kind, org_id, id, at) "
                                               "SELECT 'session', org_id, jti, ?3 FROM sessions "
                                               "WHERE org_id = ?1 AND email = ?2 AND revoked_at = 0 "
                                               "AND expires_at > ?3"},
    [Q_SESSION_REVOKE_EMAIL] = {.name = "session_revoke_email",
                                .sql = "UPDATE sessions SET revoked_at = ?3 WHERE org_id = ?1 AND email = ?2 "
                                       "AND revoked_at = 0 AND expires_at > ?3"},
    [Q_SESSION_EACH_EMAIL] = {.name = "session_each_email",
                              .sql = "SELECT " SESSION_COLS " FROM sessions WHERE org_id = ?1 AND email = ?2 "
                                     "AND expires_at > ?3 ORDER BY issued_at DESC, rowid DESC LIMIT 1000"},
    [Q_SWEEP_GET] = {.name = "session_expiry_sweep", .sql = "SELECT done_until FROM sweeps WHERE name = ?1"},
    [Q_SWEEP_SET] = {.name = "session_expiry_sweep",
                     .sql = "INSERT INTO sweeps (name, done_until) VALUES (?1, ?2) "
                            "ON CONFLICT (name) DO UPDATE SET done_until = excluded.done_until"},
    [Q_SWEEP_EXPIRED] = {.name = "session_expiry_sweep",
                         .sql = "SELECT " SESSION_COLS " FROM sessions WHERE expires_at > ?1 AND expires_at <= ?2 "
                                "AND revoked_at = 0"},
    [Q_SWEEP_AUDIT] = {.name = "session_expiry_sweep",
                       .sql = "INSERT OR IGNORE INTO audit_events (" AUDIT_COLS
                              ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"},
    [Q_SESSION_REVOKED_EACH] = {.name = "session_revoked_each",
                                .sql = "SELECT " SESSION_COLS " FROM sessions WHERE revoked_at != 0 "
                                       "AND expires_at > ?1"},

    /* Housekeeping, run by console_session_insert: drops every expired row. */
    [Q_CONSOLE_PURGE] = {.name = "console_session_insert",
                         .sql = "DELETE FROM console_sessions WHERE expires_at <= ?1",
                         .entity = "console session"},
    [Q_CONSOLE_INSERT] = {.name = "console_session_insert",
                          .sql = "INSERT INTO console_sessions (" CONSOLE_COLS
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          .entity = "console session",
                          .missing = "referenced user does not exist in this org"},
    [Q_CONSOLE_GET] = {.name = "console_session_get",
                       .sql = "SELECT " CONSOLE_COLS
                              " FROM console_sessions WHERE id_hash = ?1 AND expires_at > ?2",
                       .entity = "console session"},
    [Q_CONSOLE_DELETE] = {.name = "console_session_delete",
                          .sql = "DELETE FROM console_sessions WHERE id_hash = ?1",
                          .entity = "console session"},

    [Q_IDP_INSERT] = {.name = "idp_insert",
                      .sql = "INSERT INTO idps (" IDP_COLS
                             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                      .entity = "identity provider",
                      .conflict = "this organization already trusts that issuer",
                      .missing = "referenced org does not exist"},
    [Q_IDP_GET] = {.name = "idp_get",
                   .sql = "SELECT " IDP_COLS " FROM idps WHERE org_id = ?1 AND id = ?2",
                   .entity = "identity provider"},
    [Q_IDP_EACH_ORG] = {.name = "idp_each",
                        .sql = "SELECT " IDP_COLS " FROM idps WHERE org_id = ?1 ORDER BY rowid"},
    [Q_IDP_EACH_ALL] = {.name = "idp_each", .sql = "SELECT " IDP_COLS " FROM idps ORDER BY rowid"},
    [Q_IDP_UPDATE] = {.name = "idp_update",
                      .sql = "UPDATE idps SET name = ?3, issuer = ?4, jwks_uri = ?5, jwks = ?6, "
                             "audience = ?7, email_claim = ?8, algorithms = ?9 "
                             "WHERE org_id = ?2 AND id = ?1",
                      .entity = "identity provider",
                      .conflict = "this organization already trusts that issuer"},
    [Q_IDP_DELETE] = {.name = "idp_delete",
                      .sql = "DELETE FROM idps WHERE org_id = ?1 AND id = ?2",
                      .entity = "identity provider"},

    [Q_INTEGRATION_INSERT] = {.name = "integration_insert",
                              .sql = "INSERT INTO integrations (" INTEGRATION_COLS
                                     ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                              .entity = "integration",
                              .conflict = "an integration with that name already exists",
                              .missing = "referenced org does not exist"},
    [Q_INTEGRATION_GET] = {.name = "integration_get",
                           .sql = "SELECT " INTEGRATION_COLS
                                  " FROM integrations WHERE org_id = ?1 AND id = ?2",
                           .entity = "integration"},
    [Q_INTEGRATION_EACH_ORG] = {.name = "integration_each",
                                .sql = "SELECT " INTEGRATION_COLS
                                       " FROM integrations WHERE org_id = ?1 ORDER BY rowid"},
    [Q_INTEGRATION_EACH_ALL] = {.name = "integration_each",
                                .sql = "SELECT " INTEGRATION_COLS " FROM integrations ORDER BY rowid"},
    [Q_INTEGRATION_UPDATE] = {.name = "integration_update",
                              .sql = "UPDATE integrations SET name = ?3, base_url = ?4, token_url = ?5, "
                                     "client_id = ?6, client_secret = ?7, audience = ?8, scope = ?9 "
                                     "WHERE org_id = ?2 AND id = ?1",
                              .entity = "integration",
                              .conflict = "an integration with that name already exists"},
    [Q_INTEGRATION_DELETE] = {.name = "integration_delete",
                              .sql = "DELETE FROM integrations WHERE org_id = ?1 AND id = ?2",
                              .entity = "integration"},

    [Q_SUBJECT_INSERT] = {.name = "subject_token_put",
                          .sql = "INSERT INTO subject_tokens (" SUBJECT_COLS
                                 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          .entity = "subject token",
                          .missing = "referenced identity provider does not exist in this org"},
    [Q_SUBJECT_GET] = {.name = "subject_token_get",
                       .sql = "SELECT " SUBJECT_COLS " FROM subject_tokens "
                              "WHERE org_id = ?1 AND jti = ?2 AND expires_at > ?3",
                       .entity = "subject token"},
    /* Expired, or the session (or the access token it was minted with) was
     * revoked: the session has ended, so its subject token goes. Walks the
     * (small) subject_tokens table with primary-key lookups into sessions. */
    [Q_SUBJECT_PURGE] = {.name = "subject_token_purge",
                         .sql = "DELETE FROM subject_tokens WHERE expires_at <= ?1 OR EXISTS ("
                                "SELECT 1 FROM sessions s LEFT JOIN access_tokens t ON t.id = s.atid "
                                "WHERE s.jti = subject_tokens.jti AND (s.revoked_at != 0 OR t.revoked_at != 0))",
                         .entity = "subject token"},

    /* Webhooks (006). The audit log's end is its highest rowid (commit order). */
#define AUDIT_END "(SELECT COALESCE(MAX(rowid), 0) FROM audit_events)"
    [Q_WEBHOOK_INSERT] = {.name = "webhook_insert",
                          .sql = "INSERT INTO webhooks (" WEBHOOK_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                 AUDIT_END ", 0, 0, '', ?7)",
                          .entity = "webhook",
                          .missing = "referenced org does not exist"},
    [Q_WEBHOOK_GET] = {.name = "webhook_get",
                       .sql = "SELECT " WEBHOOK_COLS " FROM webhooks WHERE org_id = ?1 AND id = ?2",
                       .entity = "webhook"},
    [Q_WEBHOOK_EACH_ORG] = {.name = "webhook_each",
                            .sql = "SELECT " WEBHOOK_COLS " FROM webhooks WHERE org_id = ?1 ORDER BY rowid"},
    [Q_WEBHOOK_EACH_ALL] = {.name = "webhook_each",
                            .sql = "SELECT " WEBHOOK_COLS " FROM webhooks ORDER BY rowid"},
    /* One audit_events_org probe per enabled webhook. */
    [Q_WEBHOOK_DUE] = {.name = "webhook_due",
                       .sql = "SELECT " WEBHOOK_COLS " FROM webhooks w WHERE enabled = 1 AND next_attempt_at <= ?1 "
                              "AND EXISTS (SELECT 1 FROM audit_events a WHERE a.org_id = w.org_id "
                              "AND a.rowid > w.cursor) ORDER BY rowid"},
    /* The right-hand sides see the row as it was: "enabled = 0" is before. */
    [Q_WEBHOOK_UPDATE] = {.name = "webhook_update",
                          .sql = "UPDATE webhooks SET url = ?3, secret_sealed = ?4, events = ?5, "
                                 "cursor = CASE WHEN enabled = 0 AND ?6 != 0 THEN " AUDIT_END
                                 " ELSE cursor END, enabled = ?6, failures = 0, next_attempt_at = 0, "
                                 "last_error = '' WHERE org_id = ?2 AND id = ?1",
                          .entity = "webhook"},
    [Q_WEBHOOK_DELETE] = {.name = "webhook_delete",
                          .sql = "DELETE FROM webhooks WHERE org_id = ?1 AND id = ?2",
                          .entity = "webhook"},
    /* Compare-and-set on the cursor: a concurrent admin change or node wins. */
    [Q_WEBHOOK_PROGRESS] = {.name = "webhook_progress",
                            .sql = "UPDATE webhooks SET cursor = ?4, failures = ?5, next_attempt_at = ?6, "
                                   "last_error = ?7 WHERE org_id = ?1 AND id = ?2 AND cursor = ?3",
                            .entity = "webhook"},
    [Q_DELIVERY_INSERT] = {.name = "webhook_delivery_insert",
                           .sql = "INSERT INTO webhook_deliveries (" DELIVERY_COLS
                                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                           .entity = "webhook delivery",
                           .missing = "referenced webhook does not exist in this org"},
    /* Everything older than the newest ?2 deliveries of webhook ?1. */
    [Q_DELIVERY_PRUNE] = {.name = "webhook_delivery_insert",
                          .sql = "DELETE FROM webhook_deliveries WHERE webhook_id = ?1 AND rowid <= "
                                 "(SELECT rowid FROM webhook_deliveries WHERE webhook_id = ?1 "
                                 "ORDER BY rowid DESC LIMIT 1 OFFSET ?2)"},
    [Q_DELIVERY_EACH] = {.name = "webhook_delivery_each",
                         .sql = "SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE org_id = ?1 "
                                "AND webhook_id = ?2 ORDER BY rowid DESC LIMIT ?3"},
    /* Served by audit_events_org: (org_id) index entries are in rowid order. */
    [Q_AUDIT_AFTER] = {.name = "audit_after",
                       .sql = "SELECT " AUDIT_COLS ", rowid FROM audit_events WHERE org_id = ?1 "
                              "AND rowid > ?2 ORDER BY rowid LIMIT ?3"},
#undef AUDIT_END

    /* One process owns a SQLite database's jobs: every lease is held. */
    [Q_LEASE] = {.name = "lease", .sql = NULL},

    /* Export reads every table in one transaction: WAL gives it a snapshot. */
    [Q_SNAPSHOT_BEGIN] = {.name = "export", .sql = "BEGIN"},
    /* Explicit rowids and seqs keep their values; AUTOINCREMENT follows. */
    [Q_IMPORT_FINISH] = {.name = "import", .sql = NULL},
};

