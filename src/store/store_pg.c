/* store_pg.c - the PostgreSQL driver of store_sql.c (sql.h) over libpq, and
 * store_pg_open.
 *
 * One handle is one PGconn, used by one thread at a time. The server opens a
 * handle per thread, so its threads are this node's connection pool: no pool
 * of our own, and no connection shared between threads.
 *
 * Statements use the extended protocol: each query is prepared once per
 * connection (PQprepare, name "q<N>") on first use, and run with
 * PQexecPrepared on its first step, which fetches the whole result (text
 * format); later steps walk its rows. Export's ad-hoc statements stream
 * instead (see execute). Integers are sent as text (formatted here); text and
 * blobs in binary format, which for text is its bytes with a length:
 * bind_text's value need not be NUL-terminated (sql_dump.c's are not), so it
 * is borrowed as it is, with no copy, until reset.
 *
 * Errors are told apart by SQLSTATE only. The text last_error returns is
 * "SQLSTATE xxxxx": PostgreSQL's messages can quote values (a duplicate key's
 * email, a secret), so they are neither returned nor logged.
 *
 * A lost connection (the server restarted, the backend was terminated) fails
 * the statement that finds it with SQL_E_UNREACHABLE; the next statement with
 * no transaction open reconnects (PQreset) and prepares its statements again,
 * so a node outlives a database restart. Inside a transaction it does not:
 * the rest of the transaction fails until store_sql.c rolls it back, so its
 * later statements never run on a fresh connection outside the transaction. */
#include "store/sql.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/hex.h"
#include "core/log.h"
#include "core/xalloc.h"

#define PG_MIN_VERSION 150000            /* PostgreSQL 15 */
#define NOTIFY_CHANNEL "tessera_changes" /* the change_log trigger's (migration 001) */
#define BYTEA_MAX ((size_t)0x3fffffff)   /* the largest value PostgreSQL stores: 1 GB - 1 */

/* Per session. lock_timeout is SQLite's busy_timeout: a lock held longer
 * is SQL_E_BUSY (ERR_UNAVAILABLE) rather than a wait without end. The
 * other timeouts bound what a stuck statement or a forgotten transaction
 * holds. client_min_messages keeps NOTICEs ("already exists, skipping") off
 * the wire; bytea_output is what col_blob decodes. */
#define SESSION_SETTINGS                                                                           \
    "SET lock_timeout = '5s'; SET statement_timeout = '30s'; "                                     \
    "SET idle_in_transaction_session_timeout = '60s'; SET client_min_messages = warning; "         \
    "SET bytea_output = 'hex'; SET client_encoding = 'UTF8'"

struct sql_stmt {
    sql_db *db;           /* the connection it belongs to */
    int q;                /* index in pg_queries; -1 for an ad-hoc statement (prepare) */
    const char *sql;      /* pg_queries[q].sql, or own_sql; NULL: a no-op */
    char *own_sql;        /* owned: an ad-hoc statement's text */
    char name[24];        /* "q<N>" (a query) or "a<N>" (ad hoc): the prepared statement's name */
    unsigned prepared;    /* db->gen it was prepared on; 0 = not on this connection */
    int nparams;          /* the highest $N of sql */
    const char **values;  /* [nparams] borrowed, or into ints; NULL = SQL NULL */
    int *lengths;         /* [nparams] of binary values */
    int *formats;         /* [nparams] 0 text, 1 binary */
    char (*ints)[24];     /* [nparams] bound integers as text */
    PGresult *res;        /* owned; the execution's result, NULL before the first step */
    int row;              /* current row of res; -1 before the first */
    int busy;             /* stepped and not reset */
    int executed;         /* sent since the last reset */
    int streaming;        /* single-row mode: rows still to be read from the connection */
    int too_big;          /* a bound text is over what PostgreSQL stores: fails at step */
    int ncols;            /* columns with a decode buffer */
    unsigned char **blob; /* [ncols] owned: decoded bytea of the current row */
    size_t *blob_cap;     /* [ncols] */
};

struct sql_db {
    PGconn *conn;            /* owned */
    unsigned gen;            /* bumped by each (re)connect: what statements were prepared on */
    int tx_open;             /* a transaction was open when the connection was last seen */
    int listening;           /* LISTEN tessera_changes issued on this connection */
    int64_t changes;         /* of the last INSERT, UPDATE or DELETE stepped to SQL_DONE */
    unsigned adhoc;          /* ad-hoc statements made so far (their names) */
    sql_error err;           /* the last failure */
    char err_text[32];       /* "SQLSTATE xxxxx" */
    sql_stmt *stmt[Q_COUNT]; /* owned; made on first use */
};

/* ---- errors ---- */

static int state_is(const char *state, const char *code)
{
    return strcmp(state, code) == 0;
}

/* What a failure with SQLSTATE state (NULL: a client-side failure) means to
 * the store. The undefined-object errors mean "not migrated" only when a
 * statement is prepared: at run time they would be a bug. */
static sql_error classify(const sql_db *db, const char *state, int preparing)
{
    if (PQstatus(db->conn) != CONNECTION_OK)
        return SQL_E_UNREACHABLE;
    if (state == NULL)
        return SQL_E_OTHER;
    if (state_is(state, "23505"))
        return SQL_E_UNIQUE;
    if (state_is(state, "23503"))
        return SQL_E_FOREIGN_KEY;
    if (state_is(state, "23502"))
        return SQL_E_NOT_NULL;
    if (state_is(state, "54000") || state_is(state, "22001"))
        return SQL_E_TOO_BIG;
    /* lock_timeout, serialization failure, deadlock, statement_timeout */
    if (state_is(state, "55P03") || state_is(state, "40001") || state_is(state, "40P01") ||
        state_is(state, "57014"))
        return SQL_E_BUSY;
    /* connection exceptions; the server shutting down or starting up */
    if (strncmp(state, "08", 2) == 0 || state_is(state, "57P01") || state_is(state, "57P02") ||
        state_is(state, "57P03"))
        return SQL_E_UNREACHABLE;
    if (preparing &&
        (state_is(state, "42P01") || state_is(state, "42703") || state_is(state, "42883")))
        return SQL_E_SCHEMA;
    return SQL_E_OTHER;
}

/* Records why r (NULL when libpq returned none) failed. */
static void failed(sql_db *db, const PGresult *r, int preparing)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    db->err = classify(db, state, preparing);
    if (state == NULL && db->err == SQL_E_UNREACHABLE)
        state = "08006"; /* libpq's own "connection lost" has no SQLSTATE: connection_failure */
    snprintf(db->err_text, sizeof(db->err_text), "SQLSTATE %.5s", state ? state : "none");
}

static void failed_as(sql_db *db, sql_error err, const char *state)
{
    db->err = err;
    snprintf(db->err_text, sizeof(db->err_text), "SQLSTATE %s", state);
}

/* ---- the connection ---- */

/* NOTICEs and WARNINGs would go to stderr: dropped (they can quote values). */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* Runs sql (settings, no rows) with the simple protocol; 0 when it worked. */
static int exec_simple(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    return ok ? 0 : -1;
}

/* What every new session needs (after connecting and after each reset). A
 * server that does not commit durably by default (synchronous_commit = off)
 * is made to, for this session: record_batch promises the write is on disk. */
static int session_setup(PGconn *conn, err_t *e)
{
    int version = PQserverVersion(conn);
    PQsetNoticeProcessor(conn, drop_notice, NULL);
    if (version < PG_MIN_VERSION)
        return err_set(e, ERR_INTERNAL, "PostgreSQL 15 or newer is needed (the server is %d.%d)",
                       version / 10000, version % 10000);
    if (exec_simple(conn, SESSION_SETTINGS) != 0)
        return err_set(e, ERR_UNAVAILABLE, "cannot configure the PostgreSQL session");
    PGresult *r = PQexec(conn, "SELECT current_setting('synchronous_commit')");
    int off = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
              strcmp(PQgetvalue(r, 0, 0), "off") == 0;
    PQclear(r);
    if (off && exec_simple(conn, "SET synchronous_commit = on") != 0)
        return err_set(e, ERR_UNAVAILABLE, "cannot configure the PostgreSQL session");
    return 0;
}

/* Before a statement: a connection found lost is reset, unless a
 * transaction was open on it (then the caller must roll back first). The
 * statements prepared on the old one are prepared again on first use. */
static int reconnect_if_lost(sql_db *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK)
        return 0;
    if (db->tx_open) {
        failed_as(db, SQL_E_UNREACHABLE, "08006");
        return -1;
    }
    PQreset(db->conn);
    db->gen++;
    db->listening = 0;
    if (PQstatus(db->conn) != CONNECTION_OK || session_setup(db->conn, NULL) != 0) {
        failed_as(db, SQL_E_UNREACHABLE, "08006");
        return -1;
    }
    log_msg(LOG_INFO, "reconnected to PostgreSQL", NULL);
    return 0;
}

/* Whether a transaction is open, as far as the server has said. A lost
 * connection keeps the last answer: its transaction still needs the
 * caller's ROLLBACK before the connection is reset. */
static void note_transaction(sql_db *db)
{
    if (PQstatus(db->conn) != CONNECTION_OK)
        return;
    PGTransactionStatusType t = PQtransactionStatus(db->conn);
    db->tx_open = t == PQTRANS_INTRANS || t == PQTRANS_INERROR || t == PQTRANS_ACTIVE;
}

/* ---- statements ---- */

/* The highest $N in sql: how many parameters PostgreSQL will expect. */
static int count_params(const char *sql)
{
    int n = 0;
    for (const char *p = strchr(sql, '$'); p != NULL; p = strchr(p + 1, '$')) {
        char *end;
        long v = strtol(p + 1, &end, 10);
        if (end != p + 1 && v > n)
            n = (int)v;
    }
    return n;
}

/* A statement of db running sql (NULL: a no-op) as prepared statement name. */
static sql_stmt *stmt_new(sql_db *db, int q, const char *sql, const char *name)
{
    sql_stmt *st = xcalloc(1, sizeof(*st));
    st->db = db;
    st->q = q;
    st->sql = sql;
    st->row = -1;
    snprintf(st->name, sizeof(st->name), "%s", name);
    st->nparams = sql ? count_params(sql) : 0;
    if (st->nparams > 0) {
        st->values = xcalloc((size_t)st->nparams, sizeof(*st->values));
        st->lengths = xcalloc((size_t)st->nparams, sizeof(*st->lengths));
        st->formats = xcalloc((size_t)st->nparams, sizeof(*st->formats));
        st->ints = xcalloc((size_t)st->nparams, sizeof(*st->ints));
    }
    return st;
}

static void drop_bindings(sql_stmt *st)
{
    for (int k = 0; k < st->nparams; k++) {
        st->values[k] = NULL;
        st->lengths[k] = 0;
        st->formats[k] = 0;
    }
}

static void stmt_free(sql_stmt *st)
{
    if (st == NULL)
        return;
    free(st->own_sql);
    free(st->values);
    free(st->lengths);
    free(st->formats);
    free(st->ints);
    PQclear(st->res);
    for (int i = 0; i < st->ncols; i++)
        free(st->blob[i]);
    free(st->blob);
    free(st->blob_cap);
    free(st);
}

/* Prepares st on the current connection unless it already is. Parameter
 * types are left to the server, which infers them from the columns they
 * meet (the queries cast the others). */
static int prepare(sql_stmt *st)
{
    sql_db *db = st->db;
    if (st->prepared == db->gen)
        return 0;
    PGresult *r = PQprepare(db->conn, st->name, st->sql, 0, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (ok)
        st->prepared = db->gen;
    else
        failed(db, r, 1);
    PQclear(r);
    note_transaction(db);
    return ok ? 0 : -1;
}

/* Prepared on first use while the connection is up; on a lost one, at the
 * first step (which reconnects, or fails while a transaction is open). */
static sql_stmt *pg_stmt(sql_db *db, int q)
{
    if (db->stmt[q] == NULL) {
        char name[16];
        snprintf(name, sizeof(name), "q%d", q);
        db->stmt[q] = stmt_new(db, q, pg_queries[q].sql, name);
    }
    sql_stmt *st = db->stmt[q];
    if (st->sql != NULL && PQstatus(db->conn) == CONNECTION_OK && prepare(st) != 0)
        return NULL;
    return st;
}

static int pg_busy(sql_stmt *st)
{
    return st->busy;
}

/* Parameter i (from 1) of st, or -1 when st has no such parameter (the
 * binders of store_sql.c bind what SQLite's statement has; a PostgreSQL
 * statement binds the same, so this is only a safety net). */
static int param(const sql_stmt *st, int i)
{
    return i >= 1 && i <= st->nparams ? i - 1 : -1;
}

/* Binary format: text's binary form is its bytes, so s needs no NUL at len
 * (text format would, and so a copy). Every text parameter is typed text by
 * its column or a cast in the queries; the server still checks the encoding. */
static void pg_bind_text(sql_stmt *st, int i, const char *s, size_t len)
{
    int k = param(st, i);
    if (k < 0)
        return;
    if (len > BYTEA_MAX) {
        st->too_big = 1;
        len = 0;
    }
    st->values[k] = s == NULL ? NULL : len > 0 ? s : "";
    st->lengths[k] = (int)len;
    st->formats[k] = 1;
}

static void pg_bind_int(sql_stmt *st, int i, int64_t v)
{
    int k = param(st, i);
    if (k < 0)
        return;
    snprintf(st->ints[k], sizeof(st->ints[k]), "%" PRId64, v);
    st->values[k] = st->ints[k];
    st->formats[k] = 0;
    st->lengths[k] = 0;
}

/* Binary format: the bytes as they are, no escaping. */
static int pg_bind_blob(sql_stmt *st, int i, const void *data, size_t len)
{
    int k = param(st, i);
    if (len > BYTEA_MAX) {
        failed_as(st->db, SQL_E_TOO_BIG, "54000");
        return -1;
    }
    if (k < 0)
        return 0;
    st->values[k] = len > 0 ? data : "";
    st->lengths[k] = (int)len;
    st->formats[k] = 1;
    return 0;
}

/* Rows changed, from the command tag of r, when r is an INSERT, UPDATE or
 * DELETE (what sqlite3_changes counts; a SELECT or COMMIT leaves it). */
static void note_changes(sql_db *db, PGresult *r)
{
    const char *tag = PQcmdStatus(r);
    const char *n = PQcmdTuples(r);
    if (n[0] == '\0' || strncmp(tag, "SELECT", 6) == 0)
        return;
    db->changes = strtoll(n, NULL, 10);
}

/* Reads and drops what is left of a streaming statement's results. */
static void drain(sql_stmt *st)
{
    PGresult *r;
    while ((r = PQgetResult(st->db->conn)) != NULL)
        PQclear(r);
    st->streaming = 0;
    note_transaction(st->db);
}

/* Sends st with its bindings. A query of the table fetches its whole result
 * (PQexecPrepared), so the connection is free again when the first step
 * returns, and a callback may run other statements between the rows. An
 * ad-hoc statement (export) streams it instead, one row a step
 * (single-row mode), so a table of any size passes through bounded memory;
 * nothing else runs on the connection until it is done. */
static int execute(sql_stmt *st)
{
    sql_db *db = st->db;
    int ending = st->q == Q_COMMIT || st->q == Q_ROLLBACK;
    st->executed = 1;
    if (st->q == Q_ROLLBACK && PQstatus(db->conn) != CONNECTION_OK) {
        /* The server rolled the transaction back when the connection went. */
        db->tx_open = 0;
        st->res = PQmakeEmptyPGresult(NULL, PGRES_COMMAND_OK);
        return 0;
    }
    if (st->too_big) {
        failed_as(db, SQL_E_TOO_BIG, "54000");
        return -1;
    }
    if (reconnect_if_lost(db) != 0 || prepare(st) != 0)
        return -1;
    if (st->q < 0) {
        if (!PQsendQueryPrepared(db->conn, st->name, st->nparams, st->values, st->lengths,
                                 st->formats, 0)) {
            failed(db, NULL, 0);
            return -1;
        }
        PQsetSingleRowMode(db->conn);
        st->streaming = 1;
        return 0;
    }
    PGresult *r =
        PQexecPrepared(db->conn, st->name, st->nparams, st->values, st->lengths, st->formats, 0);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        failed(db, r, 0);
        PQclear(r);
        if (ending)
            db->tx_open = 0; /* a failed COMMIT ends the transaction too */
        note_transaction(db);
        return -1;
    }
    st->res = r;
    st->row = -1;
    note_transaction(db);
    return 0;
}

/* The next result of a streaming statement: a row, or the end. */
static int stream_step(sql_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    PGresult *r = PQgetResult(st->db->conn);
    ExecStatusType s = PQresultStatus(r);
    if (r != NULL && s == PGRES_SINGLE_TUPLE) {
        st->res = r;
        st->row = 0;
        return SQL_ROW;
    }
    int ok = r == NULL || s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK;
    if (r != NULL && s == PGRES_COMMAND_OK)
        note_changes(st->db, r);
    else if (!ok)
        failed(st->db, r, 0);
    PQclear(r);
    drain(st);
    return ok ? SQL_DONE : SQL_FAILED;
}

/* A no-op statement (sql == NULL) is done at once and leaves changes() as
 * it was: it stands for work another statement of the dialect did. */
static int pg_step(sql_stmt *st)
{
    st->busy = 1;
    if (st->sql == NULL)
        return SQL_DONE;
    if (!st->executed && execute(st) != 0)
        return SQL_FAILED;
    if (st->streaming)
        return stream_step(st);
    int n = st->res ? PQntuples(st->res) : 0;
    if (st->row + 1 < n) {
        st->row++;
        return SQL_ROW;
    }
    if (st->res != NULL && st->row < n) { /* the first time it is done */
        st->row = n;
        note_changes(st->db, st->res);
    }
    return SQL_DONE;
}

/* Whether column i of the current row exists. */
static int has_value(const sql_stmt *st, int i)
{
    return st->res != NULL && st->row >= 0 && st->row < PQntuples(st->res) && i >= 0 &&
           i < PQnfields(st->res) && !PQgetisnull(st->res, st->row, i);
}

static const char *pg_col_text(sql_stmt *st, int i, size_t *len)
{
    *len = 0;
    if (!has_value(st, i))
        return NULL;
    *len = (size_t)PQgetlength(st->res, st->row, i);
    return PQgetvalue(st->res, st->row, i);
}

/* Integers arrive as text. A boolean ("t"/"f") counts as 1/0, though the
 * queries cast theirs to int. */
static int64_t pg_col_int(sql_stmt *st, int i)
{
    if (!has_value(st, i))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (v[0] == 't' && v[1] == '\0')
        return 1;
    return strtoll(v, NULL, 10);
}

/* bytea arrives as text in hex format ("\x" then two digits a byte),
 * decoded into the statement's buffer for column i (valid until the next
 * step or reset: the next row reuses it). */
static const unsigned char *pg_col_blob(sql_stmt *st, int i, size_t *len)
{
    *len = 0;
    if (!has_value(st, i))
        return NULL;
    const char *v = PQgetvalue(st->res, st->row, i);
    size_t n = (size_t)PQgetlength(st->res, st->row, i);
    if (n < 2 || v[0] != '\\' || v[1] != 'x' || n % 2 != 0) {
        /* Not hex output (bytea_output is set to hex per session): the text. */
        *len = n;
        return (const unsigned char *)v;
    }
    if (i >= st->ncols) {
        int cols = PQnfields(st->res);
        st->blob = xrealloc(st->blob, (size_t)cols * sizeof(*st->blob));
        st->blob_cap = xrealloc(st->blob_cap, (size_t)cols * sizeof(*st->blob_cap));
        for (int c = st->ncols; c < cols; c++) {
            st->blob[c] = NULL;
            st->blob_cap[c] = 0;
        }
        st->ncols = cols;
    }
    size_t out = (n - 2) / 2;
    if (st->blob_cap[i] < out + 1) {
        st->blob[i] = xrealloc(st->blob[i], out + 1);
        st->blob_cap[i] = out + 1;
    }
    if (hex_decode(v + 2, st->blob[i], out) != 0) {
        *len = n;
        return (const unsigned char *)v;
    }
    *len = out;
    return st->blob[i];
}

static const char *pg_col_name(sql_stmt *st, int i)
{
    if (st->res == NULL || i < 0 || i >= PQnfields(st->res))
        return "column";
    return PQfname(st->res, i);
}

/* Drops the result and the bindings (they may point at the caller's memory).
 * A statement still streaming is read to its end first: the connection
 * cannot run anything else before (a cancel would abort the transaction). */
static void pg_reset(sql_stmt *st)
{
    if (st->streaming)
        drain(st);
    st->executed = 0;
    PQclear(st->res);
    st->res = NULL;
    st->row = -1;
    st->busy = 0;
    st->too_big = 0;
    if (st->nparams > 0)
        drop_bindings(st);
}

/* Export, import and migrations move or rewrite whole tables, which can
 * take longer than statement_timeout: inside their transaction there is
 * none (SET LOCAL ends with the transaction). lock_timeout stays. */
static void lift_statement_timeout(sql_db *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK && PQtransactionStatus(db->conn) == PQTRANS_INTRANS)
        exec_simple(db->conn, "SET LOCAL statement_timeout = 0");
}

/* An ad-hoc statement (export and import build theirs from a catalogue):
 * prepared under a name of its own, deallocated by finalize. */
static sql_stmt *pg_prepare(sql_db *db, const char *sql)
{
    char name[24];
    snprintf(name, sizeof(name), "a%u", ++db->adhoc);
    char *own = xstrdup(sql);
    sql_stmt *st = stmt_new(db, -1, own, name);
    st->own_sql = own;
    if (reconnect_if_lost(db) != 0 || prepare(st) != 0) {
        stmt_free(st);
        return NULL;
    }
    lift_statement_timeout(db);
    return st;
}

/* In a failed transaction the server refuses DEALLOCATE: the statement then
 * stays prepared (under its unique name) until the connection closes. */
static void pg_finalize(sql_stmt *st)
{
    sql_db *db = st->db;
    if (st->streaming)
        drain(st);
    if (st->prepared == db->gen && PQstatus(db->conn) == CONNECTION_OK &&
        PQtransactionStatus(db->conn) != PQTRANS_INERROR) {
        char sql[40];
        snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
        PQclear(PQexec(db->conn, sql));
    }
    stmt_free(st);
}

static int64_t pg_changes(sql_db *db)
{
    return db->changes;
}

static int pg_in_transaction(sql_db *db)
{
    if (PQstatus(db->conn) != CONNECTION_OK)
        return db->tx_open;
    return PQtransactionStatus(db->conn) != PQTRANS_IDLE;
}

/* A migration: several statements, simple protocol, in the caller's
 * transaction. The log gets where it failed (the position in our own file),
 * never the message, which can quote the rows a migration touched. */
static int pg_exec_script(sql_db *db, const char *sql)
{
    if (reconnect_if_lost(db) != 0)
        return SQL_FAILED;
    lift_statement_timeout(db);
    PGresult *r = PQexec(db->conn, sql);
    ExecStatusType s = PQresultStatus(r);
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
    if (!ok) {
        failed(db, r, 0);
        const char *pos = PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION);
        log_msg(LOG_ERROR, "PostgreSQL script failed", "error", db->err_text, "position",
                pos ? pos : "", NULL);
    }
    PQclear(r);
    note_transaction(db);
    return ok ? SQL_DONE : SQL_FAILED;
}

static sql_error pg_last_error(sql_db *db, const char **text)
{
    *text = db->err_text;
    return db->err;
}

/* Frees the notifications libpq has read; 1 when there was one. */
static int drain_notifies(PGconn *conn)
{
    int got = 0;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

/* The change_log trigger notifies tessera_changes at each commit that
 * appended changes (any process). The first call LISTENs (again after a
 * reconnect); notifications that arrived while other statements ran on this
 * connection are already queued in libpq and count at once. */
static int pg_wait_notify(sql_db *db, int timeout_ms)
{
    int64_t deadline = clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    if (reconnect_if_lost(db) != 0)
        return -1;
    if (!db->listening) {
        PGresult *r = PQexec(db->conn, "LISTEN " NOTIFY_CHANNEL);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            failed(db, r, 0);
        PQclear(r);
        note_transaction(db);
        if (!ok)
            return -1;
        db->listening = 1;
    }
    for (;;) {
        if (PQconsumeInput(db->conn) == 0)
            break;
        if (drain_notifies(db->conn))
            return 1;
        int64_t left = deadline - clock_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = PQsocket(db->conn), .events = POLLIN};
        if (p.fd < 0)
            break;
        if (poll(&p, 1, left > 60000 ? 60000 : (int)left) < 0 && errno != EINTR)
            break;
    }
    /* PQconsumeInput failed: the connection is gone. The next call resets it. */
    failed_as(db, SQL_E_UNREACHABLE, "08006");
    return -1;
}

static void pg_close(sql_db *db)
{
    if (db == NULL)
        return;
    for (int q = 0; q < Q_COUNT; q++)
        stmt_free(db->stmt[q]);
    PQfinish(db->conn);
    free(db);
}

static const sql_driver pg_driver = {
    .dialect = "postgres",
    .queries = pg_queries,
    .param_mark = '$',
    .creation_order = "rid",
    .audit_position = "seq",
    .stmt = pg_stmt,
    .busy = pg_busy,
    .bind_text = pg_bind_text,
    .bind_int = pg_bind_int,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .col_text = pg_col_text,
    .col_int = pg_col_int,
    .col_blob = pg_col_blob,
    .col_name = pg_col_name,
    .reset = pg_reset,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .changes = pg_changes,
    .in_transaction = pg_in_transaction,
    .exec_script = pg_exec_script,
    .last_error = pg_last_error,
    .wait_notify = pg_wait_notify,
    .close = pg_close,
};

/* The URL decides everything it names; these are defaults it can override
 * (expand_dbname: the URL's own parameters replace earlier keywords). The
 * keepalives notice a server that vanished without closing the socket. */
static PGconn *connect_url(const char *url)
{
    static const char *const keys[] = {"connect_timeout",
                                       "application_name",
                                       "keepalives_idle",
                                       "keepalives_interval",
                                       "keepalives_count",
                                       "dbname",
                                       NULL};
    const char *const values[] = {"10", "tessera", "30", "10", "3", url, NULL};
    return PQconnectdbParams(keys, values, 1);
}

/* The detail never contains the URL, nor libpq's message, which can name the
 * host and user; the password never leaves the URL. */
store *store_pg_open(const char *url, err_t *e)
{
    PGconn *conn = connect_url(url); /* owned until handed to db */
    store *s = NULL;
    if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
        if (conn != NULL && PQconnectionNeedsPassword(conn))
            err_set(e, ERR_UNAVAILABLE, "cannot connect to PostgreSQL (a password is needed)");
        else
            err_set(e, ERR_UNAVAILABLE, "cannot connect to PostgreSQL");
        goto out;
    }
    if (session_setup(conn, e) != 0)
        goto out;
    sql_db *db = xcalloc(1, sizeof(*db));
    db->conn = conn;
    db->gen = 1;
    conn = NULL;
    s = store_sql_new(&pg_driver, db);
out:
    PQfinish(conn);
    return s;
}
