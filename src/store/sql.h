/* sql.h - inside src/store/: what store_sql.c, the one implementation of
 * store.h's operations, needs from a database driver (sql_driver), and the
 * query table each dialect supplies (one sql_query per Q_* below).
 *
 * A dialect's statements take the same parameters in the same order and
 * return the same columns in the same order in every dialect: the binders and
 * row readers of store_sql.c are shared. Parameters are numbered from 1
 * (SQLite ?N, PostgreSQL $N). A statement with sql == NULL is a no-op in that
 * dialect (e.g. an explicit lock SQLite does not need). */
#ifndef TESSERA_STORE_SQL_H
#define TESSERA_STORE_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_MIG_LOCK,
    Q_MIG_TABLE,
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
    Q_USER_LOCK,
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
    Q_VERSION_LOCK,
    Q_VERSION_NEXT,
    Q_VERSION_INSERT,
    Q_VERSION_EACH_ORG,
    Q_VERSION_EACH_ALL,
    Q_FILE_INSERT,
    Q_FILE_GET,
    Q_KEY_DEMOTE,
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
    Q_LEASE,
    Q_SNAPSHOT_BEGIN,
    Q_IMPORT_FINISH,
    Q_COUNT
};

typedef struct {
    const char *name;     /* the operation, for error details */
    const char *sql;      /* NULL: nothing to run in this dialect */
    const char *entity;   /* "<entity> not found" / "<entity> already exists" */
    const char *conflict; /* overrides "<entity> already exists" */
    const char *missing;  /* detail of a foreign-key violation */
} sql_query;

/* Why a statement failed, in the store's terms. */
typedef enum {
    SQL_E_OTHER = 0,
    SQL_E_UNIQUE,      /* unique or primary key violation */
    SQL_E_FOREIGN_KEY, /* a referenced row is missing */
    SQL_E_NOT_NULL,
    SQL_E_TOO_BIG,     /* a value over the database's limit */
    SQL_E_BUSY,        /* locked for longer than the driver waits, deadlock, serialization */
    SQL_E_UNREACHABLE, /* cannot open or connect; the connection was lost */
    SQL_E_SCHEMA,      /* the statement cannot be prepared (not migrated?) */
} sql_error;

enum { SQL_FAILED = -1, SQL_DONE = 0, SQL_ROW = 1 };

typedef struct sql_db sql_db;     /* a driver connection, opaque */
typedef struct sql_stmt sql_stmt; /* a driver statement, opaque, owned by its sql_db */

/* A driver. Statements are prepared once per connection (stmt) and reused;
 * bind values are borrowed until reset, which also drops them. A statement
 * that has been stepped and not reset is busy. Column values returned by
 * col_text and col_blob stay valid until the next step or reset. */
typedef struct {
    const char *dialect;      /* migrations are the assets under migrations/<dialect>/ */
    const sql_query *queries; /* Q_COUNT entries */
    /* Dialect facts for the statements export/import builds (sql_dump.c). */
    char param_mark;            /* '?' (?1, ?2...) or '$' ($1, $2...) */
    const char *creation_order; /* the column that orders a table's rows by creation */
    const char *audit_position; /* the column holding store_audit_entry.seq */

    /* The prepared statement of query q; NULL when it cannot be prepared. */
    sql_stmt *(*stmt)(sql_db *db, int q);
    int (*busy)(sql_stmt *st);
    /* s == NULL binds SQL NULL; s need not be NUL-terminated at len. */
    void (*bind_text)(sql_stmt *st, int i, const char *s, size_t len);
    void (*bind_int)(sql_stmt *st, int i, int64_t v);
    /* len 0 binds an empty value, never NULL. Fails (-1) only when too big. */
    int (*bind_blob)(sql_stmt *st, int i, const void *data, size_t len);
    /* SQL_ROW, SQL_DONE or SQL_FAILED (then last_error says why). */
    int (*step)(sql_stmt *st);
    /* NULL for SQL NULL; *len gets the length. */
    const char *(*col_text)(sql_stmt *st, int i, size_t *len);
    int64_t (*col_int)(sql_stmt *st, int i);
    /* Never NULL for a row with a value; *len gets the length. */
    const unsigned char *(*col_blob)(sql_stmt *st, int i, size_t *len);
    const char *(*col_name)(sql_stmt *st, int i);
    void (*reset)(sql_stmt *st);
    /* An ad-hoc statement (export/import), NULL when it does not prepare;
     * freed by finalize. */
    sql_stmt *(*prepare)(sql_db *db, const char *sql);
    void (*finalize)(sql_stmt *st);
    /* Rows changed by the statement most recently stepped to SQL_DONE; a
     * no-op statement (sql == NULL) leaves it as it was. */
    int64_t (*changes)(sql_db *db);
    int (*in_transaction)(sql_db *db);
    /* Runs a script of several statements (a migration); SQL_DONE or SQL_FAILED. */
    int (*exec_script)(sql_db *db, const char *sql);
    /* The last failure: its class, and a short text without values or SQL
     * (e.g. SQLite's error string, or "SQLSTATE 23505"). */
    sql_error (*last_error)(sql_db *db, const char **text);
    /* Optional (NULL: the dialect cannot push changes): waits up to
     * timeout_ms for another connection's change-log notification; 1 when one
     * arrived, 0 on timeout, -1 when the connection failed. */
    int (*wait_notify)(sql_db *db, int timeout_ms);
    void (*close)(sql_db *db);
} sql_driver;

/* The query tables of the dialects (sqlite_queries.c, pg_queries.c). */
extern const sql_query sqlite_queries[Q_COUNT];
extern const sql_query pg_queries[Q_COUNT];

/* Export and import over a driver (sql_dump.c): store.h export_rows and
 * import_rows. The caller runs them inside a transaction. */
int sql_dump_export(const sql_driver *drv, sql_db *db, store_row_fn fn, void *ctx, err_t *e);
int sql_dump_import(const sql_driver *drv, sql_db *db, store_row_next_fn next, void *ctx,
                    int64_t *rows, err_t *e);
/* The catalogue export and import use: table i's name and its columns
 * (", "-separated), for the test that checks it against the schema. */
size_t sql_dump_ntables(void);
const char *sql_dump_table(size_t i, const char **columns);

/* Wraps an open driver connection as a store (takes ownership of db). */
store *store_sql_new(const sql_driver *drv, sql_db *db);

#endif
