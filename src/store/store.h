/* store.h - the storage interface: a struct of function pointers chosen once
 * at open time. Backends: SQLite (default) and PostgreSQL (several nodes on
 * one database), both implemented once in store_sql.c over a driver (sql.h).
 *
 * Conventions for every operation:
 * - returns 0 on success, -1 on failure with *e set: ERR_NOT_FOUND when the
 *   row does not exist (or belongs to another org), ERR_CONFLICT on a
 *   uniqueness violation, ERR_INVALID_REQUEST when a referenced row is
 *   missing, ERR_UNAVAILABLE when the database is busy or unreachable,
 *   ERR_INTERNAL otherwise. The detail never contains a secret or SQL text.
 * - records are plain structs with fixed-size fields; the caller owns them.
 *   Ids (including audit event ids) are made by the caller (uuid_v4); an
 *   empty id is refused.
 * - every mutation appends one row to the change log (kind, org_id, id) in
 *   the same transaction, so other processes on the same database see it via
 *   changes_since(), and writes `audit` (when non-NULL) in that transaction.
 *   Exceptions are noted at the operation (user_delete appends several rows;
 *   sessions, console sessions, token_touch and audit_insert append none). A
 *   failed operation writes neither its change rows nor its audit event.
 * - an operation naming an org-owned row by (org_id, id) treats a row of
 *   another org as absent: ERR_NOT_FOUND, and nothing is changed.
 * - *_each() calls fn for every matching row in a stable order (creation
 *   order); fn returns 0 to continue, nonzero to stop early (then *_each
 *   returns 0). A filter field that is NULL or "" matches everything.
 * - a store handle is used by one thread at a time; open one per thread. */
#ifndef TESSERA_STORE_STORE_H
#define TESSERA_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define STORE_ID_MAX 37      /* UUID text + NUL */
#define STORE_NAME_MAX 201   /* names: up to 200 bytes UTF-8 */
#define STORE_EMAIL_MAX 255  /* up to 254 bytes */
#define STORE_ORIGINS_MAX 4096
#define STORE_SEALED_MAX 1024
#define STORE_JWK_MAX 1024
#define STORE_DETAIL_MAX 1024
#define STORE_URL_MAX 1024
#define STORE_JWKS_MAX 16384         /* an inline JWKS, JSON text */
#define STORE_SUBJECT_TOKEN_MAX 8192 /* longest subject token kept */
#define STORE_SWEEP_FIRST 3600       /* seconds the first expiry sweep looks back */
#define STORE_SWEEP_MAX 60           /* seconds one expiry sweep covers at most */

typedef struct {
    char id[STORE_ID_MAX];
    char name[STORE_NAME_MAX];
    char type[33];                 /* org_type claim, e.g. "standard" */
    int64_t session_ttl;           /* default session lifetime, seconds */
    int64_t session_ttl_max;       /* maximum a request may ask for, seconds */
    int64_t created_at;
} store_org;

typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char email[STORE_EMAIL_MAX];   /* normalised lower-case */
    char name[STORE_NAME_MAX];
    char role[16];                 /* owner | admin | developer | end-user */
    char password_hash[128];       /* argon2id PHC string, "" = no password */
    int64_t created_at;
} store_user;

typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char name[STORE_NAME_MAX];
    char type[8];                  /* embed | admin */
    char prefix[24];               /* first characters of the value, for lists */
    char hash[65];                 /* hex SHA-256 of the value; the value is never stored */
    char created_by[STORE_EMAIL_MAX];
    int64_t created_at;
    int64_t expires_at;
    int64_t last_used_at;          /* 0 = never */
    int64_t revoked_at;            /* 0 = not revoked */
    /* Token endpoint limit: rate_rps STORE_RATE_DEFAULT (0) = the default,
     * STORE_RATE_OFF = none, > 0 = requests/s with a burst of rate_burst. */
    int64_t rate_rps;
    int64_t rate_burst;
} store_token;

#define STORE_RATE_DEFAULT 0
#define STORE_RATE_OFF (-1)

typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char name[STORE_NAME_MAX];
    int64_t created_at;
} store_group;

typedef struct {
    char org_id[STORE_ID_MAX];
    char group_id[STORE_ID_MAX];
    char app_id[STORE_ID_MAX];
    char permission[32];           /* apps:view | apps:update | ... */
} store_grant;

typedef struct {
    char org_id[STORE_ID_MAX];
    char group_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
} store_member;

typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char name[STORE_NAME_MAX];
    char mode[8];                  /* public | private | sso */
    char allowed_origins[STORE_ORIGINS_MAX]; /* newline-separated origins */
    int64_t created_at;
} store_app;

typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char app_id[STORE_ID_MAX];
    int64_t version;               /* 1, 2, ... per app */
    char created_by[STORE_EMAIL_MAX];
    int64_t created_at;
    int64_t file_count;
    int64_t total_bytes;
} store_app_version;

typedef struct {
    char path[512];                /* relative, '/'-separated, no "..", no leading '/' */
    char content_type[128];
    const unsigned char *data;     /* borrowed on insert; on read valid only inside fn */
    size_t len;
} store_app_file;

typedef struct {
    char kid[64];
    char alg[8];                   /* ES256 | EdDSA */
    char state[10];                /* active | retiring | retired */
    unsigned char sealed_private[STORE_SEALED_MAX]; /* AES-GCM box of the private JWK */
    size_t sealed_len;
    char public_jwk[STORE_JWK_MAX];/* public JWK JSON */
    int64_t created_at;
} store_key;

typedef struct {
    char jti[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char email[STORE_EMAIL_MAX];
    char user_type[12];            /* external | superblocks */
    char atid[STORE_ID_MAX];       /* access token it was minted with */
    int64_t issued_at;
    int64_t expires_at;
    int64_t revoked_at;            /* 0 = live */
} store_session;

typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];     /* "" for deployment-wide events */
    int64_t at;                    /* seconds */
    char actor[STORE_EMAIL_MAX];   /* email, "token:<id>", "cli" or "system" */
    char action[48];               /* e.g. session.issued, token.created */
    char target[128];              /* id of what was acted on */
    char client[64];               /* client address, "" for the CLI */
    char request_id[40];
    char detail[STORE_DETAIL_MAX]; /* JSON object text; never a secret */
} store_audit;

/* A web console sign-in. Deployment-internal: no change-log rows. */
typedef struct {
    char id_hash[65];              /* hex SHA-256 of the cookie value; the value is never stored */
    char org_id[STORE_ID_MAX];
    char user_id[STORE_ID_MAX];
    char csrf_token[65];           /* sent to the console in the sign-in reply */
    int64_t created_at;
    int64_t expires_at;            /* seconds; expired when expires_at <= now */
} store_console_session;

/* A trusted identity provider of an org (token exchange). */
typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char name[STORE_NAME_MAX];
    char issuer[STORE_URL_MAX];    /* exact "iss"; unique per org */
    char jwks_uri[STORE_URL_MAX];  /* "" when jwks is inline */
    char jwks[STORE_JWKS_MAX];     /* inline JWKS JSON, "" when jwks_uri is set */
    char audience[512];            /* "" = no audience check */
    char email_claim[64];          /* claim holding the email, e.g. "email" */
    char algorithms[64];           /* comma-separated, e.g. "RS256,PS256,ES256" */
    int64_t created_at;
} store_idp;

/* A host API called on a user's behalf after an RFC 8693 exchange. */
typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char name[STORE_NAME_MAX];     /* unique per org */
    char base_url[STORE_URL_MAX];
    char token_url[STORE_URL_MAX];
    char client_id[256];
    unsigned char client_secret_sealed[STORE_SEALED_MAX]; /* AES-GCM box, aad = id */
    size_t client_secret_sealed_len;
    char audience[512];
    char scope[512];
    int64_t created_at;
} store_integration;

/* The subject token a session was issued for, sealed (aad = jti). */
typedef struct {
    char jti[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char idp_id[STORE_ID_MAX];
    char token_type[64];           /* its RFC 8693 subject_token_type URN */
    unsigned char sealed[STORE_SUBJECT_TOKEN_MAX + 64];
    size_t sealed_len;
    int64_t expires_at;
} store_subject_token;

typedef struct {
    int64_t seq;                   /* strictly increasing */
    char kind[16];                 /* org user token group grant member app app_version key idp integration */
    char org_id[STORE_ID_MAX];
    char id[64];                   /* id of the changed row (group id for grant/member, kid for key) */
} store_change;

/* A webhook of an org (006): where its session lifecycle events are POSTed
 * (domain/webhooks.h). cursor is the audit-log position (store_audit_entry.seq)
 * of the last event dealt with; the deliverer moves it, the admin does not. */
typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char url[STORE_URL_MAX];
    unsigned char secret_sealed[128]; /* AES-GCM box of the signing secret, aad = id */
    size_t secret_sealed_len;
    char events[128];              /* comma-separated event types, e.g. "session.created,session.revoked" */
    int enabled;
    int64_t cursor;
    int64_t failures;              /* consecutive failed attempts at the next event */
    int64_t next_attempt_at;       /* seconds; no attempt before (0 = any time) */
    char last_error[256];          /* of the last failed attempt, "" after a success */
    int64_t created_at;
} store_webhook;

#define STORE_WEBHOOK_DELIVERIES_KEPT 1000 /* per webhook; older ones are pruned */

/* One attempt to deliver an event to a webhook. */
typedef struct {
    char id[STORE_ID_MAX];
    char org_id[STORE_ID_MAX];
    char webhook_id[STORE_ID_MAX];
    char event_id[STORE_ID_MAX];   /* the audit event's id (the payload's "id") */
    char event_type[32];           /* e.g. session.created, webhook.ping */
    int64_t attempt;               /* 1, 2, ... for this event */
    int64_t status_code;           /* HTTP status, 0 = no response */
    char error[256];               /* "" when delivered */
    int64_t duration_ms;
    int64_t at;                    /* seconds */
} store_webhook_delivery;

/* An audit event with its position in the audit log: positions grow in
 * commit order (SQLite: the rowid; one writer at a time). */
typedef struct {
    int64_t seq;
    store_audit audit;
} store_audit_entry;

/* A row of any table, for export and import (tessera export / import). */
typedef enum { STORE_VALUE_NULL, STORE_VALUE_INT, STORE_VALUE_TEXT, STORE_VALUE_BLOB } store_value_kind;

typedef struct {
    store_value_kind kind;
    int64_t i;     /* INT */
    const char *s; /* TEXT (not NUL-terminated) or BLOB bytes; borrowed */
    size_t len;
} store_value;

typedef struct {
    const char *table;
    size_t ncols;
    const char *const *columns;
    const store_value *values;
} store_row;

typedef struct store store;
typedef int (*store_each_fn)(void *ctx, const void *rec);
/* Export: called for each row (valid only during the call); nonzero stops. */
typedef int (*store_row_fn)(void *ctx, const store_row *row);
/* Import: fills *row with the next row (valid until the next call): 1, or 0
 * at the end, or -1 with *e set. */
typedef int (*store_row_next_fn)(void *ctx, store_row *row, err_t *e);

typedef struct {
    void (*close)(store *s);
    int (*migrate)(store *s, err_t *e);

    int (*org_insert)(store *s, const store_org *o, const store_audit *audit, err_t *e);
    /* Replaces name, type, session_ttl and session_ttl_max (not created_at). */
    int (*org_update)(store *s, const store_org *o, const store_audit *audit, err_t *e);
    int (*org_get)(store *s, const char *id, store_org *out, err_t *e);
    int (*org_each)(store *s, store_each_fn fn, void *ctx, err_t *e);

    int (*user_insert)(store *s, const store_user *u, const store_audit *audit, err_t *e);
    int (*user_get)(store *s, const char *org_id, const char *id, store_user *out, err_t *e);
    int (*user_find_email)(store *s, const char *org_id, const char *email, store_user *out, err_t *e);
    int (*user_each)(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e);
    /* Replaces name, role and password_hash of the user (u->org_id, u->id);
     * email and created_at stay. A changed password_hash deletes the user's
     * console sessions in the same transaction. Change ("user", id).
     * ERR_NOT_FOUND if absent. */
    int (*user_update)(store *s, const store_user *u, const store_audit *audit, err_t *e);
    /* Deletes the user with their group memberships and console sessions.
     * Changes: ("user", id) and one ("member", group id) per group the user
     * was in, so caches drop the membership (their order is the backend's).
     * ERR_NOT_FOUND if absent. */
    int (*user_delete)(store *s, const char *org_id, const char *id, const store_audit *audit,
                       err_t *e);
    /* Number of users of org_id (required; NULL is ERR_INVALID_REQUEST) with
     * this role, e.g. to refuse removing or demoting the last owner. A read:
     * the caller's check and its later write are two transactions. */
    int (*user_count_role)(store *s, const char *org_id, const char *role, int64_t *count,
                           err_t *e);

    int (*token_insert)(store *s, const store_token *t, const store_audit *audit, err_t *e);
    int (*token_get)(store *s, const char *org_id, const char *id, store_token *out, err_t *e);
    int (*token_each)(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e);
    int (*token_revoke)(store *s, const char *org_id, const char *id, int64_t at,
                        const store_audit *audit, err_t *e);
    /* Sets last_used_at for many tokens in one transaction (no change-log row). */
    int (*token_touch)(store *s, const char *const *ids, size_t n, int64_t at, err_t *e);
    /* Sets rate_rps and rate_burst of the token (t->org_id, t->id); the
     * other fields of t are ignored. Change ("token", id). ERR_NOT_FOUND if
     * absent. */
    int (*token_set_rate_limit)(store *s, const store_token *t, const store_audit *audit, err_t *e);

    int (*group_insert)(store *s, const store_group *g, const store_audit *audit, err_t *e);
    int (*group_get)(store *s, const char *org_id, const char *id, store_group *out, err_t *e);
    int (*group_each)(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e);
    /* Renames the group (g->org_id, g->id); created_at stays. Change ("group",
     * id). ERR_NOT_FOUND if absent. */
    int (*group_update)(store *s, const store_group *g, const store_audit *audit, err_t *e);
    /* Deletes the group with its grants and memberships. Change ("group", id).
     * ERR_NOT_FOUND if absent. */
    int (*group_delete)(store *s, const char *org_id, const char *id, const store_audit *audit,
                        err_t *e);
    /* Idempotent: granting an existing grant succeeds without a second row. */
    int (*grant_insert)(store *s, const store_grant *g, const store_audit *audit, err_t *e);
    int (*grant_each)(store *s, const char *org_id, const char *group_id, store_each_fn fn,
                      void *ctx, err_t *e);
    /* Removes the grant (group, app, permission). Idempotent: succeeds when the
     * grant is absent, still writing the change row ("grant", group id) and
     * the audit event; but the group and the app must exist in g->org_id,
     * else ERR_NOT_FOUND (and nothing is written). */
    int (*grant_delete)(store *s, const store_grant *g, const store_audit *audit, err_t *e);
    /* Idempotent like grant_insert. */
    int (*member_insert)(store *s, const store_member *m, const store_audit *audit, err_t *e);
    int (*member_each)(store *s, const char *org_id, const char *group_id, store_each_fn fn,
                       void *ctx, err_t *e);
    /* Removes one membership. Change ("member", group id). ERR_NOT_FOUND when
     * it was not there. */
    int (*member_delete)(store *s, const store_member *m, const store_audit *audit, err_t *e);

    int (*app_insert)(store *s, const store_app *a, const store_audit *audit, err_t *e);
    int (*app_get)(store *s, const char *org_id, const char *id, store_app *out, err_t *e);
    int (*app_each)(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e);
    /* Replaces name, mode and allowed_origins of the app (a->org_id, a->id);
     * created_at stays. Change ("app", id). ERR_NOT_FOUND if absent. */
    int (*app_update)(store *s, const store_app *a, const store_audit *audit, err_t *e);
    /* Stores a bundle as the next version: fills v->version and v->id is the
     * caller's. All files in one transaction. */
    int (*app_version_insert)(store *s, store_app_version *v, const store_app_file *files,
                              size_t nfiles, const store_audit *audit, err_t *e);
    int (*app_version_each)(store *s, const char *org_id, const char *app_id, store_each_fn fn,
                            void *ctx, err_t *e);
    /* Reads one file of a version into fn (rec is a const store_app_file *). */
    int (*app_file_get)(store *s, const char *version_id, const char *path, store_each_fn fn,
                        void *ctx, err_t *e);

    /* One key is active at a time (a unique index says so): inserting an
     * active key makes the active one "retiring" in the same transaction
     * (still published, no longer signing). Two inserts racing (two nodes
     * starting on an empty database, two rotations) cannot both win: the
     * loser gets ERR_CONFLICT. Change ("key", kid). */
    int (*key_insert)(store *s, const store_key *k, const store_audit *audit, err_t *e);
    int (*key_get)(store *s, const char *kid, store_key *out, err_t *e);
    int (*key_each)(store *s, store_each_fn fn, void *ctx, err_t *e);
    /* ERR_CONFLICT when it would make a second key active. */
    int (*key_set_state)(store *s, const char *kid, const char *state, const store_audit *audit,
                         err_t *e);

    /* Group commit: all sessions and audit events in one durable transaction
     * (fsync'd before return). Sessions append no change-log rows. */
    int (*record_batch)(store *s, const store_session *sessions, size_t nsessions,
                        const store_audit *audits, size_t naudits, err_t *e);
    int (*session_get)(store *s, const char *jti, store_session *out, err_t *e);
    /* Revokes the live session jti of org_id (revoked_at = at); an already
     * revoked one stays as it was (success, no change row). Change
     * ("session", org_id, jti). ERR_NOT_FOUND when absent, of another org,
     * or expired (expires_at <= at). */
    int (*session_revoke)(store *s, const char *org_id, const char *jti, int64_t at,
                          const store_audit *audit, err_t *e);
    /* Revokes every live session of org_id for email (normalised); *count
     * gets how many (0 is a success). One change row ("session", org_id,
     * jti) per revoked session. */
    int (*session_revoke_email)(store *s, const char *org_id, const char *email, int64_t at,
                                const store_audit *audit, int64_t *count, err_t *e);
    /* Sessions of org_id for email not expired at now, newest first (revoked ones too). */
    int (*session_each_email)(store *s, const char *org_id, const char *email, int64_t now,
                              store_each_fn fn, void *ctx, err_t *e);
    /* Revoked sessions (any org) not expired at now: what every node keeps in memory. */
    int (*session_revoked_each)(store *s, int64_t now, store_each_fn fn, void *ctx, err_t *e);
    /* Audits the sessions that expired: one "session.expired" event (actor
     * "system", target the jti, at its expiry, id derived from the jti so a
     * window swept twice writes nothing twice) for every unrevoked session
     * with expires_at in (done, until], where done is where the last sweep
     * stopped (the first starts at up_to - STORE_SWEEP_FIRST) and until is
     * up_to, at most STORE_SWEEP_MAX later than done. Records until in
     * *done_until (call again while it is below up_to); *count gets the
     * number of events written. No change-log rows. */
    int (*session_expiry_sweep)(store *s, int64_t up_to, int64_t *count, int64_t *done_until, err_t *e);

    /* Console sessions (web console sign-in). No change-log rows; the audit
     * event, when given, is written in the same transaction. A session belongs
     * to a user of its org (ERR_INVALID_REQUEST otherwise) and ends with it.
     * Insert also deletes the expired rows; ERR_CONFLICT on a duplicate hash;
     * an empty id_hash is ERR_INVALID_REQUEST. */
    int (*console_session_insert)(store *s, const store_console_session *cs,
                                  const store_audit *audit, err_t *e);
    /* ERR_NOT_FOUND when absent or expired (expires_at <= now). */
    int (*console_session_get)(store *s, const char *id_hash, store_console_session *out,
                               err_t *e);
    /* Idempotent: succeeds (and writes the audit event) when absent. */
    int (*console_session_delete)(store *s, const char *id_hash, const store_audit *audit,
                                  err_t *e);

    /* Identity providers. Insert: ERR_CONFLICT when the org already trusts
     * the issuer. Update replaces every field but id, org_id and created_at
     * (ERR_CONFLICT likewise). Delete also deletes the subject tokens kept
     * for it. Change ("idp", id). */
    int (*idp_insert)(store *s, const store_idp *p, const store_audit *audit, err_t *e);
    int (*idp_get)(store *s, const char *org_id, const char *id, store_idp *out, err_t *e);
    int (*idp_each)(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e);
    int (*idp_update)(store *s, const store_idp *p, const store_audit *audit, err_t *e);
    int (*idp_delete)(store *s, const char *org_id, const char *id, const store_audit *audit,
                      err_t *e);

    /* Integrations: like identity providers; the name is unique per org.
     * Change ("integration", id). */
    int (*integration_insert)(store *s, const store_integration *g, const store_audit *audit,
                              err_t *e);
    int (*integration_get)(store *s, const char *org_id, const char *id, store_integration *out,
                           err_t *e);
    int (*integration_each)(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e);
    int (*integration_update)(store *s, const store_integration *g, const store_audit *audit,
                              err_t *e);
    int (*integration_delete)(store *s, const char *org_id, const char *id,
                              const store_audit *audit, err_t *e);

    /* Subject tokens: no change-log rows (only the session's node-independent
     * proxy reads them by jti). Put: ERR_CONFLICT on a duplicate jti,
     * ERR_INVALID_REQUEST when the provider is not one of the org's. Get:
     * ERR_NOT_FOUND when absent or expired (expires_at <= now). Purge deletes
     * the expired ones and those whose session or access token is revoked;
     * *deleted gets the count. */
    int (*subject_token_put)(store *s, const store_subject_token *t, err_t *e);
    int (*subject_token_get)(store *s, const char *org_id, const char *jti, int64_t now,
                             store_subject_token *out, err_t *e);
    int (*subject_token_purge)(store *s, int64_t now, int64_t *deleted, err_t *e);

    int (*audit_insert)(store *s, const store_audit *a, err_t *e);
    /* Events of org_id (required) with at >= since, oldest first. */
    int (*audit_each)(store *s, const char *org_id, int64_t since, store_each_fn fn, void *ctx,
                      err_t *e);

    /* Highest change sequence so far (0 when none). */
    int (*change_latest)(store *s, int64_t *seq, err_t *e);
    /* Changes with seq > after, in seq order (rec is a const store_change *). */
    int (*changes_since)(store *s, int64_t after, store_each_fn fn, void *ctx, err_t *e);

    /* Webhooks (006). Change ("webhook", id) on insert, update and delete.
     * Insert ignores w->cursor, failures, next_attempt_at and last_error: the
     * cursor starts at the end of the audit log (a new webhook gets the events
     * committed after it). Update replaces url, events, enabled and the sealed
     * secret, clears the backoff (failures, next_attempt_at, last_error), and
     * moves the cursor to the end of the audit log when it enables a disabled
     * webhook (events of the disabled time are not delivered). Delete takes
     * the delivery log with it. */
    int (*webhook_insert)(store *s, const store_webhook *w, const store_audit *audit, err_t *e);
    int (*webhook_get)(store *s, const char *org_id, const char *id, store_webhook *out, err_t *e);
    int (*webhook_each)(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e);
    /* Every org's enabled webhooks with next_attempt_at <= now that have an
     * audit event of their org after their cursor: the deliverer's work. */
    int (*webhook_due)(store *s, int64_t now, store_each_fn fn, void *ctx, err_t *e);
    int (*webhook_update)(store *s, const store_webhook *w, const store_audit *audit, err_t *e);
    int (*webhook_delete)(store *s, const char *org_id, const char *id, const store_audit *audit,
                          err_t *e);
    /* The deliverer's progress, in one transaction without change row or
     * audit event: logs d (when not NULL; pruned to the newest
     * STORE_WEBHOOK_DELIVERIES_KEPT of the webhook), then sets cursor,
     * failures, next_attempt_at and last_error of (w->org_id, w->id) if its
     * cursor is still expected_cursor. *applied = 0 when it was not (an admin
     * or another node moved it meanwhile: nothing but d is written).
     * ERR_INVALID_REQUEST when d names a webhook that is gone. */
    int (*webhook_progress)(store *s, const store_webhook *w, int64_t expected_cursor,
                            const store_webhook_delivery *d, int *applied, err_t *e);
    /* Logs d alone (a test ping), pruned like webhook_progress. */
    int (*webhook_delivery_insert)(store *s, const store_webhook_delivery *d, err_t *e);
    /* The newest `limit` deliveries of (org_id, webhook_id), newest first. */
    int (*webhook_delivery_each)(store *s, const char *org_id, const char *webhook_id, size_t limit,
                                 store_each_fn fn, void *ctx, err_t *e);
    /* At most `limit` audit events of org_id (required) after position
     * `after`, in commit order (rec is a const store_audit_entry *). */
    int (*audit_after)(store *s, const char *org_id, int64_t after, size_t limit, store_each_fn fn,
                       void *ctx, err_t *e);

    /* Several nodes on one database. */
    /* Waits up to timeout_ms for a change another handle commits: 1 when one
     * was signalled (then read changes_since), 0 after the timeout. A backend
     * that cannot signal (SQLite) waits out the timeout and returns 0: its
     * readers poll. -1 with *e when the database is unreachable. */
    int (*wait_change)(store *s, int timeout_ms, err_t *e);
    /* Takes the named lease for this handle, or confirms it still holds it:
     * *held = 1 when this handle holds it (until the handle is closed or its
     * connection is lost), 0 when another handle does. Used so that one node
     * at a time does a job (e.g. delivering a shard of the webhooks) and
     * another takes over when that node dies. SQLite: always held. */
    int (*lease)(store *s, const char *name, int *held, err_t *e);

    /* Moving an installation (tessera export / import). */
    /* The newest migration applied (0 on an empty database). */
    int (*schema_version)(store *s, int64_t *version, err_t *e);
    /* Every row of every table but schema_migrations, from one consistent
     * snapshot: tables in an order where a row's references come before it,
     * rows in creation order; audit_events carry their position as the
     * column "seq". Tables and columns are the same in every backend. */
    int (*export_rows)(store *s, store_row_fn fn, void *ctx, err_t *e);
    /* Inserts what export_rows produced into this store, which must be
     * migrated to the same schema and empty (ERR_CONFLICT otherwise), in one
     * transaction: all rows or none. Positions (audit seq, change_log seq)
     * are kept. An unknown table or column, or a value of the wrong kind, is
     * ERR_INVALID_REQUEST. *rows gets the number inserted. */
    int (*import_rows)(store *s, store_row_next_fn next, void *ctx, int64_t *rows, err_t *e);
} store_ops;

struct store {
    const store_ops *ops;
};

/* Opens the store named by url: "sqlite:PATH" (or a bare path) or
 * "postgres://..." / "postgresql://...". Returns NULL with *e set. Does not
 * migrate; call migrate() (idempotent) before use. Close with s->ops->close. */
store *store_open(const char *url, err_t *e);

/* Backend constructors, used by store_open. */
store *store_sqlite_open(const char *path, err_t *e);
/* url: a libpq connection URL ("postgres://user:password@host:port/db?...").
 * Connects (ERR_UNAVAILABLE when it cannot; the detail never contains the
 * URL) and refuses a server older than PostgreSQL 15. */
store *store_pg_open(const char *url, err_t *e);

#endif
