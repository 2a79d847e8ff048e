#include "domain/directory.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/pack.h"
#include "core/recmap.h"
#include "core/xalloc.h"
#include "crypto/crypto.h"
#include "domain/signing_keys.h"

#define DIRECTORY_PRUNE_SECONDS 60

typedef struct {
    char app_id[STORE_ID_MAX];
    char permission[32];
} dir_grant;

/* The records the directory holds by the 100,000 (orgs, access tokens,
 * groups) are kept packed (core/pack.h: ids as 16 bytes, the token hash as
 * 32) in recmaps that read each key from inside its record (core/recmap.h):
 * docs/internals/MEMORY.md has the figures. A map's key field comes first
 * where it can, so finding it costs nothing. */
enum { ORG_ID };
static const pack_field org_fields[] = {
    PACK_UUID(store_org, id),   PACK_TEXT(store_org, name),
    PACK_TEXT(store_org, type), PACK_BYTES(store_org, session_ttl),
    PACK_BYTES(store_org, session_ttl_max), PACK_BYTES(store_org, created_at),
};
static const pack_layout org_layout = PACK_LAYOUT(store_org, org_fields);

/* Only what the request paths read (directory.h): an admin list reads the
 * rest from the store. */
enum { TOKEN_HASH, TOKEN_ID };
static const pack_field token_fields[] = {
    PACK_HEX(store_token, hash),         PACK_UUID(store_token, id),
    PACK_UUID(store_token, org_id),      PACK_TEXT(store_token, type),
    PACK_BYTES(store_token, expires_at), PACK_BYTES(store_token, revoked_at),
    PACK_BYTES(store_token, rate_rps),   PACK_BYTES(store_token, rate_burst),
};
static const pack_layout token_layout = PACK_LAYOUT(store_token, token_fields);

enum { GROUP_ID, GROUP_ORG_ID, GROUP_NAME };
static const pack_field group_fields[] = {
    PACK_UUID(store_group, id), PACK_UUID(store_group, org_id),
    PACK_TEXT(store_group, name), PACK_BYTES(store_group, created_at),
};
static const pack_layout group_layout = PACK_LAYOUT(store_group, group_fields);

typedef struct {
    dir_grant *grants;
    size_t ngrants;
    unsigned char rec[]; /* store_group, packed */
} dir_group;

static const void *org_key(const void *rec, size_t *len)
{
    return pack_span(&org_layout, rec, ORG_ID, len);
}

static const void *token_hash_key(const void *rec, size_t *len)
{
    return pack_span(&token_layout, rec, TOKEN_HASH, len);
}

static const void *token_id_key(const void *rec, size_t *len)
{
    return pack_span(&token_layout, rec, TOKEN_ID, len);
}

static const void *group_key(const void *g, size_t *len)
{
    return pack_span(&group_layout, ((const dir_group *)g)->rec, GROUP_ID, len);
}

/* The record of map m whose field (of layout l) is text, or NULL. */
static void *find(const recmap *m, const pack_layout *l, size_t field, const char *text)
{
    unsigned char key[PACK_KEY_MAX];
    size_t len = pack_key(l, field, text, key);
    return len > 0 ? recmap_get(m, key, len) : NULL;
}

/* Takes that record out of m and returns it (or NULL). */
static void *take(recmap *m, const pack_layout *l, size_t field, const char *text)
{
    unsigned char key[PACK_KEY_MAX];
    size_t len = pack_key(l, field, text, key);
    return len > 0 ? recmap_del(m, key, len) : NULL;
}

typedef struct {
    store_user rec;
    char (*groups)[STORE_ID_MAX];
    size_t ngroups;
} dir_user;

typedef struct {
    int64_t version;
    char id[STORE_ID_MAX];
} dir_version;

typedef struct {
    store_key rec;
    jwt_key *key; /* with its private part; never handed out, only cloned */
} dir_key;

struct directory {
    pthread_rwlock_t lock;
    pthread_mutex_t refresh_lock; /* one refresh at a time, so seq only moves forward */
    unsigned char master[MASTER_KEY_LEN];
    int64_t seq;     /* last change applied */
    recmap orgs;      /* by id: packed store_org (owned) */
    recmap tokens;    /* by hash: packed store_token (owned) */
    recmap token_ids; /* by id: the same records (borrowed from tokens) */
    recmap groups;    /* by id: dir_group* (owned) */
    hmap users;      /* org_id "/" email -> dir_user* (owned) */
    hmap user_ids;   /* id -> dir_user* (borrowed from users) */
    hmap apps;       /* id -> store_app* (owned) */
    hmap versions;   /* app id -> dir_version* (owned): newest deployed version */
    hmap idps;       /* id -> store_idp* (owned) */
    hmap issuers;    /* org_id "/" issuer -> store_idp* (borrowed from idps) */
    hmap revoked;    /* jti -> int64_t* expires_at (owned): revoked sessions not yet expired */
    int64_t pruned_at; /* when expired entries last left revoked */
    dir_key *keys;   /* owned array */
    size_t nkeys;
    uint64_t key_gen;
};

static void free_group(void *p)
{
    dir_group *g = p;
    if (g) {
        free(g->grants);
        free(g);
    }
}

static void free_user(void *p)
{
    dir_user *u = p;
    if (u) {
        free(u->groups);
        free(u);
    }
}

static void free_keys(directory *d)
{
    for (size_t i = 0; i < d->nkeys; i++)
        jwt_key_free(d->keys[i].key);
    free(d->keys);
    d->keys = NULL;
    d->nkeys = 0;
}

directory *directory_new(const unsigned char master_key[32])
{
    directory *d = xcalloc(1, sizeof(*d));
    pthread_rwlock_init(&d->lock, NULL);
    pthread_mutex_init(&d->refresh_lock, NULL);
    memcpy(d->master, master_key, MASTER_KEY_LEN);
    recmap_init(&d->orgs, org_key);
    recmap_init(&d->tokens, token_hash_key);
    recmap_init(&d->token_ids, token_id_key);
    recmap_init(&d->groups, group_key);
    hmap_init(&d->users);
    hmap_init(&d->user_ids);
    hmap_init(&d->apps);
    hmap_init(&d->versions);
    hmap_init(&d->idps);
    hmap_init(&d->issuers);
    hmap_init(&d->revoked);
    return d;
}

void directory_free(directory *d)
{
    if (d == NULL)
        return;
    recmap_free(&d->orgs, free);
    recmap_free(&d->token_ids, NULL);
    recmap_free(&d->tokens, free);
    recmap_free(&d->groups, free_group);
    hmap_free(&d->user_ids, NULL);
    hmap_free(&d->users, free_user);
    hmap_free(&d->apps, free);
    hmap_free(&d->versions, free);
    hmap_free(&d->issuers, NULL);
    hmap_free(&d->idps, free);
    hmap_free(&d->revoked, free);
    free_keys(d);
    pthread_rwlock_destroy(&d->lock);
    pthread_mutex_destroy(&d->refresh_lock);
    explicit_bzero(d->master, sizeof(d->master));
    free(d);
}

/* ---- upserts (caller holds the write lock) ---- */

static void put_org(directory *d, const store_org *o)
{
    free(recmap_put(&d->orgs, pack_new(&org_layout, o, 0)));
}

static void drop_token(directory *d, const char *id)
{
    unsigned char *old = take(&d->token_ids, &token_layout, TOKEN_ID, id);
    if (old != NULL) {
        size_t len;
        const void *hash = token_hash_key(old, &len);
        free(recmap_del(&d->tokens, hash, len));
    }
}

static void put_token(directory *d, const store_token *t)
{
    drop_token(d, t->id);
    unsigned char *rec = pack_new(&token_layout, t, 0);
    recmap_put(&d->tokens, rec);
    recmap_put(&d->token_ids, rec);
}

/* A group with its record replaced keeps its grants. */
static void put_group(directory *d, const store_group *g)
{
    dir_group *cur = pack_new(&group_layout, g, offsetof(dir_group, rec));
    dir_group *old = recmap_put(&d->groups, cur);
    if (old != NULL) {
        cur->grants = old->grants;
        cur->ngrants = old->ngrants;
        free(old);
    }
}

/* The group of org_id with this id, or NULL. */
static dir_group *org_group(directory *d, const char *org_id, const char *group_id)
{
    dir_group *g = find(&d->groups, &group_layout, GROUP_ID, group_id);
    return g != NULL && pack_field_is(&group_layout, g->rec, GROUP_ORG_ID, org_id) ? g : NULL;
}

static void user_key(const char *org_id, const char *email, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", org_id, email);
}

static void put_user(directory *d, const store_user *u)
{
    dir_user *cur = hmap_get(&d->user_ids, u->id);
    char key[STORE_ID_MAX + STORE_EMAIL_MAX + 1];
    if (cur != NULL) {
        user_key(cur->rec.org_id, cur->rec.email, key, sizeof(key));
        hmap_del(&d->users, key);
        cur->rec = *u;
    } else {
        cur = xcalloc(1, sizeof(*cur));
        cur->rec = *u;
        hmap_put(&d->user_ids, u->id, cur);
    }
    user_key(u->org_id, u->email, key, sizeof(key));
    hmap_put(&d->users, key, cur);
}

static void drop_user(directory *d, const char *id)
{
    dir_user *u = hmap_del(&d->user_ids, id);
    if (u == NULL)
        return;
    char key[STORE_ID_MAX + STORE_EMAIL_MAX + 1];
    user_key(u->rec.org_id, u->rec.email, key, sizeof(key));
    hmap_del(&d->users, key);
    free_user(u);
}

static void user_add_group(dir_user *u, const char *group_id)
{
    for (size_t i = 0; i < u->ngroups; i++)
        if (strcmp(u->groups[i], group_id) == 0)
            return;
    u->groups = xrealloc(u->groups, (u->ngroups + 1) * sizeof(*u->groups));
    snprintf(u->groups[u->ngroups++], STORE_ID_MAX, "%s", group_id);
}

static void put_app(directory *d, const store_app *a)
{
    store_app *copy = xmalloc(sizeof(*copy));
    *copy = *a;
    free(hmap_put(&d->apps, a->id, copy));
}

/* The issuers map key: org_id "/" issuer, on the heap (issuers are long). */
static char *issuer_key(const char *org_id, const char *issuer)
{
    size_t cap = strlen(org_id) + strlen(issuer) + 2;
    char *key = xmalloc(cap);
    snprintf(key, cap, "%s/%s", org_id, issuer);
    return key;
}

static void drop_idp(directory *d, const char *id)
{
    store_idp *old = hmap_del(&d->idps, id);
    if (old == NULL)
        return;
    char *key = issuer_key(old->org_id, old->issuer);
    hmap_del(&d->issuers, key);
    free(key);
    free(old);
}

static void put_idp(directory *d, const store_idp *p)
{
    drop_idp(d, p->id);
    store_idp *copy = xmalloc(sizeof(*copy));
    *copy = *p;
    char *key = issuer_key(p->org_id, p->issuer);
    hmap_put(&d->idps, p->id, copy);
    hmap_put(&d->issuers, key, copy);
    free(key);
}

static void put_revoked(directory *d, const store_session *s)
{
    int64_t *exp = xmalloc(sizeof(*exp));
    *exp = s->expires_at;
    free(hmap_put(&d->revoked, s->jti, exp));
}

typedef struct {
    int64_t now;
    char (*jtis)[STORE_ID_MAX];
    size_t n, cap;
} expired_list;

static void find_expired(void *ctx, const char *key, void *val)
{
    expired_list *l = ctx;
    if (*(int64_t *)val > l->now)
        return;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->jtis = xrealloc(l->jtis, l->cap * sizeof(*l->jtis));
    }
    str_copy(l->jtis[l->n++], STORE_ID_MAX, key);
}

/* Drops revoked sessions that have expired anyway (write lock held). */
static void prune_revoked(directory *d, int64_t now)
{
    expired_list l = {now, NULL, 0, 0};
    hmap_each(&d->revoked, find_expired, &l);
    for (size_t i = 0; i < l.n; i++)
        free(hmap_del(&d->revoked, l.jtis[i]));
    free(l.jtis);
    d->pruned_at = now;
}

/* ---- store callbacks ---- */

typedef struct {
    directory *d;
    err_t *e;
    int failed;
    int strict;     /* keys: fail on a key that cannot be opened (else skip it) */
    dir_key *keys;  /* keys being loaded (owned until swapped in) */
    size_t nkeys;
} load_ctx;

static int on_org(void *ctx, const void *rec)
{
    put_org(((load_ctx *)ctx)->d, rec);
    return 0;
}

static int on_token(void *ctx, const void *rec)
{
    put_token(((load_ctx *)ctx)->d, rec);
    return 0;
}

static int on_group(void *ctx, const void *rec)
{
    put_group(((load_ctx *)ctx)->d, rec);
    return 0;
}

static int on_grant(void *ctx, const void *rec)
{
    const store_grant *g = rec;
    dir_group *grp = find(&((load_ctx *)ctx)->d->groups, &group_layout, GROUP_ID, g->group_id);
    if (grp == NULL)
        return 0;
    grp->grants = xrealloc(grp->grants, (grp->ngrants + 1) * sizeof(*grp->grants));
    dir_grant *slot = &grp->grants[grp->ngrants++];
    snprintf(slot->app_id, sizeof(slot->app_id), "%s", g->app_id);
    snprintf(slot->permission, sizeof(slot->permission), "%s", g->permission);
    return 0;
}

static int on_user(void *ctx, const void *rec)
{
    put_user(((load_ctx *)ctx)->d, rec);
    return 0;
}

static int on_member(void *ctx, const void *rec)
{
    const store_member *m = rec;
    dir_user *u = hmap_get(&((load_ctx *)ctx)->d->user_ids, m->user_id);
    if (u != NULL)
        user_add_group(u, m->group_id);
    return 0;
}

static int on_app(void *ctx, const void *rec)
{
    put_app(((load_ctx *)ctx)->d, rec);
    return 0;
}

static int on_idp(void *ctx, const void *rec)
{
    put_idp(((load_ctx *)ctx)->d, rec);
    return 0;
}

static int on_revoked(void *ctx, const void *rec)
{
    put_revoked(((load_ctx *)ctx)->d, rec);
    return 0;
}

static int on_version(void *ctx, const void *rec)
{
    const store_app_version *v = rec;
    directory *d = ((load_ctx *)ctx)->d;
    dir_version *cur = hmap_get(&d->versions, v->app_id);
    if (cur == NULL) {
        cur = xcalloc(1, sizeof(*cur));
        hmap_put(&d->versions, v->app_id, cur);
    }
    if (v->version > cur->version) {
        cur->version = v->version;
        str_copy(cur->id, sizeof(cur->id), v->id);
    }
    return 0;
}

static int on_key(void *ctx, const void *rec)
{
    load_ctx *lc = ctx;
    const store_key *k = rec;
    if (strcmp(k->state, "retired") == 0)
        return 0;
    err_t why;
    jwt_key *key = signing_keys_open(k, lc->d->master, &why);
    if (key == NULL && lc->strict) {
        *lc->e = why;
        lc->failed = 1;
        return 1;
    }
    if (key == NULL) {
        log_msg(LOG_ERROR, "signing key skipped", "kid", k->kid, "error", why.detail, NULL);
        return 0;
    }
    lc->keys = xrealloc(lc->keys, (lc->nkeys + 1) * sizeof(*lc->keys));
    lc->keys[lc->nkeys].rec = *k;
    lc->keys[lc->nkeys].key = key;
    lc->nkeys++;
    return 0;
}

/* Re-reads every key; the set in use is replaced only when all went well. */
static int load_keys(directory *d, store *s, int strict, err_t *e)
{
    load_ctx lc = {.d = d, .e = e, .strict = strict};
    if (s->ops->key_each(s, on_key, &lc, e) != 0 || lc.failed) {
        for (size_t i = 0; i < lc.nkeys; i++)
            jwt_key_free(lc.keys[i].key);
        free(lc.keys);
        return -1;
    }
    free_keys(d);
    d->keys = lc.keys;
    d->nkeys = lc.nkeys;
    d->key_gen++;
    return 0;
}

int directory_load(directory *d, store *s, err_t *e)
{
    load_ctx lc = {.d = d, .e = e, .strict = 1};
    int rc = -1;
    pthread_rwlock_wrlock(&d->lock);
    if (s->ops->change_latest(s, &d->seq, e) != 0 || s->ops->org_each(s, on_org, &lc, e) != 0 ||
        s->ops->token_each(s, NULL, on_token, &lc, e) != 0 ||
        s->ops->group_each(s, NULL, on_group, &lc, e) != 0 ||
        s->ops->grant_each(s, NULL, NULL, on_grant, &lc, e) != 0 ||
        s->ops->user_each(s, NULL, on_user, &lc, e) != 0 ||
        s->ops->member_each(s, NULL, NULL, on_member, &lc, e) != 0 ||
        s->ops->app_each(s, NULL, on_app, &lc, e) != 0 ||
        s->ops->app_version_each(s, NULL, NULL, on_version, &lc, e) != 0 ||
        s->ops->idp_each(s, NULL, on_idp, &lc, e) != 0 ||
        s->ops->session_revoked_each(s, clock_now(), on_revoked, &lc, e) != 0 || load_keys(d, s, 1, e) != 0)
        goto out;
    rc = 0;
out:
    pthread_rwlock_unlock(&d->lock);
    return rc;
}

/* ---- refresh: re-read each changed row and replace the cached copy ---- */

typedef struct {
    store_change *items;
    size_t n, cap;
} change_list;

static int on_change(void *ctx, const void *rec)
{
    change_list *cl = ctx;
    if (cl->n == cl->cap) {
        cl->cap = cl->cap ? cl->cap * 2 : 16;
        cl->items = xrealloc(cl->items, cl->cap * sizeof(*cl->items));
    }
    cl->items[cl->n++] = *(const store_change *)rec;
    return cl->n >= 4096; /* apply in slices; the next refresh continues */
}

typedef struct {
    const char *org_id;
    const char *group_id;
} membership_ref;

static void remove_membership(void *ctx, const char *key, void *val)
{
    const membership_ref *ref = ctx;
    dir_user *u = val;
    (void)key;
    if (strcmp(u->rec.org_id, ref->org_id) != 0)
        return;
    for (size_t g = 0; g < u->ngroups; g++) {
        if (strcmp(u->groups[g], ref->group_id) == 0) {
            memmove(&u->groups[g], &u->groups[g + 1], (u->ngroups - g - 1) * sizeof(*u->groups));
            u->ngroups--;
            return;
        }
    }
}

static void reset_group_members(directory *d, const char *org_id, const char *group_id)
{
    membership_ref ref = {org_id, group_id};
    hmap_each(&d->user_ids, remove_membership, &ref);
}

/* Applies one change; the write lock is held. Missing rows are dropped. */
static int apply_change(directory *d, store *s, const store_change *c, err_t *e)
{
    load_ctx lc = {.d = d, .e = e};
    err_t miss;
    if (strcmp(c->kind, "org") == 0) {
        store_org o;
        if (s->ops->org_get(s, c->id, &o, &miss) == 0)
            put_org(d, &o);
    } else if (strcmp(c->kind, "token") == 0) {
        store_token t;
        if (s->ops->token_get(s, c->org_id, c->id, &t, &miss) == 0)
            put_token(d, &t);
        else
            drop_token(d, c->id);
    } else if (strcmp(c->kind, "group") == 0) {
        store_group g;
        if (s->ops->group_get(s, c->org_id, c->id, &g, &miss) == 0)
            put_group(d, &g);
        else
            free_group(take(&d->groups, &group_layout, GROUP_ID, c->id));
    } else if (strcmp(c->kind, "grant") == 0) {
        dir_group *g = find(&d->groups, &group_layout, GROUP_ID, c->id);
        if (g != NULL) {
            g->ngrants = 0;
            return s->ops->grant_each(s, c->org_id, c->id, on_grant, &lc, e);
        }
    } else if (strcmp(c->kind, "user") == 0) {
        store_user u;
        if (s->ops->user_get(s, c->org_id, c->id, &u, &miss) == 0)
            put_user(d, &u);
        else
            drop_user(d, c->id);
    } else if (strcmp(c->kind, "member") == 0) {
        reset_group_members(d, c->org_id, c->id);
        return s->ops->member_each(s, c->org_id, c->id, on_member, &lc, e);
    } else if (strcmp(c->kind, "app") == 0) {
        store_app a;
        if (s->ops->app_get(s, c->org_id, c->id, &a, &miss) == 0)
            put_app(d, &a);
    } else if (strcmp(c->kind, "app_version") == 0) {
        return s->ops->app_version_each(s, c->org_id, c->id, on_version, &lc, e);
    } else if (strcmp(c->kind, "key") == 0) {
        return load_keys(d, s, 0, e);
    } else if (strcmp(c->kind, "session") == 0) {
        store_session sess;
        if (s->ops->session_get(s, c->id, &sess, &miss) == 0 && sess.revoked_at != 0)
            put_revoked(d, &sess);
    } else if (strcmp(c->kind, "idp") == 0) {
        store_idp *p = xmalloc(sizeof(*p));
        if (s->ops->idp_get(s, c->org_id, c->id, p, &miss) == 0)
            put_idp(d, p);
        else
            drop_idp(d, c->id);
        free(p);
    }
    return 0;
}

int directory_refresh(directory *d, store *s, err_t *e)
{
    change_list cl = {0};
    int64_t after;
    int rc = 0;
    pthread_mutex_lock(&d->refresh_lock);
    pthread_rwlock_rdlock(&d->lock);
    after = d->seq;
    pthread_rwlock_unlock(&d->lock);
    if (s->ops->changes_since(s, after, on_change, &cl, e) != 0)
        rc = -1;
    for (size_t i = 0; i < cl.n && rc == 0; i++) {
        pthread_rwlock_wrlock(&d->lock);
        rc = apply_change(d, s, &cl.items[i], e);
        if (rc == 0)
            d->seq = cl.items[i].seq;
        pthread_rwlock_unlock(&d->lock);
    }
    int64_t now = clock_now();
    if (now - d->pruned_at >= DIRECTORY_PRUNE_SECONDS) {
        pthread_rwlock_wrlock(&d->lock);
        prune_revoked(d, now);
        pthread_rwlock_unlock(&d->lock);
    }
    pthread_mutex_unlock(&d->refresh_lock);
    if (rc == 0 && cl.n > 0)
        log_msg(LOG_DEBUG, "directory refreshed", NULL);
    free(cl.items);
    return rc;
}

/* ---- lookups ---- */

int directory_session_revoked(directory *d, const char *jti)
{
    pthread_rwlock_rdlock(&d->lock);
    int revoked = hmap_get(&d->revoked, jti) != NULL;
    pthread_rwlock_unlock(&d->lock);
    return revoked;
}

int directory_idp_by_issuer(directory *d, const char *org_id, const char *issuer, store_idp *out)
{
    char *key = issuer_key(org_id, issuer);
    pthread_rwlock_rdlock(&d->lock);
    store_idp *p = hmap_get(&d->issuers, key);
    if (p)
        *out = *p;
    pthread_rwlock_unlock(&d->lock);
    free(key);
    return p ? 0 : -1;
}

typedef struct {
    const char *org_id;
    size_t n;
} idp_count;

static void count_org_idp(void *ctx, const char *key, void *val)
{
    idp_count *c = ctx;
    (void)key;
    if (strcmp(((const store_idp *)val)->org_id, c->org_id) == 0)
        c->n++;
}

size_t directory_idp_count(directory *d, const char *org_id)
{
    idp_count c = {org_id, 0};
    pthread_rwlock_rdlock(&d->lock);
    hmap_each(&d->idps, count_org_idp, &c);
    pthread_rwlock_unlock(&d->lock);
    return c.n;
}

int directory_token_by_hash(directory *d, const char *hash_hex, store_token *out)
{
    pthread_rwlock_rdlock(&d->lock);
    const unsigned char *t = find(&d->tokens, &token_layout, TOKEN_HASH, hash_hex);
    if (t)
        pack_unpack(&token_layout, t, out);
    pthread_rwlock_unlock(&d->lock);
    return t ? 0 : -1;
}

int directory_token_by_id(directory *d, const char *id, store_token *out)
{
    pthread_rwlock_rdlock(&d->lock);
    const unsigned char *t = find(&d->token_ids, &token_layout, TOKEN_ID, id);
    if (t)
        pack_unpack(&token_layout, t, out);
    pthread_rwlock_unlock(&d->lock);
    return t ? 0 : -1;
}

int directory_org(directory *d, const char *id, store_org *out)
{
    pthread_rwlock_rdlock(&d->lock);
    const unsigned char *o = find(&d->orgs, &org_layout, ORG_ID, id);
    if (o)
        pack_unpack(&org_layout, o, out);
    pthread_rwlock_unlock(&d->lock);
    return o ? 0 : -1;
}

int directory_group_name(directory *d, const char *org_id, const char *group_id,
                         char name[STORE_NAME_MAX])
{
    pthread_rwlock_rdlock(&d->lock);
    size_t len;
    dir_group *g = org_group(d, org_id, group_id);
    int found = g != NULL;
    if (found)
        str_copy(name, STORE_NAME_MAX, (const char *)pack_span(&group_layout, g->rec, GROUP_NAME, &len));
    pthread_rwlock_unlock(&d->lock);
    return found ? 0 : -1;
}

int directory_user_by_email(directory *d, const char *org_id, const char *email, store_user *out,
                            char (*group_ids)[STORE_ID_MAX], size_t max, size_t *ngroups)
{
    char key[STORE_ID_MAX + STORE_EMAIL_MAX + 1];
    user_key(org_id, email, key, sizeof(key));
    pthread_rwlock_rdlock(&d->lock);
    dir_user *u = hmap_get(&d->users, key);
    if (u != NULL) {
        *out = u->rec;
        size_t n = u->ngroups < max ? u->ngroups : max;
        if (n > 0)
            memcpy(group_ids, u->groups, n * sizeof(*u->groups));
        *ngroups = n;
    }
    pthread_rwlock_unlock(&d->lock);
    return u ? 0 : -1;
}

typedef struct {
    const char *email;
    store_user *out;
    size_t n, max;
} email_search;

static void match_email(void *ctx, const char *key, void *val)
{
    email_search *es = ctx;
    const dir_user *u = val;
    (void)key;
    if (es->n < es->max && strcmp(u->rec.email, es->email) == 0)
        es->out[es->n++] = u->rec;
}

size_t directory_users_with_email(directory *d, const char *email, store_user *out, size_t max)
{
    email_search es = {email, out, 0, max};
    pthread_rwlock_rdlock(&d->lock);
    hmap_each(&d->user_ids, match_email, &es);
    pthread_rwlock_unlock(&d->lock);
    return es.n;
}

int directory_user_by_id(directory *d, const char *id, store_user *out)
{
    pthread_rwlock_rdlock(&d->lock);
    dir_user *u = hmap_get(&d->user_ids, id);
    if (u)
        *out = u->rec;
    pthread_rwlock_unlock(&d->lock);
    return u ? 0 : -1;
}

int directory_app(directory *d, const char *id, store_app *out)
{
    pthread_rwlock_rdlock(&d->lock);
    store_app *a = hmap_get(&d->apps, id);
    if (a)
        *out = *a;
    pthread_rwlock_unlock(&d->lock);
    return a ? 0 : -1;
}

int directory_app_version(directory *d, const char *app_id, char version_id[STORE_ID_MAX])
{
    pthread_rwlock_rdlock(&d->lock);
    dir_version *v = hmap_get(&d->versions, app_id);
    if (v)
        memcpy(version_id, v->id, STORE_ID_MAX);
    pthread_rwlock_unlock(&d->lock);
    return v ? 0 : -1;
}

int directory_groups_allow(directory *d, const char *org_id, const char *const *group_ids,
                           size_t ngroups, const char *app_id, const char *permission)
{
    int allowed = 0;
    pthread_rwlock_rdlock(&d->lock);
    for (size_t i = 0; i < ngroups && !allowed; i++) {
        dir_group *g = org_group(d, org_id, group_ids[i]);
        if (g == NULL)
            continue;
        for (size_t k = 0; k < g->ngrants && !allowed; k++)
            allowed = strcmp(g->grants[k].app_id, app_id) == 0 &&
                      strcmp(g->grants[k].permission, permission) == 0;
    }
    pthread_rwlock_unlock(&d->lock);
    return allowed;
}

uint64_t directory_key_generation(directory *d)
{
    pthread_rwlock_rdlock(&d->lock);
    uint64_t gen = d->key_gen;
    pthread_rwlock_unlock(&d->lock);
    return gen;
}

jwt_key *directory_signing_key(directory *d, uint64_t *gen)
{
    jwt_key *copy = NULL;
    int64_t newest = -1;
    pthread_rwlock_rdlock(&d->lock);
    const dir_key *best = NULL;
    for (size_t i = 0; i < d->nkeys; i++) {
        if (strcmp(d->keys[i].rec.state, "active") == 0 && d->keys[i].rec.created_at > newest) {
            best = &d->keys[i];
            newest = best->rec.created_at;
        }
    }
    if (best != NULL)
        copy = jwt_key_clone(best->key);
    *gen = d->key_gen;
    pthread_rwlock_unlock(&d->lock);
    return copy;
}

size_t directory_verify_keys(directory *d, jwt_key ***keys, uint64_t *gen)
{
    pthread_rwlock_rdlock(&d->lock);
    size_t n = d->nkeys;
    *keys = xcalloc(n ? n : 1, sizeof(jwt_key *));
    for (size_t i = 0; i < n; i++)
        (*keys)[i] = jwt_key_clone(d->keys[i].key);
    *gen = d->key_gen;
    pthread_rwlock_unlock(&d->lock);
    return n;
}

void directory_keys_free(jwt_key **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        jwt_key_free(keys[i]);
    free(keys);
}

int directory_rotate_key(directory *d, store *s, const char *actor, char new_kid[64], err_t *e)
{
    return signing_keys_rotate(s, d->master, actor, new_kid, e);
}

void directory_derive_key(directory *d, const char *purpose, unsigned char out[32])
{
    crypto_hmac_sha256(d->master, MASTER_KEY_LEN, purpose, strlen(purpose), out);
}

char *directory_jwks(directory *d)
{
    buf_t b;
    buf_init(&b, 1 << 20);
    buf_puts(&b, "{\"keys\":[");
    pthread_rwlock_rdlock(&d->lock);
    for (size_t i = 0; i < d->nkeys; i++) {
        if (i > 0)
            buf_puts(&b, ",");
        jwt_key_export_public(d->keys[i].key, &b);
    }
    pthread_rwlock_unlock(&d->lock);
    buf_puts(&b, "]}");
    return buf_take(&b);
}
