/* jwks.c - an identity provider's JWK Set, parsed into verification keys.
 *
 * Each usable entry of "keys" becomes one jwks_entry: its kid and one
 * jwt_key per algorithm it may verify (an RSA key published without "alg"
 * is imported twice, pinned to RS256 and to PS256), so a lookup by
 * (kid, alg) hands jws_verify_signature a key that is pinned to exactly
 * the algorithm being checked. The set is never modified after
 * jwks_parse returns; lookups only read it. Rules: jwks.h. */
#include "jwt/jwks.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/xalloc.h"
#include "jwt/jwk_internal.h"

#define JWKS_JSON_DEPTH 4 /* {"keys":[{"key_ops":[...], "x5c":[...]}]} is 3 */

#define ALG_BIT(a) (1u << (unsigned)(a))
#define RSA_ALGS (ALG_BIT(JWT_ALG_RS256) | ALG_BIT(JWT_ALG_PS256))
#define EC_ALGS ALG_BIT(JWT_ALG_ES256)

typedef struct {
    char *kid;                        /* owned; NULL for the one kid-less key */
    jwt_key *by_alg[JWT_ALG_MAX + 1]; /* owned; [alg] is NULL when alg is not usable */
} jwks_entry;

struct jwks_set {
    jwks_entry *entries; /* owned; n used */
    size_t n;
};

/* allowed[n] as a set of ALG_BITs. Returns 0, or -1 with *e set when the
 * list is empty, too long or names an unknown algorithm. */
static int allowed_bits(const jwt_alg *allowed, size_t n, unsigned *bits, err_t *e)
{
    *bits = 0;
    if (allowed == NULL || n == 0 || n > JWT_ALG_MAX)
        return err_set(e, ERR_INTERNAL, "allowed algorithms must list 1 to %d algorithms",
                       JWT_ALG_MAX);
    for (size_t i = 0; i < n; i++) {
        if (allowed[i] < JWT_ALG_ES256 || allowed[i] > JWT_ALG_MAX)
            return err_set(e, ERR_INTERNAL, "allowed algorithms name an unknown algorithm");
        *bits |= ALG_BIT(allowed[i]);
    }
    return 0;
}

/* The algorithms a key type can verify; 0 for any other type. */
static unsigned kty_bits(const json_t *key)
{
    const char *kty = json_string_value(json_object_get(key, "kty"));
    if (kty != NULL && strcmp(kty, "RSA") == 0)
        return RSA_ALGS;
    if (kty != NULL && strcmp(kty, "EC") == 0)
        return EC_ALGS;
    return 0;
}

/* The algorithms entry `key` is offered for: none when its "use" is
 * present and not "sig"; its "alg" when present (if allowed and of its
 * type); else every allowed algorithm of its type. */
static unsigned entry_algs(const json_t *key, unsigned allowed)
{
    const json_t *use = json_object_get(key, "use"), *alg = json_object_get(key, "alg");
    unsigned of_type = kty_bits(key) & allowed;
    if (use != NULL && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0))
        return 0;
    if (alg == NULL)
        return of_type;
    jwt_alg a = json_is_string(alg) ? jwt_alg_from_name(json_string_value(alg)) : (jwt_alg)0;
    return a != 0 ? of_type & ALG_BIT(a) : 0;
}

/* 1..JWKS_KID_MAX bytes without control characters (kids reach logs). */
static int kid_acceptable(const json_t *kid)
{
    if (!json_is_string(kid))
        return 0;
    size_t n = json_string_length(kid);
    const unsigned char *p = (const unsigned char *)json_string_value(kid);
    if (n == 0 || n > JWKS_KID_MAX || strlen((const char *)p) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return 0;
    return 1;
}

/* The entry's kid into *kid (borrowed from key; NULL when absent). Returns
 * 0, or -1 when the entry must be skipped: a kid that is not acceptable, or
 * no kid while the document lists more than one key. */
static int entry_kid(const json_t *key, size_t nkeys, const char **kid)
{
    const json_t *k = json_object_get(key, "kid");
    *kid = NULL;
    if (k == NULL)
        return nkeys == 1 ? 0 : -1;
    if (!kid_acceptable(k))
        return -1;
    *kid = json_string_value(k);
    return 0;
}

static void entry_clear(jwks_entry *ent)
{
    for (int a = 0; a <= JWT_ALG_MAX; a++)
        jwt_key_free(ent->by_alg[a]);
    free(ent->kid);
    memset(ent, 0, sizeof(*ent));
}

/* Imports key once per algorithm in algs into ent->by_alg. Returns 0, or
 * -1 (ent cleared) when any import is refused: the entry is skipped. */
static int entry_import(const json_t *key, unsigned algs, jwks_entry *ent)
{
    for (int a = JWT_ALG_ES256; a <= JWT_ALG_MAX; a++) {
        if ((algs & ALG_BIT(a)) == 0)
            continue;
        err_t ignored;
        ent->by_alg[a] = jwt_key__import_public_obj(key, (jwt_alg)a, &ignored);
        if (ent->by_alg[a] == NULL) {
            entry_clear(ent);
            return -1;
        }
    }
    return 0;
}

/* Both NULL, or both equal strings. */
static int kid_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* 1 when an entry already kept has ent's kid and one of its algorithms. */
static int entry_conflicts(const jwks_set *s, const jwks_entry *ent)
{
    for (size_t i = 0; i < s->n; i++) {
        if (!kid_equal(s->entries[i].kid, ent->kid))
            continue;
        for (int a = JWT_ALG_ES256; a <= JWT_ALG_MAX; a++)
            if (s->entries[i].by_alg[a] != NULL && ent->by_alg[a] != NULL)
                return 1;
    }
    return 0;
}

/* Parses the document and returns its "keys" array (borrowed from *root,
 * a new reference the caller decrefs), or NULL with *e set. */
static const json_t *parse_keys(const char *json, size_t len, json_t **root, err_t *e)
{
    err_t pe;
    *root = NULL;
    if (json == NULL || len > JWKS_JSON_MAX) {
        err_set(e, ERR_INVALID_REQUEST, "JWKS is missing or longer than %d bytes", JWKS_JSON_MAX);
        return NULL;
    }
    *root = json_parse_strict(json, len, JWKS_JSON_DEPTH, 0, &pe);
    if (*root == NULL) {
        err_set(e, ERR_INVALID_REQUEST, "JWKS is not strict JSON: %s", pe.detail);
        return NULL;
    }
    const json_t *keys = json_object_get(*root, "keys");
    if (!json_is_object(*root) || !json_is_array(keys)) {
        err_set(e, ERR_INVALID_REQUEST, "JWKS is not an object with a \"keys\" array");
        return NULL;
    }
    if (json_array_size(keys) > JWKS_MAX_KEYS) {
        err_set(e, ERR_INVALID_REQUEST, "JWKS has more than %d keys", JWKS_MAX_KEYS);
        return NULL;
    }
    return keys;
}

/* Turns entry i of keys into a kept entry of s, or skips it. Returns 0
 * (kept or skipped), or -1 with *e set when it conflicts with a kept one. */
static int add_entry(jwks_set *s, const json_t *keys, size_t i, unsigned allowed, err_t *e)
{
    const json_t *key = json_array_get(keys, i);
    jwks_entry ent = {0};
    const char *kid;
    unsigned algs = json_is_object(key) ? entry_algs(key, allowed) : 0;

    if (algs == 0 || entry_kid(key, json_array_size(keys), &kid) != 0 ||
        entry_import(key, algs, &ent) != 0)
        return 0; /* skipped */
    ent.kid = kid != NULL ? xstrdup(kid) : NULL;
    if (entry_conflicts(s, &ent)) {
        entry_clear(&ent);
        return err_set(e, ERR_INVALID_REQUEST,
                       "JWKS key %zu repeats the kid of an earlier key for the same algorithm", i);
    }
    s->entries[s->n++] = ent;
    return 0;
}

jwks_set *jwks_parse(const char *json, size_t len, const jwt_alg *allowed, size_t nallowed,
                     err_t *e)
{
    json_t *root = NULL;
    jwks_set *s = NULL, *ret = NULL;
    unsigned allowed_set;
    const json_t *keys;

    if (allowed_bits(allowed, nallowed, &allowed_set, e) != 0)
        goto out;
    keys = parse_keys(json, len, &root, e);
    if (keys == NULL)
        goto out;
    s = xcalloc(1, sizeof(*s));
    s->entries = xcalloc(json_array_size(keys) + 1, sizeof(*s->entries));
    for (size_t i = 0; i < json_array_size(keys); i++)
        if (add_entry(s, keys, i, allowed_set, e) != 0)
            goto out;
    if (s->n == 0) {
        err_set(e, ERR_INVALID_REQUEST, "JWKS has no usable signing key");
        goto out;
    }
    ret = s;
    s = NULL;
out:
    jwks_free(s);
    json_decref(root);
    return ret;
}

void jwks_free(jwks_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        entry_clear(&s->entries[i]);
    free(s->entries);
    free(s);
}

size_t jwks_set_count(const jwks_set *s)
{
    return s != NULL ? s->n : 0;
}

const jwt_key *jwks_find(const jwks_set *s, const char *kid, jwt_alg alg)
{
    if (s == NULL || alg < JWT_ALG_ES256 || alg > JWT_ALG_MAX)
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        if (kid_equal(s->entries[i].kid, kid) && s->entries[i].by_alg[alg] != NULL)
            return s->entries[i].by_alg[alg];
    return NULL;
}

int jwks_has_kid(const jwks_set *s, const char *kid)
{
    for (size_t i = 0; s != NULL && i < s->n; i++)
        if (kid_equal(s->entries[i].kid, kid))
            return 1;
    return 0;
}
