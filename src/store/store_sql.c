/* store_sql.c - every operation of store.h, written once over a SQL driver
 * (sql.h): store_sqlite.c and store_pg.c supply the connection, and each
 * dialect its statements (sqlite_queries.c, pg_queries.c), which take the
 * same parameters and return the same columns.
 *
 * Every write runs as one transaction (write_run): the mutation, its
 * change-log row and its audit row commit together or not at all, and a write
 * is durable when the operation returns 0 (SQLite: WAL with synchronous=FULL;
 * PostgreSQL: synchronous_commit).
 *
 * Row readers copy text columns into the records' fixed-size fields and fail
 * with ERR_INTERNAL rather than truncate. Binders take the records' fields as
 * they are; a field that is not NUL-terminated within its array is a
 * programming error (assert). */
#include "store/sql.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/assets.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/uuid.h"
#include "core/xalloc.h"

/* ---- the handle ---- */

/* A statement of the handle's connection, with the driver that runs it:
 * what binders and row readers get. */
typedef struct {
    const sql_driver *drv;
    sql_stmt *st; /* the driver's, prepared on first use; NULL until then */
} cursor;

typedef struct {
    store base;            /* first member: the store * handed out points here */
    const sql_driver *drv;
    sql_db *db;            /* owned; closed by op_close */
    cursor stmt[Q_COUNT];
} store_sql;

static store_sql *from(store *s)
{
    return (store_sql *)s;
}

/* ---- errors ---- */

/* What query q reads or writes, for "... not found" / "... already exists". */
static const char *entity_of(const store_sql *ss, int q)
{
    const char *entity = ss->drv->queries[q].entity;
    return entity ? entity : "row";
}

/* Maps the connection's last failure, in query q, to the store's error
 * classes. The detail names the operation and the entity, never SQL text or
 * values. */
static int fail(const store_sql *ss, int q, err_t *e)
{
    const sql_query *qq = &ss->drv->queries[q];
    const char *text = "";
    switch (ss->drv->last_error(ss->db, &text)) {
    case SQL_E_UNIQUE:
        if (qq->conflict != NULL)
            return err_set(e, ERR_CONFLICT, "%s", qq->conflict);
        return err_set(e, ERR_CONFLICT, "%s already exists", entity_of(ss, q));
    case SQL_E_FOREIGN_KEY:
        return err_set(e, ERR_INVALID_REQUEST, "%s",
                       qq->missing ? qq->missing : "referenced row does not exist");
    case SQL_E_NOT_NULL:
        return err_set(e, ERR_INVALID_REQUEST, "%s: a required field is missing", qq->name);
    case SQL_E_TOO_BIG:
        return err_set(e, ERR_TOO_LARGE, "%s: value too large for the database", qq->name);
    case SQL_E_BUSY:
        return err_set(e, ERR_UNAVAILABLE, "database is busy (%s)", qq->name);
    case SQL_E_UNREACHABLE:
        return err_set(e, ERR_UNAVAILABLE, "database is unreachable (%s)", qq->name);
    case SQL_E_SCHEMA:
        return err_set(e, ERR_INTERNAL, "cannot prepare %s (is the database migrated?)", qq->name);
    case SQL_E_OTHER:
    default:
        return err_set(e, ERR_INTERNAL, "database error in %s: %s", qq->name, text);
    }
}

/* ---- statements ---- */

/* The statement of q, prepared on first use, or NULL with *e set. It stays
 * owned by the connection; hand it back with stmt_release. A statement still
 * stepping (an *_each whose callback calls the same *_each) is refused. */
static const cursor *stmt_get(store_sql *ss, int q, err_t *e)
{
    cursor *c = &ss->stmt[q];
    if (c->st == NULL && (c->st = ss->drv->stmt(ss->db, q)) == NULL) {
        fail(ss, q, e);
        return NULL;
    }
    if (ss->drv->busy(c->st)) {
        err_set(e, ERR_INTERNAL, "%s called from inside its own callback", ss->drv->queries[q].name);
        return NULL;
    }
    return c;
}

/* Resets st and drops its bindings (they may point at the caller's memory). */
static void stmt_release(const cursor *st)
{
    st->drv->reset(st->st);
}

static int step(const cursor *st)
{
    return st->drv->step(st->st);
}

/* Binders. Text and blobs are borrowed: they must outlive the step, which they
 * do because every statement is released before the operation returns. */
static void bind_text(const cursor *st, int i, const char *s)
{
    st->drv->bind_text(st->st, i, s, s ? strlen(s) : 0);
}

static void bind_field_(const cursor *st, int i, const char *field, size_t cap)
{
    const char *nul = memchr(field, '\0', cap);
    assert(nul != NULL && "record string field is not NUL-terminated");
    st->drv->bind_text(st->st, i, field, nul ? (size_t)(nul - field) : 0);
}
#define bind_field(st, i, field) bind_field_((st), (i), (field), sizeof(field))

static void bind_int(const cursor *st, int i, int64_t v)
{
    st->drv->bind_int(st->st, i, v);
}

/* Binds len bytes (len 0: an empty value, never NULL). Fails only for a value
 * over the database's limit, a real outcome for large bundle files. */
static int bind_blob(const cursor *st, int i, const void *data, size_t len)
{
    return st->drv->bind_blob(st->st, i, data, len);
}

static int64_t col_int(const cursor *st, int i)
{
    return st->drv->col_int(st->st, i);
}

/* A blob column's bytes (never NULL), valid until the next step or release. */
static const unsigned char *col_bytes(const cursor *st, int i, size_t *len)
{
    return st->drv->col_blob(st->st, i, len);
}

/* Copies text column i into dst[cap]; a value that does not fit is an error. */
static int col_text_(const cursor *st, int i, char *dst, size_t cap, err_t *e)
{
    size_t n = 0;
    const char *t = st->drv->col_text(st->st, i, &n);
    if (t == NULL) {
        dst[0] = '\0';
        return 0;
    }
    if (n >= cap)
        return err_set(e, ERR_INTERNAL, "stored %s is longer than %zu bytes",
                       st->drv->col_name(st->st, i), cap - 1);
    memcpy(dst, t, n);
    dst[n] = '\0';
    return 0;
}
#define col_text(st, i, field, e) col_text_((st), (i), (field), sizeof(field), (e))

/* Runs the bound statement q, which returns no rows, and releases it. */
static int step_done(store_sql *ss, int q, err_t *e)
{
    const cursor *st = &ss->stmt[q];
    int rc = step(st);
    int ret = rc == SQL_DONE ? 0 : fail(ss, q, e);
    stmt_release(st);
    return ret;
}

typedef void (*binder)(const cursor *st, const void *rec);
typedef int (*row_reader)(const cursor *st, void *out, err_t *e);

/* Prepares (if needed), binds rec with bind (NULL: q has no parameters) and
 * runs q, which returns no rows. With changes_required, "no row changed" is
 * ERR_NOT_FOUND. */
static int exec_bound(store_sql *ss, int q, binder bind, const void *rec, int changes_required,
                      err_t *e)
{
    const cursor *st = stmt_get(ss, q, e);
    if (st == NULL)
        return -1;
    if (bind != NULL)
        bind(st, rec);
    if (step_done(ss, q, e) != 0)
        return -1;
    if (changes_required && ss->drv->changes(ss->db) == 0)
        return err_set(e, ERR_NOT_FOUND, "%s not found", entity_of(ss, q));
    return 0;
}

/* Runs q (a lock, whose rows do not matter) bound by bind (NULL: no
 * parameters), when the dialect has it. */
static int exec_lock(store_sql *ss, int q, binder bind, const void *rec, err_t *e)
{
    if (ss->drv->queries[q].sql == NULL)
        return 0;
    const cursor *st = stmt_get(ss, q, e);
    if (st == NULL)
        return -1;
    if (bind != NULL)
        bind(st, rec);
    int rc = step(st);
    stmt_release(st);
    return rc == SQL_FAILED ? fail(ss, q, e) : 0;
}

/* Steps the bound statement q once and reads the row into out with rd;
 * ERR_NOT_FOUND when there is none ("<entity> <key> not found", key may be
 * NULL). Releases the statement. */
static int fetch_one(store_sql *ss, int q, row_reader rd, void *out, const char *key, err_t *e)
{
    const cursor *st = &ss->stmt[q];
    int ret = -1;
    int rc = step(st);
    if (rc == SQL_ROW)
        ret = rd(st, out, e);
    else if (rc == SQL_DONE && key != NULL)
        err_set(e, ERR_NOT_FOUND, "%s %s not found", entity_of(ss, q), key);
    else if (rc == SQL_DONE)
        err_set(e, ERR_NOT_FOUND, "%s not found", entity_of(ss, q));
    else
        fail(ss, q, e);
    stmt_release(st);
    return ret;
}

/* Steps the bound statement q, reading each row into rec (the caller's
 * scratch record) and calling fn(ctx, rec) until fn returns nonzero or the
 * rows run out. Releases the statement. */
static int fetch_each(store_sql *ss, int q, row_reader rd, void *rec, store_each_fn fn,
                      void *ctx, err_t *e)
{
    const cursor *st = &ss->stmt[q];
    int ret = -1;
    int rc;
    while ((rc = step(st)) == SQL_ROW) {
        if (rd(st, rec, e) != 0)
            goto out;
        if (fn(ctx, rec) != 0)
            break;
    }
    if (rc == SQL_FAILED) {
        fail(ss, q, e);
        goto out;
    }
    ret = 0;
out:
    stmt_release(st);
    return ret;
}

/* Lists with an optional org filter (NULL or "" = every org) and, for the
 * statements that have one, a sub-filter (group or app id; "" = every one).
 * sub is NULL for the statements without. */
static int each_filtered(store_sql *ss, int q_org, int q_all, const char *org_id,
                         const char *sub, row_reader rd, void *rec, store_each_fn fn, void *ctx,
                         err_t *e)
{
    int all = org_id == NULL || org_id[0] == '\0';
    int q = all ? q_all : q_org;
    const cursor *st = stmt_get(ss, q, e);
    if (st == NULL)
        return -1;
    int i = 1;
    if (!all)
        bind_text(st, i++, org_id);
    if (sub != NULL)
        bind_text(st, i, sub);
    return fetch_each(ss, q, rd, rec, fn, ctx, e);
}

/* ---- row readers: column order as in the *_COLS lists ---- */

static int read_org(const cursor *st, void *rec, err_t *e)
{
    store_org *o = rec;
    memset(o, 0, sizeof(*o));
    if (col_text(st, 0, o->id, e) || col_text(st, 1, o->name, e) || col_text(st, 2, o->type, e))
        return -1;
    o->session_ttl = col_int(st, 3);
    o->session_ttl_max = col_int(st, 4);
    o->created_at = col_int(st, 5);
    return 0;
}

static int read_user(const cursor *st, void *rec, err_t *e)
{
    store_user *u = rec;
    memset(u, 0, sizeof(*u));
    if (col_text(st, 0, u->id, e) || col_text(st, 1, u->org_id, e) ||
        col_text(st, 2, u->email, e) || col_text(st, 3, u->name, e) ||
        col_text(st, 4, u->role, e) || col_text(st, 5, u->password_hash, e))
        return -1;
    u->created_at = col_int(st, 6);
    return 0;
}

static int read_token(const cursor *st, void *rec, err_t *e)
{
    store_token *t = rec;
    memset(t, 0, sizeof(*t));
    if (col_text(st, 0, t->id, e) || col_text(st, 1, t->org_id, e) || col_text(st, 2, t->name, e) ||
        col_text(st, 3, t->type, e) || col_text(st, 4, t->prefix, e) ||
        col_text(st, 5, t->hash, e) || col_text(st, 6, t->created_by, e))
        return -1;
    t->created_at = col_int(st, 7);
    t->expires_at = col_int(st, 8);
    t->last_used_at = col_int(st, 9);
    t->revoked_at = col_int(st, 10);
    t->rate_rps = col_int(st, 11);
    t->rate_burst = col_int(st, 12);
    return 0;
}

static int read_group(const cursor *st, void *rec, err_t *e)
{
    store_group *g = rec;
    memset(g, 0, sizeof(*g));
    if (col_text(st, 0, g->id, e) || col_text(st, 1, g->org_id, e) || col_text(st, 2, g->name, e))
        return -1;
    g->created_at = col_int(st, 3);
    return 0;
}

static int read_grant(const cursor *st, void *rec, err_t *e)
{
    store_grant *g = rec;
    memset(g, 0, sizeof(*g));
    if (col_text(st, 0, g->org_id, e) || col_text(st, 1, g->group_id, e) ||
        col_text(st, 2, g->app_id, e) || col_text(st, 3, g->permission, e))
        return -1;
    return 0;
}

static int read_member(const cursor *st, void *rec, err_t *e)
{
    store_member *m = rec;
    memset(m, 0, sizeof(*m));
    if (col_text(st, 0, m->org_id, e) || col_text(st, 1, m->group_id, e) ||
        col_text(st, 2, m->user_id, e))
        return -1;
    return 0;
}

static int read_app(const cursor *st, void *rec, err_t *e)
{
    store_app *a = rec;
    memset(a, 0, sizeof(*a));
    if (col_text(st, 0, a->id, e) || col_text(st, 1, a->org_id, e) || col_text(st, 2, a->name, e) ||
        col_text(st, 3, a->mode, e) || col_text(st, 4, a->allowed_origins, e))
        return -1;
    a->created_at = col_int(st, 5);
    return 0;
}

/* Copies blob column i into dst[cap] (*len set); a longer value is an error. */
static int col_blob_(const cursor *st, int i, unsigned char *dst, size_t cap, size_t *len, err_t *e)
{
    size_t n = 0;
    const unsigned char *data = col_bytes(st, i, &n);
    if (n > cap)
        return err_set(e, ERR_INTERNAL, "stored %s is longer than %zu bytes", st->drv->col_name(st->st, i),
                       cap);
    if (n > 0)
        memcpy(dst, data, n);
    *len = n;
    return 0;
}
#define col_blob(st, i, field, len, e) col_blob_((st), (i), (field), sizeof(field), (len), (e))

static int read_idp(const cursor *st, void *rec, err_t *e)
{
    store_idp *p = rec;
    memset(p, 0, sizeof(*p));
    if (col_text(st, 0, p->id, e) || col_text(st, 1, p->org_id, e) || col_text(st, 2, p->name, e) ||
        col_text(st, 3, p->issuer, e) || col_text(st, 4, p->jwks_uri, e) || col_text(st, 5, p->jwks, e) ||
        col_text(st, 6, p->audience, e) || col_text(st, 7, p->email_claim, e) ||
        col_text(st, 8, p->algorithms, e))
        return -1;
    p->created_at = col_int(st, 9);
    return 0;
}

static int read_integration(const cursor *st, void *rec, err_t *e)
{
    store_integration *g = rec;
    memset(g, 0, sizeof(*g));
    if (col_text(st, 0, g->id, e) || col_text(st, 1, g->org_id, e) || col_text(st, 2, g->name, e) ||
        col_text(st, 3, g->base_url, e) || col_text(st, 4, g->token_url, e) ||
        col_text(st, 5, g->client_id, e) ||
        col_blob(st, 6, g->client_secret_sealed, &g->client_secret_sealed_len, e) ||
        col_text(st, 7, g->audience, e) || col_text(st, 8, g->scope, e))
        return -1;
    g->created_at = col_int(st, 9);
    return 0;
}

static int read_subject(const cursor *st, void *rec, err_t *e)
{
    store_subject_token *t = rec;
    memset(t, 0, sizeof(*t));
    if (col_text(st, 0, t->jti, e) || col_text(st, 1, t->org_id, e) || col_text(st, 2, t->idp_id, e) ||
        col_text(st, 3, t->token_type, e) || col_blob(st, 4, t->sealed, &t->sealed_len, e))
        return -1;
    t->expires_at = col_int(st, 5);
    return 0;
}

static int read_version(const cursor *st, void *rec, err_t *e)
{
    store_app_version *v = rec;
    memset(v, 0, sizeof(*v));
    if (col_text(st, 0, v->id, e) || col_text(st, 1, v->org_id, e) || col_text(st, 2, v->app_id, e))
        return -1;
    v->version = col_int(st, 3);
    if (col_text(st, 4, v->created_by, e))
        return -1;
    v->created_at = col_int(st, 5);
    v->file_count = col_int(st, 6);
    v->total_bytes = col_int(st, 7);
    return 0;
}

static int read_key(const cursor *st, void *rec, err_t *e)
{
    store_key *k = rec;
    memset(k, 0, sizeof(*k));
    if (col_text(st, 0, k->kid, e) || col_text(st, 1, k->alg, e) || col_text(st, 2, k->state, e))
        return -1;
    size_t n = 0;
    const unsigned char *sealed = col_bytes(st, 3, &n);
    if (n > sizeof(k->sealed_private))
        return err_set(e, ERR_INTERNAL, "stored sealed key of %s is longer than %zu bytes", k->kid,
                       sizeof(k->sealed_private));
    if (n > 0)
        memcpy(k->sealed_private, sealed, n);
    k->sealed_len = n;
    if (col_text(st, 4, k->public_jwk, e))
        return -1;
    k->created_at = col_int(st, 5);
    return 0;
}

static int read_session(const cursor *st, void *rec, err_t *e)
{
    store_session *s = rec;
    memset(s, 0, sizeof(*s));
    if (col_text(st, 0, s->jti, e) || col_text(st, 1, s->org_id, e) ||
        col_text(st, 2, s->user_id, e) || col_text(st, 3, s->email, e) ||
        col_text(st, 4, s->user_type, e) || col_text(st, 5, s->atid, e))
        return -1;
    s->issued_at = col_int(st, 6);
    s->expires_at = col_int(st, 7);
    s->revoked_at = col_int(st, 8);
    return 0;
}

static int read_console(const cursor *st, void *rec, err_t *e)
{
    store_console_session *cs = rec;
    memset(cs, 0, sizeof(*cs));
    if (col_text(st, 0, cs->id_hash, e) || col_text(st, 1, cs->org_id, e) ||
        col_text(st, 2, cs->user_id, e) || col_text(st, 3, cs->csrf_token, e))
        return -1;
    cs->created_at = col_int(st, 4);
    cs->expires_at = col_int(st, 5);
    return 0;
}

static int read_audit(const cursor *st, void *rec, err_t *e)
{
    store_audit *a = rec;
    memset(a, 0, sizeof(*a));
    if (col_text(st, 0, a->id, e) || col_text(st, 1, a->org_id, e))
        return -1;
    a->at = col_int(st, 2);
    if (col_text(st, 3, a->actor, e) || col_text(st, 4, a->action, e) ||
        col_text(st, 5, a->target, e) || col_text(st, 6, a->client, e) ||
        col_text(st, 7, a->request_id, e) || col_text(st, 8, a->detail, e))
        return -1;
    return 0;
}

static int read_change(const cursor *st, void *rec, err_t *e)
{
    store_change *c = rec;
    memset(c, 0, sizeof(*c));
    c->seq = col_int(st, 0);
    if (col_text(st, 1, c->kind, e) || col_text(st, 2, c->org_id, e) || col_text(st, 3, c->id, e))
        return -1;
    return 0;
}

static int read_int64(const cursor *st, void *out, err_t *e)
{
    (void)e;
    *(int64_t *)out = col_int(st, 0);
    return 0;
}

/* ---- binders: parameter order as in the *_COLS lists ---- */

static void bind_org(const cursor *st, const void *rec)
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
static void bind_org_update(const cursor *st, const void *rec)
{
    const store_org *o = rec;
    bind_field(st, 1, o->id);
    bind_field(st, 2, o->name);
    bind_field(st, 3, o->type);
    bind_int(st, 4, o->session_ttl);
    bind_int(st, 5, o->session_ttl_max);
}

static void bind_user(const cursor *st, const void *rec)
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
static void bind_user_update(const cursor *st, const void *rec)
{
    const store_user *u = rec;
    bind_field(st, 1, u->org_id);
    bind_field(st, 2, u->id);
    bind_field(st, 3, u->name);
    bind_field(st, 4, u->role);
    bind_field(st, 5, u->password_hash);
}

static void bind_token(const cursor *st, const void *rec)
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
static void bind_token_rate(const cursor *st, const void *rec)
{
    const store_token *t = rec;
    bind_field(st, 1, t->org_id);
    bind_field(st, 2, t->id);
    bind_int(st, 3, t->rate_rps);
    bind_int(st, 4, t->rate_burst);
}

static void bind_group(const cursor *st, const void *rec)
{
    const store_group *g = rec;
    bind_field(st, 1, g->id);
    bind_field(st, 2, g->org_id);
    bind_field(st, 3, g->name);
    bind_int(st, 4, g->created_at);
}

static void bind_group_update(const cursor *st, const void *rec)
{
    const store_group *g = rec;
    bind_field(st, 1, g->org_id);
    bind_field(st, 2, g->id);
    bind_field(st, 3, g->name);
}

static void bind_grant(const cursor *st, const void *rec)
{
    const store_grant *g = rec;
    bind_field(st, 1, g->org_id);
    bind_field(st, 2, g->group_id);
    bind_field(st, 3, g->app_id);
    bind_field(st, 4, g->permission);
}

static void bind_member(const cursor *st, const void *rec)
{
    const store_member *m = rec;
    bind_field(st, 1, m->org_id);
    bind_field(st, 2, m->group_id);
    bind_field(st, 3, m->user_id);
}

static void bind_app(const cursor *st, const void *rec)
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
static void bind_app_update(const cursor *st, const void *rec)
{
    const store_app *a = rec;
    bind_field(st, 1, a->org_id);
    bind_field(st, 2, a->id);
    bind_field(st, 3, a->name);
    bind_field(st, 4, a->mode);
    bind_field(st, 5, a->allowed_origins);
}

static void bind_key(const cursor *st, const void *rec)
{
    const store_key *k = rec;
    assert(k->sealed_len <= sizeof(k->sealed_private));
    bind_field(st, 1, k->kid);
    bind_field(st, 2, k->alg);
    bind_field(st, 3, k->state);
    int rc = bind_blob(st, 4, k->sealed_private, k->sealed_len);
    assert(rc == 0);
    (void)rc;
    bind_field(st, 5, k->public_jwk);
    bind_int(st, 6, k->created_at);
}

/* ?1..?9: what update binds (its WHERE uses ?1 id and ?2 org_id). */
static void bind_idp_update(const cursor *st, const void *rec)
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

static void bind_idp(const cursor *st, const void *rec)
{
    bind_idp_update(st, rec);
    bind_int(st, 10, ((const store_idp *)rec)->created_at);
}

/* ?1..?9, like bind_idp_update. */
static void bind_integration_update(const cursor *st, const void *rec)
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
    assert(rc == 0);
    (void)rc;
    bind_field(st, 8, g->audience);
    bind_field(st, 9, g->scope);
}

static void bind_integration(const cursor *st, const void *rec)
{
    bind_integration_update(st, rec);
    bind_int(st, 10, ((const store_integration *)rec)->created_at);
}

static void bind_subject(const cursor *st, const void *rec)
{
    const store_subject_token *t = rec;
    assert(t->sealed_len <= sizeof(t->sealed));
    bind_field(st, 1, t->jti);
    bind_field(st, 2, t->org_id);
    bind_field(st, 3, t->idp_id);
    bind_field(st, 4, t->token_type);
    int rc = bind_blob(st, 5, t->sealed, t->sealed_len);
    assert(rc == 0);
    (void)rc;
    bind_int(st, 6, t->expires_at);
}

static void bind_session(const cursor *st, const void *rec)
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

static void bind_console(const cursor *st, const void *rec)
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

static void bind_in_org(const cursor *st, const void *rec)
{
    const row_ref *r = rec;
    bind_text(st, 1, r->org_id);
    bind_text(st, 2, r->id);
}

static void bind_in_org_at(const cursor *st, const void *rec)
{
    const row_ref *r = rec;
    bind_in_org(st, rec);
    bind_int(st, 3, r->at);
}

/* One text key as ?1 (rec is the string itself). */
static void bind_key_text(const cursor *st, const void *rec)
{
    bind_text(st, 1, rec);
}

static void bind_audit(const cursor *st, const void *rec)
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
typedef int (*write_body)(store_sql *ss, const void *arg, err_t *e);

typedef struct {
    const char *kind;         /* change-log kind; NULL = no change-log row */
    const char *org_id;       /* of the change row; "" for deployment-wide rows */
    const char *id;           /* of the change row */
    const store_audit *audit; /* written in the same transaction; may be NULL */
} write_meta;

static int run_simple(store_sql *ss, int q, err_t *e)
{
    if (stmt_get(ss, q, e) == NULL)
        return -1;
    return step_done(ss, q, e);
}

/* Rolls back the open transaction, if any (a failed COMMIT may leave it open). */
static void rollback(store_sql *ss)
{
    err_t ignored;
    if (ss->drv->in_transaction(ss->db) && run_simple(ss, Q_ROLLBACK, &ignored) != 0)
        ss->drv->exec_script(ss->db, "ROLLBACK");
}

static int audit_write(store_sql *ss, const void *arg, err_t *e)
{
    const store_audit *a = arg;
    if (a->id[0] == '\0')
        return err_set(e, ERR_INTERNAL, "audit event without an id");
    return exec_bound(ss, Q_AUDIT_INSERT, bind_audit, a, 0, e);
}

static void bind_change(const cursor *st, const void *rec)
{
    const write_meta *m = rec;
    bind_text(st, 1, m->kind);
    bind_text(st, 2, m->org_id ? m->org_id : "");
    bind_text(st, 3, m->id);
    bind_int(st, 4, clock_now());
}

/* Runs body, then the change-log row and the audit row of m, in one
 * transaction. On failure nothing of it is in the database. */
static int write_run(store_sql *ss, write_body body, const void *arg, const write_meta *m,
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

static int one_stmt_body(store_sql *ss, const void *arg, err_t *e)
{
    const one_stmt *o = arg;
    return exec_bound(ss, o->q, o->bind, o->rec, o->changes_required, e);
}

static int write_one(store_sql *ss, int q, binder bind, const void *rec, const write_meta *m,
                     err_t *e)
{
    one_stmt o = {q, bind, rec, 0};
    return write_run(ss, one_stmt_body, &o, m, e);
}

/* ---- operations ---- */

static int op_org_insert(store *s, const store_org *o, const store_audit *audit, err_t *e)
{
    write_meta m = {"org", o->id, o->id, audit};
    return write_one(from(s), Q_ORG_INSERT, bind_org, o, &m, e);
}

static int op_org_update(store *s, const store_org *o, const store_audit *audit, err_t *e)
{
    write_meta m = {"org", o->id, o->id, audit};
    one_stmt one = {Q_ORG_UPDATE, bind_org_update, o, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_org_get(store *s, const char *id, store_org *out, err_t *e)
{
    store_sql *ss = from(s);
    const cursor *st = stmt_get(ss, Q_ORG_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, id);
    return fetch_one(ss, Q_ORG_GET, read_org, out, id, e);
}

static int op_org_each(store *s, store_each_fn fn, void *ctx, err_t *e)
{
    store_sql *ss = from(s);
    store_org rec;
    if (stmt_get(ss, Q_ORG_EACH, e) == NULL)
        return -1;
    return fetch_each(ss, Q_ORG_EACH, read_org, &rec, fn, ctx, e);
}

/* The get operations of org-owned rows: WHERE org_id = ?1 AND <key> = ?2. A
 * row of another org is simply not found. */
static int get_in_org(store_sql *ss, int q, const char *org_id, const char *key, row_reader rd,
                      void *out, const char *shown_key, err_t *e)
{
    const cursor *st = stmt_get(ss, q, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id);
    bind_text(st, 2, key);
    return fetch_one(ss, q, rd, out, shown_key, e);
}

static int op_user_insert(store *s, const store_user *u, const store_audit *audit, err_t *e)
{
    write_meta m = {"user", u->org_id, u->id, audit};
    return write_one(from(s), Q_USER_INSERT, bind_user, u, &m, e);
}

static int op_user_get(store *s, const char *org_id, const char *id, store_user *out, err_t *e)
{
    return get_in_org(from(s), Q_USER_GET, org_id, id, read_user, out, id, e);
}

/* The email is personal data: it stays out of the error detail. */
static int op_user_find_email(store *s, const char *org_id, const char *email, store_user *out,
                              err_t *e)
{
    return get_in_org(from(s), Q_USER_FIND_EMAIL, org_id, email, read_user, out, NULL, e);
}

static int op_user_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_user rec;
    return each_filtered(from(s), Q_USER_EACH_ORG, Q_USER_EACH_ALL, org_id, NULL, read_user, &rec,
                         fn, ctx, e);
}

static int user_update_body(store_sql *ss, const void *arg, err_t *e)
{
    if (exec_bound(ss, Q_USER_END_CONSOLE_SESSIONS, bind_user_update, arg, 0, e) != 0)
        return -1;
    return exec_bound(ss, Q_USER_UPDATE, bind_user_update, arg, 1, e);
}

static int op_user_update(store *s, const store_user *u, const store_audit *audit, err_t *e)
{
    write_meta m = {"user", u->org_id, u->id, audit};
    return write_run(from(s), user_update_body, u, &m, e);
}

/* The "member" change rows first (they are read from the memberships the
 * delete is about to cascade away), then the delete, which decides
 * ERR_NOT_FOUND and so rolls the change rows back with it. */
static int user_delete_body(store_sql *ss, const void *arg, err_t *e)
{
    const row_ref *r = arg;
    if (exec_lock(ss, Q_USER_LOCK, bind_in_org, r, e) != 0 ||
        exec_bound(ss, Q_USER_MEMBER_CHANGES, bind_in_org_at, r, 0, e) != 0)
        return -1;
    return exec_bound(ss, Q_USER_DELETE, bind_in_org, r, 1, e);
}

static int op_user_delete(store *s, const char *org_id, const char *id, const store_audit *audit,
                          err_t *e)
{
    row_ref r = {org_id, id, clock_now()};
    write_meta m = {"user", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "user not found");
    return write_run(from(s), user_delete_body, &r, &m, e);
}

static int op_user_count_role(store *s, const char *org_id, const char *role, int64_t *count,
                              err_t *e)
{
    store_sql *ss = from(s);
    if (org_id == NULL || role == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "user_count_role needs an org id and a role");
    const cursor *st = stmt_get(ss, Q_USER_COUNT_ROLE, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id);
    bind_text(st, 2, role);
    return fetch_one(ss, Q_USER_COUNT_ROLE, read_int64, count, NULL, e);
}

static int op_token_insert(store *s, const store_token *t, const store_audit *audit, err_t *e)
{
    write_meta m = {"token", t->org_id, t->id, audit};
    return write_one(from(s), Q_TOKEN_INSERT, bind_token, t, &m, e);
}

static int op_token_get(store *s, const char *org_id, const char *id, store_token *out, err_t *e)
{
    return get_in_org(from(s), Q_TOKEN_GET, org_id, id, read_token, out, id, e);
}

static int op_token_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
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

static void bind_revoke(const cursor *st, const void *rec)
{
    const token_ref *r = rec;
    bind_text(st, 1, r->org_id);
    bind_text(st, 2, r->id);
    bind_int(st, 3, r->at);
}

static int op_token_revoke(store *s, const char *org_id, const char *id, int64_t at,
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

static void bind_touch(const cursor *st, const void *rec)
{
    const token_ref *r = rec;
    bind_text(st, 1, r->id);
    bind_int(st, 2, r->at);
}

static int touch_body(store_sql *ss, const void *arg, err_t *e)
{
    const touch_args *a = arg;
    for (size_t i = 0; i < a->n; i++) {
        token_ref ref = {NULL, a->ids[i], a->at};
        if (a->ids[i] != NULL && exec_bound(ss, Q_TOKEN_TOUCH, bind_touch, &ref, 0, e) != 0)
            return -1;
    }
    return 0;
}

static int op_token_set_rate_limit(store *s, const store_token *t, const store_audit *audit,
                                   err_t *e)
{
    one_stmt o = {Q_TOKEN_SET_RATE, bind_token_rate, t, 1};
    write_meta m = {"token", t->org_id, t->id, audit};
    return write_run(from(s), one_stmt_body, &o, &m, e);
}

static int id_cmp(const void *x, const void *y)
{
    const char *a = *(const char *const *)x, *b = *(const char *const *)y;
    return a == NULL ? (b != NULL) : b == NULL ? -1 : strcmp(a, b);
}

/* Unknown ids are skipped: the token may have been deleted meanwhile. The
 * rows are updated in id order, so two nodes touching overlapping sets take
 * their row locks in the same order and never deadlock (PostgreSQL). */
static int op_token_touch(store *s, const char *const *ids, size_t n, int64_t at, err_t *e)
{
    if (n == 0)
        return 0;
    const char **sorted = xmalloc(n * sizeof(*sorted)); /* owned; freed below */
    memcpy(sorted, ids, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), id_cmp);
    touch_args a = {sorted, n, at};
    write_meta m = {NULL, NULL, NULL, NULL};
    int rc = write_run(from(s), touch_body, &a, &m, e);
    free(sorted);
    return rc;
}

static int op_group_insert(store *s, const store_group *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"group", g->org_id, g->id, audit};
    return write_one(from(s), Q_GROUP_INSERT, bind_group, g, &m, e);
}

static int op_group_get(store *s, const char *org_id, const char *id, store_group *out, err_t *e)
{
    return get_in_org(from(s), Q_GROUP_GET, org_id, id, read_group, out, id, e);
}

static int op_group_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_group rec;
    return each_filtered(from(s), Q_GROUP_EACH_ORG, Q_GROUP_EACH_ALL, org_id, NULL, read_group,
                         &rec, fn, ctx, e);
}

static int op_group_update(store *s, const store_group *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"group", g->org_id, g->id, audit};
    one_stmt one = {Q_GROUP_UPDATE, bind_group_update, g, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_group_delete(store *s, const char *org_id, const char *id, const store_audit *audit,
                           err_t *e)
{
    row_ref r = {org_id, id, 0};
    one_stmt one = {Q_GROUP_DELETE, bind_in_org, &r, 1};
    write_meta m = {"group", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "group not found");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_grant_insert(store *s, const store_grant *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"grant", g->org_id, g->group_id, audit};
    return write_one(from(s), Q_GRANT_INSERT, bind_grant, g, &m, e);
}

static int op_grant_each(store *s, const char *org_id, const char *group_id, store_each_fn fn,
                         void *ctx, err_t *e)
{
    store_grant rec;
    return each_filtered(from(s), Q_GRANT_EACH_ORG, Q_GRANT_EACH_ALL, org_id, group_id ? group_id : "", read_grant,
                         &rec, fn, ctx, e);
}

static int read_two_flags(const cursor *st, void *out, err_t *e)
{
    int *flags = out;
    (void)e;
    flags[0] = col_int(st, 0);
    flags[1] = col_int(st, 1);
    return 0;
}

/* The grant itself may be absent (idempotent); its group and app may not. */
static int grant_delete_body(store_sql *ss, const void *arg, err_t *e)
{
    const store_grant *g = arg;
    int exists[2] = {0, 0};
    const cursor *st = stmt_get(ss, Q_GRANT_REFS, e);
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

static int op_grant_delete(store *s, const store_grant *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"grant", g->org_id, g->group_id, audit};
    return write_run(from(s), grant_delete_body, g, &m, e);
}

static int op_member_insert(store *s, const store_member *mb, const store_audit *audit, err_t *e)
{
    write_meta m = {"member", mb->org_id, mb->group_id, audit};
    return write_one(from(s), Q_MEMBER_INSERT, bind_member, mb, &m, e);
}

static int op_member_each(store *s, const char *org_id, const char *group_id, store_each_fn fn,
                          void *ctx, err_t *e)
{
    store_member rec;
    return each_filtered(from(s), Q_MEMBER_EACH_ORG, Q_MEMBER_EACH_ALL, org_id, group_id ? group_id : "",
                         read_member, &rec, fn, ctx, e);
}

static int op_member_delete(store *s, const store_member *mb, const store_audit *audit, err_t *e)
{
    write_meta m = {"member", mb->org_id, mb->group_id, audit};
    one_stmt one = {Q_MEMBER_DELETE, bind_member, mb, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_app_insert(store *s, const store_app *a, const store_audit *audit, err_t *e)
{
    write_meta m = {"app", a->org_id, a->id, audit};
    return write_one(from(s), Q_APP_INSERT, bind_app, a, &m, e);
}

static int op_app_get(store *s, const char *org_id, const char *id, store_app *out, err_t *e)
{
    return get_in_org(from(s), Q_APP_GET, org_id, id, read_app, out, id, e);
}

static int op_app_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_app rec;
    return each_filtered(from(s), Q_APP_EACH_ORG, Q_APP_EACH_ALL, org_id, NULL, read_app, &rec, fn,
                         ctx, e);
}

static int op_app_update(store *s, const store_app *a, const store_audit *audit, err_t *e)
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

static int version_next(store_sql *ss, const char *app_id, int64_t *out, err_t *e)
{
    const cursor *st = stmt_get(ss, Q_VERSION_NEXT, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, app_id);
    return fetch_one(ss, Q_VERSION_NEXT, read_int64, out, NULL, e);
}

static int version_row(store_sql *ss, const version_args *a, err_t *e)
{
    const cursor *st = stmt_get(ss, Q_VERSION_INSERT, e);
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

static int file_row(store_sql *ss, const char *version_id, const store_app_file *f, err_t *e)
{
    const cursor *st = stmt_get(ss, Q_FILE_INSERT, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, version_id);
    bind_field(st, 2, f->path);
    bind_field(st, 3, f->content_type);
    int rc = bind_blob(st, 4, f->data, f->len);
    if (rc != 0) {
        stmt_release(st);
        return err_set(e, ERR_TOO_LARGE, "%s: value too large for the database",
                       ss->drv->queries[Q_FILE_INSERT].name);
    }
    return step_done(ss, Q_FILE_INSERT, e);
}

static int version_body(store_sql *ss, const void *arg, err_t *e)
{
    const version_args *a = arg;
    if (exec_lock(ss, Q_VERSION_LOCK, bind_key_text, a->v->app_id, e) != 0 ||
        version_next(ss, a->v->app_id, a->version, e) != 0 || version_row(ss, a, e) != 0)
        return -1;
    for (size_t i = 0; i < a->nfiles; i++)
        if (file_row(ss, a->v->id, &a->files[i], e) != 0)
            return -1;
    return 0;
}

/* On success fills v->version, file_count and total_bytes; on failure v is
 * unchanged and no version number is used up. */
static int op_app_version_insert(store *s, store_app_version *v, const store_app_file *files,
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

static int op_app_version_each(store *s, const char *org_id, const char *app_id, store_each_fn fn,
                               void *ctx, err_t *e)
{
    store_app_version rec;
    return each_filtered(from(s), Q_VERSION_EACH_ORG, Q_VERSION_EACH_ALL, org_id, app_id ? app_id : "",
                         read_version, &rec, fn, ctx, e);
}

typedef struct {
    store_each_fn fn;
    void *ctx;
} file_call;

/* Hands the row to the caller's fn; f.data points into the driver's row buffer,
 * valid until the statement is released right after fn returns. */
static int read_file_call(const cursor *st, void *arg, err_t *e)
{
    static const unsigned char empty[1];
    const file_call *fc = arg;
    store_app_file f;
    memset(&f, 0, sizeof(f));
    if (col_text(st, 0, f.path, e) || col_text(st, 1, f.content_type, e))
        return -1;
    f.data = col_bytes(st, 2, &f.len);
    if (f.data == NULL)
        f.data = empty;
    fc->fn(fc->ctx, &f);
    return 0;
}

static int op_app_file_get(store *s, const char *version_id, const char *path, store_each_fn fn,
                           void *ctx, err_t *e)
{
    store_sql *ss = from(s);
    file_call fc = {fn, ctx};
    const cursor *st = stmt_get(ss, Q_FILE_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, version_id);
    bind_text(st, 2, path);
    return fetch_one(ss, Q_FILE_GET, read_file_call, &fc, NULL, e);
}

/* An active key takes over from the active one (the unique index
 * signing_keys_one_active refuses a second, racing one: ERR_CONFLICT). */
static int key_insert_body(store_sql *ss, const void *arg, err_t *e)
{
    const store_key *k = arg;
    if (strcmp(k->state, "active") == 0 && exec_bound(ss, Q_KEY_DEMOTE, NULL, NULL, 0, e) != 0)
        return -1;
    return exec_bound(ss, Q_KEY_INSERT, bind_key, k, 0, e);
}

static int op_key_insert(store *s, const store_key *k, const store_audit *audit, err_t *e)
{
    write_meta m = {"key", "", k->kid, audit};
    return write_run(from(s), key_insert_body, k, &m, e);
}

static int op_key_get(store *s, const char *kid, store_key *out, err_t *e)
{
    store_sql *ss = from(s);
    const cursor *st = stmt_get(ss, Q_KEY_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, kid);
    return fetch_one(ss, Q_KEY_GET, read_key, out, kid, e);
}

static int op_key_each(store *s, store_each_fn fn, void *ctx, err_t *e)
{
    store_sql *ss = from(s);
    store_key rec;
    if (stmt_get(ss, Q_KEY_EACH, e) == NULL)
        return -1;
    return fetch_each(ss, Q_KEY_EACH, read_key, &rec, fn, ctx, e);
}

typedef struct {
    const char *kid;
    const char *state;
} key_state;

static void bind_key_state(const cursor *st, const void *rec)
{
    const key_state *k = rec;
    bind_text(st, 1, k->kid);
    bind_text(st, 2, k->state);
}

static int op_key_set_state(store *s, const char *kid, const char *state, const store_audit *audit,
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

static int batch_body(store_sql *ss, const void *arg, err_t *e)
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
static int op_record_batch(store *s, const store_session *sessions, size_t nsessions,
                           const store_audit *audits, size_t naudits, err_t *e)
{
    batch_args b = {sessions, nsessions, audits, naudits};
    write_meta m = {NULL, NULL, NULL, NULL};
    if (nsessions == 0 && naudits == 0)
        return 0;
    return write_run(from(s), batch_body, &b, &m, e);
}

static int op_session_get(store *s, const char *jti, store_session *out, err_t *e)
{
    store_sql *ss = from(s);
    const cursor *st = stmt_get(ss, Q_SESSION_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, jti);
    return fetch_one(ss, Q_SESSION_GET, read_session, out, jti, e);
}

/* ---- revocation ---- */

/* row_ref carries (org_id, jti or email, time) for the statements below. */

/* The change row only when this call revoked it (not when it already was). */
static int revoke_one_body(store_sql *ss, const void *arg, err_t *e)
{
    const row_ref *r = arg;
    store_session cur;
    err_t miss;
    int was_live = op_session_get(&ss->base, r->id, &cur, &miss) == 0 && cur.revoked_at == 0;
    if (exec_bound(ss, Q_SESSION_REVOKE, bind_in_org_at, r, 1, e) != 0)
        return -1;
    write_meta m = {"session", r->org_id, r->id, NULL};
    return was_live ? exec_bound(ss, Q_CHANGE_APPEND, bind_change, &m, 0, e) : 0;
}

static int op_session_revoke(store *s, const char *org_id, const char *jti, int64_t at, const store_audit *audit,
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

static int revoke_email_body(store_sql *ss, const void *arg, err_t *e)
{
    revoke_email_args *a = (revoke_email_args *)arg;
    if (exec_bound(ss, Q_SESSION_REVOKE_EMAIL_CHANGES, bind_in_org_at, &a->r, 0, e) != 0 ||
        exec_bound(ss, Q_SESSION_REVOKE_EMAIL, bind_in_org_at, &a->r, 0, e) != 0)
        return -1;
    a->count = ss->drv->changes(ss->db);
    return 0;
}

static int op_session_revoke_email(store *s, const char *org_id, const char *email, int64_t at,
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

static int op_session_each_email(store *s, const char *org_id, const char *email, int64_t now, store_each_fn fn,
                                 void *ctx, err_t *e)
{
    store_sql *ss = from(s);
    store_session rec;
    row_ref r = {org_id, email, now};
    const cursor *st = stmt_get(ss, Q_SESSION_EACH_EMAIL, e);
    if (st == NULL)
        return -1;
    bind_in_org_at(st, &r);
    return fetch_each(ss, Q_SESSION_EACH_EMAIL, read_session, &rec, fn, ctx, e);
}

static int op_session_revoked_each(store *s, int64_t now, store_each_fn fn, void *ctx, err_t *e)
{
    store_sql *ss = from(s);
    store_session rec;
    const cursor *st = stmt_get(ss, Q_SESSION_REVOKED_EACH, e);
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

static void bind_sweep_window(const cursor *st, const void *rec)
{
    const int64_t *w = rec;
    bind_int(st, 1, w[0]);
    bind_int(st, 2, w[1]);
}

static void bind_sweep_set(const cursor *st, const void *rec)
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

static int sweep_body(store_sql *ss, const void *arg, err_t *e)
{
    sweep_args *a = (sweep_args *)arg;
    int64_t window[2] = {a->up_to - STORE_SWEEP_FIRST, 0};
    const cursor *st = stmt_get(ss, Q_SWEEP_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, SWEEP_NAME);
    int rc = step(st);
    if (rc == SQL_ROW)
        window[0] = col_int(st, 0);
    stmt_release(st);
    if (rc == SQL_FAILED)
        return fail(ss, Q_SWEEP_GET, e);
    window[1] = a->up_to < window[0] + STORE_SWEEP_MAX ? a->up_to : window[0] + STORE_SWEEP_MAX;
    a->done_until = window[0];
    if (window[1] <= window[0])
        return 0;
    if ((st = stmt_get(ss, Q_SWEEP_EXPIRED, e)) == NULL)
        return -1;
    bind_sweep_window(st, window);
    store_session s;
    err_t why;
    while ((rc = step(st)) == SQL_ROW) {
        store_audit ev;
        if (read_session(st, &s, &why) != 0)
            continue;
        expired_event(&s, &ev);
        if (exec_bound(ss, Q_SWEEP_AUDIT, bind_audit, &ev, 0, e) != 0) {
            stmt_release(st);
            return -1;
        }
        a->count += ss->drv->changes(ss->db);
    }
    stmt_release(st);
    if (rc != SQL_DONE)
        return fail(ss, Q_SWEEP_EXPIRED, e);
    a->done_until = window[1];
    return exec_bound(ss, Q_SWEEP_SET, bind_sweep_set, &window[1], 0, e);
}

static int op_session_expiry_sweep(store *s, int64_t up_to, int64_t *count, int64_t *done_until, err_t *e)
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

static void bind_now(const cursor *st, const void *rec)
{
    (void)rec;
    bind_int(st, 1, clock_now());
}

/* rec is an int64_t time, bound as ?1. */
static void bind_now_arg(const cursor *st, const void *rec)
{
    bind_int(st, 1, *(const int64_t *)rec);
}

/* Housekeeping first (every expired row, of any org), then the new row. */
static int console_insert_body(store_sql *ss, const void *arg, err_t *e)
{
    if (exec_bound(ss, Q_CONSOLE_PURGE, bind_now, NULL, 0, e) != 0)
        return -1;
    return exec_bound(ss, Q_CONSOLE_INSERT, bind_console, arg, 0, e);
}

/* No change-log row. Details never contain the id hash or the CSRF token. */
static int op_console_session_insert(store *s, const store_console_session *cs,
                                     const store_audit *audit, err_t *e)
{
    write_meta m = {NULL, NULL, NULL, audit};
    if (cs->id_hash[0] == '\0')
        return err_set(e, ERR_INVALID_REQUEST, "console session without an id hash");
    return write_run(from(s), console_insert_body, cs, &m, e);
}

static int op_console_session_get(store *s, const char *id_hash, store_console_session *out,
                                  err_t *e)
{
    store_sql *ss = from(s);
    const cursor *st = stmt_get(ss, Q_CONSOLE_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, id_hash);
    bind_int(st, 2, clock_now());
    return fetch_one(ss, Q_CONSOLE_GET, read_console, out, NULL, e);
}

/* Idempotent: an unknown (or already expired and purged) session is gone already. */
static int op_console_session_delete(store *s, const char *id_hash, const store_audit *audit,
                                     err_t *e)
{
    one_stmt one = {Q_CONSOLE_DELETE, bind_key_text, id_hash, 0};
    write_meta m = {NULL, NULL, NULL, audit};
    if (id_hash == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "console_session_delete needs an id hash");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_audit_insert(store *s, const store_audit *a, err_t *e)
{
    write_meta m = {NULL, NULL, NULL, NULL};
    return write_run(from(s), audit_write, a, &m, e);
}

/* org_id is required and matched exactly: "" lists the deployment-wide events. */
static int op_audit_each(store *s, const char *org_id, int64_t since, store_each_fn fn, void *ctx,
                         err_t *e)
{
    store_sql *ss = from(s);
    store_audit rec;
    if (org_id == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "audit_each needs an org id");
    const cursor *st = stmt_get(ss, Q_AUDIT_EACH, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id);
    bind_int(st, 2, since);
    return fetch_each(ss, Q_AUDIT_EACH, read_audit, &rec, fn, ctx, e);
}

static int op_change_latest(store *s, int64_t *seq, err_t *e)
{
    store_sql *ss = from(s);
    if (stmt_get(ss, Q_CHANGE_LATEST, e) == NULL)
        return -1;
    return fetch_one(ss, Q_CHANGE_LATEST, read_int64, seq, NULL, e);
}

static int op_changes_since(store *s, int64_t after, store_each_fn fn, void *ctx, err_t *e)
{
    store_sql *ss = from(s);
    store_change rec;
    const cursor *st = stmt_get(ss, Q_CHANGES_SINCE, e);
    if (st == NULL)
        return -1;
    bind_int(st, 1, after);
    return fetch_each(ss, Q_CHANGES_SINCE, read_change, &rec, fn, ctx, e);
}

/* ---- token exchange: identity providers, integrations, subject tokens ---- */

static int op_idp_insert(store *s, const store_idp *p, const store_audit *audit, err_t *e)
{
    write_meta m = {"idp", p->org_id, p->id, audit};
    return write_one(from(s), Q_IDP_INSERT, bind_idp, p, &m, e);
}

static int op_idp_get(store *s, const char *org_id, const char *id, store_idp *out, err_t *e)
{
    return get_in_org(from(s), Q_IDP_GET, org_id, id, read_idp, out, id, e);
}

/* The record is large (an inline JWKS): one scratch copy on the heap. */
static int op_idp_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_idp *rec = xmalloc(sizeof(*rec));
    int rc = each_filtered(from(s), Q_IDP_EACH_ORG, Q_IDP_EACH_ALL, org_id, NULL, read_idp, rec, fn, ctx,
                           e);
    free(rec);
    return rc;
}

static int op_idp_update(store *s, const store_idp *p, const store_audit *audit, err_t *e)
{
    write_meta m = {"idp", p->org_id, p->id, audit};
    one_stmt one = {Q_IDP_UPDATE, bind_idp_update, p, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_idp_delete(store *s, const char *org_id, const char *id, const store_audit *audit, err_t *e)
{
    row_ref r = {org_id, id, 0};
    one_stmt one = {Q_IDP_DELETE, bind_in_org, &r, 1};
    write_meta m = {"idp", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "identity provider not found");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_integration_insert(store *s, const store_integration *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"integration", g->org_id, g->id, audit};
    return write_one(from(s), Q_INTEGRATION_INSERT, bind_integration, g, &m, e);
}

static int op_integration_get(store *s, const char *org_id, const char *id, store_integration *out,
                              err_t *e)
{
    return get_in_org(from(s), Q_INTEGRATION_GET, org_id, id, read_integration, out, id, e);
}

static int op_integration_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_integration rec;
    return each_filtered(from(s), Q_INTEGRATION_EACH_ORG, Q_INTEGRATION_EACH_ALL, org_id, NULL,
                         read_integration, &rec, fn, ctx, e);
}

static int op_integration_update(store *s, const store_integration *g, const store_audit *audit, err_t *e)
{
    write_meta m = {"integration", g->org_id, g->id, audit};
    one_stmt one = {Q_INTEGRATION_UPDATE, bind_integration_update, g, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_integration_delete(store *s, const char *org_id, const char *id, const store_audit *audit,
                                 err_t *e)
{
    row_ref r = {org_id, id, 0};
    one_stmt one = {Q_INTEGRATION_DELETE, bind_in_org, &r, 1};
    write_meta m = {"integration", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "integration not found");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_subject_token_put(store *s, const store_subject_token *t, err_t *e)
{
    write_meta m = {NULL, NULL, NULL, NULL};
    if (t->jti[0] == '\0')
        return err_set(e, ERR_INVALID_REQUEST, "subject token without a jti");
    return write_one(from(s), Q_SUBJECT_INSERT, bind_subject, t, &m, e);
}

static int op_subject_token_get(store *s, const char *org_id, const char *jti, int64_t now,
                                store_subject_token *out, err_t *e)
{
    store_sql *ss = from(s);
    const cursor *st = stmt_get(ss, Q_SUBJECT_GET, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id);
    bind_text(st, 2, jti);
    bind_int(st, 3, now);
    return fetch_one(ss, Q_SUBJECT_GET, read_subject, out, NULL, e);
}

static int subject_purge_body(store_sql *ss, const void *arg, err_t *e)
{
    const int64_t *now = arg;
    return exec_bound(ss, Q_SUBJECT_PURGE, bind_now_arg, now, 0, e);
}

static int op_subject_token_purge(store *s, int64_t now, int64_t *deleted, err_t *e)
{
    store_sql *ss = from(s);
    write_meta m = {NULL, NULL, NULL, NULL};
    *deleted = 0;
    if (write_run(ss, subject_purge_body, &now, &m, e) != 0)
        return -1;
    *deleted = ss->drv->changes(ss->db);
    return 0;
}

/* ---- webhooks ---- */

static int read_webhook(const cursor *st, void *rec, err_t *e)
{
    store_webhook *w = rec;
    memset(w, 0, sizeof(*w));
    if (col_text(st, 0, w->id, e) || col_text(st, 1, w->org_id, e) || col_text(st, 2, w->url, e) ||
        col_blob(st, 3, w->secret_sealed, &w->secret_sealed_len, e) || col_text(st, 4, w->events, e))
        return -1;
    w->enabled = col_int(st, 5) != 0;
    w->cursor = col_int(st, 6);
    w->failures = col_int(st, 7);
    w->next_attempt_at = col_int(st, 8);
    if (col_text(st, 9, w->last_error, e))
        return -1;
    w->created_at = col_int(st, 10);
    return 0;
}

static int read_delivery(const cursor *st, void *rec, err_t *e)
{
    store_webhook_delivery *d = rec;
    memset(d, 0, sizeof(*d));
    if (col_text(st, 0, d->id, e) || col_text(st, 1, d->org_id, e) || col_text(st, 2, d->webhook_id, e) ||
        col_text(st, 3, d->event_id, e) || col_text(st, 4, d->event_type, e))
        return -1;
    d->attempt = col_int(st, 5);
    d->status_code = col_int(st, 6);
    if (col_text(st, 7, d->error, e))
        return -1;
    d->duration_ms = col_int(st, 8);
    d->at = col_int(st, 9);
    return 0;
}

/* AUDIT_COLS, then the audit position (SQLite: the rowid; PostgreSQL: seq). */
static int read_audit_entry(const cursor *st, void *rec, err_t *e)
{
    store_audit_entry *a = rec;
    if (read_audit(st, &a->audit, e) != 0)
        return -1;
    a->seq = col_int(st, 9);
    return 0;
}

/* ?1..?6 as in WEBHOOK_COLS (id, org_id, url, secret, events, enabled). */
static void bind_webhook_update(const cursor *st, const void *rec)
{
    const store_webhook *w = rec;
    assert(w->secret_sealed_len <= sizeof(w->secret_sealed));
    bind_field(st, 1, w->id);
    bind_field(st, 2, w->org_id);
    bind_field(st, 3, w->url);
    int rc = bind_blob(st, 4, w->secret_sealed, w->secret_sealed_len);
    assert(rc == 0);
    (void)rc;
    bind_field(st, 5, w->events);
    bind_int(st, 6, w->enabled ? 1 : 0);
}

static void bind_webhook(const cursor *st, const void *rec)
{
    bind_webhook_update(st, rec);
    bind_int(st, 7, ((const store_webhook *)rec)->created_at);
}

static void bind_delivery(const cursor *st, const void *rec)
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

static void bind_delivery_prune(const cursor *st, const void *rec)
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

static void bind_progress(const cursor *st, const void *rec)
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
static int delivery_write(store_sql *ss, const void *arg, err_t *e)
{
    return exec_bound(ss, Q_DELIVERY_INSERT, bind_delivery, arg, 0, e) != 0 ||
                   exec_bound(ss, Q_DELIVERY_PRUNE, bind_delivery_prune, arg, 0, e) != 0
               ? -1
               : 0;
}

static int progress_body(store_sql *ss, const void *arg, err_t *e)
{
    progress_args *p = (progress_args *)arg;
    if (p->d != NULL && delivery_write(ss, p->d, e) != 0)
        return -1;
    if (exec_bound(ss, Q_WEBHOOK_PROGRESS, bind_progress, p, 0, e) != 0)
        return -1;
    p->applied = ss->drv->changes(ss->db) > 0;
    return 0;
}

static int op_webhook_insert(store *s, const store_webhook *w, const store_audit *audit, err_t *e)
{
    write_meta m = {"webhook", w->org_id, w->id, audit};
    return write_one(from(s), Q_WEBHOOK_INSERT, bind_webhook, w, &m, e);
}

static int op_webhook_get(store *s, const char *org_id, const char *id, store_webhook *out, err_t *e)
{
    return get_in_org(from(s), Q_WEBHOOK_GET, org_id, id, read_webhook, out, id, e);
}

static int op_webhook_each(store *s, const char *org_id, store_each_fn fn, void *ctx, err_t *e)
{
    store_webhook rec;
    return each_filtered(from(s), Q_WEBHOOK_EACH_ORG, Q_WEBHOOK_EACH_ALL, org_id, NULL, read_webhook, &rec, fn,
                         ctx, e);
}

static int op_webhook_due(store *s, int64_t now, store_each_fn fn, void *ctx, err_t *e)
{
    store_sql *ss = from(s);
    store_webhook rec;
    const cursor *st = stmt_get(ss, Q_WEBHOOK_DUE, e);
    if (st == NULL)
        return -1;
    bind_int(st, 1, now);
    return fetch_each(ss, Q_WEBHOOK_DUE, read_webhook, &rec, fn, ctx, e);
}

static int op_webhook_update(store *s, const store_webhook *w, const store_audit *audit, err_t *e)
{
    write_meta m = {"webhook", w->org_id, w->id, audit};
    one_stmt one = {Q_WEBHOOK_UPDATE, bind_webhook_update, w, 1};
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_webhook_delete(store *s, const char *org_id, const char *id, const store_audit *audit, err_t *e)
{
    row_ref r = {org_id, id, 0};
    one_stmt one = {Q_WEBHOOK_DELETE, bind_in_org, &r, 1};
    write_meta m = {"webhook", org_id, id, audit};
    if (org_id == NULL || id == NULL)
        return err_set(e, ERR_NOT_FOUND, "webhook not found");
    return write_run(from(s), one_stmt_body, &one, &m, e);
}

static int op_webhook_progress(store *s, const store_webhook *w, int64_t expected_cursor,
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

static int op_webhook_delivery_insert(store *s, const store_webhook_delivery *d, err_t *e)
{
    write_meta m = {NULL, NULL, NULL, NULL};
    if (d->id[0] == '\0')
        return err_set(e, ERR_INVALID_REQUEST, "webhook delivery without an id");
    return write_run(from(s), delivery_write, d, &m, e);
}

static int op_webhook_delivery_each(store *s, const char *org_id, const char *webhook_id, size_t limit,
                                    store_each_fn fn, void *ctx, err_t *e)
{
    store_sql *ss = from(s);
    store_webhook_delivery rec;
    const cursor *st = stmt_get(ss, Q_DELIVERY_EACH, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, org_id ? org_id : "");
    bind_text(st, 2, webhook_id ? webhook_id : "");
    bind_int(st, 3, (int64_t)limit);
    return fetch_each(ss, Q_DELIVERY_EACH, read_delivery, &rec, fn, ctx, e);
}

/* The record is large (an audit event): one scratch copy on the heap. */
static int op_audit_after(store *s, const char *org_id, int64_t after, size_t limit, store_each_fn fn, void *ctx,
                          err_t *e)
{
    store_sql *ss = from(s);
    if (org_id == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "audit_after needs an org id");
    const cursor *st = stmt_get(ss, Q_AUDIT_AFTER, e);
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

/* Fills list (room for asset_count) with the compiled-in migrations of the
 * dialect (migrations/<dialect>/NNN_name.sql), sorted by version, the number
 * taken from "NNN_" in the file name. */
static int migrations_collect(const char *dialect, migration *list, size_t *n, err_t *e)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "migrations/%s/", dialect);
    size_t plen = strlen(prefix);
    *n = 0;
    for (size_t i = 0; i < asset_count; i++) {
        const char *path = asset_table[i].path;
        if (strncmp(path, prefix, plen) != 0)
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
        return err_set(e, ERR_INTERNAL, "no %s migrations are compiled in", dialect);
    qsort(list, *n, sizeof(*list), migration_cmp);
    for (size_t i = 1; i < *n; i++)
        if (list[i].version == list[i - 1].version)
            return err_set(e, ERR_INTERNAL, "two migrations have version %lld",
                           (long long)list[i].version);
    return 0;
}

static void bind_version_now(const cursor *st, const void *rec)
{
    bind_int(st, 1, *(const int64_t *)rec);
    bind_int(st, 2, clock_now());
}

static int migration_applied(store_sql *ss, int64_t version, int *applied, err_t *e)
{
    const cursor *st = stmt_get(ss, Q_MIG_APPLIED, e);
    if (st == NULL)
        return -1;
    bind_int(st, 1, version);
    int rc = step(st);
    stmt_release(st);
    if (rc == SQL_FAILED)
        return fail(ss, Q_MIG_APPLIED, e);
    *applied = rc == SQL_ROW;
    return 0;
}

/* The body of one migration's transaction: skips it when another process (or
 * an earlier run) applied it, else runs its SQL and records it. */
static int migration_body(store_sql *ss, const void *arg, err_t *e)
{
    const migration *m = arg;
    int applied = 0;
    const char *why = "";
    if (exec_lock(ss, Q_MIG_LOCK, NULL, NULL, e) != 0)
        return -1;
    if (ss->drv->exec_script(ss->db, ss->drv->queries[Q_MIG_TABLE].sql) != SQL_DONE)
        return err_set(e, ERR_INTERNAL, "cannot create schema_migrations");
    if (migration_applied(ss, m->version, &applied, e) != 0)
        return -1;
    if (applied)
        return 0;
    if (ss->drv->exec_script(ss->db, (const char *)m->a->data) != SQL_DONE) {
        ss->drv->last_error(ss->db, &why);
        return err_set(e, ERR_INTERNAL, "migration %s failed: %s", m->a->path, why);
    }
    return exec_bound(ss, Q_MIG_RECORD, bind_version_now, &m->version, 0, e);
}

/* Refuses a database that a newer tessera has migrated past what we know. */
static int migrations_check_newest(store_sql *ss, int64_t known, err_t *e)
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
 * transaction that first takes the migration lock (SQLite: BEGIN IMMEDIATE;
 * PostgreSQL: an advisory lock), so two processes migrating at once
 * serialize and the second finds the work done. Idempotent. */
static int op_migrate(store *s, err_t *e)
{
    store_sql *ss = from(s);
    migration *list = xcalloc(asset_count, sizeof(*list)); /* owned; freed below */
    write_meta none = {NULL, NULL, NULL, NULL};
    size_t n = 0;
    int ret = -1;
    if (migrations_collect(ss->drv->dialect, list, &n, e) != 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (write_run(ss, migration_body, &list[i], &none, e) != 0)
            goto out;
    ret = migrations_check_newest(ss, list[n - 1].version, e);
out:
    free(list);
    return ret;
}

/* ---- several nodes ---- */

static int op_wait_change(store *s, int timeout_ms, err_t *e)
{
    store_sql *ss = from(s);
    if (ss->drv->wait_notify == NULL) {
        struct timespec pause = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
        nanosleep(&pause, NULL);
        return 0;
    }
    int rc = ss->drv->wait_notify(ss->db, timeout_ms);
    if (rc < 0)
        return err_set(e, ERR_UNAVAILABLE, "database is unreachable (wait_change)");
    return rc;
}

/* Q_LEASE returns one row, 1 when this connection holds the lease. */
static int op_lease(store *s, const char *name, int *held, err_t *e)
{
    store_sql *ss = from(s);
    *held = 1;
    if (ss->drv->queries[Q_LEASE].sql == NULL)
        return 0;
    int64_t got = 0;
    const cursor *st = stmt_get(ss, Q_LEASE, e);
    if (st == NULL)
        return -1;
    bind_text(st, 1, name);
    if (fetch_one(ss, Q_LEASE, read_int64, &got, NULL, e) != 0)
        return -1;
    *held = got != 0;
    return 0;
}

/* ---- export and import (sql_dump.c) ---- */

static int op_schema_version(store *s, int64_t *version, err_t *e)
{
    store_sql *ss = from(s);
    *version = 0;
    if (stmt_get(ss, Q_MIG_MAX, e) == NULL)
        return -1;
    return fetch_one(ss, Q_MIG_MAX, read_int64, version, NULL, e);
}

/* One read transaction, so the dump is one consistent snapshot. */
static int op_export_rows(store *s, store_row_fn fn, void *ctx, err_t *e)
{
    store_sql *ss = from(s);
    int ret = -1;
    if (run_simple(ss, Q_SNAPSHOT_BEGIN, e) != 0)
        goto out;
    if (sql_dump_export(ss->drv, ss->db, fn, ctx, e) != 0)
        goto out;
    ret = run_simple(ss, Q_COMMIT, e);
out:
    if (ret != 0)
        rollback(ss);
    return ret;
}

typedef struct {
    store_row_next_fn next;
    void *ctx;
    int64_t rows;
} import_args;

static int import_body(store_sql *ss, const void *arg, err_t *e)
{
    import_args *a = (import_args *)arg;
    return sql_dump_import(ss->drv, ss->db, a->next, a->ctx, &a->rows, e);
}

static int op_import_rows(store *s, store_row_next_fn next, void *ctx, int64_t *rows, err_t *e)
{
    import_args a = {next, ctx, 0};
    write_meta none = {NULL, NULL, NULL, NULL};
    *rows = 0;
    if (write_run(from(s), import_body, &a, &none, e) != 0)
        return -1;
    *rows = a.rows;
    return 0;
}

static void op_close(store *s)
{
    store_sql *ss = from(s);
    if (ss == NULL)
        return;
    ss->drv->close(ss->db);
    free(ss);
}

static const store_ops sql_ops = {
    .close = op_close,
    .migrate = op_migrate,
    .org_insert = op_org_insert,
    .org_update = op_org_update,
    .org_get = op_org_get,
    .org_each = op_org_each,
    .user_insert = op_user_insert,
    .user_get = op_user_get,
    .user_find_email = op_user_find_email,
    .user_each = op_user_each,
    .user_update = op_user_update,
    .user_delete = op_user_delete,
    .user_count_role = op_user_count_role,
    .token_insert = op_token_insert,
    .token_get = op_token_get,
    .token_each = op_token_each,
    .token_revoke = op_token_revoke,
    .token_touch = op_token_touch,
    .token_set_rate_limit = op_token_set_rate_limit,
    .group_insert = op_group_insert,
    .group_get = op_group_get,
    .group_each = op_group_each,
    .group_update = op_group_update,
    .group_delete = op_group_delete,
    .grant_insert = op_grant_insert,
    .grant_each = op_grant_each,
    .grant_delete = op_grant_delete,
    .member_insert = op_member_insert,
    .member_each = op_member_each,
    .member_delete = op_member_delete,
    .app_insert = op_app_insert,
    .app_get = op_app_get,
    .app_each = op_app_each,
    .app_update = op_app_update,
    .app_version_insert = op_app_version_insert,
    .app_version_each = op_app_version_each,
    .app_file_get = op_app_file_get,
    .key_insert = op_key_insert,
    .key_get = op_key_get,
    .key_each = op_key_each,
    .key_set_state = op_key_set_state,
    .record_batch = op_record_batch,
    .session_get = op_session_get,
    .session_revoke = op_session_revoke,
    .session_revoke_email = op_session_revoke_email,
    .session_each_email = op_session_each_email,
    .session_revoked_each = op_session_revoked_each,
    .session_expiry_sweep = op_session_expiry_sweep,
    .console_session_insert = op_console_session_insert,
    .console_session_get = op_console_session_get,
    .console_session_delete = op_console_session_delete,
    .idp_insert = op_idp_insert,
    .idp_get = op_idp_get,
    .idp_each = op_idp_each,
    .idp_update = op_idp_update,
    .idp_delete = op_idp_delete,
    .integration_insert = op_integration_insert,
    .integration_get = op_integration_get,
    .integration_each = op_integration_each,
    .integration_update = op_integration_update,
    .integration_delete = op_integration_delete,
    .subject_token_put = op_subject_token_put,
    .subject_token_get = op_subject_token_get,
    .subject_token_purge = op_subject_token_purge,
    .audit_insert = op_audit_insert,
    .audit_each = op_audit_each,
    .change_latest = op_change_latest,
    .changes_since = op_changes_since,
    .webhook_insert = op_webhook_insert,
    .webhook_get = op_webhook_get,
    .webhook_each = op_webhook_each,
    .webhook_due = op_webhook_due,
    .webhook_update = op_webhook_update,
    .webhook_delete = op_webhook_delete,
    .webhook_progress = op_webhook_progress,
    .webhook_delivery_insert = op_webhook_delivery_insert,
    .webhook_delivery_each = op_webhook_delivery_each,
    .audit_after = op_audit_after,
    .wait_change = op_wait_change,
    .lease = op_lease,
    .schema_version = op_schema_version,
    .export_rows = op_export_rows,
    .import_rows = op_import_rows,
};
store *store_sql_new(const sql_driver *drv, sql_db *db)
{
    store_sql *ss = xcalloc(1, sizeof(*ss));
    ss->base.ops = &sql_ops;
    ss->drv = drv;
    ss->db = db;
    for (int q = 0; q < Q_COUNT; q++)
        ss->stmt[q].drv = drv;
    return &ss->base;
}
