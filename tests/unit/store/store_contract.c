/* store_contract.c - the store contract suite (see store_contract.h).
 *
 * Each case gets a fresh, migrated, empty store in *state (setup) that the
 * teardown closes. Records are built field by field with distinct values and
 * compared field by field after the round trip. */
#include "store_contract.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/clock.h"
#include "store/sql.h"

#define ORG_A "0a000000-0000-4000-8000-00000000000a"
#define ORG_B "0b000000-0000-4000-8000-00000000000b"

static store *(*contract_open_fresh)(void);
static store *(*contract_open_peer)(void); /* NULL: peer cases are skipped */

/* ---- fixtures ---- */

static int contract_setup(void **state)
{
    err_t err = {0};
    store *s = contract_open_fresh();
    if (s == NULL)
        return -1;
    if (s->ops->migrate(s, &err) != 0) {
        fprintf(stderr, "migrate: %s\n", err.detail);
        s->ops->close(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int contract_teardown(void **state)
{
    store *s = *state;
    s->ops->close(s);
    return 0;
}

#define OK(expr)                                                                                   \
    do {                                                                                           \
        err_clear(&err);                                                                           \
        if ((expr) != 0)                                                                           \
            fail_msg("%s failed: %s", #expr, err.detail);                                          \
    } while (0)

#define FAILS_WITH(expr, want)                                                                     \
    do {                                                                                           \
        err_clear(&err);                                                                           \
        assert_int_equal((expr), -1);                                                              \
        assert_int_equal(err.cls, (want));                                                         \
        assert_true(err.detail[0] != '\0');                                                        \
    } while (0)

/* Test ids look like UUIDs: prefix and n tell them apart. */
static void make_id(char out[STORE_ID_MAX], unsigned prefix, unsigned n)
{
    snprintf(out, STORE_ID_MAX, "%08x-0000-4000-8000-%012x", prefix, n);
}

/* Fills field[cap] with cap - 1 bytes of c: the longest value that fits. */
static void fill_max(char *field, size_t cap, char c)
{
    memset(field, c, cap - 1);
    field[cap - 1] = '\0';
}

static store_org org_rec(const char *id, const char *name)
{
    store_org o;
    memset(&o, 0, sizeof(o));
    snprintf(o.id, sizeof(o.id), "%s", id);
    snprintf(o.name, sizeof(o.name), "%s", name);
    snprintf(o.type, sizeof(o.type), "standard");
    o.session_ttl = 3600;
    o.session_ttl_max = 86400;
    o.created_at = 1700000001;
    return o;
}

static void add_org(store *s, const char *id)
{
    err_t err;
    store_org o = org_rec(id, "Org");
    OK(s->ops->org_insert(s, &o, NULL, &err));
}

static store_user user_rec(const char *org_id, const char *id, const char *email)
{
    store_user u;
    memset(&u, 0, sizeof(u));
    snprintf(u.id, sizeof(u.id), "%s", id);
    snprintf(u.org_id, sizeof(u.org_id), "%s", org_id);
    snprintf(u.email, sizeof(u.email), "%s", email);
    snprintf(u.name, sizeof(u.name), "Ada Lovelace");
    snprintf(u.role, sizeof(u.role), "developer");
    snprintf(u.password_hash, sizeof(u.password_hash),
             "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA");
    u.created_at = 1700000002;
    return u;
}

static store_token token_rec(const char *org_id, const char *id, char hash_char)
{
    store_token t;
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.org_id, sizeof(t.org_id), "%s", org_id);
    snprintf(t.name, sizeof(t.name), "backend token");
    snprintf(t.type, sizeof(t.type), "embed");
    snprintf(t.prefix, sizeof(t.prefix), "tse_ab12");
    fill_max(t.hash, sizeof(t.hash), hash_char);
    snprintf(t.created_by, sizeof(t.created_by), "admin@example.com");
    t.created_at = 1700000003;
    t.expires_at = 1707776003;
    t.last_used_at = 0;
    t.revoked_at = 0;
    return t;
}

static store_group group_rec(const char *org_id, const char *id, const char *name)
{
    store_group g;
    memset(&g, 0, sizeof(g));
    snprintf(g.id, sizeof(g.id), "%s", id);
    snprintf(g.org_id, sizeof(g.org_id), "%s", org_id);
    snprintf(g.name, sizeof(g.name), "%s", name);
    g.created_at = 1700000004;
    return g;
}

static void add_group(store *s, const char *org_id, const char *id)
{
    err_t err;
    store_group g = group_rec(org_id, id, "Group");
    OK(s->ops->group_insert(s, &g, NULL, &err));
}

static store_app app_rec(const char *org_id, const char *id)
{
    store_app a;
    memset(&a, 0, sizeof(a));
    snprintf(a.id, sizeof(a.id), "%s", id);
    snprintf(a.org_id, sizeof(a.org_id), "%s", org_id);
    snprintf(a.name, sizeof(a.name), "Dashboard");
    snprintf(a.mode, sizeof(a.mode), "sso");
    snprintf(a.allowed_origins, sizeof(a.allowed_origins),
             "https://host.example.com\nhttp://localhost:3000");
    a.created_at = 1700000005;
    return a;
}

static void add_app(store *s, const char *org_id, const char *id)
{
    err_t err;
    store_app a = app_rec(org_id, id);
    OK(s->ops->app_insert(s, &a, NULL, &err));
}

static store_audit audit_rec(const char *org_id, unsigned n, const char *action, int64_t at)
{
    store_audit a;
    memset(&a, 0, sizeof(a));
    make_id(a.id, 0xaaaa, n);
    snprintf(a.org_id, sizeof(a.org_id), "%s", org_id);
    a.at = at;
    snprintf(a.actor, sizeof(a.actor), "admin@example.com");
    snprintf(a.action, sizeof(a.action), "%s", action);
    snprintf(a.target, sizeof(a.target), "target-%u", n);
    snprintf(a.client, sizeof(a.client), "192.0.2.%u", n % 250);
    snprintf(a.request_id, sizeof(a.request_id), "req-%u", n);
    snprintf(a.detail, sizeof(a.detail), "{\"n\":%u}", n);
    return a;
}

static store_session session_rec(const char *org_id, unsigned prefix, unsigned n)
{
    store_session s;
    memset(&s, 0, sizeof(s));
    make_id(s.jti, prefix, n);
    snprintf(s.org_id, sizeof(s.org_id), "%s", org_id);
    make_id(s.user_id, 0x5e5e, n);
    snprintf(s.email, sizeof(s.email), "user%u@example.com", n);
    snprintf(s.user_type, sizeof(s.user_type), "external");
    make_id(s.atid, 0x7070, 1);
    s.issued_at = 1700000100 + n;
    s.expires_at = 1700086500 + n;
    s.revoked_at = 0;
    return s;
}

/* ---- collecting *_each results ---- */

typedef struct {
    size_t size;        /* of one record */
    size_t n;           /* records collected */
    size_t stop_after;  /* 0 = never stop early */
    unsigned char *all; /* owned; n * size bytes */
} collected;

static int collect(void *ctx, const void *rec)
{
    collected *c = ctx;
    c->all = realloc(c->all, (c->n + 1) * c->size);
    assert_non_null(c->all);
    memcpy(c->all + c->n * c->size, rec, c->size);
    c->n++;
    return c->stop_after != 0 && c->n >= c->stop_after;
}

static collected collected_of(size_t size)
{
    collected c = {size, 0, 0, NULL};
    return c;
}

#define COLLECTED(type) collected_of(sizeof(type))
#define ITEM(c, type, i) ((const type *)((c).all + (i) * sizeof(type)))

static int count_rows(void *ctx, const void *rec)
{
    (void)rec;
    (*(size_t *)ctx)++;
    return 0;
}

static size_t count_audit(store *s, const char *org_id)
{
    err_t err;
    size_t n = 0;
    OK(s->ops->audit_each(s, org_id, 0, count_rows, &n, &err));
    return n;
}

static int64_t latest(store *s)
{
    err_t err;
    int64_t seq = -1;
    OK(s->ops->change_latest(s, &seq, &err));
    return seq;
}

/* ---- field-by-field comparisons ---- */

static void assert_org_equal(const store_org *a, const store_org *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->type, b->type);
    assert_int_equal(a->session_ttl, b->session_ttl);
    assert_int_equal(a->session_ttl_max, b->session_ttl_max);
    assert_int_equal(a->created_at, b->created_at);
}

static void assert_user_equal(const store_user *a, const store_user *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->email, b->email);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->role, b->role);
    assert_string_equal(a->password_hash, b->password_hash);
    assert_int_equal(a->created_at, b->created_at);
}

static void assert_token_equal(const store_token *a, const store_token *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->type, b->type);
    assert_string_equal(a->prefix, b->prefix);
    assert_string_equal(a->hash, b->hash);
    assert_string_equal(a->created_by, b->created_by);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->expires_at, b->expires_at);
    assert_int_equal(a->last_used_at, b->last_used_at);
    assert_int_equal(a->revoked_at, b->revoked_at);
    assert_int_equal(a->rate_rps, b->rate_rps);
    assert_int_equal(a->rate_burst, b->rate_burst);
}

static void assert_group_equal(const store_group *a, const store_group *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->name, b->name);
    assert_int_equal(a->created_at, b->created_at);
}

static void assert_app_equal(const store_app *a, const store_app *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->mode, b->mode);
    assert_string_equal(a->allowed_origins, b->allowed_origins);
    assert_int_equal(a->created_at, b->created_at);
}

static void assert_key_equal(const store_key *a, const store_key *b)
{
    assert_string_equal(a->kid, b->kid);
    assert_string_equal(a->alg, b->alg);
    assert_string_equal(a->state, b->state);
    assert_int_equal(a->sealed_len, b->sealed_len);
    assert_memory_equal(a->sealed_private, b->sealed_private, a->sealed_len);
    assert_string_equal(a->public_jwk, b->public_jwk);
    assert_int_equal(a->created_at, b->created_at);
}

static void assert_session_equal(const store_session *a, const store_session *b)
{
    assert_string_equal(a->jti, b->jti);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->user_id, b->user_id);
    assert_string_equal(a->email, b->email);
    assert_string_equal(a->user_type, b->user_type);
    assert_string_equal(a->atid, b->atid);
    assert_int_equal(a->issued_at, b->issued_at);
    assert_int_equal(a->expires_at, b->expires_at);
    assert_int_equal(a->revoked_at, b->revoked_at);
}

static void assert_audit_equal(const store_audit *a, const store_audit *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->org_id, b->org_id);
    assert_int_equal(a->at, b->at);
    assert_string_equal(a->actor, b->actor);
    assert_string_equal(a->action, b->action);
    assert_string_equal(a->target, b->target);
    assert_string_equal(a->client, b->client);
    assert_string_equal(a->request_id, b->request_id);
    assert_string_equal(a->detail, b->detail);
}

static void assert_change(const store_change *c, const char *kind, const char *org_id,
                          const char *id)
{
    assert_string_equal(c->kind, kind);
    assert_string_equal(c->org_id, org_id);
    assert_string_equal(c->id, id);
}

/* ---- migrations ---- */

static void test_migrate_again(void **state)
{
    store *s = *state;
    err_t err;
    OK(s->ops->migrate(s, &err));
    OK(s->ops->migrate(s, &err));
    add_org(s, ORG_A);
    OK(s->ops->migrate(s, &err));
    store_org got;
    OK(s->ops->org_get(s, ORG_A, &got, &err));
}

/* ---- orgs ---- */

static void test_org_roundtrip(void **state)
{
    store *s = *state;
    err_t err;
    store_org o = org_rec(ORG_B, "");
    fill_max(o.name, sizeof(o.name), 'n');
    fill_max(o.type, sizeof(o.type), 't');
    o.session_ttl = 900;
    o.session_ttl_max = INT64_C(1) << 40;
    OK(s->ops->org_insert(s, &o, NULL, &err));
    store_org o2 = org_rec(ORG_A, "Second, sorts first by id");
    OK(s->ops->org_insert(s, &o2, NULL, &err));

    store_org got;
    OK(s->ops->org_get(s, ORG_B, &got, &err));
    assert_org_equal(&got, &o);

    collected c = COLLECTED(store_org);
    OK(s->ops->org_each(s, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_org_equal(ITEM(c, store_org, 0), &o); /* creation order, not id order */
    assert_org_equal(ITEM(c, store_org, 1), &o2);
    free(c.all);
}

static void test_org_not_found_and_conflict(void **state)
{
    store *s = *state;
    err_t err;
    store_org got;
    FAILS_WITH(s->ops->org_get(s, ORG_A, &got, &err), ERR_NOT_FOUND);
    add_org(s, ORG_A);
    store_org dup = org_rec(ORG_A, "Again");
    FAILS_WITH(s->ops->org_insert(s, &dup, NULL, &err), ERR_CONFLICT);
    OK(s->ops->org_get(s, ORG_A, &got, &err));
    assert_string_equal(got.name, "Org");
}

static void test_org_update(void **state)
{
    store *s = *state;
    err_t err;
    store_org o = org_rec(ORG_A, "Before");
    OK(s->ops->org_insert(s, &o, NULL, &err));
    int64_t before = latest(s);
    snprintf(o.name, sizeof(o.name), "After");
    o.session_ttl = 60;
    o.session_ttl_max = 3600;
    int64_t created = o.created_at;
    o.created_at = created + 999; /* not an updatable column */
    store_audit a = audit_rec(ORG_A, 1, "org.updated", 1700000500);
    OK(s->ops->org_update(s, &o, &a, &err));
    store_org got;
    OK(s->ops->org_get(s, ORG_A, &got, &err));
    assert_string_equal(got.name, "After");
    assert_int_equal(got.session_ttl, 60);
    assert_int_equal(got.session_ttl_max, 3600);
    assert_int_equal(got.created_at, created);
    assert_int_equal(count_audit(s, ORG_A), 1);
    collected c = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &c, &err));
    assert_int_equal(c.n, 1);
    assert_change(ITEM(c, store_change, 0), "org", ORG_A, ORG_A);
    free(c.all);
    store_org missing = org_rec(ORG_B, "Nobody");
    store_audit a2 = audit_rec(ORG_B, 2, "org.updated", 1700000600);
    FAILS_WITH(s->ops->org_update(s, &missing, &a2, &err), ERR_NOT_FOUND);
    assert_int_equal(count_audit(s, ORG_B), 0);
}

static void test_each_stops_early(void **state)
{
    store *s = *state;
    err_t err;
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    collected c = COLLECTED(store_org);
    c.stop_after = 1;
    OK(s->ops->org_each(s, collect, &c, &err));
    assert_int_equal(c.n, 1);
    free(c.all);
}

/* ---- users ---- */

static void test_user_roundtrip(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    make_id(id, 1, 1);
    store_user u = user_rec(ORG_A, id, "");
    fill_max(u.email, sizeof(u.email), 'e');
    fill_max(u.name, sizeof(u.name), 'u');
    fill_max(u.password_hash, sizeof(u.password_hash), 'h');
    snprintf(u.role, sizeof(u.role), "owner");
    OK(s->ops->user_insert(s, &u, NULL, &err));
    make_id(id, 1, 0); /* a smaller id, created later */
    store_user u2 = user_rec(ORG_A, id, "b@example.com");
    u2.password_hash[0] = '\0';
    OK(s->ops->user_insert(s, &u2, NULL, &err));

    store_user got;
    OK(s->ops->user_get(s, ORG_A, u.id, &got, &err));
    assert_user_equal(&got, &u);
    OK(s->ops->user_find_email(s, ORG_A, "b@example.com", &got, &err));
    assert_user_equal(&got, &u2);

    collected c = COLLECTED(store_user);
    OK(s->ops->user_each(s, ORG_A, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_user_equal(ITEM(c, store_user, 0), &u);
    assert_user_equal(ITEM(c, store_user, 1), &u2);
    free(c.all);
}

static void test_user_conflicts(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id, 1, 1);
    store_user u = user_rec(ORG_A, id, "ada@example.com");
    OK(s->ops->user_insert(s, &u, NULL, &err));
    make_id(id, 1, 2);
    store_user same_email = user_rec(ORG_A, id, "ada@example.com");
    FAILS_WITH(s->ops->user_insert(s, &same_email, NULL, &err), ERR_CONFLICT);
    assert_null(strstr(err.detail, "ada@")); /* personal data stays out of errors */
    make_id(id, 1, 3);
    store_user other_org = user_rec(ORG_B, id, "ada@example.com");
    OK(s->ops->user_insert(s, &other_org, NULL, &err));
    make_id(id, 1, 4);
    store_user no_org = user_rec("ffffffff-0000-4000-8000-000000000000", id, "x@example.com");
    FAILS_WITH(s->ops->user_insert(s, &no_org, NULL, &err), ERR_INVALID_REQUEST);
}

static void test_user_org_isolation(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id, 1, 1);
    store_user u = user_rec(ORG_A, id, "ada@example.com");
    OK(s->ops->user_insert(s, &u, NULL, &err));

    store_user got;
    FAILS_WITH(s->ops->user_get(s, ORG_B, u.id, &got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->user_find_email(s, ORG_B, u.email, &got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->user_get(s, NULL, u.id, &got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->user_get(s, "", u.id, &got, &err), ERR_NOT_FOUND);
    size_t n = 0;
    OK(s->ops->user_each(s, ORG_B, count_rows, &n, &err));
    assert_int_equal(n, 0);
    /* A NULL or "" filter is "every org" (for loading caches). */
    OK(s->ops->user_each(s, NULL, count_rows, &n, &err));
    OK(s->ops->user_each(s, "", count_rows, &n, &err));
    assert_int_equal(n, 2);
}

/* ---- access tokens ---- */

static void test_token_roundtrip(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    make_id(id, 2, 1);
    store_token t = token_rec(ORG_A, id, 'a');
    fill_max(t.name, sizeof(t.name), 'n');
    fill_max(t.prefix, sizeof(t.prefix), 'p');
    fill_max(t.created_by, sizeof(t.created_by), 'c');
    snprintf(t.type, sizeof(t.type), "admin");
    t.last_used_at = 1700000050;
    t.revoked_at = 1700000060;
    t.rate_rps = 5;
    t.rate_burst = 10;
    OK(s->ops->token_insert(s, &t, NULL, &err));
    make_id(id, 2, 0);
    store_token t2 = token_rec(ORG_A, id, 'b');
    OK(s->ops->token_insert(s, &t2, NULL, &err));

    store_token got;
    OK(s->ops->token_get(s, ORG_A, t.id, &got, &err));
    assert_token_equal(&got, &t);
    collected c = COLLECTED(store_token);
    OK(s->ops->token_each(s, ORG_A, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_token_equal(ITEM(c, store_token, 0), &t);
    assert_token_equal(ITEM(c, store_token, 1), &t2);
    free(c.all);
}

static void test_token_conflict_and_isolation(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id, 2, 1);
    store_token t = token_rec(ORG_A, id, 'a');
    OK(s->ops->token_insert(s, &t, NULL, &err));
    make_id(id, 2, 2);
    store_token same_hash = token_rec(ORG_B, id, 'a');
    FAILS_WITH(s->ops->token_insert(s, &same_hash, NULL, &err), ERR_CONFLICT);
    assert_null(strstr(err.detail, "aaaaaaaa")); /* no hash in the detail */

    store_token got;
    FAILS_WITH(s->ops->token_get(s, ORG_B, t.id, &got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->token_revoke(s, ORG_B, t.id, 1700000099, NULL, &err), ERR_NOT_FOUND);
    OK(s->ops->token_get(s, ORG_A, t.id, &got, &err));
    assert_int_equal(got.revoked_at, 0);
    size_t n = 0;
    OK(s->ops->token_each(s, ORG_B, count_rows, &n, &err));
    assert_int_equal(n, 0);
}

static void test_token_revoke(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    make_id(id, 2, 1);
    store_token t = token_rec(ORG_A, id, 'a');
    OK(s->ops->token_insert(s, &t, NULL, &err));
    int64_t before = latest(s);

    store_audit a = audit_rec(ORG_A, 1, "token.revoked", 1700000200);
    OK(s->ops->token_revoke(s, ORG_A, t.id, 1700000200, &a, &err));
    store_token got;
    OK(s->ops->token_get(s, ORG_A, t.id, &got, &err));
    assert_int_equal(got.revoked_at, 1700000200);
    assert_int_equal(count_audit(s, ORG_A), 1);

    collected c = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &c, &err));
    assert_int_equal(c.n, 1);
    assert_change(ITEM(c, store_change, 0), "token", ORG_A, t.id);
    free(c.all);

    /* Revoking again succeeds and keeps the first time. */
    OK(s->ops->token_revoke(s, ORG_A, t.id, 1700000300, NULL, &err));
    OK(s->ops->token_get(s, ORG_A, t.id, &got, &err));
    assert_int_equal(got.revoked_at, 1700000200);

    make_id(id, 2, 9);
    int64_t mark = latest(s);
    store_audit a2 = audit_rec(ORG_A, 2, "token.revoked", 1700000400);
    FAILS_WITH(s->ops->token_revoke(s, ORG_A, id, 1700000400, &a2, &err), ERR_NOT_FOUND);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 1);
}

static void test_token_touch(void **state)
{
    store *s = *state;
    err_t err;
    char id1[STORE_ID_MAX], id2[STORE_ID_MAX], id3[STORE_ID_MAX];
    add_org(s, ORG_A);
    make_id(id1, 2, 1);
    make_id(id2, 2, 2);
    make_id(id3, 2, 3);
    store_token t1 = token_rec(ORG_A, id1, 'a');
    store_token t2 = token_rec(ORG_A, id2, 'b');
    OK(s->ops->token_insert(s, &t1, NULL, &err));
    OK(s->ops->token_insert(s, &t2, NULL, &err));
    int64_t before = latest(s);

    const char *ids[] = {id1, id2, id3}; /* id3 does not exist: skipped */
    OK(s->ops->token_touch(s, ids, 3, 1700000500, &err));
    store_token got;
    OK(s->ops->token_get(s, ORG_A, id1, &got, &err));
    assert_int_equal(got.last_used_at, 1700000500);
    OK(s->ops->token_get(s, ORG_A, id2, &got, &err));
    assert_int_equal(got.last_used_at, 1700000500);

    OK(s->ops->token_touch(s, ids, 1, 1700000600, &err));
    OK(s->ops->token_get(s, ORG_A, id1, &got, &err));
    assert_int_equal(got.last_used_at, 1700000600);
    OK(s->ops->token_get(s, ORG_A, id2, &got, &err));
    assert_int_equal(got.last_used_at, 1700000500);

    /* Touches may arrive out of order: last_used_at never moves backwards. */
    OK(s->ops->token_touch(s, ids, 2, 1700000550, &err));
    OK(s->ops->token_get(s, ORG_A, id1, &got, &err));
    assert_int_equal(got.last_used_at, 1700000600);
    OK(s->ops->token_get(s, ORG_A, id2, &got, &err));
    assert_int_equal(got.last_used_at, 1700000550);

    OK(s->ops->token_touch(s, ids, 0, 1700000700, &err));
    assert_int_equal(latest(s), before); /* no change-log rows */
}

static void assert_one_change(store *s, int64_t after, const char *kind, const char *org_id,
                              const char *id);

/* token_set_rate_limit changes only the two rate fields, appends ("token",
 * id) with its audit event, and treats another org's token as absent. */
static void test_token_set_rate_limit(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id, 2, 1);
    store_token t = token_rec(ORG_A, id, 'a');
    OK(s->ops->token_insert(s, &t, NULL, &err));
    store_token got;
    OK(s->ops->token_get(s, ORG_A, id, &got, &err));
    assert_int_equal(got.rate_rps, STORE_RATE_DEFAULT);
    assert_int_equal(got.rate_burst, 0);
    int64_t before = latest(s);

    store_token change = t;
    snprintf(change.name, sizeof(change.name), "ignored");
    change.rate_rps = 7;
    change.rate_burst = 21;
    store_audit a = audit_rec(ORG_A, 1, "token.rate_limit_set", 1700000200);
    OK(s->ops->token_set_rate_limit(s, &change, &a, &err));
    OK(s->ops->token_get(s, ORG_A, id, &got, &err));
    t.rate_rps = 7;
    t.rate_burst = 21;
    assert_token_equal(&got, &t); /* the name stayed */
    assert_one_change(s, before, "token", ORG_A, id);
    assert_int_equal(count_audit(s, ORG_A), 1);

    change.rate_rps = STORE_RATE_OFF;
    change.rate_burst = 0;
    OK(s->ops->token_set_rate_limit(s, &change, NULL, &err));
    OK(s->ops->token_get(s, ORG_A, id, &got, &err));
    assert_int_equal(got.rate_rps, STORE_RATE_OFF);

    int64_t mark = latest(s);
    store_token foreign = change;
    snprintf(foreign.org_id, sizeof(foreign.org_id), "%s", ORG_B);
    store_audit a2 = audit_rec(ORG_B, 2, "token.rate_limit_set", 1700000300);
    FAILS_WITH(s->ops->token_set_rate_limit(s, &foreign, &a2, &err), ERR_NOT_FOUND);
    make_id(foreign.id, 2, 9);
    snprintf(foreign.org_id, sizeof(foreign.org_id), "%s", ORG_A);
    FAILS_WITH(s->ops->token_set_rate_limit(s, &foreign, NULL, &err), ERR_NOT_FOUND);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_B), 0);
    OK(s->ops->token_get(s, ORG_A, id, &got, &err));
    assert_int_equal(got.rate_rps, STORE_RATE_OFF);
}

/* ---- groups, grants, members ---- */

static void test_group_roundtrip_and_isolation(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id, 3, 1);
    store_group g = group_rec(ORG_A, id, "");
    fill_max(g.name, sizeof(g.name), 'g');
    OK(s->ops->group_insert(s, &g, NULL, &err));
    make_id(id, 3, 2);
    store_group gb = group_rec(ORG_B, id, "B's group");
    OK(s->ops->group_insert(s, &gb, NULL, &err));

    store_group got;
    OK(s->ops->group_get(s, ORG_A, g.id, &got, &err));
    assert_group_equal(&got, &g);
    FAILS_WITH(s->ops->group_get(s, ORG_B, g.id, &got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->group_insert(s, &g, NULL, &err), ERR_CONFLICT);

    collected c = COLLECTED(store_group);
    OK(s->ops->group_each(s, ORG_A, collect, &c, &err));
    assert_int_equal(c.n, 1);
    assert_group_equal(ITEM(c, store_group, 0), &g);
    free(c.all);
    size_t n = 0;
    OK(s->ops->group_each(s, NULL, count_rows, &n, &err));
    assert_int_equal(n, 2);
}

static store_grant grant_rec(const char *org_id, const char *group_id, const char *app_id,
                             const char *permission)
{
    store_grant g;
    memset(&g, 0, sizeof(g));
    snprintf(g.org_id, sizeof(g.org_id), "%s", org_id);
    snprintf(g.group_id, sizeof(g.group_id), "%s", group_id);
    snprintf(g.app_id, sizeof(g.app_id), "%s", app_id);
    snprintf(g.permission, sizeof(g.permission), "%s", permission);
    return g;
}

static void test_grant_idempotent(void **state)
{
    store *s = *state;
    err_t err;
    char gid[STORE_ID_MAX], aid[STORE_ID_MAX];
    add_org(s, ORG_A);
    make_id(gid, 3, 1);
    make_id(aid, 4, 1);
    add_group(s, ORG_A, gid);
    add_app(s, ORG_A, aid);
    int64_t before = latest(s);

    store_grant g = grant_rec(ORG_A, gid, aid, "apps:view");
    fill_max(g.permission, sizeof(g.permission), 'p');
    store_audit a1 = audit_rec(ORG_A, 1, "group.granted", 10);
    store_audit a2 = audit_rec(ORG_A, 2, "group.granted", 11);
    OK(s->ops->grant_insert(s, &g, &a1, &err));
    OK(s->ops->grant_insert(s, &g, &a2, &err));

    collected c = COLLECTED(store_grant);
    OK(s->ops->grant_each(s, ORG_A, gid, collect, &c, &err));
    assert_int_equal(c.n, 1);
    const store_grant *got = ITEM(c, store_grant, 0);
    assert_string_equal(got->org_id, ORG_A);
    assert_string_equal(got->group_id, gid);
    assert_string_equal(got->app_id, aid);
    assert_string_equal(got->permission, g.permission);
    free(c.all);

    collected ch = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &ch, &err));
    assert_int_equal(ch.n, 2);
    assert_change(ITEM(ch, store_change, 0), "grant", ORG_A, gid);
    assert_change(ITEM(ch, store_change, 1), "grant", ORG_A, gid);
    free(ch.all);
    assert_int_equal(count_audit(s, ORG_A), 2);
}

static void test_grant_references(void **state)
{
    store *s = *state;
    err_t err;
    char ga[STORE_ID_MAX], gb[STORE_ID_MAX], aa[STORE_ID_MAX], ab[STORE_ID_MAX],
        missing[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(ga, 3, 1);
    make_id(gb, 3, 2);
    make_id(aa, 4, 1);
    make_id(ab, 4, 2);
    make_id(missing, 9, 9);
    add_group(s, ORG_A, ga);
    add_group(s, ORG_B, gb);
    add_app(s, ORG_A, aa);
    add_app(s, ORG_B, ab);
    int64_t before = latest(s);
    store_audit a = audit_rec(ORG_A, 1, "group.granted", 10);

    store_grant no_group = grant_rec(ORG_A, missing, aa, "apps:view");
    FAILS_WITH(s->ops->grant_insert(s, &no_group, &a, &err), ERR_INVALID_REQUEST);
    store_grant no_app = grant_rec(ORG_A, ga, missing, "apps:view");
    FAILS_WITH(s->ops->grant_insert(s, &no_app, &a, &err), ERR_INVALID_REQUEST);
    store_grant foreign_group = grant_rec(ORG_A, gb, aa, "apps:view");
    FAILS_WITH(s->ops->grant_insert(s, &foreign_group, &a, &err), ERR_INVALID_REQUEST);
    store_grant foreign_app = grant_rec(ORG_A, ga, ab, "apps:view");
    FAILS_WITH(s->ops->grant_insert(s, &foreign_app, &a, &err), ERR_INVALID_REQUEST);

    assert_int_equal(latest(s), before);
    assert_int_equal(count_audit(s, ORG_A), 0);
    size_t n = 0;
    OK(s->ops->grant_each(s, NULL, NULL, count_rows, &n, &err));
    assert_int_equal(n, 0);
}

static void test_grant_each_filters(void **state)
{
    store *s = *state;
    err_t err;
    char g1[STORE_ID_MAX], g2[STORE_ID_MAX], gb[STORE_ID_MAX], aa[STORE_ID_MAX], ab[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(g1, 3, 1);
    make_id(g2, 3, 2);
    make_id(gb, 3, 3);
    make_id(aa, 4, 1);
    make_id(ab, 4, 2);
    add_group(s, ORG_A, g1);
    add_group(s, ORG_A, g2);
    add_group(s, ORG_B, gb);
    add_app(s, ORG_A, aa);
    add_app(s, ORG_B, ab);
    store_grant rows[] = {
        grant_rec(ORG_A, g1, aa, "apps:view"),
        grant_rec(ORG_A, g1, aa, "apps:update"),
        grant_rec(ORG_A, g2, aa, "apps:view"),
        grant_rec(ORG_B, gb, ab, "apps:view"),
    };
    for (size_t i = 0; i < 4; i++)
        OK(s->ops->grant_insert(s, &rows[i], NULL, &err));

    collected c = COLLECTED(store_grant);
    OK(s->ops->grant_each(s, ORG_A, g1, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_string_equal(ITEM(c, store_grant, 0)->permission, "apps:view");
    assert_string_equal(ITEM(c, store_grant, 1)->permission, "apps:update");
    free(c.all);

    size_t n = 0;
    OK(s->ops->grant_each(s, ORG_A, NULL, count_rows, &n, &err));
    assert_int_equal(n, 3);
    n = 0;
    OK(s->ops->grant_each(s, ORG_B, g1, count_rows, &n, &err)); /* A's group, B's org */
    assert_int_equal(n, 0);
    n = 0;
    OK(s->ops->grant_each(s, NULL, gb, count_rows, &n, &err));
    assert_int_equal(n, 1);
    n = 0;
    OK(s->ops->grant_each(s, "", "", count_rows, &n, &err));
    assert_int_equal(n, 4);
}

static store_member member_rec(const char *org_id, const char *group_id, const char *user_id)
{
    store_member m;
    memset(&m, 0, sizeof(m));
    snprintf(m.org_id, sizeof(m.org_id), "%s", org_id);
    snprintf(m.group_id, sizeof(m.group_id), "%s", group_id);
    snprintf(m.user_id, sizeof(m.user_id), "%s", user_id);
    return m;
}

static void test_members(void **state)
{
    store *s = *state;
    err_t err;
    char g1[STORE_ID_MAX], gb[STORE_ID_MAX], u1[STORE_ID_MAX], u2[STORE_ID_MAX], ub[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(g1, 3, 1);
    make_id(gb, 3, 2);
    make_id(u1, 1, 1);
    make_id(u2, 1, 2);
    make_id(ub, 1, 3);
    add_group(s, ORG_A, g1);
    add_group(s, ORG_B, gb);
    store_user users[] = {user_rec(ORG_A, u1, "a1@example.com"),
                          user_rec(ORG_A, u2, "a2@example.com"),
                          user_rec(ORG_B, ub, "b1@example.com")};
    for (size_t i = 0; i < 3; i++)
        OK(s->ops->user_insert(s, &users[i], NULL, &err));
    int64_t before = latest(s);

    store_member m1 = member_rec(ORG_A, g1, u1);
    store_member m2 = member_rec(ORG_A, g1, u2);
    store_member mb = member_rec(ORG_B, gb, ub);
    store_audit a = audit_rec(ORG_A, 1, "group.member_added", 10);
    OK(s->ops->member_insert(s, &m1, &a, &err));
    a = audit_rec(ORG_A, 2, "group.member_added", 11);
    OK(s->ops->member_insert(s, &m1, &a, &err)); /* idempotent */
    OK(s->ops->member_insert(s, &m2, NULL, &err));
    OK(s->ops->member_insert(s, &mb, NULL, &err));

    collected c = COLLECTED(store_member);
    OK(s->ops->member_each(s, ORG_A, g1, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_string_equal(ITEM(c, store_member, 0)->org_id, ORG_A);
    assert_string_equal(ITEM(c, store_member, 0)->group_id, g1);
    assert_string_equal(ITEM(c, store_member, 0)->user_id, u1);
    assert_string_equal(ITEM(c, store_member, 1)->user_id, u2);
    free(c.all);

    collected ch = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &ch, &err));
    assert_int_equal(ch.n, 4);
    assert_change(ITEM(ch, store_change, 0), "member", ORG_A, g1);
    assert_change(ITEM(ch, store_change, 3), "member", ORG_B, gb);
    free(ch.all);
    assert_int_equal(count_audit(s, ORG_A), 2);

    size_t n = 0;
    OK(s->ops->member_each(s, ORG_B, g1, count_rows, &n, &err));
    assert_int_equal(n, 0);
    OK(s->ops->member_each(s, NULL, NULL, count_rows, &n, &err));
    assert_int_equal(n, 3);

    /* A user of another org cannot join; nor can anyone join a missing group. */
    store_member cross = member_rec(ORG_A, g1, ub);
    FAILS_WITH(s->ops->member_insert(s, &cross, NULL, &err), ERR_INVALID_REQUEST);
    char missing[STORE_ID_MAX];
    make_id(missing, 9, 9);
    store_member nogroup = member_rec(ORG_A, missing, u1);
    FAILS_WITH(s->ops->member_insert(s, &nogroup, NULL, &err), ERR_INVALID_REQUEST);
}

/* ---- apps and versions ---- */

static void test_app_roundtrip_and_isolation(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id, 4, 1);
    store_app a = app_rec(ORG_A, id);
    fill_max(a.name, sizeof(a.name), 'a');
    fill_max(a.allowed_origins, sizeof(a.allowed_origins), 'o');
    a.allowed_origins[100] = '\n';
    snprintf(a.mode, sizeof(a.mode), "private");
    OK(s->ops->app_insert(s, &a, NULL, &err));
    make_id(id, 4, 0);
    store_app a2 = app_rec(ORG_A, id);
    a2.allowed_origins[0] = '\0';
    OK(s->ops->app_insert(s, &a2, NULL, &err));

    store_app got;
    OK(s->ops->app_get(s, ORG_A, a.id, &got, &err));
    assert_app_equal(&got, &a);
    FAILS_WITH(s->ops->app_get(s, ORG_B, a.id, &got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->app_insert(s, &a, NULL, &err), ERR_CONFLICT);

    collected c = COLLECTED(store_app);
    OK(s->ops->app_each(s, ORG_A, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_app_equal(ITEM(c, store_app, 0), &a);
    assert_app_equal(ITEM(c, store_app, 1), &a2);
    free(c.all);
    size_t n = 0;
    OK(s->ops->app_each(s, ORG_B, count_rows, &n, &err));
    assert_int_equal(n, 0);
}

static store_app_version version_rec(const char *org_id, const char *app_id, unsigned n)
{
    store_app_version v;
    memset(&v, 0, sizeof(v));
    make_id(v.id, 5, n);
    snprintf(v.org_id, sizeof(v.org_id), "%s", org_id);
    snprintf(v.app_id, sizeof(v.app_id), "%s", app_id);
    snprintf(v.created_by, sizeof(v.created_by), "dev@example.com");
    v.created_at = 1700001000 + n;
    return v;
}

typedef struct {
    int calls;
    char path[512];
    char content_type[128];
    unsigned char data[64];
    size_t len;
} file_seen;

static int on_file(void *ctx, const void *rec)
{
    file_seen *fs = ctx;
    const store_app_file *f = rec;
    fs->calls++;
    snprintf(fs->path, sizeof(fs->path), "%s", f->path);
    snprintf(fs->content_type, sizeof(fs->content_type), "%s", f->content_type);
    fs->len = f->len;
    if (f->len <= sizeof(fs->data) && f->len > 0)
        memcpy(fs->data, f->data, f->len);
    return 0;
}

static void test_app_versions(void **state)
{
    store *s = *state;
    err_t err;
    char app[STORE_ID_MAX], other[STORE_ID_MAX];
    add_org(s, ORG_A);
    make_id(app, 4, 1);
    make_id(other, 4, 2);
    add_app(s, ORG_A, app);
    add_app(s, ORG_A, other);

    static const unsigned char html[] = "<!doctype html><p>hi</p>";
    static const unsigned char bin[] = {0x00, 0xff, 0x00, 0x01, 0x89, 'P', 'N', 'G', 0x00};
    store_app_file files[3];
    memset(files, 0, sizeof(files));
    snprintf(files[0].path, sizeof(files[0].path), "index.html");
    snprintf(files[0].content_type, sizeof(files[0].content_type), "text/html; charset=utf-8");
    files[0].data = html;
    files[0].len = sizeof(html) - 1;
    snprintf(files[1].path, sizeof(files[1].path), "img/logo.png");
    snprintf(files[1].content_type, sizeof(files[1].content_type), "image/png");
    files[1].data = bin;
    files[1].len = sizeof(bin);
    snprintf(files[2].path, sizeof(files[2].path), "empty.txt");
    snprintf(files[2].content_type, sizeof(files[2].content_type), "text/plain");
    files[2].data = NULL;
    files[2].len = 0;

    int64_t before = latest(s);
    store_app_version v[3];
    for (unsigned i = 0; i < 3; i++) {
        v[i] = version_rec(ORG_A, app, i + 1);
        store_audit a = audit_rec(ORG_A, i + 1, "app.deployed", 10 + i);
        OK(s->ops->app_version_insert(s, &v[i], files, 3 - i, &a, &err));
        assert_int_equal(v[i].version, i + 1);
        assert_int_equal(v[i].file_count, 3 - i);
    }
    assert_int_equal(v[0].total_bytes, files[0].len + files[1].len);
    assert_int_equal(v[2].total_bytes, files[0].len);
    assert_int_equal(count_audit(s, ORG_A), 3);

    /* Numbering is per app. */
    store_app_version vo = version_rec(ORG_A, other, 10);
    OK(s->ops->app_version_insert(s, &vo, files, 1, NULL, &err));
    assert_int_equal(vo.version, 1);

    collected ch = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &ch, &err));
    assert_int_equal(ch.n, 4);
    assert_change(ITEM(ch, store_change, 0), "app_version", ORG_A, app);
    assert_change(ITEM(ch, store_change, 3), "app_version", ORG_A, other);
    free(ch.all);

    collected c = COLLECTED(store_app_version);
    OK(s->ops->app_version_each(s, ORG_A, app, collect, &c, &err));
    assert_int_equal(c.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        const store_app_version *got = ITEM(c, store_app_version, i);
        assert_string_equal(got->id, v[i].id);
        assert_string_equal(got->org_id, ORG_A);
        assert_string_equal(got->app_id, app);
        assert_int_equal(got->version, i + 1);
        assert_string_equal(got->created_by, v[i].created_by);
        assert_int_equal(got->created_at, v[i].created_at);
        assert_int_equal(got->file_count, v[i].file_count);
        assert_int_equal(got->total_bytes, v[i].total_bytes);
    }
    free(c.all);
    size_t n = 0;
    OK(s->ops->app_version_each(s, ORG_A, NULL, count_rows, &n, &err));
    assert_int_equal(n, 4);
    n = 0;
    OK(s->ops->app_version_each(s, ORG_B, app, count_rows, &n, &err));
    assert_int_equal(n, 0);

    file_seen fs;
    memset(&fs, 0, sizeof(fs));
    OK(s->ops->app_file_get(s, v[0].id, "img/logo.png", on_file, &fs, &err));
    assert_int_equal(fs.calls, 1);
    assert_string_equal(fs.path, "img/logo.png");
    assert_string_equal(fs.content_type, "image/png");
    assert_int_equal(fs.len, sizeof(bin));
    assert_memory_equal(fs.data, bin, sizeof(bin));
    memset(&fs, 0, sizeof(fs));
    OK(s->ops->app_file_get(s, v[0].id, "index.html", on_file, &fs, &err));
    assert_int_equal(fs.len, sizeof(html) - 1);
    assert_memory_equal(fs.data, html, sizeof(html) - 1);
    assert_string_equal(fs.content_type, "text/html; charset=utf-8");
    memset(&fs, 0, sizeof(fs));
    OK(s->ops->app_file_get(s, v[0].id, "empty.txt", on_file, &fs, &err));
    assert_int_equal(fs.calls, 1);
    assert_int_equal(fs.len, 0);

    memset(&fs, 0, sizeof(fs));
    FAILS_WITH(s->ops->app_file_get(s, v[1].id, "empty.txt", on_file, &fs, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->app_file_get(s, v[0].id, "nope.js", on_file, &fs, &err), ERR_NOT_FOUND);
    char missing[STORE_ID_MAX];
    make_id(missing, 9, 9);
    FAILS_WITH(s->ops->app_file_get(s, missing, "index.html", on_file, &fs, &err), ERR_NOT_FOUND);
    assert_int_equal(fs.calls, 0);
}

static void test_app_version_failures(void **state)
{
    store *s = *state;
    err_t err;
    char app[STORE_ID_MAX], app_b[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(app, 4, 1);
    make_id(app_b, 4, 2);
    add_app(s, ORG_A, app);
    add_app(s, ORG_B, app_b);

    store_app_file files[2];
    memset(files, 0, sizeof(files));
    for (int i = 0; i < 2; i++) {
        snprintf(files[i].path, sizeof(files[i].path), "same.js");
        snprintf(files[i].content_type, sizeof(files[i].content_type), "text/javascript");
        files[i].data = (const unsigned char *)"x";
        files[i].len = 1;
    }
    int64_t before = latest(s);
    store_audit a = audit_rec(ORG_A, 1, "app.deployed", 10);
    store_app_version v = version_rec(ORG_A, app, 1);
    FAILS_WITH(s->ops->app_version_insert(s, &v, files, 2, &a, &err), ERR_CONFLICT);
    assert_int_equal(v.version, 0); /* untouched on failure */

    store_app_version cross = version_rec(ORG_A, app_b, 2); /* B's app under org A */
    FAILS_WITH(s->ops->app_version_insert(s, &cross, files, 1, &a, &err), ERR_INVALID_REQUEST);
    assert_int_equal(latest(s), before);
    assert_int_equal(count_audit(s, ORG_A), 0);

    /* The failed attempt did not use up a number. */
    v = version_rec(ORG_A, app, 3);
    OK(s->ops->app_version_insert(s, &v, files, 1, NULL, &err));
    assert_int_equal(v.version, 1);
    store_app_version dup = version_rec(ORG_A, app, 3); /* same version id */
    FAILS_WITH(s->ops->app_version_insert(s, &dup, files, 1, NULL, &err), ERR_CONFLICT);
}

/* ---- signing keys ---- */

static store_key key_rec(const char *kid)
{
    store_key k;
    memset(&k, 0, sizeof(k));
    snprintf(k.kid, sizeof(k.kid), "%s", kid);
    snprintf(k.alg, sizeof(k.alg), "ES256");
    snprintf(k.state, sizeof(k.state), "active");
    for (size_t i = 0; i < sizeof(k.sealed_private); i++)
        k.sealed_private[i] = (unsigned char)(i * 7 + (i >> 8)); /* includes 0x00 bytes */
    k.sealed_len = sizeof(k.sealed_private);
    snprintf(k.public_jwk, sizeof(k.public_jwk),
             "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"abc\",\"y\":\"def\",\"kid\":\"%s\"}", kid);
    k.created_at = 1700002000;
    return k;
}

static void test_keys(void **state)
{
    store *s = *state;
    err_t err;
    int64_t before = latest(s);
    store_key k1 = key_rec("");
    fill_max(k1.kid, sizeof(k1.kid), 'k');
    fill_max(k1.public_jwk, sizeof(k1.public_jwk), 'j');
    store_key k2 = key_rec("2024-01-b");
    snprintf(k2.alg, sizeof(k2.alg), "EdDSA");
    k2.sealed_len = 60;
    store_audit a = audit_rec("", 1, "key.created", 10);
    OK(s->ops->key_insert(s, &k1, &a, &err));
    OK(s->ops->key_insert(s, &k2, NULL, &err));
    FAILS_WITH(s->ops->key_insert(s, &k2, NULL, &err), ERR_CONFLICT);
    assert_int_equal(count_audit(s, ""), 1);

    /* One active key: the second active insert retired the first. */
    store_key got;
    OK(s->ops->key_get(s, k1.kid, &got, &err));
    snprintf(k1.state, sizeof(k1.state), "retiring");
    assert_key_equal(&got, &k1);
    OK(s->ops->key_get(s, k2.kid, &got, &err));
    assert_key_equal(&got, &k2);
    FAILS_WITH(s->ops->key_get(s, "no-such-kid", &got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->key_set_state(s, k1.kid, "active", NULL, &err), ERR_CONFLICT);
    OK(s->ops->key_get(s, k2.kid, &got, &err));
    assert_string_equal(got.state, "active");
    store_key k3 = key_rec("2024-01-c");
    snprintf(k3.state, sizeof(k3.state), "retired"); /* not active: retires nothing */
    OK(s->ops->key_insert(s, &k3, NULL, &err));
    OK(s->ops->key_get(s, k2.kid, &got, &err));
    assert_string_equal(got.state, "active");

    OK(s->ops->key_set_state(s, k1.kid, "retiring", NULL, &err));
    OK(s->ops->key_get(s, k1.kid, &got, &err));
    assert_string_equal(got.state, "retiring");
    FAILS_WITH(s->ops->key_set_state(s, "no-such-kid", "retired", NULL, &err), ERR_NOT_FOUND);

    collected c = COLLECTED(store_key);
    OK(s->ops->key_each(s, collect, &c, &err));
    assert_int_equal(c.n, 3);
    assert_key_equal(ITEM(c, store_key, 0), &k1);
    assert_key_equal(ITEM(c, store_key, 1), &k2);
    assert_key_equal(ITEM(c, store_key, 2), &k3);
    free(c.all);

    collected ch = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &ch, &err));
    assert_int_equal(ch.n, 4);
    assert_change(ITEM(ch, store_change, 0), "key", "", k1.kid);
    assert_change(ITEM(ch, store_change, 1), "key", "", k2.kid);
    assert_change(ITEM(ch, store_change, 2), "key", "", k3.kid);
    assert_change(ITEM(ch, store_change, 3), "key", "", k1.kid);
    free(ch.all);
}

/* ---- change log ---- */

static void test_change_log(void **state)
{
    store *s = *state;
    err_t err;
    char uid[STORE_ID_MAX], tid[STORE_ID_MAX], gid[STORE_ID_MAX], aid[STORE_ID_MAX];
    assert_int_equal(latest(s), 0);
    make_id(uid, 1, 1);
    make_id(tid, 2, 1);
    make_id(gid, 3, 1);
    make_id(aid, 4, 1);

    add_org(s, ORG_A);
    store_user u = user_rec(ORG_A, uid, "u@example.com");
    OK(s->ops->user_insert(s, &u, NULL, &err));
    store_token t = token_rec(ORG_A, tid, 'c');
    OK(s->ops->token_insert(s, &t, NULL, &err));
    add_group(s, ORG_A, gid);
    add_app(s, ORG_A, aid);
    store_grant g = grant_rec(ORG_A, gid, aid, "apps:view");
    OK(s->ops->grant_insert(s, &g, NULL, &err));
    store_member m = member_rec(ORG_A, gid, uid);
    OK(s->ops->member_insert(s, &m, NULL, &err));
    OK(s->ops->token_revoke(s, ORG_A, tid, 1700000900, NULL, &err));
    /* Not changes: sessions, audit events, token use. */
    store_session sess = session_rec(ORG_A, 6, 1);
    store_audit au = audit_rec(ORG_A, 1, "session.issued", 10);
    OK(s->ops->record_batch(s, &sess, 1, &au, 1, &err));
    FAILS_WITH(s->ops->audit_insert(s, &au, &err), ERR_CONFLICT); /* same id again */
    const char *ids[] = {tid};
    OK(s->ops->token_touch(s, ids, 1, 1700000950, &err));

    collected c = COLLECTED(store_change);
    OK(s->ops->changes_since(s, 0, collect, &c, &err));
    assert_int_equal(c.n, 8);
    const char *want[8][2] = {{"org", ORG_A}, {"user", uid},  {"token", tid},  {"group", gid},
                              {"app", aid},   {"grant", gid}, {"member", gid}, {"token", tid}};
    for (size_t i = 0; i < 8; i++) {
        const store_change *ch = ITEM(c, store_change, i);
        assert_change(ch, want[i][0], ORG_A, want[i][1]);
        if (i > 0)
            assert_true(ch->seq > ITEM(c, store_change, i - 1)->seq);
    }
    int64_t last = ITEM(c, store_change, 7)->seq;
    int64_t mid = ITEM(c, store_change, 4)->seq;
    free(c.all);
    assert_int_equal(latest(s), last);

    collected tail = COLLECTED(store_change);
    OK(s->ops->changes_since(s, mid, collect, &tail, &err));
    assert_int_equal(tail.n, 3);
    assert_change(ITEM(tail, store_change, 0), "grant", ORG_A, gid);
    free(tail.all);

    size_t n = 0;
    OK(s->ops->changes_since(s, last, count_rows, &n, &err));
    assert_int_equal(n, 0);
}

/* ---- audit ---- */

static void test_audit_with_mutation(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    make_id(id, 1, 1);
    store_user u = user_rec(ORG_A, id, "u@example.com");
    store_audit a1 = audit_rec(ORG_A, 1, "user.created", 100);
    OK(s->ops->user_insert(s, &u, &a1, &err));

    collected c = COLLECTED(store_audit);
    OK(s->ops->audit_each(s, ORG_A, 0, collect, &c, &err));
    assert_int_equal(c.n, 1);
    assert_audit_equal(ITEM(c, store_audit, 0), &a1);
    free(c.all);

    /* The duplicate fails, and so its audit event and change row are not written. */
    int64_t before = latest(s);
    store_audit a2 = audit_rec(ORG_A, 2, "user.created", 101);
    FAILS_WITH(s->ops->user_insert(s, &u, &a2, &err), ERR_CONFLICT);
    assert_int_equal(count_audit(s, ORG_A), 1);
    assert_int_equal(latest(s), before);

    /* A failing audit row undoes its mutation too (same id as a1). */
    make_id(id, 1, 2);
    store_user u2 = user_rec(ORG_A, id, "u2@example.com");
    FAILS_WITH(s->ops->user_insert(s, &u2, &a1, &err), ERR_CONFLICT);
    store_user got;
    FAILS_WITH(s->ops->user_get(s, ORG_A, id, &got, &err), ERR_NOT_FOUND);
    assert_int_equal(latest(s), before);
}

static void test_audit_each(void **state)
{
    store *s = *state;
    err_t err;
    store_audit a30 = audit_rec(ORG_A, 1, "token.created", 30);
    fill_max(a30.actor, sizeof(a30.actor), 'a');
    fill_max(a30.action, sizeof(a30.action), 'x');
    fill_max(a30.target, sizeof(a30.target), 't');
    fill_max(a30.client, sizeof(a30.client), 'c');
    fill_max(a30.request_id, sizeof(a30.request_id), 'r');
    fill_max(a30.detail, sizeof(a30.detail), 'd');
    store_audit a10 = audit_rec(ORG_A, 2, "user.created", 10);
    store_audit a20 = audit_rec(ORG_A, 3, "group.created", 20);
    store_audit a20b = audit_rec(ORG_A, 4, "group.granted", 20);
    store_audit b15 = audit_rec(ORG_B, 5, "org.created", 15);
    store_audit sys = audit_rec("", 6, "key.rotated", 12);
    const store_audit *all[] = {&a30, &a10, &a20, &a20b, &b15, &sys};
    for (size_t i = 0; i < 6; i++)
        OK(s->ops->audit_insert(s, all[i], &err));
    FAILS_WITH(s->ops->audit_insert(s, &a10, &err), ERR_CONFLICT);

    collected c = COLLECTED(store_audit);
    OK(s->ops->audit_each(s, ORG_A, 0, collect, &c, &err));
    assert_int_equal(c.n, 4);
    assert_audit_equal(ITEM(c, store_audit, 0), &a10);
    assert_audit_equal(ITEM(c, store_audit, 1), &a20);
    assert_audit_equal(ITEM(c, store_audit, 2), &a20b);
    assert_audit_equal(ITEM(c, store_audit, 3), &a30);
    free(c.all);

    collected since = COLLECTED(store_audit);
    OK(s->ops->audit_each(s, ORG_A, 20, collect, &since, &err));
    assert_int_equal(since.n, 3);
    assert_audit_equal(ITEM(since, store_audit, 0), &a20);
    free(since.all);

    collected b = COLLECTED(store_audit);
    OK(s->ops->audit_each(s, ORG_B, 0, collect, &b, &err));
    assert_int_equal(b.n, 1);
    assert_audit_equal(ITEM(b, store_audit, 0), &b15);
    free(b.all);

    assert_int_equal(count_audit(s, ""), 1); /* deployment-wide events only */
    size_t n = 0;
    FAILS_WITH(s->ops->audit_each(s, NULL, 0, count_rows, &n, &err), ERR_INVALID_REQUEST);
}

/* ---- sessions ---- */

static void check_batch(store *s, unsigned prefix, size_t n)
{
    err_t err;
    store_session *sess = calloc(n ? n : 1, sizeof(*sess));
    store_audit *audits = calloc(n ? n : 1, sizeof(*audits));
    assert_non_null(sess);
    assert_non_null(audits);
    for (size_t i = 0; i < n; i++) {
        sess[i] = session_rec(ORG_A, prefix, (unsigned)i);
        audits[i] = audit_rec(ORG_A, prefix * 1000 + (unsigned)i, "session.issued", 50);
    }
    size_t audit_before = count_audit(s, ORG_A);
    int64_t changes_before = latest(s);
    OK(s->ops->record_batch(s, sess, n, audits, n, &err));
    for (size_t i = 0; i < n; i++) {
        store_session got;
        OK(s->ops->session_get(s, sess[i].jti, &got, &err));
        assert_session_equal(&got, &sess[i]);
    }
    assert_int_equal(count_audit(s, ORG_A), audit_before + n);
    assert_int_equal(latest(s), changes_before);
    free(sess);
    free(audits);
}

static void test_record_batch(void **state)
{
    store *s = *state;
    err_t err;
    add_org(s, ORG_A);
    OK(s->ops->record_batch(s, NULL, 0, NULL, 0, &err));
    check_batch(s, 0x61, 0);
    check_batch(s, 0x62, 1);
    check_batch(s, 0x63, 500);

    store_session max = session_rec(ORG_A, 0x64, 1);
    fill_max(max.email, sizeof(max.email), 'm');
    fill_max(max.user_type, sizeof(max.user_type), 'u');
    max.revoked_at = 1700009999;
    OK(s->ops->record_batch(s, &max, 1, NULL, 0, &err));
    store_session got;
    OK(s->ops->session_get(s, max.jti, &got, &err));
    assert_session_equal(&got, &max);
    FAILS_WITH(s->ops->session_get(s, "no-such-jti", &got, &err), ERR_NOT_FOUND);
}

static void test_record_batch_is_atomic(void **state)
{
    store *s = *state;
    err_t err;
    add_org(s, ORG_A);
    store_session first = session_rec(ORG_A, 0x65, 0);
    OK(s->ops->record_batch(s, &first, 1, NULL, 0, &err));

    store_session batch[3] = {session_rec(ORG_A, 0x65, 1), session_rec(ORG_A, 0x65, 2), first};
    store_audit audits[1] = {audit_rec(ORG_A, 1, "session.issued", 10)};
    FAILS_WITH(s->ops->record_batch(s, batch, 3, audits, 1, &err), ERR_CONFLICT);
    store_session got;
    FAILS_WITH(s->ops->session_get(s, batch[0].jti, &got, &err), ERR_NOT_FOUND);
    assert_int_equal(count_audit(s, ORG_A), 0);

    store_session stray = session_rec("ffffffff-0000-4000-8000-000000000000", 0x65, 5);
    FAILS_WITH(s->ops->record_batch(s, &stray, 1, NULL, 0, &err), ERR_INVALID_REQUEST);
}

/* ---- updates and deletes ---- */

static void add_user(store *s, const char *org_id, const char *id, const char *email)
{
    err_t err;
    store_user u = user_rec(org_id, id, email);
    OK(s->ops->user_insert(s, &u, NULL, &err));
}

static void add_member(store *s, const char *org_id, const char *group_id, const char *user_id)
{
    err_t err;
    store_member m = member_rec(org_id, group_id, user_id);
    OK(s->ops->member_insert(s, &m, NULL, &err));
}

static size_t count_members(store *s, const char *org_id, const char *group_id)
{
    err_t err;
    size_t n = 0;
    OK(s->ops->member_each(s, org_id, group_id, count_rows, &n, &err));
    return n;
}

static size_t count_grants(store *s, const char *org_id, const char *group_id)
{
    err_t err;
    size_t n = 0;
    OK(s->ops->grant_each(s, org_id, group_id, count_rows, &n, &err));
    return n;
}

/* Asserts that the changes after `after` are exactly one (kind, org_id, id). */
static void assert_one_change(store *s, int64_t after, const char *kind, const char *org_id,
                              const char *id)
{
    err_t err;
    collected c = COLLECTED(store_change);
    OK(s->ops->changes_since(s, after, collect, &c, &err));
    assert_int_equal(c.n, 1);
    assert_change(ITEM(c, store_change, 0), kind, org_id, id);
    free(c.all);
}

static store_console_session console_rec(const char *org_id, const char *user_id, char hash_char,
                                         int64_t expires_at)
{
    store_console_session cs;
    memset(&cs, 0, sizeof(cs));
    fill_max(cs.id_hash, sizeof(cs.id_hash), hash_char);
    snprintf(cs.org_id, sizeof(cs.org_id), "%s", org_id);
    snprintf(cs.user_id, sizeof(cs.user_id), "%s", user_id);
    fill_max(cs.csrf_token, sizeof(cs.csrf_token), 'f');
    cs.csrf_token[0] = hash_char; /* tells sessions apart on read */
    cs.created_at = clock_now();
    cs.expires_at = expires_at;
    return cs;
}

static void assert_console_equal(const store_console_session *a, const store_console_session *b)
{
    assert_string_equal(a->id_hash, b->id_hash);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->user_id, b->user_id);
    assert_string_equal(a->csrf_token, b->csrf_token);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->expires_at, b->expires_at);
}

static void test_user_update(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX], missing[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id, 1, 1);
    make_id(missing, 1, 9);
    store_user u = user_rec(ORG_A, id, "ada@example.com");
    snprintf(u.role, sizeof(u.role), "owner");
    OK(s->ops->user_insert(s, &u, NULL, &err));
    int64_t before = latest(s);

    store_user upd = u;
    fill_max(upd.name, sizeof(upd.name), 'N');
    snprintf(upd.role, sizeof(upd.role), "end-user");
    fill_max(upd.password_hash, sizeof(upd.password_hash), 'H');
    snprintf(upd.email, sizeof(upd.email), "changed@example.com"); /* not updatable */
    upd.created_at = u.created_at + 999;                           /* not updatable */
    store_audit a = audit_rec(ORG_A, 1, "user.updated", 100);
    OK(s->ops->user_update(s, &upd, &a, &err));

    store_user got, want = u;
    memcpy(want.name, upd.name, sizeof(want.name));
    memcpy(want.role, upd.role, sizeof(want.role));
    memcpy(want.password_hash, upd.password_hash, sizeof(want.password_hash));
    OK(s->ops->user_get(s, ORG_A, id, &got, &err));
    assert_user_equal(&got, &want);
    OK(s->ops->user_find_email(s, ORG_A, "ada@example.com", &got, &err));
    assert_int_equal(count_audit(s, ORG_A), 1);
    assert_one_change(s, before, "user", ORG_A, id);

    /* An empty password hash ("no password") is a value like any other. */
    upd.password_hash[0] = '\0';
    OK(s->ops->user_update(s, &upd, NULL, &err));
    OK(s->ops->user_get(s, ORG_A, id, &got, &err));
    assert_string_equal(got.password_hash, "");

    /* Absent, or of another org: not found, nothing written. */
    int64_t mark = latest(s);
    store_user absent = user_rec(ORG_A, missing, "nobody@example.com");
    store_audit a2 = audit_rec(ORG_A, 2, "user.updated", 101);
    FAILS_WITH(s->ops->user_update(s, &absent, &a2, &err), ERR_NOT_FOUND);
    store_user cross = upd;
    snprintf(cross.org_id, sizeof(cross.org_id), "%s", ORG_B);
    snprintf(cross.name, sizeof(cross.name), "hijacked");
    snprintf(cross.role, sizeof(cross.role), "owner");
    store_audit a3 = audit_rec(ORG_B, 3, "user.updated", 102);
    FAILS_WITH(s->ops->user_update(s, &cross, &a3, &err), ERR_NOT_FOUND);
    OK(s->ops->user_get(s, ORG_A, id, &got, &err));
    assert_string_equal(got.role, "end-user");
    assert_string_equal(got.name, upd.name);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 1);
    assert_int_equal(count_audit(s, ORG_B), 0);
}

/* Revocation: one session by jti, all of a user's by email; the change
 * rows every node applies; what nodes load at start. */
static void test_session_revocation(void **state)
{
    store *s = *state;
    err_t err;
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    int64_t now = 1700000200;
    /* 1, 2, 3: jane in A (3 has expired); 4: bob in A; 5: jane in B. */
    store_session sess[5];
    for (unsigned i = 0; i < 5; i++)
        sess[i] = session_rec(i == 4 ? ORG_B : ORG_A, 0x5e, i + 1);
    for (unsigned i = 0; i < 5; i++)
        snprintf(sess[i].email, sizeof(sess[i].email), "%s", i == 3 ? "bob@example.com" : "jane@example.com");
    sess[2].expires_at = now - 1;
    OK(s->ops->record_batch(s, sess, 5, NULL, 0, &err));

    /* One session by jti: a change row and the audit event; again is a no-op success. */
    int64_t before = latest(s);
    store_audit a = audit_rec(ORG_A, 1, "session.revoked", now);
    OK(s->ops->session_revoke(s, ORG_A, sess[0].jti, now, &a, &err));
    assert_one_change(s, before, "session", ORG_A, sess[0].jti);
    assert_int_equal(count_audit(s, ORG_A), 1);
    store_session got;
    OK(s->ops->session_get(s, sess[0].jti, &got, &err));
    assert_int_equal(got.revoked_at, now);
    int64_t mark = latest(s);
    OK(s->ops->session_revoke(s, ORG_A, sess[0].jti, now + 50, NULL, &err));
    OK(s->ops->session_get(s, sess[0].jti, &got, &err));
    assert_int_equal(got.revoked_at, now); /* the first time stays */
    assert_int_equal(latest(s), mark);
    /* Another org's session, an expired one, an unknown one: not found, nothing written. */
    store_audit a2 = audit_rec(ORG_A, 2, "session.revoked", now);
    FAILS_WITH(s->ops->session_revoke(s, ORG_A, sess[4].jti, now, &a2, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->session_revoke(s, ORG_A, sess[2].jti, now, &a2, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->session_revoke(s, ORG_A, "0c000000-0000-4000-8000-0000000000ff", now, &a2, &err),
               ERR_NOT_FOUND);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 1);
    OK(s->ops->session_get(s, sess[4].jti, &got, &err));
    assert_int_equal(got.revoked_at, 0);

    /* Every live session of jane in A: only 2 is still live and unrevoked. */
    int64_t count = -1;
    store_audit a3 = audit_rec(ORG_A, 3, "session.revoked", now);
    OK(s->ops->session_revoke_email(s, ORG_A, "jane@example.com", now + 1, &a3, &count, &err));
    assert_int_equal(count, 1);
    assert_one_change(s, mark, "session", ORG_A, sess[1].jti);
    OK(s->ops->session_get(s, sess[1].jti, &got, &err));
    assert_int_equal(got.revoked_at, now + 1);
    OK(s->ops->session_get(s, sess[3].jti, &got, &err)); /* bob */
    assert_int_equal(got.revoked_at, 0);
    OK(s->ops->session_get(s, sess[4].jti, &got, &err)); /* jane in B */
    assert_int_equal(got.revoked_at, 0);
    OK(s->ops->session_revoke_email(s, ORG_A, "nobody@example.com", now, NULL, &count, &err));
    assert_int_equal(count, 0);

    /* What a node loads: the revoked, unexpired sessions of every org. */
    collected c = COLLECTED(store_session);
    OK(s->ops->session_revoked_each(s, now + 2, collect, &c, &err));
    assert_int_equal(c.n, 2);
    free(c.all);
    /* A user's sessions, newest first, expired ones left out, revoked ones in. */
    c = COLLECTED(store_session);
    OK(s->ops->session_each_email(s, ORG_A, "jane@example.com", now, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_string_equal(ITEM(c, store_session, 0)->jti, sess[1].jti);
    assert_string_equal(ITEM(c, store_session, 1)->jti, sess[0].jti);
    free(c.all);
}

/* The session.expired sweep: each unrevoked session that expired, once. */
static void test_session_expiry_sweep(void **state)
{
    store *s = *state;
    err_t err;
    add_org(s, ORG_A);
    int64_t now = 1700100000;
    /* expires: 1 at now-100, 2 at now-10 (revoked), 3 at now-5, 4 at now+50, 5 at now-7200 (too old). */
    store_session sess[5];
    int64_t exp[5] = {now - 100, now - 10, now - 5, now + 50, now - 7200};
    for (unsigned i = 0; i < 5; i++) {
        sess[i] = session_rec(ORG_A, 0x5f, i + 1);
        sess[i].issued_at = exp[i] - 3600;
        sess[i].expires_at = exp[i];
    }
    sess[1].revoked_at = now - 20;
    OK(s->ops->record_batch(s, sess, 5, NULL, 0, &err));
    int64_t before = latest(s);

    /* The first sweep looks back STORE_SWEEP_FIRST, at most STORE_SWEEP_MAX at a time. */
    int64_t count = -1, total = 0, done = 0;
    int rounds = 0;
    do {
        OK(s->ops->session_expiry_sweep(s, now, &count, &done, &err));
        total += count;
        rounds++;
    } while (done < now && rounds < 1000);
    assert_int_equal(rounds, STORE_SWEEP_FIRST / STORE_SWEEP_MAX);
    assert_int_equal(done, now);
    assert_int_equal(total, 2); /* 1 and 3 */
    OK(s->ops->session_expiry_sweep(s, now, &count, &done, &err));
    assert_int_equal(count, 0);
    assert_int_equal(latest(s), before); /* no change-log rows */

    collected c = COLLECTED(store_audit);
    OK(s->ops->audit_each(s, ORG_A, 0, collect, &c, &err));
    assert_int_equal(c.n, 2);
    const store_audit *first = ITEM(c, store_audit, 0);
    assert_string_equal(first->action, "session.expired");
    assert_string_equal(first->actor, "system");
    assert_string_equal(first->target, sess[0].jti);
    assert_int_equal(first->at, exp[0]);
    assert_non_null(strstr(first->detail, sess[0].email));
    free(c.all);

    /* Later: session 4 expires; swept once even if the window is run again. */
    OK(s->ops->session_expiry_sweep(s, now + 60, &count, &done, &err));
    assert_int_equal(count, 1);
    assert_int_equal(done, now + 60);
    OK(s->ops->session_expiry_sweep(s, now + 60, &count, &done, &err));
    assert_int_equal(count, 0);
    assert_int_equal(count_audit(s, ORG_A), 3);
}

/* ---- token exchange: identity providers, integrations, subject tokens ---- */

static store_idp *idp_rec(const char *org_id, const char *id, const char *issuer)
{
    store_idp *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    snprintf(p->id, sizeof(p->id), "%s", id);
    snprintf(p->org_id, sizeof(p->org_id), "%s", org_id);
    snprintf(p->name, sizeof(p->name), "Okta");
    snprintf(p->issuer, sizeof(p->issuer), "%s", issuer);
    snprintf(p->jwks_uri, sizeof(p->jwks_uri), "%s/v1/keys", issuer);
    snprintf(p->audience, sizeof(p->audience), "api://default");
    snprintf(p->email_claim, sizeof(p->email_claim), "email");
    snprintf(p->algorithms, sizeof(p->algorithms), "RS256,PS256,ES256");
    p->created_at = 1700000500;
    return p;
}

static void assert_idp_equal(const store_idp *a, const store_idp *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->issuer, b->issuer);
    assert_string_equal(a->jwks_uri, b->jwks_uri);
    assert_string_equal(a->jwks, b->jwks);
    assert_string_equal(a->audience, b->audience);
    assert_string_equal(a->email_claim, b->email_claim);
    assert_string_equal(a->algorithms, b->algorithms);
    assert_int_equal(a->created_at, b->created_at);
}

static void test_idps(void **state)
{
    store *s = *state;
    err_t err;
    char id1[STORE_ID_MAX], id2[STORE_ID_MAX], id3[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id1, 0x1d, 1);
    make_id(id2, 0x1d, 2);
    make_id(id3, 0x1d, 3);
    store_idp *a = idp_rec(ORG_A, id1, "https://acme.okta.com/oauth2/default");
    store_idp *inline_set = idp_rec(ORG_A, id2, "https://login.microsoftonline.com/t/v2.0");
    inline_set->jwks_uri[0] = '\0';
    fill_max(inline_set->jwks, sizeof(inline_set->jwks), 'j'); /* the largest inline JWKS */
    store_idp *other = idp_rec(ORG_B, id3, a->issuer);             /* same issuer, other org */
    store_idp *got = calloc(1, sizeof(*got));
    assert_non_null(got);

    int64_t before = latest(s);
    store_audit au = audit_rec(ORG_A, 1, "idp.added", 100);
    OK(s->ops->idp_insert(s, a, &au, &err));
    assert_one_change(s, before, "idp", ORG_A, id1);
    assert_int_equal(count_audit(s, ORG_A), 1);
    OK(s->ops->idp_insert(s, inline_set, NULL, &err));
    OK(s->ops->idp_insert(s, other, NULL, &err));
    OK(s->ops->idp_get(s, ORG_A, id1, got, &err));
    assert_idp_equal(got, a);
    OK(s->ops->idp_get(s, ORG_A, id2, got, &err));
    assert_idp_equal(got, inline_set);
    FAILS_WITH(s->ops->idp_get(s, ORG_B, id1, got, &err), ERR_NOT_FOUND);

    collected c = COLLECTED(store_idp);
    OK(s->ops->idp_each(s, ORG_A, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_idp_equal(ITEM(c, store_idp, 0), a);
    assert_idp_equal(ITEM(c, store_idp, 1), inline_set);
    free(c.all);

    /* One org trusts an issuer once; the refused write leaves no trace. */
    int64_t mark = latest(s);
    store_idp *dup = idp_rec(ORG_A, id3, a->issuer);
    make_id(dup->id, 0x1d, 4);
    store_audit au2 = audit_rec(ORG_A, 2, "idp.added", 101);
    FAILS_WITH(s->ops->idp_insert(s, dup, &au2, &err), ERR_CONFLICT);
    store_idp *clash = idp_rec(ORG_A, id2, a->issuer);
    FAILS_WITH(s->ops->idp_update(s, clash, &au2, &err), ERR_CONFLICT);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 1);

    /* Update replaces the fields but not created_at; another org's id is absent. */
    store_idp *upd = idp_rec(ORG_A, id1, "https://acme.okta.com/oauth2/aus1");
    snprintf(upd->audience, sizeof(upd->audience), "%s", "");
    snprintf(upd->email_claim, sizeof(upd->email_claim), "upn");
    snprintf(upd->algorithms, sizeof(upd->algorithms), "RS256");
    upd->created_at = 1;
    OK(s->ops->idp_update(s, upd, NULL, &err));
    upd->created_at = a->created_at;
    OK(s->ops->idp_get(s, ORG_A, id1, got, &err));
    assert_idp_equal(got, upd);
    store_idp *cross = idp_rec(ORG_B, id1, "https://evil.example");
    FAILS_WITH(s->ops->idp_update(s, cross, NULL, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->idp_delete(s, ORG_B, id1, NULL, &err), ERR_NOT_FOUND);
    OK(s->ops->idp_get(s, ORG_A, id1, got, &err));
    assert_idp_equal(got, upd);

    mark = latest(s);
    OK(s->ops->idp_delete(s, ORG_A, id1, NULL, &err));
    assert_one_change(s, mark, "idp", ORG_A, id1);
    FAILS_WITH(s->ops->idp_get(s, ORG_A, id1, got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->idp_delete(s, ORG_A, id1, NULL, &err), ERR_NOT_FOUND);
    OK(s->ops->idp_get(s, ORG_B, id3, got, &err));

    free(a);
    free(inline_set);
    free(other);
    free(dup);
    free(clash);
    free(upd);
    free(cross);
    free(got);
}

static store_integration integration_rec(const char *org_id, const char *id, const char *name)
{
    store_integration g;
    memset(&g, 0, sizeof(g));
    snprintf(g.id, sizeof(g.id), "%s", id);
    snprintf(g.org_id, sizeof(g.org_id), "%s", org_id);
    snprintf(g.name, sizeof(g.name), "%s", name);
    snprintf(g.base_url, sizeof(g.base_url), "https://api.acme.example/v1");
    snprintf(g.token_url, sizeof(g.token_url), "https://acme.okta.com/oauth2/default/v1/token");
    snprintf(g.client_id, sizeof(g.client_id), "0oa1client");
    for (size_t i = 0; i < 60; i++)
        g.client_secret_sealed[i] = (unsigned char)(i * 7); /* binary, with a zero byte */
    g.client_secret_sealed_len = 60;
    snprintf(g.audience, sizeof(g.audience), "https://api.acme.example");
    snprintf(g.scope, sizeof(g.scope), "orders:read");
    g.created_at = 1700000600;
    return g;
}

static void assert_integration_equal(const store_integration *a, const store_integration *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->base_url, b->base_url);
    assert_string_equal(a->token_url, b->token_url);
    assert_string_equal(a->client_id, b->client_id);
    assert_int_equal(a->client_secret_sealed_len, b->client_secret_sealed_len);
    assert_memory_equal(a->client_secret_sealed, b->client_secret_sealed, a->client_secret_sealed_len);
    assert_string_equal(a->audience, b->audience);
    assert_string_equal(a->scope, b->scope);
    assert_int_equal(a->created_at, b->created_at);
}

static void test_integrations(void **state)
{
    store *s = *state;
    err_t err;
    char id1[STORE_ID_MAX], id2[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id1, 0x1e, 1);
    make_id(id2, 0x1e, 2);
    store_integration a = integration_rec(ORG_A, id1, "Orders API");
    store_integration b = integration_rec(ORG_B, id2, "Orders API"); /* same name, other org */
    int64_t before = latest(s);
    OK(s->ops->integration_insert(s, &a, NULL, &err));
    assert_one_change(s, before, "integration", ORG_A, id1);
    OK(s->ops->integration_insert(s, &b, NULL, &err));
    store_integration got;
    OK(s->ops->integration_get(s, ORG_A, id1, &got, &err));
    assert_integration_equal(&got, &a);
    FAILS_WITH(s->ops->integration_get(s, ORG_A, id2, &got, &err), ERR_NOT_FOUND);

    store_integration dup = integration_rec(ORG_A, id2, "Orders API");
    make_id(dup.id, 0x1e, 3);
    int64_t mark = latest(s);
    FAILS_WITH(s->ops->integration_insert(s, &dup, NULL, &err), ERR_CONFLICT);
    assert_int_equal(latest(s), mark);

    store_integration upd = a;
    snprintf(upd.name, sizeof(upd.name), "Orders API (EU)");
    snprintf(upd.scope, sizeof(upd.scope), "%s", "");
    upd.client_secret_sealed_len = 5;
    OK(s->ops->integration_update(s, &upd, NULL, &err));
    OK(s->ops->integration_get(s, ORG_A, id1, &got, &err));
    assert_integration_equal(&got, &upd);
    store_integration cross = upd;
    snprintf(cross.org_id, sizeof(cross.org_id), "%s", ORG_B);
    FAILS_WITH(s->ops->integration_update(s, &cross, NULL, &err), ERR_NOT_FOUND);

    collected c = COLLECTED(store_integration);
    OK(s->ops->integration_each(s, ORG_B, collect, &c, &err));
    assert_int_equal(c.n, 1);
    assert_integration_equal(ITEM(c, store_integration, 0), &b);
    free(c.all);

    FAILS_WITH(s->ops->integration_delete(s, ORG_B, id1, NULL, &err), ERR_NOT_FOUND);
    mark = latest(s);
    OK(s->ops->integration_delete(s, ORG_A, id1, NULL, &err));
    assert_one_change(s, mark, "integration", ORG_A, id1);
    FAILS_WITH(s->ops->integration_get(s, ORG_A, id1, &got, &err), ERR_NOT_FOUND);
}

static store_subject_token subject_rec(const char *org_id, const char *jti, const char *idp_id,
                                       int64_t expires_at)
{
    store_subject_token t;
    memset(&t, 0, sizeof(t));
    snprintf(t.jti, sizeof(t.jti), "%s", jti);
    snprintf(t.org_id, sizeof(t.org_id), "%s", org_id);
    snprintf(t.idp_id, sizeof(t.idp_id), "%s", idp_id);
    snprintf(t.token_type, sizeof(t.token_type), "urn:ietf:params:oauth:token-type:access_token");
    t.sealed_len = sizeof(t.sealed); /* the largest */
    for (size_t i = 0; i < t.sealed_len; i++)
        t.sealed[i] = (unsigned char)(i ^ (size_t)jti[7]);
    t.expires_at = expires_at;
    return t;
}

static void test_subject_tokens(void **state)
{
    store *s = *state;
    err_t err;
    char idp[STORE_ID_MAX], other_idp[STORE_ID_MAX], tok[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(idp, 0x1d, 1);
    make_id(other_idp, 0x1d, 2);
    make_id(tok, 0x7070, 1); /* the access token session_rec names */
    store_idp *p = idp_rec(ORG_A, idp, "https://acme.okta.com");
    store_idp *pb = idp_rec(ORG_B, other_idp, "https://b.okta.com");
    OK(s->ops->idp_insert(s, p, NULL, &err));
    OK(s->ops->idp_insert(s, pb, NULL, &err));
    store_token t = token_rec(ORG_A, tok, 'a');
    OK(s->ops->token_insert(s, &t, NULL, &err));
    int64_t now = 1700001000;

    /* Sessions: 1 live, 2 revoked, 3 live, 4 expired (the subject row's time decides). */
    store_session sess[4];
    for (unsigned i = 0; i < 4; i++)
        sess[i] = session_rec(ORG_A, 0x5e, i + 1);
    sess[1].revoked_at = now - 5;
    OK(s->ops->record_batch(s, sess, 4, NULL, 0, &err));
    store_subject_token st[4];
    for (unsigned i = 0; i < 4; i++)
        st[i] = subject_rec(ORG_A, sess[i].jti, idp, i == 3 ? now : now + 3600);

    int64_t mark = latest(s);
    for (unsigned i = 0; i < 4; i++)
        OK(s->ops->subject_token_put(s, &st[i], &err));
    assert_int_equal(latest(s), mark); /* no change-log rows */
    FAILS_WITH(s->ops->subject_token_put(s, &st[0], &err), ERR_CONFLICT);
    store_subject_token wrong = subject_rec(ORG_A, "0c000000-0000-4000-8000-000000000001", other_idp, now + 60);
    FAILS_WITH(s->ops->subject_token_put(s, &wrong, &err), ERR_INVALID_REQUEST); /* org B's provider */

    store_subject_token got;
    OK(s->ops->subject_token_get(s, ORG_A, st[0].jti, now, &got, &err));
    assert_string_equal(got.idp_id, idp);
    assert_string_equal(got.token_type, st[0].token_type);
    assert_int_equal(got.sealed_len, st[0].sealed_len);
    assert_memory_equal(got.sealed, st[0].sealed, got.sealed_len);
    assert_int_equal(got.expires_at, st[0].expires_at);
    FAILS_WITH(s->ops->subject_token_get(s, ORG_B, st[0].jti, now, &got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->subject_token_get(s, ORG_A, st[3].jti, now, &got, &err), ERR_NOT_FOUND); /* expired */

    /* Purge: the expired one and the revoked session's. */
    int64_t deleted = -1;
    OK(s->ops->subject_token_purge(s, now, &deleted, &err));
    assert_int_equal(deleted, 2);
    FAILS_WITH(s->ops->subject_token_get(s, ORG_A, st[1].jti, now, &got, &err), ERR_NOT_FOUND);
    OK(s->ops->subject_token_get(s, ORG_A, st[0].jti, now, &got, &err));
    OK(s->ops->subject_token_get(s, ORG_A, st[2].jti, now, &got, &err));

    /* Revoking the access token ends every session minted with it. */
    OK(s->ops->token_revoke(s, ORG_A, tok, now, NULL, &err));
    OK(s->ops->subject_token_purge(s, now, &deleted, &err));
    assert_int_equal(deleted, 2);
    FAILS_WITH(s->ops->subject_token_get(s, ORG_A, st[0].jti, now, &got, &err), ERR_NOT_FOUND);

    /* Removing the provider removes what was kept for it. */
    store_subject_token fresh = subject_rec(ORG_A, "0c000000-0000-4000-8000-000000000002", idp, now + 60);
    OK(s->ops->subject_token_put(s, &fresh, &err));
    OK(s->ops->idp_delete(s, ORG_A, idp, NULL, &err));
    FAILS_WITH(s->ops->subject_token_get(s, ORG_A, fresh.jti, now, &got, &err), ERR_NOT_FOUND);
    free(p);
    free(pb);
}

/* A changed password ends the user's console sessions (in the same
 * transaction); other changes, and other users' sessions, leave them be. */
static void test_user_update_password_ends_console_sessions(void **state)
{
    store *s = *state;
    err_t err;
    char u1[STORE_ID_MAX], u2[STORE_ID_MAX];
    add_org(s, ORG_A);
    make_id(u1, 1, 1);
    make_id(u2, 1, 2);
    store_user user = user_rec(ORG_A, u1, "ada@example.com");
    fill_max(user.password_hash, sizeof(user.password_hash), 'P');
    OK(s->ops->user_insert(s, &user, NULL, &err));
    add_user(s, ORG_A, u2, "bob@example.com");
    int64_t now = clock_now();
    store_console_session c1 = console_rec(ORG_A, u1, 'a', now + 3600);
    store_console_session c2 = console_rec(ORG_A, u2, 'b', now + 3600);
    OK(s->ops->console_session_insert(s, &c1, NULL, &err));
    OK(s->ops->console_session_insert(s, &c2, NULL, &err));
    store_console_session got;

    /* Same hash, new role and name: the session stays. */
    snprintf(user.role, sizeof(user.role), "admin");
    snprintf(user.name, sizeof(user.name), "Ada L.");
    OK(s->ops->user_update(s, &user, NULL, &err));
    OK(s->ops->console_session_get(s, c1.id_hash, &got, &err));
    assert_console_equal(&got, &c1);

    /* A failing audit row undoes the password change and keeps the session. */
    store_audit dup = audit_rec(ORG_A, 1, "user.password_set", 100);
    OK(s->ops->audit_insert(s, &dup, &err));
    store_user reset = user;
    fill_max(reset.password_hash, sizeof(reset.password_hash), 'Q');
    FAILS_WITH(s->ops->user_update(s, &reset, &dup, &err), ERR_CONFLICT);
    OK(s->ops->console_session_get(s, c1.id_hash, &got, &err));

    /* A new hash: gone. The other user's session stays. */
    store_audit a = audit_rec(ORG_A, 2, "user.password_set", 101);
    OK(s->ops->user_update(s, &reset, &a, &err));
    FAILS_WITH(s->ops->console_session_get(s, c1.id_hash, &got, &err), ERR_NOT_FOUND);
    OK(s->ops->console_session_get(s, c2.id_hash, &got, &err));
    assert_console_equal(&got, &c2);

    /* Removing the password ("") ends the sessions too. */
    OK(s->ops->console_session_insert(s, &c1, NULL, &err));
    reset.password_hash[0] = '\0';
    OK(s->ops->user_update(s, &reset, NULL, &err));
    FAILS_WITH(s->ops->console_session_get(s, c1.id_hash, &got, &err), ERR_NOT_FOUND);
}

static void test_user_delete(void **state)
{
    store *s = *state;
    err_t err;
    char u1[STORE_ID_MAX], u2[STORE_ID_MAX], g1[STORE_ID_MAX], g2[STORE_ID_MAX], g3[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(u1, 1, 1);
    make_id(u2, 1, 2);
    make_id(g1, 3, 1);
    make_id(g2, 3, 2);
    make_id(g3, 3, 3);
    add_user(s, ORG_A, u1, "u1@example.com");
    add_user(s, ORG_A, u2, "u2@example.com");
    add_group(s, ORG_A, g1);
    add_group(s, ORG_A, g2);
    add_group(s, ORG_A, g3);
    add_member(s, ORG_A, g2, u1);
    add_member(s, ORG_A, g1, u1);
    add_member(s, ORG_A, g1, u2);
    int64_t now = clock_now();
    store_console_session c1 = console_rec(ORG_A, u1, 'a', now + 3600);
    store_console_session c2 = console_rec(ORG_A, u2, 'b', now + 3600);
    OK(s->ops->console_session_insert(s, &c1, NULL, &err));
    OK(s->ops->console_session_insert(s, &c2, NULL, &err));

    /* Another org's id: not found, nothing deleted or written. */
    int64_t before = latest(s);
    store_audit ab = audit_rec(ORG_B, 1, "user.deleted", 100);
    FAILS_WITH(s->ops->user_delete(s, ORG_B, u1, &ab, &err), ERR_NOT_FOUND);
    store_user got;
    OK(s->ops->user_get(s, ORG_A, u1, &got, &err));
    assert_int_equal(count_members(s, ORG_A, g1), 2);
    assert_int_equal(count_members(s, ORG_A, g2), 1);
    assert_int_equal(latest(s), before);
    assert_int_equal(count_audit(s, ORG_B), 0);

    /* A failing audit row (an id already used) undoes the whole delete. */
    store_audit a1 = audit_rec(ORG_A, 2, "user.deleted", 101);
    OK(s->ops->audit_insert(s, &a1, &err));
    FAILS_WITH(s->ops->user_delete(s, ORG_A, u1, &a1, &err), ERR_CONFLICT);
    OK(s->ops->user_get(s, ORG_A, u1, &got, &err));
    assert_int_equal(count_members(s, ORG_A, g1), 2);
    assert_int_equal(count_members(s, ORG_A, g2), 1);
    store_console_session cgot;
    OK(s->ops->console_session_get(s, c1.id_hash, &cgot, &err));
    assert_int_equal(latest(s), before);

    store_audit a2 = audit_rec(ORG_A, 3, "user.deleted", 102);
    OK(s->ops->user_delete(s, ORG_A, u1, &a2, &err));
    FAILS_WITH(s->ops->user_get(s, ORG_A, u1, &got, &err), ERR_NOT_FOUND);
    assert_int_equal(count_members(s, ORG_A, g1), 1);
    assert_int_equal(count_members(s, ORG_A, g2), 0);
    FAILS_WITH(s->ops->console_session_get(s, c1.id_hash, &cgot, &err), ERR_NOT_FOUND);
    /* The other user keeps everything. */
    OK(s->ops->user_get(s, ORG_A, u2, &got, &err));
    OK(s->ops->console_session_get(s, c2.id_hash, &cgot, &err));
    assert_console_equal(&cgot, &c2);
    assert_int_equal(count_audit(s, ORG_A), 2); /* a1 (inserted directly) and a2 */

    /* ("user", u1) and one ("member", group) per group u1 was in; order is the backend's. */
    collected c = COLLECTED(store_change);
    OK(s->ops->changes_since(s, before, collect, &c, &err));
    assert_int_equal(c.n, 3);
    int seen_user = 0, seen_g1 = 0, seen_g2 = 0;
    for (size_t i = 0; i < c.n; i++) {
        const store_change *ch = ITEM(c, store_change, i);
        assert_string_equal(ch->org_id, ORG_A);
        if (strcmp(ch->kind, "user") == 0 && strcmp(ch->id, u1) == 0)
            seen_user++;
        else if (strcmp(ch->kind, "member") == 0 && strcmp(ch->id, g1) == 0)
            seen_g1++;
        else if (strcmp(ch->kind, "member") == 0 && strcmp(ch->id, g2) == 0)
            seen_g2++;
        else
            fail_msg("unexpected change (%s, %s)", ch->kind, ch->id);
    }
    assert_int_equal(seen_user, 1);
    assert_int_equal(seen_g1, 1);
    assert_int_equal(seen_g2, 1);
    free(c.all);

    /* Gone: a second delete is not found and writes nothing; the email is free again. */
    int64_t mark = latest(s);
    store_audit a3 = audit_rec(ORG_A, 4, "user.deleted", 103);
    FAILS_WITH(s->ops->user_delete(s, ORG_A, u1, &a3, &err), ERR_NOT_FOUND);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 2);
    add_user(s, ORG_A, u1, "u1@example.com");
    assert_int_equal(count_members(s, ORG_A, g2), 0); /* no membership comes back */

    /* A user without memberships: one change row. */
    mark = latest(s);
    OK(s->ops->user_delete(s, ORG_A, u1, NULL, &err));
    assert_one_change(s, mark, "user", ORG_A, u1);
}

static void test_user_count_role(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX];
    const char *roles[] = {"owner", "owner", "admin", "developer"};
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    for (unsigned i = 0; i < 4; i++) {
        char email[32];
        make_id(id, 1, i);
        snprintf(email, sizeof(email), "a%u@example.com", i);
        store_user u = user_rec(ORG_A, id, email);
        snprintf(u.role, sizeof(u.role), "%s", roles[i]);
        OK(s->ops->user_insert(s, &u, NULL, &err));
    }
    make_id(id, 1, 10);
    store_user ub = user_rec(ORG_B, id, "b@example.com");
    snprintf(ub.role, sizeof(ub.role), "owner");
    OK(s->ops->user_insert(s, &ub, NULL, &err));

    int64_t n = -1;
    OK(s->ops->user_count_role(s, ORG_A, "owner", &n, &err));
    assert_int_equal(n, 2);
    OK(s->ops->user_count_role(s, ORG_A, "admin", &n, &err));
    assert_int_equal(n, 1);
    OK(s->ops->user_count_role(s, ORG_A, "end-user", &n, &err));
    assert_int_equal(n, 0);
    OK(s->ops->user_count_role(s, ORG_B, "owner", &n, &err));
    assert_int_equal(n, 1);
    n = -1;
    OK(s->ops->user_count_role(s, "ffffffff-0000-4000-8000-000000000000", "owner", &n, &err));
    assert_int_equal(n, 0);
    OK(s->ops->user_count_role(s, "", "owner", &n, &err)); /* "" is an org id, not "every org" */
    assert_int_equal(n, 0);
    FAILS_WITH(s->ops->user_count_role(s, NULL, "owner", &n, &err), ERR_INVALID_REQUEST);

    /* Follows demotions and deletions. */
    make_id(id, 1, 0);
    store_user u = user_rec(ORG_A, id, "a0@example.com");
    snprintf(u.role, sizeof(u.role), "admin");
    OK(s->ops->user_update(s, &u, NULL, &err));
    OK(s->ops->user_count_role(s, ORG_A, "owner", &n, &err));
    assert_int_equal(n, 1);
    make_id(id, 1, 1);
    OK(s->ops->user_delete(s, ORG_A, id, NULL, &err));
    OK(s->ops->user_count_role(s, ORG_A, "owner", &n, &err));
    assert_int_equal(n, 0);
    OK(s->ops->user_count_role(s, ORG_A, "admin", &n, &err));
    assert_int_equal(n, 2);
}

static void test_group_update(void **state)
{
    store *s = *state;
    err_t err;
    char gid[STORE_ID_MAX], missing[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(gid, 3, 1);
    make_id(missing, 3, 9);
    add_group(s, ORG_A, gid);
    int64_t before = latest(s);

    store_group g = group_rec(ORG_A, gid, "");
    fill_max(g.name, sizeof(g.name), 'r');
    g.created_at = 5; /* not updatable */
    store_audit a = audit_rec(ORG_A, 1, "group.updated", 100);
    OK(s->ops->group_update(s, &g, &a, &err));
    store_group got;
    OK(s->ops->group_get(s, ORG_A, gid, &got, &err));
    assert_string_equal(got.name, g.name);
    assert_int_equal(got.created_at, 1700000004);
    assert_int_equal(count_audit(s, ORG_A), 1);
    assert_one_change(s, before, "group", ORG_A, gid);

    int64_t mark = latest(s);
    store_group cross = group_rec(ORG_B, gid, "hijacked");
    store_audit ab = audit_rec(ORG_B, 2, "group.updated", 101);
    FAILS_WITH(s->ops->group_update(s, &cross, &ab, &err), ERR_NOT_FOUND);
    store_group absent = group_rec(ORG_A, missing, "nobody");
    store_audit a3 = audit_rec(ORG_A, 3, "group.updated", 102);
    FAILS_WITH(s->ops->group_update(s, &absent, &a3, &err), ERR_NOT_FOUND);
    OK(s->ops->group_get(s, ORG_A, gid, &got, &err));
    assert_string_equal(got.name, g.name);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 1);
    assert_int_equal(count_audit(s, ORG_B), 0);
}

static void test_group_delete(void **state)
{
    store *s = *state;
    err_t err;
    char g1[STORE_ID_MAX], g2[STORE_ID_MAX], app[STORE_ID_MAX], u1[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(g1, 3, 1);
    make_id(g2, 3, 2);
    make_id(app, 4, 1);
    make_id(u1, 1, 1);
    add_group(s, ORG_A, g1);
    add_group(s, ORG_A, g2);
    add_app(s, ORG_A, app);
    add_user(s, ORG_A, u1, "u1@example.com");
    store_grant grants[] = {grant_rec(ORG_A, g1, app, "apps:view"),
                            grant_rec(ORG_A, g1, app, "apps:update"),
                            grant_rec(ORG_A, g2, app, "apps:view")};
    for (size_t i = 0; i < 3; i++)
        OK(s->ops->grant_insert(s, &grants[i], NULL, &err));
    add_member(s, ORG_A, g1, u1);
    add_member(s, ORG_A, g2, u1);
    int64_t before = latest(s);

    /* Another org's id, a failing audit row: nothing deleted or written. */
    store_audit ab = audit_rec(ORG_B, 1, "group.deleted", 100);
    FAILS_WITH(s->ops->group_delete(s, ORG_B, g1, &ab, &err), ERR_NOT_FOUND);
    store_audit dup = audit_rec(ORG_A, 2, "group.deleted", 101);
    OK(s->ops->audit_insert(s, &dup, &err));
    FAILS_WITH(s->ops->group_delete(s, ORG_A, g1, &dup, &err), ERR_CONFLICT);
    store_group got;
    OK(s->ops->group_get(s, ORG_A, g1, &got, &err));
    assert_int_equal(count_grants(s, ORG_A, g1), 2);
    assert_int_equal(count_members(s, ORG_A, g1), 1);
    assert_int_equal(latest(s), before);
    assert_int_equal(count_audit(s, ORG_B), 0);

    store_audit a = audit_rec(ORG_A, 3, "group.deleted", 102);
    OK(s->ops->group_delete(s, ORG_A, g1, &a, &err));
    FAILS_WITH(s->ops->group_get(s, ORG_A, g1, &got, &err), ERR_NOT_FOUND);
    assert_int_equal(count_grants(s, ORG_A, g1), 0);
    assert_int_equal(count_members(s, ORG_A, g1), 0);
    assert_int_equal(count_grants(s, ORG_A, g2), 1); /* the other group is untouched */
    assert_int_equal(count_members(s, ORG_A, g2), 1);
    store_user ugot;
    OK(s->ops->user_get(s, ORG_A, u1, &ugot, &err));
    store_app agot;
    OK(s->ops->app_get(s, ORG_A, app, &agot, &err));
    assert_one_change(s, before, "group", ORG_A, g1);
    assert_int_equal(count_audit(s, ORG_A), 2); /* dup (inserted directly) and a */

    int64_t mark = latest(s);
    store_audit a4 = audit_rec(ORG_A, 4, "group.deleted", 103);
    FAILS_WITH(s->ops->group_delete(s, ORG_A, g1, &a4, &err), ERR_NOT_FOUND);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 2);
    /* The id can be used again, and starts empty. */
    add_group(s, ORG_A, g1);
    assert_int_equal(count_grants(s, ORG_A, g1), 0);
}

static void test_member_delete(void **state)
{
    store *s = *state;
    err_t err;
    char g1[STORE_ID_MAX], u1[STORE_ID_MAX], u2[STORE_ID_MAX], gb[STORE_ID_MAX], ub[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(g1, 3, 1);
    make_id(gb, 3, 2);
    make_id(u1, 1, 1);
    make_id(u2, 1, 2);
    make_id(ub, 1, 3);
    add_group(s, ORG_A, g1);
    add_group(s, ORG_B, gb);
    add_user(s, ORG_A, u1, "u1@example.com");
    add_user(s, ORG_A, u2, "u2@example.com");
    add_user(s, ORG_B, ub, "ub@example.com");
    add_member(s, ORG_A, g1, u1);
    add_member(s, ORG_A, g1, u2);
    add_member(s, ORG_B, gb, ub);
    int64_t before = latest(s);

    store_member m1 = member_rec(ORG_A, g1, u1);
    store_audit a = audit_rec(ORG_A, 1, "group.member_removed", 100);
    OK(s->ops->member_delete(s, &m1, &a, &err));
    collected c = COLLECTED(store_member);
    OK(s->ops->member_each(s, ORG_A, g1, collect, &c, &err));
    assert_int_equal(c.n, 1);
    assert_string_equal(ITEM(c, store_member, 0)->user_id, u2);
    free(c.all);
    store_user got;
    OK(s->ops->user_get(s, ORG_A, u1, &got, &err)); /* the user stays */
    assert_int_equal(count_audit(s, ORG_A), 1);
    assert_one_change(s, before, "member", ORG_A, g1);

    /* Not there (any more), or named through another org: not found, nothing written. */
    int64_t mark = latest(s);
    store_audit a2 = audit_rec(ORG_A, 2, "group.member_removed", 101);
    FAILS_WITH(s->ops->member_delete(s, &m1, &a2, &err), ERR_NOT_FOUND);
    store_member cross = member_rec(ORG_B, g1, u2);
    store_audit a3 = audit_rec(ORG_B, 3, "group.member_removed", 102);
    FAILS_WITH(s->ops->member_delete(s, &cross, &a3, &err), ERR_NOT_FOUND);
    store_member cross2 = member_rec(ORG_A, gb, ub);
    FAILS_WITH(s->ops->member_delete(s, &cross2, &a2, &err), ERR_NOT_FOUND);
    assert_int_equal(count_members(s, ORG_A, g1), 1);
    assert_int_equal(count_members(s, ORG_B, gb), 1);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 1);
    assert_int_equal(count_audit(s, ORG_B), 0);
}

static void test_grant_delete(void **state)
{
    store *s = *state;
    err_t err;
    char g1[STORE_ID_MAX], app[STORE_ID_MAX], gb[STORE_ID_MAX], ab[STORE_ID_MAX],
        missing[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(g1, 3, 1);
    make_id(gb, 3, 2);
    make_id(app, 4, 1);
    make_id(ab, 4, 2);
    make_id(missing, 9, 9);
    add_group(s, ORG_A, g1);
    add_group(s, ORG_B, gb);
    add_app(s, ORG_A, app);
    add_app(s, ORG_B, ab);
    store_grant view = grant_rec(ORG_A, g1, app, "apps:view");
    store_grant update = grant_rec(ORG_A, g1, app, "apps:update");
    store_grant bview = grant_rec(ORG_B, gb, ab, "apps:view");
    OK(s->ops->grant_insert(s, &view, NULL, &err));
    OK(s->ops->grant_insert(s, &update, NULL, &err));
    OK(s->ops->grant_insert(s, &bview, NULL, &err));
    int64_t before = latest(s);

    store_audit a1 = audit_rec(ORG_A, 1, "group.revoked", 100);
    OK(s->ops->grant_delete(s, &view, &a1, &err));
    collected c = COLLECTED(store_grant);
    OK(s->ops->grant_each(s, ORG_A, g1, collect, &c, &err));
    assert_int_equal(c.n, 1);
    assert_string_equal(ITEM(c, store_grant, 0)->permission, "apps:update");
    free(c.all);
    assert_one_change(s, before, "grant", ORG_A, g1);
    assert_int_equal(count_audit(s, ORG_A), 1);

    /* Idempotent: absent succeeds, still with its change row and audit event. */
    int64_t mark = latest(s);
    store_audit a2 = audit_rec(ORG_A, 2, "group.revoked", 101);
    OK(s->ops->grant_delete(s, &view, &a2, &err));
    assert_one_change(s, mark, "grant", ORG_A, g1);
    assert_int_equal(count_audit(s, ORG_A), 2);
    assert_int_equal(count_grants(s, ORG_A, g1), 1);

    /* Another org's group or app, or a missing one: not found, nothing written. */
    mark = latest(s);
    store_audit a3 = audit_rec(ORG_A, 3, "group.revoked", 102);
    store_grant cross_org = grant_rec(ORG_B, g1, app, "apps:update");
    FAILS_WITH(s->ops->grant_delete(s, &cross_org, &a3, &err), ERR_NOT_FOUND);
    store_grant cross_group = grant_rec(ORG_A, gb, app, "apps:view");
    FAILS_WITH(s->ops->grant_delete(s, &cross_group, &a3, &err), ERR_NOT_FOUND);
    store_grant cross_app = grant_rec(ORG_A, g1, ab, "apps:view");
    FAILS_WITH(s->ops->grant_delete(s, &cross_app, &a3, &err), ERR_NOT_FOUND);
    store_grant b_from_a = grant_rec(ORG_A, gb, ab, "apps:view");
    FAILS_WITH(s->ops->grant_delete(s, &b_from_a, &a3, &err), ERR_NOT_FOUND);
    store_grant no_group = grant_rec(ORG_A, missing, app, "apps:update");
    FAILS_WITH(s->ops->grant_delete(s, &no_group, &a3, &err), ERR_NOT_FOUND);
    store_grant no_app = grant_rec(ORG_A, g1, missing, "apps:update");
    FAILS_WITH(s->ops->grant_delete(s, &no_app, &a3, &err), ERR_NOT_FOUND);
    assert_int_equal(count_grants(s, ORG_A, g1), 1);
    assert_int_equal(count_grants(s, ORG_B, gb), 1);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 2);
    assert_int_equal(count_audit(s, ORG_B), 0);

    /* A failing audit row undoes the delete. */
    FAILS_WITH(s->ops->grant_delete(s, &update, &a1, &err), ERR_CONFLICT);
    assert_int_equal(count_grants(s, ORG_A, g1), 1);
    assert_int_equal(latest(s), mark);
}

static void test_app_update(void **state)
{
    store *s = *state;
    err_t err;
    char id[STORE_ID_MAX], missing[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id, 4, 1);
    make_id(missing, 4, 9);
    add_app(s, ORG_A, id);
    int64_t before = latest(s);

    store_app upd = app_rec(ORG_A, id);
    fill_max(upd.name, sizeof(upd.name), 'n');
    snprintf(upd.mode, sizeof(upd.mode), "public");
    fill_max(upd.allowed_origins, sizeof(upd.allowed_origins), 'o');
    upd.allowed_origins[10] = '\n';
    upd.created_at = 7; /* not updatable */
    store_audit a = audit_rec(ORG_A, 1, "app.updated", 100);
    OK(s->ops->app_update(s, &upd, &a, &err));
    store_app got, want = upd;
    want.created_at = 1700000005;
    OK(s->ops->app_get(s, ORG_A, id, &got, &err));
    assert_app_equal(&got, &want);
    assert_one_change(s, before, "app", ORG_A, id);
    assert_int_equal(count_audit(s, ORG_A), 1);

    /* Origins may become empty. */
    upd.allowed_origins[0] = '\0';
    OK(s->ops->app_update(s, &upd, NULL, &err));
    OK(s->ops->app_get(s, ORG_A, id, &got, &err));
    assert_string_equal(got.allowed_origins, "");

    int64_t mark = latest(s);
    store_app cross = app_rec(ORG_B, id);
    store_audit ab = audit_rec(ORG_B, 2, "app.updated", 101);
    FAILS_WITH(s->ops->app_update(s, &cross, &ab, &err), ERR_NOT_FOUND);
    store_app absent = app_rec(ORG_A, missing);
    store_audit a3 = audit_rec(ORG_A, 3, "app.updated", 102);
    FAILS_WITH(s->ops->app_update(s, &absent, &a3, &err), ERR_NOT_FOUND);
    OK(s->ops->app_get(s, ORG_A, id, &got, &err));
    assert_string_equal(got.name, upd.name);
    assert_string_equal(got.mode, "public");
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_A), 1);
    assert_int_equal(count_audit(s, ORG_B), 0);
}

/* ---- console sessions ---- */

static void test_console_sessions(void **state)
{
    store *s = *state;
    err_t err;
    char u1[STORE_ID_MAX], ub[STORE_ID_MAX], missing[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(u1, 1, 1);
    make_id(ub, 1, 2);
    make_id(missing, 1, 9);
    add_user(s, ORG_A, u1, "u1@example.com");
    add_user(s, ORG_B, ub, "ub@example.com");
    int64_t changes = latest(s);
    int64_t now = clock_now();

    store_console_session cs = console_rec(ORG_A, u1, 'a', now + 43200);
    store_audit a1 = audit_rec(ORG_A, 1, "console.signed_in", 100);
    OK(s->ops->console_session_insert(s, &cs, &a1, &err));
    store_console_session got;
    OK(s->ops->console_session_get(s, cs.id_hash, &got, &err));
    assert_console_equal(&got, &cs);
    assert_int_equal(count_audit(s, ORG_A), 1);

    /* A duplicate hash conflicts (no hash in the detail) and writes no audit event. */
    store_console_session dup = console_rec(ORG_A, u1, 'a', now + 60);
    store_audit a2 = audit_rec(ORG_A, 2, "console.signed_in", 101);
    FAILS_WITH(s->ops->console_session_insert(s, &dup, &a2, &err), ERR_CONFLICT);
    assert_null(strstr(err.detail, "aaaaaaaa"));
    OK(s->ops->console_session_get(s, cs.id_hash, &got, &err));
    assert_int_equal(got.expires_at, cs.expires_at);

    /* The user must exist in the session's org. */
    store_console_session cross = console_rec(ORG_B, u1, 'b', now + 60);
    FAILS_WITH(s->ops->console_session_insert(s, &cross, &a2, &err), ERR_INVALID_REQUEST);
    store_console_session cross2 = console_rec(ORG_A, ub, 'b', now + 60);
    FAILS_WITH(s->ops->console_session_insert(s, &cross2, &a2, &err), ERR_INVALID_REQUEST);
    store_console_session nouser = console_rec(ORG_A, missing, 'b', now + 60);
    FAILS_WITH(s->ops->console_session_insert(s, &nouser, &a2, &err), ERR_INVALID_REQUEST);
    FAILS_WITH(s->ops->console_session_get(s, cross.id_hash, &got, &err), ERR_NOT_FOUND);
    store_console_session nohash = console_rec(ORG_A, u1, 'c', now + 60);
    nohash.id_hash[0] = '\0';
    FAILS_WITH(s->ops->console_session_insert(s, &nohash, &a2, &err), ERR_INVALID_REQUEST);
    /* A failing audit row undoes the insert. */
    store_console_session c3 = console_rec(ORG_A, u1, 'd', now + 60);
    FAILS_WITH(s->ops->console_session_insert(s, &c3, &a1, &err), ERR_CONFLICT);
    FAILS_WITH(s->ops->console_session_get(s, c3.id_hash, &got, &err), ERR_NOT_FOUND);
    assert_int_equal(count_audit(s, ORG_A), 1);
    assert_int_equal(count_audit(s, ORG_B), 0);

    /* Expired (expires_at <= now) reads as absent; the hash stays out of the detail. */
    store_console_session old = console_rec(ORG_A, u1, 'e', now - 1);
    OK(s->ops->console_session_insert(s, &old, NULL, &err));
    FAILS_WITH(s->ops->console_session_get(s, old.id_hash, &got, &err), ERR_NOT_FOUND);
    assert_null(strstr(err.detail, "eeeeeeee"));
    store_console_session edge = console_rec(ORG_A, u1, '0', now);
    OK(s->ops->console_session_insert(s, &edge, NULL, &err));
    FAILS_WITH(s->ops->console_session_get(s, edge.id_hash, &got, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->console_session_get(s, "no-such-hash", &got, &err), ERR_NOT_FOUND);
    /* The housekeeping of a later insert does not touch live sessions. */
    store_console_session c4 = console_rec(ORG_A, u1, '4', now + 120);
    OK(s->ops->console_session_insert(s, &c4, NULL, &err));
    OK(s->ops->console_session_get(s, cs.id_hash, &got, &err));
    OK(s->ops->console_session_get(s, c4.id_hash, &got, &err));
    assert_console_equal(&got, &c4);

    /* Delete: gone; again is fine (idempotent) and still audited. */
    store_audit a3 = audit_rec(ORG_A, 3, "console.signed_out", 102);
    OK(s->ops->console_session_delete(s, cs.id_hash, &a3, &err));
    FAILS_WITH(s->ops->console_session_get(s, cs.id_hash, &got, &err), ERR_NOT_FOUND);
    OK(s->ops->console_session_get(s, c4.id_hash, &got, &err));
    store_audit a4 = audit_rec(ORG_A, 4, "console.signed_out", 103);
    OK(s->ops->console_session_delete(s, cs.id_hash, &a4, &err));
    assert_int_equal(count_audit(s, ORG_A), 3);
    /* A failing audit row undoes the delete. */
    FAILS_WITH(s->ops->console_session_delete(s, c4.id_hash, &a4, &err), ERR_CONFLICT);
    OK(s->ops->console_session_get(s, c4.id_hash, &got, &err));
    assert_int_equal(count_audit(s, ORG_A), 3);

    /* No change-log rows from any of it. */
    assert_int_equal(latest(s), changes);
}

/* ---- two handles on one database ---- */

static void test_peer_sees_writes(void **state)
{
    store *a = *state;
    err_t err;
    if (contract_open_peer == NULL)
        skip();
    store *b = contract_open_peer();
    assert_non_null(b);
    OK(b->ops->migrate(b, &err));
    int64_t b_seen;
    OK(b->ops->change_latest(b, &b_seen, &err));

    char tid[STORE_ID_MAX];
    make_id(tid, 2, 1);
    add_org(a, ORG_A);
    store_token t = token_rec(ORG_A, tid, 'd');
    OK(a->ops->token_insert(a, &t, NULL, &err));
    OK(a->ops->token_revoke(a, ORG_A, tid, 1700003000, NULL, &err));

    collected c = COLLECTED(store_change);
    OK(b->ops->changes_since(b, b_seen, collect, &c, &err));
    assert_int_equal(c.n, 3);
    assert_change(ITEM(c, store_change, 0), "org", ORG_A, ORG_A);
    assert_change(ITEM(c, store_change, 2), "token", ORG_A, tid);
    free(c.all);
    store_token got;
    OK(b->ops->token_get(b, ORG_A, tid, &got, &err));
    assert_int_equal(got.revoked_at, 1700003000);

    /* And the other way round. */
    store_session sess = session_rec(ORG_A, 0x66, 1);
    OK(b->ops->record_batch(b, &sess, 1, NULL, 0, &err));
    store_session sgot;
    OK(a->ops->session_get(a, sess.jti, &sgot, &err));
    b->ops->close(b);
}

typedef struct {
    store *s;
    unsigned prefix;
    int rounds;
    int failures;
    err_t first_err;
} batch_worker;

/* No cmocka assertions off the main thread: results are checked after join. */
static void *batch_worker_run(void *arg)
{
    batch_worker *w = arg;
    for (int i = 0; i < w->rounds; i++) {
        err_t err = {0};
        store_session sess = session_rec(ORG_A, w->prefix, (unsigned)i);
        store_audit audit = audit_rec(ORG_A, w->prefix * 1000 + (unsigned)i, "session.issued", i);
        if (w->s->ops->record_batch(w->s, &sess, 1, &audit, 1, &err) != 0 && w->failures++ == 0)
            w->first_err = err;
    }
    return NULL;
}

static void test_peer_concurrent_batches(void **state)
{
    store *a = *state;
    err_t err;
    if (contract_open_peer == NULL)
        skip();
    store *b = contract_open_peer();
    assert_non_null(b);
    add_org(a, ORG_A);

    enum { ROUNDS = 200 };
    batch_worker w[2] = {{a, 0x71, ROUNDS, 0, {0}}, {b, 0x72, ROUNDS, 0, {0}}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, batch_worker_run, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    b->ops->close(b);
    for (int i = 0; i < 2; i++)
        if (w[i].failures != 0)
            fail_msg("worker %d: %d failures, first: %s", i, w[i].failures, w[i].first_err.detail);

    for (int i = 0; i < 2; i++) {
        for (unsigned r = 0; r < ROUNDS; r++) {
            store_session want = session_rec(ORG_A, w[i].prefix, r), got;
            OK(a->ops->session_get(a, want.jti, &got, &err));
            assert_session_equal(&got, &want);
        }
    }
    assert_int_equal(count_audit(a, ORG_A), 2 * ROUNDS);
}

typedef struct {
    store *s;
    const char *app_id;
    unsigned prefix;
    int rounds;
    int failures;
    err_t first_err;
    int64_t versions[64]; /* the number each round got */
} deploy_worker;

static void *deploy_worker_run(void *arg)
{
    deploy_worker *w = arg;
    store_app_file f;
    memset(&f, 0, sizeof(f));
    snprintf(f.path, sizeof(f.path), "index.html");
    snprintf(f.content_type, sizeof(f.content_type), "text/html");
    f.data = (const unsigned char *)"<p>";
    f.len = 3;
    for (int i = 0; i < w->rounds; i++) {
        err_t err = {0};
        store_app_version v = version_rec(ORG_A, w->app_id, w->prefix * 100 + (unsigned)i);
        if (w->s->ops->app_version_insert(w->s, &v, &f, 1, NULL, &err) != 0 && w->failures++ == 0)
            w->first_err = err;
        w->versions[i] = v.version;
    }
    return NULL;
}

/* Two writers that read before they write (the next version number): each
 * number is given out once, and neither writer sees a busy error. */
static void test_peer_concurrent_versions(void **state)
{
    store *a = *state;
    if (contract_open_peer == NULL)
        skip();
    store *b = contract_open_peer();
    assert_non_null(b);
    char app[STORE_ID_MAX];
    make_id(app, 4, 1);
    add_org(a, ORG_A);
    add_app(a, ORG_A, app);

    enum { ROUNDS = 40 };
    deploy_worker w[2];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 2; i++) {
        w[i].s = i == 0 ? a : b;
        w[i].app_id = app;
        w[i].prefix = 1 + (unsigned)i;
        w[i].rounds = ROUNDS;
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, deploy_worker_run, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    b->ops->close(b);
    for (int i = 0; i < 2; i++)
        if (w[i].failures != 0)
            fail_msg("worker %d: %d failures, first: %s", i, w[i].failures, w[i].first_err.detail);

    int seen[2 * ROUNDS + 1] = {0};
    for (int i = 0; i < 2; i++) {
        for (int r = 0; r < ROUNDS; r++) {
            int64_t v = w[i].versions[r];
            assert_true(v >= 1 && v <= 2 * ROUNDS);
            assert_int_equal(seen[v]++, 0);
            if (r > 0)
                assert_true(v > w[i].versions[r - 1]);
        }
    }
}

/* ---- webhooks (006) ---- */

static store_webhook webhook_rec(const char *org_id, unsigned n)
{
    store_webhook w;
    memset(&w, 0, sizeof(w));
    make_id(w.id, 0x3e, n);
    snprintf(w.org_id, sizeof(w.org_id), "%s", org_id);
    snprintf(w.url, sizeof(w.url), "https://hooks.example.com/tessera/%u", n);
    w.secret_sealed_len = 77;
    for (size_t i = 0; i < w.secret_sealed_len; i++)
        w.secret_sealed[i] = (unsigned char)(i * 7 + n);
    snprintf(w.events, sizeof(w.events), "session.created,session.revoked");
    w.enabled = 1;
    w.created_at = 1700000400 + n;
    return w;
}

/* Inserts n audit events of org_id (actions alternate), ids 0xee00+base.. */
static void add_audit(store *s, const char *org_id, unsigned base, unsigned n)
{
    err_t err;
    for (unsigned i = 0; i < n; i++) {
        store_audit a = audit_rec(org_id, 0xee00 + base + i, i % 2 ? "session.revoked" : "session.issued", 50);
        OK(s->ops->audit_insert(s, &a, &err));
    }
}

static void assert_webhook_equal(const store_webhook *a, const store_webhook *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->org_id, b->org_id);
    assert_string_equal(a->url, b->url);
    assert_int_equal(a->secret_sealed_len, b->secret_sealed_len);
    assert_memory_equal(a->secret_sealed, b->secret_sealed, a->secret_sealed_len);
    assert_string_equal(a->events, b->events);
    assert_int_equal(a->enabled, b->enabled);
    assert_int_equal(a->cursor, b->cursor);
    assert_int_equal(a->failures, b->failures);
    assert_int_equal(a->next_attempt_at, b->next_attempt_at);
    assert_string_equal(a->last_error, b->last_error);
    assert_int_equal(a->created_at, b->created_at);
}

/* The audit log's end as audit_after sees it: the seq of org_id's last event. */
static int64_t last_seq(store *s, const char *org_id)
{
    err_t err;
    collected c = COLLECTED(store_audit_entry);
    OK(s->ops->audit_after(s, org_id, 0, 100000, collect, &c, &err));
    int64_t seq = c.n ? ITEM(c, store_audit_entry, c.n - 1)->seq : 0;
    free(c.all);
    return seq;
}

/* audit_after: one org's events after a position, in commit order, bounded;
 * positions grow whatever the events' own times say. */
static void test_audit_after(void **state)
{
    store *s = *state;
    err_t err;
    store_audit late = audit_rec(ORG_A, 1, "session.issued", 900);
    store_audit other = audit_rec(ORG_B, 2, "session.issued", 10);
    store_audit early = audit_rec(ORG_A, 3, "session.revoked", 5); /* committed later, older time */
    store_audit sys = audit_rec("", 4, "key.rotated", 7);
    OK(s->ops->audit_insert(s, &late, &err));
    OK(s->ops->audit_insert(s, &other, &err));
    OK(s->ops->audit_insert(s, &early, &err));
    OK(s->ops->audit_insert(s, &sys, &err));

    collected c = COLLECTED(store_audit_entry);
    OK(s->ops->audit_after(s, ORG_A, 0, 10, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_audit_equal(&ITEM(c, store_audit_entry, 0)->audit, &late);
    assert_audit_equal(&ITEM(c, store_audit_entry, 1)->audit, &early);
    int64_t first = ITEM(c, store_audit_entry, 0)->seq, second = ITEM(c, store_audit_entry, 1)->seq;
    assert_true(first > 0 && second > first);
    free(c.all);

    collected after = COLLECTED(store_audit_entry);
    OK(s->ops->audit_after(s, ORG_A, first, 10, collect, &after, &err));
    assert_int_equal(after.n, 1);
    assert_int_equal(ITEM(after, store_audit_entry, 0)->seq, second);
    free(after.all);

    add_audit(s, ORG_A, 0, 5);
    collected lim = COLLECTED(store_audit_entry);
    OK(s->ops->audit_after(s, ORG_A, second, 3, collect, &lim, &err));
    assert_int_equal(lim.n, 3);
    for (size_t i = 1; i < lim.n; i++)
        assert_true(ITEM(lim, store_audit_entry, i)->seq > ITEM(lim, store_audit_entry, i - 1)->seq);
    free(lim.all);

    collected none = COLLECTED(store_audit_entry);
    OK(s->ops->audit_after(s, ORG_A, last_seq(s, ORG_A), 10, collect, &none, &err));
    assert_int_equal(none.n, 0);
    OK(s->ops->audit_after(s, "", 0, 10, collect, &none, &err)); /* deployment-wide */
    assert_int_equal(none.n, 1);
    free(none.all);
    size_t n = 0;
    FAILS_WITH(s->ops->audit_after(s, NULL, 0, 10, count_rows, &n, &err), ERR_INVALID_REQUEST);
}

/* Insert, get, each, update, delete: org isolation, change rows, audit
 * events, where the cursor starts, and what an update resets. */
static void test_webhooks(void **state)
{
    store *s = *state;
    err_t err;
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    add_audit(s, ORG_A, 0, 3);
    add_audit(s, ORG_B, 10, 2); /* the end of the log is an org-B event */
    int64_t end = last_seq(s, ORG_B);
    assert_true(end > last_seq(s, ORG_A));

    store_webhook a = webhook_rec(ORG_A, 1);
    a.cursor = 123456; /* ignored: the cursor starts at the end of the log */
    a.failures = 9;
    snprintf(a.last_error, sizeof(a.last_error), "ignored");
    fill_max(a.url, sizeof(a.url), 'u');
    store_audit ev = audit_rec(ORG_A, 1, "webhook.created", 1700000500);
    int64_t before = latest(s);
    OK(s->ops->webhook_insert(s, &a, &ev, &err));
    assert_one_change(s, before, "webhook", ORG_A, a.id);
    store_webhook got;
    OK(s->ops->webhook_get(s, ORG_A, a.id, &got, &err));
    a.cursor = end;
    a.failures = 0;
    a.last_error[0] = '\0';
    assert_webhook_equal(&got, &a);
    /* The webhook's own audit event comes after its cursor. */
    collected since = COLLECTED(store_audit_entry);
    OK(s->ops->audit_after(s, ORG_A, got.cursor, 10, collect, &since, &err));
    assert_int_equal(since.n, 1);
    assert_string_equal(ITEM(since, store_audit_entry, 0)->audit.action, "webhook.created");
    free(since.all);

    FAILS_WITH(s->ops->webhook_insert(s, &a, NULL, &err), ERR_CONFLICT);
    store_webhook orphan = webhook_rec("0c000000-0000-4000-8000-00000000000c", 2);
    FAILS_WITH(s->ops->webhook_insert(s, &orphan, NULL, &err), ERR_INVALID_REQUEST);
    FAILS_WITH(s->ops->webhook_get(s, ORG_B, a.id, &got, &err), ERR_NOT_FOUND);

    store_webhook b = webhook_rec(ORG_B, 3);
    OK(s->ops->webhook_insert(s, &b, NULL, &err));
    store_webhook a2 = webhook_rec(ORG_A, 4);
    a2.enabled = 0;
    OK(s->ops->webhook_insert(s, &a2, NULL, &err));
    collected c = COLLECTED(store_webhook);
    OK(s->ops->webhook_each(s, ORG_A, collect, &c, &err));
    assert_int_equal(c.n, 2);
    assert_string_equal(ITEM(c, store_webhook, 0)->id, a.id);
    assert_string_equal(ITEM(c, store_webhook, 1)->id, a2.id);
    assert_int_equal(ITEM(c, store_webhook, 1)->enabled, 0);
    free(c.all);
    collected all = COLLECTED(store_webhook);
    OK(s->ops->webhook_each(s, "", collect, &all, &err));
    assert_int_equal(all.n, 3);
    free(all.all);

    /* Progress (the deliverer) sets the backoff; an update clears it and
     * replaces url, events, enabled and the secret, keeping the cursor. */
    int applied = 0;
    store_webhook p = got;
    p.failures = 3;
    p.next_attempt_at = 1700009999;
    snprintf(p.last_error, sizeof(p.last_error), "HTTP 500");
    OK(s->ops->webhook_progress(s, &p, got.cursor, NULL, &applied, &err));
    assert_int_equal(applied, 1);
    store_webhook upd = p;
    snprintf(upd.url, sizeof(upd.url), "https://hooks.example.com/v2");
    snprintf(upd.events, sizeof(upd.events), "session.denied");
    upd.secret_sealed_len = 60;
    upd.secret_sealed[0] ^= 0xff;
    upd.cursor = 1; /* ignored */
    before = latest(s);
    store_audit ev2 = audit_rec(ORG_A, 2, "webhook.updated", 1700000600);
    OK(s->ops->webhook_update(s, &upd, &ev2, &err));
    assert_one_change(s, before, "webhook", ORG_A, a.id);
    OK(s->ops->webhook_get(s, ORG_A, a.id, &got, &err));
    upd.cursor = end;
    upd.failures = 0;
    upd.next_attempt_at = 0;
    upd.last_error[0] = '\0';
    assert_webhook_equal(&got, &upd);

    /* Disabling keeps the cursor; enabling again moves it to the end of the log. */
    upd.enabled = 0;
    OK(s->ops->webhook_update(s, &upd, NULL, &err));
    add_audit(s, ORG_A, 20, 2);
    OK(s->ops->webhook_get(s, ORG_A, a.id, &got, &err));
    assert_int_equal(got.cursor, end);
    upd.enabled = 1;
    OK(s->ops->webhook_update(s, &upd, NULL, &err));
    OK(s->ops->webhook_get(s, ORG_A, a.id, &got, &err));
    assert_int_equal(got.cursor, last_seq(s, ORG_A));
    assert_true(got.cursor > end);

    /* Another org's id is absent: nothing written. */
    int64_t mark = latest(s);
    size_t audits_b = count_audit(s, ORG_B);
    store_webhook foreign = upd;
    snprintf(foreign.org_id, sizeof(foreign.org_id), "%s", ORG_B);
    store_audit ev3 = audit_rec(ORG_B, 3, "webhook.updated", 1700000700);
    FAILS_WITH(s->ops->webhook_update(s, &foreign, &ev3, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->webhook_delete(s, ORG_B, a.id, &ev3, &err), ERR_NOT_FOUND);
    FAILS_WITH(s->ops->webhook_delete(s, ORG_A, b.id, NULL, &err), ERR_NOT_FOUND);
    assert_int_equal(latest(s), mark);
    assert_int_equal(count_audit(s, ORG_B), audits_b);

    /* Delete takes the delivery log along. */
    store_webhook_delivery d;
    memset(&d, 0, sizeof(d));
    make_id(d.id, 0x3f, 1);
    snprintf(d.org_id, sizeof(d.org_id), "%s", ORG_A);
    snprintf(d.webhook_id, sizeof(d.webhook_id), "%s", a.id);
    snprintf(d.event_id, sizeof(d.event_id), "%s", ev.id);
    snprintf(d.event_type, sizeof(d.event_type), "webhook.ping");
    d.attempt = 1;
    d.status_code = 204;
    d.at = 1700000800;
    OK(s->ops->webhook_delivery_insert(s, &d, &err));
    mark = latest(s);
    OK(s->ops->webhook_delete(s, ORG_A, a.id, NULL, &err));
    assert_one_change(s, mark, "webhook", ORG_A, a.id);
    FAILS_WITH(s->ops->webhook_get(s, ORG_A, a.id, &got, &err), ERR_NOT_FOUND);
    size_t n = 0;
    OK(s->ops->webhook_delivery_each(s, ORG_A, a.id, 10, count_rows, &n, &err));
    assert_int_equal(n, 0);
    FAILS_WITH(s->ops->webhook_delete(s, ORG_A, a.id, NULL, &err), ERR_NOT_FOUND);
}

/* webhook_due: enabled, not backing off, with an event of its own org after
 * its cursor; in creation order. */
static void test_webhook_due(void **state)
{
    store *s = *state;
    err_t err;
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    store_webhook a = webhook_rec(ORG_A, 1), off = webhook_rec(ORG_A, 2), b = webhook_rec(ORG_B, 3);
    off.enabled = 0;
    OK(s->ops->webhook_insert(s, &a, NULL, &err));
    OK(s->ops->webhook_insert(s, &off, NULL, &err));
    OK(s->ops->webhook_insert(s, &b, NULL, &err));
    size_t n = 0;
    OK(s->ops->webhook_due(s, 1700000000, count_rows, &n, &err));
    assert_int_equal(n, 0); /* nothing after the cursors yet */

    add_audit(s, ORG_A, 0, 1); /* an org-A event: only a is due */
    collected c = COLLECTED(store_webhook);
    OK(s->ops->webhook_due(s, 1700000000, collect, &c, &err));
    assert_int_equal(c.n, 1);
    assert_string_equal(ITEM(c, store_webhook, 0)->id, a.id);
    store_webhook cur = *ITEM(c, store_webhook, 0);
    free(c.all);

    /* Backing off until 1700000100: not due before then. */
    store_webhook back = cur;
    back.failures = 1;
    back.next_attempt_at = 1700000100;
    int applied = 0;
    OK(s->ops->webhook_progress(s, &back, cur.cursor, NULL, &applied, &err));
    n = 0;
    OK(s->ops->webhook_due(s, 1700000099, count_rows, &n, &err));
    assert_int_equal(n, 0);
    OK(s->ops->webhook_due(s, 1700000100, count_rows, &n, &err));
    assert_int_equal(n, 1);

    /* Past the last event: not due; a new org-B event makes b due. */
    store_webhook done = back;
    done.cursor = last_seq(s, ORG_A);
    done.failures = 0;
    done.next_attempt_at = 0;
    OK(s->ops->webhook_progress(s, &done, back.cursor, NULL, &applied, &err));
    add_audit(s, ORG_B, 5, 1);
    collected d = COLLECTED(store_webhook);
    OK(s->ops->webhook_due(s, 1700000000, collect, &d, &err));
    assert_int_equal(d.n, 1);
    assert_string_equal(ITEM(d, store_webhook, 0)->id, b.id);
    free(d.all);
}

static store_webhook_delivery delivery_rec(const store_webhook *w, unsigned n)
{
    store_webhook_delivery d;
    memset(&d, 0, sizeof(d));
    make_id(d.id, 0x3f, n);
    snprintf(d.org_id, sizeof(d.org_id), "%s", w->org_id);
    snprintf(d.webhook_id, sizeof(d.webhook_id), "%s", w->id);
    make_id(d.event_id, 0xee, n);
    snprintf(d.event_type, sizeof(d.event_type), "session.created");
    d.attempt = n % 3 + 1;
    d.status_code = n % 2 ? 500 : 200;
    snprintf(d.error, sizeof(d.error), "%s", n % 2 ? "HTTP 500" : "");
    d.duration_ms = n;
    d.at = 1700001000 + n;
    return d;
}

/* webhook_progress: logs the delivery and moves the state only from the
 * expected cursor; the delivery log is newest first, bounded and per org. */
static void test_webhook_progress(void **state)
{
    store *s = *state;
    err_t err;
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    store_webhook w = webhook_rec(ORG_A, 1);
    OK(s->ops->webhook_insert(s, &w, NULL, &err));
    OK(s->ops->webhook_get(s, ORG_A, w.id, &w, &err));
    int64_t start = w.cursor;
    int64_t changes = latest(s);
    size_t audits = count_audit(s, ORG_A);

    store_webhook next = w;
    next.cursor = start + 5;
    store_webhook_delivery d1 = delivery_rec(&w, 1);
    int applied = -1;
    OK(s->ops->webhook_progress(s, &next, start, &d1, &applied, &err));
    assert_int_equal(applied, 1);
    store_webhook got;
    OK(s->ops->webhook_get(s, ORG_A, w.id, &got, &err));
    assert_webhook_equal(&got, &next);

    /* From a stale cursor: the delivery is logged, the state is not moved. */
    store_webhook stale = w;
    stale.cursor = start + 1;
    stale.failures = 4;
    store_webhook_delivery d2 = delivery_rec(&w, 2);
    OK(s->ops->webhook_progress(s, &stale, start, &d2, &applied, &err));
    assert_int_equal(applied, 0);
    OK(s->ops->webhook_get(s, ORG_A, w.id, &got, &err));
    assert_webhook_equal(&got, &next);
    assert_int_equal(latest(s), changes); /* progress writes no change rows ... */
    assert_int_equal(count_audit(s, ORG_A), audits); /* ... and no audit events */

    collected c = COLLECTED(store_webhook_delivery);
    OK(s->ops->webhook_delivery_each(s, ORG_A, w.id, 10, collect, &c, &err));
    assert_int_equal(c.n, 2);
    const store_webhook_delivery *newest = ITEM(c, store_webhook_delivery, 0);
    assert_string_equal(newest->id, d2.id);
    assert_string_equal(newest->org_id, d2.org_id);
    assert_string_equal(newest->webhook_id, d2.webhook_id);
    assert_string_equal(newest->event_id, d2.event_id);
    assert_string_equal(newest->event_type, d2.event_type);
    assert_int_equal(newest->attempt, d2.attempt);
    assert_int_equal(newest->status_code, d2.status_code);
    assert_string_equal(newest->error, d2.error);
    assert_int_equal(newest->duration_ms, d2.duration_ms);
    assert_int_equal(newest->at, d2.at);
    assert_string_equal(ITEM(c, store_webhook_delivery, 1)->id, d1.id);
    free(c.all);
    size_t n = 0;
    OK(s->ops->webhook_delivery_each(s, ORG_B, w.id, 10, count_rows, &n, &err));
    assert_int_equal(n, 0); /* another org's webhook id lists nothing */

    /* A delivery that names a webhook of another org (or none) is refused. */
    store_webhook_delivery bad = delivery_rec(&w, 3);
    snprintf(bad.org_id, sizeof(bad.org_id), "%s", ORG_B);
    FAILS_WITH(s->ops->webhook_delivery_insert(s, &bad, &err), ERR_INVALID_REQUEST);
    store_webhook gone = next;
    make_id(gone.id, 0x3e, 99);
    store_webhook_delivery bad2 = delivery_rec(&gone, 4);
    FAILS_WITH(s->ops->webhook_progress(s, &gone, start, &bad2, &applied, &err), ERR_INVALID_REQUEST);
    OK(s->ops->webhook_progress(s, &gone, start, NULL, &applied, &err));
    assert_int_equal(applied, 0);

    /* The log keeps the newest STORE_WEBHOOK_DELIVERIES_KEPT. */
    for (unsigned i = 10; i < 10 + STORE_WEBHOOK_DELIVERIES_KEPT + 5; i++) {
        store_webhook_delivery d = delivery_rec(&w, i);
        OK(s->ops->webhook_delivery_insert(s, &d, &err));
    }
    collected kept = COLLECTED(store_webhook_delivery);
    OK(s->ops->webhook_delivery_each(s, ORG_A, w.id, 5000, collect, &kept, &err));
    assert_int_equal(kept.n, STORE_WEBHOOK_DELIVERIES_KEPT);
    store_webhook_delivery last = delivery_rec(&w, 10 + STORE_WEBHOOK_DELIVERIES_KEPT + 4);
    assert_string_equal(ITEM(kept, store_webhook_delivery, 0)->id, last.id);
    store_webhook_delivery oldest = delivery_rec(&w, 15);
    assert_string_equal(ITEM(kept, store_webhook_delivery, kept.n - 1)->id, oldest.id);
    free(kept.all);
    collected three = COLLECTED(store_webhook_delivery);
    OK(s->ops->webhook_delivery_each(s, ORG_A, w.id, 3, collect, &three, &err));
    assert_int_equal(three.n, 3);
    free(three.all);
}

/* ---- export and import (tessera export / import) ---- */

/* A dump in memory: each row flattened to one string (table, then each value
 * with its kind), so two dumps compare as string lists. */
typedef struct {
    char **rows; /* owned */
    size_t n;
    store_row *parsed; /* for import: what next() hands out */
    size_t next;
} dump_copy;

static void put_escaped(char **out, size_t *len, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *out = realloc(*out, *len + 4);
        assert_non_null(*out);
        *len += (size_t)snprintf(*out + *len, 4, "%02x", (unsigned char)p[i]);
    }
}

static int keep_row(void *ctx, const store_row *row)
{
    dump_copy *d = ctx;
    char *flat = NULL;
    size_t len = 0;
    put_escaped(&flat, &len, row->table, strlen(row->table));
    for (size_t i = 0; i < row->ncols; i++) {
        const store_value *v = &row->values[i];
        char head[64];
        int n = v->kind == STORE_VALUE_INT ? snprintf(head, sizeof(head), "|%s=I%lld", row->columns[i], (long long)v->i)
                                           : snprintf(head, sizeof(head), "|%s=%c", row->columns[i],
                                                      "NITB"[v->kind]);
        flat = realloc(flat, len + (size_t)n + 1);
        assert_non_null(flat);
        memcpy(flat + len, head, (size_t)n + 1);
        len += (size_t)n;
        if (v->kind == STORE_VALUE_TEXT || v->kind == STORE_VALUE_BLOB)
            put_escaped(&flat, &len, v->s, v->len);
    }
    d->rows = realloc(d->rows, (d->n + 1) * sizeof(*d->rows));
    assert_non_null(d->rows);
    d->rows[d->n++] = flat;
    return 0;
}

/* Keeps a deep copy of every row for import. */
static int keep_parsed(void *ctx, const store_row *row)
{
    dump_copy *d = ctx;
    d->parsed = realloc(d->parsed, (d->n + 1) * sizeof(*d->parsed));
    assert_non_null(d->parsed);
    store_row *r = &d->parsed[d->n];
    const char **cols = calloc(row->ncols, sizeof(*cols));
    store_value *vals = calloc(row->ncols, sizeof(*vals));
    assert_non_null(cols);
    assert_non_null(vals);
    for (size_t i = 0; i < row->ncols; i++) {
        cols[i] = strdup(row->columns[i]);
        vals[i] = row->values[i];
        if (vals[i].s != NULL) {
            char *copy = malloc(vals[i].len + 1);
            assert_non_null(copy);
            memcpy(copy, vals[i].s, vals[i].len);
            vals[i].s = copy;
        }
    }
    r->table = strdup(row->table);
    r->ncols = row->ncols;
    r->columns = cols;
    r->values = vals;
    d->n++;
    return 0;
}

static int next_parsed(void *ctx, store_row *row, err_t *e)
{
    dump_copy *d = ctx;
    (void)e;
    if (d->next == d->n)
        return 0;
    *row = d->parsed[d->next++];
    return 1;
}

static void dump_free(dump_copy *d)
{
    for (size_t i = 0; i < d->n && d->rows; i++)
        free(d->rows[i]);
    for (size_t i = 0; i < d->n && d->parsed; i++) {
        store_row *r = &d->parsed[i];
        for (size_t c = 0; c < r->ncols; c++) {
            free((char *)r->columns[c]);
            free((char *)r->values[c].s);
        }
        free((void *)r->columns);
        free((void *)r->values);
        free((char *)r->table);
    }
    free(d->rows);
    free(d->parsed);
    memset(d, 0, sizeof(*d));
}

/* One or more rows in every table of the catalogue. */
static void fill_every_table(store *s)
{
    err_t err;
    char id[STORE_ID_MAX];
    add_org(s, ORG_A);
    add_org(s, ORG_B);
    make_id(id, 0xd1, 1);
    add_user(s, ORG_A, id, "ada@example.com");
    store_token t = token_rec(ORG_A, "0d000000-0000-4000-8000-000000000001", 'c');
    store_audit a1 = audit_rec(ORG_A, 1, "token.created", 1700000010);
    OK(s->ops->token_insert(s, &t, &a1, &err));
    add_group(s, ORG_A, "0d000000-0000-4000-8000-000000000002");
    add_app(s, ORG_A, "0d000000-0000-4000-8000-000000000003");
    store_grant g = grant_rec(ORG_A, "0d000000-0000-4000-8000-000000000002", "0d000000-0000-4000-8000-000000000003",
                              "apps:view");
    OK(s->ops->grant_insert(s, &g, NULL, &err));
    add_member(s, ORG_A, "0d000000-0000-4000-8000-000000000002", id);
    store_app_version v = version_rec(ORG_A, "0d000000-0000-4000-8000-000000000003", 1);
    static const unsigned char bytes[] = {0x00, 0xff, 0x10, 'a', 0x00};
    store_app_file f;
    memset(&f, 0, sizeof(f));
    snprintf(f.path, sizeof(f.path), "index.html");
    snprintf(f.content_type, sizeof(f.content_type), "text/html");
    f.data = bytes;
    f.len = sizeof(bytes);
    OK(s->ops->app_version_insert(s, &v, &f, 1, NULL, &err));
    store_key k = key_rec("kid-export-1");
    OK(s->ops->key_insert(s, &k, NULL, &err));
    store_session sess[2] = {session_rec(ORG_A, 0xe1, 1), session_rec(ORG_A, 0xe1, 2)};
    sess[0].expires_at = clock_now() + 3600;
    sess[1].expires_at = clock_now() - 10; /* for the sweep */
    store_audit a2 = audit_rec(ORG_A, 2, "session.issued", 1700000020);
    OK(s->ops->record_batch(s, sess, 2, &a2, 1, &err));
    store_audit a3 = audit_rec("", 3, "key.rotated", 1700000030); /* deployment-wide */
    OK(s->ops->audit_insert(s, &a3, &err));
    store_console_session cs = console_rec(ORG_A, id, 'a', clock_now() + 600);
    OK(s->ops->console_session_insert(s, &cs, NULL, &err));
    store_idp *p = idp_rec(ORG_A, "0d000000-0000-4000-8000-000000000004", "https://idp.example.com");
    OK(s->ops->idp_insert(s, p, NULL, &err));
    store_integration in = integration_rec(ORG_A, "0d000000-0000-4000-8000-000000000005", "orders");
    OK(s->ops->integration_insert(s, &in, NULL, &err));
    store_subject_token st = subject_rec(ORG_A, sess[0].jti, p->id, clock_now() + 600);
    OK(s->ops->subject_token_put(s, &st, &err));
    free(p);
    store_webhook w = webhook_rec(ORG_A, 1);
    OK(s->ops->webhook_insert(s, &w, NULL, &err));
    store_webhook_delivery d = delivery_rec(&w, 1);
    OK(s->ops->webhook_delivery_insert(s, &d, &err));
    int64_t count = 0, done = 0;
    OK(s->ops->session_expiry_sweep(s, clock_now(), &count, &done, &err));
}

static void test_export_import(void **state)
{
    store *src = *state;
    err_t err;
    fill_every_table(src);
    dump_copy first = {0}, parsed = {0}, second = {0};
    OK(src->ops->export_rows(src, keep_row, &first, &err));
    OK(src->ops->export_rows(src, keep_parsed, &parsed, &err));
    assert_int_equal(first.n, parsed.n);

    /* Every table of the catalogue has rows: the test covers the whole dump. */
    for (size_t i = 0; i < sql_dump_ntables(); i++) {
        const char *cols;
        const char *table = sql_dump_table(i, &cols);
        size_t rows = 0;
        for (size_t r = 0; r < parsed.n; r++)
            rows += strcmp(parsed.parsed[r].table, table) == 0;
        if (rows == 0)
            fail_msg("no row of %s in the dump", table);
    }

    /* Into a fresh store: the same rows come back out, in the same order. */
    store *dst = contract_open_fresh();
    assert_non_null(dst);
    OK(dst->ops->migrate(dst, &err));
    int64_t imported = 0, latest_before = 0, latest_after = 0;
    OK(dst->ops->import_rows(dst, next_parsed, &parsed, &imported, &err));
    assert_int_equal(imported, (int64_t)parsed.n);
    OK(dst->ops->export_rows(dst, keep_row, &second, &err));
    assert_int_equal(first.n, second.n);
    for (size_t i = 0; i < first.n; i++)
        assert_string_equal(first.rows[i], second.rows[i]);

    /* Positions carry on after the imported ones. */
    OK(src->ops->change_latest(src, &latest_before, &err));
    store_group g2 = group_rec(ORG_A, "0d000000-0000-4000-8000-000000000009", "After");
    store_audit a9 = audit_rec(ORG_A, 9, "group.created", 1700000090);
    OK(dst->ops->group_insert(dst, &g2, &a9, &err));
    OK(dst->ops->change_latest(dst, &latest_after, &err));
    assert_true(latest_after > latest_before);
    collected after = COLLECTED(store_audit_entry);
    OK(dst->ops->audit_after(dst, ORG_A, 0, 100, collect, &after, &err));
    assert_true(after.n >= 2);
    const store_audit_entry *newest = ITEM(after, store_audit_entry, after.n - 1);
    assert_string_equal(newest->audit.id, a9.id);
    for (size_t i = 0; i + 1 < after.n; i++)
        assert_true(ITEM(after, store_audit_entry, i)->seq < newest->seq);
    free(after.all);

    /* A second import into a store with rows is refused and writes nothing. */
    parsed.next = 0;
    FAILS_WITH(dst->ops->import_rows(dst, next_parsed, &parsed, &imported, &err), ERR_CONFLICT);
    dst->ops->close(dst);

    /* A row of the wrong shape: refused, nothing written. */
    store *bad = contract_open_fresh();
    assert_non_null(bad);
    OK(bad->ops->migrate(bad, &err));
    parsed.next = 0;
    store_value *v0 = (store_value *)parsed.parsed[0].values;
    store_value saved = v0[3];
    v0[3].kind = STORE_VALUE_TEXT; /* session_ttl is an integer */
    v0[3].s = "x";
    v0[3].len = 1;
    FAILS_WITH(bad->ops->import_rows(bad, next_parsed, &parsed, &imported, &err), ERR_INVALID_REQUEST);
    v0[3] = saved;
    size_t orgs = 0;
    OK(bad->ops->org_each(bad, count_rows, &orgs, &err));
    assert_int_equal(orgs, 0);
    bad->ops->close(bad);

    dump_free(&first);
    dump_free(&parsed);
    dump_free(&second);
}

/* ---- helpers for the backends' own cases ---- */

typedef struct {
    store *s;
    int rc;
    err_t err;
} migrate_worker;

static void *migrate_run(void *arg)
{
    migrate_worker *w = arg;
    w->rc = w->s->ops->migrate(w->s, &w->err);
    return NULL;
}

/* Migrates a and b (two handles on one new database) from two threads at
 * once, as two processes starting together would; both must succeed. Closes
 * both. */
static void migrate_at_once(store *a, store *b)
{
    migrate_worker w[2] = {{a, 0, {0}}, {b, 0, {0}}};
    assert_non_null(a);
    assert_non_null(b);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, migrate_run, &w[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2; i++) {
        if (w[i].rc != 0)
            fail_msg("migrate %d: %s", i, w[i].err.detail);
        w[i].s->ops->close(w[i].s);
    }
}

/* ---- runners ---- */

#define CASE(f) cmocka_unit_test_setup_teardown(f, contract_setup, contract_teardown)

int store_contract_run_peers(const char *backend_name, store *(*open_fresh)(void),
                             store *(*open_peer)(void))
{
    const struct CMUnitTest cases[] = {
        CASE(test_migrate_again),
        CASE(test_org_roundtrip),
        CASE(test_org_not_found_and_conflict),
        CASE(test_org_update),
        CASE(test_each_stops_early),
        CASE(test_user_roundtrip),
        CASE(test_user_conflicts),
        CASE(test_user_org_isolation),
        CASE(test_token_roundtrip),
        CASE(test_token_conflict_and_isolation),
        CASE(test_token_revoke),
        CASE(test_token_touch),
        CASE(test_token_set_rate_limit),
        CASE(test_group_roundtrip_and_isolation),
        CASE(test_grant_idempotent),
        CASE(test_grant_references),
        CASE(test_grant_each_filters),
        CASE(test_members),
        CASE(test_app_roundtrip_and_isolation),
        CASE(test_app_versions),
        CASE(test_app_version_failures),
        CASE(test_keys),
        CASE(test_change_log),
        CASE(test_audit_with_mutation),
        CASE(test_audit_each),
        CASE(test_record_batch),
        CASE(test_record_batch_is_atomic),
        CASE(test_user_update),
        CASE(test_user_update_password_ends_console_sessions),
        CASE(test_session_revocation),
        CASE(test_session_expiry_sweep),
        CASE(test_idps),
        CASE(test_integrations),
        CASE(test_subject_tokens),
        CASE(test_user_delete),
        CASE(test_user_count_role),
        CASE(test_group_update),
        CASE(test_group_delete),
        CASE(test_member_delete),
        CASE(test_grant_delete),
        CASE(test_app_update),
        CASE(test_console_sessions),
        CASE(test_peer_sees_writes),
        CASE(test_peer_concurrent_batches),
        CASE(test_peer_concurrent_versions),
        CASE(test_audit_after),
        CASE(test_webhooks),
        CASE(test_webhook_progress),
        CASE(test_webhook_due),
        CASE(test_export_import),
    };
    contract_open_fresh = open_fresh;
    contract_open_peer = open_peer;
    return cmocka_run_group_tests_name(backend_name, cases, NULL, NULL);
}

int store_contract_run(const char *backend_name, store *(*open_fresh)(void))
{
    return store_contract_run_peers(backend_name, open_fresh, NULL);
}
