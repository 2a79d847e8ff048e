/* store_sqlite.c - the SQLite backend of store.h.
 *
 * One handle is one sqlite3 connection, used by one thread at a time (the
 * connection is opened with SQLITE_OPEN_NOMUTEX). Every SQL statement lives in
 * q_table below, one entry per operation; a statement is prepared on first
 * use, cached in the handle and finalized by close.
 *
 * Every write runs as BEGIN IMMEDIATE ... COMMIT (write_run): the write lock
 * is taken up front, so a writer in another process (the CLI while the server
 * runs) waits up to busy_timeout instead of failing half-way with SQLITE_BUSY.
 * The mutation, its change-log row and its audit row commit together or not at
 * all. With journal_mode=WAL and synchronous=FULL, COMMIT fsyncs the WAL before
 * it returns, so a write is durable when the operation returns 0.
 *
 * Row readers copy text columns into the records' fixed-size fields and fail
 * with ERR_INTERNAL rather than truncate. Binders take the records' fields as
 * they are; a field that is not NUL-terminated within its array is a
 * programming error (assert). */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/assets.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/uuid.h"
#include "core/xalloc.h"

#define BUSY_TIMEOUT_MS 5000
#define MIGRATION_PREFIX "migrations/sqlite/"

/* ---- the SQL, one entry per operation ---- */

/* Column lists: each record's SELECT, INSERT and row reader use the same order. */
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

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_MIG_APPLIED,
    Q_MIG_RECORD,
    Q_MIG_MAX,
    Q_CHANGE_APPEND,
    Q_CHANGE_LATEST,
    Q_CHANGES_SINCE,
    Q_AUDIT_INSERT,
    Q_AUDIT_EACH,
    Q_ORG_INSERT,
    Q_ORG_UPDATE,
    Q_ORG_GET,
    Q_ORG_EACH,
    Q_USER_INSERT,
    Q_USER_GET,
    Q_USER_FIND_EMAIL,
    Q_USER_EACH_ORG,
    Q_USER_EACH_ALL,
    Q_USER_UPDATE,
    Q_USER_END_CONSOLE_SESSIONS,
    Q_USER_MEMBER_CHANGES,
    Q_USER_DELETE,
    Q_USER_COUNT_ROLE,
    Q_TOKEN_INSERT,
    Q_TOKEN_GET,
    Q_TOKEN_EACH_ORG,
    Q_TOKEN_EACH_ALL,
    Q_TOKEN_REVOKE,
    Q_TOKEN_TOUCH,
    Q_TOKEN_SET_RATE,
    Q_GROUP_INSERT,
    Q_GROUP_GET,
    Q_GROUP_EACH_ORG,
    Q_GROUP_EACH_ALL,
    Q_GROUP_UPDATE,
    Q_GROUP_DELETE,
    Q_GRANT_INSERT,
    Q_GRANT_EACH_ORG,
    Q_GRANT_EACH_ALL,
    Q_GRANT_REFS,
    Q_GRANT_DELETE,
    Q_MEMBER_INSERT,
    Q_MEMBER_EACH_ORG,
    Q_MEMBER_EACH_ALL,
    Q_MEMBER_DELETE,
    Q_APP_INSERT,
    Q_APP_GET,
    Q_APP_EACH_ORG,
    Q_APP_EACH_ALL,
    Q_APP_UPDATE,
    Q_VERSION_NEXT,
    Q_VERSION_INSERT,
    Q_VERSION_EACH_ORG,
    Q_VERSION_EACH_ALL,
    Q_FILE_INSERT,
    Q_FILE_GET,
    Q_KEY_INSERT,
    Q_KEY_GET,
    Q_KEY_EACH,
    Q_KEY_SET_STATE,
    Q_SESSION_INSERT,
    Q_SESSION_GET,
    Q_SESSION_REVOKE,
    Q_SESSION_REVOKE_EMAIL_CHANGES,
    Q_SESSION_REVOKE_EMAIL,
    Q_SESSION_EACH_EMAIL,
    Q_SESSION_REVOKED_EACH,
    Q_SWEEP_GET,
    Q_SWEEP_SET,
    Q_SWEEP_EXPIRED,
    Q_SWEEP_AUDIT,
    Q_CONSOLE_PURGE,
    Q_CONSOLE_INSERT,
    Q_CONSOLE_GET,
    Q_CONSOLE_DELETE,
    Q_IDP_INSERT,
    Q_IDP_GET,
    Q_IDP_EACH_ORG,
    Q_IDP_EACH_ALL,
    Q_IDP_UPDATE,
    Q_IDP_DELETE,
    Q_INTEGRATION_INSERT,
    Q_INTEGRATION_GET,
    Q_INTEGRATION_EACH_ORG,
    Q_INTEGRATION_EACH_ALL,
    Q_INTEGRATION_UPDATE,
    Q_INTEGRATION_DELETE,
    Q_SUBJECT_INSERT,
    Q_SUBJECT_GET,
    Q_SUBJECT_PURGE,
    Q_WEBHOOK_INSERT,
    Q_WEBHOOK_GET,
    Q_WEBHOOK_EACH_ORG,
    Q_WEBHOOK_EACH_ALL,
    Q_WEBHOOK_DUE,
    Q_WEBHOOK_UPDATE,
    Q_WEBHOOK_DELETE,
    Q_WEBHOOK_PROGRESS,
    Q_DELIVERY_INSERT,
    Q_DELIVERY_PRUNE,
    Q_DELIVERY_EACH,
    Q_AUDIT_AFTER,
    Q_COUNT
};

typedef struct {
    const char *name; /* the operation, for error details */
    const char *sql;
    const char *entity;   /* "<entity> not found" / "<entity> already exists" */
    const char *conflict; /* overrides "<entity> already exists" */
    const char *missing;  /* detail of a foreign-key violation */
} query;

/* Optional filters of the *_each queries: the _ORG variant binds org_id as ?1
 * and the sub-filter (if any) as ?2; the _ALL variant binds the sub-filter as
 * ?1. A sub-filter of '' matches everything. Two statements rather than
 * "(?1 = '' OR org_id = ?1)", which SQLite cannot answer from an index. */
static const query q_table[Q_COUNT] = {
    [Q_BEGIN] = {.name = "begin", .sql = "BEGIN IMMEDIATE"},
    [Q_COMMIT] = {.name = "commit", .sql = "COMMIT"},
    [Q_ROLLBACK] = {.name = "rollback", .sql = "ROLLBACK"},

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

    /* Inside the write transaction, so no other writer can take the same number. */
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

    [Q_KEY_INSERT] = {.name = "key_insert",
                      .sql =
                          "INSERT INTO signing_keys (" KEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                      .entity = "signing key"},
    [Q_KEY_GET] = {.name = "key_get",
                   .sql = "SELECT " KEY_COLS " FROM signing_keys WHERE kid = ?1",
                   .entity = "signing key"},
    [Q_KEY_EACH] = {.name = "key_each",
                    .sql = "SELECT " KEY_COLS " FROM signing_keys ORDER BY rowid"},
    [Q_KEY_SET_STATE] = {.name = "key_set_state",
                         .sql = "UPDATE signing_keys SET state = ?2 WHERE kid = ?1",
                         .entity = "signing key"},

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
#define WEBHOOK_COLS                                                                               \
    "id, org_id, url, secret_sealed, events, enabled, cursor, failures, next_attempt_at, "         \
    "last_error, created_at"
#define DELIVERY_COLS                                                                              \
    "id, org_id, webhook_id, event_id, event_type, attempt, status_code, error, duration_ms, at"
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
};

/* ---- the handle ---- */

typedef struct {
    store base;                  /* first member: the store * handed out points here */
    sqlite3 *db;                 /* owned; closed by sq_close */
    sqlite3_stmt *stmt[Q_COUNT]; /* owned; prepared lazily, finalized by sq_close */
} store_sqlite;

static store_sqlite *from(store *s)
{
    return (store_sqlite *)s;
}

/* ---- errors ---- */

/* What query q reads or writes, for "... not found" / "... already exists". */
static const char *entity_of(int q)
{
    return q_table[q].entity ? q_table[q].entity : "row";
}

/* Maps a failed result code of query q to the store's error classes. The
 * detail names the operation and the entity, never SQL text or values. */
static int fail(int q, int rc, err_t *e)
{
    const query *qq = &q_table[q];
    const char *entity = entity_of(q);
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        if (qq->conflict != NULL)
            return err_set(e, ERR_CONFLICT, "%s", qq->conflict);
        return err_set(e, ERR_CONFLICT, "%s already exists", entity);
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return err_set(e, ERR_INVALID_REQUEST, "%s",
                       qq->missing ? qq->missing : "referenced row does not exist");
    case SQLITE_CONSTRAINT_NOTNULL:
        return err_set(e, ERR_INVALID_REQUEST, "%s: a required field is missing", qq->name);
    case SQLITE_TOOBIG:
        return err_set(e, ERR_TOO_LARGE, "%s: value too large for the database", qq->name);
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return err_set(e, ERR_UNAVAILABLE, "database is busy (%s)", qq->name);
    case SQLITE_CANTOPEN:
        return err_set(e, ERR_UNAVAILABLE, "database is unreachable (%s)", qq->name);
    default:
        return err_set(e, ERR_INTERNAL, "database error in %s: %s", qq->name, sqlite3_errstr(rc));
    }
}

/* ---- statements ---- */

/* The cached statement of q, prepared on first use, or NULL with *e set. The
 * statement stays owned by ss; hand it back with stmt_release. A statement
 * still stepping (an *_each whose callback calls the same *_each) is refused. */
static sqlite3_stmt *stmt_get(store_sqlite *ss, int q, err_t *e)
{
    sqlite3_stmt **slot = &ss->stmt[q];
    if (*slot == NULL) {
        int rc =
            sqlite3_prepare_v3(ss->db, q_table[q].sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
        if (rc == SQLITE_OK)
            return *slot;
        *slot = NULL;
        if ((rc & 0xff) == SQLITE_ERROR)
            err_set(e, ERR_INTERNAL, "cannot prepare %s (is the database migrated?)",
                    q_table[q].name);
        else
            fail(q, rc, e);
        return NULL;
    }
    if (sqlite3_stmt_busy(*slot)) {
        err_set(e, ERR_INTERNAL, "%s called from inside its own callback", q_table[q].name);
        return NULL;
    }
    return *slot;
}

/* Resets st and drops its bindings (they may point at the caller's memory). */
static void stmt_release(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Binders. Text and blobs are bound SQLITE_STATIC: they must outlive the step,
 * which they do because every statement is released before the operation
 * returns. Bind failures are programming errors (wrong index). */
static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    int rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
    assert(rc == SQLITE_OK);
    (void)rc;
}

static void bind_field_(sqlite3_stmt *st, int i, const char *field, size_t cap)
{
    const char *nul = memchr(field, '\0', cap);
    assert(nul != NULL && "record string field is not NUL-terminated");
    int rc = sqlite3_bind_text(st, i, field, nul ? (int)(nul - field) : 0, SQLITE_STATIC);
    assert(rc == SQLITE_OK);
    (void)rc;
}
#define bind_field(st, i, field) bind_field_((st), (i), (field), sizeof(field))

static void bind_int(sqlite3_stmt *st, int i, int64_t v)
{
    int rc = sqlite3_bind_int64(st, i, v);
    assert(rc == SQLITE_OK);
    (void)rc;
}

/* Binds len bytes (len 0: an empty blob, never NULL). Returns the result code:
 * SQLITE_TOOBIG is a real outcome for large bundle files. */
static int bind_blob(sqlite3_stmt *st, int i, const void *data, size_t len)
{
    if (len == 0)
        return sqlite3_bind_zeroblob(st, i, 0);
    return sqlite3_bind_blob64(st, i, data, (sqlite3_uint64)len, SQLITE_STATIC);
}

/* Copies text column i into dst[cap]; a value that does not fit is an error. */
static int col_text_(sqlite3_stmt *st, int i, char *dst, size_t cap, err_t *e)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    if (t == NULL) {
        dst[0] = '\0';
        return 0;
    }
    if (n >= cap)
        return err_set(e, ERR_INTERNAL, "stored %s is longer than %zu bytes",
                       sqlite3_column_name(st, i), cap - 1);
    memcpy(dst, t, n);
    dst[n] = '\0';
    return 0;
}
#define col_text(st, i, field, e) col_text_((st), (i), (field), sizeof(field), (e))

/* Runs the bound statement q, which returns no rows, and releases it. */
static int step_done(store_sqlite *ss, int q, err_t *e)
{
    sqlite3_stmt *st = ss->stmt[q];
    int rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? 0 : fail(q, rc, e);
    stmt_release(st);
    return ret;
}

typedef void (*binder)(sqlite3_stmt *st, const void *rec);
typedef int (*row_reader)(sqlite3_stmt *st, void *out, err_t *e);

/* Prepares (if needed), binds rec with bind and runs q, which returns no rows.
 * With changes_required, "no row changed" is ERR_NOT_FOUND. */
static int exec_bound(store_sqlite *ss, int q, binder bind, const void *rec, int changes_required,
                      err_t *e)
{
    sqlite3_stmt *st = stmt_get(ss, q, e);
    if (st == NULL)
        return -1;
    bind(st, rec);
    if (step_done(ss, q, e) != 0)
        return -1;
    if (changes_required && sqlite3_changes(ss->db) == 0)
        return err_set(e, ERR_NOT_FOUND, "%s not found", entity_of(q));
    return 0;
}

/* Steps the bound statement q once and reads the row into out with rd;
 * ERR_NOT_FOUND when there is none ("<entity> <key> not found", key may be
 * NULL). Releases the statement. */
static int fetch_one(store_sqlite *ss, int q, row_reader rd, void *out, const char *key, err_t *e)
{
    sqlite3_stmt *st = ss->stmt[q];
    int ret = -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        ret = rd(st, out, e);
    else if (rc == SQLITE_DONE && key != NULL)
        err_set(e, ERR_NOT_FOUND, "%s %s not found", entity_of(q), key);
    else if (rc == SQLITE_DONE)
        err_set(e, ERR_NOT_FOUND, "%s not found", entity_of(q));
    else
        fail(q, rc, e);
    stmt_release(st);
    return ret;
}

/* Steps the bound statement q, reading each row into rec (the caller's
 * scratch record) and calling fn(ctx, rec) until fn returns nonzero or the
 * rows run out. Releases the statement. */
static int fetch_each(store_sqlite *ss, int q, row_reader rd, void *rec, store_each_fn fn,
                      void *ctx, err_t *e)
{
    sqlite3_stmt *st = ss->stmt[q];
    int ret = -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (rd(st, rec, e) != 0)
            goto out;
        if (fn(ctx, rec) != 0)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fail(q, rc, e);
        goto out;
    }
    ret = 0;
out:
    stmt_release(st);
    return ret;
}

/* Lists with an optional org filter (NULL or "" = every org) and an optional
 * sub-filter (group or app id; used only when the statements have one). */
static int each_filtered(store_sqlite *ss, int q_org, int q_all, const char *org_id,
                         const char *sub, row_reader rd, void *rec, store_each_fn fn, void *ctx,
                         err_t *e)
{
    int all = org_id == NULL || org_id[0] == '\0';
    int q = all ? q_all : q_org;
    sqlite3_stmt *st = stmt_get(ss, q, e);
    if (st == NULL)
        return -1;
    int i = 1;
    if (!all)
        bind_text(st, i++, org_id);
    if (i <= sqlite3_bind_parameter_count(st))
        bind_text(st, i, sub ? sub : "");
    return fetch_each(ss, q, rd, rec, fn, ctx, e);
}

/* ---- row readers: column order as in the *_COLS lists ---- */

static int read_org(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_org *o = rec;
    memset(o, 0, sizeof(*o));
    if (col_text(st, 0, o->id, e) || col_text(st, 1, o->name, e) || col_text(st, 2, o->type, e))
        return -1;
    o->session_ttl = sqlite3_column_int64(st, 3);
    o->session_ttl_max = sqlite3_column_int64(st, 4);
    o->created_at = sqlite3_column_int64(st, 5);
    return 0;
}

static int read_user(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_user *u = rec;
    memset(u, 0, sizeof(*u));
    if (col_text(st, 0, u->id, e) || col_text(st, 1, u->org_id, e) ||
        col_text(st, 2, u->email, e) || col_text(st, 3, u->name, e) ||
        col_text(st, 4, u->role, e) || col_text(st, 5, u->password_hash, e))
        return -1;
    u->created_at = sqlite3_column_int64(st, 6);
    return 0;
}

static int read_token(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_token *t = rec;
    memset(t, 0, sizeof(*t));
    if (col_text(st, 0, t->id, e) || col_text(st, 1, t->org_id, e) || col_text(st, 2, t->name, e) ||
        col_text(st, 3, t->type, e) || col_text(st, 4, t->prefix, e) ||
        col_text(st, 5, t->hash, e) || col_text(st, 6, t->created_by, e))
        return -1;
    t->created_at = sqlite3_column_int64(st, 7);
    t->expires_at = sqlite3_column_int64(st, 8);
    t->last_used_at = sqlite3_column_int64(st, 9);
    t->revoked_at = sqlite3_column_int64(st, 10);
    t->rate_rps = sqlite3_column_int64(st, 11);
    t->rate_burst = sqlite3_column_int64(st, 12);
    return 0;
}

static int read_group(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_group *g = rec;
    memset(g, 0, sizeof(*g));
    if (col_text(st, 0, g->id, e) || col_text(st, 1, g->org_id, e) || col_text(st, 2, g->name, e))
        return -1;
    g->created_at = sqlite3_column_int64(st, 3);
    return 0;
}

static int read_grant(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_grant *g = rec;
    memset(g, 0, sizeof(*g));
    if (col_text(st, 0, g->org_id, e) || col_text(st, 1, g->group_id, e) ||
        col_text(st, 2, g->app_id, e) || col_text(st, 3, g->permission, e))
        return -1;
    return 0;
}

static int read_member(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_member *m = rec;
    memset(m, 0, sizeof(*m));
    if (col_text(st, 0, m->org_id, e) || col_text(st, 1, m->group_id, e) ||
        col_text(st, 2, m->user_id, e))
        return -1;
    return 0;
}

static int read_app(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_app *a = rec;
    memset(a, 0, sizeof(*a));
    if (col_text(st, 0, a->id, e) || col_text(st, 1, a->org_id, e) || col_text(st, 2, a->name, e) ||
        col_text(st, 3, a->mode, e) || col_text(st, 4, a->allowed_origins, e))
        return -1;
    a->created_at = sqlite3_column_int64(st, 5);
    return 0;
}

/* Copies blob column i into dst[cap] (*len set); a longer value is an error. */
static int col_blob_(sqlite3_stmt *st, int i, unsigned char *dst, size_t cap, size_t *len, err_t *e)
{
    const void *data = sqlite3_column_blob(st, i);
    size_t n = (size_t)sqlite3_column_bytes(st, i);
    if (n > cap)
        return err_set(e, ERR_INTERNAL, "stored %s is longer than %zu bytes", sqlite3_column_name(st, i),
                       cap);
    if (n > 0)
        memcpy(dst, data, n);
    *len = n;
    return 0;
}
#define col_blob(st, i, field, len, e) col_blob_((st), (i), (field), sizeof(field), (len), (e))

static int read_idp(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_idp *p = rec;
    memset(p, 0, sizeof(*p));
    if (col_text(st, 0, p->id, e) || col_text(st, 1, p->org_id, e) || col_text(st, 2, p->name, e) ||
        col_text(st, 3, p->issuer, e) || col_text(st, 4, p->jwks_uri, e) || col_text(st, 5, p->jwks, e) ||
        col_text(st, 6, p->audience, e) || col_text(st, 7, p->email_claim, e) ||
        col_text(st, 8, p->algorithms, e))
        return -1;
    p->created_at = sqlite3_column_int64(st, 9);
    return 0;
}

static int read_integration(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_integration *g = rec;
    memset(g, 0, sizeof(*g));
    if (col_text(st, 0, g->id, e) || col_text(st, 1, g->org_id, e) || col_text(st, 2, g->name, e) ||
        col_text(st, 3, g->base_url, e) || col_text(st, 4, g->token_url, e) ||
        col_text(st, 5, g->client_id, e) ||
        col_blob(st, 6, g->client_secret_sealed, &g->client_secret_sealed_len, e) ||
        col_text(st, 7, g->audience, e) || col_text(st, 8, g->scope, e))
        return -1;
    g->created_at = sqlite3_column_int64(st, 9);
    return 0;
}

static int read_subject(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_subject_token *t = rec;
    memset(t, 0, sizeof(*t));
    if (col_text(st, 0, t->jti, e) || col_text(st, 1, t->org_id, e) || col_text(st, 2, t->idp_id, e) ||
        col_text(st, 3, t->token_type, e) || col_blob(st, 4, t->sealed, &t->sealed_len, e))
        return -1;
    t->expires_at = sqlite3_column_int64(st, 5);
    return 0;
}

static int read_version(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_app_version *v = rec;
    memset(v, 0, sizeof(*v));
    if (col_text(st, 0, v->id, e) || col_text(st, 1, v->org_id, e) || col_text(st, 2, v->app_id, e))
        return -1;
    v->version = sqlite3_column_int64(st, 3);
    if (col_text(st, 4, v->created_by, e))
        return -1;
    v->created_at = sqlite3_column_int64(st, 5);
    v->file_count = sqlite3_column_int64(st, 6);
    v->total_bytes = sqlite3_column_int64(st, 7);
    return 0;
}

static int read_key(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_key *k = rec;
    memset(k, 0, sizeof(*k));
    if (col_text(st, 0, k->kid, e) || col_text(st, 1, k->alg, e) || col_text(st, 2, k->state, e))
        return -1;
    const void *sealed = sqlite3_column_blob(st, 3);
    size_t n = (size_t)sqlite3_column_bytes(st, 3);
    if (n > sizeof(k->sealed_private))
        return err_set(e, ERR_INTERNAL, "stored sealed key of %s is longer than %zu bytes", k->kid,
                       sizeof(k->sealed_private));
    if (n > 0)
        memcpy(k->sealed_private, sealed, n);
    k->sealed_len = n;
    if (col_text(st, 4, k->public_jwk, e))
        return -1;
    k->created_at = sqlite3_column_int64(st, 5);
    return 0;
}

static int read_session(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_session *s = rec;
    memset(s, 0, sizeof(*s));
    if (col_text(st, 0, s->jti, e) || col_text(st, 1, s->org_id, e) ||
        col_text(st, 2, s->user_id, e) || col_text(st, 3, s->email, e) ||
        col_text(st, 4, s->user_type, e) || col_text(st, 5, s->atid, e))
        return -1;
    s->issued_at = sqlite3_column_int64(st, 6);
    s->expires_at = sqlite3_column_int64(st, 7);
    s->revoked_at = sqlite3_column_int64(st, 8);
    return 0;
}

static int read_console(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_console_session *cs = rec;
    memset(cs, 0, sizeof(*cs));
    if (col_text(st, 0, cs->id_hash, e) || col_text(st, 1, cs->org_id, e) ||
        col_text(st, 2, cs->user_id, e) || col_text(st, 3, cs->csrf_token, e))
        return -1;
    cs->created_at = sqlite3_column_int64(st, 4);
    cs->expires_at = sqlite3_column_int64(st, 5);
    return 0;
}

static int read_audit(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_audit *a = rec;
    memset(a, 0, sizeof(*a));
    if (col_text(st, 0, a->id, e) || col_text(st, 1, a->org_id, e))
        return -1;
    a->at = sqlite3_column_int64(st, 2);
    if (col_text(st, 3, a->actor, e) || col_text(st, 4, a->action, e) ||
        col_text(st, 5, a->target, e) || col_text(st, 6, a->client, e) ||
        col_text(st, 7, a->request_id, e) || col_text(st, 8, a->detail, e))
        return -1;
    return 0;
}

static int read_change(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_change *c = rec;
    memset(c, 0, sizeof(*c));
    c->seq = sqlite3_column_int64(st, 0);
    if (col_text(st, 1, c->kind, e) || col_text(st, 2, c->org_id, e) || col_text(st, 3, c->id, e))
        return -1;
    return 0;
}

static int read_int64(sqlite3_stmt *st, void *out, err_t *e)
{
    (void)e;
    *(int64_t *)out = sqlite3_column_int64(st, 0);
    return 0;
}

/* ---- binders: parameter order as in the *_COLS lists ---- */

static void bind_org(sqlite3_stmt *st, const void *rec)
{
    const store_org *o = rec;
    bind_field(st, 1, o->id);
    bind_field(st, 2, o->name);
    bind_field(st, 3, o->type);
    bind_int(st, 4, o->session_ttl);
    bind_int(st, 5, o->session_ttl_max);
    bind_int(st, 6, o->created_at);
}

/* The columns an update may change (created_at stays). */
static void bind_org_update(sqlite3_stmt *st, const void *rec)
{
    const store_org *o = rec;
    bind_field(st, 1, o->id);
    bind_field(st, 2, o->name);
    bind_field(st, 3, o->type);
    bind_int(st, 4, o->session_ttl);
    bind_int(st, 5, o->session_ttl_max);
}

static void bind_user(sqlite3_stmt *st, const void *rec)
{
    const store_user *u = rec;
    bind_field(st, 1, u->id);
    bind_field(st, 2, u->org_id);
    bind_field(st, 3, u->email);
    bind_field(st, 4, u->name);
    bind_field(st, 5, u->role);
    bind_field(st, 6, u->password_hash);
    bind_int(st, 7, u->created_at);
}

/* The columns an update may change (email and created_at stay). */
static void bind_user_update(sqlite3_stmt *st, const void *rec)
{
    const store_user *u = rec;
    bind_field(st, 1, u->org_id);
    bind_field(st, 2, u->id);
    bind_field(st, 3, u->name);
    bind_field(st, 4, u->role);
    bind_field(st, 5, u->password_hash);
}

static void bind_token(sqlite3_stmt *st, const void *rec)
{
    const store_token *t = rec;
    bind_field(st, 1, t->id);
    bind_field(st, 2, t->org_id);
    bind_field(st, 3, t->name);
    bind_field(st, 4, t->type);
    bind_field(st, 5, t->prefix);
    bind_field(st, 6, t->hash);
    bind_field(st, 7, t->created_by);
    bind_int(st, 8, t->created_at);
    bind_int(st, 9, t->expires_at);
    bind_int(st, 10, t->last_used_at);
    bind_int(st, 11, t->revoked_at);
    bind_int(st, 12, t->rate_rps);
    bind_int(st, 13, t->rate_burst);
}

/* The columns token_set_rate_limit changes. */
static void bind_token_rate(sqlite3_stmt *st, const void *rec)
{
    const store_token *t = rec;
    bind_field(st, 1, t->org_id);
    bind_field(st, 2, t->id);
    bind_int(st, 3, t->rate_rps);
    bind_int(st, 4, t->rate_burst);
}

static void bind_group(sqlite3_stmt *st, const void *rec)
{
    const store_group *g = rec;
    bind_field(st, 1, g->id);
    bind_field(st, 2, g->org_id);
    bind_field(st, 3, g->name);
    bind_int(st, 4, g->created_at);
}

static void bind_group_update(sqlite3_stmt *st, const void *rec)
{
    const store_group *g = rec;
    bind_field(st, 1, g->org_id);
    bind_field(st, 2, g->id);
    bind_field(st, 3, g->name);
}

static void bind_grant(sqlite3_stmt *st, const void *rec)
{
    const store_grant *g = rec;
    bind_field(st, 1, g->org_id);
    bind_field(st, 2, g->group_id);
    bind_field(st, 3, g->app_id);
    bind_field(st, 4, g->permission);
}

static void bind_member(sqlite3_stmt *st, const void *rec)
{
    const store_member *m = rec;
    bind_field(st, 1, m->org_id);
    bind_field(st, 2, m->group_id);
    bind_field(st, 3, m->user_id);
}

static void bind_app(sqlite3_stmt *st, const void *rec)
{
    const store_app *a = rec;
    bind_field(st, 1, a->id);
    bind_field(st, 2, a->org_id);
    bind_field(st, 3, a->name);
    bind_field(st, 4, a->mode);
    bind_field(st, 5, a->allowed_origins);
    bind_int(st, 6, a->created_at);
}

/* The columns an update may change (created_at stays). */
static void bind_app_update(sqlite3_stmt *st, const void *rec)
{
    const store_app *a = rec;
    bind_field(st, 1, a->org_id);
    bind_field(st, 2, a->id);
    bind_field(st, 3, a->name);
    bind_field(st, 4, a->mode);
    bind_field(st, 5, a->allowed_origins);
}

static void bind_key(sqlite3_stmt *st, const void *rec)
{
    const store_key *k = rec;
    assert(k->sealed_len <= sizeof(k->sealed_private));
    bind_field(st, 1, k->kid);
    bind_field(st, 2, k->alg);
    bind_field(st, 3, k->state);
    int rc = bind_blob(st, 4, k->sealed_private, k->sealed_len);
    assert(rc == SQLITE_OK);
    (void)rc;
    bind_field(st, 5, k->public_jwk);
    bind_int(st, 6, k->created_at);
}

/* ?1..?9: what update binds (its WHERE uses ?1 id and ?2 org_id). */
static void bind_idp_update(sqlite3_stmt *st, const void *rec)
{
    const store_idp *p = rec;
    bind_field(st, 1, p->id);
    bind_field(st, 2, p->org_id);
    bind_field(st, 3, p->name);
    bind_field(st, 4, p->issuer);
    bind_field(st, 5, p->jwks_uri);
    bind_field(st, 6, p->jwks);
    bind_field(st, 7, p->audience);
    bind_field(st, 8, p->email_claim);
    bind_field(st, 9, p->algorithms);
}

static void bind_idp(sqlite3_stmt *st, const void *rec)
{
    bind_idp_update(st, rec);
    bind_int(st, 10, ((const store_idp *)rec)->created_at);
}

/* ?1..?9, like bind_idp_update. */
static void bind_integration_update(sqlite3_stmt *st, const void *rec)
{
    const store_integration *g = rec;
    assert(g->client_secret_sealed_len <= sizeof(g->client_secret_sealed));
    bind_field(st, 1, g->id);
    bind_field(st, 2, g->org_id);
    bind_field(st, 3, g->name);
    bind_field(st, 4, g->base_url);
    bind_field(st, 5, g->token_url);
    bind_field(st, 6, g->client_id);
    int rc = bind_blob(st, 7, g->client_secret_sealed, g->client_secret_sealed_len);
    assert(rc == SQLITE_OK);
    (void)rc;
    bind_field(st, 8, g->audience);
    bind_field(st, 9, g->scope);
}

static void bind_integration(sqlite3_stmt *st, const void *rec)
{
    bind_integration_update(st, rec);
    bind_int(st, 10, ((const store_integration *)rec)->created_at);
}

static void bind_subject(sqlite3_stmt *st, const void *rec)
{
    const store_subject_token *t = rec;
    assert(t->sealed_len <= sizeof(t->sealed));
    bind_field(st, 1, t->jti);
    bind_field(st, 2, t->org_id);
    bind_field(st, 3, t->idp_id);
    bind_field(st, 4, t->token_type);
    int rc = bind_blob(st, 5, t->sealed, t->sealed_len);
    assert(rc == SQLITE_OK);
    (void)rc;
    bind_int(st, 6, t->expires_at);
}

static void bind_session(sqlite3_stmt *st, const void *rec)
{
    const store_session *s = rec;
    bind_field(st, 1, s->jti);
    bind_field(st, 2, s->org_id);
    bind_field(st, 3, s->user_id);
    bind_field(st, 4, s->email);
    bind_field(st, 5, s->user_type);
    bind_field(st, 6, s->atid);
    bind_int(st, 7, s->issued_at);
    bind_int(st, 8, s->expires_at);
    bind_int(st, 9, s->revoked_at);
}

static void bind_console(sqlite3_stmt *st, const void *rec)
{
    const store_console_session *cs = rec;
    bind_field(st, 1, cs->id_hash);
    bind_field(st, 2, cs->org_id);
    bind_field(st, 3, cs->user_id);
    bind_field(st, 4, cs->csrf_token);
    bind_int(st, 5, cs->created_at);
    bind_int(st, 6, cs->expires_at);
}

/* An org-owned row named by (org_id, id), plus a time for statements with ?3. */
typedef struct {
    const char *org_id;
    const char *id;
    int64_t at;
} row_ref;

static void bind_in_org(sqlite3_stmt *st, const void *rec)
{
    const row_ref *r = rec;
    bind_text(st, 1, r->org_id);
    bind_text(st, 2, r->id);
}

static void bind_in_org_at(sqlite3_stmt *st, const void *rec)
{
    const row_ref *r = rec;
    bind_in_org(st, rec);
    bind_int(st, 3, r->at);
}

/* One text key as ?1 (rec is the string itself). */
static void bind_key_text(sqlite3_stmt *st, const void *rec)
{
    bind_text(st, 1, rec);
}

static void bind_audit(sqlite3_stmt *st, const void *rec)
{
    const store_audit *a = rec;
    bind_field(st, 1, a->id);
    bind_field(st, 2, a->org_id);
    bind_int(st, 3, a->at);
    bind_field(st, 4, a->actor);
    bind_field(st, 5, a->action);
    bind_field(st, 6, a->target);
    bind_field(st, 7, a->client);
    bind_field(st, 8, a->request_id);
    bind_field(st, 9, a->detail);
}

/* ---- write transactions ---- */

/* A step of a write transaction; arg is the operation's input. */
typedef int (*write_body)(store_sqlite *ss, const void *arg, err_t *e);

typedef struct {
    const char *kind;         /* change-log kind; NULL = no change-log row */
    const char *org_id;       /* of the change row; "" for deployment-wide rows */
    const char *id;           /* of the change row */
    const store_audit *audit; /* written in the same transaction; may be NULL */
} write_meta;

static int run_simple(store_sqlite *ss, int q, err_t *e)
{
    if (stmt_get(ss, q, e) == NULL)
        return -1;
    return step_done(ss, q, e);
}

/* Rolls back the open transaction, if any (a failed COMMIT may leave it open). */
static void rollback(store_sqlite *ss)
{
    err_t ignored;
    if (!sqlite3_get_autocommit(ss->db) && run_simple(ss, Q_ROLLBACK, &ignored) != 0)
        sqlite3_exec(ss->db, "ROLLBACK", NULL, NULL, NULL);
}

static int audit_write(store_sqlite *ss, const void *arg, err_t *e)
{
    const store_audit *a = arg;
    if (a->id[0] == '\0')
        return err_set(e, ERR_INTERNAL, "audit event without an id");
    return exec_bound(ss, Q_AUDIT_INSERT, bind_audit, a, 0, e);
}

static void bind_change(sqlite3_stmt *st, const void *rec)
{
    const write_meta *m = rec;
    bind_text(st, 1, m->kind);
    bind_text(st, 2, m->org_id ? m->org_id : "");
    bind_text(st, 3, m->id);
    bind_int(st, 4, clock_now());
}

/* Runs body, then the change-log row and the audit row of m, in one
 * BEGIN IMMEDIATE transaction. On failure nothing of it is in the database. */
static int write_run(store_sqlite *ss, write_body body, const void *arg, const write_meta *m,
                     err_t *e)
{
    int ret = -1;
    if (run_simple(ss, Q_BEGIN, e) != 0)
        goto out;
    if (body(ss, arg, e) != 0)
        goto out;
    if (m->kind != NULL && exec_bound(ss, Q_CHANGE_APPEND, bind_change, m, 0, e) != 0)
        goto out;
    if (m->audit != NULL && audit_write(ss, m->audit, e) != 0)
        goto out;
    ret = run_simple(ss, Q_COMMIT, e);
out:
    if (ret != 0)
        rollback(ss);
    return ret;
}

/* One statement as the whole body of a write. */
typedef struct {
    int q;
    binder bind;
    const void *rec;
    int changes_required; /* no row changed = ERR_NOT_FOUND */
} one_stmt;

static int one_stmt_body(store_sqlite *ss, const void *arg, err_t *e)
{
    const one_stmt *o = arg;
    return exec_bound(ss, o->q, o->bind, o->rec, o->changes_required, e);
}

static int write_one(store_sqlite *ss, int q, binder bind, const void *rec, const write_meta *m,
                     err_t *e)
{
    one_stmt o = {q, bind, rec, 0};
    return write_run(ss, one_stmt_body, &o, m, e);
}

/* ---- operations ---- */

static int sq_org_insert(store *s, const store_org *o, const store_audit *audit, err_t *e)
{
    write_meta m = {"org", o->id, o->id, audit};
    return write_one(from(s), Q_ORG_INSERT, bind_org, o, &m, e);
}

static int sq_org_update(store *s, const store_org *o, const store_audit *audit, err_t *e)
{
    write_meta m = {"org", o->id, o->id, audit};
    one_stmt one = {Q_ORG_UPDATE, bind_org_update, o, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_org_get(store *s, const char *id, store_org *out, err_t *e)
{
    store_sqlite *ss = from(s);
    sqlite3_stmt *st = stmt_get(ss, Q_ORG_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, id);
    return fetch_one(ss, Q_ORG_GET, read_org, out, id, e);
}

static int sq_org_each(store *s, store_each_fn fn, void *ctx, err_t *e)
{
    store_sqlite *ss = from(s);
    store_org rec;
    if (stmt_get(ss, Q_ORG_EACH, e) == NULL)
        return -1;
    return fetch_each(ss, Q_ORG_EACH, read_org, &rec, fn, ctx, e);
}

/* The get operations of org-owned rows: WHERE org_id = ?1 AND <key> = ?2. A
 * row of another org is simply not found. */
static int get_in_org(store_sqlite *ss, int q, const char *org_id, const char *key, row_reader rd,
                      void *out, const char *shown_key, err_t *e)
{
    sqlite3_stmt *st = stmt_get(ss, q, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id);
    bind_text(st, 2, key);
    return fetch_one(ss, q, rd, out, shown_key, e);
}

static int sq_user_insert(store *s, const store_user *u, const store_audit *audit, err_t *e)
{
    write_meta m = {"user", u->org_id, u->id, audit};
    return write_one(from(s), Q_USER_INSERT, bind_user, u, &m, e);
}

static int sq_user_get(store *s, const char *org_id, const char *id, store_user *out, err_t *e)
{
    return get_in_org(from(s), Q_USER_GET, org_id, id, read_user, out, id, e);
}

/* The email is personal data: it stays out of the error detail. */
static int sq_user_find_email(store *s, const char *org_id, const char *email, store_user *out,
                              err_t *e)
{
    return get_in_org(from(s), Q_USER_FIND_EMAIL, org_id, email, read_user, out, NULL, e);
}

static int sq_user_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_user rec;
    return each_filtered(from(s), Q_USER_EACH_ORG, Q_USER_EACH_ALL, org_id, NULL, read_user, &rec,
                         fn, ctx, e);
}

static int user_update_body(store_sqlite *ss, const void *arg, err_t *e)
{
    if (exec_bound(ss, Q_USER_END_CONSOLE_SESSIONS, bind_user_update, arg, 0, e) != 0)
        return -1;
    return exec_bound(ss, Q_USER_UPDATE, bind_user_update, arg, 1, e);
}

static int sq_user_update(store *s, const store_user *u, const store_audit *audit, err_t *e)
{
    write_meta m = {"user", u->org_id, u->id, audit};
    return write_run(from(s), user_update_body, u, &m, e);
}

/* The "member" change rows first (they are read from the memberships the
 * delete is about to cascade away), then the delete, which decides
 * ERR_NOT_FOUND and so rolls the change rows back with it. */
static int user_delete_body(store_sqlite *ss, const void *arg, err_t *e)
{
    const row_ref *r = arg;
    if (exec_bound(ss, Q_USER_MEMBER_CHANGES, bind_in_org_at, r, 0, e) != 0)
        return -1;
    return exec_bound(ss, Q_USER_DELETE, bind_in_org, r, 1, e);
}

static int sq_user_delete(store *s, const char *org_id, const char *id, const store_audit *audit,
                          err_t *e)
{
    row_ref r = {org_id, id, clock_now()};
    write_meta m = {"user", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "user not found");
    return write_run(from(s), user_delete_body, &r, &m, e);
}

static int sq_user_count_role(store *s, const char *org_id, const char *role, int64_t *count,
                              err_t *e)
{
    store_sqlite *ss = from(s);
    if (org_id == NULL || role == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "user_count_role needs an org id and a role");
    sqlite3_stmt *st = stmt_get(ss, Q_USER_COUNT_ROLE, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id);
    bind_text(st, 2, role);
    return fetch_one(ss, Q_USER_COUNT_ROLE, read_int64, count, NULL, e);
}

static int sq_token_insert(store *s, const store_token *t, const store_audit *audit, err_t *e)
{
    write_meta m = {"token", t->org_id, t->id, audit};
    return write_one(from(s), Q_TOKEN_INSERT, bind_token, t, &m, e);
}

static int sq_token_get(store *s, const char *org_id, const char *id, store_token *out, err_t *e)
{
    return get_in_org(from(s), Q_TOKEN_GET, org_id, id, read_token, out, id, e);
}

static int sq_token_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_token rec;
    return each_filtered(from(s), Q_TOKEN_EACH_ORG, Q_TOKEN_EACH_ALL, org_id, NULL, read_token,
                         &rec, fn, ctx, e);
}

typedef struct {
    const char *org_id;
    const char *id;
    int64_t at;
} token_ref;

static void bind_revoke(sqlite3_stmt *st, const void *rec)
{
    const token_ref *r = rec;
    bind_text(st, 1, r->org_id);
    bind_text(st, 2, r->id);
    bind_int(st, 3, r->at);
}

static int sq_token_revoke(store *s, const char *org_id, const char *id, int64_t at,
                           const store_audit *audit, err_t *e)
{
    token_ref ref = {org_id, id, at};
    one_stmt o = {Q_TOKEN_REVOKE, bind_revoke, &ref, 1};
    write_meta m = {"token", org_id, id, audit};
    return write_run(from(s), one_stmt_body, &o, &m, e);
}

typedef struct {
    const char *const *ids;
    size_t n;
    int64_t at;
} touch_args;

static void bind_touch(sqlite3_stmt *st, const void *rec)
{
    const token_ref *r = rec;
    bind_text(st, 1, r->id);
    bind_int(st, 2, r->at);
}

static int touch_body(store_sqlite *ss, const void *arg, err_t *e)
{
    const touch_args *a = arg;
    for (size_t i = 0; i < a->n; i++) {
        token_ref ref = {NULL, a->ids[i], a->at};
        if (a->ids[i] != NULL && exec_bound(ss, Q_TOKEN_TOUCH, bind_touch, &ref, 0, e) != 0)
            return -1;
    }
    return 0;
}

static int sq_token_set_rate_limit(store *s, const store_token *t, const store_audit *audit,
                                   err_t *e)
{
    one_stmt o = {Q_TOKEN_SET_RATE, bind_token_rate, t, 1};
    write_meta m = {"token", t->org_id, t->id, audit};
    return write_run(from(s), one_stmt_body, &o, &m, e);
}

/* Unknown ids are skipped: the token may have been deleted meanwhile. */
static int sq_token_touch(store *s, const char *const *ids, size_t n, int64_t at, err_t *e)
{
    touch_args a = {ids, n, at};
    write_meta m = {NULL, NULL, NULL, NULL};
    if (n == 0)
        return 0;
    return write_run(from(s), touch_body, &a, &m, e);
}

static int sq_group_insert(store *s, const store_group *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"group", g->org_id, g->id, audit};
    return write_one(from(s), Q_GROUP_INSERT, bind_group, g, &m, e);
}

static int sq_group_get(store *s, const char *org_id, const char *id, store_group *out, err_t *e)
{
    return get_in_org(from(s), Q_GROUP_GET, org_id, id, read_group, out, id, e);
}

static int sq_group_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_group rec;
    return each_filtered(from(s), Q_GROUP_EACH_ORG, Q_GROUP_EACH_ALL, org_id, NULL, read_group,
                         &rec, fn, ctx, e);
}

static int sq_group_update(store *s, const store_group *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"group", g->org_id, g->id, audit};
    one_stmt one = {Q_GROUP_UPDATE, bind_group_update, g, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_group_delete(store *s, const char *org_id, const char *id, const store_audit *audit,
                           err_t *e)
{
    row_ref r = {org_id, id, 0};
    one_stmt one = {Q_GROUP_DELETE, bind_in_org, &r, 1};
    write_meta m = {"group", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "group not found");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_grant_insert(store *s, const store_grant *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"grant", g->org_id, g->group_id, audit};
    return write_one(from(s), Q_GRANT_INSERT, bind_grant, g, &m, e);
}

static int sq_grant_each(store *s, const char *org_id, const char *group_id, store_each_fn fn,
                         void *ctx, err_t *e)
{
    store_grant rec;
    return each_filtered(from(s), Q_GRANT_EACH_ORG, Q_GRANT_EACH_ALL, org_id, group_id, read_grant,
                         &rec, fn, ctx, e);
}

static int read_two_flags(sqlite3_stmt *st, void *out, err_t *e)
{
    int *flags = out;
    (void)e;
    flags[0] = sqlite3_column_int(st, 0);
    flags[1] = sqlite3_column_int(st, 1);
    return 0;
}

/* The grant itself may be absent (idempotent); its group and app may not. */
static int grant_delete_body(store_sqlite *ss, const void *arg, err_t *e)
{
    const store_grant *g = arg;
    int exists[2] = {0, 0};
    sqlite3_stmt *st = stmt_get(ss, Q_GRANT_REFS, e);
    if (st == NULL)
        return -1;
    bind_field(st, 1, g->org_id);
    bind_field(st, 2, g->group_id);
    bind_field(st, 3, g->app_id);
    if (fetch_one(ss, Q_GRANT_REFS, read_two_flags, exists, NULL, e) != 0)
        return -1;
    if (!exists[0])
        return err_set(e, ERR_NOT_FOUND, "group %s not found", g->group_id);
    if (!exists[1])
        return err_set(e, ERR_NOT_FOUND, "app %s not found", g->app_id);
    return exec_bound(ss, Q_GRANT_DELETE, bind_grant, g, 0, e);
}

static int sq_grant_delete(store *s, const store_grant *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"grant", g->org_id, g->group_id, audit};
    return write_run(from(s), grant_delete_body, g, &m, e);
}

static int sq_member_insert(store *s, const store_member *mb, const store_audit *audit, err_t *e)
{
    write_meta m = {"member", mb->org_id, mb->group_id, audit};
    return write_one(from(s), Q_MEMBER_INSERT, bind_member, mb, &m, e);
}

static int sq_member_each(store *s, const char *org_id, const char *group_id, store_each_fn fn,
                          void *ctx, err_t *e)
{
    store_member rec;
    return each_filtered(from(s), Q_MEMBER_EACH_ORG, Q_MEMBER_EACH_ALL, org_id, group_id,
                         read_member, &rec, fn, ctx, e);
}

static int sq_member_delete(store *s, const store_member *mb, const store_audit *audit, err_t *e)
{
    write_meta m = {"member", mb->org_id, mb->group_id, audit};
    one_stmt one = {Q_MEMBER_DELETE, bind_member, mb, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_app_insert(store *s, const store_app *a, const store_audit *audit, err_t *e)
{
    write_meta m = {"app", a->org_id, a->id, audit};
    return write_one(from(s), Q_APP_INSERT, bind_app, a, &m, e);
}

static int sq_app_get(store *s, const char *org_id, const char *id, store_app *out, err_t *e)
{
    return get_in_org(from(s), Q_APP_GET, org_id, id, read_app, out, id, e);
}

static int sq_app_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_app rec;
    return each_filtered(from(s), Q_APP_EACH_ORG, Q_APP_EACH_ALL, org_id, NULL, read_app, &rec, fn,
                         ctx, e);
}

static int sq_app_update(store *s, const store_app *a, const store_audit *audit, err_t *e)
{
    write_meta m = {"app", a->org_id, a->id, audit};
    one_stmt one = {Q_APP_UPDATE, bind_app_update, a, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

typedef struct {
    const store_app_version *v; /* ids, created_by, created_at: the caller's */
    const store_app_file *files;
    size_t nfiles;
    int64_t total_bytes;
    int64_t *version; /* out: the number this version got */
} version_args;

static int version_next(store_sqlite *ss, const char *app_id, int64_t *out, err_t *e)
{
    sqlite3_stmt *st = stmt_get(ss, Q_VERSION_NEXT, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, app_id);
    return fetch_one(ss, Q_VERSION_NEXT, read_int64, out, NULL, e);
}

static int version_row(store_sqlite *ss, const version_args *a, err_t *e)
{
    sqlite3_stmt *st = stmt_get(ss, Q_VERSION_INSERT, e);
    if (st == NULL)
        return -1;
    bind_field(st, 1, a->v->id);
    bind_field(st, 2, a->v->org_id);
    bind_field(st, 3, a->v->app_id);
    bind_int(st, 4, *a->version);
    bind_field(st, 5, a->v->created_by);
    bind_int(st, 6, a->v->created_at);
    bind_int(st, 7, (int64_t)a->nfiles);
    bind_int(st, 8, a->total_bytes);
    return step_done(ss, Q_VERSION_INSERT, e);
}

static int file_row(store_sqlite *ss, const char *version_id, const store_app_file *f, err_t *e)
{
    sqlite3_stmt *st = stmt_get(ss, Q_FILE_INSERT, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, version_id);
    bind_field(st, 2, f->path);
    bind_field(st, 3, f->content_type);
    int rc = bind_blob(st, 4, f->data, f->len);
    if (rc != SQLITE_OK) {
        stmt_release(st);
        return fail(Q_FILE_INSERT, rc, e);
    }
    return step_done(ss, Q_FILE_INSERT, e);
}

static int version_body(store_sqlite *ss, const void *arg, err_t *e)
{
    const version_args *a = arg;
    if (version_next(ss, a->v->app_id, a->version, e) != 0 || version_row(ss, a, e) != 0)
        return -1;
    for (size_t i = 0; i < a->nfiles; i++)
        if (file_row(ss, a->v->id, &a->files[i], e) != 0)
            return -1;
    return 0;
}

/* On success fills v->version, file_count and total_bytes; on failure v is
 * unchanged and no version number is used up. */
static int sq_app_version_insert(store *s, store_app_version *v, const store_app_file *files,
                                 size_t nfiles, const store_audit *audit, err_t *e)
{
    int64_t version = 0;
    int64_t total = 0;
    for (size_t i = 0; i < nfiles; i++)
        total += (int64_t)files[i].len;
    version_args a = {v, files, nfiles, total, &version};
    write_meta m = {"app_version", v->org_id, v->app_id, audit};
    if (write_run(from(s), version_body, &a, &m, e) != 0)
        return -1;
    v->version = version;
    v->file_count = (int64_t)nfiles;
    v->total_bytes = total;
    return 0;
}

static int sq_app_version_each(store *s, const char *org_id, const char *app_id, store_each_fn fn,
                               void *ctx, err_t *e)
{
    store_app_version rec;
    return each_filtered(from(s), Q_VERSION_EACH_ORG, Q_VERSION_EACH_ALL, org_id, app_id,
                         read_version, &rec, fn, ctx, e);
}

typedef struct {
    store_each_fn fn;
    void *ctx;
} file_call;

/* Hands the row to the caller's fn; f.data points into SQLite's row buffer,
 * valid until the statement is released right after fn returns. */
static int read_file_call(sqlite3_stmt *st, void *arg, err_t *e)
{
    static const unsigned char empty[1];
    const file_call *fc = arg;
    store_app_file f;
    memset(&f, 0, sizeof(f));
    if (col_text(st, 0, f.path, e) || col_text(st, 1, f.content_type, e))
        return -1;
    f.data = sqlite3_column_blob(st, 2);
    f.len = (size_t)sqlite3_column_bytes(st, 2);
    if (f.data == NULL)
        f.data = empty;
    fc->fn(fc->ctx, &f);
    return 0;
}

static int sq_app_file_get(store *s, const char *version_id, const char *path, store_each_fn fn,
                           void *ctx, err_t *e)
{
    store_sqlite *ss = from(s);
    file_call fc = {fn, ctx};
    sqlite3_stmt *st = stmt_get(ss, Q_FILE_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, version_id);
    bind_text(st, 2, path);
    return fetch_one(ss, Q_FILE_GET, read_file_call, &fc, NULL, e);
}

static int sq_key_insert(store *s, const store_key *k, const store_audit *audit, err_t *e)
{
    write_meta m = {"key", "", k->kid, audit};
    return write_one(from(s), Q_KEY_INSERT, bind_key, k, &m, e);
}

static int sq_key_get(store *s, const char *kid, store_key *out, err_t *e)
{
    store_sqlite *ss = from(s);
    sqlite3_stmt *st = stmt_get(ss, Q_KEY_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, kid);
    return fetch_one(ss, Q_KEY_GET, read_key, out, kid, e);
}

static int sq_key_each(store *s, store_each_fn fn, void *ctx, err_t *e)
{
    store_sqlite *ss = from(s);
    store_key rec;
    if (stmt_get(ss, Q_KEY_EACH, e) == NULL)
        return -1;
    return fetch_each(ss, Q_KEY_EACH, read_key, &rec, fn, ctx, e);
}

typedef struct {
    const char *kid;
    const char *state;
} key_state;

static void bind_key_state(sqlite3_stmt *st, const void *rec)
{
    const key_state *k = rec;
    bind_text(st, 1, k->kid);
    bind_text(st, 2, k->state);
}

static int sq_key_set_state(store *s, const char *kid, const char *state, const store_audit *audit,
                            err_t *e)
{
    key_state ks = {kid, state};
    one_stmt o = {Q_KEY_SET_STATE, bind_key_state, &ks, 1};
    write_meta m = {"key", "", kid, audit};
    if (state == NULL || strlen(state) >= sizeof(((store_key *)0)->state))
        return err_set(e, ERR_INVALID_REQUEST, "invalid signing key state");
    return write_run(from(s), one_stmt_body, &o, &m, e);
}

typedef struct {
    const store_session *sessions;
    size_t nsessions;
    const store_audit *audits;
    size_t naudits;
} batch_args;

static int batch_body(store_sqlite *ss, const void *arg, err_t *e)
{
    const batch_args *b = arg;
    for (size_t i = 0; i < b->nsessions; i++)
        if (exec_bound(ss, Q_SESSION_INSERT, bind_session, &b->sessions[i], 0, e) != 0)
            return -1;
    for (size_t i = 0; i < b->naudits; i++)
        if (audit_write(ss, &b->audits[i], e) != 0)
            return -1;
    return 0;
}

/* All or nothing: one bad row (a duplicate jti, an unknown org) fails the
 * whole batch, and the caller decides what to retry. */
static int sq_record_batch(store *s, const store_session *sessions, size_t nsessions,
                           const store_audit *audits, size_t naudits, err_t *e)
{
    batch_args b = {sessions, nsessions, audits, naudits};
    write_meta m = {NULL, NULL, NULL, NULL};
    if (nsessions == 0 && naudits == 0)
        return 0;
    return write_run(from(s), batch_body, &b, &m, e);
}

static int sq_session_get(store *s, const char *jti, store_session *out, err_t *e)
{
    store_sqlite *ss = from(s);
    sqlite3_stmt *st = stmt_get(ss, Q_SESSION_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, jti);
    return fetch_one(ss, Q_SESSION_GET, read_session, out, jti, e);
}

/* ---- revocation ---- */

/* row_ref carries (org_id, jti or email, time) for the statements below. */

/* The change row only when this call revoked it (not when it already was). */
static int revoke_one_body(store_sqlite *ss, const void *arg, err_t *e)
{
    const row_ref *r = arg;
    store_session cur;
    err_t miss;
    int was_live = sq_session_get(&ss->base, r->id, &cur, &miss) == 0 && cur.revoked_at == 0;
    if (exec_bound(ss, Q_SESSION_REVOKE, bind_in_org_at, r, 1, e) != 0)
        return -1;
    write_meta m = {"session", r->org_id, r->id, NULL};
    return was_live ? exec_bound(ss, Q_CHANGE_APPEND, bind_change, &m, 0, e) : 0;
}

static int sq_session_revoke(store *s, const char *org_id, const char *jti, int64_t at, const store_audit *audit,
                             err_t *e)
{
    row_ref r = {org_id, jti, at};
    write_meta m = {NULL, NULL, NULL, audit};
    if (org_id == NULL || jti == NULL)
        return err_set(e, ERR_NOT_FOUND, "session not found");
    return write_run(from(s), revoke_one_body, &r, &m, e);
}

typedef struct {
    row_ref r;
    int64_t count;
} revoke_email_args;

static int revoke_email_body(store_sqlite *ss, const void *arg, err_t *e)
{
    revoke_email_args *a = (revoke_email_args *)arg;
    if (exec_bound(ss, Q_SESSION_REVOKE_EMAIL_CHANGES, bind_in_org_at, &a->r, 0, e) != 0 ||
        exec_bound(ss, Q_SESSION_REVOKE_EMAIL, bind_in_org_at, &a->r, 0, e) != 0)
        return -1;
    a->count = sqlite3_changes(ss->db);
    return 0;
}

static int sq_session_revoke_email(store *s, const char *org_id, const char *email, int64_t at,
                                   const store_audit *audit, int64_t *count, err_t *e)
{
    revoke_email_args a = {{org_id, email, at}, 0};
    write_meta m = {NULL, NULL, NULL, audit};
    *count = 0;
    if (write_run(from(s), revoke_email_body, &a, &m, e) != 0)
        return -1;
    *count = a.count;
    return 0;
}

static int sq_session_each_email(store *s, const char *org_id, const char *email, int64_t now, store_each_fn fn,
                                 void *ctx, err_t *e)
{
    store_sqlite *ss = from(s);
    store_session rec;
    row_ref r = {org_id, email, now};
    sqlite3_stmt *st = stmt_get(ss, Q_SESSION_EACH_EMAIL, e);
    if (st == NULL)
        return -1;
    bind_in_org_at(st, &r);
    return fetch_each(ss, Q_SESSION_EACH_EMAIL, read_session, &rec, fn, ctx, e);
}

static int sq_session_revoked_each(store *s, int64_t now, store_each_fn fn, void *ctx, err_t *e)
{
    store_sqlite *ss = from(s);
    store_session rec;
    sqlite3_stmt *st = stmt_get(ss, Q_SESSION_REVOKED_EACH, e);
    if (st == NULL)
        return -1;
    bind_int(st, 1, now);
    return fetch_each(ss, Q_SESSION_REVOKED_EACH, read_session, &rec, fn, ctx, e);
}

/* ---- the session.expired sweep ---- */

#define SWEEP_NAME "session.expired"

typedef struct {
    int64_t up_to;
    int64_t count;
    int64_t done_until;
} sweep_args;

static void bind_sweep_window(sqlite3_stmt *st, const void *rec)
{
    const int64_t *w = rec;
    bind_int(st, 1, w[0]);
    bind_int(st, 2, w[1]);
}

static void bind_sweep_set(sqlite3_stmt *st, const void *rec)
{
    bind_text(st, 1, SWEEP_NAME);
    bind_int(st, 2, *(const int64_t *)rec);
}

/* The audit event of one expired session; its id is derived from the jti. */
static void expired_event(const store_session *s, store_audit *a)
{
    buf_t detail;
    memset(a, 0, sizeof(*a));
    uuid_from_name(SWEEP_NAME, s->jti, a->id);
    snprintf(a->org_id, sizeof(a->org_id), "%s", s->org_id);
    a->at = s->expires_at;
    snprintf(a->actor, sizeof(a->actor), "system");
    snprintf(a->action, sizeof(a->action), "session.expired");
    snprintf(a->target, sizeof(a->target), "%s", s->jti);
    buf_init(&detail, sizeof(a->detail) - 1);
    buf_puts(&detail, "{\"email\":");
    buf_json_string(&detail, s->email, strlen(s->email));
    buf_printf(&detail, ",\"user_id\":\"%s\",\"user_type\":\"%s\"}", s->user_id, s->user_type);
    snprintf(a->detail, sizeof(a->detail), "%s", buf_str(&detail));
    buf_free(&detail);
}

static int sweep_body(store_sqlite *ss, const void *arg, err_t *e)
{
    sweep_args *a = (sweep_args *)arg;
    int64_t window[2] = {a->up_to - STORE_SWEEP_FIRST, 0};
    sqlite3_stmt *st = stmt_get(ss, Q_SWEEP_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, SWEEP_NAME);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        window[0] = sqlite3_column_int64(st, 0);
    stmt_release(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(Q_SWEEP_GET, rc, e);
    window[1] = a->up_to < window[0] + STORE_SWEEP_MAX ? a->up_to : window[0] + STORE_SWEEP_MAX;
    a->done_until = window[0];
    if (window[1] <= window[0])
        return 0;
    if ((st = stmt_get(ss, Q_SWEEP_EXPIRED, e)) == NULL)
        return -1;
    bind_sweep_window(st, window);
    store_session s;
    err_t why;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_audit ev;
        if (read_session(st, &s, &why) != 0)
            continue;
        expired_event(&s, &ev);
        if (exec_bound(ss, Q_SWEEP_AUDIT, bind_audit, &ev, 0, e) != 0) {
            stmt_release(st);
            return -1;
        }
        a->count += sqlite3_changes(ss->db);
    }
    stmt_release(st);
    if (rc != SQLITE_DONE)
        return fail(Q_SWEEP_EXPIRED, rc, e);
    a->done_until = window[1];
    return exec_bound(ss, Q_SWEEP_SET, bind_sweep_set, &window[1], 0, e);
}

static int sq_session_expiry_sweep(store *s, int64_t up_to, int64_t *count, int64_t *done_until, err_t *e)
{
    sweep_args a = {up_to, 0, 0};
    write_meta m = {NULL, NULL, NULL, NULL};
    *count = 0;
    if (write_run(from(s), sweep_body, &a, &m, e) != 0)
        return -1;
    *count = a.count;
    *done_until = a.done_until;
    return 0;
}

static void bind_now(sqlite3_stmt *st, const void *rec)
{
    (void)rec;
    bind_int(st, 1, clock_now());
}

/* rec is an int64_t time, bound as ?1. */
static void bind_now_arg(sqlite3_stmt *st, const void *rec)
{
    bind_int(st, 1, *(const int64_t *)rec);
}

/* Housekeeping first (every expired row, of any org), then the new row. */
static int console_insert_body(store_sqlite *ss, const void *arg, err_t *e)
{
    if (exec_bound(ss, Q_CONSOLE_PURGE, bind_now, NULL, 0, e) != 0)
        return -1;
    return exec_bound(ss, Q_CONSOLE_INSERT, bind_console, arg, 0, e);
}

/* No change-log row. Details never contain the id hash or the CSRF token. */
static int sq_console_session_insert(store *s, const store_console_session *cs,
                                     const store_audit *audit, err_t *e)
{
    write_meta m = {NULL, NULL, NULL, audit};
    if (cs->id_hash[0] == '\0')
        return err_set(e, ERR_INVALID_REQUEST, "console session without an id hash");
    return write_run(from(s), console_insert_body, cs, &m, e);
}

static int sq_console_session_get(store *s, const char *id_hash, store_console_session *out,
                                  err_t *e)
{
    store_sqlite *ss = from(s);
    sqlite3_stmt *st = stmt_get(ss, Q_CONSOLE_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, id_hash);
    bind_int(st, 2, clock_now());
    return fetch_one(ss, Q_CONSOLE_GET, read_console, out, NULL, e);
}

/* Idempotent: an unknown (or already expired and purged) session is gone already. */
static int sq_console_session_delete(store *s, const char *id_hash, const store_audit *audit,
                                     err_t *e)
{
    one_stmt one = {Q_CONSOLE_DELETE, bind_key_text, id_hash, 0};
    write_meta m = {NULL, NULL, NULL, audit};
    if (id_hash == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "console_session_delete needs an id hash");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_audit_insert(store *s, const store_audit *a, err_t *e)
{
    write_meta m = {NULL, NULL, NULL, NULL};
    return write_run(from(s), audit_write, a, &m, e);
}

/* org_id is required and matched exactly: "" lists the deployment-wide events. */
static int sq_audit_each(store *s, const char *org_id, int64_t since, store_each_fn fn, void *ctx,
                         err_t *e)
{
    store_sqlite *ss = from(s);
    store_audit rec;
    if (org_id == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "audit_each needs an org id");
    sqlite3_stmt *st = stmt_get(ss, Q_AUDIT_EACH, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id);
    bind_int(st, 2, since);
    return fetch_each(ss, Q_AUDIT_EACH, read_audit, &rec, fn, ctx, e);
}

static int sq_change_latest(store *s, int64_t *seq, err_t *e)
{
    store_sqlite *ss = from(s);
    if (stmt_get(ss, Q_CHANGE_LATEST, e) == NULL)
        return -1;
    return fetch_one(ss, Q_CHANGE_LATEST, read_int64, seq, NULL, e);
}

static int sq_changes_since(store *s, int64_t after, store_each_fn fn, void *ctx, err_t *e)
{
    store_sqlite *ss = from(s);
    store_change rec;
    sqlite3_stmt *st = stmt_get(ss, Q_CHANGES_SINCE, e);
    if (st == NULL)
        return -1;
    bind_int(st, 1, after);
    return fetch_each(ss, Q_CHANGES_SINCE, read_change, &rec, fn, ctx, e);
}

/* ---- token exchange: identity providers, integrations, subject tokens ---- */

static int sq_idp_insert(store *s, const store_idp *p, const store_audit *audit, err_t *e)
{
    write_meta m = {"idp", p->org_id, p->id, audit};
    return write_one(from(s), Q_IDP_INSERT, bind_idp, p, &m, e);
}

static int sq_idp_get(store *s, const char *org_id, const char *id, store_idp *out, err_t *e)
{
    return get_in_org(from(s), Q_IDP_GET, org_id, id, read_idp, out, id, e);
}

/* The record is large (an inline JWKS): one scratch copy on the heap. */
static int sq_idp_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_idp *rec = xmalloc(sizeof(*rec));
    int rc = each_filtered(from(s), Q_IDP_EACH_ORG, Q_IDP_EACH_ALL, org_id, NULL, read_idp, rec, fn, ctx,
                           e);
    free(rec);
    return rc;
}

static int sq_idp_update(store *s, const store_idp *p, const store_audit *audit, err_t *e)
{
    write_meta m = {"idp", p->org_id, p->id, audit};
    one_stmt one = {Q_IDP_UPDATE, bind_idp_update, p, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_idp_delete(store *s, const char *org_id, const char *id, const store_audit *audit, err_t *e)
{
    row_ref r = {org_id, id, 0};
    one_stmt one = {Q_IDP_DELETE, bind_in_org, &r, 1};
    write_meta m = {"idp", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "identity provider not found");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_integration_insert(store *s, const store_integration *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"integration", g->org_id, g->id, audit};
    return write_one(from(s), Q_INTEGRATION_INSERT, bind_integration, g, &m, e);
}

static int sq_integration_get(store *s, const char *org_id, const char *id, store_integration *out,
                              err_t *e)
{
    return get_in_org(from(s), Q_INTEGRATION_GET, org_id, id, read_integration, out, id, e);
}

static int sq_integration_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_integration rec;
    return each_filtered(from(s), Q_INTEGRATION_EACH_ORG, Q_INTEGRATION_EACH_ALL, org_id, NULL,
                         read_integration, &rec, fn, ctx, e);
}

static int sq_integration_update(store *s, const store_integration *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"integration", g->org_id, g->id, audit};
    one_stmt one = {Q_INTEGRATION_UPDATE, bind_integration_update, g, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_integration_delete(store *s, const char *org_id, const char *id, const store_audit *audit,
                                 err_t *e)
{
    row_ref r = {org_id, id, 0};
    one_stmt one = {Q_INTEGRATION_DELETE, bind_in_org, &r, 1};
    write_meta m = {"integration", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "integration not found");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_subject_token_put(store *s, const store_subject_token *t, err_t *e)
{
    write_meta m = {NULL, NULL, NULL, NULL};
    if (t->jti[0] == '\0')
        return err_set(e, ERR_INVALID_REQUEST, "subject token without a jti");
    return write_one(from(s), Q_SUBJECT_INSERT, bind_subject, t, &m, e);
}

static int sq_subject_token_get(store *s, const char *org_id, const char *jti, int64_t now,
                                store_subject_token *out, err_t *e)
{
    store_sqlite *ss = from(s);
    sqlite3_stmt *st = stmt_get(ss, Q_SUBJECT_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id);
    bind_text(st, 2, jti);
    bind_int(st, 3, now);
    return fetch_one(ss, Q_SUBJECT_GET, read_subject, out, NULL, e);
}

static int subject_purge_body(store_sqlite *ss, const void *arg, err_t *e)
{
    const int64_t *now = arg;
    return exec_bound(ss, Q_SUBJECT_PURGE, bind_now_arg, now, 0, e);
}

static int sq_subject_token_purge(store *s, int64_t now, int64_t *deleted, err_t *e)
{
    store_sqlite *ss = from(s);
    write_meta m = {NULL, NULL, NULL, NULL};
    *deleted = 0;
    if (write_run(ss, subject_purge_body, &now, &m, e) != 0)
        return -1;
    *deleted = sqlite3_changes(ss->db);
    return 0;
}

/* ---- webhooks ---- */

static int read_webhook(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_webhook *w = rec;
    memset(w, 0, sizeof(*w));
    if (col_text(st, 0, w->id, e) || col_text(st, 1, w->org_id, e) || col_text(st, 2, w->url, e) ||
        col_blob(st, 3, w->secret_sealed, &w->secret_sealed_len, e) || col_text(st, 4, w->events, e))
        return -1;
    w->enabled = sqlite3_column_int64(st, 5) != 0;
    w->cursor = sqlite3_column_int64(st, 6);
    w->failures = sqlite3_column_int64(st, 7);
    w->next_attempt_at = sqlite3_column_int64(st, 8);
    if (col_text(st, 9, w->last_error, e))
        return -1;
    w->created_at = sqlite3_column_int64(st, 10);
    return 0;
}

static int read_delivery(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_webhook_delivery *d = rec;
    memset(d, 0, sizeof(*d));
    if (col_text(st, 0, d->id, e) || col_text(st, 1, d->org_id, e) || col_text(st, 2, d->webhook_id, e) ||
        col_text(st, 3, d->event_id, e) || col_text(st, 4, d->event_type, e))
        return -1;
    d->attempt = sqlite3_column_int64(st, 5);
    d->status_code = sqlite3_column_int64(st, 6);
    if (col_text(st, 7, d->error, e))
        return -1;
    d->duration_ms = sqlite3_column_int64(st, 8);
    d->at = sqlite3_column_int64(st, 9);
    return 0;
}

/* AUDIT_COLS, then the rowid. */
static int read_audit_entry(sqlite3_stmt *st, void *rec, err_t *e)
{
    store_audit_entry *a = rec;
    if (read_audit(st, &a->audit, e) != 0)
        return -1;
    a->seq = sqlite3_column_int64(st, 9);
    return 0;
}

/* ?1..?6 as in WEBHOOK_COLS (id, org_id, url, secret, events, enabled). */
static void bind_webhook_update(sqlite3_stmt *st, const void *rec)
{
    const store_webhook *w = rec;
    assert(w->secret_sealed_len <= sizeof(w->secret_sealed));
    bind_field(st, 1, w->id);
    bind_field(st, 2, w->org_id);
    bind_field(st, 3, w->url);
    int rc = bind_blob(st, 4, w->secret_sealed, w->secret_sealed_len);
    assert(rc == SQLITE_OK);
    (void)rc;
    bind_field(st, 5, w->events);
    bind_int(st, 6, w->enabled ? 1 : 0);
}

static void bind_webhook(sqlite3_stmt *st, const void *rec)
{
    bind_webhook_update(st, rec);
    bind_int(st, 7, ((const store_webhook *)rec)->created_at);
}

static void bind_delivery(sqlite3_stmt *st, const void *rec)
{
    const store_webhook_delivery *d = rec;
    bind_field(st, 1, d->id);
    bind_field(st, 2, d->org_id);
    bind_field(st, 3, d->webhook_id);
    bind_field(st, 4, d->event_id);
    bind_field(st, 5, d->event_type);
    bind_int(st, 6, d->attempt);
    bind_int(st, 7, d->status_code);
    bind_field(st, 8, d->error);
    bind_int(st, 9, d->duration_ms);
    bind_int(st, 10, d->at);
}

static void bind_delivery_prune(sqlite3_stmt *st, const void *rec)
{
    bind_field(st, 1, ((const store_webhook_delivery *)rec)->webhook_id);
    bind_int(st, 2, STORE_WEBHOOK_DELIVERIES_KEPT);
}

typedef struct {
    const store_webhook *w;
    int64_t expected;
    const store_webhook_delivery *d;
    int applied;
} progress_args;

static void bind_progress(sqlite3_stmt *st, const void *rec)
{
    const progress_args *p = rec;
    bind_field(st, 1, p->w->org_id);
    bind_field(st, 2, p->w->id);
    bind_int(st, 3, p->expected);
    bind_int(st, 4, p->w->cursor);
    bind_int(st, 5, p->w->failures);
    bind_int(st, 6, p->w->next_attempt_at);
    bind_field(st, 7, p->w->last_error);
}

/* The delivery row, then the log pruned to the newest STORE_WEBHOOK_DELIVERIES_KEPT. */
static int delivery_write(store_sqlite *ss, const void *arg, err_t *e)
{
    return exec_bound(ss, Q_DELIVERY_INSERT, bind_delivery, arg, 0, e) != 0 ||
                   exec_bound(ss, Q_DELIVERY_PRUNE, bind_delivery_prune, arg, 0, e) != 0
               ? -1
               : 0;
}

static int progress_body(store_sqlite *ss, const void *arg, err_t *e)
{
    progress_args *p = (progress_args *)arg;
    if (p->d != NULL && delivery_write(ss, p->d, e) != 0)
        return -1;
    if (exec_bound(ss, Q_WEBHOOK_PROGRESS, bind_progress, p, 0, e) != 0)
        return -1;
    p->applied = sqlite3_changes(ss->db) > 0;
    return 0;
}

static int sq_webhook_insert(store *s, const store_webhook *w, const store_audit *audit, err_t *e)
{
    write_meta m = {"webhook", w->org_id, w->id, audit};
    return write_one(from(s), Q_WEBHOOK_INSERT, bind_webhook, w, &m, e);
}

static int sq_webhook_get(store *s, const char *org_id, const char *id, store_webhook *out, err_t *e)
{
    return get_in_org(from(s), Q_WEBHOOK_GET, org_id, id, read_webhook, out, id, e);
}

static int sq_webhook_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_webhook rec;
    return each_filtered(from(s), Q_WEBHOOK_EACH_ORG, Q_WEBHOOK_EACH_ALL, org_id, NULL, read_webhook, &rec, fn,
                         ctx, e);
}

static int sq_webhook_due(store *s, int64_t now, store_each_fn fn, void *ctx, err_t *e)
{
    store_sqlite *ss = from(s);
    store_webhook rec;
    sqlite3_stmt *st = stmt_get(ss, Q_WEBHOOK_DUE, e);
    if (st == NULL)
        return -1;
    bind_int(st, 1, now);
    return fetch_each(ss, Q_WEBHOOK_DUE, read_webhook, &rec, fn, ctx, e);
}

static int sq_webhook_update(store *s, const store_webhook *w, const store_audit *audit, err_t *e)
{
    write_meta m = {"webhook", w->org_id, w->id, audit};
    one_stmt one = {Q_WEBHOOK_UPDATE, bind_webhook_update, w, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_webhook_delete(store *s, const char *org_id, const char *id, const store_audit *audit, err_t *e)
{
    row_ref r = {org_id, id, 0};
    one_stmt one = {Q_WEBHOOK_DELETE, bind_in_org, &r, 1};
    write_meta m = {"webhook", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "webhook not found");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int sq_webhook_progress(store *s, const store_webhook *w, int64_t expected_cursor,
                               const store_webhook_delivery *d, int *applied, err_t *e)
{
    progress_args p = {w, expected_cursor, d, 0};
    write_meta m = {NULL, NULL, NULL, NULL};
    *applied = 0;
    if (write_run(from(s), progress_body, &p, &m, e) != 0)
        return -1;
    *applied = p.applied;
    return 0;
}

static int sq_webhook_delivery_insert(store *s, const store_webhook_delivery *d, err_t *e)
{
    write_meta m = {NULL, NULL, NULL, NULL};
    if (d->id[0] == '\0')
        return err_set(e, ERR_INVALID_REQUEST, "webhook delivery without an id");
    return write_run(from(s), delivery_write, d, &m, e);
}

static int sq_webhook_delivery_each(store *s, const char *org_id, const char *webhook_id, size_t limit,
                                    store_each_fn fn, void *ctx, err_t *e)
{
    store_sqlite *ss = from(s);
    store_webhook_delivery rec;
    sqlite3_stmt *st = stmt_get(ss, Q_DELIVERY_EACH, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id ? org_id : "");
    bind_text(st, 2, webhook_id ? webhook_id : "");
    bind_int(st, 3, (int64_t)limit);
    return fetch_each(ss, Q_DELIVERY_EACH, read_delivery, &rec, fn, ctx, e);
}

/* The record is large (an audit event): one scratch copy on the heap. */
static int sq_audit_after(store *s, const char *org_id, int64_t after, size_t limit, store_each_fn fn, void *ctx,
                          err_t *e)
{
    store_sqlite *ss = from(s);
    if (org_id == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "audit_after needs an org id");
    sqlite3_stmt *st = stmt_get(ss, Q_AUDIT_AFTER, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id);
    bind_int(st, 2, after);
    bind_int(st, 3, (int64_t)limit);
    store_audit_entry *rec = xmalloc(sizeof(*rec));
    int rc = fetch_each(ss, Q_AUDIT_AFTER, read_audit_entry, rec, fn, ctx, e);
    free(rec);
    return rc;
}

/* ---- migrations ---- */

typedef struct {
    int64_t version;
    const asset *a;
} migration;

static int migration_cmp(const void *x, const void *y)
{
    const migration *a = x, *b = y;
    return (a->version > b->version) - (a->version < b->version);
}

/* Fills list (room for asset_count) with the compiled-in SQLite migrations,
 * sorted by version, the number taken from "NNN_" in the file name. */
static int migrations_collect(migration *list, size_t *n, err_t *e)
{
    size_t plen = strlen(MIGRATION_PREFIX);
    *n = 0;
    for (size_t i = 0; i < asset_count; i++) {
        const char *path = asset_table[i].path;
        if (strncmp(path, MIGRATION_PREFIX, plen) != 0)
            continue;
        char *end;
        errno = 0;
        long long v = strtoll(path + plen, &end, 10);
        if (errno != 0 || end == path + plen || *end != '_' || v <= 0)
            return err_set(e, ERR_INTERNAL, "migration %s has no NNN_ version prefix", path);
        list[*n].version = v;
        list[*n].a = &asset_table[i];
        (*n)++;
    }
    if (*n == 0)
        return err_set(e, ERR_INTERNAL, "no SQLite migrations are compiled in");
    qsort(list, *n, sizeof(*list), migration_cmp);
    for (size_t i = 1; i < *n; i++)
        if (list[i].version == list[i - 1].version)
            return err_set(e, ERR_INTERNAL, "two migrations have version %lld",
                           (long long)list[i].version);
    return 0;
}

static void bind_version_now(sqlite3_stmt *st, const void *rec)
{
    bind_int(st, 1, *(const int64_t *)rec);
    bind_int(st, 2, clock_now());
}

static int migration_applied(store_sqlite *ss, int64_t version, int *applied, err_t *e)
{
    sqlite3_stmt *st = stmt_get(ss, Q_MIG_APPLIED, e);
    if (st == NULL)
        return -1;
    bind_int(st, 1, version);
    int rc = sqlite3_step(st);
    stmt_release(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(Q_MIG_APPLIED, rc, e);
    *applied = rc == SQLITE_ROW;
    return 0;
}

/* The body of one migration's transaction: skips it when another process (or
 * an earlier run) applied it, else runs its SQL and records it. */
static int migration_body(store_sqlite *ss, const void *arg, err_t *e)
{
    const migration *m = arg;
    int applied = 0;
    char *msg = NULL;
    int ret = -1;
    if (sqlite3_exec(ss->db,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        err_set(e, ERR_INTERNAL, "cannot create schema_migrations");
        goto out;
    }
    if (migration_applied(ss, m->version, &applied, e) != 0)
        goto out;
    if (applied) {
        ret = 0;
        goto out;
    }
    int rc = sqlite3_exec(ss->db, (const char *)m->a->data, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        /* Our own SQL, not a secret: the log gets SQLite's message. */
        log_msg(LOG_ERROR, "migration failed", "file", m->a->path, "sqlite", msg ? msg : "", NULL);
        err_set(e, ERR_INTERNAL, "migration %s failed: %s", m->a->path, sqlite3_errstr(rc));
        goto out;
    }
    ret = exec_bound(ss, Q_MIG_RECORD, bind_version_now, &m->version, 0, e);
out:
    sqlite3_free(msg);
    return ret;
}

/* Refuses a database that a newer tessera has migrated past what we know. */
static int migrations_check_newest(store_sqlite *ss, int64_t known, err_t *e)
{
    int64_t newest = 0;
    if (stmt_get(ss, Q_MIG_MAX, e) == NULL ||
        fetch_one(ss, Q_MIG_MAX, read_int64, &newest, NULL, e) != 0)
        return -1;
    if (newest > known)
        return err_set(e, ERR_INTERNAL,
                       "database schema version %lld is newer than this tessera knows (%lld)",
                       (long long)newest, (long long)known);
    return 0;
}

/* Applies the missing migrations in version order, each in its own
 * BEGIN IMMEDIATE transaction, so two processes migrating at once serialize
 * and the second finds the work done. Idempotent. */
static int sq_migrate(store *s, err_t *e)
{
    store_sqlite *ss = from(s);
    migration *list = xcalloc(asset_count, sizeof(*list)); /* owned; freed below */
    write_meta none = {NULL, NULL, NULL, NULL};
    size_t n = 0;
    int ret = -1;
    if (migrations_collect(list, &n, e) != 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (write_run(ss, migration_body, &list[i], &none, e) != 0)
            goto out;
    ret = migrations_check_newest(ss, list[n - 1].version, e);
out:
    free(list);
    return ret;
}

/* ---- open / close ---- */

static void sq_close(store *s)
{
    store_sqlite *ss = from(s);
    if (ss == NULL)
        return;
    for (int q = 0; q < Q_COUNT; q++)
        sqlite3_finalize(ss->stmt[q]);
    sqlite3_close(ss->db);
    free(ss);
}

/* Runs a PRAGMA that returns one row and copies its text into out[cap]. */
static int pragma_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int ret = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL)
        goto out;
    ret = str_copy(out, cap, (const char *)sqlite3_column_text(st, 0));
out:
    sqlite3_finalize(st);
    return ret;
}

/* WAL so readers never block the writer; synchronous=FULL so every COMMIT
 * fsyncs the WAL; foreign keys on, because org isolation relies on them. */
static int configure(sqlite3 *db, const char *path, err_t *e)
{
    char mode[16] = "";
    char fk[4] = "";
    int in_memory = strcmp(path, ":memory:") == 0;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    if (pragma_text(db, "PRAGMA journal_mode=WAL", mode, sizeof(mode)) != 0 ||
        strcmp(mode, in_memory ? "memory" : "wal") != 0)
        return err_set(e, ERR_UNAVAILABLE, "cannot switch SQLite database %s to WAL mode", path);
    if (sqlite3_exec(db, "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL", NULL, NULL, NULL) !=
            SQLITE_OK ||
        pragma_text(db, "PRAGMA foreign_keys", fk, sizeof(fk)) != 0 || strcmp(fk, "1") != 0)
        return err_set(e, ERR_INTERNAL, "cannot enable foreign keys on %s", path);
    return 0;
}

static const store_ops sqlite_ops = {
    .close = sq_close,
    .migrate = sq_migrate,
    .org_insert = sq_org_insert,
    .org_update = sq_org_update,
    .org_get = sq_org_get,
    .org_each = sq_org_each,
    .user_insert = sq_user_insert,
    .user_get = sq_user_get,
    .user_find_email = sq_user_find_email,
    .user_each = sq_user_each,
    .user_update = sq_user_update,
    .user_delete = sq_user_delete,
    .user_count_role = sq_user_count_role,
    .token_insert = sq_token_insert,
    .token_get = sq_token_get,
    .token_each = sq_token_each,
    .token_revoke = sq_token_revoke,
    .token_touch = sq_token_touch,
    .token_set_rate_limit = sq_token_set_rate_limit,
    .group_insert = sq_group_insert,
    .group_get = sq_group_get,
    .group_each = sq_group_each,
    .group_update = sq_group_update,
    .group_delete = sq_group_delete,
    .grant_insert = sq_grant_insert,
    .grant_each = sq_grant_each,
    .grant_delete = sq_grant_delete,
    .member_insert = sq_member_insert,
    .member_each = sq_member_each,
    .member_delete = sq_member_delete,
    .app_insert = sq_app_insert,
    .app_get = sq_app_get,
    .app_each = sq_app_each,
    .app_update = sq_app_update,
    .app_version_insert = sq_app_version_insert,
    .app_version_each = sq_app_version_each,
    .app_file_get = sq_app_file_get,
    .key_insert = sq_key_insert,
    .key_get = sq_key_get,
    .key_each = sq_key_each,
    .key_set_state = sq_key_set_state,
    .record_batch = sq_record_batch,
    .session_get = sq_session_get,
    .session_revoke = sq_session_revoke,
    .session_revoke_email = sq_session_revoke_email,
    .session_each_email = sq_session_each_email,
    .session_revoked_each = sq_session_revoked_each,
    .session_expiry_sweep = sq_session_expiry_sweep,
    .console_session_insert = sq_console_session_insert,
    .console_session_get = sq_console_session_get,
    .console_session_delete = sq_console_session_delete,
    .idp_insert = sq_idp_insert,
    .idp_get = sq_idp_get,
    .idp_each = sq_idp_each,
    .idp_update = sq_idp_update,
    .idp_delete = sq_idp_delete,
    .integration_insert = sq_integration_insert,
    .integration_get = sq_integration_get,
    .integration_each = sq_integration_each,
    .integration_update = sq_integration_update,
    .integration_delete = sq_integration_delete,
    .subject_token_put = sq_subject_token_put,
    .subject_token_get = sq_subject_token_get,
    .subject_token_purge = sq_subject_token_purge,
    .audit_insert = sq_audit_insert,
    .audit_each = sq_audit_each,
    .change_latest = sq_change_latest,
    .changes_since = sq_changes_since,
    .webhook_insert = sq_webhook_insert,
    .webhook_get = sq_webhook_get,
    .webhook_each = sq_webhook_each,
    .webhook_due = sq_webhook_due,
    .webhook_update = sq_webhook_update,
    .webhook_delete = sq_webhook_delete,
    .webhook_progress = sq_webhook_progress,
    .webhook_delivery_insert = sq_webhook_delivery_insert,
    .webhook_delivery_each = sq_webhook_delivery_each,
    .audit_after = sq_audit_after,
};

store *store_sqlite_open(const char *path, err_t *e)
{
    sqlite3 *db = NULL; /* owned until handed to ss */
    store_sqlite *ss = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        err_set(e, ERR_UNAVAILABLE, "cannot open SQLite database %s: %s", path, sqlite3_errstr(rc));
        goto out;
    }
    if (configure(db, path, e) != 0)
        goto out;
    ss = xcalloc(1, sizeof(*ss));
    ss->base.ops = &sqlite_ops;
    ss->db = db;
    db = NULL;
out:
    sqlite3_close(db);
    return ss ? &ss->base : NULL;
}
