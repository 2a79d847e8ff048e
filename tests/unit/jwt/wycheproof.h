/* wycheproof.h - helpers shared by the Wycheproof vector tests
 * (test_wycheproof*.c): loading a vector file from TESSERA_VECTORS_DIR,
 * reading its members, and counting its labels so that each test can
 * prove it ran every case of the file (a silently skipped group or test
 * makes the per-label totals differ and the test fail).
 *
 * Everything is static inline so that each test_*.c (built on its own)
 * may include this file and use only part of it. Include after cmocka.h. */
#ifndef TESSERA_TEST_WYCHEPROOF_H
#define TESSERA_TEST_WYCHEPROOF_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/hex.h"
#include "jwt/jwks.h"

/* What an identity provider may sign with, as Tessera allows it at most. */
static const jwt_alg WP_IDP_ALGS[] = {JWT_ALG_RS256, JWT_ALG_PS256, JWT_ALG_ES256};
#define WP_NIDP_ALGS (sizeof(WP_IDP_ALGS) / sizeof(WP_IDP_ALGS[0]))

/* The whole vector file `name`; fails the test when it cannot be read. */
static inline json_t *wp_load(const char *name)
{
    char path[1024];
    json_error_t je;
    snprintf(path, sizeof(path), "%s/%s", TESSERA_VECTORS_DIR, name);
    json_t *root = json_load_file(path, 0, &je);
    if (root == NULL)
        fail_msg("cannot load %s: %s", path, je.text);
    return root;
}

/* The string member `name` of o, or NULL (absent or not a string). */
static inline const char *wp_str(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

static inline long wp_tc(const json_t *t)
{
    return (long)json_integer_value(json_object_get(t, "tcId"));
}

/* Decodes hex into a new buffer (caller frees); *n gets the length. */
static inline unsigned char *wp_hex_decode_new(const char *hex, size_t *n)
{
    size_t len = strlen(hex);
    assert_int_equal(len % 2, 0);
    unsigned char *out = malloc(len / 2 + 1);
    assert_non_null(out);
    assert_int_equal(hex_decode(hex, out, len / 2), 0);
    *n = len / 2;
    return out;
}

/* The token a test case carries in `member` ("jws" or "jwe") as text, in a
 * new string (caller frees), or NULL when the case has no such member. A
 * JSON-serialized token (RFC 7515 7.2, RFC 7516 7.2) that the file stores
 * as an object is serialized back to the text an attacker would send. */
static inline char *wp_token_text(const json_t *t, const char *member)
{
    const json_t *v = json_object_get(t, member);
    if (v == NULL)
        return NULL;
    char *s = json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_COMPACT);
    assert_non_null(s);
    return s;
}

/* keys (a JWK Set, or one JWK published alone as {"keys":[jwk]}) through
 * jwks_parse with WP_IDP_ALGS allowed: what the external-token verifier
 * would hold for an identity provider publishing it. NULL with *e set when
 * jwks_parse refuses the set. */
static inline jwks_set *wp_idp_set(const json_t *keys, err_t *e)
{
    json_t *root = json_object_get(keys, "keys") != NULL ? json_incref((json_t *)keys)
                                                         : json_pack("{s:[O]}", "keys", keys);
    char *s = json_dumps(root, JSON_COMPACT);
    assert_non_null(s);
    err_clear(e);
    jwks_set *set = jwks_parse(s, strlen(s), WP_IDP_ALGS, WP_NIDP_ALGS, e);
    free(s);
    json_decref(root);
    return set;
}

/* How many cases of a file carry each label. */
typedef struct {
    size_t valid, invalid, acceptable;
} wp_labels;

/* Adds case t to the count of its label; fails on a label other than the
 * three Wycheproof defines. */
static inline void wp_count_label(wp_labels *l, const json_t *t)
{
    const char *r = wp_str(t, "result");
    if (r != NULL && strcmp(r, "valid") == 0)
        l->valid++;
    else if (r != NULL && strcmp(r, "invalid") == 0)
        l->invalid++;
    else if (r != NULL && strcmp(r, "acceptable") == 0)
        l->acceptable++;
    else
        fail_msg("tcId %ld: unknown label", wp_tc(t));
}

/* 1 when the group's cases carry `member` ("jws" or "jwe"): the JSON Web
 * files mix JWS and JWE groups, each group of one kind. */
static inline int wp_group_has(const json_t *g, const char *member)
{
    return json_object_get(json_array_get(json_object_get(g, "tests"), 0), member) != NULL;
}

/* Counts the labels of every case that has `member` (NULL: every case). */
static inline wp_labels wp_count_labels(const json_t *root, const char *member)
{
    wp_labels l = {0, 0, 0};
    const json_t *g, *t;
    size_t gi, ti;
    json_array_foreach(json_object_get(root, "testGroups"), gi, g)
    {
        json_array_foreach(json_object_get(g, "tests"), ti, t)
        {
            if (member == NULL || json_object_get(t, member) != NULL)
                wp_count_label(&l, t);
        }
    }
    return l;
}

/* Asserts that the cases a test handled, per label, are exactly the file's
 * cases with `member` (NULL: all of them, which must be numberOfTests). */
static inline void wp_assert_all_run(const json_t *root, const char *member, wp_labels handled)
{
    wp_labels in_file = wp_count_labels(root, member);
    assert_int_equal(handled.valid, in_file.valid);
    assert_int_equal(handled.invalid, in_file.invalid);
    assert_int_equal(handled.acceptable, in_file.acceptable);
    if (member == NULL)
        assert_int_equal(handled.valid + handled.invalid + handled.acceptable,
                         json_integer_value(json_object_get(root, "numberOfTests")));
}

#endif
