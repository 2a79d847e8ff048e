/* test_store_sqlite.c - the SQLite backend: its own cases (URLs, migrations,
 * pragmas, error mapping), then the store contract on temp-file databases in a
 * directory made with mkdtemp and removed at the end. */
#include "store_contract.c"

#include <dirent.h>
#include <sqlite3.h>
#include <unistd.h>

#include "core/assets.h"
#include "core/clock.h"

static char tmp_dir[64];    /* mkdtemp result; removed by remove_tmp_dir */
static char last_path[256]; /* database of the latest open_fresh */
static unsigned db_counter;

static void db_path(char out[256], const char *name)
{
    snprintf(out, 256, "%s/%s", tmp_dir, name);
}

static store *open_fresh(void)
{
    err_t err = {0};
    char name[32];
    snprintf(name, sizeof(name), "db-%u.sqlite", db_counter++);
    db_path(last_path, name);
    store *s = store_sqlite_open(last_path, &err);
    if (s == NULL)
        fprintf(stderr, "open %s: %s\n", last_path, err.detail);
    return s;
}

static store *open_peer(void)
{
    err_t err = {0};
    store *s = store_sqlite_open(last_path, &err);
    if (s == NULL)
        fprintf(stderr, "open %s: %s\n", last_path, err.detail);
    return s;
}

static void remove_tmp_dir(void)
{
    DIR *d = opendir(tmp_dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char path[512];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmp_dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmp_dir);
}

/* Runs sql on its own raw connection to path (to poke at the file directly). */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

/* The single integer that sql (a SELECT) returns on a raw connection to path. */
static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- store_open ---- */

static void expect_open_fails(const char *url, const char *detail_part)
{
    err_t err = {0};
    assert_null(store_open(url, &err));
    assert_int_equal(err.cls, ERR_INVALID_REQUEST);
    assert_non_null(strstr(err.detail, detail_part));
}

static void open_and_close(const char *url)
{
    err_t err = {0};
    store *s = store_open(url, &err);
    if (s == NULL)
        fail_msg("store_open(%s): %s", url, err.detail);
    assert_int_equal(s->ops->migrate(s, &err), 0);
    s->ops->close(s);
}

static void test_open_urls(void **state)
{
    (void)state;
    char path[256], url[300];
    db_path(path, "url.sqlite");
    snprintf(url, sizeof(url), "sqlite:%s", path);
    open_and_close(url);
    open_and_close(path);

    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(tmp_dir), 0);
    open_and_close("./colon:name.sqlite");
    open_and_close("sqlite:relative.sqlite");
    assert_int_equal(chdir(cwd), 0);

    expect_open_fails(NULL, "sqlite:PATH");
    expect_open_fails("", "sqlite:PATH");
    expect_open_fails("sqlite:", "sqlite:PATH");
    expect_open_fails("sqlite://tmp/x.db", "sqlite:PATH");
    expect_open_fails("mysql://db/tessera", "sqlite:PATH");
    expect_open_fails("sqllite:x.db", "sqlite:PATH");

    /* PostgreSQL URLs go to the PostgreSQL backend (test_store_pg.c); with
     * nothing listening (port 1 of the loopback) it cannot connect, and the
     * password stays out of the detail. */
    const char *pg[] = {"postgres://tessera:hunter2@127.0.0.1:1/tessera",
                        "postgresql://tessera:hunter2@127.0.0.1:1/tessera"};
    for (size_t i = 0; i < 2; i++) {
        err_t err = {0};
        assert_null(store_open(pg[i], &err));
        assert_int_equal(err.cls, ERR_UNAVAILABLE);
        assert_null(strstr(err.detail, "hunter2"));
    }
}

static void test_memory_database(void **state)
{
    (void)state;
    open_and_close("sqlite::memory:");
}

static void test_open_unreachable(void **state)
{
    (void)state;
    err_t err = {0};
    char path[300];
    snprintf(path, sizeof(path), "%s/no/such/dir/x.sqlite", tmp_dir);
    assert_null(store_sqlite_open(path, &err));
    assert_int_equal(err.cls, ERR_UNAVAILABLE);
}

/* ---- migrations and pragmas ---- */

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

static void test_concurrent_migrate(void **state)
{
    (void)state;
    for (int round = 0; round < 5; round++) {
        migrate_at_once(open_fresh(), open_peer());
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(last_path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM schema_migrations", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(sqlite3_column_int(st, 0) >= 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
    (void)state;
    err_t err = {0};
    store *s = open_fresh();
    assert_int_equal(s->ops->migrate(s, &err), 0);
    raw_exec(last_path, "INSERT INTO schema_migrations (version, applied_at) VALUES (999999, 0)");
    assert_int_equal(s->ops->migrate(s, &err), -1);
    assert_int_equal(err.cls, ERR_INTERNAL);
    assert_non_null(strstr(err.detail, "newer"));
    s->ops->close(s);
}

static void test_wal_mode_on_disk(void **state)
{
    store *s = *state;
    (void)s;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(last_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* The migrations compiled in (migrations/sqlite/NNN_*.sql): how many, and the newest version. */
static int migrations_count(int *latest)
{
    int n = 0;
    *latest = 0;
    for (size_t i = 0; i < asset_count; i++) {
        if (strncmp(asset_table[i].path, "migrations/sqlite/", 18) != 0)
            continue;
        int v = atoi(asset_table[i].path + 18);
        *latest = v > *latest ? v : *latest;
        n++;
    }
    return n;
}

/* A database that an older tessera created and migrated to 001 only (built
 * here the way migrate() did it then, from the compiled-in 001 file) gets
 * every later migration applied, keeps its rows, and the new operations
 * work on them. */
/* Migration 008 on a database where nodes racing at start left several
 * active keys: the newest stays active, the others retire (still published),
 * and from then on a second active key is refused. */
static void test_migrate_008_keeps_one_active_key(void **state)
{
    (void)state;
    err_t err = {0};
    store *s = open_fresh();
    assert_non_null(s);
    raw_exec(last_path, "CREATE TABLE schema_migrations ("
                        "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    for (int v = 1; v <= 7; v++) {
        char name[64], sql[128];
        const asset *m = NULL;
        for (size_t i = 0; i < asset_count && m == NULL; i++) {
            snprintf(name, sizeof(name), "migrations/sqlite/%03d_", v);
            if (strncmp(asset_table[i].path, name, strlen(name)) == 0)
                m = &asset_table[i];
        }
        assert_non_null(m);
        raw_exec(last_path, (const char *)m->data);
        snprintf(sql, sizeof(sql), "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, 1)", v);
        raw_exec(last_path, sql);
    }
    raw_exec(last_path, "INSERT INTO signing_keys VALUES ('k-old', 'ES256', 'active', x'00', '{}', 100);"
                        "INSERT INTO signing_keys VALUES ('k-new', 'ES256', 'active', x'00', '{}', 101);"
                        "INSERT INTO signing_keys VALUES ('k-gone', 'ES256', 'retired', x'00', '{}', 99);");
    if (s->ops->migrate(s, &err) != 0)
        fail_msg("migrate: %s", err.detail);
    store_key k;
    OK(s->ops->key_get(s, "k-new", &k, &err));
    assert_string_equal(k.state, "active");
    OK(s->ops->key_get(s, "k-old", &k, &err));
    assert_string_equal(k.state, "retiring");
    OK(s->ops->key_get(s, "k-gone", &k, &err));
    assert_string_equal(k.state, "retired");
    FAILS_WITH(s->ops->key_set_state(s, "k-old", "active", NULL, &err), ERR_CONFLICT);
    s->ops->close(s);
}

static void test_migrate_001_database_to_latest(void **state)
{
    (void)state;
    err_t err = {0};
    char uid[STORE_ID_MAX], gid[STORE_ID_MAX], sql[1024];
    make_id(uid, 1, 1);
    make_id(gid, 3, 1);
    store *s = open_fresh(); /* creates the file; not migrated */
    assert_non_null(s);
    const asset *v1 = assets_find("migrations/sqlite/001_init.sql");
    assert_non_null(v1);
    raw_exec(last_path, "CREATE TABLE schema_migrations ("
                        "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    raw_exec(last_path, (const char *)v1->data);
    raw_exec(last_path, "INSERT INTO schema_migrations (version, applied_at) VALUES (1, 1)");
    snprintf(sql, sizeof(sql),
             "PRAGMA foreign_keys=ON;"
             "INSERT INTO orgs VALUES ('%s', 'Old', 'standard', 3600, 86400, 1);"
             "INSERT INTO users VALUES ('%s', '%s', 'old@example.com', 'Old', 'owner', '', 2);"
             "INSERT INTO groups VALUES ('%s', '%s', 'Old group', 3);"
             "INSERT INTO group_members VALUES ('%s', '%s', '%s');",
             ORG_A, uid, ORG_A, gid, ORG_A, ORG_A, gid, uid);
    raw_exec(last_path, sql);
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM sqlite_master "
                                        "WHERE name = 'console_sessions'"),
                     0);

    if (s->ops->migrate(s, &err) != 0)
        fail_msg("migrate: %s", err.detail);
    int latest, count = migrations_count(&latest);
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM schema_migrations"), count);
    assert_int_equal(raw_int(last_path, "SELECT max(version) FROM schema_migrations"), latest);
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                        "('console_sessions', 'idps', 'integrations', 'subject_tokens')"),
                     4);
    OK(s->ops->migrate(s, &err)); /* idempotent */
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM schema_migrations"), count);

    store_user u;
    OK(s->ops->user_get(s, ORG_A, uid, &u, &err));
    assert_string_equal(u.email, "old@example.com");
    store_console_session cs = console_rec(ORG_A, uid, 'a', clock_now() + 600), got;
    OK(s->ops->console_session_insert(s, &cs, NULL, &err));
    OK(s->ops->console_session_get(s, cs.id_hash, &got, &err));
    assert_console_equal(&got, &cs);
    int64_t n = 0;
    OK(s->ops->user_count_role(s, ORG_A, "owner", &n, &err));
    assert_int_equal(n, 1);
    OK(s->ops->user_delete(s, ORG_A, uid, NULL, &err));
    FAILS_WITH(s->ops->console_session_get(s, cs.id_hash, &got, &err), ERR_NOT_FOUND);
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM console_sessions"), 0);
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM group_members"), 0);
    s->ops->close(s);
}

/* console_session_insert drops the expired rows (and only those). */
static void test_console_session_housekeeping(void **state)
{
    store *s = *state;
    err_t err = {0};
    char uid[STORE_ID_MAX];
    make_id(uid, 1, 1);
    add_org(s, ORG_A);
    store_user u = user_rec(ORG_A, uid, "u@example.com");
    OK(s->ops->user_insert(s, &u, NULL, &err));
    int64_t now = clock_now();
    /* 50 sessions that expired long ago, as a crashed server would leave them. */
    raw_exec(last_path, "PRAGMA foreign_keys=ON;"
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                        "WHERE i < 50) "
                        "INSERT INTO console_sessions SELECT 'x' || i, org_id, id, 'c', 0, i "
                        "FROM users, n");
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM console_sessions"), 50);
    store_console_session live = console_rec(ORG_A, uid, 'b', now + 600);
    OK(s->ops->console_session_insert(s, &live, NULL, &err));
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM console_sessions"), 1);
    /* Housekeeping runs before the insert: an already expired row is stored... */
    store_console_session expiring = console_rec(ORG_A, uid, 'c', now - 1);
    OK(s->ops->console_session_insert(s, &expiring, NULL, &err));
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM console_sessions"), 2);
    /* ...and dropped by the next one. */
    store_console_session next = console_rec(ORG_A, uid, 'd', now + 600);
    OK(s->ops->console_session_insert(s, &next, NULL, &err));
    assert_int_equal(raw_int(last_path, "SELECT count(*) FROM console_sessions"), 2);
    store_console_session got;
    OK(s->ops->console_session_get(s, live.id_hash, &got, &err));
    OK(s->ops->console_session_get(s, next.id_hash, &got, &err));
}

/* ---- error mapping ---- */

static void test_long_column_is_internal_error(void **state)
{
    store *s = *state;
    err_t err = {0};
    add_org(s, ORG_A);
    raw_exec(last_path, "UPDATE orgs SET name = printf('%.300c', 'x')");
    store_org o;
    assert_int_equal(s->ops->org_get(s, ORG_A, &o, &err), -1);
    assert_int_equal(err.cls, ERR_INTERNAL);
    assert_non_null(strstr(err.detail, "name"));
    size_t n = 0;
    assert_int_equal(s->ops->org_each(s, count_rows, &n, &err), -1);
    assert_int_equal(n, 0);
}

static void test_busy_is_unavailable(void **state)
{
    store *s = *state;
    err_t err = {0};
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(last_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    store_org o = org_rec(ORG_A, "Waits, then gives up");
    int64_t t0 = clock_mono_ms();
    assert_int_equal(s->ops->org_insert(s, &o, NULL, &err), -1);
    assert_int_equal(err.cls, ERR_UNAVAILABLE);
    assert_true(clock_mono_ms() - t0 >= 4000); /* it waited for busy_timeout */
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    assert_int_equal(s->ops->org_insert(s, &o, NULL, &err), 0);
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

static void test_reentrant_each_refused(void **state)
{
    store *s = *state;
    err_t err = {0};
    add_org(s, ORG_A);
    nested n = {s, 0, {0}};
    assert_int_equal(s->ops->org_each(s, each_inside_each, &n, &err), 0);
    assert_int_equal(n.rc, -1);
    assert_int_equal(n.err.cls, ERR_INTERNAL);
    /* A different operation inside a callback is fine, and the handle still works. */
    size_t count = 0;
    assert_int_equal(s->ops->org_each(s, count_rows, &count, &err), 0);
    assert_int_equal(count, 1);
}

/* Webhook cursors are audit-log positions (the implicit rowid of
 * audit_events): VACUUM must not renumber them, even with gaps left by
 * deleted rows, or a cursor would skip or replay events. */
static void test_audit_positions_survive_vacuum(void **state)
{
    store *s = *state;
    err_t err = {0};
    add_audit(s, ORG_A, 0, 6);
    raw_exec(last_path, "DELETE FROM audit_events WHERE rowid IN (1, 2, 4)");
    collected before = COLLECTED(store_audit_entry);
    OK(s->ops->audit_after(s, ORG_A, 0, 100, collect, &before, &err));
    assert_int_equal(before.n, 3);
    raw_exec(last_path, "VACUUM");
    collected after = COLLECTED(store_audit_entry);
    OK(s->ops->audit_after(s, ORG_A, 0, 100, collect, &after, &err));
    assert_int_equal(after.n, before.n);
    for (size_t i = 0; i < after.n; i++) {
        assert_int_equal(ITEM(after, store_audit_entry, i)->seq, ITEM(before, store_audit_entry, i)->seq);
        assert_string_equal(ITEM(after, store_audit_entry, i)->audit.id, ITEM(before, store_audit_entry, i)->audit.id);
    }
    free(before.all);
    free(after.all);
}

/* The export catalogue (sql_dump.c) lists every table of the schema with
 * exactly its columns: a migration that adds either fails here until the
 * dump carries it. audit_events' "seq" is its rowid, not a column. */
static void test_dump_catalogue_matches_schema(void **state)
{
    store *s = *state;
    (void)s;
    sqlite3 *db = NULL;
    sqlite3_stmt *tables = NULL;
    size_t seen = 0;
    assert_int_equal(sqlite3_open(last_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                        "'sqlite_%' AND name != 'schema_migrations' ORDER BY name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        const char *cols = NULL;
        for (size_t i = 0; i < sql_dump_ntables() && cols == NULL; i++) {
            const char *c;
            if (strcmp(sql_dump_table(i, &c), name) == 0)
                cols = c;
        }
        if (cols == NULL)
            fail_msg("table %s is not in the export catalogue", name);
        char want[1024] = "", sql[128];
        if (strcmp(name, "audit_events") == 0)
            snprintf(want, sizeof(want), "seq");
        sqlite3_stmt *info = NULL;
        snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s') ORDER BY cid", name);
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &info, NULL), SQLITE_OK);
        while (sqlite3_step(info) == SQLITE_ROW) {
            size_t n = strlen(want);
            snprintf(want + n, sizeof(want) - n, "%s%s", n ? ", " : "", (const char *)sqlite3_column_text(info, 0));
        }
        sqlite3_finalize(info);
        /* Same set of columns; the catalogue's order is the dump's. */
        char a[1024], b[1024];
        snprintf(a, sizeof(a), "%s", want);
        snprintf(b, sizeof(b), "%s", cols);
        size_t na = 1, nb = 1;
        for (char *p = a; *p; p++)
            na += *p == ',';
        for (char *p = b; *p; p++)
            nb += *p == ',';
        if (na != nb)
            fail_msg("%s: schema columns (%s) and catalogue (%s) differ", name, want, cols);
        char *save = NULL;
        for (char *tok = strtok_r(a, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
            char needle[80];
            snprintf(needle, sizeof(needle), ", %s,", tok);
            char hay[1100];
            snprintf(hay, sizeof(hay), ", %s,", cols);
            if (strstr(hay, needle) == NULL)
                fail_msg("%s: column %s is not in the export catalogue", name, tok);
        }
        seen++;
    }
    sqlite3_finalize(tables);
    sqlite3_close(db);
    assert_int_equal(seen, sql_dump_ntables());
}

int main(void)
{
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/tessera-store-XXXXXX");
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest sqlite_cases[] = {
        cmocka_unit_test(test_open_urls),
        cmocka_unit_test(test_memory_database),
        cmocka_unit_test(test_open_unreachable),
        cmocka_unit_test(test_unmigrated_store_fails_cleanly),
        cmocka_unit_test(test_concurrent_migrate),
        cmocka_unit_test(test_newer_schema_refused),
        cmocka_unit_test(test_migrate_001_database_to_latest),
        cmocka_unit_test(test_migrate_008_keeps_one_active_key),
        CASE(test_console_session_housekeeping),
        CASE(test_wal_mode_on_disk),
        CASE(test_long_column_is_internal_error),
        CASE(test_busy_is_unavailable),
        CASE(test_reentrant_each_refused),
        CASE(test_audit_positions_survive_vacuum),
        CASE(test_dump_catalogue_matches_schema),
    };
    contract_open_fresh = open_fresh;
    int failed = cmocka_run_group_tests_name("sqlite backend", sqlite_cases, NULL, NULL);
    failed += store_contract_run_peers("store contract: sqlite", open_fresh, open_peer);
    remove_tmp_dir();
    return failed == 0 ? 0 : 1;
}
