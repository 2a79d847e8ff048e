/* sql_dump.c - export and import of every table, over a driver (sql.h).
 *
 * One catalogue lists the tables in an order where a row's references come
 * before it (so an import in that order satisfies every foreign key as it
 * goes), with their columns and the kind of each. The statements are built
 * from it with the dialect's parameter style and creation-order column, so
 * a dump of one backend loads into the other. audit_events carry their
 * position (SQLite rowid, PostgreSQL seq) as the column "seq", and
 * change_log its seq: webhook cursors and change readers keep their place.
 *
 * test_store_sqlite.c checks the catalogue against the schema: a migration
 * that adds a table or column fails that test until it is listed here. */
#include "store/sql.h"

#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "store/sql_columns.h"

#define DUMP_MAX_COLUMNS 16
#define AUDIT_POSITION "seq" /* the name of an audit event's position in a dump */

typedef struct {
    const char *name;
    const char *columns; /* ", "-separated */
    const char *kinds;   /* one per column: T text, I integer, B blob */
    const char *order;   /* ORDER BY; NULL: the dialect's creation order */
} dump_table;

static const dump_table tables[] = {
    {"orgs", ORG_COLS, "TTTIII", NULL},
    {"users", USER_COLS, "TTTTTTI", NULL},
    {"access_tokens", TOKEN_COLS, "TTTTTTTIIIIII", NULL},
    {"groups", GROUP_COLS, "TTTI", NULL},
    {"apps", APP_COLS, "TTTTTI", NULL},
    {"group_grants", GRANT_COLS, "TTTT", NULL},
    {"group_members", MEMBER_COLS, "TTT", NULL},
    {"app_versions", VERSION_COLS, "TTTITIII", NULL},
    {"app_files", "version_id, path, content_type, data", "TTTB", "version_id, path"},
    {"signing_keys", KEY_COLS, "TTTBTI", NULL},
    {"sessions", SESSION_COLS, "TTTTTTIII", NULL},
    {"audit_events", AUDIT_POSITION ", " AUDIT_COLS, "ITTITTTTTT", AUDIT_POSITION},
    {"change_log", "seq, kind, org_id, id, at", "ITTTI", "seq"},
    {"console_sessions", CONSOLE_COLS, "TTTTII", "id_hash"},
    {"idps", IDP_COLS, "TTTTTTTTTI", NULL},
    {"integrations", INTEGRATION_COLS, "TTTTTTBTTI", NULL},
    {"subject_tokens", SUBJECT_COLS, "TTTTBI", "jti"},
    {"webhooks", WEBHOOK_COLS, "TTTBTIIIITI", NULL},
    {"webhook_deliveries", DELIVERY_COLS, "TTTTTIITII", NULL},
    {"sweeps", "name, done_until", "TI", "name"},
};
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

size_t sql_dump_ntables(void)
{
    return NTABLES;
}

const char *sql_dump_table(size_t i, const char **columns)
{
    *columns = tables[i].columns;
    return tables[i].name;
}

/* A table's column names, split out of its list (names point into buf). */
typedef struct {
    char buf[1024];
    const char *names[DUMP_MAX_COLUMNS];
    size_t n;
} column_names;

static void split_columns(const dump_table *t, column_names *c)
{
    snprintf(c->buf, sizeof(c->buf), "%s", t->columns);
    c->n = 0;
    for (char *p = c->buf; p != NULL && c->n < DUMP_MAX_COLUMNS;) {
        c->names[c->n++] = p;
        p = strstr(p, ", ");
        if (p != NULL) {
            *p = '\0';
            p += 2;
        }
    }
}

/* The dialect's name of column `name` of table t. */
static const char *sql_name(const sql_driver *drv, const dump_table *t, const char *name)
{
    if (strcmp(t->name, "audit_events") == 0 && strcmp(name, AUDIT_POSITION) == 0)
        return drv->audit_position;
    return name;
}

static void put_columns(buf_t *sql, const sql_driver *drv, const dump_table *t, const column_names *c)
{
    for (size_t i = 0; i < c->n; i++)
        buf_printf(sql, "%s%s", i ? ", " : "", sql_name(drv, t, c->names[i]));
}

static int failed(const sql_driver *drv, sql_db *db, const char *what, const char *table, err_t *e)
{
    const char *text = "";
    switch (drv->last_error(db, &text)) {
    case SQL_E_UNIQUE:
        return err_set(e, ERR_CONFLICT, "%s %s: a row is already there", what, table);
    case SQL_E_FOREIGN_KEY:
        return err_set(e, ERR_INVALID_REQUEST, "%s %s: a row refers to a row that is missing", what, table);
    case SQL_E_BUSY:
    case SQL_E_UNREACHABLE:
        return err_set(e, ERR_UNAVAILABLE, "%s %s: database is busy or unreachable", what, table);
    case SQL_E_SCHEMA:
        return err_set(e, ERR_INTERNAL, "%s %s: the table does not match (is the database migrated?)", what,
                       table);
    default:
        return err_set(e, ERR_INTERNAL, "%s %s: %s", what, table, text);
    }
}

/* ---- export ---- */

static int export_table(const sql_driver *drv, sql_db *db, const dump_table *t, store_row_fn fn, void *ctx,
                        int *stopped, err_t *e)
{
    column_names c;
    store_value values[DUMP_MAX_COLUMNS];
    buf_t sql;
    int ret = -1, rc;
    split_columns(t, &c);
    buf_init(&sql, 256);
    buf_puts(&sql, "SELECT ");
    put_columns(&sql, drv, t, &c);
    buf_printf(&sql, " FROM %s ORDER BY %s", t->name,
               t->order ? sql_name(drv, t, t->order) : drv->creation_order);
    sql_stmt *st = drv->prepare(db, buf_str(&sql));
    if (st == NULL) {
        failed(drv, db, "export", t->name, e);
        goto out;
    }
    store_row row = {t->name, c.n, c.names, values};
    while ((rc = drv->step(st)) == SQL_ROW) {
        for (size_t i = 0; i < c.n; i++) {
            store_value *v = &values[i];
            memset(v, 0, sizeof(*v));
            if (t->kinds[i] == 'I') {
                v->kind = STORE_VALUE_INT;
                v->i = drv->col_int(st, (int)i);
            } else if (t->kinds[i] == 'B') {
                v->kind = STORE_VALUE_BLOB;
                v->s = (const char *)drv->col_blob(st, (int)i, &v->len);
            } else {
                v->s = drv->col_text(st, (int)i, &v->len);
                v->kind = v->s ? STORE_VALUE_TEXT : STORE_VALUE_NULL;
            }
        }
        if (fn(ctx, &row) != 0) {
            *stopped = 1;
            break;
        }
    }
    if (rc == SQL_FAILED) {
        failed(drv, db, "export", t->name, e);
        goto out;
    }
    ret = 0;
out:
    if (st != NULL)
        drv->finalize(st);
    buf_free(&sql);
    return ret;
}

int sql_dump_export(const sql_driver *drv, sql_db *db, store_row_fn fn, void *ctx, err_t *e)
{
    int stopped = 0;
    for (size_t i = 0; i < NTABLES && !stopped; i++)
        if (export_table(drv, db, &tables[i], fn, ctx, &stopped, e) != 0)
            return -1;
    return 0;
}

/* ---- import ---- */

static int table_empty(const sql_driver *drv, sql_db *db, const dump_table *t, err_t *e)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT 1 FROM %s LIMIT 1", t->name);
    sql_stmt *st = drv->prepare(db, sql);
    if (st == NULL)
        return failed(drv, db, "import", t->name, e);
    int rc = drv->step(st);
    drv->finalize(st);
    if (rc == SQL_FAILED)
        return failed(drv, db, "import", t->name, e);
    if (rc == SQL_ROW)
        return err_set(e, ERR_CONFLICT, "the database is not empty (%s has rows); import into a new, migrated database",
                       t->name);
    return 0;
}

/* The insert statement of one table, kept while its rows come. */
typedef struct {
    const dump_table *t;
    column_names c;
    sql_stmt *st;
} table_insert;

static const dump_table *find_table(const char *name)
{
    for (size_t i = 0; i < NTABLES; i++)
        if (strcmp(tables[i].name, name) == 0)
            return &tables[i];
    return NULL;
}

static int open_insert(const sql_driver *drv, sql_db *db, const dump_table *t, table_insert *ins, err_t *e)
{
    buf_t sql;
    if (ins->st != NULL)
        drv->finalize(ins->st);
    ins->st = NULL;
    ins->t = t;
    split_columns(t, &ins->c);
    buf_init(&sql, 256);
    buf_printf(&sql, "INSERT INTO %s (", t->name);
    put_columns(&sql, drv, t, &ins->c);
    buf_puts(&sql, ") VALUES (");
    for (size_t i = 0; i < ins->c.n; i++)
        buf_printf(&sql, "%s%c%zu", i ? ", " : "", drv->param_mark, i + 1);
    buf_puts(&sql, ")");
    ins->st = drv->prepare(db, buf_str(&sql));
    buf_free(&sql);
    return ins->st ? 0 : failed(drv, db, "import", t->name, e);
}

/* Binds one row after checking it has the table's columns, in order, with
 * values of their kinds (every column is NOT NULL). */
static int bind_row(const sql_driver *drv, const table_insert *ins, const store_row *row, err_t *e)
{
    const dump_table *t = ins->t;
    if (row->ncols != ins->c.n)
        return err_set(e, ERR_INVALID_REQUEST, "import %s: %zu columns, expected %zu", t->name, row->ncols,
                       ins->c.n);
    for (size_t i = 0; i < ins->c.n; i++) {
        const store_value *v = &row->values[i];
        int want = t->kinds[i] == 'I' ? STORE_VALUE_INT : t->kinds[i] == 'B' ? STORE_VALUE_BLOB : STORE_VALUE_TEXT;
        /* Text that is not UTF-8 travels as bytes in a dump: still text. */
        int kind = want == STORE_VALUE_TEXT && v->kind == STORE_VALUE_BLOB ? STORE_VALUE_TEXT : (int)v->kind;
        if (strcmp(row->columns[i], ins->c.names[i]) != 0)
            return err_set(e, ERR_INVALID_REQUEST, "import %s: column %zu is not %s", t->name, i + 1,
                           ins->c.names[i]);
        if (kind != want)
            return err_set(e, ERR_INVALID_REQUEST, "import %s: %s has a value of the wrong kind", t->name,
                           ins->c.names[i]);
        if (want == STORE_VALUE_INT)
            drv->bind_int(ins->st, (int)i + 1, v->i);
        else if (want == STORE_VALUE_TEXT)
            drv->bind_text(ins->st, (int)i + 1, v->s, v->len);
        else if (drv->bind_blob(ins->st, (int)i + 1, v->s, v->len) != 0)
            return err_set(e, ERR_TOO_LARGE, "import %s: %s is too large", t->name, ins->c.names[i]);
    }
    return 0;
}

int sql_dump_import(const sql_driver *drv, sql_db *db, store_row_next_fn next, void *ctx, int64_t *rows,
                    err_t *e)
{
    table_insert ins = {0};
    store_row row;
    int ret = -1, rc;
    *rows = 0;
    for (size_t i = 0; i < NTABLES; i++)
        if (table_empty(drv, db, &tables[i], e) != 0)
            goto out;
    while ((rc = next(ctx, &row, e)) == 1) {
        if (ins.t == NULL || strcmp(ins.t->name, row.table) != 0) {
            const dump_table *t = find_table(row.table);
            if (t == NULL) {
                err_set(e, ERR_INVALID_REQUEST, "import: unknown table in the dump");
                goto out;
            }
            if (open_insert(drv, db, t, &ins, e) != 0)
                goto out;
        }
        int bound = bind_row(drv, &ins, &row, e);
        int stepped = bound == 0 ? drv->step(ins.st) : SQL_FAILED;
        drv->reset(ins.st);
        if (bound != 0)
            goto out;
        if (stepped != SQL_DONE) {
            failed(drv, db, "import", ins.t->name, e);
            goto out;
        }
        (*rows)++;
    }
    if (rc < 0)
        goto out;
    const char *finish = drv->queries[Q_IMPORT_FINISH].sql;
    if (finish != NULL && drv->exec_script(db, finish) != SQL_DONE) {
        failed(drv, db, "import", "(finish)", e);
        goto out;
    }
    ret = 0;
out:
    if (ins.st != NULL)
        drv->finalize(ins.st);
    return ret;
}
