/* test_store_pg.c - the PostgreSQL backend: its own cases (URLs and errors,
 * migrations, the dialect against SQLite's, export and import between the
 * two, commit order of the change log and the audit log, concurrent writers,
 * lock waits, a lost connection, notifications, leases), then the store
 * contract, each case on a database of its own, all on a throwaway server
 * that scripts/pg-temp starts here and stops at exit (its watchdog stops it
 * if this process dies first). */
#include "store_contract.c"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include "core/assets.h"
#include "core/clock.h"
#include "store/sql.h"

static char server_dir[64];   /* mkdtemp; scripts/pg-temp's DIR, removed by its stop */
static char server_base[256]; /* postgres://USER@127.0.0.1:PORT, without the database */
static char last_url[320];    /* database of the latest open_fresh */
static char last_db[32];      /* its name */
static unsigned db_counter;
static PGconn *maint; /* on the "postgres" database: CREATE DATABASE, kill backends */

/* ---- the server ---- */

static void stop_server(void)
{
    char cmd[512];
    if (server_dir[0] == '\0')
        return;
    PQfinish(maint);
    maint = NULL;
    snprintf(cmd, sizeof(cmd), "bash '%s/scripts/pg-temp' stop '%s'", TESSERA_SOURCE_DIR,
             server_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "pg-temp stop %s failed\n", server_dir);
    server_dir[0] = '\0';
}

/* Starts the server (and its watchdog on this process, in case we crash
 * before stop_server) and connects the maintenance connection. */
static int start_server(void)
{
    char cmd[512], line[512] = "";
    snprintf(server_dir, sizeof(server_dir), "/tmp/tessera-pg-XXXXXX");
    if (mkdtemp(server_dir) == NULL) {
        perror("mkdtemp");
        server_dir[0] = '\0';
        return -1;
    }
    atexit(stop_server);
    snprintf(cmd, sizeof(cmd), "bash '%s/scripts/pg-temp' start '%s' %ld", TESSERA_SOURCE_DIR,
             server_dir, (long)getpid());
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    if (fgets(line, sizeof(line), p) == NULL)
        line[0] = '\0';
    int status = pclose(p);
    line[strcspn(line, "\r\n")] = '\0';
    const char *db = strrchr(line, '/');
    if (status != 0 || strncmp(line, "postgres://", 11) != 0 || db == NULL) {
        fprintf(stderr, "pg-temp start failed (%d): %s\n", status, line);
        return -1;
    }
    snprintf(server_base, sizeof(server_base), "%.*s", (int)(db - line), line);
    char url[320];
    snprintf(url, sizeof(url), "%s/postgres", server_base);
    maint = PQconnectdb(url);
    if (PQstatus(maint) != CONNECTION_OK) {
        fprintf(stderr, "maintenance connection: %s", PQerrorMessage(maint));
        return -1;
    }
    return 0;
}

/* Runs sql on conn; a failure fails the case. */
static void pq_ok(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    ExecStatusType s = PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

/* The single integer sql returns on conn. */
static int64_t pq_int(PGconn *conn, const char *sql)
{
    PGresult *r = PQexec(conn, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
        fail_msg("%s: %s", sql, PQresultErrorMessage(r));
    int64_t v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

/* A raw connection to the latest database (to poke at it directly). */
static PGconn *raw_connect(void)
{
    PGconn *conn = PQconnectdb(last_url);
    if (PQstatus(conn) != CONNECTION_OK)
        fail_msg("connect: %s", PQerrorMessage(conn));
    return conn;
}

static void raw_exec(const char *sql)
{
    PGconn *conn = raw_connect();
    pq_ok(conn, sql);
    PQfinish(conn);
}

static int64_t raw_int(const char *sql)
{
    PGconn *conn = raw_connect();
    int64_t v = pq_int(conn, sql);
    PQfinish(conn);
    return v;
}

static store *open_url(const char *url)
{
    err_t err = {0};
    store *s = store_open(url, &err);
    if (s == NULL)
        fprintf(stderr, "open %s: %s\n", last_db, err.detail);
    return s;
}

/* A new empty database per case. */
static store *open_fresh(void)
{
    char sql[64];
    snprintf(last_db, sizeof(last_db), "c%u", db_counter++);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", last_db);
    PGresult *r = PQexec(maint, sql);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    if (!ok)
        return NULL;
    snprintf(last_url, sizeof(last_url), "%s/%s", server_base, last_db);
    return open_url(last_url);
}

static store *open_peer(void)
{
    return open_url(last_url);
}

/* Ends the server-side sessions of the latest database but ours. */
static void kill_backends(void)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '%s' "
             "AND pid <> pg_backend_pid()",
             last_db);
    assert_true(pq_int(maint, sql) >= 1);
    /* pg_terminate_backend only signals: wait until they are gone. */
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'",
             last_db);
    for (int i = 0; i < 100 && pq_int(maint, sql) > 0; i++)
        usleep(20000);
}

/* ---- opening ---- */

static void expect_unavailable(const char *url, const char *secret)
{
    err_t err = {0};
    assert_null(store_open(url, &err));
    assert_int_equal(err.cls, ERR_UNAVAILABLE);
    assert_non_null(strstr(err.detail, "PostgreSQL"));
    assert_null(strstr(err.detail, secret));
    assert_null(strstr(err.detail, "127.0.0.1"));
    assert_null(strstr(err.detail, "postgres://"));
}

/* An error detail never contains the URL, the host or the password. */
static void test_open_errors(void **state)
{
    (void)state;
    char url[400];
    /* Nothing listens on port 1 of the loopback: refused at once. */
    expect_unavailable("postgres://tessera:hunter2@127.0.0.1:1/tessera", "hunter2");
    expect_unavailable("postgresql://tessera:hunter2@127.0.0.1:1/tessera?sslmode=disable",
                       "hunter2");
    /* The server is there, the database is not. */
    snprintf(url, sizeof(url), "%s/no_such_db_hunter3?application_name=x", server_base);
    expect_unavailable(url, "hunter3");
    /* Both schemes open the real thing. */
    snprintf(url, sizeof(url), "postgresql://%s/tessera", server_base + strlen("postgres://"));
    store *s = open_url(url);
    assert_non_null(s);
    s->ops->close(s);
}

static void test_unmigrated_store_fails_cleanly(void **state)
{
    (void)state;
    err_t err = {0};
    store *s = open_fresh();
    assert_non_null(s);
    store_org o;
    assert_int_equal(s->ops->org_get(s, ORG_A, &o, &err), -1);
    assert_int_equal(err.cls, ERR_INTERNAL);
    assert_non_null(strstr(err.detail, "migrated"));
    assert_int_equal(s->ops->migrate(s, &err), 0);
    assert_int_equal(s->ops->org_get(s, ORG_A, &o, &err), -1);
    assert_int_equal(err.cls, ERR_NOT_FOUND);
    s->ops->close(s);
}

/* ---- migrations ---- */

/* The PostgreSQL migrations compiled in: how many. */
static int64_t pg_migrations(void)
{
    int64_t n = 0;
    for (size_t i = 0; i < asset_count; i++)
        n += strncmp(asset_table[i].path, "migrations/postgres/", 20) == 0;
    return n;
}

/* Two processes migrating a new database at once: the advisory lock makes
 * them take turns, both succeed, and each migration is applied once. */
static void test_concurrent_migrate(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        migrate_at_once(open_fresh(), open_peer());
        int64_t n = pg_migrations();
        assert_true(n >= 7);
        assert_int_equal(raw_int("SELECT count(*) FROM schema_migrations"), n);
        assert_int_equal(raw_int("SELECT count(DISTINCT version) FROM schema_migrations"), n);
        assert_int_equal(raw_int("SELECT count(*) FROM counters"), 2);
    }
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    err_t err = {0};
    store *s = open_fresh();
    assert_non_null(s);
    assert_int_equal(s->ops->migrate(s, &err), 0);
    raw_exec("INSERT INTO schema_migrations (version, applied_at) VALUES (999999, 0)");
    assert_int_equal(s->ops->migrate(s, &err), -1);
    assert_int_equal(err.cls, ERR_INTERNAL);
    assert_non_null(strstr(err.detail, "newer"));
    s->ops->close(s);
}

/* ---- the dialect ---- */

static int sqlite_params(const char *sql)
{
    int n = 0;
    for (const char *p = strchr(sql, '?'); p != NULL; p = strchr(p + 1, '?')) {
        int v = atoi(p + 1);
        n = v > n ? v : n;
    }
    return n;
}

/* Every PostgreSQL statement prepares on a migrated database and takes the
 * parameters and returns the columns of SQLite's (the binders and readers
 * are shared); the statements SQLite lacks are locks; NULL ones no-ops. */
static void test_dialects_agree(void **state)
{
    store *s = *state;
    (void)s;
    char path[128];
    snprintf(path, sizeof(path), "%s/dialect.sqlite", server_dir);
    err_t err = {0};
    store *lite = store_sqlite_open(path, &err);
    assert_non_null(lite);
    OK(lite->ops->migrate(lite, &err));
    lite->ops->close(lite);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);

    PGconn *conn = raw_connect();
    for (int q = 0; q < Q_COUNT; q++) {
        const sql_query *pq = &pg_queries[q], *sq = &sqlite_queries[q];
        assert_non_null(pq->name);
        assert_string_equal(pq->name, sq->name);
        if ((pq->entity == NULL) != (sq->entity == NULL) ||
            (pq->entity && strcmp(pq->entity, sq->entity) != 0) ||
            (pq->conflict == NULL) != (sq->conflict == NULL) ||
            (pq->conflict && strcmp(pq->conflict, sq->conflict) != 0) ||
            (pq->missing == NULL) != (sq->missing == NULL) ||
            (pq->missing && strcmp(pq->missing, sq->missing) != 0))
            fail_msg("query %d (%s): entity, conflict or missing differ", q, pq->name);
        if (pq->sql == NULL)
            continue;
        char name[16];
        snprintf(name, sizeof(name), "t%d", q);
        PGresult *r = PQprepare(conn, name, pq->sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("query %d (%s): %s", q, pq->name, PQresultErrorMessage(r));
        PQclear(r);
        r = PQdescribePrepared(conn, name);
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        if (sq->sql == NULL) {
            PQclear(r);
            continue; /* a lock of PostgreSQL's own */
        }
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sq->sql, -1, &st, NULL) != SQLITE_OK)
            fail_msg("sqlite query %d: %s", q, sqlite3_errmsg(db));
        if (PQnparams(r) != sqlite_params(sq->sql) || PQnfields(r) != sqlite3_column_count(st))
            fail_msg("query %d (%s): %d parameters and %d columns, SQLite's has %d and %d", q,
                     pq->name, PQnparams(r), PQnfields(r), sqlite_params(sq->sql),
                     sqlite3_column_count(st));
        sqlite3_finalize(st);
        PQclear(r);
    }
    PQfinish(conn);
    sqlite3_close(db);
    unlink(path);
}

/* The export catalogue (sql_dump.c) lists every table of the PostgreSQL
 * schema with exactly its columns but rid (creation order, never exported:
 * an import recreates it in the dump's order) and the counters (set from the
 * imported seqs by Q_IMPORT_FINISH). */
static void test_dump_catalogue_matches_schema(void **state)
{
    store *s = *state;
    (void)s;
    PGconn *conn = raw_connect();
    PGresult *tables = PQexec(conn, "SELECT table_name FROM information_schema.tables WHERE "
                                    "table_schema = 'public' AND table_name NOT IN "
                                    "('schema_migrations', 'counters') ORDER BY table_name");
    assert_int_equal(PQresultStatus(tables), PGRES_TUPLES_OK);
    for (int t = 0; t < PQntuples(tables); t++) {
        const char *name = PQgetvalue(tables, t, 0);
        const char *cols = NULL;
        for (size_t i = 0; i < sql_dump_ntables() && cols == NULL; i++) {
            const char *c;
            if (strcmp(sql_dump_table(i, &c), name) == 0)
                cols = c;
        }
        if (cols == NULL)
            fail_msg("table %s is not in the export catalogue", name);
        char sql[256], hay[1100];
        snprintf(sql, sizeof(sql),
                 "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                 "AND table_name = '%s' AND column_name != 'rid'",
                 name);
        PGresult *c = PQexec(conn, sql);
        assert_int_equal(PQresultStatus(c), PGRES_TUPLES_OK);
        int listed = 1;
        for (const char *p = cols; *p; p++)
            listed += *p == ',';
        if (PQntuples(c) != listed)
            fail_msg("%s: %d columns in the schema, %d in the catalogue (%s)", name, PQntuples(c),
                     listed, cols);
        snprintf(hay, sizeof(hay), ", %s,", cols);
        for (int i = 0; i < PQntuples(c); i++) {
            char needle[80];
            snprintf(needle, sizeof(needle), ", %s,", PQgetvalue(c, i, 0));
            if (strstr(hay, needle) == NULL)
                fail_msg("%s: column %s is not in the export catalogue", name, PQgetvalue(c, i, 0));
        }
        PQclear(c);
    }
    assert_int_equal(PQntuples(tables), (int)sql_dump_ntables());
    PQclear(tables);
    PQfinish(conn);
}

static store *open_sqlite(const char *name)
{
    char path[128];
    err_t err = {0};
    snprintf(path, sizeof(path), "%s/%s", server_dir, name);
    store *s = store_sqlite_open(path, &err);
    if (s == NULL)
        fail_msg("open %s: %s", path, err.detail);
    OK(s->ops->migrate(s, &err));
    return s;
}

static void assert_same_dump(const dump_copy *a, const dump_copy *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        assert_string_equal(a->rows[i], b->rows[i]);
}

/* A dump of SQLite loads into PostgreSQL and back with every row, value,
 * creation order and position as it was: the way from one to the other. */
static void test_dump_between_backends(void **state)
{
    store *pg = *state;
    err_t err = {0};
    store *lite = open_sqlite("from.sqlite");
    fill_every_table(lite);
    dump_copy lite_rows = {0}, lite_parsed = {0}, pg_rows = {0}, pg_parsed = {0}, back = {0};
    OK(lite->ops->export_rows(lite, keep_row, &lite_rows, &err));
    OK(lite->ops->export_rows(lite, keep_parsed, &lite_parsed, &err));
    int64_t rows = 0;
    OK(pg->ops->import_rows(pg, next_parsed, &lite_parsed, &rows, &err));
    assert_int_equal(rows, (int64_t)lite_parsed.n);
    OK(pg->ops->export_rows(pg, keep_row, &pg_rows, &err));
    assert_same_dump(&lite_rows, &pg_rows);

    /* New positions carry on after the imported ones, in both logs. */
    int64_t before = latest(pg), audit_before = last_seq(pg, ORG_A);
    assert_int_equal(before, latest(lite));
    assert_int_equal(audit_before, last_seq(lite, ORG_A));
    store_audit a = audit_rec(ORG_A, 77, "group.created", 1700000077);
    store_group g = group_rec(ORG_A, "0d000000-0000-4000-8000-000000000077", "After");
    OK(pg->ops->group_insert(pg, &g, &a, &err));
    assert_int_equal(latest(pg), before + 1);
    assert_true(last_seq(pg, ORG_A) > audit_before);

    /* And back into a new SQLite database. */
    OK(pg->ops->export_rows(pg, keep_parsed, &pg_parsed, &err));
    store *again = open_sqlite("back.sqlite");
    OK(again->ops->import_rows(again, next_parsed, &pg_parsed, &rows, &err));
    dump_free(&pg_rows);
    OK(pg->ops->export_rows(pg, keep_row, &pg_rows, &err));
    OK(again->ops->export_rows(again, keep_row, &back, &err));
    assert_same_dump(&pg_rows, &back);

    dump_free(&lite_rows);
    dump_free(&lite_parsed);
    dump_free(&pg_rows);
    dump_free(&pg_parsed);
    dump_free(&back);
    lite->ops->close(lite);
    again->ops->close(again);
}

/* Reading a value longer than its field is ERR_INTERNAL, never a truncation. */
static void test_long_column_is_internal_error(void **state)
{
    store *s = *state;
    err_t err = {0};
    add_org(s, ORG_A);
    raw_exec("UPDATE orgs SET name = repeat('x', 300)");
    store_org o;
    assert_int_equal(s->ops->org_get(s, ORG_A, &o, &err), -1);
    assert_int_equal(err.cls, ERR_INTERNAL);
    assert_non_null(strstr(err.detail, "name"));
}

typedef struct {
    store *s;
    int rc;
    err_t err;
} nested;

static int each_inside_each(void *ctx, const void *rec)
{
    nested *n = ctx;
    size_t count = 0;
    (void)rec;
    n->rc = n->s->ops->org_each(n->s, count_rows, &count, &n->err);
    return 1;
}

static int get_inside_each(void *ctx, const void *rec)
{
    nested *n = ctx;
    store_org o;
    n->rc = n->s->ops->org_get(n->s, ((const store_org *)rec)->id, &o, &n->err);
    return 0;
}

static void test_reentrant_each(void **state)
{
    store *s = *state;
    err_t err = {0};
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    nested n = {s, 0, {0}};
    assert_int_equal(s->ops->org_each(s, each_inside_each, &n, &err), 0);
    assert_int_equal(n.rc, -1);
    assert_int_equal(n.err.cls, ERR_INTERNAL);
    /* Another operation inside a callback is fine, and the handle still works. */
    nested g = {s, -1, {0}};
    assert_int_equal(s->ops->org_each(s, get_inside_each, &g, &err), 0);
    assert_int_equal(g.rc, 0);
    size_t count = 0;
    assert_int_equal(s->ops->org_each(s, count_rows, &count, &err), 0);
    assert_int_equal(count, 2);
}

/* ---- commit order ---- */

typedef struct {
    store *s;
    store_org org;
    store_audit audit;
    int rc;
    err_t err;
    int64_t done_ms;
} insert_worker;

static void *insert_run(void *arg)
{
    insert_worker *w = arg;
    w->rc = w->s->ops->org_insert(w->s, &w->org, &w->audit, &w->err);
    w->done_ms = clock_mono_ms();
    return NULL;
}

/* A transaction takes change number N and the audit position M and has not
 * committed: a mutation of handle B waits for it, then gets N + 1 and M + 1;
 * a reader never sees N + 1 before N, however the commits interleave. */
static void test_change_log_commit_order(void **state)
{
    store *a = *state;
    err_t err = {0};
    int64_t before = latest(a), audit_before = last_seq(a, ORG_A);
    store *b = open_peer();
    store *reader = open_peer();
    assert_non_null(b);
    assert_non_null(reader);

    /* A writer that took its numbers and holds them (the same statements'
     * counters, as a raw connection). */
    PGconn *held = raw_connect();
    pq_ok(held, "BEGIN");
    pq_ok(held, "WITH c AS (UPDATE counters SET value = value + 1 WHERE name = 'change_log' "
                "RETURNING value) INSERT INTO change_log (seq, kind, org_id, id, at) "
                "SELECT value, 'org', 'held', 'held', 0 FROM c");
    pq_ok(held, "WITH c AS (UPDATE counters SET value = value + 1 WHERE name = 'audit_events' "
                "RETURNING value) INSERT INTO audit_events (id, org_id, at, actor, action, target, "
                "client, request_id, detail, seq) SELECT 'held', '" ORG_A "', 0, 'a', 'x', 't', "
                "'c', 'r', '{}', value FROM c");

    insert_worker w = {b, org_rec(ORG_A, "Waits"), audit_rec(ORG_A, 1, "org.created", 60), 0, {0},
                       0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, insert_run, &w), 0);
    usleep(300000);
    /* B waits for the counter; nothing new is visible yet. */
    assert_int_equal(w.done_ms, 0);
    collected none = COLLECTED(store_change);
    OK(reader->ops->changes_since(reader, before, collect, &none, &err));
    assert_int_equal(none.n, 0);
    free(none.all);
    assert_int_equal(latest(reader), before);

    int64_t committed_ms = clock_mono_ms();
    pq_ok(held, "COMMIT");
    pthread_join(th, NULL);
    if (w.rc != 0)
        fail_msg("org_insert: %s", w.err.detail);
    assert_true(w.done_ms >= committed_ms);

    collected c = COLLECTED(store_change);
    OK(reader->ops->changes_since(reader, before, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_int_equal(ITEM(c, store_change, 0)->seq, before + 1);
    assert_change(ITEM(c, store_change, 0), "org", "held", "held");
    assert_int_equal(ITEM(c, store_change, 1)->seq, before + 2);
    assert_change(ITEM(c, store_change, 1), "org", ORG_A, ORG_A);
    free(c.all);
    assert_int_equal(latest(reader), before + 2);

    collected au = COLLECTED(store_audit_entry);
    OK(reader->ops->audit_after(reader, ORG_A, audit_before, 10, collect, &au, &err));
    assert_int_equal(au.n, 2);
    assert_string_equal(ITEM(au, store_audit_entry, 0)->audit.id, "held");
    assert_audit_equal(&ITEM(au, store_audit_entry, 1)->audit, &w.audit);
    assert_int_equal(ITEM(au, store_audit_entry, 1)->seq, ITEM(au, store_audit_entry, 0)->seq + 1);
    free(au.all);

    PQfinish(held);
    b->ops->close(b);
    reader->ops->close(reader);
}

/* user_delete and session_revoke_email append several change rows: numbered
 * in a row, in creation order. */
static void test_multi_row_changes_in_order(void **state)
{
    store *s = *state;
    err_t err = {0};
    char uid[STORE_ID_MAX], gid[3][STORE_ID_MAX];
    make_id(uid, 1, 1);
    add_org(s, ORG_A);
    store_user u = user_rec(ORG_A, uid, "u@example.com");
    OK(s->ops->user_insert(s, &u, NULL, &err));
    for (unsigned i = 0; i < 3; i++) {
        make_id(gid[i], 3, 10 - i); /* ids in the opposite order of creation */
        add_group(s, ORG_A, gid[i]);
        store_member m;
        memset(&m, 0, sizeof(m));
        snprintf(m.org_id, sizeof(m.org_id), "%s", ORG_A);
        snprintf(m.group_id, sizeof(m.group_id), "%s", gid[i]);
        snprintf(m.user_id, sizeof(m.user_id), "%s", uid);
        OK(s->ops->member_insert(s, &m, NULL, &err));
    }
    int64_t before = latest(s);
    OK(s->ops->user_delete(s, ORG_A, uid, NULL, &err));
    collected c = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &c, &err));
    assert_int_equal(c.n, 4);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(ITEM(c, store_change, i)->seq, before + 1 + i);
        assert_change(ITEM(c, store_change, i), "member", ORG_A, gid[i]);
    }
    assert_change(ITEM(c, store_change, 3), "user", ORG_A, uid);
    free(c.all);

    store_session sess[3];
    for (unsigned i = 0; i < 3; i++) {
        sess[i] = session_rec(ORG_A, 0x90, 5 - i);
        snprintf(sess[i].email, sizeof(sess[i].email), "same@example.com");
        sess[i].expires_at = clock_now() + 600;
    }
    OK(s->ops->record_batch(s, sess, 3, NULL, 0, &err));
    before = latest(s);
    int64_t n = 0;
    OK(s->ops->session_revoke_email(s, ORG_A, "same@example.com", clock_now(), NULL, &n, &err));
    assert_int_equal(n, 3);
    collected r = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &r, &err));
    assert_int_equal(r.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(ITEM(r, store_change, i)->seq, before + 1 + i);
        assert_change(ITEM(r, store_change, i), "session", ORG_A, sess[i].jti);
    }
    free(r.all);
    /* Again: nothing left to revoke, no change rows. */
    OK(s->ops->session_revoke_email(s, ORG_A, "same@example.com", clock_now(), NULL, &n, &err));
    assert_int_equal(n, 0);
    assert_int_equal(latest(s), before + 3);
}

/* Writers of three handles on the same rows at once: users made, added to
 * groups and deleted while another handle adds them to a group, sessions of
 * one email issued while they are revoked. Every mutation takes its row
 * locks before the change-log counter, so none waits for another crosswise:
 * no deadlock (nor lock timeout) ever comes back as ERR_UNAVAILABLE, and the
 * change log has every number once, in order. */
typedef struct {
    store *s;
    int role;
    int rounds;
    int busy;    /* ERR_UNAVAILABLE results */
    int other;   /* failures that are not expected outcomes */
    err_t first; /* the first of either */
} mix_worker;

static void mix_note(mix_worker *w, int rc, const err_t *err, err_class allowed)
{
    if (rc == 0 || err->cls == allowed)
        return;
    if (w->busy + w->other == 0)
        w->first = *err;
    if (err->cls == ERR_UNAVAILABLE)
        w->busy++;
    else
        w->other++;
}

static void *mix_run(void *arg)
{
    mix_worker *w = arg;
    char gid[3][STORE_ID_MAX];
    for (unsigned g = 0; g < 3; g++)
        make_id(gid[g], 3, g + 1);
    for (int i = 0; i < w->rounds; i++) {
        err_t err = {0};
        char uid[STORE_ID_MAX];
        make_id(uid, 1, (unsigned)i);
        if (w->role == 0) { /* a user's life: made, in two groups, deleted */
            store_user u = user_rec(ORG_A, uid, "");
            snprintf(u.email, sizeof(u.email), "u%d@example.com", i);
            mix_note(w, w->s->ops->user_insert(w->s, &u, NULL, &err), &err, ERR_NONE);
            for (unsigned g = 0; g < 2; g++) {
                store_member m = member_rec(ORG_A, gid[g], uid);
                mix_note(w, w->s->ops->member_insert(w->s, &m, NULL, &err), &err, ERR_NONE);
            }
            mix_note(w, w->s->ops->user_delete(w->s, ORG_A, uid, NULL, &err), &err, ERR_NONE);
        } else if (w->role == 1) { /* the same users into a third group, when they exist */
            for (int k = 0; k < 3; k++) {
                store_member m = member_rec(ORG_A, gid[2], uid);
                mix_note(w, w->s->ops->member_insert(w->s, &m, NULL, &err), &err,
                         ERR_INVALID_REQUEST);
            }
        } else { /* sessions of one email, issued and revoked */
            store_session sess = session_rec(ORG_A, 0x95, (unsigned)i);
            snprintf(sess.email, sizeof(sess.email), "same@example.com");
            sess.expires_at = clock_now() + 600;
            store_audit a = audit_rec(ORG_A, 0x9500 + (unsigned)i, "session.issued", 1);
            mix_note(w, w->s->ops->record_batch(w->s, &sess, 1, &a, 1, &err), &err, ERR_NONE);
            int64_t n = 0;
            store_audit r = audit_rec(ORG_A, 0x9600 + (unsigned)i, "session.revoked", 1);
            mix_note(w,
                     w->s->ops->session_revoke_email(w->s, ORG_A, "same@example.com", clock_now(),
                                                     &r, &n, &err),
                     &err, ERR_NONE);
        }
    }
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    store *s = *state;
    err_t err = {0};
    add_org(s, ORG_A);
    for (unsigned g = 0; g < 3; g++) {
        char gid[STORE_ID_MAX];
        make_id(gid, 3, g + 1);
        add_group(s, ORG_A, gid);
    }
    int64_t before = latest(s);
    enum { ROUNDS = 60 };
    mix_worker w[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].s = open_peer();
        assert_non_null(w[i].s);
        w[i].role = i;
        w[i].rounds = ROUNDS;
    }
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, mix_run, &w[i]), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 3; i++) {
        w[i].s->ops->close(w[i].s);
        if (w[i].busy + w[i].other != 0)
            fail_msg("writer %d: %d busy, %d other failures; first: %s", i, w[i].busy, w[i].other,
                     w[i].first.detail);
    }
    collected c = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &c, &err));
    assert_true(c.n > 4 * ROUNDS);
    for (size_t i = 0; i < c.n; i++)
        assert_int_equal(ITEM(c, store_change, i)->seq, before + 1 + (int64_t)i);
    free(c.all);
    /* Every user is gone, and so is every membership of theirs. */
    size_t members = 0;
    OK(s->ops->member_each(s, ORG_A, "", count_rows, &members, &err));
    assert_int_equal(members, 0);
}

/* A lock held longer than lock_timeout (5 s, SQLite's busy_timeout) is
 * ERR_UNAVAILABLE, and the handle works once it is released. */
static void test_lock_wait_is_unavailable(void **state)
{
    store *s = *state;
    err_t err = {0};
    PGconn *held = raw_connect();
    pq_ok(held, "BEGIN");
    pq_ok(held, "UPDATE counters SET value = value WHERE name = 'change_log'");
    store_org o = org_rec(ORG_A, "Waits, then gives up");
    int64_t t0 = clock_mono_ms();
    assert_int_equal(s->ops->org_insert(s, &o, NULL, &err), -1);
    assert_int_equal(err.cls, ERR_UNAVAILABLE);
    assert_non_null(strstr(err.detail, "busy"));
    assert_true(clock_mono_ms() - t0 >= 4500);
    pq_ok(held, "ROLLBACK");
    PQfinish(held);
    OK(s->ops->org_insert(s, &o, NULL, &err));
}

/* ---- a lost connection ---- */

/* The server ends the handle's session (a restart looks the same): the
 * operation that finds out is ERR_UNAVAILABLE, the next one reconnects. */
static void test_killed_connection(void **state)
{
    store *s = *state;
    err_t err = {0};
    store_org o = org_rec(ORG_A, "Before"), got;
    OK(s->ops->org_insert(s, &o, NULL, &err));

    kill_backends();
    FAILS_WITH(s->ops->org_get(s, ORG_A, &got, &err), ERR_UNAVAILABLE);
    OK(s->ops->org_get(s, ORG_A, &got, &err));
    assert_org_equal(&got, &o);

    /* A write (a transaction) finds out at BEGIN. */
    kill_backends();
    store_org o2 = org_rec(ORG_B, "After");
    FAILS_WITH(s->ops->org_insert(s, &o2, NULL, &err), ERR_UNAVAILABLE);
    OK(s->ops->org_insert(s, &o2, NULL, &err));

    /* A listing finds out at its first statement too. */
    kill_backends();
    size_t n = 0;
    FAILS_WITH(s->ops->org_each(s, count_rows, &n, &err), ERR_UNAVAILABLE);
    OK(s->ops->org_each(s, count_rows, &n, &err));
    assert_int_equal(n, 2);
}

/* ---- notifications ---- */

typedef struct {
    store *s;
    int timeout_ms;
    int rc;
    err_t err;
    int64_t done_ms;
} wait_worker;

static void *wait_run(void *arg)
{
    wait_worker *w = arg;
    w->rc = w->s->ops->wait_change(w->s, w->timeout_ms, &w->err);
    w->done_ms = clock_mono_ms();
    return NULL;
}

static void test_wait_change(void **state)
{
    store *writer = *state;
    err_t err = {0};
    store *listener = open_peer();
    assert_non_null(listener);

    /* No change: 0 after the timeout. */
    int64_t t0 = clock_mono_ms();
    assert_int_equal(listener->ops->wait_change(listener, 300, &err), 0);
    assert_true(clock_mono_ms() - t0 >= 250);

    /* Another handle's mutation wakes a waiting listener at once. */
    wait_worker w = {listener, 10000, -2, {0}, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, wait_run, &w), 0);
    usleep(200000);
    add_org(writer, ORG_A);
    int64_t committed = clock_mono_ms();
    pthread_join(th, NULL);
    assert_int_equal(w.rc, 1);
    assert_true(w.done_ms - committed < 1000);

    /* A change committed while nobody waited counts at the next wait. */
    add_org(writer, ORG_B);
    t0 = clock_mono_ms();
    assert_int_equal(listener->ops->wait_change(listener, 5000, &err), 1);
    assert_true(clock_mono_ms() - t0 < 1000);
    /* Writes without change rows (sessions) wake nobody. */
    store_session sess = session_rec(ORG_A, 0x91, 1);
    OK(writer->ops->record_batch(writer, &sess, 1, NULL, 0, &err));
    assert_int_equal(listener->ops->wait_change(listener, 300, &err), 0);

    /* The connections are lost: the listener gets -1 once, then it
     * reconnects, listens again and is woken as before. */
    kill_backends();
    store_org o;
    FAILS_WITH(writer->ops->org_get(writer, ORG_A, &o, &err), ERR_UNAVAILABLE);
    FAILS_WITH(listener->ops->wait_change(listener, 2000, &err), ERR_UNAVAILABLE);
    assert_int_equal(listener->ops->wait_change(listener, 100, &err), 0);
    wait_worker again = {listener, 10000, -2, {0}, 0};
    assert_int_equal(pthread_create(&th, NULL, wait_run, &again), 0);
    usleep(200000);
    char gid[STORE_ID_MAX];
    make_id(gid, 3, 1);
    add_group(writer, ORG_A, gid);
    committed = clock_mono_ms();
    pthread_join(th, NULL);
    assert_int_equal(again.rc, 1);
    assert_true(again.done_ms - committed < 1000);
    listener->ops->close(listener);
}

/* ---- leases ---- */

static void test_lease(void **state)
{
    store *a = *state;
    err_t err = {0};
    store *b = open_peer();
    assert_non_null(b);
    int held = -1;
    OK(a->ops->lease(a, "webhooks.0", &held, &err));
    assert_int_equal(held, 1);
    OK(b->ops->lease(b, "webhooks.0", &held, &err));
    assert_int_equal(held, 0);
    OK(b->ops->lease(b, "webhooks.1", &held, &err));
    assert_int_equal(held, 1);
    OK(a->ops->lease(a, "webhooks.0", &held, &err)); /* still ours */
    assert_int_equal(held, 1);
    /* The holder goes away: the other handle takes over. */
    a->ops->close(a);
    *state = open_peer();
    for (int i = 0; i < 50; i++) {
        OK(b->ops->lease(b, "webhooks.0", &held, &err));
        if (held)
            break;
        usleep(20000);
    }
    assert_int_equal(held, 1);
    b->ops->close(b);
}

/* ---- runner ---- */

#define PG_CASE(f) cmocka_unit_test_setup_teardown(f, contract_setup, contract_teardown)

int main(void)
{
    int64_t t0 = clock_mono_ms();
    if (start_server() != 0)
        return 1;
    fprintf(stderr, "PostgreSQL test server started in %lld ms\n",
            (long long)(clock_mono_ms() - t0));
    const struct CMUnitTest pg_cases[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_unmigrated_store_fails_cleanly),
        cmocka_unit_test(test_concurrent_migrate),
        cmocka_unit_test(test_newer_schema_refused),
        PG_CASE(test_dialects_agree),
        PG_CASE(test_dump_catalogue_matches_schema),
        PG_CASE(test_dump_between_backends),
        PG_CASE(test_long_column_is_internal_error),
        PG_CASE(test_reentrant_each),
        PG_CASE(test_change_log_commit_order),
        PG_CASE(test_multi_row_changes_in_order),
        PG_CASE(test_concurrent_writers),
        PG_CASE(test_lock_wait_is_unavailable),
        PG_CASE(test_killed_connection),
        PG_CASE(test_wait_change),
        PG_CASE(test_lease),
    };
    contract_open_fresh = open_fresh;
    contract_open_peer = open_peer;
    int failed = cmocka_run_group_tests_name("postgres backend", pg_cases, NULL, NULL);
    failed += store_contract_run_peers("store contract: postgres", open_fresh, open_peer);
    stop_server();
    fprintf(stderr, "test_store_pg took %lld ms\n", (long long)(clock_mono_ms() - t0));
    return failed == 0 ? 0 : 1;
}
