/* fuzz_jwks.c - an identity provider's JWK Set and its keys: jwks_parse,
 * jwks_find, jwks_has_kid (src/jwt/jwks.h) and, under them,
 * jwt_key_import_public / jwt_key_export_public for EC P-256 and RSA
 * (src/jwt/jwk.c, jwk_rsa.c). The JWKS is fetched from a URL an org admin
 * typed: hostile input.
 *
 * Input: a selector byte, then a JSON document. Selector bits 0-2 are the
 * allowed algorithms (bit 0 ES256, bit 1 RS256, bit 2 PS256; none set =
 * all); bit 3 set: the document is one JWK, imported directly for each
 * allowed algorithm, else it is a JWK Set.
 * Oracles:
 * - a set that parses has 1..JWKS_MAX_KEYS keys, and every key found for
 *   an entry's kid and an algorithm is pinned to that algorithm, which is
 *   allowed, fits the entry's kty, equals the entry's "alg" when it has
 *   one, and the entry's "use" is absent or "sig"; a kid that no entry has
 *   finds nothing;
 * - every imported key survives export -> import -> export unchanged;
 * - a refusal is ERR_INVALID_REQUEST and its detail quotes no key material. */
#include "core/json.h"
#include "fuzz_keys.h"
#include "jwt/jwks.h"

static const jwt_alg all_algs[3] = {JWT_ALG_ES256, JWT_ALG_RS256, JWT_ALG_PS256};

static size_t allowed_algs(uint8_t sel, jwt_alg allowed[3])
{
    size_t n = 0;
    for (int i = 0; i < 3; i++)
        if ((sel & 7) == 0 || (sel & (1u << i)))
            allowed[n++] = all_algs[i];
    return n;
}

/* Export -> import -> export of k gives the same JWK text (the keys of a
 * set have kid "", which an import refuses: the copies get a kid). */
static void check_round_trip(const jwt_key *set_key)
{
    buf_t first, once, twice;
    err_t e;
    buf_init(&first, 8192);
    FUZZ_CHECK(jwt_key_export_public(set_key, &first) == 0);
    jwt_key *k = jwt_key_import_public(first.data, first.len, jwt_key_alg(set_key), "fuzz-kid", &e);
    FUZZ_CHECK(k != NULL);
    buf_init(&once, 8192);
    buf_init(&twice, 8192);
    FUZZ_CHECK(jwt_key_export_public(k, &once) == 0);
    jwt_key *again = jwt_key_import_public(once.data, once.len, jwt_key_alg(k), jwt_key_kid(k), &e);
    FUZZ_CHECK(again != NULL && jwt_key_alg(again) == jwt_key_alg(k));
    FUZZ_CHECK(jwt_key_export_public(again, &twice) == 0);
    FUZZ_CHECK(once.len == twice.len && memcmp(once.data, twice.data, once.len) == 0);
    jwt_key_free(again);
    buf_free(&twice);
    buf_free(&once);
    jwt_key_free(k);
    buf_free(&first);
}

/* 1 when a JWK of this kty may carry alg. */
static int kty_fits(const json_t *entry, jwt_alg alg)
{
    const char *kty = json_string_value(json_object_get(entry, "kty"));
    if (kty == NULL)
        return 0;
    return alg == JWT_ALG_ES256 ? strcmp(kty, "EC") == 0 : strcmp(kty, "RSA") == 0;
}

/* Number of entries of keys whose kid is kid (NULL: entries without one). */
static size_t entries_with_kid(const json_t *keys, const char *kid)
{
    size_t i, n = 0;
    const json_t *entry;
    json_array_foreach(keys, i, entry)
    {
        const char *k = json_string_value(json_object_get(entry, "kid"));
        n += (k == NULL && kid == NULL) || (k != NULL && kid != NULL && strcmp(k, kid) == 0);
    }
    return n;
}

/* What must hold of the keys found for one entry of a parsed set. When the
 * entry is the only one with its kid, a key found must come from it. */
static void check_entry(const jwks_set *set, const json_t *keys, const json_t *entry,
                        const jwt_alg *allowed, size_t nallowed)
{
    const json_t *kidv = json_object_get(entry, "kid");
    if (!json_is_object(entry) || (kidv != NULL && !json_is_string(kidv)))
        return;
    const char *kid = json_string_value(kidv);
    int sole = entries_with_kid(keys, kid) == 1;
    for (size_t i = 0; i < 3; i++) {
        const jwt_key *k = jwks_find(set, kid, all_algs[i]);
        if (k == NULL)
            continue;
        int ok = 0;
        for (size_t a = 0; a < nallowed; a++)
            ok |= allowed[a] == all_algs[i];
        FUZZ_CHECK(ok && jwt_key_alg(k) == all_algs[i] && jwks_has_kid(set, kid));
        if (sole) {
            const json_t *alg = json_object_get(entry, "alg"), *use = json_object_get(entry, "use");
            FUZZ_CHECK(kty_fits(entry, all_algs[i]));
            FUZZ_CHECK(alg == NULL || jwt_alg_from_name(json_string_value(alg)) == all_algs[i]);
            FUZZ_CHECK(use == NULL ||
                       (json_is_string(use) && strcmp(json_string_value(use), "sig") == 0));
        }
        check_round_trip(k);
    }
}

static void fuzz_set(const char *doc, size_t len, const jwt_alg *allowed, size_t nallowed)
{
    err_t e;
    jwks_set *set = jwks_parse(doc, len, allowed, nallowed, &e);
    if (set == NULL) {
        fuzz_note("set refused: %s", e.detail);
        FUZZ_CHECK(e.cls == ERR_INVALID_REQUEST && e.detail[0] != '\0');
        FUZZ_CHECK(fuzz_detail_quotes_nothing(e.detail, doc, len));
        return;
    }
    FUZZ_CHECK(jwks_set_count(set) >= 1 && jwks_set_count(set) <= JWKS_MAX_KEYS);
    fuzz_note("set of %zu keys", jwks_set_count(set));
    json_t *root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, NULL);
    const json_t *keys = json_object_get(root, "keys"), *entry;
    size_t i;
    FUZZ_CHECK(json_is_array(keys) && json_array_size(keys) <= JWKS_MAX_KEYS);
    json_array_foreach(keys, i, entry)
    {
        check_entry(set, keys, entry, allowed, nallowed);
    }
    FUZZ_CHECK(jwks_find(set, "fuzz-no-such-kid\x01", JWT_ALG_ES256) == NULL);
    FUZZ_CHECK(!jwks_has_kid(set, "fuzz-no-such-kid\x01"));
    json_decref(root);
    jwks_free(set);
}

static void fuzz_key(const char *doc, size_t len, const jwt_alg *allowed, size_t nallowed)
{
    for (size_t a = 0; a < nallowed; a++) {
        err_t e;
        jwt_key *k = jwt_key_import_public(doc, len, allowed[a], "fuzz-kid", &e);
        if (k == NULL) {
            fuzz_note("%s key refused: %s", jwt_alg_name(allowed[a]), e.detail);
            FUZZ_CHECK(e.detail[0] != '\0' && fuzz_detail_quotes_nothing(e.detail, doc, len));
            continue;
        }
        fuzz_note("%s key imported", jwt_alg_name(allowed[a]));
        FUZZ_CHECK(jwt_key_alg(k) == allowed[a] && strcmp(jwt_key_kid(k), "fuzz-kid") == 0);
        FUZZ_CHECK(!jwt_key_has_private(k));
        check_round_trip(k);
        jwt_key_free(k);
    }
}

FUZZ_DEFAULT_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jwt_alg allowed[3];
    if (size == 0 || size - 1 > JWKS_JSON_MAX)
        return 0;
    size_t nallowed = allowed_algs(data[0], allowed);
    char *doc =
        malloc(size); /* NUL-terminated copy: the parsers take a length, the checks strstr */
    FUZZ_CHECK(doc != NULL);
    memcpy(doc, data + 1, size - 1);
    doc[size - 1] = '\0';
    if (data[0] & 8)
        fuzz_key(doc, size - 1, allowed, nallowed);
    else
        fuzz_set(doc, size - 1, allowed, nallowed);
    free(doc);
    return 0;
}
