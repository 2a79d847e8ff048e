/* store_sqlite.c - the SQLite driver of store_sql.c (sql.h), and
 * store_sqlite_open.
 *
 * One handle is one sqlite3 connection, used by one thread at a time (opened
 * with SQLITE_OPEN_NOMUTEX). A statement is prepared on first use with
 * SQLITE_PREPARE_PERSISTENT, cached in the connection and finalized by close.
 *
 * Every write runs as BEGIN IMMEDIATE ... COMMIT (sqlite_queries.c): the write
 * lock is taken up front, so a writer in another process (the CLI while the
 * server runs) waits up to busy_timeout instead of failing half-way with
 * SQLITE_BUSY. With journal_mode=WAL and synchronous=FULL, COMMIT fsyncs the
 * WAL before it returns, so a write is durable when the operation returns 0. */
#include "store/sql.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

#define BUSY_TIMEOUT_MS 5000

struct sql_stmt {
    sqlite3_stmt *st; /* owned; finalized by sqlite_close */
    sql_db *db;       /* the connection it belongs to */
};

struct sql_db {
    sqlite3 *db;            /* owned */
    int last_rc;            /* extended result code of the last failure */
    int last_in_prepare;    /* ... and whether preparing failed */
    sql_stmt stmt[Q_COUNT]; /* st prepared lazily */
};

static void failed(sql_db *d, int rc, int in_prepare)
{
    d->last_rc = rc;
    d->last_in_prepare = in_prepare;
}

static sql_stmt *sqlite_stmt(sql_db *d, int q)
{
    sql_stmt *s = &d->stmt[q];
    if (s->st != NULL)
        return s;
    int rc = sqlite3_prepare_v3(d->db, sqlite_queries[q].sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &s->st, NULL);
    if (rc == SQLITE_OK)
        return s;
    s->st = NULL;
    failed(d, rc, 1);
    return NULL;
}

static int sqlite_busy(sql_stmt *st)
{
    return sqlite3_stmt_busy(st->st);
}

static void sqlite_bind_text(sql_stmt *st, int i, const char *s, size_t len)
{
    int rc = s ? sqlite3_bind_text(st->st, i, s, (int)len, SQLITE_STATIC)
               : sqlite3_bind_null(st->st, i);
    (void)rc; /* a failure is a wrong index: a programming error caught by the tests */
}

static void sqlite_bind_int(sql_stmt *st, int i, int64_t v)
{
    sqlite3_bind_int64(st->st, i, v);
}

static int sqlite_bind_blob(sql_stmt *st, int i, const void *data, size_t len)
{
    int rc = len == 0 ? sqlite3_bind_zeroblob(st->st, i, 0)
                      : sqlite3_bind_blob64(st->st, i, data, (sqlite3_uint64)len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        return 0;
    failed(st->db, rc, 0);
    return -1;
}

static int sqlite_step(sql_stmt *st)
{
    int rc = sqlite3_step(st->st);
    if (rc == SQLITE_ROW)
        return SQL_ROW;
    if (rc == SQLITE_DONE)
        return SQL_DONE;
    failed(st->db, rc, 0);
    return SQL_FAILED;
}

static const char *sqlite_col_text(sql_stmt *st, int i, size_t *len)
{
    const unsigned char *t = sqlite3_column_text(st->st, i);
    *len = (size_t)sqlite3_column_bytes(st->st, i);
    return (const char *)t;
}

static int64_t sqlite_col_int(sql_stmt *st, int i)
{
    return sqlite3_column_int64(st->st, i);
}

static const unsigned char *sqlite_col_blob(sql_stmt *st, int i, size_t *len)
{
    static const unsigned char empty[1];
    const unsigned char *data = sqlite3_column_blob(st->st, i);
    *len = (size_t)sqlite3_column_bytes(st->st, i);
    return data ? data : empty;
}

static const char *sqlite_col_name(sql_stmt *st, int i)
{
    return sqlite3_column_name(st->st, i);
}

static void sqlite_reset(sql_stmt *st)
{
    sqlite3_reset(st->st);
    sqlite3_clear_bindings(st->st);
}

static sql_stmt *sqlite_prepare(sql_db *d, const char *sql)
{
    sql_stmt *s = xcalloc(1, sizeof(*s));
    int rc = sqlite3_prepare_v2(d->db, sql, -1, &s->st, NULL);
    if (rc == SQLITE_OK) {
        s->db = d;
        return s;
    }
    failed(d, rc, 1);
    sqlite3_finalize(s->st);
    free(s);
    return NULL;
}

static void sqlite_finalize(sql_stmt *st)
{
    sqlite3_finalize(st->st);
    free(st);
}

static int64_t sqlite_changes(sql_db *d)
{
    return sqlite3_changes(d->db);
}

static int sqlite_in_transaction(sql_db *d)
{
    return !sqlite3_get_autocommit(d->db);
}

static int sqlite_exec_script(sql_db *d, const char *sql)
{
    int rc = sqlite3_exec(d->db, sql, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return SQL_DONE;
    failed(d, rc, 0);
    return SQL_FAILED;
}

static sql_error sqlite_last_error(sql_db *d, const char **text)
{
    int rc = d->last_rc;
    *text = sqlite3_errstr(rc);
    if (d->last_in_prepare && (rc & 0xff) == SQLITE_ERROR)
        return SQL_E_SCHEMA; /* no such table or column: not migrated */
    switch (rc) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return SQL_E_UNIQUE;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return SQL_E_FOREIGN_KEY;
    case SQLITE_CONSTRAINT_NOTNULL:
        return SQL_E_NOT_NULL;
    case SQLITE_TOOBIG:
        return SQL_E_TOO_BIG;
    default:
        break;
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return SQL_E_BUSY;
    case SQLITE_CANTOPEN:
        return SQL_E_UNREACHABLE;
    default:
        return SQL_E_OTHER;
    }
}

static void sqlite_close(sql_db *d)
{
    if (d == NULL)
        return;
    for (int q = 0; q < Q_COUNT; q++)
        sqlite3_finalize(d->stmt[q].st);
    sqlite3_close(d->db);
    free(d);
}

static const sql_driver sqlite_driver = {
    .dialect = "sqlite",
    .queries = sqlite_queries,
    .param_mark = '?',
    .creation_order = "rowid",
    .audit_position = "rowid",
    .stmt = sqlite_stmt,
    .busy = sqlite_busy,
    .bind_text = sqlite_bind_text,
    .bind_int = sqlite_bind_int,
    .bind_blob = sqlite_bind_blob,
    .step = sqlite_step,
    .col_text = sqlite_col_text,
    .col_int = sqlite_col_int,
    .col_blob = sqlite_col_blob,
    .col_name = sqlite_col_name,
    .reset = sqlite_reset,
    .prepare = sqlite_prepare,
    .finalize = sqlite_finalize,
    .changes = sqlite_changes,
    .in_transaction = sqlite_in_transaction,
    .exec_script = sqlite_exec_script,
    .last_error = sqlite_last_error,
    .wait_notify = NULL,
    .close = sqlite_close,
};

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

store *store_sqlite_open(const char *path, err_t *e)
{
    sqlite3 *db = NULL; /* owned until handed to d */
    store *s = NULL;
    int rc = sqlite3_open_v2(
        path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        err_set(e, ERR_UNAVAILABLE, "cannot open SQLite database %s: %s", path, sqlite3_errstr(rc));
        goto out;
    }
    if (configure(db, path, e) != 0)
        goto out;
    sql_db *d = xcalloc(1, sizeof(*d));
    for (int q = 0; q < Q_COUNT; q++)
        d->stmt[q].db = d;
    d->db = db;
    db = NULL;
    s = store_sql_new(&sqlite_driver, d);
out:
    sqlite3_close(db);
    return s;
}
